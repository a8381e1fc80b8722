/**
 * The Workers runtime: the same app on D1. Secrets and settings come from the Worker's env.
 * `fetch` serves the API; `scheduled` (Cron Triggers) runs the same job functions bree runs on
 * Node: a pull from every configured adapter for every tenant with enrolled citizens, then the
 * outbox relay, and on RETENTION_CRON the retention job; `queue` runs what was asked for sooner
 * through the `JOBS` queue (src/runtime/job-queue.ts). The deps are built once per isolate and reused.
 */
import type { AnyD1Database } from 'drizzle-orm/d1';
import type { AppDeps } from '../api/context';
import type { SourceSystem } from '../model';
import { createApp, type App } from '../app';
import { Config, cronFields, loadConfig, normaliseCron, syncSchedules } from '../config';
import { runRelayOnce } from '../delivery';
import { createLogger } from '../monitoring/log';
import { openD1Database } from '../store/d1';
import { allMappings } from '../sync/all-mappings';
import { runSyncRound, type SyncRunResult } from '../sync/engine';
import { goesOnAtOnce } from '../sync/on-demand';
import { keyAuditChainEnds, runRetention } from '../sync/retention';
import { processInboundWebhooks } from '../webhooks/inbound';
import { runSubscriptionDeliveries } from '../subscriptions/service';
import { adaptersFromConfig, tenantAdapters, type AdapterTransport } from './adapters';
import { composeDeps } from './compose';
import { askForJob, JobMessage, queueOf, type QueueProducer } from './job-queue';

export interface WorkerEnv {
  DB: AnyD1Database;
  NODE_ENV?: string;
  LOG_LEVEL?: string;
  JWT_SECRET?: string;
  JWKS_URL?: string;
  CPR_KEY?: string;
  CPR_KEYS_RETIRED?: string;
  /** Queues producer of the job queue (wrangler.toml); without it jobs wait for the Cron Triggers. */
  JOBS?: QueueProducer;
  [key: string]: unknown;
}

export interface Built {
  deps: AppDeps;
  app: App;
  config: Config;
}
let cached: { db: AnyD1Database; built: Promise<Built> } | undefined;

/** The names of our settings (src/config.ts): what the env's [vars] and secrets may set. */
const settingNames = new Set(Object.keys(Config.in.shape));

/**
 * The env's settings as strings, as loadConfig reads them. wrangler binds a [vars] value that is not
 * a TOML string as a JSON binding (`SYNC_MAX_CITIZENS_PER_RUN = 400` arrives as the number 400):
 * numbers and booleans are read as their string; a table or array under one of our settings' names
 * is refused with its name (it is no value of ours, and dropping it would silently apply the
 * default). Other bindings (D1, queues, services, JSON of other names) are not settings.
 */
export function stringVars(env: WorkerEnv): Record<string, string | undefined> {
  const vars: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (typeof value === 'string') vars[name] = value;
    else if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') vars[name] = String(value);
    else if (settingNames.has(name) && value !== undefined && value !== null)
      throw new Error(`${name} must be a string, number or boolean in [vars] (or a secret); it is bound as ${Array.isArray(value) ? 'an array' : typeof value}`);
  }
  return vars;
}

/**
 * Cron Triggers take five fields; bree (Node) also six, with seconds. A six-field cron in a setting
 * the Worker compares Cron Triggers with could never match one: refused at build rather than
 * leaving that sync, or retention, never to run.
 */
function refuseCronsNoTriggerMatches(config: Config): void {
  const crons: [string, string][] = [['SYNC_CRON', config.schedule.syncCron], ...Object.entries(config.schedule.syncCronOf).map(([adapter, cron]): [string, string] => [`SYNC_CRON_${adapter.toUpperCase()}`, cron]), ['RETENTION_CRON', config.schedule.retentionCron]];
  for (const [name, cron] of crons)
    if (cronFields(cron) !== 5) throw new Error(`${name} "${cron}" has ${cronFields(cron)} fields; Cron Triggers take 5 fields (no seconds), so on Workers it would never run. Write it with 5 fields, as wrangler.toml's [triggers] crons lists it.`);
}

