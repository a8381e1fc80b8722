/**
 * Synthetic native Ungedatabasen records for the simulator and the throughput benchmark, generated
 * from the shared synthetic population. Records are stored compactly and their content generated
 * on demand from (seed, citizen, record, version); what was written through `push` is stored as
 * written.
 *
 * Who has what: a citizen has records only when `sectors.education`; then one education plan and
 * one or two courses (uddannelsesforløb), each with one to three events (optaget → påbegyndt →
 * afbrudt or fuldført). Event numbers (HaendelseNummer) are one running sequence.
 */
import { educationEventTypes, educationProgrammes, planActivityStatuses, planActivityTypes } from '../../mappings/education/code-lists';
import { generatePopulation, type SyntheticCitizen } from '../shared/population';
import type { FeedRecord } from '../soap/change-log';
import { renderXml, type XmlWritableObject } from '../soap/xml';
import { guidFrom, recordRandom } from '../soap/synthetic';
import { EDUCATION_NAMESPACE, educationRecordTypes, type EducationRecordType } from './contract';

export interface EducationStoredRecord extends FeedRecord {
  readonly recordType: EducationRecordType;
  readonly citizen: number;
  /** For events: course × 10 + event index within the course. */
  readonly ordinal: number;
  written?: XmlWritableObject;
}

const REFERENCE_DAY = Date.UTC(2026, 5, 1);
const DAY_MS = 86_400_000;
const WINDOW_START = Date.UTC(2025, 0, 1);
const WINDOW_MS = Date.UTC(2026, 5, 30) - WINDOW_START;
const PLAN_SALT = 11;
const COURSE_SALT = 12;

