/**
 * The Node runtime: the embedded default. An SQLite file under DATA_DIR, the HTTP server on PORT,
 * bree for scheduled jobs, and — unless sector system URLs are configured or DEMO=off — the four
 * built-in simulators seeded with synthetic citizens, so everything works at once.
 */
import { pathToFileURL } from 'node:url';
import { serve } from '@hono/node-server';
import { createApp } from '../app';
import { loadConfig } from '../config';
import { signDevToken } from '../security';
import { rekeyToCurrentKey } from '../security/rekey';
import { DEMO_TENANT, firstSync, seedDemo, seedDemoConflict, startDemoSimulators, type DemoConflictOutcome, type DemoSimulators } from './demo';
import { inboundWebhookProcessor } from '../webhooks/inbound';
import { openNodeDeps } from './node-deps';
import { interruptRunsOfEndedProcesses, interruptRunsOfThread } from './run-owner';
import { refuseCronsBreeCannotSchedule, relayWaker, startScheduler } from './scheduler';
import { startSyncThread } from './sync-thread';
import { keyAuditChainEnds } from '../sync/retention';

/** Re-keys at start until nothing is left to move (or only values it leaves), then logs what it did. Exported for tests (`pages`: smaller runs). */
export async function rekeyUntilDone(deps: Parameters<typeof rekeyToCurrentKey>[0], rotating: boolean, pages?: Parameters<typeof rekeyToCurrentKey>[1]): Promise<void> {
  try {
    const total = { citizens: 0, sealedValues: 0, failures: 0, refused: 0, legacyCiphertextsLeft: 0 };
    for (let more = true; more; ) {
      const run = await rekeyToCurrentKey(deps, pages);
      total.citizens += run.citizens;
      total.sealedValues += run.sealedValues;
      // Each run scans from the start, so what it left is counted by the last run alone.
      total.failures = run.failures;
      total.refused = run.refused;
      total.legacyCiphertextsLeft = run.legacyCiphertextsLeft;
      // A bounded run that moved nothing saw only values it leaves: running again would not end.
      more = run.more && run.citizens + run.sealedValues > 0;
    }
    // Logged during a key rotation (README: the old key goes when this says no failures), or when an earlier format was moved or left.
    if (rotating || total.citizens + total.sealedValues + total.failures + total.refused + total.legacyCiphertextsLeft > 0)
      deps.logger.info('CPR key rotation: data under retired keys or an earlier format moved to the current key', total);
  } catch (error) {
    deps.logger.error('CPR key rotation stopped; retention will go on with it', { error: error instanceof Error ? error.message : String(error) });
  }
}

