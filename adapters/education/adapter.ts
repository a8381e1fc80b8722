/**
 * The Ungedatabasen / KUI adapter (education) behind the SourceAdapter contract: SOAP 1.1 with a
 * `Kaldskontekst` header (municipality, calling system, transaction id), per-citizen reads with
 * `CPRNr` in the body (and MODELLED batch reads of up to 100), a change list with opaque
 * cursors, and idempotent writes of education-plan changes and education events, their
 * transaction ids (and new course ids) derived from the idempotency key.
 */
import type { z } from 'zod';
import { AdapterError, type PushOperation, type PushReceipt, type SourceAdapter } from '../adapter';
import { Cpr } from '../../src/model/cpr';
import { deterministicUuid } from '../soap/identifiers';
import { createRecordDocumentReader, describeIssues, type DecodedRecord } from '../soap/records';
import { createSoapReadSide } from '../soap/read-side';
import { createSoapTransport } from '../soap/transport';
import type { WsSecuritySigner } from '../soap/ws-security';
import type { XmlWritableObject } from '../soap/xml';
import {
  EDUCATION_NAMESPACE,
  educationBatchRead,
  educationChangeList,
  EducationEventPayload,
  EducationPlanUpdatePayload,
  EducationPushOperation,
  EducationRecordType,
  Kvittering,
  educationArrayElements,
  educationOperations,
  educationRecordTypes,
} from './contract';

export interface EducationAdapterOptions {
  /** The Ungedatabasen SOAP endpoint (for the simulator: its handle's `url`). */
  baseUrl: string;
  timeoutMs?: number;
  /** The calling municipality (kommunekode), sent in `Kaldskontekst`. */
  municipalityCode: string;
  /** `Kaldskontekst/SystemNavn`; default "enplan-integration". */
  systemName?: string;
  pageSize?: number;
  maxResponseBytes?: number;
  fetch?: typeof fetch;
  /** undici Dispatcher for mutual TLS with the function certificate (FOCES). */
  dispatcher?: unknown;
  /** Signs every request with the function certificate (WS-Security), as STIL's integration platform asks. */
  wsSecurity?: WsSecuritySigner;
}

export interface EducationAdapter extends SourceAdapter {
  pullMany: NonNullable<SourceAdapter['pullMany']>;
  /** Read one standalone Ungedatabasen record document; never throws. */
  readRecordXml(xml: string): DecodedRecord;
}

/** Namespace of the name-based UUIDs this adapter derives (fixed: changing it changes every id). */
export const EDUCATION_ID_NAMESPACE = 'a4c7e1b2-3d5f-4e68-8b9a-0c1d2e3f4a5b';

const recordTypeList = Object.values(educationRecordTypes);
const recordDocuments = createRecordDocumentReader(recordTypeList, educationArrayElements);

export const readEducationRecordXml = (xml: string): DecodedRecord => recordDocuments.read(xml);
export const parseEducationRecordXml = (xml: string) => recordDocuments.parse(xml);

function cprOf(subjectCpr: string): string {
  const parsed = Cpr.safeParse(subjectCpr);
  if (!parsed.success) throw new AdapterError('the CPR number of the subject is not valid', true, 'invalid-cpr');
  return parsed.data;
}

