/**
 * Reverse mappings, model → DFDG: what the push side sends when a caseworker registers an
 * employment intervention, a job goal, a job-search agreement or a follow-up once (R17).
 *
 * An element that came from DFDG (`dfdg:activity:<guid>`, `dfdg:job-goal:<guid>` …) keeps its
 * DFDG identifier, so the write updates it; one of ours is handed in under its own UUID the same
 * way (`src/delivery/default-mappings.ts`), so its changes update one record too. An id in neither
 * form goes without one and the adapter derives it from the idempotency key. Every payload is checked against the DFDG contract here,
 * so a registration DFDG would refuse fails before it is queued.
 */
import type { ReverseMapping } from '../mapping';
import type { Agreement, FollowUp, Goal, Intervention } from '../../src/model';
import { ActivityUpsertPayload, EmploymentPlanUpdatePayload } from '../../adapters/dfdg/contract';
import { checkedPayload, sourceIdOf } from '../../adapters/soap/mapping-support';
import { activationTypes, activityStatuses } from './code-lists';
import { MAPPING_VERSION } from './common';
import { occupationDescription } from './employment-plan';

/** The jobcentre that registers: its kommunekode and, optionally, its name. */
export interface DfdgAuthority {
  authorityCode: string;
  authorityName?: string;
}

export type ActivityReverseInput = {
  intervention: Pick<Intervention, 'id' | 'sector' | 'type' | 'title' | 'period' | 'status' | 'contact'> & Partial<Pick<Intervention, 'hoursPerWeek' | 'providerId'>>;
} & DfdgAuthority;
export type JobGoalReverseInput = { goal: Pick<Goal, 'id' | 'title' | 'topics'> & Partial<Pick<Goal, 'description' | 'targetDate'>> };
export type JobSearchAgreementReverseInput = { agreement: Pick<Agreement, 'id' | 'text' | 'agreedAt' | 'topics'> };
export type FollowUpReverseInput = { followUp: Pick<FollowUp, 'id' | 'due' | 'text'> & Partial<Pick<FollowUp, 'done' | 'doneAt'>> };


/** The modelled DFDG activation type for education activities (see codes/activation-types.json). */
const EDUCATION_ACTIVATION_TYPE = 'UDD';

/**
 * Job goals, job-search agreements and follow-ups of ours carry their element's UUID as the DFDG
 * identifier from 1.1.0 (before, none: DFDG made a second record for every change).
 */
const REVERSE_IDENTIFIED_VERSION = '1.1.0';

const statusCode = new Map(activityStatuses.codes.map((c) => [c.status, c.code]));

export const activityReverseMapping: ReverseMapping<ActivityReverseInput, ActivityUpsertPayload> = {
  id: 'dfdg.activity.reverse',
  version: MAPPING_VERSION,
  adapter: 'dfdg',
  operation: 'activity.upsert',
  map({ intervention, authorityCode, authorityName }) {
    // R20: an education activity is registered once and reaches DFDG too, under the education activation type.
    const education = intervention.sector === 'education';
    if (!education && intervention.sector !== 'employment' && intervention.sector !== 'integration')
      return { ok: false, reason: `DFDG holds employment, integration and education activities, not ${intervention.sector}` };
    if (!education && (intervention.type.system !== activationTypes.system || !activationTypes.has(intervention.type.code)))
      return { ok: false, reason: 'DFDG only accepts its own activation types (ActivationTypeIdentifier)' };
    const status = statusCode.get(intervention.status);
    if (!status) return { ok: false, reason: `no DFDG activity status for ${intervention.status}` };
    return checkedPayload(ActivityUpsertPayload, {
      ActivityIdentifier: sourceIdOf(intervention.id, 'dfdg:activity:'),
      ActivationTypeIdentifier: education ? EDUCATION_ACTIVATION_TYPE : intervention.type.code,
      ActivityStatusIdentifier: status,
      ActivityName: intervention.title.slice(0, 200),
      StartDate: intervention.period.start,
      EndDate: intervention.period.end,
      HoursPerWeek: intervention.hoursPerWeek,
      ResponsibleAuthority: { AuthorityCode: authorityCode, AuthorityName: authorityName },
      ProviderIdentifier: intervention.providerId,
      CaseworkerName: intervention.contact.name,
      CaseworkerPhone: intervention.contact.phone,
    }, 'DFDG');
  },
};

const OCCUPATION = new RegExp(`^${occupationDescription('(\\d{4,6})')}$`);

export const jobGoalReverseMapping: ReverseMapping<JobGoalReverseInput, EmploymentPlanUpdatePayload> = {
  id: 'dfdg.job-goal.reverse',
  // 1.1.0: an element of ours goes with its own UUID as the DFDG identifier (one record per element).
  version: REVERSE_IDENTIFIED_VERSION,
  adapter: 'dfdg',
  operation: 'employment-plan.update',
  map({ goal }) {
    if (!goal.topics.includes('job-goal')) return { ok: false, reason: 'only job goals (topic job-goal) belong in Min Plan' };
    return checkedPayload(EmploymentPlanUpdatePayload, {
      JobGoal: [
        {
          JobGoalIdentifier: sourceIdOf(goal.id, 'dfdg:job-goal:'),
          JobGoalText: goal.title.slice(0, 300),
          OccupationCode: goal.description ? OCCUPATION.exec(goal.description)?.[1] : undefined,
          TargetDate: goal.targetDate,
        },
      ],
    }, 'DFDG');
  },
};

export const jobSearchAgreementReverseMapping: ReverseMapping<JobSearchAgreementReverseInput, EmploymentPlanUpdatePayload> = {
  id: 'dfdg.job-search-agreement.reverse',
  // 1.1.0: an element of ours goes with its own UUID as the DFDG identifier (one record per element).
  version: REVERSE_IDENTIFIED_VERSION,
  adapter: 'dfdg',
  operation: 'employment-plan.update',
  map({ agreement }) {
    if (!agreement.topics.includes('job-search')) return { ok: false, reason: 'only job-search agreements (topic job-search) belong in Min Plan' };
    return checkedPayload(EmploymentPlanUpdatePayload, {
      JobSearchAgreement: [
        { JobSearchAgreementIdentifier: sourceIdOf(agreement.id, 'dfdg:job-search-agreement:'), AgreementText: agreement.text.slice(0, 1000), AgreedDate: agreement.agreedAt },
      ],
    }, 'DFDG');
  },
};

export const followUpReverseMapping: ReverseMapping<FollowUpReverseInput, EmploymentPlanUpdatePayload> = {
  id: 'dfdg.follow-up.reverse',
  // 1.1.0: an element of ours goes with its own UUID as the DFDG identifier (one record per element).
  version: REVERSE_IDENTIFIED_VERSION,
  adapter: 'dfdg',
  operation: 'employment-plan.update',
  map({ followUp }) {
    return checkedPayload(EmploymentPlanUpdatePayload, {
      FollowUp: [
        {
          FollowUpIdentifier: sourceIdOf(followUp.id, 'dfdg:follow-up:'),
          FollowUpDate: followUp.due,
          FollowUpText: followUp.text.slice(0, 1000),
          FollowUpCompletedIndicator: followUp.done ?? false,
          FollowUpCompletedDateTime: followUp.done ? followUp.doneAt : undefined,
        },
      ],
    }, 'DFDG');
  },
};
