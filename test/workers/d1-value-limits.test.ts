/**
 * D1 refuses a bound value over 2 MB (SQLITE_TOOBIG). Statements that pass a list as one JSON
 * parameter cut it by size: the nightly re-key of 500 quarantined payloads of 4,000 characters during
 * a CPR key rotation, and a burst of 200 change notices of the largest size accepted.
 */
import { env } from 'cloudflare:test';
import { expect, it } from 'vitest';
import { loadConfig } from '../../src/config';
import { createMemoryLogger } from '../../src/monitoring/log';
import { composeDeps } from '../../src/runtime/compose';
import { openD1Database } from '../../src/store/d1';
import { quarantine } from '../../src/store/schema';
import { runRetention } from '../../src/sync/retention';
import { MAX_NOTICE_BYTES } from '../../src/webhooks/inbound';
import { d1App } from './d1-app';
import { TEST_CPR_KEY, TEST_JWT_SECRET } from '../support/harness';

const depsWith = async (keys: Record<string, string>) => {
  const logger = createMemoryLogger('info');
  const deps = await composeDeps({ database: openD1Database(env.DB as never), config: loadConfig({ NODE_ENV: 'test', JWT_SECRET: TEST_JWT_SECRET, LOG_LEVEL: 'info', ...keys }), logger });
  return { deps, logger };
};

it('the nightly job re-keys 500 quarantined payloads of the largest size on D1, then keys and logs the audit chains', async () => {
  const { deps: before } = await depsWith({ CPR_KEY: TEST_CPR_KEY });
  const at = new Date().toISOString();
  const database = openD1Database(env.DB as never);
  const statements = [];
  for (let i = 0; i < 500; i++) {
    const id = `rekey-q-${String(i).padStart(4, '0')}`;
    const raw = await before.vault.sealPayload(`<record>${'x'.repeat(3980)}</record>`, { column: 'quarantine.raw', tenant: '777', id });
    statements.push(database.db.insert(quarantine).values({ id, tenant: '777', adapter: 'dfdg', recordType: 'plan', recordId: `r${i}`, mappingId: null, reason: 'test', raw, runId: null, citizenId: null, createdAt: at }));
  }
  for (let i = 0; i < statements.length; i += 100) await database.batch(statements.slice(i, i + 100) as never);
  await before.store.audit.append('777', { at, actor: 'system:test', action: 'test.recorded', targetType: 'tenant', targetId: '777', citizenId: null, detail: {} });

  const { deps, logger } = await depsWith({ CPR_KEY: 'the-next-cpr-key-on-workers-2026', CPR_KEYS_RETIRED: TEST_CPR_KEY });
  const result = await runRetention(deps);
  expect(result.rekey.sealedValues).toBe(500);
  expect(result.rekey.more).toBe(false);
  // Each value opens under the new key.
  const [row] = await database.db.select().from(quarantine).limit(1);
  expect(await deps.vault.openPayload(row!.raw!, { column: 'quarantine.raw', tenant: '777', id: row!.id })).toMatch(/^<record>x+<\/record>$/);
  // The steps after the re-key ran: the chain's head is logged as its anchor.
  expect(logger.lines.some((line) => line.includes('audit chain head') && line.includes('"tenant":"777"'))).toBe(true);
});

it('a burst of 200 notices of the largest size accepted, in one isolate, is stored whole', async () => {
  const { deps } = await d1App();
  const body = JSON.stringify({ type: 'records.changed', data: { municipality: '101' }, pad: 'p'.repeat(MAX_NOTICE_BYTES - 100) });
  expect(body.length).toBeLessThanOrEqual(MAX_NOTICE_BYTES);
  const at = new Date().toISOString();
  const outcomes = await Promise.allSettled(Array.from({ length: 200 }, (_, i) => deps.store.inboundWebhooks.receive({ source: 'dfdg', webhookId: `burst-${i}`, tenant: '101', eventType: 'records.changed', body, receivedAt: at })));
  expect(outcomes.filter((o) => o.status === 'rejected')).toEqual([]);
  expect(outcomes.map((o) => (o as PromiseFulfilledResult<string>).value)).toEqual(Array(200).fill('stored'));
});
