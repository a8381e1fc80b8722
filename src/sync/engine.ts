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
  /** How many citizens are pulled at once. */
  concurrency?: number;
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

    /** Pull one citizen and merge what may flow; returns without throwing on a source error. */
    async function syncCitizen(citizen: EnrolledCitizen, attempt = 0): Promise<void> {
      const row = await store.citizens.get(tenant, citizen.citizenId);
      if (!row) return;
      let pulled: PullResult;
      try {
        pulled = await adapter!.pull({ citizenId: citizen.citizenId, cpr: await vault.decrypt(row.cprCipher) });
      } catch (error) {
        if (error instanceof AdapterError && unknownSubjectCodes.has(error.code)) {
          // The source holds nothing for this citizen: a complete (empty) pull.
          stats.citizensUnknownAtSource++;
          await store.batch([store.sync.pulledStatement(tenant, adapterId, citizen.citizenId, now())]);
          return;
        }
        stats.pullErrors++;
        deps.logger.warn('pull failed', { tenant, adapter: adapterId, citizenId: citizen.citizenId, error: error instanceof Error ? error.message : String(error) });
        return;
      }
      stats.citizensPulled++;
      stats.recordsRead += pulled.records.length + pulled.quarantined.length;
      const at = now();
      const statements: Statement[] = [];
      for (const bad of pulled.quarantined) {
        stats.quarantined++;
        statements.push(
          store.sync.quarantineStatement({
            id: crypto.randomUUID(),
            tenant,
            adapter: adapterId,
            recordType: bad.recordType,
            recordId: bad.recordId,
            mappingId: null,
            reason: bad.reason,
            raw: bad.raw.slice(0, RAW_LIMIT),
            runId,
            createdAt: at,
          }),
        );
      }

      const applied = await store.sync.appliedVersions(tenant, adapterId, pulled.records.map((r) => r.recordId));
      const fresh = pulled.records.filter((r) => !applied.has(`${r.recordId}@${r.version}`));
      stats.recordsSkippedAsMerged += pulled.records.length - fresh.length;

      const consentDocs = await store.consents.forCitizens(tenant, [citizen.citizenId]);
      const grants = consentDocs.filter((d): d is ConsentGrant & { kind: 'grant' } => d.kind === 'grant');
      const legalBases = consentDocs.filter((d): d is LegalBasisRecord & { kind: 'legal-basis' } => d.kind === 'legal-basis');
      const mergeable: { record: SourceRecord; inputs: Omit<MergeInput, 'memberId'>[] }[] = [];
      const flowed = new Map<string, { categories: Set<DataCategory>; refs: Set<string>; basis: string; legalBasis?: string; inform?: boolean }>();
      const refused = new Map<DataCategory, string>();

      for (const record of fresh) {
        const mapping = options.mappings.find(adapterId, record.recordType);
        if (!mapping) {
          stats.quarantined++;
          statements.push(
            store.sync.quarantineStatement({
              id: crypto.randomUUID(), tenant, adapter: adapterId, recordType: record.recordType, recordId: record.recordId, mappingId: null,
              reason: `no mapping for record type ${record.recordType}`, raw: JSON.stringify(record.payload).slice(0, RAW_LIMIT), runId, createdAt: at,
            }),
          );
          statements.push(store.sync.appliedStatement({ tenant, source: adapterId, recordId: record.recordId, recordVersion: record.version, planId: '-', appliedAt: at }));
          continue;
        }
        const result = runMapping(mapping, record.payload, { now: at, ruleVersion: ruleSetVersion }, statsFor(mapping.id, mapping.version));
        if (!result.ok) {
          stats.quarantined++;
          statements.push(
            store.sync.quarantineStatement({
              id: crypto.randomUUID(), tenant, adapter: adapterId, recordType: record.recordType, recordId: record.recordId, mappingId: mapping.id,
              reason: `${result.ruleId}: ${result.reason}`, raw: JSON.stringify(record.payload).slice(0, RAW_LIMIT), runId, createdAt: at,
            }),
          );
          // The broken version is marked so it is not quarantined again; a corrected version is new.
          statements.push(store.sync.appliedStatement({ tenant, source: adapterId, recordId: record.recordId, recordVersion: record.version, planId: '-', appliedAt: at }));
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
        // A record refused (even in part) is not marked merged, so a later consent lets it flow.
        mergeable.push({ record, inputs });
        if (refusedAny) (record as SourceRecord & { partlyRefused?: boolean }).partlyRefused = true;
      }

      // Audit first: a flow that is merged is always in the citizen's log, even after a crash.
      const auditEntries: AuditEntry[] = [];
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
      await store.audit.appendMany(tenant, auditEntries);

      const planUpdates: { plan: Plan; expected: number }[] = [];
      const touchedPlanIds: string[] = [];
      for (const planId of citizen.planIds) {
        const plan = await store.plans.get(tenant, planId);
        if (!plan) continue;
        const member = membersOf(plan).find((m) => m.citizenId === citizen.citizenId && !m.leftAt);
        if (!member) continue;
        const inputs = mergeable.flatMap((m) => m.inputs.map((i) => ({ ...i, memberId: member.memberId })));
        const outcome = mergeFragments(plan, inputs, { at, ruleVersion: ruleSetVersion });
        stats.elementsAdded += outcome.added;
        stats.elementsUpdated += outcome.updated;
        stats.conflicts += outcome.conflicts;
        if (outcome.plan !== plan) planUpdates.push({ plan: outcome.plan, expected: plan.version });
        touchedPlanIds.push(planId);
      }
      const primaryUpdate = planUpdates[0];
      for (const { record } of mergeable) {
        if ((record as SourceRecord & { partlyRefused?: boolean }).partlyRefused) continue;
        const mark = { tenant, source: adapterId, recordId: record.recordId, recordVersion: record.version, planId: primaryUpdate?.plan.id ?? touchedPlanIds[0] ?? '-', appliedAt: at };
        statements.push(primaryUpdate ? store.sync.appliedIfPlanWrittenStatement(mark, primaryUpdate.plan) : store.sync.appliedStatement(mark));
        stats.recordsMerged++;
      }
      statements.push(store.sync.pulledStatement(tenant, adapterId, citizen.citizenId, at));

      const all = [...planUpdates.flatMap((u) => store.plans.updateStatements(u.plan, u.expected)), ...statements];
      await options.beforeWrite?.(all);
      await store.batch(all);
      // A grant revoked while this citizen was being merged: remove what flowed on it (R10, S3).
      const usedGrantIds = new Set([...flowed.values()].flatMap((f) => (f.basis === 'consent' ? [...f.refs] : [])));
      if (usedGrantIds.size > 0 && planUpdates.length > 0) {
        const now = await store.consents.forCitizens(tenant, [citizen.citizenId]);
        for (const doc of now)
          if (doc.kind === 'grant' && doc.revokedAt && usedGrantIds.has(doc.id)) await removeDataOfGrant(deps, tenant, doc.id, actor(adapterId));
      }
      // The optimistic update matched no row if someone changed the plan meanwhile: merge again on the new version.
      for (const { plan } of planUpdates) {
        const stored = await store.plans.get(tenant, plan.id);
        if (stored && (stored.version !== plan.version || stored.updatedAt !== plan.updatedAt)) {
          if (attempt >= 3) throw new Error(`plan ${plan.id} kept changing during the merge`);
          stats.recordsMerged -= mergeable.length;
          return syncCitizen(citizen, attempt + 1);
        }
      }
    }

    const concurrency = options.concurrency ?? 8;
    const alreadyPulled = await store.sync.pulledCitizenIds(tenant, adapterId);
    await inParallel([...enrolled.values()].filter((c) => !alreadyPulled.has(c.citizenId)), concurrency, (c) => syncCitizen(c));

    let cursor = await store.sync.cursor(tenant, adapterId);
    for (;;) {
      const page = await adapter.changes(cursor, options.pageSize ?? 500);
      stats.changeNotices += page.changes.length;
      const hashes = [...new Set(await Promise.all(page.changes.map((n) => vault.hash(tenant, n.cpr))))];
      const citizensByHash = new Map((await store.citizens.findManyByCprHash(tenant, hashes)).map((c) => [c.cprHash, c.id]));
      const byCitizen = new Map<string, { recordId: string; version: string }[]>();
      for (const notice of page.changes) {
        const citizenId = citizensByHash.get(await vault.hash(tenant, notice.cpr));
        if (!citizenId || !enrolled.has(citizenId)) {
          stats.noticesNotEnrolled++;
          continue;
        }
        const list = byCitizen.get(citizenId) ?? [];
        list.push({ recordId: notice.recordId, version: notice.version });
        byCitizen.set(citizenId, list);
      }
      const toPull: EnrolledCitizen[] = [];
      for (const [citizenId, notices] of byCitizen) {
        const applied = await store.sync.appliedVersions(tenant, adapterId, notices.map((n) => n.recordId));
        const unseen = notices.filter((n) => !applied.has(`${n.recordId}@${n.version}`));
        stats.noticesAlreadyMerged += notices.length - unseen.length;
        if (unseen.length > 0) toPull.push(enrolled.get(citizenId)!);
      }
      await inParallel(toPull, concurrency, (c) => syncCitizen(c));
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
