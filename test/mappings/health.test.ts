/**
 * The health mappings: golden fixtures (including the real DK-core Patient example), everything in
 * data category `health`, the regional consent reader, reverse mappings validated as FHIR R4, and
 * property tests that no mapping ever throws.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Resource } from '@medplum/fhirtypes';
import { Consent } from '../../adapters/fhir/contract';
import { fhirValidationErrors, loadProfiles } from '../../adapters/fhir/definitions';
import { ENPLAN_ELEMENT_SYSTEM, REGIONAL_ACTIVITY_SYSTEM, REGIONAL_PLAN_TYPE_SYSTEM } from '../../adapters/fhir/systems';
import { generateHealthRecords } from '../../adapters/health/records';
import { runMapping, type Mapping } from '../../mappings/mapping';
import {
  healthCodeListRefs,
  healthGoalReverse,
  healthMappings,
  healthMappingsByRecordType,
  healthPatientMapping,
  healthReverseMappings,
  healthServiceRequestReverse,
  readRegionalConsent,
} from '../../mappings/health';
import { Fragment, type Goal, type Intervention } from '../../src/model';
import { jsonGoldenSuite } from '../support/golden';

const context = { now: '2026-01-01T00:00:00+01:00', ruleVersion: 'rules-2026.11' };
const fixtures = join(import.meta.dirname, '..', 'fixtures', 'health');
const readJson = (path: string) => JSON.parse(readFileSync(path, 'utf8'));

describe('health golden fixtures', () => {
  const goldenCases = jsonGoldenSuite({ sector: 'health', fixtures, mappings: healthMappings, context });

  it.each(goldenCases)('$folder/$name puts every fragment in data category health', ({ folder, input }) => {
    const mapping = healthMappings.find((m) => m.id === `health.${folder}`)!;
    const result = runMapping(mapping, readJson(input), context);
    if (!result.ok) return expect.fail(`${result.ruleId}: ${result.reason}`);
    for (const fragment of result.fragments) {
      expect(Fragment.safeParse(fragment).success).toBe(true);
      expect(fragment.category).toBe('health');
      expect(fragment.elementId).toMatch(/^health:/);
    }
  });
});

describe('the real DK-core Patient example', () => {
  const patient = readJson(join(fixtures, 'patient', 'derived-dkcore-Patient-283.input.json'));

  it('passes the contract and yields nothing for the plan, reporting every personal field it left', () => {
    const result = runMapping(healthPatientMapping, patient, context);
    expect(result).toEqual({
      ok: true,
      fragments: [],
      unknownCodes: [],
      ignoredFields: ['Patient.address', 'Patient.birthDate', 'Patient.gender', 'Patient.generalPractitioner', 'Patient.identifier', 'Patient.maritalStatus', 'Patient.name'],
    });
  });

  it('is valid FHIR R4 and carries its CPR under DK-core’s identifier system', () => {
    loadProfiles();
    expect(fhirValidationErrors(patient)).toEqual([]);
    expect(patient.identifier[0].system).toBe('urn:oid:1.2.208.176.1.2');
  });
});

describe('health mappings on generated records', () => {
  it('map 2,000 realistic records without a failure, all into data category health', () => {
    let fragments = 0;
    for (const { recordType, resource } of generateHealthRecords(2000, 19)) {
      const result = runMapping(healthMappingsByRecordType[recordType]!, resource, context);
      expect(result.ok, `${recordType}/${resource.id}`).toBe(true);
      if (!result.ok) continue;
      expect(result.unknownCodes).toEqual([]);
      for (const fragment of result.fragments) {
        fragments++;
        expect(fragment.category).toBe('health');
      }
    }
    expect(fragments).toBeGreaterThan(1500);
  });

  it('take the legal basis and topics of the regional plan type', () => {
    const plan = readJson(join(fixtures, 'careplan', 'discharge-agreement.input.json'));
    const result = runMapping(healthMappingsByRecordType.CarePlan!, plan, context);
    if (!result.ok) return expect.fail(result.reason);
    expect(result.fragments.every((f) => f.kind === 'intervention' && f.content.legalBasis === 'PsykL §13 a' && f.content.topics.includes('discharge'))).toBe(true);
  });
});

describe('regional consent', () => {
  const consent = Consent.parse(readJson(join(fixtures, 'consent', 'coordination-of-care.input.json')));

  it('is in force inside its period, for coordination of care, to the named recipient', () => {
    const start = consent.provision!.period!.start!;
    const end = consent.provision!.period!.end!;
    const status = readRegionalConsent(consent, start);
    expect(status).toMatchObject({ inForce: true, status: 'active', validFrom: start, validTo: end, purposes: ['COC'] });
    expect(status.recipients).toHaveLength(1);
    expect(readRegionalConsent(consent, '2000-01-01').inForce).toBe(false);
    expect(readRegionalConsent({ ...consent, status: 'inactive' }, start).inForce).toBe(false);
    expect(readRegionalConsent({ ...consent, provision: { ...consent.provision, type: 'deny' } }, start).inForce).toBe(false);
  });
});

describe('health reverse mappings', () => {
  const provenance = [{ kind: 'registration' as const, registrationId: 'reg-1', actor: 'caseworker-1', at: '2026-02-01T09:00:00+01:00' }];
  const goal: Goal = { id: 'g-1', level: 'sub', title: 'Kan gå 500 meter', sector: 'health', status: 'active', topics: ['rehabilitation'], ruleVersion: 'r', provenance };
  const request: Intervention = {
    id: 'i-1',
    sector: 'health',
    legalBasis: 'PsykL §13 a',
    type: { system: REGIONAL_ACTIVITY_SYSTEM, code: 'discharge-conference' },
    title: 'Udskrivningskonference med kommunen',
    responsibleUnit: 'Socialpsykiatrien',
    contact: { name: 'Mette Holm' },
    period: { start: '2026-03-01', end: '2026-03-02' },
    order: 0,
    dependsOn: [],
    status: 'planned',
    memberId: 'm-1',
    goalIds: [],
    confidentiality: 'normal',
    topics: [],
    ruleVersion: 'r',
    provenance,
  };
  const asSent = (payload: object) => ({ ...payload, subject: { reference: 'Patient/p-1' } }) as Resource;

  beforeAll(() => loadProfiles());

  it('write valid FHIR R4 with the listed codes', () => {
    const goalOut = healthGoalReverse.map(goal);
    const requestOut = healthServiceRequestReverse.map(request);
    if (!goalOut.ok || !requestOut.ok) return expect.fail('reverse mapping refused a valid element');
    expect(fhirValidationErrors(asSent(goalOut.payload))).toEqual([]);
    expect(fhirValidationErrors(asSent(requestOut.payload))).toEqual([]);
    expect(goalOut.payload.category?.[0]?.coding?.[0]).toEqual({ system: 'http://terminology.hl7.org/CodeSystem/goal-category', code: 'physiotherapy', display: 'Physiotherapy' });
    expect(requestOut.payload.code?.coding?.[0]).toEqual({ system: REGIONAL_ACTIVITY_SYSTEM, code: 'discharge-conference', display: 'Udskrivningskonference' });
  });

  it('refuse requests for anything but the region’s own activities', () => {
    expect(healthServiceRequestReverse.map({ ...request, type: { system: REGIONAL_PLAN_TYPE_SYSTEM, code: 'coordination-plan' } })).toMatchObject({ ok: false });
  });

  it('say a cancelled intervention revokes the request and an ended one completes it (R18; FHIR R4 ServiceRequest.status)', () => {
    for (const [status, requestStatus] of [['planned', 'active'], ['active', 'active'], ['cancelled', 'revoked'], ['ended', 'completed']] as const) {
      const out = healthServiceRequestReverse.map({ ...request, status });
      if (!out.ok) return expect.fail(`refused a ${status} intervention: ${out.reason}`);
      expect(out.payload.status, status).toBe(requestStatus);
      expect(fhirValidationErrors(asSent(out.payload)), status).toEqual([]);
    }
  });

  it('are listed by push operation, with code lists that say where they come from', () => {
    expect(Object.keys(healthReverseMappings).sort()).toEqual(['goal.upsert', 'service-request.create']);
    expect(healthCodeListRefs.planTypes.origin).toMatch(/modelled/);
    expect(healthCodeListRefs.goalCategories.origin).toMatch(/HL7/);
    for (const mapping of healthMappings) {
      expect(mapping.version).toMatch(/^\d+\.\d+\.\d+$/);
      expect(mapping.adapter).toBe('health');
      expect(mapping.rules.length).toBeGreaterThan(0);
    }
  });
});

describe('health mappings never throw', () => {
  const pool = generateHealthRecords(200, 29).map((r) => r.resource as unknown as Record<string, unknown>);
  const patient = readJson(join(fixtures, 'patient', 'derived-dkcore-Patient-283.input.json'));

  const nearlyValid = (base: readonly unknown[]) =>
    fc
      .tuple(
        fc.nat({ max: base.length - 1 }),
        fc.array(fc.tuple(fc.array(fc.nat(), { minLength: 1, maxLength: 6 }), fc.oneof(fc.constant(undefined), fc.anything(), fc.string(), fc.constantFrom('', '2021-13-45', REGIONAL_ACTIVITY_SYSTEM))), { maxLength: 4 }),
      )
      .map(([index, edits]) => {
        const record = structuredClone(base[index]) as Record<string, unknown>;
        for (const [path, value] of edits) {
          let node: unknown = record;
          for (let depth = 0; depth < path.length; depth++) {
            if (!node || typeof node !== 'object') break;
            const keys = Object.keys(node);
            if (!keys.length) break;
            const key = keys[path[depth]! % keys.length]!;
            if (depth === path.length - 1 || typeof (node as Record<string, unknown>)[key] !== 'object') {
              if (value === undefined) delete (node as Record<string, unknown>)[key];
              else (node as Record<string, unknown>)[key] = value;
              break;
            }
            node = (node as Record<string, unknown>)[key];
          }
        }
        return record;
      });

  const holds = (mapping: Mapping<unknown>) => (input: unknown) => {
    const result = runMapping(mapping, input, context);
    if (result.ok) for (const fragment of result.fragments) expect(fragment.category).toBe('health');
    else expect(result.reason.length).toBeGreaterThan(0);
  };

  it.each(healthMappings.map((m) => [m.id, m] as const))('%s on arbitrary input', (_, mapping) => {
    fc.assert(fc.property(fc.anything(), holds(mapping)), { numRuns: 200 });
  });

  it.each(healthMappings.map((m) => [m.id, m] as const))('%s on nearly valid records', (_, mapping) => {
    const base = mapping.recordType === 'Patient' ? [patient] : pool.filter((r) => r.resourceType === mapping.recordType);
    fc.assert(fc.property(nearlyValid(base), holds(mapping)), { numRuns: 300 });
  });

  it.each(Object.entries(healthReverseMappings))('reverse %s on arbitrary model elements', (_, reverse) => {
    const element = fc.record({
      id: fc.string({ minLength: 1 }),
      title: fc.string(),
      status: fc.constantFrom('proposed', 'active', 'achieved', 'abandoned', 'planned', 'ended', 'cancelled'),
      topics: fc.array(fc.constantFrom('mental-health', 'nutrition', 'x')),
      legalBasis: fc.string(),
      responsibleUnit: fc.string(),
      type: fc.record({ system: fc.constantFrom(REGIONAL_ACTIVITY_SYSTEM, 'x'), code: fc.constantFrom('coordination-meeting', 'medication-review', 'nope') }),
      period: fc.record({ start: fc.constant('2026-01-01') }),
    });
    fc.assert(
      fc.property(element, (input) => {
        expect(typeof reverse.map(input as never).ok).toBe('boolean');
      }),
      { numRuns: 200 },
    );
  });
});

describe('a Goal we proposed to the region, read back', () => {
  it('maps onto our goal, and its identifier counts as read, not as a field the mapping drops', () => {
    const ours = '6f1c2d3e-4a5b-4c6d-8e7f-9a0b1c2d3e4f';
    const { resource } = generateHealthRecords(200, 31).find((r) => r.recordType === 'Goal')!;
    const result = runMapping(healthMappingsByRecordType.Goal!, { ...resource, identifier: [{ system: ENPLAN_ELEMENT_SYSTEM, value: ours }] }, context);
    expect(result.ok && result.fragments.some((f) => f.elementId === ours)).toBe(true);
    expect(result.ignoredFields).not.toContain('Goal.identifier');
  });
});