export async function startNodeService(baseEnv: Record<string, string | undefined> = process.env, options: { scheduler?: boolean } = {}) {
  const env = { ...baseEnv };
  // Before anything starts (simulators, the database): a cron bree would refuse fails here, named.
  refuseCronsBreeCannotSchedule(loadConfig(env));
  const configured = ['DFDG_URL', 'EDUCATION_URL', 'SOCIAL_FHIR_URL', 'HEALTH_FHIR_URL'].some((k) => env[k]);
  let demo: DemoSimulators | undefined;
  if (!configured && env.DEMO !== 'off') {
    demo = await startDemoSimulators(Number(env.DEMO_CITIZENS ?? 300));
    Object.assign(env, demo.urls, demo.educationWsSecurity);
    // Bree's job threads read the same environment.
    Object.assign(process.env, demo.urls, demo.educationWsSecurity);
  }
  const { deps, config, close } = await openNodeDeps(env, { storeThread: 'service' });
  // Runs a crashed or stopped process left "running" end as interrupted, before this one runs any.
  await interruptRunsOfEndedProcesses(deps);
  // AUDIT_CHAIN_KEY newly set: every chain's end is keyed before anything else is written.
  if (config.auditChainKey) await keyAuditChainEnds(deps);
  else if (config.environment === 'production') deps.logger.warn('AUDIT_CHAIN_KEY is not set: the audit chain is plain SHA-256, so someone holding the database file could rewrite it with every hash recomputed (only logged anchors would show it)');
  let demoSummary: Record<string, unknown> | undefined;
  if (demo) {
    const seeded = await seedDemo(deps, demo.population);
    demoSummary = { ...seeded, firstSync: await firstSync(deps) };
    // One genuine conflict for the caseworkers' worklist (GET /v1/conflicts), once per database.
    demoSummary.conflict = await seedDemoConflict(deps, demo.population);
  }
  // A sync thread or job thread that ends mid-run (an error, its heap limit) leaves its runs "running": they are ended at once.
  const threadEnded = (thread: number, how: string) =>
    interruptRunsOfThread(deps, thread, how).catch((error: unknown) => deps.logger.error('runs of an ended worker thread not marked interrupted', { thread, error: error instanceof Error ? error.message : String(error) }));
  // Syncs asked for now (API, dashboard, inbound webhooks) run on a thread of their own, as scheduled ones do.
  const syncThread = startSyncThread(env, { threadEnded });
  deps.runSyncOnThread = (options) => syncThread.run(options);
  // Change notices from the sector systems (inbound webhooks) wake a processor on this thread; a
  // pass every minute takes any left waiting (a failed run, a lease run out after a crash).
  const inbound = inboundWebhookProcessor(deps);
  deps.onInboundWebhook = () => inbound.nudge();
  const inboundSweep = setInterval(() => inbound.nudge(), 60_000);
  inboundSweep.unref();
  inbound.nudge();
  const app = createApp(deps);
  const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const s = serve({ fetch: app.fetch, port: config.port, hostname: '127.0.0.1' }, () => resolve(s));
  });
  // After a CPR key rotation, or an upgrade to a new ciphertext format: move what is under retired
  // keys or in the earlier format to the current ones, beside the service (nothing to move: one scan per column).
  const rekeying = rekeyUntilDone(deps, config.cprKeysRetired.length > 0);
  const scheduler = options.scheduler === false ? undefined : await startScheduler(config, deps.logger, { threadEnded });
  // A registration's deliveries go out at once, not at the relay's next interval.
  if (scheduler) deps.jobs = relayWaker(scheduler, deps.logger);
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  return {
    url: `http://127.0.0.1:${port}`,
    deps,
    config,
    demoSummary,
    async close() {
      await scheduler?.stop();
      clearInterval(inboundSweep);
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await inbound.stop();
      await syncThread.close();
      await demo?.close();
      await rekeying;
      await close();
    },
  };
}

// Run as a program (not imported by a test): compared as URLs, so a path with spaces still matches.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const service = await startNodeService();
  const lines = [
    `Én plan integration layer listening on ${service.url}`,
    `  Dashboard (IT staff): ${service.url}/dashboard`,
    `  API reference:        ${service.url}/docs`,
    `  OpenAPI:              ${service.url}/openapi.json`,
  ];
  if (service.demoSummary) lines.push('', `Demo: built-in sector simulators, municipality ${DEMO_TENANT}: ${JSON.stringify(service.demoSummary)}`);
  const conflict = service.demoSummary?.conflict as DemoConflictOutcome | undefined;
  if (conflict?.seeded)
    lines.push(`  A conflict to settle (caseworker token): GET ${service.url}/v1/conflicts, then POST ${service.url}/v1/plans/${conflict.planId}/conflicts/{conflictId}/resolve`);
  if (service.config.usesDevSecrets && service.config.auth.secret) {
    const secret = service.config.auth.secret;
    lines.push(
      '',
      'Development tokens (`npm run token -- --tenant 101 --role <role>` makes others):',
      `  IT staff (paste into the dashboard): ${await signDevToken(secret, { tenant: DEMO_TENANT, roles: ['it-staff'] })}`,
      `  caseworker:                          ${await signDevToken(secret, { tenant: DEMO_TENANT, roles: ['caseworker'] })}`,
      // Some demo citizens gave their health data to the social department alone (decision 0026).
      `  caseworker, social department:       ${await signDevToken(secret, { tenant: DEMO_TENANT, roles: ['caseworker'], department: 'social' })}`,
      // The DPO signs in to the dashboard too: the record of processing and the log follow-up (decision 0032).
      `  DPO (paste into the dashboard):      ${await signDevToken(secret, { tenant: DEMO_TENANT, roles: ['dpo'] })}`,
    );
  }
  process.stdout.write(`${lines.join('\n')}\n`);
  const stop = async () => {
    await service.close();
    process.exit(0);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
