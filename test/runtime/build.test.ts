/**
 * The compiled service (scripts/build.mjs, docs/decisions/0009): the build succeeds into a folder,
 * and what `npm start` runs from it works without tsx — dist/node.mjs starts with its embedded
 * simulators and demo and answers /health while bree runs the built relay job every second; and the
 * built sync job, in a worker thread as bree starts it, syncs through the built pull worker.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDfdgSimulator } from '../../adapters/dfdg';
import { generatePopulation } from '../../adapters/shared/population';
import { buildService, root } from '../../scripts/build.mjs';
import { syncHeapFlags } from '../../src/runtime/memory';
import { databaseUrlFor } from '../../src/store/libsql';
import { TEST_CPR_KEY, TEST_JWT_SECRET } from '../support/harness';
import { startTestApp } from '../support/node-app';
import { enrol, grantConsent } from '../support/seed';

const dir = mkdtempSync(join(tmpdir(), 'enplan-build-'));
const dataDir = join(dir, 'data');
let out: string;
let child: ChildProcess | undefined;
// Only what the service needs: in particular no NODE_OPTIONS, so nothing could load tsx.
const env = { PATH: process.env.PATH ?? '', DATA_DIR: dataDir, DEMO_CITIZENS: '20', LOG_LEVEL: 'info' };

beforeAll(async () => {
  out = await buildService(join(dir, 'dist'));
  // The bundles import npm packages, found by walking up from the file; outside the repository
  // they need node_modules beside them.
  symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'), 'dir');
});
afterAll(() => {
  child?.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

describe('the compiled service', () => {
  it('builds one folder with the service, the jobs, the pull worker and the migrations', () => {
    for (const file of ['node.mjs', 'node.mjs.map', 'run-job.mjs', 'sync-job.mjs', 'sync-thread-job.mjs', 'relay-job.mjs', 'retention-job.mjs', 'pull-worker.mjs', 'sqlite-thread.mjs', 'migrations/meta/_journal.json'])
      expect(existsSync(join(out, file)), file).toBe(true);
  });

  it('starts from node.mjs as npm start runs it: demo, /health, and the relay job from the bundle', { timeout: 30_000 }, async () => {
    const started = spawn(process.execPath, [...syncHeapFlags, '--enable-source-maps', join(out, 'node.mjs')], {
      env: { ...env, PORT: '0', RELAY_INTERVAL: '1s' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = started;
    let output = '';
    started.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    started.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setInterval(() => {
        const match = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
        if (match) {
          clearInterval(timer);
          resolve(match[1]!);
        }
      }, 50);
      started.once('exit', (code) => {
        clearInterval(timer);
        reject(new Error(`node.mjs exited (${code}) before listening: ${output.slice(-2_000)}`));
      });
    });
    expect(output).toContain('"seeded":true');
    const health = await fetch(`${url}/health`);
    expect(health.status).toBe(200);
    // bree starts the relay job (run-job.mjs → relay-job.mjs) every second; one that failed to load
    // or run would log an error here.
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    expect(started.exitCode).toBeNull();
    expect(output.split('\n').filter((line) => line.includes('"level":"error"'))).toEqual([]);
    const exited = new Promise((resolve) => started.once('exit', resolve));
    started.kill('SIGKILL');
    await exited;
    child = undefined;
  });

  it('runs the built sync job in a worker thread, pulling through the built pull worker', { timeout: 30_000 }, async () => {
    // As test/runtime/jobs.test.ts does for the TypeScript job: one enrolled citizen with consent to DFDG.
    const population = generatePopulation(2, 909).map((c) => ({ ...c, sectors: { ...c.sectors, employment: true } }));
    const simulator = await startDfdgSimulator({ population, port: 0 });
    const jobDir = join(dir, 'job-data');
    const app = await startTestApp({ url: databaseUrlFor(jobDir) });
    try {
      const plan = await enrol(app.deps, population[0]!.cpr);
      const citizenId = plan.subject.kind === 'citizen' ? plan.subject.member.citizenId : '';
      await grantConsent(app.deps, { citizenId, source: 'dfdg', categories: ['plan-core', 'employment', 'goals', 'interventions'] });
      const worker = new Worker(join(out, 'run-job.mjs'), {
        execArgv: [],
        // SYNC_PULL_WORKER=on: the job reads through the built pull worker (off by default, decision 0010).
        env: { PATH: env.PATH, DATA_DIR: jobDir, DFDG_URL: simulator.url, JWT_SECRET: TEST_JWT_SECRET, CPR_KEY: TEST_CPR_KEY, LOG_LEVEL: 'warn', NODE_ENV: 'test', SYNC_PULL_WORKER: 'on' },
        workerData: { jobModule: pathToFileURL(join(out, 'sync-job.mjs')).href, options: { adapters: ['dfdg'] } },
      });
      const message = await new Promise((resolve, reject) => {
        worker.once('message', resolve);
        worker.once('error', reject);
        worker.once('exit', (code) => reject(new Error(`the job thread exited (${code}) before it was done`)));
      });
      expect(message).toBe('done');
      await worker.terminate();
      const runs = await app.deps.store.sync.runs('101');
      expect(runs[0]).toMatchObject({ adapter: 'dfdg', trigger: 'schedule', status: 'succeeded', stats: { citizensPulled: 1, pullErrors: 0 } });
      const merged = (await app.deps.store.plans.get('101', plan.id))!;
      expect(merged.interventions.length + merged.goals.length).toBeGreaterThan(0);
    } finally {
      await app.close();
      await simulator.close();
    }
  });
});
