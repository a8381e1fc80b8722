/**
 * The DFDG contract: STAR's Det Fælles Datagrundlag as this adapter speaks it, in one file so it
 * can be aligned with STAR's WSDL/XSD when they are available (they are not public).
 *
 * Public facts used (see shared/docs/domain.md): the element names
 * `PersonCivilRegistrationIdentifier`, `ActivityItem`/`ActivityCoreItem`, `ActivityIdentifier`
 * (GUID), `StartDate`, `EndDate`, `ActivationTypeIdentifier`, `HoursPerWeek`,
 * `ResponsibleAuthority/AuthorityCode`, `RehabilitationProcessIdentifier`,
 * `MyPlanVersionIdentifier`, the metadata headers `ActiveOrganisation` (`OrganisationTypeIdentifier`,
 * `OrganisationCode`) and `RequestUserMetadata`, and error codes such as 1010 "unknown CPR".
 * MODELLED (our own, in STAR's naming style): the namespace, the operation names, every other
 * element name, the record envelope (`RecordVersionIdentifier`, `RecordUpdatedDateTime`), the
 * change list, and the integration-contract record (R21).
 *
 * Records are loose objects: elements the contract does not name are kept, so mappings can
 * report them as ignored fields instead of losing them silently.
 */
import { z } from 'zod';
import { BATCH_READ_MAX_SUBJECTS, batchReadRequestSchema, type BatchReadSpec } from '../soap/batch-read';
import type { ChangeListSpec } from '../soap/change-list';
import type { XmlRecordType } from '../soap/records';
import {
  xmlBoolean,
  xmlCode,
  xmlCpr,
  xmlDate,
  xmlDateTime,
  xmlElement,
  xmlGuid,
  xmlList,
  xmlMunicipalityCode,
  xmlOptionalBoolean,
  xmlOptionalDate,
  xmlOptionalDateTime,
  xmlOptionalDecimal,
  xmlOptionalText,
  xmlPositiveInteger,
  xmlRecord,
  xmlText,
} from '../soap/xml-schema';

/** MODELLED namespace; replace with STAR's when the schemas are known. */
export const DFDG_NAMESPACE = 'urn:enplan:modelled:star:dfdg:2026';

export const DfdgRecordType = z.enum(['activity', 'rehabilitation-process', 'employment-plan', 'integration-contract']);
export type DfdgRecordType = z.infer<typeof DfdgRecordType>;

export const DfdgPushOperation = z.enum(['activity.upsert', 'employment-plan.update']);
export type DfdgPushOperation = z.infer<typeof DfdgPushOperation>;

// ---------------------------------------------------------------------------------------------
// Shared parts

export const ResponsibleAuthority = xmlElement(
  z.looseObject({
    /** The jobcentre's municipality code (kommunekode). */
    AuthorityCode: xmlMunicipalityCode,
    AuthorityName: xmlOptionalText(200),
  }),
);

/** The record envelope every DFDG record carries (MODELLED): the source's version and change time. */
const recordEnvelope = {
  RecordVersionIdentifier: xmlPositiveInteger,
  RecordUpdatedDateTime: xmlDateTime,
};

// ---------------------------------------------------------------------------------------------
// Records

export const ActivityCoreItem = z.looseObject({
  ActivityIdentifier: xmlGuid,
  PersonCivilRegistrationIdentifier: xmlCpr,
  /** Code list: mappings/dfdg/codes/activation-types.json (MODELLED). */
  ActivationTypeIdentifier: xmlCode,
  /** Code list: mappings/dfdg/codes/activity-statuses.json (MODELLED). */
  ActivityStatusIdentifier: xmlCode,
  ActivityName: xmlOptionalText(200),
  StartDate: xmlDate,
  EndDate: xmlOptionalDate,
  HoursPerWeek: xmlOptionalDecimal(0, 80),
  ResponsibleAuthority,
  /** The provider (CVR or P-number) running the activity, when it is not the jobcentre. */
  ProviderIdentifier: xmlOptionalText(40),
  CaseworkerName: xmlOptionalText(200),
  CaseworkerPhone: xmlOptionalText(40),
});
export type ActivityCoreItem = z.output<typeof ActivityCoreItem>;

export const ActivityItem = xmlRecord(z.looseObject({ ActivityCoreItem: xmlElement(ActivityCoreItem), ...recordEnvelope }));
export type ActivityItem = z.output<typeof ActivityItem>;

