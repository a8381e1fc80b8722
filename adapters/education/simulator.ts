/**
 * An Ungedatabasen simulator: a real HTTP server speaking the modelled Ungedatabasen SOAP contract,
 * seeded from the shared synthetic population. It serves per-citizen reads (CPRNr in the body),
 * batch reads of up to 100 named young people (MODELLED, see contract.ts), a change list with
 * (timestamp, record id) cursors, education-plan updates and event registrations that are
 * idempotent per transaction id, and counts write effects per target record. Faults are
 * switchable at run time. Built for 50,000 citizens: records are small index entries, their XML
 * content is generated on demand.
 */
import type { z } from 'zod';
import { educationEventTypes, educationProgrammes, planActivityStatuses, planActivityTypes } from '../../mappings/education/code-lists';
import { generatePopulation, seededRandom, type SyntheticCitizen } from '../shared/population';
import { ChangeLog, changedAfter, InjectedChangeItems } from '../soap/change-log';
import type { SoapMessage } from '../soap/envelope';
import { describeIssues } from '../soap/records';
import { createWsSecurityVerifier, type WsSecurityVerifierOptions } from '../soap/ws-security-verify';
import { answerBatchRead, answerChangeList, SimulatedFault, startSoapSimulator, type SimulatorFaults, type SoapAnswer, type SoapSectorSimulator, type SoapSectorSimulatorOptions } from '../soap/simulator-kit';
import { guidFrom, textRandom } from '../soap/synthetic';
import { WriteLedger, type WriteReceipt } from '../soap/write-ledger';
import { renderXml, type XmlWritableObject } from '../soap/xml';
import {
  EDUCATION_NAMESPACE,
  educationBatchRead,
  educationChangeList,
  EducationRequestHeader,
  HentAendringerRequest,
  HentBorgerDataRequest,
  IndberetHaendelseRequest,
  OpdaterUddannelsesplanRequest,
  educationArrayElements,
  educationOperations,
  educationRecordTypes,
} from './contract';
import { educationRecordBody, educationRecordContent, initialEducationRecords, type EducationStoredRecord } from './records';

export type EducationSimulatorOptions = SoapSectorSimulatorOptions & {
  /** Require WS-Security as STIL's platform does: every request signed by one of these certificates. */
  wsSecurity?: WsSecurityVerifierOptions;
};
export type EducationSimulator = SoapSectorSimulator;

function parseOrFault<S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new SimulatedFault('1020', `${what}: ${describeIssues(parsed.error)}`);
  return parsed.data;
}

