/**
 * Outbound subscriptions in workerd on D1: migration 0010's triggers record a plan's events on D1,
 * and the Cron Trigger round delivers them, signed, to a receiver on loopback (allowed explicitly);
 * a secret rotated on D1 signs a test event together with the one before it; a subscription hears
 * only of plans whose consent lets data flow with its system (the members and consents read on D1), is
 * told when a grant shares a plan with it and when the revocation unshares it, or when the member whose
 * consent shared a family plan leaves it, and a delivery waiting in retry across the revocation is
 * withdrawn, not sent; retention on its cron tells the system a purged plan was shared with to delete it.
 */
import { env } from 'cloudflare:test';
import { sign } from 'hono/jwt';
import { describe, expect, it } from 'vitest';
import { createApp } from '../../src/app';
import worker, { buildFor, runScheduledRound, type WorkerEnv } from '../../src/runtime/worker';
import { createStore } from '../../src/store';
import { SubscriptionEventBody } from '../../src/subscriptions/events';
import { openD1Database } from '../../src/store/d1';
import { MAX_ACTIVE_SUBSCRIPTIONS_PER_SUBJECT, runSubscriptionDeliveries } from '../../src/subscriptions/service';
import { verifyWebhook } from '../../src/webhooks/standard-webhooks';
import { TEST_JWT_SECRET } from '../support/harness';
import { testCpr } from '../support/cpr';
import { rivalWritesFirst } from '../support/rival-write';

/** The vendor tokens here are the social system's supplier's. */
const vendorClaims = (roles: string[]) => (roles.includes('vendor') ? { system: 'social' } : {});

async function call(method: string, path: string, roles: string[], body?: unknown, sub = 'subscription-test') {
  const now = Math.floor(Date.now() / 1000);
  const token = await sign({ sub, tenant: '101', roles, ...vendorClaims(roles), iat: now, exp: now + 600 }, TEST_JWT_SECRET, 'HS256');
  const response = await worker.fetch(
    new Request(`https://enplan.test${path}`, { method, headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined }),
    env as never,
    { waitUntil: () => undefined, passThroughOnException: () => undefined } as never,
  );
  return { status: response.status, body: (await response.json()) as any };
}

/** The citizen of the plan lets data from the social system into it; the grant's id. */
async function shareWithSocial(plan: { id: string; subject: { member: { memberId: string } } }): Promise<string> {
  const memberId = plan.subject.member.memberId;
  const grant = await call('POST', '/v1/consents', ['caseworker'], {
    planId: plan.id,
    memberId,
    source: 'social',
    recipient: 'enplan',
    categories: ['plan-core', 'social'],
    purpose: 'Koordinering af indsatser i Én plan',
    validFrom: '2026-01-01',
    signed: { method: 'mitid', documentRef: 'subscriptions-doc', textVersion: 'samtykke-v1', language: 'da' },
    grantedBy: { memberId, capacity: 'self' },
  });
  expect(grant.status).toBe(201);
  return grant.body.id as string;
}

