/**
 * A source's own consent to share that permits until a last day (migration 0025): the sync writes the
 * deciding Consent of a citizen as it reads it, and forgets it when the source's say changes; the nightly
 * job finds those whose last day has passed through the (tenant, last_day) index and ends them
 * (src/consent/service.ts `handleLapsedRegionalConsents`, decision 0004).
 */
import { and, asc, eq, lt, sql } from 'drizzle-orm';
import type { Database, Statement } from './db';
import { inList } from './query';
import { regionalConsentEnds } from './schema';
import { abortUnless } from './write-guard';

export interface RegionalConsentEnd {
  citizenId: string;
  source: string;
  recordId: string;
  recordVersion: string;
  lastDay: string;
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
