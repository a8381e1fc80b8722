/**
 * The change list of a SOAP service (DFDG, Ungedatabasen), read as the SourceAdapter's
 * `changes`: the reply's shape (the list and its "more available" flag) is checked as a whole — a
 * reply that is not a change list is an error — but each change item on its own, so one item that
 * breaks the contract is quarantined with a readable reason instead of stopping the feed.
 *
 * The cursor is the position (change time, record id) of the last item on the page whose position
 * can be read, good or bad: the feed moves past a bad item whenever it can tell where that item
 * is. An item whose position cannot be read holds the cursor at the last readable position before
 * it (the item comes again on the next page and is quarantined again). A page that does not move
 * the cursor while the source says more is available would be asked for forever; that is an error.
 */
import { z } from 'zod';
import { AdapterError, type ChangeNotice, type ChangesPage, type QuarantinedRecord } from '../adapter';
import { comparePositions, decodeCursor, encodeCursor, type FeedPosition } from './identifiers';
import { describeIssues, rawXml } from './records';
import type { SoapTransport } from './transport';
import { isXmlObject, type XmlObject, type XmlWritableObject } from './xml';
import { xmlBoolean, xmlDateTime, xmlList, xmlText } from './xml-schema';

/** Element names of one change item: who, what, which version, and its position in the feed. */
export interface ChangeItemFields {
  cpr: string;
  recordType: string;
  recordId: string;
  version: string;
  /** The change time; with `recordId` the item's position (and the request's "after" element). */
  updatedAt: string;
}

/** How one service's change list is asked for and read. */
export interface ChangeListSpec {
  serviceName: string;
  request: string;
  response: string;
  /** Request elements: the position to continue after (with `fields.updatedAt`/`fields.recordId`), and the page size. */
  afterElement: string;
  limitElement: string;
  /** Reply elements: the repeated change item and the "more available" flag. */
  itemElement: string;
  moreElement: string;
  /** The contract of one change item. */
  item: z.ZodType;
  fields: ChangeItemFields;
  recordTypes: readonly string[];
}

/** What a quarantined change item's `raw` keeps at most (the offending item's XML). */
export const CHANGE_ITEM_RAW_LIMIT = 4000;
/** The most change items one page may ask for. */
export const CHANGE_LIST_MAX_LIMIT = 1000;

// Zod's messages do not quote input values; this is a second guard for "no CPR in a reason".
const CPR_SHAPED = /\d{6}-?\d{4}/g;
const withoutCprs = (text: string) => text.replace(CPR_SHAPED, '[number]');

/** The `after` element of a request for the position in `cursor`; undefined for none. Throws on a foreign cursor. */
export function positionElement(fields: ChangeItemFields, cursor: string | null | undefined): XmlWritableObject | undefined {
  const position = decodeCursor(cursor);
  return position ? { [fields.updatedAt]: new Date(position.updatedAtMs).toISOString(), [fields.recordId]: position.recordId } : undefined;
}

/** A change item's record id (built once: every item of every feed page is read with it). */
const changeItemRecordId = xmlText(100);

/** An item's position, when both its change time and its record id can be read. */
export function changeItemPosition(fields: ChangeItemFields, item: unknown): FeedPosition | null {
  if (!isXmlObject(item)) return null;
  const time = xmlDateTime.safeParse(item[fields.updatedAt]);
  const id = changeItemRecordId.safeParse(item[fields.recordId]);
  if (!time.success || !id.success) return null;
  const updatedAtMs = Date.parse(time.data);
  return Number.isSafeInteger(updatedAtMs) && updatedAtMs >= 0 ? { updatedAtMs, recordId: id.data } : null;
}

/** What an unplaced item's reason says while no later item has moved the cursor past it. */
const STAYS_BEFORE = ', so the cursor stays before it';
/** And once one has: the feed cannot come back to it, so the record is read again only when it changes again or its citizen is read in full. */
const passedBy = (recordId: string) =>
  `; the feed went on past it with the next readable item (${recordId}), so the record is read again only when it changes again or its citizen is read in full`;

export interface ChangeListReader {
  /** One page of the change list after `since`, read from a reply's content. */
  read(content: XmlObject, since: string | null): ChangesPage;
  /** Ask the service for one page and read it. */
  page(transport: SoapTransport, header: XmlWritableObject, since: string | null, limit: number): Promise<ChangesPage>;
}

