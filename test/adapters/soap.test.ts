/**
 * The shared SOAP/XML layer: the hardened reader (DOCTYPE, entities, size, encoding, malformed
 * input), the writer, envelopes and faults, name-based UUIDs and cursors, the change log, and the
 * HTTP transport's error mapping against a real HTTP server on 127.0.0.1.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { AdapterError } from '../../adapters/adapter';
import { ChangeLog, InjectedChangeItems, type FeedEntry, type FeedRecord } from '../../adapters/soap/change-log';
import { buildEnvelope, buildFault, createSoapReader, SOAP11_ENVELOPE_NS } from '../../adapters/soap/envelope';
import { faultToAdapterError, redactCpr } from '../../adapters/soap/faults';
import { decodeCursor, deterministicUuid, encodeCursor } from '../../adapters/soap/identifiers';
import { createSoapTransport } from '../../adapters/soap/transport';
import { createXmlReader, DEFAULT_MAX_XML_BYTES, renderXml, XmlInputError } from '../../adapters/soap/xml';

const reader = createXmlReader({ arrayElements: ['Item'] });

function refusal(xml: string, read = reader): XmlInputError {
  try {
    read.parse(xml);
  } catch (error) {
    if (error instanceof XmlInputError) return error;
    throw error;
  }
  throw new Error('the input was accepted');
}

const BILLION_LAUGHS = `<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol9 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
]>
<lolz>&lol9;</lolz>`;

const EXTERNAL_ENTITY = `<?xml version="1.0"?>
<!DOCTYPE data [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<data>&xxe;</data>`;

describe('hardened XML reader', () => {
  it('reads elements as plain strings, keeps leading zeros and drops namespace prefixes', () => {
    const doc = reader.parse('<a:Root xmlns:a="urn:x"><a:Cpr>0101901234</a:Cpr><a:Hours>37.0</a:Hours><a:Empty/></a:Root>');
    expect(doc).toEqual({ Root: { Cpr: '0101901234', Hours: '37.0', Empty: '' } });
  });

  it('forces arrays for the named repeating elements, even when one occurs', () => {
    expect(reader.parse('<Root><Item>1</Item></Root>')).toEqual({ Root: { Item: ['1'] } });
    expect(reader.parse('<Root><Item>1</Item><Item>2</Item><Other>x</Other></Root>')).toEqual({ Root: { Item: ['1', '2'], Other: 'x' } });
  });

  it('decodes the five predefined entities and character references, and leaves CDATA literal', () => {
    const doc = reader.parse('<R><T>&lt;a&gt; &amp; &quot;b&quot; &apos;c&apos; &#230;&#xF8;&#229;</T><C><![CDATA[&amp; stays]]></C></R>');
    expect(doc).toEqual({ R: { T: `<a> & "b" 'c' æøå`, C: '&amp; stays' } });
  });

  it('ignores attributes, so attribute values cannot surprise', () => {
    expect(reader.parse('<R><T unit="h" xsi:nil="true">12</T></R>')).toEqual({ R: { T: '12' } });
  });

  it('refuses the billion laughs before expanding anything', () => {
    const error = refusal(BILLION_LAUGHS);
    expect(error.problem).toBe('doctype');
    expect(error.message).toMatch(/DOCTYPE/);
  });

  it('refuses an external entity (XXE)', () => {
    expect(refusal(EXTERNAL_ENTITY).problem).toBe('doctype');
  });

  it('refuses entity and other markup declarations even without a DOCTYPE, in any case', () => {
    expect(refusal('<!ENTITY x "y"><r/>').problem).toBe('entity-declaration');
    expect(refusal('<!doctype r><r/>').problem).toBe('doctype');
    expect(refusal('<!ELEMENT r ANY><r/>').problem).toBe('markup-declaration');
  });

  it('refuses references to undeclared entities instead of passing them on', () => {
    expect(refusal('<r>&xxe;</r>').problem).toBe('malformed');
    expect(refusal('<r>&nbsp;</r>').problem).toBe('malformed');
  });

  it('refuses character references to characters XML does not allow', () => {
    expect(refusal('<r>&#0;</r>').problem).toBe('malformed');
    expect(refusal('<r>&#xFFFFFFF;</r>').problem).toBe('malformed');
  });

  it('refuses documents over the size limit, counting UTF-8 bytes', () => {
    const big = `<r>${'a'.repeat(DEFAULT_MAX_XML_BYTES)}</r>`;
    expect(refusal(big).problem).toBe('too-large');
    const small = createXmlReader({ maxBytes: 100 });
    const danish = `<r>${'æ'.repeat(45)}</r>`; // 52 UTF-16 units, 97 bytes
    expect(small.parse(danish)).toEqual({ r: 'æ'.repeat(45) });
    expect(refusal(`<r>${'æ'.repeat(47)}</r>`, small).problem).toBe('too-large');
  });

  it('refuses encodings other than UTF-8', () => {
    expect(refusal('<?xml version="1.0" encoding="ISO-8859-1"?><r>x</r>').problem).toBe('encoding');
    expect(reader.parse('<?xml version="1.0" encoding="utf-8"?><r>x</r>')).toEqual({ r: 'x' });
  });

  it.each([
    ['an unclosed element', '<r><a>x</r>'],
    ['a missing end tag', '<r>'],
    ['two root elements', '<a>1</a><b>2</b>'],
    ['text without an element', 'hello'],
    ['an empty document', ''],
    ['a duplicate attribute', '<r a="1" a="2"/>'],
  ])('refuses %s as malformed', (_name, xml) => {
    expect(refusal(xml).problem).toBe('malformed');
  });

  it('refuses element names that could pollute prototypes, and pollutes nothing', () => {
    expect(refusal('<r><__proto__><polluted>yes</polluted></__proto__></r>').problem).toBe('malformed');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('refuses nesting deeper than 100 elements', () => {
    const deep = `${'<a>'.repeat(150)}x${'</a>'.repeat(150)}`;
    expect(refusal(deep).problem).toBe('malformed');
  });

  it('never throws anything but XmlInputError on arbitrary input (property)', () => {
    const xmlish = fc.array(
      fc.oneof(
        fc.constantFrom('<', '>', '</', '/>', '&', ';', '&amp;', '&#', '<!', '<!DOCTYPE', '<![CDATA[', ']]>', '<?xml ', '?>', '"', '=', 'a', 'Item', ' ', '\n', '<!--', '-->'),
        fc.string({ maxLength: 5 }),
      ),
      { maxLength: 40 },
    );
    fc.assert(
      fc.property(fc.oneof(fc.string(), xmlish.map((parts) => parts.join(''))), (input) => {
        try {
          reader.parse(input);
        } catch (error) {
          if (!(error instanceof XmlInputError)) throw error;
        }
      }),
      { numRuns: 2000 },
    );
  });
});

describe('XML writer', () => {
  it('escapes text and writes repeated elements and attributes', () => {
    expect(renderXml({ R: { '@xmlns': 'urn:x', A: 'a < b & c', B: ['1', '2'], C: undefined, D: 3, E: true } })).toBe(
      '<R xmlns="urn:x"><A>a &lt; b &amp; c</A><B>1</B><B>2</B><D>3</D><E>true</E></R>',
    );
  });

  it('replaces characters XML cannot carry, so output stays well-formed', () => {
    expect(reader.parse(renderXml({ r: 'a\u0000b\u0007c' }))).toEqual({ r: 'a\uFFFDb\uFFFDc' });
  });

  it('round-trips any text through write and read (property)', () => {
    const illegal = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 60 }), (text) => {
        const expected = text.replace(illegal, '\uFFFD').replace(/\r/g, '').trim();
        const doc = reader.parse(renderXml({ r: { t: text.replace(/\r/g, '') } }));
        expect(doc).toEqual({ r: { t: expected } });
      }),
      { numRuns: 1000 },
    );
  });
});

describe('SOAP 1.1 envelopes and faults', () => {
  const soap = createSoapReader({ arrayElements: ['Item'] });

  it('builds and reads back an envelope with header blocks and one operation', () => {
    const xml = buildEnvelope({ namespace: 'urn:svc', header: { Context: { Who: 'enplan' } }, operation: 'ReadRequest', content: { Item: ['a'], Count: 1 } });
    expect(xml).toContain(`xmlns:soap="${SOAP11_ENVELOPE_NS}"`);
    expect(soap.read(xml)).toEqual({ kind: 'message', message: { header: { Context: { Who: 'enplan' } }, operation: 'ReadRequest', content: { Item: ['a'], Count: '1' } } });
  });

  it('refuses SOAP 1.2, unknown namespaces and documents that are not envelopes', () => {
    expect(() => soap.read('<e:Envelope xmlns:e="http://www.w3.org/2003/05/soap-envelope"><e:Body><X/></e:Body></e:Envelope>')).toThrow(/SOAP 1.2/);
    expect(() => soap.read('<e:Envelope xmlns:e="urn:other"><e:Body><X/></e:Body></e:Envelope>')).toThrow(XmlInputError);
    expect(() => soap.read('<Body><X/></Body>')).toThrow(/not a SOAP envelope/);
  });

  it('reads a fault with its STAR-style error code', () => {
    const reply = soap.read(buildFault({ faultCode: 'Client', faultString: 'ukendt CPR', errorCode: '1010', namespace: 'urn:svc' }));
    expect(reply).toMatchObject({ kind: 'fault', fault: { faultCode: 'Client', faultString: 'ukendt CPR', errorCode: '1010' } });
  });

  it('classifies faults: known codes by the table, unknown ones by Client/Server', () => {
    const unknownCpr = faultToAdapterError({ faultCode: 'Client', faultString: 'x', errorCode: '1010' }, 'DFDG');
    expect([unknownCpr.permanent, unknownCpr.code]).toEqual([true, '1010']);
    const internal = faultToAdapterError({ faultCode: 'Server', faultString: 'x', errorCode: '5000' }, 'DFDG');
    expect([internal.permanent, internal.code]).toEqual([false, '5000']);
    expect(faultToAdapterError({ faultCode: 'Server', faultString: 'x' }, 'DFDG').permanent).toBe(false);
    expect(faultToAdapterError({ faultCode: 'Client', faultString: 'x', errorCode: '9999' }, 'DFDG').permanent).toBe(true);
  });

  it('keeps CPR numbers out of fault messages', () => {
    const error = faultToAdapterError({ faultCode: 'Client', faultString: 'CPR 010190-1234 og 0101901234 findes ikke', errorCode: '1010' }, 'DFDG');
    expect(error.message).not.toMatch(/\d{6}-?\d{4}/);
    expect(redactCpr('x 2211054567 y')).toBe('x [cpr] y');
  });
});

describe('name-based UUIDs and cursors', () => {
  it('computes UUID version 5 as RFC 9562 specifies (its test vector)', async () => {
    expect(await deterministicUuid('6ba7b810-9dad-11d1-80b4-00c04fd430c8', 'www.example.com')).toBe('2ed6657d-e927-568b-95e1-2665a8aea6a2');
  });

  it('gives the same id for the same key and different ids for different keys', async () => {
    const ns = '5d3e2a0c-8f41-4b7e-9c52-1a6f0d9b3e27';
    expect(await deterministicUuid(ns, 'key-1')).toBe(await deterministicUuid(ns, 'key-1'));
    expect(await deterministicUuid(ns, 'key-1')).not.toBe(await deterministicUuid(ns, 'key-2'));
  });

  it('round-trips a cursor and refuses one it did not issue', () => {
    const position = { updatedAtMs: Date.UTC(2026, 0, 2, 3, 4, 5, 678), recordId: 'abc-123' };
    expect(decodeCursor(encodeCursor(position))).toEqual(position);
    expect(decodeCursor(null)).toBeNull();
    for (const bad of ['nonsense', 'c1.!!!', `c1.${btoa('{"v":2,"t":1,"k":"x"}')}`]) {
      const error = (() => {
        try {
          decodeCursor(bad);
        } catch (e) {
          return e;
        }
      })();
      expect(error).toBeInstanceOf(AdapterError);
      expect(error).toMatchObject({ permanent: true, code: 'invalid-cursor' });
    }
  });
});

describe('change log', () => {
  const record = (recordId: string, updatedAtMs: number): FeedRecord => ({ recordId, version: 1, updatedAtMs });

  it('pages in (time, id) order, breaks ties by id, and shows a changed record once at its latest change', () => {
    const records = [record('b', 10), record('a', 10), record('c', 5), record('d', 20)];
    const log = new ChangeLog(records);
    const ids = (page: { records: FeedRecord[] }) => page.records.map((r) => r.recordId);
    const first = log.page(null, 2);
    expect(ids(first)).toEqual(['c', 'a']);
    expect(first.hasMore).toBe(true);
    const second = log.page(first.last, 2);
    expect(ids(second)).toEqual(['b', 'd']);
    expect(second.hasMore).toBe(false);

    // A batch of changes shares one timestamp, after every earlier change: 'a' and 'c' move to the end.
    const at = log.commit([records[2]!, records[1]!], 15);
    expect(at).toBe(21);
    expect(ids(log.page(null, 10))).toEqual(['b', 'd', 'a', 'c']);
    // A reader already past 'd' sees exactly the two changes, each once.
    const afterSecond = log.page(second.last, 10);
    expect(ids(afterSecond)).toEqual(['a', 'c']);
    expect(afterSecond.hasMore).toBe(false);
    // The record id breaks the tie inside the batch.
    const tieCursor = log.page({ updatedAtMs: 21, recordId: 'a' }, 1);
    expect(ids(tieCursor)).toEqual(['c']);
  });

  it('merges injected change items into the pages at their positions (simulator test hook)', () => {
    const log = new ChangeLog([record('a', 10), record('b', 10), record('c', 20)]);
    const injected = new InjectedChangeItems({ cpr: 'Cpr', recordType: 'Type', recordId: 'Id', version: 'Version', updatedAt: 'At' });
    injected.add({ Id: 'a!', At: new Date(10).toISOString() });
    injected.add('unreadable', { updatedAtMs: 20, recordId: 'c!' });
    expect(() => injected.add('no position')).toThrow(/explicit position/);
    const show = (page: { entries: FeedEntry<FeedRecord>[]; hasMore: boolean }) => ({
      entries: page.entries.map((e) => ('record' in e ? e.record.recordId : `injected:${JSON.stringify(e.injected)}`)),
      hasMore: page.hasMore,
    });
    expect(show(injected.page(log, null, 10))).toEqual({ entries: ['a', 'injected:{"Id":"a!","At":"1970-01-01T00:00:00.010Z"}', 'b', 'c', 'injected:"unreadable"'], hasMore: false });
    expect(show(injected.page(log, null, 2))).toEqual({ entries: ['a', 'injected:{"Id":"a!","At":"1970-01-01T00:00:00.010Z"}'], hasMore: true });
    expect(show(injected.page(log, { updatedAtMs: 10, recordId: 'a!' }, 2))).toEqual({ entries: ['b', 'c'], hasMore: true });
    expect(show(injected.page(log, { updatedAtMs: 20, recordId: 'c' }, 2))).toEqual({ entries: ['injected:"unreadable"'], hasMore: false });
    expect(show(injected.page(log, { updatedAtMs: 20, recordId: 'c!' }, 2))).toEqual({ entries: [], hasMore: false });
  });
});

describe('SOAP transport over real HTTP', () => {
  let server: Server;
  let base: string;
  const envelope = (inner: string) => `<?xml version="1.0"?><soap:Envelope xmlns:soap="${SOAP11_ENVELOPE_NS}"><soap:Body>${inner}</soap:Body></soap:Envelope>`;

  beforeAll(async () => {
    server = createServer((request, response) => {
      request.resume();
      const path = request.url ?? '/';
      const send = (status: number, body: string | Buffer, headers: Record<string, string> = { 'content-type': 'text/xml; charset=utf-8' }) => {
        response.writeHead(status, headers);
        response.end(body);
      };
      if (path === '/ok') return send(200, envelope('<PingResponse xmlns="urn:svc"><Value>1</Value></PingResponse>'));
      if (path === '/503') return send(503, 'down', { 'content-type': 'text/plain' });
      if (path === '/429') return send(429, 'slow down', { 'content-type': 'text/plain', 'retry-after': '7' });
      if (path === '/404') return send(404, 'no such service', { 'content-type': 'text/plain' });
      if (path === '/doctype') return send(200, EXTERNAL_ENTITY);
      if (path === '/big') return send(200, envelope(`<PingResponse>${'x'.repeat(5000)}</PingResponse>`));
      if (path === '/not-utf8') return send(200, Buffer.from([0x3c, 0x72, 0x3e, 0xff, 0xfe, 0x3c, 0x2f, 0x72, 0x3e]));
      if (path === '/cut') return send(200, envelope('<PingResponse><Value>1</Value></PingResponse>').slice(0, 60));
      if (path === '/fault') return send(500, buildFault({ faultCode: 'Client', faultString: 'ukendt CPR', errorCode: '1010', namespace: 'urn:svc' }));
      if (path === '/wrong-operation') return send(200, envelope('<OtherResponse/>'));
      send(500, 'unexpected', { 'content-type': 'text/plain' });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const call = async (path: string, extra: Partial<Parameters<typeof createSoapTransport>[0]> = {}) => {
    const transport = createSoapTransport({ baseUrl: `${base}${path}`, namespace: 'urn:svc', serviceName: 'Test', arrayElements: [], maxResponseBytes: 4000, ...extra });
    try {
      return await transport.call({ operation: 'PingRequest', responseOperation: 'PingResponse', content: {} });
    } catch (error) {
      return error;
    }
  };

  it('returns the reply operation content', async () => {
    expect(await call('/ok')).toEqual({ header: {}, operation: 'PingResponse', content: { Value: '1' } });
  });

  it.each([
    ['/503', false, 'http-503'],
    ['/404', true, 'http-404'],
    ['/doctype', true, 'xml-refused'],
    ['/big', true, 'response-too-large'],
    ['/not-utf8', false, 'malformed-response'],
    ['/cut', false, 'malformed-response'],
    ['/fault', true, '1010'],
    ['/wrong-operation', true, 'unexpected-response'],
  ])('maps %s to an AdapterError (permanent %s, code %s)', async (path, permanent, code) => {
    const error = await call(path);
    expect(error).toBeInstanceOf(AdapterError);
    expect(error).toMatchObject({ permanent, code });
  });

  it('passes Retry-After on with a transient 429', async () => {
    expect(await call('/429')).toMatchObject({ permanent: false, code: 'http-429', retryAfterSeconds: 7 });
  });

  it('reports an unreachable service as a transient network error', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const transport = createSoapTransport({ baseUrl: `http://127.0.0.1:${port}/`, namespace: 'urn:svc', serviceName: 'Test', arrayElements: [] });
    await expect(transport.call({ operation: 'PingRequest', responseOperation: 'PingResponse', content: {} })).rejects.toMatchObject({ permanent: false, code: 'network' });
  });

  it('hands the configured dispatcher to fetch (where mTLS plugs in)', async () => {
    const seen: unknown[] = [];
    const marker = { kind: 'dispatcher' };
    const recordingFetch: typeof fetch = (input, init) => {
      seen.push((init as { dispatcher?: unknown } | undefined)?.dispatcher);
      const { dispatcher: _dispatcher, ...rest } = (init ?? {}) as RequestInit & { dispatcher?: unknown };
      return fetch(input, rest);
    };
    expect(await call('/ok', { fetch: recordingFetch, dispatcher: marker })).toMatchObject({ operation: 'PingResponse' });
    expect(seen).toEqual([marker]);
  });
});
