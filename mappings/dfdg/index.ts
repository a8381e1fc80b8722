/**
 * The DFDG mappings: one per record type (source → model fragments) and the reverse mappings for
 * the push side (model → DFDG payloads), with their code lists.
 */
import type { Mapping, ReverseMapping } from '../mapping';
import type { DfdgRecordType } from '../../adapters/dfdg/contract';
import { activityMapping } from './activity';
import { employmentPlanMapping } from './employment-plan';
import { integrationContractMapping } from './integration-contract';
import { rehabilitationProcessMapping } from './rehabilitation-process';
import { activityReverseMapping, followUpReverseMapping, jobGoalReverseMapping, jobSearchAgreementReverseMapping } from './reverse';

/** Source → model, by DFDG record type. */
export const dfdgMappings = {
  activity: activityMapping,
  'rehabilitation-process': rehabilitationProcessMapping,
  'employment-plan': employmentPlanMapping,
  'integration-contract': integrationContractMapping,
} as const satisfies Record<DfdgRecordType, Pick<Mapping, 'id' | 'version' | 'recordType'>>;

/** Model → DFDG push payloads, by reverse-mapping id. */
export const dfdgReverseMappings = {
  [activityReverseMapping.id]: activityReverseMapping,
  [jobGoalReverseMapping.id]: jobGoalReverseMapping,
  [jobSearchAgreementReverseMapping.id]: jobSearchAgreementReverseMapping,
  [followUpReverseMapping.id]: followUpReverseMapping,
} as const satisfies Record<string, Pick<ReverseMapping, 'id' | 'version' | 'operation'>>;

export { activityMapping, employmentPlanMapping, integrationContractMapping, rehabilitationProcessMapping };
export { activityReverseMapping, followUpReverseMapping, jobGoalReverseMapping, jobSearchAgreementReverseMapping };
export type { ActivityReverseInput, DfdgAuthority, FollowUpReverseInput, JobGoalReverseInput, JobSearchAgreementReverseInput } from './reverse';
export { activationTypes, activityStatuses, rehabilitationProcessStatuses, rehabilitationProcessTypes } from './code-lists';
