/**
 * SQLite on a thread of its own (src/store/sqlite-thread.ts), the sync job's default: the same
 * answers as the ordinary driver, batches all-or-nothing, SQLite's error codes carried across, a
 * thread that dies failing only what was in flight, and a real sync merged through it.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { and, eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDfdgAdapter, startDfdgSimulator, type DfdgSimulator } from '../../adapters/dfdg';
import { generatePopulation } from '../../adapters/shared/population';
import { openLibsqlDatabase } from '../../src/store/libsql';
import { openSqliteThreadDatabase, StoreThreadError } from '../../src/store/sqlite-thread';
import { syncCursors } from '../../src/store/schema';
import type { Database } from '../../src/store/db';
import { allMappings } from '../../src/sync/all-mappings';
import { runSync } from '../../src/sync/engine';
import { startTestApp } from '../support/node-app';
import { enrol, grantConsent } from '../support/seed';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'enplan-store-thread-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let fileNumber = 0;
const freshUrl = () => `file:${join(dir, `db-${++fileNumber}.db`)}`;
/** drizzle wraps a failed query's error; the store thread's own error is its cause. */
const storeErrorOf = (error: unknown): StoreThreadError | undefined =>
  error instanceof StoreThreadError ? error : (error as { cause?: unknown })?.cause instanceof StoreThreadError ? ((error as { cause: StoreThreadError }).cause) : undefined;
const failureOf = (promise: Promise<unknown>) => promise.then(() => undefined, (error: unknown) => error);
const cursorRow = (adapter: string, cursor: string) => ({ tenant: '101', adapter, cursor, updatedAt: '2026-11-23T00:00:00.000Z' });

async function withThread<T>(work: (database: Database, url: string) => Promise<T>, url = freshUrl()): Promise<T> {
  const database = await openSqliteThreadDatabase(url);
  try {
    return await work(database, url);
  } finally {
    await database.close();
  }
}

