/**
 * A caseworker's `goal.changed` that changes a goal's level reaches the FHIR systems' own Goals the
 * way a settled conflict's level does (decision 0005, "our level and topics in their category"): KL's
 * goal category coding that says the level takes the place of the one that said the old level, their
 * other categories stay, and the next pull reads the same level back and flags nothing. A category
 * they changed too stays theirs, is named in the receipt and flagged by the next pull. The region's
 * Goals carry no level (they are all sub-goals to it): its Goal is left as it is, and the plan keeps ours.
 * Against the real social and regional FHIR simulators over HTTP, with the real adapters, relay,
 * reverse and forward mappings, and sync engine.
 */
import type { Coding, Goal as FhirGoal } from '@medplum/fhirtypes';
import { beforeAll, describe, expect, it } from 'vitest';
import { fhirValidationErrors } from '../../adapters/fhir/definitions';
import { CARE_SOCIAL_SYSTEM } from '../../adapters/fhir/systems';
import type { DataCategory, Plan } from '../../src/model';
import { fourTargetsForThisFile, type FourTargets } from '../support/four-targets';

const setUp = fourTargetsForThisFile();
let targets: FourTargets;
beforeAll(() => {
  targets = setUp.targets();
});

type System = 'social' | 'health';
const readCategories: Record<System, DataCategory[]> = { social: ['plan-core', 'social', 'goals', 'interventions'], health: ['health'] };
const planOf = async (planId: string) => (await targets.app.deps.store.plans.get('101', planId))!;
const openConflicts = (plan: Plan, elementId: string) => plan.conflicts.filter((c) => c.elementId === elementId && !c.resolvedAt);
const receiptOf = async (outboxId: string) => {
  const row = await targets.app.deps.store.outbox.get('101', outboxId);
  expect(row, JSON.stringify(row)).toMatchObject({ status: 'delivered' });
  return JSON.parse(row!.receipt!) as Record<string, unknown>;
};

/** The system's own dated goal of the citizen (social: of the social sector), and how their caseworker edits it. */
async function theirGoal(system: System, planId: string, which: (goal: Plan['goals'][number]) => boolean = () => true) {
  const goal = (await planOf(planId)).goals.find((g) => g.id.startsWith(`${system}:goal:`) && g.targetDate && (system === 'health' || g.sector === 'social') && which(g));
  expect(goal, `${system} holds a dated goal of the citizen`).toBeDefined();
  const { repository } = system === 'social' ? targets.social : targets.health;
  const read = () => repository.readResource<FhirGoal>('Goal', goal!.id.slice(`${system}:goal:`.length));
  const edit = async (change: (goal: FhirGoal) => FhirGoal) => repository.updateResource(change(await read()));
  return { elementId: goal!.id, read, edit };
}

/** The next pull reads their Goal back holding what the plan holds, and flags nothing. */
async function readBackUnchanged(system: System, planId: string, elementId: string, expected: Record<string, unknown>) {
  const run = await targets.sync(system);
  expect(run.stats.conflicts).toBe(0);
  const plan = await planOf(planId);
  expect(plan.goals.find((g) => g.id === elementId)).toMatchObject(expected);
  expect(plan.conflicts).toEqual([]);
}

const careSocial = (code: string, display: string): Coding => ({ system: CARE_SOCIAL_SYSTEM, code, display });
const FFB_OWN_GOAL = careSocial('416fe27d-3ccf-4390-8742-8b52a9d8dc78', 'FFB borgers mål og ønsker');
const FFB_SUB_GOAL = careSocial('6746d4af-145a-4bfd-a672-05c0cf11b53b', 'FFB delmål');
const FSIII_CONDITION_GOAL = careSocial('ca552020-6ed1-4cdc-b0d4-32697f1f27ad', 'FSIII tilstandsmål');
/** A category of theirs our pull reads nothing from. */
const theirCategory = { text: 'Aftalt på netværksmødet' };

/** A social Goal of theirs filed as an FFB sub-goal, read so into the plan: its level and topics there. */
async function socialSubGoal() {
  const { planId } = await targets.citizenReadFrom('social', readCategories.social);
  const goal = await theirGoal('social', planId, (g) => !g.topics.includes('citizens-own-goal'));
  await goal.edit((g) => ({ ...g, category: [{ coding: [FFB_SUB_GOAL] }, theirCategory] }));
  await targets.sync('social');
  const read = (await planOf(planId)).goals.find((g) => g.id === goal.elementId)!;
  expect(read).toMatchObject({ level: 'sub' });
  return { planId, goal, topics: read.topics };
}

