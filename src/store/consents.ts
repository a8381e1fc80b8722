/** Consent grants and legal-basis records per citizen (R9–R11). */
import { and, asc, eq, isNull, lt, lte } from 'drizzle-orm';
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
        validTo: document.validTo ?? null,
        ...(document.kind === 'grant'
          ? { validFrom: document.validFrom, startHandledAt: document.validFrom <= document.createdAt.slice(0, 10) ? document.createdAt : null }
          : {}),
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
    /**
     * Grants whose last valid day is before `today`, not revoked, whose lapse has not been handled
     * yet: what the data of must now leave the plans (found through the tenant's valid-to index).
     */
    async lapsedUnhandled(tenant: string, today: string, limit = 500): Promise<string[]> {
      const rows = await db
        .select({ id: consents.id })
        .from(consents)
        .where(and(eq(consents.tenant, tenant), lt(consents.validTo, today), eq(consents.kind, 'grant'), isNull(consents.revokedAt), isNull(consents.lapseHandledAt)))
        .orderBy(asc(consents.validTo), asc(consents.id))
        .limit(limit);
      return rows.map((r) => r.id);
    },
    /** Grants dated to start after they were recorded whose first day has come, not revoked, not yet acted on. */
    async startedUnhandled(tenant: string, today: string, limit = 500): Promise<string[]> {
      const rows = await db
        .select({ id: consents.id })
        .from(consents)
        .where(and(eq(consents.tenant, tenant), lte(consents.validFrom, today), eq(consents.kind, 'grant'), isNull(consents.revokedAt), isNull(consents.startHandledAt)))
        .orderBy(asc(consents.validFrom), asc(consents.id))
        .limit(limit);
      return rows.map((r) => r.id);
    },
    async markStartHandled(tenant: string, id: string, at: string): Promise<void> {
      await db.update(consents).set({ startHandledAt: at }).where(and(eq(consents.tenant, tenant), eq(consents.id, id)));
    },
    async markLapseHandled(tenant: string, id: string, at: string): Promise<void> {
      await db.update(consents).set({ lapseHandledAt: at }).where(and(eq(consents.tenant, tenant), eq(consents.id, id)));
    },
    async replace(document: ConsentDocument): Promise<void> {
      await db
        .update(consents)
        // A replaced document (revoked, or its period changed) is looked at afresh when it lapses.
        .set({ document: JSON.stringify(document), revokedAt: document.kind === 'grant' ? (document.revokedAt ?? null) : null, validTo: document.validTo ?? null, lapseHandledAt: null, ...(document.kind === 'grant' ? { validFrom: document.validFrom } : {}) })
        .where(and(eq(consents.tenant, document.tenant), eq(consents.id, document.id)));
    },
  };
}
export type ConsentRepository = ReturnType<typeof consentRepository>;
