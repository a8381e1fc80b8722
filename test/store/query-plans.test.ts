/**
 * Lookups by id must use the id's index, not an index that starts with the tenant: SQLite guesses
 * that `tenant = ?` matches few rows and would then walk the whole tenant for every chunk of a sync
 * (N² row visits for N citizens). `sameTenant` keeps the tenant check out of index choice; these
 * tests read SQLite's own query plans for the statements the repositories build.
 */
import { createClient } from '@libsql/client';
import { and, eq, gt, inArray, sql } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/libsql';
import { migrate } from 'drizzle-orm/libsql/migrator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrationsFolder } from '../../src/store/libsql';
import { auditRepository } from '../../src/store/audit';
import { consentRepository } from '../../src/store/consents';
import { heldElementRepository } from '../../src/store/held-elements';
import { outboxRepository } from '../../src/store/outbox';
import { planRepository } from '../../src/store/plans';
import { subscriptionRepository } from '../../src/store/subscriptions';
import { syncRepository } from '../../src/store/sync';
import { distinctLeading, inList, sameTenant } from '../../src/store/query';
import * as schema from '../../src/store/schema';

const client = createClient({ url: ':memory:' });
const db = drizzle(client, { schema });
const ids = Array.from({ length: 40 }, (_, i) => `id-${i}`);

async function planOf(query: { toSQL(): { sql: string; params: unknown[] } }): Promise<string> {
  const { sql, params } = query.toSQL();
  const rows = await client.execute({ sql: `EXPLAIN QUERY PLAN ${sql}`, args: params as never[] });
  return rows.rows.map((r) => String(r.detail)).join(' | ');
}

beforeAll(async () => {
  await migrate(db, { migrationsFolder });
});
afterAll(() => client.close());

