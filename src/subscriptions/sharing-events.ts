/**
 * `plan.shared` and `plan.unshared` (decision 0014, session 19): granting or ending a consent changes
 * no plan, so no plan event tells a subscription that a plan now concerns its system, or no longer
 * does. The consent service asks here, before it stores a consent change, which of the citizen's plans
 * the change lets data flow with a system for the first time — or ends the last such flow for — and
 * the events go in the same batch as the change (as the plan triggers write theirs in the plan write's
 * transaction). Ids only: the plan and the system, never content, never a CPR number.
 */
import type { AppDeps } from '../api/context';
import { SourceSystem } from '../model';
import type { ConsentDocument } from '../store';
import type { Statement } from '../store/db';
import { membersByPlan, systemHasPartIn, type MemberConsents } from './consent-gate';

/** One consent document of a citizen as it was before a change and as it is after (null: none). */
export interface ConsentChange {
  citizenId: string;
  before: ConsentDocument | null;
  after: ConsentDocument | null;
}

/** The members with the changed document as it is in `state` (whatever of it the read found is replaced). */
function withDocument(members: readonly MemberConsents[], citizenId: string, id: string, state: ConsentDocument | null): MemberConsents[] {
  return members.map((member) => {
    if (member.citizenId !== citizenId) return member;
    const grants = member.grants.filter((g) => g.id !== id);
    const legalBases = member.legalBases.filter((r) => r.id !== id);
    if (state?.kind === 'grant') grants.push(state);
    else if (state?.kind === 'legal-basis') legalBases.push(state);
    return { ...member, grants, legalBases };
  });
}

/**
 * The statements recording `plan.shared` / `plan.unshared` for a consent change, to go in the batch
 * that stores it. Only for systems an active subscription of the tenant serves: a tenant without one
 * pays one probe. Read before the batch: a change racing another of the same citizen's may record an
 * event the other makes moot (a vendor then hears `plan.shared` twice, say) — the fan-out and send
 * checks still decide on the consent as it is then.
 */
export async function sharingEventStatements(store: AppDeps['store'], tenant: string, change: ConsentChange, at: Date): Promise<Statement[]> {
  const id = change.after?.id ?? change.before?.id;
  if (!id) return [];
  const systems = (await store.subscriptions.activeSystemsOf(tenant)).filter((s): s is SourceSystem => SourceSystem.safeParse(s).success);
  if (systems.length === 0) return [];
  const planIds = await store.plans.idsForCitizen(tenant, change.citizenId);
  if (planIds.length === 0) return [];
  const statements: Statement[] = [];
  for (const [key, members] of membersByPlan(await store.subscriptions.membersWithConsents(planIds))) {
    const [planTenant, planId] = key.split('|') as [string, string];
    if (planTenant !== tenant) continue;
    const before = withDocument(members, change.citizenId, id, change.before);
    const after = withDocument(members, change.citizenId, id, change.after);
    for (const system of systems) {
      const had = systemHasPartIn(system, before, at);
      const has = systemHasPartIn(system, after, at);
      if (had !== has) statements.push(store.subscriptions.recordSharingEventStatement(tenant, has ? 'plan.shared' : 'plan.unshared', { planId, system }, at.toISOString()));
    }
  }
  return statements;
}
