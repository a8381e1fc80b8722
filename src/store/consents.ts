/** Consent grants and legal-basis records per citizen (R9–R11). */
import { and, eq } from 'drizzle-orm';
import type { ConsentGrant, LegalBasisRecord } from '../model';
import type { Database } from './db';
import { inList } from './query';
import { consents } from './schema';

export type ConsentDocument = ({ kind: 'grant' } & ConsentGrant) | ({ kind: 'legal-basis' } & LegalBasisRecord);

export function consentRepository({ db }: Database) {
  return {
    async insert(document: ConsentDocument): Promise<void> {
      await db.insert(consents).values({
        id: document.id,
        tenant: document.tenant,
        citizenId: document.citizenId,
        kind: document.kind,
        document: JSON.stringify(document),
        revokedAt: document.kind === 'grant' ? (document.revokedAt ?? null) : null,
        createdAt: document.kind === 'grant' ? document.createdAt : document.recordedAt,
      });
    },
    async get(tenant: string, id: string): Promise<ConsentDocument | null> {
      const rows = await db.select({ document: consents.document }).from(consents).where(and(eq(consents.tenant, tenant), eq(consents.id, id))).limit(1);
      return rows[0] ? (JSON.parse(rows[0].document) as ConsentDocument) : null;
    },
    async forCitizens(tenant: string, citizenIds: string[]): Promise<ConsentDocument[]> {
      if (citizenIds.length === 0) return [];
      const rows = await db.select({ document: consents.document }).from(consents).where(and(eq(consents.tenant, tenant), inList(consents.citizenId, citizenIds)));
      return rows.map((r) => JSON.parse(r.document) as ConsentDocument);
    },
    async replace(document: ConsentDocument): Promise<void> {
      await db
        .update(consents)
        .set({ document: JSON.stringify(document), revokedAt: document.kind === 'grant' ? (document.revokedAt ?? null) : null })
        .where(and(eq(consents.tenant, document.tenant), eq(consents.id, document.id)));
    },
  };
}
export type ConsentRepository = ReturnType<typeof consentRepository>;
