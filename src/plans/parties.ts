/**
 * Making a department a party to a plan, and ending it (decision 0032). A department takes part by
 * what the plan holds; this is for one asked in before it holds anything there. Only a caseworker
 * taking part (or the coordinating staff, whose token names no department) may do it, so a
 * department cannot make itself a party to read from within. Each member is told (R13).
 */
import type { AppDeps } from '../api/context';
import { ProblemError } from '../api/context';
import { membersOf, Plan, type Department } from '../model';
import { actorOf, type Principal } from '../security';
import { holdsCprNumber } from '../security/redact';
import type { AuditEntry } from '../store';
import { departmentTakesPart } from '../views/involvement';

export function partyService(deps: AppDeps) {
  const { store, clock } = deps;

  async function planForParticipant(principal: Principal, planId: string): Promise<Plan | null> {
    const plan = await store.plans.get(principal.tenant, planId);
    if (!plan) return null;
    if (principal.department && !(await departmentTakesPart(store, plan, principal.department, clock.now())))
      throw new ProblemError('not-a-party', `your department (${principal.department}) takes no part in this plan: a caseworker of a department that does, or the coordinating staff, makes another a party`);
    return plan;
  }

  /** Every active member is told: one audit row each, in the plan write's commit. */
  const toldToMembers = (principal: Principal, plan: Plan, at: string, action: string, department: Department): AuditEntry[] =>
    membersOf(plan)
      .filter((m) => !m.leftAt)
      .map((m) => ({ at, actor: actorOf(principal), action, targetType: 'plan', targetId: plan.id, citizenId: m.citizenId, detail: { department } }));

  return {
    /** Null: no such plan in the caller's municipality. An existing party is answered as it is. */
    async add(principal: Principal, planId: string, request: { department: Department; reason: string }) {
      if (holdsCprNumber(request.reason)) throw new ProblemError('validation-failed', 'reason: it holds a CPR number; a reason is shown to the citizen and the parties, and names no one by number');
      const plan = await planForParticipant(principal, planId);
      if (!plan) return null;
      if (plan.status === 'closed' || plan.status === 'declined') throw new ProblemError('plan-not-open', `the plan is ${plan.status}: no department joins it now`);
      const existing = plan.parties.find((p) => p.department === request.department);
      if (existing) return { planId: plan.id, version: plan.version, party: existing, added: false };
      const at = clock.now().toISOString();
      const party = { department: request.department, since: at, recordedBy: actorOf(principal), reason: request.reason };
      const next = Plan.parse({ ...plan, parties: [...plan.parties, party], updatedAt: at, version: plan.version + 1 });
      const recorded = store.audit.committing(principal.tenant, toldToMembers(principal, plan, at, 'plan.party-added', request.department));
      if (!(await store.plans.update(next, plan.version, [], recorded))) throw new ProblemError('version-conflict', 'the plan changed meanwhile; try again');
      return { planId: plan.id, version: next.version, party, added: true };
    },

    /** Null: no such plan, or the department is not a party by record. */
    async remove(principal: Principal, planId: string, department: Department) {
      const plan = await planForParticipant(principal, planId);
      if (!plan || !plan.parties.some((p) => p.department === department)) return null;
      const at = clock.now().toISOString();
      const next = Plan.parse({ ...plan, parties: plan.parties.filter((p) => p.department !== department), updatedAt: at, version: plan.version + 1 });
      const recorded = store.audit.committing(principal.tenant, toldToMembers(principal, plan, at, 'plan.party-removed', department));
      if (!(await store.plans.update(next, plan.version, [], recorded))) throw new ProblemError('version-conflict', 'the plan changed meanwhile; try again');
      return { planId: plan.id, version: next.version };
    },
  };
}
