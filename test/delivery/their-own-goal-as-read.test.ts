/**
 * A FHIR system's own Goal changed here, two gaps of the first write (decision 0005, "Later
 * (2026-11-24, session 19): their own Goal compared as the plan read it; our level and topics in
 * their category"):
 * - the first write is compared with their Goal at the version the plan read (`vread`), so a field
 *   they changed after our read and we changed too stays theirs, is named (`keptTheirs`), and the
 *   next pull flags the conflict; where the server no longer has that version, the receipt says so;
 * - a level or topics changed here reaches their `category` (only the codings our pull reads level
 *   and topics from; their other categories stay), and the next pull reads ours back and flags nothing.
 * Against the real social and regional FHIR simulators over HTTP, with the real adapters, relay,
 * reverse and forward mappings, and sync engine; every Goal written is checked with medplum.
 */
import type { Coding, Goal as FhirGoal } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { fhirValidationErrors } from '../../adapters/fhir/definitions';
import { CARE_SOCIAL_SYSTEM, GOAL_CATEGORY_SYSTEM } from '../../adapters/fhir/systems';
import { createSocialAdapter } from '../../adapters/social/adapter';
import { placeInTheirGoal } from '../../mappings/their-goal';
import type { Plan } from '../../src/model';
import { theirGoalsForThisFile, type TheirGoalSystem } from '../support/four-targets';

const { targets, simulatorOf, citizenAt, planOf } = theirGoalsForThisFile();
type System = TheirGoalSystem;
const openConflicts = (plan: Plan, elementId: string) => plan.conflicts.filter((c) => c.elementId === elementId && !c.resolvedAt);
const receiptOf = async (outboxId: string) => {
  const row = await targets().app.deps.store.outbox.get('101', outboxId);
  expect(row, JSON.stringify(row)).toMatchObject({ status: 'delivered' });
  return JSON.parse(row!.receipt!) as Record<string, unknown>;
};

/** The system's own dated goal of the citizen (social: of the social sector), as the plan and the system hold it, and how their caseworker edits it. */
async function theirGoal(system: System, { planId }: { planId: string }, which: (goal: Plan['goals'][number]) => boolean = () => true) {
  const goal = (await planOf(planId)).goals.find((g) => g.id.startsWith(`${system}:goal:`) && g.targetDate && (system === 'health' || g.sector === 'social') && which(g));
  expect(goal, `${system} holds a dated goal of the citizen`).toBeDefined();
  const id = goal!.id.slice(`${system}:goal:`.length);
  const { repository } = simulatorOf(system);
  const read = () => repository.readResource<FhirGoal>('Goal', id);
  const edit = async (change: (goal: FhirGoal) => FhirGoal) => repository.updateResource(change(await read()));
  return { id, elementId: goal!.id, goal: goal!, read, edit };
}

/** The next pull reads their Goal back holding what the plan holds, and flags nothing. */
async function readBackUnchanged(system: System, planId: string, elementId: string, expected: Record<string, unknown>) {
  const run = await targets().sync(system);
  expect(run.stats.conflicts).toBe(0);
  const plan = await planOf(planId);
  expect(plan.goals.find((g) => g.id === elementId)).toMatchObject(expected);
  expect(plan.conflicts).toEqual([]);
}

