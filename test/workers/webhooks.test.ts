/**
 * Inbound webhooks in workerd on D1: a signed change notice is stored (migration 0009 on D1) and
 * answered 202, then read through the request's `waitUntil`: one DFDG sync run, the notice marked
 * with it. A repeat is a duplicate; an unsigned notice is 401 and stores nothing.
 */
import { createExecutionContext, env, waitOnExecutionContext } from 'cloudflare:test';
import { sign } from 'hono/jwt';
import { describe, expect, it } from 'vitest';
import worker from '../../src/runtime/worker';
import { signWebhook } from '../../src/webhooks/standard-webhooks';
import { TEST_JWT_SECRET } from '../support/harness';

const secret = 'whsec_dGVzdC13ZWJob29rLXNlY3JldC1mb3ItdGhlLWVucGxhbi1zdWl0ZQ==';

async function post(id: string, body: string, signed = true) {
  const timestamp = Math.floor(Date.now() / 1000);
  const headers: Record<string, string> = { 'content-type': 'application/json', 'webhook-id': id, 'webhook-timestamp': String(timestamp) };
  if (signed) headers['webhook-signature'] = await signWebhook(secret, id, timestamp, body);
  const ctx = createExecutionContext();
  const response = await worker.fetch(new Request('https://enplan.test/v1/webhooks/inbound/dfdg', { method: 'POST', headers, body }), env as never, ctx);
  await waitOnExecutionContext(ctx);
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

async function read(path: string) {
  const now = Math.floor(Date.now() / 1000);
  const token = await sign({ sub: 'webhook-test', tenant: '101', roles: ['it-staff'], iat: now, exp: now + 600 }, TEST_JWT_SECRET, 'HS256');
  const response = await worker.fetch(new Request(`https://enplan.test${path}`, { headers: { authorization: `Bearer ${token}` } }), env as never, createExecutionContext());
  return (await response.json()) as any;
}

describe('inbound webhooks in workerd', () => {
  it('stores a signed notice, answers 202, and reads the changes after answering', async () => {
    const body = JSON.stringify({ type: 'records.changed', data: { municipality: '101' } });
    const accepted = await post('workerd-msg-1', body);
    expect(accepted).toEqual({ status: 202, body: { id: 'workerd-msg-1', status: 'accepted' } });
    const { notices } = await read('/v1/webhooks/inbound');
    expect(notices).toEqual([expect.objectContaining({ id: 'workerd-msg-1', status: 'processed', runId: expect.any(String) })]);
    const { runs } = await read('/v1/sync/runs');
    expect(runs).toContainEqual(expect.objectContaining({ id: notices[0].runId, adapter: 'dfdg', trigger: 'webhook:dfdg', status: 'succeeded' }));

    expect(await post('workerd-msg-1', body)).toEqual({ status: 200, body: { id: 'workerd-msg-1', status: 'duplicate' } });
    const unsigned = await post('workerd-msg-2', body, false);
    expect(unsigned.status).toBe(401);
    expect((await read('/v1/webhooks/inbound')).notices).toHaveLength(1);
  });
});
