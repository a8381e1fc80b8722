/** Citizens: a pseudonymous id, the CPR as AES-GCM ciphertext, and a keyed hash to find it by. */
import { and, eq } from 'drizzle-orm';
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
    async findByCprHash(tenant: string, cprHash: string): Promise<CitizenRow | null> {
      const rows = await db.select().from(citizens).where(and(eq(citizens.tenant, tenant), eq(citizens.cprHash, cprHash))).limit(1);
      return rows[0] ?? null;
    },
    async get(tenant: string, id: string): Promise<CitizenRow | null> {
      const rows = await db.select().from(citizens).where(and(eq(citizens.tenant, tenant), eq(citizens.id, id))).limit(1);
      return rows[0] ?? null;
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
