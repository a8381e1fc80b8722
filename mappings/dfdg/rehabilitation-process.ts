/**
 * dfdg.rehabilitation-process: a rehabilitation process (ressourceforløb, jobafklaringsforløb,
 * forelæggelse for rehabiliteringsteamet) becomes one employment intervention with the
 * coordinating caseworker as contact. Element id `dfdg:rehabilitation-process:<id>`.
 */
import type { Mapping } from '../mapping';
import { RehabilitationProcessItem } from '../../adapters/dfdg/contract';
import { MappingRun, UNKNOWN_CODE_DISPLAY } from '../../adapters/soap/mapping-support';
import { rehabilitationProcessStatuses, rehabilitationProcessTypes } from './code-lists';
import { authorityUnit, FALLBACK_EMPLOYMENT_BASIS, MAPPING_VERSION } from './common';

const consumed = new Set([
  'RehabilitationProcessIdentifier',
  'PersonCivilRegistrationIdentifier',
  'RehabilitationProcessTypeIdentifier',
  'RehabilitationProcessStatusIdentifier',
  'StartDate',
  'EndDate',
  'ResponsibleAuthority.AuthorityCode',
  'ResponsibleAuthority.AuthorityName',
  'CoordinatingCaseworkerName',
  'RecordVersionIdentifier',
  'RecordUpdatedDateTime',
]);

export const rehabilitationProcessMapping: Mapping<RehabilitationProcessItem> = {
  id: 'dfdg.rehabilitation-process',
  version: MAPPING_VERSION,
  adapter: 'dfdg',
  recordType: 'rehabilitation-process',
  description: 'A DFDG rehabilitation process as an employment intervention with its coordinating caseworker.',
  sourceSchema: RehabilitationProcessItem,
  rules: [
    { id: 'rehabilitation.id', source: 'RehabilitationProcessIdentifier', target: 'elementId', description: '`dfdg:rehabilitation-process:<id>`' },
    { id: 'rehabilitation.type', source: 'RehabilitationProcessTypeIdentifier', target: 'intervention.type, legalBasis', description: 'Looked up; unknown → "ukendt kode", basis "LAB", reported' },
    { id: 'rehabilitation.status', source: 'RehabilitationProcessStatusIdentifier', target: 'intervention.status', description: 'Looked up; unknown → the record fails' },
    { id: 'rehabilitation.period', source: 'StartDate, EndDate', target: 'intervention.period', description: 'The end may not be before the start' },
    { id: 'rehabilitation.contact', source: 'CoordinatingCaseworkerName', target: 'intervention.contact', description: 'The coordinating caseworker, else the jobcentre' },
  ],
  codeLists: [rehabilitationProcessTypes.ref, rehabilitationProcessStatuses.ref],
  map(record) {
    const run = new MappingRun();
    const type = rehabilitationProcessTypes.lookup(record.RehabilitationProcessTypeIdentifier);
    if (!type) run.unknownCode(rehabilitationProcessTypes.system, record.RehabilitationProcessTypeIdentifier);
    const status = rehabilitationProcessStatuses.lookup(record.RehabilitationProcessStatusIdentifier)?.status;
    if (!status) run.unknownCode(rehabilitationProcessStatuses.system, record.RehabilitationProcessStatusIdentifier);
    run.ignoreUnread(record, consumed);
    if (!status) return run.fail('rehabilitation.status', `unknown rehabilitation process status ${record.RehabilitationProcessStatusIdentifier}`);
    if (record.EndDate && record.EndDate < record.StartDate) return run.fail('rehabilitation.period', 'the process ends before it starts');
    const display = type?.display ?? UNKNOWN_CODE_DISPLAY;
    const unit = authorityUnit(record.ResponsibleAuthority);
    return run.finish([
      {
        kind: 'intervention',
        elementId: `dfdg:rehabilitation-process:${record.RehabilitationProcessIdentifier}`,
        category: 'employment',
        content: {
          sector: 'employment',
          legalBasis: type?.legalBasis ?? FALLBACK_EMPLOYMENT_BASIS,
          type: { system: rehabilitationProcessTypes.system, code: record.RehabilitationProcessTypeIdentifier, display },
          title: display,
          responsibleUnit: unit,
          contact: { name: record.CoordinatingCaseworkerName ?? unit, unit },
          period: { start: record.StartDate, end: record.EndDate },
          order: 0,
          status,
          topics: ['rehabilitation'],
        },
      },
    ]);
  },
};
