/**
 * Sync run records (issue 4, item 7: storage must not grow without bound). A scheduled sync makes a
 * run row per adapter every few minutes — hundreds of thousands a year — and nothing dropped them.
 * Retention now deletes finished runs older than RETENTION_SYNC_RUN_DAYS, keeping each adapter's
 * newest finished run whatever its age and every run under way; the metrics' run counter goes on
 * counting what was deleted, so it never goes down.
 */
import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { monitoringOverview, toPrometheus } from '../../src/monitoring/overview';
import { quarantine, syncRuns } from '../../src/store/schema';
import { runRetention } from '../../src/sync/retention';
import { testCpr } from '../support/cpr';
import { startTestApp } from '../support/node-app';
import { enrol } from '../support/seed';

const day = 86_400_000;

describe('retention of sync run records', () => {
  it('drops finished runs past the period, keeps each adapter’s newest and runs under way, and the run counter does not go down', async () => {
    let now = new Date('2026-11-25T03:00:00Z');
    const app = await startTestApp({ clock: { now: () => now }, env: { RETENTION_SYNC_RUN_DAYS: '30' } });
    const ago = (days: number) => new Date(now.getTime() - days * day).toISOString();
    const run = (id: string, adapter: string, status: 'succeeded' | 'failed' | 'interrupted' | 'running', daysAgo: number) =>
      ({ id, tenant: '101', adapter, trigger: 'schedule', status, startedAt: ago(daysAgo), endedAt: status === 'running' ? null : ago(daysAgo), stats: '{}', error: null, owner: null });
    await app.database.db.insert(syncRuns).values([
      run('dfdg-old-1', 'dfdg', 'succeeded', 100),
      run('dfdg-old-2', 'dfdg', 'failed', 90),
      run('dfdg-recent', 'dfdg', 'succeeded', 3),
      // Health has not run for months: its last run stays, the one before goes.
      run('health-older', 'health', 'succeeded', 200),
      run('health-last', 'health', 'interrupted', 120),
      // A run still marked under way is never deleted here, whatever its age (it is ended as interrupted first).
      run('social-stuck', 'social', 'running', 60),
      run('social-old', 'social', 'succeeded', 61),
      run('social-new', 'social', 'succeeded', 1),
      // Another municipality's runs are its own.
      { ...run('other-old', 'dfdg', 'succeeded', 100), tenant: '751' },
      { ...run('other-new', 'dfdg', 'succeeded', 1), tenant: '751' },
    ]);
    const counter = async () => toPrometheus(await monitoringOverview(app.deps, '101')).split('\n').filter((line) => line.startsWith('enplan_sync_runs_total{')).sort();
    const countedBefore = await counter();
    expect(countedBefore).toContain('enplan_sync_runs_total{tenant="101",adapter="dfdg",status="succeeded"} 2');

    const summary = await runRetention(app.deps);
    expect(summary.syncRunsPruned).toBe(5);
    const kept = async () => (await app.database.db.select({ id: syncRuns.id }).from(syncRuns).orderBy(syncRuns.id)).map((r) => r.id);
    expect(await kept()).toEqual(['dfdg-recent', 'health-last', 'other-new', 'social-new', 'social-stuck']);
    expect(await counter()).toEqual(countedBefore);
    // The dashboard still has each adapter's last finished run.
    expect((await app.deps.store.sync.latestRuns('101', { finished: true })).map((r) => r.id).sort()).toEqual(['dfdg-recent', 'health-last', 'social-new']);

    // A month on, the next night adds what it deletes to what was counted.
    now = new Date(now.getTime() + 31 * day);
    await app.database.db.insert(syncRuns).values([run('dfdg-newest', 'dfdg', 'succeeded', 0)]);
    expect((await runRetention(app.deps)).syncRunsPruned).toBe(1);
    expect(await kept()).toEqual(['dfdg-newest', 'health-last', 'other-new', 'social-new', 'social-stuck']);
    expect(await counter()).toContain('enplan_sync_runs_total{tenant="101",adapter="dfdg",status="succeeded"} 3');
    expect((await runRetention(app.deps)).syncRunsPruned).toBe(0);
    expect(await app.database.db.select({ id: syncRuns.id }).from(syncRuns).where(eq(syncRuns.tenant, '751'))).toHaveLength(1);
    await app.close();
  });

  it('drops quarantine entries resolved before the same period; open ones wait for a person whatever their age', async () => {
    const now = new Date('2026-11-25T03:00:00Z');
    const app = await startTestApp({ clock: { now: () => now }, env: { RETENTION_SYNC_RUN_DAYS: '30' } });
    const ago = (days: number) => new Date(now.getTime() - days * day).toISOString();
    const entry = (id: string, createdDaysAgo: number, resolvedDaysAgo: number | null, tenant = '101') => ({
      id, tenant, adapter: 'dfdg', recordType: 'activity', recordId: `r-${id}`, reason: 'contract: StartDate is not a date', raw: null, createdAt: ago(createdDaysAgo),
      ...(resolvedDaysAgo === null ? {} : { resolvedAt: ago(resolvedDaysAgo), resolution: 'dismissed' as const, resolvedBy: 'it-staff:anna' }),
    });
    // Both municipalities have plans, so retention visits both.
    await enrol(app.deps, testCpr(), '101');
    await enrol(app.deps, testCpr(), '751');
    await app.database.db.insert(quarantine).values([
      entry('open-old', 400, null),
      entry('resolved-old', 200, 100),
      // Quarantined long ago, resolved last week: kept until its resolution is a period old.
      entry('resolved-lately', 200, 7),
      entry('resolved-new', 5, 2),
      entry('other-resolved-old', 200, 100, '751'),
    ]);
    const summary = await runRetention(app.deps);
    expect(summary.resolvedQuarantineDeleted).toBe(2);
    const kept = (await app.database.db.select({ id: quarantine.id }).from(quarantine).orderBy(quarantine.id)).map((r) => r.id);
    expect(kept).toEqual(['open-old', 'resolved-lately', 'resolved-new']);
    // Each municipality's run deleted its own.
    expect((await app.deps.store.retention.runs('101'))[0]!.summary.resolvedQuarantineDeleted).toBe(1);
    expect((await app.deps.store.retention.runs('751'))[0]!.summary.resolvedQuarantineDeleted).toBe(1);
    expect((await runRetention(app.deps)).resolvedQuarantineDeleted).toBe(0);
    await app.close();
  });
});
