/**
 * Data the citizen's consent gives named departments alone (R9: per recipient party): who of the
 * municipality's caseworkers sees it, and that it never leaves through a link to another
 * municipality. Pure: `viewOf` and `decideFlowIntoPlan` on documents built here.
 */
import { describe, expect, it } from 'vitest';
import { decideFlowIntoPlan } from '../../src/consent';
import type { ConsentGrant, Conflict, LegalBasisRecord, Plan, Provenance } from '../../src/model';
import { hiddenFromCaseworker, viewOf } from '../../src/views';
import { byRegistration, familyMember, followUp, fromSource, goal, intervention, planWith } from '../support/elements';

const at = new Date('2026-11-23T12:00:00.000Z');
const adult = familyMember('m1', 'adult', '1985-06-15');
const forSocial = (recordId: string): Provenance => ({ ...(fromSource('g-social', 'health', 'health', recordId) as Extract<Provenance, { kind: 'source' }>), audience: ['social'] });
const wholePlan = (recordId: string): Provenance => fromSource('g-all', 'interventions', 'dfdg', recordId);

const conflict = (id: string, elementId: string, values: Provenance[][]): Conflict => ({
  id,
  elementId,
  field: 'title',
  values: values.map((provenance, i) => ({ value: `værdi ${i}`, provenance })),
  detectedAt: '2026-11-22T10:00:00.000Z',
});

const plan: Plan = planWith([adult], {
  goals: [
    goal('g-shared', { provenance: [wholePlan('r-goal')] }),
    goal('g-psych', { sector: 'health', provenance: [forSocial('r-psych-goal')] }),
  ],
  interventions: [
    intervention('i-job', 'm1', { goalIds: ['g-shared'], provenance: [wholePlan('r-job')] }),
    intervention('i-psych', 'm1', { sector: 'health', goalIds: ['g-psych', 'g-shared'], provenance: [forSocial('r-psych')] }),
    // Reported by both; the entry for the whole plan wrote the content, the department's confirmed it.
    intervention('i-both-shared-writer', 'm1', { provenance: [forSocial('r-b1'), wholePlan('r-b1')] }),
    // Reported by both; the department's entry wrote the content last.
    intervention('i-both-department-writer', 'm1', { dependsOn: ['i-psych'], provenance: [wholePlan('r-b2'), forSocial('r-b2')] }),
    intervention('i-registered', 'm1', { goalIds: ['g-psych'], provenance: [byRegistration()] }),
  ],
  followUps: [followUp('f-on-psych', { elementId: 'i-psych' }), followUp('f-plan')],
  conflicts: [conflict('c-shared', 'i-job', [[wholePlan('r-job')], [byRegistration()]]), conflict('c-mixed', 'i-both-shared-writer', [[wholePlan('r-b1')], [forSocial('r-b1')]])],
});

const ids = (list?: { id: string }[]) => (list ?? []).map((e) => e.id).sort();

