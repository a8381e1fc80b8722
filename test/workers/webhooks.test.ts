/**
 * Inbound webhooks in workerd on D1: a signed change notice is stored (migration 0009 on D1) and
 * answered 202, then read by the job queue's consumer (decision 0020) — or, where the queue refuses
 * the message, through the request's `waitUntil`: one DFDG sync run, the notice marked with it. A
 * repeat is a duplicate; an unsigned notice is 401 and stores nothing. A notice whose runs keep
 * failing backs off, is dead after its last try, and IT staff's retry route has it processed.
 */
import { createExecutionContext, env, waitOnExecutionContext } from 'cloudflare:test';
import { sign } from 'hono/jwt';
import { describe, expect, it } from 'vitest';
import worker, { buildFor, runJobBatch, type WorkerEnv } from '../../src/runtime/worker';
import { inboundBackoff, processInboundWebhooks } from '../../src/webhooks/inbound';
import { signWebhook } from '../../src/webhooks/standard-webhooks';
import { TEST_JWT_SECRET } from '../support/harness';

const secret = 'whsec_dGVzdC13ZWJob29rLXNlY3JldC1mb3ItdGhlLWVucGxhbi1zdWl0ZQ==';

async function post(id: string, body: string, signed = true, fetch: (request: Request, ctx: ExecutionContext) => Response | Promise<Response> = (request, ctx) => worker.fetch(request, env as never, ctx)) {
  const timestamp = Math.floor(Date.now() / 1000);
  const headers: Record<string, string> = { 'content-type': 'application/json', 'webhook-id': id, 'webhook-timestamp': String(timestamp) };
  if (signed) headers['webhook-signature'] = await signWebhook(secret, id, timestamp, body);
  const ctx = createExecutionContext();
  const response = await fetch(new Request('https://enplan.test/v1/webhooks/inbound/dfdg', { method: 'POST', headers, body }), ctx);
  await waitOnExecutionContext(ctx);
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** The notices once the one with `id` is no longer pending (the queue's consumer runs apart from the request). */
async function noticesOnceProcessed(id: string) {
  for (let i = 0; i < 200; i++) {
    const { notices } = await read('/v1/webhooks/inbound');
    if (notices.some((n: { id: string; status: string }) => n.id === id && n.status !== 'pending')) return notices;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return (await read('/v1/webhooks/inbound')).notices;
}

async function read(path: string) {
  const now = Math.floor(Date.now() / 1000);
  const token = await sign({ sub: 'webhook-test', tenant: '101', roles: ['it-staff'], iat: now, exp: now + 600 }, TEST_JWT_SECRET, 'HS256');
  const response = await worker.fetch(new Request(`https://enplan.test${path}`, { headers: { authorization: `Bearer ${token}` } }), env as never, createExecutionContext());
  return (await response.json()) as any;
}

describe('inbound webhooks in workerd', () => {
  it('stores a signed notice, answers 202, and the job queue reads the changes', { timeout: 30_000 }, async () => {
    const body = JSON.stringify({ type: 'records.changed', data: { municipality: '101' } });
    const accepted = await post('workerd-msg-1', body);
    expect(accepted).toEqual({ status: 202, body: { id: 'workerd-msg-1', status: 'accepted' } });
    const notices = await noticesOnceProcessed('workerd-msg-1');
    expect(notices).toEqual([expect.objectContaining({ id: 'workerd-msg-1', status: 'processed', runId: expect.any(String) })]);
    const { runs } = await read('/v1/sync/runs');
    expect(runs).toContainEqual(expect.objectContaining({ id: notices[0].runId, adapter: 'dfdg', trigger: 'webhook:dfdg', status: 'succeeded' }));

    expect(await post('workerd-msg-1', body)).toEqual({ status: 200, body: { id: 'workerd-msg-1', status: 'duplicate' } });
    const unsigned = await post('workerd-msg-2', body, false);
    expect(unsigned.status).toBe(401);
    expect((await read('/v1/webhooks/inbound')).notices).toHaveLength(1);
  });

  it('asks the job queue to read the changes, and reads nothing in the request itself', async () => {
    const sent: unknown[] = [];
    const queued = await buildFor({ ...(env as unknown as WorkerEnv), JOBS: { send: async (message: unknown) => void sent.push(message) } });
    const body = JSON.stringify({ type: 'records.changed', data: { municipality: '101' } });
    expect((await post('workerd-msg-4', body, true, (request, ctx) => queued.app.fetch(request, env, ctx))).status).toBe(202);
    expect(sent).toEqual([{ kind: 'inbound', tenant: '101', source: 'dfdg' }]);
    const waiting = (await read('/v1/webhooks/inbound')).notices.find((n: { id: string }) => n.id === 'workerd-msg-4');
    expect(waiting.status).toBe('pending');
    const acked: string[] = [];
    const outcome = await runJobBatch(queued, [{ id: 'm1', body: sent[0], attempts: 1, ack: () => void acked.push('m1'), retry: () => expect.fail('not retried') }]);
    expect(outcome).toMatchObject({ inbound: 1, retried: 0 });
    expect(acked).toEqual(['m1']);
    const processed = (await read('/v1/webhooks/inbound')).notices.find((n: { id: string }) => n.id === 'workerd-msg-4');
    expect(processed).toMatchObject({ status: 'processed', runId: expect.any(String) });
  });

  it('a notice whose runs keep failing waits out its backoff each time, is dead after its last try, and IT staff’s retry has it processed', { timeout: 60_000 }, async () => {
    // DFDG unreachable (nothing listens on port 9), reached without the certificate binding.
    const unreachable = await buildFor({ ...(env as unknown as WorkerEnv), DFDG_URL: 'http://127.0.0.1:9', ADAPTER_TIMEOUT_MS: '2000', SECTOR_MTLS: undefined, JOBS: undefined });
    let now = Date.now();
    unreachable.deps.clock = { now: () => new Date(now) };
    const body = JSON.stringify({ type: 'records.changed', data: { municipality: '101' } });
    expect((await post('workerd-msg-dead', body, true, (request, ctx) => unreachable.app.fetch(request, env, ctx))).status).toBe(202);
    const stored = () => unreachable.deps.store.inboundWebhooks.get('101', 'dfdg', 'workerd-msg-dead');
    // The request's waitUntil made the first try.
    expect(await stored()).toMatchObject({ status: 'pending', attempts: 1, lastError: expect.stringMatching(/failed/) });
    const pass = () => processInboundWebhooks(unreachable.deps, undefined, { random: () => 0.5 });
    // Not taken again before its backoff is over.
    expect((await pass()).runs).toEqual([]);
    let passes = 0;
    for (; passes < 20 && (await stored())!.status === 'pending'; passes++) {
      now = Date.parse((await stored())!.claimedUntil!);
      expect((await pass()).runs).toEqual([expect.objectContaining({ notices: 1, status: 'failed' })]);
    }
    expect(passes).toBe(inboundBackoff.maxAttempts - 1);
    expect(await stored()).toMatchObject({ status: 'dead', attempts: inboundBackoff.maxAttempts, lastError: expect.stringMatching(/gave up after \d+ attempts/) });
    expect(await unreachable.deps.store.inboundWebhooks.countDead('101')).toBe(1);
    now += 30 * 86_400_000;
    expect((await pass()).runs).toEqual([]);

    // DFDG back: IT staff have it processed again through the worker's own route (its job queue runs it).
    const retryPath = '/v1/webhooks/inbound/dfdg/workerd-msg-dead/retry';
    const asItStaff = async () => {
      const at = Math.floor(Date.now() / 1000);
      const token = await sign({ sub: 'webhook-test', tenant: '101', roles: ['it-staff'], iat: at, exp: at + 600 }, TEST_JWT_SECRET, 'HS256');
      const ctx = createExecutionContext();
      const response = await worker.fetch(new Request(`https://enplan.test${retryPath}`, { method: 'POST', headers: { authorization: `Bearer ${token}` } }), env as never, ctx);
      await waitOnExecutionContext(ctx);
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    };
    const retried = await asItStaff();
    expect(retried).toMatchObject({ status: 200, body: { id: 'workerd-msg-dead', status: 'pending', attempts: 0 } });
    expect((await noticesOnceProcessed('workerd-msg-dead')).find((n: { id: string }) => n.id === 'workerd-msg-dead')).toMatchObject({ status: 'processed', runId: expect.any(String) });
    expect(await stored()).toMatchObject({ status: 'processed', attempts: 1 });
    expect(await unreachable.deps.store.inboundWebhooks.countDead('101')).toBe(0);
    expect(await asItStaff()).toMatchObject({ status: 409, body: { type: '/problems/inbound-notice-not-retryable' } });
    const audited = await (env as unknown as { DB: D1Database }).DB.prepare(`select count(*) as n from audit_log where action = 'inbound-webhook.retried' and target_id = 'dfdg:workerd-msg-dead'`).first<{ n: number }>();
    expect(audited!.n).toBe(1);
  });

  it('reads the changes in the request’s waitUntil when the queue refuses the message', async () => {
    const refusing = await buildFor({ ...(env as unknown as WorkerEnv), JOBS: { send: () => Promise.reject(new Error('queue unavailable')) } });
    const body = JSON.stringify({ type: 'records.changed', data: { municipality: '101' } });
    const accepted = await post('workerd-msg-3', body, true, (request, ctx) => refusing.app.fetch(request, env, ctx));
    expect(accepted.status).toBe(202);
    // Already processed when the request's waitUntil settled: nothing waited for a queue.
    const { notices } = await read('/v1/webhooks/inbound');
    expect(notices).toContainEqual(expect.objectContaining({ id: 'workerd-msg-3', status: 'processed', runId: expect.any(String) }));
  });
});
