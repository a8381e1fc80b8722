/** In workerd on D1: a citizen's token naming their CPR number (NemLog-in's claim) finds their plan. */
import { env } from 'cloudflare:test';
import { sign } from 'hono/jwt';
import { describe, expect, it } from 'vitest';
import { createApp } from '../../src/app';
import { loadConfig } from '../../src/config';
import { createMemoryLogger } from '../../src/monitoring/log';
import { composeDeps } from '../../src/runtime/compose';
import { openD1Database } from '../../src/store/d1';
import { testCpr } from '../support/cpr';
import { TEST_CPR_KEY, TEST_JWT_SECRET } from '../support/harness';

describe('a citizen logged in with MitID, in workerd', () => {
  it('is found by the CPR claim and sees their plan', async () => {
    const deps = await composeDeps({
      database: openD1Database(env.DB as never),
      config: loadConfig({ NODE_ENV: 'test', JWT_SECRET: TEST_JWT_SECRET, CPR_KEY: TEST_CPR_KEY, LOG_LEVEL: 'warn' }),
      logger: createMemoryLogger('warn'),
    });
    const app = createApp(deps);
    const now = Math.floor(Date.now() / 1000);
    const token = (claims: Record<string, unknown>) => sign({ tenant: '101', iat: now, exp: now + 600, ...claims }, TEST_JWT_SECRET, 'HS256');
    const cpr = testCpr('1988-04-12');
    const caseworker = await token({ sub: 'cw', roles: ['caseworker'] });
    const created = await app.request('/v1/plans', { method: 'POST', headers: { authorization: `Bearer ${caseworker}`, 'content-type': 'application/json' }, body: JSON.stringify({ cpr, origin: 'offered' }) });
    expect(created.status).toBe(201);
    const planId = ((await created.json()) as { id: string }).id;
    const citizen = await token({ sub: 'nemlogin-person', roles: ['citizen'], 'https://data.gov.dk/model/core/eid/cprNumber': cpr });
    const seen = await app.request('/v1/citizen/plan', { headers: { authorization: `Bearer ${citizen}` } });
    expect(seen.status).toBe(200);
    expect(((await seen.json()) as { plans: { id: string }[] }).plans.map((p) => p.id)).toEqual([planId]);
  });
});
