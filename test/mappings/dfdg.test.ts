/**
 * The DFDG mappings: golden fixtures (a changed output fails), unknown codes, ignored fields,
 * contract failures, the reverse mappings for the push side, and property tests that no mapping
 * throws on arbitrary input.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ActivityUpsertPayload, EmploymentPlanUpdatePayload, generateDfdgRecordXml, readDfdgRecordXml } from '../../adapters/dfdg';
import { Fragment, type Agreement, type FollowUp, type Goal, type Intervention } from '../../src/model';
import { runMapping, type Mapping, type MappingResult } from '../../mappings/mapping';
import {
  activationTypes,
  activityMapping,
  activityReverseMapping,
  dfdgMappings,
  dfdgReverseMappings,
  employmentPlanMapping,
  followUpReverseMapping,
  jobGoalReverseMapping,
  jobSearchAgreementReverseMapping,
} from '../../mappings/dfdg';
import { goldenCases as findGoldenCases } from '../support/golden';

const context = { now: '2026-07-01T00:00:00Z', ruleVersion: 'rules-2026.11' };
const fixtures = join(import.meta.dirname, '../fixtures/dfdg');
const mappingFor = (recordType: string) => dfdgMappings[recordType as keyof typeof dfdgMappings] as Mapping<unknown>;

function payloadOf(xml: string): Record<string, unknown> {
  const decoded = readDfdgRecordXml(xml);
  if (!decoded.ok) throw new Error(decoded.quarantined.reason);
  return decoded.record.payload as Record<string, unknown>;
}
const fixturePayload = (folder: string, name: string) => payloadOf(readFileSync(join(fixtures, folder, `${name}.input.xml`), 'utf8'));
const clone = <T>(value: T): T => structuredClone(value);

const goldenCases = findGoldenCases(fixtures, '.input.xml').map((c) => [c.folder, c.name] as const);

describe('DFDG golden fixtures', () => {
  it('has fixtures for every mapping', () => {
    expect(new Set(goldenCases.map(([folder]) => folder))).toEqual(new Set(Object.keys(dfdgMappings)));
  });

  it.each(goldenCases)('%s / %s maps to exactly its expected output', (folder, name) => {
    const expected = JSON.parse(readFileSync(join(fixtures, folder, `${name}.expected.json`), 'utf8')) as MappingResult;
    const result = runMapping(mappingFor(folder), fixturePayload(folder, name), context);
    expect(result).toEqual(expected);
  });
});

describe('DFDG mappings', () => {
  it('are registered per record type with ids, semantic versions, rules and code lists that say where they came from', () => {
    for (const [recordType, mapping] of Object.entries(dfdgMappings)) {
      expect(mapping.id).toBe(`dfdg.${recordType}`);
      expect(mapping.recordType).toBe(recordType);
      expect(mapping.version).toMatch(/^\d+\.\d+\.\d+$/);
      expect(mapping.rules.length).toBeGreaterThan(0);
      for (const list of mapping.codeLists) {
        expect(list.origin).toMatch(/^MODELLED/);
        expect(list.size).toBeGreaterThan(0);
      }
    }
    expect(activationTypes.verification).toBe('unverified');
  });

  it('maps every record the simulator generates, into valid fragments with deterministic ids', () => {
    for (const generated of generateDfdgRecordXml(2_000, { seed: 17 })) {
      const payload = payloadOf(generated.xml);
      const mapping = mappingFor(generated.recordType);
      const result = runMapping(mapping, payload, context);
      expect(result.ok).toBe(true);
      expect(runMapping(mapping, payload, context)).toEqual(result);
      if (result.ok) for (const fragment of result.fragments) expect(fragment.elementId).toMatch(/^dfdg:[a-z-]+:[0-9a-f-]{36}(:[a-z-]+)?$/);
    }
  });

  it('maps an unknown activation type with the display "ukendt kode", the act as legal basis, and reports it', () => {
    const payload = fixturePayload('activity', 'virksomhedspraktik') as { ActivityCoreItem: Record<string, unknown> };
    payload.ActivityCoreItem.ActivationTypeIdentifier = 'NYKODE';
    const result = runMapping(activityMapping, payload, context);
    expect(result.unknownCodes).toEqual([{ system: activationTypes.system, code: 'NYKODE' }]);
    expect(result.ok && result.fragments[0]!.content).toMatchObject({ type: { code: 'NYKODE', display: 'ukendt kode' }, legalBasis: 'LAB' });
  });

  it('fails a record with an unknown status code on its rule, and reports the code', () => {
    const payload = fixturePayload('activity', 'virksomhedspraktik') as { ActivityCoreItem: Record<string, unknown> };
    payload.ActivityCoreItem.ActivityStatusIdentifier = 'SOVENDE';
    expect(runMapping(activityMapping, payload, context)).toMatchObject({ ok: false, ruleId: 'activity.status', unknownCodes: [{ code: 'SOVENDE' }] });
  });

  it('fails an activity that ends before it starts on the period rule', () => {
    const payload = fixturePayload('activity', 'virksomhedspraktik') as { ActivityCoreItem: Record<string, unknown> };
    payload.ActivityCoreItem.EndDate = '2026-01-01';
    expect(runMapping(activityMapping, payload, context)).toMatchObject({ ok: false, ruleId: 'activity.period' });
  });

  it('fails wrong types and invalid CPR numbers on the contract, with the field named', () => {
    const wrongHours = fixturePayload('activity', 'virksomhedspraktik') as { ActivityCoreItem: Record<string, unknown> };
    wrongHours.ActivityCoreItem.HoursPerWeek = 'fuld tid';
    expect(runMapping(activityMapping, wrongHours, context)).toMatchObject({ ok: false, ruleId: 'contract', reason: expect.stringMatching(/^ActivityCoreItem\.HoursPerWeek: /) });
    const badCpr = fixturePayload('employment-plan', 'min-plan');
    badCpr.PersonCivilRegistrationIdentifier = '3102901234';
    expect(runMapping(employmentPlanMapping, badCpr, context)).toMatchObject({ ok: false, ruleId: 'contract', reason: expect.stringMatching(/^PersonCivilRegistrationIdentifier: /) });
    const noGoalText = fixturePayload('employment-plan', 'min-plan') as { JobGoal: Record<string, unknown>[] };
    noGoalText.JobGoal[0]!.JobGoalText = { nested: 'x' };
    expect(runMapping(employmentPlanMapping, noGoalText, context)).toMatchObject({ ok: false, ruleId: 'contract', reason: expect.stringMatching(/^JobGoal\.0\.JobGoalText: /) });
  });

  it('reports source fields no rule reads', () => {
    const payload = fixturePayload('employment-plan', 'min-plan') as Record<string, unknown> & { JobGoal: Record<string, unknown>[] };
    payload.JobGoal[0]!.Priority = '1';
    expect(runMapping(employmentPlanMapping, payload, context).ignoredFields).toEqual(['CreatedDateTime', 'JobGoal[].Priority', 'MyPlanVersionIdentifier']);
  });

  it('never throws on arbitrary input (property)', () => {
    for (const mapping of Object.values(dfdgMappings) as Mapping<unknown>[]) {
      fc.assert(
        fc.property(fc.anything(), (input) => {
          const result = runMapping(mapping, input, context);
          expect(typeof result.ok).toBe('boolean');
        }),
        { numRuns: 500 },
      );
    }
  });

  it('never throws when any field of a valid record holds arbitrary text, and only yields valid fragments (property)', () => {
    const samples = Object.keys(dfdgMappings).map((folder) => {
      const name = goldenCases.find(([f]) => f === folder)![1];
      return { mapping: mappingFor(folder), payload: fixturePayload(folder, name) };
    });
    const leafPaths = (value: unknown, path: (string | number)[] = []): (string | number)[][] =>
      value !== null && typeof value === 'object'
        ? Object.entries(value).flatMap(([key, child]) => leafPaths(child, [...path, Array.isArray(value) ? Number(key) : key]))
        : [path];
    for (const { mapping, payload } of samples) {
      const paths = leafPaths(payload);
      fc.assert(
        fc.property(fc.integer({ min: 0, max: paths.length - 1 }), fc.oneof(fc.string(), fc.constantFrom('', '0', '-1', '2026-13-01', 'true', '99999', 'IGANG', 'NYKODE')), (index, text) => {
          const record = clone(payload) as Record<string | number, unknown>;
          const path = paths[index]!;
          let parent = record;
          for (const step of path.slice(0, -1)) parent = parent[step] as Record<string | number, unknown>;
          parent[path.at(-1)!] = text;
          const result = runMapping(mapping, record, context);
          if (result.ok) for (const fragment of result.fragments) expect(Fragment.safeParse(fragment).success).toBe(true);
          else expect(result.ruleId).toMatch(/^[a-z.-]+$/);
        }),
        { numRuns: 500 },
      );
    }
  });
});

describe('DFDG reverse mappings', () => {
  const mapped = (folder: string, name: string) => {
    const result = runMapping(mappingFor(folder), fixturePayload(folder, name), context);
    if (!result.ok) throw new Error(result.reason);
    return result.fragments;
  };
  const asElement = <T extends { elementId: string; content: object }>(fragment: T) => ({ id: fragment.elementId, ...fragment.content });

  it('are registered by id with the push operation each produces', () => {
    expect(Object.fromEntries(Object.values(dfdgReverseMappings).map((m) => [m.id, m.operation]))).toEqual({
      'dfdg.activity.reverse': 'activity.upsert',
      'dfdg.job-goal.reverse': 'employment-plan.update',
      'dfdg.job-search-agreement.reverse': 'employment-plan.update',
      'dfdg.follow-up.reverse': 'employment-plan.update',
    });
  });

  it('turns an intervention from DFDG back into the same activity (round trip)', () => {
    const [fragment] = mapped('activity', 'virksomhedspraktik');
    const intervention = asElement(fragment!) as unknown as Intervention;
    const result = activityReverseMapping.map({ intervention, authorityCode: '101', authorityName: 'Jobcenter København' });
    expect(result).toEqual({
      ok: true,
      payload: {
        ActivityIdentifier: '6f9619ff-8b86-d011-b42d-00c04fc964ff',
        ActivationTypeIdentifier: 'VIRKPRAK',
        ActivityStatusIdentifier: 'IGANG',
        ActivityName: 'Virksomhedspraktik hos Bygma, Ishøj & omegn',
        StartDate: '2026-03-02',
        EndDate: '2026-05-22',
        HoursPerWeek: 25,
        ResponsibleAuthority: { AuthorityCode: '101', AuthorityName: 'Jobcenter København' },
        ProviderIdentifier: '25313763',
        CaseworkerName: 'Birgitte Holm',
        CaseworkerPhone: '+45 33 66 33 66',
      },
    });
    if (!result.ok) return;
    // What DFDG would then hold maps to the same intervention again.
    const held = {
      ActivityCoreItem: { ...result.payload, PersonCivilRegistrationIdentifier: '1205871234' },
      RecordVersionIdentifier: 5,
      RecordUpdatedDateTime: '2026-07-01T00:00:00Z',
    };
    const again = runMapping(activityMapping, held, context);
    expect(again.ok && again.fragments[0]).toEqual(fragment);
  });

  it('leaves the identifier out for a new intervention, so the adapter derives it from the idempotency key', () => {
    const intervention = {
      id: 'enplan:intervention:42',
      sector: 'employment',
      type: { system: activationTypes.system, code: 'MENTOR' },
      title: 'Mentor',
      period: { start: '2026-09-01' },
      status: 'planned',
      contact: { name: 'Kasper Lund' },
    } as Intervention;
    const result = activityReverseMapping.map({ intervention, authorityCode: '101' });
    expect(result.ok && result.payload.ActivityIdentifier).toBeUndefined();
    expect(result.ok && ActivityUpsertPayload.safeParse(result.payload).success).toBe(true);
  });

  it('refuses what DFDG does not hold: other sectors, other code systems, payloads outside the contract', () => {
    const base = { id: 'x', type: { system: activationTypes.system, code: 'MENTOR' }, title: 'x', period: { start: '2026-09-01' }, status: 'planned', contact: { name: 'x' } };
    expect(activityReverseMapping.map({ intervention: { ...base, sector: 'social' } as Intervention, authorityCode: '101' })).toMatchObject({ ok: false, reason: expect.stringMatching(/social/) });
    expect(
      activityReverseMapping.map({ intervention: { ...base, sector: 'employment', type: { system: 'urn:oid:1.2.208.176.2.21', code: 'A1' } } as Intervention, authorityCode: '101' }),
    ).toMatchObject({ ok: false, reason: expect.stringMatching(/activation types/) });
    expect(activityReverseMapping.map({ intervention: { ...base, sector: 'employment' } as Intervention, authorityCode: 'København' })).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/AuthorityCode/),
    });
  });

  it('turns job goals, job-search agreements and follow-ups into employment-plan updates', () => {
    const [goal, agreement, followUp] = mapped('employment-plan', 'min-plan').map(asElement) as unknown as [Goal, Agreement, FollowUp];
    const goalUpdate = jobGoalReverseMapping.map({ goal });
    expect(goalUpdate).toEqual({
      ok: true,
      payload: { JobGoal: [{ JobGoalIdentifier: '11111111-2222-4333-8444-555555555555', JobGoalText: 'Lagermedarbejder', OccupationCode: '9333', TargetDate: '2026-12-31' }] },
    });
    expect(jobSearchAgreementReverseMapping.map({ agreement })).toMatchObject({
      ok: true,
      payload: { JobSearchAgreement: [{ JobSearchAgreementIdentifier: '22222222-3333-4444-8555-666666666666', AgreedDate: '2026-02-10' }] },
    });
    expect(followUpReverseMapping.map({ followUp })).toEqual({
      ok: true,
      payload: {
        FollowUp: [
          {
            FollowUpIdentifier: '33333333-4444-4555-8666-777777777777',
            FollowUpDate: '2026-03-10',
            FollowUpText: 'Opfølgning på jobsøgning og praktik',
            FollowUpCompletedIndicator: true,
            FollowUpCompletedDateTime: '2026-03-10T10:00:00Z',
          },
        ],
      },
    });
    for (const result of [goalUpdate, followUpReverseMapping.map({ followUp })]) expect(result.ok && EmploymentPlanUpdatePayload.safeParse(result.payload).success).toBe(true);
  });

  it('keeps goals that are not job goals out of Min Plan', () => {
    expect(jobGoalReverseMapping.map({ goal: { id: 'g', title: 'Trivsel', topics: ['wellbeing'] } })).toMatchObject({ ok: false });
    expect(jobSearchAgreementReverseMapping.map({ agreement: { id: 'a', text: 'x', agreedAt: '2026-01-01', topics: [] } })).toMatchObject({ ok: false });
  });
});
