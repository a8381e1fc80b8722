/**
 * The sector connections' checks as IT staff see them (decision 0005): every configured adapter's
 * `check()`, in parallel, each bounded by twice the adapter timeout. Run on request only, at most
 * every ten seconds per municipality (calls in between share the answer), for
 * `GET /v1/monitoring/connections` and the dashboard's connections page.
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

/** Per service (its deps) and tenant, the last checks and when they began; checks under way are shared too. */
const lastChecks = new WeakMap<object, Map<string, { startedAt: number; checks: Promise<ConnectionChecks> }>>();

/**
 * The connections as they speak for `tenant` (STAR's organisation is the tenant's): checked now,
 * or the answer of checks begun less than `CONNECTION_CHECKS_REUSED_MS` ago.
 */
export function checkConnections(deps: Pick<AppDeps, 'adapters' | 'adaptersFor' | 'clock' | 'config'>, tenant: string): Promise<ConnectionChecks> {
  const byTenant = lastChecks.get(deps) ?? new Map<string, { startedAt: number; checks: Promise<ConnectionChecks> }>();
  lastChecks.set(deps, byTenant);
  const now = deps.clock.now().getTime();
  const last = byTenant.get(tenant);
  if (last && now >= last.startedAt && now - last.startedAt < CONNECTION_CHECKS_REUSED_MS) return last.checks;
  const checks = checkConnectionsNow(deps, tenant);
  byTenant.set(tenant, { startedAt: now, checks });
  return checks;
}

async function checkConnectionsNow(deps: Pick<AppDeps, 'adapters' | 'adaptersFor' | 'clock' | 'config'>, tenant: string): Promise<ConnectionChecks> {
  const adapters = adaptersOf(deps, tenant);
  const checkedAt = deps.clock.now().toISOString();
  const configured = SourceSystem.options.flatMap((id) => (adapters[id] ? [[id, adapters[id]] as const] : []));
  // A FHIR check may make two calls (metadata, then the history probe), each bounded by the timeout.
  const bound = 2 * deps.config.adapters.timeoutMs;
  return { checkedAt, connections: await Promise.all(configured.map(([id, source]) => checkOne(id, source, bound))) };
}
