/** Builds the app's ports from configuration and a database; shared by Node, Workers and tests. */
import type { SourceAdapter } from '../../adapters/adapter';
import type { AppDeps, Clock } from '../api/context';
import type { SourceSystem } from '../model';
import { createMappingRegistry, type MappingRegistry } from '../sync/registry';
import type { Config } from '../config';
import type { Logger } from '../monitoring/log';
import { createCprVault, createTokenVerifier } from '../security';
import { createStore } from '../store';
import type { Database } from '../store/db';

export const systemClock: Clock = { now: () => new Date() };

const tokenPorts = (verifier: ReturnType<typeof createTokenVerifier>): Pick<AppDeps, 'verifyToken' | 'identityProvider'> => ({
  verifyToken: verifier,
  ...(verifier.identityProvider ? { identityProvider: verifier.identityProvider } : {}),
});

export async function composeDeps(options: {
  database: Database;
  config: Config;
  logger: Logger;
  clock?: Clock;
  adapters?: Partial<Record<SourceSystem, SourceAdapter>>;
  adaptersFor?: (tenant: string) => Partial<Record<SourceSystem, SourceAdapter>>;
  mappings?: MappingRegistry;
}): Promise<AppDeps> {
  return {
    store: createStore(options.database),
    vault: await createCprVault(options.config.cprKey, options.config.cprKeysRetired),
    clock: options.clock ?? systemClock,
    config: options.config,
    logger: options.logger,
    ...tokenPorts(createTokenVerifier(options.config.auth, { onRefreshFailed: (reason) => options.logger.warn('the identity provider’s signing keys (JWKS) could not be read; the keys held are used meanwhile', { reason }) })),
    adapters: options.adapters ?? {},
    ...(options.adaptersFor ? { adaptersFor: options.adaptersFor } : {}),
    mappings: options.mappings ?? createMappingRegistry([]),
  };
}
