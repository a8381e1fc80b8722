/**
 * When a scheduled job is overdue, read from its own cron (IT staff, R24 and R16). A sync that has
 * stopped shows only as an old "last succeeded" unless someone does the sum; retention's overdue
 * was two periods guessed from the cron's day fields, so a business-hours schedule was overdue every
 * weekend. Now both count the starts their cron has made since the last success, as bree counts them.
 * Times are built in local time, which is what bree (and so these figures) read a cron in.
 */
import { describe, expect, it } from 'vitest';
import type { SourceAdapter } from '../../adapters/adapter';
import { Dashboard } from '../../src/monitoring/dashboard';
import { monitoringOverview, toPrometheus } from '../../src/monitoring/overview';
import { OVERDUE_GRACE_MS, overdueFrom, scheduledStartsAfter } from '../../src/monitoring/schedule';
import { allMappings } from '../../src/sync/all-mappings';
import { runRetention } from '../../src/sync/retention';
import { testCpr } from '../support/cpr';
import { startTestApp } from '../support/node-app';
import { enrol } from '../support/seed';

const local = (year: number, month: number, day: number, hour = 0, minute = 0, second = 0) => new Date(year, month - 1, day, hour, minute, second);
const grace = (at: Date) => new Date(at.getTime() + OVERDUE_GRACE_MS);

const quietSource = (id: 'dfdg' | 'health'): SourceAdapter => ({
  describe: () => ({ id, name: `Quiet ${id}`, format: 'test', recordTypes: [], pushOperations: [] }) as never,
  check: async () => ({ ok: true }) as never,
  pull: async () => ({ records: [], quarantined: [] }),
  changes: async () => ({ citizens: [], cursor: null }) as never,
  push: async () => {
    throw new Error('not used');
  },
});

describe('a schedule read from its cron', () => {
  it('counts the starts after a moment, not the moment itself (to the second, as bree fires)', () => {
    expect(scheduledStartsAfter('30 2 * * *', local(2032, 1, 10, 2, 30, 0), 2)).toEqual([local(2032, 1, 11, 2, 30), local(2032, 1, 12, 2, 30)]);
    expect(scheduledStartsAfter('*/5 * * * *', local(2026, 11, 25, 10, 4, 59), 1)).toEqual([local(2026, 11, 25, 10, 5)]);
    expect(scheduledStartsAfter('*/10 * * * * *', local(2026, 11, 25, 10, 0, 0), 2)).toEqual([local(2026, 11, 25, 10, 0, 10), local(2026, 11, 25, 10, 0, 20)]);
  });

  it('is overdue two starts after the last success, plus the grace, whatever the period', () => {
    // Nightly: the next two nights.
    expect(overdueFrom('30 2 * * *', local(2032, 1, 10, 2, 30, 1))).toEqual(grace(local(2032, 1, 12, 2, 30)));
    // Every five minutes: ten minutes on.
    expect(overdueFrom('*/5 * * * *', local(2026, 11, 25, 10, 0, 40))).toEqual(grace(local(2026, 11, 25, 10, 10)));
    // Weekly on Sunday (2026-11-22 is a Sunday): two Sundays on.
    expect(overdueFrom('30 2 * * 0', local(2026, 11, 22, 2, 31))).toEqual(grace(local(2026, 12, 6, 2, 30)));
    // Monthly on the 1st: two months on, whatever their lengths.
    expect(overdueFrom('30 2 1 * *', local(2027, 1, 1, 2, 31))).toEqual(grace(local(2027, 3, 1, 2, 30)));
    // Weekdays at 08:00: a success on Friday is not overdue over the weekend; Tuesday's start is the second.
    expect(overdueFrom('0 8 * * 1-5', local(2026, 11, 20, 8, 0, 5))).toEqual(grace(local(2026, 11, 24, 8)));
  });
});