describe('a level changed by a registration reaches their category (R1, R17)', () => {
  it('social: a sub-goal made the citizen’s own overall goal says so in KL’s category, and back again; read back, nothing is flagged', { timeout: 60_000 }, async () => {
    const { planId, goal, topics } = await socialSubGoal();
    const before = await goal.read();

    // KL files the citizen's own goal under "FFB borgers mål og ønsker", which is also the topic citizens-own-goal.
    const overallTopics = ['citizens-own-goal', ...topics];
    const made = await targets.register({ planId, kind: 'goal.changed', goalId: goal.elementId, changes: { level: 'overall', topics: overallTopics } });
    expect(made.deliveries.map((d) => d.target)).toEqual(['social']);
    await targets.drainDelivered();
    const overall = await goal.read();
    expect(overall.category, 'the level coding in place of the sub-goal one; theirs stays').toEqual([{ coding: [FFB_OWN_GOAL] }, theirCategory]);
    const { category: _c, meta: _m, ...rest } = before;
    expect(overall).toMatchObject(rest);
    expect(fhirValidationErrors(overall)).toEqual([]);
    await readBackUnchanged('social', planId, goal.elementId, { level: 'overall', topics: overallTopics });

    await targets.register({ planId, kind: 'goal.changed', goalId: goal.elementId, changes: { level: 'sub', topics } });
    await targets.drainDelivered();
    const sub = await goal.read();
    expect(sub.category).toEqual([{ coding: [FFB_SUB_GOAL] }, theirCategory]);
    expect(fhirValidationErrors(sub)).toEqual([]);
    await readBackUnchanged('social', planId, goal.elementId, { level: 'sub', topics });
  });

  it('social: a category they changed after our read, while the level changed here, stays theirs, is named and flagged', { timeout: 60_000 }, async () => {
    const { planId, goal, topics } = await socialSubGoal();
    // Their caseworker files it as a condition goal after the plan read it; the plan has not read it since.
    const theirs = [{ coding: [FSIII_CONDITION_GOAL] }, theirCategory];
    await goal.edit((g) => ({ ...g, category: theirs }));

    const made = await targets.register({ planId, kind: 'goal.changed', goalId: goal.elementId, changes: { level: 'overall', topics: ['citizens-own-goal', ...topics] } });
    await targets.drainDelivered();
    const after = await goal.read();
    expect(after.category, 'their category stays').toEqual(theirs);
    expect(fhirValidationErrors(after)).toEqual([]);
    const receipt = await receiptOf(made.deliveries[0]!.outboxId);
    expect(receipt).toMatchObject({ fieldLevel: true });
    expect(receipt.keptTheirs, 'the coding both sides changed').toEqual(['/category/0/coding/0/code', '/category/0/coding/0/display']);

    await targets.sync('social');
    const plan = await planOf(planId);
    expect(plan.goals.find((g) => g.id === goal.elementId)).toMatchObject({ level: 'overall' });
    const [conflict, ...more] = openConflicts(plan, goal.elementId);
    expect(more).toEqual([]);
    // Their level (sub) is what the plan read before: only the topics differ on both sides. Settling it
    // for ours sends the whole goal, level included (decision 0005).
    expect(conflict!.field).toBe('topics');
    expect(conflict!.values.map((v) => v.value)).toEqual([{ topics: ['citizens-own-goal', ...topics] }, { topics: ['condition-goal', ...topics] }]);
  });

  it('health: the region’s Goals carry no level; its Goal is left as it is and the plan keeps ours, nothing flagged', { timeout: 60_000 }, async () => {
    const { planId } = await targets.citizenReadFrom('health', readCategories.health);
    const goal = await theirGoal('health', planId, (g) => !g.parentGoalId);
    const before = await goal.read();
    await targets.register({ planId, kind: 'goal.changed', goalId: goal.elementId, changes: { level: 'overall' } });
    await targets.drainDelivered();
    const after = await goal.read();
    const { meta: _before, ...held } = before;
    const { meta: _after, ...now } = after;
    expect(now).toEqual(held);
    await readBackUnchanged('health', planId, goal.elementId, { level: 'overall' });
  });
});