describe('caseworkers and data consent gives named departments alone (R9)', () => {
  it('a caseworker of the named department sees it all', () => {
    const view = viewOf(plan, { kind: 'caseworker', department: 'social' })!;
    expect(ids(view.interventions)).toEqual(['i-both-department-writer', 'i-both-shared-writer', 'i-job', 'i-psych', 'i-registered']);
    expect(ids(view.goals)).toEqual(['g-psych', 'g-shared']);
    expect(ids(view.conflicts)).toEqual(['c-mixed', 'c-shared']);
    expect(view.view).toMatchObject({ as: 'caseworker', department: 'social' });
  });

  it('another department’s caseworker sees neither it, nor what refers to it, nor that it exists', () => {
    for (const viewer of [{ kind: 'caseworker', department: 'employment' }, { kind: 'caseworker' }] as const) {
      const view = viewOf(plan, viewer)!;
      expect(ids(view.goals)).toEqual(['g-shared']);
      // The element whose content the department's record wrote is hidden, even though the whole plan's record reports it too.
      expect(ids(view.interventions)).toEqual(['i-both-shared-writer', 'i-job', 'i-registered']);
      const registered = view.interventions!.find((i) => i.id === 'i-registered')!;
      expect(registered.goalIds).toEqual([]);
      // Shown with the entries it may see only.
      expect(view.interventions!.find((i) => i.id === 'i-both-shared-writer')!.provenance).toEqual([wholePlan('r-b1')]);
      expect(ids(view.followUps)).toEqual(['f-plan']);
      expect(ids(view.conflicts)).toEqual(['c-shared']);
      expect(JSON.stringify(view)).not.toContain('psych');
      expect(JSON.stringify(view)).not.toContain('audience');
      expect(hiddenFromCaseworker(plan, viewer.kind === 'caseworker' && 'department' in viewer ? viewer.department : undefined)).toEqual({
        elements: new Set(['g-psych', 'i-psych', 'i-both-department-writer', 'f-on-psych']),
        conflicts: new Set(['c-mixed']),
      });
    }
  });

  it('a plan without such data is shown whole, as before', () => {
    const plain = planWith([adult], { goals: [goal('g1', { provenance: [wholePlan('r1')] })] });
    expect(viewOf(plain, { kind: 'caseworker', department: 'employment' })).toEqual({ ...plain, view: { as: 'caseworker', department: 'employment', protectedElementIds: [] } });
  });

  it('another municipality never gets it through a link, even with consent to the part', () => {
    const linked = { ...plan, municipalities: [{ code: '751', role: 'residence' as const, link: { consentRef: 'g-link', parts: ['interventions' as const], linkedAt: at.toISOString() } }] } as Plan;
    const grants: ConsentGrant[] = [
      {
        id: 'g-link', tenant: '101', citizenId: adult.citizenId, grantedBy: { citizenId: adult.citizenId, capacity: 'self' }, source: 'enplan', recipient: 'municipality:751',
        categories: ['interventions', 'health'], explicitHealth: true, purpose: 'Deling', validFrom: '2026-11-01',
        signed: { method: 'mitid', documentRef: 'doc', textVersion: 'v3', language: 'da' }, createdAt: '2026-11-01T09:00:00.000Z',
      },
    ];
    const view = viewOf(linked, { kind: 'municipality', code: '751', grants, at })!;
    expect(ids(view.interventions)).toEqual(['i-both-shared-writer', 'i-job', 'i-registered']);
  });
});

describe('decideFlowIntoPlan', () => {
  const grant = (id: string, recipient: ConsentGrant['recipient'], overrides: Partial<ConsentGrant> = {}): ConsentGrant => ({
    id, tenant: '101', citizenId: adult.citizenId, grantedBy: { citizenId: adult.citizenId, capacity: 'self' }, source: 'health', recipient,
    categories: ['health'], explicitHealth: true, purpose: 'Koordinering', validFrom: '2026-11-01',
    signed: { method: 'mitid', documentRef: 'doc', textVersion: 'v3', language: 'da' }, createdAt: '2026-11-01T09:00:00.000Z', ...overrides,
  });
  const question = { citizenId: adult.citizenId, birthDate: adult.birthDate, source: 'health' as const, category: 'health' as const, at };

  it('to the whole plan when a grant names the Én plan; then no audience', () => {
    const decision = decideFlowIntoPlan(question, [grant('a', 'social'), grant('b', 'enplan')]);
    expect(decision).toEqual({ allowed: true, basis: 'consent', grantIds: ['b'] });
  });

  it('to every department a live grant names, and only those; every grant it rests on is named', () => {
    const decision = decideFlowIntoPlan(question, [grant('a', 'social'), grant('b', 'health'), grant('c', 'employment', { revokedAt: '2026-11-20T10:00:00.000Z' }), grant('d', 'children', { explicitHealth: false, categories: ['goals'] })]);
    expect(decision).toEqual({ allowed: true, basis: 'consent', grantIds: ['a', 'b'], audience: ['social', 'health'] });
  });

  it('on a legal basis naming a department, told to the citizen as any legal basis is', () => {
    const record: LegalBasisRecord = { id: 'lb', tenant: '101', citizenId: adult.citizenId, source: 'health', recipient: 'social', categories: ['health'], basis: 'SEL § 49 b', recordedBy: 'caseworker:anna', recordedAt: '2026-11-02T09:00:00.000Z', citizenInformed: false };
    expect(decideFlowIntoPlan(question, [], [record])).toEqual({ allowed: true, basis: 'legal-basis', recordId: 'lb', legalBasis: 'SEL § 49 b', informCitizen: true, audience: ['social'] });
  });

  it('refused with the whole plan’s reason when no department is named either; health still needs explicit consent', () => {
    expect(decideFlowIntoPlan(question, [])).toMatchObject({ allowed: false, reason: expect.stringContaining('to enplan') });
    expect(decideFlowIntoPlan(question, [grant('a', 'social', { explicitHealth: false, categories: ['goals', 'health'] } as Partial<ConsentGrant>)]).allowed).toBe(false);
  });
});
