/**
 * On-demand syncs on Node (`POST /v1/sync/{adapter}/run`, the dashboard's button, inbound
 * webhooks) run on a worker thread of their own, started as bree starts the scheduled sync job:
 * the same bootstrap, the same bounded heap, the same environment. A first sync of a large
 * population takes minutes; on the service's thread it would hold up every request meanwhile.
 */
import { Worker } from 'node:worker_threads';
import type { OnDemandSync } from '../api/context';
import type { SyncRunResult } from '../sync/engine';
import { syncHeap } from './memory';
import { bootstrap, jobModule } from './scheduler';

export function syncOnThreadRunner(env: Record<string, string | undefined>): (options: OnDemandSync) => Promise<SyncRunResult> {
  return (options) =>
    new Promise((resolve, reject) => {
      const worker = new Worker(bootstrap, { env: { ...env }, workerData: { jobModule: jobModule('sync-once-job'), options }, resourceLimits: { ...syncHeap } });
      let result: SyncRunResult | undefined;
      let failure: Error | undefined;
      worker.on('message', (message: unknown) => {
        if (typeof message === 'object' && message !== null && 'syncResult' in message) result = (message as { syncResult: SyncRunResult }).syncResult;
      });
      worker.on('error', (error) => (failure = error));
      worker.on('exit', (code) => {
        if (result) resolve(result);
        else reject(failure ?? new Error(`the sync thread stopped (exit ${code}) without a result`));
      });
    });
}
