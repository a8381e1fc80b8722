/**
 * Retention (R16): plans that ended (closed or declined) are purged after the configured period,
 * with their registrations and finished deliveries, and so is every member left without a plan
 * (CPR ciphertext, consents, sync marks) — and a citizen for whom no plan was ever made (a creation
 * that failed half-way) after a day; each subscribed system a purged plan was shared with is told to
 * delete it (`plan.purged`, in the purge's batch); stored payload bodies of
 * quarantined records (and, through the outbox repository, of finished deliveries) are pruned
 * after N days (dead letters keep theirs for replay); data that flowed only on a consent grant or a legal-basis record whose
 * period has ended leaves the plans (`handleLapsedGrants`), and so does what flowed on a region's own permit
 * whose last day has passed (`handleLapsedRegionalConsents`); processed inbound change notices are deleted after the same N days, and a grant dated to start later takes
 * effect on its first day (`handleStartedGrants`), as does a region's permit (`handleStartedRegionalPermits`); finished sync runs go after RETENTION_SYNC_RUN_DAYS (each adapter's
 * newest stays; the metrics' run counter keeps counting them, `syncRunTallies`). Audit rows stay: they hold references, not content;
 * each audit chain's head is logged at the end (`logAuditHeads`), as an anchor kept outside the database.
 * It also re-keys what retired CPR keys, or an earlier ciphertext format, still hold (src/security/rekey.ts).
 * Rows a deleted citizen left behind (a sync or delivery under way at the deletion) go too. Each
 * municipality's run is recorded with what it deleted and what it left for the next night, so IT
 * staff and the DPO see on the dashboard and in /metrics that deletion happens (`store.retention`).
 */
import type { AppDeps } from '../api/context';
import { handleConsentAges, handleLapsedGrants, handleLapsedRegionalConsents, handleStartedGrants, handleStartedRegionalPermits } from '../consent/service';
import { rekeyToCurrentKey } from '../security/rekey';
import { purgeEventStatements } from '../subscriptions/sharing-events';
import type { AuditEntry } from '../store';
import { anchorText, groupedHash } from '../store/audit';
import type { MarkedRecordKey } from '../store/sync';
import { redactCpr } from '../security/redact';
import { isLostWriteAbort } from '../store/write-guard';
import { compareVersions } from './merge';

/** Finished sync runs deleted per batch, and batches per municipality a night (a longer backlog waits for the next). */
const SYNC_RUN_PAGE = 2000;
const SYNC_RUN_PAGES = 50;
/** Ended plans purged per page: the subscriptions' probe and the members' read are one each per page. */
const PURGE_PAGE = 200;

/** Retention's steps in a municipality's run, as its summary names them. */
type RetentionSummary = typeof emptySummary;
const emptySummary = {
  inboundNoticesDeleted: 0,
  subscriptionDeliveriesDeleted: 0,
  plansToldForgotten: 0,
  plansPurged: 0,
  plansKeptForDeliveries: 0,
  /** Plans due for purge that were offered again before their deletion: open, so kept. */
  plansReopened: 0,
  citizensPurged: 0,
  remnantsOfDeletedCitizensDeleted: 0,
  supersededMarksPruned: 0,
  quarantinePayloadsPruned: 0,
  deliveryPayloadsPruned: 0,
  syncRunsPruned: 0,
  resolvedQuarantineDeleted: 0,
  retentionRunsPruned: 0,
  auditRowsPruned: 0,
  grantsLapsed: 0,
  legalBasesLapsed: 0,
  regionalConsentsLapsed: 0,
  plansChangedByLapse: 0,
  /** Plans that lost data resting on a custody holder's consent alone when its young person turned 16 (or 18). */
  plansChangedByAge: 0,
  lapseFailures: 0,
  grantsStarted: 0,
  regionalPermitsStarted: 0,
  startFailures: 0,
};

