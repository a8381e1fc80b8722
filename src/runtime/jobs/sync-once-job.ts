/** Worker thread job: one on-demand sync (src/runtime/sync-thread.ts); the result goes back as a message. */
import { parentPort } from 'node:worker_threads';
import type { OnDemandSync } from '../../api/context';
import { runSync } from '../../sync/engine';
import { openNodeDeps } from '../node-deps';

export async function run(options: OnDemandSync) {
  // Opened as the scheduled sync job opens them: SQLite on its own thread (SYNC_STORE_THREAD).
  const { deps, close } = await openNodeDeps(process.env, { pullWorker: true, storeThread: true });
  try {
    const syncResult = await runSync(deps, { ...options, mappings: deps.mappings });
    parentPort?.postMessage({ syncResult });
  } finally {
    await close();
  }
}
