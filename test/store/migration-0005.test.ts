/**
 * Migration 0005 gives consents their last valid day as a column (to find lapsed grants by index).
 * Rows written by the earlier schema get it from their document; open-ended ones stay without.
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

const dir = mkdtempSync(join(tmpdir(), 'enplan-migration-0005-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('migration 0005: consents know their last valid day', () => {
  it('fills it in from the document for existing grants and legal bases', async () => {
    const client = createClient({ url: `file:${join(dir, 'enplan.db')}` });
    const db = drizzle(client);
    await migrate(db, { migrationsFolder: migrationsUpTo(dir, '0004_catch_up_epochs') });
    await client.batch([
      `insert into consents values ('g-limited', '101', 'c-1', 'grant', '{"id":"g-limited","validFrom":"2026-01-01","validTo":"2026-06-30"}', null, 't')`,
      `insert into consents values ('g-open', '101', 'c-1', 'grant', '{"id":"g-open","validFrom":"2026-01-01"}', null, 't')`,
      `insert into consents values ('lb-limited', '101', 'c-2', 'legal-basis', '{"id":"lb-limited","validTo":"2027-01-31"}', null, 't')`,
    ]);

    await migrate(db, { migrationsFolder });
    const rows = await client.execute('select id, valid_to, lapse_handled_at from consents order by id');
    expect(rows.rows.map((r) => ({ ...r }))).toEqual([
      { id: 'g-limited', valid_to: '2026-06-30', lapse_handled_at: null },
      { id: 'g-open', valid_to: null, lapse_handled_at: null },
      { id: 'lb-limited', valid_to: '2027-01-31', lapse_handled_at: null },
    ]);
    client.close();
  });
});
