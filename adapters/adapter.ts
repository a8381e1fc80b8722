/**
 * The contract every sector adapter implements (after Airbyte's spec/check/read and Singer's taps).
 * Adapters differ only behind it: transport, the zod contract of the native format, and a simulator
 * live in the adapter's folder; what the data means lives in `mappings/`.
 *
 * R12 (no dragnet): `pull` reads one enrolled citizen, `pullMany` a list of named enrolled citizens. `changes` reports change notices; the sync
 * engine reads records only for notices about enrolled citizens and discards the rest unread.
 * CPR numbers travel in request bodies or headers only, never in URLs, logs or error messages.
 */
import type { SourceSystem } from '../src/model';

export interface AdapterDescription {
  id: SourceSystem;
  name: string;
  sector: 'employment' | 'education' | 'social' | 'health';
  /** Wire format, e.g. "SOAP 1.1 / XML" or "FHIR R4 JSON". */
  format: string;
  recordTypes: readonly string[];
  /** Operations `push` accepts (record types it can write). */
  pushOperations: readonly string[];
}

export interface CheckResult {
  ok: boolean;
  latencyMs: number;
  detail?: string;
  /**
   * What IT staff should know of a connection that works (`ok` stays true): something it will not do,
   * e.g. deletions at the source go unseen. Each is in `detail` too, for whoever shows only that.
   */
  warnings?: string[];
}

/** Whom to pull for. The CPR is needed to ask the sector system and is held in memory only. */
export interface PullSubject {
  citizenId: string;
  cpr: string;
}

/** One record of the native format, already checked against the adapter's zod contract. */
export interface SourceRecord<T = unknown> {
  recordType: string;
  recordId: string;
  /** The source's own version (DFDG version id, FHIR meta.versionId …); orders edits (F4). */
  version: string;
  updatedAt: string;
  payload: T;
}

/** A record that failed the contract: kept with a readable reason, never dropped silently. */
export interface QuarantinedRecord {
  recordType: string;
  recordId: string | null;
  reason: string;
  /** The offending payload, truncated; may hold personal data, so it is stored like a payload. */
  raw: string;
}

export interface PullManyOptions {
  /** A cursor from `changes`: only records changed after it (as `pull`'s cursor). */
  since?: string | null;
  /**
   * The mapping the caller will run per record type, as `id@version`. Adapters ignore it; a puller
   * that also maps (src/sync/pull-worker.ts) hands back its result only where it ran that mapping.
   */
  mappedWith?: Readonly<Record<string, string>>;
}

export interface PullResult {
  records: SourceRecord[];
  quarantined: QuarantinedRecord[];
  /** True when the source holds nothing at all for this citizen (STAR 1010, no Patient). */
  unknownAtSource?: boolean;
}

export interface ChangeNotice {
  cpr: string;
  recordType: string;
  recordId: string;
  version: string;
  updatedAt: string;
}

/**
 * A record the source deleted outright (FHIR `DELETE`), not a new version of it. The record is gone,
 * so the notice cannot name the citizen: the engine knows whose it was from what it merged.
 */
export interface DeletedRecord {
  recordType: string;
  recordId: string;
  /** The version the deletion wrote (a FHIR deletion is a version of its own): newer than any it deletes. */
  version: string;
  deletedAt: string;
}

export interface ChangesPage {
  changes: ChangeNotice[];
  /**
   * Records deleted outright, after `changes` in the feed's order and counted with them against the
   * page's `limit`. Absent where the source reports none (or cannot).
   */
  deleted?: DeletedRecord[];
  /**
   * Notices the source sent that do not match the contract: kept with a readable reason and
   * skipped, so one bad item cannot stop the feed. The cursor moves past them.
   */
  quarantined?: QuarantinedRecord[];
  /** Opaque; pass back as `since` to continue. Encodes the position and a tie-breaker. */
  cursor: string | null;
  hasMore: boolean;
}

