/**
 * A conflict the merge flagged is settled by a person (issue 4): the chosen value stands, its
 * writer writes the element from then on, and the conflict stays on the plan, resolved, with who
 * chose what. Refused: another choice after one was made, a choice that is not a value, a conflict
 * on a closed or declined plan, and a conflict whose element changed since it was flagged by other
 * means than the merge. While it is open it stays true to its element (F4, R17): the merge re-bases it
 * on the writer's new content, or closes it when the sources come to agree or one of them reports a
 * newer value; settling one re-bases or closes the others on the same element.
 */
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { ProblemError } from '../../src/api/context';
import { membersOf, Plan, type Fragment } from '../../src/model';
import { monitoringOverview } from '../../src/monitoring/overview';
import { resolveConflict, settledConflictRegistration } from '../../src/plans/conflicts';
import { planService } from '../../src/plans/service';
import { mergeFragments, type FragmentOrigin } from '../../src/sync/merge';
import { testCpr } from '../support/cpr';
import { startTestApp } from '../support/node-app';
import { caseworkerOf, enrol } from '../support/seed';
import { validPlan } from '../support/plans';

const goal = (title: string): Fragment => ({ kind: 'goal', elementId: 'shared:goal:1', category: 'goals', content: { level: 'overall', title, sector: 'employment', status: 'active', topics: [] } });
const origin = (system: FragmentOrigin['system'], recordVersion: string): FragmentOrigin => ({ system, recordId: `${system}-rec`, recordVersion, mappingId: `${system}.goal`, mappingVersion: '1.0.0', category: 'goals' });
const at = (hour: number) => `2026-11-23T${String(hour).padStart(2, '0')}:00:00.000Z`;

/** A plan whose goal DFDG wrote and the social system then changed: one open conflict. */
function conflicted(base: Plan, memberId: string) {
  let plan = mergeFragments(base, [{ fragment: goal('Job som tømrer'), origin: origin('dfdg', '1'), memberId }], { at: at(10), ruleVersion: 'r' }).plan;
  plan = mergeFragments(plan, [{ fragment: goal('Job som maler'), origin: origin('social', '1'), memberId }], { at: at(11), ruleVersion: 'r' }).plan;
  expect(plan.conflicts).toHaveLength(1);
  return plan;
}
const blank = () => Plan.parse(validPlan({ goals: [], interventions: [], agreements: [], followUps: [], citizenViews: [], conflicts: [] }));
const writerOf = (plan: Plan) => plan.goals[0]!.provenance.at(-1)!;
const merge = (plan: Plan, title: string, system: FragmentOrigin['system'], version: string, hour: number, memberId = 'm1') =>
  mergeFragments(plan, [{ fragment: goal(title), origin: origin(system, version), memberId }], { at: at(hour), ruleVersion: 'r' }).plan;
const titleOf = (request: unknown) => (request as { changes: { title?: string } } | null)?.changes.title;
const problemOf = (f: () => unknown) => {
  try {
    f();
  } catch (error) {
    if (error instanceof ProblemError) return error.problemType;
    throw error;
  }
  return 'none';
};


