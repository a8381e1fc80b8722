/**
 * Mutual TLS to the sector services: the adapters present the configured function certificate
 * (FOCES in production). A TLS-terminating front that demands a client certificate from a
 * test-only CA (as a service gateway does) forwards over loopback to a real simulator — DFDG for
 * the SOAP adapters, the social FHIR server for the FHIR adapters — and notes whose certificate
 * each request came with.
 */
import { readFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:https';
import type { TLSSocket } from 'node:tls';
import { join } from 'node:path';
import { Agent } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdapterError } from '../../adapters/adapter';
import { startDfdgSimulator, type DfdgSimulator } from '../../adapters/dfdg';
import { createSocialAdapter } from '../../adapters/social/adapter';
import { startSocialSimulator, type SectorSimulator } from '../../adapters/social/simulator';
import { loadConfig } from '../../src/config';
import { createMutualTlsFetch } from '../../adapters/shared/mutual-tls-fetch';
import { adaptersFromConfig } from '../../src/runtime/adapters';
import { nodeAdapterTransport } from '../../src/runtime/node-deps';

const tls = (file: string) => join(process.cwd(), 'test/fixtures/tls', file);
const CLIENT_CN = 'Test-only FOCES function certificate';
const certificateEnv = { ADAPTER_TLS_CERT_FILE: tls('client.pem'), ADAPTER_TLS_KEY_FILE: tls('client.key'), ADAPTER_TLS_CA_FILE: tls('ca.pem') };

interface Front {
  url: string;
  /** The client certificate's CN of every request that got through, in order. */
  clientNames: string[];
  close(): Promise<void>;
}

/**
 * An HTTPS front admitting only clients with a certificate from the test CA; it forwards each
 * request to `target` (same path below the target's path) and points links in the answers back
 * at itself, as a gateway in front of a FHIR server must.
 */
async function startFront(target: string): Promise<Front> {
  const targetUrl = new URL(target);
  const clientNames: string[] = [];
  let base = '';
  const server: Server = createServer({ cert: readFileSync(tls('server.pem')), key: readFileSync(tls('server.key')), ca: readFileSync(tls('ca.pem')), requestCert: true, rejectUnauthorized: true }, async (req, res) => {
    clientNames.push(String((req.socket as TLSSocket).getPeerCertificate().subject?.CN));
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const headers: Record<string, string> = {};
    for (const name of ['content-type', 'accept', 'soapaction', 'if-match', 'if-none-exist']) if (req.headers[name] !== undefined) headers[name] = String(req.headers[name]);
    const answer = await fetch(`${targetUrl.origin}${req.url}`, { method: req.method, headers, ...(chunks.length ? { body: Buffer.concat(chunks) } : {}) });
    const text = (await answer.text()).split(target).join(base);
    res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'application/octet-stream' });
    res.end(text);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const address = server.address();
  base = `https://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}${targetUrl.pathname}`;
  return {
    url: base,
    clientNames,
    close: () => new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve()))),
  };
}

let dfdgSim: DfdgSimulator;
let socialSim: SectorSimulator;
let dfdgFront: Front;
let socialFront: Front;

beforeAll(async () => {
  [dfdgSim, socialSim] = await Promise.all([startDfdgSimulator({ size: 20, seed: 5 }), startSocialSimulator({ size: 20, seed: 5 })]);
  [dfdgFront, socialFront] = await Promise.all([startFront(dfdgSim.url), startFront(socialSim.baseUrl)]);
});
afterAll(async () => {
  await Promise.all([dfdgFront?.close(), socialFront?.close()]);
  await Promise.all([dfdgSim?.close(), socialSim?.close()]);
});

describe('mutual TLS (function certificate): SOAP', () => {
  it('the DFDG adapter presents the configured certificate and reads through the gateway', async () => {
    const config = loadConfig({ NODE_ENV: 'test', DFDG_URL: dfdgFront.url, ...certificateEnv });
    const dfdg = adaptersFromConfig(config, '101', nodeAdapterTransport(config)).dfdg!;
    const citizen = dfdgSim.knownCitizens()[0]!;
    const before = dfdgFront.clientNames.length;
    const pulled = await dfdg.pull({ citizenId: 'c-1', cpr: citizen.cpr });
    expect(pulled.records.length).toBeGreaterThan(0);
    const many = await dfdg.pullMany!(dfdgSim.knownCitizens().slice(0, 3).map((c, i) => ({ citizenId: `c-${i}`, cpr: c.cpr })));
    expect(many.size).toBe(3);
    expect(dfdgFront.clientNames.slice(before)).toEqual([CLIENT_CN, CLIENT_CN]);
  });

  it('the gateway refuses a caller without a certificate', async () => {
    const refused = await new Promise<boolean>((resolve) => {
      const outgoing = request(dfdgFront.url, { method: 'POST', ca: readFileSync(tls('ca.pem')), headers: { 'content-type': 'text/xml' } }, (incoming) => {
        incoming.resume();
        resolve(false);
      });
      outgoing.on('error', () => resolve(true));
      outgoing.end('<x/>');
    });
    expect(refused).toBe(true);
  });

  it('a certificate without its key is a configuration error', () => {
    expect(() => loadConfig({ NODE_ENV: 'test', ADAPTER_TLS_CERT_FILE: tls('client.pem') })).toThrow(/go together/);
  });
});

