/** Retention drops the marks of replaced record versions on D1 too (row values, keyset pages, a JSON key list). */
import { env } from 'cloudflare:test';
import { sign } from 'hono/jwt';
import { describe, expect, it } from 'vitest';
import { createApp } from '../../src/app';
import { loadConfig } from '../../src/config';
import { membersOf, type Plan } from '../../src/model';
import { createMemoryLogger } from '../../src/monitoring/log';
import { composeDeps } from '../../src/runtime/compose';
import { openD1Database } from '../../src/store/d1';
import type { SyncMarkRow } from '../../src/store/sync';
import { runRetention } from '../../src/sync/retention';
import { testCpr } from '../support/cpr';
import { TEST_CPR_KEY, TEST_JWT_SECRET } from '../support/harness';

describe('superseded merged-record marks in workerd on D1', () => {
  it('are dropped by retention, the newest of each record kept, across pages', async () => {
    const deps = await composeDeps({
      database: openD1Database(env.DB as never),
      config: loadConfig({ NODE_ENV: 'test', JWT_SECRET: TEST_JWT_SECRET, CPR_KEY: TEST_CPR_KEY, LOG_LEVEL: 'warn' }),
      logger: createMemoryLogger('warn'),
    });
    const now = Math.floor(Date.now() / 1000);
    const token = await sign({ sub: 'marks-test', tenant: '101', roles: ['caseworker'], iat: now, exp: now + 600 }, TEST_JWT_SECRET, 'HS256');
    const created = await createApp(deps).request('/v1/plans', { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ cpr: testCpr('1981-04-12'), origin: 'offered' }) });
    expect(created.status).toBe(201);
    const plan = (await created.json()) as Plan;
    const owner = { planId: plan.id, citizenId: membersOf(plan)[0]!.citizenId };
    const rows: SyncMarkRow[] = [];
    for (let i = 0; i < 600; i++) for (const version of ['9', '10']) rows.push({ ...owner, source: 'dfdg', recordId: `d1-${String(i).padStart(3, '0')}`, recordVersion: version });
    rows.push({ ...owner, source: 'health', recordId: 'alone', recordVersion: '1' });
    await deps.store.batch(deps.store.sync.appliedManyStatements('101', '2026-11-25T08:00:00.000Z', rows));

    const summary = await runRetention(deps);
    expect(summary.supersededMarksPruned).toBe(600);
    const left = await deps.store.sync.appliedVersions('101', 'dfdg', [owner.citizenId]);
    expect(left.size).toBe(600);
    expect([...left].every((key) => key.endsWith('@10'))).toBe(true);
    expect(await deps.store.sync.appliedVersions('101', 'health', [owner.citizenId])).toEqual(new Set(['alone@1']));
  });
});
