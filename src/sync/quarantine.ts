/**
 * What IT staff do with a quarantined record (R24): dismiss it (the source's data is wrong and will
 * be corrected there, or it does not matter), or retry it — after a mapping was fixed, a code list
 * extended or the source corrected — so the next sync reads the citizen from that adapter again and
 * the record goes through its contract and mapping afresh (merged, or quarantined anew with the new
 * reason). Either way the entry leaves the open list, and the audit log says who did it and why.
 */
import type { AppDeps } from '../api/context';
import { ProblemError } from '../api/context';
import { isAnonymousTreatmentBasis } from '../model';
import { LegacyCiphertextRefusedError, MisplacedCiphertextError } from '../security/cpr-vault';
import { redactCpr } from '../security/redact';
import { actorOf, type Principal } from '../security/principal';
import { QUARANTINE_PAYLOAD_OPEN_REFUSED, QUARANTINE_PAYLOAD_READ } from '../views/data-flows';
import { NESTED_DEEPER_MARKER } from '../../adapters/fhir/nesting';
import { SOAP_RECORD_RAW_LIMIT } from '../../adapters/soap/records';
import { RAW_LIMIT } from './engine';

export type QuarantineAction = 'dismiss' | 'retry';

export async function resolveQuarantined(deps: AppDeps, principal: Principal, id: string, request: { action: QuarantineAction; note?: string }) {
  const { store, clock } = deps;
  const entry = await store.sync.quarantineEntry(principal.tenant, id);
  if (!entry) throw new ProblemError('not-found', 'no quarantined record with that id');
  if (entry.resolvedAt) throw new ProblemError('quarantine-resolved', `the record was resolved at ${entry.resolvedAt}`);
  // Reading again needs to know whom: a bad change notice names no citizen we hold.
  if (request.action === 'retry' && !entry.citizenId)
    throw new ProblemError('quarantine-not-retryable', 'the entry names no citizen to read again (a change notice the source sent malformed); dismiss it, the next change is read as usual');
  const at = clock.now().toISOString();
  // A note is free text from IT staff: kept short, and nothing CPR-shaped (S4).
  const note = request.note === undefined ? undefined : redactCpr(request.note.trim()).slice(0, 500);
  const resolution = { action: request.action === 'retry' ? ('retried' as const) : ('dismissed' as const), by: actorOf(principal), at, ...(note ? { note } : {}) };
  // Resolved only if still open when the batch runs: of two resolutions at once (a form sent twice,
  // two colleagues) one is written with its audit row, and the other — whose retry would also forget
  // the marks of a record the first dismissed — writes nothing and is refused.
  const [resolve, ...alongWith] = store.sync.resolveQuarantineStatements(entry, resolution);
  const resolved = await store.audit.appendIfOneRowChanged(
    principal.tenant,
    [
      {
        at,
        actor: resolution.by,
        action: 'quarantine.resolved',
        targetType: 'quarantine',
        targetId: entry.id,
        citizenId: entry.citizenId ?? null,
        detail: { resolution: resolution.action, adapter: entry.adapter, recordType: entry.recordType, ...(note ? { note } : {}) },
      },
    ],
    resolve!,
    alongWith,
  );
  if (!resolved) throw new ProblemError('quarantine-resolved', `the record was resolved at ${(await store.sync.quarantineEntry(principal.tenant, id))?.resolvedAt ?? 'the same moment'}`);
  return { id: entry.id, resolution: resolution.action, resolvedAt: at };
}

/** What a look at a quarantined payload is for: shown to IT staff, or run through a mapping's preview. */
export type PayloadUse = { purpose: 'shown' } | { purpose: 'preview'; mapping: { id: string; version: string; adapter: string; recordType: string } };

const MASK = '[cpr]';
const masksIn = (text: string) => text.split(MASK).length - 1;

/**
 * A digit written as an escape (JSON `\u0031`, XML `&#49;` or `&#x31;`, URL `%31`) reads as a digit:
 * undone before masking, so a CPR number spelled that way is masked too.
 */