/** The steps that stop at a nightly cap and may leave work for the next run (a run's `backlog`). */
export const RETENTION_CAPPED_STEPS = ['remnants-of-deleted-citizens', 'superseded-marks', 'sync-runs', 'resolved-quarantine', 'audit-log'] as const;
type CappedStep = (typeof RETENTION_CAPPED_STEPS)[number];

/** Audit rows pruned per batch (each one audited, the chain's base moved with it), and batches per municipality a night. */
const AUDIT_PAGE = 20_000;
const AUDIT_PAGES = 25;

/** Citizens whose remnants are deleted per batch, and batches per municipality a night. */
const REMNANT_PAGE = 200;
const REMNANT_PAGES = 25;

/**
 * Every municipality in turn; each one's run is recorded (`store.retention`: what it deleted, which
 * steps left work for the next night, or why it failed) and a failure in one does not keep the next
 * from its run. Throws at the end if any failed, so the job is seen to fail.
 */
export async function runRetention(deps: AppDeps) {
  const now = deps.clock.now();
  const summary: RetentionSummary = { ...emptySummary };
  const tenants = new Set([...(await deps.store.plans.tenants()), ...(await deps.store.audit.tenants()), ...(await deps.store.inboundWebhooks.tenants()), ...(await deps.store.sync.tenantsWithRuns())]);
  const failed: { tenant: string; error: unknown }[] = [];
  const backlog: Record<string, CappedStep[]> = {};
  for (const tenant of tenants) {
    const runId = crypto.randomUUID();
    await deps.store.retention.start(tenant, runId, now.toISOString());
    const ofTenant: RetentionSummary = { ...emptySummary };
    const left: CappedStep[] = [];
    try {
      await retainTenant(deps, tenant, now, ofTenant, left);
      await deps.store.retention.finish(tenant, runId, { status: 'succeeded', summary: ofTenant, backlog: left, endedAt: deps.clock.now().toISOString() });
    } catch (error) {
      failed.push({ tenant, error });
      // Shown to IT staff (dashboard, metrics): whatever the message held, no CPR number is kept.
      const message = redactCpr(error instanceof Error ? error.message : String(error));
      deps.logger.error('retention failed for a municipality; the others go on', { tenant, runId, error: message });
      await deps.store.retention.finish(tenant, runId, { status: 'failed', summary: ofTenant, backlog: left, endedAt: deps.clock.now().toISOString(), error: message });
    }
    for (const key of Object.keys(summary) as (keyof RetentionSummary)[]) summary[key] += ofTenant[key];
    if (left.length > 0) backlog[tenant] = left;
  }
  // A CPR key rotation still under way (CPR_KEYS_RETIRED), or ciphertexts of an earlier format (not
  // bound to their row): on with moving them (on Workers, this is where it runs). Nothing left: one scan per column.
  const rekey = await rekeyToCurrentKey(deps, { maxPages: 100 });
  await keyAuditChainEnds(deps);
  await logAuditHeads(deps);
  if (failed.length > 0) throw Object.assign(new AggregateError(failed.map((f) => f.error), `retention failed for ${failed.length} of ${tenants.size} municipalities (the others ran)`), { summary, tenants: failed.map((f) => f.tenant) });
  return { ...summary, backlog, rekey };
}

