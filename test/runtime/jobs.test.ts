/**
 * Scheduling on Node: bree runs the TypeScript sync job in a worker thread through the .js
 * bootstrap, against the simulator over HTTP and the SQLite file; and the retention job purges
 * closed plans after the period and prunes stored payloads, keeping the audit rows.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Bree from 'bree';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDfdgSimulator, type DfdgSimulator } from '../../adapters/dfdg';
import { generatePopulation } from '../../adapters/shared/population';
import { loadConfig } from '../../src/config';
import { planService } from '../../src/plans/service';
import { startNodeService } from '../../src/runtime/node';
import { refuseCronsBreeCannotSchedule, schedulerJobs } from '../../src/runtime/scheduler';
import { syncHeapFlags } from '../../src/runtime/memory';
import { runRetention } from '../../src/sync/retention';
import { databaseUrlFor } from '../../src/store/libsql';
import { appliedRecords as marksTable, consents as consentsTable, outbox as outboxTable, registrations as registrationsTable } from '../../src/store/schema';
import { membersOf } from '../../src/model';
import { eq } from 'drizzle-orm';
import { testCpr } from '../support/cpr';
import { TEST_CPR_KEY, TEST_JWT_SECRET } from '../support/harness';
import { startTestApp } from '../support/node-app';
import { caseworkerOf, enrol, grantConsent } from '../support/seed';

const population = generatePopulation(4, 909).map((c) => ({ ...c, sectors: { ...c.sectors, employment: true } }));
let simulator: DfdgSimulator;
let dir: string;

beforeAll(async () => {
  simulator = await startDfdgSimulator({ population, port: 0 });
  dir = mkdtempSync(join(tmpdir(), 'enplan-jobs-'));
});
afterAll(async () => {
  await simulator?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('bree jobs', () => {
  it('runs the sync round in a heap-bounded worker thread and merges into the SQLite file', async () => {
    const env = { DATA_DIR: dir, DFDG_URL: simulator.url, JWT_SECRET: TEST_JWT_SECRET, CPR_KEY: TEST_CPR_KEY, LOG_LEVEL: 'warn', NODE_ENV: 'test' };
    const app = await startTestApp({ url: databaseUrlFor(dir) });
    const plan = await enrol(app.deps, population[0]!.cpr);
    const citizenId = plan.subject.kind === 'citizen' ? plan.subject.member.citizenId : '';
    await grantConsent(app.deps, { citizenId, source: 'dfdg', categories: ['plan-core', 'employment', 'goals', 'interventions'] });

    const job = schedulerJobs(loadConfig(env)).find((j) => j.name === 'sync-dfdg')!;
    expect(job.cron).toBe('*/5 * * * *');
    expect(job.worker?.workerData).toMatchObject({ options: { adapters: ['dfdg'] } });
    expect(job.worker?.resourceLimits).toEqual({ maxOldGenerationSizeMb: 192, maxYoungGenerationSizeMb: 48 });
    const done = new Promise<void>((resolve, reject) => {
      const bree = new Bree({
        root: false,
        doRootCheck: false,
        logger: false,
        jobs: [{ ...job, cron: undefined, worker: { ...job.worker, env: { ...process.env, ...env } } }],
        workerMessageHandler: ({ message }) => {
          if (message === 'done') void bree.stop().then(resolve);
        },
        errorHandler: (error) => reject(error instanceof Error ? error : new Error(String(error))),
      });
      void bree.run('sync-dfdg');
    });
    await done;
    const merged = (await app.deps.store.plans.get('101', plan.id))!;
    expect(merged.interventions.length + merged.goals.length).toBeGreaterThan(0);
    const runs = await app.deps.store.sync.runs('101');
    expect(runs[0]).toMatchObject({ adapter: 'dfdg', trigger: 'schedule', status: 'succeeded' });
    await app.close();
  });
});

