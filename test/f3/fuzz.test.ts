/**
 * F3, fuzzing: 10,000 runs per parser and per mapping, with a fixed seed (`F3_SEED` to change it;
 * a failure names the seed). Inputs are both arbitrary and near-valid — golden fixtures with fields
 * replaced, removed or retyped, and XML/JSON text cut, spliced and sprinkled with hostile markup.
 * The property is always the same: nothing throws, and what comes back is a result or a failure
 * with a readable reason that holds no CPR number.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { AdapterError } from '../../adapters/adapter';
import { createDfdgAdapter, readDfdgRecordXml } from '../../adapters/dfdg';
import { createEducationAdapter, readEducationRecordXml } from '../../adapters/education/adapter';
import { createHealthAdapter, healthAdapterDefinition } from '../../adapters/health/adapter';
import { createSocialAdapter, socialAdapterDefinition } from '../../adapters/social/adapter';
import type { DecodedRecord } from '../../adapters/soap/records';
import { runMapping, type Mapping } from '../../mappings/mapping';
import { Fragment } from '../../src/model';
import { allMappings } from '../../src/sync/all-mappings';
import { fuzz, nastyLeaf, nearlyValid, pageWith, readableReasonProblems, serveFhirFromMemory, soapReplyFetch } from './support';

const RUNS = 10_000;
const context = { now: '2026-07-01T00:00:00Z', ruleVersion: 'rules-f3' };
const fixtures = join(import.meta.dirname, '../fixtures');

function goldenInputs(sector: string, ending: '.input.xml' | '.input.json'): { folder: string; text: string }[] {
  return readdirSync(join(fixtures, sector), { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .flatMap((d) => readdirSync(join(fixtures, sector, d.name)).filter((f) => f.endsWith(ending)).map((f) => ({ folder: d.name, text: readFileSync(join(fixtures, sector, d.name, f), 'utf8') })));
}

const expectReadable = (reason: string) => expect(readableReasonProblems(reason)).toEqual([]);

// ---------------------------------------------------------------------------------------------
// Near-valid text: a golden document cut, spliced or salted with hostile markup.

const HOSTILE_XML = ['<!DOCTYPE x [<!ENTITY a "b">]>', '<!ENTITY x SYSTEM "file:///etc/passwd">', '&xxe;', '&#0;', '&#xD800;', '\u0000', '\uFFFE', '<![CDATA[', ']]>', '<?xml version="1.0" encoding="UTF-16"?>', '<a>', '</a>', '<', '>', '&', '"', "'", '\uFEFF', '3102991234', '<x:y xmlns:x="urn:x"/>'];
const HOSTILE_JSON = ['{', '}', '[', ']', ',', ':', '"', '\\', '\\u0000', 'null', 'NaN', '1e999', '"__proto__":{}', '\uFEFF', '\u0000', '"2026-02-30"', '"3102991234"', '[[[[[[[[', '{"resourceType":"Bundle"}'];

function mutatedText(bases: readonly string[], hostile: readonly string[]): fc.Arbitrary<string> {
  const splice = fc.tuple(fc.nat(), fc.nat({ max: 40 }), fc.oneof(fc.constantFrom(...hostile), fc.string({ maxLength: 12 }), fc.string({ unit: 'binary', maxLength: 6 })));
  return fc.tuple(fc.nat({ max: bases.length - 1 }), fc.array(splice, { minLength: 1, maxLength: 4 }), fc.option(fc.nat(), { nil: undefined })).map(([index, splices, cut]) => {
    let text = bases[index]!;
    for (const [at, remove, insert] of splices) {
      const position = at % (text.length + 1);
      text = text.slice(0, position) + insert + text.slice(position + remove);
    }
    return cut === undefined ? text : text.slice(0, cut % (text.length + 1));
  });
}

// ---------------------------------------------------------------------------------------------
// SOAP: the standalone record readers and the pull over an HTTP reply

const SOAP = [
  { name: 'DFDG', sector: 'dfdg', read: readDfdgRecordXml, cpr: '0303951111', operation: 'PersonPlanDataReadResponse', namespace: 'urn:enplan:modelled:star:dfdg:2026' },
  { name: 'Ungedatabasen', sector: 'education', read: readEducationRecordXml, cpr: '0809064321', operation: 'HentBorgerDataResponse', namespace: 'urn:enplan:modelled:stil:ungedatabasen:2026' },
] as const;

function checkDecoded(decoded: DecodedRecord): void {
  if (decoded.ok) {
    expect(typeof decoded.record.recordId).toBe('string');
    expect(decoded.record.version.length).toBeGreaterThan(0);
  } else expectReadable(decoded.quarantined.reason);
}

describe('F3 fuzzing: SOAP parsers', () => {
  for (const soap of SOAP) {
    const documents = goldenInputs(soap.sector, '.input.xml').map((g) => g.text);

    it(`${soap.name} record reader: ${RUNS} near-valid and arbitrary documents never throw`, async () => {
      const input = fc.oneof({ weight: 4, arbitrary: mutatedText(documents, HOSTILE_XML) }, { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 400 }) });
      await fuzz(`${soap.name} record reader`, input, (xml) => checkDecoded(soap.read(xml)), RUNS);
    });

    it(`${soap.name} pull: ${RUNS} near-valid replies over HTTP end as records, quarantined entries or an AdapterError`, async () => {
      // The golden records inside a real read reply, then damaged as bytes: the transport decodes,
      // refuses and parses them exactly as it would a sector system's answer.
      const replies = documents.map(
        (xml) =>
          `<?xml version="1.0" encoding="UTF-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><${soap.operation} xmlns="${soap.namespace}">` +
          `${xml.replace(/^<\?xml[^>]*\?>\s*/, '').replaceAll('0809064321', soap.cpr).replaceAll('1205871234', soap.cpr)}</${soap.operation}></soap:Body></soap:Envelope>`,
      );
      let reply = '';
      const fetch = soapReplyFetch(() => reply);
      const adapter =
        soap.sector === 'dfdg'
          ? createDfdgAdapter({ baseUrl: 'http://dfdg.invalid/soap', organisation: { typeIdentifier: 'kommune', code: '101' }, fetch })
          : createEducationAdapter({ baseUrl: 'http://education.invalid/soap', municipalityCode: '101', fetch });
      await fuzz(
        `${soap.name} pull`,
        mutatedText(replies, HOSTILE_XML),
        async (text) => {
          reply = text;
          try {
            const pulled = await adapter.pull({ citizenId: 'f3', cpr: soap.cpr });
            for (const q of pulled.quarantined) expectReadable(q.reason);
          } catch (error) {
            if (!(error instanceof AdapterError)) throw error;
            expectReadable(error.message);
          }
        },
        RUNS,
      );
    });
  }
});

// ---------------------------------------------------------------------------------------------
// FHIR: the adapters' pull (JSON page → Bundle → record contract), search pages served from memory

describe('F3 fuzzing: FHIR parsers', () => {
  let restore: (() => void) | undefined;
  afterEach(() => {
    restore?.();
    restore = undefined;
  });

  for (const [sector, definition, create] of [
    ['social', socialAdapterDefinition, () => createSocialAdapter({ baseUrl: 'http://social.invalid/fhir', timeoutMs: 5_000 })],
    ['health', healthAdapterDefinition, () => createHealthAdapter({ baseUrl: 'http://health.invalid/fhir', timeoutMs: 5_000 })],
  ] as const) {
    it(`${sector} pull: ${RUNS} near-valid and broken search pages end as records, quarantined entries or an AdapterError`, async () => {
      const served = definition.recordTypes.map((rt) => rt.type);
      const golden = goldenInputs(sector, '.input.json')
        .map((g) => JSON.parse(g.text) as { resourceType: string })
        .filter((r) => served.includes(r.resourceType))
        .map((r) => ({ ...r, meta: { versionId: '1', lastUpdated: '2026-01-01T00:00:00Z' } }));
      const pages = golden.map((r) => pageWith(structuredClone(r), definition.recordTypes.find((rt) => rt.type === r.resourceType)!.patientParam));
      // Damaged records (still JSON) and damaged pages (often not JSON any more).
      const input = fc.oneof(
        { weight: 3, arbitrary: nearlyValid(golden, nastyLeaf).map((record) => ({ record: record as { resourceType?: unknown }, page: undefined as string | undefined })) },
        { weight: 2, arbitrary: fc.tuple(fc.nat({ max: pages.length - 1 }), mutatedText(pages, HOSTILE_JSON)).map(([i, page]) => ({ record: golden[i] as { resourceType?: unknown }, page })) },
      );
      let current: { type: string; page: string } = { type: '', page: '' };
      restore = serveFhirFromMemory({ cpr: '0101801234', recordType: () => current.type, page: () => current.page });
      const adapter = create();
      await fuzz(
        `${sector} pull`,
        input,
        async ({ record, page }) => {
          const type = typeof record?.resourceType === 'string' && served.includes(record.resourceType) ? record.resourceType : served[0]!;
          const patientParam = definition.recordTypes.find((rt) => rt.type === type)!.patientParam;
          current = { type, page: page ?? pageWith(record, patientParam) };
          try {
            const pulled = await adapter.pull({ citizenId: 'f3', cpr: '0101801234' });
            for (const q of pulled.quarantined) expectReadable(q.reason);
          } catch (error) {
            if (!(error instanceof AdapterError)) throw error;
            expectReadable(error.message);
          }
        },
        RUNS,
      );
    });
  }
});

// ---------------------------------------------------------------------------------------------
// Mappings: every mapping the service runs, on what the adapters accept and on anything at all

function mappingInputs(mapping: Mapping): unknown[] {
  if (mapping.adapter === 'dfdg' || mapping.adapter === 'education') {
    const read = mapping.adapter === 'dfdg' ? readDfdgRecordXml : readEducationRecordXml;
    return goldenInputs(mapping.adapter, '.input.xml')
      .map((g) => read(g.text))
      .flatMap((d) => (d.ok && d.record.recordType === mapping.recordType ? [d.record.payload] : []));
  }
  const folder = mapping.id.slice(mapping.adapter.length + 1);
  return goldenInputs(mapping.adapter, '.input.json')
    .filter((g) => g.folder === folder)
    .map((g) => JSON.parse(g.text) as unknown);
}

describe('F3 fuzzing: mappings', () => {
  const mappings = allMappings.all();
  it('covers every mapping the sync runs, each with golden inputs to mutate', () => {
    expect(mappings.length).toBe(16);
    for (const mapping of mappings) expect(mappingInputs(mapping).length, mapping.id).toBeGreaterThan(0);
  });

  it.each(mappings.map((m) => [m.id, m] as const))(`%s: ${RUNS} near-valid and arbitrary records never throw, and what maps is a valid fragment`, async (_id, mapping) => {
    const bases = mappingInputs(mapping);
    const input = fc.oneof({ weight: 4, arbitrary: nearlyValid(bases, nastyLeaf) }, { weight: 1, arbitrary: fc.anything({ maxDepth: 3 }) });
    await fuzz(
      mapping.id,
      input,
      (record) => {
        const result = runMapping(mapping, record, context);
        if (result.ok) for (const fragment of result.fragments) expect(Fragment.safeParse(fragment).success).toBe(true);
        else {
          expect(result.ruleId).toMatch(/^[a-z][a-z.-]*$/);
          expectReadable(result.reason);
        }
      },
      RUNS,
    );
  });
});
