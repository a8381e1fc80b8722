/**
 * A source's own consent to share that permits until a last day (migration 0025): the sync writes the
 * deciding Consent of a citizen as it reads it, and forgets it when the source's say changes; the nightly
 * job finds those whose last day has passed through the (tenant, last_day) index and ends them
 * (src/consent/service.ts `handleLapsedRegionalConsents`, decision 0004).
 */
import { and, asc, eq, lt, lte, sql } from 'drizzle-orm';
import type { Database, Statement } from './db';
import { inList } from './query';
import { regionalConsentEnds, regionalRefusals } from './schema';
import { abortUnless } from './write-guard';

export interface RegionalConsentEnd {
  citizenId: string;
  source: string;
  recordId: string;
  recordVersion: string;
  lastDay: string;
}

/** A source's say that does not permit sharing, as the sync last read it (or the nightly job ended a permit). */
export interface RegionalRefusal {
  citizenId: string;
  source: string;
  recordId: string | null;
  recordVersion: string | null;
  reason: string;
  /** A permit not started yet: the day it starts (YYYY-MM-DD). */
  permitsFrom?: string | null;
}

export function regionalConsentRepository(database: Database) {
  const { db } = database;
  const keyOf = (tenant: string, citizenId: string, source: string) =>
    and(eq(regionalConsentEnds.tenant, tenant), eq(regionalConsentEnds.citizenId, citizenId), eq(regionalConsentEnds.source, source));
  return {
    /** The citizen's deciding Consent at the source permits until `lastDay`: remembered (replacing what was). */
    rememberStatement(tenant: string, end: RegionalConsentEnd, at: string): Statement {
      const { citizenId, source, recordId, recordVersion, lastDay } = end;
      return db
        .insert(regionalConsentEnds)
        .values({ tenant, citizenId, source, recordId, recordVersion, lastDay, recordedAt: at })
        .onConflictDoUpdate({ target: [regionalConsentEnds.tenant, regionalConsentEnds.citizenId, regionalConsentEnds.source], set: { recordId, recordVersion, lastDay, recordedAt: at } });
    },
    /** The source's say no longer ends by a day for these citizens (no end, no permit, no Consent): nothing to remember. One statement for a sync chunk's citizens. */
    forgetStatement(tenant: string, citizenIds: readonly string[], source: string): Statement {
      return db.delete(regionalConsentEnds).where(and(eq(regionalConsentEnds.tenant, tenant), eq(regionalConsentEnds.source, source), inList(regionalConsentEnds.citizenId, citizenIds)));
    },
    /** Forgets this very end only: one the sync replaced meanwhile (a renewed Consent) stays. */
    handledStatement(tenant: string, end: RegionalConsentEnd): Statement {
      return db
        .delete(regionalConsentEnds)
        .where(and(keyOf(tenant, end.citizenId, end.source), eq(regionalConsentEnds.recordId, end.recordId), eq(regionalConsentEnds.recordVersion, end.recordVersion), eq(regionalConsentEnds.lastDay, end.lastDay)));
    },
    /**
     * Aborts its batch unless this very end is still remembered: a renewal the sync stored meanwhile
     * changes no plan when the data is there already, so a plan's version alone cannot tell it.
     */
    stillEndsStatements(tenant: string, end: RegionalConsentEnd): Statement[] {
      const t = regionalConsentEnds;
      return abortUnless(
        db,
        sql`select count(*) from ${t} where ${t.tenant} = ${tenant} and ${t.citizenId} = ${end.citizenId} and ${t.source} = ${end.source} and ${t.recordId} = ${end.recordId} and ${t.recordVersion} = ${end.recordVersion} and ${t.lastDay} = ${end.lastDay}`,
      );
    },
    /** The citizen's say at the source does not permit sharing: remembered (replacing what was), for the subscription gate. */
    refuseStatement(tenant: string, refusal: RegionalRefusal, at: string): Statement {
      const { citizenId, source, recordId, recordVersion, reason } = refusal;
      const permitsFrom = refusal.permitsFrom ?? null;
      return db
        .insert(regionalRefusals)
        .values({ tenant, citizenId, source, recordId, recordVersion, reason, permitsFrom, recordedAt: at })
        .onConflictDoUpdate({ target: [regionalRefusals.tenant, regionalRefusals.citizenId, regionalRefusals.source], set: { recordId, recordVersion, reason, permitsFrom, recordedAt: at } });
    },
    /** The source permits, or says nothing, for these citizens: no refusal stands. One statement for a sync chunk's citizens. */
    liftRefusalsStatement(tenant: string, citizenIds: readonly string[], source: string): Statement {
      return db.delete(regionalRefusals).where(and(eq(regionalRefusals.tenant, tenant), eq(regionalRefusals.source, source), inList(regionalRefusals.citizenId, citizenIds)));
    },
    /** The refusals recorded for these citizens at this source (a sync chunk's, before it writes: what its reads change). */
    async refusalsOf(tenant: string, source: string, citizenIds: readonly string[]): Promise<RegionalRefusal[]> {
      if (citizenIds.length === 0) return [];
      return db
        .select({ citizenId: regionalRefusals.citizenId, source: regionalRefusals.source, recordId: regionalRefusals.recordId, recordVersion: regionalRefusals.recordVersion, reason: regionalRefusals.reason, permitsFrom: regionalRefusals.permitsFrom })
        .from(regionalRefusals)
        .where(and(eq(regionalRefusals.tenant, tenant), eq(regionalRefusals.source, source), inList(regionalRefusals.citizenId, citizenIds)));
    },
    /** The citizen's recorded refusals at every source, with when each was recorded (the access report's, GDPR art. 15). */
    async refusalsOfCitizen(tenant: string, citizenId: string): Promise<(RegionalRefusal & { recordedAt: string })[]> {
      return db
        .select({ citizenId: regionalRefusals.citizenId, source: regionalRefusals.source, recordId: regionalRefusals.recordId, recordVersion: regionalRefusals.recordVersion, reason: regionalRefusals.reason, permitsFrom: regionalRefusals.permitsFrom, recordedAt: regionalRefusals.recordedAt })
        .from(regionalRefusals)
        .where(and(eq(regionalRefusals.tenant, tenant), eq(regionalRefusals.citizenId, citizenId)))
        .orderBy(asc(regionalRefusals.source));
    },
    /** How many citizens' sources do not permit sharing now, per source (a permit not started yet counts until its first day is handled). */
    async countRefusals(tenant: string): Promise<Record<string, number>> {
      const rows = await db.select({ source: regionalRefusals.source, n: sql<number>`count(*)` }).from(regionalRefusals).where(eq(regionalRefusals.tenant, tenant)).groupBy(regionalRefusals.source);
      return Object.fromEntries(rows.map((row) => [row.source, Number(row.n)]));
    },
    /** Refusals that were permits not started yet and whose first day has come (on or before `today`), earliest first. */
    async permitsStartedBy(tenant: string, today: string, limit: number): Promise<RegionalRefusal[]> {
      return db
        .select({ citizenId: regionalRefusals.citizenId, source: regionalRefusals.source, recordId: regionalRefusals.recordId, recordVersion: regionalRefusals.recordVersion, reason: regionalRefusals.reason, permitsFrom: regionalRefusals.permitsFrom })
        .from(regionalRefusals)
        .where(and(eq(regionalRefusals.tenant, tenant), lte(regionalRefusals.permitsFrom, today)))
        .orderBy(asc(regionalRefusals.permitsFrom))
        .limit(limit);
    },
    /** Forgets this very refusal only (one the sync replaced meanwhile stays); aborts its batch when it is gone or replaced, so its work is not done twice. */
    startedStatements(tenant: string, refusal: RegionalRefusal): Statement[] {
      const t = regionalRefusals;
      const same = sql`${t.tenant} = ${tenant} and ${t.citizenId} = ${refusal.citizenId} and ${t.source} = ${refusal.source} and ${t.recordId} is ${refusal.recordId} and ${t.recordVersion} is ${refusal.recordVersion} and ${t.permitsFrom} is ${refusal.permitsFrom ?? null}`;
      return [...abortUnless(db, sql`select count(*) from ${t} where ${same}`), db.delete(t).where(same)];
    },
    async get(tenant: string, citizenId: string, source: string): Promise<RegionalConsentEnd | undefined> {
      const rows = await db
        .select({ citizenId: regionalConsentEnds.citizenId, source: regionalConsentEnds.source, recordId: regionalConsentEnds.recordId, recordVersion: regionalConsentEnds.recordVersion, lastDay: regionalConsentEnds.lastDay })
        .from(regionalConsentEnds)
        .where(keyOf(tenant, citizenId, source))
        .limit(1);
      return rows[0];
    },
    /** Ends whose last day is before `today` (YYYY-MM-DD), earliest first. */
    async endedBefore(tenant: string, today: string, limit: number): Promise<RegionalConsentEnd[]> {
      return db
        .select({ citizenId: regionalConsentEnds.citizenId, source: regionalConsentEnds.source, recordId: regionalConsentEnds.recordId, recordVersion: regionalConsentEnds.recordVersion, lastDay: regionalConsentEnds.lastDay })
        .from(regionalConsentEnds)
        .where(and(eq(regionalConsentEnds.tenant, tenant), lt(regionalConsentEnds.lastDay, today)))
        .orderBy(asc(regionalConsentEnds.lastDay))
        .limit(limit);
    },
  };
}
export type RegionalConsentRepository = ReturnType<typeof regionalConsentRepository>;
