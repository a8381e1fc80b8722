/**
 * Registrations and their acceptance as ONE atomic batch: the registration row, the plan update
 * and one outbox row per target. D1 has no interactive transactions, so the optimistic check on
 * the plan's version is folded into the batch itself: the registration's id is computed by a
 * sub-select that yields NULL unless the plan is still at the expected version, and the NOT NULL
 * constraint then aborts the whole batch. Nothing of a registration is stored unless all of it is.
 */
import { and, eq, sql } from 'drizzle-orm';
import type { Plan } from '../model';
import type { Commit, Database } from './db';
import type { NewOutboxRow, OutboxRepository } from './outbox';
import type { PlanRepository } from './plans';
import { plans, registrations } from './schema';

export interface RegistrationRow {
  id: string;
  tenant: string;
  planId: string;
  kind: string;
  idempotencyKey: string;
  bodyHash: string;
  document: string;
  response: string;
  actor: string;
  createdAt: string;
}

export type AcceptOutcome = 'accepted' | 'plan-changed' | 'key-taken';

export function registrationRepository(database: Database, deps: { plans: PlanRepository; outbox: OutboxRepository }) {
  const { db, batch } = database;
  const scoped = (tenant: string, id: string) => and(eq(registrations.tenant, tenant), eq(registrations.id, id));

  return {
    async get(tenant: string, id: string): Promise<RegistrationRow | null> {
      const rows = await db.select().from(registrations).where(scoped(tenant, id)).limit(1);
      return rows[0] ?? null;
    },
    async findByKey(tenant: string, idempotencyKey: string): Promise<RegistrationRow | null> {
      const rows = await db
        .select()
        .from(registrations)
        .where(and(eq(registrations.tenant, tenant), eq(registrations.idempotencyKey, idempotencyKey)))
        .limit(1);
      return rows[0] ?? null;
    },
    /**
     * Stores the registration, the updated plan (if still at `expectedVersion`) and the outbox rows
     * atomically. On failure tells why: the plan changed meanwhile, or the idempotency key was
     * taken by a concurrent request; anything else is rethrown.
     */
    /** `commit`: e.g. together with the `registration.accepted` audit entry. */
    async accept(input: { registration: RegistrationRow; plan: Plan; expectedVersion: number; outbox: NewOutboxRow[] }, commit: Commit = batch): Promise<AcceptOutcome> {
      const { registration: r, plan, expectedVersion } = input;
      const guardedId = sql`(select case when ${plans.version} = ${expectedVersion} then ${r.id} end from ${plans} where ${plans.tenant} = ${r.tenant} and ${plans.id} = ${r.planId})`;
      try {
        await commit([
          db.insert(registrations).values({ ...r, id: guardedId }),
          ...deps.plans.updateStatements(plan, expectedVersion),
          ...input.outbox.map((row) => deps.outbox.insertStatement(row)),
        ]);
        return 'accepted';
      } catch (error) {
        if (await this.findByKey(r.tenant, r.idempotencyKey)) return 'key-taken';
        const current = await db.select({ version: plans.version }).from(plans).where(and(eq(plans.tenant, r.tenant), eq(plans.id, r.planId))).limit(1);
        if (current[0]?.version !== expectedVersion) return 'plan-changed';
        throw error;
      }
    },
  };
}
export type RegistrationRepository = ReturnType<typeof registrationRepository>;
