/**
 * Which events a subscription may hear of (R9 consent first, R16 purpose limitation). A subscription
 * serves one sector system — its vendor's fagsystem — and a plan's events go to it only while some
 * active member's consent (or recorded legal basis) lets data flow between the plan and that system:
 * from the system into the plan, or from the plan to a department whose registrations the system
 * receives. Asked through the one consent policy when the events are fanned out, not when they were
 * recorded, so a grant revoked meanwhile stops them.
 */
import { decideFlow, decideFlowIntoPlan } from '../consent/policy';
import { Department, type ConsentGrant, type DataCategory, type LegalBasisRecord, type SourceSystem } from '../model';
import { routingRules } from '../rules';
import type { PlanMemberConsentRow, SourceSays } from '../store/subscriptions';
import { danishToday } from '../views/danish';

/** The departments whose registrations a system receives, as the routing table says (dfdg: employment and integration; social: social and children; …). */
export function departmentsServedBy(system: SourceSystem): Department[] {
  const named = new Set(routingRules.filter((rule) => !rule.exclude && rule.target === system).map((rule) => rule.recipient));
  return Department.options.filter((department) => named.has(department));
}

/** One active member of a plan, with every consent document recorded for them. */
export interface MemberConsents {
  citizenId: string;
  birthDate: string;
  grants: ConsentGrant[];
  legalBases: LegalBasisRecord[];
  /** The sources' own say against sharing (the region's Consent, as the sync last read it); none when left out. */
  sourceSays?: SourceSays;
}

/**
 * Whether the source's own say stands against sharing the member's data with the municipality on
 * `at`'s Danish day: a refusal (unless it was a permit not started yet, and its first day has come),
 * or a permit whose last day has passed. The sync gate refuses such flows on the member's grants
 * (a legal basis still carries them), so the plan does not concern the source through them either.
 */
export function sourceWithholds(says: SourceSays | undefined, source: SourceSystem, at: Date): boolean {
  if (!says) return false;
  const today = danishToday(at);
  return (
    says.refusals.some((r) => r.source === source && (r.permitsFrom === null || today < r.permitsFrom)) ||
    says.permitEnds.some((e) => e.source === source && e.lastDay < today)
  );
}

const categoriesNamed = (entries: readonly (ConsentGrant | LegalBasisRecord)[], matches: (entry: ConsentGrant | LegalBasisRecord) => boolean): DataCategory[] => [
  ...new Set(entries.filter(matches).flatMap((entry) => entry.categories)),
];

/**
 * Whether any data may flow now between the plan these members are in and the system: into the plan
 * from it (for the whole plan or named departments), or out of the plan to one of its departments.
 * Only the categories a member's own grants and legal bases name are asked about — no other could be allowed.
 */
export function systemHasPartIn(system: SourceSystem, members: readonly MemberConsents[], at: Date): boolean {
  const departments: readonly string[] = departmentsServedBy(system);
  return members.some(({ citizenId, birthDate, grants, legalBases, sourceSays }) => {
    const entries = [...grants, ...legalBases];
    const inflow = categoriesNamed(entries, (entry) => entry.source === system);
    // As the sync gate decides: where the source does not permit sharing, grants for it carry nothing in.
    const inflowGrants = sourceWithholds(sourceSays, system, at) ? grants.filter((g) => g.source !== system) : grants;
    if (inflow.some((category) => decideFlowIntoPlan({ citizenId, birthDate, source: system, category, at }, inflowGrants, legalBases).allowed)) return true;
    return departments.some((recipient) =>
      categoriesNamed(entries, (entry) => entry.source === 'enplan' && entry.recipient === recipient).some(
        (category) => decideFlow({ citizenId, birthDate, source: 'enplan', recipient, category, at }, grants, legalBases).allowed,
      ),
    );
  });
}

/** The rows of `membersWithConsents` as each plan's active members with their consent documents, keyed `tenant|planId`. */
export function membersByPlan(rows: readonly PlanMemberConsentRow[]): Map<string, MemberConsents[]> {
  const byPlan = new Map<string, Map<string, MemberConsents>>();
  for (const row of rows) {
    const key = `${row.tenant}|${row.planId}`;
    const members = byPlan.get(key) ?? new Map<string, MemberConsents>();
    byPlan.set(key, members);
    const member = members.get(row.citizenId) ?? { citizenId: row.citizenId, birthDate: row.birthDate, grants: [], legalBases: [], sourceSays: row.sourceSays };
    members.set(row.citizenId, member);
    if (row.document?.kind === 'grant') member.grants.push(row.document);
    else if (row.document?.kind === 'legal-basis') member.legalBases.push(row.document);
  }
  return new Map([...byPlan].map(([key, members]) => [key, [...members.values()]]));
}

/**
 * Whether a plan concerns a system now (`systemHasPartIn`), from one read of the plans' members and
 * consents (`membersWithConsents`), each plan × system decided once.
 */
export function sharingOf(rows: readonly PlanMemberConsentRow[], at: Date): (tenant: string, planId: string, system: SourceSystem) => boolean {
  const members = membersByPlan(rows);
  const decided = new Map<string, boolean>();
  return (tenant, planId, system) => {
    const key = `${tenant}|${planId}`;
    const decision = `${key}|${system}`;
    if (!decided.has(decision)) decided.set(decision, systemHasPartIn(system, members.get(key) ?? [], at));
    return decided.get(decision)!;
  };
}
