/**
 * A `SourceAdapter` over a FHIR R4 server, shared by the social and health adapters, which differ
 * only in the record types they read, the resources they write, and their description.
 *
 * - pull: finds the Patient with `POST Patient/_search` (`identifier=urn:oid:1.2.208.176.1.2|<cpr>`
 *   in the form body — a CPR never goes in a URL), then reads each record type by patient
 *   reference, following `Bundle.link` next. Every record is checked against the zod contract
 *   (a record nested more than MAX_RECORD_DEPTH deep is refused unchecked, so no check can overflow
 *   the stack); failures are quarantined with a reason, never thrown and never dropped — a page
 *   whose JSON does not parse, or is no Bundle, is quarantined whole. With a cursor (one `changes`
 *   issued), only records after it are returned (`_lastUpdated=ge…` plus the same tie-breaker) —
 *   except record types marked `alwaysInFull`, returned whole on every pull.
 * - pullMany: the same for up to `batchSize` citizens per round (default 100): one
 *   `POST Patient/_search` with an OR-list `identifier=<CPR system>|<cpr>,…` in the form body, then
 *   per record type one `POST [type]/_search` with an OR-list of Patient references
 *   (`subject=Patient/a,Patient/b,…`), following `Bundle.link` next (the simulator, like HAPI, pages
 *   a POST search by a token, so neither CPRs nor the reference list appear in a URL). Each record is
 *   attributed to its Patient by its own reference and checked by the same `checkRecord` as in
 *   pull; contract failures are quarantined with the citizen they belong to. A record whose owner
 *   cannot be read or is not a Patient asked for, a Patient that carries none of the CPRs asked
 *   for, two Patients with one CPR, or a page that is not a Bundle make the whole call throw: the
 *   engine then falls back to `pull` per citizen, which quarantines precisely.
 * - changes: one search across the record types sorted by `_lastUpdated`, resumed from an opaque
 *   cursor holding (lastUpdated, "Type/id") of the last record consumed; records at the same instant
 *   are ordered and skipped by that key, so a page boundary inside a tie neither repeats nor skips.
 *   The citizen's CPR for each notice is looked up by Patient id (batched `POST _search`, cached).
 *   At the search's end the feed reads the deletions since it last did from the whole-system history
 *   (`GET _history?_type=…&_since=…&_elements=id`, newest first as R4 orders it, read back to there)
 *   and reports them oldest first in `deleted`; the cursor keeps the history's position beside the search's.
 * - push: creates with `If-None-Exist: identifier=<operation system>|<idempotency key>` (replaying the
 *   key returns the first result, `duplicate: true`); updates with `If-Match`. On a stale version
 *   (the target edited the resource), or once a write to it was field-level, the update reads the
 *   resource and sends a JSON Patch of only the fields our mapping sets that changed since our last
 *   delivery, under `If-Match` of the version read (a replay when it already carries this operation);
 *   a field they changed too is left as theirs and named in the receipt (`keptTheirs`), and array
 *   entries of theirs are kept beside ours (`ownFieldPatch`); into a record they made themselves our
 *   payload is first placed among their entries (`theirRecord`), and a first write is compared with
 *   that record at the version the plan read (`vread` of `seenVersion`); a second race gets one more
 *   read and patch, then is a permanent `VersionConflictError`.
 */
import { BoundedMap } from '../shared/bounded-map';
import { z } from 'zod';
import {
  AdapterError,
  type AdapterDescription,
  type ChangeNotice,
  type ChangesPage,
  type CheckResult,
  type DeletedRecord,
  type PullManyOptions,
  type PullResult,
  type PullSubject,
  type PushOperation,
  type PushReceipt,
  type QuarantinedRecord,
  type SourceAdapter,
  type SourceRecord,
} from '../adapter';
import { FhirClient, MalformedResponseError, VersionConflictError, writtenResource, type FhirConnection, type FhirResult, type JsonPatchOperation } from './client';
import { CapabilityStatement, OperationOutcome, Patient, withServerMeta, type Bundle } from './contract';
import { scrubCpr } from './fhir-values';
import { boundedJson, MAX_RECORD_DEPTH, nestsDeeperThan } from './nesting';
import { CPR_SYSTEM, ENPLAN_OPERATION_SYSTEM, ENPLAN_OPERATION_TAG_SYSTEM } from './systems';

/** A record type read from the server, found by a reference search parameter to the Patient. */
export interface FhirRecordType {
  type: string;
  patientParam: 'subject' | 'patient';
  contract: z.ZodObject<z.ZodRawShape>;
  /**
   * State rather than change: a pull from a cursor still returns every record of this type (a
   * region's Consents, which say whether the rest may be shared at all), in the same one search.
   */
  alwaysInFull?: boolean;
}

/** A push operation and the resource it writes. */
export interface FhirPushTarget {
  resourceType: 'Goal' | 'CarePlan' | 'ServiceRequest';
  contract: z.ZodObject<z.ZodRawShape>;
}

export interface FhirAdapterDefinition {
  description: AdapterDescription;
  recordTypes: readonly FhirRecordType[];
  pushTargets: Readonly<Record<string, FhirPushTarget>>;
}

export interface FhirAdapterOptions extends FhirConnection {
  /** `_count` per page when reading (default 100, at most 1000). */
  pageSize?: number;
  /** Citizens per `pullMany` round of searches (default and at most 100). */
  batchSize?: number;
  /**
   * Patient id → CPR numbers kept to name the citizen of a change notice (default 100,000, the
   * least recently used forgotten first). A regional server reports changes for its whole
   * population, enrolled or not: unbounded, the cache would grow with it for the process's life.
   */
  patientCacheSize?: number;
}

const RAW_LIMIT = 4000;
const DEFAULT_CHANGES_LIMIT = 500;
/** How a server that does not offer history refuses a history read (400 not-supported, 404, 405, 501). */
const HISTORY_REFUSED = new Set(['http-400', 'http-404', 'http-405', 'http-501']);
/** How a server without history answers the connection check's probe (a 400 must say not-supported: it may be about the parameters). */
const HISTORY_UNSUPPORTED_STATUSES = new Set([404, 405, 501]);
const DELETIONS_UNSEEN = 'a record deleted there outright is not seen here, and what it said stays in the plans until the record is read again';
/** After such a refusal, deletions are not asked for again for this long (the server may be upgraded). */
const HISTORY_ASK_AGAIN_MS = 60 * 60_000;
/** `_count` of a history page: entries carry ids and versions only. */
const HISTORY_PAGE = 1000;
const PATIENT_BATCH = 100;
const DEFAULT_PATIENT_CACHE = 100_000;
/** Citizens per `pullMany` round: keeps request bodies and the server's OR-lists small. */
export const PULL_MANY_BATCH = 100;

