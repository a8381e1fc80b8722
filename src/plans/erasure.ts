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
import type { AuditEntry } from '../store';
import type { Statement } from '../store/db';
import { isLostWriteAbort } from '../store/write-guard';
import { purgeEventStatements } from '../subscriptions/sharing-events';

export interface ErasureOutcome {
  citizenId: string;
  erasedAt: string;
  plansErased: string[];
  deliveriesCancelled: number;
  quarantinedRecordsDeleted: number;
  /** Family plans the citizen had left: kept (the others'), the citizen's past membership of them forgotten. */
  familyPlansLeft: string[];
  /** Always true: an erasure that could not take the citizen erased nothing (kept in the answer for the clients that read it). */
  citizenErased: boolean;
}

/** The citizen shares a plan with other members (a family plan): erasing it would erase theirs. They leave it first. */
export class SharedPlanError extends Error {
  constructor(readonly planIds: string[]) {
    super(`the citizen is, or was, a member of a plan with other members (${planIds.join(', ')}): they leave it first (POST /v1/plans/{id}/members/{memberId}/leave), then their own plan can be erased`);
  }
}

/** How often an erasure is tried again when a plan was made for the citizen while it ran. */
const ATTEMPTS = 3;

/** A plan was made for the citizen while each attempt ran: nothing was erased; ask again. */
export class ErasureRacedError extends Error {
  constructor() {
    super(`a plan was made for the citizen while the erasure ran, ${ATTEMPTS} times: nothing was erased; ask again`);
  }
}

/**
 * Null when the municipality holds nothing under this CPR number. All or nothing: every plan of the
 * citizen, the citizen and what is keyed by them go in one batch with the audit rows that record it,
 * guarded there on each plan being theirs alone and on the citizen row being gone at the end. A guard
 * that fails leaves everything as it was: a plan shared meanwhile answers SharedPlanError; a plan made
 * for the citizen meanwhile makes the erasure start again with it included.
 */
export async function eraseCitizen(deps: AppDeps, principal: Principal, cpr: string, reason: string): Promise<ErasureOutcome | null> {
  const { store, vault, clock } = deps;
  const { tenant } = principal;
  const citizen = await store.citizens.findByAnyCprHash(tenant, await vault.lookupHashes(tenant, cpr));
  if (!citizen) return null;
  const why = `erasure at the DPO’s request (GDPR art. 17): ${reason}`;
  const actor = actorOf(principal);
  for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
    const now = clock.now();
    const at = now.toISOString();
    // A family plan the citizen left (as a 409 asks them to) is the others' now: it stays, and only
    // the citizen's past membership of it goes. Their own plans are erased whole.
    const memberOf = await store.plans.idsForCitizen(tenant, citizen.id, false);
    const stillIn = new Set(await store.plans.idsForCitizen(tenant, citizen.id));
    const planIds = memberOf.filter((id) => stillIn.has(id));
    const leftPlanIds = memberOf.filter((id) => !stillIn.has(id));
    const shared = await store.plans.withOtherMembers(tenant, planIds, citizen.id);
    if (shared.length > 0) throw new SharedPlanError(shared);
    const quarantinedRecordsDeleted = await store.sync.quarantineCountOfCitizens(tenant, [citizen.id]);
    const purgeEvents = await purgeEventStatements(store, tenant, planIds, now);
    const entries: AuditEntry[] = [];
    const statements: Statement[] = [];
    let deliveriesCancelled = 0;
    for (const planId of planIds) {
      const cancelled = await store.plans.openDeliveryCount(tenant, planId);
      deliveriesCancelled += cancelled;
      entries.push({ at, actor, action: 'plan.purged', targetType: 'plan', targetId: planId, citizenId: citizen.id, detail: { reason: why, deliveriesCancelled: cancelled } });
      // Checked in the batch: a member added since the look above keeps the plan whole. The events first: they hold only while the plan is there.
      statements.push(...store.plans.aloneInPlanStatements(tenant, planId, citizen.id), ...purgeEvents(planId), ...store.plans.purgePlanStatements(tenant, planId));
    }
    for (const planId of leftPlanIds) {
      entries.push({ at, actor, action: 'plan.member-erased', targetType: 'plan', targetId: planId, citizenId: citizen.id, detail: { reason: why } });
      statements.push(store.plans.forgetLeftMembershipStatement(tenant, planId, citizen.id));
    }
    entries.push({ at, actor, action: 'citizen.purged', targetType: 'citizen', targetId: citizen.id, citizenId: citizen.id, detail: { reason: why, quarantinedRecordsDeleted, familyPlansLeft: leftPlanIds } });
    statements.push(
      ...store.plans.citizensWithoutPlanStatements(tenant, [citizen.id]),
      store.sync.deleteQuarantineOfCitizensStatement(tenant, [citizen.id]),
      // A plan made for the citizen meanwhile keeps their row: then nothing of this batch stays.
      ...store.plans.citizenGoneStatements(tenant, citizen.id),
    );
    try {
      await store.audit.committing(tenant, entries)(statements);
      return { citizenId: citizen.id, erasedAt: at, plansErased: planIds, deliveriesCancelled, quarantinedRecordsDeleted, familyPlansLeft: leftPlanIds, citizenErased: true };
    } catch (error) {
      if (!isLostWriteAbort(error)) throw error;
      const sharedNow = await store.plans.withOtherMembers(tenant, planIds, citizen.id);
      if (sharedNow.length > 0) throw new SharedPlanError(sharedNow);
      // Otherwise a plan was made for them meanwhile: again, with it.
    }
  }
  throw new ErasureRacedError();
}
