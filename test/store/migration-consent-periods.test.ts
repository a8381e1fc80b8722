/**
 * Migrations 0005 and 0006 give consents their period as columns (to find lapsed and starting
 * grants by index), 0008 a legal-basis record's time of telling the citizen (the R11 worklist).
 * Rows written by the earlier schema get them from their documents.
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

const dir = mkdtempSync(join(tmpdir(), 'enplan-migration-consent-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('migrations 0005 and 0006: consents know their period', () => {
  it('fills it in from the document for existing grants and legal bases', async () => {
    const client = createClient({ url: `file:${join(dir, 'enplan-0005.db')}` });
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

  it('0006: a grant valid when recorded took effect then; one dated to start later is left for the nightly job', async () => {
    const client = createClient({ url: `file:${join(dir, 'enplan-0006.db')}` });
    const db = drizzle(client);
    await migrate(db, { migrationsFolder: migrationsUpTo(dir, '0005_consent_lapse') });
    await client.batch([
      `insert into consents (id, tenant, citizen_id, kind, document, revoked_at, created_at) values ('g-now', '101', 'c-1', 'grant', '{"id":"g-now","validFrom":"2026-11-01"}', null, '2026-11-01T09:00:00.000Z')`,
      `insert into consents (id, tenant, citizen_id, kind, document, revoked_at, created_at) values ('g-later', '101', 'c-1', 'grant', '{"id":"g-later","validFrom":"2026-12-01"}', null, '2026-11-01T09:00:00.000Z')`,
      `insert into consents (id, tenant, citizen_id, kind, document, revoked_at, created_at) values ('lb', '101', 'c-2', 'legal-basis', '{"id":"lb","recordedAt":"2026-11-01T09:00:00.000Z"}', null, '2026-11-01T09:00:00.000Z')`,
    ]);

    await migrate(db, { migrationsFolder });
    const rows = await client.execute('select id, valid_from, start_handled_at from consents order by id');
    expect(rows.rows.map((r) => ({ ...r }))).toEqual([
      { id: 'g-later', valid_from: '2026-12-01', start_handled_at: null },
      { id: 'g-now', valid_from: '2026-11-01', start_handled_at: '2026-11-01T09:00:00.000Z' },
      { id: 'lb', valid_from: null, start_handled_at: null },
    ]);
    client.close();
  });

  it('0008: a legal-basis record knows, as a column, when its citizen was told; grants have no such thing', async () => {
    const client = createClient({ url: `file:${join(dir, 'enplan-0008.db')}` });
    const db = drizzle(client);
    await migrate(db, { migrationsFolder: migrationsUpTo(dir, '0007_open_conflicts') });
    await client.batch([
      `insert into consents (id, tenant, citizen_id, kind, document, created_at) values ('lb-told', '101', 'c-1', 'legal-basis', '{"id":"lb-told","citizenInformed":true,"informedAt":"2026-11-02T09:00:00.000Z"}', 't')`,
      `insert into consents (id, tenant, citizen_id, kind, document, created_at) values ('lb-not-told', '101', 'c-1', 'legal-basis', '{"id":"lb-not-told","citizenInformed":false}', 't')`,
      `insert into consents (id, tenant, citizen_id, kind, document, created_at) values ('g', '101', 'c-1', 'grant', '{"id":"g","informedAt":"2026-11-02T09:00:00.000Z"}', 't')`,
    ]);

    await migrate(db, { migrationsFolder });
    const rows = await client.execute('select id, informed_at from consents order by id');
    expect(rows.rows.map((r) => ({ ...r }))).toEqual([
      { id: 'g', informed_at: null },
      { id: 'lb-not-told', informed_at: null },
      { id: 'lb-told', informed_at: '2026-11-02T09:00:00.000Z' },
    ]);
    client.close();
  });
});
