/** Consent grants and legal-basis records per citizen (R9–R11). */
import { and, asc, eq, isNull, lt, lte, sql, type SQL } from 'drizzle-orm';
import type { SQLiteColumn } from 'drizzle-orm/sqlite-core';
import type { ConsentGrant, LegalBasisRecord } from '../model';
import { danishToday } from '../views/danish';
import type { Database, Statement } from './db';
import { inList, sameTenant } from './query';
import { consents } from './schema';

export type ConsentDocument = ({ kind: 'grant' } & ConsentGrant) | ({ kind: 'legal-basis' } & LegalBasisRecord);

export function consentRepository({ db }: Database) {
  /** Ids of grants, not revoked, that `due` picks and whose `handled` mark is empty: a page in `day` order. */
  async function dueGrants(tenant: string, due: SQL, day: SQLiteColumn, handled: SQLiteColumn, limit: number, kind: 'grant' | 'legal-basis' = 'grant'): Promise<string[]> {
    const rows = await db
      .select({ id: consents.id })
      .from(consents)
      .where(and(eq(consents.tenant, tenant), due, eq(consents.kind, kind), isNull(consents.revokedAt), isNull(handled)))
      .orderBy(asc(day), asc(consents.id))
      .limit(limit);
    return rows.map((r) => r.id);
  }
  const markHandled = (tenant: string, id: string, mark: { lapseHandledAt: string } | { startHandledAt: string }): Statement =>
    db.update(consents).set(mark).where(and(eq(consents.tenant, tenant), eq(consents.id, id)));

  return {
    async insert(document: ConsentDocument): Promise<void> {
      await this.insertStatement(document);
    },
    insertStatement(document: ConsentDocument): Statement {
      return db.insert(consents).values({
        id: document.id,
        tenant: document.tenant,
        citizenId: document.citizenId,
        kind: document.kind,
        document: JSON.stringify(document),
        revokedAt: document.kind === 'grant' ? (document.revokedAt ?? null) : (document.endedAt ?? null),
        validTo: document.validTo ?? null,
        ...(document.kind === 'grant'
          ? { validFrom: document.validFrom, startHandledAt: document.validFrom <= danishToday(new Date(document.createdAt)) ? document.createdAt : null }
          : { informedAt: document.informedAt ?? null }),
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
    /** Legal-basis records whose citizen has not been told yet (R11), longest waiting first, a page at a time (by index). */
    async legalBasesToInform(tenant: string, limit = 50, offset = 0): Promise<LegalBasisRecord[]> {
      const rows = await this.legalBasesToInformQuery(tenant).orderBy(asc(consents.createdAt), asc(consents.id)).limit(limit).offset(offset);
      return rows.map((r) => JSON.parse(r.document) as LegalBasisRecord);
    },
    /** The query of `legalBasesToInform`, unordered and unrun (its query plan is tested). */
    legalBasesToInformQuery(tenant: string) {
      return db.select({ document: consents.document }).from(consents).where(and(eq(consents.tenant, tenant), eq(consents.kind, 'legal-basis'), isNull(consents.informedAt)));
    },
    /**
     * The flows consent allows on `onDate` (grants not revoked, begun and not lapsed), per source,
     * recipient and category, with how many citizens each covers: the record of processing (R16).
     */
    async grantedFlows(tenant: string, onDate: string): Promise<{ source: string; recipient: string; category: string; citizens: number; grants: number }[]> {
      const rows = await db
        .select({
          source: sql<string>`json_extract(${consents.document}, '$.source')`,
          recipient: sql<string>`json_extract(${consents.document}, '$.recipient')`,
          category: sql<string>`j.value`,
          citizens: sql<number>`count(distinct ${consents.citizenId})`,
          grants: sql<number>`count(*)`,
        })
        .from(sql`${consents}, json_each(${consents.document}, '$.categories') as j`)
        .where(and(eq(consents.tenant, tenant), eq(consents.kind, 'grant'), isNull(consents.revokedAt), lte(consents.validFrom, onDate), sql`(${consents.validTo} is null or ${consents.validTo} >= ${onDate})`))
        .groupBy(sql`1, 2, 3`)
        .orderBy(sql`1, 2, 3`);
      return rows.map((r) => ({ ...r, citizens: Number(r.citizens), grants: Number(r.grants) }));
    },
    /** Legal bases other than consent in force on `onDate` (R11), per basis, source, recipient and category, with how many citizens are still to be told. */
    async legalBasisFlows(tenant: string, onDate: string): Promise<{ basis: string; source: string; recipient: string; category: string; citizens: number; notYetInformed: number }[]> {
      const rows = await db
        .select({
          basis: sql<string>`json_extract(${consents.document}, '$.basis')`,
          source: sql<string>`json_extract(${consents.document}, '$.source')`,
          recipient: sql<string>`json_extract(${consents.document}, '$.recipient')`,
          category: sql<string>`j.value`,
          citizens: sql<number>`count(distinct ${consents.citizenId})`,
          notYetInformed: sql<number>`count(distinct case when ${consents.informedAt} is null then ${consents.citizenId} end)`,
        })
        .from(sql`${consents}, json_each(${consents.document}, '$.categories') as j`)
        .where(and(eq(consents.tenant, tenant), eq(consents.kind, 'legal-basis'), isNull(consents.revokedAt), sql`(${consents.validTo} is null or ${consents.validTo} >= ${onDate})`))
        .groupBy(sql`1, 2, 3, 4`)
        .orderBy(sql`1, 2, 3, 4`);
      return rows.map((r) => ({ ...r, citizens: Number(r.citizens), notYetInformed: Number(r.notYetInformed) }));
    },
    async countLegalBasesToInform(tenant: string): Promise<number> {
      const rows = await db.select({ n: sql<number>`count(*)` }).from(consents).where(and(eq(consents.tenant, tenant), eq(consents.kind, 'legal-basis'), isNull(consents.informedAt)));
      return Number(rows[0]?.n ?? 0);
    },
    /**
     * Those of these grants that no longer carry a flow on `today`: revoked, or past their last valid
     * day (by primary key: cheap enough to ask after every merge). A grant that ran out while a chunk
     * was merged on it may have had its lapse handled before the chunk's write landed.
     */
    async grantsEndedAmong(tenant: string, ids: string[], today: string): Promise<ConsentGrant[]> {
      if (ids.length === 0) return [];
      const rows = await this.grantsEndedAmongQuery(tenant, ids, today);
      return rows.map((r) => JSON.parse(r.document) as ConsentGrant);
    },
    /** Those of these legal-basis records that no longer carry a flow on `today`: ended, or past their last valid day. */
    async legalBasesEndedAmong(tenant: string, ids: string[], today: string): Promise<LegalBasisRecord[]> {
      if (ids.length === 0) return [];
      const rows = await db
        .select({ document: consents.document })
        .from(consents)
        .where(and(sameTenant(consents.tenant, tenant), inList(consents.id, ids), eq(consents.kind, 'legal-basis'), sql`(${consents.revokedAt} is not null or ${consents.validTo} < ${today})`));
      return rows.map((r) => JSON.parse(r.document) as LegalBasisRecord);
    },
    /** The query of `grantsEndedAmong`, unrun (its query plan is tested). */
    grantsEndedAmongQuery(tenant: string, ids: string[], today: string) {
      return db
        .select({ document: consents.document })
        .from(consents)
        .where(and(sameTenant(consents.tenant, tenant), inList(consents.id, ids), sql`(${consents.revokedAt} is not null or ${consents.validTo} < ${today})`));
    },
    /**
     * Grants whose last valid day is before `today`, not revoked, whose lapse has not been handled
     * yet: what the data of must now leave the plans (found through the tenant's valid-to index).
     */
    lapsedUnhandled: (tenant: string, today: string, limit = 500) => dueGrants(tenant, lt(consents.validTo, today), consents.validTo, consents.lapseHandledAt, limit),
    /** Legal-basis records (R11) whose last valid day is before `today`, whose end has not been handled yet. */
    lapsedLegalBasesUnhandled: (tenant: string, today: string, limit = 500) => dueGrants(tenant, lt(consents.validTo, today), consents.validTo, consents.lapseHandledAt, limit, 'legal-basis'),
    /** Grants dated to start after they were recorded whose first day has come, not revoked, not yet acted on. */
    startedUnhandled: (tenant: string, today: string, limit = 500) => dueGrants(tenant, lte(consents.validFrom, today), consents.validFrom, consents.startHandledAt, limit),
    /** The nightly job has handled a lapsed grant or legal-basis record (written with its `consent.lapsed` audit entry). */
    lapseHandledStatement: (tenant: string, id: string, at: string) => markHandled(tenant, id, { lapseHandledAt: at }),
    /** The nightly job has put a grant dated to start later into effect (written with its audit entry). */
    startHandledStatement: (tenant: string, id: string, at: string) => markHandled(tenant, id, { startHandledAt: at }),
    async replace(document: ConsentDocument): Promise<void> {
      await this.replaceStatement(document);
    },
    replaceStatement(document: ConsentDocument): Statement {
      return db
        .update(consents)
        // A replaced grant (revoked, or its period changed) is looked at afresh when it lapses; a
        // legal-basis record is replaced only to mark the citizen told, which leaves its end as handled.
        .set({ document: JSON.stringify(document), revokedAt: document.kind === 'grant' ? (document.revokedAt ?? null) : (document.endedAt ?? null), validTo: document.validTo ?? null, ...(document.kind === 'grant' ? { validFrom: document.validFrom, lapseHandledAt: null } : { informedAt: document.informedAt ?? null }) })
        .where(and(eq(consents.tenant, document.tenant), eq(consents.id, document.id)));
    },
  };
}
export type ConsentRepository = ReturnType<typeof consentRepository>;
