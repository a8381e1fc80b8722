import { describe, expect, it } from 'vitest';
import { Plan, type ConsentGrant, type SectorPlanType } from '../../src/model';
import { decideFlow } from '../../src/consent/policy';
import { completenessOf, sectorPlanRuleFor, sectorPlanRules } from '../../src/rules';
import { familyMember, planWith } from '../support/elements';
import { validPlan } from '../support/plans';

const today = '2026-11-23';
const planReplacing = (planType: SectorPlanType, overrides: Record<string, unknown> = {}) =>
  Plan.parse({ ...validPlan(), replaces: [{ planType, relation: 'replaces' }], ...overrides });
const emptyPlan = (planType: SectorPlanType) =>
  planReplacing(planType, { purpose: undefined, situation: undefined, citizenViews: [], goals: [], interventions: [], agreements: [], followUps: [], coordinator: undefined, timeFrame: undefined });
const missingIds = (plan: Plan, date = today) => completenessOf(plan, date)[0]!.missing.map((m) => m.id);

describe('sector completeness (R2)', () => {
  it('declares requirements with a legal reference for every plan type', () => {
    for (const rule of sectorPlanRules) {
      expect(rule.requires.length).toBeGreaterThan(0);
      for (const req of rule.requires) expect(req.legalReference).toMatch(/§|BEK|lov/i);
    }
    const types = new Set(sectorPlanRules.map((r) => r.planType));
    for (const t of ['employment-plan', 'rehabilitation-action-part', 'sel-141-plan', 'children-plan', 'integration-contract', 'education-plan']) expect(types.has(t as never)).toBe(true);
  });

  it.each([
    ['employment-plan', ['job-goal', 'job-search-agreements', 'employment-offers', 'status-follow-up']],
    ['rehabilitation-action-part', ['education-employment-goal', 'cross-disciplinary-interventions', 'coordinating-caseworker', 'follow-up']],
    ['sel-141-plan', ['purpose', 'social-intervention', 'expected-duration', 'other-matters']],
    ['children-plan', ['wellbeing-development-goals', 'childs-views', 'children-intervention', 'follow-up']],
    ['integration-contract', ['employment-education-goal', 'programme-activities', 'signed-agreement']],
    ['education-plan', ['education-goal', 'municipal-measures']],
  ] as const)('reports everything an empty plan lacks as a %s', (planType, expected) => {
    const date = planType === 'rehabilitation-action-part' ? '2026-03-01' : today;
    expect(missingIds(emptyPlan(planType), date)).toEqual(expected);
  });

  it('finds the elements a full plan has', () => {
    const sel = completenessOf(planReplacing('sel-141-plan'), today)[0]!;
    expect(sel).toMatchObject({ complete: true, missing: [], ruleInForce: true, legalReference: 'Serviceloven § 141 stk. 3' });
    // The employment plan needs an employment intervention; the fixture has only a social one.
    expect(missingIds(planReplacing('employment-plan'))).toEqual(['employment-offers']);
  });

  it('matches by sector and topic, not by mere presence', () => {
    const plan = validPlan() as any;
    plan.goals[0].topics = ['wellbeing'];
    expect(missingIds(Plan.parse({ ...plan, replaces: [{ planType: 'employment-plan', relation: 'replaces' }] }))).toContain('job-goal');
  });

  it('treats the law as dated data (R25): no rehabilitation team after 1 July 2026', () => {
    expect(sectorPlanRuleFor('rehabilitation-action-part', '2026-06-30')?.version).toBe('lab-2024.1');
    expect(sectorPlanRuleFor('rehabilitation-action-part', '2026-07-01')).toBeUndefined();
    const report = completenessOf(planReplacing('rehabilitation-action-part'), '2026-07-01')[0]!;
    expect(report).toMatchObject({ ruleInForce: false, complete: false });
  });

  it('knows which plans may be replaced and which only framed', () => {
    expect(sectorPlanRuleFor('education-plan', today)?.replaceable).toBe(false);
    expect(sectorPlanRuleFor('sel-141-plan', today)?.replacementBasis).toBe('Serviceloven § 141 stk. 7');
  });
});

