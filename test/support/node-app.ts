/** An in-process app on a fresh in-memory database, with a memory logger to inspect. */
import { createApp } from '../../src/app';
import type { AppDeps, Clock } from '../../src/api/context';
import { loadConfig } from '../../src/config';
import { createMemoryLogger } from '../../src/monitoring/log';
import { composeDeps } from '../../src/runtime/compose';
import { signDevToken } from '../../src/security';
import { openLibsqlDatabase } from '../../src/store/libsql';
import { TEST_CPR_KEY, TEST_JWT_SECRET, type ApiHarness } from './harness';

export async function startTestApp(options: { url?: string; clock?: Clock; adapters?: AppDeps['adapters']; adaptersFor?: AppDeps['adaptersFor']; mappings?: AppDeps['mappings']; env?: Record<string, string> } = {}) {
  const config = loadConfig({ NODE_ENV: 'test', JWT_SECRET: TEST_JWT_SECRET, CPR_KEY: TEST_CPR_KEY, LOG_LEVEL: 'debug', ...options.env });
  const logger = createMemoryLogger();
  const database = await openLibsqlDatabase(options.url ?? ':memory:');
  const deps = await composeDeps({ database, config, logger, clock: options.clock, adapters: options.adapters, adaptersFor: options.adaptersFor, mappings: options.mappings });
  const app = createApp(deps);
  const harness: ApiHarness = {
    request: async (path, init) => app.request(path, init),
    token: (claims, ttl) => signDevToken(TEST_JWT_SECRET, claims, ttl),
  };
  return { app, deps, logger, database, harness, close: () => database.close() };
}
