/**
 * Keeping a plan document whole after elements leave it (a revocation removed them, or a member
 * took them to their own plan): references to elements that are gone are dropped, so the plan
 * still passes the model's checks (`goalIds`, `dependsOn`, `parentGoalId`), and what stays keeps
 * who could see what left (`keptVisibility`), so no one sees more than before (R4, R9). Pure.
 */
import { audienceOf, protectedElements, type FollowUp, type Goal, type Intervention, type KeptVisibility, type Plan } from '../model';

export type ElementList = 'citizenViews' | 'goals' | 'interventions' | 'agreements' | 'followUps' | 'situationNotes' | 'careTeams';
export const elementLists: readonly ElementList[] = ['citizenViews', 'goals', 'interventions', 'agreements', 'followUps', 'situationNotes', 'careTeams'];

export interface ReferenceRepair {
  plan: Plan;
  /**
   * Follow-ups whose element is gone; kept as plan-level follow-ups for a caseworker to review,
   * with who could see that element (`keptVisibility`), so that no one else sees them now.
   */
  detachedFollowUps: string[];
  /** Conflicts about elements that are gone; dropped. */
  droppedConflicts: string[];
}

export function elementIdsOf(plan: Pick<Plan, ElementList>): Set<string> {
  const ids = new Set<string>();
  for (const list of elementLists) for (const element of plan[list]) ids.add(element.id);
  return ids;
}

/** Who could see `element` before it left (its § 101 a shield, its member, the departments alone its writer reached), or nothing to keep. */
function visibilityOf(element: Goal | Intervention, shielded: ReadonlyMap<string, string | undefined>): KeptVisibility | undefined {
  const audience = audienceOf(element.provenance) as KeptVisibility['audience'];
  const memberId = shielded.has(element.id) ? shielded.get(element.id) : element.memberId;
  const kept: KeptVisibility = { ...(memberId ? { memberId } : {}), ...(shielded.has(element.id) ? { anonymousTreatment: true as const } : {}), ...(audience ? { audience } : {}) };
  return Object.keys(kept).length > 0 ? kept : undefined;
}

/** A follow-up detached from `element`: what it already kept stays (fail closed), what the element's visibility adds joins it. */
function detached(followUp: FollowUp, element: Goal | Intervention | undefined, shielded: ReadonlyMap<string, string | undefined>): FollowUp {
  const { elementId: _gone, ...rest } = followUp;
  const before = followUp.keptVisibility;
  const now = element ? visibilityOf(element, shielded) : undefined;
  if (!now) return rest;
  const keptVisibility: KeptVisibility = { ...now, ...before, ...(now.anonymousTreatment || before?.anonymousTreatment ? { anonymousTreatment: true as const } : {}) };
  return { ...rest, keptVisibility };
}

/**
 * Drops references to elements that are not in the plan. `former` is the plan before they left:
 * only references to its elements are repaired, so a follow-up about something that was never an
 * element (the situation, say) is left alone. Nothing becomes visible to anyone who could not see
 * it in `former` (R4, R9): a follow-up whose element left keeps who could see that element, and a
 * goal shielded only because a SEL § 101 a treatment that left served it stays shielded.
 */
export function dropDanglingReferences(plan: Plan, former: Plan): ReferenceRepair {
  const formerIds = elementIdsOf(former);
  const formerShielded = protectedElements(former);
  const formerElements = new Map<string, Goal | Intervention>([...former.goals, ...former.interventions].map((e) => [e.id, e]));
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
    return detached(followUp, formerElements.get(followUp.elementId!), formerShielded);
  });
  const conflicts = plan.conflicts.filter((conflict) => {
    if (!gone(conflict.elementId)) return true;
    droppedConflicts.push(conflict.id);
    return false;
  });
  const repaired = { ...plan, goals, interventions, followUps, conflicts };
  // A goal does not stop revealing a treatment because the treatment left: it stays shielded for that member.
  const shieldedNow = protectedElements(repaired);
  const unshielded = goals.filter((goal) => formerShielded.has(goal.id) && !shieldedNow.has(goal.id));
  if (unshielded.length > 0) {
    const lost = new Set(unshielded.map((g) => g.id));
    repaired.goals = goals.map((goal) => {
      if (!lost.has(goal.id)) return goal;
      const memberId = formerShielded.get(goal.id);
      return { ...goal, keptVisibility: { ...goal.keptVisibility, ...(memberId ? { memberId } : {}), anonymousTreatment: true as const } };
    });
  }
  return { plan: repaired, detachedFollowUps, droppedConflicts };
}
