/**
 * S5 on D1: the audit log refuses UPDATE and DELETE (migration 0019's triggers, applied by D1), and
 * every commit of audit rows moves the chain's recorded head with them, so verify checks the end.
 */
import { env } from 'cloudflare:test';
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { createStore } from '../../src/store';
import { openD1Database } from '../../src/store/d1';

// A tenant of its own: no other test's rows.
const TENANT = '9019';
const entry = (i: number) => ({ at: `2026-11-24T10:00:0${i % 10}.000Z`, actor: 'caseworker:a', action: 'plan.read', targetType: 'plan', targetId: `p-${i}`, detail: { view: 'caseworker' } });

describe('audit log on D1', () => {
  it('keeps the chain’s head with single, grouped and batched appends, and refuses to update or delete a row', async () => {
    const database = openD1Database(env.DB as never);
    const store = createStore(database);
    await store.audit.append(TENANT, entry(1));
    await Promise.all([2, 3, 4].map((i) => store.audit.append(TENANT, entry(i))));
    await store.audit.appendMany(TENANT, [entry(5), entry(6)]);
    const rows = await store.audit.list(TENANT);
    expect(rows.map((r) => r.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    expect((await store.audit.heads()).find((h) => h.tenant === TENANT)).toEqual({ tenant: TENANT, seq: 6, hash: rows[5]!.hash });
    expect(await store.audit.verify(TENANT)).toEqual({ ok: true, rows: 6 });
    expect(await store.audit.verify(TENANT, { anchors: [{ seq: 3, hash: rows[2]!.hash }] })).toEqual({ ok: true, rows: 6, anchorsHeld: 1 });

    const refusal = (statement: Promise<unknown>) => statement.then(() => 'written', (e: unknown) => String((e as { cause?: unknown }).cause ?? e));
    expect(await refusal(database.db.run(sql`update audit_log set actor = 'someone-else' where tenant = ${TENANT} and seq = 2`))).toContain('the audit log is append-only');
    expect(await refusal(database.db.run(sql`delete from audit_log where tenant = ${TENANT} and seq = 6`))).toContain('the audit log is append-only');
    expect(await refusal(database.db.run(sql`update audit_heads set seq = 2 where tenant = ${TENANT}`))).toContain('an audit chain head only moves forward');
    expect(await refusal(database.db.run(sql`delete from audit_heads where tenant = ${TENANT}`))).toContain('an audit chain head cannot be deleted');
    expect(await store.audit.verify(TENANT)).toEqual({ ok: true, rows: 6 });
  });

  it('keys the chain with AUDIT_CHAIN_KEY on D1 too (HMAC through nodejs_compat): a chain written before is keyed at its end, and a check without the key does not pass it', async () => {
    const tenant = '9031';
    const key = 'a-workers-audit-chain-key-of-32-chars-or-more';
    const database = openD1Database(env.DB as never);
    await createStore(database).audit.appendMany(tenant, [entry(1), entry(2)]);
    const keyed = createStore(database, { auditChainKey: key });
    expect(await keyed.audit.verify(tenant)).toEqual({ ok: true, rows: 2, notKeyed: true });
    expect(await keyed.audit.keyChainEnd(tenant, '2026-11-25T12:00:00.000Z')).toBe(true);
    await Promise.all([4, 5].map((i) => keyed.audit.append(tenant, entry(i))));
    expect(await keyed.audit.verify(tenant)).toEqual({ ok: true, rows: 5, keyedFrom: 3 });
    expect(await createStore(database).audit.verify(tenant)).toMatchObject({ ok: false, brokenAtSeq: 3 });
  });
});
