/**
 * The audit log: append-only and hash-chained per tenant. Each row's hash covers its content and
 * the previous row's hash, so editing or deleting any row breaks the chain from there on (S5).
 * Rows hold references (ids, categories, legal basis) and never content or CPR numbers.
 * The chain's head (its last row's seq and hash) is kept in `audit_heads`, written with the rows,
 * so rows deleted at the end are missed too; the database refuses UPDATE and DELETE on the log
 * (migration 0019) — except, when RETENTION_AUDIT_DAYS is set, the chain's oldest rows up to its
 * recorded base, which retention moves with an `audit.pruned` row that records it (migration 0032). What neither can catch — a rewrite with every hash recomputed by someone holding
 * the database file — an anchor can: a head logged earlier, kept outside (docs/decisions/0019, "Later");
 * and with AUDIT_CHAIN_KEY each row's hash is an HMAC under a key the file does not hold, so such a
 * rewrite no longer verifies at all (decision 0030, "Later").
 */
import { createHash, createHmac } from 'node:crypto';
import { and, asc, desc, eq, gt, gte, lt, not, sql } from 'drizzle-orm';
import type { Commit, Database, Statement } from './db';
import { auditBases, auditHeads, auditLog, readFromOutside } from './schema';
import { distinctLeading } from './query';
import { abortUnlessOneRowChanged, isLostWriteAbort } from './write-guard';

/** A period of the log (`from` inclusive, `to` exclusive, ISO instants) read a page at a time, after `afterSeq`. */
export interface ReadsFromOutsidePeriod {
  from: string;
  to: string;
  afterSeq?: number;
  limit: number;
}

export interface AuditEntry {
  at: string;
  actor: string;
  action: string;
  targetType: string;
  targetId: string;
  citizenId?: string | null;
  detail?: Record<string, unknown>;
}

export interface AuditRow extends Required<Omit<AuditEntry, 'detail'>> {
  tenant: string;
  seq: number;
  detail: Record<string, unknown>;
  prevHash: string;
  hash: string;
}

export const GENESIS_HASH = '0'.repeat(64);
/**
 * Characters of JSON per INSERT: D1 takes a value of at most 1,000,000 bytes, and a character is at
 * most 3 bytes of UTF-8, so 300,000 characters always fit however long the rows' details are.
 */
const CHARACTERS_PER_INSERT = 300_000;

// node:crypto (Node, and Workers with nodejs_compat) hashes synchronously: a chain of thousands of
// rows per sync batch costs a fraction of WebCrypto's one promise per digest.
async function sha256Hex(text: string): Promise<string> {
  return createHash('sha256').update(text).digest('hex');
}

/**
 * What a row's hash covers: a JSON array of its fields in a fixed order (so the hash does not depend
 * on how the row was built), the detail as its JSON text. `JSON.stringify` of the array writes each
 * element as it would alone, so this is the text `JSON.stringify([..., detail, prevHash])` gives —
 * and verify can hash the detail's text as stored, which is `JSON.stringify(detail)`, without parsing it.
 */
function hashedText(row: { tenant: string; seq: number; at: string; actor: string; action: string; targetType: string; targetId: string; citizenId?: string | null; prevHash: string }, detailText: string): string {
  const fields = JSON.stringify([row.tenant, row.seq, row.at, row.actor, row.action, row.targetType, row.targetId, row.citizenId ?? null]);
  return `${fields.slice(0, -1)},${detailText},${JSON.stringify(row.prevHash)}]`;
}

export function chainHash(row: Omit<AuditRow, 'hash'>): Promise<string> {
  return sha256Hex(hashedText(row, JSON.stringify(row.detail) ?? 'null'));
}

/**
 * A keyed row's hash (AUDIT_CHAIN_KEY): HMAC-SHA-256 of the same text. Without the key nobody can
 * make one, so a row changed or inserted by someone holding only the database file — every hash
 * after it recomputed — no longer verifies from the first keyed row on, nor does any row before it
 * (the first keyed row's hash covers the hash it links to).
 */
export function keyedChainHash(row: Omit<AuditRow, 'hash'>, key: string): string {
  return createHmac('sha256', key).update(hashedText(row, JSON.stringify(row.detail) ?? 'null')).digest('hex');
}

