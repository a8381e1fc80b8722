/** Citizens' satisfaction answers (R22): written one at a time, read only as counts per score. */
import { and, eq, sql } from 'drizzle-orm';
import type { Database, Statement } from './db';
import { satisfactionAnswers } from './schema';

export function satisfactionRepository({ db }: Database) {
  return {
    /** Records the answer; a later answer for the same plan, member and half-year replaces the earlier one. */
    async answer(row: typeof satisfactionAnswers.$inferInsert): Promise<void> {
      await this.answerStatement(row);
    },
    answerStatement(row: typeof satisfactionAnswers.$inferInsert): Statement {
      return db
        .insert(satisfactionAnswers)
        .values(row)
        .onConflictDoUpdate({ target: [satisfactionAnswers.tenant, satisfactionAnswers.planId, satisfactionAnswers.citizenId, satisfactionAnswers.period], set: { score: row.score, answeredAt: row.answeredAt } });
    },
    /** Citizens per score in the half-year, each citizen once (their latest answer, whatever the plan). */
    async countsByScore(tenant: string, period: string): Promise<Map<number, number>> {
      const latest = db
        .select({ citizenId: satisfactionAnswers.citizenId, score: satisfactionAnswers.score, answeredAt: sql`max(${satisfactionAnswers.answeredAt})`.as('latest') })
        .from(satisfactionAnswers)
        .where(and(eq(satisfactionAnswers.tenant, tenant), eq(satisfactionAnswers.period, period)))
        .groupBy(satisfactionAnswers.citizenId)
        .as('latest_answers');
      const rows = await db.select({ score: latest.score, citizens: sql<number>`count(*)` }).from(latest).groupBy(latest.score);
      return new Map(rows.map((r) => [Number(r.score), Number(r.citizens)]));
    },
  };
}
