/**
 * SQLite on its own thread (Node only; docs/decisions/0016). libSQL's Node driver runs every
 * statement synchronously on the calling thread, so in a sync the database's ~20 % of the work
 * stops the thread that pulls, parses and merges. Here one worker thread owns the connection and
 * the caller only builds SQL (drizzle's sqlite-proxy driver) and waits for answers: with several
 * chunks in flight, one chunk's commit runs while the next is parsed and merged.
 *
 * Same database file, same migrations (run here before the thread starts), same semantics: a batch
 * runs inside one transaction on the thread, which runs one message at a time. Errors keep their
 * message and SQLite code. A thread that dies fails what is in flight and the next call starts it
 * again; nothing is retried behind the caller's back.
 *
 * One difference from libSQL and D1: a raw read (`db.all(sql`…`)`, `db.get(sql`…`)`) answers rows
 * as arrays, as drizzle's proxy driver does; the store code reads only through the query builder.
 */
import { Worker } from 'node:worker_threads';
import { drizzle } from 'drizzle-orm/sqlite-proxy';
import * as schema from './schema';
import { openLibsqlDatabase } from './libsql';
import { threadCalls } from '../runtime/thread-calls';
import { databasePort, type Database } from './db';

type Method = 'run' | 'all' | 'values' | 'get';
interface Query { sql: string; params: unknown[]; method: Method }
type Request = ({ op: 'query' } & Query) | { op: 'batch'; items: Query[] } | { op: 'close' };
interface Reply { id: number; result?: unknown; error?: { message: string; code?: string; rawCode?: number } }

/** An error from the store thread, with SQLite's code where it had one (e.g. SQLITE_CONSTRAINT_UNIQUE). */
export class StoreThreadError extends Error {
  constructor(message: string, readonly code?: string, readonly rawCode?: number) {
    super(message);
    this.name = 'StoreThreadError';
  }
}

const fromSource = import.meta.url.endsWith('.ts');

export interface StoreThreadOptions {
  /** Heap limits of the thread: it holds one request and its answer at a time. */
  resourceLimits?: { maxOldGenerationSizeMb: number; maxYoungGenerationSizeMb: number };
}

/** Opens `url` (`file:…`; an in-memory database cannot be shared with a thread) with its connection on a worker thread. */
export async function openSqliteThreadDatabase(url: string, options: StoreThreadOptions = {}): Promise<Database> {
  if (!url.startsWith('file:')) throw new Error('the store thread needs a database file (file:…)');
  // Migrate (and create the folder) through the ordinary driver, then hand the file to the thread.
  const migrated = await openLibsqlDatabase(url);
  await migrated.close();
  const path = url.slice('file:'.length);
  const entry = fromSource ? new URL('./sqlite-thread-worker.js', import.meta.url) : new URL('./sqlite-thread.mjs', import.meta.url);

  let worker: Worker | undefined;
  const calls = threadCalls<unknown>();
  const start = (): Worker => {
    const started = new Worker(entry, { workerData: { path }, resourceLimits: options.resourceLimits ?? { maxOldGenerationSizeMb: 48, maxYoungGenerationSizeMb: 8 } });
    started.on('message', (reply: Reply) =>
      calls.answer(started, reply.id, reply.error ? { error: new StoreThreadError(reply.error.message, reply.error.code, reply.error.rawCode) } : { value: reply.result }),
    );
    started.on('error', (error) => calls.failAll(new StoreThreadError(`the store thread stopped: ${error.message}`, (error as { code?: string }).code)));
    started.on('exit', (code) => {
      if (worker === started) worker = undefined;
      calls.failAll(new StoreThreadError(`the store thread stopped (exit ${code})`));
    });
    return started;
  };
  let closed = false;
  const send = (request: Request): Promise<unknown> =>
    closed ? Promise.reject(new StoreThreadError('the database is closed')) : calls.send((worker ??= start()), request);
  worker = start();
  worker.unref();

  const db = drizzle(
    (sql, params, method) => send({ op: 'query', sql, params, method }) as Promise<{ rows: unknown[] }>,
    (items) => send({ op: 'batch', items }) as Promise<{ rows: unknown[] }[]>,
    { schema },
  );
  return databasePort(db, async () => {
    if (closed) return;
    const running = worker;
    if (running) await send({ op: 'close' }).catch(() => undefined);
    closed = true;
    await running?.terminate();
  });
}
