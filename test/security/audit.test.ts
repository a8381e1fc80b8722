/** S5: the audit chain; every plan read leaves a row; editing a row is detected at that row. */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { and, eq, sql } from 'drizzle-orm';
import { afterEach, describe, expect, it } from 'vitest';
import { auditLog } from '../../src/store/schema';
import { testCpr } from '../support/cpr';
import { startTestApp } from '../support/node-app';

const run = promisify(execFile);
const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

async function appWithPlan(url?: string) {
  const app = await startTestApp({ url });
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
    await tamper(app.database.db);
    const result = await app.deps.store.audit.verify('101');
    expect(result).toMatchObject({ ok: false, brokenAtSeq: 3, rows: 2 });
    await app.close();
  });

  it('names a deleted row as missing', async () => {
    const { app, auth, planId } = await appWithPlan();
    for (let i = 0; i < 4; i++) await app.harness.request(`/v1/plans/${planId}`, { headers: auth });
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
    await app.database.db.update(auditLog).set({ actor: 'someone-else' }).where(and(eq(auditLog.tenant, '101'), eq(auditLog.seq, 2)));
    await app.close();
    const broken = await run('npx', ['tsx', 'scripts/audit-verify.ts', '--tenant', '101'], { env }).catch((e) => e);
    expect(broken.code).toBe(1);
    expect(broken.stdout).toContain('tenant 101: chain broken at row 2');
  });
});
