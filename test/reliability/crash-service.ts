/**
 * The Node service for the F1 crash test, run as a child process: the real app on an SQLite FILE,
 * served over HTTP, with the outbox relay running in a loop beside it — what the bree job does in
 * production, only more often. The four sector simulators live in the PARENT, so their effect
 * counts survive every SIGKILL of this process; here are the real adapters and the real reverse
 * mappings (`defaultReverseMappings`).
 *
 * Env: DB_URL (file:…), TARGETS (JSON { dfdg, education, social, health } → URL).
 * Prints `READY <port>` when serving.
 */
import { serve } from '@hono/node-server';
import { createApp } from '../../src/app';
import { loadConfig } from '../../src/config';
import { runRelayOnce, type DeliveryDeps } from '../../src/delivery';
import type { SourceSystem } from '../../src/model';
import { createLogger } from '../../src/monitoring/log';
import { composeDeps } from '../../src/runtime/compose';
import { openLibsqlDatabase } from '../../src/store/libsql';
import { TEST_CPR_KEY, TEST_JWT_SECRET } from '../support/harness';
import { createDfdgAdapter } from '../../adapters/dfdg';
import { createEducationAdapter } from '../../adapters/education';
import { createHealthAdapter } from '../../adapters/health/adapter';
import { createSocialAdapter } from '../../adapters/social/adapter';

const targets = JSON.parse(process.env.TARGETS ?? '{}') as Record<SourceSystem, string>;
const config = loadConfig({ NODE_ENV: 'test', JWT_SECRET: TEST_JWT_SECRET, CPR_KEY: TEST_CPR_KEY, LOG_LEVEL: 'error' });
const database = await openLibsqlDatabase(process.env.DB_URL!);
const adapters = {
  dfdg: createDfdgAdapter({ baseUrl: targets.dfdg, organisation: { typeIdentifier: 'kommune', code: '101' }, timeoutMs: 500 }),
  education: createEducationAdapter({ baseUrl: targets.education, municipalityCode: '101', timeoutMs: 500 }),
  social: createSocialAdapter({ baseUrl: targets.social, timeoutMs: 500 }),
  health: createHealthAdapter({ baseUrl: targets.health, timeoutMs: 500 }),
};
const deps = await composeDeps({ database, config, logger: createLogger({ level: 'error', sink: (line) => process.stderr.write(`${line}\n`) }), adapters });
(deps as DeliveryDeps).delivery = {
  // Short lease and backoff so rows a killed process held come due again quickly.
  leaseMs: 1_500,
  pushTimeoutMs: 1_000,
  backoff: { baseMs: 50, capMs: 400, maxAttempts: 1_000 },
  concurrency: 16,
};
const app = createApp(deps);
const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info) => process.stdout.write(`READY ${info.port}\n`));
void server;

for (;;) {
  try {
    const result = await runRelayOnce(deps, { limit: 50 });
    if (result.delivered + result.retried + result.dead + result.cancelled === 0) await new Promise((r) => setTimeout(r, 25));
  } catch (error) {
    process.stderr.write(`relay run failed: ${error instanceof Error ? error.message : String(error)}\n`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
