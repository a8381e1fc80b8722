/**
 * The cheaper helpers of the FHIR mappings give what the code they replaced gave (kept here as the
 * reference): reference ids found without splitting, unread fields reported straight into the
 * notes, the notes' ignored-field list, goal-topic look-ups without "system|code" keys, and the
 * CareTeam's work phone and e-mail. Then, on generated records, every social and health mapping
 * reports exactly the ignored fields the old `ignoredFields` calls reported.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ignoredFields, referencedId, unreadFieldReporter } from '../../adapters/fhir/fhir-values';
import { isEmail, MappingNotesCollector } from '../../adapters/fhir/mapping-support';
import { CARE_TEAM_ROLE_SYSTEM } from '../../adapters/fhir/systems';
import { generateHealthRecords } from '../../adapters/health/records';
import { generateSocialRecords } from '../../adapters/social/records';
import { healthMappingsByRecordType } from '../../mappings/health';
import { runMapping } from '../../mappings/mapping';
import { socialMappingsByRecordType } from '../../mappings/social';
import { Coordinator } from '../../src/model';
import { coordinatorFromCareTeam } from '../../mappings/social/careteam';
import { goalCategoryRule, goalTopics, topicsForGoalType } from '../../mappings/social/codes';

const context = { now: '2026-07-01T00:00:00Z', ruleVersion: 'rules-2026.11' };

describe('the FHIR mapping helpers', () => {
  it('referencedId finds what split("/") and lastIndexOf found (property, with awkward references)', () => {
    const bySplit = (ref: string | undefined, type: string) => {
      if (!ref) return undefined;
      const parts = ref.split('/');
      const at = parts.lastIndexOf(type);
      if (at < 0 || at + 1 >= parts.length) return undefined;
      return parts[at + 1] || undefined;
    };
    const segment = fc.constantFrom('Goal', 'Go', 'al', '', 'x', 'Goal/', '/', 'G/oal', 'https:', 'fhir.example');
    const reference = fc.oneof(fc.array(segment, { maxLength: 7 }).map((s) => s.join('/')), fc.string());
    fc.assert(
      fc.property(reference, fc.constantFrom('Goal', '', 'x', 'al', 'G', 'Organization'), (ref, type) => {
        expect(referencedId({ reference: ref }, type)).toBe(bySplit(ref, type));
      }),
      { numRuns: 20_000 },
    );
    expect(referencedId({ reference: 'https://fhir.example/Goal/abc/_history/2' }, 'Goal')).toBe('abc');
    expect(referencedId(undefined, 'Goal')).toBeUndefined();
  });

  it('unreadFieldReporter reports, into the notes, exactly what ignoredFields listed (property)', () => {
    const key = fc.constantFrom('resourceType', 'id', 'meta', 'text', 'status', 'subject', 'period', 'note', 'b', 'a', 'Z', '__proto__x', 'toString');
    fc.assert(
      fc.property(fc.dictionary(key, fc.anything(), { maxKeys: 8 }), fc.array(key, { maxLength: 5 }), fc.array(fc.string(), { maxLength: 2 }), (record, used, earlier) => {
        const notes = new MappingNotesCollector();
        for (const field of earlier) notes.ignoreField(field);
        unreadFieldReporter('Goal', used)(record, notes);
        // The second record of a type is named from the reporter's memory.
        const again = new MappingNotesCollector();
        const report = unreadFieldReporter('Goal', used);
        report(record, new MappingNotesCollector());
        report(record, again);
        expect(notes.ignoredFields).toEqual([...new Set([...earlier, ...ignoredFields(record, used, 'Goal')])].sort());
        expect(again.ignoredFields).toEqual(ignoredFields(record, used, 'Goal'));
      }),
      { numRuns: 1_000 },
    );
  });

  it('the notes list each ignored field once, sorted, and a later note does not change a list handed out', () => {
    const notes = new MappingNotesCollector();
    expect(notes.ignoredFields).toEqual([]);
    notes.ignore('b', 'a', 'b');
    const first = notes.ignoredFields;
    notes.ignoreField('0');
    expect(first).toEqual(['a', 'b']);
    expect(notes.ignoredFields).toEqual(['0', 'a', 'b']);
    expect(notes.fail('x', 'y').ignoredFields).toEqual(['0', 'a', 'b']);
  });

  it('goal-topic look-ups by system and code give what the "system|code" maps gave', () => {
    const typeTopics = new Map(goalTopics.goalTypes.map((g) => [`${g.system}|${g.code}`, g.topics]));
    const categoryRules = new Map(goalTopics.goalCategories.map((g) => [`${g.system}|${g.code}`, g]));
    const systems = [...new Set([...goalTopics.goalTypes, ...goalTopics.goalCategories].map((g) => g.system)), undefined, 'urn:other', ''];
    const codes = [...new Set([...goalTopics.goalTypes, ...goalTopics.goalCategories].map((g) => g.code)), undefined, 'undefined', 'x'];
    for (const system of systems)
      for (const code of codes) {
        expect(topicsForGoalType(system, code)).toEqual(typeTopics.get(`${system}|${code}`) ?? []);
        expect(goalCategoryRule(system, code)).toBe(categoryRules.get(`${system}|${code}`));
      }
  });

  it('a CareTeam e-mail is kept exactly when the model would accept it (property)', () => {
    const address = fc.tuple(fc.string({ maxLength: 8 }), fc.constantFrom('@', '@@', ''), fc.string({ maxLength: 8 }), fc.constantFrom('.dk', '.d', '..dk', '.com', '')).map((parts) => parts.join(''));
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.emailAddress(), address), (value) => {
        expect(isEmail(value)).toBe(Coordinator.shape.email.safeParse(value).success);
      }),
      { numRuns: 5_000 },
    );
    expect(isEmail(undefined)).toBe(false);
  });

  it('a CareTeam’s phone and e-mail are the first work ones, else the first ones, as the stable sort chose them (property)', () => {
    type Telecom = { system?: 'phone' | 'email' | 'fax'; value?: string; use?: 'work' | 'home' };
    const bySort = (telecom: readonly Telecom[], system: string) =>
      telecom.filter((t) => t.system === system && t.value).sort((a, b) => Number(b.use === 'work') - Number(a.use === 'work'))[0]?.value;
    const telecom = fc.record(
      { system: fc.constantFrom('phone', 'email', 'fax'), value: fc.constantFrom('', '+45 1', '+45 2', 'a@b.dk', 'c@d.dk', 'not a mail'), use: fc.constantFrom('work', 'home') },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(fc.array(telecom, { maxLength: 5 }), (list) => {
        const team = { resourceType: 'CareTeam' as const, id: 't', name: 'Team', subject: { reference: 'Patient/p' }, period: { start: '2026-01-01' }, telecom: list };
        const result = coordinatorFromCareTeam(team, 'social', 'coordinating-caseworker', new MappingNotesCollector());
        const content = 'content' in result ? (result.content as { phone?: string; email?: string }) : undefined;
        expect(content?.phone).toBe(bySort(list, 'phone') || undefined);
        const email = bySort(list, 'email');
        expect(content?.email).toBe(isEmail(email) ? email : undefined);
      }),
      { numRuns: 1_000 },
    );
    const coordinated = coordinatorFromCareTeam(
      {
        resourceType: 'CareTeam',
        id: 't',
        subject: { reference: 'Patient/p' },
        period: { start: '2026-01-01' },
        participant: [{ role: [{ coding: [{ system: CARE_TEAM_ROLE_SYSTEM, code: 'x' }], text: 'Koordinerende sagsbehandler' }], member: { display: 'Mette Holm' } }],
      },
      'social',
      'coordinating-caseworker',
      new MappingNotesCollector(),
    );
    expect('content' in coordinated && coordinated.content?.kind).toBe('caseworker');
  });
});

describe('the social and health mappings on generated records', () => {
  /** The fields each mapping read before, as its `ignoredFields` call listed them. */
  const readBefore: Record<string, { prefix: string; used: string[] }> = {
    'social.careplan': { prefix: 'CarePlan', used: ['status', 'subject', 'period', 'created', 'activity'] },
    'social.goal': { prefix: 'Goal', used: ['lifecycleStatus', 'achievementStatus', 'category', 'description', 'subject', 'target'] },
    'social.condition': { prefix: 'Condition', used: ['clinicalStatus', 'verificationStatus', 'severity', 'code', 'subject'] },
    'social.careteam': { prefix: 'CareTeam', used: ['status', 'name', 'subject', 'period', 'participant', 'managingOrganization', 'telecom'] },
    'health.careplan': { prefix: 'CarePlan', used: ['status', 'category', 'title', 'subject', 'period', 'created', 'author', 'activity'] },
    'health.goal': { prefix: 'Goal', used: ['lifecycleStatus', 'achievementStatus', 'category', 'description', 'subject', 'target'] },
    'health.careteam': { prefix: 'CareTeam', used: ['status', 'name', 'subject', 'period', 'participant', 'managingOrganization', 'telecom'] },
    'health.consent': { prefix: 'Consent', used: [] },
  };
  const detailRead = ['extension', 'code', 'status', 'scheduledPeriod', 'performer', 'goal', 'description'];

  it('report the same top-level and activity fields as ignored as before, with one extra unread field each', () => {
    const sources = [
      { records: generateSocialRecords(500, 4), mappings: socialMappingsByRecordType },
      { records: generateHealthRecords(500, 4), mappings: healthMappingsByRecordType },
    ];
    let checked = 0;
    for (const { records, mappings } of sources)
      for (const { recordType, resource } of records) {
        // An extra unread field at the top and in every activity's detail.
        const record = JSON.parse(JSON.stringify(resource)) as Record<string, unknown> & { activity?: { detail?: Record<string, unknown> }[] };
        record.language = 'da';
        for (const activity of record.activity ?? []) if (activity.detail) activity.detail.doNotPerform = false;
        const mapping = mappings[recordType]!;
        const result = runMapping(mapping, record, context);
        expect(result.ok, mapping.id).toBe(true);
        const { prefix, used } = readBefore[mapping.id]!;
        const expected = new Set(ignoredFields(record, used, prefix));
        for (const activity of record.activity ?? []) if (activity.detail) for (const f of ignoredFields(activity.detail, detailRead, 'CarePlan.activity.detail')) expected.add(f);
        for (const field of result.ignoredFields) if (!field.startsWith(`${prefix}.`) || field.includes('(')) expected.add(field);
        expect(result.ignoredFields).toEqual([...expected].sort());
        expect(result.ignoredFields).toContain(`${prefix}.language`);
        checked++;
      }
    expect(checked).toBe(1_000);
  });
});
