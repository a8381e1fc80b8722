/**
 * `POST /v1/plans/{id}/members/{memberId}/leave` behind the API (R4): the member's own new plan
 * and the family plan without the member's elements are written in one batch with their audit
 * entries (the family plan optimistically, at the version read) — and with a `plan.unshared` for each
 * subscribed system only the leaver's consent shared the family plan with (decision 0014).
 */
import type { AppDeps } from '../api/context';
import { ProblemError } from '../api/context';
import { Plan } from '../model';
import { ruleSetVersion } from '../rules';
import { actorOf, type Principal } from '../security';
import { memberLeavingSharingEventStatements } from '../subscriptions/sharing-events';
import { leaveFamilyPlan, LeaveError } from './leave';

export function membershipService(deps: AppDeps) {
  const { store, clock } = deps;
  return {
    /** Null when the plan or member does not exist in the caller's municipality (answered as 404). */
    async leave(principal: Principal, planId: string, memberId: string) {
      const plan = await store.plans.get(principal.tenant, planId);
      if (!plan) return null;
      if (plan.subject.kind === 'family' && !plan.subject.members.some((m) => m.memberId === memberId)) return null;
      const at = clock.now().toISOString();
      const actor = actorOf(principal);
      let outcome;
      try {
        outcome = leaveFamilyPlan(plan, memberId, { newPlanId: crypto.randomUUID(), at, actor, ruleVersion: ruleSetVersion });
      } catch (error) {
        if (error instanceof LeaveError) throw new ProblemError('invalid-transition', error.message);
        throw error;
      }
      const familyPlan = Plan.parse(outcome.familyPlan);
      const ownPlan = Plan.parse(outcome.ownPlan);
      const citizenId = outcome.member.citizenId;
      const recorded = store.audit.committing(principal.tenant, [
        { at, actor, action: 'plan.member-left', targetType: 'plan', targetId: familyPlan.id, citizenId, detail: { memberId, ownPlanId: ownPlan.id, movedElements: outcome.moved.map((m) => m.id) } },
        { at, actor, action: 'plan.created', targetType: 'plan', targetId: ownPlan.id, citizenId, detail: { members: 1, origin: ownPlan.origin, fromFamilyPlan: familyPlan.id } },
      ]);
      const unshared = await memberLeavingSharingEventStatements(store, principal.tenant, familyPlan.id, citizenId, new Date(at));
      if (!(await store.plans.update(familyPlan, plan.version, [...unshared, ...store.plans.insertStatements(ownPlan)], recorded)))
        throw new ProblemError('version-conflict', 'the plan changed meanwhile; read it again');
      return { familyPlan, ownPlan };
    },
  };
}
export type MembershipService = ReturnType<typeof membershipService>;
