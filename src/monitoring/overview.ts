/**
 * What IT staff watch (R24): adapters, sync runs, mapping health, quarantine, delivery queues and
 * plan counts — for one tenant, with no personal data. Feeds the dashboard, the JSON API and
 * /metrics alike, so the three never disagree.
 */
import { adaptersOf, type AppDeps } from '../api/context';
import type { MappingStats } from '../../mappings/mapping';
import { RECOMMENDED_CASELOAD, SourceSystem } from '../model';
import { RETENTION_CAPPED_STEPS } from '../sync/retention';
import { danishToday } from '../views/danish';
import type { ConnectionCheck } from './connections';
import { overdueFrom, scheduledStartsAfter } from './schedule';

export interface MappingHealth {
  id: string;
  version: string;
  adapter: string;
  recordType: string;
  description: string;
  /**
   * From the newest finished run of the mapping's adapter that read records of its type (a run under
   * way has no figures yet, and one that read none says nothing of the mapping's health), with the
   * version that ran then: after a deployment, until the new version has run, the figures are the old one's.
   */
  lastRun: (Pick<MappingStats, 'mappingVersion' | 'recordsIn' | 'recordsOut' | 'fragmentsOut' | 'failuresByRule' | 'unknownCodes' | 'ignoredFields'> & { runId: string; startedAt: string }) | null;
}

const RECENT_RUNS = 15;
/** How many of the municipality's newest finished runs mapping health looks back over. */
const MAPPING_HEALTH_RUNS = 200;

