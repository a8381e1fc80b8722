/**
 * The audit chain keyed with AUDIT_CHAIN_KEY (decision 0030, "Later"): someone holding the database
 * file but not the key could rewrite a plain SHA-256 chain — every hash after their edit recomputed —
 * and verify would find nothing without an anchor kept outside. With the key, the rows they write are
 * not keyed, and verify names the first. A chain written before the key was set is covered from the
 * first keyed row on (its hash covers every row before it); the service keys each chain's end at start
 * and nightly, so that does not wait for the next audited action.
 */
import { and, asc, eq, sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config';
import { monitoringOverview, toPrometheus } from '../../src/monitoring/overview';
import { createStore } from '../../src/store';
import { chainHash, keyedChainHash, type AuditRow } from '../../src/store/audit';
import { openLibsqlDatabase } from '../../src/store/libsql';
import { auditHeads, auditLog } from '../../src/store/schema';
import { keyAuditChainEnds } from '../../src/sync/retention';
import { runRetention } from '../../src/sync/retention';
import { dropAuditGuards } from '../support/audit-guards';
import { startTestApp } from '../support/node-app';

const KEY = 'a-test-audit-chain-key-of-at-least-32-chars';
const entry = (i: number) => ({ at: `2026-11-25T10:00:0${i}.000Z`, actor: 'caseworker:a', action: 'plan.read', targetType: 'plan', targetId: 'p-1', citizenId: 'c-1', detail: { view: 'caseworker' } });

async function database() {
  const opened = await openLibsqlDatabase(':memory:');
  await dropAuditGuards(opened.db as never); // what someone holding the file can do
  return opened;
}
const rowsOf = async (db: any, tenant = '101'): Promise<AuditRow[]> =>
  (await db.select().from(auditLog).where(eq(auditLog.tenant, tenant)).orderBy(asc(auditLog.seq))).map((r: any) => ({ ...r, detail: JSON.parse(r.detail) }));

/**
 * What someone holding the file (and not the key) does: edits row `from`, then recomputes the hash of
 * it and every row after it — as a plain chain would need — and moves the recorded head along.
 */
async function rewriteFrom(db: any, from: number, tenant = '101') {
  const rows = await rowsOf(db, tenant);
  let prevHash = rows[from - 2]?.hash ?? '0'.repeat(64);
  for (const row of rows.slice(from - 1)) {
    const { hash: _old, ...rest } = row;
    const edited = { ...rest, actor: row.seq === from ? 'caseworker:mallory' : row.actor, prevHash };
    const hash = await chainHash(edited);
    await db.update(auditLog).set({ actor: edited.actor, prevHash, hash }).where(and(eq(auditLog.tenant, tenant), eq(auditLog.seq, row.seq)));
    prevHash = hash;
  }
  await db.update(auditHeads).set({ hash: prevHash }).where(eq(auditHeads.tenant, tenant));
}

describe('an audit chain keyed with AUDIT_CHAIN_KEY', () => {
  it('catches a rewrite with every hash recomputed, which the plain chain cannot', async () => {
    const plain = await database();
    const plainStore = createStore(plain);
    for (let i = 1; i <= 5; i++) await plainStore.audit.append('101', entry(i));
    await rewriteFrom(plain.db, 3);
    // The plain chain holds: only an anchor logged earlier would show the rewrite.
    expect(await plainStore.audit.verify('101')).toEqual({ ok: true, rows: 5 });

    const keyed = await database();
    const keyedStore = createStore(keyed, { auditChainKey: KEY });
    for (let i = 1; i <= 5; i++) await keyedStore.audit.append('101', entry(i));
    expect(await keyedStore.audit.verify('101')).toEqual({ ok: true, rows: 5, keyedFrom: 1 });
    const [first] = await rowsOf(keyed.db);
    const { hash, ...unhashed } = first!;
    expect(hash).toBe(keyedChainHash(unhashed, KEY));
    expect(hash).not.toBe(await chainHash(unhashed));
    await rewriteFrom(keyed.db, 3);
    expect(await keyedStore.audit.verify('101')).toMatchObject({ ok: false, rows: 2, brokenAtSeq: 3, reason: 'its hash is not keyed though the chain is keyed from row 1: it was written without AUDIT_CHAIN_KEY, outside the service' });
  });

  it('names an edited keyed row, and a check without the key says the rows may be keyed rather than passing them', async () => {
    const keyed = await database();
    const store = createStore(keyed, { auditChainKey: KEY });
    for (let i = 1; i <= 3; i++) await store.audit.append('101', entry(i));
    const withoutKey = createStore(keyed);
    expect(await withoutKey.audit.verify('101')).toMatchObject({ ok: false, brokenAtSeq: 1, reason: 'its content does not match its hash, or the row is keyed with AUDIT_CHAIN_KEY, which this check was not given' });
    const withOtherKey = createStore(keyed, { auditChainKey: `${KEY}-but-another` });
    expect(await withOtherKey.audit.verify('101')).toMatchObject({ ok: false, brokenAtSeq: 1, reason: 'its content does not match its hash' });
    await keyed.db.update(auditLog).set({ actor: 'caseworker:mallory' }).where(and(eq(auditLog.tenant, '101'), eq(auditLog.seq, 2)));
    expect(await store.audit.verify('101')).toMatchObject({ ok: false, rows: 1, brokenAtSeq: 2, reason: 'its content does not match its keyed hash' });
  });

  it('a chain written before the key was set is covered once a keyed row follows: a rewrite of its older rows breaks the link to it', async () => {
    const file = await database();
    const before = createStore(file);
    for (let i = 1; i <= 3; i++) await before.audit.append('101', entry(i));
    const after = createStore(file, { auditChainKey: KEY });
    expect(await after.audit.verify('101')).toEqual({ ok: true, rows: 3, notKeyed: true });
    // The service keys the chain's end (at start, nightly): from then on the older rows are covered.
    expect(await after.audit.keyChainEnd('101', '2026-11-25T11:00:00.000Z')).toBe(true);
    expect(await after.audit.keyChainEnd('101', '2026-11-25T11:00:01.000Z')).toBe(false);
    await after.audit.append('101', entry(5));
    expect(await after.audit.verify('101')).toEqual({ ok: true, rows: 5, keyedFrom: 4 });
    expect((await after.audit.list('101', { afterSeq: 3 }))[0]).toMatchObject({ action: 'audit.chain-keyed', actor: 'system:audit', targetType: 'audit-chain', citizenId: null });
    // Rewriting row 2 and recomputing every plain hash up to the keyed row: that row's link no longer holds,
    // and recomputing it as well would need the key.
    const rows = await rowsOf(file.db);
    let prevHash = rows[0]!.hash;
    for (const row of rows.slice(1, 3)) {
      const { hash: _old, ...rest } = row;
      const edited = { ...rest, actor: row.seq === 2 ? 'caseworker:mallory' : row.actor, prevHash };
      const hash = await chainHash(edited);
      await file.db.update(auditLog).set({ actor: edited.actor, prevHash, hash }).where(and(eq(auditLog.tenant, '101'), eq(auditLog.seq, row.seq)));
      prevHash = hash;
    }
    expect(await after.audit.verify('101')).toMatchObject({ ok: false, rows: 3, brokenAtSeq: 4, reason: 'it does not link to the row before it' });
    // Cutting the keyed rows away and rewriting the rest leaves no keyed row: verify with the key says so.
    await file.db.run(sql`delete from audit_log where tenant = '101' and seq >= 4`);
    await file.db.update(auditHeads).set({ seq: 3, hash: prevHash }).where(eq(auditHeads.tenant, '101'));
    expect(await after.audit.verify('101')).toEqual({ ok: true, rows: 3, notKeyed: true });
  });

  it('a prefix cut off by someone holding the file is named: the audit.pruned row that would excuse it cannot be keyed without the key (decision 0030)', async () => {
    const file = await openLibsqlDatabase(':memory:');
    const service = createStore(file, { auditChainKey: KEY });
    for (let i = 1; i <= 8; i++) await service.audit.append('101', { ...entry(i), at: `2025-0${i}-01T10:00:00.000Z` });
    // As the service's retention would, but without the key: rows 1–5 go, the base moves, audit.pruned is appended.
    await createStore(file).audit.pruneBefore('101', '2025-06-01T00:00:00.000Z', 100, { at: '2026-11-25T02:30:00.000Z', actor: 'system:retention' });
    expect(await service.audit.verify('101')).toMatchObject({ ok: false, brokenAtSeq: 9, reason: 'its hash is not keyed though the chain is keyed from row 6: it was written without AUDIT_CHAIN_KEY, outside the service' });
    // The service's own pruning, with the key, verifies.
    const genuine = await openLibsqlDatabase(':memory:');
    const keyed = createStore(genuine, { auditChainKey: KEY });
    for (let i = 1; i <= 8; i++) await keyed.audit.append('101', { ...entry(i), at: `2025-0${i}-01T10:00:00.000Z` });
    expect(await keyed.audit.pruneBefore('101', '2025-06-01T00:00:00.000Z', 100, { at: '2026-11-25T02:30:00.000Z', actor: 'system:retention' })).toBe(5);
    expect(await keyed.audit.verify('101')).toEqual({ ok: true, rows: 4, prunedThrough: 5, keyedFrom: 6 });
  });

  it('a change of key: rows under the retired key still verify, the chain moves to the new key at its end, and the retired key can add nothing after that', async () => {
    const OLD = `${KEY}-the-old-one`;
    const file = await database();
    const before = createStore(file, { auditChainKey: OLD });
    for (let i = 1; i <= 2; i++) await before.audit.append('101', entry(i));
    // The new key alone cannot tell the old rows from edited ones; with the old one retired, they verify.
    expect(await createStore(file, { auditChainKey: KEY }).audit.verify('101')).toMatchObject({ ok: false, brokenAtSeq: 1, reason: 'its content does not match its hash' });
    const after = createStore(file, { auditChainKey: KEY, auditChainKeysRetired: [OLD] });
    expect(await after.audit.verify('101')).toEqual({ ok: true, rows: 2, keyedFrom: 1 });
    expect(await after.audit.keyChainEnd('101', '2026-11-25T11:00:00.000Z')).toBe(true);
    await after.audit.append('101', entry(4));
    expect(await after.audit.verify('101')).toEqual({ ok: true, rows: 4, keyedFrom: 1 });
    // Someone with the old key (it may have leaked) and the database file appends a row under it.
    await createStore(file, { auditChainKey: OLD }).audit.append('101', entry(5));
    expect(await after.audit.verify('101')).toMatchObject({ ok: false, rows: 4, brokenAtSeq: 5, reason: 'it is keyed with a retired AUDIT_CHAIN_KEY, though the chain is keyed with the current one from row 3: it was written outside the service' });
    expect(() => loadConfig({ NODE_ENV: 'test', AUDIT_CHAIN_KEYS_RETIRED: OLD })).toThrow(/AUDIT_CHAIN_KEYS_RETIRED needs AUDIT_CHAIN_KEY/);
    expect(loadConfig({ NODE_ENV: 'test', AUDIT_CHAIN_KEY: KEY, AUDIT_CHAIN_KEYS_RETIRED: ` ${OLD}  ` }).auditChainKeysRetired).toEqual([OLD]);
  });

  it('the nightly job keys every chain not keyed yet, before it logs the heads as anchors', async () => {
    const app = await startTestApp({ env: { AUDIT_CHAIN_KEY: KEY } });
    const unkeyed = createStore(app.database);
    for (const tenant of ['101', '751']) for (let i = 1; i <= 2; i++) await unkeyed.audit.append(tenant, entry(i));
    await runRetention(app.deps);
    for (const tenant of ['101', '751']) expect(await app.deps.store.audit.verify(tenant)).toMatchObject({ ok: true, keyedFrom: 3 });
    // The anchors logged are the keyed heads.
    const heads = app.logger.lines.map((line) => JSON.parse(line) as { message: string; tenant?: string; seq?: number }).filter((line) => line.message === 'audit chain head');
    expect(heads.map((line) => [line.tenant, line.seq]).sort()).toEqual([['101', 3], ['751', 3]]);
    // Nothing to do the next time.
    expect(await keyAuditChainEnds(app.deps)).toBe(0);
    await app.close();
  });

  it('tells IT staff whether the chain is keyed (overview, /metrics), so a deployment without the key can be alerted on', async () => {
    for (const [env, keyed] of [[{ AUDIT_CHAIN_KEY: KEY }, 1], [{}, 0]] as const) {
      const app = await startTestApp({ env });
      const overview = await monitoringOverview(app.deps, '101');
      expect(overview.auditChainKeyed).toBe(keyed === 1);
      expect(toPrometheus(overview)).toContain(`enplan_audit_chain_keyed{tenant="101"} ${keyed}`);
      await app.close();
    }
  });

  it('is configured with a key of its own: at least 32 characters, never the public development key in production; unset in tests, set in development', () => {
    expect(() => loadConfig({ NODE_ENV: 'test', AUDIT_CHAIN_KEY: 'too-short' })).toThrow(/AUDIT_CHAIN_KEY needs at least 32 characters/);
    expect(loadConfig({ NODE_ENV: 'test' }).auditChainKey).toBeUndefined();
    const development = loadConfig({ NODE_ENV: 'development' }).auditChainKey;
    expect(development).toEqual(expect.any(String));
    expect(() => loadConfig({ NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(32), CPR_KEY: 'y'.repeat(32), AUDIT_CHAIN_KEY: development })).toThrow(/development key/);
    expect(loadConfig({ NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(32), CPR_KEY: 'y'.repeat(32), AUDIT_CHAIN_KEY: KEY }).auditChainKey).toBe(KEY);
  });
});
