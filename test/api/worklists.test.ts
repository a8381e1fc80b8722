/**
 * The caseworkers' worklists: overdue follow-ups (R7) and the caseload per coordinator (R5), found by
 * the indexed columns every plan write keeps (migration 0011) — through the real API on SQLite.
 */
import { describe, expect, it } from 'vitest';
import { monitoringOverview } from '../../src/monitoring/overview';
import { membersOf, Plan, type Conflict, type Provenance } from '../../src/model';
import { testCpr } from '../support/cpr';
import { byRegistration, followUp, fromSource, intervention } from '../support/elements';
import { startTestApp } from '../support/node-app';
import { enrol } from '../support/seed';

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

/** The figure in the dashboard row with this id, as IT staff see it. */
async function dashboardFigure(app: Awaited<ReturnType<typeof startTestApp>>, rowId: string): Promise<number> {
  const token = await app.harness.token({ tenant: '101', roles: ['it-staff'] });
  const page = await (await app.harness.request('/dashboard', { headers: { cookie: `enplan_session=${token}` } })).text();
  const row = new RegExp(`<tr id="${rowId}"[^>]*>.*?<td class="num[^"]*">(\\d+)</td>`).exec(page);
  expect(row, rowId).not.toBeNull();
  return Number(row![1]);
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

  it('gives a closed or declined plan no next follow-up: one not done when the plan ended waits for no one', async () => {
    const app = await setUp();
    const [open, closed, declined] = [await app.plan(), await app.plan(), await app.plan()];
    for (const id of [open, closed, declined]) await app.followUp(id, '2099-03-01', 'Opfølgning');
    for (const status of ['accepted', 'closed']) expect((await app.call('POST', `/v1/plans/${closed}/status`, ['caseworker'], { status })).status).toBe(200);
    expect((await app.call('POST', `/v1/plans/${declined}/status`, ['caseworker'], { status: 'declined', reason: 'Borgeren ønsker det ikke' })).status).toBe(200);

    for (const role of ['caseworker', 'it-staff']) {
      const { body } = await app.call('GET', '/v1/plans', [role]);
      const next = Object.fromEntries(body.plans.map((p: { planId: string; nextFollowUp: string | null }) => [p.planId, p.nextFollowUp]));
      expect(next).toEqual({ [open]: '2099-03-01', [closed]: null, [declined]: null });
    }
    // Offered again, the declined plan's follow-up is due again.
    expect((await app.call('POST', `/v1/plans/${declined}/status`, ['caseworker'], { status: 'offered' })).status).toBe(200);
    const again = (await app.call('GET', '/v1/plans?status=offered', ['caseworker'])).body.plans;
    expect(again.find((p: { planId: string }) => p.planId === declined).nextFollowUp).toBe('2099-03-01');
    await app.close();
  });

  it('counts the open conflicts and gives the next follow-up a caseworker would see opening the plan, not those consent gives other departments alone', async () => {
    const app = await setUp();
    const plan = await enrol(app.deps, testCpr());
    const [member] = membersOf(plan);
    const forSocial: Provenance = { ...(fromSource('g-social', 'health', 'health', 'r-psych') as Extract<Provenance, { kind: 'source' }>), audience: ['social'] };
    const wholePlan = fromSource('g-all', 'interventions', 'dfdg', 'r-job');
    const conflict = (id: string, elementId: string, values: Provenance[]): Conflict => ({ id, elementId, field: 'title', values: values.map((p, i) => ({ value: `værdi ${i}`, provenance: [p] })), detectedAt: '2026-11-22T10:00:00.000Z' });
    const next = Plan.parse({
      ...plan,
      interventions: [intervention('i-job', member!.memberId, { provenance: [wholePlan] }), intervention('i-psych', member!.memberId, { sector: 'health', provenance: [forSocial] })],
      followUps: [followUp('f-psych', { due: '2099-01-10', elementId: 'i-psych' }), followUp('f-job', { due: '2099-02-10', elementId: 'i-job' })],
      conflicts: [conflict('c-job', 'i-job', [wholePlan, byRegistration()]), conflict('c-psych', 'i-psych', [forSocial, byRegistration()])],
      version: plan.version + 1,
    });
    expect(await app.deps.store.plans.update(next, plan.version)).toBe(true);
    // A plan without such data: its columns are the answer for everyone.
    const plain = await enrol(app.deps, testCpr());
    const plainNext = Plan.parse({ ...plain, followUps: [followUp('f-plain', { due: '2099-03-10' })], conflicts: [conflict('c-1', 'f-plain', [byRegistration('r1'), byRegistration('r2')])], version: plain.version + 1 });
    expect(await app.deps.store.plans.update(plainNext, plain.version)).toBe(true);

    const as = async (claims: { roles: readonly string[]; department?: string }) => {
      const headers = { authorization: `Bearer ${await app.harness.token({ tenant: '101', sub: 'reader-1', roles: claims.roles as never, ...(claims.department ? { department: claims.department as never } : {}) })}` };
      const summaries = (await (await app.harness.request('/v1/plans', { headers })).json()) as { plans: { planId: string; openConflicts: number; nextFollowUp: string | null }[] };
      const summary = summaries.plans.find((p) => p.planId === plan.id)!;
      const opened = claims.roles.includes('caseworker') ? ((await (await app.harness.request(`/v1/plans/${plan.id}`, { headers })).json()) as { conflicts: { resolvedAt?: string }[]; followUps: { due: string; done: boolean }[] }) : null;
      return { summary, plain: summaries.plans.find((p) => p.planId === plain.id)!, opened };
    };
    for (const [claims, expected] of [
      [{ roles: ['caseworker'], department: 'social' }, { openConflicts: 2, nextFollowUp: '2099-01-10' }],
      [{ roles: ['caseworker'], department: 'employment' }, { openConflicts: 1, nextFollowUp: '2099-02-10' }],
      [{ roles: ['caseworker'] }, { openConflicts: 1, nextFollowUp: '2099-02-10' }],
      // IT staff open no plan: they are answered as a reader with no department, the safe default.
      [{ roles: ['it-staff'] }, { openConflicts: 1, nextFollowUp: '2099-02-10' }],
    ] as const) {
      const { summary, plain: plainSummary, opened } = await as(claims);
      expect(summary, JSON.stringify(claims)).toMatchObject(expected);
      expect(plainSummary).toMatchObject({ openConflicts: 1, nextFollowUp: '2099-03-10' });
      if (opened) {
        // The same as the reader finds opening the plan.
        expect(opened.conflicts.filter((c) => !c.resolvedAt)).toHaveLength(summary.openConflicts);
        expect(opened.followUps.filter((f) => !f.done).map((f) => f.due).sort()[0]).toBe(summary.nextFollowUp);
      }
    }
    await app.close();
  });

  it('pages by cursor: a plan written between two pages neither skips nor repeats another', async () => {
    const app = await setUp();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push(await app.plan());
    const page = async (query: string) => (await app.call('GET', `/v1/plans?limit=2${query}`, ['caseworker'])).body as { plans: { planId: string }[]; nextAfter: string | null; nextOffset: number | null };
    const first = await page('');
    expect(first.plans).toHaveLength(2);
    // The oldest plan is written between the pages: it moves to the top of the list.
    await app.followUp(ids[0]!, '2027-01-01', 'Opfølgning');
    const seen = [...first.plans.map((p) => p.planId)];
    for (let after = first.nextAfter; after; ) {
      const next = await page(`&after=${after}`);
      expect(next.nextOffset).toBeNull();
      seen.push(...next.plans.map((p) => p.planId));
      after = next.nextAfter;
    }
    // Every plan not written meanwhile once; none twice (the one written shows at the top of the next reading).
    expect(new Set(seen).size).toBe(seen.length);
    for (const id of ids.slice(1)) expect(seen).toContain(id);
    // A cursor the list did not give, or with an offset too, is refused.
    expect((await app.call('GET', '/v1/plans?after=bm90LWEtY3Vyc29y', ['caseworker'])).status).toBe(400);
    expect((await app.call('GET', `/v1/plans?after=${first.nextAfter}&offset=2`, ['caseworker'])).status).toBe(400);
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
    // Counted for IT staff's monitoring too, on the dashboard as well.
    expect((await monitoringOverview(app.deps, '101')).plansWithOverdueFollowUps).toBe(2);
    expect(await dashboardFigure(app, 'overdue-follow-ups')).toBe(2);
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
    expect(await dashboardFigure(app, 'caseload')).toBe(1);
    await app.close();
  });
});
