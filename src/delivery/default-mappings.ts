/**
 * The reverse mappings this deployment delivers with, per target and model-side operation. The
 * mappings live in `mappings/<adapter>/` (owned with their adapters); this file only says which
 * one serves which operation and how the `Outbound` becomes that mapping's input.
 *
 * Target identifiers: an element registered here has a UUID id. DFDG and Ungedatabasen take a
 * GUID for the records they hold, so we hand them the element's own UUID (`dfdg:activity:<uuid>`,
 * `dfdg:job-goal:<uuid>`, `dfdg:job-search-agreement:<uuid>`, `dfdg:follow-up:<uuid>`,
 * `education:plan-activity:<uuid>`): added, changed, done and ended then address ONE record at the
 * target, and a replay under the same idempotency key is a no-op. Elements that came from the
 * target keep the target's id. The FHIR servers name their resources themselves: the first
 * delivery of an element is a conditional create (If-None-Exist on the idempotency key), and a
 * later change of it an update of that resource with If-Match on the version its receipt gave
 * (`addressBy: 'receipt'`).
 *
 * What is not listed has no place at that target (e.g. a coordinator hand-over or a plan status
 * at DFDG, an education goal without a programme code at Ungedatabasen): the router then reports
 * the target as not routed, with that reason, instead of queueing a delivery that must fail.
 */
import { activityReverseMapping, followUpReverseMapping, jobGoalReverseMapping, jobSearchAgreementReverseMapping } from '../../mappings/dfdg';
import { educationGoalReverseMapping, educationProgrammes, planActivityReverseMapping, planFollowUpReverseMapping } from '../../mappings/education';
import { healthGoalReverse, healthServiceRequestReverse } from '../../mappings/health';
import { socialGoalReverse, socialInterventionReverse } from '../../mappings/social';
import type { Agreement, FollowUp, Goal, Intervention } from '../model';
import type { Outbound } from '../registrations/apply';
import { reverseMappingRegistry, type ReverseEntry } from './reverse-mappings';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The element's id as the target's GUID where it is one of ours; the target's own id stays. */
const targetGuid = (prefix: string, id: string) => (UUID.test(id) ? `${prefix}${id}` : id);

class NotThisElement extends Error {}

function elementOf<K extends 'goal' | 'intervention' | 'followUp' | 'agreement'>(outbound: Outbound, type: K) {
  const element = outbound.element as { type: string } & Record<K, unknown>;
  if (element.type !== type) throw new NotThisElement(`expected a ${type}, got a ${element.type}`);
  return element[type] as K extends 'goal' ? Goal : K extends 'intervention' ? Intervention : K extends 'followUp' ? FollowUp : Agreement;
}

export const defaultReverseEntries: readonly ReverseEntry<any>[] = [
  // DFDG (employment): activities, job goals, job-search agreements and follow-ups in Min Plan.
  {
    target: 'dfdg',
    operations: ['intervention.upsert', 'intervention.end'],
    mapping: activityReverseMapping,
    toInput: (o: Outbound) => {
      const intervention = elementOf(o, 'intervention');
      return { intervention: { ...intervention, id: targetGuid('dfdg:activity:', intervention.id) }, authorityCode: o.tenant };
    },
  },
  // Job goals, job-search agreements and follow-ups too: a changed goal or a follow-up marked done
  // updates the one record at DFDG (decision 0005: an update is never sent as a create).
  {
    target: 'dfdg',
    operations: ['goal.upsert'],
    mapping: jobGoalReverseMapping,
    toInput: (o: Outbound) => {
      const goal = elementOf(o, 'goal');
      return { goal: { ...goal, id: targetGuid('dfdg:job-goal:', goal.id) } };
    },
  },
  {
    target: 'dfdg',
    operations: ['agreement.upsert'],
    mapping: jobSearchAgreementReverseMapping,
    toInput: (o: Outbound) => {
      const agreement = elementOf(o, 'agreement');
      return { agreement: { ...agreement, id: targetGuid('dfdg:job-search-agreement:', agreement.id) } };
    },
  },
  {
    target: 'dfdg',
    operations: ['followup.upsert'],
    mapping: followUpReverseMapping,
    toInput: (o: Outbound) => {
      const followUp = elementOf(o, 'followUp');
      return { followUp: { ...followUp, id: targetGuid('dfdg:follow-up:', followUp.id) } };
    },
  },
  // Ungedatabasen / KUI (education): planned activities and the next follow-up of the education plan.
  {
    target: 'education',
    operations: ['intervention.upsert', 'intervention.end'],
    mapping: planActivityReverseMapping,
    toInput: (o: Outbound) => {
      const intervention = elementOf(o, 'intervention');
      return { intervention: { ...intervention, id: targetGuid('education:plan-activity:', intervention.id) } };
    },
  },
  {
    target: 'education',
    operations: ['goal.upsert'],
    mapping: educationGoalReverseMapping,
    toInput: (o: Outbound) => {
      const goal = elementOf(o, 'goal');
      // The programme aimed at comes from the goal's code when it is one of Ungedatabasen's programmes.
      return { goal, programmeCode: goal.code?.system === educationProgrammes.system ? goal.code.code : '' };
    },
  },
  {
    target: 'education',
    operations: ['followup.upsert'],
    mapping: planFollowUpReverseMapping,
    // Ungedatabasen holds the plan's NEXT follow-up: the earliest one still open, which the outbound carries.
    toInput: (o: Outbound) => {
      const followUp = elementOf(o, 'followUp');
      const { nextOpenDue } = o.element as Extract<Outbound['element'], { type: 'followUp' }>;
      return nextOpenDue === undefined ? { followUp } : { followUp, nextOpenDue };
    },
  },
  // Social (KL FHIR): goals and interventions as Goal and CarePlan.
  { target: 'social', operations: ['goal.upsert'], mapping: socialGoalReverse, toInput: (o: Outbound) => elementOf(o, 'goal'), addressBy: 'receipt' },
  { target: 'social', operations: ['intervention.upsert', 'intervention.end'], mapping: socialInterventionReverse, toInput: (o: Outbound) => elementOf(o, 'intervention'), addressBy: 'receipt' },
  // Regional health (FHIR R4): proposed goals and service requests; the region keeps its own plan.
  { target: 'health', operations: ['goal.upsert'], mapping: healthGoalReverse, toInput: (o: Outbound) => elementOf(o, 'goal'), addressBy: 'receipt' },
  // A cancelled or ended intervention updates the request the region holds (status revoked /
  // completed); one the region was never sent has nothing there to end (R18).
  {
    target: 'health',
    operations: ['intervention.upsert', 'intervention.end'],
    mapping: healthServiceRequestReverse,
    toInput: (o: Outbound) => elementOf(o, 'intervention'),
    addressBy: 'receipt',
    updatesOnly: (o: Outbound) => {
      const { status } = elementOf(o, 'intervention');
      return status === 'cancelled' || status === 'ended' ? `the region was never sent a request for this intervention, so there is nothing there to mark ${status}` : undefined;
    },
  },
];

export const defaultReverseMappings = reverseMappingRegistry(defaultReverseEntries);
