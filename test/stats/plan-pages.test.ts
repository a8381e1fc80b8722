/**
 * The paged read the evaluation figures use (`store.plans.documentsAfter`): the tenant's plans
 * only, each once, in id order, continuing through the id index rather than sorting the tenant for
 * every page (its query plan, read from SQLite).
 */
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Plan } from '../../src/model';
import type { Database } from '../../src/store/db';
import { openLibsqlDatabase } from '../../src/store/libsql';
import { planRepository } from '../../src/store/plans';
import { validPlan } from '../support/plans';

let database: Database;
let repository: ReturnType<typeof planRepository>;

beforeAll(async () => {
  database = await openLibsqlDatabase(':memory:');
  repository = planRepository(database);
  // Interleaved ids across two tenants, inserted out of order.
  for (const n of [7, 3, 11, 1, 9, 5, 2, 8, 4, 10, 6, 12]) {
    const tenant = n % 2 ? '101' : '751';
    const id = `p-${String(n).padStart(2, '0')}`;
    await repository.insert(Plan.parse(validPlan({ id, tenant, subject: { kind: 'citizen', member: { memberId: 'm1', citizenId: `c-${n}`, role: 'adult', birthDate: '1980-01-01' } } })));
  }
});
afterAll(() => database?.close());

describe('plans a page at a time', () => {
  it('walks the tenant’s plans in id order, each once, and only the tenant’s', async () => {
    const seen: string[] = [];
    for (let after = ''; ; ) {
      const page = await repository.documentsAfter('101', after, 2);
      for (const { id, plan } of page) {
        expect(plan.tenant).toBe('101');
        expect(plan.id).toBe(id);
        seen.push(id);
      }
      if (page.length < 2) break;
      after = page.at(-1)!.id;
    }
    expect(seen).toEqual(['p-01', 'p-03', 'p-05', 'p-07', 'p-09', 'p-11']);
    expect((await repository.documentsAfter('851', '', 10)).length).toBe(0);
  });

  it('continues in the id index (no sort of the tenant per page), with the tenant checked on every row', async () => {
    const query = repository.documentsAfterQuery('101', 'p-03', 200);
    const rows = await database.db.all<{ detail: string }>(sql`explain query plan ${query.getSQL()}`);
    const plan = rows.map((r) => r.detail).join(' | ');
    expect(plan).toMatch(/SEARCH plans USING INDEX sqlite_autoindex_plans_1 \(id>\?\)/);
    expect(plan).not.toMatch(/TEMP B-TREE/);
    expect(query.toSQL().params).toContain('101');
  });
});
