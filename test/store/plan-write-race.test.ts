/**
 * Two writers of one plan version in the same millisecond (two feeds of a sync round, a registration
 * and a sync): exactly one wins, and the loser knows it lost — it must not take the winner's row,
 * (version, updatedAt) alike, for its own write, or its change would be reported done and be gone.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Plan } from '../../src/model';
import { openLibsqlDatabase } from '../../src/store/libsql';
import { planRepository } from '../../src/store/plans';
import type { Database } from '../../src/store';
import { validPlan } from '../support/plans';

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
