/**
 * Storage: drizzle schema, committed migrations, and async repositories. Every repository call
 * takes the tenant (kommunekode); there is no SQL outside this folder.
 */
import type { Database } from './db';
import { auditRepository } from './audit';
import { citizenRepository } from './citizens';
import { consentRepository } from './consents';
import { planRepository } from './plans';

export function createStore(database: Database) {
  return {
    database,
    citizens: citizenRepository(database),
    plans: planRepository(database),
    consents: consentRepository(database),
    audit: auditRepository(database),
    batch: database.batch,
    close: () => database.close(),
  };
}
export type Store = ReturnType<typeof createStore>;
export type { Database } from './db';
export type { AuditEntry, AuditRow } from './audit';
export type { CitizenRow } from './citizens';
export type { ConsentDocument } from './consents';