const plainDigits = (text: string) =>
  text.replace(/\\u003([0-9])|&#x3([0-9]);|&#(4[89]|5[0-7]);|%3([0-9])/gi, (_, json?: string, hex?: string, decimal?: string, url?: string) => json ?? hex ?? (decimal ? String(Number(decimal) - 48) : url!));

/**
 * Whether a payload may concern anonymous treatment (SEL § 101 a): its mapping failed, so no
 * intervention says so; any reference to a § 101 a anywhere in it counts, and so does a payload cut
 * at the stored length (what was cut is unknown). It fails closed, as the mappings do: the look is
 * then kept from the family (R4), never shown to it by mistake.
 */
export const mayConcernAnonymousTreatment = (text: string) => mayHaveBeenCut(text) || isAnonymousTreatmentBasis(plainDigits(text));

/**
 * Whether a kept payload may be only part of what the source sent: the engine keeps RAW_LIMIT
 * characters, a SOAP adapter fewer of a record failing its contract, and a FHIR adapter leaves out
 * what nests too deep. Judged by the shortest limit, so "may" errs towards yes.
 */
export const mayHaveBeenCut = (text: string) => text.length >= Math.min(RAW_LIMIT, SOAP_RECORD_RAW_LIMIT) || text.includes(NESTED_DEEPER_MARKER);

/** The text with every CPR-shaped number shown as `[cpr]`, and how many were. */
export function maskCprLike(text: string): { text: string; masked: number } {
  const plain = plainDigits(text);
  const masked = redactCpr(plain);
  return { text: masked, masked: masksIn(masked) - masksIn(plain) };
}

/** A JSON value with CPR-shaped numbers masked in its strings, and any number that is one shown as `[cpr]`. */
export function maskCprLikeIn(value: unknown): unknown {
  if (typeof value === 'string') return redactCpr(value);
  if (typeof value === 'number') return redactCpr(String(value)) === String(value) ? value : MASK;
  if (Array.isArray(value)) return value.map(maskCprLikeIn);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([key, v]) => [redactCpr(key), maskCprLikeIn(v)]));
  return value;
}

/**
 * Opens a quarantined record's stored payload for IT staff, and records the look before it is
 * answered: who, which record, when, what for — never the content (the citizen's log tells them, the
 * DPO's names who). A payload retention removed, none kept, or one that does not open where it lies
 * (sealed for another row, altered, under a key not configured) is a problem saying which, and the
 * attempt is audited too (`quarantine.payload-open-refused`, for the DPO; nothing was seen, so the
 * citizen's log leaves it out — decision 0021).
 */
