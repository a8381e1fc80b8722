/** The Workers driver: D1 through drizzle. Migrations are applied by wrangler from the same folder. */
import { drizzle, type AnyD1Database } from 'drizzle-orm/d1';
import * as schema from './schema';
import type { Database, SqliteDb, Statement } from './db';

interface BuiltQuery {
  getQuery(): { sql: string; params: unknown[] };
}

export function openD1Database(binding: AnyD1Database): Database {
  const db = drizzle(binding, { schema });
  return {
    db: db as unknown as SqliteDb,
    /**
     * One D1 batch (atomic). Each statement is bound here from its SQL text and parameters: drizzle's
     * own D1 batch binds a raw statement (`db.run(sql…)`, src/store/query.ts `writeStatement`)
     * through a prepared statement it does not have, and fails.
     */
    async batch(statements: Statement[]) {
      if (statements.length === 0) return;
      await binding.batch(
        statements.map((statement) => {
          const { sql, params } = (statement as unknown as { _prepare(): BuiltQuery })._prepare().getQuery();
          return binding.prepare(sql).bind(...params);
        }),
      );
    },
    async close() {},
  };
}
