/**
 * Mutual TLS to a SOAP service: the adapters present the configured function certificate (FOCES
 * in production). A TLS-terminating front that demands a client certificate from a test-only CA
 * (as a service gateway does) forwards to the real DFDG simulator over loopback.
 */
import { readFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:https';
import type { TLSSocket } from 'node:tls';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDfdgSimulator, type DfdgSimulator } from '../../adapters/dfdg';
import { loadConfig } from '../../src/config';
import { adaptersFromConfig } from '../../src/runtime/adapters';
import { nodeAdapterTransport } from '../../src/runtime/node-deps';

const tls = (file: string) => join(process.cwd(), 'test/fixtures/tls', file);
let sim: DfdgSimulator;
let front: Server;
let frontUrl: string;
const clientNames: string[] = [];

beforeAll(async () => {
  sim = await startDfdgSimulator({ size: 20, seed: 5 });
  front = createServer({ cert: readFileSync(tls('server.pem')), key: readFileSync(tls('server.key')), ca: readFileSync(tls('ca.pem')), requestCert: true, rejectUnauthorized: true }, async (req, res) => {
    clientNames.push(String((req.socket as TLSSocket).getPeerCertificate().subject?.CN));
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const answer = await fetch(sim.url, { method: 'POST', headers: { 'content-type': String(req.headers['content-type']), soapaction: String(req.headers.soapaction ?? '') }, body: Buffer.concat(chunks) });
    res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'text/xml' });
    res.end(Buffer.from(await answer.arrayBuffer()));
  });
  await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', () => resolve()));
  const address = front.address();
  frontUrl = `https://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/soap`;
});
afterAll(async () => {
  front?.closeAllConnections();
  await new Promise<void>((resolve) => (front ? front.close(() => resolve()) : resolve()));
  await sim?.close();
});

describe('mutual TLS (function certificate)', () => {
  it('the DFDG adapter presents the configured certificate and reads through the gateway', async () => {
    const config = loadConfig({ NODE_ENV: 'test', DFDG_URL: frontUrl, ADAPTER_TLS_CERT_FILE: tls('client.pem'), ADAPTER_TLS_KEY_FILE: tls('client.key'), ADAPTER_TLS_CA_FILE: tls('ca.pem') });
    const dfdg = adaptersFromConfig(config, '101', nodeAdapterTransport(config)).dfdg!;
    const citizen = sim.knownCitizens()[0]!;
    const before = clientNames.length;
    const pulled = await dfdg.pull({ citizenId: 'c-1', cpr: citizen.cpr });
    expect(pulled.records.length).toBeGreaterThan(0);
    const many = await dfdg.pullMany!(sim.knownCitizens().slice(0, 3).map((c, i) => ({ citizenId: `c-${i}`, cpr: c.cpr })));
    expect(many.size).toBe(3);
    expect(clientNames.slice(before)).toEqual(['Test-only FOCES function certificate', 'Test-only FOCES function certificate']);
  });

  it('the gateway refuses a caller without a certificate', async () => {
    const refused = await new Promise<boolean>((resolve) => {
      const outgoing = request(frontUrl, { method: 'POST', ca: readFileSync(tls('ca.pem')), headers: { 'content-type': 'text/xml' } }, (incoming) => {
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
