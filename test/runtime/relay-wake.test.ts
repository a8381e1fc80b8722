/**
 * On Node a registration wakes bree's relay job (decision 0020): with the relay's interval an hour
 * long, the registration still reaches the DFDG simulator within seconds — through the real service,
 * the real bree worker thread and HTTP.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDfdgSimulator, type DfdgSimulator } from '../../adapters/dfdg';
import { generatePopulation } from '../../adapters/shared/population';
import { activationTypes } from '../../mappings/dfdg';
import { startNodeService } from '../../src/runtime/node';
import { signDevToken } from '../../src/security';
import { TEST_CPR_KEY, TEST_JWT_SECRET } from '../support/harness';

const population = generatePopulation(3, 4242).map((c) => ({ ...c, sectors: { ...c.sectors, employment: true } }));
let simulator: DfdgSimulator;
let dir: string;
const savedEnv = { ...process.env };

beforeAll(async () => {
  simulator = await startDfdgSimulator({ population, port: 0 });
  dir = mkdtempSync(join(tmpdir(), 'enplan-relay-wake-'));
});
afterAll(async () => {
  process.env = savedEnv;
  await simulator?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('relay on Node', () => {
  it('delivers a registration at once, not at the relay’s next interval', async () => {
    // bree's job threads read the process environment, as in the service.
    const env = { DATA_DIR: dir, PORT: '0', DFDG_URL: simulator.url, JWT_SECRET: TEST_JWT_SECRET, CPR_KEY: TEST_CPR_KEY, NODE_ENV: 'test', LOG_LEVEL: 'warn', RELAY_INTERVAL: '1h', SYNC_CRON: '0 0 1 1 *', RETENTION_CRON: '0 0 1 1 *' };
    Object.assign(process.env, env);
    const service = await startNodeService(env);
    try {
      const token = await signDevToken(TEST_JWT_SECRET, { tenant: '101', roles: ['caseworker'], sub: 'cw-1' });
      const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
        const response = await fetch(`${service.url}${path}`, { method, headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}), ...headers }, body: body ? JSON.stringify(body) : undefined });
        return { status: response.status, body: (await response.json()) as any };
      };
      const plan = (await call('POST', '/v1/plans', { cpr: population[0]!.cpr, origin: 'offered' })).body;
      const memberId = plan.subject.member.memberId as string;
      const consent = await call('POST', '/v1/consents', {
        planId: plan.id, memberId, source: 'enplan', recipient: 'employment', categories: ['plan-core', 'goals', 'interventions'], purpose: 'Koordinering af indsatser i Én plan', validFrom: '2026-01-01',
        signed: { method: 'mitid', documentRef: 'wake-doc', textVersion: 'samtykke-v1', language: 'da' }, grantedBy: { memberId, capacity: 'self' },
      });
      expect(consent.status).toBe(201);
      const register = (title: string) =>
        call('POST', '/v1/registrations', {
          planId: plan.id,
          kind: 'intervention.added',
          intervention: { sector: 'employment', legalBasis: 'LAB § 32', type: { system: activationTypes.system, code: activationTypes.codes[0]!.code }, title, responsibleUnit: 'Jobcenter', contact: { name: 'Karin Kontakt' }, period: { start: '2026-12-01', end: '2027-03-01' }, memberId },
        }, { 'idempotency-key': `wake-${crypto.randomUUID()}` });
      // Two at once: the second arrives while the relay the first woke may be running, and is not left for the interval.
      const accepted = await Promise.all([register('Virksomhedspraktik'), register('Løntilskud')]);
      for (const { status, body } of accepted) expect(status, JSON.stringify(body)).toBe(202);
      for (const { body } of accepted)
        await expect
          .poll(async () => (await call('GET', `/v1/registrations/${body.id}`)).body.targets.map((t: { status: string }) => t.status), { timeout: 20_000, interval: 200 })
          .toEqual(['delivered']);
    } finally {
      await service.close();
    }
  }, 60_000);
});
