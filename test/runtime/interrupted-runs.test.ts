/**
 * A sync run whose process died never finishes itself: it is ended as "interrupted", with a reason
 * IT staff can read, when the Node service starts (runs of this database whose process is gone),
 * and — where no process can be asked (Workers) — when a later round of the same adapter finds it
 * still "running" long after any invocation could have lasted. Against the real SQLite file and the
 * DFDG simulator over HTTP; what IT staff see through GET /v1/sync/runs and /metrics.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createDfdgAdapter, startDfdgSimulator, type DfdgSimulator } from '../../adapters/dfdg';
import { generatePopulation } from '../../adapters/shared/population';
import { loadConfig } from '../../src/config';
import { startNodeService } from '../../src/runtime/node';
import { interruptRunsOfThread } from '../../src/runtime/run-owner';
import { startScheduler } from '../../src/runtime/scheduler';
import { signDevToken } from '../../src/security';
import { allMappings } from '../../src/sync/all-mappings';
import { runSyncRound } from '../../src/sync/engine';
import { databaseUrlFor } from '../../src/store/libsql';
import { TEST_CPR_KEY, TEST_JWT_SECRET } from '../support/harness';
import { startTestApp } from '../support/node-app';
import { enrol, grantConsent } from '../support/seed';

// Every worker thread the service starts, so a test can end one as a crash or a heap limit would.
const workerThreads = vi.hoisted(() => [] as Worker[]);
vi.mock('node:worker_threads', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:worker_threads')>();
  class RecordedWorker extends real.Worker {
    constructor(...args: ConstructorParameters<typeof real.Worker>) {
      super(...args);
      workerThreads.push(this);
    }
  }
  return { ...real, Worker: RecordedWorker };
});

const population = generatePopulation(2, 7373).map((c) => ({ ...c, sectors: { ...c.sectors, employment: true } }));
let simulator: DfdgSimulator;
let dir: string;
beforeAll(async () => {
  simulator = await startDfdgSimulator({ population, port: 0 });
  dir = mkdtempSync(join(tmpdir(), 'enplan-interrupted-runs-'));
});
afterAll(async () => {
  await simulator?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A Node process of this host: one that has ended, or one that lives until `stop`. */
async function nodeProcess(live: boolean) {
  const child = spawn(process.execPath, ['-e', live ? 'setTimeout(() => {}, 60_000)' : ''], { stdio: 'ignore' });
  const ended = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  if (!live) await ended;
  return { pid: child.pid!, stop: async () => { child.kill(); await ended; } };
}

type RunView = { id: string; status: string; endedAt: string | null; error: string | null };
async function runsSeenByItStaff(request: (path: string, init: RequestInit) => Promise<Response>, tenant: string) {
  const headers = { authorization: `Bearer ${await signDevToken(TEST_JWT_SECRET, { tenant, roles: ['it-staff'] })}` };
  const runs = ((await (await request('/v1/sync/runs', { headers })).json()) as { runs: RunView[] }).runs;
  const underWay = (await (await request('/metrics', { headers })).text()).split('\n').filter((line) => line.startsWith('enplan_sync_run_under_way{'));
  return { byId: new Map(runs.map((r) => [r.id, r])), underWay };
}

