/**
 * A sector system's follow-up of one member's plan as a whole (DFDG's employment-plan follow-ups carry
 * no element) is that member's (R4): in a family plan the other adult does not see it, it leaves with
 * its member, and a linked municipality gets it only on that member's consent. A plan-level follow-up a
 * caseworker schedules without a member stays the family's. One merged before follow-ups named their
 * member is shown to no member of a family until its source reports it again.
 */
import { describe, expect, it } from 'vitest';
import { Plan, type ConsentGrant, type Fragment } from '../../src/model';
import { leaveFamilyPlan } from '../../src/plans/leave';
import { applyRegistration, RegistrationInvalid } from '../../src/registrations/apply';
import { mergeFragments, type FragmentOrigin } from '../../src/sync/merge';
import { viewOf } from '../../src/views';
import { byRegistration, familyMember, followUp, fromSource, intervention, planWith } from '../support/elements';

const parentA = familyMember('m-pa', 'parent', '1984-02-01');
const parentB = familyMember('m-pb', 'parent', '1986-07-09');
const child = familyMember('m-c', 'child', '2015-03-03');

// As mappings/dfdg/employment-plan.ts makes it: a follow-up of the plan, with no element.
const sourceFollowUp = {
  kind: 'followUp',
  elementId: 'dfdg:follow-up:fu-1',
  category: 'employment',
  content: { due: '2027-01-10', text: 'Opfølgning på sygemelding', done: false },
} as Fragment;
const origin: FragmentOrigin = { system: 'dfdg', recordId: 'emp-plan-A', recordVersion: '1', mappingId: 'dfdg.employment-plan', mappingVersion: '1.0.0', category: 'employment', consentRef: 'grant-A' };
const merge = (plan: Plan, memberId: string) => mergeFragments(plan, [{ fragment: sourceFollowUp, origin, memberId }], { at: '2026-11-24T10:00:00.000Z', ruleVersion: 'rules-2026.11' }).plan;
const followUpIds = (plan: Plan, citizenId: string) => (viewOf(plan, { kind: 'citizen', citizenId })?.followUps ?? []).map((f) => f.id);
const leaveOptions = { newPlanId: 'plan-own', at: '2026-11-25T10:00:00.000Z', actor: 'caseworker:x', ruleVersion: 'rules-2026.11' };

describe('a sector system’s follow-up of one member’s plan', () => {
  const merged = merge(planWith([parentA, parentB, child]), parentA.memberId);

  it('is stored as that member’s', () => {
    expect(merged.followUps.find((f) => f.id === 'dfdg:follow-up:fu-1')?.memberId).toBe(parentA.memberId);
  });

  it('is shown to that member, not to the other adult nor to a child', () => {
    expect(followUpIds(merged, parentA.citizenId)).toContain('dfdg:follow-up:fu-1');
    expect(followUpIds(merged, parentB.citizenId)).not.toContain('dfdg:follow-up:fu-1');
    expect(followUpIds(merged, child.citizenId)).not.toContain('dfdg:follow-up:fu-1');
  });

  it('goes with its member when they leave the family plan', () => {
    const out = leaveFamilyPlan(merged, parentA.memberId, leaveOptions);
    expect(out.ownPlan.followUps.map((f) => f.id)).toContain('dfdg:follow-up:fu-1');
    expect(out.familyPlan.followUps.map((f) => f.id)).not.toContain('dfdg:follow-up:fu-1');
    // The other parent leaving takes nothing of it.
    expect(leaveFamilyPlan(merged, parentB.memberId, leaveOptions).ownPlan.followUps).toEqual([]);
  });

  it('goes to a linked municipality on its member’s consent, not the primary member’s alone', () => {
    // Parent B is the primary member and consented to the link; parent A did not.
    const link = { code: '751', role: 'other' as const, link: { consentRef: 'g-b', parts: ['followUps' as const], linkedAt: '2026-11-24T09:00:00.000Z' } };
    const plan = merge(planWith([parentB, parentA], { municipalities: [{ code: '101', role: 'acting' }, link] }), parentA.memberId);
    const grantOf = (member: typeof parentA, id: string): ConsentGrant =>
      ({
        id, tenant: '101', citizenId: member.citizenId, grantedBy: { citizenId: member.citizenId, capacity: 'self' }, source: 'enplan', recipient: 'municipality:751',
        categories: ['plan-core'], explicitHealth: false, purpose: 'Koordinering', validFrom: '2026-01-01', createdAt: '2026-01-01T00:00:00.000Z',
      }) as ConsentGrant;
    const asMunicipality = (grants: ConsentGrant[]) => (viewOf(plan, { kind: 'municipality', code: '751', grants, at: new Date('2026-11-24T12:00:00.000Z') })?.followUps ?? []).map((f) => f.id);
    expect(asMunicipality([grantOf(parentB, 'g-b')])).not.toContain('dfdg:follow-up:fu-1');
    expect(asMunicipality([grantOf(parentB, 'g-b'), grantOf(parentA, 'g-a')])).toContain('dfdg:follow-up:fu-1');
  });
});

