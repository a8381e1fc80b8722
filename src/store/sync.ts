/** Sync bookkeeping: cursors, runs, quarantine, merged record versions and first-pull marks. */
import { and, desc, eq, exists, inArray, isNull, lt, sql } from 'drizzle-orm';
import type { Database, Statement } from './db';
import { appliedRecords, plans, pulledCitizens, quarantine, syncCursors, syncRuns } from './schema';

export interface QuarantineRow {
  id: string;
  tenant: string;
  adapter: string;
  recordType: string;
  recordId: string | null;
  mappingId: string | null;
  reason: string;
  raw: string | null;
  runId: string | null;
  createdAt: string;
}

export interface SyncRunRow {
  id: string;
  tenant: string;
  adapter: string;
  trigger: string;
  status: 'running' | 'succeeded' | 'failed';
  startedAt: string;
  endedAt: string | null;
  stats: Record<string, unknown>;
  error: string | null;
}

export function syncRepository({ db }: Database) {
  return {
    async cursor(tenant: string, adapter: string): Promise<string | null> {
      const rows = await db.select({ cursor: syncCursors.cursor }).from(syncCursors).where(and(eq(syncCursors.tenant, tenant), eq(syncCursors.adapter, adapter))).limit(1);
      return rows[0]?.cursor ?? null;
    },
    setCursorStatement(tenant: string, adapter: string, cursor: string | null, at: string): Statement {
      return db
        .insert(syncCursors)
        .values({ tenant, adapter, cursor, updatedAt: at })
        .onConflictDoUpdate({ target: [syncCursors.tenant, syncCursors.adapter], set: { cursor, updatedAt: at } });
    },
    async startRun(run: Omit<SyncRunRow, 'status' | 'endedAt' | 'error'>): Promise<void> {
      await db.insert(syncRuns).values({ ...run, status: 'running', stats: JSON.stringify(run.stats) });
    },
    async finishRun(tenant: string, id: string, status: 'succeeded' | 'failed', stats: Record<string, unknown>, endedAt: string, error?: string): Promise<void> {
      await db
        .update(syncRuns)
        .set({ status, stats: JSON.stringify(stats), endedAt, error: error ?? null })
        .where(and(eq(syncRuns.tenant, tenant), eq(syncRuns.id, id)));
    },
    async runs(tenant: string, options: { adapter?: string; limit?: number } = {}): Promise<SyncRunRow[]> {
      const rows = await db
        .select()
        .from(syncRuns)
        .where(and(eq(syncRuns.tenant, tenant), options.adapter ? eq(syncRuns.adapter, options.adapter) : undefined))
        .orderBy(desc(syncRuns.startedAt))
        .limit(options.limit ?? 50);
      return rows.map((r) => ({ ...r, stats: JSON.parse(r.stats) as Record<string, unknown> }));
    },
    async getRun(tenant: string, id: string): Promise<SyncRunRow | null> {
      const rows = await db.select().from(syncRuns).where(and(eq(syncRuns.tenant, tenant), eq(syncRuns.id, id))).limit(1);
      return rows[0] ? { ...rows[0], stats: JSON.parse(rows[0].stats) as Record<string, unknown> } : null;
    },
    async quarantineCounts(tenant: string): Promise<Record<string, number>> {
      const rows = await db
        .select({ adapter: quarantine.adapter, n: sql<number>`count(*)` })
        .from(quarantine)
        .where(and(eq(quarantine.tenant, tenant), isNull(quarantine.resolvedAt)))
        .groupBy(quarantine.adapter);
      return Object.fromEntries(rows.map((r) => [r.adapter, Number(r.n)]));
    },
    /** The newest run per adapter. */
    async latestRuns(tenant: string): Promise<SyncRunRow[]> {
      const rows = await db
        .select()
        .from(syncRuns)
        .where(and(eq(syncRuns.tenant, tenant), sql`${syncRuns.startedAt} = (select max(r2.started_at) from sync_runs r2 where r2.tenant = ${syncRuns.tenant} and r2.adapter = ${syncRuns.adapter})`));
      return rows.map((r) => ({ ...r, stats: JSON.parse(r.stats) as Record<string, unknown> }));
    },
    async runCounts(tenant: string): Promise<{ adapter: string; status: string; n: number }[]> {
      const rows = await db.select({ adapter: syncRuns.adapter, status: syncRuns.status, n: sql<number>`count(*)` }).from(syncRuns).where(eq(syncRuns.tenant, tenant)).groupBy(syncRuns.adapter, syncRuns.status);
      return rows.map((r) => ({ ...r, n: Number(r.n) }));
    },
    quarantineStatement(row: QuarantineRow): Statement {
      return db.insert(quarantine).values(row);
    },
    async quarantined(tenant: string, options: { adapter?: string; limit?: number; includeResolved?: boolean } = {}): Promise<QuarantineRow[]> {
      return db
        .select({
          id: quarantine.id,
          tenant: quarantine.tenant,
          adapter: quarantine.adapter,
          recordType: quarantine.recordType,
          recordId: quarantine.recordId,
          mappingId: quarantine.mappingId,
          reason: quarantine.reason,
          raw: quarantine.raw,
          runId: quarantine.runId,
          createdAt: quarantine.createdAt,
        })
        .from(quarantine)
        .where(
          and(
            eq(quarantine.tenant, tenant),
            options.adapter ? eq(quarantine.adapter, options.adapter) : undefined,
            options.includeResolved ? undefined : isNull(quarantine.resolvedAt),
          ),
        )
        .orderBy(desc(quarantine.createdAt))
        .limit(options.limit ?? 100);
    },
    /** Which of these record versions were merged already (the idempotent-merge check). */
    async appliedVersions(tenant: string, source: string, recordIds: string[]): Promise<Set<string>> {
      const seen = new Set<string>();
      // D1 allows 100 bound parameters a statement.
      for (let i = 0; i < recordIds.length; i += 90) {
        const rows = await db
          .select({ recordId: appliedRecords.recordId, recordVersion: appliedRecords.recordVersion })
          .from(appliedRecords)
          .where(and(eq(appliedRecords.tenant, tenant), eq(appliedRecords.source, source), inArray(appliedRecords.recordId, recordIds.slice(i, i + 90))));
        for (const r of rows) seen.add(`${r.recordId}@${r.recordVersion}`);
      }
      return seen;
    },
    appliedStatement(row: { tenant: string; source: string; recordId: string; recordVersion: string; planId: string; appliedAt: string }): Statement {
      return db.insert(appliedRecords).values(row).onConflictDoNothing();
    },
    /**
     * Marks a record version merged only if the plan now holds exactly the write it was merged
     * into (same version and update time). In a batch after the plan's optimistic update, a lost
     * race leaves no mark, so the record is merged again on the next try instead of being lost.
     */
    appliedIfPlanWrittenStatement(
      row: { tenant: string; source: string; recordId: string; recordVersion: string; planId: string; appliedAt: string },
      plan: { version: number; updatedAt: string },
    ): Statement {
      return db
        .insert(appliedRecords)
        .select(
          db
            .select({
              tenant: sql<string>`${row.tenant}`.as('tenant'),
              source: sql<string>`${row.source}`.as('source'),
              recordId: sql<string>`${row.recordId}`.as('record_id'),
              recordVersion: sql<string>`${row.recordVersion}`.as('record_version'),
              planId: sql<string>`${row.planId}`.as('plan_id'),
              appliedAt: sql<string>`${row.appliedAt}`.as('applied_at'),
            })
            .from(plans)
            .where(and(eq(plans.tenant, row.tenant), eq(plans.id, row.planId), eq(plans.version, plan.version), eq(plans.updatedAt, plan.updatedAt))),
        )
        .onConflictDoNothing();
    },
    /**
     * Many merged-record marks in one statement: the rows travel as one JSON parameter and are
     * unpacked with `json_each`, so a whole chunk costs one prepared statement, also on D1 (which
     * allows 100 bound parameters). With `plan`, the marks are written only if the plan now holds
     * exactly that write (same version and update time): a lost race leaves no mark.
     */
    appliedManyStatement(
      tenant: string,
      planId: string,
      appliedAt: string,
      marks: readonly { source: string; recordId: string; recordVersion: string }[],
      plan?: { version: number; updatedAt: string },
    ): Statement {
      const rows = JSON.stringify(marks.map((m) => [m.source, m.recordId, m.recordVersion]));
      return db
        .insert(appliedRecords)
        .select(
          db
            .select({
              tenant: sql<string>`${tenant}`.as('tenant'),
              source: sql<string>`json_extract(value, '$[0]')`.as('source'),
              recordId: sql<string>`json_extract(value, '$[1]')`.as('record_id'),
              recordVersion: sql<string>`json_extract(value, '$[2]')`.as('record_version'),
              planId: sql<string>`${planId}`.as('plan_id'),
              appliedAt: sql<string>`${appliedAt}`.as('applied_at'),
            })
            .from(sql`json_each(${rows})`)
            .where(
              plan
                ? exists(
                    db
                      .select({ one: sql`1` })
                      .from(plans)
                      .where(and(eq(plans.tenant, tenant), eq(plans.id, planId), eq(plans.version, plan.version), eq(plans.updatedAt, plan.updatedAt))),
                  )
                : sql`1`, // SQLite needs a WHERE before an upsert clause on INSERT … SELECT.
            ),
        )
        .onConflictDoNothing();
    },
    /** First-pull marks for many (adapter, citizen) pairs in one statement, guarded like `appliedManyStatement`. */
    pulledManyStatement(
      tenant: string,
      pulledAt: string,
      pairs: readonly { adapter: string; citizenId: string }[],
      plan?: { planId: string; version: number; updatedAt: string },
    ): Statement {
      const rows = JSON.stringify(pairs.map((p) => [p.adapter, p.citizenId]));
      return db
        .insert(pulledCitizens)
        .select(
          db
            .select({
              tenant: sql<string>`${tenant}`.as('tenant'),
              adapter: sql<string>`json_extract(value, '$[0]')`.as('adapter'),
              citizenId: sql<string>`json_extract(value, '$[1]')`.as('citizen_id'),
              pulledAt: sql<string>`${pulledAt}`.as('pulled_at'),
            })
            .from(sql`json_each(${rows})`)
            .where(
              plan
                ? exists(
                    db
                      .select({ one: sql`1` })
                      .from(plans)
                      .where(and(eq(plans.tenant, tenant), eq(plans.id, plan.planId), eq(plans.version, plan.version), eq(plans.updatedAt, plan.updatedAt))),
                  )
                : sql`1`,
            ),
        )
        .onConflictDoNothing();
    },
    /** After a new consent: records once merged into these plans may be merged again (the merge itself is idempotent by version). */
    async forgetAppliedForPlans(tenant: string, source: string, planIds: string[]): Promise<void> {
      if (planIds.length === 0) return;
      await db.delete(appliedRecords).where(and(eq(appliedRecords.tenant, tenant), eq(appliedRecords.source, source), inArray(appliedRecords.planId, planIds.slice(0, 90))));
    },
    /** After a new consent: the citizen is pulled in full again on the next run. */
    async forgetPulled(tenant: string, citizenId: string): Promise<void> {
      await db.delete(pulledCitizens).where(and(eq(pulledCitizens.tenant, tenant), eq(pulledCitizens.citizenId, citizenId)));
    },
    async pulledCitizenIds(tenant: string, adapter: string): Promise<Set<string>> {
      const rows = await db.select({ citizenId: pulledCitizens.citizenId }).from(pulledCitizens).where(and(eq(pulledCitizens.tenant, tenant), eq(pulledCitizens.adapter, adapter)));
      return new Set(rows.map((r) => r.citizenId));
    },
    pulledStatement(tenant: string, adapter: string, citizenId: string, at: string): Statement {
      return db.insert(pulledCitizens).values({ tenant, adapter, citizenId, pulledAt: at }).onConflictDoNothing();
    },
    /** Retention (R16): drop stored payload bodies of quarantined records older than `before`. */
    async pruneQuarantinePayloads(tenant: string, before: string): Promise<number> {
      const result = await db
        .update(quarantine)
        .set({ raw: null })
        .where(and(eq(quarantine.tenant, tenant), lt(quarantine.createdAt, before), sql`${quarantine.raw} is not null`))
        .returning({ id: quarantine.id });
      return result.length;
    },
  };
}
export type SyncRepository = ReturnType<typeof syncRepository>;
