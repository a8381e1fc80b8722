/**
 * Lookups by id must use the id's index, not an index that starts with the tenant: SQLite guesses
 * that `tenant = ?` matches few rows and would then walk the whole tenant for every chunk of a sync
 * (N² row visits for N citizens). `sameTenant` keeps the tenant check out of index choice; these
 * tests read SQLite's own query plans for the statements the repositories build.
 */
import { createClient } from '@libsql/client';
import { and, eq, inArray } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/libsql';
import { migrate } from 'drizzle-orm/libsql/migrator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrationsFolder } from '../../src/store/libsql';
import { sameTenant } from '../../src/store/query';
import * as schema from '../../src/store/schema';

const client = createClient({ url: ':memory:' });
const db = drizzle(client, { schema });
const ids = Array.from({ length: 40 }, (_, i) => `id-${i}`);

async function planOf(query: { toSQL(): { sql: string; params: unknown[] } }): Promise<string> {
  const { sql, params } = query.toSQL();
  const rows = await client.execute({ sql: `EXPLAIN QUERY PLAN ${sql}`, args: params as never[] });
  return rows.rows.map((r) => String(r.detail)).join(' | ');
}

beforeAll(async () => {
  await migrate(db, { migrationsFolder });
});
afterAll(() => client.close());

describe('query plans of lookups by id', () => {
  const cases = [
    ['citizens', () => db.select().from(schema.citizens).where(and(sameTenant(schema.citizens.tenant, '101'), inArray(schema.citizens.id, ids))), () => db.select().from(schema.citizens).where(and(eq(schema.citizens.tenant, '101'), inArray(schema.citizens.id, ids)))],
    ['plans', () => db.select({ d: schema.plans.document }).from(schema.plans).where(and(sameTenant(schema.plans.tenant, '101'), inArray(schema.plans.id, ids))), () => db.select({ d: schema.plans.document }).from(schema.plans).where(and(eq(schema.plans.tenant, '101'), inArray(schema.plans.id, ids)))],
    ['outbox', () => db.select().from(schema.outbox).where(and(sameTenant(schema.outbox.tenant, '101'), inArray(schema.outbox.id, ids))), () => db.select().from(schema.outbox).where(and(eq(schema.outbox.tenant, '101'), inArray(schema.outbox.id, ids)))],
  ] as const;

  for (const [table, withSameTenant, withPlainEquality] of cases) {
    it(`${table}: by the primary key, with the tenant still checked on each row`, async () => {
      const plan = await planOf(withSameTenant());
      expect(plan).toMatch(/USING (INDEX sqlite_autoindex_|PRIMARY KEY)/);
      expect(plan).not.toMatch(/\(tenant=\?/);
      expect(withSameTenant().toSQL().params).toContain('101');
      // The plain equality is what made SQLite walk the tenant: the reason for the helper.
      expect(await planOf(withPlainEquality())).toMatch(/\(tenant=\?/);
    });
  }
});
