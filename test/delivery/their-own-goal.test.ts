/**
 * All of a change here reaches a FHIR system's own Goal, and nothing of theirs is lost (R17, R18;
 * decision 0005, "Later (2026-11-24, session 19): all of our change reaches their own Goal"): a new
 * target date moves the due date the pull reads, a description arrives as a note marked as ours, their
 * other targets, notes and identifiers stay, and an achieved goal set back to active no longer says
 * achieved. The next pull reads each back as the same goal, with no conflict. Against the real social
 * and regional FHIR simulators over HTTP, with the real adapters, relay, reverse and forward mappings.
 */
import type { Goal as FhirGoal, Identifier } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { fhirValidationErrors } from '../../adapters/fhir/definitions';
import { createHealthAdapter } from '../../adapters/health/adapter';
import { createSocialAdapter } from '../../adapters/social/adapter';
import { ENPLAN_NOTE_EXTENSION } from '../../mappings/their-goal';
import { theirGoalsForThisFile, type TheirGoalSystem } from '../support/four-targets';

const { targets, simulatorOf, citizenAt, planOf } = theirGoalsForThisFile();
type System = TheirGoalSystem;

/** The system's own goal of the citizen (one with a target date), as the plan and the system hold it, and how their caseworker edits it. */
async function theirGoal(system: System, { planId, cpr }: { planId: string; cpr: string }) {
  const goal = (await planOf(planId)).goals.find((g) => g.id.startsWith(`${system}:goal:`) && g.targetDate && (system === 'health' || g.sector === 'social'));
  expect(goal, `${system} holds a dated goal of the citizen`).toBeDefined();
  const id = goal!.id.slice(`${system}:goal:`.length);
  const { repository } = simulatorOf(system);
  const read = () => repository.readResource<FhirGoal>('Goal', id);
  const edit = async (change: (goal: FhirGoal) => FhirGoal) => repository.updateResource(change(await read()));
  const adapter = (system === 'social' ? createSocialAdapter : createHealthAdapter)({ baseUrl: simulatorOf(system).baseUrl, timeoutMs: 2000 });
  const goalsThere = async () => (await adapter.pull({ citizenId: 'c', cpr })).records.filter((r) => r.recordType === 'Goal').length;
  return { elementId: goal!.id, read, edit, goalsThere };
}

/** The next pull reads their Goal back as the same goal, holding what the plan holds, and flags nothing. */
async function readBackUnchanged(system: System, planId: string, elementId: string, expected: Record<string, unknown>) {
  const goalsHere = (await planOf(planId)).goals.length;
  const run = await targets().sync(system);
  expect(run.stats.conflicts).toBe(0);
  const plan = await planOf(planId);
  expect(plan.goals).toHaveLength(goalsHere);
  expect(plan.goals.find((g) => g.id === elementId)).toMatchObject(expected);
  expect(plan.conflicts).toEqual([]);
}

const theirIdentifier: Identifier = { system: 'urn:kl:sagsnummer', value: 'SAG-2026-0417' };
const theirNote = { text: 'Drøftet på netværksmødet', authorString: 'Socialrådgiver' };
const achievedCoding = { system: 'http://terminology.hl7.org/CodeSystem/goal-achievement', code: 'achieved', display: 'Achieved' };
const ourNote = (text: string) => ({ extension: [{ url: ENPLAN_NOTE_EXTENSION, valueBoolean: true }], text });

