/** The Node driver: an embedded SQLite file through libSQL, migrated on open. */
import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createClient } from '@libsql/client';
import { drizzle } from 'drizzle-orm/libsql';
import { migrate } from 'drizzle-orm/libsql/migrator';
import * as schema from './schema';
import { databasePort, type Database } from './db';

// Beside this module: src/store/migrations, or in the built service dist/migrations (scripts/build.mjs copies them).
export const migrationsFolder = join(dirname(fileURLToPath(import.meta.url)), 'migrations');

/** `url` is a libSQL URL: `file:./data/enplan.db`, or `:memory:` for tests. */
export async function openLibsqlDatabase(url: string): Promise<Database> {
  if (url.startsWith('file:')) mkdirSync(dirname(resolve(url.slice('file:'.length))), { recursive: true });
  const client = createClient({ url });
  // WAL lets readers run beside the writer; busy_timeout waits out a concurrent writer instead of
  // failing — set first, as switching to WAL needs a lock another connection may hold for a moment.
  if (url !== ':memory:') {
    await client.execute('PRAGMA busy_timeout = 5000');
    await client.execute('PRAGMA journal_mode = WAL');
  }
  const db = drizzle(client, { schema });
  await migrate(db, { migrationsFolder });
  return databasePort(db, async () => client.close());
}

export function databaseUrlFor(dataDir: string): string {
  return `file:${join(dataDir, 'enplan.db')}`;
}
