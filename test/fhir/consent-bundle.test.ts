/**
 * A plan's consents as FHIR R4 (src/fhir/consent-bundle.ts): every resource valid against the R4
 * definitions (medplum), codes from their required value sets, references resolving, no CPR number;
 * each grant and legal-basis record as one Consent saying what it says — state, who gave it, what
 * flows from where to whom for how long — and members as the same Patients as the plan's Bundle.
 */
import type { Patient, RelatedPerson } from '@medplum/fhirtypes';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadProfiles } from '../../adapters/fhir/definitions';
import { fhirId, planConsentsToFhirBundle, type PlanConsents } from '../../src/fhir';
import { bundleProblems, resourcesOf } from './support';

beforeAll(() => loadProfiles(), 60_000);

const signed = { method: 'mitid', documentRef: 'doc-17', textVersion: 'samtykke-2026.1', language: 'da' } as const;
const grant = (id: string, overrides: Partial<PlanConsents['grants'][number]> = {}): PlanConsents['grants'][number] => ({
  id,
  tenant: '101',
  citizenId: 'citizen-mother',
  grantedBy: { citizenId: 'citizen-mother', capacity: 'self' },
  source: 'dfdg',
  recipient: 'enplan',
  categories: ['employment', 'goals'],
  explicitHealth: false,
  purpose: 'Én samlet plan for job og sundhed',
  validFrom: '2026-11-01',
  signed,
  createdAt: '2026-11-01T09:00:00.000Z',
  memberId: 'm-mother',
  grantedByMemberId: 'm-mother',
  status: 'active',
  ...overrides,
});

const consents: PlanConsents = {
  tenant: '101',
  planId: 'plan-family-1',
  grants: [
    grant('g-self'),
    grant('g-health', { source: 'health', categories: ['health'], explicitHealth: true, validTo: '2027-11-01', recipient: 'provider:job-partner' }),
    // The 16-year-old's data, on consent of the mother, who is a member of the family plan.
    grant('g-child', { citizenId: 'citizen-child', memberId: 'm-child', grantedBy: { citizenId: 'citizen-mother', capacity: 'custody-holder' }, grantedByMemberId: 'm-mother', source: 'education', categories: ['education'] }),
    // ... and of the father, who is not: a RelatedPerson of the child.
    grant('g-father', { citizenId: 'citizen-child', memberId: 'm-child', grantedBy: { citizenId: 'citizen-father', capacity: 'custody-holder' }, grantedByMemberId: null, source: 'social', categories: ['social', 'family'] }),
    grant('g-revoked', { status: 'revoked', revokedAt: '2026-11-20T10:00:00.000Z', revokedBy: 'citizen:citizen-mother', recipient: 'municipality:147' }),
    grant('g-expired', { status: 'expired', validFrom: '2025-01-01', validTo: '2025-12-31' }),
    grant('g-later', { status: 'not-yet-valid', validFrom: '2027-01-01' }),
  ],
  legalBases: [
    { id: 'lb-1', tenant: '101', citizenId: 'citizen-child', memberId: 'm-child', source: 'social', recipient: 'children', categories: ['social'], basis: 'SEL § 49 b', recordedBy: 'caseworker:anna', recordedAt: '2026-11-02T08:00:00.000Z', citizenInformed: false },
    { id: 'lb-2', tenant: '101', citizenId: 'citizen-mother', memberId: 'm-mother', source: 'dfdg', recipient: 'employment', categories: ['employment'], basis: 'LAB § 21', recordedBy: 'caseworker:anna', recordedAt: '2026-11-03T08:00:00.000Z', citizenInformed: true, informedAt: '2026-11-04T08:00:00.000Z' },
  ],
};

const byIdentifier = (bundle: ReturnType<typeof planConsentsToFhirBundle>, id: string) => resourcesOf(bundle, 'Consent').find((c) => c.identifier?.[0]?.value === id)!;
const resolve = <T>(bundle: ReturnType<typeof planConsentsToFhirBundle>, reference: string | undefined) => bundle.entry!.find((e) => e.fullUrl === reference)?.resource as T;

