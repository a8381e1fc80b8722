/**
 * In workerd the sector systems are reached through the mTLS certificate binding when one is bound
 * (SECTOR_MTLS; here a stand-in that forwards and counts, test/workers/vitest.config.ts): the SOAP
 * adapters through the fetch they are given, the FHIR adapters although fhir-kit-client calls the
 * global fetch — their server's origin is routed to the binding.
 */
import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config';
import { adaptersFromConfig } from '../../src/runtime/adapters';
import { adapterTransportOf, type WorkerEnv } from '../../src/runtime/worker';

const carriedTo = async (url: string) =>
  ((await (await env.SECTOR_MTLS.fetch('https://binding.test/carried')).json()) as Record<string, number>)[new URL(url).origin] ?? 0;

describe('the mTLS certificate binding in workerd', () => {
  it('carries every request of the FHIR adapter to its server', async () => {
    const config = loadConfig({ NODE_ENV: 'test', SOCIAL_FHIR_URL: env.SOCIAL_SIMULATOR_URL });
    const social = adaptersFromConfig(config, '101', adapterTransportOf(env as unknown as WorkerEnv)).social!;
    const before = await carriedTo(env.SOCIAL_SIMULATOR_URL);
    const pulled = await social.pull({ citizenId: 'c-1', cpr: env.SOCIAL_SIMULATOR_CPR });
    expect(pulled.records.length).toBeGreaterThan(0);
    expect((await social.check()).ok).toBe(true);
    // The Patient search, one search per record type, and the capability statement.
    expect((await carriedTo(env.SOCIAL_SIMULATOR_URL)) - before).toBe(5 + 1);
  });

  it('without the binding the adapters are given no fetch of their own', () => {
    expect(adapterTransportOf({ DB: env.DB } as unknown as WorkerEnv)).toEqual({});
    const transport = adapterTransportOf(env as unknown as WorkerEnv);
    expect(typeof transport.soapFetch).toBe('function');
    expect(typeof transport.fhirFetch).toBe('function');
  });
});
