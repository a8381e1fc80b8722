/**
 * The read side both SOAP adapters share — status check, one citizen's read, the batch read, the
 * change list and feed positions by time — given each service's operation and element names.
 * What differs between DFDG and Ungedatabasen is data (`SoapReadSideSpec`); pushes stay with
 * each adapter, because their operations really differ.
 */
import { AdapterError, type ChangesPage, type CheckResult, type PullManyOptions, type PullResult, type PullSubject } from '../adapter';
import { pullInBatches, type BatchReadSpec } from './batch-read';
import { createChangeListReader, positionElement, type ChangeListSpec } from './change-list';
import { encodeCursor } from './identifiers';
import { decodeRecordElements, type XmlRecordType } from './records';
import type { SoapMessage } from './envelope';
import type { SoapTransport } from './transport';
import type { XmlWritableObject } from './xml';

export interface SoapReadSideSpec {
  /** Name used in error messages, e.g. "DFDG". */
  serviceName: string;
  operations: { status: { request: string; response: string }; read: { request: string; response: string } };
  /** The per-person read's CPR element. */
  subjectElement: string;
  batchRead: BatchReadSpec;
  changeList: ChangeListSpec;
  recordTypes: readonly XmlRecordType[];
}

/**
 * Transport failures that mean the reply itself is unacceptable and will be again on every retry:
 * hostile XML (DOCTYPE, entities, characters XML forbids) or a reply over the size limit.
 */
const REPLY_REFUSED_FOR_GOOD: ReadonlySet<string> = new Set(['xml-refused', 'response-too-large']);

export interface SoapReadSide {
  check(): Promise<CheckResult>;
  pull(subject: PullSubject, cursor?: string | null): Promise<PullResult>;
  pullMany(subjects: readonly PullSubject[], options?: PullManyOptions): Promise<Map<string, PullResult>>;
  cursorAt(at: Date): string;
  changes(since: string | null, limit?: number): Promise<ChangesPage>;
}

export function createSoapReadSide(
  spec: SoapReadSideSpec,
  connection: { transport: SoapTransport; header: () => XmlWritableObject; cprOf: (cpr: string) => string; pageSize: number },
): SoapReadSide {
  const { transport, header, cprOf } = connection;
  const changeList = createChangeListReader(spec.changeList);
  const after = (cursor: string | null | undefined) => positionElement(spec.changeList.fields, cursor);
  return {
    async check() {
      const started = performance.now();
      try {
        await transport.call({ operation: spec.operations.status.request, responseOperation: spec.operations.status.response, header: header(), content: {} });
        return { ok: true, latencyMs: performance.now() - started };
      } catch (error) {
        return { ok: false, latencyMs: performance.now() - started, detail: error instanceof Error ? error.message : String(error) };
      }
    },

    /** One citizen's records; with a cursor from `changes`, only those changed after it. */
    async pull(subject, cursor) {
      const cpr = cprOf(subject.cpr);
      let reply: SoapMessage;
      try {
        reply = await transport.call({
          operation: spec.operations.read.request,
          responseOperation: spec.operations.read.response,
          header: header(),
          content: { [spec.subjectElement]: cpr, [spec.changeList.afterElement]: after(cursor) },
        });
      } catch (error) {
        // Failing the pull would retry it every run and show IT staff a count, not a reason: keep
        // the refused reply as one quarantined entry (a transient failure still throws, to retry).
        if (error instanceof AdapterError && REPLY_REFUSED_FOR_GOOD.has(error.code))
          return { records: [], quarantined: [{ recordType: 'reply', recordId: null, reason: error.message, raw: '' }] };
        throw error;
      }
      return decodeRecordElements(reply.content, spec.recordTypes, cpr);
    },

    /** Many citizens, up to `batchRead.maxSubjects` a request (a MODELLED batch read, see batch-read.ts). */
    pullMany: (subjects, options) =>
      pullInBatches({ spec: spec.batchRead, serviceName: spec.serviceName, transport, header, recordTypes: spec.recordTypes, cprOf }, subjects, after(options?.since)),

    // Just after every position of the millisecond before `at` ('~' sorts after the record ids).
    cursorAt: (at) => encodeCursor({ updatedAtMs: at.getTime() - 1, recordId: '~' }),

    /** One page of the change list; bad change items are quarantined, not fatal (see change-list.ts). */
    changes: (since, limit) => changeList.page(transport, header(), since, limit ?? connection.pageSize),
  };
}