const pick = <T>(random: () => number, items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
const isoDate = (ms: number) => new Date(ms).toISOString().slice(0, 10);
const isoDateTime = (ms: number) => new Date(ms).toISOString();

/** Institutions by the programmes they offer. Numbers are MODELLED six-digit institution numbers. */
const INSTITUTIONS: readonly { number: string; name: string; programmes: readonly string[] }[] = [
  { number: '101412', name: 'Københavns Tekniske Skole', programmes: ['EUD', 'EUX'] },
  { number: '101455', name: 'NEXT Uddannelse København', programmes: ['EUD', 'EUX', 'HTX'] },
  { number: '101520', name: 'FGU Hovedstaden', programmes: ['FGU'] },
  { number: '101137', name: 'Niels Brock', programmes: ['HHX', 'EUD'] },
  { number: '159021', name: 'Gladsaxe Gymnasium', programmes: ['STX', 'HF'] },
  { number: '101980', name: 'Københavns Kommunes 10. klasse-center', programmes: ['KL10'] },
  { number: '101733', name: 'STU København', programmes: ['STU'] },
];
const GUIDES = ['Sara Mikkelsen', 'Jonas Frost', 'Leila Haddad', 'Rasmus Kjær', 'Camilla Juhl'];
const ACTIVITY_TEXTS: Record<string, string> = {
  VEJLEDNING: 'Samtaler om valg af ungdomsuddannelse',
  BROBYGNING: 'Brobygningsforløb på erhvervsskole',
  MENTOR: 'Mentor en gang om ugen',
  PRAKTIK: 'Erhvervspraktik i lokal virksomhed',
  JOB: 'Fritidsjob i supermarked',
  SOCIAL: 'Støtte fra socialforvaltningen til bolig og økonomi',
};
const ungeindsats = (code: string) => (code === '101' ? 'Ungeindsatsen København' : `Ungeindsatsen (kommune ${code})`);

for (const code of ['OPTAGET', 'PAABEGYNDT', 'AFBRUDT', 'FULDFOERT']) if (!educationEventTypes.has(code)) throw new Error(`event type ${code} is not in the code list`);
for (const code of ['PLANLAGT', 'IGANG', 'AFSLUTTET']) if (!planActivityStatuses.has(code)) throw new Error(`activity status ${code} is not in the code list`);

/** The records a citizen has from the start. `nextEventNumber` hands out HaendelseNummer. */
export function initialEducationRecords(citizen: SyntheticCitizen, seed: number, nextEventNumber: () => number): EducationStoredRecord[] {
  if (!citizen.sectors.education) return [];
  const random = recordRandom(seed, citizen.index, 10, 0);
  const stamp = () => WINDOW_START + Math.floor((random() * WINDOW_MS) / 1000) * 1000;
  const records: EducationStoredRecord[] = [
    { recordType: 'education-plan', citizen: citizen.index, ordinal: 0, recordId: guidFrom(recordRandom(seed, citizen.index, PLAN_SALT, 0)), version: 1 + Math.floor(random() * 3), updatedAtMs: stamp() },
  ];
  const courses = 1 + Math.floor(random() * 2);
  for (let course = 0; course < courses; course++) {
    const events = 1 + Math.floor(random() * 3);
    // A course's events are registered in the order they happen.
    const stamps = Array.from({ length: events }, stamp).sort((a, b) => a - b);
    for (let event = 0; event < events; event++)
      records.push({ recordType: 'education-event', citizen: citizen.index, ordinal: course * 10 + event, recordId: String(nextEventNumber()), version: 1, updatedAtMs: stamps[event]! });
  }
  return records;
}

function generatedPlan(citizen: SyntheticCitizen, record: EducationStoredRecord, seed: number): XmlWritableObject {
  const random = recordRandom(seed, citizen.index, PLAN_SALT, 100);
  const created = WINDOW_START + Math.floor(random() * (WINDOW_MS / DAY_MS / 2)) * DAY_MS;
  const programme = pick(random, educationProgrammes.codes);
  const activities = 1 + Math.floor(random() * 3);
  return {
    UddannelsesplanId: record.recordId,
    CPRNr: citizen.cpr,
    KommuneKode: citizen.municipality,
    Uddannelsesmaal: {
      UddannelseKode: programme.code,
      Beskrivelse: `Gennemføre ${programme.display.toLowerCase()}`,
      ForventetStartDato: isoDate(created + (120 + Math.floor(random() * 200)) * DAY_MS),
    },
    PlanlagtAktivitet: Array.from({ length: activities }, (_, i) => {
      const code = pick(random, planActivityTypes.codes).code;
      const start = created + (14 + i * 45) * DAY_MS;
      const end = start + (6 + Math.floor(random() * 20)) * 7 * DAY_MS;
      return {
        AktivitetId: guidFrom(random),
        AktivitetKode: code,
        AktivitetStatus: start > REFERENCE_DAY ? 'PLANLAGT' : end < REFERENCE_DAY ? 'AFSLUTTET' : 'IGANG',
        Beskrivelse: ACTIVITY_TEXTS[code],
        StartDato: isoDate(start),
        SlutDato: isoDate(end),
        TimerPrUge: code === 'MENTOR' || code === 'VEJLEDNING' ? 1 + Math.floor(random() * 3) : 10 + Math.floor(random() * 20),
      };
    }),
    Vejleder: {
      Navn: pick(random, GUIDES),
      Enhed: ungeindsats(citizen.municipality),
      Telefon: `+45 ${String(30_000_000 + Math.floor(random() * 69_999_999))}`,
      Email: `ungeindsats${citizen.municipality}@kommune.example`,
    },
    // A new version moves the next follow-up a fortnight per edit: visible, deterministic change.
    NaesteOpfoelgning: isoDate(REFERENCE_DAY + (14 + Math.floor(random() * 60) + (record.version - 1) * 14) * DAY_MS),
    Oprettet: isoDateTime(created),
  };
}

const EVENT_SEQUENCE = ['OPTAGET', 'PAABEGYNDT'] as const;

function generatedEvent(citizen: SyntheticCitizen, record: EducationStoredRecord, seed: number): XmlWritableObject {
  const course = Math.floor(record.ordinal / 10);
  const step = record.ordinal % 10;
  const random = recordRandom(seed, citizen.index, COURSE_SALT, course);
  const institution = pick(random, INSTITUTIONS);
  const programme = pick(random, institution.programmes);
  const start = WINDOW_START + Math.floor(random() * (WINDOW_MS / DAY_MS)) * DAY_MS;
  const completed = random() < 0.5;
  const code = EVENT_SEQUENCE[step] ?? (completed ? 'FULDFOERT' : 'AFBRUDT');
  const date = step === 0 ? start - 45 * DAY_MS : step === 1 ? start : start + (60 + Math.floor(random() * 300)) * DAY_MS;
  return {
    HaendelseNummer: Number(record.recordId),
    CPRNr: citizen.cpr,
    HaendelseKode: code,
    // A corrected event (new version) moves its date a day per correction.
    HaendelseDato: isoDate(date + (record.version - 1) * DAY_MS),
    UddannelsesforloebId: guidFrom(random),
    UddannelseKode: programme,
    ForloebStartDato: isoDate(start),
    Institution: { InstitutionsNummer: institution.number, Navn: institution.name },
  };
}

export function educationRecordBody(citizen: SyntheticCitizen, record: EducationStoredRecord, seed: number): XmlWritableObject {
  if (record.written) return record.written;
  return record.recordType === 'education-plan' ? generatedPlan(citizen, record, seed) : generatedEvent(citizen, record, seed);
}

export function educationRecordContent(citizen: SyntheticCitizen, record: EducationStoredRecord, seed: number): XmlWritableObject {
  return { ...educationRecordBody(citizen, record, seed), Version: record.version, SenestAendret: isoDateTime(record.updatedAtMs) };
}

export interface GeneratedEducationRecord {
  recordType: EducationRecordType;
  /** A standalone record document, e.g. `<Haendelse xmlns="…">…</Haendelse>`. */
  xml: string;
}

/** Realistic native Ungedatabasen record documents for throughput benchmarks; lazy and deterministic. */
export function* generateEducationRecordXml(count: number, options: { seed?: number } = {}): Generator<GeneratedEducationRecord> {
  const seed = options.seed ?? 2026;
  let eventNumber = 0;
  let produced = 0;
  for (let chunk = 0; produced < count; chunk++) {
    for (const citizen of generatePopulation(5_000, seed + chunk)) {
      const student = citizen.sectors.education ? citizen : { ...citizen, sectors: { ...citizen.sectors, education: true } };
      for (const record of initialEducationRecords(student, seed + chunk, () => ++eventNumber)) {
        if (produced >= count) return;
        const element = educationRecordTypes[record.recordType].element;
        yield { recordType: record.recordType, xml: renderXml({ [element]: { '@xmlns': EDUCATION_NAMESPACE, ...educationRecordContent(student, record, seed + chunk) } }) };
        produced++;
      }
    }
  }
}