describe('query plans of lookups by id', () => {
  const cases = [
    ['citizens', () => db.select().from(schema.citizens).where(and(sameTenant(schema.citizens.tenant, '101'), inArray(schema.citizens.id, ids))), () => db.select().from(schema.citizens).where(and(eq(schema.citizens.tenant, '101'), inArray(schema.citizens.id, ids)))],
    ['plans', () => db.select({ d: schema.plans.document }).from(schema.plans).where(and(sameTenant(schema.plans.tenant, '101'), inArray(schema.plans.id, ids))), () => db.select({ d: schema.plans.document }).from(schema.plans).where(and(eq(schema.plans.tenant, '101'), inArray(schema.plans.id, ids)))],
    ['outbox', () => db.select().from(schema.outbox).where(and(sameTenant(schema.outbox.tenant, '101'), inArray(schema.outbox.id, ids))), () => db.select().from(schema.outbox).where(and(eq(schema.outbox.tenant, '101'), inArray(schema.outbox.id, ids)))],
  ] as const;

  for (const [table, withSameTenant, withPlainEquality] of cases) {
    it(`${table}: by the primary key, with the tenant still checked on each row`, async () => {
      const plan = await planOf(withSameTenant());
      expect(plan).toMatch(/USING (INDEX sqlite_autoindex_|PRIMARY KEY)/);
      expect(plan).not.toMatch(/\(tenant=\?/);
      expect(withSameTenant().toSQL().params).toContain('101');
      // The plain equality is what made SQLite walk the tenant: the reason for the helper.
      expect(await planOf(withPlainEquality())).toMatch(/\(tenant=\?/);
    });
  }
});

describe('query plans of lookups by a JSON list (inList)', () => {
  const cases = [
    ['who was told of a page’s plans (subscriptions), each subscription by its id', () => subscriptionRepository({ db } as never).toldOfQuery('101', ids), /SEARCH plans_told USING (COVERING )?INDEX plans_told_plan \(tenant=\? AND plan_id=\?\).*SEARCH subscriptions USING INDEX sqlite_autoindex_subscriptions_1 \(id=\?\)/],
    ['citizens by id', () => db.select().from(schema.citizens).where(and(sameTenant(schema.citizens.tenant, '101'), inList(schema.citizens.id, ids))), /SEARCH citizens USING INDEX sqlite_autoindex_citizens_1 \(id=\?\)/],
    ['citizens by CPR hash', () => db.select().from(schema.citizens).where(and(eq(schema.citizens.tenant, '101'), inList(schema.citizens.cprHash, ids))), /SEARCH citizens USING INDEX citizens_tenant_cpr_hash \(tenant=\? AND cpr_hash=\?\)/],
    ['plans by id', () => db.select({ d: schema.plans.document }).from(schema.plans).where(and(sameTenant(schema.plans.tenant, '101'), inList(schema.plans.id, ids))), /SEARCH plans USING INDEX sqlite_autoindex_plans_1 \(id=\?\)/],
    ['ended grants among those a chunk merged on', () => consentRepository({ db } as never).grantsEndedAmongQuery('101', ids, '2026-11-25'), /SEARCH consents USING INDEX sqlite_autoindex_consents_1 \(id=\?\)/],
    ['consents by citizen', () => db.select({ d: schema.consents.document }).from(schema.consents).where(and(eq(schema.consents.tenant, '101'), inList(schema.consents.citizenId, ids))), /SEARCH consents USING INDEX consents_tenant_citizen \(tenant=\? AND citizen_id=\?\)/],
    ['what the targets hold, by citizen (a sync chunk)', () => heldElementRepository({ db } as never).forCitizensQuery('101', ids), /SEARCH held_elements USING (COVERING )?INDEX sqlite_autoindex_held_elements_1 \(tenant=\? AND citizen_id=\?\)/],
    ['open quarantine entries of the records a chunk merged', () => syncRepository({ db } as never).openQuarantineOfRecordsQuery('101', 'dfdg', ids), /SEARCH quarantine USING INDEX quarantine_open_record \(tenant=\? AND adapter=\? AND record_id=\?\)/],
    ['merged-record marks by citizen', () => db.select().from(schema.appliedRecords).where(and(eq(schema.appliedRecords.tenant, '101'), inList(schema.appliedRecords.citizenId, ids), eq(schema.appliedRecords.source, 'dfdg'))), /SEARCH applied_records USING (COVERING )?INDEX sqlite_autoindex_applied_records_1 \(tenant=\? AND citizen_id=\? AND source=\?\)/],
  ] as const;

  for (const [name, query, expected] of cases) {
    it(`${name}: one bound parameter, each value looked up through the index`, async () => {
      expect(await planOf(query())).toMatch(expected);
      // The whole list travels as one JSON parameter, whatever its length (D1 binds at most 100).
      expect(query().toSQL().params.filter((p) => typeof p === 'string' && p.startsWith('['))).toEqual([JSON.stringify(ids)]);
    });
  }
});

describe('query plan of the sources with open quarantine entries (once per sync round)', () => {
  it('reads the open entries’ partial index, not the table', async () => {
    expect(await planOf(syncRepository({ db } as never).adaptersWithOpenQuarantineQuery('101'))).toMatch(/(SEARCH|SCAN) quarantine USING (COVERING )?INDEX quarantine_open_record/);
  });
});

describe('query plan of the catch-up page', () => {
  it("walks the enrolment index in citizen order from where the last page ended, each citizen looked up in the adapter's pulled marks by key, without sorting the tenant", async () => {
    const store = planRepository({ db: db as never, batch: async () => undefined, close: async () => undefined });
    const detail = await planOf(store.enrolledNotPulledFromQuery('101', 'dfdg', 'c-100', 5000));
    expect(detail).toMatch(/SEARCH plan_members USING (COVERING )?INDEX plan_members_tenant_citizen \(tenant=\? AND citizen_id>\?\)/);
    expect(detail).toMatch(/SEARCH pulled_citizens USING (COVERING )?INDEX sqlite_autoindex_pulled_citizens_1 \(tenant=\? AND adapter=\? AND citizen_id=\?\)/);
    expect(detail).not.toMatch(/TEMP B-TREE FOR ORDER BY/);
  });
});

describe('query plan of purging a closed plan', () => {
  it('finds the legal-basis records still to be told through their index, in the order it keeps', async () => {
    const detail = await planOf(consentRepository({ db } as never).legalBasesToInformQuery('101').orderBy(schema.consents.createdAt, schema.consents.id));
    expect(detail).toMatch(/SEARCH consents USING INDEX consents_tenant_kind_informed \(tenant=\? AND kind=\? AND informed_at=\?\)/);
    // Ordered by the index; only records recorded in the same instant are sorted by id among themselves.
    expect(detail).not.toMatch(/TEMP B-TREE FOR ORDER BY/);
  });

  it('finds the plans with open conflicts through their index, not by reading every plan of the tenant', async () => {
    const detail = await planOf(planRepository({ db } as never).withOpenConflictsQuery('101'));
    expect(detail).toMatch(/SEARCH plans USING INDEX plans_tenant_open_conflicts \(tenant=\? AND open_conflicts>\?\)/);
  });

  it("finds the plan's merged-record marks through its members' citizen key, not by walking the tenant's marks", async () => {
    const store = planRepository({ db: db as never, batch: async () => undefined, close: async () => undefined });
    const detail = await planOf(store.purgeMarksStatement('101', 'plan-1'));
    expect(detail).toMatch(/SEARCH applied_records USING (COVERING )?INDEX sqlite_autoindex_applied_records_1 \(tenant=\? AND citizen_id=\?\)/);
    expect(detail).toMatch(/plan_members/);
    expect(detail).not.toMatch(/SCAN applied_records/);
  });

  it("forgets a citizen's first-pull marks by the primary key, not by walking the tenant's marks", async () => {
    const store = syncRepository({ db: db as never, batch: async () => undefined, close: async () => undefined });
    for (const statement of [store.forgetPulledStatement('101', 'citizen-1'), store.forgetPulledFromStatement('101', 'dfdg', ['citizen-1', 'citizen-2'])])
      expect(await planOf(statement as never)).toMatch(/SEARCH pulled_citizens USING (COVERING )?INDEX sqlite_autoindex_pulled_citizens_1 \(tenant=\? AND adapter=\? AND citizen_id=\?\)/);
  });

  it('the trigger that forgets marks when a plan becomes enrolled finds them by key too (migration 0018)', async () => {
    const trigger = String((await client.execute("select sql from sqlite_master where type = 'trigger' and name = 'forget_marks_on_enrolment'")).rows[0]!.sql);
    const [pulled, applied] = [...trigger.matchAll(/DELETE FROM[^;]+;/g)].map((m) => m[0].replace(/NEW\.`(\w+)`/g, (_, column: string) => `'${column === 'id' ? 'plan-1' : '101'}'`).replace(/;$/, ''));
    expect(await planOf({ toSQL: () => ({ sql: pulled!, params: [] }) })).toMatch(/SEARCH pulled_citizens USING (COVERING )?INDEX sqlite_autoindex_pulled_citizens_1 \(tenant=\? AND adapter=\? AND citizen_id=\?\)/);
    expect(await planOf({ toSQL: () => ({ sql: applied!, params: [] }) })).toMatch(/SEARCH applied_records USING (COVERING )?INDEX sqlite_autoindex_applied_records_1 \(tenant=\? AND citizen_id=\?\)/);
  });
  it("retention's walk of the marks of replaced versions reads the marks' key alone, page after page, and deletes by whole key", async () => {
    // What the repository runs: captured from drizzle's log and explained with the same parameters.
    const ran: { sql: string; params: unknown[] }[] = [];
    const logged = drizzle(client, { schema, logger: { logQuery: (sql, params) => void ran.push({ sql, params }) } });
    const store = syncRepository({ db: logged as never, batch: async () => undefined, close: async () => undefined });
    await store.recordsMarkedMoreThanOnce('101', null, 500);
    await store.recordsMarkedMoreThanOnce('101', { citizenId: 'citizen-1', source: 'dfdg', recordId: 'r1' }, 500);
    const [firstPage, nextPage] = await Promise.all(ran.map((query) => planOf({ toSQL: () => query })));
    expect(firstPage).toMatch(/^SEARCH applied_records USING COVERING INDEX sqlite_autoindex_applied_records_1 \(tenant=\?\)$/);
    expect(nextPage).toMatch(/^SEARCH applied_records USING COVERING INDEX sqlite_autoindex_applied_records_1 \(tenant=\? AND \(citizen_id,source,record_id\)>\(\?,\?,\?\)\)$/);
    const deletion = await planOf(store.deleteMarksStatement('101', [{ citizenId: 'citizen-1', source: 'dfdg', recordId: 'r1', recordVersion: '1' }]) as never);
    expect(deletion).toMatch(/SEARCH applied_records USING COVERING INDEX sqlite_autoindex_applied_records_1 \(tenant=\? AND citizen_id=\? AND source=\? AND record_id=\? AND record_version=\?\)/);
    expect(deletion).not.toMatch(/SCAN applied_records/);
  });
});

describe('query plans of what IT staff read about sync runs (overview, /metrics: every scrape)', () => {
  // At 90 days of five-minute rounds a municipality keeps ~100,000 runs: these read an adapter's end of
  // its index, or the covering index alone, never the runs' rows one by one (~200 → ~15 ms per overview, measured).
  const store = syncRepository({ db: db as never, batch: async () => undefined, close: async () => undefined });

  it("each adapter's newest run (finished or not) walks back from the end of that adapter's index", async () => {
    for (const finished of [false, true]) {
      const plan = await planOf(store.latestRunQuery('101', 'dfdg', { finished }));
      // Only the id tie-break is sorted (runs started at one instant); the runs' order comes from the index.
      expect(plan).toMatch(/^SEARCH sync_runs USING INDEX sync_runs_tenant_adapter_started \(tenant=\? AND adapter=\?\)( \| USE TEMP B-TREE FOR RIGHT PART OF ORDER BY)?$/);
    }
  });

  it('runs by adapter and outcome are counted from the covering index', async () => {
    const plan = await planOf(store.runCountsQuery('101'));
    expect(plan).toMatch(/^SEARCH sync_runs USING COVERING INDEX sync_runs_tenant_adapter_status \(tenant=\?\)$/);
  });
});

describe('query plans of the overview’s counts over plans and citizens (every /metrics scrape)', () => {
  /** The statements a repository call runs, explained with the same parameters. */
  async function plansOf(call: (database: never) => Promise<unknown>): Promise<string[]> {
    const ran: { sql: string; params: unknown[] }[] = [];
    const logged = drizzle(client, { schema, logger: { logQuery: (sql, params) => void ran.push({ sql, params }) } });
    await call({ db: logged, batch: async () => undefined, close: async () => undefined } as never);
    return Promise.all(ran.map((query) => planOf({ toSQL: () => query })));
  }

  it('the nightly sweep of told rows no one needs walks the municipality’s told rows by their index, looks each subscription and plan up by its id, and the receiver’s live subscriptions by the tenant’s index', async () => {
    const plan = await planOf(subscriptionRepository({ db } as never).forgetUnneededToldQuery('101'));
    expect(plan).toMatch(/SEARCH plans_told USING (COVERING )?INDEX plans_told_plan \(tenant=\?\)/);
    expect(plan).toMatch(/SEARCH told_by USING INDEX sqlite_autoindex_subscriptions_1 \(id=\?\)/);
    expect(plan).toMatch(/SEARCH live USING INDEX subscriptions_tenant \(tenant=\? AND disabled_at=\?\)/);
    expect(plan).toMatch(/SEARCH plans USING INDEX sqlite_autoindex_plans_1 \(id=\?\)/);
  });

  it('the DPO’s list of reads from outside a plan reads the partial index that holds only them, by tenant and time, never the whole log', async () => {
    const audit = auditRepository({ db, batch: async () => undefined } as never);
    const period = { from: '2026-11-01T00:00:00.000Z', to: '2026-12-01T00:00:00.000Z', limit: 201 };
    // The first page, and a later one: its cursor must not send SQLite along the primary key from the cursor on.
    for (const page of [period, { ...period, afterSeq: 10 }]) expect(await planOf(audit.readsFromOutsideQuery('101', page))).toMatch(/^SEARCH audit_log USING INDEX audit_reads_from_outside \(tenant=\? AND at>\? AND at<\?\)/);
    // The count on every /metrics scrape: the same index.
    expect(await planOf(audit.countReadsFromOutsideQuery('101', period.from))).toMatch(/^SEARCH audit_log USING (COVERING )?INDEX audit_reads_from_outside \(tenant=\? AND at>\?\)/);
  });

  it('the oldest waiting deliveries are read from the index of live rows, not the whole history', async () => {
    expect(await planOf(outboxRepository({ db } as never).oldestWaitingQuery('101'))).toMatch(/SEARCH outbox USING INDEX outbox_due \(status=\?\)/);
    expect(await planOf(subscriptionRepository({ db } as never).oldestWaitingQuery('101'))).toMatch(/SEARCH subscription_deliveries USING INDEX subscription_deliveries_due \(status=\?\)/);
  });

  it("an element's earlier deliveries to a target are read through the citizen's index, every one of them, not a window of the newest", async () => {
    const query = outboxRepository({ db } as never).deliveredBeforeQuery('101', 'citizen-1', 'social', 500, 'goal-1');
    expect(await planOf(query)).toMatch(/^SEARCH outbox USING INDEX outbox_tenant_citizen \(tenant=\? AND citizen_id=\? AND sequence<\?\)/);
    expect(query.toSQL().sql).not.toMatch(/limit/i);
  });

  it('the caseload per coordinator reads the status index alone, never a plan row past its document', async () => {
    const [plan] = await plansOf((database) => planRepository(database).caseload('101'));
    expect(plan).toMatch(/^SEARCH plans USING COVERING INDEX plans_tenant_status_coordinator \(tenant=\? AND status=\?\)/);
  });

  it('the ciphertexts of the earlier formats are counted from an index that holds only them', async () => {
    const { sealedRepository } = await import('../../src/store/sealed');
    const [plan] = await plansOf((database) => sealedRepository(database).countLegacy('101'));
    expect(plan).toMatch(/SEARCH citizens USING (COVERING )?INDEX citizens_legacy_cipher \(tenant=\?\)/);
    expect(plan).not.toMatch(/SCAN citizens/);
  });

  it('the citizens whose region does not share are counted from the municipality’s rows of the refusals’ key', async () => {
    const { regionalConsentRepository } = await import('../../src/store/regional-consents');
    const [plan] = await plansOf((database) => regionalConsentRepository(database).countRefusals('101'));
    expect(plan).toMatch(/SEARCH regional_refusals USING (COVERING )?INDEX (sqlite_autoindex_regional_refusals_1|regional_refusals_tenant_permits_from) \(tenant=\?\)/);
    expect(plan).not.toMatch(/SCAN regional_refusals/);
  });
});

describe('the distinct tenants of a table, by stepping from one to the next (distinctLeading)', () => {
  it('each step is one search of the index the tenant leads, not a walk of every entry', async () => {
    const step = db.select({ value: sql<string | null>`min(${schema.auditLog.tenant})` }).from(schema.auditLog).where(gt(schema.auditLog.tenant, '101'));
    expect(await planOf(step)).toMatch(/SEARCH audit_log USING COVERING INDEX sqlite_autoindex_audit_log_1 \(tenant>\?\)/);
    expect(await planOf(db.selectDistinct({ tenant: schema.auditLog.tenant }).from(schema.auditLog))).toMatch(/SCAN audit_log/);
  });

  it('finds every tenant once, in order, and none in an empty table', async () => {
    expect(await distinctLeading(db, schema.syncRuns, schema.syncRuns.tenant)).toEqual([]);
    const run = (tenant: string, id: string) => ({ id, tenant, adapter: 'dfdg', trigger: 'test', status: 'succeeded', startedAt: '2026-11-25T00:00:00.000Z', stats: '{}' });
    await db.insert(schema.syncRuns).values([run('851', 'r-1'), run('101', 'r-2'), run('851', 'r-3'), run('147', 'r-4')] as never);
    expect(await distinctLeading(db, schema.syncRuns, schema.syncRuns.tenant)).toEqual(['101', '147', '851']);
  });
});
