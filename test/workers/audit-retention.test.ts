/**
 * The audit log's retention on D1 (decision 0030): migration 0032's triggers let a row go only at or
 * below the chain's base, which moves in the same batch as the deletion and its `audit.pruned` row.
 */
import { env } from 'cloudflare:test';
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { createStore } from '../../src/store';
import { openD1Database } from '../../src/store/d1';

const TENANT = '9032';
const entry = (at: string, i: number) => ({ at, actor: 'caseworker:a', action: 'plan.read', targetType: 'plan', targetId: `p-${i}`, detail: { view: 'caseworker' } });

describe('audit log retention on D1', () => {
  it('prunes the oldest rows, verifies from the base, and still refuses to delete a row above it', async () => {
    const database = openD1Database(env.DB as never);
    const store = createStore(database);
    for (let i = 1; i <= 4; i++) await store.audit.append(TENANT, entry(`2025-01-0${i}T10:00:00.000Z`, i));
    await store.audit.append(TENANT, entry('2026-11-24T10:00:00.000Z', 5));
    expect(await store.audit.pruneBefore(TENANT, '2026-01-01T00:00:00.000Z', 100, { at: '2026-11-25T02:30:00.000Z', actor: 'system:retention' })).toBe(4);
    expect((await store.audit.list(TENANT)).map((r) => [r.seq, r.action])).toEqual([[5, 'plan.read'], [6, 'audit.pruned']]);
    expect(await store.audit.verify(TENANT)).toEqual({ ok: true, rows: 2, prunedThrough: 4 });
    const refusal = (statement: Promise<unknown>) => statement.then(() => 'written', (e: unknown) => String((e as { cause?: unknown }).cause ?? e));
    expect(await refusal(database.db.run(sql`delete from audit_log where tenant = ${TENANT} and seq = 5`))).toContain('the audit log is append-only');
    expect(await refusal(database.db.run(sql`update audit_bases set seq = 1 where tenant = ${TENANT}`))).toContain('an audit chain base only moves forward');
    expect(await store.audit.verify(TENANT)).toEqual({ ok: true, rows: 2, prunedThrough: 4 });
  });
});
