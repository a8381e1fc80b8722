/**
 * The pull engine (issue 4). For one tenant and one adapter:
 *  1. catch-up: every enrolled citizen (plan accepted or active, R12) not yet pulled from this
 *     adapter is pulled in full;
 *  2. the change feed is followed from the stored cursor, one page at a time: notices about
 *     citizens who are not enrolled are dropped unread, notices of record versions already merged
 *     are dropped, the rest of the citizens are pulled again;
 *  3. each record is mapped (or quarantined with a reason), each fragment passes the consent gate
 *     (or is refused and counted), and the fragments are merged into the citizen's plans;
 *  4. the plan, the merged-record marks and the quarantine rows are written in one batch; the
 *     cursor moves only after a page is durably merged. A crash re-reads; the marks stop a record
 *     version from being applied twice.
 * Every consent decision is audited (`data.flowed` / `data.refused`), before the data is merged.
 */
import { AdapterError, unknownSubjectCodes, type PullResult, type SourceAdapter, type SourceRecord } from '../../adapters/adapter';
import { emptyStats, runMapping, type MappingStats } from '../../mappings/mapping';
import type { AppDeps } from '../api/context';
import { decideFlow } from '../consent/policy';
import { removeDataOfGrant } from '../consent/service';
import type { ConsentGrant, DataCategory, LegalBasisRecord, Plan, SourceSystem } from '../model';
import { membersOf } from '../model';
import { ruleSetVersion } from '../rules';
import type { AuditEntry } from '../store';
import type { Statement } from '../store/db';
import { mergeFragments, type MergeInput } from './merge';
import type { MappingRegistry } from './registry';

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
  elementsAdded: number;
  elementsUpdated: number;
  conflicts: number;
  pullErrors: number;
  mappings: Record<string, MappingStats>;
}

export interface SyncOptions {
  tenant: string;
  adapter: SourceSystem;
  trigger: string;
  mappings: MappingRegistry;
  /** How many citizens are pulled at once within a chunk. */
  concurrency?: number;
  /** Citizens merged per batch. */
  chunkSize?: number;
  pageSize?: number;
  /** Test hook: called after a batch is built and before it is written. */
  beforeWrite?: (statements: Statement[]) => Promise<void> | void;
}

export interface SyncRunResult {
  runId: string;
  status: 'succeeded' | 'failed';
  stats: SyncStats;
  error?: string;
}

interface EnrolledCitizen {
  citizenId: string;
  planIds: string[];
}

const actor = (adapter: string) => `sync-job:${adapter}`;
const RAW_LIMIT = 4000;

/** Runs `work` over `items` with at most `limit` in flight. */
async function inParallel<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await work(items[next++]!);
  });
  await Promise.all(workers);
}

