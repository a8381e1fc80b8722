/**
 * The caseworkers' worklists: overdue follow-ups (R7) and the caseload per coordinator (R5), found by
 * the indexed columns every plan write keeps (migration 0011) — through the real API on SQLite.
 */
import { describe, expect, it } from 'vitest';
import { monitoringOverview } from '../../src/monitoring/overview';
import { testCpr } from '../support/cpr';
import { startTestApp } from '../support/node-app';

async function setUp() {
  const app = await startTestApp();
  const call = async (method: string, path: string, roles: string[], body?: unknown, tenant = '101') => {
    const token = await app.harness.token({ tenant, roles: roles as never, sub: 'cw-1' });
    const headers: Record<string, string> = { authorization: `Bearer ${token}` };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (method === 'POST' && path === '/v1/registrations') headers['idempotency-key'] = `wl-${crypto.randomUUID()}`;
    const response = await app.harness.request(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    return { status: response.status, body: (await response.json()) as any };
  };
  const plan = async (tenant = '101') => (await call('POST', '/v1/plans', ['caseworker'], { cpr: testCpr(), origin: 'offered' }, tenant)).body.id as string;
  const register = async (planId: string, step: Record<string, unknown>, tenant = '101') => {
    const answer = await call('POST', '/v1/registrations', ['caseworker'], { planId, ...step }, tenant);
    expect(answer.status, JSON.stringify(answer.body)).toBe(202);
    return answer.body;
  };
  const followUp = (planId: string, due: string, text: string, tenant = '101') => register(planId, { kind: 'followup.scheduled', followUp: { due, text } }, tenant);
  const coordinator = (planId: string, name: string) => register(planId, { kind: 'coordinator.changed', coordinator: { kind: 'caseworker', name, sector: 'employment', unit: 'Jobcenter' } });
  return { ...app, call, plan, register, followUp, coordinator };
}

describe('caseworkers’ worklists', () => {
  it('lists the municipality’s plans by status and by coordinator, without content or citizen ids, a page at a time', async () => {
    const app = await setUp();
    const [karins, karinsClosed, nobodys] = [await app.plan(), await app.plan(), await app.plan()];
    await app.coordinator(karins, 'Karin Koordinator');
    await app.coordinator(karinsClosed, 'Karin Koordinator');
    for (const status of ['accepted', 'closed']) expect((await app.call('POST', `/v1/plans/${karinsClosed}/status`, ['caseworker'], { status })).status).toBe(200);
    await app.plan('751');
    const ids = (body: { plans: { planId: string }[] }) => body.plans.map((p) => p.planId).sort();

    const all = await app.call('GET', '/v1/plans', ['caseworker']);
    expect(all.status).toBe(200);
    expect(ids(all.body)).toEqual([karins, karinsClosed, nobodys].sort());
    expect(all.body.plans[0]).toEqual({ planId: karinsClosed, status: 'closed', coordinator: 'Karin Koordinator', members: 1, openConflicts: 0, nextFollowUp: null, updatedAt: expect.any(String) });
    expect(ids((await app.call('GET', '/v1/plans?coordinator=Karin%20Koordinator&status=offered,accepted,active', ['caseworker'])).body)).toEqual([karins]);
    expect(ids((await app.call('GET', '/v1/plans?withoutCoordinator=true', ['it-staff'])).body)).toEqual([nobodys]);
    const firstPage = await app.call('GET', '/v1/plans?limit=2', ['caseworker']);
    expect(firstPage.body.plans).toHaveLength(2);
    expect(firstPage.body.nextOffset).toBe(2);
    expect((await app.call('GET', '/v1/plans?limit=2&offset=2', ['caseworker'])).body).toMatchObject({ plans: [expect.anything()], nextOffset: null });
    const bad = await app.call('GET', '/v1/plans?status=open', ['caseworker']);
    expect(bad.status).toBe(400);
    expect(bad.body.detail).toContain('unknown status open');
    for (const role of ['vendor', 'sync-job', 'dpo']) expect((await app.call('GET', '/v1/plans', [role])).status).toBe(403);
    await app.close();
  });

  it('lists the open plans with follow-ups past due and not done, longest overdue first', async () => {
    const app = await setUp();
    const [late, later, done, closed, future] = [await app.plan(), await app.plan(), await app.plan(), await app.plan(), await app.plan()];
    await app.followUp(late, '2026-01-10', 'Opfølgning på praktik');
    await app.followUp(late, '2099-01-01', 'Langt ude i fremtiden');
    await app.coordinator(late, 'Karin Koordinator');
    await app.followUp(later, '2026-06-01', 'Samtale om uddannelse');
    const settled = await app.followUp(done, '2026-02-01', 'Allerede holdt');
    await app.register(done, { kind: 'followup.done', followUpId: settled.elementId });
    await app.followUp(closed, '2026-02-01', 'Planen er lukket');
    for (const status of ['accepted', 'closed']) expect((await app.call('POST', `/v1/plans/${closed}/status`, ['caseworker'], { status })).status).toBe(200);
    await app.followUp(future, '2099-02-01', 'Ikke forfalden');
    await app.followUp(await app.plan('751'), '2026-01-01', 'En anden kommunes', '751');

    const { status, body } = await app.call('GET', '/v1/follow-ups/overdue', ['caseworker']);
    expect(status).toBe(200);
    expect(body.plans.map((p: { planId: string }) => p.planId)).toEqual([late, later]);
    expect(body.plans[0]).toMatchObject({ status: 'offered', coordinator: 'Karin Koordinator', followUps: [{ due: '2026-01-10', text: 'Opfølgning på praktik', elementId: null }] });
    expect(body.plans[0].followUps[0].daysOverdue).toBeGreaterThan(300);
    expect(body.nextOffset).toBeNull();
    // Counted for IT staff's monitoring too.
    expect((await monitoringOverview(app.deps, '101')).plansWithOverdueFollowUps).toBe(2);
    // Paged.
    const first = await app.call('GET', '/v1/follow-ups/overdue?limit=1', ['caseworker']);
    expect(first.body.plans.map((p: { planId: string }) => p.planId)).toEqual([late]);
    expect(first.body.nextOffset).toBe(1);
    // Once done, it leaves the list.
    const [open] = body.plans[0].followUps;
    await app.register(late, { kind: 'followup.done', followUpId: open.id });
    expect((await app.call('GET', '/v1/follow-ups/overdue', ['caseworker'])).body.plans.map((p: { planId: string }) => p.planId)).toEqual([later]);
    expect((await app.call('GET', '/v1/follow-ups/overdue', ['vendor'])).status).toBe(403);
    await app.close();
  });

  it('counts the open plans of each coordinator, flags those above the recommended caseload, leaves closed plans out', async () => {
    const app = await setUp();
    const plans = [await app.plan(), await app.plan(), await app.plan(), await app.plan()];
    await app.coordinator(plans[0]!, 'Karin Koordinator');
    await app.coordinator(plans[1]!, 'Karin Koordinator');
    await app.coordinator(plans[2]!, 'Jens Jensen');
    // A hand-over moves the plan to the new coordinator's caseload.
    await app.coordinator(plans[2]!, 'Karin Koordinator');
    const closed = await app.plan();
    await app.coordinator(closed, 'Jens Jensen');
    for (const status of ['accepted', 'closed']) await app.call('POST', `/v1/plans/${closed}/status`, ['caseworker'], { status });

    const { status, body } = await app.call('GET', '/v1/coordinators/caseload', ['it-staff']);
    expect(status).toBe(200);
    expect(body).toEqual({
      recommendedAtMost: 30,
      coordinators: [
        { coordinator: 'Karin Koordinator', openPlans: 3, aboveRecommended: false },
        { coordinator: null, openPlans: 1, aboveRecommended: false },
      ],
    });
    expect((await app.call('GET', '/v1/coordinators/caseload', ['caseworker'], undefined, '751')).body.coordinators).toEqual([]);
    expect((await monitoringOverview(app.deps, '101')).coordinatorsAboveRecommendedCaseload).toBe(0);

    // Above the recommended 30: flagged, and counted in the metrics.
    for (let i = 0; i < 28; i++) await app.coordinator(await app.plan(), 'Karin Koordinator');
    const heavy = (await app.call('GET', '/v1/coordinators/caseload', ['caseworker'])).body.coordinators[0];
    expect(heavy).toEqual({ coordinator: 'Karin Koordinator', openPlans: 31, aboveRecommended: true });
    const token = await app.harness.token({ tenant: '101', roles: ['it-staff'] });
    const metrics = await (await app.harness.request('/metrics', { headers: { authorization: `Bearer ${token}` } })).text();
    expect(metrics).toMatch(/^enplan_coordinators_above_recommended_caseload(\{[^}]*\})? 1$/m);
    await app.close();
  });
});
