/** Bree job: retention (R16) — purge closed plans after the retention period, prune stored payloads. */
import { runRetention } from '../../sync/retention';
import { openNodeDeps } from '../node-deps';

export async function run() {
  const { deps, close } = await openNodeDeps(process.env);
  try {
    const summary = await runRetention(deps);
    deps.logger.info('retention finished', summary);
  } finally {
    await close();
  }
}