describe('a plan-level follow-up without a member', () => {
  it('scheduled by a caseworker is the family’s: every member sees it', () => {
    const plan = planWith([parentA, parentB], { followUps: [followUp('f-family', { provenance: [byRegistration()] })] });
    expect(followUpIds(plan, parentA.citizenId)).toEqual(['f-family']);
    expect(followUpIds(plan, parentB.citizenId)).toEqual(['f-family']);
  });

  it('merged from a source before follow-ups named their member is shown to no member of a family, but to the citizen of a plan of one', () => {
    const legacy = followUp('f-legacy', { provenance: [fromSource('grant-A', 'employment')] });
    const family = planWith([parentA, parentB], { followUps: [legacy] });
    expect(followUpIds(family, parentA.citizenId)).toEqual([]);
    expect(followUpIds(family, parentB.citizenId)).toEqual([]);
    // Its caseworkers still see it, and nobody takes it out of the family plan by leaving.
    expect((viewOf(family, { kind: 'caseworker' })?.followUps ?? []).map((f) => f.id)).toEqual(['f-legacy']);
    expect(leaveFamilyPlan(family, parentA.memberId, leaveOptions).familyPlan.followUps.map((f) => f.id)).toEqual(['f-legacy']);
    expect(followUpIds(planWith([parentA], { followUps: [legacy] }), parentA.citizenId)).toEqual(['f-legacy']);
    // Its source reporting it again names the member.
    const reported = merge(family, parentA.memberId);
    expect(followUpIds(reported, parentA.citizenId)).toContain('dfdg:follow-up:fu-1');
    expect(followUpIds(reported, parentB.citizenId)).not.toContain('dfdg:follow-up:fu-1');
  });
});

describe('a caseworker scheduling a follow-up about one member', () => {
  const plan = planWith([parentA, parentB], { interventions: [intervention('i-b', parentB.memberId)] });
  const schedule = (followUpInput: Record<string, unknown>) =>
    applyRegistration(plan, { kind: 'followup.scheduled', followUp: { due: '2027-02-01', text: 'Samtale om job', ...followUpInput } } as never, {
      registrationId: 'reg-9', actor: 'caseworker:anna', at: '2026-11-25T09:00:00.000Z', ruleVersion: 'rules-2026.11', newId: () => 'f-new',
    });

  it('sends it under that member and shows it to that member alone', () => {
    const { plan: next, outbound } = schedule({ memberId: parentB.memberId });
    expect(outbound.memberId).toBe(parentB.memberId);
    expect(followUpIds(next, parentB.citizenId)).toEqual(['f-new']);
    expect(followUpIds(next, parentA.citizenId)).toEqual([]);
  });

  it('refuses a member who is not in the plan, or another member than its element’s', () => {
    expect(() => schedule({ memberId: 'm-nobody' })).toThrow(RegistrationInvalid);
    expect(() => schedule({ memberId: parentA.memberId, elementId: 'i-b' })).toThrow(/another member/);
  });
});
