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
  const members = membersOf(plan);
  const roleOf = (id: string | undefined) => members.find((m) => m.memberId === id)?.role;
  const roles = required.where?.memberRole;
  // The member the replaced plan is about, unless a role filter asks for someone else's elements
  // (the parents' part of barnets plan still needs the child's own views, R4).
  const concerned = memberId && (!roles || roles.includes(roleOf(memberId)!)) ? memberId : undefined;
  const forMember = <T extends { memberId?: string | undefined }>(items: T[]) =>
    items.filter((i) => (!concerned || !i.memberId || i.memberId === concerned) && (!roles || (!!i.memberId && roles.includes(roleOf(i.memberId)!))));
  // A follow-up is the member's when it follows up the plan as a whole or one of their elements.
  const elementMember = (elementId: string) => [...plan.goals, ...plan.interventions, ...plan.agreements].find((e) => e.id === elementId);
  const followsUpMember = (f: Plan['followUps'][number]) => {
    if (!memberId || !f.elementId) return true;
    const element = elementMember(f.elementId);
    return !element?.memberId || element.memberId === memberId;
  };
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
      return plan.followUps.some(followsUpMember);
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
 * that member themself ('citizen', 'young-person-16' once they are 16), by a custody holder while
 * they are under 18 ('custody-holder': no one holds custody of an adult, R4), or by the parents for
 * themselves ('parents': the parent the replaced plan is for, else each parent in the plan).
 */
function missingConsents(plan: Plan, rule: SectorPlanRule, memberId: string | undefined, grants: readonly ConsentGrant[], onDate: string): string[] {
  const members = membersOf(plan).filter((m) => !m.leftAt);
  const named = members.find((m) => m.memberId === memberId);
  const about: Member | undefined = named ?? (rule.consentFrom.includes('custody-holder') ? members.find((m) => childRoles.has(m.role)) : undefined) ?? members[0];
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
        return childRoles.has(about.role) && ageOn(about.birthDate, onDate) < 18 && !given(about.citizenId, 'custody-holder');
      case 'young-person-16':
        return ageOn(about.birthDate, onDate) >= 16 && !given(about.citizenId, 'self', about.citizenId);
      case 'parents': {
        // The parents' part of a plan is replaced with their own consent (Barnets lov §§ 78, 110 stk. 2).
        const inParentRole = members.filter((m) => parentRoles.has(m.role));
        const parents = named && !childRoles.has(named.role) ? [named] : inParentRole.length > 0 ? inParentRole : childRoles.has(about.role) ? [] : [about];
        return parents.some((parent) => !given(parent.citizenId, 'self', parent.citizenId));
      }
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

/** Whom a rule allows an Én plan to replace it for (R25 `replaceableFor`), on the day. */
function mayBeReplacedFor(rule: SectorPlanRule, member: Member, onDate: string): boolean {
  const limits = rule.replaceableFor;
  if (!limits) return true;
  if (limits.memberRoles && !limits.memberRoles.includes(member.role)) return false;
  if (limits.age) {
    const age = ageOn(member.birthDate, onDate);
    if (age < limits.age.min || age >= limits.age.maxExclusive) return false;
  }
  return true;
}

export interface ReplacementProblem {
  index: number;
  /** The field of the entry at fault: its relation (the plan type cannot be replaced) or its member. */
  field: 'relation' | 'memberId';
  message: string;
}

/**
 * Why these replaced or framed sector plans cannot be recorded on `onDate` (R2, R25): an Én plan may
 * replace only a plan type whose rule in force says it may (a KUI education plan, say, it can only
 * frame), and only for a member the rule allows (`replaceableFor`: an ungeplan for a young person
 * aged 16–23 on the Danish day, barnets plan only for a parent's part). Such an entry must name its
 * member (`memberId`) unless the plan has one member; when `memberIdsKnown` is false (at creation,
 * before members have ids) it is enough that some member may have it replaced. Any type may be
 * framed. Empty when all is well.
 */
export function replacementProblems(
  replaces: readonly { planType: SectorPlanType; relation: 'replaces' | 'frames'; memberId?: string | undefined }[],
  onDate: string,
  members: readonly Member[],
  rules: readonly SectorPlanRule[] = sectorPlanRules,
  options: { memberIdsKnown?: boolean } = {},
): ReplacementProblem[] {
  const memberIdsKnown = options.memberIdsKnown ?? true;
  const active = members.filter((m) => !m.leftAt);
  const problems: ReplacementProblem[] = [];
  replaces.forEach((entry, index) => {
    if (entry.relation !== 'replaces') return;
    const rule = sectorPlanRuleFor(entry.planType, onDate, rules);
    if (!rule) return problems.push({ index, field: 'relation', message: `no rule for ${entry.planType} is in force on ${onDate}, so an Én plan cannot replace it; it can frame it (relation "frames")` });
    if (!rule.replaceable) return problems.push({ index, field: 'relation', message: `an Én plan cannot replace the ${rule.name} (${rule.legalReference}); it can frame it (relation "frames")` });
    if (!rule.replaceableFor) return;
    const basis = rule.replacementBasis ?? rule.legalReference;
    const refused = `an Én plan can replace the ${rule.name} ${rule.replaceableFor.description} (${basis}) on ${onDate}`;
    if (entry.memberId !== undefined) {
      const member = members.find((m) => m.memberId === entry.memberId);
      if (!member) return problems.push({ index, field: 'memberId', message: `${entry.memberId} is not a member of the plan` });
      if (!mayBeReplacedFor(rule, member, onDate)) return problems.push({ index, field: 'memberId', message: `${refused}; member ${member.memberId} (${member.role}, aged ${ageOn(member.birthDate, onDate)}) is not one it may be replaced for` });
      return;
    }
    if (active.length === 1 || !memberIdsKnown) {
      if (!active.some((m) => mayBeReplacedFor(rule, m, onDate))) problems.push({ index, field: 'memberId', message: `${refused}; no one in the plan is one it may be replaced for` });
      return;
    }
    problems.push({ index, field: 'memberId', message: `${refused}: name the member whose plan it is (memberId)` });
  });
  return problems;
}
