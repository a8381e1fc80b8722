/** Sync bookkeeping: cursors, runs, quarantine, merged record versions and first-pull marks. */
import { and, asc, desc, eq, inArray, isNull, lt, ne, or, sql } from 'drizzle-orm';
import { SourceSystem } from '../model/common';
import type { Database, Statement } from './db';
import { distinctLeading, inList } from './query';
import { appliedRecords, catchUpPositions, caughtUp, enrolmentEpochs, plans, pulledCitizens, quarantine, syncCursors, syncRunTallies, syncRuns } from './schema';

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
  /** The citizen the record is about, where known: what a retry reads again. */
  citizenId?: string | null;
  createdAt: string;
}

export interface QuarantineResolution {
  /** `superseded`: the sync merged a newer version of the same record (src/sync/superseded.ts). */
  action: 'dismissed' | 'retried' | 'superseded';
  by: string;
  at: string;
  note?: string;
}

export interface SyncRunRow {
  id: string;
  tenant: string;
  adapter: string;
  trigger: string;
  /** `interrupted`: its process ended before the run did; another process's check ended it. */
  status: 'running' | 'succeeded' | 'failed' | 'interrupted';
  startedAt: string;
  endedAt: string | null;
  stats: Record<string, unknown>;
  error: string | null;
  /** Who runs it (src/runtime/run-owner.ts); null for runs started before owners were recorded. */
  owner: string | null;
}

/** A mark that depends on a plan write: `planWrite` names that write (its write id). */
export interface SyncMarkRow {
  citizenId: string;
  source: string;
  recordId: string;
  recordVersion: string;
  planId: string;
  planWrite?: { writeId: string };
  /** False: merged in part (consent refused some of it, or references of it were left out): whose it is, not merged. */
  complete?: boolean;
}

export interface PulledMarkRow {
  adapter: string;
  citizenId: string;
  planId?: string;
  planWrite?: { writeId: string };
}

/** The JSON row (`j.value`) names a plan write (plan id and write id, positions 4–5) that the plan table still holds. */
function planWriteWon(tenant: string) {
  return sql`exists (select 1 from ${plans} where ${plans.tenant} = ${tenant} and ${plans.id} = json_extract(j.value, '$[4]') and ${plans.writeId} = json_extract(j.value, '$[5]'))`;
}

/**
 * One insert for the unguarded rows and one for the guarded ones. Each JSON row is the four
 * `fields`, then the plan id, then (guarded) the plan write's id.
 */
function guardedInserts<T extends { planId?: string; planWrite?: { writeId: string } }>(
  rows: readonly T[],
  insert: (json: string, guarded: boolean) => Statement,
  fields: (row: T) => [unknown, unknown, unknown, unknown],
): Statement[] {
  const statements: Statement[] = [];
  const plain = rows.filter((r) => !r.planWrite);
  const guarded = rows.filter((r) => r.planWrite);
  if (plain.length > 0) statements.push(insert(JSON.stringify(plain.map((r) => [...fields(r), r.planId ?? '-'])), false));
  if (guarded.length > 0) statements.push(insert(JSON.stringify(guarded.map((r) => [...fields(r), r.planId, r.planWrite!.writeId])), true));
  return statements;
}

/** A quarantine entry as the repository hands it out (what `QuarantineRow` holds). */
const quarantineColumns = {
  id: quarantine.id,
  tenant: quarantine.tenant,
  adapter: quarantine.adapter,
  recordType: quarantine.recordType,
  recordId: quarantine.recordId,
  mappingId: quarantine.mappingId,
  reason: quarantine.reason,
  raw: quarantine.raw,
  runId: quarantine.runId,
  citizenId: quarantine.citizenId,
  createdAt: quarantine.createdAt,
};

/** Whose record from which source a mark is of: the mark's key without its version. */
export interface MarkedRecordKey {
  citizenId: string;
  source: string;
  recordId: string;
}

