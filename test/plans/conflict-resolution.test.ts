/**
 * A conflict the merge flagged is settled by a person (issue 4): the chosen value stands, its
 * writer writes the element from then on, and the conflict stays on the plan, resolved, with who
 * chose what. Refused: another choice after one was made, a choice that is not a value, and a
 * conflict whose element changed since it was flagged.
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
import { enrol } from '../support/seed';
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
const problemOf = (f: () => unknown) => {
  try {
    f();
  } catch (error) {
    if (error instanceof ProblemError) return error.problemType;
    throw error;
  }
  return 'none';
};

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
    // DFDG (the writer) changed the goal after the conflict was flagged: the choice would be blind.
    const moved = mergeFragments(plan, [{ fragment: goal('Job som snedker'), origin: origin('dfdg', '2'), memberId: 'm1' }], { at: at(12), ruleVersion: 'r' }).plan;
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