const earliestDueIndex = (goal: FhirGoal) => {
  const dates = (goal.target ?? []).map((t) => t.dueDate).filter((d): d is string => !!d);
  return (goal.target ?? []).findIndex((t) => t.dueDate === dates.sort()[0]);
};
const codingsOf = (goal: FhirGoal) => (goal.category ?? []).flatMap((c) => c.coding ?? []);
const careSocial = (code: string, display: string): Coding => ({ system: CARE_SOCIAL_SYSTEM, code, display });
const FFB_OWN_GOAL = careSocial('416fe27d-3ccf-4390-8742-8b52a9d8dc78', 'FFB borgers mål og ønsker');
const FFB_SUB_GOAL = careSocial('6746d4af-145a-4bfd-a672-05c0cf11b53b', 'FFB delmål');
const FSIII_CONDITION_GOAL = careSocial('ca552020-6ed1-4cdc-b0d4-32697f1f27ad', 'FSIII tilstandsmål');
const FFB_INTERVENTION_GOAL = careSocial('0bb3daef-538d-45dc-b444-abdbcb63f6bc', 'FFB indsatsmål');
/** A category of theirs our pull reads nothing from (no coding: no sector either). */
const theirCategory = { text: 'Aftalt på netværksmødet' };

describe('the first write into their own Goal is compared with it as the plan read it (R18)', () => {
  it('social: a due date they moved after our read, moved differently here, stays theirs, is named and flagged; our other change lands', { timeout: 60_000 }, async () => {
    const c = await citizenAt('social');
    const goal = await theirGoal('social', c);
    const read = await goal.read();
    const dated = earliestDueIndex(read);
    // Their caseworker moves the date after the plan read their Goal; the plan has not read it since.
    await goal.edit((g) => ({ ...g, target: g.target!.map((t, i) => (i === dated ? { ...t, dueDate: '2027-09-30' } : t)) }));

    const changed = await targets().register({ planId: c.planId, kind: 'goal.changed', goalId: goal.elementId, changes: { targetDate: '2028-01-31', description: 'Borgeren vil bo tæt på sin søster' } });
    await targets().drainDelivered();
    const after = await goal.read();
    expect(after.target![dated]!.dueDate, 'their date stays').toBe('2027-09-30');
    expect(after.note?.map((n) => n.text)).toContain('Borgeren vil bo tæt på sin søster');
    expect(fhirValidationErrors(after)).toEqual([]);
    expect(await receiptOf(changed.deliveries[0]!.outboxId)).toMatchObject({ fieldLevel: true, keptTheirs: [`/target/${dated}/dueDate`] });

    await targets().sync('social');
    const plan = await planOf(c.planId);
    expect(plan.goals.find((g) => g.id === goal.elementId)).toMatchObject({ targetDate: '2028-01-31', description: 'Borgeren vil bo tæt på sin søster' });
    const [conflict, ...more] = openConflicts(plan, goal.elementId);
    expect(more).toEqual([]);
    expect(conflict!.values.map((v) => v.value)).toEqual([{ targetDate: '2028-01-31' }, { targetDate: '2027-09-30' }]);
  });

  it('health: a title the region reworded after our read, reworded differently here, stays the region’s and is flagged', { timeout: 60_000 }, async () => {
    const c = await citizenAt('health');
    const goal = await theirGoal('health', c);
    await goal.edit((g) => ({ ...g, description: { ...g.description, text: 'Regionens nye formulering' } }));

    const changed = await targets().register({ planId: c.planId, kind: 'goal.changed', goalId: goal.elementId, changes: { title: 'Vores nye formulering', targetDate: '2028-02-29' } });
    await targets().drainDelivered();
    const after = await goal.read();
    expect(after.description.text).toBe('Regionens nye formulering');
    expect(after.target!.map((t) => t.dueDate), 'the date, changed only here, lands').toContain('2028-02-29');
    expect(fhirValidationErrors(after)).toEqual([]);
    expect(await receiptOf(changed.deliveries[0]!.outboxId)).toMatchObject({ keptTheirs: ['/description/text'] });

    await targets().sync('health');
    const [conflict, ...more] = openConflicts(await planOf(c.planId), goal.elementId);
    expect(more).toEqual([]);
    expect(conflict!.values.map((v) => v.value)).toEqual([{ title: 'Vores nye formulering' }, { title: 'Regionens nye formulering' }]);
  });

  it('a version the server no longer serves: compared with their Goal as held now, and the receipt says so', { timeout: 60_000 }, async () => {
    const c = await citizenAt('social');
    const goal = await theirGoal('social', c);
    const adapter = createSocialAdapter({ baseUrl: targets().social.baseUrl, timeoutMs: 2000 });
    const current = await goal.read();
    const ours = { resourceType: 'Goal', id: goal.id, lifecycleStatus: current.lifecycleStatus, description: current.description, target: [{ dueDate: '2028-03-31' }] };
    const comparedWith: string[] = [];
    const receipt = await adapter.push(
      {
        operation: 'goal.upsert',
        cpr: c.cpr,
        payload: ours,
        fieldLevel: true,
        seenVersion: 'no-such-version',
        theirRecord: {
          place: (payload, record) => placeInTheirGoal(payload, record),
          placePrevious: (payload, record) => placeInTheirGoal(payload, record),
          asRead: (read, record) => {
            comparedWith.push((read as FhirGoal).meta!.versionId!);
            return placeInTheirGoal({ ...ours, target: [{ dueDate: (read as FhirGoal).target![earliestDueIndex(read as FhirGoal)]!.dueDate }] }, record);
          },
        },
      },
      `gone-${crypto.randomUUID()}`,
    );
    expect(comparedWith, 'their Goal as held now').toEqual([current.meta!.versionId]);
    expect(receipt).toMatchObject({ fieldLevel: true, seenVersionUnavailable: 'no-such-version' });
    expect((await goal.read()).target![earliestDueIndex(current)]!.dueDate).toBe('2028-03-31');
  });
});

