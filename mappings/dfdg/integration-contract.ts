/**
 * dfdg.integration-contract: for a refugee the integration contract (integrationskontrakt) is the
 * form of the plan (R21). It becomes the employment or education goal of the contract (topics
 * `integration-contract` and `job-goal`/`education-goal`), the signed contract as an agreement
 * (topic `integration-contract`, only when both the citizen and the municipality signed), and
 * the programme activities as integration interventions under Integrationsloven § 19.
 */
import type { Mapping } from '../mapping';
import { IntegrationContractItem } from '../../adapters/dfdg/contract';
import { MappingRun } from '../../adapters/soap/mapping-support';
import { activationTypes, activityStatuses } from './code-lists';
import { activationType, activityStatus, authorityUnit, MAPPING_VERSION } from './common';

/** The contract and its programme activities rest on the contract provision (src/rules/sector-plans.ts). */
export const INTEGRATION_CONTRACT_BASIS = 'Integrationsloven § 19';

const consumed = new Set([
  'IntegrationContractIdentifier',
  'PersonCivilRegistrationIdentifier',
  'ContractStartDate',
  'ContractEndDate',
  'EmploymentGoalText',
  'EducationGoalText',
  'CitizenSignedDate',
  'AuthoritySignedDate',
  'ProgrammeActivity[].ProgrammeActivityIdentifier',
  'ProgrammeActivity[].ActivationTypeIdentifier',
  'ProgrammeActivity[].ActivityStatusIdentifier',
  'ProgrammeActivity[].ActivityName',
  'ProgrammeActivity[].StartDate',
  'ProgrammeActivity[].EndDate',
  'ProgrammeActivity[].HoursPerWeek',
  'ResponsibleAuthority.AuthorityCode',
  'ResponsibleAuthority.AuthorityName',
  'RecordVersionIdentifier',
  'RecordUpdatedDateTime',
]);

export const integrationContractMapping: Mapping<IntegrationContractItem> = {
  id: 'dfdg.integration-contract',
  version: MAPPING_VERSION,
  adapter: 'dfdg',
  recordType: 'integration-contract',
  description: 'A refugee’s integration contract as goals, the signed agreement and integration programme interventions.',
  sourceSchema: IntegrationContractItem,
  rules: [
    { id: 'contract.goal', source: 'EmploymentGoalText, EducationGoalText', target: 'goal (topics integration-contract + job-goal/education-goal)', description: 'One goal per goal text; active once signed by both parties, else proposed; target date = contract end' },
    { id: 'contract.agreement', source: 'CitizenSignedDate, AuthoritySignedDate', target: 'agreement (topic integration-contract)', description: 'Only when both signed; agreed at the later signature' },
    { id: 'contract.activity', source: 'ProgrammeActivity[]', target: 'intervention (sector integration)', description: 'Legal basis Integrationsloven § 19; type from the activation types (unknown → "ukendt kode"); status unknown → the record fails' },
    { id: 'contract.period', source: 'ProgrammeActivity[].StartDate, EndDate', target: 'intervention.period', description: 'The end may not be before the start' },
  ],
  codeLists: [activationTypes.ref, activityStatuses.ref],
  map(contract) {
    const run = new MappingRun();
    const id = contract.IntegrationContractIdentifier;
    const unit = authorityUnit(contract.ResponsibleAuthority);
    const signed = contract.CitizenSignedDate !== undefined && contract.AuthoritySignedDate !== undefined;
    const goals = [
      { text: contract.EmploymentGoalText, topic: 'job-goal' },
      { text: contract.EducationGoalText, topic: 'education-goal' },
    ].flatMap(({ text, topic }) =>
      text === undefined
        ? []
        : [
            {
              kind: 'goal' as const,
              elementId: `dfdg:integration-contract:${id}:${topic}`,
              category: 'employment' as const,
              content: {
                level: 'overall' as const,
                title: text,
                sector: 'integration' as const,
                status: signed ? ('active' as const) : ('proposed' as const),
                targetDate: contract.ContractEndDate,
                topics: ['integration-contract', topic],
              },
            },
          ],
    );
    const goalIds = goals.map((g) => g.elementId);

    const activities = [];
    for (const [order, activity] of contract.ProgrammeActivity.entries()) {
      const kind = activationType(run, activity.ActivationTypeIdentifier);
      const status = activityStatus(run, activity.ActivityStatusIdentifier);
      if (!status) {
        run.ignoreUnread(contract, consumed);
        return run.fail('contract.activity', `unknown activity status code ${activity.ActivityStatusIdentifier} in programme activity ${order + 1}`);
      }
      if (activity.EndDate && activity.EndDate < activity.StartDate) {
        run.ignoreUnread(contract, consumed);
        return run.fail('contract.period', `programme activity ${order + 1} ends before it starts`);
      }
      activities.push({
        kind: 'intervention' as const,
        elementId: `dfdg:integration-activity:${activity.ProgrammeActivityIdentifier}`,
        category: 'employment' as const,
        content: {
          sector: 'integration' as const,
          legalBasis: INTEGRATION_CONTRACT_BASIS,
          type: kind.type,
          title: activity.ActivityName ?? kind.type.display,
          responsibleUnit: unit,
          contact: { name: unit, unit },
          period: { start: activity.StartDate, end: activity.EndDate },
          order,
          status,
          goalIds,
          hoursPerWeek: activity.HoursPerWeek,
          topics: ['integration-programme'],
        },
      });
    }
    run.ignoreUnread(contract, consumed);

    const agreedAt = signed ? [contract.CitizenSignedDate!, contract.AuthoritySignedDate!].sort().at(-1)! : undefined;
    const agreement = agreedAt
      ? [
          {
            kind: 'agreement' as const,
            elementId: `dfdg:integration-contract:${id}:agreement`,
            category: 'employment' as const,
            content: {
              text: `Integrationskontrakt underskrevet af borger og ${unit}`,
              sector: 'integration' as const,
              agreedAt,
              parties: ['Borger', unit],
              topics: ['integration-contract'],
            },
          },
        ]
      : [];
    return run.finish([...goals, ...agreement, ...activities]);
  },
};