export const RehabilitationProcessItem = xmlRecord(z.looseObject({
  RehabilitationProcessIdentifier: xmlGuid,
  PersonCivilRegistrationIdentifier: xmlCpr,
  /** Code list: mappings/dfdg/codes/rehabilitation-process-types.json (MODELLED). */
  RehabilitationProcessTypeIdentifier: xmlCode,
  /** Code list: mappings/dfdg/codes/rehabilitation-process-statuses.json (MODELLED). */
  RehabilitationProcessStatusIdentifier: xmlCode,
  StartDate: xmlDate,
  EndDate: xmlOptionalDate,
  ResponsibleAuthority,
  CoordinatingCaseworkerName: xmlOptionalText(200),
  CreatedDateTime: xmlDateTime,
  ...recordEnvelope,
}));
export type RehabilitationProcessItem = z.output<typeof RehabilitationProcessItem>;

export const JobGoal = z.looseObject({
  JobGoalIdentifier: xmlGuid,
  JobGoalText: xmlText(300),
  /** DISCO-08 occupation code (Danish extension of ISCO-08). */
  OccupationCode: z.preprocess((v) => (v === '' ? undefined : v), z.string().regex(/^\d{4,6}$/, 'must be a DISCO-08 code').optional()),
  TargetDate: xmlOptionalDate,
});

export const JobSearchAgreement = z.looseObject({
  JobSearchAgreementIdentifier: xmlGuid,
  AgreementText: xmlText(1000),
  AgreedDate: xmlDate,
  ApplicationsPerWeek: xmlOptionalDecimal(0, 100),
});

export const FollowUp = z.looseObject({
  FollowUpIdentifier: xmlGuid,
  FollowUpDate: xmlDate,
  FollowUpText: xmlText(1000),
  FollowUpCompletedIndicator: xmlOptionalBoolean,
  FollowUpCompletedDateTime: xmlOptionalDateTime,
});

/** The employment plan (Jobnet "Min Plan"); each edit makes a new `MyPlanVersionIdentifier`. */
export const MyPlanItem = xmlRecord(z.looseObject({
  MyPlanIdentifier: xmlGuid,
  MyPlanVersionIdentifier: xmlGuid,
  PersonCivilRegistrationIdentifier: xmlCpr,
  ResponsibleAuthority,
  JobGoal: xmlList(JobGoal),
  JobSearchAgreement: xmlList(JobSearchAgreement),
  FollowUp: xmlList(FollowUp),
  CreatedDateTime: xmlDateTime,
  ...recordEnvelope,
}));
export type MyPlanItem = z.output<typeof MyPlanItem>;

export const ProgrammeActivity = z.looseObject({
  ProgrammeActivityIdentifier: xmlGuid,
  ActivationTypeIdentifier: xmlCode,
  ActivityStatusIdentifier: xmlCode,
  ActivityName: xmlOptionalText(200),
  StartDate: xmlDate,
  EndDate: xmlOptionalDate,
  HoursPerWeek: xmlOptionalDecimal(0, 80),
});

/** The integration contract (integrationskontrakt) of a refugee: the form of their plan (R21). */
export const IntegrationContractItem = xmlRecord(z.looseObject({
  IntegrationContractIdentifier: xmlGuid,
  PersonCivilRegistrationIdentifier: xmlCpr,
  ContractStartDate: xmlDate,
  ContractEndDate: xmlOptionalDate,
  EmploymentGoalText: xmlOptionalText(300),
  EducationGoalText: xmlOptionalText(300),
  CitizenSignedDate: xmlOptionalDate,
  AuthoritySignedDate: xmlOptionalDate,
  ProgrammeActivity: xmlList(ProgrammeActivity),
  ResponsibleAuthority,
  ...recordEnvelope,
}));
export type IntegrationContractItem = z.output<typeof IntegrationContractItem>;

// ---------------------------------------------------------------------------------------------
// Record types: element, schema, and where the id, CPR, version and change time are

const envelopePaths = { versionPath: ['RecordVersionIdentifier'], updatedAtPath: ['RecordUpdatedDateTime'] } as const;

