import { describe, expect, it } from 'vitest';
import { Plan, type ConsentGrant, type SectorPlanType } from '../../src/model';
import { decideFlow } from '../../src/consent/policy';
import { completenessOf, replacementProblems, sectorPlanRuleFor, sectorPlanRules } from '../../src/rules';
import { applyRegistration, RegistrationInvalid } from '../../src/registrations/apply';
import { citizenView, familyMember, followUp, goal, intervention, planWith } from '../support/elements';
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

/** A grant to the Én plan about `about`, given by `by` in `capacity`. */
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

describe('the consents a replaced plan needs (R25 consentFrom)', () => {
  const parent = familyMember('m-parent', 'parent', '1980-01-01');
  const young = familyMember('m-young', 'young-person', '2009-03-01'); // 17 on the day
  const family = (relation: 'replaces' | 'frames') => planWith([parent, young], { replaces: [{ planType: 'youth-plan', relation, memberId: 'm-young' }] });
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

describe('whose views, whose follow-up, whose consent (R2, R4, R25)', () => {
  const parent = familyMember('m-parent', 'parent', '1980-01-01');
  const child = familyMember('m-child', 'child', '2016-05-01');
  const young = familyMember('m-young', 'young-person', '2009-03-01'); // 17 on the day
  const adultYoung = familyMember('m-young', 'young-person', '2006-03-01'); // 20 on the day
  const ids = (plan: Plan, grants?: ConsentGrant[]) => completenessOf(plan, today, undefined, grants)[0]!.missing.map((m) => m.id);
  const ownGrant = (about: string): ConsentGrant => grant(`g-${about}`, about, about, 'self');
  const childPlanContent = (views: Plan['citizenViews']) => ({
    replaces: [{ planType: 'children-plan' as const, relation: 'replaces' as const }],
    goals: [goal('g1', { sector: 'children', topics: ['wellbeing'], memberId: 'm-child' })],
    interventions: [intervention('i1', 'm-child', { sector: 'children', legalBasis: 'Barnets lov § 32' })],
    followUps: [followUp('f1')],
    citizenViews: views,
  });

  it('a parent’s views are not the child’s: barnets plan needs the child heard (Barnets lov § 5 stk. 3)', () => {
    expect(ids(planWith([parent, child], childPlanContent([citizenView('v1', 'm-parent')])))).toContain('childs-views');
    expect(ids(planWith([parent, child], childPlanContent([citizenView('v1', 'm-parent'), citizenView('v2', 'm-child')])))).toEqual([]);
    // The parents' part replaced for the parent still needs the child's views, not the parent's own.
    const forParent = (views: Plan['citizenViews']) => planWith([parent, child], { ...childPlanContent(views), replaces: [{ planType: 'children-plan', relation: 'replaces', memberId: 'm-parent' }] });
    expect(ids(forParent([citizenView('v1', 'm-parent')]))).toContain('childs-views');
    expect(ids(forParent([citizenView('v2', 'm-child')]))).not.toContain('childs-views');
  });

  it('a parent’s views are not the young person’s: an ungeplan needs the young person heard', () => {
    const youthPlan = (views: Plan['citizenViews'], memberId?: string) =>
      planWith([parent, young], {
        replaces: [{ planType: 'youth-plan', relation: 'replaces', ...(memberId ? { memberId } : {}) }],
        goals: [goal('g1', { sector: 'children', topics: ['wellbeing', 'transition-to-adulthood'], memberId: 'm-young' })],
        followUps: [followUp('f1')],
        citizenViews: views,
      });
    expect(ids(youthPlan([citizenView('v1', 'm-parent')]))).toContain('youth-views');
    expect(ids(youthPlan([citizenView('v1', 'm-parent')], 'm-young'))).toContain('youth-views');
    expect(ids(youthPlan([citizenView('v1', 'm-young')], 'm-young'))).toEqual([]);
  });

  it('a follow-up on another member’s element does not follow up this member’s replaced plan (R4)', () => {
    const adult = familyMember('m-adult', 'adult', '1985-01-01');
    const other = familyMember('m-other', 'adult', '1988-01-01');
    const plan = (followUps: Plan['followUps']) =>
      planWith([adult, other], {
        replaces: [{ planType: 'sickness-benefit-agreement', relation: 'replaces', memberId: 'm-adult' }],
        goals: [goal('g-adult', { topics: ['job-goal'], memberId: 'm-adult' }), goal('g-other', { topics: ['job-goal'], memberId: 'm-other' })],
        interventions: [intervention('i-adult', 'm-adult'), intervention('i-other', 'm-other')],
        followUps,
      });
    expect(ids(plan([followUp('f1', { elementId: 'i-other' })]))).toEqual(['follow-up']);
    expect(ids(plan([followUp('f1', { elementId: 'g-other' })]))).toEqual(['follow-up']);
    expect(ids(plan([followUp('f1', { elementId: 'i-adult' })]))).toEqual([]);
    expect(ids(plan([followUp('f1', { elementId: 'g-adult' })]))).toEqual([]);
    // A follow-up of the plan as a whole follows up every member's part.
    expect(ids(plan([followUp('f1')]))).toEqual([]);
  });

  it('replacing the parents’ part of barnets plan needs the parent’s own consent (Barnets lov § 110 stk. 2)', () => {
    const plan = planWith([parent, child], { replaces: [{ planType: 'children-plan', relation: 'replaces', memberId: 'm-parent' }] });
    const consents = (grants: ConsentGrant[]) => ids(plan, grants).filter((id) => id.startsWith('consent-'));
    expect(consents([])).toEqual(['consent-parents']);
    expect(consents([ownGrant(parent.citizenId)])).toEqual([]);
    expect(completenessOf(plan, today, undefined, [])[0]!.missing.find((m) => m.id === 'consent-parents')!.legalReference).toMatch(/§ 110 stk. 2/);
  });

  it('a young person of 18 or more has no custody holder to consent for them (Barnets lov § 110, R4)', () => {
    const plan = planWith([parent, adultYoung], { replaces: [{ planType: 'youth-plan', relation: 'replaces', memberId: 'm-young' }] });
    expect(ids(plan, [ownGrant(adultYoung.citizenId)])).not.toContain('consent-custody-holder');
    expect(ids(plan, []).filter((id) => id.startsWith('consent-'))).toEqual(['consent-young-person-16']);
    // Under 18 the custody holder's consent is still needed.
    const minor = planWith([parent, young], { replaces: [{ planType: 'youth-plan', relation: 'replaces', memberId: 'm-young' }] });
    expect(ids(minor, [ownGrant(young.citizenId)])).toContain('consent-custody-holder');
  });
});

describe('what an Én plan may replace, and for whom (R2, R25; Barnets lov § 110)', () => {
  const parent = familyMember('m-parent', 'parent', '1980-01-01');
  const child = familyMember('m-child', 'child', '2016-05-01');
  const members = (...born: [string, string][]) => born.map(([id, birthDate]) => familyMember(id, 'young-person', birthDate));
  const problems = (entry: { planType: SectorPlanType; relation: 'replaces' | 'frames'; memberId?: string }, people = [parent, child], date = today) => replacementProblems([entry], date, people);

  it('replaces only the parents’ part of barnets plan, never the child’s own', () => {
    expect(problems({ planType: 'children-plan', relation: 'replaces', memberId: 'm-parent' })).toEqual([]);
    expect(problems({ planType: 'children-plan', relation: 'replaces', memberId: 'm-child' })).toEqual([{ index: 0, field: 'memberId', message: expect.stringContaining('§ 110 stk. 2') }]);
    const young = familyMember('m-young', 'young-person', '2009-03-01');
    expect(problems({ planType: 'children-plan', relation: 'replaces', memberId: 'm-young' }, [parent, young])).toHaveLength(1);
    // Framing the child's own plan is fine.
    expect(problems({ planType: 'children-plan', relation: 'frames', memberId: 'm-child' })).toEqual([]);
  });

  it('replaces an ungeplan only for a young person aged 16–23 on the Danish day (Barnets lov § 110 stk. 1)', () => {
    const people = members(['m15', '2011-11-24'], ['m16', '2010-11-23'], ['m23', '2002-11-24'], ['m24', '2002-11-23']);
    const forMember = (memberId: string) => problems({ planType: 'youth-plan', relation: 'replaces', memberId }, people);
    expect(forMember('m15')).toEqual([{ index: 0, field: 'memberId', message: expect.stringContaining('16–23') }]);
    expect(forMember('m16')).toEqual([]);
    expect(forMember('m23')).toEqual([]);
    expect(forMember('m24')).toHaveLength(1);
    // Framing it asks nothing of the age.
    expect(problems({ planType: 'youth-plan', relation: 'frames', memberId: 'm24' }, people)).toEqual([]);
  });

  it('an ungeplan replaced must name the young person in a family plan; a one-person plan names them itself', () => {
    const young = familyMember('m-young', 'young-person', '2009-03-01');
    expect(problems({ planType: 'youth-plan', relation: 'replaces' }, [parent, young])).toEqual([{ index: 0, field: 'memberId', message: expect.stringContaining('memberId') }]);
    expect(problems({ planType: 'youth-plan', relation: 'replaces' }, [young])).toEqual([]);
    expect(problems({ planType: 'youth-plan', relation: 'replaces' }, [familyMember('m1', 'adult', '1990-01-01')])).toHaveLength(1);
    // At creation no member can be named yet: the plan must hold someone it may be replaced for.
    expect(replacementProblems([{ planType: 'youth-plan', relation: 'replaces' }], today, [parent, young], undefined, { memberIdsKnown: false })).toEqual([]);
    expect(replacementProblems([{ planType: 'youth-plan', relation: 'replaces' }], today, [parent, child], undefined, { memberIdsKnown: false })).toHaveLength(1);
  });

  it('plan.details-changed refuses an ungeplan replaced for an adult of 36', () => {
    const adult = familyMember('m1', 'adult', '1990-01-01');
    const plan = planWith([adult]);
    const ctx = { registrationId: 'r1', actor: 'caseworker:anna', at: '2026-11-23T10:00:00.000Z', ruleVersion: 'rules-2026.11', newId: () => crypto.randomUUID() };
    const apply = (memberId?: string) => () =>
      applyRegistration(plan, { planId: plan.id, kind: 'plan.details-changed', changes: { replaces: [{ planType: 'youth-plan', relation: 'replaces', ...(memberId ? { memberId } : {}) }] } } as never, ctx);
    expect(apply('m1')).toThrow(RegistrationInvalid);
    expect(apply()).toThrow(RegistrationInvalid);
    try {
      apply('m1')();
    } catch (error) {
      expect((error as RegistrationInvalid).issues).toEqual([{ path: 'changes.replaces.0.memberId', message: expect.stringContaining('16–23') }]);
    }
  });
});
