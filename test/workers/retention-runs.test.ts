/**
 * Retention's own records and the remnants of deleted citizens on D1: the run marked interrupted
 * and the new one inserted in one batch, the newest run by insertion (rowid) on a tie, and the
 * distinct-citizen scan with its NOT EXISTS and the deletes that check again.
 */
import { env } from 'cloudflare:test';
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config';
import { createMemoryLogger } from '../../src/monitoring/log';
import { monitoringOverview, toPrometheus } from '../../src/monitoring/overview';
import { composeDeps } from '../../src/runtime/compose';
import { openD1Database } from '../../src/store/d1';
import { createStore } from '../../src/store';
import { TEST_CPR_KEY, TEST_JWT_SECRET } from '../support/harness';
import { appliedRecords, citizens, quarantine } from '../../src/store/schema';

describe('retention runs in workerd on D1', () => {
  it('records runs, ends one cut off as interrupted, and prunes old ones but the newest', async () => {
    const database = openD1Database(env.DB as never);
    const store = createStore(database);
    const tenant = 'd1-retention';
    await store.retention.start(tenant, 'r-1', '2026-01-01T02:00:00.000Z');
    await store.retention.start(tenant, 'r-2', '2026-01-02T02:00:00.000Z');
    await store.retention.finish(tenant, 'r-2', { status: 'succeeded', summary: { plansPurged: 3 }, backlog: ['sync-runs'], endedAt: '2026-01-02T02:00:01.000Z' });
    await store.retention.start(tenant, 'r-3', '2026-01-02T02:00:00.000Z');
    await store.retention.finish(tenant, 'r-3', { status: 'failed', summary: {}, backlog: [], endedAt: '2026-01-02T02:00:02.000Z', error: 'disk full' });
    expect((await store.retention.runs(tenant)).map((r) => [r.id, r.status])).toEqual([['r-3', 'failed'], ['r-2', 'succeeded'], ['r-1', 'interrupted']]);
    expect(await store.retention.lastSucceeded(tenant)).toMatchObject({ id: 'r-2', summary: { plansPurged: 3 }, backlog: ['sync-runs'] });
    expect(await store.retention.pruneRuns(tenant, '2026-06-01T00:00:00.000Z')).toBe(1);
    expect((await store.retention.runs(tenant)).map((r) => r.id)).toEqual(['r-3', 'r-2']);
  });

  it('finds the citizens deleted rows still name, and deletes those rows only', async () => {
    const database = openD1Database(env.DB as never);
    const store = createStore(database);
    const tenant = 'd1-remnants';
    const at = '2026-01-01T00:00:00.000Z';
    await database.db.insert(citizens).values({ id: 'd1-alive', tenant, cprHash: 'h-alive', cprCipher: 'c', birthDate: '1985-06-15', createdAt: at });
    const mark = (citizenId: string) => ({ tenant, citizenId, source: 'dfdg', recordId: `r-${citizenId}`, recordVersion: '1', planId: 'p', appliedAt: at });
    await database.db.insert(appliedRecords).values([mark('d1-alive'), mark('d1-gone-1'), mark('d1-gone-2')]);
    await database.db.insert(quarantine).values({ id: 'd1-q', tenant, adapter: 'dfdg', recordType: 'activity', reason: 'contract', raw: '<x/>', citizenId: 'd1-gone-3', createdAt: at });
    const gone = await store.retention.goneCitizensWithRows(tenant, 10);
    expect(gone.sort()).toEqual(['d1-gone-1', 'd1-gone-2', 'd1-gone-3']);
    await store.batch(store.retention.deleteRowsOfGoneCitizensStatements(tenant, gone));
    expect(await store.retention.goneCitizensWithRows(tenant, 10)).toEqual([]);
    const left = await database.db.select({ citizenId: appliedRecords.citizenId }).from(appliedRecords).where(sql`${appliedRecords.tenant} = ${tenant}`);
    expect(left).toEqual([{ citizenId: 'd1-alive' }]);
  });

  it('is overdue by its own cron in workerd too (Cron Triggers run in UTC, which is local time there)', async () => {
    const clock = { at: new Date('2026-03-02T00:00:00.000Z') };
    const deps = await composeDeps({
      database: openD1Database(env.DB as never),
      config: loadConfig({ NODE_ENV: 'test', JWT_SECRET: TEST_JWT_SECRET, CPR_KEY: TEST_CPR_KEY, LOG_LEVEL: 'warn', RETENTION_CRON: '0 */12 * * *' }),
      logger: createMemoryLogger('warn'),
      clock: { now: () => clock.at },
    });
    const tenant = 'd1-overdue';
    await deps.store.retention.start(tenant, 'o-1', '2026-03-01T00:00:00.000Z');
    await deps.store.retention.finish(tenant, 'o-1', { status: 'succeeded', summary: {}, backlog: [], endedAt: '2026-03-01T00:00:05.000Z' });
    expect((await monitoringOverview(deps, tenant)).retention).toMatchObject({ overdue: false, overdueFrom: '2026-03-02T00:10:00.000Z', nextStartAt: '2026-03-02T12:00:00.000Z' });
    clock.at = new Date('2026-03-02T00:10:00.000Z');
    const overview = await monitoringOverview(deps, tenant);
    expect(overview.retention.overdue).toBe(true);
    expect(toPrometheus(overview)).toContain(`enplan_retention_overdue{tenant="${tenant}"} 1`);
  });
});
