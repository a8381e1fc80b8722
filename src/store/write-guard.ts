/**
 * A portable abort for a batch. D1 has no transaction to hold open across a check and a write, so a
 * write that must only count if it did what it had to (an optimistic plan update that won, a
 * conditional update that matched its row) is followed in its batch by an insert into `write_guard`
 * of whether it did; the table's CHECK (`write_lost`) refuses a 0, which rolls the whole batch back —
 * the write, what it carries, and the audit rows that would have recorded it. The statement after the
 * guard empties the table again, so it holds no row between batches.
 */
import { sql, type SQL } from 'drizzle-orm';
import type { SqliteDb, Statement } from './db';
import { writeGuard } from './schema';

/** Aborts the batch unless `won` (a scalar SQL expression, evaluated in the batch) is 1. */
export function abortUnless(db: SqliteDb, won: SQL): Statement[] {
  return [db.insert(writeGuard).values({ won: sql`(${won})` }), db.delete(writeGuard)];
}

/** Aborts the batch unless the statement just before it changed exactly one row (SQLite's `changes()`). */
export function abortUnlessOneRowChanged(db: SqliteDb): Statement[] {
  return abortUnless(db, sql`changes() = 1`);
}

/** Whether a batch failed on the guard (libSQL, the store thread and D1 all name the constraint in the message). */
export function isLostWriteAbort(error: unknown): boolean {
  for (let e: unknown = error; e instanceof Error; e = e.cause) if (e.message.includes('write_lost')) return true;
  return false;
}
