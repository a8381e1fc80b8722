/** A member leaves a family plan and gets their own (R4): `leaveFamilyPlan`, pure. */
import { describe, expect, it } from 'vitest';
import { Plan } from '../../src/model';
import { leaveFamilyPlan, LeaveError } from '../../src/plans/leave';
import { agreement, citizenView, familyMember, followUp, goal, intervention, planWith } from '../support/elements';

const parentA = familyMember('m-pa', 'parent', '1984-02-01');
const parentB = familyMember('m-pb', 'parent', '1986-07-09');
const child = familyMember('m-c', 'child', '2015-04-04');
const options = { newPlanId: 'plan-own', at: '2026-11-24T09:00:00.000Z', actor: 'caseworker:anna', ruleVersion: 'rules-2026.11' };

const family = planWith([parentA, parentB, child], {
  version: 4,
  goals: [goal('g-family'), goal('g-pb', { memberId: 'm-pb' }), goal('g-pb-sub', { memberId: 'm-pb', level: 'sub', parentGoalId: 'g-family' })],
  interventions: [
    intervention('i-pb', 'm-pb', { goalIds: ['g-pb', 'g-family'] }),
    intervention('i-child', 'm-c', { goalIds: ['g-family'], dependsOn: ['i-pb'] }),
  ],
  agreements: [agreement('a-family'), agreement('a-pb', { memberId: 'm-pb' })],
  followUps: [followUp('f-pb', { elementId: 'i-pb' }), followUp('f-plan')],
  citizenViews: [citizenView('v-pb', 'm-pb'), citizenView('v-c', 'm-c')],
  replaces: [{ planType: 'sel-141-plan', relation: 'replaces', memberId: 'm-pb' }],
  municipalities: [{ code: '101', role: 'acting' }, { code: '751', role: 'residence', link: { consentRef: 'g-1', parts: ['goals'], linkedAt: '2026-11-20T10:00:00.000Z' } }],
});

describe('leaveFamilyPlan', () => {
  const { familyPlan, ownPlan, moved } = leaveFamilyPlan(family, 'm-pb', options);

  it('offers the member their own plan with the same coordinator, carrying their own elements', () => {
    expect(ownPlan).toMatchObject({ id: 'plan-own', tenant: '101', origin: 'offered', status: 'offered', version: 1 });
    expect(ownPlan.subject).toEqual({ kind: 'citizen', member: parentB });
    expect(ownPlan.coordinator).toEqual({ ...family.coordinator, since: options.at });
    expect(ownPlan.goals.map((g) => g.id)).toEqual(['g-pb', 'g-pb-sub']);
    expect(ownPlan.interventions.map((i) => i.id)).toEqual(['i-pb']);
    expect(ownPlan.agreements.map((a) => a.id)).toEqual(['a-pb']);
    expect(ownPlan.followUps.map((f) => f.id)).toEqual(['f-pb']);
    expect(ownPlan.followUps[0]!.elementId).toBe('i-pb');
    expect(ownPlan.citizenViews.map((v) => v.id)).toEqual(['v-pb']);
    expect(ownPlan.replaces).toEqual([{ planType: 'sel-141-plan', relation: 'replaces', memberId: 'm-pb' }]);
    expect(moved.map((m) => m.id).sort()).toEqual(['a-pb', 'f-pb', 'g-pb', 'g-pb-sub', 'i-pb', 'v-pb']);
  });

  it('keeps the member in the family plan with leftAt and ownPlanId, without their elements', () => {
    const members = familyPlan.subject.kind === 'family' ? familyPlan.subject.members : [];
    expect(members.find((m) => m.memberId === 'm-pb')).toEqual({ ...parentB, leftAt: options.at, ownPlanId: 'plan-own' });
    expect(familyPlan.goals.map((g) => g.id)).toEqual(['g-family']);
    expect(familyPlan.interventions.map((i) => i.id)).toEqual(['i-child']);
    expect(familyPlan.agreements.map((a) => a.id)).toEqual(['a-family']);
    expect(familyPlan.followUps.map((f) => f.id)).toEqual(['f-plan']);
    expect(familyPlan.citizenViews.map((v) => v.id)).toEqual(['v-c']);
    expect(familyPlan.replaces).toEqual([]);
    expect(familyPlan.version).toBe(5);
    expect(familyPlan.updatedAt).toBe(options.at);
  });

  it('drops references across the split so both plans are valid', () => {
    expect(() => Plan.parse(familyPlan)).not.toThrow();
    expect(() => Plan.parse(ownPlan)).not.toThrow();
    expect(ownPlan.interventions[0]!.goalIds).toEqual(['g-pb']);
    expect(ownPlan.goals.find((g) => g.id === 'g-pb-sub')!.parentGoalId).toBeUndefined();
    expect(familyPlan.interventions[0]!.dependsOn).toEqual([]);
  });

  it('does not carry the family’s links to other municipalities: they rest on the family’s consent', () => {
    expect(ownPlan.municipalities).toEqual([{ code: '101', role: 'acting' }, { code: '751', role: 'residence' }]);
  });

  it('refuses what makes no sense', () => {
    expect(() => leaveFamilyPlan(planWith([parentA]), 'm-pa', options)).toThrow(LeaveError);
    expect(() => leaveFamilyPlan(family, 'm-nobody', options)).toThrow(/no such member/);
    expect(() => leaveFamilyPlan(familyPlan, 'm-pb', options)).toThrow(/already left/);
    expect(() => leaveFamilyPlan({ ...family, status: 'closed' }, 'm-pb', options)).toThrow(/closed/);
    const twoLeft = leaveFamilyPlan(leaveFamilyPlan(family, 'm-pb', options).familyPlan, 'm-c', { ...options, newPlanId: 'plan-own-2' }).familyPlan;
    expect(() => leaveFamilyPlan(twoLeft, 'm-pa', { ...options, newPlanId: 'plan-own-3' })).toThrow(/last member/);
  });
});
