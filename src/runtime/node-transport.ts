/** How adapters reach the sector systems from Node: kept apart from node-deps so the pull worker can use it without the store. */
import { readFileSync } from 'node:fs';
import { Agent } from 'undici';
import { createMutualTlsFetch } from '../../adapters/shared/mutual-tls-fetch';
import type { Config } from '../config';
import type { AdapterTransport } from './adapters';

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