export async function monitoringOverview(deps: AppDeps, tenant: string) {
  const latest = await deps.store.sync.latestRuns(tenant);
  const lastSucceededAt = Object.fromEntries(await deps.store.sync.lastSucceededAt(tenant)) as Record<string, string>;
  const latestFinished = await deps.store.sync.latestRuns(tenant, { finished: true });
  const finishedRuns = await deps.store.sync.runs(tenant, { finished: true, limit: MAPPING_HEALTH_RUNS });
  const mappings: MappingHealth[] = deps.mappings.all().map((m) => {
    const run = finishedRuns.find((r) => r.adapter === m.adapter && (r.stats.mappings as Record<string, MappingStats> | undefined)?.[m.id]);
    const stats = (run?.stats.mappings as Record<string, MappingStats> | undefined)?.[m.id];
    return {
      id: m.id,
      version: m.version,
      adapter: m.adapter,
      recordType: m.recordType,
      description: m.description,
      lastRun:
        run && stats
          ? {
              runId: run.id,
              startedAt: run.startedAt,
              // Runs recorded before the stats named their version were made by the version then deployed.
              mappingVersion: stats.mappingVersion ?? m.version,
              recordsIn: stats.recordsIn,
              recordsOut: stats.recordsOut,
              fragmentsOut: stats.fragmentsOut,
              failuresByRule: stats.failuresByRule,
              unknownCodes: stats.unknownCodes,
              ignoredFields: stats.ignoredFields,
            }
          : null,
    };
  });
  return {
    tenant,
    generatedAt: deps.clock.now().toISOString(),
    adapters: (['dfdg', 'education', 'social', 'health'] as const).map((id) => ({ id, configured: !!deps.adapters[id], description: deps.adapters[id]?.describe() ?? null })),
    plansByStatus: await deps.store.plans.countByStatus(tenant),
    plansWithOpenConflicts: await deps.store.plans.countWithOpenConflicts(tenant),
    legalBasesToInform: await deps.store.consents.countLegalBasesToInform(tenant),
    /** Open plans with a follow-up past due and not done (R7), and coordinators above the recommended caseload (R5). */
    plansWithOverdueFollowUps: await deps.store.plans.countWithOverdueFollowUps(tenant, danishToday(deps.clock.now())),
    coordinatorsAboveRecommendedCaseload: (await deps.store.plans.caseload(tenant)).filter((row) => row.coordinator !== null && row.openPlans > RECOMMENDED_CASELOAD).length,
    /** Change notices from the sector systems not yet answered by a sync run (inbound webhooks). */
    inboundNoticesWaiting: await deps.store.inboundWebhooks.countPending(tenant),
    /** Notices whose runs failed at every try: IT staff have one processed again (POST /v1/webhooks/inbound/{source}/{id}/retry). */
    inboundNoticesDead: await deps.store.inboundWebhooks.countDead(tenant),
    latestRuns: latest.map(({ tenant: _t, ...run }) => run),
    /** The newest run per adapter that ended: its figures are whole (a run under way has none yet). */
    latestFinishedRuns: latestFinished.map(({ tenant: _t, ...run }) => run),
    /** The last runs of all adapters, newest first: what IT staff look at when a sync misbehaves. */
    recentRuns: (await deps.store.sync.runs(tenant, { limit: RECENT_RUNS })).map(({ tenant: _t, ...run }) => run),
    runCounts: await deps.store.sync.runCounts(tenant),
    /** When each adapter's newest successful run ended: how fresh its data is, whatever failed since. */
    lastSucceededAt,
    /**
     * Each configured adapter's sync schedule: its cron, its next scheduled start, and whether it is
     * overdue — two scheduled starts passed since its newest success ended (plus a grace), or it has
     * run and never succeeded. A run asked for by the API, a change notice or the dashboard counts as
     * a success like a scheduled one.
     */
    syncSchedules: syncScheduleHealth(deps, tenant, lastSucceededAt, new Set(latestFinished.map((run) => run.adapter))),
    quarantineOpen: await deps.store.sync.quarantineCounts(tenant),
    outboxByStatus: await deps.store.outbox.countByStatus(tenant),
    /** Per target system, when its oldest registration still waiting (pending or retrying) was accepted: how far behind it is. */
    outboxOldestWaiting: await deps.store.outbox.oldestWaitingByTarget(tenant),
    /** Events to vendors' subscriptions: how many subscriptions are active, their deliveries by status, and since when the oldest waits. */
    subscriptions: { ...(await deps.store.subscriptions.health(tenant)), oldestWaitingAt: await deps.store.subscriptions.oldestWaiting(tenant) },
    /** A CPR key rotation under way (CPR_KEYS_RETIRED): what is still under a retired key; at 0 the retired keys can go. */
    cprKeyRotation:
      deps.config.cprKeysRetired.length > 0 ? { retiredKeys: deps.config.cprKeysRetired.length, valuesUnderRetiredKeys: await deps.store.sealed.countUnderOtherKey(tenant, deps.vault.currentPrefix) } : null,
    /**
     * Ciphertexts of an earlier format (v1, v2: not bound to their row) still held, and what is done
     * with them (CPR_LEGACY_CIPHERTEXTS): under `open` the nightly re-key moves them and at 0 `refuse`
     * can be set; under `refuse` each is refused where it is read (its citizen is not synced).
     */
    legacyCiphertexts: { count: await deps.store.sealed.countLegacy(tenant), policy: deps.config.cprLegacyCiphertexts },
    /**
     * Citizens for whom a source's own say does not permit sharing with the municipality now (the
     * region's Consent, as the sync last read it), per source: part of what the health runs count as
     * refused, though the citizen consented with us (decision 0014, session 24).
     */
    regionalRefusals: await deps.store.regionalConsents.countRefusals(tenant),
    /**
     * Audit rows of caseworkers' reads of plans their department takes no part in, in the last 24 hours
     * (decision 0032; one row per member told). A jump is worth a look: an account misused, or the
     * identity provider sending the wrong department. Who read what is the DPO's, not shown here.
     */
    readsFromOutsideLastDay: await deps.store.audit.countReadsFromOutside(tenant, new Date(deps.clock.now().getTime() - 24 * 60 * 60_000).toISOString()),
    /** Whether new audit rows are keyed (AUDIT_CHAIN_KEY): unkeyed, someone holding the database file could rewrite the log unseen but for logged anchors. */
    auditChainKeyed: deps.config.auditChainKey !== undefined,
    mappings,
    retention: await retentionHealth(deps, tenant),
  };
}
export type MonitoringOverview = Awaited<ReturnType<typeof monitoringOverview>>;

