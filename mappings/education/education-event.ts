/**
 * education.event: an education event (hændelse) says where a young person's course
 * (uddannelsesforløb) stands. All events of one course map onto ONE intervention,
 * `education:course:<UddannelsesforloebId>`, so the plan shows the course once with its current
 * status: each fragment carries the event's place (`sequence`: event date, then event number), and
 * the merge keeps the latest event's content whatever order the events are read in.
 *
 * Unknown codes: an unknown programme is MAPPED ("ukendt kode", legal basis falls back to KUI,
 * reported). An unknown EVENT TYPE fails the record (rule `event.type`): the event type is what
 * sets the course's status, and guessing it would misstate whether the young person is in
 * education.
 */
import type { Mapping } from '../mapping';
import { Haendelse } from '../../adapters/education/contract';
import { MappingRun, UNKNOWN_CODE_DISPLAY } from '../../adapters/soap/mapping-support';
import { educationEventTypes, educationProgrammes } from './code-lists';
import { MAPPING_VERSION } from './education-plan';

/** Legal basis when the programme is unknown: the act under which the municipality follows up. */
export const FALLBACK_EDUCATION_BASIS = 'KUI';

const consumed = new Set([
  'HaendelseNummer',
  'CPRNr',
  'HaendelseKode',
  'HaendelseDato',
  'UddannelsesforloebId',
  'UddannelseKode',
  'ForloebStartDato',
  'Institution.InstitutionsNummer',
  'Institution.Navn',
  'Version',
  'SenestAendret',
]);

export const educationEventMapping: Mapping<Haendelse> = {
  id: 'education.event',
  version: MAPPING_VERSION,
  adapter: 'education',
  recordType: 'education-event',
  description: 'An education event (admission, start, dropout, completion, withdrawal) as the state of the course it belongs to.',
  sourceSchema: Haendelse,
  rules: [
    { id: 'event.course', source: 'UddannelsesforloebId', target: 'elementId', description: '`education:course:<UddannelsesforloebId>`: one intervention per course' },
    { id: 'event.type', source: 'HaendelseKode', target: 'intervention.status, topics', description: 'Looked up in the event types; dropout/completion add a topic; unknown → the record fails' },
    { id: 'event.programme', source: 'UddannelseKode', target: 'intervention.type, legalBasis, title', description: 'Looked up in the programmes; unknown → "ukendt kode", basis KUI, reported' },
    { id: 'event.period', source: 'ForloebStartDato, HaendelseDato', target: 'intervention.period', description: 'Start of the course (else the event date); an ended course ends on the event date' },
    { id: 'event.institution', source: 'Institution', target: 'intervention.responsibleUnit, contact, providerId', description: 'The institution runs the course' },
  ],
  codeLists: [educationProgrammes.ref, educationEventTypes.ref],
  map(event) {
    const run = new MappingRun();
    const eventType = educationEventTypes.lookup(event.HaendelseKode);
    if (!eventType) run.unknownCode(educationEventTypes.system, event.HaendelseKode);
    const programme = educationProgrammes.lookup(event.UddannelseKode);
    if (!programme) run.unknownCode(educationProgrammes.system, event.UddannelseKode);
    run.ignoreUnread(event, consumed);
    if (!eventType) return run.fail('event.type', `unknown event type ${event.HaendelseKode}`);
    const start = event.ForloebStartDato ?? event.HaendelseDato;
    // A course that ended ends on the event date; one withdrawn before start never ran and has no end.
    const closes = eventType.status === 'ended';
    if (closes && event.HaendelseDato < start) return run.fail('event.period', 'the course ends before it starts');
    const display = programme?.display ?? UNKNOWN_CODE_DISPLAY;
    const institution = event.Institution.Navn ?? `Institution ${event.Institution.InstitutionsNummer}`;
    return run.finish([
      {
        kind: 'intervention',
        elementId: `education:course:${event.UddannelsesforloebId}`,
        category: 'education',
        // The course is where its latest event left it: by event date, then the feed's event number.
        sequence: `${event.HaendelseDato}#${String(event.HaendelseNummer).padStart(12, '0')}`,
        content: {
          sector: 'education',
          legalBasis: programme?.legalBasis ?? FALLBACK_EDUCATION_BASIS,
          type: { system: educationProgrammes.system, code: event.UddannelseKode, display },
          title: `${display}, ${institution}`,
          responsibleUnit: institution,
          contact: { name: institution, unit: institution },
          period: { start, end: closes ? event.HaendelseDato : undefined },
          order: 0,
          status: eventType.status,
          providerId: event.Institution.InstitutionsNummer,
          topics: eventType.topic ? [eventType.topic] : [],
        },
      },
    ]);
  },
};
