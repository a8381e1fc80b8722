/**
 * Where our goal sits in a Goal a FHIR system made itself (`placeInTheirGoal`, decision 0005, session
 * 19): the cases the simulators' records do not reach — several dated targets, none dated, a status
 * pair of theirs that already reads as ours, an achievement of theirs that does not contradict ours.
 */
import { describe, expect, it } from 'vitest';
import { ENPLAN_NOTE_EXTENSION, placeInTheirGoal } from '../../mappings/their-goal';

const achievement = (code: string) => ({ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/goal-achievement', code }] });
const ours = (changes: Record<string, unknown> = {}) => ({
  resourceType: 'Goal',
  identifier: [{ system: 'http://enplan.example/fhir/sid/element', value: 'social:goal:g1' }],
  lifecycleStatus: 'active',
  category: [{ coding: [{ system: 'http://fhir.kl.dk/term/CodeSystem/CareSocialCodes', code: 'delmaal' }] }],
  description: { text: 'Bo i egen bolig' },
  target: [{ dueDate: '2027-05-01' }],
  ...changes,
});
const theirs = (changes: Record<string, unknown> = {}) => ({ resourceType: 'Goal', id: 'g1', lifecycleStatus: 'active', description: { text: 'Bo i egen bolig' }, ...changes });

describe('placeInTheirGoal', () => {
  it('moves every target holding the earliest due date (what the pull reads), leaves later ones, and never carries our identifier or category', () => {
    const targets = [{ measure: { text: 'A' }, dueDate: '2026-09-01' }, { measure: { text: 'B' }, dueDate: '2027-01-01' }, { measure: { text: 'C' }, dueDate: '2026-09-01' }];
    const placed = placeInTheirGoal(ours(), theirs({ target: targets })) as Record<string, unknown>;
    expect(placed.target).toEqual([{ measure: { text: 'A' }, dueDate: '2027-05-01' }, targets[1], { measure: { text: 'C' }, dueDate: '2027-05-01' }]);
    expect(placed).not.toHaveProperty('identifier');
    expect(placed).not.toHaveProperty('category');
  });

  it('appends our dated target when none of theirs has a due date, and leaves their targets alone when we have no date', () => {
    const undated = [{ measure: { text: 'Måltype' }, detailString: 'Udvikle' }];
    expect((placeInTheirGoal(ours(), theirs({ target: undated })) as { target: unknown }).target).toEqual([...undated, { dueDate: '2027-05-01' }]);
    const { target: _t, ...withoutDate } = ours();
    expect(placeInTheirGoal(withoutDate, theirs({ target: undated }))).not.toHaveProperty('target');
  });

  it('keeps their status pair where it reads as ours; where not, ours, with only an achievement that contradicts it dropped', () => {
    expect(placeInTheirGoal(ours(), theirs({ lifecycleStatus: 'on-hold', achievementStatus: achievement('improving') }))).toMatchObject({ lifecycleStatus: 'on-hold', achievementStatus: achievement('improving') });
    const reopened = placeInTheirGoal(ours(), theirs({ lifecycleStatus: 'completed', achievementStatus: achievement('achieved') }));
    expect(reopened).toMatchObject({ lifecycleStatus: 'active' });
    expect(Object.entries(reopened)).toContainEqual(['achievementStatus', undefined]);
    expect(placeInTheirGoal(ours({ lifecycleStatus: 'cancelled' }), theirs({ achievementStatus: achievement('no-progress') }))).toMatchObject({ lifecycleStatus: 'cancelled', achievementStatus: achievement('no-progress') });
    expect(placeInTheirGoal(ours({ lifecycleStatus: 'completed', achievementStatus: achievement('achieved') }), theirs({ achievementStatus: achievement('in-progress') }))).toMatchObject({
      lifecycleStatus: 'completed',
      achievementStatus: achievement('achieved'),
    });
  });

  it('writes our description into the note marked as ours, in place with their members kept, or after theirs; without one, ours goes', () => {
    const mine = { extension: [{ url: ENPLAN_NOTE_EXTENSION, valueBoolean: true }], text: 'Gammel', time: '2026-03-01' };
    const theirNote = { text: 'Deres' };
    expect((placeInTheirGoal(ours({ note: [{ text: 'Ny' }] }), theirs({ note: [mine, theirNote] })) as { note: unknown }).note).toEqual([{ ...mine, text: 'Ny' }, theirNote]);
    expect((placeInTheirGoal(ours({ note: [{ text: 'Ny' }] }), theirs({ note: [theirNote] })) as { note: unknown }).note).toEqual([theirNote, { extension: mine.extension, text: 'Ny' }]);
    expect((placeInTheirGoal(ours(), theirs({ note: [mine, theirNote] })) as { note: unknown }).note).toEqual([theirNote]);
    expect(placeInTheirGoal(ours(), theirs({ note: [theirNote] }))).not.toHaveProperty('note');
  });
});
