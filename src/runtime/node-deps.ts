/** Opens everything a Node process (the server or a bree job) needs, from the environment. */
import { loadConfig } from '../config';
import { createLogger } from '../monitoring/log';
import { databaseUrlFor, openLibsqlDatabase } from '../store/libsql';
import { allMappings } from '../sync/all-mappings';
import { adaptersFromConfig, tenantAdapters } from './adapters';
import { composeDeps } from './compose';

export async function openNodeDeps(env: Record<string, string | undefined>) {
  const config = loadConfig(env);
  const logger = createLogger({ level: config.logLevel });
  const database = await openLibsqlDatabase(databaseUrlFor(config.dataDir));
  const deps = await composeDeps({ database, config, logger, adapters: adaptersFromConfig(config), adaptersFor: tenantAdapters(config), mappings: allMappings });
  return { deps, config, database, close: () => database.close() };
}