/** A row as stored, its detail the JSON text (or whatever else the column now holds). */
type StoredRow = typeof auditLog.$inferSelect;

/** The hash of a row as stored: its detail's text is hashed as it stands, so any edit of it — even one to the same JSON value — shows. */
const storedHash = (row: StoredRow) => sha256Hex(hashedText(row, row.detail));
/** The same, keyed. */
const storedKeyedHash = (row: StoredRow, key: string) => createHmac('sha256', key).update(hashedText(row, row.detail)).digest('hex');

const isJson = (text: string) => {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
};

/** A seq as it was found (a forged row's may be a fraction, or text). */
const shownSeq = (seq: unknown) => (typeof seq === 'string' ? JSON.stringify(seq) : String(seq));

export interface AuditAnchor {
  seq: number;
  hash: string;
}

export type AuditVerification =
  /** `prunedThrough`: the last row retention pruned (the chain's base); `anchorsPruned`: anchors at rows before it, no longer checkable. */
  /**
   * `keyedFrom`: the first row whose hash is keyed (AUDIT_CHAIN_KEY), when the check was given the key;
   * `notKeyed`: it was given the key and no row is keyed yet (the service keys each chain's end at start,
   * at each Cron Trigger on Workers, and nightly), so the rows can still be rewritten by someone holding
   * the database file.
   */
  | { ok: true; rows: number; anchorsHeld?: number; prunedThrough?: number; anchorsPruned?: number; keyedFrom?: number; notKeyed?: true }
  | { ok: false; rows: number; brokenAtSeq: number; reason: string };

/**
 * An anchor as text, `<tenant>:<seq>:<hash>`, the hash in eight groups of eight hex digits: the
 * logger masks anything like a CPR number (ten digits, letters beside them or not), which takes
 * ten digits out of about one hash in fourteen; no group is long enough for that.
 */
export function anchorText(head: { tenant: string; seq: number; hash: string }): string {
  return `${head.tenant}:${head.seq}:${groupedHash(head.hash)}`;
}

/** A hash in groups of eight hex digits, `3f2a9c1e:…`, as it is logged. */
export const groupedHash = (hash: string): string => hash.match(/.{1,8}/g)?.join(':') ?? '';

/** Reads `<tenant>:<seq>:<hash>` (the hash grouped as logged, or in one piece); undefined if it is not one. */
export function parseAnchor(text: string): ({ tenant: string } & AuditAnchor) | undefined {
  const [tenant, seq, ...hash] = text.trim().split(':');
  const joined = hash.join('').toLowerCase();
  if (!tenant || !seq || !/^\d+$/.test(seq) || Number(seq) < 1 || !/^[0-9a-f]{64}$/.test(joined)) return undefined;
  return { tenant, seq: Number(seq), hash: joined };
}

/** Rows read per page when verifying. */
const VERIFY_PAGE = 1000;

/** A lost race for the chain's head: another writer took this (tenant, seq). Nothing else is retried (a batch may carry other writes). */
const isUniqueViolation = (error: unknown) => /UNIQUE constraint failed: audit_log\./i.test(String((error as { message?: string })?.message ?? error) + String((error as { cause?: unknown })?.cause ?? ''));

/**
 * `chainKey`: AUDIT_CHAIN_KEY — rows appended are keyed (`keyedChainHash`), and verify checks keyed rows;
 * `retiredChainKeys`: earlier keys, under which rows still verify (a change of key), none used to append.
 */