describe('mutual TLS (function certificate): FHIR', () => {
  const subject = (ordinal: number) => ({ citizenId: `citizen-${ordinal}`, cpr: socialSim.citizens[ordinal]!.cpr });

  it('the social adapter presents the configured certificate on every request and reads through the gateway', async () => {
    const config = loadConfig({ NODE_ENV: 'test', SOCIAL_FHIR_URL: socialFront.url, ...certificateEnv });
    const social = adaptersFromConfig(config, '101', nodeAdapterTransport(config)).social!;
    const before = socialFront.clientNames.length;
    const pulled = await social.pull(subject(0));
    expect(pulled.quarantined).toEqual([]);
    expect(pulled.records.length).toBeGreaterThan(0);
    const many = await social.pullMany!([subject(1), subject(2)]);
    expect([...many.values()].every((result) => result.records.length > 0)).toBe(true);
    expect((await social.check()).ok).toBe(true);
    const seen = socialFront.clientNames.slice(before);
    // pull: the Patient search and one search per record type; pullMany: the same, batched; check: metadata.
    expect(seen.length).toBe(5 + 5 + 1);
    expect(new Set(seen)).toEqual(new Set([CLIENT_CN]));
  });

  it('without the certificate the gateway refuses the FHIR adapter, which reports a network failure', async () => {
    // Trusts the gateway's server certificate, presents none of its own: only the client certificate is missing.
    const withoutCertificate = new Agent({ connect: { ca: readFileSync(tls('ca.pem'), 'utf8') } });
    const social = createSocialAdapter({ baseUrl: socialFront.url, timeoutMs: 5_000, dispatcher: withoutCertificate });
    const before = socialFront.clientNames.length;
    try {
      const error = await social.pull(subject(0)).then(() => undefined, (e: unknown) => e);
      expect(error).toBeInstanceOf(AdapterError);
      expect((error as AdapterError).code).toBe('network');
      expect(socialFront.clientNames.length).toBe(before);
    } finally {
      await withoutCertificate.close();
    }
  });
});

describe('mutual TLS through a fetch of its own (as a Workers mTLS certificate binding is used)', () => {
  const subject = (ordinal: number) => ({ citizenId: `citizen-${ordinal}`, cpr: socialSim.citizens[ordinal]!.cpr });
  const certified = () => createMutualTlsFetch({ cert: readFileSync(tls('client.pem'), 'utf8'), key: readFileSync(tls('client.key'), 'utf8'), ca: readFileSync(tls('ca.pem'), 'utf8') });

  it('the FHIR adapter sends every request for its server through the fetch it was given, though fhir-kit-client calls the global one', async () => {
    let carried = 0;
    const through = certified();
    const social = adaptersFromConfig(loadConfig({ NODE_ENV: 'test', SOCIAL_FHIR_URL: socialFront.url }), '101', {
      fhirFetch: (input, init) => {
        carried++;
        return through(input, init);
      },
    }).social!;
    const before = socialFront.clientNames.length;
    const pulled = await social.pull(subject(3));
    expect(pulled.records.length).toBeGreaterThan(0);
    expect((await social.check()).ok).toBe(true);
    const seen = socialFront.clientNames.slice(before);
    expect(seen.length).toBe(5 + 1);
    expect(new Set(seen)).toEqual(new Set([CLIENT_CN]));
    expect(carried).toBe(seen.length);
  });

  it('requests for other origins still go through the global fetch as before', async () => {
    const seen: string[] = [];
    createSocialAdapter({ baseUrl: socialFront.url, fetch: (input, init) => (seen.push(String(input)), fetch(input, init)) });
    const answer = await fetch(`${dfdgSim.url}`, { method: 'GET' }).then((r) => r.status, () => 'unreachable');
    expect(answer).not.toBe('unreachable');
    expect(seen).toEqual([]);
  });
});
