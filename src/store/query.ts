/** Small query pieces the repositories share. */
import { sql, type SQL } from 'drizzle-orm';
import type { SQLiteColumn } from 'drizzle-orm/sqlite-core';

/**
 * `column = tenant`, written so SQLite does not use it to choose an index (the unary `+`). Where
 * rows are fetched by id (an IN list), an index that starts with the tenant would otherwise win —
 * the planner guesses an equality matches few rows — and each lookup would walk the whole tenant:
 * a sync of N citizens would cost N² row visits. The tenant is still checked on every row.
 */
export const sameTenant = (column: SQLiteColumn, tenant: string): SQL => sql`+${column} = ${tenant}`;
