/**
 * Reverse mappings for the regional health system. The municipality does not write the region's
 * treatment plan: it proposes goals and requests services (a coordination meeting, a discharge
 * conference), coded from the regional activity list. The adapter adds the Patient reference and the
 * idempotency key.
 */
import type { Goal as FhirGoal, ServiceRequest } from '@medplum/fhirtypes';
import type { Goal, Intervention } from '../../src/model';
import { ENPLAN_ELEMENT_SYSTEM, GOAL_CATEGORY_SYSTEM, REGIONAL_ACTIVITY_SYSTEM } from '../../adapters/fhir/systems';
import type { ReverseMapping } from '../mapping';
import type { WithoutSubject } from '../social/reverse';
import { activityFor, goalCategories } from './codes';

const lifecycleOf: Record<Goal['status'], FhirGoal['lifecycleStatus']> = { proposed: 'proposed', active: 'active', achieved: 'completed', abandoned: 'cancelled' };

/** Model goal → FHIR Goal; its HL7 goal category is chosen from the goal's topics where one fits. */
export const healthGoalReverse: ReverseMapping<Goal, WithoutSubject<FhirGoal>> = {
  id: 'health.goal.reverse',
  version: '1.0.0',
  adapter: 'health',
  operation: 'goal.upsert',
  map(goal) {
    if (!goal.title?.trim()) return { ok: false, reason: 'a goal needs a title' };
    const category = goalCategories.concepts.find((c) => c.topics.some((t) => goal.topics.includes(t)));
    return {
      ok: true,
      payload: {
        resourceType: 'Goal',
        identifier: [{ system: ENPLAN_ELEMENT_SYSTEM, value: goal.id }],
        lifecycleStatus: lifecycleOf[goal.status],
        ...(goal.status === 'achieved' ? { achievementStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/goal-achievement', code: 'achieved' }] } } : {}),
        ...(category ? { category: [{ coding: [{ system: GOAL_CATEGORY_SYSTEM, code: category.code, display: category.display }] }] } : {}),
        description: { text: goal.title.trim() },
        ...(goal.targetDate ? { target: [{ dueDate: goal.targetDate }] } : {}),
        ...(goal.description ? { note: [{ text: goal.description }] } : {}),
      },
    };
  },
};

/**
 * What the request's status becomes (FHIR R4 ServiceRequest.status): a cancelled intervention
 * revokes the request, an ended one completes it. Only an update of a request the region holds says
 * so (the route's `updatesOnly`): a request never sent has nothing at the region to end.
 */
const requestStatusOf = (status: Intervention['status']): ServiceRequest['status'] => (status === 'cancelled' ? 'revoked' : status === 'ended' ? 'completed' : 'active');

/** Model intervention → a ServiceRequest to the region, for activities on the regional list only. */
export const healthServiceRequestReverse: ReverseMapping<Intervention, WithoutSubject<ServiceRequest>> = {
  id: 'health.service-request.reverse',
  // 1.1.0: a cancelled or ended intervention is sent (as an update) with status revoked / completed.
  version: '1.1.0',
  adapter: 'health',
  operation: 'service-request.create',
  map(intervention) {
    const activity = activityFor(intervention.type.system, intervention.type.code);
    if (!activity) return { ok: false, reason: `the region takes requests for its own activities only (${REGIONAL_ACTIVITY_SYSTEM}), not ${intervention.type.system}|${intervention.type.code}` };
    return {
      ok: true,
      payload: {
        resourceType: 'ServiceRequest',
        identifier: [{ system: ENPLAN_ELEMENT_SYSTEM, value: intervention.id }],
        status: requestStatusOf(intervention.status),
        intent: 'order',
        code: { coding: [{ system: REGIONAL_ACTIVITY_SYSTEM, code: activity.code, display: activity.display }] },
        occurrencePeriod: { start: intervention.period.start, ...(intervention.period.end ? { end: intervention.period.end } : {}) },
        requester: { display: intervention.responsibleUnit },
        note: [{ text: `${intervention.title} (${intervention.legalBasis})` }],
      },
    };
  },
};
