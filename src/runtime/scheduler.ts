/**
 * Scheduled jobs on Node with bree: a sync round per schedule over the adapters on it (SYNC_CRON,
 * or an adapter's own SYNC_CRON_<ADAPTER>), the outbox relay on an interval, and retention nightly. Each job runs in a worker thread from a
 * small .js bootstrap that runs the job module.
 */
import { fileURLToPath } from 'node:url';
import Bree from 'bree';
import cronValidate from 'cron-validate';
import { syncSchedules, type Config } from '../config';
import type { Logger } from '../monitoring/log';
import type { JobQueue } from './job-queue';
import { syncHeap } from './memory';
import { processInstanceEnv } from './run-owner';

// Run from the TypeScript sources (tests, `npm run dev`), the jobs are .ts and their bootstrap
// registers tsx; run from the bundle (`npm start`: dist/node.mjs), they are built .mjs files beside
// it, started by a plain bootstrap (scripts/build.mjs).
const fromSource = import.meta.url.endsWith('.ts');
export const bootstrap = fileURLToPath(new URL(fromSource ? './jobs/bootstrap.js' : './run-job.mjs', import.meta.url));
export const jobModule = (name: string) => new URL(fromSource ? `./jobs/${name}.ts` : `./${name}.mjs`, import.meta.url).href;

/** bree's name of the outbox relay job (woken by `relayWaker`). */
const RELAY_JOB = 'outbox-relay';

// A CommonJS module with `exports.default`: Node's ESM loader hands over the whole module, bundlers its `default`.
const validateCron = (cronValidate as unknown as { default?: typeof cronValidate }).default ?? cronValidate;

/**
 * Refuses, naming the setting, a cron bree would refuse when the scheduler starts: checked as bree
 * checks its jobs (cron-validate with bree's options), at the very start of the service — before the
 * demo is seeded and the first sync runs — instead of by bree later, with its job's name. The
 * configuration's own check is only the shape (5 or 6 fields), which Workers shares.
 */
export function refuseCronsBreeCannotSchedule(config: Config): void {
  const crons: [string, string][] = [['SYNC_CRON', config.schedule.syncCron], ...Object.entries(config.schedule.syncCronOf).filter(([, cron]) => cron !== config.schedule.syncCron).map(([adapter, cron]): [string, string] => [`SYNC_CRON_${adapter.toUpperCase()}`, cron]), ['RETENTION_CRON', config.schedule.retentionCron]];
  for (const [name, cron] of crons) {
    const checked = validateCron(cron, cron.split(' ').length === 6 ? { preset: 'default', override: { useSeconds: true } } : undefined);
    if (!checked.isValid()) throw new Error(`${name} "${cron}" is not a cron bree can schedule: ${checked.getError().join('; ')} (write days and months as numbers, e.g. "0 8 * * 1-5")`);
  }
}

/** The configuration accepts crons with a seconds field; bree reads one only when told so. */
const withSeconds = (cron: string) => (cron.trim().split(/\s+/).length === 6 ? { hasSeconds: true } : {});

export function schedulerJobs(config: Config): Bree.JobOptions[] {
  const jobs: Bree.JobOptions[] = [];
  // One round per schedule over the adapters on it: a citizen's records from all of them are
  // merged in one write of the plan (docs/decisions/0006), in a worker whose heap is bounded.
  for (const { cron, adapters } of syncSchedules(config))
    jobs.push({ name: `sync-${adapters.join('-')}`, path: bootstrap, cron, ...withSeconds(cron), worker: { workerData: { jobModule: jobModule('sync-job'), options: { adapters } }, resourceLimits: { ...syncHeap } } });
  jobs.push({ name: RELAY_JOB, path: bootstrap, interval: config.schedule.relayInterval, worker: { workerData: { jobModule: jobModule('relay-job') } } });
  jobs.push({ name: 'retention', path: bootstrap, cron: config.schedule.retentionCron, ...withSeconds(config.schedule.retentionCron), worker: { workerData: { jobModule: jobModule('retention-job') } } });
  return jobs;
}

/**
 * `threadEnded`: called when a job's thread ends without saying it was done (an error, its heap
 * limit, terminated), with its thread id and how it ended, so the runs it left "running" are ended.
 */
export async function startScheduler(config: Config, logger: Logger, options: { threadEnded?: (thread: number, how: string) => Promise<unknown> } = {}): Promise<Bree> {
  refuseCronsBreeCannotSchedule(config);
  const bree = new Bree({
    root: false,
    doRootCheck: false,
    jobs: schedulerJobs(config),
    logger: { info: () => undefined, warn: (...a: unknown[]) => logger.warn('scheduler', { detail: a.map(String).join(' ') }), error: (...a: unknown[]) => logger.error('scheduler', { detail: a.map(String).join(' ') }) },
    errorHandler: (error, data) => logger.error('job failed', { job: data.name, error: error instanceof Error ? error.message : String(error) }),
  });
  // The job threads inherit this process's environment: its instance is set before the first starts, so their runs name this process.
  processInstanceEnv();
  // Bree drops a job's exit listeners once it says 'done': this one hears only a thread that ended without.
  bree.on('worker created', (name: string) => {
    const job = bree.workers.get(name);
    if (!job || !options.threadEnded) return;
    const thread = job.threadId;
    let failure: Error | undefined;
    job.on('error', (error) => (failure = error));
    job.once('exit', (code) => void options.threadEnded?.(thread, `job ${name}: ${failure ? `${failure.message}; ` : ''}exit ${code}`));
  });
  await bree.start();
  return bree;
}

/**
 * Node's side of the job queue (decision 0020): a registration's relay request runs bree's relay
 * job at once instead of at its next interval; one asked for while it runs runs it again when it
 * ends, so a row committed after the running relay looked is not left for the interval. Other jobs
 * are bree's schedules and the inbound processor's on Node.
 */
export function relayWaker(bree: Bree, logger: Logger): JobQueue {
  let again = false;
  const start = () => {
    again = false;
    bree.run(RELAY_JOB).catch((error: unknown) => logger.warn('relay not started; its interval runs it', { error: error instanceof Error ? error.message : String(error) }));
  };
  bree.on('worker deleted', (name: string) => {
    if (name === RELAY_JOB && again) start();
  });
  return {
    async send(message) {
      if (message.kind !== 'relay') return;
      if (bree.workers.has(RELAY_JOB)) again = true;
      else start();
    },
  };
}
