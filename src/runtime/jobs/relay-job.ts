/** Bree job: deliver due outbox rows to the sector systems. */
import { openNodeDeps } from '../node-deps';

export async function run() {
  const { deps, close } = await openNodeDeps(process.env);
  try {
    const relay = await import('../../delivery');
    const summary = await relay.runRelayOnce(deps, { limit: 500 });
    if (Object.values(summary).some((n) => Number(n) > 0)) deps.logger.info("outbox relay", { ...summary });
  } finally {
    await close();
  }
}
