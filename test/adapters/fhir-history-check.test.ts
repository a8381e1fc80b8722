/**
 * The FHIR connection check and history: the change feed reads deletions from the whole-system
 * history, so a server without it hides every record deleted there outright. The check says so as a
 * warning (the connection itself is fine) — from the CapabilityStatement when it declares
 * `history-system`, else from a cheap probe (`GET _history?_count=1&_since=<now>`). Also: the
 * simulator's CapabilityStatement declares exactly the history it serves, in both modes.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSocialAdapter } from '../../adapters/social/adapter';
import { startSocialSimulator, type SectorSimulator } from '../../adapters/social/simulator';
import { generatePopulation } from '../../adapters/shared/population';

const SEED = 2026;
const population = generatePopulation(4, SEED);
/** CPR-shaped, as a careless server might echo one in its diagnostics. */
const CPR_LIKE = '0101001234';
const DELETIONS_UNSEEN = /a record deleted there outright is not seen here/;

let withHistory: SectorSimulator;
let withoutHistory: SectorSimulator;

beforeAll(async () => {
  withHistory = await startSocialSimulator({ population, seed: SEED, port: 0 });
  withoutHistory = await startSocialSimulator({ population, seed: SEED, port: 0, history: false });
});
afterAll(async () => {
  await withHistory?.close();
  await withoutHistory?.close();
});

const check = (baseUrl: string) => createSocialAdapter({ baseUrl, timeoutMs: 5_000 }).check();
const historyReads = (sim: SectorSimulator) => sim.requests().filter((r) => /\/_history(\?|$)/.test(r.url)).length;

type Answer = { status: number; body?: unknown };

/**
 * A FHIR server that serves the history-on simulator's CapabilityStatement less its system
 * interactions (so it states nothing about history) and answers `GET _history` as told.
 */