describe('outbound subscriptions in workerd', () => {
  it('records plan events on D1 and delivers them signed on the cron round — only of a plan shared with the subscription’s system', async () => {
    const created = await call('POST', '/v1/subscriptions', ['vendor'], { url: `${env.RECEIVER_URL}/events`, events: ['plan.created'] });
    expect(created.status).toBe(201);
    expect(created.body.system).toBe('social');
    const plan = await call('POST', '/v1/plans', ['caseworker'], { cpr: testCpr(), origin: 'offered' });
    expect(plan.status).toBe(201);
    await shareWithSocial(plan.body);
    const notShared = await call('POST', '/v1/plans', ['caseworker'], { cpr: testCpr(), origin: 'offered' });
    expect(notShared.status).toBe(201);
    const round = await runScheduledRound(env as never, 'test');
    expect(round.subscriptions).toMatchObject({ fannedOut: 1, delivered: 1, withheld: 1 });
    const received = (await (await fetch(`${env.RECEIVER_URL}/received`)).json()) as { headers: Record<string, string>; body: string }[];
    const mine = received.filter((r) => JSON.parse(r.body).data.planId === plan.body.id);
    expect(mine).toHaveLength(1);
    expect(received.filter((r) => JSON.parse(r.body).data.planId === notShared.body.id)).toEqual([]);
    const { headers, body } = mine[0]!;
    expect((await verifyWebhook({ id: headers['webhook-id'], timestamp: headers['webhook-timestamp'], signature: headers['webhook-signature'] }, body, [created.body.secret], new Date())).ok).toBe(true);
    const deliveries = await call('GET', `/v1/subscriptions/${created.body.id}/deliveries`, ['vendor']);
    expect(deliveries.body.deliveries).toEqual([expect.objectContaining({ status: 'delivered', id: headers['webhook-id'] })]);
  });

  it('a plan.changed event on D1 names the parts that changed (migration 0016)', async () => {
    const created = await call('POST', '/v1/subscriptions', ['vendor'], { url: `${env.RECEIVER_URL}/events`, events: ['plan.changed'] });
    expect(created.status).toBe(201);
    const plan = await call('POST', '/v1/plans', ['caseworker'], { cpr: testCpr(), origin: 'offered' });
    await shareWithSocial(plan.body);
    expect((await call('POST', `/v1/plans/${plan.body.id}/status`, ['caseworker'], { status: 'accepted' })).status).toBe(200);
    await runScheduledRound(env as never, 'test');
    const received = (await (await fetch(`${env.RECEIVER_URL}/received`)).json()) as { body: string }[];
    const changed = received.map((r) => JSON.parse(r.body)).filter((b) => b.type === 'plan.changed' && b.data.planId === plan.body.id);
    expect(changed.map((b) => b.data.changed)).toEqual([['status']]);
  });

  it('rotates the secret on D1 (migration 0012) and sends a test event signed with both during the overlap', async () => {
    const created = await call('POST', '/v1/subscriptions', ['vendor'], { url: `${env.RECEIVER_URL}/events`, events: ['delivery.dead'] });
    const rotated = await call('POST', `/v1/subscriptions/${created.body.id}/rotate-secret`, ['vendor'], { overlapHours: 1 });
    expect(rotated.status).toBe(200);
    const sent = await call('POST', `/v1/subscriptions/${created.body.id}/test`, ['vendor']);
    expect(sent.body).toMatchObject({ delivered: true, status: 204 });
    const received = (await (await fetch(`${env.RECEIVER_URL}/received`)).json()) as { headers: Record<string, string>; body: string }[];
    const test = received.find((r) => r.headers['webhook-id'] === sent.body.webhookId)!;
    expect(JSON.parse(test.body)).toMatchObject({ type: 'subscription.test', data: { subscriptionId: created.body.id } });
    for (const secret of [created.body.secret, rotated.body.secret])
      expect((await verifyWebhook({ id: test.headers['webhook-id']!, timestamp: test.headers['webhook-timestamp']!, signature: test.headers['webhook-signature']! }, test.body, [secret], new Date())).ok).toBe(true);
  });

  it('on D1: a grant sends plan.shared, a delivery waiting in retry across the revocation is withdrawn, and plan.unshared follows', async () => {
    const sub = 'subscription-sharing';
    const created = await call('POST', '/v1/subscriptions', ['vendor'], { url: `${env.RECEIVER_URL}/events` }, sub);
    expect(created.status).toBe(201);
    const cpr = testCpr();
    const plan = await call('POST', '/v1/plans', ['caseworker'], { cpr, origin: 'offered' });
    const grantId = await shareWithSocial(plan.body);
    await runScheduledRound(env as never, 'test');
    // The receiver is down when the plan's next change goes out: it waits in retry.
    expect((await call('POST', `/v1/plans/${plan.body.id}/status`, ['caseworker'], { status: 'accepted' })).status).toBe(200);
    const { deps } = await buildFor(env as unknown as WorkerEnv);
    const down = await runSubscriptionDeliveries({ ...deps, subscriptionTransport: { fetch: async () => new Response(null, { status: 503 }) } }, { random: () => 0 });
    expect(down.retried).toBeGreaterThanOrEqual(1);
    expect((await call('POST', `/v1/consents/${grantId}/revoke`, ['caseworker'])).status).toBe(200);
    const round = await runScheduledRound(env as never, 'test');
    // Another test's subscription for social (the file shares one database) has that change waiting too.
    expect(round.subscriptions?.withdrawn).toBeGreaterThanOrEqual(1);

    const deliveries = (await call('GET', `/v1/subscriptions/${created.body.id}/deliveries`, ['vendor'], undefined, sub)).body.deliveries as { id: string; type: string; status: string; lastError: string | null }[];
    expect(deliveries.find((d) => d.type === 'plan.changed')).toMatchObject({ status: 'cancelled', lastError: 'withdrawn: consent no longer covers this system' });
    const received = (await (await fetch(`${env.RECEIVER_URL}/received`)).json()) as { headers: Record<string, string>; body: string }[];
    const mine = received.filter((r) => deliveries.some((d) => d.id === r.headers['webhook-id']));
    expect(mine.map((r) => JSON.parse(r.body).type)).toEqual(['plan.created', 'plan.shared', 'plan.unshared']);
    expect(JSON.parse(mine[2]!.body).data).toEqual({ tenant: '101', planId: plan.body.id, system: 'social' });
    for (const { body } of mine) {
      expect(SubscriptionEventBody.safeParse(JSON.parse(body)).error).toBeUndefined();
      expect(body).not.toContain(cpr);
      expect(body).not.toContain(cpr.slice(0, 6));
    }
  });

  it('on D1: the member whose consent alone shared a family plan with social leaves it — plan.unshared for the family plan in the leave’s batch, plan.created for their own', async () => {
    const sub = 'subscription-leaving';
    const created = await call('POST', '/v1/subscriptions', ['vendor'], { url: `${env.RECEIVER_URL}/events` }, sub);
    expect(created.status).toBe(201);
    const family = await call('POST', '/v1/plans', ['caseworker'], { cpr: testCpr(), origin: 'offered', role: 'parent', family: { name: 'Familien Test', members: [{ cpr: testCpr(), role: 'adult' }] } });
    expect(family.status).toBe(201);
    const leaving = family.body.subject.members[1] as { memberId: string };
    await shareWithSocial({ id: family.body.id, subject: { member: leaving } });
    await runScheduledRound(env as never, 'test');
    const left = await call('POST', `/v1/plans/${family.body.id}/members/${leaving.memberId}/leave`, ['caseworker']);
    expect(left.status).toBe(201);
    await runScheduledRound(env as never, 'test');

    const deliveries = (await call('GET', `/v1/subscriptions/${created.body.id}/deliveries`, ['vendor'], undefined, sub)).body.deliveries as { id: string }[];
    const received = (await (await fetch(`${env.RECEIVER_URL}/received`)).json()) as { headers: Record<string, string>; body: string }[];
    const mine = received.filter((r) => deliveries.some((d) => d.id === r.headers['webhook-id'])).map((r) => JSON.parse(r.body) as { type: string; data: { planId: string } });
    // The family plan's own change after the leave is withheld: only the leaver's consent shared it.
    expect(mine.map((b) => [b.type, b.data.planId])).toEqual([
      ['plan.created', family.body.id],
      ['plan.shared', family.body.id],
      ['plan.unshared', family.body.id],
      ['plan.created', left.body.ownPlan.id],
    ]);
  });

  it('on D1: retention on its cron purges a closed plan shared with social — plan.purged in the purge’s batch, delivered on the next round; dfdg, not shared, hears nothing', async () => {
    const sub = 'subscription-purge';
    const created = await call('POST', '/v1/subscriptions', ['vendor'], { url: `${env.RECEIVER_URL}/events` }, sub);
    expect(created.status).toBe(201);
    const dfdg = await call('POST', '/v1/subscriptions', ['it-staff'], { url: `${env.RECEIVER_URL}/events`, system: 'dfdg' }, 'it-staff-purge');
    expect(dfdg.status).toBe(201);
    const cpr = testCpr();
    const plan = await call('POST', '/v1/plans', ['caseworker'], { cpr, origin: 'offered' });
    await shareWithSocial(plan.body);
    await runScheduledRound(env as never, 'test');
    // Closed six years ago (the default period is five).
    const db = (env as unknown as { DB: D1Database }).DB;
    await db.prepare(`update plans set status = 'closed', updated_at = '2020-11-23T10:00:00.000Z' where id = ?`).bind(plan.body.id).run();
    const purging = await runScheduledRound(env as never, 'test', '30 2 * * *');
    expect(purging.retention?.plansPurged).toBeGreaterThanOrEqual(1);
    expect((await call('GET', `/v1/plans/${plan.body.id}`, ['caseworker'])).status).toBe(404);
    // The round ran the deliveries before retention: the next one sends the event.
    await runScheduledRound(env as never, 'test');

    const deliveries = (await call('GET', `/v1/subscriptions/${created.body.id}/deliveries`, ['vendor'], undefined, sub)).body.deliveries as { id: string }[];
    const received = (await (await fetch(`${env.RECEIVER_URL}/received`)).json()) as { headers: Record<string, string>; body: string }[];
    const mine = received.filter((r) => deliveries.some((d) => d.id === r.headers['webhook-id']));
    expect(mine.map((r) => JSON.parse(r.body).type)).toEqual(['plan.created', 'plan.shared', 'plan.purged']);
    expect(JSON.parse(mine[2]!.body).data).toEqual({ tenant: '101', planId: plan.body.id, system: 'social' });
    for (const { body } of mine) {
      expect(SubscriptionEventBody.safeParse(JSON.parse(body)).error).toBeUndefined();
      expect(body).not.toContain(cpr);
      expect(body).not.toContain(cpr.slice(0, 6));
    }
    expect((await call('GET', `/v1/subscriptions/${dfdg.body.id}/deliveries`, ['it-staff'], undefined, 'it-staff-purge')).body.deliveries).toEqual([]);
  });

  it('holds the per-client bound on D1 when another request’s subscription is written while this one is under way', async () => {
    // A client of its own: the file's other tests share the database.
    const client = 'subscription-race';
    for (let i = 0; i < MAX_ACTIVE_SUBSCRIPTIONS_PER_SUBJECT - 1; i++) expect((await call('POST', '/v1/subscriptions', ['vendor'], { url: `${env.RECEIVER_URL}/events` }, client)).status).toBe(201);
    const { deps } = await buildFor(env as unknown as WorkerEnv);
    const racing = rivalWritesFirst(openD1Database(env.DB as never), () => [
      deps.store.subscriptions.createStatement({ id: crypto.randomUUID(), tenant: '101', url: `${env.RECEIVER_URL}/events`, secretSealed: 'sealed elsewhere', events: '["plan.created"]', description: null, createdBy: `vendor:${client}`, createdAt: new Date().toISOString() }),
    ]);
    const now = Math.floor(Date.now() / 1000);
    const token = await sign({ sub: client, tenant: '101', roles: ['vendor'], system: 'social', iat: now, exp: now + 600 }, TEST_JWT_SECRET, 'HS256');
    const response = await createApp({ ...deps, store: createStore(racing) }).request('https://enplan.test/v1/subscriptions', { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ url: `${env.RECEIVER_URL}/events` }) }, env);
    expect(racing.rivalWritten()).toBe(true);
    expect(response.status).toBe(409);
    expect(await response.json()).toMatchObject({ type: '/problems/subscription-limit-reached' });
    expect(await deps.store.subscriptions.countActive('101', client)).toBe(MAX_ACTIVE_SUBSCRIPTIONS_PER_SUBJECT);
  });
});
