/** Opens everything a Node process (the server or a bree job) needs, from the environment. */
import { loadConfig } from '../config';
import { createLogger } from '../monitoring/log';
import { databaseUrlFor, openLibsqlDatabase } from '../store/libsql';
import { allMappings } from '../sync/all-mappings';
import { readFileSync } from 'node:fs';
import { Agent } from 'undici';
import { createMutualTlsFetch } from '../../adapters/shared/mutual-tls-fetch';
import type { Config } from '../config';
import { adaptersFromConfig, tenantAdapters, type AdapterTransport } from './adapters';
import { composeDeps } from './compose';

export async function openNodeDeps(env: Record<string, string | undefined>) {
  const config = loadConfig(env);
  const logger = createLogger({ level: config.logLevel });
  const database = await openLibsqlDatabase(databaseUrlFor(config.dataDir));
  const transport = nodeAdapterTransport(config);
  const deps = await composeDeps({ database, config, logger, adapters: adaptersFromConfig(config, undefined, transport), adaptersFor: tenantAdapters(config, transport), mappings: allMappings });
  return { deps, config, database, close: () => database.close() };
}

/**
 * With a configured function certificate, every adapter presents it (mutual TLS): the SOAP adapters
 * through their own fetch, the FHIR adapters through an undici Agent handed to the global fetch
 * (see docs/decisions/0007-fhir-mutual-tls.md).
 */
export function nodeAdapterTransport(config: Config): AdapterTransport {
  const certificate = config.adapters.clientCertificate;
  if (!certificate) return {};
  const read = (file: string) => readFileSync(file, 'utf8');
  const tls = { cert: read(certificate.certFile), key: read(certificate.keyFile), ...(certificate.caFile ? { ca: read(certificate.caFile) } : {}) };
  return { soapFetch: createMutualTlsFetch(tls), fhirDispatcher: new Agent({ connect: tls }) };
}
