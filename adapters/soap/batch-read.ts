/**
 * Batch reads (MODELLED, shared by DFDG and Ungedatabasen): several named citizens in one SOAP
 * request instead of one request per citizen. The request repeats the subject element (one CPR
 * each, at most `maxSubjects`); the reply holds one group element per person, which names the
 * person and carries that person's record elements exactly as the per-citizen read reply does, or
 * a status element with a STAR-style code (1010) when the system does not know the person:
 *
 *   <…BatchReadRequest><Cpr>…</Cpr><Cpr>…</Cpr></…>
 *   <…BatchReadResponse>
 *     <Group><Cpr>…</Cpr><RecordItem>…</RecordItem>…</Group>
 *     <Group><Cpr>…</Cpr><Status><ErrorCode>1010</ErrorCode><ErrorText>…</ErrorText></Status></Group>
 *   </…>
 *
 * This file holds the spec both sides share and the adapter side (split, decode, check); the
 * simulator side is `answerBatchRead` in simulator-kit.ts. CPR numbers travel in the body only.
 */
import { z } from 'zod';
import { AdapterError, unknownSubjectCodes, type PullResult, type PullSubject } from '../adapter';
import type { SoapTransport } from './transport';
import { faultToAdapterError } from './faults';
import { decodeRecordElements, describeIssues, type XmlRecordType } from './records';
import type { XmlObject, XmlValue, XmlWritableObject } from './xml';
import { xmlCpr, xmlElement, xmlList, xmlOptionalText, xmlText } from './xml-schema';

/** Default (and upper) cap of persons per batch request. */
export const BATCH_READ_MAX_SUBJECTS = 100;

export interface BatchReadSpec {
  request: string;
  response: string;
  /** The request's repeating CPR element, and the element naming the person in each reply group. */
  subjectElement: string;
  /** The reply's per-person element. */
  groupElement: string;
  /** Per-person status (`ErrorCode`, `ErrorText`), present only when the person is not served. */
  statusElement: string;
  /** Most persons per request; the simulator refuses more, the adapter splits. */
  maxSubjects: number;
  /** The optional change-feed position element (as in the per-person read): only records changed after it. */
  after: { element: string; schema: z.ZodType };
}

/** The per-person status of a batch reply: the same detail a SOAP fault carries. */
export const BatchReadStatus = xmlElement(z.object({ ErrorCode: xmlText(10), ErrorText: xmlOptionalText(500) }));

/** Build once per spec, not per request. */
function perSpec<T>(build: (spec: BatchReadSpec) => T): (spec: BatchReadSpec) => T {
  const cache = new WeakMap<BatchReadSpec, T>();
  return (spec) => {
    let value = cache.get(spec);
    if (value === undefined) cache.set(spec, (value = build(spec)));
    return value;
  };
}

/** The request as the simulator checks it (the count is checked first, for a clear fault). */
export const batchReadRequestSchema = perSpec((spec) =>
  z.object({
    [spec.subjectElement]: xmlList(xmlCpr).pipe(z.array(z.string()).min(1, 'names no person').max(spec.maxSubjects)),
    [spec.after.element]: spec.after.schema.optional(),
  }),
);

/** One person's group in the reply, as far as the batch envelope is concerned (records are checked per type). */
export const batchReadGroupSchema = perSpec((spec) => z.looseObject({ [spec.subjectElement]: xmlCpr, [spec.statusElement]: BatchReadStatus.optional() }));

/** How many subject elements a request names, before anything else is checked. */
export function countSubjects(content: XmlObject, spec: BatchReadSpec): number {
  const value = content[spec.subjectElement];
  return value === undefined ? 0 : Array.isArray(value) ? value.length : 1;
}

export interface BatchReadClient {
  spec: BatchReadSpec;
  /** Name used in error messages, e.g. "DFDG". */
  serviceName: string;
  transport: SoapTransport;
  /** The service's SOAP header for a read. */
  header: () => XmlWritableObject;
  recordTypes: readonly XmlRecordType[];
  /** The subject's CPR, normalised; throws a permanent AdapterError when it is not valid. */
  cprOf: (cpr: string) => string;
}

const asList = (value: XmlValue | undefined): XmlValue[] => (value === undefined || value === '' ? [] : Array.isArray(value) ? value : [value]);