export function createChangeListReader(spec: ChangeListSpec): ChangeListReader {
  const { fields, serviceName, itemElement } = spec;
  // The reply's shape: items are checked one by one below, so here they can be anything.
  const envelope = z.object({ [itemElement]: xmlList(z.unknown()), [spec.moreElement]: xmlBoolean });
  const knownTypes = new Set(spec.recordTypes);

  function quarantine(item: unknown, position: FeedPosition | null, reason: string): QuarantinedRecord {
    const type = isXmlObject(item) ? item[fields.recordType] : undefined;
    const rawId = isXmlObject(item) ? changeItemRecordId.safeParse(item[fields.recordId]) : undefined;
    return {
      recordType: typeof type === 'string' && knownTypes.has(type) ? type : 'unknown',
      recordId: position?.recordId ?? (rawId?.success ? rawId.data : null),
      reason: withoutCprs(reason),
      raw: rawXml(itemElement, item, CHANGE_ITEM_RAW_LIMIT),
    };
  }

  function read(content: XmlObject, since: string | null): ChangesPage {
    const after = decodeCursor(since);
    const parsed = envelope.safeParse(content);
    if (!parsed.success) throw new AdapterError(`the ${serviceName} change list does not match the contract: ${describeIssues(parsed.error)}`, true, 'invalid-change-list');
    const items = parsed.data[itemElement] as unknown[];
    const hasMore = parsed.data[spec.moreElement] as boolean;

    const changes: ChangeNotice[] = [];
    const quarantined: QuarantinedRecord[] = [];
    let last: FeedPosition | null = null;
    // Quarantined items without a position, until a later item's position moves the cursor past them.
    let unplaced: QuarantinedRecord[] = [];
    for (const item of items) {
      const position = changeItemPosition(fields, item);
      if (position) {
        last = position;
        for (const record of unplaced) record.reason = record.reason.replace(STAYS_BEFORE, passedBy(position.recordId));
        unplaced = [];
      }
      if (!isXmlObject(item)) {
        quarantined.push(quarantine(item, position, `a ${itemElement} in the ${serviceName} change list is not a structured change item (it has no child elements)`));
        continue;
      }
      const checked = spec.item.safeParse(item);
      if (!checked.success) {
        const where = position ? '' : ` (its position — ${fields.updatedAt} and ${fields.recordId} — cannot be read${STAYS_BEFORE})`;
        const record = quarantine(item, position, `the ${itemElement} does not match the ${serviceName} change-list contract: ${describeIssues(checked.error)}${where}`);
        quarantined.push(record);
        if (!position) unplaced.push(record);
        continue;
      }
      const notice = checked.data as Record<string, unknown>;
      changes.push({
        cpr: String(notice[fields.cpr]),
        recordType: String(notice[fields.recordType]),
        recordId: String(notice[fields.recordId]),
        version: String(notice[fields.version]),
        updatedAt: String(notice[fields.updatedAt]),
      });
    }

    const moved = last !== null && (after === null || comparePositions(last, after) > 0);
    if (!moved && hasMore) {
      const what =
        items.length === 0
          ? 'it holds no change items'
          : `none of its ${items.length} change item(s) has a readable position (${fields.updatedAt} and ${fields.recordId}) after the cursor`;
      const first = quarantined[0] ? `; first problem: ${quarantined[0].reason}` : '';
      throw new AdapterError(
        `the ${serviceName} change list does not move forward: ${what}, yet ${serviceName} says more changes are available — asking again would return the same page forever${first}`,
        true,
        'change-list-stuck',
      );
    }
    return {
      changes,
      ...(quarantined.length > 0 ? { quarantined } : {}),
      cursor: moved ? encodeCursor(last!) : (since ?? null),
      hasMore,
    };
  }

  return {
    read,
    async page(transport, header, since, limit) {
      const reply = await transport.call({
        operation: spec.request,
        responseOperation: spec.response,
        header,
        content: { [spec.afterElement]: positionElement(fields, since), [spec.limitElement]: Math.min(CHANGE_LIST_MAX_LIMIT, Math.max(1, Math.floor(limit))) },
      });
      return read(reply.content, since);
    },
  };
}
