/**
 * The one consent policy (R9–R11): may this category of data flow from this source to this
 * recipient for this citizen now? Pure and synchronous, so the sync engine, the registration
 * router and the delivery relay all ask the same question the same way, and tests can cover the
 * whole matrix.
 */
import type { ConsentGrant, ConsentSource, DataCategory, LegalBasisRecord, Recipient } from '../model';
import { ageOn, Department } from '../model';
import { danishToday } from '../views/danish';
import { capacityRuleFor } from './rules';

export interface FlowQuestion {
  citizenId: string;
  /** The citizen's birth date, for whose consent counts (R4). */
  birthDate: string;
  source: ConsentSource;
  recipient: Recipient;
  category: DataCategory;
  at: Date;
}

export type FlowDecision =
  | { allowed: true; basis: 'consent'; grantIds: string[] }
  | { allowed: true; basis: 'legal-basis'; recordId: string; legalBasis: string; informCitizen: boolean }
  | { allowed: false; reason: string };

/**
 * Dates of consent are Danish calendar days: a grant valid "til og med" 10 March ends at midnight in
 * Denmark, and a young person is 16 from 00:00 Danish time on their birthday (R4, R9). A revocation
 * or an end is an instant, compared as one.
 */
export function activeOn(validFrom: string | undefined, validTo: string | undefined, revokedAt: string | undefined, at: Date): boolean {
  const day = danishToday(at);
  if (validFrom && day < validFrom) return false;
  if (validTo && day > validTo) return false;
  if (revokedAt && new Date(revokedAt) <= at) return false;
  return true;
}

function covers(entry: { citizenId: string; source: ConsentSource; recipient: Recipient; categories: DataCategory[] }, q: FlowQuestion) {
  return entry.citizenId === q.citizenId && entry.source === q.source && entry.recipient === q.recipient && entry.categories.includes(q.category);
}

export function decideFlow(question: FlowQuestion, grants: readonly ConsentGrant[], legalBases: readonly LegalBasisRecord[] = []): FlowDecision {
  const day = danishToday(question.at);
  const matching = grants.filter(
    (g) => covers(g, question) && activeOn(g.validFrom, g.validTo, g.revokedAt, question.at) && (question.category !== 'health' || g.explicitHealth),
  );
  const rule = capacityRuleFor(ageOn(question.birthDate, day), day);
  if (rule && matching.length > 0) {
    // Each capacity by itself: a custody holder's consent is a grant in capacity custody-holder, never a
    // guardian's (a værge is appointed for an adult, værgemålsloven) nor any other member's (R4); an
    // adult's own consent, or their guardian's.
    const missing = rule.requires.filter((either) => !matching.some((g) => either.includes(g.grantedBy.capacity)));
    if (missing.length === 0) return { allowed: true, basis: 'consent', grantIds: matching.map((g) => g.id) };
  }
  const basis = legalBases.find((b) => covers(b, question) && activeOn(undefined, b.validTo, b.endedAt, question.at));
  if (basis) return { allowed: true, basis: 'legal-basis', recordId: basis.id, legalBasis: basis.basis, informCitizen: !basis.citizenInformed };
  if (question.category === 'health' && grants.some((g) => covers(g, question) && !g.explicitHealth))
    return { allowed: false, reason: 'health data needs explicit consent (Sundhedsloven §43)' };
  if (matching.length > 0 && rule)
    return { allowed: false, reason: `consent is also needed from: ${rule.requires.map((either) => either.join(' or ')).join(' and ')} (${rule.legalReference})` };
  const anyCovering = grants.filter((g) => covers(g, question));
  if (anyCovering.some((g) => g.revokedAt && new Date(g.revokedAt) <= question.at)) return { allowed: false, reason: 'the consent was revoked' };
  if (anyCovering.length > 0) return { allowed: false, reason: 'the consent is not valid at this time' };
  return { allowed: false, reason: `no consent covers ${question.category} data from ${question.source} to ${question.recipient}` };
}

export type PlanFlowDecision = FlowDecision & {
  audience?: Department[];
  /**
   * Where the departments of `audience` got the data on different bases (one on consent, another on a
   * legal basis, R11): each department's own decision, so each flow is logged on its own basis (R13).
   */
  byDepartment?: { department: Department; decision: Extract<FlowDecision, { allowed: true }> }[];
};

/**
 * May this category of data flow from a sector system into the citizen's plan, and for whom? To
 * every party of the plan when consent (or a legal basis) names the Én plan; otherwise to those
 * departments a grant or legal basis names on its own (R9: per recipient party) — the plan then
 * holds the data for them alone (`audience`). Refused when neither allows it, with the Én plan's reason.
 */
export function decideFlowIntoPlan(question: Omit<FlowQuestion, 'recipient'>, grants: readonly ConsentGrant[], legalBases: readonly LegalBasisRecord[] = []): PlanFlowDecision {
  const whole = decideFlow({ ...question, recipient: 'enplan' }, grants, legalBases);
  if (whole.allowed) return whole;
  const named = new Set<string>([...grants, ...legalBases].filter((entry) => entry.citizenId === question.citizenId && entry.source === question.source).map((entry) => entry.recipient));
  const allowed = Department.options.filter((department) => named.has(department)).map((department) => ({ department, decision: decideFlow({ ...question, recipient: department }, grants, legalBases) }));
  const first = allowed.find((a) => a.decision.allowed)?.decision;
  if (!first?.allowed) return whole;
  const granted = allowed.flatMap((a) => (a.decision.allowed ? [{ department: a.department, decision: a.decision }] : []));
  const audience = granted.map((a) => a.department);
  const bases = new Set(granted.map(({ decision }) => (decision.basis === 'consent' ? 'consent' : `legal:${decision.recordId}`)));
  const byDepartment = bases.size > 1 ? { byDepartment: granted } : {};
  if (first.basis !== 'consent') return { ...first, audience, ...byDepartment };
  // Every grant the flow rests on, so revoking any of them reconsiders it.
  const grantIds = [...new Set(granted.flatMap(({ decision }) => (decision.basis === 'consent' ? decision.grantIds : [])))];
  return { allowed: true, basis: 'consent', grantIds, audience, ...byDepartment };
}

/**
 * What is wrong with a grant's or legal basis's recipient for its source, if anything: one that
 * names a flow nothing carries would be a consent the citizen gave for nothing (R9). Data from a
 * sector system flows into the Én plan — for every party of it (`enplan`) or for named departments;
 * what leaves the Én plan goes to a department's system (a registration) or another municipality (a
 * link). A provider sees the interventions it performs without a grant (R14).
 */
export function recipientProblem(source: ConsentSource, recipient: Recipient): string | undefined {
  const department = Department.safeParse(recipient).success;
  if (source !== 'enplan')
    return recipient === 'enplan' || department
      ? undefined
      : `data from ${source} flows into the Én plan: the recipient is enplan (every party of the plan) or one department (${Department.options.join(', ')}); sharing the plan with another municipality is a grant from source enplan`;
  if (department || recipient.startsWith('municipality:')) return undefined;
  return recipient === 'enplan'
    ? 'from source enplan, the recipient is a department (its system gets the registrations) or another municipality (municipality:<code>)'
    : 'a provider sees the interventions it performs without a grant (R14): a grant to it would change nothing';
}
