/**
 * An online backup of the embedded SQLite file (Node). `VACUUM INTO` writes one consistent snapshot
 * while the service keeps running: in WAL mode it is a read transaction, so writers go on and the copy
 * holds every transaction committed before it began and none after. The copy is then opened on its
 * own and checked — SQLite's integrity check, and every tenant's audit chain against its recorded head
 * — so a backup that would not restore is known the night it is taken, not the day it is needed.
 *
 * The copy holds what the database holds: CPR numbers only as ciphertext and quarantined payloads
 * sealed, under keys that are not in it (CPR_KEY and its retired keys must be kept apart, and kept).
 */
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { createClient } from '@libsql/client';
import { sql } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/libsql';
import { databasePort } from './db';
import { createStore } from './index';
import * as schema from './schema';

export interface BackupReport {
  path: string;
  bytes: number;
  tookMs: number;
  /** SQLite's `PRAGMA integrity_check` of the copy: `ok`, or the first problems it names. */
  integrity: string;
  tenants: { tenant: string; plans: number; auditRows: number; chainIntact: boolean; problem?: string }[];
  ok: boolean;
}

export class BackupRefused extends Error {}

/** Copies the database at `sourceUrl` (a libSQL `file:` URL) to `targetPath`, then checks the copy. */
/** `auditChainKey`: the service's AUDIT_CHAIN_KEY, so keyed audit rows are checked (without it they fail the check). */
export async function backupDatabase(sourceUrl: string, targetPath: string, options: { auditChainKey?: string; auditChainKeysRetired?: readonly string[] } = {}): Promise<BackupReport> {
  if (!sourceUrl.startsWith('file:')) throw new BackupRefused(`only an SQLite file can be backed up this way, not ${sourceUrl}; on Workers, D1 keeps its own (wrangler d1 time-travel, wrangler d1 export)`);
  const sourcePath = resolve(sourceUrl.slice('file:'.length));
  if (!existsSync(sourcePath)) throw new BackupRefused(`there is no database at ${sourcePath}`);
  const target = resolve(targetPath);
  if (target === sourcePath) throw new BackupRefused('the backup would overwrite the database itself');
  // Never over an earlier backup: that one may be the only good copy left.
  if (existsSync(target)) throw new BackupRefused(`${target} exists already; name a new file`);
  mkdirSync(dirname(target), { recursive: true });

  const started = performance.now();
  const source = createClient({ url: `file:${sourcePath}` });
  try {
    // A writer holding the lock for a moment is waited for, as the service's own connections do.
    await source.execute('PRAGMA busy_timeout = 5000');
    await source.execute({ sql: 'VACUUM INTO ?', args: [target] });
  } catch (error) {
    throw new BackupRefused(`the database could not be copied: ${error instanceof Error ? error.message : String(error)}`);
  } finally {
    source.close();
  }
  const tookMs = Math.round(performance.now() - started);

  // The copy is checked as it is: opened without migrating, so nothing is written to it.
  const copy = createClient({ url: `file:${target}` });
  try {
    const integrityRows = await copy.execute('PRAGMA integrity_check');
    const integrity = integrityRows.rows.map((row) => String(row[0])).slice(0, 10).join('; ');
    const db = drizzle(copy, { schema });
    const store = createStore(databasePort(db, async () => undefined), { auditChainKey: options.auditChainKey, auditChainKeysRetired: options.auditChainKeysRetired });
    const planCounts = new Map((await db.select({ tenant: schema.plans.tenant, n: sql<number>`count(*)` }).from(schema.plans).groupBy(schema.plans.tenant)).map((r) => [r.tenant, Number(r.n)]));
    const tenants: BackupReport['tenants'] = [];
    for (const tenant of [...new Set([...planCounts.keys(), ...(await store.audit.tenants())])].sort()) {
      const chain = await store.audit.verify(tenant);
      tenants.push({ tenant, plans: planCounts.get(tenant) ?? 0, auditRows: chain.rows, chainIntact: chain.ok, ...(chain.ok ? {} : { problem: `chain broken at row ${chain.brokenAtSeq}: ${chain.reason}` }) });
    }
    return { path: target, bytes: statSync(target).size, tookMs, integrity, tenants, ok: integrity === 'ok' && tenants.every((t) => t.chainIntact) };
  } finally {
    copy.close();
  }
}
