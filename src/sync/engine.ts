/**
 * The pull engine (issue 4). For one tenant and one or more adapters (a round):
 *  1. catch-up: every enrolled citizen (plan accepted or active, R12) not yet pulled from this
 *     adapter is pulled in full — looked for only if the enrolment epoch moved since the adapter's
 *     last complete catch-up (migration 0004), so a run's cost follows the changes, not the population;
 *     one cut short by the run's bound goes on next run where it stopped (migration 0023), wrapping round;
 *  2. the change feed is followed from the stored cursor (a first run starts it where its catch-up
 *     started, not at the source's beginning), one page at a time: notices about
 *     citizens who are not enrolled are dropped unread, notices of record versions already merged
 *     are dropped, the rest of the citizens are pulled again; a record the source deleted outright is
 *     found by the marks of what was merged (in part too) and merged as a whole record that yields nothing;
 *  3. each record is mapped (or quarantined with a reason), each fragment passes the consent gate
 *     (or is refused and counted; a source's own refusal to share — the region's Consent — counts
 *     too, and takes out what flowed on it: src/consent/regional.ts), and the fragments of all the
 *     round's adapters are merged into the citizen's plans at once — one read and one write of a
 *     plan per chunk, not one per source;
 *  4. the plan, the merged-record marks and the quarantine rows are written in one batch; the
 *     cursor moves only after a page is durably merged. A crash re-reads; the marks stop a record
 *     version from being applied twice.
 * Citizens are pulled in batches (`pullMany`) where the adapter offers it, and one by one otherwise
 * or when a batch fails, so one bad citizen cannot hold back the others.
 * Every consent decision is audited (`data.flowed` / `data.refused`), before the data is merged.
 */
import { AdapterError, unknownSubjectCodes, type PullResult, type PullSubject, type SourceAdapter, type SourceRecord } from '../../adapters/adapter';
import { countMapping, emptyStats, mapRecord, type MappingStats } from '../../mappings/mapping';
import { adaptersOf, type AppDeps } from '../api/context';
import { decideFlowIntoPlan, type PlanFlowDecision } from '../consent/policy';
import { regionalConsentRecordTypes, regionalSharingOf, type RegionalSay } from '../consent/regional';
import { removeWithdrawnSourceData } from '../consent/revocation';
import { removeDataOfGrant } from '../consent/service';
import type { ConsentGrant, DataCategory, Department, LegalBasisRecord, SourceSystem } from '../model';
import { membersOf } from '../model';
import { ruleSetVersion } from '../rules';
import type { AuditEntry } from '../store';
import type { Statement } from '../store/db';
import { compareAsStored } from '../store/query';
import type { CitizenRow } from '../store/citizens';
import type { RegionalRefusal } from '../store/regional-consents';
import { sourceSayChangeStatements, withSourceSay, type SourceSayChange } from '../subscriptions/sharing-events';
import type { QuarantineRow } from '../store/sync';
import { isLostWriteAbort } from '../store/write-guard';
import { redactCpr } from '../security/redact';
import { danishToday } from '../views/danish';
import { compareVersions, heldKey, mergeFragments, type MergeInput, type MergeOutcome, type RecordReadWhole } from './merge';
import { READ_AGAIN_TRIGGER, readAgainSoon } from './on-demand';
import type { PulledRecord } from './pull-worker';
import type { MappingRegistry } from './registry';
import { supersededQuarantine, type MergedRecord } from './superseded';

export interface SyncStats {
  mode: 'catch-up+feed';
  citizensPulled: number;
  citizensUnknownAtSource: number;
  changeNotices: number;
  noticesNotEnrolled: number;
  noticesAlreadyMerged: number;
  recordsRead: number;
  recordsSkippedAsMerged: number;
  recordsMerged: number;
  quarantined: number;
  refusedByConsent: number;
  /** References to elements the plan does not hold (e.g. a goal refused by consent), left out of the merged element. */
  referencesUnresolved: number;
  /** Records whose merge would have broken the plan: quarantined with the reason, the citizen's other sources and the chunk going on. */
  mergeFailures: number;
  elementsAdded: number;
  elementsUpdated: number;
  /** Source entries taken off elements because the record's newer version no longer yields them (and elements left with none removed). */
  elementsWithdrawn: number;
  conflicts: number;
  pullErrors: number;
  /** Batch pulls that failed as a whole and were pulled one by one instead. */
  batchFallbacks: number;
  /** Whether this run looked for never-pulled citizens of this adapter: only when the enrolment epoch moved since its last complete catch-up. */
  catchUpSearched: boolean;
  /** Whether the round's `maxCitizensPerRun` ran out before this adapter's catch-up or feed was done, leaving the rest to the next run. */
  stoppedAtLimit: boolean;
  /** Wall time of the catch-up (shared by the round's adapters) and of this adapter's change feed. */
  catchUpMs: number;
  feedMs: number;
  mappings: Record<string, MappingStats>;
}

export interface SyncRoundOptions {
  tenant: string;
  adapters: readonly SourceSystem[];
  trigger: string;
  mappings: MappingRegistry;
  /** How many single pulls run at once (adapters without `pullMany`, or after a failed batch). Default 16. */
  concurrency?: number;
  /** Citizens merged per batch (one plan write each, one atomic batch per chunk). Default 100: a full batch pull. */
  chunkSize?: number;
  /** Chunks in flight at once: one pulling while another writes. Default 3. */
  chunksInFlight?: number;
  /** Never-pulled citizens (rows of citizen and plan) the catch-up reads per adapter at a time (a page of chunks). Default 5,000. */
  catchUpPageSize?: number;
  pageSize?: number;
  /**
   * At most this many citizens per round, the catch-up and all the adapters' feeds together, shared
   * out evenly among those that want more (see the round below); what is left waits for the next run
   * (a catch-up cut short is not complete; a feed's cursor passes only what it merged, a page
   * holding more being read again shorter). For runtimes that bound the work of one invocation
   * (Workers: D1 allows 1,000 queries per invocation). Unbounded by default.
   */
  maxCitizensPerRun?: number;
  /**
   * A first catch-up (no cursor yet) starts the feed this long before it began, so changes made
   * while it ran are read again rather than missed, allowing for that much clock skew between the
   * source and us. Only for adapters whose feed can be positioned by time (`cursorAt`).
   */
  feedStartMarginMs?: number;
  /** Test hook: called after a batch is built and before it is written. */
  beforeWrite?: (statements: Statement[]) => Promise<void> | void;
}

export interface SyncOptions extends Omit<SyncRoundOptions, 'adapters'> {
  adapter: SourceSystem;
}

export interface SyncRunResult {
  adapter: SourceSystem;
  runId: string;
  status: 'succeeded' | 'failed';
  stats: SyncStats;
  error?: string;
}

interface EnrolledCitizen {
  citizenId: string;
  planIds: string[];
}

/** One adapter's part of a round: its own run record, stats and outcome. */
interface AdapterRun {
  id: SourceSystem;
  adapter: SourceAdapter;
  runId: string;
  stats: SyncStats;
  error?: string;
}

/** A citizen and the adapters to pull them from in this chunk. */
interface ChunkItem {
  citizen: EnrolledCitizen;
  runs: AdapterRun[];
  /** For a change-feed pull: the feed position before the notices, so only what changed after it is read. */
  since?: string | null;
  /** The citizen's row and CPR where the caller has them already (a feed notice names the CPR), so the chunk need not read and decrypt them again. */
  known?: { row: CitizenRow; cpr: string };
  /** For a change-feed pull: the citizen's records the feed reports deleted at the source, read as whole records that yield nothing. */
  deleted?: { system: SourceSystem; recordId: string; version: string }[];
}

/** What a failed feed pull stands in for when the citizen has deletions to merge: nothing read, so nothing else is judged. */
const NOTHING_READ: PullResult = Object.freeze({ records: [], quarantined: [] }) as PullResult;

const actor = (adapter: string) => `sync-job:${adapter}`;
/**
 * Whether the item's pull read the citizen in full (catch-up, or a feed with no position yet), so
 * the citizen counts as pulled from there. A feed pull reads only what changed since its position:
 * marking it would let a citizen whose catch-up pull failed skip their earlier records for good.
 */
const readInFull = (item: ChunkItem) => item.since == null;
/** Whether the item is a change-feed notice's (with the feed's position, if any), not the catch-up's. */
const fromFeed = (item: ChunkItem) => item.since !== undefined;

/**
 * A record as a quarantine row keeps it: its payload; or, for one a pull worker mapped and sent
 * without its payload (a merge that failed), what it was mapped to — a retry reads the source again.
 */
export function rawOf(record: SourceRecord): string {
  const { payloadJson, premapped } = record as PulledRecord;
  if (payloadJson !== undefined) return payloadJson;
  if (premapped?.result.ok) return JSON.stringify({ recordType: record.recordType, recordId: record.recordId, version: record.version, mappedBy: `${premapped.mappingId}@${premapped.mappingVersion}`, fragments: premapped.result.fragments });
  return JSON.stringify(record.payload);
}
/** How much of a quarantined record's payload is kept (src/sync/quarantine.ts says when one may have been cut). */
export const RAW_LIMIT = 4000;
const pullKey = (adapter: string, citizenId: string) => `${adapter}\u0000${citizenId}`;

/** Runs `work` over `items` with at most `limit` in flight. */
async function inParallel<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await work(items[next++]!);
  });
  await Promise.all(workers);
}

