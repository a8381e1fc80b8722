/**
 * Reverse mappings, model → Ungedatabasen: what the push side sends when a caseworker changes the
 * education plan (its goal, a planned measure, the next open follow-up) or registers an education event
 * once (R17, R20).
 *
 * An element that came from Ungedatabasen keeps its identifier (`education:plan-activity:<guid>`,
 * `education:course:<guid>`), so the write updates it; a new one goes without and the adapter
 * derives it from the idempotency key. Payloads are checked against the contract here, so what
 * Ungedatabasen would refuse fails before it is queued.
 */
import type { ReverseMapping } from '../mapping';
import type { FollowUp, Goal, Intervention } from '../../src/model';
import { EducationEventPayload, EducationPlanUpdatePayload } from '../../adapters/education/contract';
import { checkedPayload, sourceIdOf } from '../../adapters/soap/mapping-support';
import { educationEventTypes, educationProgrammes, planActivityStatuses, planActivityTypes } from './code-lists';
import { MAPPING_VERSION } from './education-plan';

export type EducationGoalReverseInput = {
  goal: Pick<Goal, 'title' | 'topics'> & Partial<Pick<Goal, 'targetDate'>>;
  /** The programme aimed at (a code of the education programmes list). */
  programmeCode: string;
};
export type PlanActivityReverseInput = {
  intervention: Pick<Intervention, 'id' | 'type' | 'title' | 'period' | 'status'> & Partial<Pick<Intervention, 'hoursPerWeek'>>;
};
export type PlanFollowUpReverseInput = {
  followUp: Pick<FollowUp, 'due'> & Partial<Pick<FollowUp, 'done'>>;
  /**
   * The plan's earliest follow-up still open after this change; null when none is. Ungedatabasen
   * holds only the NEXT follow-up, so this is what it is told (a done follow-up is not the next one).
   * Absent: not known (a row queued before it was carried) — then only a scheduled one's date is sent.
   */
  nextOpenDue?: string | null;
};
export type EducationEventReverseInput = {
  /** The course as the plan holds it: programme in `type`, its start in `period.start`. */
  intervention: Pick<Intervention, 'id' | 'type' | 'period'>;
  /** The event code (education event types list), e.g. "OPTAGET" or "AFBRUDT". */
  eventCode: string;
  eventDate: string;
  institution: { number: string; name?: string };
};


const activityStatusCode = new Map(planActivityStatuses.codes.map((c) => [c.status, c.code]));

export const educationGoalReverseMapping: ReverseMapping<EducationGoalReverseInput, EducationPlanUpdatePayload> = {
  id: 'education.plan-goal.reverse',
  version: MAPPING_VERSION,
  adapter: 'education',
  operation: 'education-plan.update',
  map({ goal, programmeCode }) {
    if (!goal.topics.includes('education-goal')) return { ok: false, reason: 'only education goals (topic education-goal) belong in the education plan' };
    if (!educationProgrammes.has(programmeCode)) return { ok: false, reason: 'the programme code is not one Ungedatabasen knows' };
    return checkedPayload(EducationPlanUpdatePayload, {
      Uddannelsesmaal: { UddannelseKode: programmeCode, Beskrivelse: goal.title.slice(0, 300), ForventetStartDato: goal.targetDate },
    }, 'Ungedatabasen');
  },
};

export const planActivityReverseMapping: ReverseMapping<PlanActivityReverseInput, EducationPlanUpdatePayload> = {
  id: 'education.plan-activity.reverse',
  version: MAPPING_VERSION,
  adapter: 'education',
  operation: 'education-plan.update',
  map({ intervention }) {
    if (intervention.type.system !== planActivityTypes.system || !planActivityTypes.has(intervention.type.code))
      return { ok: false, reason: 'the education plan only takes its own activity types (AktivitetKode)' };
    const status = activityStatusCode.get(intervention.status);
    if (!status) return { ok: false, reason: `no activity status for ${intervention.status}` };
    return checkedPayload(EducationPlanUpdatePayload, {
      PlanlagtAktivitet: [
        {
          AktivitetId: sourceIdOf(intervention.id, 'education:plan-activity:'),
          AktivitetKode: intervention.type.code,
          AktivitetStatus: status,
          Beskrivelse: intervention.title.slice(0, 300),
          StartDato: intervention.period.start,
          SlutDato: intervention.period.end,
          TimerPrUge: intervention.hoursPerWeek,
        },
      ],
    }, 'Ungedatabasen');
  },
};

export const planFollowUpReverseMapping: ReverseMapping<PlanFollowUpReverseInput, EducationPlanUpdatePayload> = {
  id: 'education.plan-follow-up.reverse',
  // 1.1.0: NaesteOpfoelgning is the plan's next open follow-up, never a done one's date.
  version: '1.1.0',
  adapter: 'education',
  operation: 'education-plan.update',
  map({ followUp, nextOpenDue }) {
    // An update that names no next follow-up leaves Ungedatabasen's as it is (the element is
    // optional and cannot be cleared); with nothing else to change there is nothing to send.
    if (nextOpenDue === null) return { ok: false, reason: 'no follow-up of the plan remains open, so there is no next follow-up (NaesteOpfoelgning) to send' };
    if (nextOpenDue === undefined && followUp.done)
      return { ok: false, reason: 'a done follow-up is not the next one, and the plan’s next open follow-up (NaesteOpfoelgning) is not known' };
    return checkedPayload(EducationPlanUpdatePayload, { NaesteOpfoelgning: nextOpenDue ?? followUp.due }, 'Ungedatabasen');
  },
};

export const educationEventReverseMapping: ReverseMapping<EducationEventReverseInput, EducationEventPayload> = {
  id: 'education.event.reverse',
  version: MAPPING_VERSION,
  adapter: 'education',
  operation: 'education-event.register',
  map({ intervention, eventCode, eventDate, institution }) {
    if (intervention.type.system !== educationProgrammes.system || !educationProgrammes.has(intervention.type.code))
      return { ok: false, reason: 'an education event needs a programme Ungedatabasen knows (UddannelseKode)' };
    if (!educationEventTypes.has(eventCode)) return { ok: false, reason: 'the event code is not one Ungedatabasen knows (HaendelseKode)' };
    return checkedPayload(EducationEventPayload, {
      HaendelseKode: eventCode,
      HaendelseDato: eventDate,
      UddannelsesforloebId: sourceIdOf(intervention.id, 'education:course:'),
      UddannelseKode: intervention.type.code,
      ForloebStartDato: intervention.period.start,
      Institution: { InstitutionsNummer: institution.number, Navn: institution.name },
    }, 'Ungedatabasen');
  },
};
