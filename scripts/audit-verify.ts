/** Verifies the hash chain of the audit log: `npm run audit:verify [-- --tenant 101]`. Exit 1 names the first broken row. */
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config';
import { createStore } from '../src/store';
import { databaseUrlFor, openLibsqlDatabase } from '../src/store/libsql';

const { values } = parseArgs({ options: { tenant: { type: 'string' }, database: { type: 'string' } } });
const config = loadConfig(process.env);
const database = await openLibsqlDatabase(values.database ?? databaseUrlFor(config.dataDir));
const store = createStore(database);
const tenants = values.tenant ? [values.tenant] : await store.audit.tenants();
let broken = false;
for (const tenant of tenants) {
  const result = await store.audit.verify(tenant);
  if (result.ok) process.stdout.write(`tenant ${tenant}: ${result.rows} audit rows, chain intact\n`);
  else {
    broken = true;
    process.stdout.write(`tenant ${tenant}: chain broken at row ${result.brokenAtSeq}: ${result.reason} (${result.rows} rows before it are intact)\n`);
  }
}
await database.close();
process.exit(broken ? 1 : 0);
