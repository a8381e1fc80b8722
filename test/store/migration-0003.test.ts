/**
 * Migration 0003 keys merged-record marks by citizen. A database written by the earlier schema
 * keeps its marks: each goes to the citizens of the plan it was merged into (both members of a
 * family plan); marks of quarantined versions (plan '-') are dropped.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from '@libsql/client';
import { drizzle } from 'drizzle-orm/libsql';
import { migrate } from 'drizzle-orm/libsql/migrator';
import { afterAll, describe, expect, it } from 'vitest';
import { migrationsFolder } from '../../src/store/libsql';
import { migrationsUpTo } from '../support/migrations';

const dir = mkdtempSync(join(tmpdir(), 'enplan-migration-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('migration 0003: merged-record marks by citizen', () => {
  it('keeps each mark for the citizens of its plan and drops marks of quarantined versions', async () => {
    const client = createClient({ url: `file:${join(dir, 'enplan.db')}` });
    const db = drizzle(client);
    await migrate(db, { migrationsFolder: migrationsUpTo(dir, '0002_quarantine_resolution') });
    await client.batch([
      `insert into plans values ('plan-a', '101', 'active', '{}', 3, 't', 't'), ('plan-f', '101', 'active', '{}', 3, 't', 't')`,
      `insert into plan_members values ('101', 'plan-a', 'citizen-a', 1), ('101', 'plan-f', 'citizen-m', 1), ('101', 'plan-f', 'citizen-c', 1)`,
      `insert into applied_records values ('101', 'dfdg', 'rec-1', '2', 'plan-a', 't'), ('101', 'social', 'rec-2', '5', 'plan-f', 't'), ('101', 'dfdg', 'rec-bad', '1', '-', 't')`,
    ]);

    await migrate(db, { migrationsFolder });
    const rows = await client.execute('select tenant, citizen_id, source, record_id, record_version, plan_id from applied_records order by citizen_id');
    expect(rows.rows.map((r) => ({ ...r }))).toEqual([
      { tenant: '101', citizen_id: 'citizen-a', source: 'dfdg', record_id: 'rec-1', record_version: '2', plan_id: 'plan-a' },
      { tenant: '101', citizen_id: 'citizen-c', source: 'social', record_id: 'rec-2', record_version: '5', plan_id: 'plan-f' },
      { tenant: '101', citizen_id: 'citizen-m', source: 'social', record_id: 'rec-2', record_version: '5', plan_id: 'plan-f' },
    ]);
    client.close();
  });
});
