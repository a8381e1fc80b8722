/**
 * The social mappings: KL care-social / FFB / FSIII FHIR records → Én plan fragments, and the
 * reverse mappings for the push side. Look a mapping up by the record type an adapter reports.
 */
import type { Mapping, ReverseMapping } from '../mapping';
import { socialCarePlanMapping } from './careplan';
import { socialCareTeamMapping } from './careteam';
import { socialConditionMapping } from './condition';
import { socialDeliveryReportMapping } from './delivery-report';
import { socialGoalMapping } from './goal';
import { socialGoalReverse, socialInterventionReverse, socialServiceRequestReverse } from './reverse';

export { socialCarePlanMapping, socialCareTeamMapping, socialConditionMapping, socialDeliveryReportMapping, socialGoalMapping };
export { socialGoalReverse, socialInterventionReverse, socialServiceRequestReverse };
export { socialCodeListRefs, lookupCode } from './codes';

// Mapping<X> is assignable to Mapping<unknown> because `map` is declared as a method (bivariant).
export const socialMappings: readonly Mapping<unknown>[] = [
  socialCarePlanMapping,
  socialGoalMapping,
  socialConditionMapping,
  socialCareTeamMapping,
  socialDeliveryReportMapping,
];

/** By the record type the social adapter (or a KL Gateway report) delivers. */
export const socialMappingsByRecordType: Readonly<Record<string, Mapping<unknown>>> = Object.fromEntries(socialMappings.map((m) => [m.recordType, m]));

/** By push operation. */
export const socialReverseMappings: Readonly<Record<string, ReverseMapping<unknown, unknown>>> = {
  'goal.upsert': socialGoalReverse,
  'intervention.upsert': socialInterventionReverse,
  'service-request.create': socialServiceRequestReverse,
};
