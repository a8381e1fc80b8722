/**
 * Syncs someone asked for now: on a thread of their own where the runtime has one (Node). They keep
 * to SYNC_MAX_CITIZENS_PER_RUN as scheduled runs do — on Workers that is what keeps an invocation
 * within D1's 1,000 queries; on Node it is unset (unbounded) unless an operator sets it. A run cut
 * short leaves the rest where the engine resumes it (the catch-up from the first citizen not yet
 * pulled, each feed from its kept cursor).
 */
import { adaptersOf, type AppDeps, type OnDemandSync } from '../api/context';
import type { SourceSystem } from '../model';
import { askForJob } from '../runtime/job-queue';
import { redactCpr } from '../security/redact';
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

/** How the runs `readAgainSoon` starts are triggered (`read-again:<why>`, `queue:read-again:<why>` on Workers): a round so triggered asks for no more of them. */
export const READ_AGAIN_TRIGGER = 'read-again:';

/** Reads asked for by `readAgainSoon` and not yet settled, per deployment's deps (tests await them; Workers keep them alive). */
const readsUnderWay = new WeakMap<AppDeps, Set<Promise<void>>>();

/**
 * An element left a plan with the words of a writer whose flow ended (a revocation, a lapse, the
 * region's permit ending: decision 0026), and the sources that stay on it were marked to be read
 * again for the citizen, in the same batch as the plan write. This has them read now rather than at
 * their next scheduled run, so the element is back in their words within moments: a run of each
 * source's sync, whose catch-up reads the citizen in full under the consent gate like any other.
 * Where that run happens: the sync thread (Node's service); a sync job on the queue (Workers);
 * else this thread (tests, Node's job threads, Workers without a queue). Never fails: a run that
 * fails or does not reach the citizen leaves them marked unread, and the next scheduled run reads
 * them, as before. Returns when the runs it started ended (or the job was asked for).
 */
export function readAgainSoon(deps: AppDeps, tenant: string, sources: readonly SourceSystem[], trigger: string): Promise<void> {
  const adapters = [...new Set(sources)].filter((source) => adaptersOf(deps, tenant)[source]);
  if (adapters.length === 0) return Promise.resolve();
  const reading = (async () => {
    // Node's service has a sync thread (its `jobs` only wake the relay); Workers have a queue.
    if (!deps.runSyncOnThread && (await askForJob(deps, { kind: 'sync', tenant, adapters, trigger: trigger.slice(0, 100) }))) return;
    for (const adapter of adapters) {
      try {
        const result = await runSyncNowGoingOn(deps, { tenant, adapter, trigger });
        if (result.status !== 'succeeded' || result.stats.pullErrors > 0)
          deps.logger.warn('a source read again for an element that left did not read everyone; its next scheduled run does', { tenant, adapter, runId: result.runId, status: result.status, pullErrors: result.stats.pullErrors });
      } catch (error) {
        deps.logger.warn('a source read again for an element that left could not run; its next scheduled run reads the citizen', { tenant, adapter, error: redactCpr(error instanceof Error ? error.message : String(error)) });
      }
    }
  })();
  const underWay = readsUnderWay.get(deps) ?? new Set();
  readsUnderWay.set(deps, underWay);
  underWay.add(reading);
  void reading.catch(() => undefined).finally(() => underWay.delete(reading));
  return reading;
}

/** Resolves once every read asked for with `readAgainSoon` on these deps has settled, those asked for meanwhile too. */
export async function readsAgainSettled(deps: AppDeps): Promise<void> {
  for (let underWay = readsUnderWay.get(deps); underWay && underWay.size > 0; ) await Promise.all([...underWay]);
}
