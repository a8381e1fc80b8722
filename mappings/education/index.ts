/**
 * The Ungedatabasen / KUI mappings: one per record type (source → model fragments) and the reverse
 * mappings for the push side (model → Ungedatabasen payloads), with their code lists.
 */
import type { Mapping, ReverseMapping } from '../mapping';
import type { EducationRecordType } from '../../adapters/education/contract';
import { educationEventMapping } from './education-event';
import { educationPlanMapping } from './education-plan';
import { educationEventReverseMapping, educationGoalReverseMapping, planActivityReverseMapping, planFollowUpReverseMapping } from './reverse';

/** Source → model, by Ungedatabasen record type. */
export const educationMappings = {
  'education-plan': educationPlanMapping,
  'education-event': educationEventMapping,
} as const satisfies Record<EducationRecordType, Pick<Mapping, 'id' | 'version' | 'recordType'>>;

/** Model → Ungedatabasen push payloads, by reverse-mapping id. */
export const educationReverseMappings = {
  [educationGoalReverseMapping.id]: educationGoalReverseMapping,
  [planActivityReverseMapping.id]: planActivityReverseMapping,
  [planFollowUpReverseMapping.id]: planFollowUpReverseMapping,
  [educationEventReverseMapping.id]: educationEventReverseMapping,
} as const satisfies Record<string, Pick<ReverseMapping, 'id' | 'version' | 'operation'>>;

export { educationEventMapping, educationPlanMapping };
export { educationEventReverseMapping, educationGoalReverseMapping, planActivityReverseMapping, planFollowUpReverseMapping };
export type { EducationEventReverseInput, EducationGoalReverseInput, PlanActivityReverseInput, PlanFollowUpReverseInput } from './reverse';
export { educationEventTypes, educationProgrammes, planActivityStatuses, planActivityTypes } from './code-lists';