describe('a conflict stays true to its element while it is open (F4)', () => {
  /** DFDG wrote the goal, social changed it (flagged), then DFDG changed it again. */
  const writerMoved = (base: Plan, memberId: string) => merge(conflicted(base, memberId), 'Job som snedker', 'dfdg', '2', 12, memberId);

  it('the element’s writer changing it re-bases the open conflict on what it holds now: still resolvable either way', () => {
    const plan = writerMoved(blank(), 'm1');
    expect(plan.goals[0]!.title).toBe('Job som snedker');
    const [conflict] = plan.conflicts;
    expect(conflict!.resolvedAt).toBeUndefined();
    expect(conflict).toMatchObject({ values: [{ value: { title: 'Job som snedker' }, provenance: [expect.objectContaining({ system: 'dfdg', recordVersion: '2' })] }, { value: { title: 'Job som maler' } }] });
    const kept = resolveConflict(plan, conflict!.id, { chosen: 0 }, { at: at(13), by: 'a' });
    expect(kept.plan.goals[0]!.title).toBe('Job som snedker');
    expect(titleOf(settledConflictRegistration(kept.plan, kept.conflict).request)).toBe('Job som snedker');
    const taken = resolveConflict(plan, conflict!.id, { chosen: 1 }, { at: at(13), by: 'a' });
    expect(taken.plan.goals[0]!.title).toBe('Job som maler');
    expect(writerOf(taken.plan)).toMatchObject({ system: 'social' });
  });

  it('the element’s writer coming to report the other value settles the conflict: the sources agree', () => {
    const plan = merge(conflicted(blank(), 'm1'), 'Job som maler', 'dfdg', '2', 12);
    expect(plan.goals[0]!.title).toBe('Job som maler');
    expect(plan.conflicts).toEqual([expect.objectContaining({ resolvedAt: at(12), resolution: expect.objectContaining({ by: 'sync', chosen: 1 }) })]);
    expect(problemOf(() => resolveConflict(plan, plan.conflicts[0]!.id, { chosen: 0 }, { at: at(13), by: 'a' }))).toBe('conflict-resolved');
  });

  it('through the API: after the writer’s change the conflict is listed with the current content and can be resolved', async () => {
    const app = await startTestApp();
    const stored = await enrol(app.deps, testCpr());
    const next = Plan.parse({ ...writerMoved(stored, membersOf(stored)[0]!.memberId), version: stored.version + 1 });
    expect(await app.deps.store.plans.update(next, stored.version)).toBe(true);
    const conflictId = next.conflicts[0]!.id;
    const token = await app.harness.token({ tenant: '101', roles: ['caseworker'] });
    const list = (await (await app.harness.request('/v1/conflicts', { headers: { authorization: `Bearer ${token}` } })).json()) as { plans: { conflicts: { id: string; writers: string[] }[] }[] };
    expect(list.plans.flatMap((p) => p.conflicts)).toEqual([expect.objectContaining({ id: conflictId, writers: ['dfdg', 'social'] })]);
    const resolve = (chosen: number) =>
      app.harness.request(`/v1/plans/${next.id}/conflicts/${encodeURIComponent(conflictId)}/resolve`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ chosen }) });
    const first = await resolve(1);
    expect(first.status).toBe(200);
    expect(((await first.json()) as Plan).goals[0]!.title).toBe('Job som maler');
    expect((await resolve(0)).status).toBe(409);
    const after = (await (await app.harness.request('/v1/conflicts', { headers: { authorization: `Bearer ${token}` } })).json()) as { plans: unknown[] };
    expect(after.plans).toEqual([]);
    await app.close();
  });

  it('a newer report from the same record supersedes its older conflict: one open, and the value pushed is the newest (R17)', () => {
    const plan = merge(conflicted(blank(), 'm1'), 'Job som murer', 'social', '2', 12);
    const [older, newer] = plan.conflicts;
    expect(plan.conflicts.filter((c) => !c.resolvedAt)).toEqual([newer]);
    expect(older).toMatchObject({ resolvedAt: at(12), resolution: { by: 'sync', chosen: 0, reason: expect.stringContaining(newer!.id) } });
    // The older one answers that it is settled, and points at the newer; nothing stale is written or pushed.
    for (const chosen of [0, 1]) expect(problemOf(() => resolveConflict(plan, older!.id, { chosen }, { at: at(13), by: 'a' }))).toBe('conflict-resolved');
    const settled = resolveConflict(plan, newer!.id, { chosen: 1 }, { at: at(13), by: 'a' });
    expect(settled.plan.goals[0]!.title).toBe('Job som murer');
    expect(titleOf(settledConflictRegistration(settled.plan, settled.conflict).request)).toBe('Job som murer');
    expect(settled.plan.conflicts.filter((c) => !c.resolvedAt)).toEqual([]);
  });

  it('a plan holding two open conflicts from one record (flagged before supersession): the older is refused, settling the newer closes both', () => {
    const plan = merge(conflicted(blank(), 'm1'), 'Job som murer', 'social', '2', 12);
    // As stored before: both open.
    const legacy = Plan.parse({ ...plan, conflicts: plan.conflicts.map(({ resolvedAt: _r, resolution: _s, ...c }) => c) });
    const [older, newer] = legacy.conflicts;
    expect(legacy.conflicts.filter((c) => !c.resolvedAt)).toHaveLength(2);
    for (const chosen of [0, 1]) expect(problemOf(() => resolveConflict(legacy, older!.id, { chosen }, { at: at(13), by: 'a' }))).toBe('conflict-outdated');
    const settled = resolveConflict(legacy, newer!.id, { chosen: 1 }, { at: at(13), by: 'a' });
    expect(settled.plan.conflicts.filter((c) => !c.resolvedAt).map((c) => c.id)).toEqual([]);
    expect(settled.plan.conflicts.find((c) => c.id === older!.id)).toMatchObject({ resolvedAt: at(13), resolution: { by: 'sync', chosen: 0, reason: expect.stringContaining(newer!.id) } });
    expect(titleOf(settledConflictRegistration(settled.plan, settled.conflict).request)).toBe('Job som murer');
  });

  it('settling one of two conflicts from different systems re-bases the other on the chosen content, or settles it when they agree', () => {
    const twoChallengers = (educationTitle: string) => merge(conflicted(blank(), 'm1'), educationTitle, 'education', '1', 12);
    const plan = twoChallengers('Job som murer');
    const [social, education] = plan.conflicts;
    expect(plan.conflicts.filter((c) => !c.resolvedAt)).toHaveLength(2);
    const settled = resolveConflict(plan, social!.id, { chosen: 1 }, { at: at(13), by: 'a' }).plan;
    expect(settled.conflicts.filter((c) => !c.resolvedAt).map((c) => c.id)).toEqual([education!.id]);
    expect(settled.conflicts.find((c) => c.id === education!.id)).toMatchObject({ values: [{ value: { title: 'Job som maler' }, provenance: [expect.objectContaining({ system: 'social' })] }, { value: { title: 'Job som murer' } }] });
    expect(resolveConflict(settled, education!.id, { chosen: 1 }, { at: at(14), by: 'a' }).plan.goals[0]!.title).toBe('Job som murer');
    // Education said what social said: choosing social's value settles education's conflict too.
    const agreeing = twoChallengers('Job som maler');
    const both = resolveConflict(agreeing, agreeing.conflicts[0]!.id, { chosen: 1 }, { at: at(13), by: 'a' }).plan;
    expect(both.conflicts.map((c) => c.resolution?.chosen)).toEqual([1, 1]);
    expect(both.conflicts.filter((c) => !c.resolvedAt)).toEqual([]);
  });

  it('an element changed by other means (a registration) since: the choice is refused once, the conflict re-based, and the next choice is made on what it holds', async () => {
    const app = await startTestApp();
    const stored = await enrol(app.deps, testCpr());
    const flagged = conflicted(stored, membersOf(stored)[0]!.memberId);
    const edited = Plan.parse({
      ...flagged,
      goals: flagged.goals.map((g) => ({ ...g, title: 'Job som snedker', provenance: [...g.provenance, { kind: 'registration', registrationId: 'reg-1', actor: 'caseworker:anna', at: at(12) }] })),
      version: stored.version + 1,
    });
    expect(await app.deps.store.plans.update(edited, stored.version)).toBe(true);
    const service = planService(app.deps);
    const cw = caseworkerOf();
    const conflictId = edited.conflicts[0]!.id;
    const refused = await service.resolveConflict(cw, edited.id, conflictId, { chosen: 1, push: false }).catch((error: unknown) => (error instanceof ProblemError ? error.problemType : error));
    expect(refused).toBe('conflict-outdated');
    const rebased = (await app.deps.store.plans.get('101', edited.id))!;
    expect(rebased.goals[0]!.title).toBe('Job som snedker');
    expect(rebased.conflicts[0]).toMatchObject({ values: [{ value: { title: 'Job som snedker' }, provenance: [expect.objectContaining({ kind: 'registration', registrationId: 'reg-1' })] }, { value: { title: 'Job som maler' } }] });
    expect((await app.deps.store.audit.list('101')).filter((a) => a.action === 'plan.conflict-rebased').map((a) => a.detail)).toEqual([{ conflictId }]);
    const settled = (await service.resolveConflict(cw, edited.id, conflictId, { chosen: 1, push: false }))!;
    expect(settled.goals[0]!.title).toBe('Job som maler');
    await app.close();
  });

  it('a closed or declined plan: its conflicts leave the worklist and the dashboard, and resolving one is refused (R6)', async () => {
    const app = await startTestApp();
    const stored = await enrol(app.deps, testCpr());
    const withConflict = Plan.parse({ ...conflicted(stored, membersOf(stored)[0]!.memberId), version: stored.version + 1 });
    expect(await app.deps.store.plans.update(withConflict, stored.version)).toBe(true);
    const closed = (await planService(app.deps).changeStatus(caseworkerOf(), stored.id, { status: 'closed' }))!;
    const token = await app.harness.token({ tenant: '101', roles: ['caseworker'] });
    const list = (await (await app.harness.request('/v1/conflicts', { headers: { authorization: `Bearer ${token}` } })).json()) as { plans: unknown[] };
    const r = await app.harness.request(`/v1/plans/${stored.id}/conflicts/${encodeURIComponent(closed.conflicts[0]!.id)}/resolve`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ chosen: 1 }) });
    const after = (await app.deps.store.plans.get('101', stored.id))!;
    expect({ listed: list.plans.length, status: r.status, type: ((await r.json()) as { type: string }).type, title: after.goals[0]!.title, planStatus: after.status, version: after.version }).toEqual({
      listed: 0,
      status: 409,
      type: '/problems/plan-not-open',
      title: 'Job som tømrer',
      planStatus: 'closed',
      version: closed.version,
    });
    expect((await monitoringOverview(app.deps, '101')).plansWithOpenConflicts).toBe(0);
    await app.close();
  });

  it('the plan summaries, the dashboard and /metrics count open conflicts as the worklist does: not those of a declined or closed plan, again once it is reopened (R6)', async () => {
    const app = await startTestApp();
    const stored = await enrol(app.deps, testCpr());
    const withConflict = Plan.parse({ ...conflicted(stored, membersOf(stored)[0]!.memberId), version: stored.version + 1 });
    expect(await app.deps.store.plans.update(withConflict, stored.version)).toBe(true);
    const caseworker = await app.harness.token({ tenant: '101', roles: ['caseworker'] });
    const itStaff = await app.harness.token({ tenant: '101', roles: ['it-staff'] });
    const read = async (path: string, token: string) => app.harness.request(path, { headers: { authorization: `Bearer ${token}` } });
    const counts = async () => {
      const worklist = (await (await read('/v1/conflicts', caseworker)).json()) as { plans: { conflicts: unknown[] }[] };
      const summaries = (await (await read('/v1/plans', itStaff)).json()) as { plans: { planId: string; openConflicts: number }[] };
      const metric = /^enplan_plans_with_open_conflicts\{tenant="101"\} (\d+)$/m.exec(await (await read('/metrics', itStaff)).text())?.[1];
      return {
        worklist: worklist.plans.reduce((n, p) => n + p.conflicts.length, 0),
        summary: summaries.plans.find((p) => p.planId === stored.id)?.openConflicts,
        dashboard: (await monitoringOverview(app.deps, '101')).plansWithOpenConflicts,
        metric: Number(metric),
      };
    };
    const service = planService(app.deps);
    const seen: Record<string, unknown> = { accepted: await counts() };
    await service.changeStatus(caseworkerOf(), stored.id, { status: 'declined', reason: 'Borgeren ønsker ikke en samlet plan' });
    seen.declined = await counts();
    await service.changeStatus(caseworkerOf(), stored.id, { status: 'offered' });
    seen.reopened = await counts();
    for (const status of ['accepted', 'closed'] as const) await service.changeStatus(caseworkerOf(), stored.id, { status });
    seen.closed = await counts();
    const waiting = { worklist: 1, summary: 1, dashboard: 1, metric: 1 };
    const none = { worklist: 0, summary: 0, dashboard: 0, metric: 0 };
    expect(seen).toEqual({ accepted: waiting, declined: none, reopened: waiting, closed: none });
    await app.close();
  });
});

