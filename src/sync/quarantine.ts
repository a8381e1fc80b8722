/**
 * What IT staff do with a quarantined record (R24): dismiss it (the source's data is wrong and will
 * be corrected there, or it does not matter), or retry it — after a mapping was fixed, a code list
 * extended or the source corrected — so the next sync reads the citizen from that adapter again and
 * the record goes through its contract and mapping afresh (merged, or quarantined anew with the new
 * reason). Either way the entry leaves the open list, and the audit log says who did it and why.
 */
import type { AppDeps } from '../api/context';
import { ProblemError } from '../api/context';
import { redactCpr } from '../security/redact';
import { actorOf, type Principal } from '../security/principal';

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
