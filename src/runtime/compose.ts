/** Builds the app's ports from configuration and a database; shared by Node, Workers and tests. */
import type { SourceAdapter } from '../../adapters/adapter';
import type { AppDeps, Clock } from '../api/context';
import type { SourceSystem } from '../model';
import { createMappingRegistry, type MappingRegistry } from '../sync/registry';
import type { Config } from '../config';
import type { Logger } from '../monitoring/log';
import { createCprVault, createTokenVerifier, holdsCprNumber, redactCpr, type Principal } from '../security';
import { createStore } from '../store';
import type { Database } from '../store/db';

export const systemClock: Clock = { now: () => new Date() };

/**
 * The token check, then a citizen who logged in nationally (a CPR claim) is found by the keyed hashes
 * of that CPR number: the principal carries the citizen's id, never the number. A citizen the
 * municipality holds no record of gets no id, so every citizen route answers as for no plan.
 */
/**
 * The token's subject names the user in every audit row they cause (`actorOf`); an identity provider
 * that uses the CPR number as the subject would put it there (S4). Such a subject is replaced by the
 * citizen's id where there is one, else masked.
 */
function withoutCprInSubject(principal: Principal): Principal {
  if (!holdsCprNumber(principal.sub)) return principal;
  return { ...principal, sub: principal.citizenId ? `citizen-id-${principal.citizenId}` : redactCpr(principal.sub) };
}

const tokenPorts = (verifier: ReturnType<typeof createTokenVerifier>, store: AppDeps['store'], vault: AppDeps['vault']): Pick<AppDeps, 'verifyToken' | 'identityProvider'> => ({
  async verifyToken(token: string): Promise<Principal> {
    const principal = await verifier(token);
    if (principal.cpr === undefined) return withoutCprInSubject(principal);
    // The identity provider's CPR number decides who this is; a citizen id claimed beside it does not.
    const { cpr, citizenId: _claimed, ...rest } = principal;
    const citizen = await store.citizens.findByAnyCprHash(rest.tenant, await vault.lookupHashes(rest.tenant, cpr));
    return withoutCprInSubject(citizen ? { ...rest, citizenId: citizen.id } : rest);
  },
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
  const store = createStore(options.database, { auditChainKey: options.config.auditChainKey, auditChainKeysRetired: options.config.auditChainKeysRetired });
  const vault = await createCprVault(options.config.cprKey, options.config.cprKeysRetired, { legacyCiphertexts: options.config.cprLegacyCiphertexts });
  return {
    store,
    vault,
    clock: options.clock ?? systemClock,
    config: options.config,
    logger: options.logger,
    ...tokenPorts(createTokenVerifier(options.config.auth, { onRefreshFailed: (reason) => options.logger.warn('the identity provider’s signing keys (JWKS) could not be read; the keys held are used meanwhile', { reason }) }), store, vault),
    adapters: options.adapters ?? {},
    ...(options.adaptersFor ? { adaptersFor: options.adaptersFor } : {}),
    mappings: options.mappings ?? createMappingRegistry([]),
  };
}