describe('the consents a replaced plan needs (R25 consentFrom)', () => {
  const parent = familyMember('m-parent', 'parent', '1980-01-01');
  const young = familyMember('m-young', 'young-person', '2009-03-01'); // 17 on the day
  const family = (relation: 'replaces' | 'frames') => planWith([parent, young], { replaces: [{ planType: 'youth-plan', relation, memberId: 'm-young' }] });
  const grant = (id: string, about: string, by: string, capacity: ConsentGrant['grantedBy']['capacity'], extra: Partial<ConsentGrant> = {}): ConsentGrant => ({
    id,
    tenant: '101',
    citizenId: about,
    grantedBy: { citizenId: by, capacity },
    source: 'social',
    recipient: 'enplan',
    categories: ['plan-core'],
    explicitHealth: false,
    purpose: 'Samlet plan',
    validFrom: '2026-01-01',
    signed: { method: 'mitid', documentRef: 'doc', textVersion: 'v1', language: 'da' },
    createdAt: '2026-01-01T09:00:00.000Z',
    ...extra,
  });
  const consentItems = (plan: Plan, grants: ConsentGrant[]) => completenessOf(plan, today, undefined, grants)[0]!.missing.map((m) => m.id).filter((id) => id.startsWith('consent-'));

  it('a youth plan replaced needs the custody holder’s and the young person’s own consent (Barnets lov § 110)', () => {
    expect(consentItems(family('replaces'), [])).toEqual(['consent-custody-holder', 'consent-young-person-16']);
    const byParent = grant('g1', young.citizenId, parent.citizenId, 'custody-holder');
    expect(consentItems(family('replaces'), [byParent])).toEqual(['consent-young-person-16']);
    const own = grant('g2', young.citizenId, young.citizenId, 'self');
    expect(consentItems(family('replaces'), [byParent, own])).toEqual([]);
    // A revoked or lapsed grant, or one to another recipient, is no consent now.
    expect(consentItems(family('replaces'), [byParent, { ...own, revokedAt: '2026-06-01T00:00:00.000Z' }])).toEqual(['consent-young-person-16']);
    expect(consentItems(family('replaces'), [byParent, { ...own, validTo: '2026-06-30' }])).toEqual(['consent-young-person-16']);
    expect(consentItems(family('replaces'), [byParent, { ...own, recipient: 'employment' }])).toEqual(['consent-young-person-16']);
    expect(completenessOf(family('replaces'), today, undefined, [])[0]!.missing.find((m) => m.id === 'consent-custody-holder')!.legalReference).toBe('Barnets lov § 110 stk. 1');
  });

  it('a "guardian" (værge) grant is no custody holder’s consent, here as in the consent gate (R4, Barnets lov § 110)', () => {
    const own = grant('g2', young.citizenId, young.citizenId, 'self');
    const byGuardian = grant('g3', young.citizenId, parent.citizenId, 'guardian');
    expect(consentItems(family('replaces'), [own, byGuardian])).toEqual(['consent-custody-holder']);
    const flow = { citizenId: young.citizenId, birthDate: young.birthDate, source: 'social' as const, recipient: 'enplan' as const, category: 'plan-core' as const, at: new Date('2026-11-23T12:00:00.000Z') };
    expect(decideFlow(flow, [own, byGuardian]).allowed).toBe(false);
    const byParent = grant('g1', young.citizenId, parent.citizenId, 'custody-holder');
    expect(consentItems(family('replaces'), [own, byParent])).toEqual([]);
    expect(decideFlow(flow, [own, byParent]).allowed).toBe(true);
  });

  it('framing a plan asks for no consent, and a report without grants says nothing about consent', () => {
    expect(consentItems(family('frames'), [])).toEqual([]);
    expect(completenessOf(family('replaces'), today)[0]!.missing.some((m) => m.id.startsWith('consent-'))).toBe(false);
  });
});
