/** Who is calling: the verified claims of a bearer token. */
import { z } from 'zod';
import { MunicipalityCode } from '../model';

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
    /** For `citizen` tokens: the citizen's pseudonymous id (never a CPR). */
    citizenId: z.string().min(1).optional(),
  })
  .refine((p) => !p.roles.includes('provider') || !!p.providerId, { message: 'a provider token names its provider', path: ['providerId'] })
  .refine((p) => !p.roles.includes('citizen') || !!p.citizenId, { message: 'a citizen token names the citizen', path: ['citizenId'] });
export type Principal = z.infer<typeof Principal>;

export function hasAnyRole(principal: Principal, roles: readonly Role[]): boolean {
  return principal.roles.some((r) => roles.includes(r));
}

/** The audit actor string: who and in what capacity. */
export function actorOf(principal: Principal): string {
  return `${principal.roles.join('+')}:${principal.sub}`;
}
