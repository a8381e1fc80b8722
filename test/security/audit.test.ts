/**
 * S5: the audit chain; every plan read leaves a row; editing a row is detected at that row. The log
 * refuses UPDATE and DELETE itself (migration 0019), so each tampering test first drops those
 * triggers, as someone holding the database file can (test/security/audit-chain.test.ts has the rest).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { and, eq, sql } from 'drizzle-orm';
import { afterEach, describe, expect, it } from 'vitest';
import { createMemoryLogger } from '../../src/monitoring/log';
import { anchorText, parseAnchor } from '../../src/store/audit';
import { auditLog } from '../../src/store/schema';
import { runRetention } from '../../src/sync/retention';
import { dropAuditGuards } from '../support/audit-guards';
import { testCpr } from '../support/cpr';
import { startTestApp } from '../support/node-app';

const run = promisify(execFile);
const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

async function appWithPlan(url?: string, env?: Record<string, string>) {
  const app = await startTestApp({ url, env });
  const token = await app.harness.token({ tenant: '101', roles: ['caseworker'] });
  const auth = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  const cpr = testCpr();
  const created = (await (await app.harness.request('/v1/plans', { method: 'POST', headers: auth, body: JSON.stringify({ cpr, origin: 'offered' }) })).json()) as { id: string };
  return { app, auth, cpr, planId: created.id as string };
}

describe('audit log (S5)', () => {
  it('writes a row for every read of a plan, holding no content', async () => {
    const { app, auth, cpr, planId } = await appWithPlan();
    for (let i = 0; i < 3; i++) expect((await app.harness.request(`/v1/plans/${planId}`, { headers: auth })).status).toBe(200);
    const rows = await app.deps.store.audit.list('101');
    expect(rows.map((r) => r.action)).toEqual(['plan.created', 'plan.read', 'plan.read', 'plan.read']);
    expect(rows.every((r) => r.targetId === planId && r.actor.startsWith('caseworker:'))).toBe(true);
    expect(JSON.stringify(rows)).not.toContain(cpr);
    expect(await app.deps.store.audit.verify('101')).toEqual({ ok: true, rows: 4 });
    await app.close();
  });

  it('a 404 read of another tenant’s plan leaves no row in either tenant', async () => {
    const { app, planId } = await appWithPlan();
    const other = await app.harness.token({ tenant: '751', roles: ['caseworker'] });
    expect((await app.harness.request(`/v1/plans/${planId}`, { headers: { authorization: `Bearer ${other}` } })).status).toBe(404);
    expect(await app.deps.store.audit.list('751')).toEqual([]);
    await app.close();
  });

  it('keeps one unbroken chain under concurrent writes', async () => {
    const { app, auth, planId } = await appWithPlan();
    await Promise.all(Array.from({ length: 25 }, () => app.harness.request(`/v1/plans/${planId}`, { headers: auth })));
    expect(await app.deps.store.audit.verify('101')).toEqual({ ok: true, rows: 26 });
    await app.close();
  });

  it.each([
    ['an edited action', (db: any) => db.update(auditLog).set({ action: 'plan.nothing-happened' }).where(and(eq(auditLog.tenant, '101'), eq(auditLog.seq, 3)))],
    ['an edited detail', (db: any) => db.update(auditLog).set({ detail: '{"members":9}' }).where(and(eq(auditLog.tenant, '101'), eq(auditLog.seq, 3)))],
    ['a row whose link to the one before was altered', (db: any) => db.update(auditLog).set({ prevHash: sql`'x' || substr(prev_hash, 2)` }).where(and(eq(auditLog.tenant, '101'), eq(auditLog.seq, 3)))],
  ])('names the row when %s breaks the chain', async (_name, tamper) => {
    const { app, auth, planId } = await appWithPlan();
    for (let i = 0; i < 4; i++) await app.harness.request(`/v1/plans/${planId}`, { headers: auth });
    await dropAuditGuards(app.database.db);
    await tamper(app.database.db);
    const result = await app.deps.store.audit.verify('101');
    expect(result).toMatchObject({ ok: false, brokenAtSeq: 3, rows: 2 });
    await app.close();
  });

  it('names a deleted row as missing', async () => {
    const { app, auth, planId } = await appWithPlan();
    for (let i = 0; i < 4; i++) await app.harness.request(`/v1/plans/${planId}`, { headers: auth });
    await dropAuditGuards(app.database.db);
    await app.database.db.delete(auditLog).where(and(eq(auditLog.tenant, '101'), eq(auditLog.seq, 2)));
    expect(await app.deps.store.audit.verify('101')).toMatchObject({ ok: false, brokenAtSeq: 2, reason: 'row 2 is missing' });
    await app.close();
  });

  it('`npm run audit:verify` passes on an intact file and fails naming the edited row', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'enplan-audit-'));
    dirs.push(dir);
    const { app, auth, planId } = await appWithPlan(`file:${join(dir, 'enplan.db')}`);
    for (let i = 0; i < 3; i++) await app.harness.request(`/v1/plans/${planId}`, { headers: auth });
    const env = { ...process.env, DATA_DIR: dir };
    const intact = await run('npx', ['tsx', 'scripts/audit-verify.ts'], { env });
    expect(intact.stdout).toContain('tenant 101: 4 audit rows, chain intact');
    await dropAuditGuards(app.database.db);
    await app.database.db.update(auditLog).set({ actor: 'someone-else' }).where(and(eq(auditLog.tenant, '101'), eq(auditLog.seq, 2)));
    await app.close();
    const broken = await run('npx', ['tsx', 'scripts/audit-verify.ts', '--tenant', '101'], { env }).catch((e) => e);
    expect(broken.code).toBe(1);
    expect(broken.stdout).toContain('tenant 101: chain broken at row 2');
  });

  it('`npm run audit:verify` checks a keyed chain with the service’s AUDIT_CHAIN_KEY and says from which row it is keyed; without the key it does not pass it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'enplan-audit-'));
    dirs.push(dir);
    const key = 'the-audit-chain-key-of-this-cli-test-0001';
    const { app, auth, planId } = await appWithPlan(`file:${join(dir, 'enplan.db')}`, { AUDIT_CHAIN_KEY: key });
    for (let i = 0; i < 2; i++) await app.harness.request(`/v1/plans/${planId}`, { headers: auth });
    await app.close();
    const keyed = await run('npx', ['tsx', 'scripts/audit-verify.ts'], { env: { ...process.env, DATA_DIR: dir, AUDIT_CHAIN_KEY: key } });
    expect(keyed.stdout).toContain('tenant 101: 3 audit rows, chain intact, keyed from row 1');
    const { AUDIT_CHAIN_KEY: _unset, ...withoutKey } = process.env;
    const unchecked = await run('npx', ['tsx', 'scripts/audit-verify.ts'], { env: { ...withoutKey, DATA_DIR: dir } }).catch((e) => e);
    expect(unchecked.code).toBe(1);
    expect(unchecked.stdout).toContain('tenant 101: chain broken at row 1: its content does not match its hash, or the row is keyed with AUDIT_CHAIN_KEY, which this check was not given');
  });

  it('`npm run audit:verify` checks a chain retention pruned from its base, and says which anchors went with the rows', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'enplan-audit-'));
    dirs.push(dir);
    const { app, auth, planId } = await appWithPlan(`file:${join(dir, 'enplan.db')}`);
    for (let i = 0; i < 3; i++) await app.harness.request(`/v1/plans/${planId}`, { headers: auth });
    const second = (await app.deps.store.audit.list('101'))[1]!;
    // Everything written so far is older than the cut-off: rows 1–4 go, row 5 records it.
    expect(await app.deps.store.audit.pruneBefore('101', '2999-01-01T00:00:00.000Z', 100, { at: new Date().toISOString(), actor: 'system:retention' })).toBe(4);
    await app.close();
    const env = { ...process.env, DATA_DIR: dir };
    const pruned = await run('npx', ['tsx', 'scripts/audit-verify.ts', '--anchor', `101:2:${second.hash}`], { env });
    expect(pruned.stdout).toContain('tenant 101: 1 audit rows, chain intact, rows 1 to 4 pruned by retention; 0 anchors held; 1 anchor at pruned rows not checkable');
  });

  it('`npm run audit:verify -- --anchor` says whether the chain still holds an anchored row, and checks a tenant whose rows all vanished', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'enplan-audit-'));
    dirs.push(dir);
    const { app, auth, planId } = await appWithPlan(`file:${join(dir, 'enplan.db')}`);
    for (let i = 0; i < 3; i++) await app.harness.request(`/v1/plans/${planId}`, { headers: auth });
    // What the nightly job logs: each tenant's head.
    const [head] = await app.deps.store.audit.heads();
    expect(head).toMatchObject({ tenant: '101', seq: 4 });
    const env = { ...process.env, DATA_DIR: dir };
    const held = await run('npx', ['tsx', 'scripts/audit-verify.ts', '--anchor', anchorText(head!), '--anchor', `101:2:${(await app.deps.store.audit.list('101'))[1]!.hash}`], { env });
    expect(held.stdout).toContain('tenant 101: 4 audit rows, chain intact; 2 anchors held');
    const other = await run('npx', ['tsx', 'scripts/audit-verify.ts', '--anchor', `101:3:${'f'.repeat(64)}`], { env }).catch((e) => e);
    expect(other.code).toBe(1);
    expect(other.stdout).toContain('tenant 101: chain broken at row 3: its hash is not the anchored one');
    // Every row deleted: the tenant is still checked, by its head and by the anchor.
    await dropAuditGuards(app.database.db);
    await app.database.db.delete(auditLog);
    await app.close();
    const gone = await run('npx', ['tsx', 'scripts/audit-verify.ts', '--anchor', `101:${head!.seq}:${head!.hash}`], { env }).catch((e) => e);
    expect(gone.code).toBe(1);
    expect(gone.stdout).toContain('tenant 101: chain broken at row 1: rows 1 to 4 are missing');
    const bad = await run('npx', ['tsx', 'scripts/audit-verify.ts', '--anchor', '101:four:abc'], { env }).catch((e) => e);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--anchor');
  });

  it('the nightly retention job logs each tenant’s chain head, an anchor the logger’s CPR mask cannot alter', async () => {
    const { app, auth, planId } = await appWithPlan();
    await app.harness.request(`/v1/plans/${planId}`, { headers: auth });
    await runRetention(app.deps);
    const [head] = await app.deps.store.audit.heads();
    const logged = app.logger.lines.map((line) => JSON.parse(line) as Record<string, unknown>).filter((line) => line.message === 'audit chain head');
    expect(logged).toEqual([expect.objectContaining({ level: 'info', tenant: '101', seq: 2, anchor: anchorText(head!) })]);
    expect(parseAnchor(logged[0]!.anchor as string)).toEqual(head);
    // Ten digits in a row in a hash would be masked as a CPR number (about one hash in fourteen); grouped, none is.
    const hash = `a0101801234b${'c'.repeat(52)}`;
    const logger = createMemoryLogger();
    logger.info('audit chain head', { anchor: anchorText({ tenant: '101', seq: 7, hash }) });
    expect(parseAnchor((JSON.parse(logger.lines[0]!) as { anchor: string }).anchor)).toEqual({ tenant: '101', seq: 7, hash });
    await app.close();
  });
});
