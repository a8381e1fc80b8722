/**
 * The DFDG adapter (employment, STAR's Det Fælles Datagrundlag) behind the SourceAdapter contract:
 * SOAP 1.1 with STAR's metadata headers (`ActiveOrganisation`, `RequestUserMetadata`), per-citizen
 * reads with the CPR in the body (and MODELLED batch reads of up to 100 citizens), a change list
 * with opaque cursors, and idempotent writes whose identifiers (ActivityIdentifier,
 * TransactionIdentifier) are derived from the idempotency key.
 */
import { z } from 'zod';
import { AdapterError, type PushOperation, type PushReceipt, type SourceAdapter } from '../adapter';
import { Cpr } from '../../src/model/cpr';
import { deterministicUuid } from '../soap/identifiers';
import { createRecordDocumentReader, describeIssues, type DecodedRecord } from '../soap/records';
import { createSoapReadSide } from '../soap/read-side';
import { createSoapTransport } from '../soap/transport';
import type { XmlWritableObject } from '../soap/xml';
import {
  ActivityUpsertPayload,
  DFDG_NAMESPACE,
  dfdgChangeList,
  dfdgBatchRead,
  DfdgPushOperation,
  DfdgRecordType,
  dfdgArrayElements,
  dfdgOperations,
  dfdgRecordTypes,
  EmploymentPlanUpdatePayload,
  WriteResponse,
} from './contract';

export interface DfdgAdapterOptions {
  /** The DFDG SOAP endpoint (for the simulator: its handle's `url`). */
  baseUrl: string;
  timeoutMs?: number;
  /** Who is calling, sent as the `ActiveOrganisation` header (e.g. kommune / 101). */
  organisation: { typeIdentifier: string; code: string };
  /** `RequestUserMetadata/UserIdentifier`: the system user; default "enplan-integration". */
  userIdentifier?: string;
  /** Change items per page when `changes` gets no limit; default 500, at most 1000. */
  pageSize?: number;
  maxResponseBytes?: number;
  fetch?: typeof fetch;
  /** undici Dispatcher for mutual TLS with the function certificate (FOCES). */
  dispatcher?: unknown;
}

export interface DfdgAdapter extends SourceAdapter {
  pullMany: NonNullable<SourceAdapter['pullMany']>;
  /** Read one standalone DFDG record document (e.g. delivered by an event); never throws. */
  readRecordXml(xml: string): DecodedRecord;
}

/** Namespace of the name-based UUIDs this adapter derives (fixed: changing it changes every id). */
export const DFDG_ID_NAMESPACE = '5d3e2a0c-8f41-4b7e-9c52-1a6f0d9b3e27';

const recordTypeList = Object.values(dfdgRecordTypes);
const recordDocuments = createRecordDocumentReader(recordTypeList, dfdgArrayElements);

/** Read a standalone DFDG record document without an adapter instance (benchmarks, webhooks). */
export const readDfdgRecordXml = (xml: string): DecodedRecord => recordDocuments.read(xml);
/** The hardened parse alone, for measuring it. */
export const parseDfdgRecordXml = (xml: string) => recordDocuments.parse(xml);

function cprOf(subjectCpr: string): string {
  const parsed = Cpr.safeParse(subjectCpr);
  if (!parsed.success) throw new AdapterError('the CPR number of the subject is not valid', true, 'invalid-cpr');
  return parsed.data;
}

