/**
 * Mapping health and sync-run figures as IT staff read them (R24) — the dashboard, the JSON
 * overview, `/v1/mappings/{id}`, `GET /v1/sync/runs` and `/metrics` — against a real sync from the
 * regional health simulator over HTTP: figures belong to the mapping version that made them and to
 * a finished run, a run under way is not counted as an outcome, and a CPR number a source put in a
 * code it does not know never reaches any of them (S4).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHealthAdapter } from '../../adapters/health/adapter';
import { startHealthSimulator } from '../../adapters/health/simulator';
import { generatePopulation } from '../../adapters/shared/population';
import type { SectorSimulator } from '../../adapters/social/simulator';
import { membersOf } from '../../src/model';
import { monitoringOverview } from '../../src/monitoring/overview';
import { allMappings } from '../../src/sync/all-mappings';
import { runSync } from '../../src/sync/engine';
import { createMappingRegistry } from '../../src/sync/registry';
import { startTestApp } from '../support/node-app';
import { enrol, grantConsent } from '../support/seed';

const population = generatePopulation(4, 4242).map((c) => ({ ...c, sectors: { employment: false, education: false, social: false, health: true } }));
let health: SectorSimulator;
beforeAll(async () => {
  health = await startHealthSimulator({ population, port: 0 });
});
afterAll(async () => {
  await health?.close();
});

/** An app reading the health simulator, with one enrolled citizen who gave explicit consent to health data. */
async function appWithCitizen(index: number) {
  const adapter = createHealthAdapter({ baseUrl: health.baseUrl, timeoutMs: 5_000 });
  const app = await startTestApp({ adapters: { health: adapter }, mappings: allMappings });
  const citizen = population[index]!;
  const plan = await enrol(app.deps, citizen.cpr);
  const citizenId = membersOf(plan)[0]!.citizenId;
  await grantConsent(app.deps, { citizenId, source: 'health', categories: ['health'], explicitHealth: true });
  const pulled = await adapter.pull({ citizenId, cpr: citizen.cpr });
  const patient = pulled.records.map((r) => (r.payload as { subject?: { reference?: string } }).subject?.reference).find(Boolean)!;
  const itStaff = await app.harness.token({ tenant: '101', roles: ['it-staff'] });
  const read = async (path: string) => (await app.harness.request(path, { headers: { authorization: `Bearer ${itStaff}`, cookie: `enplan_session=${itStaff}` } })).text();
  return { app, citizen, patient, read };
}

const sample = (metrics: string, series: string) => new RegExp(`^${series.replace(/[{}()[\]|.+*?^$]/g, '\\$&')} (\\S+)$`, 'm').exec(metrics)?.[1];

