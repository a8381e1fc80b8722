/**
 * Plan links (R8): which second municipality may look at which plan. The parts it may see and the
 * consent it rests on live on the plan document (`municipalities[].link`); this table is the index
 * the linked municipality is found through, so its reads never scan another tenant's plans.
 */
import { and, asc, desc, eq } from 'drizzle-orm';
import type { Database, Statement } from './db';
import { planLinks } from './schema';

export interface PlanLinkRow {
  planId: string;
  ownerTenant: string;
  linkedTenant: string;
  createdAt: string;
}

export function planLinkRepository({ db }: Database) {
  return {
    /** Records the link unless it exists; run it in the same batch as the plan update. */
    upsertStatement(row: PlanLinkRow): Statement {
      return db.insert(planLinks).values(row).onConflictDoNothing();
    },
    /** The tenant owning `planId` if `linkedTenant` has a link to it, else null. */
    async ownerFor(linkedTenant: string, planId: string): Promise<string | null> {
      const rows = await db
        .select({ ownerTenant: planLinks.ownerTenant })
        .from(planLinks)
        .where(and(eq(planLinks.linkedTenant, linkedTenant), eq(planLinks.planId, planId)))
        .limit(1);
      return rows[0]?.ownerTenant ?? null;
    },
    /** Removes the link; run it in the same batch as the plan update that drops it from the document. */
    deleteStatement(ownerTenant: string, planId: string, linkedTenant: string): Statement {
      return db.delete(planLinks).where(and(eq(planLinks.ownerTenant, ownerTenant), eq(planLinks.planId, planId), eq(planLinks.linkedTenant, linkedTenant)));
    },
    /** The plans other municipalities have linked `linkedTenant` to, newest link first. */
    async linkedTo(linkedTenant: string, limit: number, offset: number): Promise<PlanLinkRow[]> {
      return db.select().from(planLinks).where(eq(planLinks.linkedTenant, linkedTenant)).orderBy(desc(planLinks.createdAt), asc(planLinks.planId)).limit(limit).offset(offset);
    },
    async forPlan(ownerTenant: string, planId: string): Promise<PlanLinkRow[]> {
      return db.select().from(planLinks).where(and(eq(planLinks.ownerTenant, ownerTenant), eq(planLinks.planId, planId)));
    },
  };
}
export type PlanLinkRepository = ReturnType<typeof planLinkRepository>;
