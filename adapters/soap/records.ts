/**
 * From parsed XML record elements to the adapter contract's `SourceRecord` — or, when a record
 * fails its zod contract, to a `QuarantinedRecord` with a readable reason. Never throws and never
 * drops: every element a reply carries comes out as one or the other.
 */
import type { z } from 'zod';
import type { QuarantinedRecord, SourceRecord } from '../adapter';
import { redactCpr } from './faults';
import { createXmlReader, isXmlObject, renderXml, XmlInputError, type XmlObject, type XmlReaderOptions, type XmlValue } from './xml';

/** How one record type of a SOAP service is recognised, checked and identified. */
export interface XmlRecordType<Schema extends z.ZodType = z.ZodType> {
  recordType: string;
  /** The record's element name in replies and standalone documents. */
  element: string;
  schema: Schema;
  idPath: readonly string[];
  cprPath: readonly string[];
  versionPath: readonly string[];
  updatedAtPath: readonly string[];
}

/** How much of a record that fails its contract is kept for IT staff (the engine keeps more of one that fails its mapping). */
export const SOAP_RECORD_RAW_LIMIT = 2000;

/**
 * An element name for a record type or a reason IT staff read: cut short, and masked where it is
 * shaped like a CPR number (a hostile reply can name an element `a-0101801234`).
 */
const shownName = (element: string) => redactCpr(element.slice(0, 60));

function at(value: unknown, path: readonly string[]): unknown {
  let current = value;
  for (const step of path) {
    if (Array.isArray(current)) current = current[0];
    if (typeof current !== 'object' || current === null) return undefined;
    current = (current as Record<string, unknown>)[step];
  }
  return Array.isArray(current) ? current[0] : current;
}

/** The offending element as XML for a quarantined record's `raw`, cut at `limit` characters. */
export function rawXml(element: string, raw: unknown, limit = SOAP_RECORD_RAW_LIMIT): string {
  try {
    const xml = isXmlObject(raw) || typeof raw === 'string' ? renderXml({ [element]: raw as XmlObject | string }) : JSON.stringify(raw);
    return xml.length > limit ? `${xml.slice(0, limit - 1)}…` : xml;
  } catch {
    return String(JSON.stringify(raw)).slice(0, limit);
  }
}

/** The first few contract issues as one sentence; zod's messages never quote the input value. */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((issue) => `${issue.path.length ? issue.path.join('.') : 'record'}: ${issue.message}`)
    .join('; ');
}

export type DecodedRecord = { ok: true; record: SourceRecord } | { ok: false; quarantined: QuarantinedRecord };

/**
 * Check one parsed record element against its contract. With `expectedCpr` (a pull for one
 * citizen) a record about anyone else is quarantined, never passed on (R12).
 */
export function decodeRecordElement(type: XmlRecordType, raw: XmlValue | undefined, expectedCpr?: string): DecodedRecord {
  const rawId = at(raw, type.idPath);
  const recordId = typeof rawId === 'string' && rawId.length > 0 && rawId.length <= 100 ? rawId.toLowerCase() : null;
  const quarantine = (reason: string): DecodedRecord => ({
    ok: false,
    quarantined: { recordType: type.recordType, recordId, reason, raw: rawXml(type.element, raw) },
  });
  if (!isXmlObject(raw)) return quarantine(`${type.element} is not a structured record (it has no child elements)`);
  const parsed = type.schema.safeParse(raw);
  if (!parsed.success) return quarantine(`the record does not match the ${type.recordType} contract: ${describeIssues(parsed.error)}`);
  const record = parsed.data;
  if (expectedCpr !== undefined && at(record, type.cprPath) !== expectedCpr)
    return quarantine('the record is about another citizen than the one asked for');
  return {
    ok: true,
    record: {
      recordType: type.recordType,
      recordId: String(at(record, type.idPath)),
      version: String(at(record, type.versionPath)),
      updatedAt: String(at(record, type.updatedAtPath)),
      payload: record,
    },
  };
}

/** Split the record elements of a reply into records and quarantined records. */
export function decodeRecordElements(
  content: XmlObject,
  types: readonly XmlRecordType[],
  expectedCpr: string | undefined,
  ignore: ReadonlySet<string> = new Set(),
): { records: SourceRecord[]; quarantined: QuarantinedRecord[] } {
  const records: SourceRecord[] = [];
  const quarantined: QuarantinedRecord[] = [];
  const byElement = new Map(types.map((t) => [t.element, t]));
  for (const [element, value] of Object.entries(content)) {
    if (ignore.has(element)) continue;
    const type = byElement.get(element);
    const items = Array.isArray(value) ? value : [value];
    for (const item of items) {
      if (!type) {
        quarantined.push({ recordType: `unknown:${shownName(element)}`, recordId: null, reason: `the reply holds an element the contract does not know: ${shownName(element)}`, raw: rawXml(element, item) });
        continue;
      }
      const decoded = decodeRecordElement(type, item, expectedCpr);
      if (decoded.ok) records.push(decoded.record);
      else quarantined.push(decoded.quarantined);
    }
  }
  return { records, quarantined };
}

export interface XmlRecordDocumentReader {
  /** Read one standalone record document (e.g. `<ActivityItem>…</ActivityItem>`); never throws. */
  read(xml: string): DecodedRecord;
  /** Parse only (hardened), for measuring the parse alone; throws XmlInputError. */
  parse(xml: string): XmlObject;
}

/**
 * A reader for standalone record documents — how records arrive outside a pull (events pushed by
 * the source) and how the throughput benchmark feeds them. Malformed or hostile XML is quarantined.
 */
export function createRecordDocumentReader(types: readonly XmlRecordType[], arrayElements: Iterable<string>, options: XmlReaderOptions = {}): XmlRecordDocumentReader {
  const reader = createXmlReader({ ...options, arrayElements });
  const byElement = new Map(types.map((t) => [t.element, t]));
  return {
    parse: (xml) => reader.parse(xml),
    read(xml: string): DecodedRecord {
      let document: XmlObject;
      try {
        document = reader.parse(xml);
      } catch (error) {
        const reason = error instanceof XmlInputError ? `the record XML was refused: ${error.message}` : 'the record XML could not be read';
        return { ok: false, quarantined: { recordType: 'unknown', recordId: null, reason, raw: typeof xml === 'string' ? xml.slice(0, SOAP_RECORD_RAW_LIMIT) : '' } };
      }
      const element = Object.keys(document)[0]!;
      const type = byElement.get(element);
      const value = document[element];
      const item = Array.isArray(value) ? value[0] : value;
      if (!type)
        return { ok: false, quarantined: { recordType: `unknown:${shownName(element)}`, recordId: null, reason: `no record type has the root element ${shownName(element)}`, raw: xml.slice(0, SOAP_RECORD_RAW_LIMIT) } };
      return decodeRecordElement(type, item);
    },
  };
}
