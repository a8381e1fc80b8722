/** Sector completeness (R2): for each replaced or framed plan type, what the Én plan still lacks. */
import type { Plan, SectorPlanType } from '../model';
import type { RequiredElement, SectorPlanRule } from './schema';
import { sectorPlanRuleFor, sectorPlanRules } from './sector-plans';

export interface CompletenessReport {
  planType: SectorPlanType;
  relation: 'replaces' | 'frames';
  ruleVersion: string | null;
  legalReference: string | null;
  /** A plan type with no rule in force on the date (for example after a reform) is reported, not guessed. */
  ruleInForce: boolean;
  replaceable: boolean;
  complete: boolean;
  missing: { id: string; label: string; legalReference: string }[];
}

function matchesWhere(item: { sector?: string; level?: string; topics?: string[] }, where: RequiredElement['where']): boolean {
  if (!where) return true;
  if (where.sector && !(item.sector && where.sector.includes(item.sector as never))) return false;
  if (where.goalLevel && !(item.level && where.goalLevel.includes(item.level as never))) return false;
  if (where.topic && !(item.topics ?? []).some((t) => where.topic!.includes(t))) return false;
  return true;
}

export function hasElement(plan: Plan, required: RequiredElement, memberId?: string): boolean {
  const forMember = <T extends { memberId?: string | undefined }>(items: T[]) => (memberId ? items.filter((i) => !i.memberId || i.memberId === memberId) : items);
  switch (required.element) {
    case 'purpose':
      return !!plan.purpose;
    case 'situation':
      return !!plan.situation?.summary;
    case 'citizenViews':
      return forMember(plan.citizenViews).length > 0;
    case 'coordinator':
      return !!plan.coordinator;
    case 'timeFrame':
      return !!plan.timeFrame;
    case 'goal':
      return forMember(plan.goals).some((g) => g.status !== 'abandoned' && matchesWhere(g, required.where));
    case 'intervention':
      return forMember(plan.interventions).some((i) => i.status !== 'cancelled' && matchesWhere(i, required.where));
    case 'agreement':
      return forMember(plan.agreements).some((a) => matchesWhere(a, required.where));
    case 'followUp':
      return plan.followUps.length > 0;
  }
}

export function completenessOf(plan: Plan, onDate: string, rules: readonly SectorPlanRule[] = sectorPlanRules): CompletenessReport[] {
  return plan.replaces.map((replaced) => {
    const rule = sectorPlanRuleFor(replaced.planType, onDate, rules);
    if (!rule) {
      return { planType: replaced.planType, relation: replaced.relation, ruleVersion: null, legalReference: null, ruleInForce: false, replaceable: false, complete: false, missing: [] };
    }
    const missing = rule.requires
      .filter((req) => !hasElement(plan, req, replaced.memberId))
      .map(({ id, label, legalReference }) => ({ id, label, legalReference }));
    return {
      planType: replaced.planType,
      relation: replaced.relation,
      ruleVersion: rule.version,
      legalReference: rule.legalReference,
      ruleInForce: true,
      replaceable: rule.replaceable,
      complete: missing.length === 0,
      missing,
    };
  });
}

/**
 * Why these replaced or framed sector plans cannot be recorded on `onDate` (R2, R25): an Én plan may
 * replace only a plan type whose rule in force says it may (a KUI education plan, say, it can only
 * frame); any type may be framed. Empty when all is well.
 */
export function replacementProblems(replaces: readonly { planType: SectorPlanType; relation: 'replaces' | 'frames' }[], onDate: string, rules: readonly SectorPlanRule[] = sectorPlanRules): { index: number; message: string }[] {
  const problems: { index: number; message: string }[] = [];
  replaces.forEach((entry, index) => {
    if (entry.relation !== 'replaces') return;
    const rule = sectorPlanRuleFor(entry.planType, onDate, rules);
    if (!rule) problems.push({ index, message: `no rule for ${entry.planType} is in force on ${onDate}, so an Én plan cannot replace it; it can frame it (relation "frames")` });
    else if (!rule.replaceable) problems.push({ index, message: `an Én plan cannot replace the ${rule.name} (${rule.legalReference}); it can frame it (relation "frames")` });
  });
  return problems;
}

