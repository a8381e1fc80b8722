/**
 * Columns that hold ciphertext under the CPR key (apart from the citizens' own, see citizens.ts):
 * quarantined records' payloads and subscribers' signing secrets. For the re-key job.
 */
import { and, asc, gt, isNotNull, sql, type SQL } from 'drizzle-orm';
import type { SQLiteColumn } from 'drizzle-orm/sqlite-core';
import type { Database } from './db';
import { groupsBySize, MAX_PARAMETER_CHARS } from './query';
import { citizens, quarantine, subscriptions } from './schema';

const sealedColumns = {
  'quarantine.raw': { table: quarantine, id: quarantine.id, tenant: quarantine.tenant, column: quarantine.raw, field: 'raw' },
  'subscriptions.secret_sealed': { table: subscriptions, id: subscriptions.id, tenant: subscriptions.tenant, column: subscriptions.secretSealed, field: 'secretSealed' },
  'subscriptions.previous_secret_sealed': { table: subscriptions, id: subscriptions.id, tenant: subscriptions.tenant, column: subscriptions.previousSecretSealed, field: 'previousSecretSealed' },
} as const;
export type SealedColumn = keyof typeof sealedColumns;
export const sealedColumnNames = Object.keys(sealedColumns) as SealedColumn[];

export function sealedRepository({ db }: Database) {
  /** The tenant's ciphertexts of every kind (citizens' CPR numbers included) that `matches`. */
  async function countWhere(tenant: string, matches: (column: SQLiteColumn) => SQL): Promise<number> {
    const [row] = await db
      .select({
        n: sql<number>`(select count(*) from ${citizens} where ${citizens.tenant} = ${tenant} and ${matches(citizens.cprCipher)})
          + (select count(*) from ${quarantine} where ${quarantine.tenant} = ${tenant} and ${quarantine.raw} is not null and ${matches(quarantine.raw)})
          + (select count(*) from ${subscriptions} where ${subscriptions.tenant} = ${tenant} and ${matches(subscriptions.secretSealed)})
          + (select count(*) from ${subscriptions} where ${subscriptions.tenant} = ${tenant} and ${subscriptions.previousSecretSealed} is not null and ${matches(subscriptions.previousSecretSealed)})`,
      })
      .from(sql`(select 1)`);
    return Number(row?.n ?? 0);
  }
  return {
    /** The tenant's ciphertexts of every kind (citizens' CPR numbers included) not under the current key: what a key rotation has left to do. */
    async countUnderOtherKey(tenant: string, prefix: string): Promise<number> {
      return countWhere(tenant, (column) => sql`substr(${column}, 1, ${prefix.length}) <> ${prefix}`);
    },
    /** Values in an earlier format (v1, v2: not bound to their row), whatever their key: what CPR_LEGACY_CIPHERTEXTS=refuse would refuse. */
    async countLegacy(tenant: string): Promise<number> {
      return countWhere(tenant, (column) => sql`substr(${column}, 1, 3) in ('v1:', 'v2:')`);
    },
    /** Values not sealed under the current key and format (not starting with `prefix`), in id order after `afterId`. */
    async underOtherKey(name: SealedColumn, prefix: string, afterId: string, limit: number): Promise<{ id: string; tenant: string; value: string }[]> {
      const { table, id, tenant, column } = sealedColumns[name];
      const rows = await db
        .select({ id, tenant, value: column })
        .from(table)
        .where(and(isNotNull(column), sql`substr(${column}, 1, ${prefix.length}) <> ${prefix}`, gt(id, afterId)))
        .orderBy(asc(id))
        .limit(limit);
      return rows as { id: string; tenant: string; value: string }[];
    },
    /**
     * Replaces values, each only if it is still the one read (`was`); returns how many were. The rows go
     * as one JSON parameter per group of at most MAX_PARAMETER_CHARS: D1 refuses a value over 2 MB
     * (SQLITE_TOOBIG), and 500 quarantined payloads of 4,000 characters, new and old, pass that.
     */
    async replace(name: SealedColumn, rows: { id: string; value: string; was: string }[]): Promise<number> {
      let replaced = 0;
      for (const group of groupsBySize(rows, (r) => r.id.length + r.value.length + r.was.length + 16, MAX_PARAMETER_CHARS)) replaced += await this.replaceGroup(name, group);
      return replaced;
    },
    async replaceGroup(name: SealedColumn, rows: { id: string; value: string; was: string }[]): Promise<number> {
      if (rows.length === 0) return 0;
      const { table, id, column, field } = sealedColumns[name];
      const json = JSON.stringify(rows.map((r) => [r.id, r.value, r.was]));
      const updated = await db
        // The tables differ in type only; `field` names the column in the one given.
        .update(table as typeof quarantine)
        .set({ [field]: sql`json_extract(j.value, '$[1]')` } as never)
        .from(sql`json_each(${json}) as j`)
        .where(and(sql`${id} = json_extract(j.value, '$[0]')`, sql`${column} = json_extract(j.value, '$[2]')`))
        .returning({ id: sql<string>`${id}` });
      return updated.length;
    },
  };
}
