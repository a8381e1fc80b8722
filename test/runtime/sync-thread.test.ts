/**
 * On-demand syncs on Node run on one long-lived worker thread (src/runtime/sync-thread.ts),
 * started as bree starts the scheduled job: against the DFDG simulator over HTTP and the SQLite
 * file, runs one after another on the same thread, a failed run answered with its reason, closed
 * after the runs asked for; and the service's API route uses it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDfdgSimulator, type DfdgSimulator } from '../../adapters/dfdg';
import { generatePopulation } from '../../adapters/shared/population';
import type { OnDemandSync } from '../../src/api/context';
import { startNodeService } from '../../src/runtime/node';
import { startSyncThread } from '../../src/runtime/sync-thread';
import { databaseUrlFor } from '../../src/store/libsql';
import { signDevToken } from '../../src/security';
import { TEST_CPR_KEY, TEST_JWT_SECRET } from '../support/harness';
import { startTestApp } from '../support/node-app';
import { enrol, grantConsent } from '../support/seed';

const population = generatePopulation(3, 5150).map((c) => ({ ...c, sectors: { ...c.sectors, employment: true } }));
let simulator: DfdgSimulator;
let dir: string;
beforeAll(async () => {
  simulator = await startDfdgSimulator({ population, port: 0 });
  dir = mkdtempSync(join(tmpdir(), 'enplan-sync-thread-'));
});
afterAll(async () => {
  await simulator?.close();
  rmSync(dir, { recursive: true, force: true });
});

const envFor = (dataDir: string) => ({ DATA_DIR: dataDir, DFDG_URL: simulator.url, JWT_SECRET: TEST_JWT_SECRET, CPR_KEY: TEST_CPR_KEY, LOG_LEVEL: 'error', NODE_ENV: 'test', DEMO: 'off' });

async function enrolAll(dataDir: string) {
  const app = await startTestApp({ url: databaseUrlFor(dataDir) });
  const planIds: string[] = [];
  for (const citizen of population) {
    const plan = await enrol(app.deps, citizen.cpr);
    const citizenId = plan.subject.kind === 'citizen' ? plan.subject.member.citizenId : '';
    await grantConsent(app.deps, { citizenId, source: 'dfdg', categories: ['plan-core', 'employment', 'goals', 'interventions'] });
    planIds.push(plan.id);
  }
  return { app, planIds };
}

describe('the on-demand sync thread', () => {
  it('runs syncs one after another against the simulator and the SQLite file, and hands back each run', async () => {
    const dataDir = join(dir, 'direct');
    const { app, planIds } = await enrolAll(dataDir);
    const thread = startSyncThread(envFor(dataDir));
    try {
      const [first, second] = await Promise.all([
        thread.run({ tenant: '101', adapter: 'dfdg', trigger: 'test:first' }),
        thread.run({ tenant: '101', adapter: 'dfdg', trigger: 'test:second' }),
      ]);
      expect(first).toMatchObject({ adapter: 'dfdg', status: 'succeeded' });
      expect(first.stats.recordsMerged).toBeGreaterThan(0);
      // In the order asked, one at a time: the second found everything merged already.
      expect(second).toMatchObject({ adapter: 'dfdg', status: 'succeeded' });
      expect(second.stats.recordsMerged).toBe(0);
      for (const id of planIds) {
        const plan = (await app.deps.store.plans.get('101', id))!;
        expect(plan.goals.length + plan.interventions.length).toBeGreaterThan(0);
      }
      const runs = await app.deps.store.sync.runs('101');
      expect(runs.map((r) => [r.id, r.trigger, r.status])).toEqual([
        [second.runId, 'test:second', 'succeeded'],
        [first.runId, 'test:first', 'succeeded'],
      ]);
    } finally {
      await thread.close();
      await app.close();
    }
    await expect(thread.run({ tenant: '101', adapter: 'dfdg', trigger: 'test:closed' })).rejects.toThrow(/closed/);
  });

  it('answers a run that cannot start with the reason, and runs the next one', async () => {
    const dataDir = join(dir, 'unconfigured');
    const { app } = await enrolAll(dataDir);
    const { DFDG_URL: _left, ...withoutDfdg } = envFor(dataDir);
    const thread = startSyncThread(withoutDfdg);
    try {
      await expect(thread.run({ tenant: '101', adapter: 'dfdg', trigger: 'test:thread' })).rejects.toThrow(/no adapter configured for dfdg/);
      await expect(thread.run({ tenant: '101', adapter: 'dfdg', trigger: 'test:thread' })).rejects.toThrow(/no adapter configured for dfdg/);
    } finally {
      await thread.close();
      await app.close();
    }
  });

  it('stops a thread left idle and starts one again for the next run', async () => {
    const dataDir = join(dir, 'idle');
    const { app } = await enrolAll(dataDir);
    const thread = startSyncThread(envFor(dataDir), { idleMs: 200 });
    try {
      expect(thread.running).toBe(false);
      const first = await thread.run({ tenant: '101', adapter: 'dfdg', trigger: 'test:before-idle' });
      expect(thread.running).toBe(true);
      await expect.poll(() => thread.running, { timeout: 10_000, interval: 50 }).toBe(false);
      const again = await thread.run({ tenant: '101', adapter: 'dfdg', trigger: 'test:after-idle' });
      expect([first.status, again.status]).toEqual(['succeeded', 'succeeded']);
      expect(again.stats.recordsMerged).toBe(0);
    } finally {
      await thread.close();
      await app.close();
    }
  });

  it('is what the service’s POST /v1/sync/{adapter}/run uses', async () => {
    const dataDir = join(dir, 'service');
    const { app } = await enrolAll(dataDir);
    await app.close();
    const service = await startNodeService(envFor(dataDir), { scheduler: false });
    try {
      const asked: OnDemandSync[] = [];
      const onThread = service.deps.runSyncOnThread!;
      service.deps.runSyncOnThread = (options) => {
        asked.push(options);
        return onThread(options);
      };
      const token = await signDevToken(TEST_JWT_SECRET, { tenant: '101', roles: ['it-staff'], sub: 'it-1' });
      const response = await fetch(`${service.url}/v1/sync/dfdg/run`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
      expect(response.status).toBe(200);
      const body = (await response.json()) as { runId: string; status: string; stats: { recordsMerged: number } };
      expect(body.status).toBe('succeeded');
      expect(body.stats.recordsMerged).toBeGreaterThan(0);
      expect(asked).toEqual([{ tenant: '101', adapter: 'dfdg', trigger: 'api:it-1' }]);
    } finally {
      await service.close();
    }
  }, 60_000);

  it('keeps to SYNC_MAX_CITIZENS_PER_RUN, as scheduled runs do', async () => {
    const dataDir = join(dir, 'limited');
    const { app } = await enrolAll(dataDir);
    await app.close();
    const service = await startNodeService({ ...envFor(dataDir), SYNC_MAX_CITIZENS_PER_RUN: '1' }, { scheduler: false });
    try {
      const token = await signDevToken(TEST_JWT_SECRET, { tenant: '101', roles: ['it-staff'], sub: 'it-1' });
      const response = await fetch(`${service.url}/v1/sync/dfdg/run`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
      expect(response.status).toBe(200);
      const body = (await response.json()) as { status: string; stats: { citizensPulled: number; stoppedAtLimit: boolean } };
      expect(body).toMatchObject({ status: 'succeeded', stats: { citizensPulled: 1, stoppedAtLimit: true } });
    } finally {
      await service.close();
    }
  }, 60_000);
});
