/**
 * Verifies the hash chain of the audit log: `npm run audit:verify [-- --tenant 101] [-- --anchor 101:57:<hash> ...]`.
 * Exit 1 names the first broken row. Every tenant with rows or a recorded head is checked (a tenant
 * whose rows were all deleted still has its head). An anchor is a head the nightly job logged
 * (`audit chain head`, {tenant, seq, hash}), kept outside the database: the chain must still hold
 * that row with that hash — what catches a rewrite with every hash recomputed (docs/decisions/0019). A chain
 * retention pruned is checked from its base, which an `audit.pruned` row must record (docs/decisions/0030).
 * Exit 2: the arguments could not be read.
 */
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config';
import { createStore } from '../src/store';
import { parseAnchor, type AuditAnchor } from '../src/store/audit';
import { databaseUrlFor, openLibsqlDatabase } from '../src/store/libsql';

const { values } = parseArgs({ options: { tenant: { type: 'string' }, database: { type: 'string' }, anchor: { type: 'string', multiple: true } } });
const anchors = new Map<string, AuditAnchor[]>();
for (const text of values.anchor ?? []) {
  const anchor = parseAnchor(text);
  if (!anchor) {
    process.stderr.write(`--anchor ${text}: expected <tenant>:<seq>:<hash> (seq a whole number from 1, hash 64 hex digits, whole or in the groups the nightly job logs)\n`);
    process.exit(2);
  }
  anchors.set(anchor.tenant, [...(anchors.get(anchor.tenant) ?? []), { seq: anchor.seq, hash: anchor.hash }]);
}
const config = loadConfig(process.env);
const database = await openLibsqlDatabase(values.database ?? databaseUrlFor(config.dataDir));
// The service's AUDIT_CHAIN_KEY: keyed rows are checked with it (without it they cannot be told from edited ones).
const store = createStore(database, { auditChainKey: config.auditChainKey, auditChainKeysRetired: config.auditChainKeysRetired });
// An anchored tenant is checked even if the database no longer knows it at all.
const tenants = values.tenant ? [values.tenant] : [...new Set([...(await store.audit.tenants()), ...anchors.keys()])];
let broken = false;
for (const tenant of tenants) {
  const tenantAnchors = anchors.get(tenant) ?? [];
  const result = await store.audit.verify(tenant, { anchors: tenantAnchors });
  if (result.ok) {
    const held = tenantAnchors.length > 0 ? `; ${result.anchorsHeld} anchor${result.anchorsHeld === 1 ? '' : 's'} held` : '';
    // A chain retention pruned (RETENTION_AUDIT_DAYS) is checked from its base; anchors before it are gone with their rows.
    const pruned = result.prunedThrough ? `, rows 1 to ${result.prunedThrough} pruned by retention` : '';
    const unchecked = result.anchorsPruned ? `; ${result.anchorsPruned} anchor${result.anchorsPruned === 1 ? '' : 's'} at pruned rows not checkable` : '';
    const keyed = result.keyedFrom ? `, keyed from row ${result.keyedFrom}` : result.notKeyed ? '; no row is keyed yet (the service keys the chain at start, at each Cron Trigger on Workers, and nightly): until then someone holding the database file could rewrite it' : '';
    process.stdout.write(`tenant ${tenant}: ${result.rows} audit rows, chain intact${pruned}${keyed}${held}${unchecked}\n`);
  } else {
    broken = true;
    process.stdout.write(`tenant ${tenant}: chain broken at row ${result.brokenAtSeq}: ${result.reason} (${result.rows} rows before it are intact)\n`);
  }
}
await database.close();
process.exit(broken ? 1 : 0);
