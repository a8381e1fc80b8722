/**
 * On D1 a batch is the only transaction there is: a plan update that carries other statements and
 * loses to a rival write must roll them back with it (the guard's CHECK aborts the batch).
 */
import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { Plan } from '../../src/model';
import { openD1Database } from '../../src/store/d1';
import { planRepository } from '../../src/store/plans';
import { and, eq } from 'drizzle-orm';
import { plans as plansTable, writeGuard } from '../../src/store/schema';
import { abortUnlessOneRowChanged, isLostWriteAbort } from '../../src/store/write-guard';
import { validPlan } from '../support/plans';
import { rivalWritesFirst } from '../support/rival-write';

describe('a plan update with other statements, on D1', () => {
  it('writes nothing it carried when a rival write lands after its version check', async () => {
    const database = openD1Database(env.DB as never);
    const plans = planRepository(database);
    const first = Plan.parse({ ...validPlan(), id: crypto.randomUUID() });
    await plans.insert(first);
    const rival = Plan.parse({ ...first, purpose: 'Skrevet af en anden', version: first.version + 1 });
    const racing = planRepository(rivalWritesFirst(database, () => plans.updateStatements(rival, first.version)));
    const ownPlan = Plan.parse({ ...validPlan(), id: crypto.randomUUID() });
    const mine = Plan.parse({ ...first, purpose: 'Min ændring', version: first.version + 1 });
    expect(await racing.update(mine, first.version, plans.insertStatements(ownPlan))).toBe(false);
    expect((await plans.get(first.tenant, first.id))!.purpose).toBe('Skrevet af en anden');
    expect(await plans.get(ownPlan.tenant, ownPlan.id)).toBeNull();

    // Winning, it writes what it carries and leaves the guard empty.
    const next = Plan.parse({ ...rival, purpose: 'Min ændring', version: rival.version + 1 });
    expect(await plans.update(next, rival.version, plans.insertStatements(ownPlan))).toBe(true);
    expect((await plans.get(ownPlan.tenant, ownPlan.id))?.id).toBe(ownPlan.id);
    expect(await database.db.select().from(writeGuard)).toEqual([]);
  });

  it('a batch guarded on several plan writes (as a sync chunk is) aborts when one of them lost', async () => {
    const database = openD1Database(env.DB as never);
    const plans = planRepository(database);
    const [a, b] = [Plan.parse({ ...validPlan(), id: crypto.randomUUID() }), Plan.parse({ ...validPlan(), id: crypto.randomUUID() })];
    await plans.insert(a);
    await plans.insert(b);
    const ownPlan = Plan.parse({ ...validPlan(), id: crypto.randomUUID() });
    const writes = [a, b].map((plan) => ({ plan: Plan.parse({ ...plan, purpose: 'Synkroniseret', version: plan.version + 1 }), writeId: crypto.randomUUID() }));
    const batchOf = (expected: number[]) => [
      ...writes.flatMap(({ plan, writeId }, i) => plans.updateStatements(plan, expected[i]!, undefined, writeId)),
      ...plans.abortUnlessAllWonStatements(a.tenant, writes.map(({ plan, writeId }) => ({ planId: plan.id, writeId }))),
      ...plans.insertStatements(ownPlan),
    ];
    // b's expected version is not the stored one (a rival moved it): nothing is written.
    await expect(database.batch(batchOf([a.version, b.version - 1]))).rejects.toSatisfy(isLostWriteAbort);
    expect((await plans.get(a.tenant, a.id))!.purpose).toBe(a.purpose);
    expect(await plans.get(ownPlan.tenant, ownPlan.id)).toBeNull();
    await database.batch(batchOf([a.version, b.version]));
    expect((await plans.get(b.tenant, b.id))!.purpose).toBe('Synkroniseret');
    expect((await plans.get(ownPlan.tenant, ownPlan.id))?.id).toBe(ownPlan.id);
    expect(await database.db.select().from(writeGuard)).toEqual([]);
  });

  it('a conditional write guarded by changes() aborts its batch when it matched no row', async () => {
    const database = openD1Database(env.DB as never);
    const plans = planRepository(database);
    const plan = Plan.parse({ ...validPlan(), id: crypto.randomUUID() });
    const other = Plan.parse({ ...validPlan(), id: crypto.randomUUID() });
    await plans.insert(plan);
    const closeIfOffered = database.db.update(plansTable).set({ status: 'closed' }).where(and(eq(plansTable.id, plan.id), eq(plansTable.status, 'offered')));
    // The plan is not offered: the update matches nothing, so the insert that rides with it is rolled back.
    await expect(database.batch([closeIfOffered, ...abortUnlessOneRowChanged(database.db), ...plans.insertStatements(other)])).rejects.toSatisfy(isLostWriteAbort);
    expect(await plans.get(other.tenant, other.id)).toBeNull();
    const closeIfActive = database.db.update(plansTable).set({ status: 'closed' }).where(and(eq(plansTable.id, plan.id), eq(plansTable.status, plan.status)));
    await database.batch([closeIfActive, ...abortUnlessOneRowChanged(database.db), ...plans.insertStatements(other)]);
    expect((await plans.get(other.tenant, other.id))?.id).toBe(other.id);
  });
});