describe('sync schedules from configuration', () => {
  const urls = { DFDG_URL: 'http://dfdg.test', EDUCATION_URL: 'http://edu.test', SOCIAL_FHIR_URL: 'http://social.test', HEALTH_FHIR_URL: 'http://health.test' };
  const syncJobs = (env: Record<string, string>) => schedulerJobs(loadConfig(env)).filter((j) => j.name.startsWith('sync'));

  it('runs every configured adapter as one round on SYNC_CRON', () => {
    const jobs = syncJobs({ ...urls, SYNC_CRON: '*/10 * * * *' });
    expect(jobs.map((j) => [j.name, j.cron, j.worker?.workerData.options.adapters])).toEqual([['sync-dfdg-education-social-health', '*/10 * * * *', ['dfdg', 'education', 'social', 'health']]]);
  });

  it('gives an adapter with its own SYNC_CRON_<ADAPTER> a round of its own; adapters sharing a cron share a round', () => {
    const jobs = syncJobs({ ...urls, SYNC_CRON_HEALTH: '*/15 * * * *', SYNC_CRON_EDUCATION: '0 2 * * *', SYNC_CRON_DFDG: '0 2 * * *' });
    expect(jobs.map((j) => [j.name, j.cron, j.worker?.workerData.options.adapters])).toEqual([
      ['sync-dfdg-education', '0 2 * * *', ['dfdg', 'education']],
      ['sync-social', '*/5 * * * *', ['social']],
      ['sync-health', '*/15 * * * *', ['health']],
    ]);
    for (const job of jobs) expect(job.worker?.resourceLimits).toEqual({ maxOldGenerationSizeMb: 192, maxYoungGenerationSizeMb: 48 });
  });

  it('schedules nothing for an adapter that is not configured, even with a cron of its own', () => {
    expect(syncJobs({ DFDG_URL: urls.DFDG_URL, SYNC_CRON_HEALTH: '*/15 * * * *' }).map((j) => j.name)).toEqual(['sync-dfdg']);
  });

  it('a cron with a seconds field (6 fields) is scheduled as such: bree accepts it and reads the seconds', async () => {
    const jobs = schedulerJobs(loadConfig({ DFDG_URL: urls.DFDG_URL, SYNC_CRON: '30 */5 * * * *', RETENTION_CRON: '0 0 3 * * *' }));
    expect(jobs.find((j) => j.name === 'sync-dfdg')).toMatchObject({ cron: '30 */5 * * * *', hasSeconds: true });
    expect(jobs.find((j) => j.name === 'retention')).toMatchObject({ hasSeconds: true });
    // Five fields stay as they were.
    expect(syncJobs(urls)[0]!.hasSeconds).toBeUndefined();
    // bree validates jobs when they are added: without hasSeconds it refuses a 6-field cron.
    const bree = new Bree({ root: false, doRootCheck: false, jobs: [], logger: false as never });
    await expect(bree.add(jobs)).resolves.not.toThrow();
    await expect(bree.add([{ ...jobs.find((j) => j.name === 'sync-dfdg')!, name: 'without-seconds', hasSeconds: false }])).rejects.toThrow();
  });

  it('pulls through a worker thread only when SYNC_PULL_WORKER=on', () => {
    expect(loadConfig(urls).schedule.pullWorker).toBe(false);
    expect(loadConfig({ ...urls, SYNC_PULL_WORKER: 'on' }).schedule.pullWorker).toBe(true);
    expect(() => loadConfig({ ...urls, SYNC_PULL_WORKER: 'yes' })).toThrow(/SYNC_PULL_WORKER/);
  });

  it('runs SQLite on a thread of its own unless SYNC_STORE_THREAD=off', () => {
    expect(loadConfig(urls).schedule.storeThread).toBe(true);
    expect(loadConfig({ ...urls, SYNC_STORE_THREAD: 'off' }).schedule.storeThread).toBe(false);
    expect(() => loadConfig({ ...urls, SYNC_STORE_THREAD: 'yes' })).toThrow(/SYNC_STORE_THREAD/);
  });

  it('bounds the citizens of a run only when SYNC_MAX_CITIZENS_PER_RUN is set, to a positive whole number', () => {
    expect(loadConfig(urls).schedule.maxCitizensPerRun).toBeUndefined();
    expect(loadConfig({ ...urls, SYNC_MAX_CITIZENS_PER_RUN: '400' }).schedule.maxCitizensPerRun).toBe(400);
    expect(() => loadConfig({ ...urls, SYNC_MAX_CITIZENS_PER_RUN: '0' })).toThrow(/SYNC_MAX_CITIZENS_PER_RUN/);
    expect(() => loadConfig({ ...urls, SYNC_MAX_CITIZENS_PER_RUN: 'many' })).toThrow(/SYNC_MAX_CITIZENS_PER_RUN/);
  });

  it('refuses a malformed cron at start, naming the variable', () => {
    expect(() => loadConfig({ ...urls, SYNC_CRON_SOCIAL: 'every five minutes' })).toThrow(/SYNC_CRON_SOCIAL[\s\S]*cron expression/);
    expect(() => loadConfig({ ...urls, SYNC_CRON: '* * *' })).toThrow(/SYNC_CRON/);
  });

  it('the Node service refuses, naming the setting, exactly the crons bree would refuse when its scheduler starts', async () => {
    const breeSchedules = async (cron: string) => {
      const bree = new Bree({ root: false, doRootCheck: false, logger: false, jobs: [{ name: 'probe', path: () => undefined, cron, ...(cron.split(' ').length === 6 ? { hasSeconds: true } : {}) }] });
      // bree checks its jobs' crons in init (which its types do not declare), as start calls it.
      return (bree as unknown as { init(): Promise<void> }).init().then(() => true, () => false);
    };
    const nodeAccepts = (cron: string) => {
      try {
        refuseCronsBreeCannotSchedule(loadConfig({ ...urls, SYNC_CRON_HEALTH: cron }));
        return true;
      } catch {
        return false;
      }
    };
    const crons = ['*/5 * * * *', '0 8 * * 1-5', '30 */5 * * * *', '0 0 1 1 *', '0 0 31 2 *', 'a b c d e', '0 8 * * MON-FRI', '0 0 L * *', '0 0 * * 1#2', '99 * * * *', '0 25 * * *', '? ? ? ? ?'];
    const found = await Promise.all(crons.map(async (cron) => [cron, nodeAccepts(cron), await breeSchedules(cron)] as const));
    for (const [cron, accepted, scheduled] of found) expect(accepted, cron).toBe(scheduled);
    expect(found.filter(([, accepted]) => !accepted).map(([cron]) => cron)).toEqual(['a b c d e', '0 8 * * MON-FRI', '0 0 L * *', '0 0 * * 1#2', '99 * * * *', '0 25 * * *', '? ? ? ? ?']);
    expect(() => refuseCronsBreeCannotSchedule(loadConfig({ ...urls, SYNC_CRON_HEALTH: '0 8 * * MON-FRI' }))).toThrow(/^SYNC_CRON_HEALTH "0 8 \* \* MON-FRI" is not a cron bree can schedule: Element 'MON' of daysOfWeek field is invalid.*write days and months as numbers/);
    expect(() => refuseCronsBreeCannotSchedule(loadConfig({ ...urls, RETENTION_CRON: '0 3 * * SUN' }))).toThrow(/^RETENTION_CRON /);
    // The service stops before it starts anything (no simulators, no database).
    await expect(startNodeService({ ...urls, NODE_ENV: 'test', DEMO: 'off', SYNC_CRON: '0 0 L * *', DATA_DIR: join(tmpdir(), 'never-made') })).rejects.toThrow(/^SYNC_CRON "0 0 L \* \*" is not a cron bree can schedule/);
  });

  it('refuses a cron that restricts both the day of month and the day of week, which bree and classic cron read differently; one day field is fine', () => {
    // bree would run this only on a Monday that is the 1st; classic cron on every 1st and every Monday.
    expect(() => loadConfig({ ...urls, SYNC_CRON_DFDG: '0 8 1 * 1' })).toThrow(/SYNC_CRON_DFDG[\s\S]*restricts both the day of month and the day of week/);
    expect(() => loadConfig({ ...urls, RETENTION_CRON: '0 0 3 15 * 1-5' })).toThrow(/RETENTION_CRON[\s\S]*restricts both/);
    expect(() => loadConfig({ ...urls, RETENTION_CRON: '0 3 1-7 * 0' })).toThrow(/RETENTION_CRON[\s\S]*restricts both/);
    expect(loadConfig({ ...urls, SYNC_CRON_DFDG: '0 8 1 * *' }).schedule.syncCronOf.dfdg).toBe('0 8 1 * *');
    expect(loadConfig({ ...urls, SYNC_CRON_DFDG: '0 8 * * 1-5' }).schedule.syncCronOf.dfdg).toBe('0 8 * * 1-5');
    expect(loadConfig({ ...urls, SYNC_CRON_DFDG: '0 8 ? * 1' }).schedule.syncCronOf.dfdg).toBe('0 8 ? * 1');
    // With seconds, the day fields are the fourth and the sixth.
    expect(loadConfig({ ...urls, RETENTION_CRON: '0 30 2 1 * *' }).schedule.retentionCron).toBe('0 30 2 1 * *');
    expect(() => loadConfig({ ...urls, RETENTION_CRON: '0 30 2 1 * 1' })).toThrow(/RETENTION_CRON[\s\S]*restricts both/);
  });

  it('refuses a malformed RETENTION_CRON at load, naming it, and reads one with stray spaces as the cron it is', () => {
    expect(() => loadConfig({ ...urls, RETENTION_CRON: 'nightly' })).toThrow(/RETENTION_CRON[\s\S]*cron expression/);
    expect(() => loadConfig({ ...urls, RETENTION_CRON: '30 2 * *' })).toThrow(/RETENTION_CRON/);
    expect(() => loadConfig({ ...urls, RETENTION_CRON: '30 2 * * * * *' })).toThrow(/RETENTION_CRON/);
    expect(loadConfig(urls).schedule.retentionCron).toBe('30 2 * * *');
    expect(loadConfig({ ...urls, RETENTION_CRON: ' 30  2 * *\t* ' }).schedule.retentionCron).toBe('30 2 * * *');
    expect(loadConfig({ ...urls, SYNC_CRON: '*/5 *  * * * ' }).schedule.syncCron).toBe('*/5 * * * *');
    // bree (Node) still takes six fields, with seconds.
    expect(loadConfig({ ...urls, RETENTION_CRON: '0 30 2 * * *' }).schedule.retentionCron).toBe('0 30 2 * * *');
  });
});

