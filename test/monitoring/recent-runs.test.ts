/**
 * The dashboard's recent sync runs: what IT staff look at when a sync misbehaves — when it started
 * (in Danish time), how long it took, what it read and merged, and why it failed, with no CPR
 * number in the reason even when a source put one in its error.
 */
import { describe, expect, it } from 'vitest';
import type { SourceAdapter } from '../../adapters/adapter';
import { Dashboard, duration, localTime } from '../../src/monitoring/dashboard';
import { monitoringOverview } from '../../src/monitoring/overview';
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

  it('show times in Danish time and durations people read', () => {
    expect(localTime('2026-11-23T19:15:00.000Z')).toBe('2026-11-23 20:15');
    expect(localTime('2026-06-23T19:15:00.000Z')).toBe('2026-06-23 21:15');
    expect(duration('2026-11-23T19:15:00.000Z', '2026-11-23T19:15:00.840Z')).toBe('0.8 s');
    expect(duration('2026-11-23T19:15:00.000Z', '2026-11-23T19:15:42.000Z')).toBe('42 s');
    expect(duration('2026-11-23T19:15:00.000Z', '2026-11-23T19:17:05.000Z')).toBe('2 min 5 s');
    expect(duration('2026-11-23T19:15:00.000Z', null)).toBe('running');
  });
});