/**
 * The mTLS certificate binding (`[[mtls_certificates]]` in wrangler.toml) holding the municipality's
 * function certificate (FOCES), which STAR, STIL and the FHIR services demand. When it is bound,
 * every sector adapter sends through its `fetch`; when not, through the plain one (the simulators).
 */
export const SECTOR_CERTIFICATE_BINDING = 'SECTOR_MTLS';

/** How the adapters reach the sector systems from this Worker (decision 0007). */
export function adapterTransportOf(env: WorkerEnv): AdapterTransport {
  const binding = env[SECTOR_CERTIFICATE_BINDING] as { fetch?: unknown } | undefined;
  if (typeof binding?.fetch !== 'function') return {};
  const through: typeof fetch = (input, init) => (binding.fetch as typeof fetch)(input, init);
  return { soapFetch: through, fhirFetch: through };
}

export function builtFor(env: WorkerEnv): Promise<Built> {
  if (!cached || cached.db !== env.DB) cached = { db: env.DB, built: buildFor(env) };
  return cached.built;
}

/** The app and its deps for this env, not cached (tests build one with other settings). */
export async function buildFor(env: WorkerEnv): Promise<Built> {
  const config = loadConfig(stringVars(env));
  refuseCronsNoTriggerMatches(config);
  const logger = createLogger({ level: config.logLevel, sink: (line) => console.log(line) });
  const transport = adapterTransportOf(env);
  const deps = await composeDeps({ database: openD1Database(env.DB), config, logger, adapters: adaptersFromConfig(config, undefined, transport), adaptersFor: tenantAdapters(config, transport), mappings: allMappings });
  if (env.JOBS) deps.jobs = queueOf(env.JOBS);
  // Invocations cannot ask about one another: the engine ends this owner's runs once older than an invocation lasts.
  deps.runOwner = 'workers';
  return { deps, app: createApp(deps), config };
}

/**
 * A sync round for one tenant; if it stopped at its limit, the rest is asked for on the job queue
 * (the message keeps the trigger that started it all, `origin`; the runs it makes are `queue:<origin>`).
 */
async function syncRoundGoingOn(built: Built, tenant: string, adapters: SourceSystem[], trigger: string, origin = trigger) {
  const { deps, config } = built;
  const results = await runSyncRound(deps, { tenant, adapters, trigger, mappings: deps.mappings, maxCitizensPerRun: config.schedule.maxCitizensPerRun });
  const unfinished = adaptersToGoOn(results);
  if (unfinished.length > 0) await askForJob(deps, { kind: 'sync', tenant, adapters: unfinished, trigger: origin });
  return results;
}

/**
 * The adapters whose run should go on at once: those that stopped at the limit and read everyone they
 * tried. A failed run, or one with citizens it could not read, waits for the next trigger: those
 * citizens come first again, so going on at once could read the same failing page in a tight loop.
 */
export function adaptersToGoOn(results: readonly Pick<SyncRunResult, 'adapter' | 'status' | 'stats'>[]): SourceSystem[] {
  return results.filter(goesOnAtOnce).map((result) => result.adapter);
}

/**
 * One Cron Trigger: a sync round over the adapters scheduled on this cron (SYNC_CRON, or an
 * adapter's own SYNC_CRON_<ADAPTER>; wrangler.toml must list each of those crons), then the change
 * notices left waiting, the outbox relay and the subscription deliveries, which run on every
 * trigger, then retention if this is RETENTION_CRON (listed there too). Crons are compared with
 * their whitespace normalised. Without `cron` (tests, manual runs) every configured adapter is
 * synced. Returns what happened, for logs and tests.
 *
 * Each step runs whatever the steps before it did (a failed relay must not keep retention from
 * lapsing consents): a step that throws is logged with its name, and once all have run the round
 * throws an AggregateError of the failures (its `round` holds what the others did), so the
 * invocation is reported as failed.
 */
