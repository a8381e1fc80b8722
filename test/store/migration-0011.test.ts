/**
 * Migration 0011 keeps, per plan, the earliest open follow-up and the coordinator's name (the
 * caseworkers' worklists, by index). Plans written before it get both from their documents.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from '@libsql/client';
import { drizzle } from 'drizzle-orm/libsql';
import { migrate } from 'drizzle-orm/libsql/migrator';
import { afterAll, describe, expect, it } from 'vitest';
import { migrationsFolder } from '../../src/store/libsql';
import { coordinatorNameOf, nextFollowUpOf } from '../../src/store/plans';
import { migrationsUpTo } from '../support/migrations';

const dir = mkdtempSync(join(tmpdir(), 'enplan-migration-0011-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const documents = {
  'p-none': { followUps: [] },
  'p-open': { followUps: [{ id: 'f1', due: '2026-05-01', done: false }, { id: 'f2', due: '2026-03-01', done: false }, { id: 'f3', due: '2026-01-01', done: true }], coordinator: { name: 'Karin Koordinator' } },
  'p-all-done': { followUps: [{ id: 'f1', due: '2026-01-01', done: true }], coordinator: { name: 'Jens Jensen' } },
  'p-default-done': { followUps: [{ id: 'f1', due: '2026-02-02' }] },
};

describe('migration 0011: plans keep their next follow-up and coordinator', () => {
  it('fills both from the documents of existing plans, as the store computes them for new writes', async () => {
    const client = createClient({ url: `file:${join(dir, 'enplan-0011.db')}` });
    const db = drizzle(client);
    await migrate(db, { migrationsFolder: migrationsUpTo(dir, '0010_subscriptions') });
    await client.batch(
      Object.entries(documents).map(([id, doc]) => ({ sql: `insert into plans (id, tenant, status, document, version, created_at, updated_at) values (?, '101', 'active', ?, 1, 't', 't')`, args: [id, JSON.stringify({ id, ...doc })] })),
    );
    await migrate(db, { migrationsFolder });
    const rows = await client.execute('select id, next_follow_up, coordinator_name from plans order by id');
    expect(rows.rows.map((r) => ({ ...r }))).toEqual([
      { id: 'p-all-done', next_follow_up: null, coordinator_name: 'Jens Jensen' },
      { id: 'p-default-done', next_follow_up: '2026-02-02', coordinator_name: null },
      { id: 'p-none', next_follow_up: null, coordinator_name: null },
      { id: 'p-open', next_follow_up: '2026-03-01', coordinator_name: 'Karin Koordinator' },
    ]);
    // The same values the store writes for a plan from now on.
    for (const row of rows.rows) {
      const doc = documents[row.id as keyof typeof documents] as never as { followUps: { due: string; done?: boolean }[]; coordinator?: { name: string } };
      expect(nextFollowUpOf({ followUps: doc.followUps.map((f) => ({ ...f, done: f.done ?? false })) } as never)).toBe(row.next_follow_up);
      expect(coordinatorNameOf(doc as never)).toBe(row.coordinator_name);
    }
    client.close();
  });
});
