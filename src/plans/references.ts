/**
 * Keeping a plan document whole after elements leave it (a revocation removed them, or a member
 * took them to their own plan): references to elements that are gone are dropped, so the plan
 * still passes the model's checks (`goalIds`, `dependsOn`, `parentGoalId`). Pure.
 */
import type { Plan } from '../model';

export type ElementList = 'citizenViews' | 'goals' | 'interventions' | 'agreements' | 'followUps' | 'situationNotes' | 'careTeams';
export const elementLists: readonly ElementList[] = ['citizenViews', 'goals', 'interventions', 'agreements', 'followUps', 'situationNotes', 'careTeams'];

export interface ReferenceRepair {
  plan: Plan;
  /** Follow-ups whose element is gone; kept as plan-level follow-ups for a caseworker to review. */
  detachedFollowUps: string[];
  /** Conflicts about elements that are gone; dropped. */
  droppedConflicts: string[];
}

export function elementIdsOf(plan: Pick<Plan, ElementList>): Set<string> {
  const ids = new Set<string>();
  for (const list of elementLists) for (const element of plan[list]) ids.add(element.id);
  return ids;
}

/**
 * Drops references to elements that are not in the plan. `formerIds` are the ids the plan held
 * before: only references to those are repaired, so a follow-up about something that was never an
 * element (the situation, say) is left alone.
 */
export function dropDanglingReferences(plan: Plan, formerIds: ReadonlySet<string>): ReferenceRepair {
  const present = elementIdsOf(plan);
  const gone = (id: string | undefined) => id !== undefined && formerIds.has(id) && !present.has(id);
  const goalIds = new Set(plan.goals.map((g) => g.id));
  const interventionIds = new Set(plan.interventions.map((i) => i.id));
  const detachedFollowUps: string[] = [];
  const droppedConflicts: string[] = [];

  const goals = plan.goals.map((goal) => {
    if (!goal.parentGoalId || goalIds.has(goal.parentGoalId)) return goal;
    const { parentGoalId: _dropped, ...rest } = goal;
    return rest;
  });
  const interventions = plan.interventions.map((intervention) => {
    const keptGoals = intervention.goalIds.filter((id) => goalIds.has(id));
    const keptDeps = intervention.dependsOn.filter((id) => interventionIds.has(id));
    return keptGoals.length === intervention.goalIds.length && keptDeps.length === intervention.dependsOn.length
      ? intervention
      : { ...intervention, goalIds: keptGoals, dependsOn: keptDeps };
  });
  const followUps = plan.followUps.map((followUp) => {
    if (!gone(followUp.elementId)) return followUp;
    detachedFollowUps.push(followUp.id);
    const { elementId: _gone, ...rest } = followUp;
    return rest;
  });
  const conflicts = plan.conflicts.filter((conflict) => {
    if (!gone(conflict.elementId)) return true;
    droppedConflicts.push(conflict.id);
    return false;
  });
  return { plan: { ...plan, goals, interventions, followUps, conflicts }, detachedFollowUps, droppedConflicts };
}
