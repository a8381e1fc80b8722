/** Inbound webhook notices: stored before the 2xx, deduplicated by the sender's id, processed under a lease. */
import { and, asc, desc, eq, inArray, isNull, lt, lte, or, sql } from 'drizzle-orm';
import type { Database } from './db';
import { inboundWebhooks } from './schema';

export type InboundWebhookRow = typeof inboundWebhooks.$inferSelect;
export type NewInboundWebhook = Pick<InboundWebhookRow, 'source' | 'webhookId' | 'tenant' | 'eventType' | 'body' | 'receivedAt'>;

export function inboundWebhookRepository({ db }: Database) {
  const pending = (now: string) => and(eq(inboundWebhooks.status, 'pending'), or(isNull(inboundWebhooks.claimedUntil), lte(inboundWebhooks.claimedUntil, now)));
  return {
    /** Stores a notice; `duplicate` when the source already sent one with this id (it is not stored again). */
    async receive(row: NewInboundWebhook): Promise<'stored' | 'duplicate'> {
      const inserted = await db
        .insert(inboundWebhooks)
        .values({ ...row, status: 'pending' })
        .onConflictDoNothing({ target: [inboundWebhooks.source, inboundWebhooks.webhookId] })
        .returning({ id: inboundWebhooks.webhookId });
      return inserted.length > 0 ? 'stored' : 'duplicate';
    },
    /** (tenant, source) pairs with notices waiting and not claimed by a live lease: what a processor works through. */
    async waiting(now: string, limit = 100): Promise<{ tenant: string; source: string }[]> {
      return db.selectDistinct({ tenant: inboundWebhooks.tenant, source: inboundWebhooks.source }).from(inboundWebhooks).where(pending(now)).limit(limit);
    },
    /** Takes the tenant's waiting notices from one source (at most `limit`), under a lease until `leaseUntil`. */
    async claim(tenant: string, source: string, now: string, leaseUntil: string, limit = 500): Promise<InboundWebhookRow[]> {
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
        .where(and(eq(inboundWebhooks.tenant, tenant), eq(inboundWebhooks.source, source), inArray(inboundWebhooks.webhookId, ids.map((r) => r.id)), pending(now)))
        .returning()) as InboundWebhookRow[];
    },
    /** The notices are done: a sync run read the source's changes after they arrived (or there was nothing to do). */
    async finish(tenant: string, source: string, ids: string[], outcome: { status: 'processed' | 'ignored'; runId: string | null; reason?: string; at: string }): Promise<void> {
      if (ids.length === 0) return;
      await db
        .update(inboundWebhooks)
        .set({ status: outcome.status, runId: outcome.runId, processedAt: outcome.at, claimedUntil: null, lastError: outcome.reason ?? null })
        .where(and(eq(inboundWebhooks.tenant, tenant), eq(inboundWebhooks.source, source), inArray(inboundWebhooks.webhookId, ids)));
    },
    /** The run failed: the notices wait for the next try, with the reason. */
    async release(tenant: string, source: string, ids: string[], error: string): Promise<void> {
      if (ids.length === 0) return;
      await db
        .update(inboundWebhooks)
        .set({ claimedUntil: null, lastError: error })
        .where(and(eq(inboundWebhooks.tenant, tenant), eq(inboundWebhooks.source, source), inArray(inboundWebhooks.webhookId, ids), eq(inboundWebhooks.status, 'pending')));
    },
    async list(tenant: string, limit = 50, offset = 0): Promise<InboundWebhookRow[]> {
      return db.select().from(inboundWebhooks).where(eq(inboundWebhooks.tenant, tenant)).orderBy(desc(inboundWebhooks.receivedAt), desc(inboundWebhooks.webhookId)).limit(limit).offset(offset);
    },
    async countPending(tenant: string): Promise<number> {
      const [row] = await db.select({ n: sql<number>`count(*)` }).from(inboundWebhooks).where(and(eq(inboundWebhooks.status, 'pending'), eq(inboundWebhooks.tenant, tenant)));
      return Number(row?.n ?? 0);
    },
    async tenants(): Promise<string[]> {
      return (await db.selectDistinct({ tenant: inboundWebhooks.tenant }).from(inboundWebhooks)).map((r) => r.tenant);
    },
    /** Retention (R16): finished notices older than `before` go (the source's replay window is minutes, not days). */
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
