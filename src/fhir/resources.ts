/** Small pieces both FHIR exports (plan-bundle.ts, consent-bundle.ts) build with. */
import type { Organization } from '@medplum/fhirtypes';
import { municipalityName } from '../views/danish';
import { systems } from './codes';

/** An ISO instant as FHIR writes it (UTC, milliseconds). */
export const instant = (value: string) => new Date(value).toISOString();

/** Drops keys whose value is undefined or an empty array, so the JSON carries no empty elements (FHIR forbids them). */
export function compact<T extends object>(value: T): T {
  for (const key of Object.keys(value) as (keyof T)[]) {
    const v = value[key];
    if (v === undefined || (Array.isArray(v) && v.length === 0)) delete value[key];
  }
  return value;
}

/** A municipality, named with DK-core's municipality code (four digits). */
export const municipalityOrganization = (id: string, code: string): Organization => ({
  resourceType: 'Organization',
  id,
  identifier: [{ system: systems.dkMunicipality, value: code.padStart(4, '0') }],
  name: municipalityName(code),
});

/** An external provider, by the id the plan knows it by. */
export const providerOrganization = (id: string, providerId: string): Organization => ({ resourceType: 'Organization', id, identifier: [{ system: systems.provider, value: providerId }], name: providerId });
