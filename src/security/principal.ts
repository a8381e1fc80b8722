/** Who is calling: the verified claims of a bearer token. */
import { z } from 'zod';
import { Cpr, Department, MunicipalityCode, SourceSystem } from '../model';

/** `dpo`: the municipality's data protection officer (databeskyttelsesrådgiver), who investigates who used a citizen's data. */
export const Role = z.enum(['it-staff', 'caseworker', 'vendor', 'sync-job', 'citizen', 'provider', 'dpo']);
export type Role = z.infer<typeof Role>;

export const Principal = z
  .object({
    sub: z.string().min(1),
    tenant: MunicipalityCode,
    roles: z.array(Role).min(1),
    /** For `provider` tokens: the provider whose part of a plan they may see (R14). */
    providerId: z.string().min(1).optional(),
    /**
     * For `caseworker` tokens: the sector department the caseworker works in. Data a citizen's
     * consent lets reach named departments alone is shown to those departments' caseworkers only;
     * a caseworker whose token names none sees what consent gives the whole plan (R9).
     */
    department: Department.optional(),
    /**
     * For `vendor` tokens: the sector system (fagsystem) the vendor supplies. Its event subscriptions
     * serve that system alone, and hear only of plans whose consent lets data flow with it (decision 0014).
     */
    system: SourceSystem.optional(),
    /** For `citizen` tokens: the citizen's pseudonymous id (never a CPR). */
    citizenId: z.string().min(1).optional(),
    /**
     * For `citizen` tokens from a national login (MitID through NemLog-in or a broker): the CPR
     * number the identity provider vouches for. Only inside the token check: it is turned into the
     * citizen's id there (`citizenId`) and never kept on the principal (see runtime/compose.ts).
     */
    cpr: Cpr.optional(),
  })
  .refine((p) => !p.roles.includes('provider') || !!p.providerId, { message: 'a provider token names its provider', path: ['providerId'] })
  .refine((p) => !p.roles.includes('citizen') || !!p.citizenId || !!p.cpr, { message: 'a citizen token names the citizen', path: ['citizenId'] });
export type Principal = z.infer<typeof Principal>;

/**
 * Claims that carry a citizen's CPR number, as identity providers name them: ours and a broker's
 * (`cpr`), OIOSAML 3 / NemLog-in 3 (`https://data.gov.dk/model/core/eid/cprNumber`) and OIOSAML 2
 * (`dk:gov:saml:attribute:CprNumberIdentifier`). The first one present counts.
 */
export const CPR_CLAIMS = ['cpr', 'https://data.gov.dk/model/core/eid/cprNumber', 'dk:gov:saml:attribute:CprNumberIdentifier'] as const;

/** NSIS level of assurance as OIOSAML 3 / NemLog-in 3 names it; a citizen reaching their plan needs Substantial or High. */
export const NSIS_LOA_CLAIM = 'https://data.gov.dk/concept/core/nsis/loa';
const sufficientLoa = new Set(['Substantial', 'High']);

/**
 * Why a citizen token's level of assurance is too low, or null: when the identity provider states
 * one, it must be Substantial or High (personal data of the kind a plan holds); a token that states
 * none is judged by the provider's own configuration.
 */
export function insufficientAssurance(claims: Record<string, unknown>): string | null {
  const loa = claims[NSIS_LOA_CLAIM];
  if (loa === undefined) return null;
  return typeof loa === 'string' && sufficientLoa.has(loa) ? null : 'the login’s level of assurance is below Substantial (NSIS)';
}

/** The token's claims with a CPR number under any of `CPR_CLAIMS` as `cpr`, and those others removed. */
export function withCprClaim(claims: Record<string, unknown>): Record<string, unknown> {
  const name = CPR_CLAIMS.find((n) => claims[n] !== undefined);
  if (!name) return claims;
  const rest = Object.fromEntries(Object.entries(claims).filter(([key]) => !(CPR_CLAIMS as readonly string[]).includes(key)));
  return { ...rest, cpr: claims[name] };
}

export function hasAnyRole(principal: Principal, roles: readonly Role[]): boolean {
  return principal.roles.some((r) => roles.includes(r));
}

/** The audit actor string: who and in what capacity. */
export function actorOf(principal: Principal): string {
  return `${principal.roles.join('+')}:${principal.sub}`;
}