/** Whether a job on `cron` whose newest success was at `lastSuccess` (null: none yet, though it `hasRun`) is overdue now. */
function overdueState(deps: AppDeps, cron: string, lastSuccess: string | null, hasRun: boolean) {
  const from = lastSuccess ? overdueFrom(cron, new Date(lastSuccess)) : null;
  const now = deps.clock.now();
  return { overdue: lastSuccess ? from !== null && now.getTime() >= from.getTime() : hasRun, overdueFrom: from?.toISOString() ?? null, nextStartAt: scheduledStartsAfter(cron, now, 1)[0]?.toISOString() ?? null };
}

/** `finished`: the adapters with a run that ended (succeeded or not). */
function syncScheduleHealth(deps: AppDeps, tenant: string, lastSucceededAt: Record<string, string>, finished: ReadonlySet<string>) {
  const adapters = adaptersOf(deps, tenant);
  const configured = SourceSystem.options.filter((id) => adapters[id]);
  return configured.map((adapter) => {
    const cron = deps.config.schedule.syncCronOf[adapter];
    return { adapter, cron, ...overdueState(deps, cron, lastSucceededAt[adapter] ?? null, finished.has(adapter)) };
  });
}

/**
 * Whether retention (R16) runs: its newest run (what it deleted, which steps left work for the next
 * night, why it failed) and the last one that succeeded. `overdue`: none succeeded though it has run,
 * or two of RETENTION_CRON's starts have passed since the newest success began (plus a grace).
 */
async function retentionHealth(deps: AppDeps, tenant: string) {
  const [lastRun] = await deps.store.retention.runs(tenant, 1);
  const lastSucceeded = lastRun?.status === 'succeeded' ? lastRun : await deps.store.retention.lastSucceeded(tenant);
  const cron = deps.config.schedule.retentionCron;
  return {
    lastRun: lastRun ? { id: lastRun.id, status: lastRun.status, startedAt: lastRun.startedAt, endedAt: lastRun.endedAt, summary: lastRun.summary, backlog: lastRun.backlog, error: lastRun.error } : null,
    lastSucceededAt: lastSucceeded?.startedAt ?? null,
    cron,
    ...overdueState(deps, cron, lastSucceeded?.startedAt ?? null, lastRun !== undefined && lastRun.status !== 'running'),
  };
}