export const dfdgRecordTypes = {
  activity: {
    recordType: 'activity',
    element: 'ActivityItem',
    schema: ActivityItem,
    idPath: ['ActivityCoreItem', 'ActivityIdentifier'],
    cprPath: ['ActivityCoreItem', 'PersonCivilRegistrationIdentifier'],
    ...envelopePaths,
  },
  'rehabilitation-process': {
    recordType: 'rehabilitation-process',
    element: 'RehabilitationProcessItem',
    schema: RehabilitationProcessItem,
    idPath: ['RehabilitationProcessIdentifier'],
    cprPath: ['PersonCivilRegistrationIdentifier'],
    ...envelopePaths,
  },
  'employment-plan': {
    recordType: 'employment-plan',
    element: 'MyPlanItem',
    schema: MyPlanItem,
    idPath: ['MyPlanIdentifier'],
    cprPath: ['PersonCivilRegistrationIdentifier'],
    ...envelopePaths,
  },
  'integration-contract': {
    recordType: 'integration-contract',
    element: 'IntegrationContractItem',
    schema: IntegrationContractItem,
    idPath: ['IntegrationContractIdentifier'],
    cprPath: ['PersonCivilRegistrationIdentifier'],
    ...envelopePaths,
  },
} as const satisfies Record<DfdgRecordType, XmlRecordType>;

// ---------------------------------------------------------------------------------------------
// SOAP headers (STAR metadata)

export const ActiveOrganisation = z.object({
  /** E.g. "kommune" for a municipality's jobcentre. */
  OrganisationTypeIdentifier: xmlText(40),
  OrganisationCode: xmlText(40),
});
export type ActiveOrganisation = z.output<typeof ActiveOrganisation>;

/** MODELLED content: the calling system's user, and a transaction id for idempotent writes. */
export const RequestUserMetadata = z.object({
  UserIdentifier: xmlText(100),
  TransactionIdentifier: z.preprocess((v) => (v === '' ? undefined : v), xmlGuid.optional()),
});

export const DfdgRequestHeader = z.object({
  ActiveOrganisation: xmlElement(ActiveOrganisation),
  RequestUserMetadata: xmlElement(RequestUserMetadata),
});

// ---------------------------------------------------------------------------------------------
// Operations (MODELLED names)

export const dfdgOperations = {
  read: { request: 'PersonPlanDataReadRequest', response: 'PersonPlanDataReadResponse' },
  changes: { request: 'ChangeListReadRequest', response: 'ChangeListReadResponse' },
  writeActivity: { request: 'ActivityWriteRequest', response: 'ActivityWriteResponse' },
  writePlan: { request: 'MyPlanWriteRequest', response: 'MyPlanWriteResponse' },
  status: { request: 'ServiceStatusReadRequest', response: 'ServiceStatusReadResponse' },
  /**
   * MODELLED batch read, not a STAR operation (STAR's real services read one person per call): up
   * to 100 `PersonCivilRegistrationIdentifier` in one request; the reply has one `PersonPlanData`
   * per person with that person's record items, or a `PersonStatus` with ErrorCode 1010 for a
   * person DFDG does not know. See soap/batch-read.ts.
   */
  batchRead: { request: 'PersonPlanDataBatchReadRequest', response: 'PersonPlanDataBatchReadResponse' },
} as const;


/** Position in the change list: after this change time, then after this record id. */
export const ChangedAfter = xmlElement(z.object({ RecordUpdatedDateTime: xmlDateTime, RecordIdentifier: xmlText(100) }));

/** MODELLED (see `dfdgOperations.batchRead`): element names and cap of the batch read. */
export const dfdgBatchRead: BatchReadSpec = {
  ...dfdgOperations.batchRead,
  subjectElement: 'PersonCivilRegistrationIdentifier',
  groupElement: 'PersonPlanData',
  statusElement: 'PersonStatus',
  maxSubjects: BATCH_READ_MAX_SUBJECTS,
  after: { element: 'ChangedAfter', schema: ChangedAfter },
};

export const PersonPlanDataReadRequest = z.object({
  PersonCivilRegistrationIdentifier: xmlCpr,
  ChangedAfter: ChangedAfter.optional(),
});

/** MODELLED batch read request: 1–100 repeated `PersonCivilRegistrationIdentifier`. */
export const PersonPlanDataBatchReadRequest = batchReadRequestSchema(dfdgBatchRead);

export const ChangeListReadRequest = z.object({
  ChangedAfter: ChangedAfter.optional(),
  MaximumCount: xmlPositiveInteger.pipe(z.number().max(1000)),
});