describe('heap settings', () => {
  it('npm start runs with the same V8 heap limits as the sync worker', () => {
    const start = (JSON.parse(readFileSync(join(process.cwd(), 'package.json'), 'utf8')) as { scripts: { start: string } }).scripts.start;
    for (const flag of syncHeapFlags) expect(start.split(' ')).toContain(flag);
  });
});

describe('retention (R16)', () => {
  it('purges declined plans too, with their registrations and finished deliveries, and each member left with no plan; a delivery still due keeps its plan', async () => {
    let now = new Date('2026-01-01T00:00:00Z');
    const app = await startTestApp({ clock: { now: () => now } });
    const service = planService(app.deps);
    const citizenOf = (plan: Awaited<ReturnType<typeof enrol>>) => membersOf(plan)[0]!.citizenId;
    const people = generatePopulation(3, 1717);
    const declined = await enrol(app.deps, people[0]!.cpr);
    await grantConsent(app.deps, { citizenId: citizenOf(declined), source: 'dfdg', categories: ['plan-core'] });
    await service.changeStatus(caseworkerOf(), declined.id, { status: 'declined', reason: 'Borgeren ønsker ikke en samlet plan' });
    const closedOfTwo = await enrol(app.deps, people[1]!.cpr);
    await service.changeStatus(caseworkerOf(), closedOfTwo.id, { status: 'closed' });
    const stillOpen = await enrol(app.deps, people[1]!.cpr);
    await grantConsent(app.deps, { citizenId: citizenOf(stillOpen), source: 'dfdg', categories: ['plan-core'] });
    const waiting = await enrol(app.deps, people[2]!.cpr);
    await service.changeStatus(caseworkerOf(), waiting.id, { status: 'closed' });
    const [registration] = await app.database.db.select({ id: registrationsTable.id }).from(registrationsTable).where(eq(registrationsTable.planId, waiting.id)).limit(1);
    await app.deps.store.batch([app.deps.store.outbox.insertStatement({ id: 'still-due', tenant: '101', registrationId: registration!.id, citizenId: citizenOf(waiting), target: 'dfdg', operation: 'plan.status', payload: '{}', nextAttemptAt: now.toISOString(), consentRef: null, createdAt: now.toISOString() })]);
    const registrationsOf = async (planId: string) => (await app.database.db.select({ id: registrationsTable.id }).from(registrationsTable).where(eq(registrationsTable.planId, planId))).length;
    const consentsOf = async (citizenId: string) => (await app.database.db.select({ id: consentsTable.id }).from(consentsTable).where(eq(consentsTable.citizenId, citizenId))).length;
    expect(await registrationsOf(declined.id)).toBeGreaterThan(0);
    await app.deps.store.satisfaction.answer({ tenant: '101', planId: declined.id, citizenId: citizenOf(declined), period: '2026-H1', score: 2, answeredAt: now.toISOString() });

    now = new Date(Date.UTC(2031, 1, 1));
    expect(await runRetention(app.deps)).toMatchObject({ plansPurged: 2, plansKeptForDeliveries: 1, citizensPurged: 1 });
    expect(await app.deps.store.plans.get('101', declined.id)).toBeNull();
    expect(await registrationsOf(declined.id)).toBe(0);
    expect(await app.deps.store.citizens.get('101', citizenOf(declined))).toBeNull();
    expect(await consentsOf(citizenOf(declined))).toBe(0);
    expect((await app.deps.store.satisfaction.countsByScore('101', '2026-H1')).size).toBe(0);
    // A member with a plan left keeps their record and consents.
    expect(await app.deps.store.plans.get('101', closedOfTwo.id)).toBeNull();
    expect(await app.deps.store.citizens.get('101', citizenOf(stillOpen))).not.toBeNull();
    expect(await consentsOf(citizenOf(stillOpen))).toBe(1);
    // Nothing accepted is lost: the plan whose delivery is still due waits, delivery and all.
    expect(await app.deps.store.plans.get('101', waiting.id)).not.toBeNull();
    expect(await app.deps.store.outbox.get('101', 'still-due')).not.toBeNull();
    expect((await app.deps.store.audit.list('101')).filter((a) => a.action === 'citizen.purged').map((a) => a.targetId)).toEqual([citizenOf(declined)]);
    expect(await app.deps.store.audit.verify('101')).toMatchObject({ ok: true });
    await app.close();
  });

  it('purges closed plans after the period, prunes quarantine and delivery payloads (not dead letters) and keeps audit rows', async () => {
    let now = new Date('2026-01-01T00:00:00Z');
    const app = await startTestApp({ clock: { now: () => now } });
    const service = planService(app.deps);
    const old = await enrol(app.deps, population[1]!.cpr);
    await service.changeStatus(caseworkerOf(), old.id, { status: 'closed' });
    const open = await enrol(app.deps, population[2]!.cpr);
    await app.deps.store.batch([
      app.deps.store.sync.quarantineStatement({ id: 'q1', tenant: '101', adapter: 'dfdg', recordType: 'activity', recordId: 'r1', mappingId: null, reason: 'test', raw: '<x/>', runId: null, createdAt: now.toISOString() }),
    ]);
    const payload = JSON.stringify({ outbound: { elementId: 'element-1', note: 'content that must not outlive retention' } });
    const outboxRow = (id: string) => ({ id, tenant: '101', registrationId: 'reg-1', citizenId: 'c-1', target: 'dfdg', operation: 'intervention.upsert', payload, nextAttemptAt: now.toISOString(), consentRef: null, createdAt: now.toISOString() });
    await app.deps.store.batch(['delivered-old', 'dead-old', 'cancelled-old'].map((id) => app.deps.store.outbox.insertStatement(outboxRow(id))));
    await app.database.db.update(outboxTable).set({ status: 'delivered' }).where(eq(outboxTable.id, 'delivered-old'));
    await app.database.db.update(outboxTable).set({ status: 'dead' }).where(eq(outboxTable.id, 'dead-old'));
    await app.database.db.update(outboxTable).set({ status: 'cancelled' }).where(eq(outboxTable.id, 'cancelled-old'));
    // Merged-record marks of both plans' citizens: the purge takes the closed plan's, keeps the open one's.
    const mark = (plan: typeof old, recordId: string) => ({ tenant: '101', citizenId: membersOf(plan)[0]!.citizenId, source: 'dfdg', recordId, recordVersion: '1', planId: plan.id, appliedAt: now.toISOString() });
    await app.database.db.insert(marksTable).values([mark(old, 'r-old-1'), mark(old, 'r-old-2'), mark(open, 'r-open')]);
    const auditBefore = (await app.deps.store.audit.list('101')).length;

    now = new Date('2026-01-20T00:00:00Z');
    expect(await runRetention(app.deps)).toMatchObject({ plansPurged: 0, quarantinePayloadsPruned: 0 });

    now = new Date(Date.UTC(2031, 1, 1));
    const summary = await runRetention(app.deps);
    expect(summary).toMatchObject({ plansPurged: 1, quarantinePayloadsPruned: 1, deliveryPayloadsPruned: 2 });
    const pruned = JSON.parse((await app.deps.store.outbox.get('101', 'delivered-old'))!.payload!);
    expect(pruned).toEqual({ pruned: 1, outbound: { elementId: 'element-1' } });
    expect((await app.deps.store.outbox.get('101', 'dead-old'))!.payload).toBe(payload);
    expect(await runRetention(app.deps)).toMatchObject({ plansPurged: 0, quarantinePayloadsPruned: 0, deliveryPayloadsPruned: 0 });
    expect(await app.deps.store.plans.get('101', old.id)).toBeNull();
    expect(await app.deps.store.plans.get('101', open.id)).not.toBeNull();
    expect((await app.deps.store.sync.quarantined('101'))[0]!.raw).toBeNull();
    expect((await app.database.db.select({ recordId: marksTable.recordId }).from(marksTable)).map((r) => r.recordId)).toEqual(['r-open']);
    const audit = await app.deps.store.audit.list('101');
    // The plan, then its citizen, who has no plan left.
    expect(audit.length).toBe(auditBefore + 2);
    expect(audit.at(-2)).toMatchObject({ action: 'plan.purged', targetId: old.id });
    expect(audit.at(-1)).toMatchObject({ action: 'citizen.purged', targetId: membersOf(old)[0]!.citizenId });
    expect(await app.deps.store.audit.verify('101')).toMatchObject({ ok: true });
    await app.close();
  });

  it('purges a citizen for whom no plan was ever made (a creation that failed half-way) after a day, and keeps one still being made', async () => {
    let now = new Date('2026-03-01T12:00:00Z');
    const app = await startTestApp({ clock: { now: () => now } });
    const orphanRow = async (cpr: string, id = crypto.randomUUID()) =>
      app.deps.store.citizens.upsert({ id, tenant: '101', cprHash: await app.deps.vault.hash('101', cpr), cprCipher: await app.deps.vault.encrypt(cpr, { tenant: '101', citizenId: id }), birthDate: '1985-06-15', createdAt: now.toISOString() });
    const left = await orphanRow(testCpr());
    await grantConsent(app.deps, { citizenId: left.id, source: 'dfdg', categories: ['plan-core'] });
    const planned = await enrol(app.deps, testCpr());

    now = new Date('2026-03-02T13:00:00Z');
    const beingMade = await orphanRow(testCpr());
    expect(await runRetention(app.deps)).toMatchObject({ citizensPurged: 1 });
    expect(await app.deps.store.citizens.get('101', left.id)).toBeNull();
    expect(await app.deps.store.consents.forCitizens('101', [left.id])).toEqual([]);
    expect(await app.deps.store.citizens.get('101', beingMade.id)).not.toBeNull();
    expect(await app.deps.store.citizens.get('101', membersOf(planned)[0]!.citizenId)).not.toBeNull();
    expect((await app.deps.store.audit.list('101')).filter((a) => a.action === 'citizen.purged')).toEqual([
      expect.objectContaining({ targetId: left.id, detail: { reason: expect.stringContaining('member of no plan') } }),
    ]);
    await app.close();
  });
});
