/**
 * The audit log's own retention (R16; RETENTION_AUDIT_DAYS, decision 0030). It was kept for ever. Now a
 * municipality may set a period: retention deletes the chain's oldest rows past it, moves the chain's
 * base to the last row deleted and appends `audit.pruned`, all in one batch. Verify still walks the
 * chain from its base, and S5 still holds for everything kept: the database refuses to delete any row
 * above the base, and a base that no `audit.pruned` row records is named as rows cut out.
 */
import { and, eq, sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config';
import { retentionOf } from '../../src/consent/processing-record';
import { createStore } from '../../src/store';
import { openLibsqlDatabase } from '../../src/store/libsql';
import { auditBases, auditLog } from '../../src/store/schema';
import { runRetention } from '../../src/sync/retention';
import { logKeptSentence } from '../../src/views/citizen';
import { testCpr } from '../support/cpr';
import { startTestApp } from '../support/node-app';
import { enrol } from '../support/seed';

const day = 86_400_000;
const entry = (at: string, i: number) => ({ at, actor: 'caseworker:a', action: 'plan.read', targetType: 'plan', targetId: `p-${i}`, citizenId: 'c-1', detail: { view: 'caseworker' } });
const rowOf = (tenant: string, seq: number) => and(eq(auditLog.tenant, tenant), eq(auditLog.seq, seq));
async function refusal(write: Promise<unknown>): Promise<string> {
  const error = await write.then(() => undefined, (e: unknown) => e);
  expect(error).toBeDefined();
  return String((error as { cause?: unknown }).cause ?? error);
}

/** Five rows a year ago, three this week, in a store of its own. */
async function chainOfAges() {
  const database = await openLibsqlDatabase(':memory:');
  const store = createStore(database);
  for (let i = 1; i <= 5; i++) await store.audit.append('101', entry(`2025-11-0${i}T10:00:00.000Z`, i));
  for (let i = 6; i <= 8; i++) await store.audit.append('101', entry(`2026-11-2${i - 5}T10:00:00.000Z`, i));
  await store.audit.append('751', entry('2025-11-01T10:00:00.000Z', 1));
  const pruned = { at: '2026-11-25T02:30:00.000Z', actor: 'system:retention' };
  return { database, store, db: database.db as any, pruned };
}

describe('audit log retention: the chain pruned from its start', () => {
  it('deletes the rows written before the cut-off, oldest first, and the chain still verifies from its base', async () => {
    const { store, pruned } = await chainOfAges();
    const hashOfRow5 = (await store.audit.list('101')).find((r) => r.seq === 5)!.hash;
    // A cap of three rows a batch: the first batch stops at row 3, the next at row 5 (the first row kept is 6).
    expect(await store.audit.pruneBefore('101', '2026-05-29T00:00:00.000Z', 3, pruned)).toBe(3);
    expect(await store.audit.verify('101')).toEqual({ ok: true, rows: 6, prunedThrough: 3 });
    expect(await store.audit.pruneBefore('101', '2026-05-29T00:00:00.000Z', 3, pruned)).toBe(2);
    expect(await store.audit.pruneBefore('101', '2026-05-29T00:00:00.000Z', 3, pruned)).toBe(0);
    const kept = await store.audit.list('101');
    // Rows 6–8, then the two `audit.pruned` rows that recorded each batch (written now: kept).
    expect(kept.map((r) => [r.seq, r.action])).toEqual([[6, 'plan.read'], [7, 'plan.read'], [8, 'plan.read'], [9, 'audit.pruned'], [10, 'audit.pruned']]);
    expect(kept.at(-1)!.detail).toMatchObject({ fromSeq: 4, throughSeq: 5, throughHash: hashOfRow5, before: '2026-05-29T00:00:00.000Z' });
    expect(await store.audit.base('101')).toEqual({ seq: 5, hash: hashOfRow5 });
    expect(await store.audit.verify('101')).toEqual({ ok: true, rows: 5, prunedThrough: 5 });
    // Anchors logged before: one at a row pruned is no longer checkable; one at the base still is.
    expect(await store.audit.verify('101', { anchors: [{ seq: 2, hash: 'a'.repeat(64) }, { seq: 5, hash: hashOfRow5 }, { seq: 8, hash: kept[2]!.hash }] })).toEqual({ ok: true, rows: 5, prunedThrough: 5, anchorsHeld: 2, anchorsPruned: 1 });
    expect(await store.audit.verify('101', { anchors: [{ seq: 5, hash: 'b'.repeat(64) }] })).toMatchObject({ ok: false, brokenAtSeq: 5, reason: expect.stringContaining('the chain was rewritten') });
    // Another municipality's chain is its own.
    expect(await store.audit.verify('751')).toEqual({ ok: true, rows: 1 });
    // Appends go on after the pruned chain's head.
    await store.audit.append('101', entry('2026-11-25T09:00:00.000Z', 11));
    expect(await store.audit.verify('101')).toEqual({ ok: true, rows: 6, prunedThrough: 5 });
  });

  it('the database still refuses to delete any row above the base, or to move the base back', async () => {
    const { store, db, pruned } = await chainOfAges();
    await store.audit.pruneBefore('101', '2026-05-29T00:00:00.000Z', 100, pruned);
    expect(await refusal(db.delete(auditLog).where(rowOf('101', 6)))).toContain('the audit log is append-only: its rows cannot be deleted');
    expect(await refusal(db.run(sql`delete from audit_log`))).toContain('the audit log is append-only: its rows cannot be deleted');
    expect(await refusal(db.update(auditBases).set({ seq: 2 }).where(eq(auditBases.tenant, '101')))).toContain('an audit chain base only moves forward');
    expect(await refusal(db.delete(auditBases))).toContain('an audit chain base cannot be deleted');
    // The other municipality has no base: none of its rows can go.
    expect(await refusal(db.delete(auditLog).where(rowOf('751', 1)))).toContain('the audit log is append-only');
    expect(await store.audit.verify('101')).toEqual({ ok: true, rows: 4, prunedThrough: 5 });
  });

  it('names rows cut out by moving the base by hand (no audit.pruned records it), and a row inserted below the base', async () => {
    const { store, db, pruned } = await chainOfAges();
    await store.audit.pruneBefore('101', '2026-05-29T00:00:00.000Z', 100, pruned);
    const row7 = (await store.audit.list('101')).find((r) => r.seq === 7)!;
    // Someone holding the file moves the base forward (the triggers allow that) and deletes rows 6 and 7 under it.
    await db.update(auditBases).set({ seq: 7, hash: row7.hash }).where(eq(auditBases.tenant, '101'));
    await db.delete(auditLog).where(and(eq(auditLog.tenant, '101'), sql`${auditLog.seq} <= 7`));
    expect(await store.audit.verify('101')).toMatchObject({ ok: false, brokenAtSeq: 8, reason: expect.stringContaining('no audit.pruned row records retention pruning it there: rows were cut out') });

    const again = await chainOfAges();
    await again.store.audit.pruneBefore('101', '2026-05-29T00:00:00.000Z', 100, again.pruned);
    await again.db.insert(auditLog).values({ tenant: '101', seq: 4, at: '2026-11-25T00:00:00.000Z', actor: 'x', action: 'plan.read', targetType: 'plan', targetId: 'p', citizenId: null, detail: '{}', prevHash: '0', hash: '0' });
    expect(await again.store.audit.verify('101')).toMatchObject({ ok: false, brokenAtSeq: 4, reason: expect.stringContaining('at or before row 5, where retention pruned the chain') });
  });
});

describe('RETENTION_AUDIT_DAYS', () => {
  it('is unset by default (the log is kept, and retention prunes none of it), and at least 180 days when set', async () => {
    expect(loadConfig({}).retention.auditDays).toBeNull();
    expect(loadConfig({ RETENTION_AUDIT_DAYS: '365' }).retention.auditDays).toBe(365);
    expect(() => loadConfig({ RETENTION_AUDIT_DAYS: '30' })).toThrow(/RETENTION_AUDIT_DAYS is at least 180 days/);
    let now = new Date('2024-01-10T12:00:00Z');
    const app = await startTestApp({ clock: { now: () => now } });
    await enrol(app.deps, testCpr());
    now = new Date('2026-11-25T02:30:00Z');
    expect((await runRetention(app.deps)).auditRowsPruned).toBe(0);
    expect((await app.deps.store.audit.list('101')).filter((r) => r.action === 'audit.pruned')).toEqual([]);
    expect(retentionOf(app.deps.config).auditLog).toContain('kept (no period is set: RETENTION_AUDIT_DAYS)');
    await app.close();
  });

  it('set: the nightly retention prunes what is older, the citizen’s newer entries stay, and the record of processing says how long', async () => {
    let now = new Date('2025-01-10T12:00:00Z');
    const app = await startTestApp({ clock: { now: () => now }, env: { RETENTION_AUDIT_DAYS: '365' } });
    await enrol(app.deps, testCpr());
    const old = (await app.deps.store.audit.list('101')).length;
    now = new Date('2026-11-20T12:00:00Z');
    await enrol(app.deps, testCpr());
    const recentRows = (await app.deps.store.audit.list('101')).filter((r) => r.seq > old);
    now = new Date('2026-11-25T02:30:00Z');
    const summary = await runRetention(app.deps);
    expect(summary.auditRowsPruned).toBe(old);
    const kept = await app.deps.store.audit.list('101');
    expect(kept.slice(0, recentRows.length)).toEqual(recentRows);
    expect(kept.some((r) => r.action === 'audit.pruned' && r.detail.throughSeq === old)).toBe(true);
    expect(await app.deps.store.audit.verify('101')).toMatchObject({ ok: true, prunedThrough: old });
    expect(retentionOf(app.deps.config).auditLog).toContain('kept 365 days, then its oldest rows are deleted nightly');
    // The citizen is told how far back their own log goes (R13, R15).
    expect(logKeptSentence(app.deps.config.retention.auditDays)).toBe('Loggen viser de seneste 365 dage. Kommunen sletter ældre linjer, når de er 365 dage gamle.');
    const citizenToken = await app.harness.token({ tenant: '101', roles: ['citizen'], citizenId: kept.find((r) => r.citizenId)!.citizenId! });
    const flows = (await (await app.harness.request('/v1/citizen/data-flows', { headers: { authorization: `Bearer ${citizenToken}` } })).json()) as { logKept: string };
    expect(flows.logKept).toContain('de seneste 365 dage');
    // The night's run says what it did.
    expect((await app.deps.store.retention.runs('101'))[0]!.summary.auditRowsPruned).toBe(old);
    await app.close();
  });
});
