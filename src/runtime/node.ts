/**
 * The Node runtime: the embedded default. An SQLite file under DATA_DIR, the HTTP server on PORT,
 * and a development token printed so a newcomer can call the API at once.
 */
import { serve } from '@hono/node-server';
import { createApp } from '../app';
import { loadConfig } from '../config';
import { createLogger } from '../monitoring/log';
import { signDevToken } from '../security';
import { databaseUrlFor, openLibsqlDatabase } from '../store/libsql';
import { composeDeps } from './compose';

export async function startNodeService(env: Record<string, string | undefined> = process.env) {
  const config = loadConfig(env);
  const logger = createLogger({ level: config.logLevel });
  const database = await openLibsqlDatabase(databaseUrlFor(config.dataDir));
  const deps = await composeDeps({ database, config, logger });
  const app = createApp(deps);
  const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const s = serve({ fetch: app.fetch, port: config.port, hostname: '127.0.0.1' }, () => resolve(s));
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  return {
    url: `http://127.0.0.1:${port}`,
    deps,
    config,
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await database.close();
    },
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const service = await startNodeService();
  const lines = [`Én plan integration layer listening on ${service.url}`, `  API reference: ${service.url}/docs`, `  OpenAPI:       ${service.url}/openapi.json`];
  if (service.config.usesDevSecrets && service.config.auth.secret) {
    const token = await signDevToken(service.config.auth.secret, { tenant: '101', roles: ['caseworker'] });
    lines.push('', 'Development token (caseworker, tenant 101; `npm run token -- --tenant 101 --role it-staff` makes others):', token);
  }
  process.stdout.write(`${lines.join('\n')}\n`);
  const stop = async () => {
    await service.close();
    process.exit(0);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
