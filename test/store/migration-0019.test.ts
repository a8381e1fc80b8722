/**
 * Migration 0019 keeps each tenant's audit chain head beside the log, and makes the log append-only.
 * Chains written before it get their head from their last row, verify and go on from there.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from '@libsql/client';
import { drizzle } from 'drizzle-orm/libsql';
import { migrate } from 'drizzle-orm/libsql/migrator';
import { afterAll, describe, expect, it } from 'vitest';
import { createStore } from '../../src/store';
import { chainHash, GENESIS_HASH } from '../../src/store/audit';
import { migrationsFolder, openLibsqlDatabase } from '../../src/store/libsql';
import { migrationsUpTo } from '../support/migrations';

const dir = mkdtempSync(join(tmpdir(), 'enplan-migration-0019-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('migration 0019: audit chain heads, and an append-only log', () => {
  it('records each existing chain’s last row as its head; the chains verify and go on from it', async () => {
    const url = `file:${join(dir, 'enplan-0019.db')}`;
    const client = createClient({ url });
    const db = drizzle(client);
    await migrate(db, { migrationsFolder: migrationsUpTo(dir, '0018_forget_marks_on_enrolment') });
    // Chains as the release before wrote them: 3 rows for 101, 2 for 751.
    const lastHash: Record<string, string> = {};
    for (const [tenant, n] of [['101', 3], ['751', 2]] as const) {
      let prevHash = GENESIS_HASH;
      for (let seq = 1; seq <= n; seq++) {
        const row = { tenant, seq, at: `2026-11-23T10:00:0${seq}.000Z`, actor: 'caseworker:a', action: 'plan.read', targetType: 'plan', targetId: 'p-1', citizenId: null, detail: { view: 'caseworker' }, prevHash };
        const hash = await chainHash(row);
        await client.execute({ sql: 'insert into audit_log values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)', args: [tenant, seq, row.at, row.actor, row.action, row.targetType, row.targetId, null, JSON.stringify(row.detail), prevHash, hash] });
        prevHash = hash;
      }
      lastHash[tenant] = prevHash;
    }
    await migrate(db, { migrationsFolder });
    expect((await client.execute('select tenant, seq, hash from audit_heads order by tenant')).rows.map((r) => ({ ...r }))).toEqual([
      { tenant: '101', seq: 3, hash: lastHash['101'] },
      { tenant: '751', seq: 2, hash: lastHash['751'] },
    ]);
    await expect(client.execute("update audit_log set actor = 'x' where tenant = '101' and seq = 1")).rejects.toThrow(/append-only/);
    await expect(client.execute("delete from audit_log where tenant = '101'")).rejects.toThrow(/append-only/);
    client.close();

    const database = await openLibsqlDatabase(url);
    const store = createStore(database);
    expect(await store.audit.verify('101')).toEqual({ ok: true, rows: 3 });
    expect((await store.audit.append('101', { at: '2026-11-24T10:00:00.000Z', actor: 'caseworker:a', action: 'plan.read', targetType: 'plan', targetId: 'p-1' })).seq).toBe(4);
    expect(await store.audit.verify('101')).toEqual({ ok: true, rows: 4 });
    expect(await store.audit.verify('751')).toEqual({ ok: true, rows: 2 });
    await database.close();
  });
});