export async function startEducationSimulator(options: EducationSimulatorOptions = {}): Promise<EducationSimulator> {
  const seed = options.seed ?? 2026;
  const population = options.population ?? generatePopulation(options.size ?? 1_000, seed);
  const now = options.now ?? Date.now;

  let lastEventNumber = 0;
  const nextEventNumber = () => ++lastEventNumber;
  const citizenByCpr = new Map<string, SyntheticCitizen>();
  const recordsByCitizen = new Map<number, EducationStoredRecord[]>();
  const recordById = new Map<string, EducationStoredRecord>();
  for (const citizen of population) {
    if (!citizen.sectors.education) continue;
    const records = initialEducationRecords(citizen, seed, nextEventNumber);
    citizenByCpr.set(citizen.cpr, citizen);
    recordsByCitizen.set(citizen.index, records);
    for (const record of records) recordById.set(record.recordId, record);
  }
  const citizenByIndex = new Map(population.map((c) => [c.index, c]));
  const log = new ChangeLog<EducationStoredRecord>(recordById.values());
  const ledger = new WriteLedger();
  const injected = new Map<string, { element: string; content: XmlWritableObject | string }[]>();
  const injectedChanges = new InjectedChangeItems(educationChangeList.fields);
  const mutationDice = seededRandom(seed ^ 0xed0c);

  const knownCitizen = (cpr: string): SyntheticCitizen => {
    const citizen = citizenByCpr.get(cpr);
    if (!citizen) throw new SimulatedFault('1010', 'CPRNr er ukendt i Ungedatabasen');
    return citizen;
  };
  const citizenOf = (record: EducationStoredRecord) => citizenByIndex.get(record.citizen)!;
  const positionOf = (after: { SenestAendret: string; PostId: string } | undefined) =>
    after ? { updatedAtMs: Date.parse(after.SenestAendret), recordId: after.PostId } : null;
  const receipt = (operation: string, r: WriteReceipt): SoapAnswer => ({ operation, content: { PostId: r.targetId, Version: r.version, Dublet: r.duplicate } });

  function transactionOf(message: SoapMessage): string {
    const header = parseOrFault(EducationRequestHeader, message.header, 'SOAP header');
    const transactionId = header.Kaldskontekst.TransaktionsId;
    if (!transactionId) throw new SimulatedFault('1020', 'a write needs Kaldskontekst/TransaktionsId');
    return transactionId;
  }

  function applyWrite(transactionId: string, digest: string, operation: string, record: EducationStoredRecord, body: XmlWritableObject): WriteReceipt {
    const unchanged = record.version > 0 && renderXml(educationRecordBody(citizenOf(record), record, seed)) === renderXml(body);
    if (!unchanged)
      log.commit([record], now(), (r) => {
        r.written = body;
      });
    return ledger.applied(transactionId, digest, operation, record.recordId, record.version, !unchanged);
  }

  function addRecord(recordType: EducationStoredRecord['recordType'], citizen: SyntheticCitizen, recordId: string): EducationStoredRecord {
    const created: EducationStoredRecord = { recordType, citizen: citizen.index, ordinal: -1, recordId, version: 0, updatedAtMs: 0 };
    recordById.set(recordId, created);
    recordsByCitizen.get(citizen.index)!.push(created);
    return created;
  }

  /** One known young person's record elements (fault 1010 when unknown): what a read, single or batch, replies. */
  function personRecords(cpr: string, after: ReturnType<typeof positionOf>): Record<string, (XmlWritableObject | string)[]> {
    const citizen = knownCitizen(cpr);
    const content: Record<string, (XmlWritableObject | string)[]> = {};
    for (const record of recordsByCitizen.get(citizen.index) ?? []) {
      if (!changedAfter(record, after)) continue;
      (content[educationRecordTypes[record.recordType].element] ??= []).push(educationRecordContent(citizen, record, seed));
    }
    for (const extra of injected.get(citizen.cpr) ?? []) (content[extra.element] ??= []).push(extra.content);
    return content;
  }

  function read(message: SoapMessage): SoapAnswer {
    const request = parseOrFault(HentBorgerDataRequest, message.content, 'HentBorgerDataRequest');
    return { operation: educationOperations.read.response, content: personRecords(request.CPRNr, positionOf(request.AendretEfter)) };
  }

  function changes(message: SoapMessage): SoapAnswer {
    const request = parseOrFault(HentAendringerRequest, message.content, 'HentAendringerRequest');
    const page = injectedChanges.page(log, positionOf(request.AendretEfter), request.MaksAntal);
    return answerChangeList(educationChangeList, page, (record) => ({ cpr: citizenOf(record).cpr, recordType: record.recordType }));
  }

  function updatePlan(message: SoapMessage): SoapAnswer {
    const transactionId = transactionOf(message);
    const digest = renderXml(message.content as XmlWritableObject);
    const replay = ledger.replay(transactionId, digest);
    if (replay) return receipt(educationOperations.updatePlan.response, replay);
    const request = parseOrFault(OpdaterUddannelsesplanRequest, message.content, 'OpdaterUddannelsesplanRequest');
    const citizen = knownCitizen(request.CPRNr);
    if (request.Uddannelsesmaal && !educationProgrammes.has(request.Uddannelsesmaal.UddannelseKode)) throw new SimulatedFault('1030', 'UddannelseKode er ukendt');
    for (const activity of request.PlanlagtAktivitet) {
      if (!planActivityTypes.has(activity.AktivitetKode)) throw new SimulatedFault('1030', 'AktivitetKode er ukendt');
      if (!planActivityStatuses.has(activity.AktivitetStatus)) throw new SimulatedFault('1030', 'AktivitetStatus er ukendt');
    }
    const plan =
      (recordsByCitizen.get(citizen.index) ?? []).find((r) => r.recordType === 'education-plan') ??
      addRecord('education-plan', citizen, guidFrom(textRandom(`plan:${seed}:${citizen.index}`)));
    const current = (plan.version > 0 ? educationRecordBody(citizen, plan, seed) : {}) as Record<string, XmlWritableObject[keyof XmlWritableObject]>;
    const activities = (Array.isArray(current.PlanlagtAktivitet) ? [...current.PlanlagtAktivitet] : []) as XmlWritableObject[];
    for (const update of request.PlanlagtAktivitet) {
      const index = activities.findIndex((a) => a.AktivitetId === update.AktivitetId);
      if (index >= 0) activities[index] = update as XmlWritableObject;
      else activities.push(update as XmlWritableObject);
    }
    const body: XmlWritableObject = {
      UddannelsesplanId: plan.recordId,
      CPRNr: citizen.cpr,
      KommuneKode: (current.KommuneKode as string | undefined) ?? citizen.municipality,
      Uddannelsesmaal: (request.Uddannelsesmaal ?? current.Uddannelsesmaal) as XmlWritableObject | undefined,
      PlanlagtAktivitet: activities,
      Vejleder: (request.Vejleder ?? current.Vejleder) as XmlWritableObject | undefined,
      NaesteOpfoelgning: request.NaesteOpfoelgning ?? (current.NaesteOpfoelgning as string | undefined),
      Oprettet: (current.Oprettet as string | undefined) ?? new Date(now()).toISOString(),
    };
    if (body.Uddannelsesmaal === undefined) throw new SimulatedFault('1020', 'a new education plan needs Uddannelsesmaal');
    return receipt(educationOperations.updatePlan.response, applyWrite(transactionId, digest, 'education-plan.update', plan, body));
  }

  function registerEvent(message: SoapMessage): SoapAnswer {
    const transactionId = transactionOf(message);
    const digest = renderXml(message.content as XmlWritableObject);
    const replay = ledger.replay(transactionId, digest);
    if (replay) return receipt(educationOperations.registerEvent.response, replay);
    const request = parseOrFault(IndberetHaendelseRequest, message.content, 'IndberetHaendelseRequest');
    const citizen = knownCitizen(request.CPRNr);
    if (!educationEventTypes.has(request.HaendelseKode)) throw new SimulatedFault('1030', 'HaendelseKode er ukendt');
    if (!educationProgrammes.has(request.UddannelseKode)) throw new SimulatedFault('1030', 'UddannelseKode er ukendt');
    const fields = {
      CPRNr: citizen.cpr,
      HaendelseKode: request.HaendelseKode,
      HaendelseDato: request.HaendelseDato,
      UddannelsesforloebId: request.UddannelsesforloebId,
      UddannelseKode: request.UddannelseKode,
      ForloebStartDato: request.ForloebStartDato,
      Institution: { InstitutionsNummer: request.Institution.InstitutionsNummer, Navn: request.Institution.Navn },
    };
    // The same event of the same course on the same day is already registered: nothing to add.
    const same = (recordsByCitizen.get(citizen.index) ?? []).find((r) => {
      if (r.recordType !== 'education-event' || r.version === 0) return false;
      const held = educationRecordBody(citizen, r, seed);
      return held.UddannelsesforloebId === fields.UddannelsesforloebId && held.HaendelseKode === fields.HaendelseKode && held.HaendelseDato === fields.HaendelseDato;
    });
    if (same) return receipt(educationOperations.registerEvent.response, ledger.applied(transactionId, digest, 'education-event.register', same.recordId, same.version, false));
    const number = nextEventNumber();
    const record = addRecord('education-event', citizen, String(number));
    return receipt(
      educationOperations.registerEvent.response,
      applyWrite(transactionId, digest, 'education-event.register', record, { HaendelseNummer: number, ...fields }),
    );
  }

  function mutate(fraction: number): number {
    return log.commitSample([...recordById.values()].filter((r) => r.version > 0), fraction, mutationDice, now());
  }

  const server = await startSoapSimulator({
    name: 'Ungedatabasen',
    namespace: EDUCATION_NAMESPACE,
    arrayElements: educationArrayElements,
    port: options.port,
    faults: options.faults,
    faultSeed: seed,
    hangMs: options.hangMs,
    ...(options.wsSecurity ? { verifyRequest: createWsSecurityVerifier(options.wsSecurity) } : {}),
    handle(message) {
      parseOrFault(EducationRequestHeader, message.header, 'SOAP header (Kaldskontekst)');
      switch (message.operation) {
        case educationOperations.read.request:
          return read(message);
        case educationOperations.batchRead.request:
          return answerBatchRead(educationBatchRead, message, (cpr, after) => personRecords(cpr, positionOf(after as Parameters<typeof positionOf>[0])));
        case educationOperations.changes.request:
          return changes(message);
        case educationOperations.updatePlan.request:
          return updatePlan(message);
        case educationOperations.registerEvent.request:
          return registerEvent(message);
        case educationOperations.status.request:
          return { operation: educationOperations.status.response, content: { Status: 'OK', AntalPoster: log.size } };
        default:
          throw new SimulatedFault('1020', `unknown operation ${message.operation.slice(0, 60)}`);
      }
    },
    mutate,
    effects: () => ledger.effectCounts(),
  });

  return {
    ...server,
    population,
    mutate,
    effectCounts: () => ledger.effectCounts(),
    writeLog: () => ledger.writeLog(),
    recordCount: () => [...recordById.values()].filter((r) => r.version > 0).length,
    knownCitizens: () => [...citizenByCpr.values()],
    injectRecord(cpr, element, content) {
      const list = injected.get(cpr) ?? [];
      list.push({ element, content });
      injected.set(cpr, list);
    },
    injectChangeItem: (content, at) => injectedChanges.add(content, at),
  };
}
