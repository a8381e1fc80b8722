/**
 * Two writers on one database file (two processes in production: the service and a job) race for
 * the audit chain's head. The loser's batch, with the writes it carries, is refused as a whole and
 * retried on the new head: one unbroken chain, every entry and every carried write once.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createStore } from '../../src/store';
import { openLibsqlDatabase } from '../../src/store/libsql';

const dir = mkdtempSync(join(tmpdir(), 'enplan-audit-race-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('audit chain under two writers', () => {
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
});
