/** Outbound subscriptions, the events the database records for them, and their deliveries. */
import { and, asc, desc, eq, isNotNull, isNull, lte, or, sql, type SQL } from 'drizzle-orm';
import type { ConsentDocument } from './consents';
import type { Database, Statement } from './db';
import { inList, sameTenant } from './query';
import { citizens, consents, events, planMembers, plans, plansTold, regionalConsentEnds, regionalRefusals, subscriptionDeliveries, subscriptions } from './schema';

export type SubscriptionRow = typeof subscriptions.$inferSelect;
export type EventRow = typeof events.$inferSelect;
export type SubscriptionDeliveryRow = typeof subscriptionDeliveries.$inferSelect;
export type NewSubscriptionDelivery = Pick<SubscriptionDeliveryRow, 'id' | 'tenant' | 'subscriptionId' | 'eventSeq' | 'type' | 'payload' | 'nextAttemptAt' | 'createdAt'>;

/** `system` may be left out: a row written before subscriptions named one (migration 0026). */
export type NewSubscriptionRow = Omit<SubscriptionRow, 'disabledAt' | 'disabledReason' | 'previousSecretSealed' | 'previousSecretUntil' | 'system' | 'tellsTracked'> & { system?: string | null };
/** A subscription told of a plan by the event `firstEventSeq` (see `plansTold`). */
export type PlanTold = { tenant: string; subscriptionId: string; planId: string; firstEventSeq: number };

/** An active member of a plan, with one consent document recorded for them (null: none). */
export interface PlanMemberConsentRow {
  tenant: string;
  planId: string;
  citizenId: string;
  birthDate: string;
  document: ConsentDocument | null;
  /** What the sources' own say holds against sharing for this member (the same on each of their rows). */
  sourceSays: SourceSays;
}

/**
 * A source's own say on sharing with the municipality (the region's Consent), as the sync last read it:
 * the sources that refuse (until a permit's first day, where it has not started), and the last days of
 * permits that end (whose end the nightly job may not have handled yet).
 */
export interface SourceSays {
  refusals: { source: string; permitsFrom: string | null }[];
  permitEnds: { source: string; lastDay: string }[];
}

/**
 * Who receives a plan's events, as the told rows count it: the token subject that made a subscription
 * (`created_by` is `roles:sub`) and the system it serves — one vendor may split its events over several
 * subscriptions (one endpoint for changes, another for what it must delete).
 */
export const receiverKey = (tenant: string, createdBy: string, system: string | null, planId: string) =>
  `${tenant}|${createdBy.slice(createdBy.indexOf(':') + 1)}|${system ?? ''}|${planId}`;

/** Made by this token subject (`created_by` is `roles:sub`), under whatever roles. */
const madeBy = (subject: string) => sql`substr(${subscriptions.createdBy}, instr(${subscriptions.createdBy}, ':') + 1) = ${subject}`;

