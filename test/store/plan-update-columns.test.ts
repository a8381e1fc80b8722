/**
 * A plan write from the sync assigns the indexed columns (status, open conflicts, next follow-up,
 * coordinator) only when they
 * change — SQLite rewrites an index entry for every indexed column an UPDATE assigns — and the
 * columns still always agree with the document: the status worklist and the conflicts worklist
 * read them, not the document.
 */
import { sql } from 'drizzle-orm';
import { afterEach, describe, expect, it } from 'vitest';
import { Plan, type Conflict } from '../../src/model';
import { openLibsqlDatabase } from '../../src/store/libsql';
import { planRepository } from '../../src/store/plans';
import type { Database } from '../../src/store';
import { validPlan } from '../support/plans';

let database: Database | undefined;
afterEach(async () => {
  await database?.close();
  database = undefined;
});

const conflict = (id: string): Conflict => ({
  id,
  elementId: 'g1',
  field: 'title',
  values: [
    { value: { title: 'A' }, provenance: [{ kind: 'registration', registrationId: 'r', actor: 'caseworker:anna', at: '2026-11-23T10:00:00.000Z' }] },
    { value: { title: 'B' }, provenance: [{ kind: 'registration', registrationId: 's', actor: 'caseworker:anna', at: '2026-11-23T10:00:00.000Z' }] },
  ],
  detectedAt: '2026-11-23T10:00:00.000Z',
});

describe('plan updates from the sync', () => {
  it('assign status and open conflicts only when they change, and the columns follow the document', async () => {
    database = await openLibsqlDatabase(':memory:');
    const plans = planRepository(database);
    const first = Plan.parse(validPlan());
    await plans.insert(first);
    const columns = async () => (await database!.db.all(sql`select status, open_conflicts as openConflicts, version from plans where id = ${first.id}`))[0];
    // The SQL as every driver's batch takes it from a statement.
    const statementSql = (statement: unknown) => (statement as { _prepare(): { getQuery(): { sql: string } } })._prepare().getQuery().sql;
    const sqlOf = (plan: Plan, previous: Plan) => statementSql(plans.updateStatements(plan, previous.version, previous)[0]);

    const samePlan = Plan.parse({ ...first, purpose: 'Ny formulering', version: 2, updatedAt: '2026-11-23T11:00:00.000Z' });
    expect(sqlOf(samePlan, first)).not.toMatch(/"status"|"open_conflicts"|"next_follow_up"|"coordinator_name"/);
    await database.batch(plans.updateStatements(samePlan, first.version, first));
    expect(await columns()).toEqual({ status: 'active', openConflicts: 0, version: 2 });

    const withConflict = Plan.parse({ ...samePlan, conflicts: [conflict('c1')], version: 3, updatedAt: '2026-11-23T12:00:00.000Z' });
    expect(sqlOf(withConflict, samePlan)).toMatch(/"open_conflicts"/);
    expect(sqlOf(withConflict, samePlan)).not.toMatch(/"status"/);
    await database.batch(plans.updateStatements(withConflict, samePlan.version, samePlan));
    expect(await columns()).toEqual({ status: 'active', openConflicts: 1, version: 3 });

    const closed = Plan.parse({ ...withConflict, status: 'closed', version: 4, updatedAt: '2026-11-23T13:00:00.000Z' });
    expect(sqlOf(closed, withConflict)).toMatch(/"status"/);
    await database.batch(plans.updateStatements(closed, withConflict.version, withConflict));
    expect(await columns()).toEqual({ status: 'closed', openConflicts: 1, version: 4 });

    // A follow-up and a coordinator: their columns are assigned, and follow the document.
    const provenance = [{ kind: 'registration' as const, registrationId: 'r2', actor: 'caseworker:anna', at: '2026-11-23T14:00:00.000Z' }];
    const followed = Plan.parse({
      ...closed,
      followUps: [{ id: 'f1', due: '2026-12-01', text: 'Opfølgning', done: false, provenance }],
      coordinator: { kind: 'caseworker', name: 'Karin Koordinator', sector: 'employment', unit: 'Jobcenter', since: '2026-11-23T14:00:00.000Z' },
      version: 5,
      updatedAt: '2026-11-23T14:00:00.000Z',
    });
    expect(sqlOf(followed, closed)).toMatch(/"next_follow_up".*"coordinator_name"/);
    expect(sqlOf(followed, closed)).not.toMatch(/"status"|"open_conflicts"/);
    await database.batch(plans.updateStatements(followed, closed.version, closed));
    expect((await database.db.all(sql`select next_follow_up as nextFollowUp, coordinator_name as coordinatorName from plans where id = ${first.id}`))[0]).toEqual({ nextFollowUp: '2026-12-01', coordinatorName: 'Karin Koordinator' });

    // Without the plan as read, everything is assigned (registrations, status changes).
    expect(statementSql(plans.updateStatements(closed, 4)[0])).toMatch(/"status".*"open_conflicts"|"open_conflicts".*"status"/);
  });
});
