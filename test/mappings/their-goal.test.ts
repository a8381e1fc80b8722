/**
 * Where our goal sits in a Goal a FHIR system made itself (`placeInTheirGoal`, decision 0005, session
 * 19): the cases the simulators' records do not reach — several dated targets, none dated, a status
 * pair of theirs that already reads as ours, an achievement of theirs that does not contradict ours.
 */
import { describe, expect, it } from 'vitest';
import { CARE_SOCIAL_SYSTEM, GOAL_CATEGORY_SYSTEM } from '../../adapters/fhir/systems';
import { categoryScheme, ENPLAN_NOTE_EXTENSION, healthGoalCategoryScheme, placeInTheirGoal, socialGoalCategoryScheme } from '../../mappings/their-goal';
import { socialGoalMapping } from '../../mappings/social/goal';

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

  describe('our level and topics in their category (only the codings the pull reads them from)', () => {
    const kl = (code: string, display: string) => ({ system: CARE_SOCIAL_SYSTEM, code, display });
    const ownGoal = kl('416fe27d-3ccf-4390-8742-8b52a9d8dc78', 'FFB borgers mål og ønsker');
    const subGoal = kl('6746d4af-145a-4bfd-a672-05c0cf11b53b', 'FFB delmål');
    const interventionGoal = kl('0bb3daef-538d-45dc-b444-abdbcb63f6bc', 'FFB indsatsmål');
    const conditionGoal = kl('ca552020-6ed1-4cdc-b0d4-32697f1f27ad', 'FSIII tilstandsmål');
    // The pull reads a Goal of the contract only: it has a subject.
    const theirsRead = (changes: Record<string, unknown>) => theirs({ subject: { reference: 'Patient/p1' }, ...changes }) as ReturnType<typeof theirs> & { category?: unknown[] };
    const social = (category: unknown[]) => theirsRead({ category, target: [{ dueDate: '2027-05-01' }] });
    const placeSocial = (record: object, level: 'overall' | 'sub' | 'progression', topics: string[]) =>
      (placeInTheirGoal(ours(), record, { ours: { level, topics }, scheme: socialGoalCategoryScheme }) as { category?: unknown[] }).category;

    it('a sub-goal made overall: their sub-goal coding gives way in place, their other codings and categories stay', () => {
      const record = social([{ coding: [subGoal, { system: CARE_SOCIAL_SYSTEM, code: interventionGoal.code, display: 'x' }] }, { text: 'Deres' }]);
      expect(placeSocial(record, 'overall', ['citizens-own-goal', 'intervention-goal'])).toEqual([{ coding: [ownGoal, { system: CARE_SOCIAL_SYSTEM, code: interventionGoal.code, display: 'x' }] }, { text: 'Deres' }]);
    });

    it('an overall goal made a sub-goal with no topic of a category: KL still files it, as a sub-goal', () => {
      expect(placeSocial(social([{ coding: [ownGoal], text: 'Borgerens eget' }]), 'sub', [])).toEqual([{ coding: [subGoal], text: 'Borgerens eget' }]);
    });

    it('what the pull would not read back as ours leaves their category as it is: a topic no category carries, an overall goal without its topic, an order it cannot read, a progression goal', () => {
      const record = social([{ coding: [interventionGoal] }]);
      expect(placeSocial(record, 'sub', ['intervention-goal', 'housing'])).toBe(record.category);
      expect(placeSocial(record, 'overall', ['intervention-goal'])).toBe(record.category);
      const typed = theirsRead({ category: [{ coding: [interventionGoal] }], target: [{ detailCodeableConcept: { coding: [{ system: 'urn:oid:1.2.208.176.2.22', code: 'd41c8072-52f8-42b5-9375-ddbea454d27f' }] } }] });
      expect(placeSocial(typed, 'sub', ['develop-functioning', 'intervention-goal', 'condition-goal'])).toBe(typed.category);
      expect(placeSocial(typed, 'sub', ['intervention-goal', 'condition-goal', 'develop-functioning'])).toEqual([{ coding: [interventionGoal] }, { coding: [conditionGoal] }]);
      expect(placeSocial(record, 'progression', ['intervention-goal'])).toBe(record.category);
    });

    it('a region’s goal: HL7 goal categories for our topics, theirs of other systems kept; "health" always first, as the pull reads it', () => {
      const region = { system: 'http://region.example/goal-kind', code: 'behandling' };
      const record = theirsRead({ category: [{ coding: [region, { system: GOAL_CATEGORY_SYSTEM, code: 'behavioral', display: 'Behavioral' }] }] });
      const placed = (topics: string[]) => (placeInTheirGoal(ours(), record, { ours: { level: 'sub', topics }, scheme: healthGoalCategoryScheme }) as { category?: unknown[] }).category;
      expect(placed(['health', 'nutrition'])).toEqual([{ coding: [region, { system: GOAL_CATEGORY_SYSTEM, code: 'dietary', display: 'Dietary' }] }]);
      expect(placed(['nutrition', 'health'])).toBe(record.category);
    });

    it('refuses a placement the pull would read as another sector (R9): the sector is theirs to decide', () => {
      const unlisted = { system: 'urn:oid:1.2.208.176.2.4', code: 'DF32', display: 'not a KL code', topics: ['mood'] };
      const scheme = categoryScheme([...socialGoalCategoryScheme.codings, unlisted], socialGoalMapping);
      expect(() => placeInTheirGoal(ours(), social([{ coding: [interventionGoal] }]), { ours: { level: 'sub', topics: ['intervention-goal', 'mood'] }, scheme })).toThrow(/read as a health goal, not social/);
    });
  });
});
