/**
 * The simulators' change feed: an append-only log of (updatedAt, recordId) positions, kept in
 * that order so a page after a cursor is a binary search plus a short scan. A record changed
 * again leaves its older entry behind; entries whose version is no longer the record's current
 * version are skipped when read, so a record appears once, at its latest change.
 *
 * Changes made together share one timestamp (as in a source that stamps a batch), which is
 * exactly why a cursor needs the record id as tie-breaker.
 */
import { changeItemPosition, type ChangeItemFields } from './change-list';
import { comparePositions, type FeedPosition } from './identifiers';
import type { XmlWritableObject } from './xml';

export interface FeedRecord {
  readonly recordId: string;
  version: number;
  updatedAtMs: number;
}

export interface FeedPage<R extends FeedRecord> {
  records: R[];
  /** Position of the last record returned; null when the page is empty. */
  last: FeedPosition | null;
  hasMore: boolean;
}

export class ChangeLog<R extends FeedRecord> {
  // Parallel arrays, not entry objects: 50,000 citizens have ~150,000 records per source.
  private readonly records: R[] = [];
  private readonly versions: number[] = [];
  private readonly times: number[] = [];
  private lastMs = 0;

  constructor(initial: Iterable<R>) {
    const sorted = [...initial].sort((a, b) => comparePositions(positionOf(a), positionOf(b)));
    for (const record of sorted) this.append(record);
  }

  get size(): number {
    return this.records.length;
  }

  /** A timestamp after every logged change, from the wall clock when it is ahead. */
  nextTimestamp(nowMs: number): number {
    return Math.max(nowMs, this.lastMs + 1);
  }

  /**
   * Log `records` as changed at one new timestamp: each gets version + 1 and that updatedAt.
   * `change` runs on each record first (to store what changed).
   */
  commit(records: Iterable<R>, nowMs: number, change?: (record: R) => void): number {
    const batch = [...new Set(records)].sort((a, b) => (a.recordId < b.recordId ? -1 : a.recordId > b.recordId ? 1 : 0));
    if (batch.length === 0) return this.lastMs;
    const at = this.nextTimestamp(nowMs);
    for (const record of batch) {
      change?.(record);
      record.version += 1;
      record.updatedAtMs = at;
      this.append(record);
    }
    return at;
  }

  /**
   * Change a uniform random `fraction` (0–1) of `records` at one timestamp — the simulators'
   * "N % of the records changed" for incremental-sync tests and benchmarks. Returns how many.
   */
  commitSample(records: readonly R[], fraction: number, random: () => number, nowMs: number): number {
    const pool = [...records];
    const count = Math.min(pool.length, Math.round(Math.min(1, Math.max(0, fraction)) * pool.length));
    // Partial Fisher–Yates: the first `count` entries become a uniform sample.
    for (let i = 0; i < count; i++) {
      const j = i + Math.floor(random() * (pool.length - i));
      [pool[i], pool[j]] = [pool[j]!, pool[i]!];
    }
    this.commit(pool.slice(0, count), nowMs);
    return count;
  }

  /** Up to `limit` current records after `after`, in feed order. */
  page(after: FeedPosition | null, limit: number): FeedPage<R> {
    let index = after ? this.firstAfter(after) : 0;
    const records: R[] = [];
    let last: FeedPosition | null = null;
    for (; index < this.records.length && records.length < limit; index++) {
      if (!this.isCurrent(index)) continue;
      const record = this.records[index]!;
      records.push(record);
      last = positionOf(record);
    }
    let hasMore = false;
    for (; index < this.records.length && !hasMore; index++) hasMore = this.isCurrent(index);
    return { records, last, hasMore };
  }

  private append(record: R): void {
    this.records.push(record);
    this.versions.push(record.version);
    this.times.push(record.updatedAtMs);
    this.lastMs = Math.max(this.lastMs, record.updatedAtMs);
  }

  /** An entry is current when its record has not changed since (older entries are skipped). */
  private isCurrent(index: number): boolean {
    return this.versions[index] === this.records[index]!.version;
  }

  private firstAfter(after: FeedPosition): number {
    let low = 0;
    let high = this.records.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (comparePositions({ updatedAtMs: this.times[middle]!, recordId: this.records[middle]!.recordId }, after) <= 0) low = middle + 1;
      else high = middle;
    }
    return low;
  }
}

const positionOf = (record: FeedRecord): FeedPosition => ({ updatedAtMs: record.updatedAtMs, recordId: record.recordId });

/** Whether a record changed after a position (per-citizen pulls with a cursor). */
export function changedAfter(record: FeedRecord, after: FeedPosition | null): boolean {
  return after === null || comparePositions({ updatedAtMs: record.updatedAtMs, recordId: record.recordId }, after) > 0;
}

/** One entry of a change-list page: a logged record, or an item injected as is. */
export type FeedEntry<R extends FeedRecord> = { record: R } | { injected: XmlWritableObject | string };

/**
 * Test hook of the simulators: change items sent as is — e.g. ones that break the contract — each
 * at its own position in the feed, so it comes in every change-list page whose range covers that
 * position, between the logged records, exactly as a source would send a bad item it holds.
 */
export class InjectedChangeItems {
  private readonly items: { at: FeedPosition; content: XmlWritableObject | string }[] = [];

  constructor(private readonly fields: ChangeItemFields) {}

  /** Place `content` at `at`, by default at the position its own change time and record id give. */
  add(content: XmlWritableObject | string, at?: FeedPosition): void {
    at ??= changeItemPosition(this.fields, content) ?? undefined;
    if (!at) throw new Error('an injected change item whose own position cannot be read needs an explicit position');
    const index = this.items.findIndex((item) => comparePositions(item.at, at) > 0);
    this.items.splice(index < 0 ? this.items.length : index, 0, { at, content });
  }

  /** Up to `limit` entries after `after` in feed order: the log's records with the injected items merged in. */
  page<R extends FeedRecord>(log: ChangeLog<R>, after: FeedPosition | null, limit: number): { entries: FeedEntry<R>[]; hasMore: boolean } {
    const logged = log.page(after, limit);
    const extra = this.items.filter((item) => after === null || comparePositions(item.at, after) > 0);
    if (extra.length === 0) return { entries: logged.records.map((record) => ({ record })), hasMore: logged.hasMore };
    const entries: FeedEntry<R>[] = [];
    let r = 0;
    let i = 0;
    while (entries.length < limit && (r < logged.records.length || i < extra.length)) {
      const record = logged.records[r];
      if (record && (i >= extra.length || comparePositions(positionOf(record), extra[i]!.at) <= 0)) {
        entries.push({ record });
        r++;
      } else entries.push({ injected: extra[i++]!.content });
    }
    return { entries, hasMore: logged.hasMore || r < logged.records.length || i < extra.length };
  }
}
