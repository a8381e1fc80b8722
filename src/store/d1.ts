/** The Workers driver: D1 through drizzle. Migrations are applied by wrangler from the same folder. */
import { drizzle, type AnyD1Database } from 'drizzle-orm/d1';
import * as schema from './schema';
import type { Database, SqliteDb, Statement } from './db';

export function openD1Database(binding: AnyD1Database): Database {
  const db = drizzle(binding, { schema });
  return {
    db: db as unknown as SqliteDb,
    async batch(statements: Statement[]) {
      if (statements.length === 0) return;
      await db.batch(statements as [Statement, ...Statement[]]);
    },
    async close() {},
  };
}
