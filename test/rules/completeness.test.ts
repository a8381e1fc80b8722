import { describe, expect, it } from 'vitest';
import { Plan, type SectorPlanType } from '../../src/model';
import { completenessOf, sectorPlanRuleFor, sectorPlanRules } from '../../src/rules';
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
