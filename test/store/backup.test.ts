/**
 * `npm run db:backup`: an online, checked copy of the SQLite file. Taken while the service writes,
 * the copy is one consistent moment (integrity ok, every audit chain whole); a copy whose chain is
 * broken is reported so; an existing file is never overwritten; the output holds counts, no CPR.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { and, eq } from 'drizzle-orm';
import { afterEach, describe, expect, it } from 'vitest';
import { backupDatabase, BackupRefused } from '../../src/store/backup';
import { auditLog } from '../../src/store/schema';
import { dropAuditGuards } from '../support/audit-guards';
import { cprPattern, testCpr } from '../support/cpr';
import { startTestApp } from '../support/node-app';

const run = promisify(execFile);
const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));
const scratch = () => {
  const dir = mkdtempSync(join(tmpdir(), 'enplan-backup-'));
  dirs.push(dir);
  return dir;
};

async function serviceOnFile(env?: Record<string, string>) {
  const dir = scratch();
  const url = `file:${join(dir, 'enplan.db')}`;
  const app = await startTestApp({ url, env });
  const token = await app.harness.token({ tenant: '101', roles: ['caseworker'] });
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  const cprs: string[] = [];
  const createPlan = async () => {
    const cpr = testCpr();
    cprs.push(cpr);
    const response = await app.harness.request('/v1/plans', { method: 'POST', headers, body: JSON.stringify({ cpr, origin: 'offered' }) });
    expect(response.status).toBe(201);
    return ((await response.json()) as { id: string }).id;
  };
  return { dir, url, app, headers, cprs, createPlan };
}

describe('online backup of the SQLite file', () => {
  it('checks a keyed audit chain with the service’s AUDIT_CHAIN_KEY; without it the copy is not called whole', async () => {
    const key = 'the-audit-chain-key-of-the-backup-test-01';
    const service = await serviceOnFile({ AUDIT_CHAIN_KEY: key });
    await service.createPlan();
    const withKey = await backupDatabase(service.url, join(scratch(), 'keyed.db'), { auditChainKey: key });
    expect(withKey).toMatchObject({ ok: true, tenants: [{ tenant: '101', chainIntact: true }] });
    const withoutKey = await backupDatabase(service.url, join(scratch(), 'unkeyed.db'));
    expect(withoutKey).toMatchObject({ ok: false, tenants: [{ tenant: '101', chainIntact: false, problem: expect.stringContaining('keyed with AUDIT_CHAIN_KEY, which this check was not given') }] });
    await service.app.close();
  });

  it('copies one consistent moment while the service goes on writing, and checks the copy', async () => {
    const service = await serviceOnFile();
    for (let i = 0; i < 5; i++) await service.createPlan();
    // Plans are made and read (each read audited) all through the backup.
    let writing = true;
    const writes = (async () => {
      let n = 0;
      while (writing) {
        const planId = await service.createPlan();
        await service.app.harness.request(`/v1/plans/${planId}`, { headers: service.headers });
        n++;
      }
      return n;
    })();
    const target = join(scratch(), 'nightly', 'enplan-backup.db');
    const report = await backupDatabase(service.url, target);
    writing = false;
    const madeMeanwhile = await writes;

    expect(report).toMatchObject({ path: target, integrity: 'ok', ok: true });
    expect(report.bytes).toBeGreaterThan(0);
    const [tenant] = report.tenants;
    expect(report.tenants).toHaveLength(1);
    expect(tenant).toMatchObject({ tenant: '101', chainIntact: true });
    expect(tenant!.plans).toBeGreaterThanOrEqual(5);
    expect(tenant!.plans).toBeLessThanOrEqual(5 + madeMeanwhile + 1);
    // The service kept its own: everything it wrote is still there, and its chain whole.
    expect(await service.app.deps.store.audit.verify('101')).toMatchObject({ ok: true });

    // The copy opens as a database of its own, with what it counted.
    const restored = await startTestApp({ url: `file:${target}` });
    expect((await restored.deps.store.plans.listIds('101', 1000)).length).toBe(tenant!.plans);
    expect(await restored.deps.store.audit.verify('101')).toMatchObject({ ok: true, rows: tenant!.auditRows });
    await restored.close();
    await service.app.close();
  });

  it('reports a copy whose audit chain is broken, and refuses to write over a file or the database itself', async () => {
    const service = await serviceOnFile();
    const planId = await service.createPlan();
    for (let i = 0; i < 3; i++) await service.app.harness.request(`/v1/plans/${planId}`, { headers: service.headers });
    await dropAuditGuards(service.app.database.db);
    await service.app.database.db.update(auditLog).set({ actor: 'someone-else' }).where(and(eq(auditLog.tenant, '101'), eq(auditLog.seq, 2)));
    const target = join(scratch(), 'enplan-backup.db');
    const report = await backupDatabase(service.url, target);
    expect(report.ok).toBe(false);
    expect(report.tenants[0]).toMatchObject({ tenant: '101', chainIntact: false, problem: expect.stringContaining('row 2') });

    // An earlier backup is never overwritten; nor is the database.
    await expect(backupDatabase(service.url, target)).rejects.toThrow(BackupRefused);
    await expect(backupDatabase(service.url, join(service.dir, 'enplan.db'))).rejects.toThrow(/overwrite the database itself/);
    await expect(backupDatabase(':memory:', join(scratch(), 'x.db'))).rejects.toThrow(/only an SQLite file/);
    await service.app.close();
  });

  it('`npm run db:backup` prints counts and the checks, exits 0 for a good copy and 2 when refused', async () => {
    const service = await serviceOnFile();
    await service.createPlan();
    await service.app.close();
    const target = join(scratch(), 'enplan-backup.db');
    const env = { ...process.env, DATA_DIR: service.dir };
    const good = await run('npx', ['tsx', 'scripts/db-backup.ts', '--to', target], { env });
    expect(good.stdout).toMatch(/integrity ok/);
    expect(good.stdout).toContain('tenant 101: 1 plans, ');
    expect(good.stdout).toContain('chain intact');
    expect(good.stdout).toContain('the copy is good');
    for (const cpr of service.cprs) expect(good.stdout + good.stderr).not.toMatch(cprPattern(cpr));
    expect(existsSync(target)).toBe(true);
    const again = await run('npx', ['tsx', 'scripts/db-backup.ts', '--to', target], { env }).catch((e) => e);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('exists already');

    // A file that is not a database fails its check, and says so.
    const notADatabase = join(scratch(), 'enplan.db');
    writeFileSync(notADatabase, 'this is not SQLite');
    const bad = await run('npx', ['tsx', 'scripts/db-backup.ts', '--database', `file:${notADatabase}`, '--to', join(scratch(), 'copy.db')], { env }).catch((e) => e);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('could not be copied');
  });
});