export async function runSync(deps: AppDeps, options: SyncOptions): Promise<SyncRunResult> {
  const { store, vault, clock } = deps;
  const { tenant, adapter: adapterId } = options;
  const adapter: SourceAdapter | undefined = deps.adapters[adapterId];
  if (!adapter) throw new Error(`no adapter configured for ${adapterId}`);
  const runId = crypto.randomUUID();
  const stats: SyncStats = {
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
    elementsAdded: 0,
    elementsUpdated: 0,
    conflicts: 0,
    pullErrors: 0,
    mappings: {},
  };
  const now = () => clock.now().toISOString();
  await store.sync.startRun({ id: runId, tenant, adapter: adapterId, trigger: options.trigger, startedAt: now(), stats: {} });

  const statsFor = (mappingId: string, version: string) => (stats.mappings[mappingId] ??= emptyStats({ id: mappingId, version }));

  try {
    const enrolled = new Map<string, EnrolledCitizen>();
    for (const row of await store.plans.enrolledCitizens(tenant)) {
      const entry = enrolled.get(row.citizenId) ?? { citizenId: row.citizenId, planIds: [] };
      entry.planIds.push(row.planId);
      enrolled.set(row.citizenId, entry);
    }

    const quarantineRow = (recordType: string, recordId: string | null, mappingId: string | null, reason: string, raw: string, at: string) =>
      store.sync.quarantineStatement({ id: crypto.randomUUID(), tenant, adapter: adapterId, recordType, recordId, mappingId, reason, raw: raw.slice(0, RAW_LIMIT), runId, createdAt: at });

    /**
     * Pulls a chunk of citizens (concurrently) and merges what may flow, with a handful of queries
     * for the whole chunk and one atomic batch. A source error for one citizen skips that citizen
     * (not marked pulled, so it is retried) without failing the others.
     */
    async function syncChunk(chunk: EnrolledCitizen[], attempt = 0, pulledBefore?: Map<string, PullResult>): Promise<void> {
      const rows = new Map((await store.citizens.getMany(tenant, chunk.map((c) => c.citizenId))).map((r) => [r.id, r]));
      const pulls = new Map<string, PullResult>();
      const statements: Statement[] = [];
      await inParallel(chunk, options.concurrency ?? 8, async (citizen) => {
        const row = rows.get(citizen.citizenId);
        if (!row) return;
        // A retry after a lost plan race merges again what was already read; it does not read again.
        const earlier = pulledBefore?.get(citizen.citizenId);
        if (earlier) return void pulls.set(citizen.citizenId, earlier);
        try {
          pulls.set(citizen.citizenId, await adapter!.pull({ citizenId: citizen.citizenId, cpr: await vault.decrypt(row.cprCipher) }));
        } catch (error) {
          if (error instanceof AdapterError && unknownSubjectCodes.has(error.code)) {
            // The source holds nothing for this citizen: a complete (empty) pull.
            stats.citizensUnknownAtSource++;
            statements.push(store.sync.pulledStatement(tenant, adapterId, citizen.citizenId, now()));
            return;
          }
          stats.pullErrors++;
          deps.logger.warn('pull failed', { tenant, adapter: adapterId, citizenId: citizen.citizenId, error: error instanceof Error ? error.message : String(error) });
        }
      });
      const pulledCitizens = chunk.filter((c) => pulls.has(c.citizenId));
      if (!pulledBefore) stats.citizensPulled += pulledCitizens.length;
      const at = now();

      const allRecords = pulledCitizens.flatMap((c) => pulls.get(c.citizenId)!.records);
      const applied = await store.sync.appliedVersions(tenant, adapterId, allRecords.map((r) => r.recordId));
      const consentsByCitizen = new Map<string, { grants: ConsentGrant[]; legalBases: LegalBasisRecord[] }>();
      for (const doc of await store.consents.forCitizens(tenant, pulledCitizens.map((c) => c.citizenId))) {
        const entry = consentsByCitizen.get(doc.citizenId) ?? { grants: [], legalBases: [] };
        if (doc.kind === 'grant') entry.grants.push(doc);
        else entry.legalBases.push(doc);
        consentsByCitizen.set(doc.citizenId, entry);
      }
      const original = new Map((await store.plans.getMany(tenant, [...new Set(pulledCitizens.flatMap((c) => c.planIds))])).map((p) => [p.id, p]));
      const working = new Map(original);
      const auditEntries: AuditEntry[] = [];
      const marks: { planId: string | null; row: Parameters<typeof store.sync.appliedStatement>[0] }[] = [];
      const flowedGrants = new Map<string, Set<string>>();
      const citizensOfPlan = new Map<string, EnrolledCitizen[]>();

      for (const citizen of pulledCitizens) {
        const pulled = pulls.get(citizen.citizenId)!;
        const row = rows.get(citizen.citizenId)!;
        // On a retry the first pass has already counted the reads and stored the quarantined records.
        if (!pulledBefore) {
          stats.recordsRead += pulled.records.length + pulled.quarantined.length;
          for (const bad of pulled.quarantined) {
            stats.quarantined++;
            statements.push(quarantineRow(bad.recordType, bad.recordId, null, bad.reason, bad.raw, at));
          }
        }
        const fresh = pulled.records.filter((r) => !applied.has(`${r.recordId}@${r.version}`));
        if (!pulledBefore) stats.recordsSkippedAsMerged += pulled.records.length - fresh.length;
        const { grants, legalBases } = consentsByCitizen.get(citizen.citizenId) ?? { grants: [], legalBases: [] };
        const mergeable: { record: SourceRecord; inputs: Omit<MergeInput, 'memberId'>[]; refusedAny: boolean }[] = [];
        const flowed = new Map<string, { categories: Set<DataCategory>; refs: Set<string>; basis: string; legalBasis?: string; inform?: boolean }>();
        const refused = new Map<DataCategory, string>();

        for (const record of fresh) {
          const mapping = options.mappings.find(adapterId, record.recordType);
          const rawPayload = () => JSON.stringify(record.payload);
          if (!mapping) {
            stats.quarantined++;
            statements.push(quarantineRow(record.recordType, record.recordId, null, `no mapping for record type ${record.recordType}`, rawPayload(), at));
            marks.push({ planId: null, row: { tenant, source: adapterId, recordId: record.recordId, recordVersion: record.version, planId: '-', appliedAt: at } });
            continue;
          }
          const result = runMapping(mapping, record.payload, { now: at, ruleVersion: ruleSetVersion }, statsFor(mapping.id, mapping.version), { checkedByAdapter: true });
          if (!result.ok) {
            stats.quarantined++;
            statements.push(quarantineRow(record.recordType, record.recordId, mapping.id, `${result.ruleId}: ${result.reason}`, rawPayload(), at));
            // The broken version is marked so it is not quarantined again; a corrected version is new.
            marks.push({ planId: null, row: { tenant, source: adapterId, recordId: record.recordId, recordVersion: record.version, planId: '-', appliedAt: at } });
            continue;
          }
          const inputs: Omit<MergeInput, 'memberId'>[] = [];
          let refusedAny = false;
          for (const fragment of result.fragments) {
            const decision = decideFlow(
              { citizenId: citizen.citizenId, birthDate: row.birthDate, source: adapterId, recipient: 'enplan', category: fragment.category, at: clock.now() },
              grants,
              legalBases,
            );
            if (!decision.allowed) {
              stats.refusedByConsent++;
              refused.set(fragment.category, decision.reason);
              refusedAny = true;
              continue;
            }
            const consentRef = decision.basis === 'consent' ? decision.grantIds[0] : decision.recordId;
            const key = decision.basis === 'consent' ? 'consent' : `legal:${decision.recordId}`;
            const flow = flowed.get(key) ?? { categories: new Set(), refs: new Set(), basis: decision.basis };
            flow.categories.add(fragment.category);
            if (decision.basis === 'consent') decision.grantIds.forEach((g) => flow.refs.add(g));
            else {
              flow.refs.add(decision.recordId);
              flow.legalBasis = decision.legalBasis;
              flow.inform = decision.informCitizen;
            }
            flowed.set(key, flow);
            inputs.push({
              fragment,
              origin: { system: adapterId, recordId: record.recordId, recordVersion: record.version, mappingId: mapping.id, mappingVersion: mapping.version, consentRef, category: fragment.category },
            });
          }
          mergeable.push({ record, inputs, refusedAny });
        }

        for (const flow of flowed.values())
          auditEntries.push({
            at, actor: actor(adapterId), action: 'data.flowed', targetType: 'citizen', targetId: citizen.citizenId, citizenId: citizen.citizenId,
            detail: { source: adapterId, recipient: 'enplan', categories: [...flow.categories].sort(), basis: flow.basis, consentRefs: [...flow.refs], ...(flow.legalBasis ? { legalBasis: flow.legalBasis, informCitizen: flow.inform } : {}), runId },
          });
        if (refused.size > 0)
          auditEntries.push({
            at, actor: actor(adapterId), action: 'data.refused', targetType: 'citizen', targetId: citizen.citizenId, citizenId: citizen.citizenId,
            detail: { source: adapterId, recipient: 'enplan', categories: [...refused.keys()].sort(), reason: [...new Set(refused.values())].join('; '), runId },
          });
        const grantRefs = [...flowed.values()].flatMap((f) => (f.basis === 'consent' ? [...f.refs] : []));
        if (grantRefs.length > 0) flowedGrants.set(citizen.citizenId, new Set(grantRefs));

        let mergedInto: string | null = null;
        for (const planId of citizen.planIds) {
          const plan = working.get(planId);
          if (!plan) continue;
          const member = membersOf(plan).find((m) => m.citizenId === citizen.citizenId && !m.leftAt);
          if (!member) continue;
          const outcome = mergeFragments(plan, mergeable.flatMap((m) => m.inputs.map((i) => ({ ...i, memberId: member.memberId }))), { at, ruleVersion: ruleSetVersion });
          stats.elementsAdded += outcome.added;
          stats.elementsUpdated += outcome.updated;
          stats.conflicts += outcome.conflicts;
          working.set(planId, outcome.plan);
          mergedInto ??= planId;
          citizensOfPlan.set(planId, [...(citizensOfPlan.get(planId) ?? []), citizen]);
        }
        // A record refused (even in part) is not marked merged, so a later consent lets it flow.
        for (const { record, refusedAny } of mergeable)
          if (!refusedAny) marks.push({ planId: mergedInto, row: { tenant, source: adapterId, recordId: record.recordId, recordVersion: record.version, planId: mergedInto ?? '-', appliedAt: at } });
        statements.push(store.sync.pulledStatement(tenant, adapterId, citizen.citizenId, at));
      }

      // Audit first: a flow that is merged is always in the citizen's log, even after a crash.
      await store.audit.appendMany(tenant, auditEntries);
      const changed = [...working.values()].filter((plan) => plan !== original.get(plan.id));
      const markStatements = marks.map(({ planId, row }) => {
        const written = planId ? working.get(planId) : undefined;
        return written && written !== original.get(written.id) ? store.sync.appliedIfPlanWrittenStatement(row, written) : store.sync.appliedStatement(row);
      });
      const all = [...changed.flatMap((plan) => store.plans.updateStatements(plan, original.get(plan.id)!.version)), ...markStatements, ...statements];
      await options.beforeWrite?.(all);
      await store.batch(all);

      // The optimistic update matched no row if someone changed a plan meanwhile: merge those citizens again.
      const stored = await store.plans.versions(tenant, changed.map((p) => p.id));
      const lost = changed.filter((plan) => stored.get(plan.id)?.version !== plan.version || stored.get(plan.id)?.updatedAt !== plan.updatedAt);
      const lostIds = new Set(lost.map((p) => p.id));
      stats.recordsMerged += marks.filter((m) => m.planId && !lostIds.has(m.planId)).length;
      // A grant revoked while these citizens were being merged: remove what flowed on it (R10, S3).
      if (flowedGrants.size > 0) {
        for (const doc of await store.consents.forCitizens(tenant, [...flowedGrants.keys()]))
          if (doc.kind === 'grant' && doc.revokedAt && flowedGrants.get(doc.citizenId)?.has(doc.id)) await removeDataOfGrant(deps, tenant, doc.id, actor(adapterId));
      }
      if (lost.length > 0) {
        if (attempt >= 3) throw new Error(`${lost.length} plan(s) kept changing during the merge`);
        const retry = [...new Set(lost.flatMap((p) => citizensOfPlan.get(p.id) ?? []))];
        await syncChunk(retry, attempt + 1, pulls);
      }
    }

    const chunked = async (citizens: EnrolledCitizen[]) => {
      const size = options.chunkSize ?? 25;
      const chunks: EnrolledCitizen[][] = [];
      for (let i = 0; i < citizens.length; i += size) chunks.push(citizens.slice(i, i + size));
      // Two chunks in flight: one pulling while the other writes.
      await inParallel(chunks, 2, (chunk) => syncChunk(chunk));
    };

    const alreadyPulled = await store.sync.pulledCitizenIds(tenant, adapterId);
    await chunked([...enrolled.values()].filter((c) => !alreadyPulled.has(c.citizenId)));

    let cursor = await store.sync.cursor(tenant, adapterId);
    for (;;) {
      const page = await adapter.changes(cursor, options.pageSize ?? 500);
      stats.changeNotices += page.changes.length;
      // One keyed hash per distinct CPR on the page; notices about citizens not enrolled are dropped unread (R12).
      const hashOfCpr = new Map<string, string>();
      for (const notice of page.changes) if (!hashOfCpr.has(notice.cpr)) hashOfCpr.set(notice.cpr, await vault.hash(tenant, notice.cpr));
      const citizensByHash = new Map((await store.citizens.findManyByCprHash(tenant, [...new Set(hashOfCpr.values())])).map((c) => [c.cprHash, c.id]));
      const byCitizen = new Map<string, { recordId: string; version: string }[]>();
      for (const notice of page.changes) {
        const citizenId = citizensByHash.get(hashOfCpr.get(notice.cpr)!);
        if (!citizenId || !enrolled.has(citizenId)) {
          stats.noticesNotEnrolled++;
          continue;
        }
        const list = byCitizen.get(citizenId) ?? [];
        list.push({ recordId: notice.recordId, version: notice.version });
        byCitizen.set(citizenId, list);
      }
      const toPull: EnrolledCitizen[] = [];
      const appliedOnPage = await store.sync.appliedVersions(tenant, adapterId, [...byCitizen.values()].flatMap((n) => n.map((x) => x.recordId)));
      for (const [citizenId, notices] of byCitizen) {
        const unseen = notices.filter((n) => !appliedOnPage.has(`${n.recordId}@${n.version}`));
        stats.noticesAlreadyMerged += notices.length - unseen.length;
        if (unseen.length > 0) toPull.push(enrolled.get(citizenId)!);
      }
      await chunked(toPull);
      if (page.cursor !== null && page.cursor !== cursor) {
        cursor = page.cursor;
        await store.batch([store.sync.setCursorStatement(tenant, adapterId, cursor, now())]);
      }
      if (!page.hasMore) break;
    }

    await store.sync.finishRun(tenant, runId, 'succeeded', stats as unknown as Record<string, unknown>, now());
    return { runId, status: 'succeeded', stats };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    await store.sync.finishRun(tenant, runId, 'failed', stats as unknown as Record<string, unknown>, now(), message);
    deps.logger.error('sync run failed', { tenant, adapter: adapterId, runId, error: message });
    return { runId, status: 'failed', stats, error: message };
  }
}