async function retainTenant(deps: AppDeps, tenant: string, now: Date, summary: RetentionSummary, backlog: CappedStep[]): Promise<void> {
  const daysAgo = (days: number) => new Date(now.getTime() - days * 86_400_000).toISOString();
  const citizenPurged = (citizenId: string, reason: string): AuditEntry => ({ at: now.toISOString(), actor: 'system:retention', action: 'citizen.purged', targetType: 'citizen', targetId: citizenId, citizenId, detail: { reason } });
  const cutoff = daysAgo(deps.config.retention.closedPlanDays);
  const ended = await deps.store.plans.endedBefore(tenant, cutoff);
  for (let page = 0; page < ended.length; page += PURGE_PAGE) {
    const planIds = ended.slice(page, page + PURGE_PAGE);
    // The systems whose subscriptions heard of a plan are told to delete it (`plan.purged`), decided on
    // its members and consents as they are before the purge deletes them: one read for the page.
    const purgeEvents = await purgeEventStatements(deps.store, tenant, planIds, now);
    for (const planId of planIds) {
      // Nothing accepted is lost: a delivery still to be made keeps its plan until it is made or given up.
      if (await deps.store.plans.hasOpenDeliveries(tenant, planId)) {
        summary.plansKeptForDeliveries++;
        continue;
      }
      // Each deletion is committed with the audit rows that record it, and the events telling the
      // subscribed systems (first: they hold only while the plan is still there).
      const recorded = deps.store.audit.committing(tenant, [{ at: now.toISOString(), actor: 'system:retention', action: 'plan.purged', targetType: 'plan', targetId: planId, detail: { reason: 'retention period after the plan ended (closed or declined)' } }]);
      // Checked again in the batch: a plan offered again since the list was read is open, and stays.
      const stillEnded = deps.store.plans.stillEndedStatements(tenant, planId, cutoff);
      let purged: string[];
      try {
        purged = await deps.store.plans.purge(tenant, planId, {
          plan: (statements) => recorded([...stillEnded, ...purgeEvents(planId), ...statements]),
          citizens: (ids) => deps.store.audit.committing(tenant, ids.map((citizenId) => citizenPurged(citizenId, 'no plan left: CPR ciphertext, consents and sync marks deleted'))),
        });
      } catch (error) {
        if (!isLostWriteAbort(error)) throw error;
        summary.plansReopened++;
        continue;
      }
      summary.citizensPurged += purged.length;
      summary.plansPurged++;
    }
  }
  // A citizen row whose plan was never written (its creation failed after the row was) holds a CPR
  // ciphertext for nothing; a day's grace keeps creations under way.
  for (;;) {
    const orphans = await deps.store.plans.citizensWithoutPlan(tenant, daysAgo(1));
    if (orphans.length === 0) break;
    const purged = await deps.store.plans.purgeCitizensWithoutPlan(tenant, orphans, (ids) =>
      deps.store.audit.committing(tenant, ids.map((citizenId) => citizenPurged(citizenId, 'member of no plan (none was made, or the purge of theirs was cut short): CPR ciphertext, consents and sync marks deleted'))),
    );
    summary.citizensPurged += purged.length;
    // Nothing purged (each got a plan meanwhile): stop rather than ask again.
    if (purged.length === 0) break;
  }
  if (!(await deleteRemnantsOfDeletedCitizens(deps, tenant, now, summary))) backlog.push('remnants-of-deleted-citizens');
  const lapse = await handleLapsedGrants(deps, tenant);
  summary.grantsLapsed += lapse.grantsLapsed;
  summary.legalBasesLapsed += lapse.legalBasesLapsed;
  summary.plansChangedByLapse += lapse.plansChanged;
  summary.lapseFailures += lapse.failures;
  // The region's own permit with a last day ends by itself as well (decision 0004, "Later").
  const regionalLapse = await handleLapsedRegionalConsents(deps, tenant);
  summary.regionalConsentsLapsed += regionalLapse.regionalConsentsLapsed;
  summary.plansChangedByLapse += regionalLapse.plansChanged;
  summary.lapseFailures += regionalLapse.failures;
  // A young person who turned 16 or 18: whose consent counts changed, and what rests on too little leaves.
  const ages = await handleConsentAges(deps, tenant);
  summary.plansChangedByAge += ages.plansChanged;
  summary.lapseFailures += ages.failures;
  const start = await handleStartedGrants(deps, tenant);
  summary.grantsStarted += start.grantsStarted;
  summary.startFailures += start.failures;
  // And a region's permit dated to start later, on its first day (decision 0014, session 24).
  const regionalStart = await handleStartedRegionalPermits(deps, tenant);
  summary.regionalPermitsStarted += regionalStart.regionalPermitsStarted;
  summary.startFailures += regionalStart.failures;
  const marks = await pruneSupersededMarks(deps, tenant);
  summary.supersededMarksPruned += marks.pruned;
  if (!marks.done) backlog.push('superseded-marks');
  /** Runs a capped step page by page until a page comes back short, or `pages` ran; counts into `key`, and notes a backlog under `step`. */
  const paged = async (step: CappedStep, key: keyof RetentionSummary, pages: number, pageSize: number, page: () => Promise<number>) => {
    for (let n = 0; n < pages; n++) {
      const done = await page();
      summary[key] += done;
      if (done < pageSize) return;
    }
    backlog.push(step);
  };
  const runsBefore = daysAgo(deps.config.retention.syncRunDays);
  // Run records are operational history, not content: kept for RETENTION_SYNC_RUN_DAYS, each adapter's newest whatever its age.
  await paged('sync-runs', 'syncRunsPruned', SYNC_RUN_PAGES, SYNC_RUN_PAGE, () => deps.store.sync.pruneFinishedRuns(tenant, runsBefore, SYNC_RUN_PAGE));
  // So are quarantine entries someone (or a newer version merged) resolved: the open ones wait for a person.
  await paged('resolved-quarantine', 'resolvedQuarantineDeleted', SYNC_RUN_PAGES, SYNC_RUN_PAGE, () => deps.store.sync.deleteResolvedQuarantine(tenant, runsBefore, SYNC_RUN_PAGE));
  // The audit log's own period, when one is set: its oldest rows go, the chain kept verifiable (decision 0030).
  const auditDays = deps.config.retention.auditDays;
  if (auditDays !== null) {
    const recorded = { at: now.toISOString(), actor: 'system:retention', detail: { reason: `audit rows older than RETENTION_AUDIT_DAYS (${auditDays} days)` } };
    await paged('audit-log', 'auditRowsPruned', AUDIT_PAGES, AUDIT_PAGE, () => deps.store.audit.pruneBefore(tenant, daysAgo(auditDays), AUDIT_PAGE, recorded));
  }
  // Retention's own records go by the same rule (one a night: no cap needed).
  summary.retentionRunsPruned += await deps.store.retention.pruneRuns(tenant, runsBefore);
  summary.quarantinePayloadsPruned += await deps.store.sync.pruneQuarantinePayloads(tenant, daysAgo(deps.config.retention.payloadDays), now.toISOString());
  summary.deliveryPayloadsPruned += await deps.store.outbox.prunePayloads(tenant, daysAgo(deps.config.retention.payloadDays));
  // A processed change notice is spent: the source's replay window is minutes, so none is needed to spot a repeat.
  summary.inboundNoticesDeleted += await deps.store.inboundWebhooks.deleteFinishedBefore(tenant, daysAgo(deps.config.retention.payloadDays));
  summary.subscriptionDeliveriesDeleted += await deps.store.subscriptions.deleteFinishedBefore(tenant, daysAgo(deps.config.retention.payloadDays));
  // Who was told of a plan is kept until its purge is told: not for a subscription that has ended, nor a plan gone with no purge left to tell.
  summary.plansToldForgotten += await deps.store.subscriptions.forgetUnneededTold(tenant);
}