export async function runScheduledRound(env: WorkerEnv, trigger: string, cron?: string) {
  return scheduledRound(await builtFor(env), trigger, cron);
}

export async function scheduledRound(built: Built, trigger: string, cron?: string) {
  const { deps, config } = built;
  const at = cron === undefined ? undefined : normaliseCron(cron);
  const failures: { step: string; error: unknown }[] = [];
  const step = async <T>(name: string, work: () => Promise<T>, detail: Record<string, unknown> = {}): Promise<T | undefined> => {
    try {
      return await work();
    } catch (error) {
      deps.logger.error('scheduled round: step failed; the others go on', { step: name, ...detail, trigger, error: error instanceof Error ? error.message : String(error) });
      failures.push({ step: name, error });
      return undefined;
    }
  };
  // AUDIT_CHAIN_KEY newly set: Workers has no start to key the chains' ends at (as Node does), so every
  // trigger does it — a look at each chain's head, and a row only where it is not keyed yet.
  const auditChainsKeyed = config.auditChainKey ? await step('audit-key', () => keyAuditChainEnds(deps)) : undefined;
  const runs: { tenant: string; adapter: string; status: string; merged: number }[] = [];
  const schedules = syncSchedules(config).filter((schedule) => at === undefined || normaliseCron(schedule.cron) === at);
  const adapters = schedules.flatMap((schedule) => schedule.adapters).filter((adapter) => deps.adapters[adapter]);
  if (adapters.length === 0 && at !== undefined) deps.logger.info('cron trigger syncs no adapter (no SYNC_CRON matches it); relay only', { cron });
  if (adapters.length > 0)
    // One tenant's failed round does not keep the next tenant's from running.
    for (const tenant of (await step('sync', () => deps.store.plans.tenantsWithEnrolled())) ?? [])
      for (const result of (await step('sync', () => syncRoundGoingOn(built, tenant, adapters, trigger), { tenant })) ?? [])
        runs.push({ tenant, adapter: result.adapter, status: result.status, merged: result.stats.recordsMerged });
  // Change notices whose processing after the request failed or was cut short are taken here.
  const inbound = await step('inbound', () => processInboundWebhooks(deps));
  const relay = await step('relay', () => runRelayOnce(deps, { limit: 200 }));
  const subscriptions = await step('subscriptions', () => runSubscriptionDeliveries(deps, { limit: 100 }));
  // Retention (R16) on its own cron (RETENTION_CRON), as bree runs it nightly on Node; never on
  // a run without a cron, since it deletes.
  const retention = at !== undefined && at === normaliseCron(config.schedule.retentionCron) ? await step('retention', () => runRetention(deps)) : undefined;
  if (retention) deps.logger.info('retention finished', retention);
  const round = { auditChainsKeyed, runs, inbound, relay, subscriptions, retention };
  if (failures.length > 0) {
    const steps = [...new Set(failures.map((failure) => failure.step))];
    throw Object.assign(new AggregateError(failures.map((failure) => failure.error), `scheduled round ${trigger}: ${steps.join(', ')} failed (the other steps ran)`), { round, steps });
  }
  return round;
}

/** A message of a queue batch, as far as the consumer uses it. */
export interface JobQueueMessage {
  readonly id: string;
  readonly body: unknown;
  readonly attempts: number;
  ack(): void;
  retry(options?: { delaySeconds?: number }): void;
}

/** How long a failed job waits before its next try (Queues counts the tries; wrangler.toml caps them). */
const RETRY_DELAY_SECONDS = 30;
const RELAY_LIMIT = 200;

