/**
 * Calls awaiting answers from a worker thread, by id: the bookkeeping the pull worker, the store
 * thread and the on-demand sync thread share. The thread is referenced only while a call waits,
 * so a process waits for answers, never for an idle thread.
 */
import type { Worker } from 'node:worker_threads';

export interface ThreadCalls<T> {
  readonly size: number;
  /** Posts `message` with a fresh `id` to `thread`. A message it cannot receive fails this call only. */
  send(thread: Worker, message: object): Promise<T>;
  /** Settles call `id` if it still waits; returns whether it did. */
  answer(thread: Worker, id: number, outcome: { value: T } | { error: Error }): boolean;
  /** Fails every waiting call (the thread stopped). */
  failAll(error: Error): void;
}

export function threadCalls<T>(): ThreadCalls<T> {
  let nextId = 1;
  const waiting = new Map<number, { resolve: (value: T) => void; reject: (error: Error) => void }>();
  const forget = (thread: Worker, id: number) => {
    waiting.delete(id);
    if (waiting.size === 0) thread.unref();
  };
  return {
    get size() {
      return waiting.size;
    },
    send(thread, message) {
      const id = nextId++;
      return new Promise<T>((resolve, reject) => {
        if (waiting.size === 0) thread.ref();
        waiting.set(id, { resolve, reject });
        try {
          thread.postMessage({ ...message, id });
        } catch (error) {
          forget(thread, id);
          throw error;
        }
      });
    },
    answer(thread, id, outcome) {
      const call = waiting.get(id);
      if (!call) return false;
      forget(thread, id);
      if ('error' in outcome) call.reject(outcome.error);
      else call.resolve(outcome.value);
      return true;
    },
    failAll(error) {
      const calls = [...waiting.values()];
      waiting.clear();
      for (const { reject } of calls) reject(error);
    },
  };
}
