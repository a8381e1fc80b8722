/** Small query pieces the repositories share. */
import { gt, sql, type SQL } from 'drizzle-orm';
import type { SQLiteColumn, SQLiteTable } from 'drizzle-orm/sqlite-core';
import type { SqliteDb, Statement } from './db';

/**
 * `column = tenant`, written so SQLite does not use it to choose an index (the unary `+`). Where
 * rows are fetched by id (an IN list), an index that starts with the tenant would otherwise win —
 * the planner guesses an equality matches few rows — and each lookup would walk the whole tenant:
 * a sync of N citizens would cost N² row visits. The tenant is still checked on every row.
 */
export const sameTenant = (column: SQLiteColumn, tenant: string): SQL => sql`+${column} = ${tenant}`;

/**
 * `column IN (values)` with the values as ONE bound JSON parameter unpacked by `json_each`: a
 * lookup of a whole sync chunk is one statement however long the list (D1 binds at most 100
 * parameters, so an IN list of bound values had to be cut into slices of 90), and SQLite prepares
 * one short statement instead of a long one per slice. SQLite still looks each value up through
 * the column's index (see test/store/query-plans.test.ts).
 */
export const inList = (column: SQLiteColumn, values: readonly string[]): SQL => sql`${column} in (select value from json_each(${JSON.stringify(values)}))`;

/**
 * The most characters a statement binds as one JSON parameter: D1 refuses a value over 2 MB
 * (SQLITE_TOOBIG); half of that leaves room for JSON's escapes and a row's overhead.
 */
export const MAX_PARAMETER_CHARS = 1_000_000;

/** `items` in order, cut into groups whose `sizeOf` adds up to at most `limit` (an item larger alone is a group of its own). */
export function groupsBySize<T>(items: readonly T[], sizeOf: (item: T) => number, limit: number): T[][] {
  const groups: T[][] = [];
  let current: T[] = [];
  let size = 0;
  for (const item of items) {
    const itemSize = sizeOf(item);
    if (current.length > 0 && size + itemSize > limit) {
      groups.push(current);
      current = [];
      size = 0;
    }
    current.push(item);
    size += itemSize;
  }
  if (current.length > 0) groups.push(current);
  return groups;
}

/**
 * The distinct values of a column that leads an index (a table's tenants), found by stepping from one
 * value to the next — `min(column) where column > previous`, one index search each — instead of
 * `SELECT DISTINCT`, which walks every index entry: ~90 ms of the store thread for 3 million audit
 * rows against well under 1 ms. One query per value, and a database holds few tenants.
 */
export async function distinctLeading(db: SqliteDb, table: SQLiteTable, column: SQLiteColumn): Promise<string[]> {
  const found: string[] = [];
  for (let after = ''; ; ) {
    const [row] = await db.select({ value: sql<string | null>`min(${column})` }).from(table).where(gt(column, after));
    if (row?.value == null) return found;
    found.push(row.value);
    after = row.value;
  }
}

/**
 * Orders two strings as SQLite's BINARY collation orders text (UTF-8 bytes, which is code point
 * order). JavaScript's `<` compares UTF-16 units, which differs for characters above U+FFFF.
 */
export function compareAsStored(a: string, b: string): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    const surrogates = (x >= 0xd800 && x <= 0xdfff) || (y >= 0xd800 && y <= 0xdfff);
    return surrogates ? a.codePointAt(i)! - b.codePointAt(i)! : x - y;
  }
  return a.length - b.length;
}

/**
 * A write from SQL text with one `?` per value, for statements built once per citizen of a sync:
 * drizzle's update builder takes ~38 µs (and ~36 KB of garbage) to build a plan update, this ~4 µs
 * (decision 0008, "Later … session 21"). It runs in every driver's batch — D1's through `openD1Database`,
 * which binds it from its text. Values are bound, never spliced into the text.
 */
export function writeStatement(db: SqliteDb, text: string, values: readonly (string | number | null)[]): Statement {
  const parts = text.split('?');
  if (parts.length !== values.length + 1) throw new Error(`writeStatement: ${parts.length - 1} placeholders for ${values.length} values`);
  return db.run(sql(Object.assign(parts, { raw: parts }), ...values));
}
