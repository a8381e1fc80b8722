/**
 * The connection checks IT staff run (decision 0005: check results are shown to IT staff):
 * `GET /v1/monitoring/connections` and the dashboard's connections page, against the four sector
 * simulators over HTTP — a FHIR server without history answers OK with a warning, a source nothing
 * listens on answers failing while the route still answers 200, a check that throws or hangs is
 * reported failing, CPR-shaped numbers never reach the answer, and only IT staff may probe.
 */
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SourceAdapter } from '../../adapters/adapter';
import { createDfdgAdapter, startDfdgSimulator, type DfdgSimulator } from '../../adapters/dfdg';
import { createEducationAdapter, startEducationSimulator, type EducationSimulator } from '../../adapters/education';
import { createHealthAdapter } from '../../adapters/health/adapter';
import { startHealthSimulator } from '../../adapters/health/simulator';
import { generatePopulation } from '../../adapters/shared/population';
import { createSocialAdapter } from '../../adapters/social/adapter';
import { startSocialSimulator, type SectorSimulator } from '../../adapters/social/simulator';
import { startTestApp } from '../support/node-app';
import { CONNECTION_CHECKS_FOR_METRICS_MS, CONNECTION_CHECKS_REUSED_MS, connectionChecksForMetrics } from '../../src/monitoring/connections';

const SEED = 2026;
const population = generatePopulation(4, SEED);
const TIMEOUT_MS = 5_000;
const DELETIONS_UNSEEN = /a record deleted there outright is not seen here/;
/** CPR-shaped, as a careless source might put one in an error. */
const CPR_LIKE = '0101001234';

interface ConnectionsAnswer {
  checkedAt: string;
  connections: { adapter: string; name: string; ok: boolean; latencyMs: number; detail: string | null; warnings: string[] }[];
}

let dfdg: DfdgSimulator;
let education: EducationSimulator;
/** Social without history: its deletions go unseen, which its check warns of. */
let social: SectorSimulator;
let health: SectorSimulator;
/** A URL nothing listens on. */
let nowhere: string;

beforeAll(async () => {
  [dfdg, education, social, health] = await Promise.all([
    startDfdgSimulator({ population, port: 0 }),
    startEducationSimulator({ population, port: 0 }),
    startSocialSimulator({ population, seed: SEED, port: 0, history: false }),
    startHealthSimulator({ population, seed: SEED, port: 0 }),
  ]);
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as { port: number };
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  nowhere = `http://127.0.0.1:${port}/fhir`;
});
afterAll(async () => {
  await Promise.all([dfdg?.close(), education?.close(), social?.close(), health?.close()]);
});

/** An app whose adapters speak to the simulators; `healthUrl` replaces the health simulator's. */
async function appWithSources(options: { healthUrl?: string; clock?: { now(): Date } } = {}) {
  const app = await startTestApp({
    ...(options.clock ? { clock: options.clock } : {}),
    adapters: {
      dfdg: createDfdgAdapter({ baseUrl: dfdg.url, organisation: { typeIdentifier: 'kommune', code: '101' }, timeoutMs: TIMEOUT_MS }),
      education: createEducationAdapter({ baseUrl: education.url, municipalityCode: '101', timeoutMs: TIMEOUT_MS }),
      social: createSocialAdapter({ baseUrl: social.baseUrl, timeoutMs: TIMEOUT_MS }),
      health: createHealthAdapter({ baseUrl: options.healthUrl ?? health.baseUrl, timeoutMs: TIMEOUT_MS }),
    },
  });
  const itStaff = await app.harness.token({ tenant: '101', roles: ['it-staff'] });
  const get = (path: string, headers: Record<string, string> = { authorization: `Bearer ${itStaff}` }) => app.harness.request(path, { headers });
  return { app, itStaff, get };
}

/** Requests the simulators have seen so far: a check shows as new ones. */
const probesSoFar = () => dfdg.requestLog().length + education.requestLog().length + social.requests().length + health.requests().length;