describe('SQLite on a thread of its own', () => {
  it('migrates the file and answers select, get, values and run as the ordinary driver does', async () => {
    await withThread(async ({ db, batch }, url) => {
      await batch([db.insert(syncCursors).values(cursorRow('dfdg', 'c-1')), db.insert(syncCursors).values(cursorRow('health', 'c-2'))]);
      const all = await db.select().from(syncCursors).orderBy(syncCursors.adapter);
      expect(all.map((r) => [r.adapter, r.cursor])).toEqual([['dfdg', 'c-1'], ['health', 'c-2']]);
      expect(await db.select({ cursor: syncCursors.cursor }).from(syncCursors).where(eq(syncCursors.adapter, 'health')).get()).toEqual({ cursor: 'c-2' });
      expect(await db.select().from(syncCursors).where(eq(syncCursors.adapter, 'social')).get()).toBeUndefined();
      expect(await db.select({ n: sql<number>`count(*)` }).from(syncCursors).values()).toEqual([[2]]);
      await db.update(syncCursors).set({ cursor: 'c-3' }).where(and(eq(syncCursors.tenant, '101'), eq(syncCursors.adapter, 'dfdg')));

      // The ordinary driver, on the same file, sees exactly what the thread wrote.
      const ordinary = await openLibsqlDatabase(url);
      const seen = await ordinary.db.select().from(syncCursors).orderBy(syncCursors.adapter);
      await ordinary.close();
      expect(seen).toEqual(await db.select().from(syncCursors).orderBy(syncCursors.adapter));
      expect(seen[0]!.cursor).toBe('c-3');
    });
  });

  it('writes a batch all or nothing, and the error names SQLite’s constraint', async () => {
    await withThread(async ({ db, batch }) => {
      await batch([db.insert(syncCursors).values(cursorRow('dfdg', 'kept'))]);
      const error = storeErrorOf(await failureOf(batch([db.insert(syncCursors).values(cursorRow('social', 'new')), db.insert(syncCursors).values(cursorRow('dfdg', 'duplicate'))])));
      expect(error?.message).toMatch(/UNIQUE constraint failed: sync_cursors/);
      expect(error?.code).toMatch(/^SQLITE_CONSTRAINT/);
      // The first statement of the failed batch was rolled back with it.
      expect((await db.select().from(syncCursors)).map((r) => r.cursor)).toEqual(['kept']);
      // And the connection is usable afterwards: no transaction left open.
      await batch([db.insert(syncCursors).values(cursorRow('social', 'after'))]);
      expect(await db.select().from(syncCursors)).toHaveLength(2);
    });
  });

  it('a thread that dies fails what was in flight, and the next call gets a new thread on the same file', async () => {
    // A heap far too small for the answer asked: the thread runs out of memory and stops.
    const database = await openSqliteThreadDatabase(freshUrl(), { resourceLimits: { maxOldGenerationSizeMb: 8, maxYoungGenerationSizeMb: 1 } });
    try {
      await database.batch([database.db.insert(syncCursors).values(cursorRow('dfdg', 'before'))]);
      const huge = database.db.all(sql`with recursive n(i) as (select 1 union all select i + 1 from n where i < 200000) select printf('%.500c', 'x') || i as filler from n`);
      expect(storeErrorOf(await failureOf(huge))?.message).toMatch(/store thread stopped: .*out of memory/i);
      expect((await database.db.select().from(syncCursors)).map((r) => r.cursor)).toEqual(['before']);
    } finally {
      await database.close();
    }
  });

  it('a thread that dies inside a batch leaves no half-written state and no lock behind', async () => {
    const url = freshUrl();
    const database = await openSqliteThreadDatabase(url, { resourceLimits: { maxOldGenerationSizeMb: 8, maxYoungGenerationSizeMb: 1 } });
    try {
      const { db, batch } = database;
      const dying = batch([
        db.insert(syncCursors).values(cursorRow('dfdg', 'half-written')),
        db.all(sql`with recursive n(i) as (select 1 union all select i + 1 from n where i < 200000) select printf('%.500c', 'x') || i as filler from n`) as never,
      ]);
      expect(storeErrorOf(await failureOf(dying))?.message).toMatch(/out of memory/i);
      // The new thread, and a second connection in this process, can write at once: the dead
      // thread's transaction was rolled back and its write lock released.
      await batch([db.insert(syncCursors).values(cursorRow('social', 'after'))]);
      const other = await openLibsqlDatabase(url);
      await other.batch([other.db.insert(syncCursors).values(cursorRow('health', 'other connection'))]);
      await other.close();
      expect((await db.select().from(syncCursors).orderBy(syncCursors.adapter)).map((r) => r.cursor)).toEqual(['other connection', 'after']);
    } finally {
      await database.close();
    }
  });

  it('a value the thread cannot receive fails that call only', async () => {
    await withThread(async ({ db }) => {
      const error = await failureOf(db.all(sql`select ${(() => 1) as unknown as string} as v`));
      expect(String((error as { cause?: Error }).cause?.message)).toMatch(/could not be cloned/);
      expect(await db.select().from(syncCursors)).toEqual([]);
    });
  });

  it('an idle thread never keeps a process alive, also after a call it could not receive', () => {
    const program = new URL('./fixtures/idle-store-thread.ts', import.meta.url).pathname;
    const child = spawnSync(process.execPath, ['--import', 'tsx', program, freshUrl()], { timeout: 30_000, encoding: 'utf8' });
    expect(child.signal).toBeNull();
    expect(child.stdout).toContain('left open');
    expect(child.status).toBe(0);
  }, 60_000);

  it('refuses calls after close instead of starting a thread again', async () => {
    const database = await openSqliteThreadDatabase(freshUrl());
    await database.close();
    expect(storeErrorOf(await failureOf(database.db.select().from(syncCursors)))?.message).toMatch(/closed/);
  });

  it('refuses an in-memory database, which a second thread could not see', async () => {
    await expect(openSqliteThreadDatabase(':memory:')).rejects.toThrow(/database file/);
  });
});