export function auditRepository({ db, batch }: Database, options: { chainKey?: string; retiredChainKeys?: readonly string[] } = {}) {
  const { chainKey } = options;
  const retiredKeys = chainKey ? (options.retiredChainKeys ?? []) : [];
  const keyedUnderRetired = (row: StoredRow) => retiredKeys.some((key) => storedKeyedHash(row, key) === row.hash);
  const hashOfNew = (row: Omit<AuditRow, 'hash'>) => (chainKey ? keyedChainHash(row, chainKey) : chainHash(row));
  // Appends within one process are serialised per tenant; across processes the (tenant, seq)
  // key makes a lost race fail, and we retry on the new head.
  const queues = new Map<string, Promise<unknown>>();
  // The head of each tenant's chain as this process last wrote it, so an append need not read it
  // first. Another writer (a job's thread, another process) moves the head unseen; then our insert
  // meets its (tenant, seq) and we read the head and try again — as before, only later.
  const heads = new Map<string, { seq: number; hash: string }>();
  // Single entries waiting for their turn, per tenant: written together when it comes (group commit),
  // so concurrent requests share a transaction and a sync to disk instead of queueing for one each.
  const waiting = new Map<string, { entry: AuditEntry; resolve: (row: AuditRow) => void; reject: (error: unknown) => void }[]>();

  /**
   * Rows (a JSON array of row arrays) as one INSERT, the values one parameter unpacked by
   * `json_each` (as the sync's marks do): no limit of bound parameters to cut around (D1 allows
   * 100), and less CPU than multi-row VALUES (measured: ~8 against ~11 ms for a chunk's 230 rows).
   * The detail goes as its JSON text, so the stored text is exactly what the hash covers.
   */
  const insertRows = (json: string) => {
    const field = <T>(index: number, name: string) => sql<T>`json_extract(j.value, ${sql.raw(`'$[${index}]'`)})`.as(name);
    return db.insert(auditLog).select(
      db
        .select({
          tenant: field<string>(0, 'tenant'),
          seq: field<number>(1, 'seq'),
          at: field<string>(2, 'at'),
          actor: field<string>(3, 'actor'),
          action: field<string>(4, 'action'),
          targetType: field<string>(5, 'target_type'),
          targetId: field<string>(6, 'target_id'),
          citizenId: field<string | null>(7, 'citizen_id'),
          detail: field<string>(8, 'detail'),
          prevHash: field<string>(9, 'prev_hash'),
          hash: field<string>(10, 'hash'),
        })
        .from(sql`json_each(${json}) as j`),
    );
  };

  /**
   * Appends several entries as one atomic batch, together with `alongWith`: the writes the entries record, so that both land or
   * neither does. A lost race for the chain's head retries the whole batch, which left nothing.
   */
  async function appendManyNow(tenant: string, entries: AuditEntry[], alongWith: Statement[]): Promise<AuditRow[]> {
    for (let attempt = 0; ; attempt++) {
      const head = heads.get(tenant) ?? (await readHead(tenant));
      let seq = head?.seq ?? 0;
      let prevHash = head?.hash ?? GENESIS_HASH;
      const rows: AuditRow[] = [];
      for (const entry of entries) {
        const unhashed = { tenant, seq: ++seq, at: entry.at, actor: entry.actor, action: entry.action, targetType: entry.targetType, targetId: entry.targetId, citizenId: entry.citizenId ?? null, detail: entry.detail ?? {}, prevHash };
        const row: AuditRow = { ...unhashed, hash: await hashOfNew(unhashed) };
        rows.push(row);
        prevHash = row.hash;
      }
      const statements: Statement[] = [];
      // One row alone is a plain insert (drizzle builds it in less time than the JSON form below).
      if (rows.length === 1) statements.push(db.insert(auditLog).values({ ...rows[0]!, detail: JSON.stringify(rows[0]!.detail) }));
      let pending: string[] = [];
      let size = 0;
      const flush = () => {
        if (pending.length > 0) statements.push(insertRows(`[${pending.join(',')}]`));
        pending = [];
        size = 0;
      };
      for (const r of statements.length > 0 ? [] : rows) {
        const row = JSON.stringify([r.tenant, r.seq, r.at, r.actor, r.action, r.targetType, r.targetId, r.citizenId, JSON.stringify(r.detail), r.prevHash, r.hash]);
        if (size > 0 && size + row.length > CHARACTERS_PER_INSERT) flush();
        pending.push(row);
        size += row.length + 1;
      }
      flush();
      // The chain's new head, once per commit (after the rows: a lost race meets their key first).
      statements.push(db.insert(auditHeads).values({ tenant, seq, hash: prevHash }).onConflictDoUpdate({ target: auditHeads.tenant, set: { seq, hash: prevHash } }));
      statements.push(...alongWith);
      try {
        await batch(statements);
        heads.set(tenant, { seq, hash: prevHash });
        return rows;
      } catch (error) {
        heads.delete(tenant);
        if (attempt < 20 && isUniqueViolation(error)) continue;
        throw error;
      }
    }
  }

  /**
   * The head to append after, when this process does not know it: the recorded head, or the last
   * row if that is further on (rows written without their head: by a release before the heads, while
   * both ran). The recorded head being further on means rows were deleted at the end: new rows go
   * after the head, so the gap stays where verify names it instead of being filled.
   */
  async function readHead(tenant: string): Promise<{ seq: number; hash: string } | undefined> {
    const [recorded] = await db.select({ seq: auditHeads.seq, hash: auditHeads.hash }).from(auditHeads).where(eq(auditHeads.tenant, tenant));
    // Only whole seqs: a forged row's may be a fraction or text (which sorts after every number).
    const [last] = await db.select({ seq: auditLog.seq, hash: auditLog.hash }).from(auditLog).where(and(eq(auditLog.tenant, tenant), sql`typeof(${auditLog.seq}) = 'integer'`)).orderBy(desc(auditLog.seq)).limit(1);
    if (!recorded) return last;
    return last && last.seq > recorded.seq ? last : recorded;
  }

  /** Rows as stored, in seq order, after the seq `after` (as it was found, whatever its type; all rows when undefined). */
  const storedRowsAfter = (tenant: string, after: unknown, limit: number): Promise<StoredRow[]> =>
    db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.tenant, tenant), after === undefined ? undefined : sql`${auditLog.seq} > ${after}`))
      .orderBy(asc(auditLog.seq))
      .limit(limit);

  /** Writes every single entry waiting for the tenant as one batch, and answers each caller with its row. */
  async function writeWaiting(tenant: string): Promise<void> {
    const group = waiting.get(tenant) ?? [];
    waiting.delete(tenant);
    if (group.length === 0) return;
    try {
      const rows = await appendManyNow(tenant, group.map((w) => w.entry), []);
      group.forEach((w, index) => w.resolve(rows[index]!));
    } catch (error) {
      for (const w of group) w.reject(error);
    }
  }

  function enqueue<T>(tenant: string, work: () => Promise<T>): Promise<T> {
    const previous = queues.get(tenant) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(work);
    queues.set(tenant, next);
    void next.finally(() => {
      if (queues.get(tenant) === next) queues.delete(tenant);
    }).catch(() => undefined);
    return next;
  }

  // A detail that is not JSON was written by no append (it is tampered with; verify names the row):
  // shown as such, so the logs built on the rows (the citizen's, the DPO's) still answer.
  const detailOf = (text: string): Record<string, unknown> => {
    try {
      return JSON.parse(text) as Record<string, unknown>;
    } catch {
      return { unreadable: 'this row’s detail is not JSON: it was changed outside the service (npm run audit:verify names the row)' };
    }
  };
  const toRow = (r: typeof auditLog.$inferSelect): AuditRow => ({ ...r, detail: detailOf(r.detail) });
  /** A row of the chain: a whole seq from 1 (a forged row's may be 0, negative, a fraction or text). */
  const inChain = sql`(typeof(${auditLog.seq}) = 'integer' and ${auditLog.seq} >= 1)`;

  return {
    /** Resolves once the entry is committed; entries appended while the tenant's previous write runs are committed together. */
    append(tenant: string, entry: AuditEntry): Promise<AuditRow> {
      return new Promise((resolve, reject) => {
        // What cannot be written fails alone, not the entries it would have been written with.
        try {
          JSON.stringify(entry.detail ?? {});
        } catch (error) {
          reject(error);
          return;
        }
        const group = waiting.get(tenant);
        if (group) group.push({ entry, resolve, reject });
        else {
          waiting.set(tenant, [{ entry, resolve, reject }]);
          void enqueue(tenant, () => writeWaiting(tenant));
        }
      });
    },
    /** A commit that writes statements in one batch with these entries: the change and its record, or neither. */
    committing(tenant: string, entries: AuditEntry[]): Commit {
      return (statements) => this.appendMany(tenant, entries, statements);
    },
    /**
     * Commits a conditional write (one row or none) with these entries and what goes with it: false,
     * and nothing written, when it matched no row.
     */
    async appendIfOneRowChanged(tenant: string, entries: AuditEntry[], write: Statement, alongWith: Statement[] = []): Promise<boolean> {
      try {
        await this.appendMany(tenant, entries, [write, ...abortUnlessOneRowChanged(db), ...alongWith]);
        return true;
      } catch (error) {
        if (isLostWriteAbort(error)) return false;
        throw error;
      }
    },
    /** `alongWith`: statements written in the same atomic batch as the entries (what they record). */
    async appendMany(tenant: string, entries: AuditEntry[], alongWith: Statement[] = []): Promise<AuditRow[]> {
      if (entries.length === 0) {
        await batch(alongWith);
        return [];
      }
      return enqueue(tenant, () => appendManyNow(tenant, entries, alongWith));
    },
    /**
     * The chain's rows (seq 1, 2, 3…) in seq order: what the logs built on it tell (the citizen's,
     * the DPO's). A row with any other seq was written by no append; it is left out here, listed by
     * `outsideChain`, and named by verify.
     */
    async list(tenant: string, options: { citizenId?: string; afterSeq?: number; limit?: number } = {}): Promise<AuditRow[]> {
      const rows = await db
        .select()
        .from(auditLog)
        .where(
          and(
            eq(auditLog.tenant, tenant),
            options.citizenId ? eq(auditLog.citizenId, options.citizenId) : undefined,
            options.afterSeq !== undefined ? gt(auditLog.seq, options.afterSeq) : undefined,
            inChain,
          ),
        )
        .orderBy(asc(auditLog.seq))
        .limit(options.limit ?? 1000);
      return rows.map(toRow);
    },
    /**
     * Reads of plans by caseworkers whose department takes no part in them (`departmentInPlan` false,
     * decision 0032) in the period, in log order: the DPO's log follow-up.
     */
    async readsFromOutside(tenant: string, period: ReadsFromOutsidePeriod): Promise<AuditRow[]> {
      return (await this.readsFromOutsideQuery(tenant, period)).map(toRow);
    },
    /** How many reads from outside a plan (decision 0032) the log holds since `since`: from the partial index alone. */
    async countReadsFromOutside(tenant: string, since: string): Promise<number> {
      const [row] = await this.countReadsFromOutsideQuery(tenant, since);
      return row?.n ?? 0;
    },
    /** The query of `countReadsFromOutside`, unrun (its query plan is tested). */
    countReadsFromOutsideQuery(tenant: string, since: string) {
      return db
        .select({ n: sql<number>`count(*)` })
        .from(auditLog)
        .where(and(eq(auditLog.tenant, tenant), readFromOutside(auditLog.detail), gte(auditLog.at, since)));
    },
    /** The query of `readsFromOutside`, unrun (its query plan is tested: the partial index, by tenant and time). */
    readsFromOutsideQuery(tenant: string, period: ReadsFromOutsidePeriod) {
      return db
        .select()
        .from(auditLog)
        .where(
          and(
            eq(auditLog.tenant, tenant),
            readFromOutside(auditLog.detail),
            gte(auditLog.at, period.from),
            lt(auditLog.at, period.to),
            // `+seq`: neither the chain's bound nor a page's cursor may steer SQLite to the primary key's range (every row after it) over the partial index.
            period.afterSeq !== undefined ? sql`+${auditLog.seq} > ${period.afterSeq}` : undefined,
            sql`(typeof(${auditLog.seq}) = 'integer' and +${auditLog.seq} >= 1)`,
          ),
        )
        .orderBy(asc(auditLog.seq))
        .limit(period.limit);
    },
    /** Rows that are not part of the chain (a seq that is not a whole number from 1: inserted outside the service), their seq as found, in stored order. */
    async outsideChain(tenant: string, options: { citizenId?: string; limit?: number } = {}): Promise<(Omit<AuditRow, 'seq'> & { seq: string })[]> {
      const rows = await db
        .select()
        .from(auditLog)
        .where(and(eq(auditLog.tenant, tenant), options.citizenId ? eq(auditLog.citizenId, options.citizenId) : undefined, not(inChain)))
        .orderBy(asc(auditLog.seq))
        .limit(options.limit ?? 1000);
      return rows.map((r) => ({ ...toRow(r), seq: shownSeq(r.seq) }));
    },
    /** Where the tenant's chain begins: the last row retention pruned (seq 0 and the genesis hash when none was). */
    async base(tenant: string): Promise<{ seq: number; hash: string }> {
      const [row] = await db.select({ seq: auditBases.seq, hash: auditBases.hash }).from(auditBases).where(eq(auditBases.tenant, tenant));
      return row ?? { seq: 0, hash: GENESIS_HASH };
    },
    /**
     * Retention of the log itself (RETENTION_AUDIT_DAYS): deletes the chain's oldest rows written
     * before `before`, at most `maxRows` (a prefix: it stops at the first row kept, whatever comes
     * after). In one batch it moves the chain's base to the last row deleted — the first row kept
     * links to its hash — and appends `audit.pruned`, which records the base, so verify can tell this
     * from rows cut out. Answers how many rows went.
     */
    async pruneBefore(tenant: string, before: string, maxRows: number, recorded: Omit<AuditEntry, 'action' | 'targetType' | 'targetId' | 'detail'> & { detail?: Record<string, unknown> }): Promise<number> {
      const base = await this.base(tenant);
      const [firstKept] = await db
        .select({ seq: auditLog.seq })
        .from(auditLog)
        .where(and(eq(auditLog.tenant, tenant), gt(auditLog.seq, base.seq), sql`${auditLog.at} >= ${before}`, inChain))
        .orderBy(asc(auditLog.seq))
        .limit(1);
      const head = await readHead(tenant);
      const through = Math.min((firstKept?.seq ?? (head?.seq ?? 0) + 1) - 1, base.seq + maxRows);
      if (through <= base.seq) return 0;
      const [last] = await db.select({ hash: auditLog.hash }).from(auditLog).where(and(eq(auditLog.tenant, tenant), eq(auditLog.seq, through)));
      if (!last) throw new Error(`audit row ${through} of ${tenant} is missing: verify the chain (npm run audit:verify) before retention prunes it`);
      await this.appendMany(
        tenant,
        [{ ...recorded, action: 'audit.pruned', targetType: 'audit-chain', targetId: tenant, detail: { ...recorded.detail, fromSeq: base.seq + 1, throughSeq: through, throughHash: last.hash, before } }],
        [
          db.insert(auditBases).values({ tenant, seq: through, hash: last.hash }).onConflictDoUpdate({ target: auditBases.tenant, set: { seq: through, hash: last.hash } }),
          db.delete(auditLog).where(and(eq(auditLog.tenant, tenant), sql`${auditLog.seq} <= ${through}`)),
        ],
      );
      return through - base.seq;
    },
    /** Every tenant with an audit chain: with rows, or with a recorded head (whose rows may all have been deleted). */
    async tenants(): Promise<string[]> {
      const [logged, headed] = await Promise.all([distinctLeading(db, auditLog, auditLog.tenant), db.select({ tenant: auditHeads.tenant }).from(auditHeads)]);
      return [...new Set([...logged, ...headed.map((r) => r.tenant)])];
    },
    /**
     * With AUDIT_CHAIN_KEY: keys the end of the tenant's chain if its last row is not keyed with it yet (a
     * chain written before the key was set, or under a key since retired), by appending `audit.chain-keyed`
     * — so every row so far is covered by the current key without waiting for the tenant's next audited
     * action, and a retired key (which may have leaked) can no longer add a row verify accepts. True if it did.
     */
    async keyChainEnd(tenant: string, at: string): Promise<boolean> {
      if (!chainKey) return false;
      const head = await readHead(tenant);
      if (!head) return false;
      const [row] = await db.select().from(auditLog).where(and(eq(auditLog.tenant, tenant), eq(auditLog.seq, head.seq)));
      if (row && storedKeyedHash(row, chainKey) === row.hash) return false;
      await this.append(tenant, { at, actor: 'system:audit', action: 'audit.chain-keyed', targetType: 'audit-chain', targetId: tenant, detail: { reason: 'AUDIT_CHAIN_KEY is set: from this row on the chain is keyed, and it covers every row before it' } });
      return true;
    },
    /** Each tenant's recorded head: the anchors the nightly job logs. */
    async heads(): Promise<{ tenant: string; seq: number; hash: string }[]> {
      return db.select({ tenant: auditHeads.tenant, seq: auditHeads.seq, hash: auditHeads.hash }).from(auditHeads).orderBy(asc(auditHeads.tenant));
    },
    /**
     * Walks the chain in pages, every row as stored (whatever its seq), and names the first that does
     * not hold: a row inserted with a seq outside 1, 2, 3…, a row missing, a broken link, content that
     * does not match its hash, or — at the end — rows missing after the last one found, or found after
     * the recorded head. `anchors` (heads logged earlier, kept outside the database) must still be
     * rows of the chain with the same hash: what catches a rewrite with every hash recomputed.
     */
    async verify(tenant: string, options: { anchors?: readonly AuditAnchor[] } = {}): Promise<AuditVerification> {
      // A chain retention pruned begins after its base: the last row deleted, whose hash the first row kept links to.
      const base = await this.base(tenant);
      const broken = (brokenAtSeq: number, reason: string, reached = checked) => ({ ok: false as const, rows: reached - base.seq, brokenAtSeq, reason });
      let prevHash = base.hash;
      let checked = base.seq;
      let last: unknown = base.seq > 0 ? base.seq : undefined;
      let anchorsHeld = 0;
      let anchorsPruned = 0;
      /** The first keyed row met: every row after it must be keyed too. */
      let keyedFrom: number | undefined;
      /** The first row keyed with the current key: every row after it must be keyed with it too. */
      let currentKeyFrom: number | undefined;
      /** Whether an `audit.pruned` row of the chain records the base (what tells pruning from rows cut out). */
      let baseRecorded = base.seq === 0;
      if (base.seq > 0) {
        const [below] = await db.select({ seq: auditLog.seq }).from(auditLog).where(and(eq(auditLog.tenant, tenant), sql`${auditLog.seq} <= ${base.seq}`)).limit(1);
        if (below) return broken(typeof below.seq === 'number' ? below.seq : base.seq, `a row with seq ${shownSeq(below.seq)} is at or before row ${base.seq}, where retention pruned the chain: it was inserted afterwards`);
      }
      const anchors: AuditAnchor[] = [];
      for (const anchor of options.anchors ?? []) {
        if (anchor.seq === base.seq && base.seq > 0) {
          if (anchor.hash !== base.hash) return broken(base.seq, `the chain's base (row ${base.seq}, where retention pruned it) is not the anchored one (${anchor.hash.slice(0, 12)}…): the chain was rewritten at or before this row`);
          anchorsHeld++;
        } else if (Number.isInteger(anchor.seq) && anchor.seq >= 1 && anchor.seq < base.seq) anchorsPruned++;
        else anchors.push(anchor);
      }
      const anchored = new Map<number, string[]>();
      for (const anchor of anchors) anchored.set(anchor.seq, [...(anchored.get(anchor.seq) ?? []), anchor.hash]);
      for (;;) {
        const page = await storedRowsAfter(tenant, last, VERIFY_PAGE);
        for (const row of page) {
          const expectedSeq = checked + 1;
          if (typeof row.seq !== 'number' || !Number.isInteger(row.seq) || row.seq < 1)
            return broken(typeof row.seq === 'number' ? row.seq : expectedSeq, `a row with seq ${shownSeq(row.seq)} was inserted ${checked === 0 ? 'before row 1' : `after row ${checked}`} (seqs are whole numbers from 1)`);
          if (row.seq !== expectedSeq) return broken(expectedSeq, `row ${expectedSeq} is missing`);
          if (row.prevHash !== prevHash) return broken(row.seq, 'it does not link to the row before it');
          if (keyedFrom === undefined && (await storedHash(row)) === row.hash) {
            // An unkeyed row: as every row was before AUDIT_CHAIN_KEY.
          } else if (chainKey && storedKeyedHash(row, chainKey) === row.hash) {
            keyedFrom ??= row.seq;
            currentKeyFrom ??= row.seq;
          } else if (keyedUnderRetired(row)) {
            // A retired key signs only rows from before the change: one after a row under the current key was made with a key that may have leaked.
            if (currentKeyFrom !== undefined) return broken(row.seq, `it is keyed with a retired AUDIT_CHAIN_KEY, though the chain is keyed with the current one from row ${currentKeyFrom}: it was written outside the service`);
            keyedFrom ??= row.seq;
          } else {
            const edited = isJson(row.detail) ? '' : ' (its detail is not JSON: it was edited)';
            if (keyedFrom !== undefined) return broken(row.seq, (await storedHash(row)) === row.hash ? `its hash is not keyed though the chain is keyed from row ${keyedFrom}: it was written without AUDIT_CHAIN_KEY, outside the service` : `its content does not match its keyed hash${edited}`);
            return broken(row.seq, chainKey ? `its content does not match its hash${edited}` : `its content does not match its hash${edited}, or the row is keyed with AUDIT_CHAIN_KEY, which this check was not given`);
          }
          for (const hash of anchored.get(row.seq) ?? []) {
            if (hash !== row.hash) return broken(row.seq, `its hash is not the anchored one (${hash.slice(0, 12)}…): the chain was rewritten at or before this row`);
            anchorsHeld++;
          }
          if (!baseRecorded && row.action === 'audit.pruned' && isJson(row.detail)) {
            const detail = JSON.parse(row.detail) as { throughSeq?: unknown; throughHash?: unknown };
            baseRecorded = detail.throughSeq === base.seq && detail.throughHash === base.hash;
          }
          prevHash = row.hash;
          last = row.seq;
          checked++;
        }
        if (page.length === VERIFY_PAGE) continue;
        // The head is read after the rows, and is committed with them: it is never behind a row
        // read before it. Further on, rows were appended meanwhile (walk on) or deleted.
        const [head] = await db.select({ seq: auditHeads.seq, hash: auditHeads.hash }).from(auditHeads).where(eq(auditHeads.tenant, tenant));
        if (head && head.seq > checked) {
          if ((await storedRowsAfter(tenant, last, 1)).length > 0) continue;
          return broken(checked + 1, `${head.seq === checked + 1 ? `row ${head.seq} is missing` : `rows ${checked + 1} to ${head.seq} are missing`}: the chain's recorded head is row ${head.seq} (rows were deleted at the end)`);
        }
        if (!head) {
          if (checked > 0) return broken(checked + 1, `no head is recorded for this chain (audit_heads has no row for the tenant): whether rows after row ${checked} were deleted cannot be told`);
        } else if (head.seq < checked) {
          return broken(head.seq + 1, `the chain's recorded head is row ${head.seq}: rows from ${head.seq + 1} on were not written with it (added outside the service)`, head.seq);
        } else if (head.hash !== prevHash) {
          return broken(head.seq, "it is not the chain's recorded head (the head's hash differs): it was edited", head.seq - 1);
        }
        // An anchor the walk did not meet: its row is gone (the chain now ends before it), or it named no row a chain can hold.
        const unmet = anchors.filter((anchor) => !(Number.isInteger(anchor.seq) && anchor.seq >= 1 && anchor.seq <= checked)).sort((a, b) => a.seq - b.seq)[0];
        if (unmet) return broken(unmet.seq, `row ${unmet.seq}, anchored with hash ${unmet.hash.slice(0, 12)}…, is not in the chain (it ends at row ${checked})`);
        if (!baseRecorded) return broken(base.seq + 1, `the chain begins after row ${base.seq}, but no audit.pruned row records retention pruning it there: rows were cut out`);
        return {
          ok: true,
          rows: checked - base.seq,
          ...((options.anchors ?? []).length > 0 ? { anchorsHeld } : {}),
          ...(base.seq > 0 ? { prunedThrough: base.seq } : {}),
          ...(anchorsPruned > 0 ? { anchorsPruned } : {}),
          ...(keyedFrom !== undefined ? { keyedFrom } : chainKey && checked > base.seq ? { notKeyed: true as const } : {}),
        };
      }
    },
  };
}
export type AuditRepository = ReturnType<typeof auditRepository>;
