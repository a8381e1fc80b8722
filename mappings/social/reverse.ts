/**
 * Reverse mappings for the social system: what the push side sends when a registration in the Én
 * plan must reach the municipal social fagsystem (R17). The adapter adds the citizen's Patient
 * reference and the idempotency key; these mappings make the rest and enforce the target's rules:
 * the social system takes interventions coded in FFB or FSIII only.
 */
import type { CarePlan, Goal as FhirGoal, ServiceRequest } from '@medplum/fhirtypes';
import type { Goal, Intervention } from '../../src/model';
import { CARE_SOCIAL_SYSTEM, ENPLAN_ELEMENT_SYSTEM, FFB_SYSTEM, FSIII_SYSTEM, LEGAL_BASIS_EXTENSION } from '../../adapters/fhir/systems';
import type { ReverseMapping } from '../mapping';
import { lookupCode } from './codes';

/** A resource as the reverse mapping makes it: the adapter sets `subject` before sending. */
export type WithoutSubject<T> = Omit<T, 'subject'>;

const goalCategoryFor = {
  overall: { system: CARE_SOCIAL_SYSTEM, code: 'ffb9886b-d04e-46b1-9165-a400f91f822b', display: 'Borgers ønsker og mål' },
  sub: { system: CARE_SOCIAL_SYSTEM, code: '6746d4af-145a-4bfd-a672-05c0cf11b53b', display: 'FFB delmål' },
  progression: { system: CARE_SOCIAL_SYSTEM, code: '6746d4af-145a-4bfd-a672-05c0cf11b53b', display: 'FFB delmål' },
} as const;

/** CareSocialCodes "Social indsats" under "Indsats/ydelses-anmodning": a request for a social intervention. */
const SOCIAL_SERVICE_REQUEST = { system: CARE_SOCIAL_SYSTEM, code: '4a297733-4d66-4726-a933-590d55cf91e0', display: 'Social indsats' };

const lifecycleOf: Record<Goal['status'], FhirGoal['lifecycleStatus']> = { proposed: 'proposed', active: 'active', achieved: 'completed', abandoned: 'cancelled' };
const activityStatusOf = { planned: 'not-started', active: 'in-progress', ended: 'completed', cancelled: 'cancelled' } as const;
const planStatusOf = { planned: 'active', active: 'active', ended: 'completed', cancelled: 'revoked' } as const;

const elementIdentifier = (id: string) => [{ system: ENPLAN_ELEMENT_SYSTEM, value: id }];

/** Model goal → FHIR Goal with KL's goal category. */
export const socialGoalReverse: ReverseMapping<Goal, WithoutSubject<FhirGoal>> = {
  id: 'social.goal.reverse',
  version: '1.0.0',
  adapter: 'social',
  operation: 'goal.upsert',
  map(goal) {
    if (!goal.title?.trim()) return { ok: false, reason: 'a goal needs a title' };
    return {
      ok: true,
      payload: {
        resourceType: 'Goal',
        identifier: elementIdentifier(goal.id),
        lifecycleStatus: lifecycleOf[goal.status],
        ...(goal.status === 'achieved' ? { achievementStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/goal-achievement', code: 'achieved' }] } } : {}),
        category: [{ coding: [goalCategoryFor[goal.level]] }],
        description: { text: goal.title.trim() },
        ...(goal.targetDate ? { target: [{ dueDate: goal.targetDate }] } : {}),
        ...(goal.description ? { note: [{ text: goal.description }] } : {}),
      },
    };
  },
};

/** The intervention's code as KL lists it, or why the social system cannot take it. */
function klCoding(intervention: Intervention): { ok: true; coding: { system: string; code: string; display: string } } | { ok: false; reason: string } {
  const { system, code } = intervention.type;
  if (system !== FFB_SYSTEM && system !== FSIII_SYSTEM) return { ok: false, reason: `the social system takes FFB or FSIII interventions only, not ${system}` };
  const listed = lookupCode(system, code);
  if (!listed) return { ok: false, reason: `${code} is not in KL’s ${system === FFB_SYSTEM ? 'FFB' : 'FSIII'} code list` };
  return { ok: true, coding: { system, code, display: listed.display } };
}

/** Model intervention → a CarePlan with one activity (as KL Gateway's planned intervention). */
export const socialInterventionReverse: ReverseMapping<Intervention, WithoutSubject<CarePlan>> = {
  id: 'social.intervention.reverse',
  version: '1.0.0',
  adapter: 'social',
  operation: 'intervention.upsert',
  map(intervention) {
    const coded = klCoding(intervention);
    if (!coded.ok) return coded;
    const period = { start: intervention.period.start, ...(intervention.period.end ? { end: intervention.period.end } : {}) };
    return {
      ok: true,
      payload: {
        resourceType: 'CarePlan',
        identifier: elementIdentifier(intervention.id),
        status: planStatusOf[intervention.status],
        intent: 'plan',
        title: intervention.title,
        period,
        activity: [
          {
            detail: {
              extension: [{ url: LEGAL_BASIS_EXTENSION, valueString: intervention.legalBasis }],
              code: { coding: [coded.coding] },
              status: activityStatusOf[intervention.status],
              scheduledPeriod: period,
              performer: [{ display: intervention.responsibleUnit }],
              description: intervention.title,
            },
          },
        ],
      },
    };
  },
};

/** Model intervention → a ServiceRequest asking the social department for it. */
export const socialServiceRequestReverse: ReverseMapping<Intervention, WithoutSubject<ServiceRequest>> = {
  id: 'social.service-request.reverse',
  version: '1.0.0',
  adapter: 'social',
  operation: 'service-request.create',
  map(intervention) {
    const coded = klCoding(intervention);
    if (!coded.ok) return coded;
    if (intervention.status === 'cancelled' || intervention.status === 'ended') return { ok: false, reason: `a ${intervention.status} intervention is not requested` };
    return {
      ok: true,
      payload: {
        resourceType: 'ServiceRequest',
        identifier: elementIdentifier(intervention.id),
        status: 'active',
        intent: 'order',
        category: [{ coding: [SOCIAL_SERVICE_REQUEST] }],
        code: { coding: [coded.coding] },
        occurrencePeriod: { start: intervention.period.start, ...(intervention.period.end ? { end: intervention.period.end } : {}) },
        note: [{ text: `${intervention.title} (${intervention.legalBasis})` }],
      },
    };
  },
};
