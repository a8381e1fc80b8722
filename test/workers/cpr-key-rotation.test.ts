/** CPR key rotation on D1: a citizen stored under the old key is found mid-rotation, and retention re-keys it (UPDATE … FROM json_each on D1). */
import { env } from 'cloudflare:test';
import { sign } from 'hono/jwt';
import { describe, expect, it } from 'vitest';
import { createApp } from '../../src/app';
import { loadConfig } from '../../src/config';
import { createMemoryLogger } from '../../src/monitoring/log';
import { monitoringOverview } from '../../src/monitoring/overview';
import { composeDeps } from '../../src/runtime/compose';
import { openD1Database } from '../../src/store/d1';
import { runRetention } from '../../src/sync/retention';
import { testCpr } from '../support/cpr';
import { TEST_CPR_KEY, TEST_JWT_SECRET } from '../support/harness';

async function appWith(keys: Record<string, string>) {
  const deps = await composeDeps({
    database: openD1Database(env.DB as never),
    config: loadConfig({ NODE_ENV: 'test', JWT_SECRET: TEST_JWT_SECRET, LOG_LEVEL: 'warn', ...keys }),
    logger: createMemoryLogger('warn'),
  });
  const app = createApp(deps);
  const now = Math.floor(Date.now() / 1000);
  const token = await sign({ sub: 'rotation-test', tenant: '101', roles: ['caseworker'], iat: now, exp: now + 600 }, TEST_JWT_SECRET, 'HS256');
  const post = (path: string, body: unknown) => app.request(path, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { deps, post };
}

describe('CPR key rotation in workerd on D1', () => {
  it('finds the citizen under the retired key and re-keys them with retention', async () => {
    const cpr = testCpr('1972-08-09');
    const before = await appWith({ CPR_KEY: TEST_CPR_KEY });
    expect((await before.post('/v1/plans', { cpr, origin: 'offered' })).status).toBe(201);

    const during = await appWith({ CPR_KEY: 'the-new-cpr-key-on-workers-2026', CPR_KEYS_RETIRED: TEST_CPR_KEY });
    expect((await during.post('/v1/data-subject/access-report', { cpr })).status).toBe(200);
    expect((await monitoringOverview(during.deps, '101')).cprKeyRotation!.valuesUnderRetiredKeys).toBeGreaterThanOrEqual(1);
    const retention = await runRetention(during.deps);
    expect(retention.rekey).toMatchObject({ failures: 0, more: false });
    expect(retention.rekey!.citizens).toBeGreaterThanOrEqual(1);
    const citizen = await during.deps.store.citizens.findByAnyCprHash('101', [await during.deps.vault.hash('101', cpr)]);
    expect(citizen?.cprCipher.startsWith(during.deps.vault.currentPrefix)).toBe(true);
    expect((await monitoringOverview(during.deps, '101')).cprKeyRotation).toEqual({ retiredKeys: 1, valuesUnderRetiredKeys: 0 });

    const after = await appWith({ CPR_KEY: 'the-new-cpr-key-on-workers-2026' });
    expect((await after.post('/v1/data-subject/access-report', { cpr })).status).toBe(200);
  });
});
