/** What every route can reach: the ports the app was composed from, and the caller. */
import type { HttpMetrics } from '../monitoring/http-metrics';
import type { SourceAdapter } from '../../adapters/adapter';
import type { SourceSystem } from '../model';
import type { Config } from '../config';
import type { MappingRegistry } from '../sync/registry';
import type { Logger } from '../monitoring/log';
import type { CprVault, Principal } from '../security';
import type { Store } from '../store';

export interface Clock {
  now(): Date;
}

export interface AppDeps {
  store: Store;
  vault: CprVault;
  clock: Clock;
  config: Config;
  logger: Logger;
  verifyToken(token: string): Promise<Principal>;
  /** With JWKS_URL: whether the identity provider's signing keys are at hand (readiness). */
  identityProvider?: { status(): Promise<'ok' | 'stale' | 'unavailable'> };
  /** The sector adapters this deployment talks to (the simulators locally); absent ones are skipped. */
  adapters: Partial<Record<SourceSystem, SourceAdapter>>;
  /**
   * The adapters as they speak for one municipality (e.g. STAR's ActiveOrganisation carries the
   * tenant's kommunekode). Without it, `adapters` speak for every tenant. Use `adaptersOf`.
   */
  adaptersFor?(tenant: string): Partial<Record<SourceSystem, SourceAdapter>>;
  /** The versioned mappings, by adapter and record type. */
  mappings: MappingRegistry;
  /**
   * Node: wakes the inbound webhook processor after a notice was stored. Absent on Workers, where
   * the request's `waitUntil` processes it.
   */
  onInboundWebhook?(): void;
  /**
   * Node: runs an on-demand sync (the API's, the dashboard's, an inbound webhook's) on a worker
   * thread of its own, as the scheduled ones run, so a long run does not hold up requests. Absent
   * (Workers, tests): the run happens in the calling thread. Use `runSyncNow`.
   */
  runSyncOnThread?(options: OnDemandSync): Promise<import('../sync/engine').SyncRunResult>;
  /** Node: name resolution and a fetch that refuses internal addresses at connect time (S6). */
  subscriptionTransport?: import('../subscriptions/service').SubscriptionTransport;
  /**
   * Workers with a Queues binding: asks for a job to run soon (the relay after a registration, the
   * rest of a sync cut short by its limit). Absent on Node, where bree's intervals run them.
   */
  jobs?: import('../runtime/job-queue').JobQueue;
  /**
   * Who runs this thread's sync runs, recorded with each (src/runtime/run-owner.ts): a Node
   * process and thread, or `workers`. Absent (tests): recorded as none.
   */
  runOwner?: string;
}

/** An on-demand sync: one adapter for one municipality, and who or what asked for it. */
export interface OnDemandSync {
  tenant: string;
  adapter: SourceSystem;
  trigger: string;
  /** At most about this many citizens (the engine's option); `runSyncNow` sets SYNC_MAX_CITIZENS_PER_RUN. */
  maxCitizensPerRun?: number;
}

/** The adapters to use on behalf of `tenant`. */
export const adaptersOf = (deps: Pick<AppDeps, 'adapters' | 'adaptersFor'>, tenant: string): Partial<Record<SourceSystem, SourceAdapter>> =>
  deps.adaptersFor?.(tenant) ?? deps.adapters;

export interface AppEnv {
  Variables: {
    deps: AppDeps;
    principal: Principal;
    requestId: string;
    /** Requests this app served (src/monitoring/http-metrics.ts), for `/metrics`. */
    httpMetrics: HttpMetrics;
  };
}

/** A failure the API answers with a problem document instead of a 500. */
export class ProblemError extends Error {
  constructor(
    readonly problemType: import('./problem').ProblemType,
    readonly detail?: string,
  ) {
    super(detail ?? problemType);
    this.name = 'ProblemError';
  }
}
