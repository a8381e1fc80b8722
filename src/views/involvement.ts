/**
 * Which of the municipality's departments take part in a plan: the rule a read by a caseworker of
 * another department is weighed against. A department takes part when
 * - it coordinates the plan (R5), or a caseworker taking part made it a party (`plan.parties`);
 * - an element of the plan is in its sector (a goal, an intervention, an agreement, a care team);
 * - data in the plan was given to it alone by consent (provenance `audience`, or an element kept for
 *   it alone after its source left, R9);
 * - the plan replaces or frames one of its sector plans (R2);
 * - a member's consent or a recorded legal basis, in force, names it as recipient (R9, R11).
 * Read only from the plan and its members' consent documents, so it is the same wherever asked.
 */
import type { AppDeps } from '../api/context';
import type { Plan, SectorPlanType } from '../model';
import { Department, membersOf } from '../model';
import { activeOn } from '../consent/policy';
import { actorOf, type Principal } from '../security';
import type { ConsentDocument, Store } from '../store';

/** The department that keeps each sector plan (sector-plans.md): whose plan an Én plan replaces or frames. */
const keeperOf: Record<SectorPlanType, Department> = {
  'employment-plan': 'employment',
  'rehabilitation-action-part': 'employment',
  'sickness-benefit-agreement': 'employment',
  'sel-141-plan': 'social',
  'children-plan': 'children',
  'youth-plan': 'children',
  'parents-plan': 'children',
  'integration-contract': 'integration',
  'education-plan': 'education',
};

export function departmentsInPlan(plan: Plan, documents: readonly ConsentDocument[], at: Date): Set<Department> {
  return new Set([...departmentsByContent(plan), ...departmentsByConsent(plan, documents, at)]);
}

/** The departments the plan itself names: coordination, parties by record, elements, replaced sector plans. */
function departmentsByContent(plan: Plan): Set<Department> {
  const found = new Set<Department>();
  if (plan.coordinator) found.add(plan.coordinator.sector);
  for (const party of plan.parties) found.add(party.department);
  const elements: { sector?: Department; provenance: Plan['goals'][number]['provenance']; keptVisibility?: { audience?: Department[] } }[] = [
    ...plan.goals,
    ...plan.interventions,
    ...plan.agreements,
    ...plan.careTeams,
    ...plan.followUps,
  ];
  for (const element of elements) {
    if (element.sector) found.add(element.sector);
    for (const entry of element.provenance) if (entry.kind === 'source') for (const department of entry.audience ?? []) found.add(department);
    // Kept for named departments after what it was about left the plan (decision 0026): they still take part.
    for (const department of element.keptVisibility?.audience ?? []) found.add(department);
  }
  for (const replaced of plan.replaces) found.add(keeperOf[replaced.planType]);
  return found;
}

/** The departments an active member's consent or legal basis in force names as recipient. */
function departmentsByConsent(plan: Plan, documents: readonly ConsentDocument[], at: Date): Set<Department> {
  const found = new Set<Department>();
  const members = new Set(membersOf(plan).filter((m) => !m.leftAt).map((m) => m.citizenId));
  for (const document of documents) {
    if (!members.has(document.citizenId)) continue;
    const inForce = document.kind === 'grant' ? activeOn(document.validFrom, document.validTo, document.revokedAt, at) : activeOn(undefined, document.validTo, document.endedAt, at);
    if (inForce && isDepartment(document.recipient)) found.add(document.recipient);
  }
  return found;
}

const isDepartment = (recipient: string): recipient is Department => (Department.options as readonly string[]).includes(recipient);

/**
 * Whether a department takes part in a plan: for the audit row of a caseworker's read
 * (`departmentInPlan`), and for who may make another department a party. The consents are read only
 * when the plan itself does not name the department.
 */
export async function departmentTakesPart(store: Pick<Store, 'consents'>, plan: Plan, department: Department, at: Date): Promise<boolean> {
  if (departmentsByContent(plan).has(department)) return true;
  const members = membersOf(plan).map((m) => m.citizenId);
  return departmentsByConsent(plan, await store.consents.forCitizens(plan.tenant, members), at).has(department);
}

/** One read from outside a plan, as the DPO's follow-up lists it: one entry per member told of it. */
export interface ReadFromOutside {
  seq: number;
  at: string;
  actor: string;
  action: string;
  planId: string;
  citizenId: string | null;
  department: string | null;
}

/**
 * The DPO's log follow-up (the API and the DPO's page): the reads from outside a plan in a period (by
 * default the last 30 days up to now), a page at a time. The look itself is logged.
 */
export async function listReadsFromOutside(deps: AppDeps, principal: Principal, query: { from?: string; to?: string; afterSeq?: number; limit: number }) {
  const { store, clock } = deps;
  const now = clock.now();
  const from = query.from ? new Date(query.from).toISOString() : new Date(now.getTime() - 30 * 24 * 60 * 60_000).toISOString();
  const to = query.to ? new Date(query.to).toISOString() : now.toISOString();
  if (from >= to) return { invalid: '`from` must come before `to`' } as const;
  const rows = await store.audit.readsFromOutside(principal.tenant, { from, to, ...(query.afterSeq !== undefined ? { afterSeq: query.afterSeq } : {}), limit: query.limit + 1 });
  const entries: ReadFromOutside[] = rows.slice(0, query.limit).map((row) => ({
    seq: row.seq,
    at: row.at,
    actor: row.actor,
    action: row.action,
    planId: row.targetId,
    citizenId: row.citizenId,
    department: typeof row.detail.department === 'string' ? row.detail.department : null,
  }));
  await store.audit.append(principal.tenant, { at: now.toISOString(), actor: actorOf(principal), action: 'data-subject.reads-from-outside-listed', targetType: 'tenant', targetId: principal.tenant, citizenId: null, detail: { from, to, entries: entries.length } });
  return { from, to, entries, nextAfterSeq: rows.length > query.limit ? entries.at(-1)!.seq : null };
}