describe('sync schedules on the overview, /metrics and the dashboard', () => {
  it('a weekday sync is not overdue over the weekend, is after two missed starts, and is not once a run succeeds', async () => {
    const clock = { at: local(2026, 11, 20, 9) };
    const app = await startTestApp({ clock: { now: () => clock.at }, adapters: { dfdg: quietSource('dfdg'), health: quietSource('health') }, mappings: allMappings, env: { SYNC_CRON_DFDG: '0 8 * * 1-5' } });
    const record = async (id: string, status: 'succeeded' | 'failed', startedAt: Date, adapter = 'dfdg') => {
      await app.deps.store.sync.startRun({ id, tenant: '101', adapter, trigger: 'schedule', startedAt: startedAt.toISOString(), stats: {} });
      await app.deps.store.sync.finishRun('101', id, status, {}, new Date(startedAt.getTime() + 5_000).toISOString(), status === 'failed' ? 'the source answered 503' : undefined);
    };
    const overview = () => monitoringOverview(app.deps, '101');
    const dfdg = async () => (await overview()).syncSchedules.find((s) => s.adapter === 'dfdg')!;
    const metrics = async () => toPrometheus(await overview()).split('\n').filter((line) => line.startsWith('enplan_sync_overdue'));
    const row = async (adapter: string) => new RegExp(`<tr data-adapter="${adapter}">(.*?)</tr>`, 's').exec(String(Dashboard({ overview: await overview(), deadLetters: [], quarantine: [], requests: [] })))![1]!;

    // Only the configured adapters have a schedule; one that never ran is not overdue.
    expect((await overview()).syncSchedules.map((s) => [s.adapter, s.cron, s.overdue])).toEqual([
      ['dfdg', '0 8 * * 1-5', false],
      ['health', '*/5 * * * *', false],
    ]);
    expect(await dfdg()).toMatchObject({ nextStartAt: local(2026, 11, 23, 8).toISOString(), overdueFrom: null });

    await record('fri', 'succeeded', local(2026, 11, 20, 8));
    await record('mon', 'failed', local(2026, 11, 23, 8));
    clock.at = local(2026, 11, 23, 12);
    expect(await dfdg()).toMatchObject({ overdue: false, overdueFrom: grace(local(2026, 11, 24, 8)).toISOString(), nextStartAt: local(2026, 11, 24, 8).toISOString() });
    expect(await row('dfdg')).not.toContain('data-overdue');

    await record('tue', 'failed', local(2026, 11, 24, 8));
    clock.at = new Date(grace(local(2026, 11, 24, 8)).getTime() - 1000);
    expect((await dfdg()).overdue).toBe(false);
    clock.at = grace(local(2026, 11, 24, 8));
    expect((await dfdg()).overdue).toBe(true);
    expect(await metrics()).toEqual(['enplan_sync_overdue{tenant="101",adapter="dfdg"} 1', 'enplan_sync_overdue{tenant="101",adapter="health"} 0']);
    expect(await row('dfdg')).toMatch(/<td class="bad" data-schedule="0 8 \* \* 1-5"><code>0 8 \* \* 1-5<\/code><span data-overdue="">[^<]*two scheduled runs passed with no success since 2026-11-20 /);

    // A run asked for now (the API, a change notice) that succeeds ends it.
    await record('asked', 'succeeded', clock.at);
    expect((await dfdg()).overdue).toBe(false);
    expect(await metrics()).toContain('enplan_sync_overdue{tenant="101",adapter="dfdg"} 0');

    // An adapter that has run but never succeeded has no data at all: overdue at once.
    await record('health-1', 'failed', clock.at, 'health');
    expect((await overview()).syncSchedules.find((s) => s.adapter === 'health')).toMatchObject({ overdue: true, overdueFrom: null });
    expect(await row('health')).toContain('overdue: it has run, never with success');
    await app.close();
  });
});

describe('retention overdue from its own cron', () => {
  it('a retention every twelve hours is overdue a day after its last success, not two; the dashboard says since when', async () => {
    const clock = { at: local(2026, 11, 22, 0, 0) };
    const app = await startTestApp({ clock: { now: () => clock.at }, env: { RETENTION_CRON: '0 */12 * * *' } });
    const retention = async () => (await monitoringOverview(app.deps, '101')).retention;
    const metric = async () => toPrometheus(await monitoringOverview(app.deps, '101')).split('\n').find((line) => line.startsWith('enplan_retention_overdue'));
    expect(await retention()).toMatchObject({ lastRun: null, overdue: false, cron: '0 */12 * * *', nextStartAt: local(2026, 11, 22, 12).toISOString() });
    expect(await metric()).toBe('enplan_retention_overdue{tenant="101"} 0');

    await enrol(app.deps, testCpr(), '101');
    await runRetention(app.deps);
    // The starts at noon and at midnight are missed; two periods of a day (the old guess) would wait 48 hours.
    clock.at = new Date(grace(local(2026, 11, 23, 0)).getTime() - 1000);
    expect(await retention()).toMatchObject({ overdue: false, overdueFrom: grace(local(2026, 11, 23, 0)).toISOString() });
    clock.at = grace(local(2026, 11, 23, 0));
    expect((await retention()).overdue).toBe(true);
    expect(await metric()).toBe('enplan_retention_overdue{tenant="101"} 1');
    const token = await app.harness.token({ tenant: '101', roles: ['it-staff'], sub: 'it-1' });
    const page = await (await app.harness.request('/dashboard', { headers: { cookie: `enplan_session=${token}` } })).text();
    expect(page).toMatch(/id="retention-overdue"[^>]*>No retention run has succeeded since 2026-11-2\d \d\d:00, though RETENTION_CRON \(0 \*\/12 \* \* \*\) has started it twice since: nothing is being deleted on time\./);
    await app.close();
  });
});