describe('resolving a conflict', () => {
  it('takes the chosen value and makes its writer the element’s writer; a later change from the other system is flagged again', () => {
    const plan = conflicted(blank(), 'm1');
    const { plan: after, conflict, changed } = resolveConflict(plan, plan.conflicts[0]!.id, { chosen: 1, reason: 'Borgeren har skiftet mål' }, { at: at(12), by: 'caseworker:anna' });
    expect(changed).toBe(true);
    expect(after.version).toBe(plan.version + 1);
    expect(after.goals[0]!.title).toBe('Job som maler');
    expect(writerOf(after)).toMatchObject({ kind: 'source', system: 'social' });
    expect(after.goals[0]!.provenance).toHaveLength(2);
    expect(conflict).toMatchObject({ resolvedAt: at(12), resolution: { by: 'caseworker:anna', chosen: 1, reason: 'Borgeren har skiftet mål' } });
    // DFDG changes it again: the person's choice is not overwritten silently.
    const next = mergeFragments(after, [{ fragment: goal('Job som murer'), origin: origin('dfdg', '2'), memberId: 'm1' }], { at: at(13), ruleVersion: 'r' });
    expect(next.conflicts).toBe(1);
    expect(next.plan.goals[0]!.title).toBe('Job som maler');
  });

  it('keeps the content when the current value is chosen, and answers the same choice again as done', () => {
    const plan = conflicted(blank(), 'm1');
    const kept = resolveConflict(plan, plan.conflicts[0]!.id, { chosen: 0 }, { at: at(12), by: 'caseworker:anna' });
    expect(kept.plan.goals[0]).toEqual(plan.goals[0]);
    expect(kept.conflict.resolution).toEqual({ by: 'caseworker:anna', chosen: 0 });
    const again = resolveConflict(kept.plan, plan.conflicts[0]!.id, { chosen: 0 }, { at: at(13), by: 'caseworker:bo' });
    expect(again.changed).toBe(false);
    expect(again.plan).toBe(kept.plan);
  });

  it('refuses another choice after one was made, a value that is not there, an unknown conflict, and a stale one', () => {
    const plan = conflicted(blank(), 'm1');
    const id = plan.conflicts[0]!.id;
    const resolved = resolveConflict(plan, id, { chosen: 0 }, { at: at(12), by: 'a' }).plan;
    expect(problemOf(() => resolveConflict(resolved, id, { chosen: 1 }, { at: at(13), by: 'b' }))).toBe('conflict-resolved');
    expect(problemOf(() => resolveConflict(plan, id, { chosen: 2 }, { at: at(12), by: 'a' }))).toBe('validation-failed');
    expect(problemOf(() => resolveConflict(plan, 'no-such-conflict', { chosen: 0 }, { at: at(12), by: 'a' }))).toBe('not-found');
    // The goal changed after the conflict was flagged by other means than the merge (which re-bases
    // the conflict: see above), e.g. a caseworker's registration: the choice would be blind.
    const moved = Plan.parse({ ...plan, goals: plan.goals.map((g) => ({ ...g, title: 'Job som snedker', provenance: [...g.provenance, { kind: 'registration', registrationId: 'reg-1', actor: 'caseworker:anna', at: at(12) }] })) });
    expect(moved.goals[0]!.title).toBe('Job som snedker');
    expect(problemOf(() => resolveConflict(moved, id, { chosen: 1 }, { at: at(13), by: 'a' }))).toBe('conflict-outdated');
  });

  it('through the API: a caseworker resolves it, audited without the values; others get 403 or 404; bad input 400', async () => {
    const app = await startTestApp();
    const stored = await enrol(app.deps, testCpr());
    const memberId = membersOf(stored)[0]!.memberId;
    const withConflict = Plan.parse({ ...conflicted(stored, memberId), version: stored.version + 1 });
    expect(await app.deps.store.plans.update(withConflict, stored.version)).toBe(true);
    const conflictId = withConflict.conflicts[0]!.id;
    const call = async (body: unknown, claims: { roles: ('caseworker' | 'citizen' | 'it-staff')[]; tenant?: string; citizenId?: string } = { roles: ['caseworker'] }, path = `/v1/plans/${withConflict.id}/conflicts/${encodeURIComponent(conflictId)}/resolve`) => {
      const token = await app.harness.token({ tenant: claims.tenant ?? '101', roles: claims.roles, citizenId: claims.citizenId });
      const response = await app.harness.request(path, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    };
    // The worklist shows it, and the dashboard counts it.
    const worklist = async () => {
      const token = await app.harness.token({ tenant: '101', roles: ['caseworker'] });
      return (await (await app.harness.request('/v1/conflicts', { headers: { authorization: `Bearer ${token}` } })).json()) as { plans: { planId: string; conflicts: unknown[] }[]; nextOffset: number | null };
    };
    expect(await worklist()).toEqual({
      plans: [{ planId: withConflict.id, status: 'active', updatedAt: withConflict.updatedAt, conflicts: [{ id: conflictId, elementId: 'shared:goal:1', fields: ['title'], detectedAt: at(11), writers: ['dfdg', 'social'] }] }],
      nextOffset: null,
    });
    expect((await monitoringOverview(app.deps, '101')).plansWithOpenConflicts).toBe(1);

    expect((await call({ chosen: 1 }, { roles: ['citizen'], citizenId: membersOf(stored)[0]!.citizenId })).status).toBe(403);
    expect((await call({ chosen: 1 }, { roles: ['caseworker'], tenant: '751' })).status).toBe(404);
    expect((await call({ chosen: -1 })).status).toBe(400);
    expect((await call({ chosen: 1, extra: true })).status).toBe(400);
    expect((await call({ chosen: 1 }, { roles: ['caseworker'] }, `/v1/plans/${withConflict.id}/conflicts/nope/resolve`)).status).toBe(404);

    const done = await call({ chosen: 1, reason: 'Aftalt med borgeren' });
    expect(done.status).toBe(200);
    const plan = done.body as unknown as Plan;
    expect(plan.goals[0]!.title).toBe('Job som maler');
    expect(plan.conflicts[0]).toMatchObject({ resolution: { chosen: 1, reason: 'Aftalt med borgeren' } });
    expect((await call({ chosen: 0 })).body).toMatchObject({ type: '/problems/conflict-resolved', status: 409 });
    expect((await worklist()).plans).toEqual([]);
    expect((await monitoringOverview(app.deps, '101')).plansWithOpenConflicts).toBe(0);
    const logged = await app.deps.store.audit.list('101');
    const audit = logged.filter((a) => a.action === 'plan.conflict-resolved');
    expect(audit).toEqual([expect.objectContaining({ targetId: withConflict.id, detail: { conflictId, elementId: 'shared:goal:1', fields: 'title', chosen: 1, chosenWriter: 'social:social-rec', push: true } })]);
    // The settled title went back as one registration (no consent to any target here: routed nowhere).
    const pushed = logged.filter((a) => a.action === 'plan.conflict-pushed');
    expect(pushed).toEqual([expect.objectContaining({ targetId: withConflict.id, detail: { conflictId, pushed: true, registrationId: expect.any(String), targets: [] } })]);
    const registration = await app.deps.store.registrations.get('101', (pushed[0]!.detail as { registrationId: string }).registrationId);
    expect(registration).toMatchObject({ planId: withConflict.id, kind: 'goal.changed' });
    expect(JSON.parse(registration!.document).request).toEqual({ planId: withConflict.id, kind: 'goal.changed', goalId: 'shared:goal:1', changes: { title: 'Job som maler' } });
    expect(plan.goals[0]!.provenance.at(-1)).toMatchObject({ kind: 'registration', registrationId: registration!.id });
    expect(JSON.stringify(audit)).not.toContain('maler');
    await app.close();
  });

  it('a choice is not made while the audit log cannot record it (decision 0025)', async () => {
    const app = await startTestApp();
    const stored = await enrol(app.deps, testCpr());
    const withConflict = Plan.parse({ ...conflicted(stored, membersOf(stored)[0]!.memberId), version: stored.version + 1 });
    expect(await app.deps.store.plans.update(withConflict, stored.version)).toBe(true);
    await app.database.db.run(sql`create trigger audit_outage before insert on audit_log begin select raise(abort, 'the audit log cannot be written'); end`);
    const caseworker = { sub: 'cw-1', tenant: '101', roles: ['caseworker' as const] };
    await expect(planService(app.deps).resolveConflict(caseworker, withConflict.id, withConflict.conflicts[0]!.id, { chosen: 1 })).rejects.toThrow();
    const after = (await app.deps.store.plans.get('101', withConflict.id))!;
    expect(after.version).toBe(withConflict.version);
    expect(after.conflicts[0]!.resolvedAt).toBeUndefined();
    await app.close();
  });

  it('a push that failed after the choice was stored goes out when the same choice is sent again, and only once (R17)', async () => {
    const app = await startTestApp();
    const stored = await enrol(app.deps, testCpr());
    const withConflict = Plan.parse({ ...conflicted(stored, membersOf(stored)[0]!.memberId), version: stored.version + 1 });
    expect(await app.deps.store.plans.update(withConflict, stored.version)).toBe(true);
    const caseworker = { sub: 'cw-1', tenant: '101', roles: ['caseworker' as const] };
    const resolve = () => planService(app.deps).resolveConflict(caseworker, withConflict.id, withConflict.conflicts[0]!.id, { chosen: 1 });
    const pushes = async () => (await app.deps.store.audit.list('101')).filter((a) => a.action === 'plan.conflict-pushed').map((a) => (a.detail as { pushed: boolean }).pushed);
    // The choice is stored; the registration that tells the systems cannot be (a full disk, say).
    await app.database.db.run(sql`create trigger registration_outage before insert on registrations begin select raise(abort, 'the disk is full'); end`);
    try {
      expect((await resolve())!.conflicts[0]).toMatchObject({ resolution: { chosen: 1 } });
    } finally {
      await app.database.db.run(sql`drop trigger registration_outage`);
    }
    expect(await pushes()).toEqual([false]);
    // The caseworker sends the same choice again: the registration goes out now, and a third time changes nothing.
    const again = (await resolve())!;
    expect(await pushes()).toEqual([false, true]);
    await resolve();
    expect(await pushes()).toEqual([false, true]);
    const settled = (await app.deps.store.audit.list('101')).filter((a) => a.action === 'registration.accepted' && (a.detail as { kind: string }).kind === 'goal.changed');
    expect(settled).toHaveLength(1);
    const registration = await app.deps.store.registrations.get('101', settled[0]!.targetId);
    expect(JSON.parse(registration!.document).request).toEqual({ planId: withConflict.id, kind: 'goal.changed', goalId: 'shared:goal:1', changes: { title: 'Job som maler' } });
    expect(again.goals[0]!.provenance.at(-1)).toMatchObject({ kind: 'registration', registrationId: registration!.id });
    await app.close();
  });

  it('with push: false the choice stands and nothing is registered', async () => {
    const app = await startTestApp();
    const stored = await enrol(app.deps, testCpr());
    const withConflict = Plan.parse({ ...conflicted(stored, membersOf(stored)[0]!.memberId), version: stored.version + 1 });
    expect(await app.deps.store.plans.update(withConflict, stored.version)).toBe(true);
    const token = await app.harness.token({ tenant: '101', roles: ['caseworker'] });
    const response = await app.harness.request(`/v1/plans/${withConflict.id}/conflicts/${encodeURIComponent(withConflict.conflicts[0]!.id)}/resolve`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ chosen: 1, push: false }),
    });
    expect(response.status).toBe(200);
    expect(((await response.json()) as Plan).goals[0]).toMatchObject({ title: 'Job som maler', provenance: [expect.anything(), expect.objectContaining({ kind: 'source', system: 'social' })] });
    const [audit] = (await app.deps.store.audit.list('101')).filter((a) => a.action === 'plan.conflict-resolved');
    expect(audit!.detail).toMatchObject({ push: false });
    expect((await app.deps.store.audit.list('101')).some((a) => a.action === 'plan.conflict-pushed')).toBe(false);
    // The only registrations are the plan's status changes when it was set up (accepted, active).
    const registered = (await app.deps.store.audit.list('101')).filter((a) => a.action === 'registration.accepted');
    expect(registered.map((a) => (a.detail as { kind: string }).kind)).toEqual(['plan.status-changed', 'plan.status-changed']);
    await app.close();
  });

  it('registers back only what a change may carry: the conflict’s fields of a goal or an open intervention', () => {
    const plan = conflicted(blank(), 'm1');
    const resolved = resolveConflict(plan, plan.conflicts[0]!.id, { chosen: 1 }, { at: at(12), by: 'a' });
    expect(settledConflictRegistration(resolved.plan, resolved.conflict)).toEqual({ request: { planId: plan.id, kind: 'goal.changed', goalId: 'shared:goal:1', changes: { title: 'Job som maler' } } });
    const onSector = { ...resolved.conflict, field: 'sector' };
    expect(settledConflictRegistration(resolved.plan, onSector)).toEqual({ request: null, reason: expect.stringMatching(/no field of the conflict \(sector\)/) });
    expect(settledConflictRegistration(resolved.plan, { ...resolved.conflict, elementId: 'nowhere' })).toEqual({ request: null, reason: expect.stringMatching(/only goals and interventions/) });
  });
});
