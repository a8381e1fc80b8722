/**
 * dfdg.employment-plan: the employment plan (Jobnet "Min Plan", one record per citizen, a new
 * MyPlanVersionIdentifier per edit) becomes the plan's employment parts: job goals (topic
 * `job-goal`), job-search agreements (topic `job-search`) and follow-ups — what LAB § 41 stk. 2
 * asks of an employment plan that Én plan replaces (see src/rules/sector-plans.ts).
 */
import type { Mapping } from '../mapping';
import { MyPlanItem } from '../../adapters/dfdg/contract';
import { MappingRun } from '../../adapters/soap/mapping-support';
import { authorityUnit, MAPPING_VERSION } from './common';

const consumed = new Set([
  'MyPlanIdentifier',
  'PersonCivilRegistrationIdentifier',
  'ResponsibleAuthority.AuthorityCode',
  'ResponsibleAuthority.AuthorityName',
  'JobGoal[].JobGoalIdentifier',
  'JobGoal[].JobGoalText',
  'JobGoal[].OccupationCode',
  'JobGoal[].TargetDate',
  'JobSearchAgreement[].JobSearchAgreementIdentifier',
  'JobSearchAgreement[].AgreementText',
  'JobSearchAgreement[].AgreedDate',
  'JobSearchAgreement[].ApplicationsPerWeek',
  'FollowUp[].FollowUpIdentifier',
  'FollowUp[].FollowUpDate',
  'FollowUp[].FollowUpText',
  'FollowUp[].FollowUpCompletedIndicator',
  'FollowUp[].FollowUpCompletedDateTime',
  'RecordVersionIdentifier',
  'RecordUpdatedDateTime',
]);

/** The occupation code goes into the goal's description in this form, and is read back from it. */
export const occupationDescription = (code: string) => `DISCO-08 ${code}`;

export const employmentPlanMapping: Mapping<MyPlanItem> = {
  id: 'dfdg.employment-plan',
  version: MAPPING_VERSION,
  adapter: 'dfdg',
  recordType: 'employment-plan',
  description: 'Min Plan as job goals, job-search agreements and follow-ups of the plan.',
  sourceSchema: MyPlanItem,
  rules: [
    { id: 'plan.job-goal', source: 'JobGoal[]', target: 'goal (topic job-goal)', description: 'One overall employment goal per job goal; `dfdg:job-goal:<JobGoalIdentifier>`; the occupation code goes into the description' },
    { id: 'plan.job-search', source: 'JobSearchAgreement[]', target: 'agreement (topic job-search)', description: 'Agreed between the citizen and the jobcentre; applications per week appended to the text; `dfdg:job-search-agreement:<id>`' },
    { id: 'plan.follow-up', source: 'FollowUp[]', target: 'followUp', description: 'Due date, text, done; `dfdg:follow-up:<id>`' },
  ],
  codeLists: [],
  map(plan) {
    const run = new MappingRun();
    run.ignoreUnread(plan, consumed);
    const jobcentre = authorityUnit(plan.ResponsibleAuthority);
    return run.finish([
      ...plan.JobGoal.map((goal) => ({
        kind: 'goal' as const,
        elementId: `dfdg:job-goal:${goal.JobGoalIdentifier}`,
        category: 'employment' as const,
        content: {
          level: 'overall' as const,
          title: goal.JobGoalText,
          description: goal.OccupationCode ? occupationDescription(goal.OccupationCode) : undefined,
          sector: 'employment' as const,
          status: 'active' as const,
          targetDate: goal.TargetDate,
          topics: ['job-goal'],
        },
      })),
      ...plan.JobSearchAgreement.map((agreement) => ({
        kind: 'agreement' as const,
        elementId: `dfdg:job-search-agreement:${agreement.JobSearchAgreementIdentifier}`,
        category: 'employment' as const,
        content: {
          text: agreement.ApplicationsPerWeek !== undefined ? `${agreement.AgreementText} (${agreement.ApplicationsPerWeek} ansøgninger om ugen)` : agreement.AgreementText,
          sector: 'employment' as const,
          agreedAt: agreement.AgreedDate,
          parties: ['Borger', jobcentre],
          topics: ['job-search'],
        },
      })),
      ...plan.FollowUp.map((followUp) => ({
        kind: 'followUp' as const,
        elementId: `dfdg:follow-up:${followUp.FollowUpIdentifier}`,
        category: 'employment' as const,
        content: {
          due: followUp.FollowUpDate,
          text: followUp.FollowUpText,
          done: followUp.FollowUpCompletedIndicator ?? false,
          doneAt: followUp.FollowUpCompletedDateTime,
        },
      })),
    ]);
  },
};
