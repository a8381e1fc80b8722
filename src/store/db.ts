/**
 * The database port both drivers satisfy: drizzle's async SQLite API plus an atomic batch.
 * D1 has no interactive transactions, so every multi-row write that must be atomic (a
 * registration and its outbox rows, a merge and its applied-record marks) is one batch — which
 * libSQL also runs as one transaction.
 */
import type { BatchItem } from 'drizzle-orm/batch';
import type { BaseSQLiteDatabase } from 'drizzle-orm/sqlite-core';
import type * as schema from './schema';

export type Schema = typeof schema;
export type SqliteDb = BaseSQLiteDatabase<'async', unknown, Schema>;
export type Statement = BatchItem<'sqlite'>;

/**
 * How a repository's statements are committed: the database's batch by default, or together with
 * the audit entries that record them (`store.audit.committing`), so neither is written without the other.
 */
export type Commit = (statements: Statement[]) => Promise<unknown>;

export interface Database {
  db: SqliteDb;
  /** Runs the statements atomically: all or none. */
  batch(statements: Statement[]): Promise<void>;
  close(): Promise<void>;
}

/** The port over a drizzle database of any driver: its batch already runs as one transaction. */
export function databasePort(db: { batch(statements: [Statement, ...Statement[]]): Promise<unknown> }, close: () => Promise<void>): Database {
  return {
    db: db as unknown as SqliteDb,
    async batch(statements: Statement[]) {
      if (statements.length === 0) return;
      await db.batch(statements as [Statement, ...Statement[]]);
    },
    close,
  };
}
