/**
 * The transactional outbox: one row per registration × target system, written in the same batch
 * as the registration (see `registrations.ts`). The relay claims due rows with a lease (an
 * optimistic update of `next_attempt_at`), so two relays never deliver the same row at once and a
 * crashed relay's rows come due again when the lease runs out.
 *
 * Per-citizen ordering: `sequence` grows per (tenant, citizen); a row is due only when no earlier
 * live (pending or retrying) row of the same citizen to the same target exists. Dead and cancelled
 * rows do not block later ones.
 *
 * Superseded rows: every row carries its element as it stood after the registration, so once a later
 * row of the same (citizen, target, element) is delivered, an earlier row that was dead meanwhile
 * holds only older content. The claim says so (`supersededBy`), the relay never sends such a row,
 * and IT staff's requeue refuses it (decision 0005, "Later").
 */
import { and, asc, desc, eq, getTableColumns, inArray, lt, lte, sql, type SQL } from 'drizzle-orm';
import { sameTenant } from './query';
import type { Database, Statement } from './db';
import { outbox, plans, registrations } from './schema';
import { abortUnlessOneRowChanged } from './write-guard';

export type OutboxStatus = 'pending' | 'retrying' | 'delivered' | 'dead' | 'cancelled';
export const liveStatuses: readonly OutboxStatus[] = ['pending', 'retrying'];

export interface OutboxRow {
  id: string;
  tenant: string;
  registrationId: string;
  citizenId: string;
  target: string;
  operation: string;
  payload: string | null;
  status: OutboxStatus;
  attempts: number;
  nextAttemptAt: string;
  lastError: string | null;
  receipt: string | null;
  consentRef: string | null;
  sequence: number;
  createdAt: string;
  updatedAt: string;
}

/** Ids per statement: D1 allows at most 100 bound parameters. */
const CHUNK = 80;

/** A claimed row, and the id of a later delivered row of the same element that supersedes it, if any. */
export type ClaimedOutboxRow = OutboxRow & { supersededBy: string | null };

/** The element a row carries (kept when retention prunes the payload). */
const elementOf = (table: string) => sql.raw(`json_extract("${table}"."payload", '$.outbound.elementId')`);

/**
 * A later row (higher sequence) of the same citizen, target and element as the `outbox` row in the
 * statement, with one of these statuses (a correlated sub-select: the claim's RETURNING, a guard).
 */
function laterOfSameElement(statuses: readonly OutboxStatus[], select: SQL): SQL {
  return sql`(select ${select} from "outbox" as "later" where "later"."tenant" = "outbox"."tenant" and "later"."citizen_id" = "outbox"."citizen_id" and "later"."target" = "outbox"."target" and "later"."sequence" > "outbox"."sequence" and "later"."status" in (${sql.join(
    statuses.map((s) => sql`${s}`),
    sql`, `,
  )}) and ${elementOf('later')} = ${elementOf('outbox')} order by "later"."sequence" desc limit 1)`;
}

export type NewOutboxRow = Omit<OutboxRow, 'sequence' | 'attempts' | 'status' | 'lastError' | 'receipt' | 'updatedAt'>;