describe('runs cut off by a crash', () => {
  it('are ended as interrupted when the Node service starts, if the process that ran them is gone; runs of a live process are left alone', async () => {
    const dataDir = join(dir, 'node-start');
    const dead = await nodeProcess(false);
    const live = await nodeProcess(true);
    try {
      const app = await startTestApp({ url: databaseUrlFor(dataDir) });
      const host = hostname();
      const started = '2026-11-24T10:00:00.000Z';
      const run = (id: string, tenant: string, adapter: string, owner: string | null) => app.deps.store.sync.startRun({ id, tenant, adapter, trigger: 'schedule', startedAt: started, stats: {}, owner });
      await run('crashed', '101', 'dfdg', `node:${host}:${dead.pid}:instance-a:1`);
      // This pid, but another start of it (a container's process is pid 1 each time).
      await run('earlier-start', '751', 'dfdg', `node:${host}:${process.pid}:instance-before-restart:0`);
      await run('before-owners', '101', 'health', null);
      await run('live-process', '101', 'education', `node:${host}:${live.pid}:instance-b:3`);
      await run('other-host', '101', 'social', 'node:elsewhere.example:4242:instance-c:1');
      await run('finished', '751', 'health', `node:${host}:${dead.pid}:instance-a:1`);
      await app.deps.store.sync.finishRun('751', 'finished', 'succeeded', { citizensPulled: 1 }, '2026-11-24T10:01:00.000Z');
      await app.close();

      const service = await startNodeService({ DATA_DIR: dataDir, PORT: '0', JWT_SECRET: TEST_JWT_SECRET, CPR_KEY: TEST_CPR_KEY, LOG_LEVEL: 'error', NODE_ENV: 'test', DEMO: 'off', DFDG_URL: simulator.url }, { scheduler: false });
      try {
        const request = (path: string, init: RequestInit) => fetch(`${service.url}${path}`, init);
        const seen101 = await runsSeenByItStaff(request, '101');
        const seen751 = await runsSeenByItStaff(request, '751');
        for (const [seen, id] of [[seen101, 'crashed'], [seen751, 'earlier-start'], [seen101, 'before-owners']] as const) {
          const ended = seen.byId.get(id)!;
          expect(ended.status, id).toBe('interrupted');
          expect(ended.endedAt, id).not.toBeNull();
          expect(ended.error, id).toMatch(/ended before the run did/);
        }
        expect(seen101.byId.get('live-process')!.status).toBe('running');
        expect(seen101.byId.get('other-host')!.status).toBe('running');
        expect(seen751.byId.get('finished')).toMatchObject({ status: 'succeeded', error: null });
        // The gauge says no run is under way where the newest one was cut off.
        expect(seen101.underWay.filter((line) => /adapter="(dfdg|health)"/.test(line)).map((line) => line.split(' ')[1])).toEqual(['0', '0']);
        expect(seen101.underWay.find((line) => line.includes('adapter="education"'))!.split(' ')[1]).toBe('1');
      } finally {
        await service.close();
      }
    } finally {
      await live.stop();
    }
  });

  it('are ended as interrupted by a later round of the same adapter once older than any invocation lasts, where no process can be asked (Workers)', async () => {
    const app = await startTestApp({ adapters: { dfdg: createDfdgAdapter({ baseUrl: simulator.url, organisation: { typeIdentifier: 'kommune', code: '101' } }) }, mappings: allMappings });
    const plan = await enrol(app.deps, population[0]!.cpr);
    await grantConsent(app.deps, { citizenId: plan.subject.kind === 'citizen' ? plan.subject.member.citizenId : '', source: 'dfdg', categories: ['plan-core', 'employment', 'goals', 'interventions'] });
    const ago = (minutes: number) => new Date(Date.now() - minutes * 60_000).toISOString();
    const run = (id: string, adapter: string, startedAt: string, owner: string | null) => app.deps.store.sync.startRun({ id, tenant: '101', adapter, trigger: 'cron:*/5 * * * *', startedAt, stats: {}, owner });
    await run('cut-off', 'dfdg', ago(120), 'workers');
    await run('cut-off-before-owners', 'dfdg', ago(180), null);
    // Another invocation may be running this adapter right now (a queue continuation beside a Cron Trigger).
    await run('under-way', 'dfdg', ago(5), 'workers');
    await run('other-adapter', 'health', ago(120), 'workers');
    const [result] = await runSyncRound(app.deps, { tenant: '101', adapters: ['dfdg'], trigger: 'cron:*/5 * * * *', mappings: allMappings });
    expect(result!.status).toBe('succeeded');
    const seen = await runsSeenByItStaff((path, init) => app.harness.request(path, init), '101');
    for (const id of ['cut-off', 'cut-off-before-owners']) {
      expect(seen.byId.get(id)!.status, id).toBe('interrupted');
      expect(seen.byId.get(id)!.error, id).toMatch(/longer than an invocation may last/);
    }
    expect(seen.byId.get('under-way')!.status).toBe('running');
    expect(seen.byId.get('other-adapter')!.status).toBe('running');
    expect(seen.byId.get(result!.runId)!.status).toBe('succeeded');
    await app.close();
  });
  it('are ended as interrupted at once when the worker thread running them ends while the service lives on', async () => {
    const dataDir = join(dir, 'thread-ends');
    const app = await startTestApp({ url: databaseUrlFor(dataDir) });
    const plan = await enrol(app.deps, population[1]!.cpr);
    await grantConsent(app.deps, { citizenId: plan.subject.kind === 'citizen' ? plan.subject.member.citizenId : '', source: 'dfdg', categories: ['plan-core', 'employment', 'goals', 'interventions'] });
    await app.close();
    const service = await startNodeService({ DATA_DIR: dataDir, PORT: '0', JWT_SECRET: TEST_JWT_SECRET, CPR_KEY: TEST_CPR_KEY, LOG_LEVEL: 'error', NODE_ENV: 'test', DEMO: 'off', DFDG_URL: simulator.url }, { scheduler: false });
    // The source is slow: the run is still pulling when its thread ends.
    simulator.setFaults({ latencyMs: 8_000 });
    try {
      const request = (path: string, init: RequestInit) => fetch(`${service.url}${path}`, init);
      const headers = { authorization: `Bearer ${await signDevToken(TEST_JWT_SECRET, { tenant: '101', roles: ['it-staff'] })}` };
      const asked = request('/v1/sync/dfdg/run', { method: 'POST', headers });
      const underWay = async () => [...(await runsSeenByItStaff(request, '101')).byId.values()].filter((r) => r.status === 'running');
      await expect.poll(async () => (await underWay()).length, { timeout: 20_000, interval: 100 }).toBe(1);
      const [run] = await underWay();
      // The thread that runs it, by the owner the run recorded; ended as a crash would end it.
      const owner = (await service.deps.store.sync.getRun('101', run!.id))!.owner!;
      const thread = workerThreads.find((w) => w.threadId === Number(owner.split(':').at(-1)))!;
      expect(thread).toBeDefined();
      await thread.terminate();
      // The one who asked is told the sync stopped (503, worth asking again), not an internal error.
      const answer = await asked;
      expect([answer.status, ((await answer.json()) as { type: string }).type]).toEqual([503, '/problems/sync-interrupted']);
      await expect.poll(async () => (await runsSeenByItStaff(request, '101')).byId.get(run!.id)!.status, { timeout: 5_000, interval: 50 }).toBe('interrupted');
      const seen = await runsSeenByItStaff(request, '101');
      expect(seen.byId.get(run!.id)!.endedAt).not.toBeNull();
      expect(seen.byId.get(run!.id)!.error).toMatch(/worker thread running it ended before the run did \(exit 1\)/);
      expect(seen.underWay.find((line) => line.includes('adapter="dfdg"'))!.split(' ')[1]).toBe('0');
    } finally {
      simulator.setFaults({ latencyMs: 0 });
      await service.close();
    }
  }, 60_000);
  it('are ended as interrupted at once when a scheduled sync job’s thread ends mid-run', async () => {
    const dataDir = join(dir, 'job-thread-ends');
    const env = { DATA_DIR: dataDir, DFDG_URL: simulator.url, JWT_SECRET: TEST_JWT_SECRET, CPR_KEY: TEST_CPR_KEY, LOG_LEVEL: 'error', NODE_ENV: 'test' };
    const app = await startTestApp({ url: databaseUrlFor(dataDir) });
    const plan = await enrol(app.deps, population[1]!.cpr);
    await grantConsent(app.deps, { citizenId: plan.subject.kind === 'citizen' ? plan.subject.member.citizenId : '', source: 'dfdg', categories: ['plan-core', 'employment', 'goals', 'interventions'] });
    // Bree's job threads read this process's environment, as in the service.
    const saved = Object.fromEntries(Object.keys(env).map((key) => [key, process.env[key]]));
    Object.assign(process.env, env);
    simulator.setFaults({ latencyMs: 8_000 });
    const bree = await startScheduler(loadConfig(env), app.deps.logger, { threadEnded: (thread, how) => interruptRunsOfThread(app.deps, thread, how) });
    try {
      await bree.run('sync-dfdg');
      const running = async () => (await app.deps.store.sync.runs('101')).filter((r) => r.status === 'running');
      await expect.poll(async () => (await running()).length, { timeout: 20_000, interval: 100 }).toBe(1);
      const [run] = await running();
      await bree.workers.get('sync-dfdg')!.terminate();
      await expect.poll(async () => (await app.deps.store.sync.getRun('101', run!.id))!.status, { timeout: 5_000, interval: 50 }).toBe('interrupted');
      expect((await app.deps.store.sync.getRun('101', run!.id))!.error).toMatch(/worker thread running it ended before the run did \(job sync-dfdg: exit 1\)/);
    } finally {
      await bree.stop();
      simulator.setFaults({ latencyMs: 0 });
      for (const [key, value] of Object.entries(saved)) if (value === undefined) delete process.env[key]; else process.env[key] = value;
      await app.close();
    }
  }, 60_000);
});