export function subscriptionRepository({ db, batch }: Database) {
  /** An event about a plan and one system (ids only), recorded only while a subscription for the system is active (and `also` holds). */
  const systemEventStatement = (tenant: string, type: 'plan.shared' | 'plan.unshared' | 'plan.purged', data: { planId: string; system: string }, at: string, also?: SQL): Statement => {
    const serving = sql`exists (select 1 from ${subscriptions} where ${subscriptions.tenant} = ${tenant} and ${subscriptions.disabledAt} is null and ${subscriptions.system} = ${data.system})`;
    return db.insert(events).select(
      db
        .select({
          seq: sql<null>`null`.as('seq'),
          tenant: sql<string>`${tenant}`.as('tenant'),
          type: sql<string>`${type}`.as('type'),
          data: sql<string>`${JSON.stringify({ planId: data.planId, system: data.system })}`.as('data'),
          at: sql<string>`${at}`.as('at'),
        })
        .from(sql`(select 1) as one`)
        .where(also ? and(serving, also) : serving),
    );
  };
  const scoped = (tenant: string, id: string) => and(eq(subscriptions.tenant, tenant), eq(subscriptions.id, id));
  const delivery = (tenant: string, id: string) => and(eq(subscriptionDeliveries.tenant, tenant), eq(subscriptionDeliveries.id, id));
  return {
    createStatement(row: NewSubscriptionRow): Statement {
      return db.insert(subscriptions).values({ ...row, system: row.system ?? null, tellsTracked: true });
    },
    /**
     * Inserts the subscription only while its token subject and its tenant hold fewer active ones
     * than the limits: count and write are one statement, so requests at the same moment (on other
     * instances too) cannot each pass the count. One row or none: guard it (`audit.appendIfOneRowChanged`).
     */
    createWithinLimitsStatement(row: NewSubscriptionRow, limits: { perSubject: number; perTenant: number }): Statement {
      const subject = row.createdBy.slice(row.createdBy.indexOf(':') + 1);
      const activeOf = (bySubject: boolean) =>
        sql`(select count(*) from ${subscriptions} where ${subscriptions.tenant} = ${row.tenant} and ${subscriptions.disabledAt} is null${bySubject ? sql` and ${madeBy(subject)}` : sql``})`;
      return db
        .insert(subscriptions)
        .select(
          db
            .select({
              id: sql<string>`${row.id}`.as('id'),
              tenant: sql<string>`${row.tenant}`.as('tenant'),
              url: sql<string>`${row.url}`.as('url'),
              secretSealed: sql<string>`${row.secretSealed}`.as('secret_sealed'),
              previousSecretSealed: sql<null>`null`.as('previous_secret_sealed'),
              previousSecretUntil: sql<null>`null`.as('previous_secret_until'),
              events: sql<string>`${row.events}`.as('events'),
              description: sql<string | null>`${row.description}`.as('description'),
              createdBy: sql<string>`${row.createdBy}`.as('created_by'),
              createdAt: sql<string>`${row.createdAt}`.as('created_at'),
              disabledAt: sql<null>`null`.as('disabled_at'),
              disabledReason: sql<null>`null`.as('disabled_reason'),
              system: sql<string | null>`${row.system ?? null}`.as('system'),
              tellsTracked: sql<boolean>`1`.as('tells_tracked'),
            })
            .from(sql`(select 1) as one`)
            .where(sql`${activeOf(true)} < ${limits.perSubject} and ${activeOf(false)} < ${limits.perTenant}`),
        );
    },
    async get(tenant: string, id: string): Promise<SubscriptionRow | null> {
      return (await db.select().from(subscriptions).where(scoped(tenant, id)).limit(1))[0] ?? null;
    },
    /** `createdBySubject`: only those made by this token subject (`created_by` is `roles:sub`), under whatever roles. */
    async list(tenant: string, options: { createdBySubject?: string; limit?: number; offset?: number } = {}): Promise<SubscriptionRow[]> {
      return db
        .select()
        .from(subscriptions)
        .where(and(eq(subscriptions.tenant, tenant), options.createdBySubject !== undefined ? madeBy(options.createdBySubject) : undefined))
        .orderBy(desc(subscriptions.createdAt), desc(subscriptions.id))
        .limit(options.limit ?? 50)
        .offset(options.offset ?? 0);
    },
    /** Subscriptions not ended, of the tenant or of one token subject in it (`created_by` is `roles:sub`). */
    async countActive(tenant: string, createdBySubject?: string): Promise<number> {
      const [row] = await db
        .select({ n: sql<number>`count(*)` })
        .from(subscriptions)
        .where(and(eq(subscriptions.tenant, tenant), isNull(subscriptions.disabledAt), createdBySubject !== undefined ? madeBy(createdBySubject) : undefined));
      return Number(row?.n ?? 0);
    },
    /** No more events for it; what was waiting is cancelled with the reason. False if it was disabled already. */
    /**
     * A new signing secret; the one it replaces stays valid (events signed with both) until
     * `previousUntil`, or not at all when that is null. Only an active subscription's.
     */
    /**
     * A new signing secret for a subscription not ended, only if its secret is still the one read
     * (`was`); `previous` is that one, sealed for its new column (one row or none: guard it,
     * `audit.appendIfOneRowChanged`).
     */
    rotateSecretStatement(tenant: string, id: string, secret: { sealed: string; was: string }, previous: { sealed: string; until: string } | null): Statement {
      return db
        .update(subscriptions)
        .set({
          previousSecretSealed: previous?.sealed ?? null,
          previousSecretUntil: previous?.until ?? null,
          secretSealed: secret.sealed,
        })
        .where(and(scoped(tenant, id), isNull(subscriptions.disabledAt), eq(subscriptions.secretSealed, secret.was)));
    },
    /** Ends a subscription not ended yet (one row or none: guard it) … */
    disableStatement(tenant: string, id: string, reason: string, at: string): Statement {
      return db.update(subscriptions).set({ disabledAt: at, disabledReason: reason }).where(and(scoped(tenant, id), isNull(subscriptions.disabledAt)));
    },
    /** … and cancels its waiting deliveries, in the same batch. */
    cancelWaitingStatement(tenant: string, id: string, reason: string): Statement {
      return db
        .update(subscriptionDeliveries)
        .set({ status: 'cancelled', lastError: reason })
        .where(and(eq(subscriptionDeliveries.tenant, tenant), eq(subscriptionDeliveries.subscriptionId, id), eq(subscriptionDeliveries.status, 'pending')));
    },
    /** The systems the tenant's active subscriptions serve (none: no sharing event is worth recording). */
    async activeSystemsOf(tenant: string): Promise<string[]> {
      const rows = await db
        .selectDistinct({ system: subscriptions.system })
        .from(subscriptions)
        .where(and(eq(subscriptions.tenant, tenant), isNull(subscriptions.disabledAt), isNotNull(subscriptions.system)));
      return rows.map((row) => row.system!);
    },
    /**
     * Records a `plan.shared` / `plan.unshared` event (ids only) for `system`, in the batch of the consent
     * change that causes it — and, as the plan triggers do, only while the tenant has an active
     * subscription for that system at the moment the batch commits.
     */
    recordSharingEventStatement(tenant: string, type: 'plan.shared' | 'plan.unshared', data: { planId: string; system: string }, at: string): Statement {
      return systemEventStatement(tenant, type, data, at);
    },
    /**
     * Records a `plan.purged` event (ids only) for `system`, to go in the purge's batch before the plan's
     * deletion: only while the plan is still there (a rival run that deleted it first told the system
     * already) and a subscription for that system is active when the batch commits.
     */
    recordPurgeEventStatement(tenant: string, data: { planId: string; system: string }, at: string): Statement {
      return systemEventStatement(tenant, 'plan.purged', data, at, sql`exists (select 1 from ${plans} where ${plans.tenant} = ${tenant} and ${plans.id} = ${data.planId})`);
    },
    /** The active subscriptions of these tenants (the fan-out's question). */
    async activeOf(tenants: readonly string[]): Promise<SubscriptionRow[]> {
      if (tenants.length === 0) return [];
      return db.select().from(subscriptions).where(and(inList(subscriptions.tenant, tenants), isNull(subscriptions.disabledAt)));
    },
    /**
     * The active members of these plans, each with their birth date and every consent document recorded
     * for them: what the fan-out asks the consent policy about, in one query for a page of events (a row
     * per member and document; a member without any comes once, with none). Plan ids are unique across
     * tenants; the tenant comes back so the caller matches it to each event's.
     */
    async membersWithConsents(planIds: readonly string[]): Promise<PlanMemberConsentRow[]> {
      if (planIds.length === 0) return [];
      const rows = await this.membersWithConsentsQuery(planIds);
      return rows.map(({ refusals, permitEnds, ...row }) => ({
        ...row,
        document: row.document === null ? null : (JSON.parse(row.document) as ConsentDocument),
        sourceSays: {
          refusals: (JSON.parse(refusals) as [string, string | null][]).map(([source, permitsFrom]) => ({ source, permitsFrom })),
          permitEnds: (JSON.parse(permitEnds) as [string, string][]).map(([source, lastDay]) => ({ source, lastDay })),
        },
      }));
    },
    /** The query of `membersWithConsents`, unrun (its query plan is tested: each table by its key or index). */
    membersWithConsentsQuery(planIds: readonly string[]) {
      return db
        .select({
          tenant: planMembers.tenant,
          planId: planMembers.planId,
          citizenId: planMembers.citizenId,
          birthDate: citizens.birthDate,
          document: consents.document,
          refusals: sql<string>`(select json_group_array(json_array(${regionalRefusals.source}, ${regionalRefusals.permitsFrom})) from ${regionalRefusals} where ${regionalRefusals.tenant} = ${planMembers.tenant} and ${regionalRefusals.citizenId} = ${planMembers.citizenId})`,
          permitEnds: sql<string>`(select json_group_array(json_array(${regionalConsentEnds.source}, ${regionalConsentEnds.lastDay})) from ${regionalConsentEnds} where ${regionalConsentEnds.tenant} = ${planMembers.tenant} and ${regionalConsentEnds.citizenId} = ${planMembers.citizenId})`,
        })
        .from(planMembers)
        .innerJoin(citizens, and(eq(citizens.id, planMembers.citizenId), eq(citizens.tenant, planMembers.tenant)))
        .leftJoin(consents, and(eq(consents.tenant, planMembers.tenant), eq(consents.citizenId, planMembers.citizenId)))
        .where(and(inList(planMembers.planId, planIds), eq(planMembers.active, true)));
    },
    /** Events not yet fanned out, oldest first (a system job across tenants). */
    async nextEvents(limit: number): Promise<EventRow[]> {
      return db.select().from(events).orderBy(asc(events.seq)).limit(limit);
    },
    /**
     * Who was told of these plans (`plansTold`), by receiver: `tenant|subject|system|planId` (the token
     * subject that made the subscription, and the system it serves) → the subscriptions whose rows say
     * so. One search per tenant of the page.
     */
    async toldOf(plansOf: readonly { tenant: string; planId: string }[]): Promise<Map<string, string[]>> {
      const byTenant = new Map<string, string[]>();
      for (const { tenant, planId } of plansOf) byTenant.set(tenant, [...(byTenant.get(tenant) ?? []), planId]);
      const told = new Map<string, string[]>();
      for (const [tenant, planIds] of byTenant)
        for (const row of await this.toldOfQuery(tenant, planIds)) {
          const key = receiverKey(tenant, row.createdBy, row.system, row.planId);
          told.set(key, [...(told.get(key) ?? []), row.subscriptionId]);
        }
      return told;
    },
    /** The query of `toldOf` for one tenant, unrun (its query plan is tested: the index, by tenant and plan; each subscription by its id). */
    toldOfQuery(tenant: string, planIds: readonly string[]) {
      return db
        .select({ subscriptionId: plansTold.subscriptionId, planId: plansTold.planId, createdBy: subscriptions.createdBy, system: subscriptions.system })
        .from(plansTold)
        .innerJoin(subscriptions, eq(subscriptions.id, plansTold.subscriptionId))
        .where(and(eq(plansTold.tenant, tenant), inList(plansTold.planId, planIds)));
    },
    /**
     * Retention: the told rows no one needs any more — of a receiver with no subscription left (its
     * subscriptions, made by one token subject for one system, have all ended: it hears nothing again),
     * and of a plan that is gone with no purge left to tell (a system whose subscriptions had ended when
     * its plan was purged was told nothing more). Kept otherwise for as long as the plan: a receiver that
     * ends one subscription and keeps another still hears the plan's end on the other.
     */
    async forgetUnneededTold(tenant: string): Promise<number> {
      return (await this.forgetUnneededToldQuery(tenant)).length;
    },
    /** The deletion of `forgetUnneededTold`, unrun (its query plan is tested: each plan and subscription looked up by its id). */
    forgetUnneededToldQuery(tenant: string) {
      const subject = (table: string) => sql.raw(`substr(${table}.created_by, instr(${table}.created_by, ':') + 1)`);
      const receiverEnded = sql`not exists (select 1 from ${subscriptions} as told_by join ${subscriptions} as live on live.tenant = told_by.tenant and live.system = told_by.system and ${subject('live')} = ${subject('told_by')} where told_by.id = ${plansTold.subscriptionId} and live.disabled_at is null)`;
      const planGone = and(
        sql`not exists (select 1 from ${plans} where ${plans.tenant} = ${plansTold.tenant} and ${plans.id} = ${plansTold.planId})`,
        sql`not exists (select 1 from ${events} where ${events.tenant} = ${plansTold.tenant} and ${events.type} = 'plan.purged' and json_extract(${events.data}, '$.planId') = ${plansTold.planId})`,
      );
      return db.delete(plansTold).where(and(eq(plansTold.tenant, tenant), or(receiverEnded, planGone))).returning({ planId: plansTold.planId });
    },
    /**
     * The deliveries of a page of events and the events' removal, in one atomic batch — with the plans
     * the page told subscriptions of (`told`), and the told rows a page's `plan.purged` ends (`forget`).
     */
    async fanOut(rows: readonly NewSubscriptionDelivery[], upToSeq: number, told: { add: readonly PlanTold[]; forget: readonly PlanTold[] } = { add: [], forget: [] }): Promise<void> {
      const statements: Statement[] = [];
      for (let i = 0; i < told.add.length; i += 200) {
        const json = JSON.stringify(told.add.slice(i, i + 200).map((t) => [t.tenant, t.subscriptionId, t.planId, t.firstEventSeq]));
        statements.push(
          db
            .insert(plansTold)
            .select(
              db
                .select({
                  tenant: sql<string>`json_extract(j.value, '$[0]')`.as('tenant'),
                  subscriptionId: sql<string>`json_extract(j.value, '$[1]')`.as('subscription_id'),
                  planId: sql<string>`json_extract(j.value, '$[2]')`.as('plan_id'),
                  firstEventSeq: sql<number>`json_extract(j.value, '$[3]')`.as('first_event_seq'),
                })
                .from(sql`json_each(${json}) as j`)
                .where(sql`1`),
            )
            .onConflictDoNothing(),
        );
      }
      for (const t of told.forget) statements.push(db.delete(plansTold).where(and(eq(plansTold.tenant, t.tenant), eq(plansTold.subscriptionId, t.subscriptionId), eq(plansTold.planId, t.planId))));
      for (let i = 0; i < rows.length; i += 200) {
        const json = JSON.stringify(rows.slice(i, i + 200).map((r) => [r.id, r.tenant, r.subscriptionId, r.eventSeq, r.type, r.payload, r.nextAttemptAt, r.createdAt]));
        statements.push(
          db
            .insert(subscriptionDeliveries)
            .select(
              db
                .select({
                  id: sql<string>`json_extract(j.value, '$[0]')`.as('id'),
                  tenant: sql<string>`json_extract(j.value, '$[1]')`.as('tenant'),
                  subscriptionId: sql<string>`json_extract(j.value, '$[2]')`.as('subscription_id'),
                  eventSeq: sql<number>`json_extract(j.value, '$[3]')`.as('event_seq'),
                  type: sql<string>`json_extract(j.value, '$[4]')`.as('type'),
                  payload: sql<string>`json_extract(j.value, '$[5]')`.as('payload'),
                  status: sql<'pending'>`'pending'`.as('status'),
                  attempts: sql<number>`0`.as('attempts'),
                  nextAttemptAt: sql<string>`json_extract(j.value, '$[6]')`.as('next_attempt_at'),
                  lastError: sql<null>`null`.as('last_error'),
                  lastStatusCode: sql<null>`null`.as('last_status_code'),
                  createdAt: sql<string>`json_extract(j.value, '$[7]')`.as('created_at'),
                  deliveredAt: sql<null>`null`.as('delivered_at'),
                })
                .from(sql`json_each(${json}) as j`)
                .where(sql`1`), // SQLite needs a WHERE before an upsert clause on INSERT … SELECT.
            )
            .onConflictDoNothing(),
        );
      }
      statements.push(db.delete(events).where(lte(events.seq, upToSeq)));
      await batch(statements);
    },
    /** Deliveries due now, oldest first: which tenants have work (a system job). */
    async due(now: string, limit: number): Promise<SubscriptionDeliveryRow[]> {
      return db
        .select()
        .from(subscriptionDeliveries)
        .where(and(eq(subscriptionDeliveries.status, 'pending'), lte(subscriptionDeliveries.nextAttemptAt, now)))
        .orderBy(asc(subscriptionDeliveries.nextAttemptAt), asc(subscriptionDeliveries.eventSeq))
        .limit(limit);
    },
    /** Takes the given due deliveries under a lease (counting the attempt); returns the ones this caller won. */
    async claim(tenant: string, ids: readonly string[], leaseUntil: string, now: string): Promise<SubscriptionDeliveryRow[]> {
      if (ids.length === 0) return [];
      return (await db
        .update(subscriptionDeliveries)
        .set({ nextAttemptAt: leaseUntil, attempts: sql`${subscriptionDeliveries.attempts} + 1` })
        .where(and(eq(subscriptionDeliveries.tenant, tenant), inList(subscriptionDeliveries.id, ids), eq(subscriptionDeliveries.status, 'pending'), lte(subscriptionDeliveries.nextAttemptAt, now)))
        .returning()) as SubscriptionDeliveryRow[];
    },
    async delivered(tenant: string, id: string, statusCode: number, at: string): Promise<void> {
      await db.update(subscriptionDeliveries).set({ status: 'delivered', lastStatusCode: statusCode, lastError: null, deliveredAt: at }).where(and(delivery(tenant, id), eq(subscriptionDeliveries.status, 'pending')));
    },
    async retryAt(tenant: string, id: string, nextAttemptAt: string, error: string, statusCode: number | null): Promise<void> {
      await db.update(subscriptionDeliveries).set({ nextAttemptAt, lastError: error, lastStatusCode: statusCode }).where(and(delivery(tenant, id), eq(subscriptionDeliveries.status, 'pending')));
    },
    async dead(tenant: string, id: string, error: string, statusCode: number | null): Promise<void> {
      await db.update(subscriptionDeliveries).set({ status: 'dead', lastError: error, lastStatusCode: statusCode }).where(and(delivery(tenant, id), eq(subscriptionDeliveries.status, 'pending')));
    },
    async cancel(tenant: string, id: string, reason: string): Promise<void> {
      await db.update(subscriptionDeliveries).set({ status: 'cancelled', lastError: reason }).where(and(delivery(tenant, id), eq(subscriptionDeliveries.status, 'pending')));
    },
    /** A dead delivery back in the queue, due now, with its tries counted afresh; false if it is not dead. */
    /** Sends a dead delivery again (one row or none: guard it). */
    replayStatement(tenant: string, subscriptionId: string, id: string, now: string): Statement {
      return db
        .update(subscriptionDeliveries)
        .set({ status: 'pending', attempts: 0, nextAttemptAt: now, lastError: null })
        .where(and(delivery(tenant, id), eq(subscriptionDeliveries.subscriptionId, subscriptionId), eq(subscriptionDeliveries.status, 'dead')));
    },
    /** Retention (R16): finished deliveries older than `before` go; the audit of the subscription stays. */
    async deleteFinishedBefore(tenant: string, before: string): Promise<number> {
      return (
        await db
          .delete(subscriptionDeliveries)
          .where(and(eq(subscriptionDeliveries.tenant, tenant), sql`${subscriptionDeliveries.status} <> 'pending'`, lte(subscriptionDeliveries.createdAt, before)))
          .returning({ id: subscriptionDeliveries.id })
      ).length;
    },
    /** When the oldest event still waiting to be delivered to one of the tenant's subscriptions was fanned out (null: none waits). */
    async oldestWaiting(tenant: string): Promise<string | null> {
      const [row] = await this.oldestWaitingQuery(tenant);
      return row?.oldest ?? null;
    },
    oldestWaitingQuery(tenant: string) {
      return db
        .select({ oldest: sql<string | null>`min(${subscriptionDeliveries.createdAt})` })
        .from(subscriptionDeliveries)
        .where(and(eq(subscriptionDeliveries.status, 'pending'), sameTenant(subscriptionDeliveries.tenant, tenant)));
    },
    /** Deliveries of the tenant's subscriptions by status, and how many subscriptions are active. */
    async health(tenant: string): Promise<{ activeSubscriptions: number; deliveriesByStatus: Record<string, number> }> {
      const [active] = await db.select({ n: sql<number>`count(*)` }).from(subscriptions).where(and(eq(subscriptions.tenant, tenant), isNull(subscriptions.disabledAt)));
      const rows = await db.select({ status: subscriptionDeliveries.status, n: sql<number>`count(*)` }).from(subscriptionDeliveries).where(eq(subscriptionDeliveries.tenant, tenant)).groupBy(subscriptionDeliveries.status);
      return { activeSubscriptions: Number(active?.n ?? 0), deliveriesByStatus: Object.fromEntries(rows.map((r) => [r.status, Number(r.n)])) };
    },
    async deliveryOf(tenant: string, subscriptionId: string, id: string): Promise<SubscriptionDeliveryRow | null> {
      return (await db.select().from(subscriptionDeliveries).where(and(delivery(tenant, id), eq(subscriptionDeliveries.subscriptionId, subscriptionId))).limit(1))[0] ?? null;
    },
    async deliveriesOf(tenant: string, subscriptionId: string, limit = 50, offset = 0): Promise<SubscriptionDeliveryRow[]> {
      return db
        .select()
        .from(subscriptionDeliveries)
        .where(and(eq(subscriptionDeliveries.tenant, tenant), eq(subscriptionDeliveries.subscriptionId, subscriptionId)))
        .orderBy(desc(subscriptionDeliveries.createdAt), desc(subscriptionDeliveries.eventSeq))
        .limit(limit)
        .offset(offset);
    },
  };
}
export type SubscriptionRepository = ReturnType<typeof subscriptionRepository>;
