/** Inbound webhook notices: stored before the 2xx, deduplicated by the sender's id per municipality, processed under a lease. */
import { and, asc, desc, eq, isNull, lt, lte, or, sql } from 'drizzle-orm';
import { distinctLeading, inList, MAX_PARAMETER_CHARS } from './query';
import type { Database, Statement } from './db';
import { inboundWebhooks } from './schema';

export type InboundWebhookRow = typeof inboundWebhooks.$inferSelect;
export type NewInboundWebhook = Pick<InboundWebhookRow, 'source' | 'webhookId' | 'tenant' | 'eventType' | 'body' | 'receivedAt'>;

/** Notices stored by one statement at most (and bodies of MAX_PARAMETER_CHARS): a bounded JSON parameter (a notice is at most 16 KB). */
const GROUP_LIMIT = 200;
const keyOf = (tenant: string, source: string, webhookId: string) => `${tenant}\u0000${source}\u0000${webhookId}`;
const later: (run: () => void) => void = (globalThis as { setImmediate?: (run: () => void) => void }).setImmediate ?? ((run) => setTimeout(run, 0));

export function inboundWebhookRepository({ db }: Database) {
  type Waiting = { row: NewInboundWebhook; resolve: (outcome: 'stored' | 'duplicate') => void; reject: (error: unknown) => void };
  const queue: Waiting[] = [];
  let flushing = false;

  /** Stores the queued notices with one INSERT (one commit) and tells each caller what became of its own. */
  async function flush(): Promise<void> {
    // At most GROUP_LIMIT notices, and bodies of half MAX_PARAMETER_CHARS (JSON's escapes at most double
    // them in the parameter): 200 notices of 16 KB would pass D1's 2 MB a value.
    let size = 0;
    let count = 0;
    while (count < Math.min(GROUP_LIMIT, queue.length) && (count === 0 || size + (queue[count]!.row.body?.length ?? 0) <= MAX_PARAMETER_CHARS / 2)) size += queue[count++]!.row.body?.length ?? 0;
    const group = queue.splice(0, count);
    if (queue.length > 0) later(() => void flush());
    else flushing = false;
    try {
      const rows = JSON.stringify(group.map(({ row }) => [row.source, row.webhookId, row.tenant, row.eventType, row.body, row.receivedAt]));
      const inserted = await db
        .insert(inboundWebhooks)
        .select(
          db
            .select({
              source: sql<string>`json_extract(j.value, '$[0]')`.as('source'),
              webhookId: sql<string>`json_extract(j.value, '$[1]')`.as('webhook_id'),
              tenant: sql<string>`json_extract(j.value, '$[2]')`.as('tenant'),
              eventType: sql<string>`json_extract(j.value, '$[3]')`.as('event_type'),
              body: sql<string>`json_extract(j.value, '$[4]')`.as('body'),
              receivedAt: sql<string>`json_extract(j.value, '$[5]')`.as('received_at'),
              status: sql<'pending'>`'pending'`.as('status'),
              claimedUntil: sql<null>`null`.as('claimed_until'),
              attempts: sql<number>`0`.as('attempts'),
              runId: sql<null>`null`.as('run_id'),
              processedAt: sql<null>`null`.as('processed_at'),
              lastError: sql<null>`null`.as('last_error'),
            })
            .from(sql`json_each(${rows}) as j`)
            .where(sql`1`), // SQLite needs a WHERE before an upsert clause on INSERT … SELECT.
        )
        .onConflictDoNothing()
        .returning({ tenant: inboundWebhooks.tenant, source: inboundWebhooks.source, webhookId: inboundWebhooks.webhookId });
      const stored = new Set(inserted.map((r) => keyOf(r.tenant, r.source, r.webhookId)));
      // The same id twice in one group: the first is stored, the second is its duplicate.
      for (const { row, resolve } of group) resolve(stored.delete(keyOf(row.tenant, row.source, row.webhookId)) ? 'stored' : 'duplicate');
    } catch (error) {
      for (const { reject } of group) reject(error);
    }
  }

  const countWith = async (tenant: string, status: InboundWebhookRow['status']) => {
    const [row] = await db.select({ n: sql<number>`count(*)` }).from(inboundWebhooks).where(and(eq(inboundWebhooks.status, status), eq(inboundWebhooks.tenant, tenant)));
    return Number(row?.n ?? 0);
  };
  const pending = (now: string) => and(eq(inboundWebhooks.status, 'pending'), or(isNull(inboundWebhooks.claimedUntil), lte(inboundWebhooks.claimedUntil, now)));
  return {
    /**
     * Stores a notice; `duplicate` when the source already sent one with this id (it is not stored
     * again). Resolves once the notice is committed. Notices arriving together are committed
     * together (group commit): one INSERT for all that came in while the event loop was busy, so a
     * burst costs one commit per group, not one per notice.
     */
    receive(row: NewInboundWebhook): Promise<'stored' | 'duplicate'> {
      return new Promise((resolve, reject) => {
        queue.push({ row, resolve, reject });
        if (!flushing) {
          flushing = true;
          later(() => void flush());
        }
      });
    },
    /** (tenant, source) pairs with notices waiting and not claimed by a live lease: what a processor works through. */
    async waiting(now: string, limit = 100): Promise<{ tenant: string; source: string }[]> {
      return db.selectDistinct({ tenant: inboundWebhooks.tenant, source: inboundWebhooks.source }).from(inboundWebhooks).where(pending(now)).limit(limit);
    },
    /** Takes the tenant's waiting notices from one source (at most `limit`), under a lease until `leaseUntil`, counting the try. */
    async claim(tenant: string, source: string, now: string, leaseUntil: string, limit = 1000): Promise<{ webhookId: string; attempts: number }[]> {
      const ids = await db
        .select({ id: inboundWebhooks.webhookId })
        .from(inboundWebhooks)
        .where(and(eq(inboundWebhooks.tenant, tenant), eq(inboundWebhooks.source, source), pending(now)))
        .orderBy(asc(inboundWebhooks.receivedAt))
        .limit(limit);
      if (ids.length === 0) return [];
      // The same condition again in the update: of two processors racing, each notice goes to one.
      return (await db
        .update(inboundWebhooks)
        .set({ claimedUntil: leaseUntil, attempts: sql`${inboundWebhooks.attempts} + 1` })
        .where(and(eq(inboundWebhooks.tenant, tenant), eq(inboundWebhooks.source, source), inList(inboundWebhooks.webhookId, ids.map((r) => r.id)), pending(now)))
        .returning({ webhookId: inboundWebhooks.webhookId, attempts: inboundWebhooks.attempts }));
    },
    /** The notices are done: a sync run read the source's changes after they arrived (or there was nothing to do). */
    async finish(tenant: string, source: string, ids: string[], outcome: { status: 'processed' | 'ignored'; runId: string | null; reason?: string; at: string }): Promise<void> {
      if (ids.length === 0) return;
      await db
        .update(inboundWebhooks)
        .set({ status: outcome.status, runId: outcome.runId, processedAt: outcome.at, claimedUntil: null, lastError: outcome.reason ?? null })
        .where(and(eq(inboundWebhooks.tenant, tenant), eq(inboundWebhooks.source, source), inList(inboundWebhooks.webhookId, ids)));
    },
    /** The run stopped at its limit and goes on: the notices wait for it, and this try is not counted against them. */
    async release(tenant: string, source: string, ids: string[], reason: string): Promise<void> {
      if (ids.length === 0) return;
      await db
        .update(inboundWebhooks)
        .set({ claimedUntil: null, attempts: sql`max(${inboundWebhooks.attempts} - 1, 0)`, lastError: reason })
        .where(and(eq(inboundWebhooks.tenant, tenant), eq(inboundWebhooks.source, source), inList(inboundWebhooks.webhookId, ids), eq(inboundWebhooks.status, 'pending')));
    },
    /** The run failed: the notices wait, not taken again before `retryAt`, with the reason. */
    async retryLater(tenant: string, source: string, ids: string[], error: string, retryAt: string): Promise<void> {
      if (ids.length === 0) return;
      await db
        .update(inboundWebhooks)
        .set({ claimedUntil: retryAt, lastError: error })
        .where(and(eq(inboundWebhooks.tenant, tenant), eq(inboundWebhooks.source, source), inList(inboundWebhooks.webhookId, ids), eq(inboundWebhooks.status, 'pending')));
    },
    /** Their last try failed: the notices are dead, kept with their body for IT staff until retention. */
    async bury(tenant: string, source: string, ids: string[], error: string): Promise<void> {
      if (ids.length === 0) return;
      await db
        .update(inboundWebhooks)
        .set({ status: 'dead', claimedUntil: null, lastError: error })
        .where(and(eq(inboundWebhooks.tenant, tenant), eq(inboundWebhooks.source, source), inList(inboundWebhooks.webhookId, ids), eq(inboundWebhooks.status, 'pending')));
    },
    /** A dead notice waiting again, due now, its tries counted afresh (one row or none: guard it). */
    retryDeadStatement(tenant: string, source: string, webhookId: string): Statement {
      return db
        .update(inboundWebhooks)
        .set({ status: 'pending', claimedUntil: null, attempts: 0, lastError: null })
        .where(and(eq(inboundWebhooks.tenant, tenant), eq(inboundWebhooks.source, source), eq(inboundWebhooks.webhookId, webhookId), eq(inboundWebhooks.status, 'dead')));
    },
    async get(tenant: string, source: string, webhookId: string): Promise<InboundWebhookRow | null> {
      return (await db.select().from(inboundWebhooks).where(and(eq(inboundWebhooks.tenant, tenant), eq(inboundWebhooks.source, source), eq(inboundWebhooks.webhookId, webhookId))).limit(1))[0] ?? null;
    },
    async list(tenant: string, limit = 50, offset = 0): Promise<InboundWebhookRow[]> {
      return db.select().from(inboundWebhooks).where(eq(inboundWebhooks.tenant, tenant)).orderBy(desc(inboundWebhooks.receivedAt), desc(inboundWebhooks.webhookId)).limit(limit).offset(offset);
    },
    async countPending(tenant: string): Promise<number> {
      return countWith(tenant, 'pending');
    },
    async countDead(tenant: string): Promise<number> {
      return countWith(tenant, 'dead');
    },
    async tenants(): Promise<string[]> {
      return distinctLeading(db, inboundWebhooks, inboundWebhooks.tenant);
    },
    /** Retention (R16): finished and dead notices older than `before` go (the source's replay window is minutes, not days). */
    async deleteFinishedBefore(tenant: string, before: string): Promise<number> {
      const deleted = await db
        .delete(inboundWebhooks)
        .where(and(eq(inboundWebhooks.tenant, tenant), sql`${inboundWebhooks.status} <> 'pending'`, lt(inboundWebhooks.receivedAt, before)))
        .returning({ id: inboundWebhooks.webhookId });
      return deleted.length;
    },
  };
}
export type InboundWebhookRepository = ReturnType<typeof inboundWebhookRepository>;
