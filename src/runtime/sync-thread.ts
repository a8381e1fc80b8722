/**
 * On-demand syncs on Node (`POST /v1/sync/{adapter}/run`, the dashboard's button, inbound
 * webhooks) run on one long-lived worker thread, started as bree starts the scheduled sync job:
 * the same bootstrap, the same bounded heap, the same environment. A first sync of a large
 * population takes minutes; on the service's thread it would hold up every request meanwhile.
 * The thread opens its database and adapters once, so a pass of the webhook processor (up to one
 * a second) costs its sync, not a thread's start; runs happen one at a time, in the order asked.
 * A thread that dies fails the runs waiting on it and the next run starts a new one.
 */
import { Worker } from 'node:worker_threads';
import type { OnDemandSync } from '../api/context';
import type { SyncRunResult } from '../sync/engine';
import type { SyncThreadRequest } from './jobs/sync-thread-job';
import { syncHeap } from './memory';
import { bootstrap, jobModule } from './scheduler';

export interface SyncThread {
  run(options: OnDemandSync): Promise<SyncRunResult>;
  /** Lets the runs asked for finish, then stops the thread. */
  close(): Promise<void>;
}

export function startSyncThread(env: Record<string, string | undefined>): SyncThread {
  let worker: Worker | undefined;
  let nextId = 1;
  const pending = new Map<number, { resolve: (result: SyncRunResult) => void; reject: (error: Error) => void }>();
  const failPending = (error: Error) => {
    for (const { reject } of pending.values()) reject(error);
    pending.clear();
  };
  const start = (): Worker => {
    const started = new Worker(bootstrap, { env: { ...env }, workerData: { jobModule: jobModule('sync-thread-job') }, resourceLimits: { ...syncHeap } });
    started.on('message', (reply: { id?: number; result?: SyncRunResult; error?: string }) => {
      const waiting = reply.id === undefined ? undefined : pending.get(reply.id);
      if (!waiting) return;
      pending.delete(reply.id!);
      // Referenced only while runs are awaited: an idle sync thread does not keep the process alive.
      if (pending.size === 0) started.unref();
      if (reply.error !== undefined) waiting.reject(new Error(reply.error));
      else waiting.resolve(reply.result!);
    });
    started.on('error', (error) => failPending(error));
    started.on('exit', (code) => {
      if (worker === started) worker = undefined;
      failPending(new Error(`the sync thread stopped (exit ${code})`));
    });
    return started;
  };
  let closed = false;
  return {
    run(options) {
      if (closed) return Promise.reject(new Error('the sync thread is closed'));
      const id = nextId++;
      return new Promise((resolve, reject) => {
        const thread = (worker ??= start());
        if (pending.size === 0) thread.ref();
        pending.set(id, { resolve, reject });
        thread.postMessage({ op: 'run', id, options } satisfies SyncThreadRequest);
      });
    },
    async close() {
      closed = true;
      const running = worker;
      if (!running) return;
      running.ref();
      // The job says 'done' once its runs are over and its database is closed (as bree's jobs do;
      // bree then ends the thread, and so do we: an HTTP keep-alive socket may still hold it).
      const done = new Promise<void>((resolve) => {
        running.on('message', (message: unknown) => message === 'done' && resolve());
        running.once('exit', () => resolve());
      });
      running.postMessage({ op: 'stop' } satisfies SyncThreadRequest);
      await done;
      await running.terminate();
    },
  };
}
