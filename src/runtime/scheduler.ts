/**
 * Scheduled jobs on Node with bree: one pull job per configured adapter on the sync cron, the
 * outbox relay on an interval, and retention nightly. Each job runs in a worker thread from a
 * small .js bootstrap that registers tsx (the jobs are TypeScript).
 */
import { fileURLToPath } from 'node:url';
import Bree from 'bree';
import type { Config } from '../config';
import type { Logger } from '../monitoring/log';

const bootstrap = fileURLToPath(new URL('./jobs/bootstrap.js', import.meta.url));
const jobModule = (name: string) => new URL(`./jobs/${name}.ts`, import.meta.url).href;

export function schedulerJobs(config: Config): Bree.JobOptions[] {
  const jobs: Bree.JobOptions[] = [];
  for (const adapter of ['dfdg', 'education', 'social', 'health'] as const) {
    if (!config.adapters[adapter]) continue;
    jobs.push({ name: `sync-${adapter}`, path: bootstrap, cron: config.schedule.syncCron, worker: { workerData: { jobModule: jobModule('sync-job'), options: { adapter } } } });
  }
  jobs.push({ name: 'outbox-relay', path: bootstrap, interval: config.schedule.relayInterval, worker: { workerData: { jobModule: jobModule('relay-job') } } });
  jobs.push({ name: 'retention', path: bootstrap, cron: config.schedule.retentionCron, worker: { workerData: { jobModule: jobModule('retention-job') } } });
  return jobs;
}

export async function startScheduler(config: Config, logger: Logger): Promise<Bree> {
  const bree = new Bree({
    root: false,
    doRootCheck: false,
    jobs: schedulerJobs(config),
    logger: { info: () => undefined, warn: (...a: unknown[]) => logger.warn('scheduler', { detail: a.map(String).join(' ') }), error: (...a: unknown[]) => logger.error('scheduler', { detail: a.map(String).join(' ') }) },
    errorHandler: (error, data) => logger.error('job failed', { job: data.name, error: error instanceof Error ? error.message : String(error) }),
  });
  await bree.start();
  return bree;
}
