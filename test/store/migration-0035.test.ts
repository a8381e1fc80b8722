/**
 * Migration 0035 indexes the audit rows of reads from outside a plan (decision 0032). It must build
 * on a log as any earlier release left it, a row edited to text that is not JSON included (tampering,
 * which verify names): such a row is neither indexed nor a reason for the migration to fail.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from '@libsql/client';
import { drizzle } from 'drizzle-orm/libsql';
import { migrate } from 'drizzle-orm/libsql/migrator';
import { afterAll, describe, expect, it } from 'vitest';
import { auditRepository } from '../../src/store/audit';
import { migrationsFolder } from '../../src/store/libsql';
import { migrationsUpTo } from '../support/migrations';

const dir = mkdtempSync(join(tmpdir(), 'enplan-migration-0035-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('migration 0035: the reads from outside a plan, indexed', () => {
  it('builds over rows of every kind, and the DPO’s list finds only the reads from outside', async () => {
    const client = createClient({ url: `file:${join(dir, 'enplan-0035.db')}` });
    const db = drizzle(client);
    await migrate(db, { migrationsFolder: migrationsUpTo(dir, '0034_plans_told') });
    const rows: [number, string, string][] = [
      [1, '2026-11-20T10:00:00.000Z', JSON.stringify({ view: 'caseworker', department: 'employment', departmentInPlan: false })],
      [2, '2026-11-20T11:00:00.000Z', 'not json'],
      [3, '2026-11-20T12:00:00.000Z', JSON.stringify({ view: 'caseworker', department: 'social', departmentInPlan: true })],
      [4, '2026-11-20T13:00:00.000Z', JSON.stringify({ view: 'caseworker' })],
    ];
    await client.batch(
      rows.map(([seq, at, detail]) => ({
        sql: `insert into audit_log (tenant, seq, at, actor, action, target_type, target_id, citizen_id, detail, prev_hash, hash) values ('101', ?, ?, 'caseworker:anna', 'plan.read', 'plan', 'p-1', 'c-1', ?, 'x', 'y')`,
        args: [seq, at, detail],
      })),
    );
    await migrate(db, { migrationsFolder });
    const found = await auditRepository({ db, batch: async () => undefined } as never).readsFromOutside('101', { from: '2026-11-01T00:00:00.000Z', to: '2026-12-01T00:00:00.000Z', limit: 10 });
    expect(found.map((row) => [row.seq, row.detail])).toEqual([[1, { view: 'caseworker', department: 'employment', departmentInPlan: false }]]);
    client.close();
  });
});
