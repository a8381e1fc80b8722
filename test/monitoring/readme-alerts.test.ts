/**
 * The README's "Alerts worth setting" names metrics an operator copies into Prometheus: each must be
 * one the service exports, or the alert would never fire. Checked against /metrics of a service
 * with something in every family (a sync run, a retention run, a rotation under way, a connection checked).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { SourceAdapter } from '../../adapters/adapter';
import { connectionChecksForMetrics } from '../../src/monitoring/connections';
import { monitoringOverview, toPrometheus } from '../../src/monitoring/overview';
import { runRetention } from '../../src/sync/retention';
import { startTestApp } from '../support/node-app';
import { TEST_CPR_KEY } from '../support/harness';

describe('the README’s alerts', () => {
  it('name only metrics the service exports', async () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const section = readme.slice(readme.indexOf('## Alerts worth setting'), readme.indexOf('## Security in short'));
    const named = [...new Set([...section.matchAll(/\benplan_[a-z_]+/g)].map((m) => m[0]))];
    expect(named.length).toBeGreaterThan(10);

    // A source whose connection check answers, so the connection family is there too.
    const source = { describe: () => ({ id: 'dfdg', name: 'DFDG', format: 'test', recordTypes: [], pushOperations: [] }), check: async () => ({ ok: true, latencyMs: 1 }) } as unknown as SourceAdapter;
    const app = await startTestApp({ adapters: { dfdg: source }, env: { CPR_KEY: 'a-new-key-for-the-readme-alerts-test-000', CPR_KEYS_RETIRED: TEST_CPR_KEY } });
    const at = app.deps.clock.now().toISOString();
    await app.deps.store.sync.startRun({ id: 'r-1', tenant: '101', adapter: 'dfdg', trigger: 'test', startedAt: at, stats: {} });
    await app.deps.store.sync.finishRun('101', 'r-1', 'succeeded', {}, at);
    await app.deps.store.batch([app.deps.store.sync.quarantineStatement({ id: 'q-1', tenant: '101', adapter: 'dfdg', recordType: 'activity', recordId: 'r', mappingId: null, reason: 'test', raw: null, runId: null, createdAt: at })]);
    await app.deps.store.audit.append('101', { at, actor: 'test', action: 'test', targetType: 'tenant', targetId: '101' });
    await runRetention(app.deps);
    const exported = new Set([...toPrometheus(await monitoringOverview(app.deps, '101'), await connectionChecksForMetrics(app.deps, '101')).matchAll(/^# TYPE (enplan_[a-z_]+)/gm)].map((m) => m[1]));
    expect(named.filter((name) => !exported.has(name))).toEqual([]);
    await app.close();
  });
});
