/**
 * Synthetic native DFDG records for the simulator and the throughput benchmark, generated from the
 * shared synthetic population. A record is stored compactly (ids, version, change time) and its
 * XML content is generated on demand from (seed, citizen, record, version), so 50,000 citizens fit
 * in memory; what was written through `push` is stored as written.
 *
 * Who has what: a citizen has DFDG records only when `sectors.employment`; then 1–3 activities,
 * an employment plan (Min Plan), a rehabilitation process for about one in six, and — for
 * refugees — an integration contract.
 */
import { activationTypes, activityStatuses, rehabilitationProcessStatuses, rehabilitationProcessTypes } from '../../mappings/dfdg/code-lists';
import { generatePopulation, type SyntheticCitizen } from '../shared/population';
import { guidFrom, recordRandom } from '../soap/synthetic';
import type { FeedRecord } from '../soap/change-log';
import { renderXml, type XmlWritableObject } from '../soap/xml';
import { DFDG_NAMESPACE, dfdgRecordTypes, type DfdgRecordType } from './contract';

export interface DfdgStoredRecord extends FeedRecord {
  readonly recordType: DfdgRecordType;
  /** Index of the citizen in the population. */
  readonly citizen: number;
  readonly ordinal: number;
  /** Content written through push (without the record envelope); generated when absent. */
  written?: XmlWritableObject;
}

/** Dates are generated around this fixed day so output never depends on when it runs. */
const REFERENCE_DAY = Date.UTC(2026, 5, 1);
const DAY_MS = 86_400_000;
const WINDOW_START = Date.UTC(2025, 0, 1);
const WINDOW_MS = Date.UTC(2026, 5, 30) - WINDOW_START;

const TYPE_SALT: Record<DfdgRecordType, number> = { activity: 1, 'rehabilitation-process': 2, 'employment-plan': 3, 'integration-contract': 4 };

