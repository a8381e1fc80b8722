/**
 * The sector connections' checks as IT staff see them (decision 0005): every configured adapter's
 * `check()`, in parallel, each bounded by twice the adapter timeout. Run on request only, at most
 * every ten seconds per municipality (calls in between share the answer), for
 * `GET /v1/monitoring/connections` and the dashboard's connections page — and, at most once a
 * minute, for a `/metrics` scrape, which reports each adapter's newest finished check.
 */
import type { SourceAdapter } from '../../adapters/adapter';
import { adaptersOf, type AppDeps } from '../api/context';
import { SourceSystem } from '../model';
import { redactCpr } from '../security/redact';

export interface ConnectionCheck {
  adapter: SourceSystem;
  name: string;
  ok: boolean;
  latencyMs: number;
  detail: string | null;
  /** What a working connection will not do (e.g. deletions at the source go unseen). */
  warnings: string[];
}

export interface ConnectionChecks {
  checkedAt: string;
  connections: ConnectionCheck[];
}

const errorText = (error: unknown) => (error instanceof Error ? error.message : String(error));

/** One adapter's check; one that throws or outlasts `timeoutMs` is failing, never an error of ours. */
async function checkOne(adapter: SourceSystem, source: SourceAdapter, timeoutMs: number): Promise<ConnectionCheck> {
  // A description that fails leaves the source under its id: its check is still run and shown.
  let name: string = adapter;
  try {
    name = source.describe().name;
  } catch {}
  const started = performance.now();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timedOut = new Promise<'timed-out'>((resolve) => {
    timer = setTimeout(() => resolve('timed-out'), timeoutMs);
  });
  try {
    const result = await Promise.race([source.check(), timedOut]);
    if (result === 'timed-out') return { adapter, name, ok: false, latencyMs: Math.round(performance.now() - started), detail: `no answer within ${timeoutMs} ms (twice ADAPTER_TIMEOUT_MS)`, warnings: [] };
    // Sources write these; a CPR number one echoed must not reach IT staff's screen (S4).
    return { adapter, name, ok: result.ok, latencyMs: Math.round(result.latencyMs), detail: result.detail ? redactCpr(result.detail) : null, warnings: (result.warnings ?? []).map(redactCpr) };
  } catch (error) {
    return { adapter, name, ok: false, latencyMs: Math.round(performance.now() - started), detail: redactCpr(`the check failed: ${errorText(error)}`), warnings: [] };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * How long one municipality's answer is reused: a page refreshed over and over, or a poller, makes
 * the layer probe the sector systems at most this often (the answer's `checkedAt` tells its age).
 */
export const CONNECTION_CHECKS_REUSED_MS = 10_000;

/**
 * How often a `/metrics` scrape may make the layer probe the sector systems: Prometheus scrapes every
 * 15–60 s, and national systems (DFDG) should not be asked by every municipality that often.
 */
export const CONNECTION_CHECKS_FOR_METRICS_MS = 60_000;
/** How long a scrape waits for checks it started before it reports the newest finished ones instead. */
export const METRICS_CONNECTION_WAIT_MS = 3_000;

type CheckDeps = Pick<AppDeps, 'adapters' | 'adaptersFor' | 'clock' | 'config'>;
interface TenantChecks {
  startedAt: number;
  checks: Promise<ConnectionChecks>;
  /** Each adapter's newest check that has finished, with when its round began (for /metrics). */
  finished: Map<SourceSystem, { check: ConnectionCheck; checkedAt: string }>;
}

/** Per service (its deps) and tenant, the last checks and when they began; checks under way are shared too. */
const lastChecks = new WeakMap<object, Map<string, TenantChecks>>();

function tenantChecks(deps: CheckDeps, tenant: string): { byTenant: Map<string, TenantChecks>; last: TenantChecks | undefined } {
  const byTenant = lastChecks.get(deps) ?? new Map<string, TenantChecks>();
  lastChecks.set(deps, byTenant);
  return { byTenant, last: byTenant.get(tenant) };
}

/**
 * The connections as they speak for `tenant` (STAR's organisation is the tenant's): checked now,
 * or the answer of checks begun less than `reuseMs` (`CONNECTION_CHECKS_REUSED_MS`) ago.
 */
export function checkConnections(deps: CheckDeps, tenant: string, reuseMs = CONNECTION_CHECKS_REUSED_MS): Promise<ConnectionChecks> {
  const { byTenant, last } = tenantChecks(deps, tenant);
  const now = deps.clock.now().getTime();
  if (last && now >= last.startedAt && now - last.startedAt < reuseMs) return last.checks;
  const finished = last?.finished ?? new Map();
  const checks = checkConnectionsNow(deps, tenant, (check, checkedAt) => {
    // A round that began later may have finished this adapter's check first: keep the newer.
    const held = finished.get(check.adapter);
    if (!held || held.checkedAt <= checkedAt) finished.set(check.adapter, { check, checkedAt });
  });
  byTenant.set(tenant, { startedAt: now, checks, finished });
  return checks;
}

/** Each configured adapter's newest finished check, probing nothing (the dashboard's front page). */
export function lastConnectionChecks(deps: CheckDeps, tenant: string): { check: ConnectionCheck; checkedAt: string }[] {
  const finished = tenantChecks(deps, tenant).last?.finished ?? new Map();
  const configured = adaptersOf(deps, tenant);
  return SourceSystem.options.flatMap((id) => (configured[id] && finished.has(id) ? [finished.get(id)!] : []));
}

/**
 * For a `/metrics` scrape: each configured adapter's newest finished check. Starts a round when the
 * last began `CONNECTION_CHECKS_FOR_METRICS_MS` ago or more and waits for it up to `waitMs`; a source
 * that does not answer by then is reported from its previous check (or not at all before its first)
 * until its own check ends, failed, at twice the adapter timeout. A scrape is never held longer.
 */
export async function connectionChecksForMetrics(deps: CheckDeps, tenant: string, waitMs = METRICS_CONNECTION_WAIT_MS): Promise<{ check: ConnectionCheck; checkedAt: string }[]> {
  const checks = checkConnections(deps, tenant, CONNECTION_CHECKS_FOR_METRICS_MS);
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([checks, new Promise((resolve) => (timer = setTimeout(resolve, waitMs)))]);
  clearTimeout(timer);
  return lastConnectionChecks(deps, tenant);
}

async function checkConnectionsNow(deps: CheckDeps, tenant: string, onFinished: (check: ConnectionCheck, checkedAt: string) => void): Promise<ConnectionChecks> {
  const adapters = adaptersOf(deps, tenant);
  const checkedAt = deps.clock.now().toISOString();
  const configured = SourceSystem.options.flatMap((id) => (adapters[id] ? [[id, adapters[id]] as const] : []));
  // A FHIR check may make two calls (metadata, then the history probe), each bounded by the timeout.
  const bound = 2 * deps.config.adapters.timeoutMs;
  const connections = await Promise.all(
    configured.map(async ([id, source]) => {
      const check = await checkOne(id, source, bound);
      onFinished(check, checkedAt);
      return check;
    }),
  );
  return { checkedAt, connections };
}