/** Jobs asking for the same work (the same kind, tenant, source or adapters) are done once. */
function sameWorkKey(job: JobMessage): string {
  if (job.kind === 'relay') return `relay|${job.tenant}`;
  if (job.kind === 'inbound') return `inbound|${job.tenant}|${job.source}`;
  return `sync|${job.tenant}|${[...new Set(job.adapters)].sort().join(',')}`;
}
/** Deliveries first (a caseworker waits on them), then change notices, then sync continuations. */
const kindOrder: Record<JobMessage['kind'], number> = { relay: 0, inbound: 1, sync: 2 };

/**
 * One batch of the job queue. A message that is not a job is acknowledged and logged (a retry
 * would not make it one); a job that throws is retried later; messages asking for the same work
 * are answered by one run of it.
 */
export async function runJobBatch(built: Built, messages: readonly JobQueueMessage[]) {
  const { deps } = built;
  const outcome = { relays: 0, syncs: 0, inbound: 0, refused: 0, retried: 0 };
  const work = new Map<string, { job: JobMessage; messages: JobQueueMessage[] }>();
  for (const message of messages) {
    const parsed = JobMessage.safeParse(message.body);
    if (!parsed.success) {
      deps.logger.warn('job message refused: not a job', { messageId: message.id, issues: parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).slice(0, 5) });
      outcome.refused++;
      message.ack();
      continue;
    }
    const key = sameWorkKey(parsed.data);
    const entry = work.get(key) ?? { job: parsed.data, messages: [] };
    entry.messages.push(message);
    work.set(key, entry);
  }
  const run = async (job: JobMessage) => {
    if (job.kind === 'relay') {
      const result = await runRelayOnce(deps, { tenant: job.tenant, limit: RELAY_LIMIT });
      outcome.relays++;
      // A full page may have left more due rows: go on in another invocation (its own query budget).
      if (result.delivered + result.retried + result.dead + result.cancelled >= RELAY_LIMIT) await askForJob(deps, job);
    } else if (job.kind === 'inbound') {
      // One run reads what every notice waiting from that source asked for.
      await processInboundWebhooks(deps, { tenant: job.tenant, source: job.source });
      outcome.inbound++;
    } else {
      const configured = [...new Set(job.adapters)].filter((adapter) => deps.adapters[adapter]);
      if (configured.length > 0) await syncRoundGoingOn(built, job.tenant, configured, `queue:${job.trigger}`.slice(0, 100), job.trigger);
      outcome.syncs++;
    }
  };
  for (const { job, messages: batch } of [...work.values()].sort((a, b) => kindOrder[a.job.kind] - kindOrder[b.job.kind])) {
    try {
      await run(job);
      for (const message of batch) message.ack();
    } catch (error) {
      deps.logger.error('job failed; retried later', { kind: job.kind, error: error instanceof Error ? error.message : String(error) });
      outcome.retried += batch.length;
      for (const message of batch) message.retry({ delaySeconds: RETRY_DELAY_SECONDS });
    }
  }
  // Events for vendors ride along with deliveries, as on every trigger.
  if (outcome.relays > 0) await runSubscriptionDeliveries(deps, { limit: 100 }).catch((error) => deps.logger.warn('subscription deliveries failed; the next trigger goes on', { error: error instanceof Error ? error.message : String(error) }));
  return outcome;
}

export default {
  async fetch(request: Request, env: WorkerEnv, ctx: unknown): Promise<Response> {
    const { app } = await builtFor(env);
    return app.fetch(request, env, ctx as never);
  },
  async scheduled(controller: { cron: string }, env: WorkerEnv, ctx: { waitUntil(p: Promise<unknown>): void }): Promise<void> {
    // Awaited as well as kept alive: a round with a failed step rejects, and the invocation is
    // reported as failed (the Cron Trigger's outcome), not only logged.
    const round = runScheduledRound(env, `cron:${controller.cron}`, controller.cron);
    ctx.waitUntil(round.catch(() => undefined));
    await round;
  },
  async queue(batch: { messages: readonly JobQueueMessage[] }, env: WorkerEnv): Promise<void> {
    await runJobBatch(await builtFor(env), batch.messages);
  },
};