async function serverWithoutDeclaredHistory(history: Answer): Promise<{ baseUrl: string; probes: string[]; close(): Promise<void> }> {
  const statement = (await (await fetch(`${withHistory.baseUrl}/metadata`)).json()) as { rest: Record<string, unknown>[] };
  const undeclared = { ...statement, rest: statement.rest.map(({ interaction: _interaction, ...rest }) => rest) };
  const probes: string[] = [];
  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const [status, body] = path === '/fhir/metadata' ? [200, undeclared] : path === '/fhir/_history' ? (probes.push(req.url!), [history.status, history.body]) : [404, undefined];
    res.writeHead(status, body === undefined ? {} : { 'content-type': 'application/fhir+json' });
    res.end(body === undefined ? '' : JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/fhir`,
    probes,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

const outcome = (code: string, diagnostics: string) => ({ resourceType: 'OperationOutcome', issue: [{ severity: 'error', code, diagnostics }] });
const emptyHistory = { resourceType: 'Bundle', type: 'history', link: [] };

describe('the FHIR connection check and history', () => {
  it('a server that declares history-system: no warning, and no probe', async () => {
    const before = historyReads(withHistory);
    const result = await check(withHistory.baseUrl);
    expect(result.ok).toBe(true);
    expect(result.warnings ?? []).toEqual([]);
    expect(result.detail).not.toMatch(/history/);
    expect(historyReads(withHistory)).toBe(before);
  });

  it('the simulator without history: the connection is OK, with a warning that deletions there are not seen', async () => {
    const result = await check(withoutHistory.baseUrl);
    expect(result.ok).toBe(true);
    expect(result.warnings).toHaveLength(1);
    expect(result.warnings![0]).toMatch(DELETIONS_UNSEEN);
    // The one-line detail carries it too, for whoever shows only that.
    expect(result.detail).toContain(result.warnings![0]);
  });

  it.each([
    ['501 Not Implemented', { status: 501, body: outcome('not-supported', `history is not implemented (asked by ${CPR_LIKE})`) }, /HTTP 501/],
    ['405 Method Not Allowed', { status: 405 }, /HTTP 405/],
    ['404 Not Found', { status: 404, body: outcome('not-found', 'no such endpoint') }, /HTTP 404/],
    ['400 with an OperationOutcome not-supported', { status: 400, body: outcome('not-supported', `unsupported ${CPR_LIKE}`) }, /not-supported/],
    ['200 with an OperationOutcome not-supported', { status: 200, body: outcome('not-supported', 'history is switched off') }, /not-supported/],
  ])('a server that does not declare history and answers the probe with %s: a warning, not a failure', async (_name, answer, how) => {
    const server = await serverWithoutDeclaredHistory(answer);
    try {
      const result = await check(server.baseUrl);
      expect(result.ok).toBe(true);
      expect(result.warnings).toHaveLength(1);
      expect(result.warnings![0]).toMatch(DELETIONS_UNSEEN);
      expect(result.warnings![0]).toMatch(how);
      expect(JSON.stringify(result)).not.toContain(CPR_LIKE);
      // One cheap probe: one entry, from now on.
      expect(server.probes).toHaveLength(1);
      const probe = new URL(server.probes[0]!, 'http://x').searchParams;
      expect(probe.get('_count')).toBe('1');
      expect(Date.now() - Date.parse(probe.get('_since')!)).toBeLessThan(60_000);
    } finally {
      await server.close();
    }
  });

  it('a server that does not declare history but serves it: no warning', async () => {
    const server = await serverWithoutDeclaredHistory({ status: 200, body: emptyHistory });
    try {
      const result = await check(server.baseUrl);
      expect(result.ok).toBe(true);
      expect(result.warnings ?? []).toEqual([]);
      expect(server.probes).toHaveLength(1);
    } finally {
      await server.close();
    }
  });

  it('a probe that fails for another reason: still OK, with a warning that deletions may go unseen', async () => {
    const server = await serverWithoutDeclaredHistory({ status: 500, body: outcome('exception', `boom for ${CPR_LIKE}`) });
    try {
      const result = await check(server.baseUrl);
      expect(result.ok).toBe(true);
      expect(result.warnings).toHaveLength(1);
      expect(result.warnings![0]).toMatch(/a history read to find out whether it offers history failed \(HTTP 500: boom.*a record deleted there outright may not be seen here/);
      expect(JSON.stringify(result)).not.toContain(CPR_LIKE);
    } finally {
      await server.close();
    }
  });
});

describe('the simulator’s CapabilityStatement tells the truth about history', () => {
  type Statement = { rest: { interaction?: { code: string }[]; resource: { type: string; interaction: { code: string }[] }[] }[] };

  it.each([
    ['with history', () => withHistory, true],
    ['without history', () => withoutHistory, false],
  ])('%s: history-system, history-type and history-instance are declared exactly when served', async (_name, sim, offered) => {
    const base = sim().baseUrl;
    const statement = (await (await fetch(`${base}/metadata`)).json()) as Statement;
    const goal = statement.rest[0]!.resource.find((r) => r.type === 'Goal')!;
    const declared = {
      system: statement.rest[0]!.interaction?.some((i) => i.code === 'history-system') ?? false,
      type: goal.interaction.some((i) => i.code === 'history-type'),
      instance: goal.interaction.some((i) => i.code === 'history-instance'),
    };
    const goalId = (await sim().repository.searchPage({ resourceType: 'Goal', count: 1 } as never)).resources[0]!.id;
    const since = new Date(Date.now() - 60_000).toISOString();
    const served = {
      system: (await fetch(`${base}/_history?_count=1&_since=${since}`)).ok,
      type: (await fetch(`${base}/Goal/_history?_count=1`)).ok,
      instance: (await fetch(`${base}/Goal/${goalId}/_history`)).ok,
    };
    expect(declared).toEqual({ system: offered, type: offered, instance: offered });
    expect(served).toEqual(declared);
    // Reading one version (vread) is not history: served and declared either way.
    expect(goal.interaction.some((i) => i.code === 'vread')).toBe(true);
    expect((await fetch(`${base}/Goal/${goalId}/_history/1`)).ok).toBe(true);
  });
});
