/**
 * A sector system's Conditions (situation notes) and CareTeams (care-team contacts) are a member's
 * data with provenance like any element: consent revocation removes them (R10, S3), the family's
 * visibility rules apply (R4), a member leaving takes theirs, and they never write the plan's own
 * situation or its responsible coordinator (R5).
 */
import { describe, expect, it } from 'vitest';
import { removeRevokedData } from '../../src/consent';
import { Plan, type ConsentGrant, type Fragment } from '../../src/model';
import { leaveFamilyPlan } from '../../src/plans/leave';
import { mergeFragments, type FragmentOrigin } from '../../src/sync/merge';
import { viewOf } from '../../src/views';
import { familyMember, planWith } from '../support/elements';

const at = '2026-11-24T10:00:00.000Z';
const ctx = { at, ruleVersion: 'rules-2026.11' };
const parentA = familyMember('m-pa', 'parent', '1984-02-01');
const parentB = familyMember('m-pb', 'parent', '1986-07-09');

const condition = (elementId: string, barrier: string): Fragment => ({
  kind: 'situation',
  elementId,
  category: 'health',
  content: { summary: barrier, barriers: [barrier], resources: [] },
});
const careTeam = (elementId: string, name: string): Fragment => ({
  kind: 'coordinator',
  elementId,
  category: 'health',
  content: { kind: 'team', name, sector: 'health', unit: 'Psykiatrisk Center', teamMembers: ['Læge Lis'], since: '2026-10-01T00:00:00.000Z' },
});
const origin = (recordId: string, recordVersion: string, consentRef: string): FragmentOrigin => ({
  system: 'health',
  recordId,
  recordVersion,
  mappingId: 'health.condition',
  mappingVersion: '1.0.0',
  consentRef,
  category: 'health',
});

/** A family plan with the caseworker's own situation and coordinator, and health data merged for parent B. */
function mergedFamilyPlan() {
  const plan = planWith([parentA, parentB], { situation: { summary: 'Familien bor i en toværelses lejlighed', barriers: ['Trangboet'], resources: [] } });
  return mergeFragments(
    plan,
    [
      { fragment: condition('health:condition:c1', 'Moderat depression'), origin: origin('c1', '1', 'g-health-pb'), memberId: 'm-pb' },
      { fragment: careTeam('health:careteam:t1', 'Team for affektive lidelser'), origin: { ...origin('t1', '1', 'g-health-pb'), mappingId: 'health.careteam' }, memberId: 'm-pb' },
    ],
    ctx,
  ).plan;
}

const healthGrant: ConsentGrant = {
  id: 'g-health-pb',
  tenant: '101',
  citizenId: parentB.citizenId,
  grantedBy: { citizenId: parentB.citizenId, capacity: 'self' },
  source: 'health',
  recipient: 'enplan',
  categories: ['health'],
  explicitHealth: true,
  purpose: 'Samlet plan',
  validFrom: '2026-11-01',
  signed: { method: 'mitid', documentRef: 'doc', textVersion: 'v3', language: 'da' },
  createdAt: '2026-11-01T09:00:00.000Z',
};

