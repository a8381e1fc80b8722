/**
 * `goal.changed` may change a goal's level (R1; decision 0005 left it out): the plan's goal takes the
 * new level with the registration's provenance, and what goes out carries it. The goal hierarchy's
 * rules (`planIntegrityProblems`) decide what may change: an overall goal has no parent (its parent
 * is taken away with `parentGoalId: null`), a parent must be in the plan and must not hang under the
 * goal itself. A change that breaks one is answered 400 naming the changed field, and nothing is stored.
 */
import { count, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { outbox, registrations } from '../../src/store/schema';
import { startPushFixture, type PushFixture } from './fixture';

let f: PushFixture;
beforeAll(async () => {
  f = await startPushFixture();
});
afterAll(() => f.close());

const countRows = async (table: typeof outbox | typeof registrations) => (await f.deps.store.database.db.select({ n: count() }).from(table).where(eq(table.tenant, '101')))[0]!.n;
const readPlan = async (id: string) => (await f.call('GET', `/v1/plans/${id}`)).body;
const goalOf = async (planId: string, goalId: string) => (await readPlan(planId)).goals.find((g: { id: string }) => g.id === goalId);

/** A plan holding an overall goal with a sub-goal under it, and a sub-goal under that (all employment). */
async function planWithHierarchy() {
  const plan = await f.createPlan();
  await f.grantAll(plan.citizenId);
  const add = async (goal: Record<string, unknown>) => {
    const answer = await f.register({ planId: plan.id, kind: 'goal.added', goal: { sector: 'employment', topics: ['job-goal'], ...goal } });
    expect(answer.status, JSON.stringify(answer.body)).toBe(202);
    return answer.body.elementId as string;
  };
  const top = await add({ level: 'overall', title: 'Job' });
  const sub = await add({ level: 'sub', title: 'Kørekort', parentGoalId: top });
  const step = await add({ level: 'progression', title: 'Teoriprøve', parentGoalId: sub });
  return { plan, top, sub, step };
}

describe('goal.changed changes a goal’s level (R1)', () => {
  it('a sub-goal made a progression goal: the plan holds the new level, provenance of the registration, and the outbound goal carries it', async () => {
    const { plan, sub } = await planWithHierarchy();
    const changed = await f.register({ planId: plan.id, kind: 'goal.changed', goalId: sub, changes: { level: 'progression' } });
    expect(changed.status, JSON.stringify(changed.body)).toBe(202);
    const goal = await goalOf(plan.id, sub);
    expect(goal).toMatchObject({ level: 'progression', title: 'Kørekort', parentGoalId: expect.any(String) });
    expect(goal.provenance.at(-1)).toMatchObject({ kind: 'registration', registrationId: changed.body.id });
    const rows = await f.deps.store.outbox.forRegistration('101', changed.body.id);
    expect(rows.map((r) => r.target)).toEqual(['dfdg']);
    expect(JSON.parse(rows[0]!.payload!).outbound.element.goal).toMatchObject({ id: sub, level: 'progression' });
  });

  it('a sub-goal made the overall goal, its parent taken away (parentGoalId: null); the goals under it stay under it', async () => {
    const { plan, sub, step } = await planWithHierarchy();
    const changed = await f.register({ planId: plan.id, kind: 'goal.changed', goalId: sub, changes: { level: 'overall', parentGoalId: null } });
    expect(changed.status, JSON.stringify(changed.body)).toBe(202);
    const goal = await goalOf(plan.id, sub);
    expect(goal.level).toBe('overall');
    expect(goal).not.toHaveProperty('parentGoalId');
    expect(await goalOf(plan.id, step)).toMatchObject({ level: 'progression', parentGoalId: sub });
  });

  it('an overall goal other goals hang under made a sub-goal under another overall goal: nothing under it is orphaned', async () => {
    const { plan, top, sub } = await planWithHierarchy();
    const other = await f.register({ planId: plan.id, kind: 'goal.added', goal: { level: 'overall', title: 'Bolig', sector: 'employment' } });
    const changed = await f.register({ planId: plan.id, kind: 'goal.changed', goalId: top, changes: { level: 'sub', parentGoalId: other.body.elementId } });
    expect(changed.status, JSON.stringify(changed.body)).toBe(202);
    expect(await goalOf(plan.id, top)).toMatchObject({ level: 'sub', parentGoalId: other.body.elementId });
    expect(await goalOf(plan.id, sub)).toMatchObject({ parentGoalId: top });
  });
});

describe('a level change the goal hierarchy forbids is refused with 400, naming the field, and nothing is stored', () => {
  const cases: [string, (ids: Awaited<ReturnType<typeof planWithHierarchy>>) => { goalId: string; changes: Record<string, unknown> }, string, RegExp][] = [
    ['an overall goal that keeps its parent', ({ sub }) => ({ goalId: sub, changes: { level: 'overall' } }), 'changes.level', /an overall goal has no parent goal.*parentGoalId: null/],
    ['an overall goal given a parent', ({ sub, top }) => ({ goalId: sub, changes: { level: 'overall', parentGoalId: top } }), 'changes.parentGoalId', /an overall goal has no parent goal/],
    ['a sub-goal under a goal not in the plan', ({ top }) => ({ goalId: top, changes: { level: 'sub', parentGoalId: 'ghost' } }), 'changes.parentGoalId', /unknown parent goal ghost/],
    ['a sub-goal under a goal that hangs under it', ({ top, step }) => ({ goalId: top, changes: { level: 'sub', parentGoalId: step } }), 'changes.parentGoalId', /go round in a circle/],
    ['a level that is none of the model’s', ({ sub }) => ({ goalId: sub, changes: { level: 'milestone' } }), 'changes.level', /./],
  ];

  it.each(cases)('%s', async (_name, make, path, message) => {
    const ids = await planWithHierarchy();
    const before = { regs: await countRows(registrations), rows: await countRows(outbox), plan: await readPlan(ids.plan.id) };
    const answer = await f.register({ planId: ids.plan.id, kind: 'goal.changed', ...make(ids) });
    expect(answer.status, JSON.stringify(answer.body)).toBe(400);
    expect(answer.body.type).toBe('/problems/validation-failed');
    expect(answer.body.errors).toContainEqual({ path, message: expect.stringMatching(message) });
    expect({ regs: await countRows(registrations), rows: await countRows(outbox), plan: await readPlan(ids.plan.id) }).toEqual(before);
  });
});

describe('OpenAPI', () => {
  it('lists level (and parentGoalId, null to take the parent away) among a goal change’s fields', async () => {
    const doc = (await (await f.app.harness.request('/openapi.json')).json()) as Record<string, unknown>;
    const body = (doc as { paths: Record<string, { post: { requestBody: { content: Record<string, { schema: unknown }> } } }> }).paths['/v1/registrations']!.post.requestBody.content['application/json']!.schema;
    const resolve = (schema: unknown): Record<string, unknown> => {
      const ref = (schema as { $ref?: string }).$ref;
      return ref ? (ref.slice(2).split('/').reduce((at: Record<string, unknown>, key) => at[key] as Record<string, unknown>, doc) as Record<string, unknown>) : (schema as Record<string, unknown>);
    };
    const variants = ((resolve(body).oneOf ?? resolve(body).anyOf) as unknown[]).map(resolve);
    const goalChanged = variants.find((v) => JSON.stringify((v.properties as Record<string, unknown>).kind).includes('"goal.changed"'))!;
    const changes = resolve((goalChanged.properties as Record<string, unknown>).changes);
    const fields = changes.properties as Record<string, unknown>;
    expect(JSON.stringify(resolve(fields.level))).toContain('"progression"');
    expect(JSON.stringify(fields.parentGoalId)).toContain('null');
  });
});
