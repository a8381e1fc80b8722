/** Opens everything a Node process (the server or a bree job) needs, from the environment. */
import { loadConfig } from '../config';
import { createLogger } from '../monitoring/log';
import { databaseUrlFor, openLibsqlDatabase } from '../store/libsql';
import { openSqliteThreadDatabase } from '../store/sqlite-thread';
import { allMappings } from '../sync/all-mappings';
import { adaptersFromConfig, tenantAdapters } from './adapters';
import { nodeAdapterTransport } from './node-transport';
import { composeDeps } from './compose';
import { nodeSubscriptionTransport } from './subscription-transport';
import { startPullWorker } from '../sync/pull-worker';
import { nodeRunOwner } from './run-owner';

export interface NodeDepsOptions {
  /** Pull and map in a worker thread (src/sync/pull-worker.ts), if the configuration says so (SYNC_PULL_WORKER). */
  pullWorker?: boolean;
  /**
   * Run SQLite on a thread of its own (src/store/sqlite-thread.ts) if the configuration says so: for
   * a sync job by SYNC_STORE_THREAD, for the API server by SERVICE_STORE_THREAD.
   */
  storeThread?: 'sync' | 'service';
}

export async function openNodeDeps(env: Record<string, string | undefined>, options: NodeDepsOptions = {}) {
  const config = loadConfig(env);
  const logger = createLogger({ level: config.logLevel });
  const url = databaseUrlFor(config.dataDir);
  const onThread = options.storeThread === 'sync' ? config.schedule.storeThread : options.storeThread === 'service' ? config.serviceStoreThread : false;
  const database = onThread ? await openSqliteThreadDatabase(url) : await openLibsqlDatabase(url);
  const transport = nodeAdapterTransport(config);
  const localAdaptersFor = tenantAdapters(config, transport);
  const pullWorker = options.pullWorker && config.schedule.pullWorker ? startPullWorker(config) : undefined;
  const wrapped = new Map<string, ReturnType<typeof localAdaptersFor>>();
  const adaptersFor = pullWorker
    ? (tenant: string) => {
        let adapters = wrapped.get(tenant);
        if (!adapters) wrapped.set(tenant, (adapters = pullWorker.wrap(tenant, localAdaptersFor(tenant))));
        return adapters;
      }
    : localAdaptersFor;
  const deps = await composeDeps({ database, config, logger, adapters: adaptersFromConfig(config, undefined, transport), adaptersFor, mappings: allMappings });
  deps.subscriptionTransport = nodeSubscriptionTransport(config.subscriptions.allowedHosts);
  deps.runOwner = nodeRunOwner();
  const close = async () => {
    await pullWorker?.close();
    await database.close();
  };
  return { deps, config, database, close };
}

export { nodeAdapterTransport };
