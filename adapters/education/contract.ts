/**
 * The Ungedatabasen / KUI contract (education: STIL's youth database and the municipal youth
 * effort under lov om kommunal indsats for unge under 25 år), in one file so it can be aligned
 * with the real service when its structure is known.
 *
 * Public facts used (see shared/docs/domain.md): SOAP on STIL's integration platform, service
 * names such as `DataTilInstitution` and `IndberetInstitutionKontakt`, and the fields `CPRNr` and
 * `HaendelseNummer`. Everything else is MODELLED, because the real structure is not public: the
 * namespace, the operations, the education plan (uddannelsesplan: goal and planned activities),
 * the education events (hændelser: optaget, påbegyndt, afbrudt, fuldført, udmeldt) and the
 * `Kaldskontekst` header (who calls, for which municipality). WS-Security itself — the signed
 * `wsse:Security` header STIL's platform asks for — is real: adapters/soap/ws-security.ts, checked
 * by the simulator when it is given the certificates it trusts.
 *
 * Records are loose objects: elements the contract does not name are kept, so mappings can report
 * them as ignored fields instead of losing them silently.
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
  xmlOptionalDate,
  xmlOptionalDecimal,
  xmlOptionalText,
  xmlPositiveInteger,
  xmlRecord,
  xmlText,
} from '../soap/xml-schema';

/** MODELLED namespace. */
export const EDUCATION_NAMESPACE = 'urn:enplan:modelled:stil:ungedatabasen:2026';

export const EducationRecordType = z.enum(['education-plan', 'education-event']);
export type EducationRecordType = z.infer<typeof EducationRecordType>;

export const EducationPushOperation = z.enum(['education-plan.update', 'education-event.register']);
export type EducationPushOperation = z.infer<typeof EducationPushOperation>;

const recordEnvelope = { Version: xmlPositiveInteger, SenestAendret: xmlDateTime };

const Uddannelsesmaal = z.looseObject({
  /** Code list: mappings/education/codes/education-programmes.json (MODELLED). */
  UddannelseKode: xmlCode,
  Beskrivelse: xmlOptionalText(300),
  ForventetStartDato: xmlOptionalDate,
});

const PlanlagtAktivitet = z.looseObject({
  AktivitetId: xmlGuid,
  /** Code list: mappings/education/codes/plan-activity-types.json (MODELLED). */
  AktivitetKode: xmlCode,
  /** Code list: mappings/education/codes/plan-activity-statuses.json (MODELLED). */
  AktivitetStatus: xmlCode,
  Beskrivelse: xmlOptionalText(300),
  StartDato: xmlDate,
  SlutDato: xmlOptionalDate,
  TimerPrUge: xmlOptionalDecimal(0, 80),
});

const Vejleder = z.looseObject({
  Navn: xmlText(200),
  Enhed: xmlOptionalText(200),
  Telefon: xmlOptionalText(40),
  Email: z.preprocess((v) => (v === '' ? undefined : v), z.email().optional()),
});

/** The education plan (uddannelsesplan, KUI § 2 a) of a young person: one per citizen. */
export const Uddannelsesplan = xmlRecord(z.looseObject({
  UddannelsesplanId: xmlGuid,
  CPRNr: xmlCpr,
  KommuneKode: xmlMunicipalityCode,
  Uddannelsesmaal: xmlElement(Uddannelsesmaal),
  PlanlagtAktivitet: xmlList(PlanlagtAktivitet),
  Vejleder: xmlElement(Vejleder).optional(),
  NaesteOpfoelgning: xmlOptionalDate,
  Oprettet: xmlDateTime,
  ...recordEnvelope,
}));
export type Uddannelsesplan = z.output<typeof Uddannelsesplan>;

const Institution = z.looseObject({
  /** The institution number (institutionsnummer, six digits). */
  InstitutionsNummer: z.string().regex(/^\d{6}$/, 'must be a six-digit institution number'),
  Navn: xmlOptionalText(200),
});

/** One education event (hændelse) in a young person's course; `HaendelseNummer` numbers the feed. */
export const Haendelse = xmlRecord(z.looseObject({
  HaendelseNummer: xmlPositiveInteger,
  CPRNr: xmlCpr,
  /** Code list: mappings/education/codes/event-types.json (MODELLED). */
  HaendelseKode: xmlCode,
  HaendelseDato: xmlDate,
  /** The course (uddannelsesforløb) the event belongs to: events of one course share it. */
  UddannelsesforloebId: xmlGuid,
  UddannelseKode: xmlCode,
  ForloebStartDato: xmlOptionalDate,
  Institution: xmlElement(Institution),
  ...recordEnvelope,
}));
export type Haendelse = z.output<typeof Haendelse>;

const envelopePaths = { versionPath: ['Version'], updatedAtPath: ['SenestAendret'] } as const;

export const educationRecordTypes = {
  'education-plan': { recordType: 'education-plan', element: 'Uddannelsesplan', schema: Uddannelsesplan, idPath: ['UddannelsesplanId'], cprPath: ['CPRNr'], ...envelopePaths },
  'education-event': { recordType: 'education-event', element: 'Haendelse', schema: Haendelse, idPath: ['HaendelseNummer'], cprPath: ['CPRNr'], ...envelopePaths },
} as const satisfies Record<EducationRecordType, XmlRecordType>;

// ---------------------------------------------------------------------------------------------
// SOAP header and operations (MODELLED)

export const Kaldskontekst = z.object({
  KommuneKode: xmlMunicipalityCode,
  SystemNavn: xmlText(100),
  /** Present on writes: the transaction id that makes them idempotent. */
  TransaktionsId: z.preprocess((v) => (v === '' ? undefined : v), xmlGuid.optional()),
});
export const EducationRequestHeader = z.object({ Kaldskontekst: xmlElement(Kaldskontekst) });

