/**
 * What the sector systems hold for our elements (migration 0021): per citizen and target, the element
 * id a target's record reads back as, and our element it holds. The relay writes a row in the batch
 * that records a delivery; the sync reads a chunk's rows in one query, so a record the target holds
 * for one of our elements is merged onto it (decision 0005, "Later (2026-11-24)").
 */
import { and, eq, sql } from 'drizzle-orm';
import type { Database, Statement } from './db';
import { inList } from './query';
import { heldElements, plans } from './schema';

export interface HeldElement {
  /** The element id the target's record reads back as, e.g. `education:education-goal:<plan id>`. */
  targetElementId: string;
  /** Our element it holds. */
  elementId: string;
}

export interface HeldElementRow extends HeldElement {
  citizenId: string;
  target: string;
}

export function heldElementRepository(database: Database) {
  const { db } = database;
  return {
    /** Records that the target now holds these elements; the latest delivery replaces what an earlier one recorded. */
    recordStatement(tenant: string, citizenId: string, target: string, outboxId: string, held: readonly HeldElement[], at: string): Statement | undefined {
      if (held.length === 0) return undefined;
      return db
        .insert(heldElements)
        .values(held.map((h) => ({ tenant, citizenId, target, targetElementId: h.targetElementId, elementId: h.elementId, outboxId, recordedAt: at })))
        .onConflictDoUpdate({
          target: [heldElements.tenant, heldElements.citizenId, heldElements.target, heldElements.targetElementId],
          set: { elementId: sql`excluded.element_id`, outboxId: sql`excluded.outbox_id`, recordedAt: sql`excluded.recorded_at` },
        });
    },
    /**
     * Our element `from` renamed `to` by a sync (a newer mapping naming it anew): what the targets
     * hold for it is held for `to`. Goes with the plan write that renamed it (`planWrite`): a lost
     * race leaves the rows as they were, for the re-run to rename again.
     */
    renameStatement(tenant: string, citizenId: string, from: string, to: string, planWrite?: { planId: string; writeId: string }): Statement {
      const won = planWrite ? [sql`exists (select 1 from ${plans} where ${plans.tenant} = ${tenant} and ${plans.id} = ${planWrite.planId} and ${plans.writeId} = ${planWrite.writeId})`] : [];
      return db
        .update(heldElements)
        .set({ elementId: to })
        .where(and(eq(heldElements.tenant, tenant), eq(heldElements.citizenId, citizenId), eq(heldElements.elementId, from), ...won));
    },
    /** The query of `forCitizens`: each citizen looked up through the primary key (test/store/query-plans.test.ts). */
    forCitizensQuery(tenant: string, citizenIds: readonly string[]) {
      return db
        .select({ citizenId: heldElements.citizenId, target: heldElements.target, targetElementId: heldElements.targetElementId, elementId: heldElements.elementId })
        .from(heldElements)
        .where(and(eq(heldElements.tenant, tenant), inList(heldElements.citizenId, citizenIds)));
    },
    /** Every row of these citizens: one query for a sync chunk. */
    async forCitizens(tenant: string, citizenIds: readonly string[]): Promise<HeldElementRow[]> {
      if (citizenIds.length === 0) return [];
      return this.forCitizensQuery(tenant, citizenIds);
    },
  };
}
export type HeldElementRepository = ReturnType<typeof heldElementRepository>;
