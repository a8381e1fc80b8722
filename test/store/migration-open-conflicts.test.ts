/**
 * Migration 0007 keeps, per plan, how many of its conflicts wait for a person (the caseworkers'
 * worklist, by index). Plans written before it get the count from their documents.
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

const dir = mkdtempSync(join(tmpdir(), 'enplan-migration-conflicts-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const planRow = (id: string, conflicts: unknown[]) =>
  `insert into plans (id, tenant, status, document, version, created_at, updated_at) values ('${id}', '101', 'active', '${JSON.stringify({ id, conflicts })}', 1, 't', 't')`;

describe('migration 0007: plans count their open conflicts', () => {
  it('counts them from the document for existing plans, leaving out the resolved ones', async () => {
    const client = createClient({ url: `file:${join(dir, 'enplan-0007.db')}` });
    const db = drizzle(client);
    await migrate(db, { migrationsFolder: migrationsUpTo(dir, '0006_consent_start') });
    await client.batch([
      planRow('p-none', []),
      planRow('p-two-open', [{ id: 'c1' }, { id: 'c2' }]),
      planRow('p-one-resolved', [{ id: 'c1', resolvedAt: '2026-11-23T10:00:00.000Z' }, { id: 'c2' }]),
    ]);

    await migrate(db, { migrationsFolder });
    const rows = await client.execute('select id, open_conflicts from plans order by id');
    expect(rows.rows.map((r) => ({ ...r }))).toEqual([
      { id: 'p-none', open_conflicts: 0 },
      { id: 'p-one-resolved', open_conflicts: 1 },
      { id: 'p-two-open', open_conflicts: 2 },
    ]);
    client.close();
  });
});