export function outboxRepository({ db }: Database) {
  const scoped = (tenant: string, id: string) => and(eq(outbox.tenant, tenant), eq(outbox.id, id));
  const live = inArray(outbox.status, [...liveStatuses]);

  return {
    /** The insert for one new row; `sequence` is the citizen's next number, computed inside the batch. */
    insertStatement(row: NewOutboxRow): Statement {
      return db.insert(outbox).values({
        ...row,
        status: 'pending',
        attempts: 0,
        lastError: null,
        receipt: null,
        updatedAt: row.createdAt,
        sequence: sql`(select coalesce(max(${outbox.sequence}), 0) + 1 from ${outbox} where ${outbox.tenant} = ${row.tenant} and ${outbox.citizenId} = ${row.citizenId})`,
      });
    },
    async get(tenant: string, id: string): Promise<OutboxRow | null> {
      const rows = await db.select().from(outbox).where(scoped(tenant, id)).limit(1);
      return (rows[0] as OutboxRow | undefined) ?? null;
    },
    async forRegistration(tenant: string, registrationId: string): Promise<OutboxRow[]> {
      return (await db
        .select()
        .from(outbox)
        .where(and(eq(outbox.tenant, tenant), eq(outbox.registrationId, registrationId)))
        .orderBy(asc(outbox.sequence))) as OutboxRow[];
    },
    async list(tenant: string, options: { status?: OutboxStatus; target?: string; limit?: number; offset?: number } = {}): Promise<OutboxRow[]> {
      return (await db
        .select()
        .from(outbox)
        .where(and(eq(outbox.tenant, tenant), options.status ? eq(outbox.status, options.status) : undefined, options.target ? eq(outbox.target, options.target) : undefined))
        .orderBy(desc(outbox.createdAt), asc(outbox.id))
        .limit(options.limit ?? 100)
        .offset(options.offset ?? 0)) as OutboxRow[];
    },
    async countByStatus(tenant: string): Promise<Record<string, number>> {
      const rows = await db.select({ status: outbox.status, n: sql<number>`count(*)` }).from(outbox).where(eq(outbox.tenant, tenant)).groupBy(outbox.status);
      return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
    },
    /**
     * When each target's oldest registration still waiting to be delivered (pending or retrying) was
     * accepted: how far behind a target is. Read through the live rows' index, which holds few rows
     * whatever the history (its query plan is tested).
     */
    async oldestWaitingByTarget(tenant: string): Promise<Record<string, string>> {
      const rows = await this.oldestWaitingQuery(tenant);
      return Object.fromEntries(rows.map((row) => [row.target, row.oldest]));
    },
    oldestWaitingQuery(tenant: string) {
      return db.select({ target: outbox.target, oldest: sql<string>`min(${outbox.createdAt})` }).from(outbox).where(and(live, sameTenant(outbox.tenant, tenant))).groupBy(outbox.target);
    },
    /** Tenants that have rows due now: the one cross-tenant question, and it returns tenant codes only. */
    async tenantsWithDue(now: string): Promise<string[]> {
      const rows = await db.selectDistinct({ tenant: outbox.tenant }).from(outbox).where(and(live, lte(outbox.nextAttemptAt, now)));
      return rows.map((r) => r.tenant);
    },
    /** Due rows that head their citizen's queue to their target, oldest first. */
    async due(tenant: string, now: string, limit: number, onlyId?: string): Promise<OutboxRow[]> {
      return (await db
        .select()
        .from(outbox)
        .where(
          and(
            eq(outbox.tenant, tenant),
            onlyId ? eq(outbox.id, onlyId) : undefined,
            live,
            lte(outbox.nextAttemptAt, now),
            sql`not exists (select 1 from "outbox" as "earlier" where "earlier"."tenant" = ${outbox.tenant} and "earlier"."citizen_id" = ${outbox.citizenId} and "earlier"."target" = ${outbox.target} and "earlier"."sequence" < ${outbox.sequence} and "earlier"."status" in ('pending', 'retrying'))`,
          ),
        )
        .orderBy(asc(outbox.nextAttemptAt), asc(outbox.sequence))
        .limit(limit)) as OutboxRow[];
    },
    /**
     * Claims many due rows in one write: each row still live and due is leased until `leaseUntil`
     * and its attempt counted. Returns the rows this caller won (another relay may have won some),
     * each saying whether a later delivered row of the same element supersedes it.
     */
    async claimMany(tenant: string, ids: string[], leaseUntil: string, now: string): Promise<ClaimedOutboxRow[]> {
      const won: ClaimedOutboxRow[] = [];
      // D1 allows at most 100 bound parameters per statement.
      for (let i = 0; i < ids.length; i += CHUNK) {
        won.push(
          ...((await db
            .update(outbox)
            .set({ nextAttemptAt: leaseUntil, attempts: sql`${outbox.attempts} + 1`, updatedAt: now })
            .where(and(sameTenant(outbox.tenant, tenant), inArray(outbox.id, ids.slice(i, i + CHUNK)), live, lte(outbox.nextAttemptAt, now)))
            .returning({ ...getTableColumns(outbox), supersededBy: sql<string | null>`${laterOfSameElement(['delivered'], sql`"later"."id"`)}` })) as ClaimedOutboxRow[]),
        );
      }
      return won;
    },
    /** The target has it. Recorded even if the row was cancelled meanwhile: the flow did happen. */
    markDeliveredStatement(tenant: string, id: string, receipt: unknown, now: string): Statement {
      return db
        .update(outbox)
        .set({ status: 'delivered', receipt: JSON.stringify(receipt), lastError: null, updatedAt: now })
        .where(and(scoped(tenant, id), sql`${outbox.status} <> 'delivered'`));
    },
    /**
     * The delivered mark followed by a guard that rolls the batch back unless it changed the row: for
     * `audit.appendMany`, so a row another relay recorded already gets no second `delivery.delivered`.
     */
    markDeliveredGuardedStatements(tenant: string, id: string, receipt: unknown, now: string): Statement[] {
      return [this.markDeliveredStatement(tenant, id, receipt, now), ...abortUnlessOneRowChanged(db)];
    },
    /**
     * Retention (R16): drops the payload bodies of delivered and cancelled rows last changed before
     * `before`, keeping only the element id the relay needs to find an earlier receipt. Dead letters
     * keep theirs: IT staff may still replay them.
     */
    async prunePayloads(tenant: string, before: string): Promise<number> {
      const rows = await db
        .update(outbox)
        .set({ payload: sql`json_object('pruned', 1, 'outbound', json_object('elementId', json_extract(${outbox.payload}, '$.outbound.elementId')))` })
        .where(
          and(
            eq(outbox.tenant, tenant),
            inArray(outbox.status, ['delivered', 'cancelled']),
            lt(outbox.updatedAt, before),
            sql`${outbox.payload} is not null`,
            sql`json_extract(${outbox.payload}, '$.pruned') is null`,
          ),
        )
        .returning({ id: outbox.id });
      return rows.length;
    },
    async markDelivered(tenant: string, id: string, receipt: unknown, now: string): Promise<void> {
      await this.markDeliveredStatement(tenant, id, receipt, now);
    },
    async markRetrying(tenant: string, id: string, nextAttemptAt: string, error: string, now: string): Promise<boolean> {
      const rows = await db.update(outbox).set({ status: 'retrying', nextAttemptAt, lastError: error, updatedAt: now }).where(and(scoped(tenant, id), live)).returning({ id: outbox.id });
      return rows.length === 1;
    },
    /** Dead-letters a live row; guard it as `markCancelledStatement`. */
    markDeadStatement(tenant: string, id: string, reason: string, now: string): Statement {
      return db.update(outbox).set({ status: 'dead', lastError: reason, updatedAt: now }).where(and(scoped(tenant, id), live));
    },
    /** Ends a live row as cancelled; in a batch, follow it with `abortUnlessOneRowChanged` to know it was live. */
    markCancelledStatement(tenant: string, id: string, reason: string, now: string): Statement {
      return db.update(outbox).set({ status: 'cancelled', lastError: reason, updatedAt: now }).where(and(scoped(tenant, id), live));
    },
    /**
     * Makes a dead or retrying row due now (IT staff's retry; the attempt count is kept); guard it as
     * `markCancelledStatement`. `unlessSuperseded`: only if no later row of the same element was
     * delivered, nor (for a dead row) is still on its way — either carries newer content.
     */
    requeueStatement(tenant: string, id: string, now: string, options: { unlessSuperseded?: boolean } = {}): Statement {
      return db
        .update(outbox)
        .set({ status: 'retrying', nextAttemptAt: now, updatedAt: now })
        .where(
          and(
            scoped(tenant, id),
            inArray(outbox.status, ['dead', 'retrying', 'pending']),
            options.unlessSuperseded ? sql`not exists ${laterOfSameElement(['delivered'], sql`1`)}` : undefined,
            options.unlessSuperseded ? sql`(${outbox.status} <> 'dead' or not exists ${laterOfSameElement(liveStatuses, sql`1`)})` : undefined,
          ),
        );
    },
    /**
     * The newest later row of the same citizen, target and element that supersedes this one: delivered,
     * or (`includeLive`) still on its way. Null for a row without an element.
     */
    async supersedingRow(tenant: string, id: string, includeLive: boolean): Promise<Pick<OutboxRow, 'id' | 'registrationId' | 'status'> | null> {
      const statuses: OutboxStatus[] = includeLive ? ['delivered', ...liveStatuses] : ['delivered'];
      const rows = (await db
        .select({ later: sql<string | null>`${laterOfSameElement(statuses, sql`json_array("later"."id", "later"."registration_id", "later"."status")`)}` })
        .from(outbox)
        .where(scoped(tenant, id))
        .limit(1)) as { later: string | null }[];
      const later = rows[0]?.later;
      if (!later) return null;
      const [laterId, registrationId, status] = JSON.parse(later) as [string, string, OutboxStatus];
      return { id: laterId, registrationId, status };
    },
    /**
     * Our element `from` renamed `to` by a sync (a newer mapping naming it anew, decision 0003): the
     * plan's rows about it are about `to`, so a delivery's receipt is found under the new id and the
     * next change of the element updates what the target holds (`earlierReceipt`), and a later row of
     * it still supersedes an earlier one. A row that may still be sent (live, or dead and requeued by
     * IT staff) also sends the element under its new id; a delivered or cancelled row keeps the content
     * that was sent (a field-level write compares with it; a pruned row has none). The plan is found
     * through the registration, as a pruned payload no longer names it. Goes with the plan write that
     * renamed it (`planWrite`): a lost race leaves the rows as they were, for the re-run to rename again.
     */
    renameElementStatement(tenant: string, citizenId: string, planId: string, from: string, to: string, planWrite?: { writeId: string }): Statement {
      const won = planWrite ? [sql`exists (select 1 from ${plans} where ${plans.tenant} = ${tenant} and ${plans.id} = ${planId} and ${plans.writeId} = ${planWrite.writeId})`] : [];
      const ownIdPath = sql`'$.outbound.element.' || json_extract(${outbox.payload}, '$.outbound.element.type') || '.id'`;
      const mayBeSent = sql`${outbox.status} in ('pending', 'retrying', 'dead') and json_extract(${outbox.payload}, ${ownIdPath}) = ${from}`;
      return db
        .update(outbox)
        .set({
          payload: sql`case when ${mayBeSent} then json_set(${outbox.payload}, '$.outbound.elementId', ${to}, ${ownIdPath}, ${to}) else json_set(${outbox.payload}, '$.outbound.elementId', ${to}) end`,
        })
        .where(
          and(
            eq(outbox.tenant, tenant),
            eq(outbox.citizenId, citizenId),
            sql`${elementOf('outbox')} = ${from}`,
            sql`exists (select 1 from ${registrations} where ${registrations.tenant} = ${outbox.tenant} and ${registrations.id} = ${outbox.registrationId} and ${registrations.planId} = ${planId})`,
            ...won,
          ),
        );
    },
    /**
     * The citizen's rows of one element to a target delivered before `sequence`, newest first (to
     * address updates). Every one of them, however many other deliveries the citizen had since: a
     * window over the citizen's rows lost the first delivery's receipt, and the target got a second resource.
     */
    async deliveredBefore(tenant: string, citizenId: string, target: string, sequence: number, elementId: string): Promise<OutboxRow[]> {
      return (await this.deliveredBeforeQuery(tenant, citizenId, target, sequence, elementId)) as OutboxRow[];
    },
    /** The query of `deliveredBefore`, unrun (its query plan is tested). */
    deliveredBeforeQuery(tenant: string, citizenId: string, target: string, sequence: number, elementId: string) {
      return db
        .select()
        .from(outbox)
        .where(and(eq(outbox.tenant, tenant), eq(outbox.citizenId, citizenId), sql`${outbox.sequence} < ${sequence}`, eq(outbox.target, target), eq(outbox.status, 'delivered'), sql`${elementOf('outbox')} = ${elementId}`))
        .orderBy(desc(outbox.sequence));
    },
    async liveForCitizen(tenant: string, citizenId: string): Promise<OutboxRow[]> {
      return (await db
        .select()
        .from(outbox)
        .where(and(eq(outbox.tenant, tenant), eq(outbox.citizenId, citizenId), live))
        .orderBy(asc(outbox.sequence))) as OutboxRow[];
    },
  };
}
export type OutboxRepository = ReturnType<typeof outboxRepository>;
