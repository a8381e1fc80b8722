/** Citizens: a pseudonymous id, the CPR as AES-GCM ciphertext, and a keyed hash to find it by. */
import { and, asc, eq, gt, lte, sql } from 'drizzle-orm';
import { inList, sameTenant } from './query';
import type { Database } from './db';
import { citizens } from './schema';

export interface CitizenRow {
  id: string;
  tenant: string;
  cprHash: string;
  cprCipher: string;
  birthDate: string;
  createdAt: string;
}

export function citizenRepository({ db }: Database) {
  return {
    async findManyByCprHash(tenant: string, hashes: string[]): Promise<CitizenRow[]> {
      if (hashes.length === 0) return [];
      return db.select().from(citizens).where(and(eq(citizens.tenant, tenant), inList(citizens.cprHash, hashes)));
    },
    /** The row carrying the first of `hashes` that any row carries (the current key's hash is given first). */
    async findByAnyCprHash(tenant: string, hashes: string[]): Promise<CitizenRow | null> {
      const rows = await this.findManyByCprHash(tenant, hashes);
      for (const hash of hashes) {
        const row = rows.find((r) => r.cprHash === hash);
        if (row) return row;
      }
      return null;
    },
    /** Rows whose CPR ciphertext is not under the current key (it does not start with `prefix`), in id order after `afterId`. */
    async underOtherKey(prefix: string, afterId: string, limit: number): Promise<CitizenRow[]> {
      return db.select().from(citizens).where(and(sql`substr(${citizens.cprCipher}, 1, ${prefix.length}) <> ${prefix}`, gt(citizens.id, afterId))).orderBy(asc(citizens.id)).limit(limit);
    },
    /** Re-keyed rows: each updated only if its ciphertext is still the one read (`was`). */
    async rekey(rows: { id: string; cprHash: string; cprCipher: string; was: string }[]): Promise<number> {
      if (rows.length === 0) return 0;
      const updated = await db
        .update(citizens)
        .set({ cprHash: sql`json_extract(j.value, '$[1]')`, cprCipher: sql`json_extract(j.value, '$[2]')` })
        .from(sql`json_each(${JSON.stringify(rows.map((r) => [r.id, r.cprHash, r.cprCipher, r.was]))}) as j`)
        .where(and(sql`${citizens.id} = json_extract(j.value, '$[0]')`, sql`${citizens.cprCipher} = json_extract(j.value, '$[3]')`))
        .returning({ id: citizens.id });
      return updated.length;
    },
    async findByCprHash(tenant: string, cprHash: string): Promise<CitizenRow | null> {
      const rows = await db.select().from(citizens).where(and(eq(citizens.tenant, tenant), eq(citizens.cprHash, cprHash))).limit(1);
      return rows[0] ?? null;
    },
    async get(tenant: string, id: string): Promise<CitizenRow | null> {
      const rows = await db.select().from(citizens).where(and(eq(citizens.tenant, tenant), eq(citizens.id, id))).limit(1);
      return rows[0] ?? null;
    },
    /**
     * The citizens born after `after` and on or before `to` (dates): the nightly job's look for those
     * who came of a consent age. Read once a night over the municipality's citizens, so no index.
     */
    async bornBetween(tenant: string, after: string, to: string): Promise<string[]> {
      const rows = await db.select({ id: citizens.id }).from(citizens).where(and(eq(citizens.tenant, tenant), gt(citizens.birthDate, after), lte(citizens.birthDate, to)));
      return rows.map((r) => r.id);
    },
    async getMany(tenant: string, ids: string[]): Promise<CitizenRow[]> {
      if (ids.length === 0) return [];
      return db.select().from(citizens).where(and(sameTenant(citizens.tenant, tenant), inList(citizens.id, ids)));
    },
    /** Inserts unless the tenant already has the CPR; returns the stored row either way. */
    async upsert(row: CitizenRow): Promise<CitizenRow> {
      await db.insert(citizens).values(row).onConflictDoNothing();
      const stored = await this.findByCprHash(row.tenant, row.cprHash);
      if (!stored) throw new Error('citizen row vanished after insert');
      return stored;
    },
  };
}
export type CitizenRepository = ReturnType<typeof citizenRepository>;
