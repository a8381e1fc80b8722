/**
 * On-demand syncs on Node (`POST /v1/sync/{adapter}/run`, the dashboard's button, inbound
 * webhooks) run on one long-lived worker thread, started as bree starts the scheduled sync job:
 * the same bootstrap, the same bounded heap, the same environment. A first sync of a large
 * population takes minutes; on the service's thread it would hold up every request meanwhile.
 * The thread opens its database and adapters once, so a pass of the webhook processor (up to one
 * a second) costs its sync, not a thread's start; runs happen one at a time, in the order asked.
 * A thread that dies fails the runs waiting on it, its runs under way are ended as interrupted
 * (`threadEnded`), and the next run starts a new one. A thread left
 * idle for `idleMs` (default two minutes) is stopped, giving back its memory (its own heap,
 * connection and store thread: tens of MB); the next run starts one again.
 */
import { Worker } from 'node:worker_threads';
import type { OnDemandSync } from '../api/context';
import type { SyncRunResult } from '../sync/engine';
import { SyncThreadStoppedError } from '../sync/on-demand';
import type { SyncThreadRequest } from './jobs/sync-thread-job';
import { syncHeap } from './memory';
import { bootstrap, jobModule } from './scheduler';
import { processInstanceEnv } from './run-owner';
import { threadCalls } from './thread-calls';

export interface SyncThread {
  run(options: OnDemandSync): Promise<SyncRunResult>;
  /** Whether a thread is up now (started by a run, not yet stopped for being idle). */
  readonly running: boolean;
  /** Lets the runs asked for finish, then stops the thread. */
  close(): Promise<void>;
}

export interface SyncThreadOptions {
  idleMs?: number;
  /**
   * Called when a thread ends without having said it was done (an error, its heap limit,
   * terminated), with its thread id and how it ended: its runs still "running" are to be ended
   * (src/runtime/run-owner.ts, `interruptRunsOfThread`). Awaited by `close`.
   */
  threadEnded?: (thread: number, how: string) => Promise<unknown>;
}

export function startSyncThread(env: Record<string, string | undefined>, options: SyncThreadOptions = {}): SyncThread {
  const idleMs = options.idleMs ?? 120_000;
  let worker: Worker | undefined;
  let idleTimer: ReturnType<typeof setTimeout> | undefined;
  const calls = threadCalls<SyncRunResult>();
  const endings = new Set<Promise<unknown>>();
  const start = (): Worker => {
    const started = new Worker(bootstrap, { env: { ...env, ...processInstanceEnv() }, workerData: { jobModule: jobModule('sync-thread-job') }, resourceLimits: { ...syncHeap } });
    // Read now: a thread that has stopped answers -1.
    const thread = started.threadId;
    let done = false;
    let failure: Error | undefined;
    started.on('message', (message: unknown) => {
      if (message === 'done') done = true;
    });
    started.on('error', (error) => (failure = error));
    started.on('exit', (code) => {
      if (done || !options.threadEnded) return;
      const ending = options.threadEnded(thread, failure ? `${failure.message}; exit ${code}` : `exit ${code}`).catch(() => undefined);
      endings.add(ending);
      void ending.finally(() => endings.delete(ending));
    });
    started.on('message', (reply: { id?: number; result?: SyncRunResult; error?: string }) => {
      if (reply.id === undefined || !calls.answer(started, reply.id, reply.error !== undefined ? { error: new Error(reply.error) } : { value: reply.result! })) return;
      if (calls.size > 0) return;
      // Idle: stopped after `idleMs` without a run.
      idleTimer = setTimeout(() => {
        if (worker !== started || calls.size > 0) return;
        worker = undefined; // the next run starts a new thread; this one finishes and ends
        void stop(started);
      }, idleMs);
      idleTimer.unref();
    });
    // Only the current thread's end fails runs: one stopped for being idle has answered all of its own.
    started.on('error', (error) => worker === started && calls.failAll(new SyncThreadStoppedError(`the sync thread stopped: ${error.message}`)));
    started.on('exit', (code) => {
      if (worker !== started) return;
      worker = undefined;
      calls.failAll(new SyncThreadStoppedError(`the sync thread stopped (exit ${code})`));
    });
    return started;
  };
  /** Lets the runs asked for finish, then ends the thread. */
  const stop = async (running: Worker) => {
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
  };
  let closed = false;
  return {
    get running() {
      return worker !== undefined;
    },
    run(options) {
      if (closed) return Promise.reject(new Error('the sync thread is closed'));
      clearTimeout(idleTimer);
      return calls.send((worker ??= start()), { op: 'run', options } satisfies Omit<Extract<SyncThreadRequest, { op: 'run' }>, 'id'>);
    },
    async close() {
      closed = true;
      clearTimeout(idleTimer);
      if (worker) await stop(worker);
      await Promise.all(endings);
    },
  };
}