describe('mapping health and run figures', () => {
  it('mask a CPR number that a health source put in a code the mapping does not know', async () => {
    const { app, citizen, patient, read } = await appWithCitizen(0);
    await health.repository.putRaw({
      resourceType: 'Goal',
      id: 'goal-with-odd-codes',
      lifecycleStatus: 'active',
      category: [{ coding: [{ system: 'urn:region:local-goal-categories', code: citizen.cpr }] }],
      description: { text: 'Færre indlæggelser', coding: [{ system: `urn:region:patient:${citizen.cpr}`, code: 'local' }] },
      subject: { reference: patient },
    } as never);
    const result = await runSync(app.deps, { tenant: '101', adapter: 'health', trigger: 'test', mappings: allMappings, feedStartMarginMs: 0 });
    expect(result.status).toBe('succeeded');
    // The odd codes were counted as unknown, masked (compared as booleans: a failure must not print the number).
    const goalHealth = (await monitoringOverview(app.deps, '101')).mappings.find((m) => m.id === 'health.goal')!;
    const unknownCodes = Object.keys(goalHealth.lastRun!.unknownCodes);
    expect(unknownCodes.some((key) => key.includes(citizen.cpr))).toBe(false);
    expect(unknownCodes.filter((key) => ['urn:region:local-goal-categories|[cpr]', 'urn:region:patient:[cpr]|local'].includes(key))).toHaveLength(2);

    for (const path of ['/v1/sync/runs', '/v1/monitoring/overview', '/v1/mappings/health.goal', '/dashboard', '/metrics']) {
      const text = await read(path);
      expect(text.length, path).toBeGreaterThan(0);
      expect(text.includes(citizen.cpr), `${path} holds the CPR number`).toBe(false);
    }
    await app.close();
  });

  it('give the figures of the mapping version that made them, from the newest finished run, also while another run is under way', async () => {
    const { app, read } = await appWithCitizen(1);
    const goalMapping = allMappings.find('health', 'Goal')!;
    const olderVersion = createMappingRegistry(allMappings.all().map((m) => (m === goalMapping ? { ...m, version: '1.0.0' } : m)));
    const finished = await runSync(app.deps, { tenant: '101', adapter: 'health', trigger: 'test', mappings: olderVersion, feedStartMarginMs: 0 });
    expect(finished.status).toBe('succeeded');
    const goalsRead = finished.stats.mappings['health.goal']!.recordsIn;
    expect(goalsRead).toBeGreaterThan(0);

    // Deployed since: the registry holds 1.1.0, but the figures are 1.0.0's.
    let goalHealth = (await monitoringOverview(app.deps, '101')).mappings.find((m) => m.id === 'health.goal')!;
    expect(goalHealth.version).toBe(goalMapping.version);
    expect(goalHealth.lastRun).toMatchObject({ mappingVersion: '1.0.0', runId: finished.runId, recordsIn: goalsRead });
    let metrics = await read('/metrics');
    expect(sample(metrics, `enplan_mapping_records_in{tenant="101",mapping="health.goal",version="1.0.0"}`)).toBe(String(goalsRead));
    expect(metrics).not.toContain(`mapping="health.goal",version="${goalMapping.version}"`);

    // A run under way has no figures yet: those of the finished one stay, on the page as in the JSON.
    const later = new Date(Date.now() + 60_000).toISOString();
    await app.deps.store.sync.startRun({ id: 'run-under-way', tenant: '101', adapter: 'health', trigger: 'test', startedAt: later, stats: {} });
    goalHealth = (await monitoringOverview(app.deps, '101')).mappings.find((m) => m.id === 'health.goal')!;
    expect(goalHealth.lastRun).toMatchObject({ runId: finished.runId, recordsIn: goalsRead });
    const page = await read('/dashboard');
    const adapterRow = /<tr data-adapter="health">(.*?)<\/tr>/s.exec(page)![1]!;
    expect(adapterRow).toContain('running since');
    expect(/<td class="num">(\d+)<\/td>/.exec(adapterRow)?.[1]).toBe(String(finished.stats.recordsRead));
    const mappingRow = /<tr data-mapping="health.goal">(.*?)<\/tr>/s.exec(page)![1]!;
    expect(mappingRow).toContain('1.0.0');
    expect(/<td class="num">(\d+)<\/td>/.exec(mappingRow)?.[1]).toBe(String(goalsRead));

    // Counted as an outcome once it has one: a counter never goes down.
    metrics = await read('/metrics');
    expect(metrics).not.toMatch(/^enplan_sync_runs_total\{[^}]*status="running"/m);
    expect(sample(metrics, 'enplan_sync_runs_total{tenant="101",adapter="health",status="succeeded"}')).toBe('1');
    expect(sample(metrics, 'enplan_sync_run_under_way{tenant="101",adapter="health"}')).toBe('1');
    await app.deps.store.sync.finishRun('101', 'run-under-way', 'succeeded', { recordsRead: 0, mappings: {} }, later);
    metrics = await read('/metrics');
    expect(sample(metrics, 'enplan_sync_runs_total{tenant="101",adapter="health",status="succeeded"}')).toBe('2');
    expect(sample(metrics, 'enplan_sync_run_under_way{tenant="101",adapter="health"}')).toBe('0');
    // The newest finished run read no goals: the health of the goal mapping is still that of the run that did.
    goalHealth = (await monitoringOverview(app.deps, '101')).mappings.find((m) => m.id === 'health.goal')!;
    expect(goalHealth.lastRun).toMatchObject({ runId: finished.runId, recordsIn: goalsRead });
    await app.close();
  });
});
