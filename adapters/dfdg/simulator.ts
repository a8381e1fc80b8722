/**
 * A DFDG simulator: a real HTTP server speaking the modelled DFDG SOAP contract, seeded from the
 * shared synthetic population. It serves per-citizen reads (CPR in the body), batch reads of up to
 * 100 named citizens (MODELLED, see contract.ts), a change list with (timestamp, record id)
 * cursors, and writes that are idempotent per transaction id; it counts the effects of writes per
 * target record so tests can assert exactly-once in effect. Faults
 * (errors, latency, timeouts, malformed replies) are switchable at run time.
 *
 * Built for 50,000 citizens: records are kept as small index entries and their XML content is
 * generated on demand (see records.ts).
 */
import type { z } from 'zod';
import { activationTypes, activityStatuses } from '../../mappings/dfdg/code-lists';
import { generatePopulation, seededRandom, type SyntheticCitizen } from '../shared/population';
import { ChangeLog, changedAfter, InjectedChangeItems } from '../soap/change-log';
import type { SoapMessage } from '../soap/envelope';
import { describeIssues } from '../soap/records';
import { answerBatchRead, answerChangeList, SimulatedFault, startSoapSimulator, type SimulatorFaults, type SoapAnswer, type SoapSectorSimulator, type SoapSectorSimulatorOptions } from '../soap/simulator-kit';
import { guidFrom, textRandom } from '../soap/synthetic';
import { WriteLedger, type WriteReceipt } from '../soap/write-ledger';
import { renderXml, type XmlObject, type XmlWritableObject } from '../soap/xml';
import {
  ActivityWriteRequest,
  ChangeListReadRequest,
  DFDG_NAMESPACE,
  dfdgBatchRead,
  dfdgChangeList,
  DfdgRequestHeader,
  dfdgArrayElements,
  dfdgOperations,
  dfdgRecordTypes,
  MyPlanWriteRequest,
  PersonPlanDataReadRequest,
  type DfdgRecordType,
} from './contract';
import { activityCore, dfdgRecordBody, dfdgRecordContent, initialDfdgRecords, type DfdgStoredRecord } from './records';

export type DfdgSimulatorOptions = SoapSectorSimulatorOptions;
export type DfdgSimulator = SoapSectorSimulator;

type Parsed<S extends z.ZodType> = z.output<S>;

function parseOrFault<S extends z.ZodType>(schema: S, value: unknown, what: string): Parsed<S> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new SimulatedFault('1020', `${what}: ${describeIssues(parsed.error)}`);
  return parsed.data;
}