export function createEducationAdapter(options: EducationAdapterOptions): EducationAdapter {
  const transport = createSoapTransport({
    baseUrl: options.baseUrl,
    namespace: EDUCATION_NAMESPACE,
    serviceName: 'Ungedatabasen',
    arrayElements: educationArrayElements,
    timeoutMs: options.timeoutMs,
    maxResponseBytes: options.maxResponseBytes,
    fetch: options.fetch,
    dispatcher: options.dispatcher,
    signer: options.wsSecurity,
  });
  const pageSize = Math.min(1000, Math.max(1, options.pageSize ?? 500));

  const header = (transactionId?: string): XmlWritableObject => ({
    Kaldskontekst: { KommuneKode: options.municipalityCode, SystemNavn: options.systemName ?? 'enplan-integration', TransaktionsId: transactionId },
  });
  const invalidPayload = (operation: string, error: z.ZodError) =>
    new AdapterError(`the ${operation} payload does not match the Ungedatabasen contract: ${describeIssues(error)}`, true, 'invalid-payload');

  async function write(operation: 'updatePlan' | 'registerEvent', transactionId: string, content: XmlWritableObject): Promise<PushReceipt> {
    const reply = await transport.call({
      operation: educationOperations[operation].request,
      responseOperation: educationOperations[operation].response,
      header: header(transactionId),
      content,
    });
    const parsed = Kvittering.safeParse(reply.content);
    if (!parsed.success) throw new AdapterError(`Ungedatabasen answered a write with an unexpected reply: ${describeIssues(parsed.error)}`, true, 'unexpected-response');
    return { targetId: parsed.data.PostId, duplicate: parsed.data.Dublet, version: String(parsed.data.Version) };
  }

  const readSide = createSoapReadSide(
    { serviceName: 'Ungedatabasen', operations: educationOperations, subjectElement: 'CPRNr', batchRead: educationBatchRead, changeList: educationChangeList, recordTypes: recordTypeList },
    { transport, header: () => header(), cprOf, pageSize },
  );

  return {
    describe: () => ({
      id: 'education',
      name: 'Ungedatabasen / KUI (STIL)',
      sector: 'education',
      format: 'SOAP 1.1 / XML',
      recordTypes: EducationRecordType.options,
      pushOperations: EducationPushOperation.options,
    }),

    ...readSide,

    async push(operation: PushOperation, idempotencyKey: string): Promise<PushReceipt> {
      if (!idempotencyKey) throw new AdapterError('a push needs an idempotency key', true, 'missing-idempotency-key');
      const kind = EducationPushOperation.safeParse(operation.operation);
      if (!kind.success) throw new AdapterError(`Ungedatabasen does not accept the operation ${String(operation.operation).slice(0, 60)}`, true, 'unsupported-operation');
      const cpr = cprOf(operation.cpr);
      const transactionId = await deterministicUuid(EDUCATION_ID_NAMESPACE, `transaction:${kind.data}:${idempotencyKey}`);

      if (kind.data === 'education-event.register') {
        const payload = EducationEventPayload.safeParse(operation.payload);
        if (!payload.success) throw invalidPayload(kind.data, payload.error);
        const { UddannelsesforloebId, ...event } = payload.data;
        return write('registerEvent', transactionId, {
          CPRNr: cpr,
          HaendelseKode: event.HaendelseKode,
          HaendelseDato: event.HaendelseDato,
          // A first event (e.g. admission) opens a course; its id comes from the key, so a replay opens none.
          UddannelsesforloebId: UddannelsesforloebId ?? (await deterministicUuid(EDUCATION_ID_NAMESPACE, `course:${idempotencyKey}`)),
          UddannelseKode: event.UddannelseKode,
          ForloebStartDato: event.ForloebStartDato,
          Institution: event.Institution,
        });
      }

      const payload = EducationPlanUpdatePayload.safeParse(operation.payload);
      if (!payload.success) throw invalidPayload(kind.data, payload.error);
      const plan = payload.data;
      return write('updatePlan', transactionId, {
        CPRNr: cpr,
        Uddannelsesmaal: plan.Uddannelsesmaal,
        PlanlagtAktivitet: await Promise.all(
          plan.PlanlagtAktivitet.map(async ({ AktivitetId, ...activity }, i) => ({
            AktivitetId: AktivitetId ?? (await deterministicUuid(EDUCATION_ID_NAMESPACE, `plan-activity:${idempotencyKey}:${i}`)),
            ...activity,
          })),
        ),
        Vejleder: plan.Vejleder,
        NaesteOpfoelgning: plan.NaesteOpfoelgning,
      });
    },

    readRecordXml: readEducationRecordXml,
  };
}
