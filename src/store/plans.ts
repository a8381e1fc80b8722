/** Plans as whole, validated documents with an optimistic version; members indexed for enrolment. */
import { and, eq, inArray, sql } from 'drizzle-orm';
import type { Plan } from '../model';
import { enrolledStatuses, membersOf } from '../model';
import type { Database, Statement } from './db';
import { planMembers, plans } from './schema';

export function planRepository({ db, batch }: Database) {
  const memberRows = (plan: Plan) =>
    membersOf(plan).map((m) => ({ tenant: plan.tenant, planId: plan.id, citizenId: m.citizenId, active: !m.leftAt }));

  return {
    insertStatements(plan: Plan): Statement[] {
      return [
        db.insert(plans).values({
          id: plan.id,
          tenant: plan.tenant,
          status: plan.status,
          document: JSON.stringify(plan),
          version: plan.version,
          createdAt: plan.createdAt,
          updatedAt: plan.updatedAt,
        }),
        ...memberRows(plan).map((row) => db.insert(planMembers).values(row)),
      ];
    },
    async insert(plan: Plan): Promise<void> {
      await batch(this.insertStatements(plan));
    },
    async get(tenant: string, id: string): Promise<Plan | null> {
      const rows = await db.select({ document: plans.document }).from(plans).where(and(eq(plans.tenant, tenant), eq(plans.id, id))).limit(1);
      return rows[0] ? (JSON.parse(rows[0].document) as Plan) : null;
    },
    /**
     * Statements that replace the plan if it is still at `expectedVersion`. Run them in a batch
     * and check `updated` with `get` when a lost race matters; `update` does that for you.
     */
    updateStatements(plan: Plan, expectedVersion: number): Statement[] {
      // The member rows change only if the plan update itself won (same version and update time).
      const written = sql`EXISTS (SELECT 1 FROM plans WHERE tenant = ${plan.tenant} AND id = ${plan.id} AND version = ${plan.version} AND updated_at = ${plan.updatedAt})`;
      return [
        db
          .update(plans)
          .set({ status: plan.status, document: JSON.stringify(plan), version: plan.version, updatedAt: plan.updatedAt })
          .where(and(eq(plans.tenant, plan.tenant), eq(plans.id, plan.id), eq(plans.version, expectedVersion))),
        db.delete(planMembers).where(and(eq(planMembers.tenant, plan.tenant), eq(planMembers.planId, plan.id), written)),
        ...memberRows(plan).map(
          (row) =>
            db.run(sql`INSERT OR IGNORE INTO plan_members (tenant, plan_id, citizen_id, active)
              SELECT ${row.tenant}, ${row.planId}, ${row.citizenId}, ${row.active ? 1 : 0} WHERE ${written}`) as unknown as Statement,
        ),
      ];
    },
    /** Optimistic update: false when someone else changed the plan first. */
    async update(plan: Plan, expectedVersion: number, extra: Statement[] = []): Promise<boolean> {
      const current = await db
        .select({ version: plans.version })
        .from(plans)
        .where(and(eq(plans.tenant, plan.tenant), eq(plans.id, plan.id)))
        .limit(1);
      if (current[0]?.version !== expectedVersion) return false;
      await batch([...this.updateStatements(plan, expectedVersion), ...extra]);
      const after = await db.select({ version: plans.version }).from(plans).where(and(eq(plans.tenant, plan.tenant), eq(plans.id, plan.id))).limit(1);
      return after[0]?.version === plan.version;
    },
    async idsForCitizen(tenant: string, citizenId: string, onlyActiveMembers = true): Promise<string[]> {
      const rows = await db
        .select({ planId: planMembers.planId })
        .from(planMembers)
        .where(and(eq(planMembers.tenant, tenant), eq(planMembers.citizenId, citizenId), onlyActiveMembers ? eq(planMembers.active, true) : sql`1 = 1`));
      return rows.map((r) => r.planId);
    },
    /** Citizens whose plan is accepted or active: the only ones we may pull for (R12). */
    async enrolledCitizens(tenant: string): Promise<{ citizenId: string; planId: string }[]> {
      return db
        .select({ citizenId: planMembers.citizenId, planId: planMembers.planId })
        .from(planMembers)
        .innerJoin(plans, eq(plans.id, planMembers.planId))
        .where(and(eq(planMembers.tenant, tenant), eq(planMembers.active, true), inArray(plans.status, [...enrolledStatuses])));
    },
    async listIds(tenant: string, limit = 100, offset = 0): Promise<{ id: string; status: string; updatedAt: string }[]> {
      return db
        .select({ id: plans.id, status: plans.status, updatedAt: plans.updatedAt })
        .from(plans)
        .where(eq(plans.tenant, tenant))
        .orderBy(plans.createdAt, plans.id)
        .limit(limit)
        .offset(offset);
    },
    async countByStatus(tenant: string): Promise<Record<string, number>> {
      const rows = await db.select({ status: plans.status, n: sql<number>`count(*)` }).from(plans).where(eq(plans.tenant, tenant)).groupBy(plans.status);
      return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
    },
  };
}
export type PlanRepository = ReturnType<typeof planRepository>;
