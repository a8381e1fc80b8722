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

export interface Database {
  db: SqliteDb;
  /** Runs the statements atomically: all or none. */
  batch(statements: Statement[]): Promise<void>;
  close(): Promise<void>;
}
