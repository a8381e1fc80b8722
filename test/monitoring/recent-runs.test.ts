/**
 * The dashboard's recent sync runs: what IT staff look at when a sync misbehaves — when it started
 * (in Danish time), how long it took, what it read and merged, and why it failed, with no CPR
 * number in the reason even when a source put one in its error.
 */
import { describe, expect, it } from 'vitest';
import type { SourceAdapter } from '../../adapters/adapter';
import { Dashboard, duration, localTime } from '../../src/monitoring/dashboard';
import { monitoringOverview, toPrometheus } from '../../src/monitoring/overview';
import { allMappings } from '../../src/sync/all-mappings';
import { runSync } from '../../src/sync/engine';
import { testCpr } from '../support/cpr';
import { startTestApp } from '../support/node-app';

const cpr = testCpr();
/** A source whose change feed fails with a message that quotes a CPR number (as a careless one might). */
const failingSource: SourceAdapter = {
  describe: () => ({ id: 'dfdg', name: 'Failing DFDG', format: 'SOAP 1.1 / XML', recordTypes: [], pushOperations: [] }) as never,
  check: async () => ({ ok: true }) as never,
  pull: async () => ({ records: [], quarantined: [] }),
  changes: async () => {
    throw new Error(`the source refused the request for ${cpr}`);
  },
  push: async () => {
    throw new Error('not used');
  },
};

describe('recent sync runs', () => {
  it('are listed newest first with their duration, counts and the reason of a failure, CPR masked', async () => {
    const app = await startTestApp({ adapters: { dfdg: failingSource }, mappings: allMappings });
    const result = await runSync(app.deps, { tenant: '101', adapter: 'dfdg', trigger: 'test', mappings: allMappings });
    expect(result.status).toBe('failed');
    const [stored] = await app.deps.store.sync.runs('101');
    expect(stored!.error).toContain('the source refused the request for');
    expect(stored!.error).not.toContain(cpr);

    const overview = await monitoringOverview(app.deps, '101');
    expect(overview.recentRuns.map((r) => r.id)).toEqual([result.runId]);
    const html = String(Dashboard({ overview, deadLetters: [], quarantine: [], requests: [] }));
    expect(html).toContain(`data-run="${result.runId}"`);
    expect(html).toContain(localTime(stored!.startedAt));
    expect(html).toMatch(/class="bad">the source refused the request for [^<]*<\/td>/);
    expect(html).not.toContain(cpr);
    // An empty delivery queue says so rather than showing an empty table.
    expect(html).toContain('No registration has been delivered yet.');
    await app.close();
  });

  it("say when each adapter last succeeded, whatever failed since (dashboard, /metrics: the data's age to alert on)", async () => {
    const app = await startTestApp({ adapters: { dfdg: failingSource }, mappings: allMappings });
    const run = (id: string, status: 'succeeded' | 'failed', startedAt: string) => ({ id, tenant: '101', adapter: 'dfdg', trigger: 'schedule', startedAt, stats: {} as Record<string, unknown>, status, endedAt: startedAt.replace(':00.000Z', ':05.000Z') });
    const record = async (r: ReturnType<typeof run>) => {
      await app.deps.store.sync.startRun(r);
      await app.deps.store.sync.finishRun('101', r.id, r.status, r.stats, r.endedAt, r.status === 'failed' ? 'the source answered 503' : undefined);
    };
    const metric = async () => (await monitoringOverview(app.deps, '101')).lastSucceededAt;
    const page = async () => /<tr data-adapter="dfdg">(.*?)<\/tr>/s.exec(String(Dashboard({ overview: await monitoringOverview(app.deps, '101'), deadLetters: [], quarantine: [], requests: [] })))![1]!;
    await record(run('first-failed', 'failed', '2026-11-20T08:00:00.000Z'));
    expect(await metric()).toEqual({});
    expect(await page()).toContain('; never succeeded');
    await record(run('ok-1', 'succeeded', '2026-11-21T08:00:00.000Z'));
    await record(run('ok-2', 'succeeded', '2026-11-22T08:00:00.000Z'));
    // The newest run succeeded: nothing more to say.
    expect(await page()).not.toMatch(/last succeeded|never succeeded/);
    await record(run('failed-since-1', 'failed', '2026-11-23T08:00:00.000Z'));
    await record(run('failed-since-2', 'failed', '2026-11-24T08:00:00.000Z'));
    expect(await metric()).toEqual({ dfdg: '2026-11-22T08:00:05.000Z' });
    expect(await page()).toContain(`; last succeeded ${localTime('2026-11-22T08:00:05.000Z')}`);
    const metrics = toPrometheus(await monitoringOverview(app.deps, '101'));
    expect(metrics).toContain(`enplan_sync_last_success_timestamp_seconds{tenant="101",adapter="dfdg"} ${Date.parse('2026-11-22T08:00:05.000Z') / 1000}`);
    expect(metrics).not.toMatch(/enplan_sync_last_success_timestamp_seconds\{[^}]*adapter="health"/);
    await app.close();
  });

  it('show times in Danish time and durations people read', () => {
    expect(localTime('2026-11-23T19:15:00.000Z')).toBe('2026-11-23 20:15');
    expect(localTime('2026-06-23T19:15:00.000Z')).toBe('2026-06-23 21:15');
    expect(duration('2026-11-23T19:15:00.000Z', '2026-11-23T19:15:00.840Z')).toBe('0.8 s');
    expect(duration('2026-11-23T19:15:00.000Z', '2026-11-23T19:15:42.000Z')).toBe('42 s');
    expect(duration('2026-11-23T19:15:00.000Z', '2026-11-23T19:17:05.000Z')).toBe('2 min 5 s');
    expect(duration('2026-11-23T19:15:00.000Z', null)).toBe('running');
  });
});
