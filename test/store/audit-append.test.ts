/**
 * Appending to the audit chain in batches. Rows arrive as stored (types, nulls, the detail's exact
 * text), in more than one insert when there are many. Two writers on one database file (two processes in production: the service and a job) race for
 * the audit chain's head. The loser's batch, with the writes it carries, is refused as a whole and
 * retried on the new head: one unbroken chain, every entry and every carried write once. Single
 * entries that arrive while a write runs are committed together, each caller answered with its
 * own row; the head is read only when this writer does not know it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { createStore } from '../../src/store';
import { auditHeads, auditLog } from '../../src/store/schema';
import { openLibsqlDatabase } from '../../src/store/libsql';

const dir = mkdtempSync(join(tmpdir(), 'enplan-audit-race-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('audit appends', () => {
  it('store every entry as given, across several inserts (over 1 MB of details), in one unbroken chain', async () => {
    const database = await openLibsqlDatabase(':memory:');
    const store = createStore(database);
    const entries = Array.from({ length: 1201 }, (_, i) => ({
      at: '2026-11-23T10:00:00.000Z', actor: 'sync-job:social', action: 'data.flowed', targetType: 'citizen', targetId: `c-${i}`,
      citizenId: i % 3 === 0 ? null : `c-${i}`,
      detail: { source: 'social', categories: ['goals'], note: 'Æblegrød "med" \\ fløde 🙂 '.repeat(40), n: i, nothing: null },
    }));
    await store.audit.appendMany('101', entries);
    const stored = await database.db.select().from(auditLog).orderBy(auditLog.seq);
    expect(stored).toHaveLength(1201);
    stored.forEach((row, i) => {
      expect(row.seq).toBe(i + 1);
      expect(row.citizenId).toBe(entries[i]!.citizenId);
      expect(row.detail).toBe(JSON.stringify(entries[i]!.detail));
      expect(row.targetId).toBe(`c-${i}`);
    });
    expect(await store.audit.verify('101')).toEqual({ ok: true, rows: 1201 });
    await database.close();
  });

  it('retries a lost race for the head with its carried writes, leaving one unbroken chain', async () => {
    const url = `file:${join(dir, 'enplan.db')}`;
    const [first, second] = [await openLibsqlDatabase(url), await openLibsqlDatabase(url)];
    const stores = [createStore(first), createStore(second)];
    const entry = (writer: number, i: number) => ({ at: '2026-11-23T10:00:00.000Z', actor: `writer-${writer}`, action: 'test.appended', targetType: 'test', targetId: `${writer}-${i}` });
    // Each append carries a cursor write of its own, as the sync's batch carries its merge.
    await Promise.all(
      stores.flatMap((store, writer) =>
        Array.from({ length: 10 }, (_, i) => store.audit.appendMany('101', [entry(writer, i), entry(writer, i + 100)], [store.sync.setCursorStatement('101', `adapter-${writer}-${i}`, 'c', 't')])),
      ),
    );
    expect(await stores[0]!.audit.verify('101')).toEqual({ ok: true, rows: 40 });
    const rows = await stores[0]!.audit.list('101');
    expect(new Set(rows.map((r) => r.targetId)).size).toBe(40);
    for (let writer = 0; writer < 2; writer++) for (let i = 0; i < 10; i++) expect(await stores[0]!.sync.cursor('101', `adapter-${writer}-${i}`)).toBe('c');
    await first.close();
    await second.close();
  });

  it('commits single entries that arrive together in one batch, in the order they came, each caller answered with its own row', async () => {
    const database = await openLibsqlDatabase(':memory:');
    const store = createStore(database);
    const inserts = vi.spyOn(database.db, 'insert');
    const entry = (i: number) => ({ at: '2026-11-24T10:00:00.000Z', actor: 'caseworker:anna', action: 'plan.read', targetType: 'plan', targetId: `p-${i}` });
    const rows = await Promise.all(Array.from({ length: 50 }, (_, i) => store.audit.append('101', entry(i))));
    expect(rows.map((r) => [r.seq, r.targetId])).toEqual(Array.from({ length: 50 }, (_, i) => [i + 1, `p-${i}`]));
    // The first starts a write at once; the other 49 arrive while it runs and share the next one.
    const writes = inserts.mock.calls.filter(([table]) => table === auditLog).length;
    expect(writes).toBeGreaterThanOrEqual(1);
    expect(writes).toBeLessThanOrEqual(2);
    // Each write moves the chain's recorded head once, not once per row.
    expect(inserts.mock.calls.filter(([table]) => table === auditHeads).length).toBe(writes);
    inserts.mockRestore();
    expect(await store.audit.verify('101')).toEqual({ ok: true, rows: 50 });
    // One at a time, each is its own write, and the head is not read again: this writer knows it.
    const select = vi.spyOn(database.db, 'select');
    for (let i = 50; i < 55; i++) expect((await store.audit.append('101', entry(i))).seq).toBe(i + 1);
    // The head would be read as { seq, hash } (a larger batch selects its rows from a JSON parameter).
    const headReads = select.mock.calls.filter(([fields]) => Object.keys(fields ?? {}).sort().join() === 'hash,seq');
    expect(headReads).toEqual([]);
    select.mockRestore();
    expect(await store.audit.verify('101')).toEqual({ ok: true, rows: 55 });
    await database.close();
  });

  it('fails an entry that cannot be written on its own, not the entries written with it', async () => {
    const database = await openLibsqlDatabase(':memory:');
    const store = createStore(database);
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    const entry = (id: string, detail?: Record<string, unknown>) => ({ at: '2026-11-24T10:00:00.000Z', actor: 'caseworker:anna', action: 'plan.read', targetType: 'plan', targetId: id, ...(detail ? { detail } : {}) });
    const outcomes = await Promise.allSettled([store.audit.append('101', entry('a')), store.audit.append('101', entry('bad', circular)), store.audit.append('101', entry('b'))]);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((await store.audit.list('101')).map((r) => r.targetId)).toEqual(['a', 'b']);
    expect(await store.audit.verify('101')).toEqual({ ok: true, rows: 2 });
    await database.close();
  });

  it('keeps one unbroken chain when two writers append single entries, each moving the head the other knows', async () => {
    const url = `file:${join(dir, 'single.db')}`;
    const [first, second] = [await openLibsqlDatabase(url), await openLibsqlDatabase(url)];
    const stores = [createStore(first), createStore(second)];
    const entry = (writer: number, i: number) => ({ at: '2026-11-24T10:00:00.000Z', actor: `writer-${writer}`, action: 'plan.read', targetType: 'plan', targetId: `${writer}-${i}` });
    for (let round = 0; round < 5; round++)
      await Promise.all(stores.flatMap((store, writer) => Array.from({ length: 4 }, (_, i) => store.audit.append('101', entry(writer, round * 4 + i)))));
    expect(await stores[1]!.audit.verify('101')).toEqual({ ok: true, rows: 40 });
    expect(new Set((await stores[0]!.audit.list('101')).map((r) => r.targetId)).size).toBe(40);
    await first.close();
    await second.close();
  });
});