const pick = <T>(random: () => number, items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
const isoDate = (ms: number) => new Date(ms).toISOString().slice(0, 10);
const isoDateTime = (ms: number) => new Date(ms).toISOString();

const JOBCENTRE_NAMES: Record<string, string> = { '101': 'Jobcenter København', '751': 'Jobcenter Aarhus', '461': 'Jobcenter Odense', '851': 'Jobcenter Aalborg' };
export const jobcentreName = (code: string) => JOBCENTRE_NAMES[code] ?? `Jobcenter ${code}`;

const CASEWORKERS = ['Birgitte Holm', 'Kasper Lund', 'Aisha Rahimi', 'Henrik Bach', 'Louise Krogh', 'Morten Dahl', 'Yasmin Saleh', 'Trine Vestergaard'];
const EMPLOYERS = ['Netto, Valby', 'Bygma, Ishøj', 'Plejecenter Sølund', 'ISS Facility Services', 'Arla Foods', 'Kommunens Vej og Park', 'DSB Værksted', 'Lidl, Amager'];
const COURSES = ['truckcertifikat', 'hygiejnebevis', 'AMU lager og logistik', 'dansk på arbejdspladsen', 'IT-kursus for begyndere', 'kørekort kategori C'];
/** ISCO-08 unit groups (DISCO-08 builds on them): a public classification. */
const OCCUPATIONS: readonly (readonly [string, string])[] = [
  ['9333', 'Lagermedarbejder'],
  ['5322', 'Social- og sundhedshjælper'],
  ['8322', 'Chauffør'],
  ['5223', 'Butiksassistent'],
  ['5311', 'Pædagogmedhjælper'],
  ['9112', 'Rengøringsassistent'],
  ['5120', 'Kok'],
];
const JOB_SEARCH_AGREEMENTS = [
  'Søger mindst to relevante job om ugen og registrerer dem i joblog på Jobnet.',
  'Søger job inden for lager og logistik i hele Region Hovedstaden.',
  'Opdaterer CV på Jobnet og søger fire stillinger om måneden med hjælp fra mentor.',
];
const FOLLOW_UPS = ['Opfølgning på jobsøgning og praktik', 'Samtale om status i forløbet', 'Fælles samtale med virksomhedskonsulent'];

const employmentCodes = activationTypes.codes.filter((c) => c.sector === 'employment').map((c) => c.code);
const statusFor = (startMs: number, endMs: number | undefined, codes: { planned: string; active: string; ended: string }) =>
  startMs > REFERENCE_DAY ? codes.planned : endMs !== undefined && endMs < REFERENCE_DAY ? codes.ended : codes.active;
const ACTIVITY_STATUS = { planned: 'PLANLAGT', active: 'IGANG', ended: 'AFSLUTTET' };
const REHABILITATION_STATUS = { planned: 'OPRETTET', active: 'AKTIV', ended: 'AFSLUTTET' };
// Keep the status codes the generator emits in the code lists (a broken list fails at start-up).
for (const code of Object.values(ACTIVITY_STATUS)) if (!activityStatuses.has(code)) throw new Error(`activity status ${code} is not in the code list`);
for (const code of Object.values(REHABILITATION_STATUS)) if (!rehabilitationProcessStatuses.has(code)) throw new Error(`rehabilitation status ${code} is not in the code list`);

const authority = (citizen: SyntheticCitizen) => ({ AuthorityCode: citizen.municipality, AuthorityName: jobcentreName(citizen.municipality) });

/** Which DFDG records a citizen has from the start: their ids and first change times. */
export function initialDfdgRecords(citizen: SyntheticCitizen, seed: number): DfdgStoredRecord[] {
  if (!citizen.sectors.employment) return [];
  const random = recordRandom(seed, citizen.index, 0, 0);
  const records: DfdgStoredRecord[] = [];
  const add = (recordType: DfdgRecordType, ordinal: number) => {
    const ids = recordRandom(seed, citizen.index, TYPE_SALT[recordType], ordinal);
    records.push({
      recordType,
      citizen: citizen.index,
      ordinal,
      recordId: guidFrom(ids),
      version: 1 + Math.floor(random() * 3),
      updatedAtMs: WINDOW_START + Math.floor((random() * WINDOW_MS) / 1000) * 1000,
    });
  };
  const activities = 1 + Math.floor(random() * 3);
  for (let i = 0; i < activities; i++) add('activity', i);
  add('employment-plan', 0);
  if (random() < 0.17) add('rehabilitation-process', 0);
  if (citizen.refugee) add('integration-contract', 0);
  return records;
}

/** The content of an activity's ActivityCoreItem, in the contract's element order. */
export function activityCore(fields: {
  ActivityIdentifier: string;
  PersonCivilRegistrationIdentifier: string;
  ActivationTypeIdentifier: string;
  ActivityStatusIdentifier: string;
  ActivityName?: string;
  StartDate: string;
  EndDate?: string;
  HoursPerWeek?: number;
  ResponsibleAuthority: { AuthorityCode: string; AuthorityName?: string };
  ProviderIdentifier?: string;
  CaseworkerName?: string;
  CaseworkerPhone?: string;
}): XmlWritableObject {
  return {
    ActivityIdentifier: fields.ActivityIdentifier,
    PersonCivilRegistrationIdentifier: fields.PersonCivilRegistrationIdentifier,
    ActivationTypeIdentifier: fields.ActivationTypeIdentifier,
    ActivityStatusIdentifier: fields.ActivityStatusIdentifier,
    ActivityName: fields.ActivityName,
    StartDate: fields.StartDate,
    EndDate: fields.EndDate,
    HoursPerWeek: fields.HoursPerWeek,
    ResponsibleAuthority: { AuthorityCode: fields.ResponsibleAuthority.AuthorityCode, AuthorityName: fields.ResponsibleAuthority.AuthorityName },
    ProviderIdentifier: fields.ProviderIdentifier,
    CaseworkerName: fields.CaseworkerName,
    CaseworkerPhone: fields.CaseworkerPhone,
  };
}

function activityName(code: string, random: () => number): string {
  const display = activationTypes.lookup(code)?.display ?? code;
  if (code === 'VIRKPRAK' || code === 'LOENTILSK') return `${display} hos ${pick(random, EMPLOYERS)}`;
  if (code === 'VEJOPK') return `${display}: ${pick(random, COURSES)}`;
  return display;
}

function generatedActivity(citizen: SyntheticCitizen, record: DfdgStoredRecord, seed: number, code?: string): XmlWritableObject {
  const random = recordRandom(seed, citizen.index, TYPE_SALT.activity, record.ordinal + 100);
  const activationType = code ?? pick(random, employmentCodes);
  const start = WINDOW_START + Math.floor(random() * (WINDOW_MS / DAY_MS)) * DAY_MS;
  // A new version moves the end a week per edit: visible, deterministic change.
  const end = start + (8 + Math.floor(random() * 18)) * 7 * DAY_MS + (record.version - 1) * 7 * DAY_MS;
  const provider = activationType === 'VIRKPRAK' || activationType === 'LOENTILSK' ? String(10_000_000 + Math.floor(random() * 89_999_999)) : undefined;
  return activityCore({
    ActivityIdentifier: record.recordId,
    PersonCivilRegistrationIdentifier: citizen.cpr,
    ActivationTypeIdentifier: activationType,
    ActivityStatusIdentifier: statusFor(start, end, ACTIVITY_STATUS),
    ActivityName: activityName(activationType, random),
    StartDate: isoDate(start),
    EndDate: isoDate(end),
    HoursPerWeek: pick(random, [10, 15, 20, 25, 30, 37]),
    ResponsibleAuthority: authority(citizen),
    ProviderIdentifier: provider,
    CaseworkerName: pick(random, CASEWORKERS),
    CaseworkerPhone: `+45 ${String(30_000_000 + Math.floor(random() * 69_999_999))}`,
  });
}

function generatedPlan(citizen: SyntheticCitizen, record: DfdgStoredRecord, seed: number): XmlWritableObject {
  const random = recordRandom(seed, citizen.index, TYPE_SALT['employment-plan'], record.ordinal + 100);
  const created = WINDOW_START + Math.floor(random() * (WINDOW_MS / DAY_MS / 2)) * DAY_MS;
  const goals = 1 + Math.floor(random() * 2);
  const JobGoal = Array.from({ length: goals }, () => {
    const [code, text] = pick(random, OCCUPATIONS);
    return { JobGoalIdentifier: guidFrom(random), JobGoalText: text, OccupationCode: code, TargetDate: isoDate(created + (180 + Math.floor(random() * 180)) * DAY_MS) };
  });
  const JobSearchAgreement = [
    { JobSearchAgreementIdentifier: guidFrom(random), AgreementText: pick(random, JOB_SEARCH_AGREEMENTS), AgreedDate: isoDate(created), ApplicationsPerWeek: pick(random, [1, 2, 3]) },
  ];
  const FollowUp = Array.from({ length: 1 + Math.floor(random() * 2) }, (_, i) => {
    const due = created + (30 + i * 60 + Math.floor(random() * 20)) * DAY_MS + (record.version - 1) * 14 * DAY_MS;
    const done = due < REFERENCE_DAY;
    return {
      FollowUpIdentifier: guidFrom(random),
      FollowUpDate: isoDate(due),
      FollowUpText: pick(random, FOLLOW_UPS),
      FollowUpCompletedIndicator: done,
      FollowUpCompletedDateTime: done ? isoDateTime(due + 10 * 3_600_000) : undefined,
    };
  });
  return {
    MyPlanIdentifier: record.recordId,
    MyPlanVersionIdentifier: guidFrom(recordRandom(seed, citizen.index, 30 + record.version, record.ordinal)),
    PersonCivilRegistrationIdentifier: citizen.cpr,
    ResponsibleAuthority: authority(citizen),
    JobGoal,
    JobSearchAgreement,
    FollowUp,
    CreatedDateTime: isoDateTime(created),
  };
}

function generatedRehabilitation(citizen: SyntheticCitizen, record: DfdgStoredRecord, seed: number): XmlWritableObject {
  const random = recordRandom(seed, citizen.index, TYPE_SALT['rehabilitation-process'], record.ordinal + 100);
  const type = pick(random, rehabilitationProcessTypes.codes).code;
  const start = WINDOW_START + Math.floor(random() * (WINDOW_MS / DAY_MS)) * DAY_MS;
  const end = random() < 0.5 ? start + (52 + record.version * 4) * 7 * DAY_MS : undefined;
  return {
    RehabilitationProcessIdentifier: record.recordId,
    PersonCivilRegistrationIdentifier: citizen.cpr,
    RehabilitationProcessTypeIdentifier: type,
    RehabilitationProcessStatusIdentifier: statusFor(start, end, REHABILITATION_STATUS),
    StartDate: isoDate(start),
    EndDate: end === undefined ? undefined : isoDate(end),
    ResponsibleAuthority: authority(citizen),
    CoordinatingCaseworkerName: pick(random, CASEWORKERS),
    CreatedDateTime: isoDateTime(start - 14 * DAY_MS),
  };
}

function generatedIntegrationContract(citizen: SyntheticCitizen, record: DfdgStoredRecord, seed: number): XmlWritableObject {
  const random = recordRandom(seed, citizen.index, TYPE_SALT['integration-contract'], record.ordinal + 100);
  const start = WINDOW_START + Math.floor(random() * (WINDOW_MS / DAY_MS / 2)) * DAY_MS;
  const signed = random() < 0.85;
  const education = random() < 0.3;
  const [, occupation] = pick(random, OCCUPATIONS);
  const activity = (code: string, offsetDays: number, hours: number) => {
    const from = start + offsetDays * DAY_MS;
    const to = from + (26 + record.version) * 7 * DAY_MS;
    return {
      ProgrammeActivityIdentifier: guidFrom(random),
      ActivationTypeIdentifier: code,
      ActivityStatusIdentifier: statusFor(from, to, ACTIVITY_STATUS),
      ActivityName: activityName(code, random),
      StartDate: isoDate(from),
      EndDate: isoDate(to),
      HoursPerWeek: hours,
    };
  };
  return {
    IntegrationContractIdentifier: record.recordId,
    PersonCivilRegistrationIdentifier: citizen.cpr,
    ContractStartDate: isoDate(start),
    ContractEndDate: isoDate(start + 3 * 365 * DAY_MS),
    EmploymentGoalText: education ? undefined : `Ordinær beskæftigelse som ${occupation.toLowerCase()}`,
    EducationGoalText: education ? 'Optagelse på en erhvervsuddannelse (EUD)' : undefined,
    CitizenSignedDate: signed ? isoDate(start) : undefined,
    AuthoritySignedDate: signed ? isoDate(start + DAY_MS) : undefined,
    ProgrammeActivity: [activity('DANSK', 0, 15), activity(pick(random, ['VIRKPRAK', 'IGU', 'VEJOPK']), 28, 20)],
    ResponsibleAuthority: authority(citizen),
  };
}

/** The element content of a record without its envelope: as written, or generated. */
export function dfdgRecordBody(citizen: SyntheticCitizen, record: DfdgStoredRecord, seed: number): XmlWritableObject {
  if (record.written) return record.written;
  switch (record.recordType) {
    case 'activity':
      return { ActivityCoreItem: generatedActivity(citizen, record, seed) };
    case 'employment-plan':
      return generatedPlan(citizen, record, seed);
    case 'rehabilitation-process':
      return generatedRehabilitation(citizen, record, seed);
    case 'integration-contract':
      return generatedIntegrationContract(citizen, record, seed);
  }
}

/** The full record element content: body plus the record envelope (version, change time). */
export function dfdgRecordContent(citizen: SyntheticCitizen, record: DfdgStoredRecord, seed: number): XmlWritableObject {
  return { ...dfdgRecordBody(citizen, record, seed), RecordVersionIdentifier: record.version, RecordUpdatedDateTime: isoDateTime(record.updatedAtMs) };
}

export interface GeneratedDfdgRecord {
  recordType: DfdgRecordType;
  /** A standalone record document, e.g. `<ActivityItem xmlns="…">…</ActivityItem>`. */
  xml: string;
}

/**
 * Realistic native DFDG record documents for throughput benchmarks: `count` records of all four
 * types, in population order, deterministic for a seed. Lazy, so a million records need no memory.
 */
export function* generateDfdgRecordXml(count: number, options: { seed?: number } = {}): Generator<GeneratedDfdgRecord> {
  const seed = options.seed ?? 2026;
  // About 3.4 records per citizen in the population; generate citizens in chunks as needed.
  let produced = 0;
  for (let chunk = 0; produced < count; chunk++) {
    const citizens = generatePopulation(5_000, seed + chunk);
    for (const citizen of citizens) {
      const employed = citizen.sectors.employment ? citizen : { ...citizen, sectors: { ...citizen.sectors, employment: true } };
      for (const record of initialDfdgRecords(employed, seed + chunk)) {
        if (produced >= count) return;
        const element = dfdgRecordTypes[record.recordType].element;
        yield { recordType: record.recordType, xml: renderXml({ [element]: { '@xmlns': DFDG_NAMESPACE, ...dfdgRecordContent(employed, record, seed + chunk) } }) };
        produced++;
      }
    }
  }
}
