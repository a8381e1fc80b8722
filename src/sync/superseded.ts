/**
 * A quarantined record whose source sent a corrected version: once that version merges, the older
 * open entries of the record (same tenant, adapter, record type and record id) are closed as
 * superseded — by the sync, naming the version and the run — in the merge's own batch, and audited
 * as IT staff's resolutions are (`quarantine.resolved`), so the open list and the
 * `enplan_quarantine_open` gauge show only what still waits for someone.
 */
import type { AuditEntry, Store } from '../store';
import type { Statement } from '../store/db';

export interface MergedRecord {
  adapter: string;
  recordType: string;
  recordId: string;
  recordVersion: string;
  runId: string;
  /** The plan write the merge rides on: a merge that loses its plan race closes nothing. */
  planWrite?: { planId: string; writeId: string };
}

/**
 * The statements closing the open entries these merged records supersede, and their audit entries;
 * `ridesOn` names, for an entry closed with a plan write, that plan (the entry is written only if the write wins). One query per source.
 */
export async function supersededQuarantine(store: Store, tenant: string, merged: readonly MergedRecord[], at: string, actorOf: (adapter: string) => string): Promise<{ statements: Statement[]; auditEntries: AuditEntry[]; ridesOn: Map<AuditEntry, string> }> {
  const statements: Statement[] = [];
  const auditEntries: AuditEntry[] = [];
  const ridesOn = new Map<AuditEntry, string>();
  for (const adapter of new Set(merged.map((m) => m.adapter))) {
    const ofAdapter = merged.filter((m) => m.adapter === adapter);
    const byRecord = new Map(ofAdapter.map((m) => [`${m.recordType}\u0000${m.recordId}`, m]));
    for (const entry of await store.sync.openQuarantineOfRecords(tenant, adapter, ofAdapter.map((m) => m.recordId))) {
      const by = byRecord.get(`${entry.recordType}\u0000${entry.recordId}`);
      if (!by) continue;
      const actor = actorOf(adapter);
      const note = `superseded: version ${by.recordVersion} of the record merged (run ${by.runId})`;
      statements.push(store.sync.supersedeQuarantineStatement(tenant, entry.id, { action: 'superseded', by: actor, at, note }, by.planWrite));
      const audited: AuditEntry = {
        at,
        actor,
        action: 'quarantine.resolved',
        targetType: 'quarantine',
        targetId: entry.id,
        citizenId: entry.citizenId ?? null,
        detail: { resolution: 'superseded', adapter, recordType: entry.recordType, supersededBy: { recordVersion: by.recordVersion, runId: by.runId } },
      };
      auditEntries.push(audited);
      if (by.planWrite) ridesOn.set(audited, by.planWrite.planId);
    }
  }
  return { statements, auditEntries, ridesOn };
}