export function syncRepository(database: Database) {
  const { db } = database;
  return {
    async cursor(tenant: string, adapter: string): Promise<string | null> {
      const rows = await db.select({ cursor: syncCursors.cursor }).from(syncCursors).where(and(eq(syncCursors.tenant, tenant), eq(syncCursors.adapter, adapter))).limit(1);
      return rows[0]?.cursor ?? null;
    },
    /** When each of the tenant's feeds last moved its cursor (adapters never followed are absent). */
    async cursorsMovedAt(tenant: string): Promise<Map<string, string>> {
      const rows = await db.select({ adapter: syncCursors.adapter, updatedAt: syncCursors.updatedAt }).from(syncCursors).where(eq(syncCursors.tenant, tenant));
      return new Map(rows.map((r) => [r.adapter, r.updatedAt]));
    },
    setCursorStatement(tenant: string, adapter: string, cursor: string | null, at: string): Statement {
      return db
        .insert(syncCursors)
        .values({ tenant, adapter, cursor, updatedAt: at })
        .onConflictDoUpdate({ target: [syncCursors.tenant, syncCursors.adapter], set: { cursor, updatedAt: at } });
    },
    async startRun(run: Omit<SyncRunRow, 'status' | 'endedAt' | 'error' | 'owner'> & { owner?: string | null }): Promise<void> {
      await db.insert(syncRuns).values({ ...run, owner: run.owner ?? null, status: 'running', stats: JSON.stringify(run.stats) });
    },
    /** The owners of the database's runs still "running" (null: runs started before owners were recorded). */
    async runningOwners(): Promise<(string | null)[]> {
      const rows = await db.selectDistinct({ owner: syncRuns.owner }).from(syncRuns).where(eq(syncRuns.status, 'running'));
      return rows.map((r) => r.owner);
    },
    /** Ends as interrupted the database's runs still "running" of these owners (null among them: of none); returns how many. */
    async interruptRunsOf(owners: readonly (string | null)[], endedAt: string, error: string): Promise<number> {
      const named = owners.filter((o): o is string => o !== null);
      const ofOwners = or(named.length > 0 ? inList(syncRuns.owner, named) : undefined, owners.includes(null) ? isNull(syncRuns.owner) : undefined);
      if (!ofOwners) return 0;
      const ended = await db.update(syncRuns).set({ status: 'interrupted', endedAt, error }).where(and(eq(syncRuns.status, 'running'), ofOwners)).returning({ id: syncRuns.id });
      return ended.length;
    },
    /**
     * Ends as interrupted the tenant's runs of these adapters still "running" that started before
     * `startedBefore` and whose owner no process here can ask about (not a Node process's: Node ends
     * its own at start). For runtimes whose invocations end within a known time (Workers).
     */
    interruptStaleRunsStatement(tenant: string, adapters: readonly string[], startedBefore: string, endedAt: string, error: string): Statement {
      return db
        .update(syncRuns)
        .set({ status: 'interrupted', endedAt, error })
        .where(
          and(
            eq(syncRuns.tenant, tenant),
            inList(syncRuns.adapter, adapters),
            eq(syncRuns.status, 'running'),
            lt(syncRuns.startedAt, startedBefore),
            or(isNull(syncRuns.owner), sql`${syncRuns.owner} not like 'node:%'`),
          ),
        );
    },
    async finishRun(tenant: string, id: string, status: 'succeeded' | 'failed', stats: Record<string, unknown>, endedAt: string, error?: string): Promise<void> {
      await db
        .update(syncRuns)
        .set({ status, stats: JSON.stringify(stats), endedAt, error: error ?? null })
        .where(and(eq(syncRuns.tenant, tenant), eq(syncRuns.id, id)));
    },
    /** Newest first; `finished`: only runs that ended (succeeded or failed), not one under way. */
    async runs(tenant: string, options: { adapter?: string; limit?: number; offset?: number; finished?: boolean } = {}): Promise<SyncRunRow[]> {
      const rows = await db
        .select()
        .from(syncRuns)
        .where(and(eq(syncRuns.tenant, tenant), options.adapter ? eq(syncRuns.adapter, options.adapter) : undefined, options.finished ? ne(syncRuns.status, 'running') : undefined))
        // The id breaks ties, so pages neither repeat nor skip runs that started at one instant.
        .orderBy(desc(syncRuns.startedAt), asc(syncRuns.id))
        .limit(options.limit ?? 50)
        .offset(options.offset ?? 0);
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
    /** The newest run per adapter; `finished`: the newest that ended (a run under way has no figures yet). */
    async latestRuns(tenant: string, options: { finished?: boolean } = {}): Promise<SyncRunRow[]> {
      const newest = await Promise.all(SourceSystem.options.map((adapter) => this.latestRunQuery(tenant, adapter, options)));
      return newest.flat().map((r) => ({ ...r, stats: JSON.parse(r.stats) as Record<string, unknown> }));
    },
    /** One adapter's newest run, unrun (its query plan is tested: a walk back in the adapter's index). */
    latestRunQuery(tenant: string, adapter: string, options: { finished?: boolean } = {}) {
      return db
        .select()
        .from(syncRuns)
        .where(and(eq(syncRuns.tenant, tenant), eq(syncRuns.adapter, adapter), options.finished ? ne(syncRuns.status, 'running') : undefined))
        .orderBy(desc(syncRuns.startedAt), desc(syncRuns.id))
        .limit(1);
    },
    /** When each adapter's newest run that succeeded ended (adapters with none are absent). */
    async lastSucceededAt(tenant: string): Promise<Map<string, string>> {
      const newest = await Promise.all(
        SourceSystem.options.map((adapter) =>
          db
            .select({ adapter: syncRuns.adapter, endedAt: syncRuns.endedAt })
            .from(syncRuns)
            .where(and(eq(syncRuns.tenant, tenant), eq(syncRuns.adapter, adapter), eq(syncRuns.status, 'succeeded')))
            .orderBy(desc(syncRuns.startedAt))
            .limit(1),
        ),
      );
      return new Map(newest.flat().flatMap((r) => (r.endedAt ? [[r.adapter, r.endedAt] as const] : [])));
    },
    /** The municipalities with sync runs recorded (retention visits each). */
    async tenantsWithRuns(): Promise<string[]> {
      return distinctLeading(db, syncRuns, syncRuns.tenant);
    },
    /** Runs by adapter and outcome since the first: those kept, and those retention pruned (`syncRunTallies`). */
    async runCounts(tenant: string): Promise<{ adapter: string; status: string; n: number }[]> {
      const [kept, pruned] = await Promise.all([
        this.runCountsQuery(tenant),
        db.select({ adapter: syncRunTallies.adapter, status: syncRunTallies.status, n: syncRunTallies.n }).from(syncRunTallies).where(eq(syncRunTallies.tenant, tenant)),
      ]);
      const counts = new Map<string, { adapter: string; status: string; n: number }>();
      for (const row of [...kept, ...pruned]) {
        const key = `${row.adapter}|${row.status}`;
        const entry = counts.get(key) ?? { adapter: row.adapter, status: row.status, n: 0 };
        entry.n += Number(row.n);
        counts.set(key, entry);
      }
      return [...counts.values()];
    },
    /** The runs kept, counted by adapter and outcome, unrun (its query plan is tested: the covering index alone). */
    runCountsQuery(tenant: string) {
      return db.select({ adapter: syncRuns.adapter, status: syncRuns.status, n: sql<number>`count(*)` }).from(syncRuns).where(eq(syncRuns.tenant, tenant)).groupBy(syncRuns.adapter, syncRuns.status);
    },
    /**
     * Deletes up to `limit` finished runs that started before `before`, oldest first, keeping each
     * adapter's newest finished run whatever its age (the dashboard's and the mappings' last figures);
     * each is counted in `syncRunTallies` in the same batch. Answers how many went.
     */
    async pruneFinishedRuns(tenant: string, before: string, limit: number): Promise<number> {
      const newestOfAdapter = sql`(select r2.started_at from ${syncRuns} r2 where r2.tenant = ${syncRuns.tenant} and r2.adapter = ${syncRuns.adapter} and r2.status <> 'running' order by r2.started_at desc limit 1)`;
      const page = await db
        .select({ id: syncRuns.id })
        .from(syncRuns)
        .where(and(eq(syncRuns.tenant, tenant), ne(syncRuns.status, 'running'), lt(syncRuns.startedAt, before), sql`${syncRuns.startedAt} < ${newestOfAdapter}`))
        .orderBy(asc(syncRuns.startedAt), asc(syncRuns.id))
        .limit(limit);
      if (page.length === 0) return 0;
      const ids = page.map((r) => r.id);
      const inPage = and(eq(syncRuns.tenant, tenant), inList(syncRuns.id, ids));
      await database.batch([
        db
          .insert(syncRunTallies)
          .select(db.select({ tenant: syncRuns.tenant, adapter: syncRuns.adapter, status: syncRuns.status, n: sql<number>`count(*)`.as('n') }).from(syncRuns).where(inPage).groupBy(syncRuns.adapter, syncRuns.status))
          .onConflictDoUpdate({ target: [syncRunTallies.tenant, syncRunTallies.adapter, syncRunTallies.status], set: { n: sql`${syncRunTallies.n} + excluded.n` } }),
        db.delete(syncRuns).where(inPage),
      ]);
      return ids.length;
    },
    /** How many quarantined records (open or resolved) are about these citizens. */
    async quarantineCountOfCitizens(tenant: string, citizenIds: readonly string[]): Promise<number> {
      if (citizenIds.length === 0) return 0;
      const [row] = await db.select({ count: sql<number>`count(*)` }).from(quarantine).where(and(eq(quarantine.tenant, tenant), inList(quarantine.citizenId, citizenIds)));
      return Number(row?.count ?? 0);
    },
    /** Deletes the quarantined records about these citizens, open or resolved: their payloads are the citizens' data. */
    deleteQuarantineOfCitizensStatement(tenant: string, citizenIds: readonly string[]): Statement {
      return db.delete(quarantine).where(and(eq(quarantine.tenant, tenant), inList(quarantine.citizenId, citizenIds)));
    },
    quarantineStatement(row: QuarantineRow): Statement {
      return db.insert(quarantine).values(row);
    },
    async quarantined(tenant: string, options: { adapter?: string; limit?: number; offset?: number; includeResolved?: boolean } = {}): Promise<QuarantineRow[]> {
      return db
        .select(quarantineColumns)
        .from(quarantine)
        .where(
          and(
            eq(quarantine.tenant, tenant),
            options.adapter ? eq(quarantine.adapter, options.adapter) : undefined,
            options.includeResolved ? undefined : isNull(quarantine.resolvedAt),
          ),
        )
        // A chunk's records are quarantined at one instant: the id breaks ties, so pages neither repeat nor skip.
        .orderBy(desc(quarantine.createdAt), asc(quarantine.id))
        .limit(options.limit ?? 100)
        .offset(options.offset ?? 0);
    },
    /** One entry, open or resolved; `rawPrunedAt` says when retention removed its payload (null: not removed, or before that was recorded). */
    async quarantineEntry(tenant: string, id: string): Promise<(QuarantineRow & { resolvedAt: string | null; rawPrunedAt: string | null }) | null> {
      const rows = await db
        .select({ ...quarantineColumns, resolvedAt: quarantine.resolvedAt, rawPrunedAt: quarantine.rawPrunedAt })
        .from(quarantine)
        .where(and(eq(quarantine.tenant, tenant), eq(quarantine.id, id)))
        .limit(1);
      return rows[0] ?? null;
    },
    /**
     * Statements that resolve an open quarantine entry; `retried` also forgets that the record was
     * merged (its versions' marks, kept as the citizen's) and that the citizen was pulled from the adapter, so the next run
     * reads the citizen there again and the record goes through its mapping afresh. The first
     * statement is the resolution itself, changing one row or none (resolved already); the rest go with it.
     */
    resolveQuarantineStatements(entry: Pick<QuarantineRow, 'tenant' | 'id' | 'adapter' | 'recordId' | 'citizenId'>, resolution: QuarantineResolution): Statement[] {
      const resolve = db
        .update(quarantine)
        .set({ resolvedAt: resolution.at, resolution: resolution.action, resolvedBy: resolution.by, resolutionNote: resolution.note ?? null })
        .where(and(eq(quarantine.tenant, entry.tenant), eq(quarantine.id, entry.id), isNull(quarantine.resolvedAt)));
      if (resolution.action !== 'retried' || !entry.citizenId) return [resolve];
      return [
        resolve,
        // Kept as the citizen's (`complete` 0), not deleted: a deletion at the source before the re-read still finds whose it was.
        ...(entry.recordId ? [db.update(appliedRecords).set({ complete: 0 }).where(and(eq(appliedRecords.tenant, entry.tenant), eq(appliedRecords.citizenId, entry.citizenId), eq(appliedRecords.source, entry.adapter), eq(appliedRecords.recordId, entry.recordId), eq(appliedRecords.complete, 1)))] : []),
        db.delete(pulledCitizens).where(and(eq(pulledCitizens.tenant, entry.tenant), eq(pulledCitizens.adapter, entry.adapter), eq(pulledCitizens.citizenId, entry.citizenId))),
      ];
    },
    /** The open entries of these records of one source (any record type; the caller matches it), for closing them as superseded. */
    /** The tenant's sources with open quarantine entries (the open entries' partial index, migration 0022). */
    async adaptersWithOpenQuarantine(tenant: string): Promise<Set<string>> {
      return new Set((await this.adaptersWithOpenQuarantineQuery(tenant)).map((r) => r.adapter));
    },
    adaptersWithOpenQuarantineQuery(tenant: string) {
      return db.selectDistinct({ adapter: quarantine.adapter }).from(quarantine).where(and(eq(quarantine.tenant, tenant), isNull(quarantine.resolvedAt)));
    },
    async openQuarantineOfRecords(tenant: string, adapter: string, recordIds: readonly string[]): Promise<Pick<QuarantineRow, 'id' | 'recordType' | 'recordId' | 'citizenId'>[]> {
      if (recordIds.length === 0) return [];
      return this.openQuarantineOfRecordsQuery(tenant, adapter, recordIds);
    },
    /** The query of `openQuarantineOfRecords` (its plan is tested: the open entries' partial index, migration 0022). */
    openQuarantineOfRecordsQuery(tenant: string, adapter: string, recordIds: readonly string[]) {
      return db
        .select({ id: quarantine.id, recordType: quarantine.recordType, recordId: quarantine.recordId, citizenId: quarantine.citizenId })
        .from(quarantine)
        .where(and(eq(quarantine.tenant, tenant), eq(quarantine.adapter, adapter), inList(quarantine.recordId, [...new Set(recordIds)]), isNull(quarantine.resolvedAt)));
    },
    /**
     * Closes an open entry as superseded by a merged version. With `planWrite` it goes with that plan
     * write, as the merged-record marks do: a merge that lost its plan race closes nothing.
     */
    supersedeQuarantineStatement(tenant: string, id: string, resolution: QuarantineResolution, planWrite?: { planId: string; writeId: string }): Statement {
      return db
        .update(quarantine)
        .set({ resolvedAt: resolution.at, resolution: resolution.action, resolvedBy: resolution.by, resolutionNote: resolution.note ?? null })
        .where(
          and(
            eq(quarantine.tenant, tenant),
            eq(quarantine.id, id),
            isNull(quarantine.resolvedAt),
            planWrite ? sql`exists (select 1 from ${plans} where ${plans.tenant} = ${tenant} and ${plans.id} = ${planWrite.planId} and ${plans.writeId} = ${planWrite.writeId})` : undefined,
          ),
        );
    },
    /**
     * Which record versions of these citizens were merged from this source already (the
     * idempotent-merge check), as `recordId@version`. One merged in part is not: it is merged again.
     */
    async appliedVersions(tenant: string, source: string, citizenIds: string[]): Promise<Set<string>> {
      if (citizenIds.length === 0) return new Set();
      const rows = await db
        .select({ recordId: appliedRecords.recordId, recordVersion: appliedRecords.recordVersion })
        .from(appliedRecords)
        .where(and(eq(appliedRecords.tenant, tenant), inList(appliedRecords.citizenId, citizenIds), eq(appliedRecords.source, source), eq(appliedRecords.complete, 1)));
      return new Set(rows.map((r) => `${r.recordId}@${r.recordVersion}`));
    },
    /**
     * The marks of these citizens' records from the source, merged whole (`complete`) or in part:
     * one query for a sync chunk, which tells what is merged already and which versions are older than one marked.
     */
    async marksOfCitizens(tenant: string, source: string, citizenIds: string[]): Promise<{ citizenId: string; recordId: string; recordVersion: string; complete: boolean }[]> {
      if (citizenIds.length === 0) return [];
      const rows = await db
        .select({ citizenId: appliedRecords.citizenId, recordId: appliedRecords.recordId, recordVersion: appliedRecords.recordVersion, complete: appliedRecords.complete })
        .from(appliedRecords)
        .where(and(eq(appliedRecords.tenant, tenant), inList(appliedRecords.citizenId, citizenIds), eq(appliedRecords.source, source)));
      return rows.map((r) => ({ ...r, complete: r.complete === 1 }));
    },
    /**
     * Merged-record marks for a whole chunk in at most two statements (four with marks of records
     * merged in part): the rows travel as one JSON parameter unpacked with `json_each`, so the cost
     * does not grow with the number of statements (and D1's 100 bound parameters are never reached).
     * A row with `planWrite` is written only if the plan now holds exactly that write (its write id):
     * a lost race leaves no mark, so the record is merged again instead of being lost. A version
     * merged whole makes its mark of a merge in part whole (the same row: the key holds the version).
     */
    appliedManyStatements(tenant: string, appliedAt: string, rows: readonly SyncMarkRow[]): Statement[] {
      const marksOf = (complete: boolean) => (json: string, guarded: boolean) => {
        const insert = db
          .insert(appliedRecords)
          .select(
            db
              .select({
                tenant: sql<string>`${tenant}`.as('tenant'),
                citizenId: sql<string>`json_extract(j.value, '$[3]')`.as('citizen_id'),
                source: sql<string>`json_extract(j.value, '$[0]')`.as('source'),
                recordId: sql<string>`json_extract(j.value, '$[1]')`.as('record_id'),
                recordVersion: sql<string>`json_extract(j.value, '$[2]')`.as('record_version'),
                planId: sql<string>`json_extract(j.value, '$[4]')`.as('plan_id'),
                appliedAt: sql<string>`${appliedAt}`.as('applied_at'),
                complete: sql<number>`${complete ? 1 : 0}`.as('complete'),
              })
              .from(sql`json_each(${json}) as j`)
              .where(guarded ? planWriteWon(tenant) : sql`1`), // SQLite needs a WHERE before an upsert clause on INSERT … SELECT.
          );
        return complete
          ? insert.onConflictDoUpdate({
              target: [appliedRecords.tenant, appliedRecords.citizenId, appliedRecords.source, appliedRecords.recordId, appliedRecords.recordVersion],
              set: { complete: 1, planId: sql`excluded.plan_id`, appliedAt: sql`excluded.applied_at` },
              setWhere: sql`${appliedRecords.complete} = 0`,
            })
          : insert.onConflictDoNothing();
      };
      const fields = (r: SyncMarkRow): [unknown, unknown, unknown, unknown] => [r.source, r.recordId, r.recordVersion, r.citizenId];
      return [...guardedInserts(rows.filter((r) => r.complete !== false), marksOf(true), fields), ...guardedInserts(rows.filter((r) => r.complete === false), marksOf(false), fields)];
    },
    /** First-pull marks of (adapter, citizen) pairs, guarded like `appliedManyStatements`. */
    pulledManyStatements(tenant: string, pulledAt: string, rows: readonly PulledMarkRow[]): Statement[] {
      return guardedInserts(rows, (json, guarded) =>
        db
          .insert(pulledCitizens)
          .select(
            db
              .select({
                tenant: sql<string>`${tenant}`.as('tenant'),
                adapter: sql<string>`json_extract(j.value, '$[0]')`.as('adapter'),
                citizenId: sql<string>`json_extract(j.value, '$[1]')`.as('citizen_id'),
                pulledAt: sql<string>`${pulledAt}`.as('pulled_at'),
              })
              .from(sql`json_each(${json}) as j`)
              .where(guarded ? planWriteWon(tenant) : sql`1`),
          )
          .onConflictDoNothing(),
      (r) => [r.adapter, r.citizenId, null, null]);
    },
    /**
     * Whose records these are, by the marks of what was merged from this source (in part too): record
     * id → citizen ids. For a record the source deleted, which names nobody any more. Not indexed by record id (the
     * marks are keyed by citizen for the merge's sake): a scan of the tenant's marks, paid only by a
     * feed page that reports deletions.
     */
    async citizensOfRecords(tenant: string, source: string, recordIds: readonly string[]): Promise<Map<string, string[]>> {
      const owners = new Map<string, string[]>();
      if (recordIds.length === 0) return owners;
      const rows = await db
        .selectDistinct({ recordId: appliedRecords.recordId, citizenId: appliedRecords.citizenId })
        .from(appliedRecords)
        .where(and(eq(appliedRecords.tenant, tenant), eq(appliedRecords.source, source), inList(appliedRecords.recordId, [...recordIds])));
      for (const row of rows) owners.set(row.recordId, [...(owners.get(row.recordId) ?? []), row.citizenId]);
      return owners;
    },
    /**
     * Forgets the marks of these records of one citizen (deleted at the source: a record re-created
     * under the same id merges again), with the plan write they go with when there is one: a lost race
     * leaves them, so the re-run still finds whose the records were.
     */
    forgetRecordsStatement(tenant: string, source: string, citizenId: string, recordIds: readonly string[], planWrite?: { planId: string; writeId: string }): Statement {
      const won = planWrite ? [sql`exists (select 1 from ${plans} where ${plans.tenant} = ${tenant} and ${plans.id} = ${planWrite.planId} and ${plans.writeId} = ${planWrite.writeId})`] : [];
      return db.delete(appliedRecords).where(and(eq(appliedRecords.tenant, tenant), eq(appliedRecords.citizenId, citizenId), eq(appliedRecords.source, source), inList(appliedRecords.recordId, [...recordIds]), ...won));
    },
    /**
     * After a new consent (or whatever else wants them read again): the citizen's records from this
     * source are merged again on the next read (the merge itself is idempotent by version). Their
     * marks stay as marks of whose they are (`complete` 0), not deleted: a record the source deletes
     * before that read still finds its owner, so what it said leaves the plan.
     */
    forgetAppliedStatement(tenant: string, source: string, citizenId: string): Statement {
      return db.update(appliedRecords).set({ complete: 0 }).where(and(eq(appliedRecords.tenant, tenant), eq(appliedRecords.citizenId, citizenId), eq(appliedRecords.source, source), eq(appliedRecords.complete, 1)));
    },
    /** After a new consent: the citizen is pulled in full again on the next run. */
    async forgetPulled(tenant: string, citizenId: string): Promise<void> {
      await this.forgetPulledStatement(tenant, citizenId);
    },
    forgetPulledStatement(tenant: string, citizenId: string): Statement {
      // Every adapter named: the primary key (tenant, adapter, citizen) finds the marks, where the citizen alone would walk the municipality's.
      return db.delete(pulledCitizens).where(and(eq(pulledCitizens.tenant, tenant), inList(pulledCitizens.adapter, SourceSystem.options), eq(pulledCitizens.citizenId, citizenId)));
    },
    /** These citizens are read in full from this adapter again (a feed pull of theirs failed); the delete moves the enrolment epoch. */
    forgetPulledFromStatement(tenant: string, adapter: string, citizenIds: readonly string[]): Statement {
      return db.delete(pulledCitizens).where(and(eq(pulledCitizens.tenant, tenant), eq(pulledCitizens.adapter, adapter), inList(pulledCitizens.citizenId, citizenIds)));
    },
    pulledStatement(tenant: string, adapter: string, citizenId: string, at: string): Statement {
      return db.insert(pulledCitizens).values({ tenant, adapter, citizenId, pulledAt: at }).onConflictDoNothing();
    },
    /** The tenant's enrolment epoch (moved by triggers whenever an enrolled citizen may have become never-pulled); 0 before any enrolment. */
    async enrolmentEpoch(tenant: string): Promise<number> {
      const rows = await db.select({ epoch: enrolmentEpochs.epoch }).from(enrolmentEpochs).where(eq(enrolmentEpochs.tenant, tenant)).limit(1);
      return rows[0]?.epoch ?? 0;
    },
    /** The adapters whose catch-up left nobody unpulled at this enrolment epoch: they have nothing to catch up. */
    async caughtUpAt(tenant: string, epoch: number): Promise<Set<string>> {
      const rows = await db.select({ adapter: caughtUp.adapter }).from(caughtUp).where(and(eq(caughtUp.tenant, tenant), eq(caughtUp.epoch, epoch)));
      return new Set(rows.map((r) => r.adapter));
    },
    /** Records that the adapter's catch-up, begun at `epoch`, left no enrolled citizen unpulled. */
    caughtUpStatement(tenant: string, adapter: string, epoch: number, at: string): Statement {
      return db.insert(caughtUp).values({ tenant, adapter, epoch, at }).onConflictDoUpdate({ target: [caughtUp.tenant, caughtUp.adapter], set: { epoch, at } });
    },
    /** Where each of these adapters' catch-up goes on (the first citizen id not yet looked at; '' where none was kept). */
    async catchUpPositions(tenant: string, adapters: readonly string[]): Promise<Map<string, string>> {
      if (adapters.length === 0) return new Map();
      const rows = await db.select({ adapter: catchUpPositions.adapter, resumeFrom: catchUpPositions.resumeFrom }).from(catchUpPositions).where(and(eq(catchUpPositions.tenant, tenant), inList(catchUpPositions.adapter, adapters)));
      return new Map(adapters.map((adapter) => [adapter, rows.find((r) => r.adapter === adapter)?.resumeFrom ?? '']));
    },
    catchUpPositionStatement(tenant: string, adapter: string, resumeFrom: string, at: string): Statement {
      return db
        .insert(catchUpPositions)
        .values({ tenant, adapter, resumeFrom, updatedAt: at })
        .onConflictDoUpdate({ target: [catchUpPositions.tenant, catchUpPositions.adapter], set: { resumeFrom, updatedAt: at } });
    },
    /** Retention (R16): drop stored payload bodies of quarantined records older than `before`, noting when (`at`). */
    /**
     * A page of the records (per citizen and source) that have marks of more than one version, after
     * `after` in key order: each with all its marked versions. What retention reads to drop the marks
     * of versions a newer one replaced (`deleteMarksStatement`); walks the marks' own key.
     */
    async recordsMarkedMoreThanOnce(tenant: string, after: MarkedRecordKey | null, limit: number): Promise<(MarkedRecordKey & { versions: string[] })[]> {
      const rows = await db
        .select({ citizenId: appliedRecords.citizenId, source: appliedRecords.source, recordId: appliedRecords.recordId, versions: sql<string>`json_group_array(${appliedRecords.recordVersion})` })
        .from(appliedRecords)
        .where(and(eq(appliedRecords.tenant, tenant), after ? sql`(${appliedRecords.citizenId}, ${appliedRecords.source}, ${appliedRecords.recordId}) > (${after.citizenId}, ${after.source}, ${after.recordId})` : undefined))
        .groupBy(appliedRecords.citizenId, appliedRecords.source, appliedRecords.recordId)
        .having(sql`count(*) > 1`)
        .orderBy(appliedRecords.citizenId, appliedRecords.source, appliedRecords.recordId)
        .limit(limit);
      return rows.map((r) => ({ citizenId: r.citizenId, source: r.source, recordId: r.recordId, versions: JSON.parse(r.versions) as string[] }));
    },
    /** Deletes these marks, each by its whole key (the rows travel as one JSON parameter). */
    deleteMarksStatement(tenant: string, marks: readonly (MarkedRecordKey & { recordVersion: string })[]): Statement {
      const json = JSON.stringify(marks.map((m) => [m.citizenId, m.source, m.recordId, m.recordVersion]));
      return db
        .delete(appliedRecords)
        .where(
          and(
            eq(appliedRecords.tenant, tenant),
            sql`(${appliedRecords.citizenId}, ${appliedRecords.source}, ${appliedRecords.recordId}, ${appliedRecords.recordVersion}) in (select json_extract(j.value, '$[0]'), json_extract(j.value, '$[1]'), json_extract(j.value, '$[2]'), json_extract(j.value, '$[3]') from json_each(${json}) as j)`,
          ),
        );
    },
    /**
     * Deletes up to `limit` quarantine entries resolved (dismissed, retried or superseded) before
     * `before`: operational history like a finished run (RETENTION_SYNC_RUN_DAYS). Open ones stay
     * until someone resolves them. Answers how many went.
     */
    async deleteResolvedQuarantine(tenant: string, before: string, limit: number): Promise<number> {
      const page = db
        .select({ id: quarantine.id })
        .from(quarantine)
        .where(and(eq(quarantine.tenant, tenant), lt(quarantine.createdAt, before), lt(quarantine.resolvedAt, before)))
        .limit(limit);
      const gone = await db.delete(quarantine).where(and(eq(quarantine.tenant, tenant), inArray(quarantine.id, page))).returning({ id: quarantine.id });
      return gone.length;
    },
    async pruneQuarantinePayloads(tenant: string, before: string, at: string): Promise<number> {
      const result = await db
        .update(quarantine)
        .set({ raw: null, rawPrunedAt: at })
        .where(and(eq(quarantine.tenant, tenant), lt(quarantine.createdAt, before), sql`${quarantine.raw} is not null`))
        .returning({ id: quarantine.id });
      return result.length;
    },
  };
}
export type SyncRepository = ReturnType<typeof syncRepository>;
