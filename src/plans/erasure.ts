/**
 * Erasure at the DPO's word (GDPR art. 17, R16): what the layer holds about one citizen goes now,
 * not after the retention period — say they were enrolled under another person's CPR number. It is
 * the retention purge, for one citizen: their plans (each must be theirs alone) with registrations
 * and the deliveries still to be made, then their CPR ciphertext, consents, sync marks, what the
 * targets hold for them and their quarantined records. Each system subscribed to a plan is told to
 * delete it (`plan.purged`, art. 19). The audit rows stay: they hold references, not content, they
 * record what was done, and with the citizen row gone they name no one.
 */
import type { AppDeps } from '../api/context';
import { actorOf, type Principal } from '../security';
import type { Statement } from '../store/db';
import { isLostWriteAbort } from '../store/write-guard';
import { purgeEventStatements } from '../subscriptions/sharing-events';

export interface ErasureOutcome {
  citizenId: string;
  erasedAt: string;
  plansErased: string[];
  deliveriesCancelled: number;
  quarantinedRecordsDeleted: number;
  /** False only when a plan was made for the citizen while the erasure ran: that plan and the citizen are left, to be erased again. */
  citizenErased: boolean;
}

/** The citizen shares a plan with other members (a family plan): erasing it would erase theirs. They leave it first. */
export class SharedPlanError extends Error {
  constructor(readonly planIds: string[]) {
    super(`the citizen is, or was, a member of a plan with other members (${planIds.join(', ')}): they leave it first (POST /v1/plans/{id}/members/{memberId}/leave), then their own plan can be erased`);
  }
}

/** Null when the municipality holds nothing under this CPR number. */
export async function eraseCitizen(deps: AppDeps, principal: Principal, cpr: string, reason: string): Promise<ErasureOutcome | null> {
  const { store, vault, clock } = deps;
  const { tenant } = principal;
  const citizen = await store.citizens.findByAnyCprHash(tenant, await vault.lookupHashes(tenant, cpr));
  if (!citizen) return null;
  const now = clock.now();
  const at = now.toISOString();
  const actor = actorOf(principal);
  const planIds = await store.plans.idsForCitizen(tenant, citizen.id, false);
  const shared = await store.plans.withOtherMembers(tenant, planIds, citizen.id);
  if (shared.length > 0) throw new SharedPlanError(shared);

  const quarantinedRecordsDeleted = await store.sync.quarantineCountOfCitizens(tenant, [citizen.id]);
  const why = `erasure at the DPO’s request (GDPR art. 17): ${reason}`;
  // With the last plan (or at once, without one), the citizen row and all that is keyed by it go,
  // their quarantined records with them, in one batch with the entries that record it.
  const citizensCommit = (ids: string[]) => (statements: Statement[]) =>
    store.audit.committing(
      tenant,
      ids.map((citizenId) => ({ at, actor, action: 'citizen.purged', targetType: 'citizen', targetId: citizenId, citizenId, detail: { reason: why, quarantinedRecordsDeleted } })),
    )([...statements, store.sync.deleteQuarantineOfCitizensStatement(tenant, ids)]);

  const purgeEvents = await purgeEventStatements(store, tenant, planIds, now);
  const plansErased: string[] = [];
  let deliveriesCancelled = 0;
  let erased: string[] = [];
  for (const planId of planIds) {
    const cancelled = await store.plans.openDeliveryCount(tenant, planId);
    const recorded = store.audit.committing(tenant, [{ at, actor, action: 'plan.purged', targetType: 'plan', targetId: planId, citizenId: citizen.id, detail: { reason: why, deliveriesCancelled: cancelled } }]);
    try {
      erased = await store.plans.purge(tenant, planId, {
        // Checked in the batch: a member added since the look above keeps the plan whole.
        plan: (statements) => recorded([...store.plans.aloneInPlanStatements(tenant, planId, citizen.id), ...purgeEvents(planId), ...statements]),
        citizens: citizensCommit,
      });
    } catch (error) {
      if (isLostWriteAbort(error)) throw new SharedPlanError([planId]);
      throw error;
    }
    plansErased.push(planId);
    deliveriesCancelled += cancelled;
  }
  if (planIds.length === 0) erased = await store.plans.purgeCitizensWithoutPlan(tenant, [citizen.id], citizensCommit);
  return { citizenId: citizen.id, erasedAt: at, plansErased, deliveriesCancelled, quarantinedRecordsDeleted, citizenErased: erased.includes(citizen.id) };
}
