/**
 * dfdg.activity: a DFDG activity (ActivityItem) becomes one employment intervention. The element
 * id is `dfdg:activity:<ActivityIdentifier>`, so re-pulls and pushes merge in place.
 */
import type { Mapping } from '../mapping';
import { ActivityItem } from '../../adapters/dfdg/contract';
import { MappingRun } from '../../adapters/soap/mapping-support';
import { activationTypes, activityStatuses } from './code-lists';
import { activationType, activityStatus, authorityUnit, MAPPING_VERSION } from './common';

const core = (field: string) => `ActivityCoreItem.${field}`;

/** Fields a rule reads, plus the record envelope and CPR the adapter consumes. */
const consumed = new Set([
  core('ActivityIdentifier'),
  core('PersonCivilRegistrationIdentifier'),
  core('ActivationTypeIdentifier'),
  core('ActivityStatusIdentifier'),
  core('ActivityName'),
  core('StartDate'),
  core('EndDate'),
  core('HoursPerWeek'),
  core('ResponsibleAuthority.AuthorityCode'),
  core('ResponsibleAuthority.AuthorityName'),
  core('ProviderIdentifier'),
  core('CaseworkerName'),
  core('CaseworkerPhone'),
  'RecordVersionIdentifier',
  'RecordUpdatedDateTime',
]);

export const activityMapping: Mapping<ActivityItem> = {
  id: 'dfdg.activity',
  version: MAPPING_VERSION,
  adapter: 'dfdg',
  recordType: 'activity',
  description: 'A DFDG activity (tilbud/aktivitet) as an employment intervention of the plan.',
  sourceSchema: ActivityItem,
  rules: [
    { id: 'activity.id', source: core('ActivityIdentifier'), target: 'elementId', description: '`dfdg:activity:<ActivityIdentifier>`' },
    { id: 'activity.type', source: core('ActivationTypeIdentifier'), target: 'intervention.type, sector, legalBasis', description: 'Looked up in the activation types; unknown → "ukendt kode", basis "LAB", reported' },
    { id: 'activity.status', source: core('ActivityStatusIdentifier'), target: 'intervention.status', description: 'Looked up in the activity statuses; unknown → the record fails' },
    { id: 'activity.period', source: `${core('StartDate')}, ${core('EndDate')}`, target: 'intervention.period', description: 'The end may not be before the start' },
    { id: 'activity.title', source: core('ActivityName'), target: 'intervention.title', description: 'The activity name, else the activation type display' },
    { id: 'activity.responsible', source: core('ResponsibleAuthority'), target: 'intervention.responsibleUnit', description: 'AuthorityName, else "Jobcenter <AuthorityCode>"' },
    { id: 'activity.contact', source: `${core('CaseworkerName')}, ${core('CaseworkerPhone')}`, target: 'intervention.contact', description: 'The caseworker, else the jobcentre' },
    { id: 'activity.hours', source: core('HoursPerWeek'), target: 'intervention.hoursPerWeek', description: 'As is' },
    { id: 'activity.provider', source: core('ProviderIdentifier'), target: 'intervention.providerId', description: 'As is (CVR/P-number)' },
  ],
  codeLists: [activationTypes.ref, activityStatuses.ref],
  map(record) {
    const run = new MappingRun();
    const activity = record.ActivityCoreItem;
    const kind = activationType(run, activity.ActivationTypeIdentifier);
    const status = activityStatus(run, activity.ActivityStatusIdentifier);
    run.ignoreUnread(record, consumed);
    if (!status) return run.fail('activity.status', `unknown activity status code ${activity.ActivityStatusIdentifier}`);
    if (activity.EndDate && activity.EndDate < activity.StartDate) return run.fail('activity.period', 'the activity ends before it starts');
    const unit = authorityUnit(activity.ResponsibleAuthority);
    return run.finish([
      {
        kind: 'intervention',
        elementId: `dfdg:activity:${activity.ActivityIdentifier}`,
        category: 'employment',
        content: {
          sector: kind.sector,
          legalBasis: kind.legalBasis,
          type: kind.type,
          title: activity.ActivityName ?? kind.type.display,
          responsibleUnit: unit,
          contact: { name: activity.CaseworkerName ?? unit, unit, phone: activity.CaseworkerPhone },
          period: { start: activity.StartDate, end: activity.EndDate },
          order: 0,
          status,
          providerId: activity.ProviderIdentifier,
          hoursPerWeek: activity.HoursPerWeek,
        },
      },
    ]);
  },
};
