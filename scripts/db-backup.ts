/**
 * An online backup of the service's SQLite file, checked: `npm run db:backup -- --to /backups/enplan-2026-11-25.db`
 * (`--database file:…` for another file than DATA_DIR's). The service may keep running. The copy is opened
 * and checked — SQLite's integrity check and each tenant's audit chain — and the outcome printed (counts
 * only). Exit 0: the copy is good; 1: it was written but a check failed (kept, for a look); 2: refused.
 */
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config';
import { backupDatabase, BackupRefused } from '../src/store/backup';
import { databaseUrlFor } from '../src/store/libsql';

const { values } = parseArgs({ options: { to: { type: 'string' }, database: { type: 'string' } } });
if (!values.to) {
  process.stderr.write('name the new backup file: npm run db:backup -- --to <path>\n');
  process.exit(2);
}
try {
  const config = loadConfig(process.env);
  const report = await backupDatabase(values.database ?? databaseUrlFor(config.dataDir), values.to, { auditChainKey: config.auditChainKey, auditChainKeysRetired: config.auditChainKeysRetired });
  process.stdout.write(`backup ${report.path}: ${(report.bytes / 1e6).toFixed(1)} MB in ${report.tookMs} ms; integrity ${report.integrity}\n`);
  for (const t of report.tenants) process.stdout.write(`tenant ${t.tenant}: ${t.plans} plans, ${t.auditRows} audit rows, ${t.chainIntact ? 'chain intact' : t.problem}\n`);
  process.stdout.write(report.ok ? 'the copy is good\n' : 'the copy FAILED its checks: do not rely on it\n');
  process.exit(report.ok ? 0 : 1);
} catch (error) {
  if (!(error instanceof BackupRefused)) throw error;
  process.stderr.write(`not backed up: ${error.message}\n`);
  process.exit(2);
}
