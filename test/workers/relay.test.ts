/**
 * The push side inside workerd on D1: a registration is accepted (registration + plan + outbox
 * rows in ONE D1 batch), the relay delivers it, and a lost plan race leaves nothing behind.
 *
 * The target: the simulators are Node HTTP servers and cannot run inside workerd, so the target
 * here is the runtime-neutral push-target core (a Hono app) running in the same isolate; the
 * adapter reaches it through a `fetch` that hands the real Request to that app. That exercises the
 * adapter's whole HTTP contract (Request, headers, status codes, JSON, Response bodies) in workerd
 * without changing the shared Workers project config (no `outboundService`), at the price of not
 * going through workerd's outbound network stack — which the Node tests cover over real sockets.
 */
import { env } from 'cloudflare:test';
import { sign } from 'hono/jwt';
import { describe, expect, it } from 'vitest';
import { createApp } from '../../src/app';
import { loadConfig } from '../../src/config';
import { runRelayOnce, type DeliveryDeps } from '../../src/delivery';
import { createMemoryLogger } from '../../src/monitoring/log';
import { composeDeps } from '../../src/runtime/compose';
import { openD1Database } from '../../src/store/d1';
import { testCpr } from '../support/cpr';
import { TEST_CPR_KEY, TEST_JWT_SECRET } from '../support/harness';
import { createPushTargetCore, passThroughMappings, pushTargetAdapter } from '../support/push-target-core';

async function setUp() {
  const target = createPushTargetCore({ name: 'dfdg' });
  const inIsolate: typeof fetch = (input, init) => Promise.resolve(target.app.fetch(new Request(input, init)));
  const deps = await composeDeps({
    database: openD1Database(env.DB as never),
    config: loadConfig({ NODE_ENV: 'test', JWT_SECRET: TEST_JWT_SECRET, CPR_KEY: TEST_CPR_KEY, LOG_LEVEL: 'warn' }),
    logger: createMemoryLogger('warn'),
    adapters: { dfdg: pushTargetAdapter('dfdg', 'https://dfdg.target.test', 2_000, inIsolate) },
  });
  (deps as DeliveryDeps).delivery = { reverseMappings: passThroughMappings(['dfdg']) };
  const app = createApp(deps);
  const now = Math.floor(Date.now() / 1000);
  const token = (roles: string[]) => sign({ sub: 'workers-test', tenant: '101', roles, iat: now, exp: now + 600 }, TEST_JWT_SECRET, 'HS256');
  const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}, roles = ['caseworker']) => {
    const response = await app.request(path, {
      method,
      headers: { authorization: `Bearer ${await token(roles)}`, ...(body ? { 'content-type': 'application/json' } : {}), ...headers },
      body: body ? JSON.stringify(body) : undefined,
    });
    return { status: response.status, body: (await response.json()) as any };
  };
  const plan = (await call('POST', '/v1/plans', { cpr: testCpr(), origin: 'offered' })).body;
  const citizenId = plan.subject.member.citizenId as string;
  await deps.store.consents.insert({
    kind: 'grant',
    id: crypto.randomUUID(),
    tenant: '101',
    citizenId,
    grantedBy: { citizenId, capacity: 'self' },
    source: 'enplan',
    recipient: 'employment',
    categories: ['interventions', 'goals'],
    explicitHealth: false,
    purpose: 'workers test',
    validFrom: '2020-01-01',
    signed: { method: 'digital', documentRef: 'd', textVersion: 'v1', language: 'da' },
    createdAt: new Date().toISOString(),
  });
  return { deps, target, call, plan };
}

