/** Erasure at the DPO's request (GDPR art. 17) in workerd on D1: the purge's batches and the in-batch check that the plan is the citizen's alone. */
import { SELF } from 'cloudflare:test';
import { sign } from 'hono/jwt';
import { describe, expect, it } from 'vitest';
import { testCpr } from '../support/cpr';
import { TEST_JWT_SECRET } from '../support/harness';

async function call(method: string, path: string, body: unknown, roles: string[]) {
  const now = Math.floor(Date.now() / 1000);
  const token = await sign({ sub: 'erasure-test', tenant: '101', roles, iat: now, exp: now + 600 }, TEST_JWT_SECRET, 'HS256');
  const response = await SELF.fetch(`https://enplan.test${path}`, { method, headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined });
  return { status: response.status, body: (await response.json()) as any };
}

describe('erasure in workerd on D1', () => {
  it('erases a citizen’s own plan and the citizen, and refuses one who shares a family plan', async () => {
    const cpr = testCpr();
    const created = await call('POST', '/v1/plans', { cpr, origin: 'offered' }, ['caseworker']);
    expect(created.status).toBe(201);
    const reason = 'Indskrevet under forkert CPR-nummer';
    const erased = await call('POST', '/v1/data-subject/erasure', { cpr, reason }, ['dpo']);
    expect(erased.status).toBe(200);
    expect(erased.body).toMatchObject({ plansErased: [created.body.id], citizenErased: true });
    expect((await call('GET', `/v1/plans/${created.body.id}`, undefined, ['caseworker'])).status).toBe(404);
    expect((await call('POST', '/v1/data-subject/erasure', { cpr, reason }, ['dpo'])).status).toBe(404);

    const parent = testCpr();
    const family = await call('POST', '/v1/plans', { cpr: parent, origin: 'offered', family: { members: [{ cpr: testCpr('1986-07-09'), role: 'adult' }] } }, ['caseworker']);
    expect(family.status).toBe(201);
    const refused = await call('POST', '/v1/data-subject/erasure', { cpr: parent, reason }, ['dpo']);
    expect(refused.status).toBe(409);
    expect(refused.body.type).toBe('/problems/erasure-shared-plan');
    expect((await call('GET', `/v1/plans/${family.body.id}`, undefined, ['caseworker'])).status).toBe(200);
  });
});