describe('a level or topics changed here reaches their category (R17)', () => {
  it('social: a topic added here becomes their goal category, one removed leaves it; their other categories stay; read back, nothing is flagged', { timeout: 60_000 }, async () => {
    const c = await citizenAt('social');
    const goal = await theirGoal('social', c, (g) => !g.topics.includes('condition-goal') && !g.topics.includes('citizens-own-goal'));
    await goal.edit((g) => ({ ...g, category: [...(g.category ?? []), theirCategory] }));
    await targets().sync('social');
    const before = await goal.read();
    const topics = (await planOf(c.planId)).goals.find((g) => g.id === goal.elementId)!.topics;
    // KL's category codings come before the goal types of their targets, as the pull reads them.
    const [fromCategory, ...fromGoalTypes] = topics;
    expect(fromCategory).toBe('intervention-goal');

    const added = [fromCategory!, 'condition-goal', ...fromGoalTypes];
    await targets().register({ planId: c.planId, kind: 'goal.changed', goalId: goal.elementId, changes: { topics: added } });
    await targets().drainDelivered();
    const withTopic = await goal.read();
    expect(withTopic.category).toEqual([...before.category!, { coding: [FSIII_CONDITION_GOAL] }]);
    expect(withTopic.target).toEqual(before.target);
    expect(fhirValidationErrors(withTopic)).toEqual([]);
    await readBackUnchanged('social', c.planId, goal.elementId, { topics: added, level: 'sub', sector: 'social' });

    // The intervention-goal topic removed: its coding goes, their text category stays, and the goal is still a sub-goal to KL.
    const removed = ['condition-goal', ...fromGoalTypes];
    await targets().register({ planId: c.planId, kind: 'goal.changed', goalId: goal.elementId, changes: { topics: removed } });
    await targets().drainDelivered();
    const without = await goal.read();
    expect(codingsOf(without)).not.toContainEqual(expect.objectContaining({ code: FFB_INTERVENTION_GOAL.code }));
    expect(without.category).toContainEqual(theirCategory);
    expect(codingsOf(without)).toContainEqual(FSIII_CONDITION_GOAL);
    expect(fhirValidationErrors(without)).toEqual([]);
    await readBackUnchanged('social', c.planId, goal.elementId, { topics: removed, level: 'sub', sector: 'social' });
  });

  it('social: their goal made a sub-goal there, settled for our overall goal, says overall again; read back, nothing new is flagged', { timeout: 60_000 }, async () => {
    const c = await citizenAt('social');
    const goal = await theirGoal('social', c, (g) => g.level === 'sub' && !g.topics.includes('citizens-own-goal'));
    // Their Goal is the citizen's own (overall) goal, with a category of theirs beside it; read so here.
    await goal.edit((g) => ({ ...g, category: [{ coding: [FFB_OWN_GOAL] }, theirCategory] }));
    await targets().sync('social');
    const overall = (await planOf(c.planId)).goals.find((g) => g.id === goal.elementId)!;
    expect(overall).toMatchObject({ level: 'overall' });
    expect(overall.topics[0]).toBe('citizens-own-goal');
    // We change its date; they then make it a sub-goal: the pull flags level and topics.
    await targets().register({ planId: c.planId, kind: 'goal.changed', goalId: goal.elementId, changes: { targetDate: '2028-04-30' } });
    await targets().drainDelivered();
    await goal.edit((g) => ({ ...g, category: [{ coding: [FFB_SUB_GOAL] }, theirCategory] }));
    await targets().sync('social');
    const [conflict, ...more] = openConflicts(await planOf(c.planId), goal.elementId);
    expect(more).toEqual([]);
    expect(conflict!.field.split(',')).toEqual(['level', 'topics']);

    const token = await targets().app.harness.token({ tenant: '101', roles: ['caseworker'] });
    const settled = await targets().app.harness.request(`/v1/plans/${c.planId}/conflicts/${encodeURIComponent(conflict!.id)}/resolve`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ chosen: 0, reason: 'borgerens eget mål' }),
    });
    expect(settled.status).toBe(200);
    await targets().drainDelivered();
    const after = await goal.read();
    expect(codingsOf(after)).toContainEqual(expect.objectContaining({ system: CARE_SOCIAL_SYSTEM, code: expect.stringMatching(/^(416fe27d|ffb9886b)/) }));
    expect(codingsOf(after)).not.toContainEqual(expect.objectContaining({ code: FFB_SUB_GOAL.code }));
    expect(after.category).toContainEqual(theirCategory);
    expect(fhirValidationErrors(after)).toEqual([]);
    await targets().sync('social');
    const plan = await planOf(c.planId);
    expect(plan.goals.find((g) => g.id === goal.elementId)).toMatchObject({ level: 'overall', topics: overall.topics, targetDate: '2028-04-30' });
    expect(openConflicts(plan, goal.elementId)).toEqual([]);
  });

  it('health: a topic added here becomes an HL7 goal category beside theirs; read back, nothing is flagged', { timeout: 60_000 }, async () => {
    const c = await citizenAt('health');
    const goal = await theirGoal('health', c, (g) => !g.topics.includes('nutrition'));
    const regional = { coding: [{ system: 'http://regionh.dk/fhir/CodeSystem/maaltype', code: 'behandlingsmaal', display: 'Behandlingsmål' }] };
    await goal.edit((g) => ({ ...g, category: [...(g.category ?? []), regional] }));
    await targets().sync('health');
    const before = await goal.read();
    const topics = (await planOf(c.planId)).goals.find((g) => g.id === goal.elementId)!.topics;
    expect(topics[0]).toBe('health');

    const added = [...topics, 'nutrition'];
    await targets().register({ planId: c.planId, kind: 'goal.changed', goalId: goal.elementId, changes: { topics: added } });
    await targets().drainDelivered();
    const after = await goal.read();
    expect(after.category).toEqual([...before.category!, { coding: [{ system: GOAL_CATEGORY_SYSTEM, code: 'dietary', display: 'Dietary' }] }]);
    expect(fhirValidationErrors(after)).toEqual([]);
    await readBackUnchanged('health', c.planId, goal.elementId, { topics: added, level: 'sub', sector: 'health' });
  });
});