describe('a plan’s consents as FHIR R4', () => {
  const bundle = planConsentsToFhirBundle(consents, { generatedAt: new Date('2026-11-24T12:00:00.000Z') });

  it('is a valid collection Bundle: every resource valid R4, codes in their required value sets, references resolving, no CPR number', () => {
    expect(bundle).toMatchObject({ resourceType: 'Bundle', type: 'collection', identifier: { system: 'urn:enplan:plan', value: 'plan-family-1' }, timestamp: '2026-11-24T12:00:00.000Z' });
    expect(bundleProblems(bundle)).toEqual([]);
    expect(resourcesOf(bundle, 'Consent')).toHaveLength(consents.grants.length + consents.legalBases.length);
  });

  it('says of a grant what it says: patient, who gave it, state, purpose, what flows from where to whom, for how long, how it was signed', () => {
    const health = byIdentifier(bundle, 'g-health');
    expect(health).toMatchObject({ status: 'active', scope: { coding: [{ code: 'patient-privacy' }] }, dateTime: '2026-11-01T09:00:00.000Z', policyRule: { text: 'Én samlet plan for job og sundhed' } });
    expect(health.category![0]!.coding!.map((c) => `${c.system}|${c.code}`)).toEqual(['http://loinc.org|59284-0', 'urn:enplan:consent-kind|consent']);
    expect(health.provision).toMatchObject({ type: 'permit', period: { start: '2026-11-01', end: '2027-11-01' }, code: [{ coding: [{ system: 'urn:enplan:data-category', code: 'health' }], text: 'helbred' }] });
    const [custodian, recipient] = health.provision!.actor!;
    expect(custodian).toMatchObject({ role: { coding: [{ code: 'CST' }] }, reference: { identifier: { system: 'urn:enplan:source-system', value: 'health' } } });
    expect(recipient!.role.coding![0]!.code).toBe('IRCP');
    expect(resolve<{ identifier: { value: string }[] }>(bundle, recipient!.reference.reference).identifier[0]!.value).toBe('job-partner');
    expect(health.extension![0]!.extension!.map((e) => e.valueCode ?? e.valueString)).toEqual(['mitid', 'doc-17', 'samtykke-2026.1', 'da']);
    const patient = resolve<Patient>(bundle, health.patient!.reference);
    expect(patient.identifier).toEqual([{ system: 'urn:enplan:citizen', value: 'citizen-mother' }, { system: 'urn:enplan:member', value: 'm-mother' }]);
    // The citizen gave it herself: she is the performer.
    expect(health.performer).toEqual([health.patient]);
    // The same Patient id as the plan's own Bundle gives the member, so a receiver can join the two.
    expect(patient.id).toBe(fhirId('plan-family-1', 'member', 'm-mother'));
  });

  it('names a custody holder who is a member as that Patient, and one who is not as a RelatedPerson of the child', () => {
    const byMother = byIdentifier(bundle, 'g-child');
    expect(resolve<Patient>(bundle, byMother.patient!.reference).identifier![0]!.value).toBe('citizen-child');
    expect(resolve<Patient>(bundle, byMother.performer![0]!.reference).identifier![0]!.value).toBe('citizen-mother');
    const byFather = byIdentifier(bundle, 'g-father');
    const father = resolve<RelatedPerson>(bundle, byFather.performer![0]!.reference);
    expect(father).toMatchObject({ resourceType: 'RelatedPerson', identifier: [{ value: 'citizen-father' }], patient: byFather.patient, relationship: [{ coding: [{ code: 'GUARD' }], text: 'forældremyndighedsindehaver' }] });
  });

  it('shows revoked and expired grants as inactive (a revocation with its time), one not yet begun as active from its start', () => {
    const revoked = byIdentifier(bundle, 'g-revoked');
    expect(revoked.status).toBe('inactive');
    expect(revoked.extension!.find((e) => e.url === 'urn:enplan:extension:revoked-at')!.valueDateTime).toBe('2026-11-20T10:00:00.000Z');
    expect(resolve<{ identifier: { value: string }[] }>(bundle, revoked.provision!.actor![1]!.reference.reference).identifier[0]!.value).toBe('0147');
    expect(byIdentifier(bundle, 'g-expired')).toMatchObject({ status: 'inactive', provision: { period: { start: '2025-01-01', end: '2025-12-31' } } });
    expect(byIdentifier(bundle, 'g-later')).toMatchObject({ status: 'active', provision: { period: { start: '2027-01-01' } } });
    expect(byIdentifier(bundle, 'g-self').extension!.some((e) => e.url === 'urn:enplan:extension:revoked-at')).toBe(false);
  });

  it('gives a legal basis as a Consent of its own kind: the basis, the municipality, whether the citizen was told', () => {
    const untold = byIdentifier(bundle, 'lb-1');
    expect(untold.category![0]!.coding).toEqual([{ system: 'urn:enplan:consent-kind', code: 'legal-basis', display: 'Anden hjemmel end samtykke' }]);
    expect(untold).toMatchObject({ status: 'active', policyRule: { text: 'SEL § 49 b' }, provision: { period: { start: '2026-11-02' } } });
    expect(untold.extension![0]!.extension).toEqual([{ url: 'informed', valueBoolean: false }]);
    expect(byIdentifier(bundle, 'lb-2').extension![0]!.extension).toEqual([
      { url: 'informed', valueBoolean: true },
      { url: 'informedAt', valueDateTime: '2026-11-04T08:00:00.000Z' },
    ]);
    const municipality = resolve<{ identifier: { system: string; value: string }[]; name: string }>(bundle, untold.organization![0]!.reference);
    expect(municipality).toMatchObject({ identifier: [{ system: 'http://hl7.dk/fhir/core/CodeSystem/dk-core-municipality-codes', value: '0101' }], name: 'Københavns Kommune' });
    expect(untold.performer).toEqual(untold.organization);
  });

  it('judges a legal basis’s last day and its start by the Danish calendar day', () => {
    const record = { id: 'lb-day', tenant: '101', citizenId: 'c', memberId: 'm', source: 'dfdg', recipient: 'employment', categories: ['employment'], basis: 'LAB § 21', recordedBy: 'caseworker:a', recordedAt: '2026-11-01T23:30:00.000Z', citizenInformed: false, validTo: '2026-12-31' } as const;
    // 00:30 on 1 January in Denmark: the last day has passed, though UTC still says 31 December.
    const atNewYear = planConsentsToFhirBundle({ tenant: '101', planId: 'p', grants: [], legalBases: [record as never] }, { generatedAt: new Date('2026-12-31T23:30:00.000Z') });
    expect(byIdentifier(atNewYear, 'lb-day')).toMatchObject({ status: 'inactive', provision: { period: { start: '2026-11-02', end: '2026-12-31' } } });
    const before = planConsentsToFhirBundle({ tenant: '101', planId: 'p', grants: [], legalBases: [record as never] }, { generatedAt: new Date('2026-12-31T22:30:00.000Z') });
    expect(byIdentifier(before, 'lb-day').status).toBe('active');
  });

  it('is an empty collection for a plan without consents', () => {
    const empty = planConsentsToFhirBundle({ tenant: '101', planId: 'p', grants: [], legalBases: [] });
    expect(empty).toEqual({ resourceType: 'Bundle', meta: { tag: [{ system: 'urn:enplan:view', code: 'caseworker' }] }, identifier: { system: 'urn:enplan:plan', value: 'p' }, type: 'collection' });
    expect(bundleProblems(empty)).toEqual([]);
  });
});