/** Splits `total` evenly among `parts`; what does not divide evenly goes one each to the first parts. */
function shareOut<T>(total: number, parts: readonly T[]): Map<T, number> {
  const each = Math.floor(total / parts.length);
  const rest = Number.isFinite(total) ? total - each * parts.length : 0;
  return new Map(parts.map((part, i) => [part, each + (i < rest ? 1 : 0)]));
}

const emptySyncStats = (): SyncStats => ({
  mode: 'catch-up+feed',
  citizensPulled: 0,
  citizensUnknownAtSource: 0,
  changeNotices: 0,
  noticesNotEnrolled: 0,
  noticesAlreadyMerged: 0,
  recordsRead: 0,
  recordsSkippedAsMerged: 0,
  recordsMerged: 0,
  quarantined: 0,
  refusedByConsent: 0,
  referencesUnresolved: 0,
  mergeFailures: 0,
  elementsAdded: 0,
  elementsUpdated: 0,
  elementsWithdrawn: 0,
  conflicts: 0,
  pullErrors: 0,
  batchFallbacks: 0,
  catchUpSearched: false,
  stoppedAtLimit: false,
  catchUpMs: 0,
  feedMs: 0,
  mappings: {},
});

/**
 * A run not owned by a Node process (which ends its own at start) still "running" after this long
 * was cut off: a Workers invocation (Cron Trigger, queue consumer) ends within 15 minutes.
 */
const RUN_OUTLIVES_INVOCATION_MS = 60 * 60_000;
const STALE_RUN_ERROR = 'interrupted: still "running" an hour after it started, longer than an invocation may last, so it was cut off (a crash, a time or query limit) before it recorded an outcome. What it merged stays merged; the next run goes on from there.';

/** One adapter's sync: a round of one. */
export async function runSync(deps: AppDeps, options: SyncOptions): Promise<SyncRunResult> {
  const { adapter, ...rest } = options;
  const [result] = await runSyncRound(deps, { ...rest, adapters: [adapter] });
  return result!;
}

/**
 * Several adapters' syncs as one round: each adapter keeps its own run record, cursor and stats,
 * but a citizen's records from all of them are merged into the plan together.
 */
