/**
 * Two writers of one plan version in the same millisecond (two feeds of a sync round, a registration
 * and a sync): exactly one wins, and the loser knows it lost — it must not take the winner's row,
 * (version, updatedAt) alike, for its own write, or its change would be reported done and be gone.
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { Plan } from '../../src/model';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openLibsqlDatabase } from '../../src/store/libsql';
import { openSqliteThreadDatabase } from '../../src/store/sqlite-thread';
import { and, eq } from 'drizzle-orm';
import { plans as plansTable, writeGuard } from '../../src/store/schema';
import { abortUnlessOneRowChanged, isLostWriteAbort } from '../../src/store/write-guard';
import { planRepository } from '../../src/store/plans';
import type { Database } from '../../src/store';
import { validPlan } from '../support/plans';
import { rivalWritesFirst } from '../support/rival-write';

let database: Database | undefined;
afterEach(async () => {
  await database?.close();
  database = undefined;
});

describe('two writes of one plan version at the same instant', () => {
  it('one wins, the other is told it lost, and the stored plan is the winner’s', async () => {
    database = await openLibsqlDatabase(':memory:');
    const plans = planRepository(database);
    const first = Plan.parse(validPlan());
    await plans.insert(first);
    const sameInstant = '2026-11-24T07:00:00.000Z';
    const fromDfdg = Plan.parse({ ...first, purpose: 'Skrevet af den ene', version: first.version + 1, updatedAt: sameInstant });
    const fromEducation = Plan.parse({ ...first, purpose: 'Skrevet af den anden', version: first.version + 1, updatedAt: sameInstant });
    const outcomes = await Promise.all([plans.update(fromDfdg, first.version), plans.update(fromEducation, first.version)]);
    expect(outcomes.filter(Boolean)).toHaveLength(1);
    const stored = (await plans.get(first.tenant, first.id))!;
    expect(stored.purpose).toBe(outcomes[0] ? 'Skrevet af den ene' : 'Skrevet af den anden');
  });
});

const threadDirs: string[] = [];
afterAll(() => threadDirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));
const drivers: [string, () => Promise<Database>][] = [
  ['libSQL', () => openLibsqlDatabase(':memory:')],
  // On a thread of its own the batch's error crosses a message port: the guard must still be recognised.
  ['the store thread', () => {
    const dir = mkdtempSync(join(tmpdir(), 'enplan-write-guard-'));
    threadDirs.push(dir);
    return openSqliteThreadDatabase(`file:${join(dir, 'plans.db')}`);
  }],
];

describe.each(drivers)('an update that carries other statements (%s)', (_name, open) => {
  it('loses to a write that slips in after its version check, and nothing it carried is written', async () => {
    database = await open();
    const inner = database;
    const plans = planRepository(inner);
    const first = Plan.parse(validPlan());
    await plans.insert(first);
    const rival = Plan.parse({ ...first, purpose: 'Skrevet af en anden', version: first.version + 1, updatedAt: '2026-11-24T07:00:00.000Z' });
    // The rival's write lands between `update`'s version check and its batch.
    const racingDatabase = rivalWritesFirst(inner, () => plans.updateStatements(rival, first.version));
    const racing = planRepository(racingDatabase);
    // As a member leaving a family plan does: the plan's update and a new plan of their own, together.
    const ownPlan = Plan.parse({ ...validPlan(), id: crypto.randomUUID() });
    const mine = Plan.parse({ ...first, purpose: 'Min ændring', version: first.version + 1, updatedAt: '2026-11-24T07:00:00.001Z' });
    expect(await racing.update(mine, first.version, plans.insertStatements(ownPlan))).toBe(false);
    expect(racingDatabase.rivalWritten()).toBe(true);
    expect((await plans.get(first.tenant, first.id))!.purpose).toBe('Skrevet af en anden');
    expect(await plans.get(ownPlan.tenant, ownPlan.id)).toBeNull();
  });

  it('writes what it carries when it wins, and leaves the guard empty', async () => {
    database = await open();
    const plans = planRepository(database);
    const first = Plan.parse(validPlan());
    await plans.insert(first);
    const ownPlan = Plan.parse({ ...validPlan(), id: crypto.randomUUID() });
    const mine = Plan.parse({ ...first, purpose: 'Min ændring', version: first.version + 1 });
    expect(await plans.update(mine, first.version, plans.insertStatements(ownPlan))).toBe(true);
    expect((await plans.get(first.tenant, first.id))!.purpose).toBe('Min ændring');
    expect((await plans.get(ownPlan.tenant, ownPlan.id))?.id).toBe(ownPlan.id);
    expect(await database.db.select().from(writeGuard)).toEqual([]);
  });

  it('a conditional write guarded by changes() rolls its batch back when it matched no row', async () => {
    database = await open();
    const plans = planRepository(database);
    const plan = Plan.parse(validPlan());
    const other = Plan.parse({ ...validPlan(), id: crypto.randomUUID() });
    await plans.insert(plan);
    const closeIf = (status: string) => database!.db.update(plansTable).set({ status: 'closed' }).where(and(eq(plansTable.id, plan.id), eq(plansTable.status, status)));
    await expect(database.batch([closeIf('offered'), ...abortUnlessOneRowChanged(database.db), ...plans.insertStatements(other)])).rejects.toSatisfy(isLostWriteAbort);
    expect(await plans.get(other.tenant, other.id)).toBeNull();
    await database.batch([closeIf(plan.status), ...abortUnlessOneRowChanged(database.db), ...plans.insertStatements(other)]);
    expect((await plans.get(other.tenant, other.id))?.id).toBe(other.id);
  });

  it('still fails loudly when a carried statement is itself wrong', async () => {
    database = await open();
    const plans = planRepository(database);
    const first = Plan.parse(validPlan());
    await plans.insert(first);
    const mine = Plan.parse({ ...first, purpose: 'Min ændring', version: first.version + 1 });
    // The plan exists already: inserting it again breaks a primary key, which is not a lost race.
    await expect(plans.update(mine, first.version, plans.insertStatements(first))).rejects.toThrow();
    expect((await plans.get(first.tenant, first.id))!.version).toBe(first.version);
  });
});
