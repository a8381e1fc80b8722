/** Builds the sector adapters from configuration: an adapter is configured when its URL is set. */
import type { SourceAdapter } from '../../adapters/adapter';
import { createDfdgAdapter } from '../../adapters/dfdg/adapter';
import { createEducationAdapter } from '../../adapters/education/adapter';
import { createHealthAdapter } from '../../adapters/health/adapter';
import { createSocialAdapter } from '../../adapters/social/adapter';
import { createWsSecuritySigner } from '../../adapters/soap/ws-security';
import type { Config } from '../config';
import type { SourceSystem } from '../model';

type Adapters = Partial<Record<SourceSystem, SourceAdapter>>;

/**
 * The adapters speaking for one municipality: STAR's `ActiveOrganisation` and Ungedatabasen's
 * `KommuneKode` carry the tenant's kommunekode, unless the deployment configures one code for all
 * (`STAR_ORGANISATION_CODE`, for a single-municipality deployment).
 */
/** How the adapters reach the services, where the runtime adds something (Node: a client certificate). */
export interface AdapterTransport {
  /** The fetch the SOAP adapters use (e.g. one presenting the function certificate). */
  soapFetch?: typeof fetch;
  /**
   * The undici `Dispatcher` the FHIR adapters send through (e.g. an `Agent` presenting the function
   * certificate): fhir-kit-client calls the global fetch, which takes a client certificate only so.
   */
  fhirDispatcher?: object;
  /** The fetch the FHIR adapters send through (Workers: an mTLS certificate binding's fetch). */
  fhirFetch?: typeof fetch;
}

export function adaptersFromConfig(config: Config, tenant?: string, transport: AdapterTransport = {}): Adapters {
  const { adapters } = config;
  const timeoutMs = adapters.timeoutMs;
  const code = adapters.starOrganisation.code ?? tenant;
  const result: Adapters = {};
  // Without a tenant and a configured code, SOAP adapters still describe themselves; calls go through `tenantAdapters`.
  const organisation = { typeIdentifier: adapters.starOrganisation.typeIdentifier, code: code ?? '000' };
  const soap = transport.soapFetch ? { fetch: transport.soapFetch } : {};
  const fhir = { ...(transport.fhirDispatcher ? { dispatcher: transport.fhirDispatcher } : {}), ...(transport.fhirFetch ? { fetch: transport.fhirFetch } : {}) };
  if (adapters.dfdg) result.dfdg = createDfdgAdapter({ baseUrl: adapters.dfdg, timeoutMs, organisation, ...soap });
  const wsSecurity = adapters.educationWsSecurity ? { wsSecurity: createWsSecuritySigner(adapters.educationWsSecurity) } : {};
  if (adapters.education) result.education = createEducationAdapter({ baseUrl: adapters.education, timeoutMs, municipalityCode: organisation.code, ...soap, ...wsSecurity });
  if (adapters.social) result.social = createSocialAdapter({ baseUrl: adapters.social, timeoutMs, ...fhir });
  if (adapters.health) result.health = createHealthAdapter({ baseUrl: adapters.health, timeoutMs, ...fhir });
  return result;
}

/** One set of adapters per tenant, made on first use (for `AppDeps.adaptersFor`). */
export function tenantAdapters(config: Config, transport: AdapterTransport = {}): (tenant: string) => Adapters {
  const byTenant = new Map<string, Adapters>();
  return (tenant) => {
    let adapters = byTenant.get(tenant);
    if (!adapters) byTenant.set(tenant, (adapters = adaptersFromConfig(config, tenant, transport)));
    return adapters;
  };
}
