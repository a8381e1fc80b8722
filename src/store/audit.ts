/**
 * The audit log: append-only and hash-chained per tenant. Each row's hash covers its content and
 * the previous row's hash, so editing or deleting any row breaks the chain from there on (S5).
 * Rows hold references (ids, categories, legal basis) and never content or CPR numbers.
 */
import { createHash } from 'node:crypto';
import { and, asc, desc, eq, gt, sql } from 'drizzle-orm';
import type { Commit, Database, Statement } from './db';
import { auditLog } from './schema';
import { abortUnlessOneRowChanged, isLostWriteAbort } from './write-guard';

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

export function chainHash(row: Omit<AuditRow, 'hash'>): Promise<string> {
  // A fixed field order makes the hash independent of how the row was built.
  return sha256Hex(
    JSON.stringify([row.tenant, row.seq, row.at, row.actor, row.action, row.targetType, row.targetId, row.citizenId ?? null, row.detail, row.prevHash]),
  );
}

/** A lost race for the chain's head: another writer took this (tenant, seq). Nothing else is retried (a batch may carry other writes). */
const isUniqueViolation = (error: unknown) => /UNIQUE constraint failed: audit_log\./i.test(String((error as { message?: string })?.message ?? error) + String((error as { cause?: unknown })?.cause ?? ''));

export function auditRepository({ db, batch }: Database) {
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
      const known = heads.get(tenant);
      const head = known ? [known] : await db.select({ seq: auditLog.seq, hash: auditLog.hash }).from(auditLog).where(eq(auditLog.tenant, tenant)).orderBy(desc(auditLog.seq)).limit(1);
      let seq = head[0]?.seq ?? 0;
      let prevHash = head[0]?.hash ?? GENESIS_HASH;
      const rows: AuditRow[] = [];
      for (const entry of entries) {
        const unhashed = { tenant, seq: ++seq, at: entry.at, actor: entry.actor, action: entry.action, targetType: entry.targetType, targetId: entry.targetId, citizenId: entry.citizenId ?? null, detail: entry.detail ?? {}, prevHash };
        const row: AuditRow = { ...unhashed, hash: await chainHash(unhashed) };
        rows.push(row);
        prevHash = row.hash;
      }
      const statements: Statement[] = [];
      // One row alone is a plain insert (drizzle builds it in less time than the JSON form below).
      if (rows.length === 1 && alongWith.length === 0) statements.push(db.insert(auditLog).values({ ...rows[0]!, detail: JSON.stringify(rows[0]!.detail) }));
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
      statements.push(...alongWith);
      try {
        // One statement is atomic on its own: no transaction around it (a batch costs a BEGIN and a COMMIT more).
        if (statements.length === 1) await statements[0];
        else await batch(statements);
        heads.set(tenant, { seq, hash: prevHash });
        return rows;
      } catch (error) {
        heads.delete(tenant);
        if (attempt < 20 && isUniqueViolation(error)) continue;
        throw error;
      }
    }
  }

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

  const toRow = (r: typeof auditLog.$inferSelect): AuditRow => ({ ...r, detail: JSON.parse(r.detail) as Record<string, unknown> });

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
    async list(tenant: string, options: { citizenId?: string; afterSeq?: number; limit?: number } = {}): Promise<AuditRow[]> {
      const rows = await db
        .select()
        .from(auditLog)
        .where(
          and(
            eq(auditLog.tenant, tenant),
            options.citizenId ? eq(auditLog.citizenId, options.citizenId) : undefined,
            options.afterSeq !== undefined ? gt(auditLog.seq, options.afterSeq) : undefined,
          ),
        )
        .orderBy(asc(auditLog.seq))
        .limit(options.limit ?? 1000);
      return rows.map(toRow);
    },
    async tenants(): Promise<string[]> {
      const rows = await db.selectDistinct({ tenant: auditLog.tenant }).from(auditLog);
      return rows.map((r) => r.tenant);
    },
    /** Walks the chain in pages; names the first row whose hash or link does not hold. */
    async verify(tenant: string): Promise<{ ok: true; rows: number } | { ok: false; rows: number; brokenAtSeq: number; reason: string }> {
      let prevHash = GENESIS_HASH;
      let expectedSeq = 1;
      let checked = 0;
      for (;;) {
        const page = await this.list(tenant, { afterSeq: expectedSeq - 1, limit: 1000 });
        if (page.length === 0) return { ok: true, rows: checked };
        for (const row of page) {
          if (row.seq !== expectedSeq) return { ok: false, rows: checked, brokenAtSeq: expectedSeq, reason: `row ${expectedSeq} is missing` };
          if (row.prevHash !== prevHash) return { ok: false, rows: checked, brokenAtSeq: row.seq, reason: 'it does not link to the row before it' };
          const { hash, ...rest } = row;
          if ((await chainHash(rest)) !== hash) return { ok: false, rows: checked, brokenAtSeq: row.seq, reason: 'its content does not match its hash' };
          prevHash = hash;
          expectedSeq++;
          checked++;
        }
      }
    },
  };
}
export type AuditRepository = ReturnType<typeof auditRepository>;