/** One request for up to `maxSubjects` distinct CPRs; a result for every one of them, or a throw. */
async function readBatch(client: BatchReadClient, cprs: readonly string[], after: XmlWritableObject | undefined): Promise<Map<string, PullResult>> {
  const { spec, serviceName } = client;
  const reply = await client.transport.call({
    operation: spec.request,
    responseOperation: spec.response,
    header: client.header(),
    content: { [spec.subjectElement]: [...cprs], [spec.after.element]: after },
  });
  const unexpected = (what: string) => new AdapterError(`${serviceName} answered a batch read ${what}`, true, 'unexpected-response');
  const rawGroups = asList(reply.content[spec.groupElement]);
  const groupSchema = batchReadGroupSchema(spec);
  const asked = new Set(cprs);
  const results = new Map<string, PullResult>();
  const ignore = new Set([spec.subjectElement, spec.statusElement]);

  for (const raw of rawGroups) {
    const parsed = groupSchema.safeParse(raw);
    if (!parsed.success) throw unexpected(`with a ${spec.groupElement} that does not match the contract: ${describeIssues(parsed.error)}`);
    const cpr = parsed.data[spec.subjectElement] as string;
    // Records of a person not asked for (or of one person twice) cannot be tied to exactly one subject.
    if (!asked.has(cpr)) throw unexpected(`with a ${spec.groupElement} about a person that was not asked for`);
    if (results.has(cpr)) throw unexpected(`with two ${spec.groupElement} elements about the same person`);
    const status = parsed.data[spec.statusElement] as z.output<typeof BatchReadStatus> | undefined;
    const group = raw as XmlObject;
    if (status === undefined) {
      results.set(cpr, decodeRecordElements(group, client.recordTypes, cpr, ignore));
      continue;
    }
    if (!unknownSubjectCodes.has(status.ErrorCode))
      throw faultToAdapterError({ faultCode: 'Server', faultString: `for one person of a batch read: ${status.ErrorText ?? 'no error text'}`, errorCode: status.ErrorCode }, serviceName);
    if (Object.keys(group).some((element) => !ignore.has(element))) throw unexpected(`with records for a person it reports as unknown`);
    results.set(cpr, { records: [], quarantined: [], unknownAtSource: true });
  }
  const missing = cprs.filter((cpr) => !results.has(cpr)).length;
  if (missing > 0) throw unexpected(`without a ${spec.groupElement} for ${missing} of the ${cprs.length} persons asked for`);
  return results;
}

/**
 * `SourceAdapter.pullMany` over a batch-read operation: every subject's CPR is checked before any
 * request, the distinct CPRs are sent in requests of at most `maxSubjects`, one after the other,
 * and every reply is decoded with the same code as a single pull (`decodeRecordElements`, so a
 * record about anyone but its group's person is quarantined). Subjects sharing a CPR share its
 * result. Any failed request fails the whole call. With `after` (a change-feed position), only
 * records changed after it come back, as with a single pull's cursor.
 */
export async function pullInBatches(client: BatchReadClient, subjects: readonly PullSubject[], after?: XmlWritableObject): Promise<Map<string, PullResult>> {
  const cprByCitizen = new Map<string, string>();
  for (const subject of subjects) {
    const cpr = client.cprOf(subject.cpr);
    const earlier = cprByCitizen.get(subject.citizenId);
    if (earlier !== undefined && earlier !== cpr) throw new AdapterError('the same citizenId is asked for with two different CPR numbers', true, 'invalid-subjects');
    cprByCitizen.set(subject.citizenId, cpr);
  }
  const distinct = [...new Set(cprByCitizen.values())];
  const size = Math.max(1, client.spec.maxSubjects);
  const byCpr = new Map<string, PullResult>();
  for (let start = 0; start < distinct.length; start += size) {
    for (const [cpr, result] of await readBatch(client, distinct.slice(start, start + size), after)) byCpr.set(cpr, result);
  }
  const results = new Map<string, PullResult>();
  for (const [citizenId, cpr] of cprByCitizen) {
    const result = byCpr.get(cpr)!;
    // Each subject gets its own result object, so a caller changing one cannot change another's.
    results.set(citizenId, { ...result, records: [...result.records], quarantined: [...result.quarantined] });
  }
  return results;
}
