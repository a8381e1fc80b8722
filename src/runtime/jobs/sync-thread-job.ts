/**
 * Worker thread job: the service's on-demand sync thread (src/runtime/sync-thread.ts). Opens what
 * a sync needs once, as the scheduled sync job does, then runs one sync per request, in the order
 * asked, until told to stop.
 */
import { parentPort } from 'node:worker_threads';
import type { OnDemandSync } from '../../api/context';
import { runSync } from '../../sync/engine';
import { openNodeDeps } from '../node-deps';

export type SyncThreadRequest = { op: 'run'; id: number; options: OnDemandSync } | { op: 'stop' };

export async function run() {
  const port = parentPort!;
  // Listening before anything is awaited: a request that arrives while nothing listens is lost.
  // SQLite on its own thread (SYNC_STORE_THREAD), as in the scheduled job.
  const opened = openNodeDeps(process.env, { pullWorker: true, storeThread: 'sync' });
  let queue: Promise<unknown> = opened;
  await new Promise<void>((stopped) => {
    port.on('message', (request: SyncThreadRequest) => {
      if (request.op === 'stop') {
        void queue.finally(() => stopped());
        return;
      }
      queue = queue.finally(async () => {
        try {
          const { deps } = await opened;
          port.postMessage({ id: request.id, result: await runSync(deps, { ...request.options, mappings: deps.mappings }) });
        } catch (error) {
          port.postMessage({ id: request.id, error: error instanceof Error ? error.message : String(error) });
        }
      });
    });
  });
  port.removeAllListeners('message');
  await (await opened).close();
}
