/**
 * The Ungedatabasen / KUI mappings: golden fixtures (a changed output fails), unknown codes (mapped
 * for programmes and activity types, failed for event types and statuses), ignored fields,
 * contract failures, reverse mappings, and property tests that no mapping throws.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { EducationEventPayload, EducationPlanUpdatePayload, generateEducationRecordXml, readEducationRecordXml } from '../../adapters/education';
import { Fragment, type Goal, type Intervention } from '../../src/model';
import { runMapping, type Mapping, type MappingResult } from '../../mappings/mapping';
import {
  educationEventMapping,
  educationEventReverseMapping,
  educationGoalReverseMapping,
  educationMappings,
  educationProgrammes,
  educationReverseMappings,
  educationPlanMapping,
  planActivityReverseMapping,
  planActivityTypes,
  planFollowUpReverseMapping,
} from '../../mappings/education';
import { goldenCases as findGoldenCases } from '../support/golden';

const context = { now: '2026-07-01T00:00:00Z', ruleVersion: 'rules-2026.11' };
const fixtures = join(import.meta.dirname, '../fixtures/education');
const mappingFor = (recordType: string) => educationMappings[recordType as keyof typeof educationMappings] as Mapping<unknown>;

function payloadOf(xml: string): Record<string, unknown> {
  const decoded = readEducationRecordXml(xml);
  if (!decoded.ok) throw new Error(decoded.quarantined.reason);
  return decoded.record.payload as Record<string, unknown>;
}
const fixturePayload = (folder: string, name: string) => payloadOf(readFileSync(join(fixtures, folder, `${name}.input.xml`), 'utf8'));

const goldenCases = findGoldenCases(fixtures, '.input.xml').map((c) => [c.folder, c.name] as const);

describe('Ungedatabasen golden fixtures', () => {
  it('has fixtures for every mapping', () => {
    expect(new Set(goldenCases.map(([folder]) => folder))).toEqual(new Set(Object.keys(educationMappings)));
  });

  it.each(goldenCases)('%s / %s maps to exactly its expected output', (folder, name) => {
    const expected = JSON.parse(readFileSync(join(fixtures, folder, `${name}.expected.json`), 'utf8')) as MappingResult;
    expect(runMapping(mappingFor(folder), fixturePayload(folder, name), context)).toEqual(expected);
  });
});

describe('Ungedatabasen mappings', () => {
  it('are registered per record type, versioned, with modelled code lists that say so', () => {
    expect(Object.values(educationMappings).map((m) => [m.id, m.recordType, m.version])).toEqual([
      ['education.plan', 'education-plan', '1.0.0'],
      ['education.event', 'education-event', '1.0.0'],
    ]);
    for (const mapping of Object.values(educationMappings)) for (const list of mapping.codeLists) expect(list.origin).toMatch(/^MODELLED/);
  });

  it('maps every record the simulator generates into valid fragments', () => {
    for (const generated of generateEducationRecordXml(2_000, { seed: 23 })) {
      const result = runMapping(mappingFor(generated.recordType), payloadOf(generated.xml), context);
      expect(result.ok).toBe(true);
      if (result.ok) for (const fragment of result.fragments) expect(fragment.elementId).toMatch(/^education:[a-z-]+:[0-9a-f-]{36}$/);
    }
  });

  it('folds all events of one course onto one intervention whose status follows the event', () => {
    const admitted = fixturePayload('education-event', 'admitted');
    const started = { ...admitted, HaendelseNummer: 48999, HaendelseKode: 'PAABEGYNDT', HaendelseDato: '2026-08-10' };
    const completed = { ...admitted, HaendelseNummer: 61000, HaendelseKode: 'FULDFOERT', HaendelseDato: '2029-06-20' };
    const results = [admitted, started, completed].map((event) => runMapping(educationEventMapping, event, context));
    const fragments = results.map((r) => (r.ok ? r.fragments[0]! : undefined));
    expect(new Set(fragments.map((f) => f?.elementId))).toEqual(new Set(['education:course:0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d']));
    expect(fragments.map((f) => f?.kind === 'intervention' && [f.content.status, f.content.period, f.content.topics])).toEqual([
      ['planned', { start: '2026-08-10' }, []],
      ['active', { start: '2026-08-10' }, []],
      ['ended', { start: '2026-08-10', end: '2029-06-20' }, ['education-completed']],
    ]);
  });

  it('keeps a course withdrawn before its start without an end, so its period stays valid', () => {
    const withdrawn = { ...fixturePayload('education-event', 'admitted'), HaendelseKode: 'UDMELDT', HaendelseDato: '2026-07-01' };
    const result = runMapping(educationEventMapping, withdrawn, context);
    expect(result.ok && result.fragments[0]!.content).toMatchObject({ status: 'cancelled', period: { start: '2026-08-10' } });
  });

  it('fails an unknown event type (it sets the status) and maps an unknown programme as "ukendt kode"', () => {
    const unknownType = { ...fixturePayload('education-event', 'admitted'), HaendelseKode: 'ORLOV' };
    expect(runMapping(educationEventMapping, unknownType, context)).toMatchObject({ ok: false, ruleId: 'event.type', unknownCodes: [{ code: 'ORLOV' }] });
    const unknownProgramme = { ...fixturePayload('education-event', 'admitted'), UddannelseKode: 'PILOT' };
    const result = runMapping(educationEventMapping, unknownProgramme, context);
    expect(result.unknownCodes).toEqual([{ system: educationProgrammes.system, code: 'PILOT' }]);
    expect(result.ok && result.fragments[0]!.content).toMatchObject({ type: { code: 'PILOT', display: 'ukendt kode' }, legalBasis: 'KUI' });
  });

  it('fails an unknown activity status and an activity that ends before it starts, each on its rule', () => {
    const plan = fixturePayload('education-plan', 'plan') as { PlanlagtAktivitet: Record<string, unknown>[] };
    const unknownStatus = structuredClone(plan);
    unknownStatus.PlanlagtAktivitet[1]!.AktivitetStatus = 'PAUSE';
    expect(runMapping(educationPlanMapping, unknownStatus, context)).toMatchObject({ ok: false, ruleId: 'plan.activity-status', reason: expect.stringMatching(/planned activity 2/) });
    const backwards = structuredClone(plan);
    backwards.PlanlagtAktivitet[0]!.SlutDato = '2025-01-01';
    expect(runMapping(educationPlanMapping, backwards, context)).toMatchObject({ ok: false, ruleId: 'plan.activity-period' });
  });

  it('fails wrong types and invalid CPR numbers on the contract', () => {
    const event = fixturePayload('education-event', 'admitted');
    expect(runMapping(educationEventMapping, { ...event, CPRNr: '3102061234' }, context)).toMatchObject({ ok: false, ruleId: 'contract', reason: expect.stringMatching(/^CPRNr: /) });
    expect(runMapping(educationEventMapping, { ...event, HaendelseNummer: 'et' }, context)).toMatchObject({ ok: false, ruleId: 'contract', reason: expect.stringMatching(/^HaendelseNummer: /) });
    expect(runMapping(educationPlanMapping, { ...fixturePayload('education-plan', 'plan'), Uddannelsesmaal: 'EUD' }, context)).toMatchObject({ ok: false, ruleId: 'contract' });
  });

  it('never throws on arbitrary input, and yields only valid fragments from perturbed records (property)', () => {
    for (const mapping of Object.values(educationMappings) as Mapping<unknown>[]) {
      fc.assert(
        fc.property(fc.anything(), (input) => {
          expect(typeof runMapping(mapping, input, context).ok).toBe('boolean');
        }),
        { numRuns: 500 },
      );
    }
    const samples = [
      { mapping: educationPlanMapping as Mapping<unknown>, payload: fixturePayload('education-plan', 'plan') },
      { mapping: educationEventMapping as Mapping<unknown>, payload: fixturePayload('education-event', 'dropout') },
    ];
    for (const { mapping, payload } of samples) {
      const keys = Object.keys(payload);
      fc.assert(
        fc.property(fc.constantFrom(...keys), fc.oneof(fc.string(), fc.constant(''), fc.constant({}), fc.constant([]), fc.integer()), (key, value) => {
          const result = runMapping(mapping, { ...structuredClone(payload), [key]: value }, context);
          if (result.ok) for (const fragment of result.fragments) expect(Fragment.safeParse(fragment).success).toBe(true);
        }),
        { numRuns: 500 },
      );
    }
  });
});

describe('Ungedatabasen reverse mappings', () => {
  const fragmentsOf = (folder: string, name: string) => {
    const result = runMapping(mappingFor(folder), fixturePayload(folder, name), context);
    if (!result.ok) throw new Error(result.reason);
    return result.fragments.map((f) => ({ id: f.elementId, ...f.content }));
  };

  it('are registered by id with the push operation each produces', () => {
    expect(Object.fromEntries(Object.values(educationReverseMappings).map((m) => [m.id, m.operation]))).toEqual({
      'education.plan-goal.reverse': 'education-plan.update',
      'education.plan-activity.reverse': 'education-plan.update',
      'education.plan-follow-up.reverse': 'education-plan.update',
      'education.event.reverse': 'education-event.register',
    });
  });

  it('turns a planned measure from the plan back into the same activity (round trip)', () => {
    const [, activity] = fragmentsOf('education-plan', 'plan') as unknown as Intervention[];
    const result = planActivityReverseMapping.map({ intervention: activity! });
    expect(result).toEqual({
      ok: true,
      payload: {
        PlanlagtAktivitet: [
          {
            AktivitetId: 'c2d3e4f5-a6b7-4c8d-9e0f-1a2b3c4d5e6f',
            AktivitetKode: 'BROBYGNING',
            AktivitetStatus: 'AFSLUTTET',
            Beskrivelse: 'Brobygningsforløb på Københavns Tekniske Skole',
            StartDato: '2026-02-02',
            SlutDato: '2026-02-27',
            TimerPrUge: 30,
          },
        ],
      },
    });
    expect(result.ok && EducationPlanUpdatePayload.safeParse(result.payload).success).toBe(true);
  });

  it('turns the education goal and the next follow-up into plan updates', () => {
    const [goal] = fragmentsOf('education-plan', 'plan') as unknown as [Goal];
    expect(educationGoalReverseMapping.map({ goal, programmeCode: 'EUD' })).toEqual({
      ok: true,
      payload: { Uddannelsesmaal: { UddannelseKode: 'EUD', Beskrivelse: 'Gennemføre erhvervsuddannelse som tømrer', ForventetStartDato: '2026-08-10' } },
    });
    expect(educationGoalReverseMapping.map({ goal, programmeCode: 'PILOT' })).toMatchObject({ ok: false });
    expect(educationGoalReverseMapping.map({ goal: { title: 'Job', topics: ['job-goal'] }, programmeCode: 'EUD' })).toMatchObject({ ok: false });
    expect(planFollowUpReverseMapping.map({ followUp: { due: '2026-10-01' } })).toEqual({ ok: true, payload: { NaesteOpfoelgning: '2026-10-01' } });
    expect(planFollowUpReverseMapping.map({ followUp: { due: '1. oktober' } })).toMatchObject({ ok: false, reason: expect.stringMatching(/NaesteOpfoelgning/) });
  });

  it('sends the plan’s next open follow-up as NaesteOpfoelgning, never a done one’s date (R17, R20)', () => {
    const done = { due: '2027-01-10', done: true };
    // Done, with a later one still open: that one is the next.
    expect(planFollowUpReverseMapping.map({ followUp: done, nextOpenDue: '2027-02-10' })).toEqual({ ok: true, payload: { NaesteOpfoelgning: '2027-02-10' } });
    // Scheduled later than one already open: the earlier stays the next.
    expect(planFollowUpReverseMapping.map({ followUp: { due: '2027-03-01' }, nextOpenDue: '2027-02-10' })).toEqual({ ok: true, payload: { NaesteOpfoelgning: '2027-02-10' } });
    // None open any more: nothing to send (the optional element cannot be cleared), said as a reason.
    expect(planFollowUpReverseMapping.map({ followUp: done, nextOpenDue: null })).toMatchObject({ ok: false, reason: expect.stringMatching(/no follow-up .* remains open/) });
    // Not known (a row queued before it was carried): a done one's date is not sent.
    expect(planFollowUpReverseMapping.map({ followUp: done })).toMatchObject({ ok: false, reason: expect.stringMatching(/not known/) });
  });

  it('registers an event on a course from the plan, keeping its course id', () => {
    const [course] = fragmentsOf('education-event', 'dropout') as unknown as Intervention[];
    const result = educationEventReverseMapping.map({ intervention: course!, eventCode: 'FULDFOERT', eventDate: '2028-06-23', institution: { number: '159021' } });
    expect(result).toEqual({
      ok: true,
      payload: {
        HaendelseKode: 'FULDFOERT',
        HaendelseDato: '2028-06-23',
        UddannelsesforloebId: '1b2c3d4e-5f6a-4b7c-9d8e-0f1a2b3c4d5e',
        UddannelseKode: 'STX',
        ForloebStartDato: '2025-08-11',
        Institution: { InstitutionsNummer: '159021', Navn: undefined },
      },
    });
    expect(result.ok && EducationEventPayload.safeParse(result.payload).success).toBe(true);
    expect(educationEventReverseMapping.map({ intervention: course!, eventCode: 'ORLOV', eventDate: '2028-06-23', institution: { number: '159021' } })).toMatchObject({ ok: false });
  });

  it('refuses measures that are not the education plan’s own activity types', () => {
    const intervention = { id: 'x', type: { system: 'urn:oid:1.2.208.176.2.21', code: 'A1' }, title: 'x', period: { start: '2026-01-01' }, status: 'planned' } as Intervention;
    expect(planActivityReverseMapping.map({ intervention })).toMatchObject({ ok: false });
    expect(planActivityReverseMapping.map({ intervention: { ...intervention, type: { system: planActivityTypes.system, code: 'MENTOR' } } })).toMatchObject({ ok: true });
  });
});