describe('situation notes and care teams from sector systems', () => {
  it('are merged as the member’s elements with provenance, leaving the plan’s own situation and coordinator alone', () => {
    const plan = mergedFamilyPlan();
    expect(plan.situation).toEqual({ summary: 'Familien bor i en toværelses lejlighed', barriers: ['Trangboet'], resources: [] });
    expect(plan.coordinator?.name).toBe('Anna Koordinator');
    expect(plan.situationNotes).toEqual([
      expect.objectContaining({ id: 'health:condition:c1', memberId: 'm-pb', barriers: ['Moderat depression'], provenance: [expect.objectContaining({ system: 'health', recordId: 'c1', consentRef: 'g-health-pb', category: 'health' })] }),
    ]);
    expect(plan.careTeams).toEqual([expect.objectContaining({ id: 'health:careteam:t1', memberId: 'm-pb', name: 'Team for affektive lidelser', provenance: [expect.objectContaining({ consentRef: 'g-health-pb' })] })]);
    expect([...plan.situationNotes, ...plan.careTeams].map((e) => e.ruleVersion)).toEqual(['rules-2026.11', 'rules-2026.11']);
    expect(Plan.parse(plan)).toEqual(plan);
  });

  it('a plan with no coordinator does not get the region’s team as its coordinator', () => {
    const plan = mergeFragments(planWith([parentB], { coordinator: undefined }), [{ fragment: careTeam('health:careteam:t1', 'Team for affektive lidelser'), origin: origin('t1', '1', 'g'), memberId: 'm-pb' }], ctx).plan;
    expect(plan.coordinator).toBeUndefined();
    expect(plan.careTeams.map((t) => t.name)).toEqual(['Team for affektive lidelser']);
  });

  it('a newer version of the record replaces the note; an older one read late changes nothing', () => {
    const first = mergedFamilyPlan();
    const newer = mergeFragments(first, [{ fragment: condition('health:condition:c1', 'Let depression'), origin: origin('c1', '2', 'g-health-pb'), memberId: 'm-pb' }], ctx).plan;
    expect(newer.situationNotes.map((n) => n.barriers)).toEqual([['Let depression']]);
    const late = mergeFragments(newer, [{ fragment: condition('health:condition:c1', 'Moderat depression'), origin: origin('c1', '1', 'g-health-pb'), memberId: 'm-pb' }], ctx);
    expect(late.stale).toBe(1);
    expect(late.plan.situationNotes.map((n) => n.barriers)).toEqual([['Let depression']]);
  });

  it('are removed when the consent they flowed on is revoked', () => {
    const plan = mergedFamilyPlan();
    const outcome = removeRevokedData(plan, {
      grantId: 'g-health-pb',
      citizenId: parentB.citizenId,
      birthDate: parentB.birthDate,
      at: new Date(at),
      grants: [{ ...healthGrant, revokedAt: at, revokedBy: 'citizen:x' }],
      legalBases: [],
    });
    expect(outcome.removed.map((r) => `${r.list}:${r.id}`).sort()).toEqual(['careTeams:health:careteam:t1', 'situationNotes:health:condition:c1']);
    expect(outcome.plan.situationNotes).toEqual([]);
    expect(outcome.plan.careTeams).toEqual([]);
    // The caseworker's own situation stays: it did not flow on the grant.
    expect(outcome.plan.situation?.barriers).toEqual(['Trangboet']);
  });

  it('are the member’s own: another adult of the family does not see them; the caseworker does', () => {
    const plan = mergedFamilyPlan();
    const asA = viewOf(plan, { kind: 'citizen', citizenId: parentA.citizenId })!;
    expect(asA.situationNotes).toEqual([]);
    expect(asA.careTeams).toEqual([]);
    expect(asA.situation?.barriers).toEqual(['Trangboet']);
    const asB = viewOf(plan, { kind: 'citizen', citizenId: parentB.citizenId })!;
    expect(asB.situationNotes?.map((n) => n.id)).toEqual(['health:condition:c1']);
    expect(asB.careTeams?.map((t) => t.id)).toEqual(['health:careteam:t1']);
    const asCaseworker = viewOf(plan, { kind: 'caseworker' })!;
    expect(asCaseworker.situationNotes).toHaveLength(1);
    expect(asCaseworker.careTeams).toHaveLength(1);
  });

  it('go with the member who leaves the family plan', () => {
    const { familyPlan, ownPlan } = leaveFamilyPlan(mergedFamilyPlan(), 'm-pb', { newPlanId: 'plan-2', at, actor: 'caseworker:anna', ruleVersion: 'rules-2026.11' });
    expect(ownPlan.situationNotes.map((n) => n.id)).toEqual(['health:condition:c1']);
    expect(ownPlan.careTeams.map((t) => t.id)).toEqual(['health:careteam:t1']);
    expect(familyPlan.situationNotes).toEqual([]);
    expect(familyPlan.careTeams).toEqual([]);
  });
});
