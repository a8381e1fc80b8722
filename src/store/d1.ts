/** The Workers driver: D1 through drizzle. Migrations are applied by wrangler from the same folder. */
import { drizzle, type AnyD1Database } from 'drizzle-orm/d1';
import * as schema from './schema';
import { databasePort, type Database } from './db';

export function openD1Database(binding: AnyD1Database): Database {
  return databasePort(drizzle(binding, { schema }), async () => undefined);
}
