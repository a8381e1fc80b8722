/** The app on the test's D1 database in workerd, as `worker.ts` composes it, with tokens signed by the test secret. */
import { env } from 'cloudflare:test';
import { sign } from 'hono/jwt';
import { createApp } from '../../src/app';
import { loadConfig } from '../../src/config';
import { createMemoryLogger } from '../../src/monitoring/log';
import { composeDeps } from '../../src/runtime/compose';
import { openD1Database } from '../../src/store/d1';
import { TEST_CPR_KEY, TEST_JWT_SECRET } from '../support/harness';

export async function d1App(config: Record<string, string> = {}) {
  const deps = await composeDeps({
    database: openD1Database(env.DB as never),
    config: loadConfig({ NODE_ENV: 'test', JWT_SECRET: TEST_JWT_SECRET, CPR_KEY: TEST_CPR_KEY, LOG_LEVEL: 'warn', ...config }),
    logger: createMemoryLogger('warn'),
  });
  const app = createApp(deps);
  /** A token with these claims (tenant and roles at least), valid for ten minutes. */
  const token = (claims: Record<string, unknown>) => {
    const now = Math.floor(Date.now() / 1000);
    return sign({ sub: 'workers-test', iat: now, exp: now + 600, ...claims }, TEST_JWT_SECRET, 'HS256');
  };
  return { deps, app, token };
}