describe('GET /v1/monitoring/connections', () => {
  it('checks every configured source: OK with latency, and the FHIR server without history OK with its warning', async () => {
    const { app, get } = await appWithSources();
    const answer = await get('/v1/monitoring/connections');
    expect(answer.status).toBe(200);
    const body = (await answer.json()) as ConnectionsAnswer;
    expect(Number.isNaN(Date.parse(body.checkedAt))).toBe(false);
    expect(body.connections.map((c) => c.adapter)).toEqual(['dfdg', 'education', 'social', 'health']);
    for (const connection of body.connections) {
      expect(connection.ok, connection.adapter).toBe(true);
      expect(Number.isInteger(connection.latencyMs)).toBe(true);
      expect(connection.name.length).toBeGreaterThan(0);
    }
    const bySystem = Object.fromEntries(body.connections.map((c) => [c.adapter, c]));
    expect(bySystem.social!.warnings).toHaveLength(1);
    expect(bySystem.social!.warnings[0]).toMatch(DELETIONS_UNSEEN);
    expect(bySystem.health!.warnings).toEqual([]);
    expect(bySystem.dfdg!.warnings).toEqual([]);
    await app.close();
  });

  it('reports a source nothing listens on as failing, with a readable detail, and still answers 200 for the others', async () => {
    const { app, get } = await appWithSources({ healthUrl: nowhere });
    const answer = await get('/v1/monitoring/connections');
    expect(answer.status).toBe(200);
    const { connections } = (await answer.json()) as ConnectionsAnswer;
    const down = connections.find((c) => c.adapter === 'health')!;
    expect(down.ok).toBe(false);
    expect(down.detail).toEqual(expect.any(String));
    expect(down.detail!.length).toBeGreaterThan(0);
    expect(connections.filter((c) => c.adapter !== 'health').every((c) => c.ok)).toBe(true);
    await app.close();
  });

  it('reports a check that throws (or whose source cannot describe itself) or never answers as failing, within twice the adapter timeout (a FHIR check makes two calls), and masks CPR-shaped numbers', async () => {
    const description = (id: 'dfdg' | 'social', name: string) => ({ id, name, sector: 'employment' as const, format: 'test', recordTypes: [], pushOperations: [] });
    const throwing = { describe: () => description('dfdg', 'Throwing source'), check: () => Promise.reject(new Error(`the source refused ${CPR_LIKE}`)) } as unknown as SourceAdapter;
    const hanging = { describe: () => description('social', 'Hanging source'), check: () => new Promise(() => {}) } as unknown as SourceAdapter;
    const chatty = {
      describe: () => ({ ...description('social', 'Chatty source'), id: 'health' }),
      check: async () => ({ ok: true, latencyMs: 3.7, detail: `serves ${CPR_LIKE}`, warnings: [`patient ${CPR_LIKE} is odd`] }),
    } as unknown as SourceAdapter;
    // Throws where it should answer at once: its description, and its check before any promise.
    const broken = {
      describe: () => {
        throw new Error('no description');
      },
      check: () => {
        throw new Error(`cannot check ${CPR_LIKE}`);
      },
    } as unknown as SourceAdapter;
    const app = await startTestApp({ adapters: { dfdg: throwing, social: hanging, health: chatty, education: broken }, env: { ADAPTER_TIMEOUT_MS: '200' } });
    const token = await app.harness.token({ tenant: '101', roles: ['it-staff'] });
    const answer = await app.harness.request('/v1/monitoring/connections', { headers: { authorization: `Bearer ${token}` } });
    expect(answer.status).toBe(200);
    const text = await answer.text();
    expect(text.includes(CPR_LIKE)).toBe(false);
    const bySystem = Object.fromEntries((JSON.parse(text) as ConnectionsAnswer).connections.map((c) => [c.adapter, c]));
    expect(bySystem.dfdg).toMatchObject({ ok: false, detail: 'the check failed: the source refused [cpr]', warnings: [] });
    expect(bySystem.social).toMatchObject({ ok: false, detail: 'no answer within 400 ms (twice ADAPTER_TIMEOUT_MS)', warnings: [] });
    expect(bySystem.health).toMatchObject({ ok: true, latencyMs: 4, detail: 'serves [cpr]', warnings: ['patient [cpr] is odd'] });
    expect(bySystem.education).toMatchObject({ ok: false, name: 'education', detail: 'the check failed: cannot check [cpr]', warnings: [] });
    await app.close();
  });

  it('probes the sources at most every ten seconds per municipality: calls in between, at once or soon after, share one answer', async () => {
    let shift = 0;
    const { app, get } = await appWithSources({ clock: { now: () => new Date(Date.now() + shift) } });
    const before = probesSoFar();
    const [first, second] = await Promise.all([get('/v1/monitoring/connections'), get('/v1/monitoring/connections')]);
    const firstBody = (await first.json()) as ConnectionsAnswer;
    expect((await second.json()) as ConnectionsAnswer).toEqual(firstBody);
    const probedOnce = probesSoFar() - before;
    expect(probedOnce).toBeGreaterThan(0);
    shift = CONNECTION_CHECKS_REUSED_MS - 1_000;
    const soon = (await (await get('/v1/monitoring/connections')).json()) as ConnectionsAnswer;
    expect(soon.checkedAt).toBe(firstBody.checkedAt);
    expect(probesSoFar() - before).toBe(probedOnce);
    // Past the window the sources are asked again, and the answer says when.
    shift = CONNECTION_CHECKS_REUSED_MS + 1_000;
    const later = (await (await get('/v1/monitoring/connections')).json()) as ConnectionsAnswer;
    expect(Date.parse(later.checkedAt)).toBeGreaterThan(Date.parse(firstBody.checkedAt));
    expect(probesSoFar() - before).toBe(2 * probedOnce);
    await app.close();
  });

  it('needs a token (401) with the role it-staff (403), as problems, and probes nothing for those refused', async () => {
    const { app, get } = await appWithSources();
    const before = probesSoFar();
    const anonymous = await get('/v1/monitoring/connections', {});
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('content-type')).toBe('application/problem+json');
    expect(((await anonymous.json()) as { type: string }).type).toBe('/problems/unauthenticated');
    const caseworker = await app.harness.token({ tenant: '101', roles: ['caseworker'] });
    const refused = await get('/v1/monitoring/connections', { authorization: `Bearer ${caseworker}` });
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as { type: string }).type).toBe('/problems/forbidden');
    expect(probesSoFar()).toBe(before);
    await app.close();
  });

  it('is in the OpenAPI document, for it-staff', async () => {
    const { app, get } = await appWithSources();
    const doc = (await (await get('/openapi.json', {})).json()) as { paths: Record<string, { get?: { 'x-roles'?: string[]; responses: Record<string, unknown> } }> };
    const operation = doc.paths['/v1/monitoring/connections']?.get;
    expect(operation?.['x-roles']).toEqual(['it-staff']);
    expect(JSON.stringify(operation?.responses['200'])).toContain('ConnectionChecks');
    await app.close();
  });
});

