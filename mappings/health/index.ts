/**
 * The health mappings: regional DK-core FHIR records → Én plan fragments, all in data category
 * `health` (explicit consent, Sundhedsloven §43), and the reverse mappings for the push side.
 */
import type { Mapping, ReverseMapping } from '../mapping';
import { healthCarePlanMapping } from './careplan';
import { healthCareTeamMapping } from './careteam';
import { healthConsentMapping, readRegionalConsent } from './consent';
import { healthGoalMapping } from './goal';
import { healthPatientMapping } from './patient';
import { healthGoalReverse, healthServiceRequestReverse } from './reverse';

export { healthCarePlanMapping, healthCareTeamMapping, healthConsentMapping, healthGoalMapping, healthPatientMapping, readRegionalConsent };
export { healthGoalReverse, healthServiceRequestReverse };
export { healthCodeListRefs } from './codes';

export const healthMappings: readonly Mapping<unknown>[] = [healthCarePlanMapping, healthGoalMapping, healthCareTeamMapping, healthConsentMapping, healthPatientMapping];

export const healthMappingsByRecordType: Readonly<Record<string, Mapping<unknown>>> = Object.fromEntries(healthMappings.map((m) => [m.recordType, m]));

export const healthReverseMappings: Readonly<Record<string, ReverseMapping<unknown, unknown>>> = {
  'goal.upsert': healthGoalReverse,
  'service-request.create': healthServiceRequestReverse,
};
