/**
 * A field both sides changed is flagged, not overwritten (R18; decision 0005, "Later … session 19"):
 * the region edits a Goal we made there, a caseworker here changes the same field, and the field-level
 * write leaves the region's value, says so in the receipt and the audit, and the next pull flags the
 * conflict on the plan; a person's choice then reaches the region. Against the real regional FHIR
 * simulator over HTTP, with the real adapter, relay, reverse and forward mappings, and sync engine.
 */
import type { Goal as RegionGoal } from '@medplum/fhirtypes';
import { beforeAll, describe, expect, it } from 'vitest';
import type { SectorSimulator } from '../../adapters/social/simulator';
import type { Plan } from '../../src/model';
import { fourTargetsForThisFile, type FourTargets } from '../support/four-targets';
import type { startTestApp } from '../support/node-app';

let health: SectorSimulator;
let app: Awaited<ReturnType<typeof startTestApp>>;
const setUp = fourTargetsForThisFile();
const { clock } = setUp;
let targets: FourTargets;
beforeAll(() => {
  targets = setUp.targets();
  ({ health, app } = targets);
});

/** An active plan for a citizen the region knows, with consent to push everywhere and to read the region, read once. */
const citizenAtRegion = () => targets!.citizenReadFrom('health', ['health']);

async function call(method: string, path: string, body?: unknown, key?: string) {
  clock.advance(60_000);
  const token = await app.harness.token({ tenant: '101', roles: ['caseworker'] });
  const headers: Record<string, string> = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  if (key) headers['idempotency-key'] = key;
  const response = await app.harness.request(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  return { status: response.status, body: (await response.json()) as any };
}

async function register(body: Record<string, unknown>) {
  const answer = await call('POST', '/v1/registrations', body, `both-${crypto.randomUUID()}`);
  expect(answer.status, JSON.stringify(answer.body)).toBe(202);
  return answer.body as { id: string; elementId: string; deliveries: { target: string; outboxId: string }[] };
}

const planOf = async (planId: string) => (await app.deps.store.plans.get('101', planId))!;
const openConflicts = (plan: Plan, elementId: string) => plan.conflicts.filter((c) => c.elementId === elementId && !c.resolvedAt);
const receiptOf = async (outboxId: string) => {
  const row = await app.deps.store.outbox.get('101', outboxId);
  expect(row, JSON.stringify(row)).toMatchObject({ status: 'delivered' });
  return JSON.parse(row!.receipt!) as { targetId: string; version: string; fieldLevel?: boolean; keptTheirs?: string[] };
};

/** Our goal, delivered to the region and read back from it; the Goal there and how to edit it as the region. */
async function goalAtRegion(planId: string) {
  const goal = await register({ planId, kind: 'goal.added', goal: { level: 'sub', title: 'Stabil medicinering', sector: 'health', status: 'proposed', description: 'Aftalt med borgeren' } });
  await targets!.drainDelivered();
  await targets!.sync('health');
  const goalId = (await receiptOf(goal.deliveries[0]!.outboxId)).targetId;
  const read = () => health.repository.readResource<RegionGoal>('Goal', goalId);
  const edit = async (change: (goal: RegionGoal) => RegionGoal) => health.repository.updateResource(change(await read()));
  return { elementId: goal.elementId, read, edit };
}

const theirTitle = 'Stabil medicinering, som aftalt med egen læge';
const theirNote = { text: 'Regionens note: medicingennemgang i februar' };

describe('a field the region and a caseworker both changed (R18)', () => {
  it('stays the region’s, is named in the receipt and the audit and flagged on the plan; the other field lands; settled for ours, ours reaches the region; their note survives', { timeout: 60_000 }, async () => {
    const c = await citizenAtRegion();
    const goal = await goalAtRegion(c.planId);
    // The region's caseworker rewords the goal and adds a note of their own.
    await goal.edit((g) => ({ ...g, description: { ...g.description, text: theirTitle }, note: [...(g.note ?? []), theirNote] }));

    // Here, before the region's change is read: the title differently, and the status.
    const changed = await register({ planId: c.planId, kind: 'goal.changed', goalId: goal.elementId, changes: { title: 'Stabil medicinering hjemme', status: 'active' } });
    await targets!.drainDelivered();
    const afterPush = await goal.read();
    expect(afterPush, 'their title stays, our status lands').toMatchObject({ description: { text: theirTitle }, lifecycleStatus: 'active' });
    expect(afterPush.note).toContainEqual(theirNote);
    const receipt = await receiptOf(changed.deliveries[0]!.outboxId);
    expect(receipt).toMatchObject({ fieldLevel: true, keptTheirs: ['/description/text'], version: afterPush.meta!.versionId });
    const audited = (await app.deps.store.audit.list('101', { citizenId: c.citizenId })).filter((r) => r.action === 'delivery.delivered' && r.targetId === changed.deliveries[0]!.outboxId);
    expect(audited.map((r) => r.detail.keptTheirs)).toEqual([['/description/text']]);

    // The next pull reads their title: a conflict for a person, our value kept here meanwhile.
    await targets!.sync('health');
    const flagged = await planOf(c.planId);
    expect(flagged.goals.find((g) => g.id === goal.elementId)).toMatchObject({ title: 'Stabil medicinering hjemme', status: 'active' });
    const [conflict, ...more] = openConflicts(flagged, goal.elementId);
    expect(more).toEqual([]);
    expect(conflict!.field.split(',')).toEqual(['title']);
    expect(conflict!.values.map((v) => v.value)).toEqual([{ title: 'Stabil medicinering hjemme' }, { title: theirTitle }]);
    expect(conflict!.values[1]!.provenance.at(-1)).toMatchObject({ kind: 'source', system: 'health' });
    // A change of another field meanwhile does not overwrite their title either.
    await register({ planId: c.planId, kind: 'goal.changed', goalId: goal.elementId, changes: { targetDate: '2027-06-30' } });
    await targets!.drainDelivered();
    expect(await goal.read()).toMatchObject({ description: { text: theirTitle }, target: [{ dueDate: '2027-06-30' }] });

    // A person chooses ours: it reaches the region, and the region's note is still there.
    const settled = await call('POST', `/v1/plans/${c.planId}/conflicts/${encodeURIComponent(conflict!.id)}/resolve`, { chosen: 0, reason: 'aftalt med borgeren' });
    expect(settled.status, JSON.stringify(settled.body)).toBe(200);
    await targets!.drainDelivered();
    expect(await goal.read()).toMatchObject({ description: { text: 'Stabil medicinering hjemme' }, lifecycleStatus: 'active' });
    expect((await goal.read()).note).toContainEqual(theirNote);

    // Our next change to the note array keeps the entry the region added.
    await register({ planId: c.planId, kind: 'goal.changed', goalId: goal.elementId, changes: { description: 'Aftalt med borger og pårørende' } });
    await targets!.drainDelivered();
    expect((await goal.read()).note).toEqual([{ text: 'Aftalt med borger og pårørende' }, theirNote]);
    await targets!.sync('health');
    expect(openConflicts(await planOf(c.planId), goal.elementId)).toEqual([]);
  });

  it('flagged by the pull before our write, it stays theirs; settled for theirs, nothing overwrites it', { timeout: 60_000 }, async () => {
    const c = await citizenAtRegion();
    const goal = await goalAtRegion(c.planId);
    await goal.edit((g) => ({ ...g, description: { ...g.description, text: theirTitle } }));
    const changed = await register({ planId: c.planId, kind: 'goal.changed', goalId: goal.elementId, changes: { title: 'Stabil medicinering hjemme' } });
    await targets!.sync('health');
    const [conflict] = openConflicts(await planOf(c.planId), goal.elementId);
    expect(conflict?.values.map((v) => v.value)).toEqual([{ title: 'Stabil medicinering hjemme' }, { title: theirTitle }]);

    await targets!.drainDelivered();
    expect(await goal.read()).toMatchObject({ description: { text: theirTitle } });
    expect(await receiptOf(changed.deliveries[0]!.outboxId)).toMatchObject({ keptTheirs: ['/description/text'] });

    const settled = await call('POST', `/v1/plans/${c.planId}/conflicts/${encodeURIComponent(conflict!.id)}/resolve`, { chosen: 1 });
    expect(settled.status, JSON.stringify(settled.body)).toBe(200);
    await targets!.drainDelivered();
    expect(await goal.read()).toMatchObject({ description: { text: theirTitle } });
    await targets!.sync('health');
    const plan = await planOf(c.planId);
    expect(plan.goals.find((g) => g.id === goal.elementId)).toMatchObject({ title: theirTitle });
    expect(openConflicts(plan, goal.elementId)).toEqual([]);
  });

  it('a change here made after the region’s change was read is no conflict: ours is written', { timeout: 60_000 }, async () => {
    const c = await citizenAtRegion();
    const goal = await goalAtRegion(c.planId);
    await goal.edit((g) => ({ ...g, description: { ...g.description, text: theirTitle } }));
    await targets!.sync('health');
    expect((await planOf(c.planId)).goals.find((g) => g.id === goal.elementId)).toMatchObject({ title: theirTitle });

    const changed = await register({ planId: c.planId, kind: 'goal.changed', goalId: goal.elementId, changes: { title: 'Stabil medicinering, ny aftale' } });
    await targets!.drainDelivered();
    expect(await goal.read()).toMatchObject({ description: { text: 'Stabil medicinering, ny aftale' } });
    expect(await receiptOf(changed.deliveries[0]!.outboxId)).not.toHaveProperty('keptTheirs');
    await targets!.sync('health');
    expect((await planOf(c.planId)).conflicts).toEqual([]);
  });
});