export function createDfdgAdapter(options: DfdgAdapterOptions): DfdgAdapter {
  const transport = createSoapTransport({
    baseUrl: options.baseUrl,
    namespace: DFDG_NAMESPACE,
    serviceName: 'DFDG',
    arrayElements: dfdgArrayElements,
    timeoutMs: options.timeoutMs,
    maxResponseBytes: options.maxResponseBytes,
    fetch: options.fetch,
    dispatcher: options.dispatcher,
  });
  const pageSize = Math.min(1000, Math.max(1, options.pageSize ?? 500));

  const header = (transactionId?: string): XmlWritableObject => ({
    ActiveOrganisation: { OrganisationTypeIdentifier: options.organisation.typeIdentifier, OrganisationCode: options.organisation.code },
    RequestUserMetadata: { UserIdentifier: options.userIdentifier ?? 'enplan-integration', TransactionIdentifier: transactionId },
  });

  async function write(operation: 'writeActivity' | 'writePlan', transactionId: string, content: XmlWritableObject): Promise<PushReceipt> {
    const reply = await transport.call({
      operation: dfdgOperations[operation].request,
      responseOperation: dfdgOperations[operation].response,
      header: header(transactionId),
      content,
    });
    const parsed = WriteResponse.safeParse(reply.content);
    if (!parsed.success) throw new AdapterError(`DFDG answered a write with an unexpected reply: ${describeIssues(parsed.error)}`, true, 'unexpected-response');
    return { targetId: parsed.data.RecordIdentifier, duplicate: parsed.data.DuplicateIndicator, version: String(parsed.data.RecordVersionIdentifier) };
  }

  const invalidPayload = (operation: string, error: z.ZodError) =>
    new AdapterError(`the ${operation} payload does not match the DFDG contract: ${describeIssues(error)}`, true, 'invalid-payload');

  const readSide = createSoapReadSide(
    { serviceName: 'DFDG', operations: dfdgOperations, subjectElement: 'PersonCivilRegistrationIdentifier', batchRead: dfdgBatchRead, changeList: dfdgChangeList, recordTypes: recordTypeList },
    { transport, header: () => header(), cprOf, pageSize },
  );

  return {
    describe: () => ({
      id: 'dfdg',
      name: 'STAR Det Fælles Datagrundlag (DFDG)',
      sector: 'employment',
      format: 'SOAP 1.1 / XML',
      recordTypes: DfdgRecordType.options,
      pushOperations: DfdgPushOperation.options,
    }),

    ...readSide,

    async push(operation: PushOperation, idempotencyKey: string): Promise<PushReceipt> {
      if (!idempotencyKey) throw new AdapterError('a push needs an idempotency key', true, 'missing-idempotency-key');
      const kind = DfdgPushOperation.safeParse(operation.operation);
      if (!kind.success) throw new AdapterError(`DFDG does not accept the operation ${String(operation.operation).slice(0, 60)}`, true, 'unsupported-operation');
      const cpr = cprOf(operation.cpr);
      const transactionId = await deterministicUuid(DFDG_ID_NAMESPACE, `transaction:${kind.data}:${idempotencyKey}`);

      if (kind.data === 'activity.upsert') {
        const payload = ActivityUpsertPayload.safeParse(operation.payload);
        if (!payload.success) throw invalidPayload(kind.data, payload.error);
        const activityIdentifier = payload.data.ActivityIdentifier ?? (await deterministicUuid(DFDG_ID_NAMESPACE, `activity:${idempotencyKey}`));
        const { ActivityIdentifier: _ignored, ...fields } = payload.data;
        return write('writeActivity', transactionId, {
          ActivityCoreItem: { ActivityIdentifier: activityIdentifier, PersonCivilRegistrationIdentifier: cpr, ...fields },
        });
      }

      const payload = EmploymentPlanUpdatePayload.safeParse(operation.payload);
      if (!payload.success) throw invalidPayload(kind.data, payload.error);
      const id = (kind: string, index: number, given: string | undefined) => given ?? deterministicUuid(DFDG_ID_NAMESPACE, `${kind}:${idempotencyKey}:${index}`);
      const plan = payload.data;
      return write('writePlan', transactionId, {
        PersonCivilRegistrationIdentifier: cpr,
        ResponsibleAuthority: plan.ResponsibleAuthority,
        JobGoal: await Promise.all(plan.JobGoal.map(async ({ JobGoalIdentifier, ...goal }, i) => ({ JobGoalIdentifier: await id('job-goal', i, JobGoalIdentifier), ...goal }))),
        JobSearchAgreement: await Promise.all(
          plan.JobSearchAgreement.map(async ({ JobSearchAgreementIdentifier, ...agreement }, i) => ({
            JobSearchAgreementIdentifier: await id('job-search-agreement', i, JobSearchAgreementIdentifier),
            ...agreement,
          })),
        ),
        FollowUp: await Promise.all(plan.FollowUp.map(async ({ FollowUpIdentifier, ...followUp }, i) => ({ FollowUpIdentifier: await id('follow-up', i, FollowUpIdentifier), ...followUp }))),
      });
    },

    readRecordXml: readDfdgRecordXml,
  };
}