describe('a sync through the store thread', () => {
  const population = generatePopulation(3, 4242).map((c) => ({ ...c, sectors: { ...c.sectors, employment: true } }));
  let simulator: DfdgSimulator;
  beforeAll(async () => {
    simulator = await startDfdgSimulator({ population, port: 0 });
  });
  afterAll(async () => simulator?.close());

  it('merges, marks and audits as on one thread; a second run changes nothing', async () => {
    const app = await startTestApp({ storeThread: true, adapters: { dfdg: createDfdgAdapter({ baseUrl: simulator.url, organisation: { typeIdentifier: 'kommune', code: '101' } }) }, mappings: allMappings });
    try {
      const plans = [];
      for (const citizen of population) {
        const plan = await enrol(app.deps, citizen.cpr);
        const citizenId = plan.subject.kind === 'citizen' ? plan.subject.member.citizenId : '';
        await grantConsent(app.deps, { citizenId, source: 'dfdg', categories: ['plan-core', 'employment', 'goals', 'interventions'] });
        plans.push(plan);
      }
      const first = await runSync(app.deps, { tenant: '101', adapter: 'dfdg', trigger: 'test', mappings: app.deps.mappings });
      expect(first.status).toBe('succeeded');
      expect(first.stats.recordsMerged).toBeGreaterThan(0);
      const merged = await Promise.all(plans.map((p) => app.deps.store.plans.get('101', p.id)));
      for (const plan of merged) expect(plan!.goals.length + plan!.interventions.length).toBeGreaterThan(0);

      const second = await runSync(app.deps, { tenant: '101', adapter: 'dfdg', trigger: 'test', mappings: app.deps.mappings });
      expect(second.status).toBe('succeeded');
      expect(second.stats.recordsMerged).toBe(0);
      const again = await Promise.all(plans.map((p) => app.deps.store.plans.get('101', p.id)));
      expect(again.map((p) => p!.version)).toEqual(merged.map((p) => p!.version));
      expect(await app.deps.store.audit.verify('101')).toMatchObject({ ok: true });
    } finally {
      await app.close();
    }
  });
});

describe('the API server’s store', () => {
  /** Event-loop turns while a long statement runs: none when SQLite holds the server's own thread. */
  async function turnsDuring(database: Database): Promise<number> {
    let turns = 0;
    let running = true;
    const tick = () => {
      turns++;
      if (running) setImmediate(tick);
    };
    setImmediate(tick);
    const counted = await database.db.all<{ n: number }>(sql`WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 2000000) SELECT count(*) AS n FROM c`);
    running = false;
    expect(Number(Object.values(counted[0]!)[0])).toBe(2_000_000);
    return turns;
  }

  it('runs on a thread of its own by default (SERVICE_STORE_THREAD), so requests are served while a statement runs', async () => {
    const { openNodeDeps } = await import('../../src/runtime/node-deps');
    for (const [setting, expectTurns] of [[undefined, true], ['off', false]] as const) {
      const dir = mkdtempSync(join(tmpdir(), 'enplan-service-store-'));
      const opened = await openNodeDeps({ DATA_DIR: dir, LOG_LEVEL: 'error', ...(setting ? { SERVICE_STORE_THREAD: setting } : {}) }, { storeThread: 'service' });
      try {
        const turns = await turnsDuring(opened.database);
        if (expectTurns) expect(turns).toBeGreaterThan(0);
        else expect(turns).toBe(0);
      } finally {
        await opened.close();
        rmSync(dir, { recursive: true, force: true });
      }
    }
  });
});

describe('opening a database another connection holds for a moment', () => {
  it('waits for the lock instead of failing (both drivers, and the store thread)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'enplan-busy-'));
    const file = join(dir, 'enplan.db');
    // Another process takes the lock and lets go after a moment (a driver waiting blocks its own thread).
    const holder = spawn(process.execPath, ['-e', `const D = require('libsql'); const db = new D(${JSON.stringify(file)}); db.exec('BEGIN EXCLUSIVE'); console.log('locked'); setTimeout(() => { db.exec('COMMIT'); db.close(); }, 400);`], { cwd: process.cwd(), stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve) => holder.stdout!.once('data', () => resolve()));
    try {
      const onThread = await openSqliteThreadDatabase(`file:${file}`);
      expect(await onThread.db.all(sql`select 1 as one`)).toHaveLength(1);
      await onThread.close();
      const direct = await openLibsqlDatabase(`file:${file}`);
      expect(await direct.db.all(sql`select 1 as one`)).toHaveLength(1);
      await direct.close();
    } finally {
      holder.kill();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
