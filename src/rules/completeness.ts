/** Sector completeness (R2): for each replaced or framed plan type, what the Én plan still lacks. */
import type { ConsentGrant, Member, Plan, SectorPlanType } from '../model';
import { ageOn, membersOf } from '../model';
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

/** How a rule's `consentFrom` parties read in a report (Danish, as the rest of the labels). */
const consentLabels: Record<string, string> = {
  citizen: 'Borgerens samtykke til planen',
  'custody-holder': 'Samtykke fra forældremyndighedens indehaver',
  'young-person-16': 'Samtykke fra den unge (fyldt 16 år)',
  parents: 'Forældrenes samtykke',
};

const childRoles = new Set(['child', 'young-person']);
const parentRoles = new Set(['parent', 'custody-holder']);

/** Whether a grant to the Én plan is in force on the date. */
const inForceOn = (grant: ConsentGrant, onDate: string) => grant.recipient === 'enplan' && !grant.revokedAt && grant.validFrom <= onDate && (!grant.validTo || grant.validTo >= onDate);

/**
 * The consents a replaced plan's rule asks for (R25 `consentFrom`) that the plan's members have not
 * given: a grant to the Én plan in force, about the member the replaced plan is for (`memberId`, else
 * the first child or young person for a custody holder's consent, else the first member), given by
 * that member themself ('citizen', 'young-person-16' once they are 16), by a custody holder
 * ('custody-holder'), or by each parent for themself ('parents').
 */
function missingConsents(plan: Plan, rule: SectorPlanRule, memberId: string | undefined, grants: readonly ConsentGrant[], onDate: string): string[] {
  const members = membersOf(plan).filter((m) => !m.leftAt);
  const about: Member | undefined =
    members.find((m) => m.memberId === memberId) ?? (rule.consentFrom.includes('custody-holder') ? members.find((m) => childRoles.has(m.role)) : undefined) ?? members[0];
  const given = (aboutCitizen: string, capacity: ConsentGrant['grantedBy']['capacity'], by?: string) =>
    grants.some((g) => inForceOn(g, onDate) && g.citizenId === aboutCitizen && g.grantedBy.capacity === capacity && (by === undefined || g.grantedBy.citizenId === by));
  return rule.consentFrom.filter((party) => {
    if (!about) return false;
    switch (party) {
      case 'citizen':
        return !given(about.citizenId, 'self', about.citizenId);
      case 'custody-holder':
        // Only a grant in capacity custody-holder, as in the consent gate (src/consent/policy.ts): a
        // guardian (værge) is appointed for an adult, not a custody holder for a child (R4).
        return childRoles.has(about.role) && !given(about.citizenId, 'custody-holder');
      case 'young-person-16':
        return ageOn(about.birthDate, onDate) >= 16 && !given(about.citizenId, 'self', about.citizenId);
      case 'parents':
        return members.filter((m) => parentRoles.has(m.role)).some((parent) => !given(parent.citizenId, 'self', parent.citizenId));
      default:
        return false;
    }
  });
}

/**
 * What each replaced or framed sector plan still lacks on `onDate`. With `grants` (the members'
 * consent grants), a replaced plan also lacks the consents its rule asks for (`consentFrom`).
 */
export function completenessOf(plan: Plan, onDate: string, rules: readonly SectorPlanRule[] = sectorPlanRules, grants?: readonly ConsentGrant[]): CompletenessReport[] {
  return plan.replaces.map((replaced) => {
    const rule = sectorPlanRuleFor(replaced.planType, onDate, rules);
    if (!rule) {
      return { planType: replaced.planType, relation: replaced.relation, ruleVersion: null, legalReference: null, ruleInForce: false, replaceable: false, complete: false, missing: [] };
    }
    const missing = rule.requires
      .filter((req) => !hasElement(plan, req, replaced.memberId))
      .map(({ id, label, legalReference }) => ({ id, label, legalReference }));
    // Replacing a sector plan needs the consents its rule names; framing one does not.
    if (grants && replaced.relation === 'replaces')
      for (const party of missingConsents(plan, rule, replaced.memberId, grants, onDate))
        missing.push({ id: `consent-${party}`, label: consentLabels[party] ?? `Samtykke (${party})`, legalReference: rule.replacementBasis ?? rule.legalReference });
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

