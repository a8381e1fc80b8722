/**
 * On D1 a batch is the only transaction there is: a plan update that carries other statements and
 * loses to a rival write must roll them back with it (the guard's CHECK aborts the batch).
 */
import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { Plan } from '../../src/model';
import { openD1Database } from '../../src/store/d1';
import { planRepository } from '../../src/store/plans';
import { planWriteGuard } from '../../src/store/schema';
import { validPlan } from '../support/plans';

describe('a plan update with other statements, on D1', () => {
  it('writes nothing it carried when a rival write lands after its version check', async () => {
    const database = openD1Database(env.DB as never);
    const plans = planRepository(database);
    const first = Plan.parse({ ...validPlan(), id: crypto.randomUUID() });
    await plans.insert(first);
    const rival = Plan.parse({ ...first, purpose: 'Skrevet af en anden', version: first.version + 1 });
    let rivalWritten = false;
    const racing = planRepository({
      ...database,
      batch: async (statements) => {
        if (!rivalWritten) {
          rivalWritten = true;
          await database.batch(plans.updateStatements(rival, first.version));
        }
        return database.batch(statements);
      },
    });
    const ownPlan = Plan.parse({ ...validPlan(), id: crypto.randomUUID() });
    const mine = Plan.parse({ ...first, purpose: 'Min ændring', version: first.version + 1 });
    expect(await racing.update(mine, first.version, plans.insertStatements(ownPlan))).toBe(false);
    expect((await plans.get(first.tenant, first.id))!.purpose).toBe('Skrevet af en anden');
    expect(await plans.get(ownPlan.tenant, ownPlan.id)).toBeNull();

    // Winning, it writes what it carries and leaves the guard empty.
    const next = Plan.parse({ ...rival, purpose: 'Min ændring', version: rival.version + 1 });
    expect(await plans.update(next, rival.version, plans.insertStatements(ownPlan))).toBe(true);
    expect((await plans.get(ownPlan.tenant, ownPlan.id))?.id).toBe(ownPlan.id);
    expect(await database.db.select().from(planWriteGuard)).toEqual([]);
  });
});
