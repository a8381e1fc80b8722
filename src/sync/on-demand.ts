/**
 * Syncs someone asked for now: on a thread of their own where the runtime has one (Node). They keep
 * to SYNC_MAX_CITIZENS_PER_RUN as scheduled runs do — on Workers that is what keeps an invocation
 * within D1's 1,000 queries; on Node it is unset (unbounded) unless an operator sets it. A run cut
 * short leaves the rest where the engine resumes it (the catch-up from the first citizen not yet
 * pulled, each feed from its kept cursor).
 */
import type { AppDeps, OnDemandSync } from '../api/context';
import { askForJob } from '../runtime/job-queue';
import { runSync, type SyncRunResult } from './engine';

/**
 * The thread running a sync ended before the sync did (an error, its heap limit, a stop): its run is
 * marked interrupted, and whoever asked is told so (a 503 worth retrying), not a 500.
 */
export class SyncThreadStoppedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SyncThreadStoppedError';
  }
}

export function runSyncNow(deps: AppDeps, options: OnDemandSync): Promise<SyncRunResult> {
  const bounded: OnDemandSync = { ...options, maxCitizensPerRun: options.maxCitizensPerRun ?? deps.config.schedule.maxCitizensPerRun };
  return deps.runSyncOnThread ? deps.runSyncOnThread(bounded) : runSync(deps, { ...bounded, mappings: deps.mappings });
}

/**
 * Whether a run should go on at once: it stopped at its limit and read everyone it tried. A failed
 * run, or one with citizens it could not read, waits for the next trigger: those citizens come
 * first again, so going on at once could read the same failing page in a tight loop (decision 0020).
 */
export function goesOnAtOnce(result: Pick<SyncRunResult, 'status' | 'stats'>): boolean {
  return result.status === 'succeeded' && result.stats.stoppedAtLimit && result.stats.pullErrors === 0;
}

/**
 * A sync asked for now (the API, the dashboard): if it stopped at its limit, the rest is asked for
 * on the job queue (Workers), run as `queue:<trigger>`; without a queue the next scheduled run of
 * that adapter goes on from where this one stopped.
 */
export async function runSyncNowGoingOn(deps: AppDeps, options: OnDemandSync): Promise<SyncRunResult> {
  const result = await runSyncNow(deps, options);
  if (goesOnAtOnce(result)) await askForJob(deps, { kind: 'sync', tenant: options.tenant, adapters: [options.adapter], trigger: options.trigger.slice(0, 100) });
  return result;
}