export async function startDfdgSimulator(options: DfdgSimulatorOptions = {}): Promise<DfdgSimulator> {
  const seed = options.seed ?? 2026;
  const population = options.population ?? generatePopulation(options.size ?? 1_000, seed);
  const now = options.now ?? Date.now;

  const citizenByCpr = new Map<string, SyntheticCitizen>();
  const recordsByCitizen = new Map<number, DfdgStoredRecord[]>();
  const recordById = new Map<string, DfdgStoredRecord>();
  for (const citizen of population) {
    if (!citizen.sectors.employment) continue;
    const records = initialDfdgRecords(citizen, seed);
    citizenByCpr.set(citizen.cpr, citizen);
    recordsByCitizen.set(citizen.index, records);
    for (const record of records) recordById.set(record.recordId, record);
  }
  const citizenByIndex = new Map(population.map((c) => [c.index, c]));
  const log = new ChangeLog<DfdgStoredRecord>(recordById.values());
  const ledger = new WriteLedger();
  const injected = new Map<string, { element: string; content: XmlWritableObject | string }[]>();
  const injectedChanges = new InjectedChangeItems(dfdgChangeList.fields);
  const mutationDice = seededRandom(seed ^ 0x5eed);

  const knownCitizen = (cpr: string): SyntheticCitizen => {
    const citizen = citizenByCpr.get(cpr);
    if (!citizen) throw new SimulatedFault('1010', 'PersonCivilRegistrationIdentifier er ukendt i DFDG');
    return citizen;
  };
  const citizenOf = (record: DfdgStoredRecord) => citizenByIndex.get(record.citizen)!;

  const positionOf = (changedAfterElement: { RecordUpdatedDateTime: string; RecordIdentifier: string } | undefined) =>
    changedAfterElement ? { updatedAtMs: Date.parse(changedAfterElement.RecordUpdatedDateTime), recordId: changedAfterElement.RecordIdentifier } : null;

  /** One known citizen's record elements (fault 1010 when unknown): what a read, single or batch, replies. */
  function personRecords(cpr: string, after: ReturnType<typeof positionOf>): Record<string, (XmlWritableObject | string)[]> {
    const citizen = knownCitizen(cpr);
    const content: Record<string, (XmlWritableObject | string)[]> = {};
    for (const record of recordsByCitizen.get(citizen.index) ?? []) {
      if (!changedAfter(record, after)) continue;
      const element = dfdgRecordTypes[record.recordType].element;
      (content[element] ??= []).push(dfdgRecordContent(citizen, record, seed));
    }
    for (const extra of injected.get(citizen.cpr) ?? []) (content[extra.element] ??= []).push(extra.content);
    return content;
  }

  function read(message: SoapMessage): SoapAnswer {
    const request = parseOrFault(PersonPlanDataReadRequest, message.content, 'PersonPlanDataReadRequest');
    return { operation: dfdgOperations.read.response, content: personRecords(request.PersonCivilRegistrationIdentifier, positionOf(request.ChangedAfter)) };
  }

  function changes(message: SoapMessage): SoapAnswer {
    const request = parseOrFault(ChangeListReadRequest, message.content, 'ChangeListReadRequest');
    const page = injectedChanges.page(log, positionOf(request.ChangedAfter), request.MaximumCount);
    return answerChangeList(dfdgChangeList, page, (record) => ({ cpr: citizenOf(record).cpr, recordType: record.recordType }));
  }

  const receipt = (operation: string, r: WriteReceipt): SoapAnswer => ({
    operation,
    content: { RecordIdentifier: r.targetId, RecordVersionIdentifier: r.version, DuplicateIndicator: r.duplicate },
  });

  /** Apply a write to a record unless it holds that content already; remember the transaction. */
  function applyWrite(transactionId: string, digest: string, operation: string, record: DfdgStoredRecord, body: XmlWritableObject): WriteReceipt {
    const citizen = citizenOf(record);
    const unchanged = record.version > 0 && renderXml(dfdgRecordBody(citizen, record, seed)) === renderXml(body);
    if (!unchanged)
      log.commit([record], now(), (r) => {
        r.written = body;
      });
    return ledger.applied(transactionId, digest, operation, record.recordId, record.version, !unchanged);
  }

  function transactionOf(message: SoapMessage): string {
    const header = parseOrFault(DfdgRequestHeader, message.header, 'SOAP header');
    const transactionId = header.RequestUserMetadata.TransactionIdentifier;
    if (!transactionId) throw new SimulatedFault('1020', 'a write needs RequestUserMetadata/TransactionIdentifier');
    return transactionId;
  }

  function ensureRecord(recordType: DfdgRecordType, citizen: SyntheticCitizen, recordId: string): DfdgStoredRecord {
    const existing = recordById.get(recordId);
    if (existing) {
      if (existing.citizen !== citizen.index || existing.recordType !== recordType)
        throw new SimulatedFault('1020', 'the identifier belongs to another record');
      return existing;
    }
    const created: DfdgStoredRecord = { recordType, citizen: citizen.index, ordinal: -1, recordId, version: 0, updatedAtMs: 0 };
    recordById.set(recordId, created);
    recordsByCitizen.get(citizen.index)!.push(created);
    return created;
  }

  function writeActivity(message: SoapMessage): SoapAnswer {
    const transactionId = transactionOf(message);
    const digest = renderXml(message.content as XmlWritableObject);
    const replay = ledger.replay(transactionId, digest);
    if (replay) return receipt(dfdgOperations.writeActivity.response, replay);
    const core = parseOrFault(ActivityWriteRequest, message.content, 'ActivityWriteRequest').ActivityCoreItem;
    const citizen = knownCitizen(core.PersonCivilRegistrationIdentifier);
    if (!activationTypes.has(core.ActivationTypeIdentifier)) throw new SimulatedFault('1030', 'ActivationTypeIdentifier er ukendt');
    if (!activityStatuses.has(core.ActivityStatusIdentifier)) throw new SimulatedFault('1030', 'ActivityStatusIdentifier er ukendt');
    const record = ensureRecord('activity', citizen, core.ActivityIdentifier);
    const body = { ActivityCoreItem: activityCore(core) };
    return receipt(dfdgOperations.writeActivity.response, applyWrite(transactionId, digest, 'activity.upsert', record, body));
  }

  function writePlan(message: SoapMessage): SoapAnswer {
    const transactionId = transactionOf(message);
    const digest = renderXml(message.content as XmlWritableObject);
    const replay = ledger.replay(transactionId, digest);
    if (replay) return receipt(dfdgOperations.writePlan.response, replay);
    const request = parseOrFault(MyPlanWriteRequest, message.content, 'MyPlanWriteRequest');
    const citizen = knownCitizen(request.PersonCivilRegistrationIdentifier);
    let plan = (recordsByCitizen.get(citizen.index) ?? []).find((r) => r.recordType === 'employment-plan');
    if (!plan) plan = ensureRecord('employment-plan', citizen, guidFrom(textRandom(`plan:${seed}:${citizen.index}`)));
    const current = (plan.version > 0 ? dfdgRecordBody(citizen, plan, seed) : {}) as XmlObject & Record<string, unknown>;
    const upsert = <T extends Record<string, unknown>>(items: unknown, updates: T[], key: keyof T & string): T[] => {
      const list = (Array.isArray(items) ? [...items] : []) as T[];
      for (const update of updates) {
        const index = list.findIndex((item) => item[key] === update[key]);
        if (index >= 0) list[index] = update;
        else list.push(update);
      }
      return list;
    };
    const body: XmlWritableObject = {
      MyPlanIdentifier: plan.recordId,
      // A new plan version per write, named after the transaction that made it.
      MyPlanVersionIdentifier: guidFrom(textRandom(transactionId)),
      PersonCivilRegistrationIdentifier: citizen.cpr,
      ResponsibleAuthority: (request.ResponsibleAuthority ?? current.ResponsibleAuthority ?? { AuthorityCode: citizen.municipality }) as XmlWritableObject,
      JobGoal: upsert(current.JobGoal, request.JobGoal, 'JobGoalIdentifier') as XmlWritableObject[],
      JobSearchAgreement: upsert(current.JobSearchAgreement, request.JobSearchAgreement, 'JobSearchAgreementIdentifier') as XmlWritableObject[],
      FollowUp: upsert(current.FollowUp, request.FollowUp, 'FollowUpIdentifier') as XmlWritableObject[],
      CreatedDateTime: (current.CreatedDateTime as string | undefined) ?? new Date(now()).toISOString(),
    };
    return receipt(dfdgOperations.writePlan.response, applyWrite(transactionId, digest, 'employment-plan.update', plan, body));
  }

  const server = await startSoapSimulator({
    name: 'DFDG',
    namespace: DFDG_NAMESPACE,
    arrayElements: dfdgArrayElements,
    port: options.port,
    faults: options.faults,
    faultSeed: seed,
    hangMs: options.hangMs,
    handle(message) {
      // STAR requires the metadata headers on every call, not only on writes.
      parseOrFault(DfdgRequestHeader, message.header, 'SOAP header (ActiveOrganisation, RequestUserMetadata)');
      switch (message.operation) {
        case dfdgOperations.read.request:
          return read(message);
        case dfdgOperations.batchRead.request:
          return answerBatchRead(dfdgBatchRead, message, (cpr, after) => personRecords(cpr, positionOf(after as Parameters<typeof positionOf>[0])));
        case dfdgOperations.changes.request:
          return changes(message);
        case dfdgOperations.writeActivity.request:
          return writeActivity(message);
        case dfdgOperations.writePlan.request:
          return writePlan(message);
        case dfdgOperations.status.request:
          return { operation: dfdgOperations.status.response, content: { ServiceStatusCode: 'OK', RecordCount: log.size } };
        default:
          throw new SimulatedFault('1020', `unknown operation ${message.operation.slice(0, 60)}`);
      }
    },
    mutate,
    effects: () => ledger.effectCounts(),
  });

  function mutate(fraction: number): number {
    return log.commitSample([...recordById.values()].filter((r) => r.version > 0), fraction, mutationDice, now());
  }

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