/**
 * Rows naming a citizen whose row is gone — sync marks, first-pull marks, held elements, a region's
 * permit, consents, quarantined records — written by a sync chunk or a delivery still under way when
 * the citizen's purge or erasure committed (decision 0028, "Later"). Each citizen's are deleted with
 * an audit row; answers whether all were (false: the nightly cap left some for the next run).
 */
async function deleteRemnantsOfDeletedCitizens(deps: AppDeps, tenant: string, now: Date, summary: RetentionSummary): Promise<boolean> {
  for (let page = 0; page < REMNANT_PAGES; page++) {
    const gone = await deps.store.retention.goneCitizensWithRows(tenant, REMNANT_PAGE);
    if (gone.length === 0) return true;
    await deps.store.audit.committing(
      tenant,
      gone.map((citizenId) => ({
        at: now.toISOString(),
        actor: 'system:retention',
        action: 'citizen.remnants-deleted',
        targetType: 'citizen',
        targetId: citizenId,
        citizenId,
        detail: { reason: 'rows written for a citizen already deleted (a sync or delivery under way at the deletion): sync marks, consents, held elements and quarantined records' },
      })),
    )(deps.store.retention.deleteRowsOfGoneCitizensStatements(tenant, gone));
    summary.remnantsOfDeletedCitizensDeleted += gone.length;
    if (gone.length < REMNANT_PAGE) return true;
  }
  return false;
}

