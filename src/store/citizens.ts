/** Citizens: a pseudonymous id, the CPR as AES-GCM ciphertext, and a keyed hash to find it by. */
import { and, eq, inArray } from 'drizzle-orm';
import { sameTenant } from './query';
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
      const rows: CitizenRow[] = [];
      for (let i = 0; i < hashes.length; i += 90) rows.push(...(await db.select().from(citizens).where(and(eq(citizens.tenant, tenant), inArray(citizens.cprHash, hashes.slice(i, i + 90))))));
      return rows;
    },
    async findByCprHash(tenant: string, cprHash: string): Promise<CitizenRow | null> {
      const rows = await db.select().from(citizens).where(and(eq(citizens.tenant, tenant), eq(citizens.cprHash, cprHash))).limit(1);
      return rows[0] ?? null;
    },
    async get(tenant: string, id: string): Promise<CitizenRow | null> {
      const rows = await db.select().from(citizens).where(and(eq(citizens.tenant, tenant), eq(citizens.id, id))).limit(1);
      return rows[0] ?? null;
    },
    async getMany(tenant: string, ids: string[]): Promise<CitizenRow[]> {
      const rows: CitizenRow[] = [];
      // D1 allows 100 bound parameters a statement.
      for (let i = 0; i < ids.length; i += 90) rows.push(...(await db.select().from(citizens).where(and(sameTenant(citizens.tenant, tenant), inArray(citizens.id, ids.slice(i, i + 90))))));
      return rows;
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