export async function openQuarantinedPayload(deps: AppDeps, principal: Principal, id: string, use: PayloadUse) {
  const { store, clock, vault, logger, config } = deps;
  const entry = await store.sync.quarantineEntry(principal.tenant, id);
  if (!entry) throw new ProblemError('not-found', 'no quarantined record with that id');
  if (use.purpose === 'preview' && (use.mapping.adapter !== entry.adapter || use.mapping.recordType !== entry.recordType))
    throw new ProblemError('validation-failed', `the quarantined record is a ${entry.adapter} ${entry.recordType} record; ${use.mapping.id} maps ${use.mapping.adapter} ${use.mapping.recordType} records`);
  const audited = (action: string, detail: Record<string, unknown>) =>
    store.audit.append(principal.tenant, {
      at: clock.now().toISOString(),
      actor: actorOf(principal),
      action,
      targetType: 'quarantine',
      targetId: entry.id,
      citizenId: entry.citizenId ?? null,
      detail: { adapter: entry.adapter, recordType: entry.recordType, purpose: use.purpose, ...(use.purpose === 'preview' ? { mappingId: use.mapping.id, mappingVersion: use.mapping.version } : {}), ...detail },
    });
  /** The attempt is on record before the problem is answered: which refusal, never the content or the error's text. */
  const refuse = async (problem: 'quarantine-payload-pruned' | 'quarantine-payload-absent' | 'quarantine-payload-unreadable', detail: string): Promise<never> => {
    await audited(QUARANTINE_PAYLOAD_OPEN_REFUSED, { refusal: problem });
    throw new ProblemError(problem, detail);
  };
  if (!entry.raw) {
    if (entry.rawPrunedAt)
      return refuse('quarantine-payload-pruned', `retention removed the payload on ${entry.rawPrunedAt.slice(0, 10)} (payloads are kept ${config.retention.payloadDays} days; quarantined ${entry.createdAt.slice(0, 10)}); the reason and the record's identity are still listed`);
    return refuse('quarantine-payload-absent', 'no payload is kept for this record: none was stored with it, or retention removed it before the date of removal was recorded');
  }
  let text: string;
  try {
    text = await vault.openPayload(entry.raw, { column: 'quarantine.raw', tenant: principal.tenant, id: entry.id });
  } catch (error) {
    logger.warn('quarantined payload not opened', { quarantineId: entry.id, error: error instanceof Error ? error.message : String(error) });
    return refuse(
      'quarantine-payload-unreadable',
      error instanceof LegacyCiphertextRefusedError
        ? 'the stored payload is of an earlier format (v1/v2, not bound to its row) and CPR_LEGACY_CIPHERTEXTS is refuse, so it is not shown; the reason and the record’s identity are still listed'
        : error instanceof MisplacedCiphertextError
        ? 'the stored payload was sealed for another row or municipality, or altered, so it is not shown; the reason and the record’s identity are still listed'
        : `the stored payload cannot be opened: ${error instanceof Error ? error.message : 'unknown format'}`,
    );
  }
  const shown = maskCprLike(text);
  await audited(QUARANTINE_PAYLOAD_READ, { ...(use.purpose === 'preview' ? {} : { cprLikeNumbersMasked: shown.masked }), anonymousTreatment: mayConcernAnonymousTreatment(text) });
  /** `text` as stored, for a mapping to read; `shown` masked, for a person to. */
  return { entry, text, shown };
}

/** The mapping version a run used for a mapping, from the run's own figures. */
async function versionInRun(deps: AppDeps, tenant: string, runId: string | null, mappingId: string | null): Promise<string | null> {
  if (!runId || !mappingId) return null;
  const mappings = (await deps.store.sync.getRun(tenant, runId))?.stats.mappings as Record<string, { mappingVersion?: unknown }> | undefined;
  const version = mappings?.[mappingId]?.mappingVersion;
  return typeof version === 'string' ? version : null;
}

export const MASKING_NOTE = `Every number shaped like a CPR number is shown as ${MASK} (phone numbers and other ten-digit numbers too); the stored payload is unchanged.`;

/** A quarantined record's payload as IT staff see it (R24): masked, with why it failed and which mapping failed it. */
export async function readQuarantinedPayload(deps: AppDeps, principal: Principal, id: string) {
  const { entry, text, shown } = await openQuarantinedPayload(deps, principal, id, { purpose: 'shown' });
  const current = deps.mappings.find(entry.adapter, entry.recordType);
  return {
    id: entry.id,
    adapter: entry.adapter,
    recordType: entry.recordType,
    recordId: entry.recordId,
    runId: entry.runId,
    createdAt: entry.createdAt,
    resolvedAt: entry.resolvedAt,
    reason: redactCpr(entry.reason),
    mappingId: entry.mappingId,
    mappingVersion: await versionInRun(deps, principal.tenant, entry.runId, entry.mappingId),
    currentMapping: current ? { id: current.id, version: current.version } : null,
    payload: shown.text,
    mayBeCut: mayHaveBeenCut(text),
    masking: { cprLikeNumbers: shown.masked, note: MASKING_NOTE },
  };
}
export type QuarantinedPayload = Awaited<ReturnType<typeof readQuarantinedPayload>>;
