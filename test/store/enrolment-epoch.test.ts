/**
 * The enrolment epoch (migration 0004): triggers move a tenant's epoch on every change that can
 * leave an enrolled citizen never pulled, and on nothing a sync itself writes, so the catch-up may
 * skip its search while the epoch stands still.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { openLibsqlDatabase } from '../../src/store/libsql';
import { createStore } from '../../src/store';
import type { Database } from '../../src/store/db';

let database: Database | undefined;
afterEach(async () => {
  await database?.close();
  database = undefined;
});

async function freshStore() {
  database = await openLibsqlDatabase(':memory:');
  const store = createStore(database);
  const exec = (sql: string) => database!.db.run(sql as never);
  return { store, exec, epoch: (tenant = '101') => store.sync.enrolmentEpoch(tenant) };
}

describe('enrolment epoch', () => {
  it('moves when a member is added, a plan is added or changes status, or a first-pull mark is forgotten', async () => {
    const { exec, epoch } = await freshStore();
    expect(await epoch()).toBe(0);
    await exec(`insert into plans (id, tenant, status, document, version, created_at, updated_at) values ('plan-a', '101', 'offered', '{}', 1, 't', 't')`);
    expect(await epoch()).toBe(1);
    await exec(`insert into plan_members values ('101', 'plan-a', 'citizen-a', 1)`);
    expect(await epoch()).toBe(2);
    await exec(`update plans set status = 'accepted' where id = 'plan-a'`);
    expect(await epoch()).toBe(3);
    await exec(`insert into pulled_citizens values ('101', 'dfdg', 'citizen-a', 't')`);
    expect(await epoch()).toBe(3);
    await exec(`delete from pulled_citizens where citizen_id = 'citizen-a'`);
    expect(await epoch()).toBe(4);
    // A member who left is no enrolment; one who comes back is.
    await exec(`insert into plan_members values ('101', 'plan-a', 'citizen-b', 0)`);
    expect(await epoch()).toBe(4);
    await exec(`update plan_members set active = 1 where citizen_id = 'citizen-b'`);
    expect(await epoch()).toBe(5);
    // Each tenant has its own epoch.
    expect(await epoch('202')).toBe(0);
  });

  it('stands still for what a sync writes: plan content with the same status, marks, cursors', async () => {
    const { store, exec, epoch } = await freshStore();
    await exec(`insert into plans (id, tenant, status, document, version, created_at, updated_at) values ('plan-a', '101', 'active', '{}', 1, 't', 't')`);
    await exec(`insert into plan_members values ('101', 'plan-a', 'citizen-a', 1)`);
    const before = await epoch();
    await exec(`update plans set status = 'active', document = '{"v":2}', version = 2, updated_at = 'u' where id = 'plan-a'`);
    await exec(`insert into pulled_citizens values ('101', 'dfdg', 'citizen-a', 't')`);
    await exec(`insert into applied_records (tenant, citizen_id, source, record_id, record_version, plan_id, applied_at) values ('101', 'citizen-a', 'dfdg', 'rec-1', '1', 'plan-a', 't')`);
    await database!.batch([store.sync.setCursorStatement('101', 'dfdg', 'c1', 't'), store.sync.caughtUpStatement('101', 'dfdg', before, 't')]);
    expect(await epoch()).toBe(before);
    expect(await store.sync.caughtUpAt('101', before)).toEqual(new Set(['dfdg']));
    // Once the epoch moves, the adapter is no longer caught up.
    await exec(`update plans set status = 'closed' where id = 'plan-a'`);
    expect(await store.sync.caughtUpAt('101', await epoch())).toEqual(new Set());
  });
});
