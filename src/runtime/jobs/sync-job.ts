/** Bree job: one sync round over the given adapters for every tenant with enrolled citizens. */
import { runSyncRound } from '../../sync/engine';
import { openNodeDeps } from '../node-deps';
import type { SourceSystem } from '../../model';

export async function run(options: { adapters: SourceSystem[] }) {
  // SQLite runs on a thread of its own (SYNC_STORE_THREAD, default on; src/store/sqlite-thread.ts); with
  // SYNC_PULL_WORKER=on, reading and mapping run on another core too (src/sync/pull-worker.ts).
  const { deps, close } = await openNodeDeps(process.env, { pullWorker: true, storeThread: 'sync' });
  try {
    for (const tenant of await deps.store.plans.tenantsWithEnrolled()) {
      for (const result of await runSyncRound(deps, { tenant, adapters: options.adapters, trigger: 'schedule', mappings: deps.mappings, maxCitizensPerRun: deps.config.schedule.maxCitizensPerRun }))
        deps.logger.info('scheduled sync finished', { tenant, adapter: result.adapter, runId: result.runId, status: result.status });
    }
  } finally {
    await close();
  }
}
