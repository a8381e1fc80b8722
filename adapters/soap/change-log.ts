/**
 * The simulators' change feed: an append-only log of (updatedAt, recordId) positions, kept in
 * that order so a page after a cursor is a binary search plus a short scan. A record changed
 * again leaves its older entry behind; entries whose version is no longer the record's current
 * version are skipped when read, so a record appears once, at its latest change.
 *
 * Changes made together share one timestamp (as in a source that stamps a batch), which is
 * exactly why a cursor needs the record id as tie-breaker.
 */
import { comparePositions, type FeedPosition } from './identifiers';

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
