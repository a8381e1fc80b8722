/** Bree job: deliver due outbox rows to the sector systems, and due events to subscribers. */
import { openNodeDeps } from '../node-deps';

export async function run() {
  const { deps, close } = await openNodeDeps(process.env);
  try {
    const relay = await import('../../delivery');
    const summary = await relay.runRelayOnce(deps, { limit: 500 });
    if (Object.values(summary).some((n) => Number(n) > 0)) deps.logger.info("outbox relay", { ...summary });
    // Events to subscribers ride on the same interval (their own table, retries and backoff).
    const { runSubscriptionDeliveries } = await import('../../subscriptions/service');
    const events = await runSubscriptionDeliveries(deps);
    if (Object.values(events).some((n) => n > 0)) deps.logger.info('subscription deliveries', { ...events });
  } finally {
    await close();
  }
}
