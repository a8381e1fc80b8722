// The store thread (see sqlite-thread.ts): owns one SQLite connection and runs what the main thread
// sends, one message at a time, so a batch is never interleaved with anything else. Plain
// JavaScript with one dependency, so the thread starts small and needs no TypeScript loader.
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'libsql';

const { path } = workerData;
const db = new Database(path);
// The wait first: switching to WAL needs a lock another connection may hold for a moment.
db.exec('PRAGMA busy_timeout = 5000');
db.exec('PRAGMA journal_mode = WAL');

// Prepared statements by SQL text. The sync repeats a few dozen statements thousands of times;
// preparing one costs about as much as running it. Bounded: ad-hoc SQL does not pile up.
const STATEMENT_CACHE_SIZE = 256;
const statements = new Map();
function prepared(sql) {
  let entry = statements.get(sql);
  if (entry) {
    statements.delete(sql);
    statements.set(sql, entry); // most recently used last
    return entry;
  }
  const statement = db.prepare(sql);
  entry = { statement, reader: statement.reader };
  if (entry.reader) statement.raw(true);
  statements.set(sql, entry);
  if (statements.size > STATEMENT_CACHE_SIZE) statements.delete(statements.keys().next().value);
  return entry;
}

function toSql(value) {
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (value instanceof Date) return value.valueOf();
  if (value === undefined) throw new TypeError('undefined cannot be passed as argument to the database');
  return value;
}

/** One statement, answered in the shape drizzle's sqlite-proxy driver reads: rows as arrays. */
function execute({ sql, params, method }) {
  const { statement, reader } = prepared(sql);
  const args = params.map(toSql);
  if (!reader) {
    const info = statement.run(args);
    return { rows: [], rowsAffected: info.changes };
  }
  if (method === 'get') return { rows: statement.get(args) };
  if (method === 'run') {
    statement.all(args);
    return { rows: [] };
  }
  return { rows: statement.all(args) };
}

function batch(items) {
  db.exec('BEGIN DEFERRED');
  try {
    const results = items.map(execute);
    db.exec('COMMIT');
    return results;
  } catch (error) {
    if (db.inTransaction) db.exec('ROLLBACK');
    throw error;
  }
}

const toWire = (error) => ({ message: error?.message ?? String(error), code: error?.code, rawCode: error?.rawCode });

parentPort.on('message', (request) => {
  if (request.op === 'close') {
    db.close();
    parentPort.postMessage({ id: request.id, result: null });
    parentPort.close();
    return;
  }
  try {
    const result = request.op === 'batch' ? batch(request.items) : execute(request);
    parentPort.postMessage({ id: request.id, result });
  } catch (error) {
    parentPort.postMessage({ id: request.id, error: toWire(error) });
  }
});