export interface PushOperation {
  /** One of `describe().pushOperations`, e.g. "activity.upsert". */
  operation: string;
  cpr: string;
  /** The native payload made by the reverse mapping. */
  payload: unknown;
  /** For updates of FHIR resources: the version we last saw (sent as If-Match). */
  expectedVersion?: string;
  /**
   * For updates of FHIR resources: what our last delivery of this element sent (its payload as the
   * same mapping makes it), so a field-level write sends only the fields that changed since.
   */
  previousPayload?: unknown;
  /** The target holds fields that are not ours (an earlier write was field-level): write only ours. */
  fieldLevel?: boolean;
  /**
   * For a field-level write: the version of the target's record the plan has read and holds no open
   * conflict about. When the target still holds it, a field changed both there and here since our
   * last delivery was changed here after theirs was seen: ours is written, not kept as theirs.
   */
  seenVersion?: string;
  /** For a field-level write: a person settled the element's conflict in favour of our content, so ours is written wherever theirs differs. */
  oursWins?: boolean;
  /**
   * For a field-level write into a record the target made itself (not one a delivery of ours made):
   * each payload re-expressed against `record`, their record as held now (our array entries where our
   * pull reads them, theirs kept; a value that reads back as ours left in their words). `place`: what
   * we send now; `placePrevious`: what our last delivery sent (`previousPayload`); `asRead`: without a
   * previous payload, the payload our mapping makes of `read` — their record at the version the plan
   * read (`seenVersion`, read by `vread`), or as held now when it read that or the server no longer has
   * it — the base of the write. Each may throw when our content cannot be placed there (a permanent refusal).
   */
  theirRecord?: { place(payload: object, record: object): object; placePrevious(payload: object, record: object): object; asRead(read: object, record: object): object | undefined };
}

export interface PushReceipt {
  /** The target's id of what it now holds. */
  targetId: string;
  /** True when the target already had this operation (idempotent replay). */
  duplicate: boolean;
  version?: string;
  /** Written field by field (FHIR PATCH) into a resource the target also edits: later updates must be too. */
  fieldLevel?: boolean;
  /**
   * Fields (JSON pointers into the native record) both sides changed since our last delivery, left as
   * the target holds them: the write landed in part, and the conflict is a person's to settle.
   */
  keptTheirs?: string[];
  /**
   * A first write into the target's own record was to be compared with the version the plan read
   * (`seenVersion`, this one), which the server no longer serves (404/410): it was compared with the
   * record as held now, so a field they changed since that read and we changed too took ours.
   */
  seenVersionUnavailable?: string;
}

/** Why a call failed, in words IT staff can act on; `permanent` failures go to the dead letters. */
export class AdapterError extends Error {
  constructor(
    message: string,
    readonly permanent: boolean,
    readonly code: string,
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = 'AdapterError';
  }
}

export interface SourceAdapter {
  describe(): AdapterDescription;
  check(): Promise<CheckResult>;
  pull(subject: PullSubject, cursor?: string | null): Promise<PullResult>;
  /**
   * Several named, enrolled citizens in a few requests (still R12: only the subjects asked for).
   * Returns a result for every subject, keyed by `citizenId`; a subject the source does not know
   * gets `{ records: [], quarantined: [], unknownAtSource: true }`. Records that cannot be tied to
   * exactly one asked subject never come back. Throws if the batch as a whole failed; the engine
   * then pulls the subjects one by one, so one bad citizen cannot hold back the others.
   */
  pullMany?(subjects: readonly PullSubject[], options?: PullManyOptions): Promise<Map<string, PullResult>>;
  changes(since: string | null, limit?: number): Promise<ChangesPage>;
  /**
   * A cursor at a moment of the source's clock, for feeds ordered by change time. Lets a first
   * catch-up (which reads every enrolled citizen's current state) follow the feed from its own
   * start instead of replaying the source's whole history.
   */
  cursorAt?(at: Date): string;
  push(operation: PushOperation, idempotencyKey: string): Promise<PushReceipt>;
}

/**
 * Error codes by which a source says it holds nothing for this person (STAR-style 1010 "unknown
 * CPR"). For a pull that means "no records here", not a failure.
 */
export const unknownSubjectCodes: ReadonlySet<string> = new Set(['1010', 'unknown-subject']);