describe('a change here of a FHIR system’s own Goal reaches it whole (R17, R18)', () => {
  it('social: a new target date moves the due date they hold, a description arrives as our note; their targets, notes and identifiers stay', { timeout: 60_000 }, async () => {
    const c = await citizenAt('social');
    const goal = await theirGoal('social', c);
    // Their caseworker files the goal under their case and writes a note.
    await goal.edit((g) => ({ ...g, identifier: [...(g.identifier ?? []), theirIdentifier], note: [...(g.note ?? []), theirNote] }));
    await targets().sync('social');
    const before = await goal.read();
    const countBefore = await goal.goalsThere();

    const moved = await targets().register({ planId: c.planId, kind: 'goal.changed', goalId: goal.elementId, changes: { targetDate: '2028-02-29' } });
    expect(moved.deliveries.map((d) => d.target)).toEqual(['social']);
    await targets().drainDelivered();
    const dated = await goal.read();
    expect(dated.target, 'the dated target moved, their goal-type target kept').toEqual(before.target!.map((t) => (t.dueDate ? { ...t, dueDate: '2028-02-29' } : t)));
    // Nothing else: their targets in words are the goal's description here, not a note to send back.
    const { target: _t, meta: _m, ...rest } = before;
    expect(dated).toMatchObject(rest);
    expect(dated.note).toEqual(before.note);
    expect(dated.identifier).toEqual(before.identifier);
    expect(fhirValidationErrors(dated)).toEqual([]);
    expect(await goal.goalsThere(), 'no second Goal there').toBe(countBefore);
    await readBackUnchanged('social', c.planId, goal.elementId, { targetDate: '2028-02-29' });

    // A description here arrives as a note marked as ours, after theirs.
    await targets().register({ planId: c.planId, kind: 'goal.changed', goalId: goal.elementId, changes: { description: 'Borgeren vil bo tæt på sin søster' } });
    await targets().drainDelivered();
    const described = await goal.read();
    expect(described.note).toEqual([theirNote, ourNote('Borgeren vil bo tæt på sin søster')]);
    expect(described.target).toEqual(dated.target);
    expect(fhirValidationErrors(described)).toEqual([]);
    await readBackUnchanged('social', c.planId, goal.elementId, { targetDate: '2028-02-29', description: 'Borgeren vil bo tæt på sin søster' });

    // They add a note; our next description replaces our note in place, theirs stay, none twice.
    const laterNote = { text: 'Søsteren er kontaktet' };
    await goal.edit((g) => ({ ...g, note: [...(g.note ?? []), laterNote] }));
    await targets().sync('social');
    await targets().register({ planId: c.planId, kind: 'goal.changed', goalId: goal.elementId, changes: { description: 'Borgeren vil bo tæt på sin søster i Valby', targetDate: '2028-06-30' } });
    await targets().drainDelivered();
    const again = await goal.read();
    expect(again.note).toEqual([theirNote, ourNote('Borgeren vil bo tæt på sin søster i Valby'), laterNote]);
    expect(again.target).toEqual(before.target!.map((t) => (t.dueDate ? { ...t, dueDate: '2028-06-30' } : t)));
    expect(again.identifier).toEqual(before.identifier);
    expect(fhirValidationErrors(again)).toEqual([]);
    expect(await goal.goalsThere()).toBe(countBefore);
    await readBackUnchanged('social', c.planId, goal.elementId, { targetDate: '2028-06-30', description: 'Borgeren vil bo tæt på sin søster i Valby' });
  });

  it('social: a goal they marked achieved, set back to active here, no longer says achieved there; marked achieved again, it says so', { timeout: 60_000 }, async () => {
    const c = await citizenAt('social');
    const goal = await theirGoal('social', c);
    await goal.edit((g) => ({ ...g, lifecycleStatus: 'completed', achievementStatus: { coding: [achievedCoding] } }));
    await targets().sync('social');
    expect((await planOf(c.planId)).goals.find((g) => g.id === goal.elementId)).toMatchObject({ status: 'achieved' });
    const before = await goal.read();

    await targets().register({ planId: c.planId, kind: 'goal.changed', goalId: goal.elementId, changes: { status: 'active' } });
    await targets().drainDelivered();
    const reopened = await goal.read();
    expect(reopened.lifecycleStatus).toBe('active');
    expect(reopened.achievementStatus, 'an achievement status saying achieved contradicts an active goal').toBeUndefined();
    const { lifecycleStatus: _l, achievementStatus: _a, meta: _m, ...rest } = before;
    expect(reopened).toMatchObject(rest);
    expect(fhirValidationErrors(reopened)).toEqual([]);
    await readBackUnchanged('social', c.planId, goal.elementId, { status: 'active' });

    // Their caseworker records progress; marked achieved here, it says achieved, not in progress.
    await goal.edit((g) => ({ ...g, achievementStatus: { coding: [{ system: achievedCoding.system, code: 'in-progress' }] } }));
    await targets().sync('social');
    await targets().register({ planId: c.planId, kind: 'goal.changed', goalId: goal.elementId, changes: { status: 'achieved' } });
    await targets().drainDelivered();
    const achieved = await goal.read();
    expect(achieved.lifecycleStatus).toBe('completed');
    expect(achieved.achievementStatus?.coding?.map((k) => k.code)).toEqual(['achieved']);
    expect(fhirValidationErrors(achieved)).toEqual([]);
    await readBackUnchanged('social', c.planId, goal.elementId, { status: 'achieved' });
  });

  it('health: a new target date moves the due date the region holds, its measured target and note stay; set back to active, it no longer says achieved', { timeout: 60_000 }, async () => {
    const c = await citizenAt('health');
    const goal = await theirGoal('health', c);
    const measured = { measure: { text: 'HbA1c' }, detailString: 'under 53 mmol/mol', dueDate: '2029-06-30' };
    const regionNote = { text: 'Aftalt ved udskrivelsen' };
    await goal.edit((g) => ({ ...g, lifecycleStatus: 'completed', achievementStatus: { coding: [achievedCoding] }, target: [...(g.target ?? []), measured], note: [regionNote] }));
    await targets().sync('health');
    const before = await goal.read();
    const countBefore = await goal.goalsThere();

    await targets().register({ planId: c.planId, kind: 'goal.changed', goalId: goal.elementId, changes: { targetDate: '2028-03-31', status: 'active' } });
    await targets().drainDelivered();
    const after = await goal.read();
    expect(after.target).toEqual([...before.target!.slice(0, -1).map((t) => ({ ...t, dueDate: '2028-03-31' })), measured]);
    expect(after.note).toEqual([regionNote]);
    expect(after).toMatchObject({ lifecycleStatus: 'active', category: before.category, description: before.description });
    expect(after.achievementStatus).toBeUndefined();
    expect(fhirValidationErrors(after)).toEqual([]);
    expect(await goal.goalsThere()).toBe(countBefore);
    await readBackUnchanged('health', c.planId, goal.elementId, { targetDate: '2028-03-31', status: 'active' });
  });
});