/** Records read per page by `pruneSupersededMarks`, and pages per run (the rest waits for the next run). */
const MARKS_PAGE = 500;
const MARKS_PAGES_PER_RUN = 100;

/**
 * Drops the merged-record marks of versions a newer mark of the same record (citizen, source)
 * replaced: the marks keep whose a record is and whether its current version is merged, which the
 * newest one tells alone. Without this the marks grew by a row per change of every record for as
 * long as the plan lived. An older version read again later is not merged: the newest mark tells the
 * sync it is older (decision 0003, "Later … session 21"). Versions compare as the merge compares them.
 */
async function pruneSupersededMarks(deps: AppDeps, tenant: string): Promise<{ pruned: number; done: boolean }> {
  let pruned = 0;
  let after: MarkedRecordKey | null = null;
  for (let page = 0; page < MARKS_PAGES_PER_RUN; page++) {
    const records = await deps.store.sync.recordsMarkedMoreThanOnce(tenant, after, MARKS_PAGE);
    const older = records.flatMap(({ versions, ...key }) => {
      const newest = versions.reduce((a, b) => (compareVersions(b, a) > 0 ? b : a));
      return versions.filter((v) => v !== newest).map((recordVersion) => ({ ...key, recordVersion }));
    });
    if (older.length > 0) await deps.store.batch([deps.store.sync.deleteMarksStatement(tenant, older)]);
    pruned += older.length;
    if (records.length < MARKS_PAGE) return { pruned, done: true };
    const { citizenId, source, recordId } = records[records.length - 1]!;
    after = { citizenId, source, recordId };
  }
  return { pruned, done: false };
}

/**
 * Each tenant's audit chain head, one info line each, into the logs that are shipped off the
 * machine: anchors outside the database, which `npm run audit:verify -- --anchor <anchor>` checks
 * the chain still holds — what catches a rewrite with every hash recomputed (docs/decisions/0019, "Later").
 * The hash goes in groups (`groupedHash`), so the logger's CPR mask cannot take digits out of it.
 */
/**
 * With AUDIT_CHAIN_KEY: keys the end of every tenant's audit chain not keyed yet (`audit.chain-keyed`),
 * so the rows written before the key was set are covered at once — at start on Node, at every Cron
 * Trigger on Workers, and nightly on both (before the heads are logged as anchors). One tenant's
 * failure does not stop the others'.
 */
export async function keyAuditChainEnds(deps: Pick<AppDeps, 'store' | 'logger' | 'clock'>): Promise<number> {
  let keyed = 0;
  for (const tenant of await deps.store.audit.tenants()) {
    try {
      if (await deps.store.audit.keyChainEnd(tenant, deps.clock.now().toISOString())) keyed++;
    } catch (error) {
      deps.logger.error('the audit chain’s end could not be keyed; tried again at the next start or night', { tenant, error: redactCpr(error instanceof Error ? error.message : String(error)) });
    }
  }
  if (keyed > 0) deps.logger.info('audit chains keyed (AUDIT_CHAIN_KEY)', { tenants: keyed });
  return keyed;
}

export async function logAuditHeads(deps: Pick<AppDeps, 'store' | 'logger'>): Promise<void> {
  for (const head of await deps.store.audit.heads()) deps.logger.info('audit chain head', { tenant: head.tenant, seq: head.seq, hash: groupedHash(head.hash), anchor: anchorText(head) });
}
