/**
 * The Workers runtime: the same app on D1. Secrets and settings come from the Worker's env.
 * The app is built once per isolate and reused across requests.
 */
import type { AnyD1Database } from 'drizzle-orm/d1';
import { createApp, type App } from '../app';
import { loadConfig } from '../config';
import { createLogger } from '../monitoring/log';
import { openD1Database } from '../store/d1';
import { composeDeps } from './compose';

export interface WorkerEnv {
  DB: AnyD1Database;
  NODE_ENV?: string;
  LOG_LEVEL?: string;
  JWT_SECRET?: string;
  JWKS_URL?: string;
  CPR_KEY?: string;
  [key: string]: unknown;
}

let cached: { db: AnyD1Database; app: Promise<App> } | undefined;

function stringVars(env: WorkerEnv): Record<string, string | undefined> {
  return Object.fromEntries(Object.entries(env).filter(([, v]) => typeof v === 'string')) as Record<string, string>;
}

export function appFor(env: WorkerEnv): Promise<App> {
  if (!cached || cached.db !== env.DB) {
    const config = loadConfig(stringVars(env));
    const logger = createLogger({ level: config.logLevel, sink: (line) => console.log(line) });
    cached = { db: env.DB, app: composeDeps({ database: openD1Database(env.DB), config, logger }).then(createApp) };
  }
  return cached.app;
}

export default {
  async fetch(request: Request, env: WorkerEnv, ctx: unknown): Promise<Response> {
    const app = await appFor(env);
    return app.fetch(request, env, ctx as never);
  },
};
