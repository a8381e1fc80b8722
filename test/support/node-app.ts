/** An in-process app on a fresh in-memory database, with a memory logger to inspect. */
import { createApp } from '../../src/app';
import type { AppDeps, Clock } from '../../src/api/context';
import { loadConfig } from '../../src/config';
import { createMemoryLogger } from '../../src/monitoring/log';
import { composeDeps } from '../../src/runtime/compose';
import { signDevToken } from '../../src/security';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openLibsqlDatabase } from '../../src/store/libsql';
import { openSqliteThreadDatabase } from '../../src/store/sqlite-thread';
import { TEST_CPR_KEY, TEST_JWT_SECRET, type ApiHarness } from './harness';

/**
 * `storeThread`: SQLite on a thread of its own (src/store/sqlite-thread.ts), on a temporary file
 * unless `url` names one (a thread cannot share an in-memory database). TEST_STORE_THREAD=1 runs
 * every app of a test run that way, to check the whole suite against that driver.
 */
export async function startTestApp(options: { url?: string; storeThread?: boolean; clock?: Clock; adapters?: AppDeps['adapters']; adaptersFor?: AppDeps['adaptersFor']; mappings?: AppDeps['mappings']; env?: Record<string, string> } = {}) {
  const config = loadConfig({ NODE_ENV: 'test', JWT_SECRET: TEST_JWT_SECRET, CPR_KEY: TEST_CPR_KEY, LOG_LEVEL: 'debug', ...options.env });
  const logger = createMemoryLogger();
  const storeThread = options.storeThread ?? process.env.TEST_STORE_THREAD === '1';
  const scratch = storeThread && !options.url ? mkdtempSync(join(tmpdir(), 'enplan-thread-')) : undefined;
  const url = options.url ?? (scratch ? `file:${join(scratch, 'enplan.db')}` : ':memory:');
  const opened = storeThread ? await openSqliteThreadDatabase(url) : await openLibsqlDatabase(url);
  const database = scratch
    ? { ...opened, close: async () => { await opened.close(); rmSync(scratch, { recursive: true, force: true }); } }
    : opened;
  const deps = await composeDeps({ database, config, logger, clock: options.clock, adapters: options.adapters, adaptersFor: options.adaptersFor, mappings: options.mappings });
  const app = createApp(deps);
  const harness: ApiHarness = {
    request: async (path, init) => app.request(path, init),
    token: (claims, ttl) => signDevToken(TEST_JWT_SECRET, claims, ttl),
  };
  return { app, deps, logger, database, harness, close: () => database.close() };
}
