/**
 * What a Worker invocation does within its limits, and what a scheduled round does when a step of
 * it fails: syncs asked for on demand (a change notice through the queue) keep to
 * SYNC_MAX_CITIZENS_PER_RUN (D1's 1,000 queries per invocation) and go on in the next invocation;
 * retention runs on its cron whatever the steps before it did; RETENTION_CRON is read as SYNC_CRON
 * is (trimmed, checked, five fields); a [vars] value wrangler binds as a number is read as its string.
 */
import { env, SELF } from 'cloudflare:test';
import { sign } from 'hono/jwt';
import { describe, expect, it } from 'vitest';
import { generatePopulation } from '../../adapters/shared/population';
import type { JobMessage } from '../../src/runtime/job-queue';
import { createStore } from '../../src/store';
import { openD1Database } from '../../src/store/d1';
import { buildFor, runJobBatch, scheduledRound, type JobQueueMessage, type WorkerEnv } from '../../src/runtime/worker';
import { TEST_JWT_SECRET } from '../support/harness';
import { CRON_POPULATION_SEED, CRON_POPULATION_SIZE } from './global-setup';

async function call(method: string, path: string, body?: unknown, roles = ['caseworker']) {
  const now = Math.floor(Date.now() / 1000);
  const token = await sign({ sub: 'review', tenant: '101', roles, iat: now, exp: now + 600 }, TEST_JWT_SECRET, 'HS256');
  const response = await SELF.fetch(`https://enplan.test${path}`, { method, headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined });
  return { status: response.status, body: (await response.json()) as any };
}

/** An active plan for one of the DFDG simulator's citizens, with DFDG's consent. */
async function enrol(cpr: string) {
  const created = await call('POST', '/v1/plans', { cpr, origin: 'offered' });
  expect(created.status).toBe(201);
  const planId = created.body.id as string;
  const memberId = created.body.subject.member.memberId as string;
  await call('POST', `/v1/plans/${planId}/status`, { status: 'accepted' });
  await call('POST', `/v1/plans/${planId}/status`, { status: 'active' });
  const consent = await call('POST', '/v1/consents', { planId, memberId, source: 'dfdg', recipient: 'enplan', categories: ['plan-core', 'employment', 'goals', 'interventions'], purpose: 'Koordinering af indsatser i Én plan', validFrom: '2026-01-01', signed: { method: 'mitid', documentRef: 'review', textVersion: 'samtykke-v1', language: 'da' }, grantedBy: { memberId, capacity: 'self' } });
  expect(consent.status).toBe(201);
  return planId;
}

const db = () => (env as unknown as { DB: D1Database }).DB;
/** Citizens 8–10 of the DFDG simulator's population: no other workerd test file uses them. */
const citizens = generatePopulation(CRON_POPULATION_SIZE, CRON_POPULATION_SEED).slice(8, 11);