const label = (value: string) => value.replace(/["\\\n]/g, '_');

/**
 * Prometheus text exposition. Labels are ids and statuses only — never personal data (S4).
 * `connections`: each adapter's newest finished connection check (`connectionChecksForMetrics`).
 */
export function toPrometheus(o: MonitoringOverview, connections: { check: ConnectionCheck; checkedAt: string }[] = []): string {
  const lines: string[] = [];
  const metric = (name: string, help: string, type: 'gauge' | 'counter', samples: [Record<string, string>, number][]) => {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const [labels, value] of samples) {
      const text = Object.entries({ tenant: o.tenant, ...labels }).map(([k, v]) => `${k}="${label(v)}"`).join(',');
      lines.push(`${name}{${text}} ${value}`);
    }
  };
  metric('enplan_plans', 'Én plans by status', 'gauge', Object.entries(o.plansByStatus).map(([status, n]) => [{ status }, n]));
  metric('enplan_plans_with_open_conflicts', 'Plans with conflicts the sync flagged that wait for a person', 'gauge', [[{}, o.plansWithOpenConflicts]]);
  metric('enplan_inbound_webhooks_waiting', 'Change notices from the sector systems waiting for a sync run', 'gauge', [[{}, o.inboundNoticesWaiting]]);
  metric('enplan_inbound_webhooks_dead', 'Change notices from the sector systems whose sync runs failed at every try', 'gauge', [[{}, o.inboundNoticesDead]]);
  metric('enplan_legal_bases_to_inform', 'Legal-basis records whose citizen has not been told yet (R11)', 'gauge', [[{}, o.legalBasesToInform]]);
  if (o.cprKeyRotation) metric('enplan_values_under_retired_cpr_keys', 'CPR ciphertexts, quarantined payloads and subscriber secrets not yet re-keyed to the current CPR key', 'gauge', [[{}, o.cprKeyRotation.valuesUnderRetiredKeys]]);
  metric('enplan_plan_reads_from_outside_last_day', "Audit rows of caseworkers' reads of plans their department takes no part in, in the last 24 hours (decision 0032; the DPO's list names who)", 'gauge', [[{}, o.readsFromOutsideLastDay]]);
  metric('enplan_regional_refusals', "Citizens whose source's own say (the region's Consent) does not permit sharing with the municipality now, by source", 'gauge', Object.entries(o.regionalRefusals).map(([source, n]) => [{ source }, n]));
  metric('enplan_cpr_legacy_ciphertexts', 'CPR ciphertexts, quarantined payloads and subscriber secrets in an earlier format (v1/v2, not bound to their row); at 0 CPR_LEGACY_CIPHERTEXTS=refuse can be set', 'gauge', [[{}, o.legacyCiphertexts.count]]);
  metric('enplan_plans_with_overdue_follow_ups', 'Open plans with a follow-up past due and not done (R7)', 'gauge', [[{}, o.plansWithOverdueFollowUps]]);
  metric('enplan_coordinators_above_recommended_caseload', `Coordinators with more than ${RECOMMENDED_CASELOAD} open plans (R5)`, 'gauge', [[{}, o.coordinatorsAboveRecommendedCaseload]]);
  // Only runs with an outcome are counted: a counter that held runs under way would go down as they end.
  metric('enplan_sync_runs_total', 'Sync runs by adapter and outcome', 'counter', o.runCounts.filter((r) => r.status !== 'running').map((r) => [{ adapter: r.adapter, status: r.status }, r.n]));
  // From the newest run of each adapter: one a crash cut off is never marked ended, but a newer run passes it.
  metric('enplan_sync_run_under_way', 'Whether the newest sync run of the adapter has not ended yet (1) or has (0)', 'gauge', o.latestRuns.map((r) => [{ adapter: r.adapter }, r.status === 'running' ? 1 : 0]));
  metric('enplan_sync_last_success_timestamp_seconds', 'When the newest successful sync run of the adapter ended (alert on its age: the data is as old as that)', 'gauge', Object.entries(o.lastSucceededAt).map(([adapter, at]) => [{ adapter }, Math.floor(Date.parse(at) / 1000)]));
  metric('enplan_sync_overdue', "Whether the adapter's sync is overdue (1): two of its scheduled starts passed since its newest success ended, or it has run and never succeeded", 'gauge', o.syncSchedules.map((entry) => [{ adapter: entry.adapter }, entry.overdue ? 1 : 0]));
  if (connections.length > 0) {
    metric('enplan_connection_up', "Whether the adapter's newest connection check passed (1) or failed (0): the sector system answered as it should, for this municipality", 'gauge', connections.map(({ check }) => [{ adapter: check.adapter }, check.ok ? 1 : 0]));
    metric('enplan_connection_check_duration_seconds', "How long the adapter's newest connection check took", 'gauge', connections.map(({ check }) => [{ adapter: check.adapter }, check.latencyMs / 1000]));
    metric('enplan_connection_checked_timestamp_seconds', "When the adapter's newest finished connection check began (scrapes probe at most once a minute)", 'gauge', connections.map(({ check, checkedAt }) => [{ adapter: check.adapter }, Math.floor(Date.parse(checkedAt) / 1000)]));
  }
  metric('enplan_quarantine_open', 'Quarantined records not yet resolved', 'gauge', Object.entries(o.quarantineOpen).map(([adapter, n]) => [{ adapter }, n]));
  metric('enplan_subscriptions_active', 'Active outbound subscriptions', 'gauge', [[{}, o.subscriptions.activeSubscriptions]]);
  metric('enplan_subscription_deliveries', 'Event deliveries to subscribers by status', 'gauge', Object.entries(o.subscriptions.deliveriesByStatus).map(([status, n]) => [{ status }, n]));
  metric('enplan_outbox_rows', 'Outbox rows by status', 'gauge', Object.entries(o.outboxByStatus).map(([status, n]) => [{ status }, n]));
  metric('enplan_outbox_oldest_waiting_timestamp_seconds', 'When the oldest registration still waiting for delivery to the target (pending or retrying) was accepted (alert on its age)', 'gauge', Object.entries(o.outboxOldestWaiting).map(([target, at]) => [{ target }, Math.floor(Date.parse(at) / 1000)]));
  const subscriptionOldest = o.subscriptions.oldestWaitingAt;
  metric('enplan_subscription_oldest_waiting_timestamp_seconds', 'When the oldest event still waiting for delivery to a subscriber was fanned out (alert on its age; no sample while none waits)', 'gauge', subscriptionOldest ? [[{}, Math.floor(Date.parse(subscriptionOldest) / 1000)]] : []);
  metric('enplan_mapping_records_in', 'Records into each mapping (version: the one that ran) in the newest finished run that read its records', 'gauge', o.mappings.filter((m) => m.lastRun).map((m) => [{ mapping: m.id, version: m.lastRun!.mappingVersion }, m.lastRun!.recordsIn]));
  metric('enplan_mapping_failures', 'Mapping failures (version: the one that ran) in the newest finished run that read its records', 'gauge', o.mappings.filter((m) => m.lastRun).map((m) => [{ mapping: m.id, version: m.lastRun!.mappingVersion }, Object.values(m.lastRun!.failuresByRule).reduce((a, b) => a + b, 0)]));
  metric('enplan_mapping_unknown_codes', 'Unknown codes met (version: the one that ran) in the newest finished run that read its records', 'gauge', o.mappings.filter((m) => m.lastRun).map((m) => [{ mapping: m.id, version: m.lastRun!.mappingVersion }, Object.values(m.lastRun!.unknownCodes).reduce((a, b) => a + b, 0)]));
  const retention = o.retention;
  metric('enplan_audit_chain_keyed', 'Whether new audit rows are keyed with AUDIT_CHAIN_KEY (1) or plain SHA-256 (0), so a rewrite by someone holding the database file would not verify', 'gauge', [[{}, o.auditChainKeyed ? 1 : 0]]);
  metric('enplan_retention_overdue', "Whether retention is overdue (1): two of RETENTION_CRON's starts passed since its newest success began, or it has run and never succeeded", 'gauge', [[{}, retention.overdue ? 1 : 0]]);
  if (retention.lastSucceededAt) metric('enplan_retention_last_success_timestamp_seconds', 'When the newest retention run that succeeded started (R16; nightly)', 'gauge', [[{}, Math.floor(Date.parse(retention.lastSucceededAt) / 1000)]]);
  if (retention.lastRun && retention.lastRun.status !== 'running') {
    const last = retention.lastRun;
    metric('enplan_retention_last_run_failed', 'Whether the newest finished retention run failed or was cut off (1) or succeeded (0)', 'gauge', [[{}, last.status === 'succeeded' ? 0 : 1]]);
    metric('enplan_retention_backlog', 'Whether the newest retention run stopped the step at its nightly cap with work left (1) or finished it (0)', 'gauge', RETENTION_CAPPED_STEPS.map((step) => [{ step }, last.backlog.includes(step) ? 1 : 0]));
    metric('enplan_retention_last_run_items', 'What the newest retention run deleted or changed, by step (counts only)', 'gauge', Object.entries(last.summary).map(([step, n]) => [{ step }, n]));
  }
  return `${lines.join('\n')}\n`;
}
