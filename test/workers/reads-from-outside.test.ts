/**
 * A read from outside a plan on D1 (decision 0032): the read's audit row, the partial index of such
 * rows built by the migrations on D1, the DPO's list and the count in /metrics, in workerd.
 */
import { SELF } from 'cloudflare:test';
import { sign } from 'hono/jwt';
import { describe, expect, it } from 'vitest';
import { testCpr } from '../support/cpr';
import { TEST_JWT_SECRET } from '../support/harness';

async function call(method: string, path: string, claims: { roles: string[]; sub: string; department?: string }, body?: unknown) {
  const now = Math.floor(Date.now() / 1000);
  const token = await sign({ tenant: '101', ...claims, iat: now, exp: now + 600 }, TEST_JWT_SECRET, 'HS256');
  const response = await SELF.fetch(`https://enplan.test${path}`, { method, headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined });
  const text = await response.text();
  return { status: response.status, body: (response.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text) as any };
}

describe('reads from outside a plan in workerd on D1', () => {
  it('are marked, listed for the DPO from the partial index, and counted for IT staff; a party by record reads from within', async () => {
    const created = await call('POST', '/v1/plans', { roles: ['caseworker'], sub: 'staff' }, { cpr: testCpr(), origin: 'offered' });
    expect(created.status).toBe(201);
    const planId = created.body.id as string;
    const since = new Date(Date.now() - 1000).toISOString();
    // Integration takes no part: its read is from outside.
    expect((await call('GET', `/v1/plans/${planId}`, { roles: ['caseworker'], sub: 'outsider-d1', department: 'integration' })).status).toBe(200);
    // Made a party by the coordinating staff, its next read is from within.
    expect((await call('POST', `/v1/plans/${planId}/parties`, { roles: ['caseworker'], sub: 'staff' }, { department: 'integration', reason: 'Netværksmøde' })).status).toBe(201);
    expect((await call('GET', `/v1/plans/${planId}`, { roles: ['caseworker'], sub: 'insider-d1', department: 'integration' })).status).toBe(200);

    const listed = await call('GET', `/v1/data-subject/reads-from-outside?from=${encodeURIComponent(since)}`, { roles: ['dpo'], sub: 'dpo-d1' });
    expect(listed.status).toBe(200);
    const mine = (listed.body.entries as { planId: string; actor: string; department: string }[]).filter((e) => e.planId === planId);
    expect(mine).toEqual([expect.objectContaining({ actor: 'caseworker:outsider-d1', department: 'integration', action: 'plan.read' })]);
    const metrics = await call('GET', '/metrics', { roles: ['it-staff'], sub: 'it-d1' });
    expect(metrics.body).toMatch(/enplan_plan_reads_from_outside_last_day\{tenant="101"\} [1-9]\d*/);
  });
});