describe('the dashboard connections page', () => {
  it('runs the checks when opened and shows each source, the failing one and the warning highlighted', async () => {
    const { app, itStaff, get } = await appWithSources({ healthUrl: nowhere });
    const cookie = { cookie: `enplan_session=${itStaff}` };
    // The main dashboard links to the page and probes nothing itself.
    const before = probesSoFar();
    const dashboard = await (await get('/dashboard', cookie)).text();
    expect(dashboard).toContain('href="/dashboard/connections"');
    expect(probesSoFar()).toBe(before);

    const answer = await get('/dashboard/connections', cookie);
    expect(answer.status).toBe(200);
    const html = await answer.text();
    expect(probesSoFar()).toBeGreaterThan(before);
    for (const system of ['dfdg', 'education', 'social', 'health']) expect(html).toContain(`data-connection="${system}"`);
    const row = (system: string) => new RegExp(`<tr data-connection="${system}">(.*?)</tr>`, 's').exec(html)?.[1] ?? '';
    expect(row('health')).toContain('class="bad"');
    expect(row('health')).toContain('Failing');
    expect(row('dfdg')).toContain('OK');
    const warning = /<li class="warning">([^<]*)<\/li>/.exec(row('social'))?.[1];
    expect(warning).toMatch(DELETIONS_UNSEEN);
    // Before that check the front page said nothing of the connections; now it shows the failing one, probing nothing.
    expect(dashboard).not.toContain('id="connections-last"');
    const probed = probesSoFar();
    const front = await (await get('/dashboard', cookie)).text();
    expect(probesSoFar()).toBe(probed);
    expect(front).toMatch(/<p id="connections-last" class="bad"[^>]*>regional health system \(DK-core\) did not answer as it should when checked \d{4}-\d\d-\d\d \d\d:\d\d: [^<]+\.<\/p>/);
    expect(front).not.toMatch(/connections-last[^<]*STAR/);
    await app.close();
  });

  it('shows on the front page that every connection answered, as last checked', async () => {
    const { app, itStaff, get } = await appWithSources();
    const cookie = { cookie: `enplan_session=${itStaff}` };
    await get('/v1/monitoring/connections');
    expect(await (await get('/dashboard', cookie)).text()).toMatch(/<p id="connections-last" class="muted"[^>]*>Connections as last checked \(\d{4}-\d\d-\d\d \d\d:\d\d\): all 4 answered\.<\/p>/);
    await app.close();
  });

  it('is refused, as the other dashboard pages are, without an IT staff session, and probes nothing', async () => {
    const { app, get } = await appWithSources();
    const before = probesSoFar();
    const anonymous = await (await get('/dashboard/connections', {})).text();
    expect(anonymous).toContain('action="/dashboard/session"');
    expect(anonymous).not.toMatch(DELETIONS_UNSEEN);
    const caseworker = await app.harness.token({ tenant: '101', roles: ['caseworker'] });
    const stranger = await (await get('/dashboard/connections', { cookie: `enplan_session=${caseworker}` })).text();
    expect(stranger).toContain('action="/dashboard/session"');
    expect(stranger).not.toMatch(DELETIONS_UNSEEN);
    const dpo = await app.harness.token({ tenant: '101', roles: ['dpo'] });
    const forDpo = await get('/dashboard/connections', { cookie: `enplan_session=${dpo}` });
    expect(forDpo.status).toBe(303);
    expect(forDpo.headers.get('location')).toBe('/dashboard/processing-record');
    expect(probesSoFar()).toBe(before);
    await app.close();
  });
});