// An empty key stands before every record of that instant (a cursor made by `cursorAt`).
const CursorKey = z.string().regex(/^([A-Za-z]+\/[A-Za-z0-9\-.]{1,64})?$/);
/** `d`: where the deletions (read from the history) were followed to; absent, from where the search is. */
const ChangesCursor = z.object({ v: z.literal(1), t: z.iso.datetime({ offset: true }), k: CursorKey, d: z.object({ t: z.iso.datetime({ offset: true }), k: CursorKey }).optional() });
type Position = { ms: number; key: string };
type CursorPosition = { lastUpdated: string; key: string };

export function encodeChangesCursor(position: CursorPosition & { deletions?: CursorPosition }): string {
  const deletions = position.deletions ? { d: { t: position.deletions.lastUpdated, k: position.deletions.key } } : {};
  return Buffer.from(JSON.stringify({ v: 1, t: position.lastUpdated, k: position.key, ...deletions }), 'utf8').toString('base64url');
}

export function decodeChangesCursor(cursor: string): CursorPosition & { deletions?: CursorPosition } {
  try {
    const parsed = ChangesCursor.parse(JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')));
    return { lastUpdated: parsed.t, key: parsed.k, ...(parsed.d ? { deletions: { lastUpdated: parsed.d.t, key: parsed.d.k } } : {}) };
  } catch {
    throw new AdapterError('the cursor is not one this adapter issued', true, 'invalid-cursor');
  }
}

/** The record comes after the position in (lastUpdated, key) order. */
const isAfter = (position: Position | undefined, ms: number, key: string) => !position || ms > position.ms || (ms === position.ms && key > position.key);

export function createFhirSourceAdapter(definition: FhirAdapterDefinition, options: FhirAdapterOptions): SourceAdapter {
  const client = new FhirClient(options);
  const pageSize = String(Math.max(1, Math.min(options.pageSize ?? 100, 1000)));
  const batchSize = Math.max(1, Math.min(Math.floor(options.batchSize ?? PULL_MANY_BATCH), PULL_MANY_BATCH));
  const serverContracts = new Map(definition.recordTypes.map((rt) => [rt.type, withServerMeta(rt.contract)]));
  const ServerPatient = withServerMeta(Patient);
  /** Patient id → CPR, learnt from Patients we read; held in memory only, and only so many. */
  const cprByPatientId = new BoundedMap<string, string>(options.patientCacheSize ?? DEFAULT_PATIENT_CACHE);

  const positionOf = (cursor: string | null | undefined): Position | undefined => {
    if (!cursor) return undefined;
    const { lastUpdated, key } = decodeChangesCursor(cursor);
    return { ms: Date.parse(lastUpdated), key };
  };

  /** The citizen's Patient, found by CPR in a POST body; undefined when the system does not know them. */
  async function findPatient(cpr: string): Promise<{ id: string } | undefined> {
    const { body } = await client.searchByPost('Patient', { identifier: `${CPR_SYSTEM}|${cpr}`, _count: '2' });
    const patients = (body.entry ?? []).map((e) => e.resource).filter((r) => (r as { resourceType?: string })?.resourceType === 'Patient');
    if (patients.length > 1) throw new AdapterError('more than one Patient carries this citizen’s CPR number', true, 'ambiguous-patient');
    if (!patients.length) return undefined;
    const patient = checkContract(ServerPatient, patients[0]);
    if (!patient.success) throw new AdapterError(`the citizen’s Patient does not match the contract: ${patient.reason}`, true, 'invalid-patient');
    // A server that ignored the identifier parameter would hand back someone else: check.
    if (!patient.data.identifier?.some((i) => i.system === CPR_SYSTEM && i.value === cpr)) {
      throw new AdapterError('the server answered the CPR search with a Patient that does not carry that CPR number', true, 'patient-mismatch');
    }
    cprByPatientId.set(patient.data.id, cpr);
    return { id: patient.data.id };
  }

  async function* pages(first: () => Promise<FhirResult<Bundle>>, what: string): AsyncGenerator<Bundle> {
    let page: FhirResult<Bundle> | undefined = await first();
    while (page) {
      yield page.body;
      page = await client.nextPage(page.body, what);
    }
  }

  async function pull(subject: PullSubject, cursor?: string | null): Promise<PullResult> {
    const since = positionOf(cursor);
    const patient = await findPatient(subject.cpr);
    const records: SourceRecord[] = [];
    const quarantined: QuarantinedRecord[] = [];
    if (!patient) return { records, quarantined };
    const patientRef = `Patient/${patient.id}`;

    for (const recordType of definition.recordTypes) {
      const from = recordType.alwaysInFull ? undefined : since;
      const params: Record<string, string> = { [recordType.patientParam]: patientRef, _count: pageSize };
      if (from) params._lastUpdated = `ge${new Date(from.ms).toISOString()}`;
      try {
        for await (const bundle of pages(() => client.search(recordType.type, params), `${recordType.type} of the citizen`)) {
          for (const entry of bundle.entry ?? []) {
            const outcome = checkRecord(entry.resource, recordType, patientRef);
            if ('reason' in outcome) quarantined.push(outcome);
            else if (isAfter(from, Date.parse(outcome.updatedAt), `${outcome.recordType}/${outcome.recordId}`)) records.push(outcome);
          }
        }
      } catch (error) {
        if (!(error instanceof MalformedResponseError)) throw error;
        quarantined.push({ recordType: recordType.type, recordId: null, reason: error.message, raw: error.raw });
      }
    }
    return { records, quarantined };
  }

  /**
   * Several citizens in few requests (see the file comment). Throws rather than guess: the engine
   * then pulls each citizen with `pull`, whose answers these match record for record.
   */
  async function pullMany(subjects: readonly PullSubject[], options: PullManyOptions = {}): Promise<Map<string, PullResult>> {
    const since = positionOf(options.since);
    const unique = new Map<string, PullSubject>();
    const citizenByCpr = new Map<string, string>();
    for (const subject of subjects) {
      const earlier = unique.get(subject.citizenId);
      if (earlier && earlier.cpr !== subject.cpr) throw new AdapterError('pullMany was given one citizen with two different CPR numbers', true, 'conflicting-subjects');
      const other = citizenByCpr.get(subject.cpr);
      if (other !== undefined && other !== subject.citizenId) throw new AdapterError('pullMany was given two citizens with the same CPR number', true, 'conflicting-subjects');
      unique.set(subject.citizenId, subject);
      citizenByCpr.set(subject.cpr, subject.citizenId);
    }
    const list = [...unique.values()];
    const results = new Map<string, PullResult>();
    for (let i = 0; i < list.length; i += batchSize) {
      for (const [citizenId, result] of await pullBatch(list.slice(i, i + batchSize), since)) results.set(citizenId, result);
    }
    return results;
  }

  async function pullBatch(batch: readonly PullSubject[], since: Position | undefined): Promise<Map<string, PullResult>> {
    const citizenByCpr = new Map(batch.map((s) => [s.cpr, s.citizenId]));
    const subjectCpr = new Map(batch.map((s) => [s.citizenId, s.cpr]));
    /** "Patient/<id>" → citizenId, for the Patients found. */
    const citizenByRef = new Map<string, string>();
    const patientIdByCitizen = new Map<string, string>();

    const identifiers = batch.map((s) => `${CPR_SYSTEM}|${s.cpr}`).join(',');
    for await (const bundle of pages(() => client.searchByPost('Patient', { identifier: identifiers, _count: pageSize }), 'Patients of the citizens')) {
      for (const entry of bundle.entry ?? []) {
        if ((entry.resource as { resourceType?: string } | undefined)?.resourceType !== 'Patient') continue;
        const patient = checkContract(ServerPatient, entry.resource);
        if (!patient.success) throw new AdapterError(`a citizen’s Patient does not match the contract: ${patient.reason}`, true, 'invalid-patient');
        // A server that ignored (part of) the OR-list would hand back someone else: check.
        const owners = new Set((patient.data.identifier ?? []).filter((id) => id.system === CPR_SYSTEM && id.value !== undefined && citizenByCpr.has(id.value)).map((id) => id.value!));
        if (owners.size !== 1) {
          throw owners.size
            ? new AdapterError('the server answered the CPR search with a Patient that carries several of the CPR numbers asked for', true, 'ambiguous-patient')
            : new AdapterError('the server answered the CPR search with a Patient that carries none of the CPR numbers asked for', true, 'patient-mismatch');
        }
        const citizenId = citizenByCpr.get(owners.values().next().value!)!;
        const known = patientIdByCitizen.get(citizenId);
        if (known !== undefined && known !== patient.data.id) throw new AdapterError('more than one Patient carries a citizen’s CPR number', true, 'ambiguous-patient');
        patientIdByCitizen.set(citizenId, patient.data.id);
        citizenByRef.set(`Patient/${patient.data.id}`, citizenId);
      }
    }
    // Learnt only once every Patient of the round checked out, as findPatient does.
    for (const [citizenId, patientId] of patientIdByCitizen) cprByPatientId.set(patientId, subjectCpr.get(citizenId)!);

    const results = new Map<string, PullResult>();
    for (const subject of batch) {
      results.set(subject.citizenId, patientIdByCitizen.has(subject.citizenId) ? { records: [], quarantined: [] } : { records: [], quarantined: [], unknownAtSource: true });
    }
    if (!citizenByRef.size) return results;
    const references = [...citizenByRef.keys()].join(',');

    // The record types are independent searches: run them side by side.
    const perType = await Promise.all(definition.recordTypes.map(async (recordType) => {
      /** "Type/id" → the outcome and whose it is; a record seen twice (pages shifted) counts once. */
      const seen = new Map<string, { citizenId: string; outcome: SourceRecord | QuarantinedRecord }>();
      const unnamed: { citizenId: string; outcome: QuarantinedRecord }[] = [];
      const from = recordType.alwaysInFull ? undefined : since;
      const params: Record<string, string> = { [recordType.patientParam]: references, _count: pageSize };
      if (from) params._lastUpdated = `ge${new Date(from.ms).toISOString()}`;
      for await (const bundle of pages(() => client.searchByPost(recordType.type, params), `${recordType.type} of the citizens`)) {
        for (const entry of bundle.entry ?? []) {
          const owner = (entry.resource as Record<string, { reference?: unknown } | undefined> | undefined)?.[recordType.patientParam]?.reference;
          if (typeof owner !== 'string') throw new AdapterError(`the server answered the ${recordType.type} search with a record whose patient cannot be read`, false, 'unattributable-record');
          const citizenId = citizenByRef.get(owner);
          // R12: never hand back a record of someone not asked for; `pull` quarantines it precisely.
          if (citizenId === undefined) throw new AdapterError(`the server answered the ${recordType.type} search with a record of a patient not asked for`, false, 'unattributable-record');
          const outcome = checkRecord(entry.resource, recordType, owner);
          if (outcome.recordId === null) unnamed.push({ citizenId, outcome: outcome as QuarantinedRecord });
          else if ('reason' in outcome || isAfter(from, Date.parse(outcome.updatedAt), `${outcome.recordType}/${outcome.recordId}`))
            seen.set(`${recordType.type}/${outcome.recordId}`, { citizenId, outcome });
        }
      }
      return [...seen.values(), ...unnamed];
    }));
    // In the order of the record types, as `pull` returns them.
    for (const { citizenId, outcome } of perType.flat()) {
      const result = results.get(citizenId)!;
      if ('reason' in outcome) result.quarantined.push(outcome);
      else result.records.push(outcome);
    }
    return results;
  }

  function checkRecord(raw: unknown, recordType: FhirRecordType, patientRef: string): SourceRecord | QuarantinedRecord {
    const id = typeof (raw as { id?: unknown })?.id === 'string' ? (raw as { id: string }).id : null;
    const quarantine = (reason: string): QuarantinedRecord => ({ recordType: recordType.type, recordId: id, reason, raw: boundedJson(raw ?? null, RAW_LIMIT) });
    const parsed = checkContract(serverContracts.get(recordType.type)!, raw);
    if (!parsed.success) return quarantine(`does not match the ${recordType.type} contract: ${parsed.reason}`);
    const record = parsed.data as { id: string; meta: { versionId: string; lastUpdated: string }; subject?: { reference?: string }; patient?: { reference?: string } };
    const owner = record[recordType.patientParam]?.reference;
    if (owner !== patientRef) return quarantine(`belongs to another patient than the one asked for (${recordType.patientParam} ≠ the citizen’s Patient)`);
    return { recordType: recordType.type, recordId: record.id, version: record.meta.versionId, updatedAt: record.meta.lastUpdated, payload: parsed.data };
  }

  /** Until when (ms) the server is taken not to offer history: it refused a history read as unsupported. */
  let historyRefusedUntil = 0;

  async function changes(since: string | null, limit = DEFAULT_CHANGES_LIMIT): Promise<ChangesPage> {
    const position = positionOf(since);
    const decoded = since ? decodeChangesCursor(since) : undefined;
    // Deletions are followed from where they were last read to; a cursor from before (or from `cursorAt`) from where its search is.
    const deletionsFrom: CursorPosition = decoded?.deletions ?? (decoded ? { lastUpdated: decoded.lastUpdated, key: decoded.key } : { lastUpdated: new Date(0).toISOString(), key: '' });
    const max = Math.max(1, Math.min(Math.floor(limit), 1000));
    const params: Record<string, string> = {
      _type: definition.recordTypes.map((rt) => rt.type).join(','),
      _sort: '_lastUpdated',
      _count: String(max),
      // A notice needs id, version, time and whose record it is — not the record (R12: the feed
      // covers citizens who are not enrolled, whose content we must not receive).
      _elements: [...new Set(definition.recordTypes.map((rt) => rt.patientParam))].join(','),
    };
    if (position) params._lastUpdated = `ge${new Date(position.ms).toISOString()}`;

    const consumed: { notice: Omit<ChangeNotice, 'cpr'>; patientId: string | undefined; ms: number; key: string }[] = [];
    let hasMore = false;
    let last: { lastUpdated: string; key: string } | undefined;
    const unreadable: QuarantinedRecord[] = [];
    outer: for await (const bundle of pages(() => client.searchSystem(params), 'changes')) {
      const entries = bundle.entry ?? [];
      for (let i = 0; i < entries.length; i++) {
        const resource = entries[i]!.resource as { resourceType?: string; id?: string; meta?: { versionId?: string; lastUpdated?: string }; subject?: { reference?: string }; patient?: { reference?: string } };
        const lastUpdated = resource?.meta?.lastUpdated;
        const ms = Date.parse(lastUpdated ?? '');
        // Without type, id, version and time a record cannot be ordered or asked for again: kept for IT
        // staff with what is missing (F3), and the feed goes on.
        if (!resource?.resourceType || !resource.id || !resource.meta?.versionId || !lastUpdated || Number.isNaN(ms)) {
          const missing = [!resource?.resourceType && 'resourceType', !resource?.id && 'id', !resource?.meta?.versionId && 'meta.versionId', (!lastUpdated || Number.isNaN(ms)) && 'a readable meta.lastUpdated'].filter(Boolean);
          const known = definition.recordTypes.some((rt) => rt.type === resource?.resourceType);
          unreadable.push({
            recordType: known ? resource!.resourceType! : 'unknown',
            recordId: typeof resource?.id === 'string' ? resource.id.slice(0, 100) : null,
            reason: `a change-feed entry without ${missing.join(', ')}: it cannot be ordered or asked for again, so the feed goes on without it`,
            raw: boundedJson(resource ?? null, RAW_LIMIT),
          });
          continue;
        }
        const key = `${resource.resourceType}/${resource.id}`;
        if (!isAfter(position, ms, key)) continue;
        // A page is full only between two instants: `_sort=_lastUpdated` promises no order among the
        // records of one instant (a transaction stamps all of its with one), so the instant the page
        // ends at is read whole, and the cursor's key is the highest among them.
        if (consumed.length >= max && ms !== consumed.at(-1)!.ms) {
          hasMore = true;
          break outer;
        }
        const recordType = definition.recordTypes.find((rt) => rt.type === resource.resourceType);
        const reference = recordType ? resource[recordType.patientParam]?.reference : undefined;
        consumed.push({
          notice: { recordType: resource.resourceType, recordId: resource.id, version: resource.meta.versionId, updatedAt: lastUpdated },
          patientId: reference?.startsWith('Patient/') ? reference.slice('Patient/'.length) : undefined,
          ms,
          key,
        });
        if (!last || ms !== Date.parse(last.lastUpdated) || key > last.key) last = { lastUpdated, key };
      }
      // Full, and the page's instant may go on into the next page: that page says.
      if (consumed.length >= max && !bundle.link?.some((l) => l.relation === 'next')) break;
    }
    // At the search's end, the deletions since they were last read (the history, newest first, is
    // read whole back to there): the oldest first, as many as the page has room for.
    let deleted: DeletedRecord[] = [];
    let deletionsAt = deletionsFrom;
    if (!hasMore && consumed.length >= max) hasMore = true; // no room left to read the deletions: the next page does
    else if (!hasMore && Date.now() >= historyRefusedUntil) {
      // A server that does not offer history: the feed goes on without deletions (check() tells IT staff), asking again in a while.
      const found = await deletionsSince(deletionsFrom, unreadable).catch((error: unknown) => {
        if (!(error instanceof AdapterError && HISTORY_REFUSED.has(error.code))) throw error;
        historyRefusedUntil = Date.now() + HISTORY_ASK_AGAIN_MS;
        return undefined;
      });
      const room = max - consumed.length;
      // Nothing read (refused): the deletions' position stays where it was.
      if (found && found.deleted.length > room) {
        deleted = found.deleted.slice(0, room).map((d) => d.record);
        deletionsAt = found.deleted[room - 1]!.position;
        hasMore = true;
      } else if (found) {
        deleted = found.deleted.map((d) => d.record);
        deletionsAt = found.newest ?? deletionsFrom;
      }
    }

    const cprOf = await cprsOf(consumed.map((c) => c.patientId).filter((id): id is string => !!id));
    const notices: ChangeNotice[] = [];
    for (const item of consumed) {
      const cpr = item.patientId ? cprOf.get(item.patientId) : undefined;
      // A record whose Patient has no CPR cannot belong to an enrolled citizen: skip it.
      if (cpr) notices.push({ cpr, ...item.notice });
    }
    const searchAt = last ?? (decoded ? { lastUpdated: decoded.lastUpdated, key: decoded.key } : undefined);
    const moved = last !== undefined || deletionsAt !== deletionsFrom;
    const cursor = moved ? encodeChangesCursor({ ...(searchAt ?? { lastUpdated: new Date(0).toISOString(), key: '' }), deletions: deletionsAt }) : since;
    return { changes: notices, ...(deleted.length > 0 ? { deleted } : {}), ...(unreadable.length > 0 ? { quarantined: unreadable } : {}), cursor, hasMore };
  }

  /**
   * The record types' deletions after `from`, oldest first, from the whole-system history
   * (`GET [base]/_history?_type=…&_since=…`; `_since` is inclusive, so entries at `from` itself are
   * passed by the tie-breaker key as in the search), and the newest history entry seen: nothing
   * older is unread once every deletion up to it is taken. Only ids and versions are asked for
   * (`_elements`): the history covers citizens who are not enrolled (R12). A DELETE entry that
   * cannot be placed is quarantined (F3) and the feed goes on.
   */
  async function deletionsSince(from: CursorPosition, unreadable: QuarantinedRecord[]): Promise<{ deleted: { record: DeletedRecord; position: CursorPosition }[]; newest?: CursorPosition }> {
    const fromPosition = { ms: Date.parse(from.lastUpdated), key: from.key };
    const ours = new Set(definition.recordTypes.map((rt) => rt.type));
    const params = { _type: [...ours].join(','), _since: from.lastUpdated, _count: String(HISTORY_PAGE), _elements: 'id' };
    const deleted: { record: DeletedRecord; position: CursorPosition; ms: number }[] = [];
    let newest: (CursorPosition & { ms: number }) | undefined;
    for await (const bundle of pages(() => client.systemHistory(params), 'deletions')) {
      for (const entry of bundle.entry ?? []) {
        const read = historyEntryOf(entry);
        if (!read) continue;
        if ('reason' in read) {
          unreadable.push(read);
          continue;
        }
        if (!isAfter(fromPosition, read.ms, read.key)) continue;
        if (!newest || isAfter(newest, read.ms, read.key)) newest = { lastUpdated: read.at, key: read.key, ms: read.ms };
        if (read.deleted && ours.has(read.recordType)) {
          deleted.push({ record: { recordType: read.recordType, recordId: read.recordId, version: read.version, deletedAt: read.at }, position: { lastUpdated: read.at, key: read.key }, ms: read.ms });
        }
      }
    }
    // One record's deletion counts once (pages that shifted): the newest version of it.
    const byKey = new Map<string, (typeof deleted)[number]>();
    for (const d of deleted) {
      const known = byKey.get(d.position.key);
      if (!known || isAfter({ ms: known.ms, key: known.position.key }, d.ms, d.position.key) || Number(d.record.version) > Number(known.record.version)) byKey.set(d.position.key, d);
    }
    const ordered = [...byKey.values()].sort((a, b) => a.ms - b.ms || (a.position.key < b.position.key ? -1 : a.position.key > b.position.key ? 1 : 0));
    return { deleted: ordered, ...(newest ? { newest: { lastUpdated: newest.lastUpdated, key: newest.key } } : {}) };
  }

  /** What a history entry says: its record, version, instant and whether it is a deletion; a DELETE entry without them is quarantined. */
  function historyEntryOf(entry: Record<string, unknown>): { recordType: string; recordId: string; version: string; at: string; ms: number; key: string; deleted: boolean } | QuarantinedRecord | undefined {
    const request = (entry.request ?? {}) as { method?: unknown; url?: unknown };
    const response = (entry.response ?? {}) as { etag?: unknown; lastModified?: unknown };
    const resource = entry.resource as { resourceType?: unknown; id?: unknown; meta?: { versionId?: unknown; lastUpdated?: unknown } } | undefined;
    const deleted = request.method === 'DELETE';
    // "Type/id" from the request URL (possibly absolute, possibly with /_history/<v>), the full URL, or the resource.
    const path = /(?:^|\/)([A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/([^/?#]+))?\/?(?:[?#].*)?$/.exec(typeof request.url === 'string' && request.url.includes('/') ? request.url : typeof entry.fullUrl === 'string' ? entry.fullUrl : '');
    const recordType = typeof resource?.resourceType === 'string' ? resource.resourceType : path?.[1];
    const recordId = typeof resource?.id === 'string' ? resource.id : path?.[2];
    const version = typeof resource?.meta?.versionId === 'string' ? resource.meta.versionId : (/^(?:W\/)?"([^"]+)"$/.exec(typeof response.etag === 'string' ? response.etag : '')?.[1] ?? path?.[3]);
    const at = typeof response.lastModified === 'string' ? response.lastModified : typeof resource?.meta?.lastUpdated === 'string' ? resource.meta.lastUpdated : undefined;
    const ms = Date.parse(at ?? '');
    if (recordType && recordId && version && at && !Number.isNaN(ms)) return { recordType, recordId, version, at: new Date(ms).toISOString(), ms, key: `${recordType}/${recordId}`, deleted };
    if (!deleted) return undefined;
    const missing = [!recordType && 'the record type', !recordId && 'the record id', !version && 'the version', (!at || Number.isNaN(ms)) && 'a readable time'].filter(Boolean);
    return {
      recordType: recordType && definition.recordTypes.some((rt) => rt.type === recordType) ? recordType : 'unknown',
      recordId: recordId ?? null,
      reason: `a deletion in the history without ${missing.join(', ')}: it cannot be ordered or told apart, so the feed goes on without it`,
      raw: boundedJson(entry, RAW_LIMIT),
    };
  }

  /**
   * The CPR numbers of these Patients: from the cache, the rest read in batches by id (ids in a POST
   * body). Answered from a map of its own, so a page's Patients are all named however small the cache.
   */
  async function cprsOf(patientIds: readonly string[]): Promise<Map<string, string>> {
    const found = new Map<string, string>();
    const unknown: string[] = [];
    for (const id of new Set(patientIds)) {
      const cpr = cprByPatientId.get(id);
      if (cpr) found.set(id, cpr);
      else unknown.push(id);
    }
    for (let i = 0; i < unknown.length; i += PATIENT_BATCH) {
      const batch = unknown.slice(i, i + PATIENT_BATCH);
      for await (const bundle of pages(() => client.searchByPost('Patient', { _id: batch.join(','), _count: String(PATIENT_BATCH) }), 'Patients')) {
        for (const entry of bundle.entry ?? []) {
          const patient = checkContract(ServerPatient, entry.resource);
          const cpr = patient.success ? patient.data.identifier?.find((id) => id.system === CPR_SYSTEM)?.value : undefined;
          if (patient.success && cpr) {
            found.set(patient.data.id, cpr);
            cprByPatientId.set(patient.data.id, cpr);
          }
        }
      }
    }
    return found;
  }

  async function push(operation: PushOperation, idempotencyKey: string): Promise<PushReceipt> {
    const target = definition.pushTargets[operation.operation];
    if (!target) throw new AdapterError(`${definition.description.id} does not accept the operation "${operation.operation}"`, true, 'unsupported-operation');
    if (!idempotencyKey || idempotencyKey.length > 200) throw new AdapterError('an idempotency key of 1–200 characters is required', true, 'invalid-idempotency-key');
    const payload = operation.payload as { resourceType?: string; id?: string } | null;
    if (!payload || typeof payload !== 'object' || payload.resourceType !== target.resourceType) {
      throw new AdapterError(`the payload of "${operation.operation}" must be a ${target.resourceType}`, true, 'invalid-payload');
    }
    const patient = await findPatient(operation.cpr);
    if (!patient) throw new AdapterError(`the ${definition.description.name} does not know the citizen`, true, 'unknown-citizen');
    const resource = { ...payload, subject: { reference: `Patient/${patient.id}` } };
    const checked = checkContract(target.contract, resource);
    if (!checked.success) throw new AdapterError(`the ${target.resourceType} does not match the contract: ${checked.reason}`, true, 'invalid-payload');

    if (payload.id) {
      // A field-level write reads the resource and patches under the version read: no version needed.
      if (!operation.expectedVersion && !operation.fieldLevel) throw new AdapterError('an update needs the version last seen (expectedVersion) for If-Match', true, 'missing-expected-version');
      if (!operation.fieldLevel) {
        try {
          const result = await client.updateIfMatch(target.resourceType, payload.id, withOperationTag(checked.data, idempotencyKey), operation.expectedVersion!);
          writtenResource(result, target.resourceType, `update ${target.resourceType}`);
          return { targetId: payload.id, duplicate: false, ...versionOf(result) };
        } catch (error) {
          if (!(error instanceof VersionConflictError)) throw error;
        }
      }
      // The target changed the resource since our last write (or holds fields of its own): a PUT would
      // wipe what its caseworker wrote, so only the fields our mapping sets are written, as a patch.
      const previous = operation.previousPayload && typeof operation.previousPayload === 'object' ? checkContract(target.contract, { ...operation.previousPayload, subject: resource.subject }) : undefined;
      return patchOwnFields(target, payload.id, previous?.success ? (previous.data as object) : undefined, checked.data as object, idempotencyKey, operation);
    }
    const withKey = {
      ...checked.data,
      identifier: [...((checked.data as { identifier?: unknown[] }).identifier ?? []), { system: ENPLAN_OPERATION_SYSTEM, value: idempotencyKey }],
    };
    const result = await client.createIfNoneExist(target.resourceType, withKey, `identifier=${encodeURIComponent(`${ENPLAN_OPERATION_SYSTEM}|${idempotencyKey}`)}`);
    const { id } = writtenResource<{ id?: string }>(result, target.resourceType, `create ${target.resourceType}`);
    if (!id) throw new MalformedResponseError(`the answer to the ${target.resourceType} create has no id`, boundedJson(result.body, RAW_LIMIT));
    return { targetId: id, duplicate: result.status === 200, ...versionOf(result) };
  }

  /**
   * Reads the resource and patches the fields of ours that changed since `previous` (without it: in a
   * record they made, since what our mapping makes of it as the plan read it — that version by `vread`,
   * or as held now when the server no longer has it, which the receipt says; else every field of ours
   * that differs) under `If-Match` of the version read, leaving a field they changed too as they hold it
   * (`ownFieldPatch`); a second edit racing the patch gets one more read and patch, then the conflict
   * stands (permanent, as before).
   */
  async function patchOwnFields(target: FhirPushTarget, id: string, previous: object | undefined, next: object, idempotencyKey: string, operation: PushOperation): Promise<PushReceipt> {
    const resourceType = target.resourceType;
    const their = operation.theirRecord;
    // Their record at the version the plan read: read once (a version never changes); null when the server no longer serves it.
    let seen: FhirResourceBody | null | undefined;
    const asThePlanRead = async (current: FhirResourceBody): Promise<FhirResourceBody> => {
      const version = operation.seenVersion;
      if (!version || version === current.meta?.versionId) return current;
      if (seen === undefined) seen = await readVersion(resourceType, id, version);
      return seen ?? current;
    };
    for (let attempt = 1; ; attempt++) {
      const current = writtenResource<FhirResourceBody>(await client.read(resourceType, id), resourceType, `read ${resourceType}`);
      const meta = current.meta ?? {};
      // Our own earlier attempt may have landed (the answer was lost): then this is a replay.
      if (meta.tag?.some((t) => t.system === ENPLAN_OPERATION_TAG_SYSTEM && t.code === idempotencyKey)) {
        return { targetId: id, duplicate: true, fieldLevel: true, ...(meta.versionId ? { version: meta.versionId } : {}) };
      }
      if (!meta.versionId) throw new MalformedResponseError(`the ${resourceType} read has no meta.versionId to patch against`, boundedJson(current, RAW_LIMIT));
      // The operation tag marks this version as ours, as on an update (replay detection above).
      const tags = [...(meta.tag ?? []).filter((t) => t.system !== ENPLAN_OPERATION_TAG_SYSTEM), { system: ENPLAN_OPERATION_TAG_SYSTEM, code: idempotencyKey }];
      const rules = { theirChangesSeen: operation.seenVersion === meta.versionId, oursWins: operation.oursWins === true };
      // Their own record: ours placed among their entries and words; with no earlier payload, compared with the record as the plan read it.
      const [before, after] = their
        ? placedAmongTheirs(resourceType, their, previous, next, previous ? undefined : await asThePlanRead(current), current)
        : [previous, next];
      let own = ownFieldPatch(before, after, current, rules);
      // Their entries beside ours must still make a resource of the contract; else such an array is one value, both sides' changes a conflict.
      if (!checkContract(target.contract, withPatch(current, own.operations)).success) own = ownFieldPatch(before, after, current, { ...rules, keepTheirArrayEntries: false });
      const patch = [...own.operations, current.meta ? { op: 'add' as const, path: '/meta/tag', value: tags } : { op: 'add' as const, path: '/meta', value: { tag: tags } }];
      try {
        const result = await client.patchIfMatch(resourceType, id, patch, meta.versionId);
        writtenResource(result, resourceType, `patch ${resourceType}`);
        return {
          targetId: id,
          duplicate: false,
          fieldLevel: true,
          ...versionOf(result),
          ...(own.keptTheirs.length > 0 ? { keptTheirs: own.keptTheirs } : {}),
          ...(seen === null && operation.seenVersion ? { seenVersionUnavailable: operation.seenVersion } : {}),
        };
      } catch (error) {
        if (!(error instanceof VersionConflictError) || attempt >= 2) {
          if (error instanceof VersionConflictError) throw new VersionConflictError(`${error.message}; edited again while we patched it twice`, undefined);
          throw error;
        }
      }
    }
  }

  /** `vread`: the resource at `version`, or null when the server no longer serves it (404, 410). */
  async function readVersion(resourceType: string, id: string, version: string): Promise<FhirResourceBody | null> {
    try {
      return writtenResource<FhirResourceBody>(await client.vread(resourceType, id, version), resourceType, `read version ${version} of ${resourceType}`);
    } catch (error) {
      if (error instanceof AdapterError && (error.code === 'http-404' || error.code === 'http-410')) return null;
      throw error;
    }
  }

  /**
   * Whether the server serves the whole-system history the feed reads deletions from: yes when its
   * CapabilityStatement declares `history-system`, else as a probe of at most one entry from now
   * answers (many servers leave system interactions out of their statement). Undefined when it does;
   * else the warning for IT staff — a connection without history still works, it only misses deletions.
   */
  async function historyWarning(statement: CapabilityStatement): Promise<string | undefined> {
    if (statement.rest?.some((r) => r.interaction?.some((i) => i.code === 'history-system'))) return undefined;
    let answer: { status: number; body: unknown };
    try {
      answer = await client.systemHistoryAnswer({ _count: '1', _since: new Date().toISOString() });
    } catch (error) {
      return historyUnknown(error instanceof Error ? error.message : String(error));
    }
    const outcome = OperationOutcome.safeParse(answer.body);
    const issueCodes = outcome.success ? [...new Set(outcome.data.issue.map((i) => i.code))] : [];
    if (HISTORY_UNSUPPORTED_STATUSES.has(answer.status) || issueCodes.includes('not-supported')) {
      return `it does not declare history-system: ${DELETIONS_UNSEEN} (a history read was refused: HTTP ${answer.status}${issueCodes.length ? `, ${issueCodes.join(', ')}` : ''})`;
    }
    const isBundle = (answer.body as { resourceType?: unknown } | null)?.resourceType === 'Bundle';
    if (answer.status >= 200 && answer.status < 300 && isBundle) return undefined;
    const said = outcome.success ? outcome.data.issue.map((i) => i.diagnostics ?? i.details?.text ?? i.code).join('; ') : '';
    return historyUnknown(`HTTP ${answer.status}${said ? `: ${scrubCpr(said).slice(0, 200)}` : ''}`);
  }

  const historyUnknown = (why: string) =>
    `it does not declare history-system, and a history read to find out whether it offers history failed (${why}): until that is known, a record deleted there outright may not be seen here, and what it said may stay in the plans`;

  async function check(): Promise<CheckResult> {
    const started = performance.now();
    const latency = () => Math.round(performance.now() - started);
    try {
      const { body } = await client.capabilities();
      const statement = CapabilityStatement.safeParse(body);
      if (!statement.success) return { ok: false, latencyMs: latency(), detail: 'the metadata endpoint did not answer with a CapabilityStatement' };
      if (!statement.data.fhirVersion.startsWith('4.0')) return { ok: false, latencyMs: latency(), detail: `the server speaks FHIR ${statement.data.fhirVersion}, not R4 (4.0.x)` };
      const offered = new Set(statement.data.rest?.flatMap((r) => r.resource?.map((res) => res.type) ?? []) ?? []);
      const needed = ['Patient', ...definition.recordTypes.map((rt) => rt.type), ...Object.values(definition.pushTargets).map((t) => t.resourceType)];
      const missing = [...new Set(needed)].filter((type) => !offered.has(type));
      if (missing.length) return { ok: false, latencyMs: latency(), detail: `the server does not offer ${missing.join(', ')}` };
      // Our pushes work without JSON Patch until the system edits a resource we made: then our next
      // change to it cannot keep their fields and dead-letters. Worth telling IT staff, not failing for.
      const resources = statement.data.rest?.flatMap((r) => r.resource ?? []) ?? [];
      const unpatchable = [...new Set(Object.values(definition.pushTargets).map((t) => t.resourceType))].filter((type) =>
        resources.some((r) => r.type === type && r.interaction && !r.interaction.some((i) => i.code === 'patch')),
      );
      const notes = unpatchable.length
        ? [`it does not offer patch for ${unpatchable.join(', ')}: once the system edits a resource we made there, our next change to it cannot be written without losing their fields and is dead-lettered`]
        : [];
      // Deletions are read from the whole-system history: without it, a record deleted there outright stays in the plans.
      const history = definition.recordTypes.length > 0 ? await historyWarning(statement.data) : undefined;
      if (history) notes.push(history);
      const note = notes.map((n) => `; ${n}`).join('');
      return { ok: true, latencyMs: latency(), detail: `${statement.data.software?.name ?? 'FHIR server'} (FHIR ${statement.data.fhirVersion})${note}`, ...(notes.length ? { warnings: notes } : {}) };
    } catch (error) {
      return { ok: false, latencyMs: latency(), detail: error instanceof Error ? error.message : String(error) };
    }
  }

  const cursorAt = (at: Date) => encodeChangesCursor({ lastUpdated: at.toISOString(), key: '' });

  return { describe: () => definition.description, check, pull, pullMany, changes, cursorAt, push };
}

/**
 * Our payloads placed against their own record as held now (`PushOperation.theirRecord`): what we last
 * sent, else what our mapping makes of `read` (their record as the plan read it), and what we send now.
 * A placement that throws is our content having no place there: a permanent refusal, nothing written.
 */
function placedAmongTheirs(
  resourceType: string,
  their: NonNullable<PushOperation['theirRecord']>,
  previous: object | undefined,
  next: object,
  read: object | undefined,
  current: object,
): [object | undefined, object] {
  try {
    const before = previous ? their.placePrevious(previous, current) : read ? their.asRead(read, current) : undefined;
    return [before, their.place(next, current)];
  } catch (error) {
    if (error instanceof AdapterError) throw error;
    throw new AdapterError(`our content has no place in their own ${resourceType}: ${error instanceof Error ? error.message : String(error)}`, true, 'cannot-place');
  }
}

type FhirResourceBody = { id?: string; meta?: { versionId?: string; tag?: { system?: string; code?: string }[] } } & Record<string, unknown>;

/** Set by the server, never by our mappings: not ours to patch. */
const SERVER_FIELDS = new Set(['resourceType', 'id', 'meta']);

export interface FieldPatchRules {
  /**
   * The plan has read the version the target holds now, and holds no open conflict about it: a field
   * changed both there and here was changed here after theirs was seen, so ours is written.
   */
  theirChangesSeen?: boolean;
  /** A person settled the element's conflict in favour of our content: ours is written wherever theirs differs. */
  oursWins?: boolean;
  /** Array entries of theirs that were not in what we last sent are kept beside ours (default true); false: an array is one value. */
  keepTheirArrayEntries?: boolean;
}

export interface FieldPatch {
  operations: JsonPatchOperation[];
  /** JSON pointers of the fields both sides changed since our last delivery, left as the target holds them. */
  keptTheirs: string[];
}

/**
 * JSON Patch (RFC 6902) operations that make `current` carry our fields as in `next`, touching only
 * what our mapping sets. With `previous` (what we last sent) it is a three-way merge, field by field:
 * a field we did not change since is left as they hold it; one only we changed takes ours; one both
 * sides changed (they hold neither what we sent nor what we send now) is left as theirs and named in
 * `keptTheirs` (R18: flagged, not overwritten; the pull reads it and the merge flags the conflict),
 * unless `rules` say their change was seen or a person chose ours. Objects are merged member by
 * member (their members beside ours are kept). An array we changed keeps their entries that were not
 * in what we sent: item by item when we added or removed none, else our entries and then theirs, less
 * those of ours they removed. Without `previous` every field of ours that differs is written whole.
 */
export function ownFieldPatch(previous: object | undefined, next: object, current: object, rules: FieldPatchRules = {}): FieldPatch {
  const merge: Merge = {
    hasBase: previous !== undefined,
    keepTheirs: !rules.theirChangesSeen && !rules.oursWins,
    oursWins: rules.oursWins === true,
    keepTheirArrayEntries: rules.keepTheirArrayEntries !== false,
    keptTheirs: [],
  };
  const operations: JsonPatchOperation[] = [];
  diffInto(operations, merge, '', previous as Record<string, unknown> | undefined, next as Record<string, unknown>, current as Record<string, unknown>);
  return { operations, keptTheirs: merge.keptTheirs };
}

interface Merge {
  hasBase: boolean;
  keepTheirs: boolean;
  oursWins: boolean;
  keepTheirArrayEntries: boolean;
  keptTheirs: string[];
}

const pointer = (path: string, key: string | number) => `${path}/${String(key).replace(/~/g, '~0').replace(/\//g, '~1')}`;

function diffInto(operations: JsonPatchOperation[], merge: Merge, path: string, previous: Record<string, unknown> | undefined, next: Record<string, unknown>, current: Record<string, unknown>): void {
  for (const key of new Set([...Object.keys(next), ...Object.keys(previous ?? {})])) {
    if (path === '' && SERVER_FIELDS.has(key)) continue;
    const [before, after, there] = [previous?.[key], next[key], current[key]];
    if (merge.hasBase && !merge.oursWins && sameJson(before, after)) continue;
    const at = pointer(path, key);
    if (isPlainObject(after) && isPlainObject(there)) {
      diffInto(operations, merge, at, isPlainObject(before) ? before : merge.hasBase ? {} : undefined, after, there);
      continue;
    }
    const merged = mergedValue(merge, at, before, after, there);
    if (merged === undefined) {
      if (there !== undefined) operations.push({ op: 'remove', path: at });
    } else if (!sameJson(merged, there)) {
      operations.push({ op: 'add', path: at, value: merged });
    }
  }
}

/** What a field holds after the merge (undefined: absent). */
function mergedValue(merge: Merge, at: string, before: unknown, after: unknown, there: unknown): unknown {
  if (sameJson(after, there) || !merge.hasBase) return after;
  if (!merge.oursWins && sameJson(before, after)) return there;
  if (isPlainObject(after) && isPlainObject(there)) {
    const base = isPlainObject(before) ? before : {};
    const merged: Record<string, unknown> = { ...there };
    for (const key of new Set([...Object.keys(after), ...Object.keys(base)])) {
      const value = mergedValue(merge, pointer(at, key), base[key], after[key], there[key]);
      if (value === undefined) delete merged[key];
      else merged[key] = value;
    }
    return merged;
  }
  if (Array.isArray(after) && Array.isArray(there) && merge.keepTheirArrayEntries) return mergedArray(merge, at, Array.isArray(before) ? before : [], after, there);
  // A value both sides changed: theirs stands, and is named.
  if (merge.keepTheirs && !sameJson(before, there)) {
    merge.keptTheirs.push(at);
    return there;
  }
  return after;
}

function mergedArray(merge: Merge, at: string, before: unknown[], after: unknown[], there: unknown[]): unknown[] {
  const has = (list: unknown[], item: unknown) => list.some((other) => sameJson(other, item));
  // We changed entries in place (added or removed none): entry by entry, their appended ones after.
  if (before.length === after.length && there.length >= before.length) {
    return [...after.map((item, i) => mergedValue(merge, pointer(at, i), before[i], item, there[i])), ...there.slice(before.length)].filter((item) => item !== undefined);
  }
  // Ours, less those we sent unchanged that they have removed since; then theirs we never sent.
  const ours = after.filter((item) => !(has(before, item) && !has(there, item)));
  return [...ours, ...there.filter((item) => !has(before, item) && !has(after, item))];
}

/** `resource` as the patch (of object members only, as `ownFieldPatch` makes them) leaves it. */
function withPatch(resource: object, operations: readonly JsonPatchOperation[]): unknown {
  const copy = structuredClone(resource) as Record<string, unknown>;
  for (const operation of operations) {
    const keys = operation.path.split('/').slice(1).map((k) => k.replace(/~1/g, '/').replace(/~0/g, '~'));
    const last = keys.pop()!;
    let parent: Record<string, unknown> = copy;
    for (const key of keys) parent = (isPlainObject(parent[key]) ? parent[key] : (parent[key] = {})) as Record<string, unknown>;
    if (operation.op === 'remove') delete parent[last];
    else parent[last] = operation.value;
  }
  return copy;
}

const isPlainObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((item, i) => sameJson(item, b[i]));
  if (!isPlainObject(a) || !isPlainObject(b)) return false;
  const keys = Object.keys(a).filter((k) => a[k] !== undefined);
  return keys.length === Object.keys(b).filter((k) => b[k] !== undefined).length && keys.every((k) => sameJson(a[k], b[k]));
}

function withOperationTag<T extends object>(resource: T, idempotencyKey: string): T {
  const meta = (resource as { meta?: { tag?: { system?: string; code?: string }[] } }).meta ?? {};
  // The latest operation replaces the earlier operation tag: the tag marks who wrote this version.
  const tags = (meta.tag ?? []).filter((t) => t.system !== ENPLAN_OPERATION_TAG_SYSTEM);
  return { ...resource, meta: { ...meta, tag: [...tags, { system: ENPLAN_OPERATION_TAG_SYSTEM, code: idempotencyKey }] } };
}

function versionOf(result: FhirResult<unknown>): { version?: string } {
  const version = result.etagVersion ?? (result.body as { meta?: { versionId?: string } }).meta?.versionId;
  return version ? { version } : {};
}

/**
 * A contract's verdict on a value, with the reason in words. A value nested deeper than any record
 * has a reason to be is refused before the check: zod's recursive Extension schema (and every
 * JSON.stringify after it) would overflow the stack a few thousand levels down.
 */
export function checkContract<T>(contract: z.ZodType<T>, value: unknown): { success: true; data: T } | { success: false; reason: string } {
  // Measured even when the fast check would vouch for it: a loose object's unknown fields are not
  // walked by the checks, but the mappings' ignored-field report and a quarantine's copy do walk them.
  if (nestsDeeperThan(value)) return { success: false, reason: `record: nests objects and arrays more than ${MAX_RECORD_DEPTH} levels deep, too deep to check` };
  const parsed = contract.safeParse(value);
  return parsed.success ? { success: true, data: parsed.data } : { success: false, reason: issueText(parsed.error) };
}

function issueText(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((issue) => `${issue.path.length ? issue.path.join('.') : 'record'}: ${issue.message}`)
    .join('; ');
}
