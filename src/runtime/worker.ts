/**
 * The Workers runtime: the same app on D1. Secrets and settings come from the Worker's env.
 * `fetch` serves the API; `scheduled` (Cron Triggers) runs the same job functions bree runs on
 * Node: a pull from every configured adapter for every tenant with enrolled citizens, then the
 * outbox relay, and on RETENTION_CRON the retention job. The deps are built once per isolate and reused.
 */
import type { AnyD1Database } from 'drizzle-orm/d1';
import type { AppDeps } from '../api/context';
import { createApp, type App } from '../app';
import { loadConfig, syncSchedules, type Config } from '../config';
import { runRelayOnce } from '../delivery';
import { createLogger } from '../monitoring/log';
import { openD1Database } from '../store/d1';
import { allMappings } from '../sync/all-mappings';
import { runSyncRound } from '../sync/engine';
import { runRetention } from '../sync/retention';
import { processInboundWebhooks } from '../webhooks/inbound';
import { runSubscriptionDeliveries } from '../subscriptions/service';
import { adaptersFromConfig, tenantAdapters } from './adapters';
import { composeDeps } from './compose';

export interface WorkerEnv {
  DB: AnyD1Database;
  NODE_ENV?: string;
  LOG_LEVEL?: string;
  JWT_SECRET?: string;
  JWKS_URL?: string;
  CPR_KEY?: string;
  [key: string]: unknown;
}

interface Built {
  deps: AppDeps;
  app: App;
  config: Config;
}
let cached: { db: AnyD1Database; built: Promise<Built> } | undefined;

function stringVars(env: WorkerEnv): Record<string, string | undefined> {
  return Object.fromEntries(Object.entries(env).filter(([, v]) => typeof v === 'string')) as Record<string, string>;
}

export function builtFor(env: WorkerEnv): Promise<Built> {
  if (!cached || cached.db !== env.DB) {
    const config = loadConfig(stringVars(env));
    const logger = createLogger({ level: config.logLevel, sink: (line) => console.log(line) });
    const built = composeDeps({ database: openD1Database(env.DB), config, logger, adapters: adaptersFromConfig(config), adaptersFor: tenantAdapters(config), mappings: allMappings }).then((deps) => ({ deps, app: createApp(deps), config }));
    cached = { db: env.DB, built };
  }
  return cached.built;
}

/**
 * One Cron Trigger: a sync round over the adapters scheduled on this cron (SYNC_CRON, or an
 * adapter's own SYNC_CRON_<ADAPTER>; wrangler.toml must list each of those crons), then the outbox
 * relay, which runs on every trigger, then retention if this is RETENTION_CRON (listed there too). Without `cron` (tests, manual runs) every configured adapter
 * is synced. Returns what happened, for logs and tests.
 */
export async function runScheduledRound(env: WorkerEnv, trigger: string, cron?: string) {
  const { deps, config } = await builtFor(env);
  const runs: { tenant: string; adapter: string; status: string; merged: number }[] = [];
  const schedules = syncSchedules(config).filter((schedule) => cron === undefined || schedule.cron === cron);
  const adapters = schedules.flatMap((schedule) => schedule.adapters).filter((adapter) => deps.adapters[adapter]);
  if (adapters.length === 0 && cron !== undefined) deps.logger.info('cron trigger syncs no adapter (no SYNC_CRON matches it); relay only', { cron });
  if (adapters.length > 0)
    for (const tenant of await deps.store.plans.tenantsWithEnrolled())
      for (const result of await runSyncRound(deps, { tenant, adapters, trigger, mappings: deps.mappings, maxCitizensPerRun: config.schedule.maxCitizensPerRun }))
        runs.push({ tenant, adapter: result.adapter, status: result.status, merged: result.stats.recordsMerged });
  // Change notices whose processing after the request failed or was cut short are taken here.
  const inbound = await processInboundWebhooks(deps);
  const relay = await runRelayOnce(deps, { limit: 200 });
  const subscriptions = await runSubscriptionDeliveries(deps, { limit: 100 });
  // Retention (R16) on its own cron (RETENTION_CRON), as bree runs it nightly on Node; never on
  // a run without a cron, since it deletes.
  const retention = cron !== undefined && cron === config.schedule.retentionCron ? await runRetention(deps) : undefined;
  if (retention) deps.logger.info('retention finished', retention);
  return { runs, inbound, relay, subscriptions, retention };
}

export default {
  async fetch(request: Request, env: WorkerEnv, ctx: unknown): Promise<Response> {
    const { app } = await builtFor(env);
    return app.fetch(request, env, ctx as never);
  },
  async scheduled(controller: { cron: string }, env: WorkerEnv, ctx: { waitUntil(p: Promise<unknown>): void }): Promise<void> {
    ctx.waitUntil(runScheduledRound(env, `cron:${controller.cron}`, controller.cron));
  },
};
