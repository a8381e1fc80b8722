/** Retention of sync run records on D1: the page deleted and its tally upserted in one batch (INSERT … SELECT … ON CONFLICT). */
import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { openD1Database } from '../../src/store/d1';
import { createStore } from '../../src/store';
import { syncRuns } from '../../src/store/schema';

describe('sync run retention in workerd on D1', () => {
  it('deletes old finished runs page by page, keeps the newest, and counts what went', async () => {
    const database = openD1Database(env.DB as never);
    const store = createStore(database);
    const tenant = 'd1-runs';
    const run = (i: number, startedAt: string) => ({ id: `d1-run-${i}`, tenant, adapter: 'dfdg', trigger: 'schedule', status: 'succeeded' as const, startedAt, endedAt: startedAt, stats: '{}', error: null, owner: null });
    const rows = Array.from({ length: 25 }, (_, i) => run(i, `2026-01-${String(i + 1).padStart(2, '0')}T00:00:00.000Z`));
    for (let i = 0; i < rows.length; i += 10) await database.db.insert(syncRuns).values(rows.slice(i, i + 10));
    const countedBefore = await store.sync.runCounts(tenant);
    expect(countedBefore).toEqual([{ adapter: 'dfdg', status: 'succeeded', n: 25 }]);
    // Two pages of 10 and one of 4: the newest run stays however old.
    expect(await store.sync.pruneFinishedRuns(tenant, '2026-06-01T00:00:00.000Z', 10)).toBe(10);
    expect(await store.sync.pruneFinishedRuns(tenant, '2026-06-01T00:00:00.000Z', 10)).toBe(10);
    expect(await store.sync.pruneFinishedRuns(tenant, '2026-06-01T00:00:00.000Z', 10)).toBe(4);
    expect(await store.sync.pruneFinishedRuns(tenant, '2026-06-01T00:00:00.000Z', 10)).toBe(0);
    expect((await store.sync.runs(tenant)).map((r) => r.id)).toEqual(['d1-run-24']);
    expect(await store.sync.runCounts(tenant)).toEqual(countedBefore);
  });
});
