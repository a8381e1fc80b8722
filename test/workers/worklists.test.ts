/** The caseworkers' worklists on D1 (migration 0011's columns, kept with every plan write): overdue follow-ups and caseload per coordinator. */
import { SELF } from 'cloudflare:test';
import { sign } from 'hono/jwt';
import { describe, expect, it } from 'vitest';
import { testCpr } from '../support/cpr';
import { TEST_JWT_SECRET } from '../support/harness';

async function call(method: string, path: string, body?: unknown) {
  const now = Math.floor(Date.now() / 1000);
  const token = await sign({ sub: 'worklist-test', tenant: '101', roles: ['caseworker'], iat: now, exp: now + 600 }, TEST_JWT_SECRET, 'HS256');
  const headers: Record<string, string> = { authorization: `Bearer ${token}` };
  if (body) headers['content-type'] = 'application/json';
  if (path === '/v1/registrations') headers['idempotency-key'] = `wl-${crypto.randomUUID()}`;
  const response = await SELF.fetch(`https://enplan.test${path}`, { method, headers, body: body ? JSON.stringify(body) : undefined });
  return { status: response.status, body: (await response.json()) as any };
}

describe('worklists in workerd on D1', () => {
  it('finds the overdue follow-up and counts the coordinator’s open plans', async () => {
    const planId = (await call('POST', '/v1/plans', { cpr: testCpr(), origin: 'offered' })).body.id as string;
    expect((await call('POST', '/v1/registrations', { planId, kind: 'followup.scheduled', followUp: { due: '2026-01-15', text: 'Opfølgning' } })).status).toBe(202);
    expect((await call('POST', '/v1/registrations', { planId, kind: 'coordinator.changed', coordinator: { kind: 'caseworker', name: 'Dorte D1', sector: 'social', unit: 'Socialcenter' } })).status).toBe(202);
    const overdue = await call('GET', '/v1/follow-ups/overdue');
    expect(overdue.status).toBe(200);
    expect(overdue.body.plans).toContainEqual(expect.objectContaining({ planId, coordinator: 'Dorte D1', followUps: [expect.objectContaining({ due: '2026-01-15', text: 'Opfølgning' })] }));
    const caseload = await call('GET', '/v1/coordinators/caseload');
    expect(caseload.body.coordinators).toContainEqual({ coordinator: 'Dorte D1', openPlans: 1, aboveRecommended: false });
  });
});
