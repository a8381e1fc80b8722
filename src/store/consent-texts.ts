/** The consent texts citizens are shown (R15): registered once per version and language, never changed. */
import { and, asc, eq } from 'drizzle-orm';
import type { Database, Statement } from './db';
import { consentTexts } from './schema';

export type ConsentTextRow = typeof consentTexts.$inferSelect;

export function consentTextRepository({ db }: Database) {
  return {
    /** Registers a text; `exists` when that version and language are registered already (with the same words or not). */
    /** Adds the text unless its version and language are registered (one row or none: guard it, `audit.appendIfOneRowChanged`). */
    addStatement(row: ConsentTextRow): Statement {
      return db.insert(consentTexts).values(row).onConflictDoNothing();
    },
    async get(tenant: string, version: string, language: string): Promise<ConsentTextRow | null> {
      const rows = await db.select().from(consentTexts).where(and(eq(consentTexts.tenant, tenant), eq(consentTexts.version, version), eq(consentTexts.language, language))).limit(1);
      return rows[0] ?? null;
    },
    /** Every version and language registered, oldest first (no bodies: the list is for choosing). */
    async list(tenant: string): Promise<Omit<ConsentTextRow, 'body'>[]> {
      return db
        .select({ tenant: consentTexts.tenant, version: consentTexts.version, language: consentTexts.language, title: consentTexts.title, createdAt: consentTexts.createdAt, createdBy: consentTexts.createdBy })
        .from(consentTexts)
        .where(eq(consentTexts.tenant, tenant))
        .orderBy(asc(consentTexts.createdAt), asc(consentTexts.version), asc(consentTexts.language));
    },
    async any(tenant: string): Promise<boolean> {
      return (await db.select({ version: consentTexts.version }).from(consentTexts).where(eq(consentTexts.tenant, tenant)).limit(1)).length > 0;
    },
  };
}
