/** One open Én plan per citizen (R5, R6): the check a finished plan's return to an open status needs, on every path that changes a status. */
import type { AppDeps } from '../api/context';
import { ProblemError } from '../api/context';
import { membersOf, type Plan, type PlanStatus } from '../model';

export const finishedStatuses: ReadonlySet<string> = new Set(['closed', 'declined']);

/** The citizen's open plan (any status but closed or declined), if they have one. */
export async function openPlanOf(store: AppDeps['store'], tenant: string, citizenId: string): Promise<Plan | null> {
  for (const planId of await store.plans.idsForCitizen(tenant, citizenId)) {
    const plan = await store.plans.get(tenant, planId);
    if (plan && !finishedStatuses.has(plan.status)) return plan;
  }
  return null;
}

/**
 * A finished plan (declined) moving back to an open status (offered or requested again, R6) would
 * give a member who has another open plan since a second one: refused, whether it comes through the
 * status route or as a `plan.status-changed` registration.
 */
export async function refuseSecondOpenPlan(store: AppDeps['store'], tenant: string, plan: Plan, to: PlanStatus): Promise<void> {
  if (!finishedStatuses.has(plan.status) || finishedStatuses.has(to)) return;
  for (const member of membersOf(plan)) {
    if (member.leftAt) continue;
    const open = await openPlanOf(store, tenant, member.citizenId);
    if (open && open.id !== plan.id) throw new ProblemError('duplicate-plan', 'a member of this plan has another open Én plan since; finish that one first, or update it instead');
  }
}
