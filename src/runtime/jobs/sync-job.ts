/** Bree job: pull from one adapter for every tenant with enrolled citizens. */
import { runSync } from '../../sync/engine';
import { openNodeDeps } from '../node-deps';
import type { SourceSystem } from '../../model';

export async function run(options: { adapter: SourceSystem }) {
  const { deps, close } = await openNodeDeps(process.env);
  try {
    for (const tenant of await deps.store.plans.tenantsWithEnrolled()) {
      const result = await runSync(deps, { tenant, adapter: options.adapter, trigger: 'schedule', mappings: deps.mappings });
      deps.logger.info('scheduled sync finished', { tenant, adapter: options.adapter, runId: result.runId, status: result.status });
    }
  } finally {
    await close();
  }
}
