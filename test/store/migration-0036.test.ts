/**
 * Migration 0036: inbound change notices are deduplicated per municipality. The table is rebuilt with
 * the municipality in its key; every notice already stored is kept as it was.
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

const dir = mkdtempSync(join(tmpdir(), 'enplan-migration-0036-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('migration 0036: inbound notices per municipality', () => {
  it('keeps the notices stored, and then takes one id from two municipalities as two notices', async () => {
    const client = createClient({ url: `file:${join(dir, 'enplan.db')}` });
    const db = drizzle(client);
    await migrate(db, { migrationsFolder: migrationsUpTo(dir, '0035_audit_reads_from_outside') });
    await client.execute(
      `insert into inbound_webhooks (source, webhook_id, tenant, event_type, body, received_at, status, attempts) values ('social', 'evt-1', '101', 'records.changed', '{}', '2026-11-25T10:00:00.000Z', 'processed', 1), ('dfdg', 'evt-2', '751', 'records.changed', null, '2026-11-25T10:01:00.000Z', 'pending', 0)`,
    );
    await migrate(db, { migrationsFolder });
    const kept = await client.execute('select source, webhook_id, tenant, status, attempts, body from inbound_webhooks order by webhook_id');
    expect(kept.rows.map((r) => ({ ...r }))).toEqual([
      { source: 'social', webhook_id: 'evt-1', tenant: '101', status: 'processed', attempts: 1, body: '{}' },
      { source: 'dfdg', webhook_id: 'evt-2', tenant: '751', status: 'pending', attempts: 0, body: null },
    ]);
    // The same id from another municipality is a notice of its own; from the same one, still a duplicate.
    await client.execute(`insert into inbound_webhooks (source, webhook_id, tenant, event_type, received_at, status) values ('social', 'evt-1', '751', 'records.changed', '2026-11-25T11:00:00.000Z', 'pending')`);
    await expect(client.execute(`insert into inbound_webhooks (source, webhook_id, tenant, event_type, received_at, status) values ('social', 'evt-1', '751', 'records.changed', '2026-11-25T11:00:00.000Z', 'pending')`)).rejects.toThrow(/UNIQUE|PRIMARY/i);
    // The waiting index is there again.
    const indexes = await client.execute(`select name from sqlite_master where type = 'index' and tbl_name = 'inbound_webhooks' and name not like 'sqlite_autoindex%' order by name`);
    expect(indexes.rows.map((r) => r.name)).toEqual(['inbound_webhooks_tenant_received', 'inbound_webhooks_waiting']);
    client.close();
  });
});