export const ChangeItem = z.object({
  PersonCivilRegistrationIdentifier: xmlCpr,
  RecordTypeIdentifier: DfdgRecordType,
  RecordIdentifier: xmlText(100),
  RecordVersionIdentifier: xmlPositiveInteger,
  RecordUpdatedDateTime: xmlDateTime,
});

/**
 * The change list reply (`ChangeListReadResponse`): repeated `ChangeItem`s and
 * `MoreAvailableIndicator`. The reply's shape is checked as a whole, each item on its own against
 * `ChangeItem` (see soap/change-list.ts), so one bad item is quarantined instead of stopping the feed.
 */
export const dfdgChangeList = {
  serviceName: 'DFDG',
  ...dfdgOperations.changes,
  afterElement: 'ChangedAfter',
  limitElement: 'MaximumCount',
  itemElement: 'ChangeItem',
  moreElement: 'MoreAvailableIndicator',
  item: ChangeItem,
  fields: {
    cpr: 'PersonCivilRegistrationIdentifier',
    recordType: 'RecordTypeIdentifier',
    recordId: 'RecordIdentifier',
    version: 'RecordVersionIdentifier',
    updatedAt: 'RecordUpdatedDateTime',
  },
  recordTypes: DfdgRecordType.options,
} as const satisfies ChangeListSpec;

export const ActivityWriteRequest = z.object({ ActivityCoreItem: xmlElement(ActivityCoreItem) });

export const WriteResponse = z.object({
  RecordIdentifier: xmlText(100),
  RecordVersionIdentifier: xmlPositiveInteger,
  DuplicateIndicator: xmlBoolean,
});

// ---------------------------------------------------------------------------------------------
// Push payloads: what the reverse mappings produce and `push` sends (typed values, strict keys)

const pushAuthority = z.strictObject({ AuthorityCode: xmlMunicipalityCode, AuthorityName: xmlOptionalText(200) });

/** `activity.upsert`: without an ActivityIdentifier, one is derived from the idempotency key. */
export const ActivityUpsertPayload = z.strictObject({
  ActivityIdentifier: xmlGuid.optional(),
  ActivationTypeIdentifier: xmlCode,
  ActivityStatusIdentifier: xmlCode,
  ActivityName: xmlOptionalText(200),
  StartDate: xmlDate,
  EndDate: xmlOptionalDate,
  HoursPerWeek: xmlOptionalDecimal(0, 80),
  ResponsibleAuthority: pushAuthority,
  ProviderIdentifier: xmlOptionalText(40),
  CaseworkerName: xmlOptionalText(200),
  CaseworkerPhone: xmlOptionalText(40),
});
export type ActivityUpsertPayload = z.input<typeof ActivityUpsertPayload>;

/** `employment-plan.update`: items are upserted by identifier; new items get derived identifiers. */
export const EmploymentPlanUpdatePayload = z
  .strictObject({
    ResponsibleAuthority: pushAuthority.optional(),
    JobGoal: z.array(JobGoal.partial({ JobGoalIdentifier: true }).strict()).default([]),
    JobSearchAgreement: z.array(JobSearchAgreement.partial({ JobSearchAgreementIdentifier: true }).strict()).default([]),
    FollowUp: z.array(FollowUp.partial({ FollowUpIdentifier: true }).strict()).default([]),
  })
  .refine((p) => p.JobGoal.length + p.JobSearchAgreement.length + p.FollowUp.length > 0, { message: 'an employment-plan update changes at least one item' });
export type EmploymentPlanUpdatePayload = z.input<typeof EmploymentPlanUpdatePayload>;

/** The write request for the plan, as the simulator checks it. */
export const MyPlanWriteRequest = z.object({
  PersonCivilRegistrationIdentifier: xmlCpr,
  ResponsibleAuthority: ResponsibleAuthority.optional(),
  JobGoal: xmlList(JobGoal),
  JobSearchAgreement: xmlList(JobSearchAgreement),
  FollowUp: xmlList(FollowUp),
});

/** Repeating elements, parsed as arrays even when one occurs. */
export const dfdgArrayElements = [
  'ActivityItem',
  'RehabilitationProcessItem',
  'MyPlanItem',
  'IntegrationContractItem',
  'JobGoal',
  'JobSearchAgreement',
  'FollowUp',
  'ProgrammeActivity',
  'ChangeItem',
  'PersonPlanData',
] as const;