export async function runSyncRound(deps: AppDeps, options: SyncRoundOptions): Promise<SyncRunResult[]> {
  const { store, vault, clock } = deps;
  const { tenant } = options;
  const runs: AdapterRun[] = options.adapters.map((id) => {
    const adapter = adaptersOf(deps, tenant)[id];
    if (!adapter) throw new Error(`no adapter configured for ${id}`);
    return { id, adapter, runId: crypto.randomUUID(), stats: emptySyncStats() };
  });
  const now = () => clock.now().toISOString();
  // Where no process can be asked whether it still runs (Workers), a run "running" for longer than
  // any invocation lasts was cut off: ended as interrupted, or it would show under way for ever.
  await store.batch([store.sync.interruptStaleRunsStatement(tenant, options.adapters, new Date(clock.now().getTime() - RUN_OUTLIVES_INVOCATION_MS).toISOString(), now(), STALE_RUN_ERROR)]);
  // Sources with open quarantine entries, as the round starts and as it quarantines: only their merged
  // records are looked up to close entries as superseded (a healthy source has none, and is spared a
  // query per chunk). An entry another process makes meanwhile is left to IT staff.
  const mayHaveOpenQuarantine = await store.sync.adaptersWithOpenQuarantine(tenant);
  for (const run of runs) await store.sync.startRun({ id: run.runId, tenant, adapter: run.id, trigger: options.trigger, startedAt: now(), stats: {}, owner: deps.runOwner ?? null });

  /** Sources to read again once the round is done: an element left a plan with another writer's words (decision 0026). */
  const readAgainAfterRound = new Set<SourceSystem>();
  const statsFor = (run: AdapterRun, mappingId: string, version: string) => (run.stats.mappings[mappingId] ??= emptyStats({ id: mappingId, version }));
  /**
   * A quarantine row; the payload is personal data (a CPR number, health details), so it is stored
   * encrypted. (A row, not a statement: a drizzle query is thenable, so a promise of one would run it.)
   */
  const quarantineRow = async (run: AdapterRun, recordType: string, recordId: string | null, mappingId: string | null, reason: string, raw: string, at: string, citizenId: string | null): Promise<QuarantineRow> => {
    mayHaveOpenQuarantine.add(run.id);
    const id = crypto.randomUUID();
    return { id, tenant, adapter: run.id, recordType, recordId, mappingId, reason, raw: raw ? await vault.sealPayload(raw.slice(0, RAW_LIMIT), { column: 'quarantine.raw', tenant, id }) : null, runId: run.runId, citizenId, createdAt: at };
  };

  /** Per record type of an adapter, the mapping this round runs (`id@version`), for pullers that map. */
  const mappedWith = new Map<SourceSystem, Record<string, string>>();
  const mappedWithFor = (adapter: SourceSystem) => {
    let named = mappedWith.get(adapter);
    if (!named) {
      named = {};
      for (const recordType of adaptersOf(deps, tenant)[adapter]?.describe().recordTypes ?? []) {
        const mapping = options.mappings.find(adapter, recordType);
        // The source's own Consent records are read here as well (regionalSharingOf): their payload must come back.
        if (mapping && regionalConsentRecordTypes[adapter] !== recordType) named[recordType] = `${mapping.id}@${mapping.version}`;
      }
      mappedWith.set(adapter, named);
    }
    return named;
  };

  /** Pulls these subjects from one adapter: in batches if it can, else (or if a batch fails) one by one. */
  async function pullFrom(run: AdapterRun, subjects: PullSubject[], since: string | null | undefined): Promise<Map<string, PullResult>> {
    if (run.adapter.pullMany && subjects.length > 1) {
      try {
        const results = await run.adapter.pullMany(subjects, { since, mappedWith: mappedWithFor(run.id) });
        // The contract promises a result for every subject; one left out is retried on a later run.
        run.stats.pullErrors += subjects.filter((s) => !results.has(s.citizenId)).length;
        return results;
      } catch (error) {
        run.stats.batchFallbacks++;
        deps.logger.warn('batch pull failed; pulling the citizens one by one', { tenant, adapter: run.id, citizens: subjects.length, error: error instanceof Error ? error.message : String(error) });
      }
    }
    const results = new Map<string, PullResult>();
    await inParallel(subjects, options.concurrency ?? 16, async (subject) => {
      try {
        results.set(subject.citizenId, await run.adapter.pull(subject, since));
      } catch (error) {
        // The source holds nothing for this citizen: a complete (empty) pull.
        if (error instanceof AdapterError && unknownSubjectCodes.has(error.code)) results.set(subject.citizenId, { records: [], quarantined: [], unknownAtSource: true });
        else {
          run.stats.pullErrors++;
          deps.logger.warn('pull failed', { tenant, adapter: run.id, citizenId: subject.citizenId, error: error instanceof Error ? error.message : String(error) });
        }
      }
    });
    return results;
  }

  /** Counts what a citizen's merge did to one of their plans, for the sources it merged. */
  const countMerge = (parts: readonly { run: AdapterRun }[], outcome: MergeOutcome) => {
    for (const { run } of parts) {
      const counts = outcome.bySystem[run.id];
      if (!counts) continue;
      run.stats.elementsAdded += counts.added;
      run.stats.elementsUpdated += counts.updated;
      run.stats.conflicts += counts.conflicts;
    }
    for (const gone of outcome.withdrawn) {
      const run = parts.find((p) => p.run.id === gone.system)?.run;
      if (run) run.stats.elementsWithdrawn++;
    }
    for (const reference of outcome.unresolvedReferences) {
      const run = parts.find((p) => p.run.id === reference.system)?.run;
      if (run) run.stats.referencesUnresolved++;
    }
  };

  /**
   * Pulls a chunk of citizens from the chunk's adapters and merges what may flow, with a handful of
   * queries for the whole chunk and one atomic batch. A source error for one citizen skips that
   * citizen at that source (not marked pulled, so it is retried) without failing the others.
   */
  async function syncChunk(items: ChunkItem[], attempt = 0, pulledBefore?: Map<string, PullResult>): Promise<void> {
    const first = !pulledBefore;
    const rows = new Map(items.flatMap((i) => (i.known ? [[i.citizen.citizenId, i.known.row] as const] : [])));
    for (const row of await store.citizens.getMany(tenant, items.filter((i) => !i.known).map((i) => i.citizen.citizenId))) rows.set(row.id, row);
    const present = items.filter((i) => rows.has(i.citizen.citizenId));
    let pulls: Map<string, PullResult>;
    if (pulledBefore) {
      // A retry after a lost plan race merges again what was already read; it does not read again.
      pulls = pulledBefore;
    } else {
      pulls = new Map();
      const cprs = new Map<string, string>();
      await Promise.all(
        present.map(async (i) => {
          const { citizenId } = i.citizen;
          try {
            cprs.set(citizenId, i.known?.cpr ?? (await vault.decrypt(rows.get(citizenId)!.cprCipher, { tenant, citizenId })));
          } catch (error) {
            // A ciphertext copied from another citizen's row (or under a key not configured): this
            // citizen is not pulled — never under another person's number — and counts as a failed
            // pull, so the catch-up is not done with them and the next run tries again.
            for (const run of i.runs) run.stats.pullErrors++;
            deps.logger.warn('a citizen’s CPR could not be read; not pulled', { tenant, citizenId, error: error instanceof Error ? error.message : String(error) });
          }
        }),
      );
      await Promise.all(
        runs.map(async (run) => {
          const mine = present.filter((i) => i.runs.includes(run) && cprs.has(i.citizen.citizenId));
          const subjects = mine.map((i) => ({ citizenId: i.citizen.citizenId, cpr: cprs.get(i.citizen.citizenId)! }));
          if (subjects.length === 0) return;
          // A chunk is either catch-up (no position: everything) or one feed page's citizens (one position).
          for (const [citizenId, result] of await pullFrom(run, subjects, mine[0]!.since)) pulls.set(pullKey(run.id, citizenId), result);
        }),
      );
    }
    const at = now();
    // The chunk's consent decisions are taken as of one moment, the one its audit entries carry.
    const decidedAt = new Date(at);
    const statements: Statement[] = [];
    /** Quarantine rows being built (their payloads are encrypted first); written with the chunk. */
    const quarantining: Promise<QuarantineRow>[] = [];
    /** (adapter, citizen) pairs read in full (`readInFull`), each with the plan whose write must win first. */
    const pulledPairs: { adapter: string; citizenId: string; planId: string | null }[] = [];

    // What each adapter returned for whom; citizens unknown at a source are done with it.
    const merging: { item: ChunkItem; run: AdapterRun; pulled: PullResult }[] = [];
    for (const item of present)
      for (const run of item.runs) {
        const pulled = pulls.get(pullKey(run.id, item.citizen.citizenId));
        if (!pulled) {
          // A deletion needs no read of what is there: it is merged even when the feed pull failed
          // (the catch-up that reads the citizen again next run cannot see what is gone).
          if (item.deleted?.some((d) => d.system === run.id)) merging.push({ item, run, pulled: NOTHING_READ });
          continue;
        }
        if (pulled.unknownAtSource) {
          if (first) run.stats.citizensUnknownAtSource++;
          if (readInFull(item)) pulledPairs.push({ adapter: run.id, citizenId: item.citizen.citizenId, planId: null });
          // The source no longer knows the citizen at all: what it deleted still comes out.
          if (item.deleted?.some((d) => d.system === run.id)) merging.push({ item, run, pulled: NOTHING_READ });
          continue;
        }
        if (first) run.stats.citizensPulled++;
        merging.push({ item, run, pulled });
      }
    const mergingCitizens = [...new Set(merging.map((m) => m.item.citizen.citizenId))];
    // A feed pull that failed (or was left out of a batch answer): the feed's cursor moves past the
    // change all the same, so the citizen must be read in full by the next run's catch-up. Forgetting
    // their mark, in this batch and so before the cursor moves, moves the enrolment epoch (migration
    // 0004): the catch-up looks again.
    if (first)
      for (const run of runs) {
        const failed = present.filter((i) => fromFeed(i) && i.runs.includes(run) && !pulls.has(pullKey(run.id, i.citizen.citizenId)));
        if (failed.length > 0) statements.push(store.sync.forgetPulledFromStatement(tenant, run.id, failed.map((i) => i.citizen.citizenId)));
      }

    const applied = new Set<string>();
    /** `source|citizen` for each citizen with any record of that source marked merged (one query per source, not one per citizen). */
    const withMarks = new Set<string>();
    /** `source|citizen|record` → the newest version marked, merged whole or in part: an older one read late is stale. */
    const newestMarked = new Map<string, string>();
    for (const run of runs) {
      const citizens = merging.filter((m) => m.run === run && m.pulled.records.length > 0).map((m) => m.item.citizen.citizenId);
      if (citizens.length === 0) continue;
      for (const mark of await store.sync.marksOfCitizens(tenant, run.id, citizens)) {
        const record = `${run.id}|${mark.citizenId}|${mark.recordId}`;
        const newest = newestMarked.get(record);
        if (newest === undefined || compareVersions(mark.recordVersion, newest) > 0) newestMarked.set(record, mark.recordVersion);
        if (!mark.complete) continue;
        withMarks.add(`${run.id}|${mark.citizenId}`);
        applied.add(`${run.id}|${mark.recordId}@${mark.recordVersion}`);
      }
    }
    /** `source|citizen` → the refusal of the source's own say recorded before this chunk, for sources that have a say: what this chunk's reads change. */
    const refusedBefore = new Map<string, RegionalRefusal>();
    for (const run of runs) {
      if (!regionalConsentRecordTypes[run.id]) continue;
      const citizens = merging.filter((m) => m.run === run && m.pulled !== NOTHING_READ).map((m) => m.item.citizen.citizenId);
      for (const refusal of await store.regionalConsents.refusalsOf(tenant, run.id, citizens)) refusedBefore.set(`${run.id}|${refusal.citizenId}`, refusal);
    }
    const consentsByCitizen = new Map<string, { grants: ConsentGrant[]; legalBases: LegalBasisRecord[] }>();
    for (const doc of await store.consents.forCitizens(tenant, mergingCitizens)) {
      const entry = consentsByCitizen.get(doc.citizenId) ?? { grants: [], legalBases: [] };
      if (doc.kind === 'grant') entry.grants.push(doc);
      else entry.legalBases.push(doc);
      consentsByCitizen.set(doc.citizenId, entry);
    }
    // What the targets hold for these citizens' elements of ours (one query for the chunk): a record
    // the relay put there for one of our elements is merged onto it, not added beside it (R17, R18).
    const heldOf = new Map<string, Map<string, string>>();
    for (const row of await store.heldElements.forCitizens(tenant, mergingCitizens)) {
      const held = heldOf.get(row.citizenId) ?? new Map<string, string>();
      held.set(heldKey(row.target as SourceSystem, row.targetElementId), row.elementId);
      heldOf.set(row.citizenId, held);
    }
    const planIds = [...new Set(merging.flatMap((m) => m.item.citizen.planIds))];
    const original = new Map((await store.plans.getMany(tenant, planIds)).map((p) => [p.id, p]));
    const working = new Map(original);
    const auditEntries: AuditEntry[] = [];
    /** The plan whose write an entry records: written only if that write wins, so a lost race logs nothing and the retry logs it once. */
    const ridesOn = new Map<AuditEntry, string>();
    /**
     * `planId`: the plan the record was merged into (and the citizen's others), kept with the mark; `writtenWith`: the plan write it goes with, if any;
     * `complete` false: merged in part, marked only as the citizen's.
     */
    const marks: { planId: string | null; writtenWith?: string | null; citizenId: string; source: SourceSystem; recordId: string; recordVersion: string; complete?: false }[] = [];
    /** Marks of records deleted at their source, forgotten with the plan write (if any) that took out what they said. */
    const forgotten: { source: SourceSystem; citizenId: string; recordIds: string[]; writtenWith: string | null }[] = [];
    /** Elements a merge renamed (`MergeOutcome.renamed`): what the targets hold for them, and the deliveries of them, follow with that plan's write. */
    const heldRenames: { citizenId: string; planId: string; from: string; to: string }[] = [];
    /** Records merged into a plan: their older open quarantine entries close with this batch (with that plan's write, if it changed). */
    const mergedRecords: (MergedRecord & { planId: string | null })[] = [];
    const flowedGrants = new Map<string, Set<string>>();
    /** Per citizen, the legal-basis records (R11) something flowed on in this chunk. */
    const flowedLegalBases = new Map<string, Set<string>>();
    /** The citizens who changed each plan in this chunk: if its write is lost, they are merged again. */
    const citizensOfPlan = new Map<string, ChunkItem[]>();
    /** What each merge did to each plan: counted once the chunk is written, for the citizens not merged again. */
    const mergeCounts: { item: ChunkItem; parts: { run: AdapterRun }[]; outcome: MergeOutcome }[] = [];

    /** Per source, the citizens whose remembered last day of a regional permit goes (one statement for the chunk). */
    const endsForgotten = new Map<SourceSystem, string[]>();
    /** Per source, the citizens whose recorded refusal goes (the source permits again, or says nothing): one statement for the chunk. */
    const refusalsLifted = new Map<SourceSystem, string[]>();
    /** Per source, the citizens whose say this chunk changes, for `plan.shared` / `plan.unshared` (decision 0014, session 24). */
    const sayChanges = new Map<SourceSystem, SourceSayChange[]>();
    /**
     * The source's say for the citizen as this chunk read it, kept where what runs between reads (the
     * subscription gate) can weigh it: a refusal recorded or lifted, only when it differs from what was.
     * `permitEnd` undefined: the remembered last day stays as it is.
     */
    const noteSay = (source: SourceSystem, citizen: ChunkItem['citizen'], refusal: RegionalRefusal | null, permitEnd?: { lastDay: string } | null) => {
      const before = refusedBefore.get(`${source}|${citizen.citizenId}`);
      if (refusal && !(before && before.recordId === refusal.recordId && before.recordVersion === refusal.recordVersion && before.reason === refusal.reason && (before.permitsFrom ?? null) === (refusal.permitsFrom ?? null)))
        statements.push(store.regionalConsents.refuseStatement(tenant, refusal, at));
      if (!refusal && before) refusalsLifted.set(source, [...(refusalsLifted.get(source) ?? []), citizen.citizenId]);
      if (!!refusal === !!before && (before?.permitsFrom ?? null) === (refusal?.permitsFrom ?? null)) return;
      const change: SourceSayChange = {
        citizenId: citizen.citizenId,
        planIds: citizen.planIds,
        // As it was told: a refusal of a permit whose first day has come stands until the nightly job or this read ends it.
        before: (says) => (before ? withSourceSay(says, source, { permitsFrom: null }) : says),
        after: (says) => withSourceSay(says, source, refusal ? { permitsFrom: refusal.permitsFrom ?? null } : null, permitEnd),
      };
      sayChanges.set(source, [...(sayChanges.get(source) ?? []), change]);
    };
    /** Per source, the citizens read in full again next run: an element of theirs left with another writer's words (`readAgain`). */
    const readAgainOf = new Map<SourceSystem, Set<string>>();
    const readAgain = (sources: readonly SourceSystem[], citizenId: string) => {
      for (const source of sources) readAgainOf.set(source, (readAgainOf.get(source) ?? new Set()).add(citizenId));
    };

    const byCitizen = new Map<string, { item: ChunkItem; parts: { run: AdapterRun; pulled: PullResult }[] }>();
    for (const m of merging) {
      const entry = byCitizen.get(m.item.citizen.citizenId) ?? { item: m.item, parts: [] };
      entry.parts.push({ run: m.run, pulled: m.pulled });
      byCitizen.set(m.item.citizen.citizenId, entry);
    }

    for (const { item, parts } of byCitizen.values()) {
      const { citizen } = item;
      const row = rows.get(citizen.citizenId)!;
      const { grants, legalBases } = consentsByCitizen.get(citizen.citizenId) ?? { grants: [], legalBases: [] };
      // The source's own say on sharing with the municipality (the region's current Consent, read on
      // every pull): where it does not permit, what flowed from it on the citizen's grants leaves the
      // plans now, as on a revocation (R10) — whatever becomes of the merge below.
      const sharingOf = new Map<AdapterRun, RegionalSay>();
      for (const { run, pulled } of parts) {
        if (pulled === NOTHING_READ) continue;
        const sharing = regionalSharingOf(run.id, pulled.records, decidedAt, tenant, pulled.quarantined);
        if (sharing && 'unreadable' in sharing) {
          // A Consent of the region's we cannot read: new flows are refused below (health fails closed),
          // but it is not the citizen's withdrawal, so what flowed stays — marks and a remembered last day too.
          sharingOf.set(run, sharing);
          noteSay(run.id, citizen, { citizenId: citizen.citizenId, source: run.id, recordId: sharing.recordId, recordVersion: null, reason: sharing.reason });
          continue;
        }
        if (regionalConsentRecordTypes[run.id])
          noteSay(
            run.id,
            citizen,
            sharing && !sharing.permits ? { citizenId: citizen.citizenId, source: run.id, recordId: sharing.recordId, recordVersion: sharing.version, reason: sharing.reason ?? 'the region does not permit sharing', permitsFrom: sharing.permitsFrom ?? null } : null,
            sharing?.permits && sharing.lastDay ? { lastDay: sharing.lastDay } : null,
          );
        // A permit with a last day is remembered, so the nightly job ends it on time with no change at
        // the source; any other say forgets it. An unchanged (already merged) permit costs no write.
        const unchanged = !!sharing && applied.has(`${run.id}|${sharing.recordId}@${sharing.version}`);
        if (sharing?.permits && sharing.lastDay) {
          if (!unchanged) statements.push(store.regionalConsents.rememberStatement(tenant, { citizenId: citizen.citizenId, source: run.id, recordId: sharing.recordId, recordVersion: sharing.version, lastDay: sharing.lastDay }, at));
        } else if (regionalConsentRecordTypes[run.id] && !(sharing?.permits && unchanged)) endsForgotten.set(run.id, [...(endsForgotten.get(run.id) ?? []), citizen.citizenId]);
        if (!sharing) continue;
        sharingOf.set(run, sharing);
        if (!sharing.permits) {
          for (const planId of citizen.planIds) {
            const plan = working.get(planId);
            if (!plan) continue;
            const outcome = removeWithdrawnSourceData(plan, { system: run.id, citizenId: citizen.citizenId, birthDate: row.birthDate, at: decidedAt, grants, legalBases });
            if (!outcome.changed) continue;
            working.set(planId, outcome.plan);
            citizensOfPlan.set(planId, [...(citizensOfPlan.get(planId) ?? []), item]);
            readAgain(outcome.readAgain, citizen.citizenId);
            const removal: AuditEntry = {
              at, actor: actor(run.id), action: 'plan.consent-data-removed', targetType: 'plan', targetId: planId, citizenId: citizen.citizenId,
              detail: {
                source: run.id, regionalConsent: { recordId: sharing.recordId, version: sharing.version, status: sharing.status }, reason: sharing.reason,
                removedElements: outcome.removed.map((r) => r.id), keptElements: outcome.kept.map((k) => k.id), provenanceRepointed: outcome.repointed, provenanceDropped: outcome.dropped,
                detachedFollowUps: outcome.detachedFollowUps, droppedConflicts: outcome.droppedConflicts, runId: run.runId,
              },
            };
            auditEntries.push(removal);
            ridesOn.set(removal, planId);
          }
          // Nothing from the source stays merged for the citizen, so its marks stop counting as merged
          // (after this batch's own; they stay as the citizen's, for deletions): a record is merged
          // again once the region permits.
          statements.push(store.sync.forgetAppliedStatement(tenant, run.id, citizen.citizenId));
        } else if (fromFeed(item) && item.since != null) {
          // A permit after a refusal, or after a Consent we could not read held new flows back (its
          // quarantine entries still open): a feed pull reads only what changed since, so what was
          // refused flows on a full read — the next run's, as after a new grant of ours.
          const consentType = regionalConsentRecordTypes[run.id]!;
          const consents = pulled.records.filter((r) => r.recordType === consentType);
          const heldBackByUnreadable = async () => {
            if (!mayHaveOpenQuarantine.has(run.id)) return false;
            const ids = [...consents, ...pulled.quarantined].flatMap((r) => (r.recordType === consentType && r.recordId ? [r.recordId] : []));
            return (await store.sync.openQuarantineOfRecords(tenant, run.id, ids)).some((entry) => entry.recordType === consentType && entry.citizenId === citizen.citizenId);
          };
          if (consents.some((r) => !applied.has(`${run.id}|${r.recordId}@${r.version}`)) && (!withMarks.has(`${run.id}|${citizen.citizenId}`) || (await heldBackByUnreadable())))
            statements.push(store.sync.forgetPulledFromStatement(tenant, run.id, [citizen.citizenId]));
        }
      }
      const inputs: Omit<MergeInput, 'memberId'>[] = [];
      const mergeable: { run: AdapterRun; record: SourceRecord; mappingId: string; mappingVersion: string; refusedAny: boolean }[] = [];
      // Where this citizen's audit entries start: a merge that fails takes back the flows it recorded.
      const auditStart = auditEntries.length;

      for (const { run, pulled } of parts) {
        const { stats } = run;
        // On a retry the first pass has already counted the reads and stored the quarantined records.
        if (first) {
          stats.recordsRead += pulled.records.length + pulled.quarantined.length;
          for (const bad of pulled.quarantined) {
            stats.quarantined++;
            quarantining.push(quarantineRow(run, bad.recordType, bad.recordId, null, bad.reason, bad.raw, at, citizen.citizenId));
          }
        }
        // Not merged again: a version merged whole, and a version older than one marked (read late, from
        // a lagging replica say: with what the newer one took back gone from the plan, and the older one's
        // mark dropped by retention, nothing else would tell it is old; decision 0003, "Later … session 21").
        const olderThanMarked = (r: SourceRecord) => {
          const newest = newestMarked.get(`${run.id}|${citizen.citizenId}|${r.recordId}`);
          return newest !== undefined && compareVersions(r.version, newest) < 0;
        };
        const fresh = pulled.records.filter((r) => !applied.has(`${run.id}|${r.recordId}@${r.version}`) && !olderThanMarked(r));
        if (first) stats.recordsSkippedAsMerged += pulled.records.length - fresh.length;
        // Flows of records that hold anonymous treatment (SEL § 101 a) are recorded apart and marked,
        // so a log shown to anyone but the citizen (a custody holder) can leave them out (R4).
        const flowed = new Map<string, { categories: Set<DataCategory>; refs: Set<string>; basis: string; legalBasis?: string; inform?: boolean; anonymousTreatment: boolean; audience?: Department[] }>();
        // One decision per category for this citizen and source: the question differs in nothing else.
        const decided = new Map<DataCategory, PlanFlowDecision>();
        const refused = new Map<string, { category: DataCategory; reason: string; anonymousTreatment: boolean }>();
        // Where the source does not permit sharing, the citizen's grants for it carry nothing; a legal basis (R11) still may.
        const sharing = sharingOf.get(run);
        const refusedAtSource = sharing && !sharing.permits ? sharing : undefined;
        const gateGrants = refusedAtSource ? grants.filter((g) => g.source !== run.id) : grants;

        for (const record of fresh) {
          const mapping = options.mappings.find(run.id, record.recordType);
          const { premapped } = record as PulledRecord;
          const unmergeable = (mappingId: string | null, reason: string) => {
            stats.quarantined++;
            quarantining.push(quarantineRow(run, record.recordType, record.recordId, mappingId, reason, rawOf(record), at, citizen.citizenId));
            // The broken version is marked so it is not quarantined again; a corrected version is new.
            marks.push({ planId: null, citizenId: citizen.citizenId, source: run.id, recordId: record.recordId, recordVersion: record.version });
          };
          if (!mapping) {
            unmergeable(null, `no mapping for record type ${record.recordType}`);
            continue;
          }
          // A pull worker has mapped the record already, if with this very mapping.
          const result = premapped && premapped.mappingId === mapping.id && premapped.mappingVersion === mapping.version ? premapped.result : mapRecord(mapping, record.payload, { now: at, ruleVersion: ruleSetVersion }, { checkedByAdapter: true });
          // A retry maps (and decides) again records its first pass counted.
          if (first) countMapping(statsFor(run, mapping.id, mapping.version), result);
          if (!result.ok) {
            unmergeable(mapping.id, `${result.ruleId}: ${result.reason}`);
            continue;
          }
          let refusedAny = false;
          const anonymousTreatment = result.fragments.some((f) => f.kind === 'intervention' && f.content.confidentiality === 'anonymous-treatment');
          for (const fragment of result.fragments) {
            let decision = decided.get(fragment.category);
            if (!decision) {
              decision = decideFlowIntoPlan({ citizenId: citizen.citizenId, birthDate: row.birthDate, source: run.id, category: fragment.category, at: decidedAt }, gateGrants, legalBases);
              if (!decision.allowed && refusedAtSource?.reason) decision = { allowed: false, reason: refusedAtSource.reason };
              decided.set(fragment.category, decision);
            }
            if (!decision.allowed) {
              if (first) stats.refusedByConsent++;
              refused.set(`${anonymousTreatment}|${fragment.category}`, { category: fragment.category, reason: decision.reason, anonymousTreatment });
              refusedAny = true;
              continue;
            }
            const consentRef = decision.basis === 'consent' ? decision.grantIds[0] : decision.recordId;
            // Departments that got it on different bases are logged each on its own (R11, R13).
            const parts = decision.byDepartment?.map((part) => ({ audience: [part.department], decision: part.decision })) ?? [{ audience: decision.audience, decision }];
            for (const { audience, decision: own } of parts) {
              const key = `${anonymousTreatment}|${own.basis === 'consent' ? 'consent' : `legal:${own.recordId}`}|${audience ?? ''}`;
              const flow = flowed.get(key) ?? { categories: new Set(), refs: new Set(), basis: own.basis, anonymousTreatment, ...(audience ? { audience } : {}) };
              flow.categories.add(fragment.category);
              if (own.basis === 'consent') own.grantIds.forEach((g) => flow.refs.add(g));
              else {
                flow.refs.add(own.recordId);
                flow.legalBasis = own.legalBasis;
                flow.inform = own.informCitizen;
              }
              flowed.set(key, flow);
            }
            inputs.push({
              fragment,
              origin: { system: run.id, recordId: record.recordId, recordVersion: record.version, mappingId: mapping.id, mappingVersion: mapping.version, consentRef, category: fragment.category, ...(decision.audience ? { audience: decision.audience } : {}), ...(fragment.sequence ? { sequence: fragment.sequence } : {}) },
            });
          }
          mergeable.push({ run, record, mappingId: mapping.id, mappingVersion: mapping.version, refusedAny });
        }

        // A flow to named departments alone is logged once per department: the citizen's log names who got it.
        for (const flow of flowed.values())
          for (const recipient of flow.audience ?? ['enplan'])
            auditEntries.push({
              at, actor: actor(run.id), action: 'data.flowed', targetType: 'citizen', targetId: citizen.citizenId, citizenId: citizen.citizenId,
              detail: { source: run.id, recipient, categories: [...flow.categories].sort(), basis: flow.basis, consentRefs: [...flow.refs], ...(flow.legalBasis ? { legalBasis: flow.legalBasis, informCitizen: flow.inform } : {}), anonymousTreatment: flow.anonymousTreatment, runId: run.runId },
            });
        // One row per kind of reason (the reason less the category it names): the citizen is told why
        // of each category — health refused for want of consent is not "revoked" because another
        // category's grant was — and "no consent covers" four categories is still one row.
        const refusals = new Map<string, { categories: Set<DataCategory>; reasons: Set<string>; anonymousTreatment: boolean }>();
        for (const r of refused.values()) {
          const key = `${r.anonymousTreatment}|${r.reason.replace(r.category, '*')}`;
          const group = refusals.get(key) ?? { categories: new Set(), reasons: new Set(), anonymousTreatment: r.anonymousTreatment };
          group.categories.add(r.category);
          group.reasons.add(r.reason);
          refusals.set(key, group);
        }
        for (const { categories, reasons, anonymousTreatment } of refusals.values())
          auditEntries.push({
            at, actor: actor(run.id), action: 'data.refused', targetType: 'citizen', targetId: citizen.citizenId, citizenId: citizen.citizenId,
            detail: { source: run.id, recipient: 'enplan', categories: [...categories].sort(), reason: [...reasons].join('; '), anonymousTreatment, runId: run.runId },
          });
        const grantRefs = [...flowed.values()].flatMap((f) => (f.basis === 'consent' ? [...f.refs] : []));
        if (grantRefs.length > 0) flowedGrants.set(citizen.citizenId, new Set([...(flowedGrants.get(citizen.citizenId) ?? []), ...grantRefs]));
        const legalBasisRefs = [...flowed.values()].flatMap((f) => (f.basis === 'consent' ? [] : [...f.refs]));
        if (legalBasisRefs.length > 0) flowedLegalBases.set(citizen.citizenId, new Set([...(flowedLegalBases.get(citizen.citizenId) ?? []), ...legalBasisRefs]));
      }

      // A record's new version that no longer yields an element it did takes its word back from that
      // element (a Condition entered in error, a team ended) — unless consent kept part of it out. So
      // does the same version read by a newer version of its mapping, of what that no longer yields.
      const readWhole: RecordReadWhole[] = mergeable.filter((m) => !m.refusedAny).map(({ run, record, mappingId, mappingVersion }) => ({ system: run.id, recordId: record.recordId, recordVersion: record.version, mappingId, mappingVersion }));
      // A record deleted at its source is read whole and yields nothing: all it said comes off.
      if (item.deleted) for (const d of item.deleted) readWhole.push({ system: d.system, recordId: d.recordId, recordVersion: d.version });
      // The citizen's records folded into each of their enrolled plans; all or nothing for the citizen.
      const merged: { planId: string; outcome: MergeOutcome }[] = [];
      let mergeError: string | undefined;
      for (const planId of citizen.planIds) {
        const plan = working.get(planId);
        if (!plan) continue;
        const member = membersOf(plan).find((m) => m.citizenId === citizen.citizenId && !m.leftAt);
        if (!member) continue;
        try {
          merged.push({ planId, outcome: mergeFragments(plan, inputs.map((i) => ({ ...i, memberId: member.memberId })), { at, ruleVersion: ruleSetVersion, held: heldOf.get(citizen.citizenId), readWhole }) });
        } catch (error) {
          mergeError = error instanceof Error ? error.message : String(error);
          break;
        }
      }
      if (mergeError !== undefined) {
        // What would break the plan is quarantined with the reason (marked, so it is not quarantined
        // again; a corrected version is new); the chunk's other citizens are merged as usual. Nothing
        // flowed, but what consent refused was refused all the same: those rows stay.
        const refusals = auditEntries.slice(auditStart).filter((entry) => entry.action === 'data.refused');
        auditEntries.length = auditStart;
        auditEntries.push(...refusals);
        flowedGrants.delete(citizen.citizenId);
        flowedLegalBases.delete(citizen.citizenId);
        for (const { run, record, mappingId } of mergeable) {
          run.stats.quarantined++;
          run.stats.mergeFailures++;
          quarantining.push(quarantineRow(run, record.recordType, record.recordId, mappingId, `merge: ${redactCpr(mergeError)}`, rawOf(record), at, citizen.citizenId));
          marks.push({ planId: null, citizenId: citizen.citizenId, source: run.id, recordId: record.recordId, recordVersion: record.version });
        }
        if (readInFull(item)) for (const { run, pulled } of parts) if (pulled !== NOTHING_READ) pulledPairs.push({ adapter: run.id, citizenId: citizen.citizenId, planId: null });
        continue;
      }
      let mergedInto: string | null = null;
      const unresolvedRecords = new Set<string>();
      for (const { planId, outcome } of merged) {
        mergeCounts.push({ item, parts, outcome });
        readAgain(outcome.readAgain, citizen.citizenId);
        for (const reference of outcome.unresolvedReferences) unresolvedRecords.add(`${reference.system}|${reference.recordId}`);
        if (outcome.plan !== working.get(planId)) citizensOfPlan.set(planId, [...(citizensOfPlan.get(planId) ?? []), item]);
        working.set(planId, outcome.plan);
        mergedInto ??= planId;
        // What a source took its word back from leaves a trace in the log, as every removal from a plan
        // does (ids and record ids, no content): the document itself keeps no history.
        for (const { run } of parts) {
          const gone = outcome.withdrawn.filter((w) => w.system === run.id);
          if (gone.length > 0)
            auditEntries.push({
              at, actor: actor(run.id), action: 'plan.source-withdrew', targetType: 'plan', targetId: planId, citizenId: citizen.citizenId,
              detail: { source: run.id, removedElements: [...new Set(gone.filter((w) => w.removed).map((w) => w.elementId))], keptElements: [...new Set(gone.filter((w) => !w.removed).map((w) => w.elementId))], records: [...new Set(gone.map((w) => w.recordId))], runId: run.runId },
            });
          // An element a newer mapping named anew moved, with what hangs on it (ids only).
          const moved = outcome.renamed.filter((r) => r.system === run.id);
          if (moved.length > 0)
            auditEntries.push({
              at, actor: actor(run.id), action: 'plan.element-renamed', targetType: 'plan', targetId: planId, citizenId: citizen.citizenId,
              detail: { source: run.id, renamedElements: moved.map((r) => ({ from: r.from, to: r.to })), records: [...new Set(moved.map((r) => r.recordId))], runId: run.runId },
            });
        }
        for (const { from, to } of outcome.renamed) heldRenames.push({ citizenId: citizen.citizenId, planId, from, to });
      }
      // The citizen's flows, refusals and marks go with the write of the first plan of theirs this
      // chunk changed; every plan it changed for them is written with it or held back with it (below).
      // It changed none: the plans hold what the records carry already, and those go unguarded.
      const mergedWith = citizen.planIds.find((planId) => citizensOfPlan.get(planId)?.includes(item)) ?? null;
      if (mergedWith) for (const entry of auditEntries.slice(auditStart)) ridesOn.set(entry, mergedWith);
      // A record refused (even in part) is not marked merged, so a later consent lets it flow; nor is
      // one with references left out, so a later read merges it with them once they resolve. Merged
      // into a plan, it is marked as the citizen's all the same (not complete), with the same write:
      // a deletion at its source then finds whose it was and takes out what did flow.
      for (const { run, record, refusedAny } of mergeable)
        if (!refusedAny && !unresolvedRecords.has(`${run.id}|${record.recordId}`)) {
          marks.push({ planId: mergedInto, writtenWith: mergedWith, citizenId: citizen.citizenId, source: run.id, recordId: record.recordId, recordVersion: record.version });
          if (mergedInto) mergedRecords.push({ adapter: run.id, recordType: record.recordType, recordId: record.recordId, recordVersion: record.version, runId: run.runId, planId: mergedWith });
        } else if (mergedInto) marks.push({ planId: mergedInto, writtenWith: mergedWith, citizenId: citizen.citizenId, source: run.id, recordId: record.recordId, recordVersion: record.version, complete: false });
      if (readInFull(item)) for (const { run, pulled } of parts) if (pulled !== NOTHING_READ) pulledPairs.push({ adapter: run.id, citizenId: citizen.citizenId, planId: mergedWith });
      // The deleted records' marks go with the write that took them out: a record re-created under its id merges again.
      if (item.deleted) for (const { run } of parts) {
        const recordIds = item.deleted.filter((d) => d.system === run.id).map((d) => d.recordId);
        if (recordIds.length > 0) forgotten.push({ source: run.id, citizenId: citizen.citizenId, recordIds, writtenWith: mergedWith });
      }
    }

    // A plan that only lost what the source no longer permits (no merge after it) still holds its read
    // version: it is a new version all the same, so a concurrent writer of the version read loses, and
    // the write is an event to the systems the plan concerns.
    for (const [planId, plan] of working) {
      const read = original.get(planId)!;
      if (plan !== read && plan.version === read.version) working.set(planId, { ...plan, version: read.version + 1, updatedAt: at });
    }
    const changed = [...working.values()].filter((plan) => plan !== original.get(plan.id));
    // Each plan write has an id of its own: two chunks racing on one plan version (two feeds of a
    // round, in the same millisecond even) are told apart by it, and so are the marks that depend on it.
    const writeIds = new Map(changed.map((plan) => [plan.id, crypto.randomUUID()]));
    const writtenPlan = (planId: string | null) => {
      const written = planId ? working.get(planId) : undefined;
      return written && written !== original.get(written.id) ? written : undefined;
    };
    // Marks and first-pull marks go with the plan write they depend on: a lost race leaves neither.
    const planWrite = (planId: string | null) => {
      const written = writtenPlan(planId);
      return written ? { planWrite: { writeId: writeIds.get(written.id)! } } : {};
    };
    const markStatements = [
      ...store.sync.appliedManyStatements(tenant, at, marks.map((m) => ({ citizenId: m.citizenId, source: m.source, recordId: m.recordId, recordVersion: m.recordVersion, planId: m.planId ?? '-', ...planWrite(m.writtenWith ?? null), ...(m.complete === false ? { complete: false } : {}) }))),
      ...store.sync.pulledManyStatements(tenant, at, pulledPairs.map((p) => ({ adapter: p.adapter, citizenId: p.citizenId, ...(p.planId ? { planId: p.planId } : {}), ...planWrite(p.planId) }))),
      ...forgotten.map((f) => {
        const written = writtenPlan(f.writtenWith);
        return store.sync.forgetRecordsStatement(tenant, f.source, f.citizenId, f.recordIds, written ? { planId: written.id, writeId: writeIds.get(written.id)! } : undefined);
      }),
    ];
    for (const [source, citizenIds] of endsForgotten) statements.push(store.regionalConsents.forgetStatement(tenant, citizenIds, source));
    for (const [source, citizenIds] of refusalsLifted) statements.push(store.regionalConsents.liftRefusalsStatement(tenant, citizenIds, source));
    // Told before the plan writes that follow from the same say (as a revocation's plan.unshared precedes its clean-up).
    const sharingEvents: Statement[] = [];
    for (const [source, changes] of sayChanges) sharingEvents.push(...(await sourceSayChangeStatements(store, tenant, source, changes, decidedAt)));
    for (const { citizenId, planId, from, to } of heldRenames) {
      const written = writtenPlan(planId);
      if (!written) continue;
      const renamedBy = { planId, writeId: writeIds.get(planId)! };
      // And the plan's deliveries of it: the next change updates the record a target holds for it.
      statements.push(store.heldElements.renameStatement(tenant, citizenId, from, to, renamedBy), store.outbox.renameElementStatement(tenant, citizenId, planId, from, to, renamedBy));
    }
    // After this batch's marks: what they mark merged is merged anew, the citizen read in full.
    for (const [source, citizenIds] of readAgainOf) {
      readAgainAfterRound.add(source);
      statements.push(store.sync.forgetPulledFromStatement(tenant, source, [...citizenIds]));
      for (const citizenId of citizenIds) statements.push(store.sync.forgetAppliedStatement(tenant, source, citizenId));
    }
    for (const row of await Promise.all(quarantining)) statements.push(store.sync.quarantineStatement(row));
    const mayBeSuperseding = mergedRecords.filter((m) => mayHaveOpenQuarantine.has(m.adapter));
    const superseded = await supersededQuarantine(store, tenant, mayBeSuperseding.map(({ planId, ...m }) => (planId && writtenPlan(planId) ? { ...m, planWrite: { planId, writeId: writeIds.get(planId)! } } : m)), at, actor);
    statements.push(...superseded.statements);
    auditEntries.push(...superseded.auditEntries);
    for (const [entry, planId] of superseded.ridesOn) ridesOn.set(entry, planId);
    const updates = new Map(changed.map((plan) => [plan.id, store.plans.updateStatements(plan, original.get(plan.id)!.version, original.get(plan.id), writeIds.get(plan.id))]));
    const rest = [...markStatements, ...statements];
    await options.beforeWrite?.([...[...updates.values()].flat(), ...rest]);
    // The audit entries and what they record in one atomic batch: every merged flow is in the
    // citizen's log, and the log holds no flow that a crash kept from being merged (nor, after the
    // re-run, the same flow twice). The batch rolls back whole unless every plan write in it won, so
    // what goes with a write (marks, entries) never lands beside a lost one. When one is lost, the
    // batch goes again without it and without the other plans its citizens changed (and theirs in
    // turn): a citizen's records land in all their plans or none, and the retry below merges the
    // held-back citizens anew. The chain is hashed in order, so an entry cannot be left out inside
    // the batch; the entries that go with held-back writes are left out of the batch instead.
    const heldBack = new Set<string>();
    for (;;) {
      const writing = changed.filter((plan) => !heldBack.has(plan.id));
      const entries = auditEntries.filter((entry) => !heldBack.has(ridesOn.get(entry) ?? ''));
      const guard = writing.length > 0 ? store.plans.abortUnlessAllWonStatements(tenant, writing.map((plan) => ({ planId: plan.id, writeId: writeIds.get(plan.id)! }))) : [];
      try {
        await store.audit.appendMany(tenant, entries, [...sharingEvents, ...writing.flatMap((plan) => updates.get(plan.id)!), ...rest, ...guard]);
        break;
      } catch (error) {
        if (guard.length === 0 || !isLostWriteAbort(error)) throw error;
        const current = await store.plans.versions(tenant, writing.map((plan) => plan.id));
        const taken = writing.filter((plan) => current.get(plan.id)?.version !== original.get(plan.id)!.version);
        // Nothing taken by someone else after all: not a lost race this loop can step around.
        if (taken.length === 0) throw error;
        for (const plan of taken) heldBack.add(plan.id);
        for (const planId of heldBack)
          for (const item of citizensOfPlan.get(planId) ?? [])
            for (const other of item.citizen.planIds) if (citizensOfPlan.get(other)?.includes(item)) heldBack.add(other);
      }
    }

    // What was held back, or (past the guard) matched no row: those plans' citizens are merged again.
    const stored = await store.plans.versions(tenant, changed.map((p) => p.id));
    const lost = changed.filter((plan) => stored.get(plan.id)?.writeId !== writeIds.get(plan.id));
    const lostIds = new Set(lost.map((p) => p.id));
    const retry = [...new Set(lost.flatMap((p) => citizensOfPlan.get(p.id) ?? []))];
    for (const mark of marks) if (mark.planId && mark.complete !== false && !(mark.writtenWith && lostIds.has(mark.writtenWith))) runs.find((r) => r.id === mark.source)!.stats.recordsMerged++;
    // What a merge did to the plans counts once: here if it was written, else in the retry.
    for (const { item, parts, outcome } of mergeCounts) if (!retry.includes(item)) countMerge(parts, outcome);
    // A grant revoked, or run out (its last day a Danish calendar day), while these citizens were being merged: remove what flowed on it (R9, R10, S3).
    if (flowedGrants.size > 0) {
      const ids = [...new Set([...flowedGrants.values()].flatMap((set) => [...set]))];
      for (const grant of await store.consents.grantsEndedAmong(tenant, ids, danishToday(clock.now())))
        if (flowedGrants.get(grant.citizenId)?.has(grant.id)) await removeDataOfGrant(deps, tenant, grant.id, actor(grant.source));
    }
    // Likewise a legal basis ended (or past its last day: a Danish calendar day, as the policy counts) meanwhile: what rests on it alone leaves (R11, S3).
    if (flowedLegalBases.size > 0) {
      const ids = [...new Set([...flowedLegalBases.values()].flatMap((set) => [...set]))];
      for (const basis of await store.consents.legalBasesEndedAmong(tenant, ids, danishToday(clock.now())))
        if (flowedLegalBases.get(basis.citizenId)?.has(basis.id)) await removeDataOfGrant(deps, tenant, basis.id, actor(basis.source));
    }
    if (lost.length > 0) {
      if (attempt >= 3) throw new Error(`${lost.length} plan(s) kept changing during the merge`);
      await syncChunk(retry, attempt + 1, pulls);
    }
  }

  const chunked = async (items: ChunkItem[]) => {
    const size = options.chunkSize ?? 100;
    const chunks: ChunkItem[][] = [];
    for (let i = 0; i < items.length; i += size) chunks.push(items.slice(i, i + size));
    await inParallel(chunks, options.chunksInFlight ?? 3, (chunk) => syncChunk(chunk));
  };

  /**
   * One page of an adapter's feed as the run would take it: the citizens to pull (enrolled, with a
   * notice not merged yet), and for each of them the index of their first such notice on the page.
   */
  async function readFeedPage(run: AdapterRun, cursor: string | null, limit: number) {
    const page = await run.adapter.changes(cursor, limit);
    // The keyed hashes of each distinct CPR on the page (one per configured key: during a key
    // rotation a row may carry a retired key's); notices about citizens not enrolled are dropped unread (R12).
    const hashesOfCpr = new Map<string, string[]>();
    for (const notice of page.changes) if (!hashesOfCpr.has(notice.cpr)) hashesOfCpr.set(notice.cpr, await vault.lookupHashes(tenant, notice.cpr));
    const citizenRows = await store.citizens.findManyByCprHash(tenant, [...new Set([...hashesOfCpr.values()].flat())]);
    const idByHash = new Map(citizenRows.map((c) => [c.cprHash, c.id]));
    const citizenOfCpr = new Map<string, string>();
    for (const [cpr, hashes] of hashesOfCpr) {
      const id = hashes.map((h) => idByHash.get(h)).find((found) => found !== undefined);
      if (id !== undefined) citizenOfCpr.set(cpr, id);
    }
    const rowOf = new Map(citizenRows.map((c) => [c.id, c]));
    const cprOf = new Map<string, string>();
    // A deleted record names nobody: whose it was is known from the marks of what was merged.
    const deletions = page.deleted ?? [];
    const ownersOf = deletions.length > 0 ? await store.sync.citizensOfRecords(tenant, run.id, [...new Set(deletions.map((d) => d.recordId))]) : undefined;
    const enrolled = new Map<string, EnrolledCitizen>();
    const owners = ownersOf ? [...ownersOf.values()].flat() : [];
    for (const row of await store.plans.enrolledPlansOf(tenant, [...new Set([...citizenOfCpr.values(), ...owners])])) {
      const entry = enrolled.get(row.citizenId) ?? { citizenId: row.citizenId, planIds: [] };
      entry.planIds.push(row.planId);
      enrolled.set(row.citizenId, entry);
    }
    let notEnrolled = 0;
    const byCitizen = new Map<string, { index: number; recordId: string; version: string; deleted?: true }[]>();
    page.changes.forEach((notice, index) => {
      const citizenId = citizenOfCpr.get(notice.cpr);
      if (!citizenId || !enrolled.has(citizenId)) {
        notEnrolled++;
        return;
      }
      cprOf.set(citizenId, notice.cpr);
      const list = byCitizen.get(citizenId) ?? [];
      list.push({ index, recordId: notice.recordId, version: notice.version });
      byCitizen.set(citizenId, list);
    });
    // Deletions follow the page's notices; one of a record merged for nobody enrolled (or taken out already: its marks went) is dropped.
    deletions.forEach((deletion, i) => {
      const citizenIds = (ownersOf?.get(deletion.recordId) ?? []).filter((id) => enrolled.has(id));
      if (citizenIds.length === 0) notEnrolled++;
      for (const citizenId of citizenIds) {
        const list = byCitizen.get(citizenId) ?? [];
        list.push({ index: page.changes.length + i, recordId: deletion.recordId, version: deletion.version, deleted: true });
        byCitizen.set(citizenId, list);
      }
    });
    const toPull: { item: ChunkItem; firstUnseen: number }[] = [];
    let alreadyMerged = 0;
    const appliedOnPage = await store.sync.appliedVersions(tenant, run.id, [...byCitizen.keys()]);
    for (const [citizenId, notices] of byCitizen) {
      const unseen = notices.filter((n) => n.deleted || !appliedOnPage.has(`${n.recordId}@${n.version}`));
      alreadyMerged += notices.length - unseen.length;
      if (unseen.length === 0) continue;
      const row = rowOf.get(citizenId);
      const cpr = cprOf.get(citizenId);
      const deleted = deletions.length > 0 ? unseen.filter((n) => n.deleted).map((n) => ({ system: run.id, recordId: n.recordId, version: n.version })) : undefined;
      toPull.push({
        item: { citizen: enrolled.get(citizenId)!, runs: [run], since: cursor, ...(row && cpr ? { known: { row, cpr } } : {}), ...(deleted?.length ? { deleted } : {}) },
        firstUnseen: unseen[0]!.index,
      });
    }
    return { page, toPull, notEnrolled, alreadyMerged };
  }

  /**
   * Follows one adapter's change feed from its stored cursor, a page at a time, up to `budget`
   * citizens (its share of the round's). A page with more citizens to pull than the share has left is read
   * again shorter, ending before the first notice of the first citizen beyond it: the run
   * merges whole pages only, so the cursor never passes a change it did not merge, and the next pass
   * or run starts at the first one it left. Returns the citizens taken and whether the feed has more.
   */
  async function followFeed(run: AdapterRun, budget: number): Promise<{ taken: number; more: boolean }> {
    const { stats } = run;
    let cursor = await store.sync.cursor(tenant, run.id);
    let feedCitizens = 0;
    for (;;) {
      let limit = options.pageSize ?? 500;
      let read = await readFeedPage(run, cursor, limit);
      for (;;) {
        const left = budget - feedCitizens;
        if (read.toPull.length <= left) break;
        const shorter = read.toPull.map((p) => p.firstUnseen).sort((a, b) => a - b)[left]!;
        // A source that ignores the page size is taken a page at a time, as it answers.
        if (shorter >= limit) break;
        limit = shorter;
        read = await readFeedPage(run, cursor, limit);
      }
      const { page, toPull } = read;
      stats.changeNotices += page.changes.length + (page.deleted?.length ?? 0);
      stats.noticesNotEnrolled += read.notEnrolled;
      stats.noticesAlreadyMerged += read.alreadyMerged;
      // Notices that broke the source's contract: kept for IT staff, skipped by the feed.
      if (page.quarantined?.length) {
        const at = now();
        stats.quarantined += page.quarantined.length;
        const rows = await Promise.all(page.quarantined.map((bad) => quarantineRow(run, bad.recordType, bad.recordId, null, `change notice: ${bad.reason}`, bad.raw, at, null)));
        await store.batch(rows.map((row) => store.sync.quarantineStatement(row)));
      }
      await chunked(toPull.map((p) => p.item));
      feedCitizens += toPull.length;
      if (page.cursor !== null && page.cursor !== cursor) {
        cursor = page.cursor;
        await store.batch([store.sync.setCursorStatement(tenant, run.id, cursor, now())]);
      }
      if (!page.hasMore) return { taken: feedCitizens, more: false };
      if (feedCitizens >= budget) return { taken: feedCitizens, more: true };
    }
  }

  const failAll = (message: string) => {
    for (const run of runs) run.error ??= message;
  };
  try {
    // A feed never followed starts where this catch-up starts: the catch-up reads each enrolled
    // citizen's current state, so the source's history before it need not be replayed. A citizen
    // the catch-up misses is not marked pulled and is read in full on a later run.
    const feedStarts = new Map<AdapterRun, string>();
    const margin = options.feedStartMarginMs ?? 5 * 60_000;
    for (const run of runs)
      if (run.adapter.cursorAt && (await store.sync.cursor(tenant, run.id)) === null) feedStarts.set(run, run.adapter.cursorAt(new Date(clock.now().getTime() - margin)));
    // An adapter whose last catch-up left nobody unpulled, with no enrolment since (the epoch, moved
    // by triggers, has not changed), has nothing to catch up: it is not even looked for. The epoch
    // is read before the catch-up, so an enrolment while it runs makes the next run look again.
    const enrolmentEpoch = await store.sync.enrolmentEpoch(tenant);
    const caughtUpAlready = await store.sync.caughtUpAt(tenant, enrolmentEpoch);
    const catchingUp = runs.filter((run) => !caughtUpAlready.has(run.id));
    /** The catch-up's own failed pulls (the feeds count theirs in the same stats): one leaves it incomplete. */
    const catchUpPullErrors = new Map(catchingUp.map((run) => [run, 0]));
    for (const run of catchingUp) run.stats.catchUpSearched = true;
    // A catch-up cut short goes on next run where it stopped (kept per adapter; a round starts at the
    // earliest of its adapters'), wrapping round to the first id: citizens whose pull keeps failing
    // come first in id order, and a bounded run that always began there would spend its share on them.
    const positions = catchingUp.length > 0 ? await store.sync.catchUpPositions(tenant, catchingUp.map((run) => run.id)) : new Map<string, string>();
    const resumeFrom = [...positions.values()].sort(compareAsStored)[0] ?? '';
    let from = resumeFrom;
    /** Once wrapped round: the catch-up ends here, where it began (ids from here on were looked at). */
    let until: string | undefined;
    let catchUpDone = catchingUp.length === 0;
    /**
     * Catch-up: each citizen with the adapters that have never pulled them, all merged together.
     * Each adapter names its next never-pulled citizens (a page, in citizen id order); the page
     * covers ids up to where the shortest full answer ends, so within it every adapter's answer is
     * complete, and memory does not grow with the population. After an enrolment with nothing left
     * to catch up this is one pass of the enrolment index per adapter. Takes at most `limit` more
     * citizens, going on from where it stopped; returns how many it took.
     */
    const catchUp = async (limit: number): Promise<number> => {
      const started = performance.now();
      const errorsBefore = new Map(catchingUp.map((run) => [run, run.stats.pullErrors]));
      let taken = 0;
      while (!catchUpDone && taken < limit) {
        const pageOfCitizens = Math.min(options.catchUpPageSize ?? 5000, limit - taken);
        const answers = await Promise.all(catchingUp.map(async (run) => ({ run, rows: await store.plans.enrolledNotPulledFrom(tenant, run.id, from, pageOfCitizens) })));
        // Ids below `end` are complete in every answer: a full answer may stop inside its last citizen's rows.
        let end: string | undefined;
        for (const { rows } of answers) if (rows.length === pageOfCitizens) { const last = rows[rows.length - 1]!.citizenId; if (end === undefined || compareAsStored(last, end) < 0) end = last; }
        if (until !== undefined && (end === undefined || compareAsStored(end, until) > 0)) end = until;
        // One citizen with a page's worth of rows: take that citizen alone, all of their rows.
        const single = end === from;
        if (single) for (const answer of answers) answer.rows = await store.plans.enrolledNotPulled(tenant, answer.run.id, [from]);
        const catchUpOf = new Map<string, ChunkItem>();
        for (const { run, rows } of answers)
          for (const row of rows) {
            if (!single && end !== undefined && compareAsStored(row.citizenId, end) >= 0) break;
            const item = catchUpOf.get(row.citizenId) ?? { citizen: { citizenId: row.citizenId, planIds: [] }, runs: [] };
            if (!item.citizen.planIds.includes(row.planId)) item.citizen.planIds.push(row.planId);
            if (!item.runs.includes(run)) item.runs.push(run);
            catchUpOf.set(row.citizenId, item);
          }
        // Adapters due different citizens answer with different ones, so together they may name more
        // than the catch-up has left: the first of them in id order are taken, and the next pass or
        // run (the catch-up is then not complete) begins with the rest.
        let items = [...catchUpOf.values()];
        if (items.length > limit - taken) {
          items = items.sort((a, b) => compareAsStored(a.citizen.citizenId, b.citizen.citizenId));
          end = items[limit - taken]!.citizen.citizenId;
          items = items.slice(0, limit - taken);
        }
        await chunked(items);
        taken += items.length;
        if (end === undefined && until === undefined && resumeFrom !== '') {
          // Past the last id: round to the first, up to where this run began.
          from = '';
          until = resumeFrom;
          // The bound spent: one look (a citizen per adapter) tells whether anyone before the start is left, or it is complete.
          if (taken >= limit) {
            const before = await Promise.all(catchingUp.map((run) => store.plans.enrolledNotPulledFrom(tenant, run.id, '', 1)));
            if (before.every(([first]) => first === undefined || compareAsStored(first.citizenId, resumeFrom) >= 0)) catchUpDone = true;
          }
        } else if (end === undefined || end === until) catchUpDone = true;
        // Text is ordered by its bytes, so the next possible id after `from` is `from` + NUL.
        else from = single ? `${from}\u0000` : end;
      }
      for (const run of catchingUp) catchUpPullErrors.set(run, catchUpPullErrors.get(run)! + run.stats.pullErrors - errorsBefore.get(run)!);
      for (const run of runs) run.stats.catchUpMs += Math.round(performance.now() - started);
      return taken;
    };
    let feedsStarted = false;
    let catchUpRecorded = false;
    /**
     * The feeds' first cursors (before any feed is read) and, once the catch-up is done, what it
     * completed; at the round's end, where the catch-up goes on next run (the start, once it went all round).
     */
    const recordCatchUp = async (roundEnded = false) => {
      const statements: Statement[] = [];
      if (roundEnded) statements.push(...catchingUp.map((run) => store.sync.catchUpPositionStatement(tenant, run.id, catchUpDone ? '' : from, now())));
      if (!feedsStarted) statements.push(...[...feedStarts].map(([run, cursor]) => store.sync.setCursorStatement(tenant, run.id, cursor, now())));
      feedsStarted = true;
      // A catch-up without a failed pull left nobody behind at the epoch it began with (every citizen
      // it found is marked pulled, or merged-and-marked, by now; a failed pull is retried next run).
      if (catchUpDone && !catchUpRecorded) {
        catchUpRecorded = true;
        statements.push(...catchingUp.filter((run) => catchUpPullErrors.get(run) === 0).map((run) => store.sync.caughtUpStatement(tenant, run.id, enrolmentEpoch, now())));
      }
      if (statements.length > 0) await store.batch(statements);
    };
    // One bound for the whole round, catch-up and feeds together (Workers: D1's queries per
    // invocation), dealt out in passes: each pass splits what is left evenly among the parts that
    // want more — the catch-up until it is done, each feed until it reads its end — and a part that
    // takes less than its share is done, its rest going to the others in the next pass. So a quiet
    // part wastes nothing and a busy one takes an even share while the others want more. What does
    // not divide evenly goes first to the parts that got nothing in the pass before, then to the feeds
    // whose cursor moved longest ago (one left waiting last round comes first in this one), the
    // catch-up last: a catch-up that cannot finish (its source down) must not starve the feeds.
    const movedAt = await store.sync.cursorsMovedAt(tenant);
    const movedFirst = (run: AdapterRun) => movedAt.get(run.id) ?? '';
    let wanting: (AdapterRun | 'catch-up')[] = [...[...runs].sort((a, b) => (movedFirst(a) < movedFirst(b) ? -1 : movedFirst(a) > movedFirst(b) ? 1 : 0)), ...(catchUpDone ? [] : ['catch-up' as const])];
    let gotNothing: typeof wanting = [];
    let left = options.maxCitizensPerRun ?? Infinity;
    while (wanting.length > 0 && left > 0) {
      const order = [...gotNothing.filter((part) => wanting.includes(part)), ...wanting.filter((part) => !gotNothing.includes(part))];
      const shares = shareOut(left, order);
      gotNothing = order.filter((part) => shares.get(part) === 0);
      const catchUpShare = shares.get('catch-up') ?? 0;
      if (catchUpShare > 0) {
        left = Math.max(0, left - (await catchUp(catchUpShare)));
        if (catchUpDone) wanting = wanting.filter((part) => part !== 'catch-up');
      }
      await recordCatchUp();
      // Then each adapter's change feed with a share; one adapter's failure does not stop the others.
      await Promise.all(
        order.map(async (run) => {
          const share = shares.get(run) ?? 0;
          if (run === 'catch-up' || share === 0) return;
          const feedStarted = performance.now();
          try {
            const { taken, more } = await followFeed(run, share);
            left = Math.max(0, left - taken);
            if (!more) wanting = wanting.filter((part) => part !== run);
          } catch (error) {
            run.error = error instanceof Error ? error.message : String(error);
            wanting = wanting.filter((part) => part !== run);
          }
          run.stats.feedMs += Math.round(performance.now() - feedStarted);
        }),
      );
    }
    await recordCatchUp(true);
    // What still wants more is left to the next run (a catch-up left so is not complete).
    for (const part of wanting) for (const run of part === 'catch-up' ? catchingUp : [part]) run.stats.stoppedAtLimit = true;
  } catch (error) {
    failAll(error instanceof Error ? error.message : String(error));
  }

  const results: SyncRunResult[] = [];
  for (const run of runs) {
    const status = run.error === undefined ? 'succeeded' : 'failed';
    // The error is shown to IT staff (dashboard, GET /v1/sync/runs): whatever a source's message held, no CPR number is kept.
    if (run.error !== undefined) run.error = redactCpr(run.error);
    await store.sync.finishRun(tenant, run.runId, status, run.stats as unknown as Record<string, unknown>, now(), run.error);
    if (run.error !== undefined) deps.logger.error('sync run failed', { tenant, adapter: run.id, runId: run.runId, error: run.error });
    results.push({ adapter: run.id, runId: run.runId, status, stats: run.stats, ...(run.error !== undefined ? { error: run.error } : {}) });
  }
  // The sources that stay on an element that left are read now, not at their next run (their feeds
  // show no change). Not after a round that was itself such a read: what that leaves waits its turn.
  if (readAgainAfterRound.size > 0 && !options.trigger.includes(READ_AGAIN_TRIGGER)) await readAgainSoon(deps, tenant, [...readAgainAfterRound], `${READ_AGAIN_TRIGGER}source-withdrew`);
  return results;
}