describe('connection checks in /metrics', () => {
  const connectionLines = (text: string) => text.split('\n').filter((line) => line.startsWith('enplan_connection_'));

  it('reports each source up or down with its check time; a scrape probes at most once a minute', async () => {
    let shift = 0;
    const { app, get } = await appWithSources({ healthUrl: nowhere, clock: { now: () => new Date(Date.now() + shift) } });
    const before = probesSoFar();
    const scrape = async () => {
      const answer = await get('/metrics');
      expect(answer.status).toBe(200);
      return connectionLines(await answer.text());
    };
    const first = await scrape();
    const probedOnce = probesSoFar() - before;
    expect(probedOnce).toBeGreaterThan(0);
    expect(first.filter((line) => line.startsWith('enplan_connection_up'))).toEqual([
      'enplan_connection_up{tenant="101",adapter="dfdg"} 1',
      'enplan_connection_up{tenant="101",adapter="education"} 1',
      'enplan_connection_up{tenant="101",adapter="social"} 1',
      'enplan_connection_up{tenant="101",adapter="health"} 0',
    ]);
    expect(first.filter((line) => line.startsWith('enplan_connection_check_duration_seconds'))).toHaveLength(4);
    const checkedAt = first.filter((line) => line.startsWith('enplan_connection_checked_timestamp_seconds')).map((line) => Number(line.split(' ')[1]));
    expect(checkedAt).toHaveLength(4);
    expect(Math.abs(checkedAt[0]! - Date.now() / 1000)).toBeLessThan(60);

    // Past the page's ten seconds but within the minute: the scrape reuses the checks, probing nothing.
    shift = CONNECTION_CHECKS_REUSED_MS + 1_000;
    expect(await scrape()).toEqual(first);
    expect(probesSoFar() - before).toBe(probedOnce);
    // A page's check in between is newer, and the next scrape reports it without probing again.
    const page = (await (await get('/v1/monitoring/connections')).json()) as ConnectionsAnswer;
    expect(probesSoFar() - before).toBe(2 * probedOnce);
    const afterPage = await scrape();
    expect(afterPage.filter((line) => line.startsWith('enplan_connection_checked_timestamp_seconds')).map((line) => Number(line.split(' ')[1]))).toEqual(Array(4).fill(Math.floor(Date.parse(page.checkedAt) / 1000)));
    expect(probesSoFar() - before).toBe(2 * probedOnce);
    // A minute after that check, a scrape asks the sources again.
    shift += CONNECTION_CHECKS_FOR_METRICS_MS;
    await scrape();
    expect(probesSoFar() - before).toBe(3 * probedOnce);
    await app.close();
  });

  it('does not hold a scrape for a source that does not answer: the others are reported, that one once its check ends', async () => {
    let release: (() => void) | undefined;
    const description = (id: 'dfdg' | 'social', name: string) => ({ id, name, sector: 'employment' as const, format: 'test', recordTypes: [], pushOperations: [] });
    const quick = { describe: () => description('dfdg', 'Quick source'), check: async () => ({ ok: true, latencyMs: 2 }) } as unknown as SourceAdapter;
    const slow = {
      describe: () => description('social', 'Slow source'),
      check: () => new Promise((resolve) => (release = () => resolve({ ok: false, latencyMs: 900, detail: `refused ${CPR_LIKE}` }))),
    } as unknown as SourceAdapter;
    const app = await startTestApp({ adapters: { dfdg: quick, social: slow }, env: { ADAPTER_TIMEOUT_MS: '60000' } });
    const reported = await connectionChecksForMetrics(app.deps, '101', 50);
    expect(reported.map(({ check }) => [check.adapter, check.ok])).toEqual([['dfdg', true]]);
    release!();
    await new Promise((resolve) => setImmediate(resolve));
    const later = await connectionChecksForMetrics(app.deps, '101', 50);
    expect(later.map(({ check }) => [check.adapter, check.ok])).toEqual([['dfdg', true], ['social', false]]);
    // What a source wrote reaches neither the answer nor the metrics with a CPR number in it; labels are ids.
    expect(later[1]!.check.detail).toBe('refused [cpr]');
    await app.close();
  });
});