describe('push side in workerd on D1', () => {
  it('accepts a registration and the relay delivers it exactly once', async () => {
    const { deps, target, call, plan } = await setUp();
    const body = {
      planId: plan.id,
      kind: 'intervention.added',
      intervention: {
        sector: 'employment',
        legalBasis: 'LAB § 32',
        type: { system: 'urn:test', code: 'VJT' },
        title: 'Virksomhedspraktik',
        responsibleUnit: 'Jobcenter',
        contact: { name: 'K' },
        period: { start: '2026-12-01' },
        memberId: plan.subject.member.memberId,
      },
    };
    const accepted = await call('POST', '/v1/registrations', body, { 'idempotency-key': 'workers-key-0001' });
    expect(accepted.status).toBe(202);
    expect(accepted.body.deliveries).toEqual([expect.objectContaining({ target: 'dfdg', status: 'pending' })]);
    const replay = await call('POST', '/v1/registrations', body, { 'idempotency-key': 'workers-key-0001' });
    expect(replay.body.id).toBe(accepted.body.id);

    expect(await runRelayOnce(deps, { limit: 10 })).toEqual({ delivered: 1, retried: 0, dead: 0, cancelled: 0 });
    expect(await runRelayOnce(deps, { limit: 10 })).toEqual({ delivered: 0, retried: 0, dead: 0, cancelled: 0 });
    const outboxId = accepted.body.deliveries[0].outboxId;
    expect(target.effectCounts()).toEqual({ [outboxId]: 1 });
    const status = await call('GET', `/v1/registrations/${accepted.body.id}`);
    expect(status.body.targets[0]).toMatchObject({ status: 'delivered', attempts: 1, receipt: { targetId: 'dfdg-1' } });
  });

  it('never replays a dead letter a later delivery of the same element superseded (the D1 sub-selects work)', async () => {
    const { deps, target, call, plan } = await setUp();
    const intervention = { sector: 'employment', legalBasis: 'LAB § 32', type: { system: 'urn:test', code: 'VJT' }, title: 'v1', responsibleUnit: 'Jobcenter', contact: { name: 'K' }, period: { start: '2026-12-01' }, memberId: plan.subject.member.memberId };
    target.setFaults({ refuseWith: 'not now' });
    const added = await call('POST', '/v1/registrations', { planId: plan.id, kind: 'intervention.added', intervention }, { 'idempotency-key': 'workers-superseded-1' });
    expect(await runRelayOnce(deps, { limit: 10 })).toMatchObject({ dead: 1 });
    target.setFaults({ refuseWith: null });
    const changed = await call('POST', '/v1/registrations', { planId: plan.id, kind: 'intervention.changed', interventionId: added.body.elementId, changes: { title: 'v2' } }, { 'idempotency-key': 'workers-superseded-2' });
    expect(await runRelayOnce(deps, { limit: 10 })).toMatchObject({ delivered: 1 });
    const deadId = added.body.deliveries[0].outboxId as string;
    const retried = await call('POST', `/v1/outbox/${deadId}/retry`, undefined, {}, ['it-staff']);
    expect(retried.status).toBe(409);
    expect(retried.body.detail).toContain(`superseded by delivery ${changed.body.deliveries[0].outboxId}`);
    // Requeued behind the API's back: the claim sees it is superseded, and nothing is sent.
    await deps.store.outbox.requeueStatement('101', deadId, new Date().toISOString());
    expect(await runRelayOnce(deps, { limit: 10 })).toEqual({ delivered: 0, retried: 0, dead: 0, cancelled: 1 });
    expect(target.effects().map((e) => e.registrationId)).toEqual([changed.body.id]);
  });

  it('records what the target now holds with each delivery, the latest one winning (the upsert and the chunk read work on D1)', async () => {
    const { deps, call, plan } = await setUp();
    // As Ungedatabasen's one education goal: every goal delivered lands in the same place at the target.
    (deps as DeliveryDeps).delivery = { reverseMappings: passThroughMappings(['dfdg'], (o) => [{ targetElementId: 'dfdg:the-plan-goal', elementId: o.elementId! }]) };
    const citizenId = plan.subject.member.citizenId as string;
    const goal = (title: string) => ({ planId: plan.id, kind: 'goal.added', goal: { level: 'overall', title, sector: 'employment', memberId: plan.subject.member.memberId } });
    const first = await call('POST', '/v1/registrations', goal('Job'), { 'idempotency-key': 'workers-held-1' });
    expect(await runRelayOnce(deps, { limit: 10 })).toMatchObject({ delivered: 1 });
    expect(await deps.store.heldElements.forCitizens('101', [citizenId])).toEqual([{ citizenId, target: 'dfdg', targetElementId: 'dfdg:the-plan-goal', elementId: first.body.elementId }]);
    const second = await call('POST', '/v1/registrations', goal('Uddannelse'), { 'idempotency-key': 'workers-held-2' });
    expect(await runRelayOnce(deps, { limit: 10 })).toMatchObject({ delivered: 1 });
    expect(await deps.store.heldElements.forCitizens('101', [citizenId, 'someone-else'])).toEqual([{ citizenId, target: 'dfdg', targetElementId: 'dfdg:the-plan-goal', elementId: second.body.elementId }]);
    expect(await deps.store.heldElements.forCitizens('102', [citizenId])).toEqual([]);
  });

  it('stores nothing of a registration whose plan changed before the batch ran (the guard works on D1)', async () => {
    const { deps, plan } = await setUp();
    const current = (await deps.store.plans.get('101', plan.id))!;
    const outcome = await deps.store.registrations.accept({
      registration: { id: 'reg-stale', tenant: '101', planId: plan.id, kind: 'goal.added', idempotencyKey: 'stale-key-0001', bodyHash: 'h', document: '{}', response: '{}', actor: 'test', createdAt: new Date().toISOString() },
      plan: { ...current, purpose: 'changed by a stale writer', version: current.version + 1 },
      expectedVersion: current.version - 1,
      outbox: [{ id: 'ob-stale', tenant: '101', registrationId: 'reg-stale', citizenId: 'c', target: 'dfdg', operation: 'goal.upsert', payload: '{}', nextAttemptAt: new Date().toISOString(), consentRef: null, createdAt: new Date().toISOString() }],
    });
    expect(outcome).toBe('plan-changed');
    expect(await deps.store.registrations.get('101', 'reg-stale')).toBeNull();
    expect(await deps.store.outbox.get('101', 'ob-stale')).toBeNull();
    expect((await deps.store.plans.get('101', plan.id))!.purpose).toBeUndefined();
    // The same batch at the right version goes through whole: the guard is what stopped it above.
    const fresh = await deps.store.registrations.accept({
      registration: { id: 'reg-fresh', tenant: '101', planId: plan.id, kind: 'goal.added', idempotencyKey: 'fresh-key-0001', bodyHash: 'h', document: '{}', response: '{}', actor: 'test', createdAt: new Date().toISOString() },
      plan: { ...current, purpose: 'changed by the current writer', version: current.version + 1 },
      expectedVersion: current.version,
      outbox: [{ id: 'ob-fresh', tenant: '101', registrationId: 'reg-fresh', citizenId: 'c', target: 'dfdg', operation: 'goal.upsert', payload: '{}', nextAttemptAt: new Date().toISOString(), consentRef: null, createdAt: new Date().toISOString() }],
    });
    expect(fresh).toBe('accepted');
    expect(await deps.store.registrations.get('101', 'reg-fresh')).not.toBeNull();
    expect((await deps.store.outbox.get('101', 'ob-fresh'))!.sequence).toBe(1);
    expect((await deps.store.plans.get('101', plan.id))!.purpose).toBe('changed by the current writer');
  });
});
