/**
 * S5: editing any audit row breaks the chain and verify says where — including rows deleted at the
 * end (the chain's head is kept beside it), rows inserted with a seq outside the chain's 1, 2, 3…,
 * and a detail that is no longer JSON. The log refuses UPDATE and DELETE itself; a rewrite by
 * someone holding the database file (who can drop those triggers and recompute every hash) is caught
 * only by an anchor: a head logged earlier and kept outside the database.
 */
import { and, eq, sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { createStore } from '../../src/store';
import { chainHash, type AuditRow } from '../../src/store/audit';
import { auditLog } from '../../src/store/schema';
import { openLibsqlDatabase } from '../../src/store/libsql';
import { dropAuditGuards } from '../support/audit-guards';
import { testCpr } from '../support/cpr';
import { startTestApp } from '../support/node-app';

const entry = (i: number) => ({ at: `2026-11-23T10:00:0${i}.000Z`, actor: 'caseworker:a', action: 'plan.read', targetType: 'plan', targetId: 'p-1', citizenId: 'c-1', detail: { view: 'caseworker' } });
async function chainOf(n: number) {
  const database = await openLibsqlDatabase(':memory:');
  const store = createStore(database);
  for (let i = 1; i <= n; i++) await store.audit.append('101', entry(i));
  expect(await store.audit.verify('101')).toEqual({ ok: true, rows: n });
  return { database, store, db: database.db as any };
}
/** As `chainOf`, with the append-only triggers dropped: what someone holding the database file can do. */
async function tamperableChainOf(n: number) {
  const chain = await chainOf(n);
  await dropAuditGuards(chain.db);
  return chain;
}
/** The database's own refusal (drizzle wraps it in a "Failed query" error whose cause is SQLite's). */
async function refusal(write: Promise<unknown>): Promise<string> {
  const error = await write.then(() => undefined, (e: unknown) => e);
  expect(error).toBeDefined();
  return String((error as { cause?: unknown }).cause ?? error);
}
const rowOf = (tenant: string, seq: number) => and(eq(auditLog.tenant, tenant), eq(auditLog.seq, seq));

describe('audit chain: what verify detects (S5)', () => {
  it('A: truncation (last rows deleted) is detected', async () => {
    const { store, db } = await tamperableChainOf(5);
    await db.delete(auditLog).where(and(eq(auditLog.tenant, '101'), sql`${auditLog.seq} >= 4`));
    expect(await store.audit.verify('101')).toMatchObject({ ok: false, rows: 3, brokenAtSeq: 4, reason: expect.stringContaining('rows 4 to 5 are missing') });
  });

  it('A: a tenant whose rows were all deleted is still listed, and its chain is broken at row 1', async () => {
    const { store, db } = await tamperableChainOf(3);
    await db.delete(auditLog).where(eq(auditLog.tenant, '101'));
    expect(await store.audit.tenants()).toEqual(['101']);
    expect(await store.audit.verify('101')).toMatchObject({ ok: false, rows: 0, brokenAtSeq: 1 });
  });

  it('A: every tenant with rows is listed, also one whose head was deleted, each once and in order', async () => {
    const { store, db } = await tamperableChainOf(2);
    for (const tenant of ['851', '147']) for (let i = 1; i <= 3; i++) await store.audit.append(tenant, entry(i));
    await db.run(sql`delete from audit_heads where tenant = '851'`);
    expect(await store.audit.tenants()).toEqual(['101', '147', '851']);
    expect((await store.audit.verify('851')).ok).toBe(false);
  });

  it('B: a forged row inserted at seq 0 is detected', async () => {
    const { store, db } = await chainOf(3);
    await db.insert(auditLog).values({ tenant: '101', seq: 0, at: '2026-11-23T09:00:00.000Z', actor: 'caseworker:mallory', action: 'plan.read', targetType: 'plan', targetId: 'p-1', citizenId: 'c-1', detail: '{}', prevHash: 'x', hash: 'y' });
    expect(await store.audit.verify('101')).toMatchObject({ ok: false, rows: 0, brokenAtSeq: 0, reason: 'a row with seq 0 was inserted before row 1 (seqs are whole numbers from 1)' });
  });

  it('B: a forged row at a negative seq is detected', async () => {
    const { store, db } = await chainOf(2);
    await db.run(sql`insert into audit_log values ('101', -7, 'x', 'a', 'b', 'c', 'd', null, '{}', 'p', 'h')`);
    expect(await store.audit.verify('101')).toMatchObject({ ok: false, brokenAtSeq: -7 });
  });

  it('D: a detail edited to non-JSON text is named, not a crash', async () => {
    const { store, db } = await tamperableChainOf(3);
    await db.update(auditLog).set({ detail: 'not json' }).where(and(eq(auditLog.tenant, '101'), eq(auditLog.seq, 2)));
    await expect(store.audit.verify('101')).resolves.toMatchObject({ ok: false, brokenAtSeq: 2, rows: 1, reason: expect.stringContaining('not JSON') });
    // The logs built on the rows still answer, showing the row as changed outside the service.
    const listed = await store.audit.list('101', { citizenId: 'c-1' });
    expect(listed.map((row) => row.seq)).toEqual([1, 2, 3]);
    expect(listed[1]!.detail).toEqual({ unreadable: expect.stringContaining('changed outside the service') });
  });

  it('D: a detail rewritten as other JSON text of the same value (spacing) is detected: the stored text is what is hashed', async () => {
    const { store, db } = await tamperableChainOf(3);
    await db.update(auditLog).set({ detail: '{ "view": "caseworker" }' }).where(rowOf('101', 2));
    expect(await store.audit.verify('101')).toMatchObject({ ok: false, brokenAtSeq: 2 });
  });

  it('G: a row inserted between 2 and 3 (seq 2.5) is named as such', async () => {
    const { store, db } = await chainOf(4);
    await db.run(sql`insert into audit_log values ('101', 2.5, 'x', 'a', 'b', 'c', 'd', null, '{}', 'p', 'h')`);
    const result = await store.audit.verify('101');
    expect(result).not.toMatchObject({ reason: 'row 3 is missing' });
    expect(result).toMatchObject({ ok: false, rows: 2, brokenAtSeq: 2.5, reason: 'a row with seq 2.5 was inserted after row 2 (seqs are whole numbers from 1)' });
  });

  it('a row whose seq is text is named as inserted, after the last row', async () => {
    const { store, db } = await chainOf(2);
    await db.run(sql`insert into audit_log values ('101', 'three', 'x', 'a', 'b', 'c', 'd', null, '{}', 'p', 'h')`);
    expect(await store.audit.verify('101')).toMatchObject({ ok: false, rows: 2, reason: 'a row with seq "three" was inserted after row 2 (seqs are whole numbers from 1)' });
  });

  it('a row appended with a correct hash but not by the service (the head not moved) is detected', async () => {
    const { store, db } = await chainOf(3);
    const [last] = await store.audit.list('101', { afterSeq: 2 });
    const forged = { tenant: '101', seq: 4, at: '2026-11-23T10:00:09.000Z', actor: 'caseworker:mallory', action: 'plan.read', targetType: 'plan', targetId: 'p-1', citizenId: 'c-1', detail: {}, prevHash: last!.hash };
    await db.insert(auditLog).values({ ...forged, detail: '{}', hash: await chainHash(forged) });
    expect(await store.audit.verify('101')).toMatchObject({ ok: false, rows: 3, brokenAtSeq: 4 });
  });

  it('the last row edited, and its hash recomputed, no longer matches the recorded head', async () => {
    const { store, db } = await tamperableChainOf(3);
    const [last] = await store.audit.list('101', { afterSeq: 2 });
    const { hash: _hash, ...rest } = last!;
    const edited: Omit<AuditRow, 'hash'> = { ...rest, actor: 'caseworker:mallory' };
    await db.update(auditLog).set({ actor: edited.actor, hash: await chainHash(edited) }).where(rowOf('101', 3));
    expect(await store.audit.verify('101')).toMatchObject({ ok: false, rows: 2, brokenAtSeq: 3 });
  });

  it('a chain with no recorded head is reported', async () => {
    const { store, db } = await tamperableChainOf(2);
    await db.run(sql`delete from audit_heads`);
    expect(await store.audit.verify('101')).toMatchObject({ ok: false, rows: 2, brokenAtSeq: 3, reason: expect.stringContaining('no head is recorded') });
  });
});

describe('audit log: append-only in the database', () => {
  it('refuses to update or delete an audit row', async () => {
    const { store, db } = await chainOf(3);
    expect(await refusal(db.update(auditLog).set({ actor: 'someone-else' }).where(rowOf('101', 2)))).toContain('the audit log is append-only: its rows cannot be updated');
    expect(await refusal(db.delete(auditLog).where(rowOf('101', 3)))).toContain('the audit log is append-only: its rows cannot be deleted');
    expect(await refusal(db.run(sql`delete from audit_log`))).toContain('the audit log is append-only: its rows cannot be deleted');
    expect(await store.audit.verify('101')).toEqual({ ok: true, rows: 3 });
  });

  it('refuses to delete a chain’s head or move it back', async () => {
    const { store, db } = await chainOf(3);
    expect(await refusal(db.run(sql`delete from audit_heads`))).toContain('an audit chain head cannot be deleted');
    expect(await refusal(db.run(sql`update audit_heads set seq = 2`))).toContain('an audit chain head only moves forward');
    expect(await store.audit.heads()).toEqual([{ tenant: '101', seq: 3, hash: (await store.audit.list('101', { afterSeq: 2 }))[0]!.hash }]);
  });

  it('keeps the head of each tenant’s chain as its last row, across single, grouped and batched appends', async () => {
    const database = await openLibsqlDatabase(':memory:');
    const store = createStore(database);
    await store.audit.append('101', entry(1));
    await Promise.all([1, 2, 3, 4].map((i) => store.audit.append('101', entry(i))));
    await store.audit.appendMany('751', [entry(1), entry(2)]);
    const lastOf = async (tenant: string) => (await store.audit.list(tenant)).at(-1)!;
    expect(await store.audit.heads()).toEqual([
      { tenant: '101', seq: 5, hash: (await lastOf('101')).hash },
      { tenant: '751', seq: 2, hash: (await lastOf('751')).hash },
    ]);
    expect(await store.audit.verify('101')).toEqual({ ok: true, rows: 5 });
    expect(await store.audit.verify('751')).toEqual({ ok: true, rows: 2 });
    await database.close();
  });
});

describe('audit chain: anchors kept outside the database', () => {
  /** Someone holding the file rewrites row 2 and recomputes every later hash and the head: the chain holds together again. */
  async function rewritten() {
    const chain = await tamperableChainOf(4);
    const before = await chain.store.audit.list('101');
    let prevHash = before[0]!.hash;
    for (const row of before.slice(1)) {
      const { hash: _hash, ...rest } = row;
      const edited: Omit<AuditRow, 'hash'> = { ...rest, actor: row.seq === 2 ? 'caseworker:mallory' : row.actor, prevHash };
      prevHash = await chainHash(edited);
      await chain.db.update(auditLog).set({ actor: edited.actor, prevHash: edited.prevHash, hash: prevHash }).where(rowOf('101', row.seq));
    }
    await chain.db.run(sql`update audit_heads set hash = ${prevHash} where tenant = '101'`);
    return { ...chain, before };
  }

  it('a rewrite with every hash recomputed passes verify alone, and is caught by an anchor taken before it', async () => {
    const { store, before } = await rewritten();
    expect(await store.audit.verify('101')).toEqual({ ok: true, rows: 4 });
    const anchor = { seq: 3, hash: before[2]!.hash };
    expect(await store.audit.verify('101', { anchors: [anchor] })).toMatchObject({ ok: false, rows: 2, brokenAtSeq: 3, reason: expect.stringContaining('anchored') });
    // An anchor before the rewritten row still holds.
    expect(await store.audit.verify('101', { anchors: [{ seq: 1, hash: before[0]!.hash }] })).toEqual({ ok: true, rows: 4, anchorsHeld: 1 });
  });

  it('an anchor beyond the chain’s end (rows and head cut back) is reported missing', async () => {
    const { store, db } = await tamperableChainOf(3);
    const [last] = await store.audit.list('101', { afterSeq: 2 });
    const [second] = await store.audit.list('101', { afterSeq: 1, limit: 1 });
    await db.delete(auditLog).where(rowOf('101', 3));
    await db.run(sql`update audit_heads set seq = 2, hash = ${second!.hash} where tenant = '101'`);
    expect(await store.audit.verify('101')).toEqual({ ok: true, rows: 2 });
    expect(await store.audit.verify('101', { anchors: [{ seq: 3, hash: last!.hash }] })).toMatchObject({ ok: false, rows: 2, brokenAtSeq: 3, reason: expect.stringContaining('anchored') });
  });
});

describe('audit chain: rows outside it (a seq not 1, 2, 3…)', () => {
  /** Rows no append wrote, about citizen c-1: before row 1, between rows, and after the last. */
  async function forge(db: { run(query: ReturnType<typeof sql.raw>): Promise<unknown> }, seqs: readonly string[], citizenId = 'c-1') {
    for (const seq of seqs)
      await db.run(sql.raw(`insert into audit_log values ('101', ${seq}, '2026-01-05T09:00:00.000Z', 'caseworker:mallory', 'plan.read', 'plan', 'p-1', '${citizenId}', '{"view":"caseworker"}', 'x', 'y')`));
  }

  it('are left out of list(), listed apart by outsideChain() with their seq as found, and verify names the first', async () => {
    const { store, db } = await chainOf(3);
    await forge(db, ['0', '-7', '2.5', "'three'"]);
    expect((await store.audit.list('101')).map((row) => row.seq)).toEqual([1, 2, 3]);
    expect((await store.audit.list('101', { citizenId: 'c-1', afterSeq: 0 })).map((row) => row.seq)).toEqual([1, 2, 3]);
    const outside = await store.audit.outsideChain('101', { citizenId: 'c-1' });
    expect(outside.map((row) => [row.seq, row.actor])).toEqual([['-7', 'caseworker:mallory'], ['0', 'caseworker:mallory'], ['2.5', 'caseworker:mallory'], ['"three"', 'caseworker:mallory']]);
    expect(await store.audit.outsideChain('101', { citizenId: 'c-2' })).toEqual([]);
    expect(await store.audit.verify('101')).toMatchObject({ ok: false, brokenAtSeq: -7, reason: 'a row with seq -7 was inserted before row 1 (seqs are whole numbers from 1)' });
  });

  it('the citizen is not told of them; the DPO’s access log shows them apart, as not part of the chain', async () => {
    const app = await startTestApp();
    const caseworker = await app.harness.token({ tenant: '101', roles: ['caseworker'], sub: 'anna' });
    const cpr = testCpr();
    const created = await app.harness.request('/v1/plans', { method: 'POST', headers: { authorization: `Bearer ${caseworker}`, 'content-type': 'application/json' }, body: JSON.stringify({ cpr, origin: 'offered' }) });
    expect(created.status).toBe(201);
    const planId = ((await created.json()) as { id: string }).id;
    expect((await app.harness.request(`/v1/plans/${planId}`, { headers: { authorization: `Bearer ${caseworker}` } })).status).toBe(200);
    const citizenId = (await app.deps.store.audit.list('101')).find((row) => row.citizenId)!.citizenId!;
    const citizen = await app.harness.token({ tenant: '101', roles: ['citizen'], citizenId });
    const flows = async () => ((await (await app.harness.request('/v1/citizen/data-flows', { headers: { authorization: `Bearer ${citizen}` } })).json()) as { flows: unknown[] }).flows;
    const before = await flows();
    await forge(app.database.db as never, ['0', '1.5'], citizenId);
    expect(await flows()).toEqual(before);

    const dpo = await app.harness.token({ tenant: '101', roles: ['dpo'], sub: 'karen' });
    const log = (await (await app.harness.request('/v1/data-subject/access-log', { method: 'POST', headers: { authorization: `Bearer ${dpo}`, 'content-type': 'application/json' }, body: JSON.stringify({ cpr }) })).json()) as {
      entries: { seq: number; actor: string }[];
      outsideChain: { seq: string; actor: string; action: string }[];
    };
    expect(log.entries.length).toBeGreaterThan(0);
    expect(log.entries.every((e) => Number.isInteger(e.seq) && e.seq >= 1 && e.actor !== 'caseworker:mallory')).toBe(true);
    expect(log.outsideChain.map((row) => [row.seq, row.actor, row.action])).toEqual([['0', 'caseworker:mallory', 'plan.read'], ['1.5', 'caseworker:mallory', 'plan.read']]);
    await app.close();
  });
});