export const educationOperations = {
  read: { request: 'HentBorgerDataRequest', response: 'HentBorgerDataResponse' },
  changes: { request: 'HentAendringerRequest', response: 'HentAendringerResponse' },
  updatePlan: { request: 'OpdaterUddannelsesplanRequest', response: 'OpdaterUddannelsesplanResponse' },
  registerEvent: { request: 'IndberetHaendelseRequest', response: 'IndberetHaendelseResponse' },
  status: { request: 'HentStatusRequest', response: 'HentStatusResponse' },
  /**
   * MODELLED batch read (our own; the real services read one person per call): up to 100 `CPRNr`
   * in one request; the reply has one `BorgerData` per person with that person's records, or a
   * `BorgerStatus` with ErrorCode 1010 for a person Ungedatabasen does not know. See
   * soap/batch-read.ts.
   */
  batchRead: { request: 'HentBorgerDataBatchRequest', response: 'HentBorgerDataBatchResponse' },
} as const;


/** Position in the change list: after this change time, then after this record id. */
export const AendretEfter = xmlElement(z.object({ SenestAendret: xmlDateTime, PostId: xmlText(100) }));

/** MODELLED (see `educationOperations.batchRead`): element names and cap of the batch read. */
export const educationBatchRead: BatchReadSpec = {
  ...educationOperations.batchRead,
  subjectElement: 'CPRNr',
  groupElement: 'BorgerData',
  statusElement: 'BorgerStatus',
  maxSubjects: BATCH_READ_MAX_SUBJECTS,
  after: { element: 'AendretEfter', schema: AendretEfter },
};

export const HentBorgerDataRequest = z.object({ CPRNr: xmlCpr, AendretEfter: AendretEfter.optional() });

/** MODELLED batch read request: 1–100 repeated `CPRNr`. */
export const HentBorgerDataBatchRequest = batchReadRequestSchema(educationBatchRead);

export const HentAendringerRequest = z.object({ AendretEfter: AendretEfter.optional(), MaksAntal: xmlPositiveInteger.pipe(z.number().max(1000)) });

export const Aendring = z.object({
  CPRNr: xmlCpr,
  PostType: EducationRecordType,
  PostId: xmlText(100),
  Version: xmlPositiveInteger,
  SenestAendret: xmlDateTime,
});

/**
 * The change list reply (`HentAendringerResponse`): repeated `Aendring` and `FlereIndikator`. The
 * reply's shape is checked as a whole, each item on its own against `Aendring` (see
 * soap/change-list.ts), so one bad item is quarantined instead of stopping the feed.
 */
export const educationChangeList = {
  serviceName: 'Ungedatabasen',
  ...educationOperations.changes,
  afterElement: 'AendretEfter',
  limitElement: 'MaksAntal',
  itemElement: 'Aendring',
  moreElement: 'FlereIndikator',
  item: Aendring,
  fields: { cpr: 'CPRNr', recordType: 'PostType', recordId: 'PostId', version: 'Version', updatedAt: 'SenestAendret' },
  recordTypes: EducationRecordType.options,
} as const satisfies ChangeListSpec;

export const Kvittering = z.object({ PostId: xmlText(100), Version: xmlPositiveInteger, Dublet: xmlBoolean });

// ---------------------------------------------------------------------------------------------
// Push payloads: what the reverse mappings produce and `push` sends (typed values, strict keys)

/** `education-plan.update`: the goal, guide and next follow-up replace; activities upsert by id. */
export const EducationPlanUpdatePayload = z
  .strictObject({
    Uddannelsesmaal: Uddannelsesmaal.strict().optional(),
    PlanlagtAktivitet: z.array(PlanlagtAktivitet.partial({ AktivitetId: true }).strict()).default([]),
    Vejleder: Vejleder.strict().optional(),
    NaesteOpfoelgning: xmlOptionalDate,
  })
  .refine((p) => p.Uddannelsesmaal !== undefined || p.PlanlagtAktivitet.length > 0 || p.Vejleder !== undefined || p.NaesteOpfoelgning !== undefined, {
    message: 'an education-plan update changes at least one part',
  });
export type EducationPlanUpdatePayload = z.input<typeof EducationPlanUpdatePayload>;

/** `education-event.register`: without an UddannelsesforloebId (a new course) one is derived from the key. */
export const EducationEventPayload = z.strictObject({
  HaendelseKode: xmlCode,
  HaendelseDato: xmlDate,
  UddannelsesforloebId: xmlGuid.optional(),
  UddannelseKode: xmlCode,
  ForloebStartDato: xmlOptionalDate,
  Institution: Institution.strict(),
});
export type EducationEventPayload = z.input<typeof EducationEventPayload>;

/** The write requests as the simulator checks them. */
export const OpdaterUddannelsesplanRequest = z.object({
  CPRNr: xmlCpr,
  Uddannelsesmaal: xmlElement(Uddannelsesmaal).optional(),
  PlanlagtAktivitet: xmlList(PlanlagtAktivitet),
  Vejleder: xmlElement(Vejleder).optional(),
  NaesteOpfoelgning: xmlOptionalDate,
});
export const IndberetHaendelseRequest = z.object({
  CPRNr: xmlCpr,
  HaendelseKode: xmlCode,
  HaendelseDato: xmlDate,
  UddannelsesforloebId: xmlGuid,
  UddannelseKode: xmlCode,
  ForloebStartDato: xmlOptionalDate,
  Institution: xmlElement(Institution),
});

export const educationArrayElements = ['Uddannelsesplan', 'Haendelse', 'PlanlagtAktivitet', 'Aendring', 'BorgerData'] as const;