describe('a Worker invocation within its limits', () => {
  it('an inbound notice (queue consumer) syncs within SYNC_MAX_CITIZENS_PER_RUN', async () => {
    const planIds: string[] = [];
    for (const c of citizens) planIds.push(await enrol(c.cpr));
    const limited = { ...(env as unknown as WorkerEnv), SYNC_MAX_CITIZENS_PER_RUN: '1', JOBS: undefined };
    const built = await buildFor(limited);
    await built.deps.store.inboundWebhooks.receive({ source: 'dfdg', webhookId: 'review-1', tenant: '101', eventType: 'records.changed', body: '{}', receivedAt: new Date().toISOString() });
    const msg: JobQueueMessage = { id: 'm', body: { kind: 'inbound', tenant: '101', source: 'dfdg' }, attempts: 1, ack() {}, retry() {} };
    await runJobBatch(built, [msg]);
    const row = await db().prepare(`select stats from sync_runs where trigger = 'webhook:dfdg'`).first<{ stats: string }>();
    expect(JSON.parse(row!.stats).citizensPulled).toBeLessThanOrEqual(1);

    // The run stopped at its limit: the notice is not answered yet, it waits (released, not lost).
    const notice = () => db().prepare(`select status, run_id as runId, claimed_until as claimedUntil from inbound_webhooks where webhook_id = 'review-1'`).first<{ status: string; runId: string | null; claimedUntil: string | null }>();
    expect(await notice()).toEqual({ status: 'pending', runId: null, claimedUntil: null });

    // With the queue, the consumer asks for the rest itself, one invocation at a time, until the run that reads everyone answers the notice.
    const sent: JobMessage[] = [];
    const queued = await buildFor({ ...limited, JOBS: { send: async (body: unknown) => void sent.push(body as JobMessage) } });
    sent.push({ kind: 'inbound', tenant: '101', source: 'dfdg' });
    for (let round = 0; sent.length > 0; round++) {
      expect(round).toBeLessThan(10);
      const body = sent.shift();
      expect(body).toEqual({ kind: 'inbound', tenant: '101', source: 'dfdg' });
      let acked = false;
      expect(await runJobBatch(queued, [{ id: `m${round}`, body, attempts: 1, ack: () => void (acked = true), retry: () => expect.fail('not retried') }])).toMatchObject({ inbound: 1, retried: 0 });
      expect(acked).toBe(true);
    }
    const answered = await notice();
    expect(answered).toMatchObject({ status: 'processed', runId: expect.any(String), claimedUntil: null });
    const runs = await db().prepare(`select stats from sync_runs where trigger = 'webhook:dfdg'`).all<{ stats: string }>();
    expect(runs.results.length).toBeGreaterThan(1);
    for (const run of runs.results) expect(JSON.parse(run.stats).citizensPulled).toBeLessThanOrEqual(1);
    for (const planId of planIds) {
      const plan = await call('GET', `/v1/plans/${planId}`);
      expect([...plan.body.goals, ...plan.body.interventions].some((e: { provenance: { system?: string }[] }) => e.provenance.some((p) => p.system === 'dfdg')), planId).toBe(true);
    }
  });

  it('a sync run asked for through the API keeps to the limit too, and asks the queue for the rest', async () => {
    // Citizens 2 and 7: no other workerd test file uses them either.
    const population = generatePopulation(CRON_POPULATION_SIZE, CRON_POPULATION_SEED);
    for (const c of [population[2]!, population[7]!]) await enrol(c.cpr);
    const sent: JobMessage[] = [];
    const built = await buildFor({ ...(env as unknown as WorkerEnv), SYNC_MAX_CITIZENS_PER_RUN: '1', JOBS: { send: async (body: unknown) => void sent.push(body as JobMessage) } });
    const now = Math.floor(Date.now() / 1000);
    const token = await sign({ sub: 'review', tenant: '101', roles: ['it-staff'], iat: now, exp: now + 600 }, TEST_JWT_SECRET, 'HS256');
    const response = await built.app.fetch(new Request('https://enplan.test/v1/sync/dfdg/run', { method: 'POST', headers: { authorization: `Bearer ${token}` } }), env);
    const run = (await response.json()) as { status: string; stats: { citizensPulled: number; stoppedAtLimit: boolean } };
    expect(response.status).toBe(200);
    expect(run).toMatchObject({ status: 'succeeded', stats: { citizensPulled: 1, stoppedAtLimit: true } });
    expect(sent).toEqual([{ kind: 'sync', tenant: '101', adapters: ['dfdg'], trigger: 'api:review' }]);
  });

  it('retention runs on its cron even when the subscription pass before it throws', async () => {
    const spied = async (failSubscriptions: boolean) => {
      const built = await buildFor({ ...(env as unknown as WorkerEnv), JOBS: undefined });
      if (failSubscriptions) built.deps.store.subscriptions.nextEvents = () => Promise.reject(new Error('a D1 hiccup in the subscription pass'));
      let retentionRan = false;
      const tenants = built.deps.store.plans.tenants;
      built.deps.store.plans.tenants = () => {
        retentionRan = true;
        return tenants();
      };
      await scheduledRound(built, 'cron:30 2 * * *', '30 2 * * *').catch(() => undefined);
      return retentionRan;
    };
    expect(await spied(false)).toBe(true);
    expect(await spied(true)).toBe(true);
  });

  it('a round with a failed step still does the others, and fails at the end naming the step', async () => {
    const built = await buildFor({ ...(env as unknown as WorkerEnv), JOBS: undefined });
    built.deps.store.subscriptions.nextEvents = () => Promise.reject(new Error('a D1 hiccup in the subscription pass'));
    built.deps.store.inboundWebhooks.waiting = () => Promise.reject(new Error('a D1 hiccup in the inbound pass'));
    let relayRan = false;
    const due = built.deps.store.outbox.tenantsWithDue;
    built.deps.store.outbox.tenantsWithDue = (...args) => {
      relayRan = true;
      return due(...args);
    };
    const failed = await scheduledRound(built, 'cron:30 2 * * *', '30 2 * * *').then(
      () => expect.fail('the round must fail'),
      (error: unknown) => error,
    );
    expect(failed).toBeInstanceOf(AggregateError);
    expect((failed as AggregateError).message).toMatch(/inbound.*subscriptions/);
    expect((failed as AggregateError).errors.map((e: Error) => e.message)).toEqual(['a D1 hiccup in the inbound pass', 'a D1 hiccup in the subscription pass']);
    // The relay between them ran, and retention after them (what it did is on the error).
    expect(relayRan).toBe(true);
    expect((failed as { round?: { retention?: unknown } }).round?.retention).toBeDefined();
  });

  it('with AUDIT_CHAIN_KEY, every trigger keys the end of a chain written before the key (Workers has no start to do it at)', async () => {
    const tenant = '9025';
    const database = openD1Database(db() as never);
    await createStore(database).audit.appendMany(tenant, [1, 2].map((i) => ({ at: `2026-11-25T10:00:0${i}.000Z`, actor: 'caseworker:a', action: 'plan.read', targetType: 'plan', targetId: `p-${i}`, detail: {} })));
    const key = 'the-workers-trigger-audit-chain-key-0001';
    const built = await buildFor({ ...(env as unknown as WorkerEnv), AUDIT_CHAIN_KEY: key, JOBS: undefined });
    const round = await scheduledRound(built, 'cron:*/5 * * * *', '*/5 * * * *');
    expect(round.auditChainsKeyed).toBeGreaterThanOrEqual(1);
    expect(await createStore(database, { auditChainKey: key }).audit.verify(tenant)).toEqual({ ok: true, rows: 3, keyedFrom: 3 });
    // Keyed already: the next trigger appends nothing to it.
    await scheduledRound(built, 'cron:*/5 * * * *', '*/5 * * * *');
    expect((await createStore(database).audit.list(tenant)).map((row) => row.action)).toEqual(['plan.read', 'plan.read', 'audit.chain-keyed']);
    // Without the key, a trigger keys nothing.
    const unkeyed = await buildFor({ ...(env as unknown as WorkerEnv), JOBS: undefined });
    expect((await scheduledRound(unkeyed, 'cron:*/5 * * * *', '*/5 * * * *')).auditChainsKeyed).toBeUndefined();
  });

  it('RETENTION_CRON with a stray space still runs retention', async () => {
    const built = await buildFor({ ...(env as unknown as WorkerEnv), RETENTION_CRON: '30 2 * * * ', JOBS: undefined });
    const round = await scheduledRound(built, 'cron:30 2 * * *', '30 2 * * *');
    expect(round.retention).toBeDefined();
    // Spaces inside, in the setting or in the trigger's cron, do not matter either.
    const spaced = await buildFor({ ...(env as unknown as WorkerEnv), RETENTION_CRON: '30  2 * *\t*', JOBS: undefined });
    expect((await scheduledRound(spaced, 'cron:30 2 * * *', '30 2  * * *')).retention).toBeDefined();
    expect((await scheduledRound(spaced, 'cron:*/5 * * * *', '*/5 * * * *')).retention).toBeUndefined();
  });

  it('refuses a cron a Cron Trigger could never match (six fields, with seconds) or one that is not a cron', async () => {
    await expect(buildFor({ ...(env as unknown as WorkerEnv), RETENTION_CRON: '0 30 2 * * *', JOBS: undefined })).rejects.toThrow(/RETENTION_CRON.*5 fields/);
    await expect(buildFor({ ...(env as unknown as WorkerEnv), SYNC_CRON: '0 */5 * * * *', JOBS: undefined })).rejects.toThrow(/SYNC_CRON.*5 fields/);
    await expect(buildFor({ ...(env as unknown as WorkerEnv), RETENTION_CRON: '30 2 * *', JOBS: undefined })).rejects.toThrow(/RETENTION_CRON/);
  });

  it('a numeric [vars] value is read as its string', async () => {
    const built = await buildFor({ ...(env as unknown as WorkerEnv), SYNC_MAX_CITIZENS_PER_RUN: 400 as unknown as string, JOBS: undefined });
    expect(built.config.schedule.maxCitizensPerRun).toBe(400);
    const flagged = await buildFor({ ...(env as unknown as WorkerEnv), SYNC_MAX_CITIZENS_PER_RUN: 7 as unknown as string, ADAPTER_TIMEOUT_MS: 2500 as unknown as string, JOBS: undefined });
    expect(flagged.config.schedule.maxCitizensPerRun).toBe(7);
    expect(flagged.config.adapters.timeoutMs).toBe(2500);
    // A table in [vars] is no setting of ours: refused with its name, not silently dropped.
    await expect(buildFor({ ...(env as unknown as WorkerEnv), SYNC_MAX_CITIZENS_PER_RUN: { value: 400 } as unknown as string, JOBS: undefined })).rejects.toThrow(/SYNC_MAX_CITIZENS_PER_RUN/);
  });
});
