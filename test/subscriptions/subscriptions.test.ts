/**
 * Outbound subscriptions end to end: a vendor subscribes a receiver (a real HTTP server on
 * loopback, allowed by SUBSCRIPTION_ALLOWED_HOSTS), plan writes become thin events recorded by the
 * database's triggers, and the job delivers them signed per Standard Webhooks — retried under the
 * same webhook-id, stopped by 410, never to an address that is not allowed (S6), never with content.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createApp } from '../../src/app';
import { handleLapsedGrants, handleStartedGrants } from '../../src/consent/service';
import { runRelayOnce } from '../../src/delivery';
import { membershipService } from '../../src/plans/membership';
import { planService } from '../../src/plans/service';
import { createStore } from '../../src/store';
import { events as eventsTable, plans as plansTable, plansTold, subscriptionDeliveries, subscriptions as subscriptionsTable } from '../../src/store/schema';
import { monitoringOverview, toPrometheus } from '../../src/monitoring/overview';
import { runRetention } from '../../src/sync/retention';
import { nodeSubscriptionTransport } from '../../src/runtime/subscription-transport';
import { EventHeaders, PlanChangedEvent, SubscriptionEventBody } from '../../src/subscriptions/events';
import { MAX_ACTIVE_SUBSCRIPTIONS_PER_SUBJECT, MAX_ACTIVE_SUBSCRIPTIONS_PER_TENANT, runSubscriptionDeliveries } from '../../src/subscriptions/service';
import { danishToday } from '../../src/views/danish';
import { verifyWebhook } from '../../src/webhooks/standard-webhooks';
import { TestClock } from '../registrations/fixture';
import { testCpr } from '../support/cpr';
import { startTestApp } from '../support/node-app';
import { rivalWritesFirst } from '../support/rival-write';
import { caseworkerOf, enrol, grantConsent } from '../support/seed';

interface Received { headers: IncomingMessage['headers']; body: string; path?: string }
let receiver: Server;
let receiverUrl: string;
let received: Received[] = [];
let answers: number[] = [];
/** How long the receiver takes to answer, and the most requests it has had open at once. */
let answerDelayMs = 0;
let inFlight = 0;
let mostInFlight = 0;
beforeAll(async () => {
  receiver = createServer((request, response) => {
    let body = '';
    inFlight++;
    mostInFlight = Math.max(mostInFlight, inFlight);
    request.on('data', (chunk) => (body += chunk));
    request.on('end', () => {
      received.push({ headers: request.headers, body, path: request.url });
      response.statusCode = answers.shift() ?? 204;
      setTimeout(() => {
        inFlight--;
        response.end();
      }, answerDelayMs);
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as { port: number }).port}/enplan-events`;
});
afterAll(() => new Promise<void>((resolve) => receiver.close(() => resolve())));
beforeEach(() => {
  received = [];
  answers = [];
  answerDelayMs = 0;
  mostInFlight = 0;
});

/**
 * The vendor tokens of this file are those of the social system's supplier unless a test says
 * otherwise, and `enrolShared` makes plans whose citizen lets social data into the plan: events of
 * other plans are not theirs to hear of.
 */
const VENDOR_SYSTEM = 'social';

/** An active plan whose citizen consented to data from the social system flowing into it. */
async function enrolShared(deps: Parameters<typeof enrol>[0], cpr: string) {
  const plan = await enrol(deps, cpr);
  await grantConsent(deps, { citizenId: plan.subject.kind === 'citizen' ? plan.subject.member.citizenId : '', source: VENDOR_SYSTEM, categories: ['plan-core'] });
  return plan;
}

async function freshApp(allowed = '127.0.0.1') {
  const clock = new TestClock(Date.now());
  const app = await startTestApp({ clock, env: { SUBSCRIPTION_ALLOWED_HOSTS: allowed } });
  // The Node transport: the connect-time guard is in the path, as in the service.
  app.deps.subscriptionTransport = nodeSubscriptionTransport(app.deps.config.subscriptions.allowedHosts);
  const call = async (method: string, path: string, roles: string[], body?: unknown, sub?: string, tenant = '101', claims: { system?: string } = roles.includes('vendor') ? { system: VENDOR_SYSTEM } : {}) => {
    const token = await app.harness.token({ tenant, roles: roles as never, ...(sub ? { sub } : {}), ...(claims as object) });
    const response = await app.harness.request(path, { method, headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : null };
  };
  const run = () => runSubscriptionDeliveries(app.deps, { random: () => 0 });
  // Through the query builder: a raw read answers arrays on the store-thread driver (TEST_STORE_THREAD=1).
  const events = () => app.database.db.select({ type: eventsTable.type }).from(eventsTable).orderBy(eventsTable.seq);
  return { ...app, clock, call, run, events };
}

describe('outbound subscriptions', () => {
  it('shows IT staff since when the oldest event waits for a subscriber (overview, /metrics), and nothing once delivered', async () => {
    const app = await freshApp();
    await app.call('POST', '/v1/subscriptions', ['vendor'], { url: receiverUrl }, 'vendor-a');
    const fannedOutAt = app.clock.now().toISOString();
    await enrolShared(app.deps, testCpr());
    answers = [503, 503, 503];
    expect(await app.run()).toMatchObject({ fannedOut: 3, retried: 1 });
    const overview = await monitoringOverview(app.deps, '101');
    expect(overview.subscriptions.oldestWaitingAt).toBe(fannedOutAt);
    expect(toPrometheus(overview)).toContain(`enplan_subscription_oldest_waiting_timestamp_seconds{tenant="101"} ${Math.floor(Date.parse(fannedOutAt) / 1000)}`);
    expect((await monitoringOverview(app.deps, '751')).subscriptions.oldestWaitingAt).toBeNull();
    answers = [];
    app.clock.advance(24 * 60 * 60_000);
    expect(await app.run()).toMatchObject({ delivered: 3 });
    const after = await monitoringOverview(app.deps, '101');
    expect(after.subscriptions.oldestWaitingAt).toBeNull();
    expect(toPrometheus(after)).not.toMatch(/enplan_subscription_oldest_waiting_timestamp_seconds\{/);
    await app.close();
  });

  it('delivers thin, signed plan events to the subscriber, and shows each delivery', async () => {
    const app = await freshApp();
    const created = await app.call('POST', '/v1/subscriptions', ['vendor'], { url: receiverUrl, description: 'Fagsystem X' }, 'vendor-a');
    expect(created.status).toBe(201);
    const { id, secret } = created.body as { id: string; secret: string };
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
    expect(created.body.events).toEqual(['plan.created', 'plan.changed', 'plan.shared', 'plan.unshared', 'plan.purged', 'delivery.dead']);
    // Shown once: never in a read.
    expect(JSON.stringify((await app.call('GET', `/v1/subscriptions/${id}`, ['vendor'], undefined, 'vendor-a')).body)).not.toContain(secret);
    expect(JSON.stringify((await app.call('GET', '/v1/subscriptions', ['it-staff'])).body)).not.toContain(secret);

    const cpr = testCpr();
    const plan = await enrolShared(app.deps, cpr); // created, accepted, active: three plan writes
    const outcome = await app.run();
    expect(outcome).toMatchObject({ fannedOut: 3, delivered: 3, retried: 0, dead: 0 });
    expect(await app.events()).toEqual([]);
    expect(received).toHaveLength(3);
    for (const { headers, body } of received) {
      const verified = await verifyWebhook({ id: headers['webhook-id'] as string, timestamp: headers['webhook-timestamp'] as string, signature: headers['webhook-signature'] as string }, body, [secret], app.clock.now());
      expect(verified.ok).toBe(true);
      expect(body).not.toContain(cpr);
      expect(body).not.toContain(cpr.slice(0, 6));
    }
    const bodies = received.map((r) => JSON.parse(r.body));
    // Exactly what the OpenAPI document's `webhooks` describe: body and headers.
    for (const { headers, body } of received) {
      expect(SubscriptionEventBody.safeParse(JSON.parse(body)).error).toBeUndefined();
      expect(EventHeaders.safeParse(headers).error).toBeUndefined();
    }
    expect(bodies.map((b) => [b.type, b.data.status, b.data.version])).toEqual([['plan.created', 'offered', 1], ['plan.changed', 'accepted', 2], ['plan.changed', 'active', 3]]);
    expect(Object.keys(bodies[1])).toEqual(['type', 'timestamp', 'data']);
    expect(bodies[1].data).toEqual({ tenant: '101', planId: plan.id, version: 2, status: 'accepted', previousStatus: 'offered', changed: ['status'] });

    const deliveries = await app.call('GET', `/v1/subscriptions/${id}/deliveries`, ['vendor'], undefined, 'vendor-a');
    expect(deliveries.status).toBe(200);
    expect(deliveries.body.deliveries).toHaveLength(3);
    expect(deliveries.body.deliveries.every((d: { status: string; lastStatusCode: number }) => d.status === 'delivered' && d.lastStatusCode === 204)).toBe(true);
    expect(new Set(deliveries.body.deliveries.map((d: { id: string }) => d.id))).toEqual(new Set(received.map((r) => r.headers['webhook-id'])));
    // A second run sends nothing again.
    expect(await app.run()).toMatchObject({ fannedOut: 0, delivered: 0 });
    expect(received).toHaveLength(3);
    await app.close();
  });

  it('a plan.changed event names the parts that changed, so a vendor reads only what it holds', async () => {
    const app = await freshApp();
    expect((await app.call('POST', '/v1/subscriptions', ['vendor'], { url: receiverUrl, events: ['plan.changed'] }, 'vendor-a')).status).toBe(201);
    const plan = await enrolShared(app.deps, testCpr());
    const member = plan.subject.kind === 'citizen' ? plan.subject.member.memberId : '';
    const register = async (body: Record<string, unknown>) => {
      const token = await app.harness.token({ tenant: '101', roles: ['caseworker'] });
      const response = await app.harness.request('/v1/registrations', { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'idempotency-key': crypto.randomUUID() }, body: JSON.stringify({ planId: plan.id, ...body }) });
      expect(response.status).toBe(202);
    };
    await register({ kind: 'goal.added', goal: { level: 'overall', title: 'Job som smed', sector: 'employment' } });
    await register({ kind: 'plan.details-changed', changes: { purpose: 'Fast arbejde', timeFrame: { start: '2026-12-01' } } });
    await register({ kind: 'followup.scheduled', followUp: { due: '2027-01-15', text: 'Samtale' } });
    await register({ kind: 'view.recorded', view: { memberId: member, text: 'Jeg vil gerne arbejde med metal' } });
    await app.run();
    const changed = received.map((r) => JSON.parse(r.body)).filter((b) => b.type === 'plan.changed');
    expect(changed.map((b) => b.data.changed)).toEqual([['status'], ['status'], ['goals'], ['purpose', 'timeFrame'], ['followUps'], ['citizenViews']]);
    for (const r of received) expect(SubscriptionEventBody.safeParse(JSON.parse(r.body)).error).toBeUndefined();
    await app.close();
  });

  it('rotates a subscription’s secret: both sign during the overlap, only the new one after it; an overlap of 0 ends the old at once', async () => {
    const app = await freshApp();
    const created = await app.call('POST', '/v1/subscriptions', ['vendor'], { url: receiverUrl, events: ['plan.created'] }, 'vendor-a');
    const { id, secret: oldSecret } = created.body as { id: string; secret: string };
    const verifies = (r: Received, secret: string) =>
      verifyWebhook({ id: r.headers['webhook-id'] as string, timestamp: r.headers['webhook-timestamp'] as string, signature: r.headers['webhook-signature'] as string }, r.body, [secret], app.clock.now()).then((v) => v.ok);

    // Another vendor cannot; other roles are refused; the body is checked.
    expect((await app.call('POST', `/v1/subscriptions/${id}/rotate-secret`, ['vendor'], {}, 'vendor-b')).status).toBe(404);
    expect((await app.call('POST', `/v1/subscriptions/${id}/rotate-secret`, ['caseworker'], {})).status).toBe(403);
    expect((await app.call('POST', `/v1/subscriptions/${id}/rotate-secret`, ['vendor'], { overlapHours: 1000 }, 'vendor-a')).status).toBe(400);

    const rotated = await app.call('POST', `/v1/subscriptions/${id}/rotate-secret`, ['vendor'], {}, 'vendor-a');
    expect(rotated.status).toBe(200);
    const newSecret = rotated.body.secret as string;
    expect(newSecret).toMatch(/^whsec_/);
    expect(newSecret).not.toBe(oldSecret);
    expect(rotated.body.previousSecretValidUntil).toBe(new Date(app.clock.now().getTime() + 24 * 3600_000).toISOString());
    expect((await app.call('GET', `/v1/subscriptions/${id}`, ['vendor'], undefined, 'vendor-a')).body.previousSecretValidUntil).toBe(rotated.body.previousSecretValidUntil);
    expect(JSON.stringify((await app.call('GET', `/v1/subscriptions/${id}`, ['vendor'], undefined, 'vendor-a')).body)).not.toContain(newSecret);

    // During the overlap: two signatures; a receiver with either secret accepts the event.
    await enrolShared(app.deps, testCpr());
    expect(await app.run()).toMatchObject({ delivered: 1 });
    expect((received[0]!.headers['webhook-signature'] as string).split(' ')).toHaveLength(2);
    expect(await verifies(received[0]!, newSecret)).toBe(true);
    expect(await verifies(received[0]!, oldSecret)).toBe(true);

    // After it: the new secret only.
    app.clock.advance(25 * 3600_000);
    await enrolShared(app.deps, testCpr());
    expect(await app.run()).toMatchObject({ delivered: 1 });
    expect(await verifies(received[1]!, newSecret)).toBe(true);
    expect(await verifies(received[1]!, oldSecret)).toBe(false);
    expect((await app.call('GET', `/v1/subscriptions/${id}`, ['vendor'], undefined, 'vendor-a')).body.previousSecretValidUntil).not.toBeNull();

    // A leak: no overlap, the old secret signs nothing more.
    const urgent = await app.call('POST', `/v1/subscriptions/${id}/rotate-secret`, ['it-staff'], { overlapHours: 0 });
    expect(urgent.body.previousSecretValidUntil).toBeNull();
    await enrolShared(app.deps, testCpr());
    expect(await app.run()).toMatchObject({ delivered: 1 });
    expect((received[2]!.headers['webhook-signature'] as string).split(' ')).toHaveLength(1);
    expect(await verifies(received[2]!, urgent.body.secret)).toBe(true);
    expect(await verifies(received[2]!, newSecret)).toBe(false);
    const log = await app.deps.store.audit.list('101', {});
    expect(log.filter((row) => row.action === 'subscription.secret-rotated')).toHaveLength(2);
    expect(JSON.stringify(log)).not.toContain(newSecret);

    // An ended subscription is not rotated.
    await app.call('DELETE', `/v1/subscriptions/${id}`, ['vendor'], undefined, 'vendor-a');
    expect((await app.call('POST', `/v1/subscriptions/${id}/rotate-secret`, ['vendor'], {}, 'vendor-a')).status).toBe(409);
    await app.close();
  });

  it('sends a signed test event on request, whatever types the subscription wants, and says what the receiver answered', async () => {
    const app = await freshApp();
    const created = await app.call('POST', '/v1/subscriptions', ['vendor'], { url: receiverUrl, events: ['delivery.dead'] }, 'vendor-a');
    const { id, secret } = created.body as { id: string; secret: string };
    const sent = await app.call('POST', `/v1/subscriptions/${id}/test`, ['vendor'], undefined, 'vendor-a');
    expect(sent.status).toBe(200);
    expect(sent.body).toMatchObject({ delivered: true, status: 204, error: null });
    expect(received).toHaveLength(1);
    const [event] = received;
    expect(event!.headers['webhook-id']).toBe(sent.body.webhookId);
    const verified = await verifyWebhook({ id: event!.headers['webhook-id'] as string, timestamp: event!.headers['webhook-timestamp'] as string, signature: event!.headers['webhook-signature'] as string }, event!.body, [secret], app.clock.now());
    expect(verified.ok).toBe(true);
    expect(SubscriptionEventBody.safeParse(JSON.parse(event!.body)).error).toBeUndefined();
    expect(JSON.parse(event!.body)).toMatchObject({ type: 'subscription.test', data: { tenant: '101', subscriptionId: id } });

    // A receiver that refuses: said so, not retried, nothing queued.
    answers = [500];
    expect((await app.call('POST', `/v1/subscriptions/${id}/test`, ['it-staff'])).body).toMatchObject({ delivered: false, status: 500, error: 'the receiver answered 500' });
    expect(await app.run()).toMatchObject({ fannedOut: 0, delivered: 0, retried: 0 });
    expect((await app.call('GET', `/v1/subscriptions/${id}/deliveries`, ['vendor'], undefined, 'vendor-a')).body.deliveries).toEqual([]);
    // Another vendor's, another role, an ended subscription.
    expect((await app.call('POST', `/v1/subscriptions/${id}/test`, ['vendor'], undefined, 'vendor-b')).status).toBe(404);
    expect((await app.call('POST', `/v1/subscriptions/${id}/test`, ['caseworker'])).status).toBe(403);
    await app.call('DELETE', `/v1/subscriptions/${id}`, ['vendor'], undefined, 'vendor-a');
    expect((await app.call('POST', `/v1/subscriptions/${id}/test`, ['vendor'], undefined, 'vendor-a')).status).toBe(409);
    expect((await app.deps.store.audit.list('101', {})).filter((row) => row.action === 'subscription.test-sent')).toHaveLength(2);
    await app.close();
  });

  it('sends one subscriber its events one at a time, in the order they happened, even when it answers slowly', async () => {
    const app = await freshApp();
    const created = await app.call('POST', '/v1/subscriptions', ['vendor'], { url: receiverUrl }, 'vendor-a');
    expect(created.status).toBe(201);
    await enrolShared(app.deps, testCpr());
    await enrolShared(app.deps, testCpr());
    answerDelayMs = 30;
    expect(await app.run()).toMatchObject({ fannedOut: 6, delivered: 6 });
    expect(mostInFlight).toBe(1);
    const bodies = received.map((r) => JSON.parse(r.body) as { type: string; data: { planId: string; version: number } });
    const [first, second] = [...new Set(bodies.map((b) => b.data.planId))];
    expect(bodies.map((b) => [b.data.planId, b.data.version])).toEqual([[first, 1], [first, 2], [first, 3], [second, 1], [second, 2], [second, 3]]);
    await app.close();
  });

  it('a failing receiver costs a pass one try, not one per waiting event: the relay job it shares is not held up', async () => {
    // A receiver that fails (one that never answers costs 10 s a try) and a healthy one, on one server.
    const tries: Record<string, number> = {};
    const server = createServer((request, response) => {
      tries[request.url!] = (tries[request.url!] ?? 0) + 1;
      response.statusCode = request.url === '/failing' ? 503 : 204;
      request.resume().on('end', () => response.end());
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    const app = await freshApp();
    const failing = (await app.call('POST', '/v1/subscriptions', ['vendor'], { url: `${base}/failing`, events: ['plan.created'] }, 'vendor-a')).body.id;
    await app.call('POST', '/v1/subscriptions', ['vendor'], { url: `${base}/healthy`, events: ['plan.created'] }, 'vendor-b');
    for (let i = 0; i < 5; i++) await enrolShared(app.deps, testCpr());
    expect(await app.run()).toMatchObject({ fannedOut: 10, delivered: 5, retried: 1 });
    expect(tries).toEqual({ '/failing': 1, '/healthy': 5 });
    // The rest are tried in the next passes, none given up on or skipped for good.
    const states = (await app.call('GET', `/v1/subscriptions/${failing}/deliveries`, ['vendor'], undefined, 'vendor-a')).body.deliveries.map((d: { status: string; attempts: number }) => [d.status, d.attempts]);
    expect(states.sort()).toEqual([['pending', 0], ['pending', 0], ['pending', 0], ['pending', 0], ['pending', 1]]);
    await app.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('claims each delivery just before sending it: a run slower than its lease never sends one twice beside a concurrent run (F4)', async () => {
    // A receiver that takes 9 s (of the test's clock) per event: nine events take 81 s, more than
    // the 60 s lease, and a second run starts once the first has been at it for 63 s.
    const seen: IncomingMessage['headers'][] = [];
    let clock: TestClock | undefined;
    const slow = createServer((request, response) => {
      request.resume();
      request.on('end', () => {
        seen.push(request.headers);
        clock!.advance(9_000);
        setTimeout(() => response.writeHead(204).end(), 20);
      });
    });
    await new Promise<void>((resolve) => slow.listen(0, '127.0.0.1', resolve));
    try {
      const app = await freshApp();
      clock = app.clock;
      const url = `http://127.0.0.1:${(slow.address() as { port: number }).port}/events`;
      expect((await app.call('POST', '/v1/subscriptions', ['vendor'], { url }, 'vendor-a')).status).toBe(201);
      for (let i = 0; i < 3; i++) await enrolShared(app.deps, testCpr());
      const run1 = app.run();
      while (seen.length < 7) await new Promise((resolve) => setTimeout(resolve, 5));
      const run2 = app.run();
      const [first, second] = await Promise.all([run1, run2]);
      const ids = seen.map((h) => h['webhook-id']);
      expect(ids).toHaveLength(9);
      expect(new Set(ids).size).toBe(9);
      expect(first.delivered + second.delivered).toBe(9);
      // Through the query builder: a raw read comes back as arrays on the store-thread driver (TEST_STORE_THREAD=1).
      const rows = await app.database.db.select({ status: subscriptionDeliveries.status, attempts: subscriptionDeliveries.attempts }).from(subscriptionDeliveries);
      expect(rows).toHaveLength(9);
      expect(rows.every((r) => r.status === 'delivered' && r.attempts === 1)).toBe(true);
      await app.close();
    } finally {
      await new Promise<void>((resolve) => slow.close(() => resolve()));
    }
  });

  it('describes the events in the OpenAPI document as webhooks, with their bodies and signature headers', async () => {
    const app = await freshApp();
    const doc = (await (await app.harness.request('/openapi.json')).json()) as { webhooks: Record<string, { post: { requestBody: { content: { 'application/json': { schema: { $ref: string } } } }; parameters: { name: string; in: string }[] } }> };
    expect(Object.keys(doc.webhooks).sort()).toEqual(['delivery.dead', 'plan.changed', 'plan.created', 'plan.purged', 'plan.shared', 'plan.unshared', 'subscription.test']);
    expect(doc.webhooks['plan.unshared']!.post.requestBody.content['application/json'].schema.$ref).toBe('#/components/schemas/PlanUnsharedEvent');
    expect(doc.webhooks['plan.purged']!.post.requestBody.content['application/json'].schema.$ref).toBe('#/components/schemas/PlanPurgedEvent');
    expect(doc.webhooks['plan.changed']!.post.requestBody.content['application/json'].schema.$ref).toBe('#/components/schemas/PlanChangedEvent');
    expect(doc.webhooks['plan.created']!.post.parameters.filter((p) => p.in === 'header').map((p) => p.name).sort()).toEqual(['webhook-id', 'webhook-signature', 'webhook-timestamp']);
    // The example event in the subscribe route's description is one a receiver really gets.
    const described = ((await (await app.harness.request('/openapi.json')).json()) as { paths: Record<string, { post: { description: string } }> }).paths['/v1/subscriptions']!.post.description;
    const example = /`(\{"type":"plan\.changed".*?\}\})`/.exec(described)?.[1];
    expect(example).toBeDefined();
    expect(PlanChangedEvent.safeParse(JSON.parse(example!.replaceAll('…', 'x'))).error).toBeUndefined();
    await app.close();
  });

  it('keeps each vendor to its own subscriptions and each municipality to its own; other roles are refused', async () => {
    const app = await freshApp();
    const { body } = await app.call('POST', '/v1/subscriptions', ['vendor'], { url: receiverUrl, events: ['delivery.dead'] }, 'vendor-a');
    expect((await app.call('GET', `/v1/subscriptions/${body.id}`, ['vendor'], undefined, 'vendor-b')).status).toBe(404);
    expect((await app.call('GET', '/v1/subscriptions', ['vendor'], undefined, 'vendor-b')).body.subscriptions).toEqual([]);
    expect((await app.call('DELETE', `/v1/subscriptions/${body.id}`, ['vendor'], undefined, 'vendor-b')).status).toBe(404);
    expect((await app.call('GET', `/v1/subscriptions/${body.id}`, ['it-staff'])).status).toBe(200);
    expect((await app.call('GET', `/v1/subscriptions/${body.id}`, ['it-staff'], undefined, undefined, '751')).status).toBe(404);
    for (const role of ['caseworker', 'sync-job']) expect((await app.call('GET', '/v1/subscriptions', [role])).status).toBe(403);
    // Only the event types asked for: plan writes send this subscriber nothing.
    await enrolShared(app.deps, testCpr());
    expect(await app.run()).toMatchObject({ fannedOut: 0 });
    expect(received).toEqual([]);
    await app.close();
  });

  it('a vendor’s subscriptions are its token subject’s, whatever other roles its next token carries', async () => {
    const app = await freshApp();
    const { body } = await app.call('POST', '/v1/subscriptions', ['vendor'], { url: receiverUrl, events: ['delivery.dead'] }, 'vendor-a');
    // The identity provider later gives the same vendor a second role: still its subscription to see, rotate and end.
    const later = ['vendor', 'sync-job'];
    expect((await app.call('GET', '/v1/subscriptions', later, undefined, 'vendor-a')).body.subscriptions.map((s: { id: string }) => s.id)).toEqual([body.id]);
    expect((await app.call('GET', `/v1/subscriptions/${body.id}`, later, undefined, 'vendor-a')).status).toBe(200);
    expect((await app.call('POST', `/v1/subscriptions/${body.id}/rotate-secret`, later, { overlapHours: 0 }, 'vendor-a')).status).toBe(200);
    expect((await app.call('DELETE', `/v1/subscriptions/${body.id}`, later, undefined, 'vendor-a')).status).toBe(204);
    expect((await app.call('GET', `/v1/subscriptions/${body.id}`, ['vendor'], undefined, 'vendor-b')).status).toBe(404);
    await app.close();
  });

  it('bounds the active subscriptions a vendor can make: each one multiplies every event into a send', async () => {
    const app = await freshApp();
    const subscribe = (sub: string) => app.call('POST', '/v1/subscriptions', ['vendor'], { url: receiverUrl, events: ['plan.created'] }, sub);
    const made: string[] = [];
    for (let i = 0; i < MAX_ACTIVE_SUBSCRIPTIONS_PER_SUBJECT; i++) made.push((await subscribe('vendor-a')).body.id);
    const refused = await subscribe('vendor-a');
    expect(refused.status).toBe(409);
    expect(refused.body.type).toBe('/problems/subscription-limit-reached');
    // Another vendor is not held back by this one; an ended subscription frees its place.
    expect((await subscribe('vendor-b')).status).toBe(201);
    expect((await app.call('DELETE', `/v1/subscriptions/${made[0]}`, ['vendor'], undefined, 'vendor-a')).status).toBe(204);
    expect((await subscribe('vendor-a')).status).toBe(201);
    await enrolShared(app.deps, testCpr());
    expect(await app.run()).toMatchObject({ fannedOut: MAX_ACTIVE_SUBSCRIPTIONS_PER_SUBJECT + 1 });
    // The municipality as a whole has a bound too, whoever subscribes.
    let active = MAX_ACTIVE_SUBSCRIPTIONS_PER_SUBJECT + 1;
    for (let vendor = 0; active < MAX_ACTIVE_SUBSCRIPTIONS_PER_TENANT; vendor++)
      for (let i = 0; i < MAX_ACTIVE_SUBSCRIPTIONS_PER_SUBJECT && active < MAX_ACTIVE_SUBSCRIPTIONS_PER_TENANT; i++, active++) expect((await subscribe(`vendor-${vendor}`)).status).toBe(201);
    expect((await subscribe('vendor-new')).body.type).toBe('/problems/subscription-limit-reached');
    await app.close();
  });

  it('holds both bounds when another request’s subscription is written while this one is under way', async () => {
    const app = await freshApp();
    const subscribe = (sub: string) => app.call('POST', '/v1/subscriptions', ['vendor'], { url: receiverUrl, events: ['plan.created'] }, sub);
    /** The app on a database where another request's subscription is written just before this one's (a second instance, a Worker isolate). */
    const racingApp = (rivalSubject: string) => {
      const racing = rivalWritesFirst(app.database, () => [
        app.deps.store.subscriptions.createStatement({ id: crypto.randomUUID(), tenant: '101', url: receiverUrl, secretSealed: 'sealed elsewhere', events: '["plan.created"]', description: null, createdBy: `vendor:${rivalSubject}`, createdAt: app.clock.now().toISOString() }),
      ]);
      return { racing, app: createApp({ ...app.deps, store: createStore(racing) }) };
    };
    const subscribeRacing = async (racedApp: ReturnType<typeof createApp>, sub: string) => {
      const token = await app.harness.token({ tenant: '101', roles: ['vendor'], sub, system: VENDOR_SYSTEM });
      const response = await racedApp.request('/v1/subscriptions', { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ url: receiverUrl, events: ['plan.created'] }) });
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    };
    for (let i = 0; i < MAX_ACTIVE_SUBSCRIPTIONS_PER_SUBJECT - 1; i++) expect((await subscribe('vendor-a')).status).toBe(201);
    // vendor-a's last place is taken by its other request while this one is under way.
    const perClient = racingApp('vendor-a');
    const refused = await subscribeRacing(perClient.app, 'vendor-a');
    expect(perClient.racing.rivalWritten()).toBe(true);
    expect(refused).toMatchObject({ status: 409, body: { type: '/problems/subscription-limit-reached', detail: expect.stringMatching(/per client/) } });
    expect(await app.deps.store.subscriptions.countActive('101', 'vendor-a')).toBe(MAX_ACTIVE_SUBSCRIPTIONS_PER_SUBJECT);

    // The municipality's last place, taken by another vendor meanwhile.
    for (let active = MAX_ACTIVE_SUBSCRIPTIONS_PER_SUBJECT, vendor = 0; active < MAX_ACTIVE_SUBSCRIPTIONS_PER_TENANT - 1; active++) {
      if ((active - MAX_ACTIVE_SUBSCRIPTIONS_PER_SUBJECT) % MAX_ACTIVE_SUBSCRIPTIONS_PER_SUBJECT === 0) vendor++;
      expect((await subscribe(`vendor-${vendor}`)).status).toBe(201);
    }
    const perTenant = racingApp('vendor-rival');
    const refusedToo = await subscribeRacing(perTenant.app, 'vendor-new');
    expect(perTenant.racing.rivalWritten()).toBe(true);
    expect(refusedToo).toMatchObject({ status: 409, body: { type: '/problems/subscription-limit-reached', detail: expect.stringMatching(/per municipality/) } });
    expect(await app.deps.store.subscriptions.countActive('101')).toBe(MAX_ACTIVE_SUBSCRIPTIONS_PER_TENANT);
    // Nothing is recorded for a subscription that was not made.
    expect((await app.deps.store.audit.list('101', {})).filter((row) => row.action === 'subscription.created')).toHaveLength(MAX_ACTIVE_SUBSCRIPTIONS_PER_TENANT - 2);
    await app.close();
  });

  it('pages subscriptions and deliveries as every list does: nextOffset until the last page, then null', async () => {
    const app = await freshApp();
    const made: string[] = [];
    for (let i = 0; i < 3; i++) made.push((await app.call('POST', '/v1/subscriptions', ['vendor'], { url: receiverUrl, events: ['plan.created'] }, 'vendor-a')).body.id);
    const first = await app.call('GET', '/v1/subscriptions?limit=2', ['vendor'], undefined, 'vendor-a');
    expect(first.body.nextOffset).toBe(2);
    const last = await app.call('GET', '/v1/subscriptions?limit=2&offset=2', ['vendor'], undefined, 'vendor-a');
    expect(last.body.nextOffset).toBeNull();
    expect([...first.body.subscriptions, ...last.body.subscriptions].map((s: { id: string }) => s.id).sort()).toEqual([...made].sort());
    for (let i = 0; i < 3; i++) await enrolShared(app.deps, testCpr());
    await app.run();
    const deliveries = (query: string) => app.call('GET', `/v1/subscriptions/${made[0]}/deliveries?${query}`, ['vendor'], undefined, 'vendor-a');
    expect((await deliveries('limit=2')).body).toMatchObject({ deliveries: [expect.any(Object), expect.any(Object)], nextOffset: 2 });
    expect((await deliveries('limit=2&offset=2')).body).toMatchObject({ deliveries: [expect.any(Object)], nextOffset: null });
    await app.close();
  });

  it('a delivery that is not dead cannot be sent again, however many came after it (409, not 404)', async () => {
    const app = await freshApp();
    const { body } = await app.call('POST', '/v1/subscriptions', ['vendor'], { url: receiverUrl, events: ['plan.created'] }, 'vendor-a');
    // A busy municipality: more than a thousand deliveries since the one asked about.
    const at = (i: number) => new Date(Date.UTC(2026, 10, 1) + i * 1000).toISOString();
    const rows = Array.from({ length: 1002 }, (_, i) => ({ id: crypto.randomUUID(), tenant: '101', subscriptionId: body.id, eventSeq: i + 1, type: 'plan.created', payload: '{}', nextAttemptAt: at(i), createdAt: at(i) }));
    await app.deps.store.subscriptions.fanOut(rows, 0);
    const retry = await app.call('POST', `/v1/subscriptions/${body.id}/deliveries/${rows[0]!.id}/retry`, ['vendor'], undefined, 'vendor-a');
    expect(retry.status).toBe(409);
    expect(retry.body.type).toBe('/problems/delivery-not-replayable');
    await app.close();
  });

  it('refuses internal addresses that are not allowed, and stores nothing (S6)', async () => {
    const app = await freshApp('');
    for (const url of [receiverUrl, 'https://127.0.0.1/x', 'https://10.1.2.3/x', 'https://[::1]/x', 'https://localhost/x', 'https://169.254.169.254/latest']) {
      const answer = await app.call('POST', '/v1/subscriptions', ['vendor'], { url }, 'vendor-a');
      expect(answer.status, url).toBe(422);
      expect(answer.body.type).toBe('/problems/subscription-address-refused');
    }
    // Nor an address or description holding a CPR number (it would be shown back and logged by receivers).
    const cpr = testCpr();
    // Written as people write it, or escaped as a URL is: a reader sees the number all the same.
    const percentEncoded = [...cpr.slice(0, 6)].map((digit) => `%3${digit}`).join('') + cpr.slice(6);
    for (const body of [
      { url: `https://vendor.example.dk/hooks/${cpr}` },
      { url: 'https://vendor.example.dk/hooks', description: `Borger ${cpr}` },
      { url: 'https://vendor.example.dk/hooks', description: `Borger ${cpr.slice(0, 6)} ${cpr.slice(6)}` },
      { url: `https://vendor.example.dk/hooks/${percentEncoded}` },
      { url: `https://vendor.example.dk/hooks?borger=${cpr.slice(0, 6)}%2D${cpr.slice(6)}` },
    ]) {
      const answer = await app.call('POST', '/v1/subscriptions', ['vendor'], body, 'vendor-a');
      expect(answer.status).toBe(400);
      expect(JSON.stringify(answer.body)).not.toContain(cpr);
    }
    expect((await app.call('GET', '/v1/subscriptions', ['it-staff'])).body.subscriptions).toEqual([]);
    // Without a subscription the triggers record no events: a plan write costs nothing more.
    await enrolShared(app.deps, testCpr());
    expect(await app.events()).toEqual([]);
    await app.close();
  });

  it('retries a failed delivery under the same webhook-id, and stops for good on 410 Gone', async () => {
    const app = await freshApp();
    const { body } = await app.call('POST', '/v1/subscriptions', ['vendor'], { url: receiverUrl, events: ['plan.created'] }, 'vendor-a');
    answers = [500];
    await enrolShared(app.deps, testCpr());
    expect(await app.run()).toMatchObject({ fannedOut: 1, delivered: 0, retried: 1 });
    const [pending] = (await app.call('GET', `/v1/subscriptions/${body.id}/deliveries`, ['vendor'], undefined, 'vendor-a')).body.deliveries;
    expect(pending).toMatchObject({ status: 'pending', attempts: 1, lastStatusCode: 500, lastError: 'the receiver answered 500' });
    app.clock.advance(1000);
    expect(await app.run()).toMatchObject({ delivered: 1 });
    expect(received.map((r) => r.headers['webhook-id'])).toEqual([pending.id, pending.id]);

    answers = [410];
    await enrolShared(app.deps, testCpr());
    expect(await app.run()).toMatchObject({ dead: 1 });
    const ended = (await app.call('GET', `/v1/subscriptions/${body.id}`, ['vendor'], undefined, 'vendor-a')).body;
    expect(ended).toMatchObject({ disabledAt: expect.any(String), disabledReason: 'the receiver answered 410 Gone' });
    // Ended by the receiver, and the log says so and why.
    expect((await app.deps.store.audit.list('101')).filter((a) => a.action === 'subscription.disabled')).toEqual([
      expect.objectContaining({ actor: 'system:subscriptions', targetId: body.id, detail: { reason: 'the receiver answered 410 Gone' } }),
    ]);
    await enrolShared(app.deps, testCpr());
    expect(await app.run()).toMatchObject({ fannedOut: 0 });
    expect(received).toHaveLength(3);
    await app.close();
  });

  it('gives up after the last attempt, sends a dead one again on request, and a deleted subscription gets nothing more', async () => {
    const app = await freshApp();
    const { body } = await app.call('POST', '/v1/subscriptions', ['it-staff'], { url: receiverUrl, events: ['plan.created'], system: VENDOR_SYSTEM });
    answers = Array(8).fill(503);
    await enrolShared(app.deps, testCpr());
    for (let i = 0; i < 8; i++) {
      await app.run();
      app.clock.advance(1000);
    }
    const [last] = (await app.call('GET', `/v1/subscriptions/${body.id}/deliveries`, ['it-staff'])).body.deliveries;
    expect(last).toMatchObject({ status: 'dead', attempts: 8, lastStatusCode: 503, lastError: expect.stringMatching(/gave up after 8 attempts/) });
    // IT staff see it in /metrics (and on the dashboard).
    const itStaff = await app.harness.token({ tenant: '101', roles: ['it-staff'] });
    const metrics = await (await app.harness.request('/metrics', { headers: { authorization: `Bearer ${itStaff}` } })).text();
    expect(metrics).toMatch(/^enplan_subscription_deliveries\{tenant="101",status="dead"\} 1$/m);
    expect(metrics).toMatch(/^enplan_subscriptions_active\{tenant="101"\} 1$/m);

    // The receiver is fixed: IT staff send the dead one again, under the same webhook-id.
    const retry = (deliveryId: string, roles = ['it-staff'], sub?: string) => app.call('POST', `/v1/subscriptions/${body.id}/deliveries/${deliveryId}/retry`, roles, undefined, sub);
    expect((await retry(last.id, ['vendor'], 'vendor-b')).status).toBe(404);
    expect((await retry(crypto.randomUUID())).status).toBe(404);
    expect(await retry(last.id)).toEqual({ status: 202, body: { id: last.id, status: 'pending' } });
    expect(await app.run()).toMatchObject({ delivered: 1 });
    expect(received.at(-1)!.headers['webhook-id']).toBe(last.id);
    expect((await retry(last.id)).body).toMatchObject({ status: 409, type: '/problems/delivery-not-replayable' });

    expect((await app.call('DELETE', `/v1/subscriptions/${body.id}`, ['it-staff'])).status).toBe(204);
    await enrolShared(app.deps, testCpr());
    expect(await app.run()).toMatchObject({ fannedOut: 0, delivered: 0 });
    expect(received).toHaveLength(9);
    expect((await retry(last.id)).body).toMatchObject({ status: 409, type: '/problems/subscription-ended' });
    await app.close();
  });

  it('keeps trying a receiver that is down for an hour (a deploy, a restart), and delivers when it is back', async () => {
    const app = await freshApp();
    const { body } = await app.call('POST', '/v1/subscriptions', ['vendor'], { url: receiverUrl, events: ['plan.created'] }, 'vendor-a');
    await enrolShared(app.deps, testCpr());
    const downUntil = app.clock.now().getTime() + 60 * 60_000;
    const delivery = async () => (await app.call('GET', `/v1/subscriptions/${body.id}/deliveries`, ['vendor'], undefined, 'vendor-a')).body.deliveries[0];
    // A middling draw of the jitter (not the lucky or unlucky end), the clock moved to each next try.
    for (let pass = 0; pass < 20; pass++) {
      answers = [app.clock.now().getTime() < downUntil ? 503 : 204];
      await runSubscriptionDeliveries(app.deps, { random: () => 0.5 });
      const row = await delivery();
      if (row.status !== 'pending') break;
      app.clock.advance(Math.max(0, Date.parse(row.nextAttemptAt) - app.clock.now().getTime()));
    }
    expect(await delivery()).toMatchObject({ status: 'delivered', lastStatusCode: 204 });
    await app.close();
  });

  it('a dead outbox delivery becomes a delivery.dead event', async () => {
    const app = await freshApp();
    await app.call('POST', '/v1/subscriptions', ['vendor'], { url: receiverUrl, events: ['delivery.dead'] }, 'vendor-a');
    await app.database.db.run(sql`insert into outbox (id, tenant, registration_id, citizen_id, target, operation, payload, status, attempts, next_attempt_at, consent_ref, created_at, updated_at, sequence) values ('o-1', '101', 'r-1', 'c-1', 'social', 'goal.upsert', 'null', 'pending', 0, '2026-01-01T00:00:00Z', 'g', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z', 1)`);
    await runRelayOnce(app.deps, { limit: 10 });
    expect(await app.run()).toMatchObject({ fannedOut: 1, delivered: 1 });
    expect(JSON.parse(received[0]!.body)).toMatchObject({ type: 'delivery.dead', data: { tenant: '101', outboxId: 'o-1', registrationId: 'r-1', target: 'social' } });
    expect(SubscriptionEventBody.safeParse(JSON.parse(received[0]!.body)).error).toBeUndefined();
    await app.close();
  });
});

describe('a subscription serves one sector system, and hears only of plans whose consent lets data flow with it (R9, R16)', () => {
  const citizenOf = (plan: Awaited<ReturnType<typeof enrol>>) => (plan.subject.kind === 'citizen' ? plan.subject.member.citizenId : '');
  const planIdsReceived = () => received.map((r) => (JSON.parse(r.body) as { data: { planId?: string } }).data.planId);

  it('a vendor for the social system gets the events of a plan shared with social (either way), not of one without, nor of one shared with another system', async () => {
    const app = await freshApp();
    const created = await app.call('POST', '/v1/subscriptions', ['vendor'], { url: receiverUrl }, 'vendor-social', '101', { system: 'social' });
    expect(created.status).toBe(201);
    expect(created.body.system).toBe('social');
    expect((await app.call('GET', `/v1/subscriptions/${created.body.id}`, ['vendor'], undefined, 'vendor-social', '101', { system: 'social' })).body.system).toBe('social');

    const fromSocial = await enrol(app.deps, testCpr());
    await grantConsent(app.deps, { citizenId: citizenOf(fromSocial), source: 'social', categories: ['goals'] });
    // Registrations to the children's department go to the social system too (the routing table).
    const toChildren = await enrol(app.deps, testCpr());
    await grantConsent(app.deps, { citizenId: citizenOf(toChildren), source: 'enplan', recipient: 'children', categories: ['interventions'] });
    const withoutConsent = await enrol(app.deps, testCpr());
    const onlyEmployment = await enrol(app.deps, testCpr());
    await grantConsent(app.deps, { citizenId: citizenOf(onlyEmployment), source: 'dfdg', categories: ['plan-core', 'employment'] });
    await grantConsent(app.deps, { citizenId: citizenOf(onlyEmployment), source: 'enplan', recipient: 'employment', categories: ['goals'] });

    // The plans' members and consents are read once for the page of events and once for the batch of
    // due deliveries (asked again at sending), not per event, delivery or subscription.
    let reads = 0;
    const read = app.deps.store.subscriptions.membersWithConsents.bind(app.deps.store.subscriptions);
    app.deps.store.subscriptions.membersWithConsents = (planIds) => (planIds.length > 0 && reads++, read(planIds));
    expect(await app.run()).toMatchObject({ fannedOut: 6, delivered: 6, withheld: 6 });
    expect(reads).toBe(2);
    expect(new Set(planIdsReceived())).toEqual(new Set([fromSocial.id, toChildren.id]));
    expect(planIdsReceived().filter((id) => id === withoutConsent.id || id === onlyEmployment.id)).toEqual([]);
    await app.close();
  });

  it('revoking the grant stops further events to it — also those recorded before the revocation and not yet sent out', async () => {
    const app = await freshApp();
    expect((await app.call('POST', '/v1/subscriptions', ['vendor'], { url: receiverUrl, events: ['plan.changed'] }, 'vendor-social', '101', { system: 'social' })).status).toBe(201);
    const plan = await enrol(app.deps, testCpr());
    const grant = await grantConsent(app.deps, { citizenId: citizenOf(plan), source: 'social', categories: ['plan-core', 'goals'] });
    expect(await app.run()).toMatchObject({ delivered: 2 });
    const caseworker = await app.harness.token({ tenant: '101', roles: ['caseworker'] });
    const registered = await app.harness.request('/v1/registrations', {
      method: 'POST',
      headers: { authorization: `Bearer ${caseworker}`, 'content-type': 'application/json', 'idempotency-key': crypto.randomUUID() },
      body: JSON.stringify({ planId: plan.id, kind: 'goal.added', goal: { level: 'overall', title: 'Egen bolig', sector: 'social' } }),
    });
    expect(registered.status).toBe(202);
    expect((await app.events()).map((e) => e.type)).toEqual(['plan.changed']);
    // The citizen withdraws the consent before the job fans the recorded event out.
    expect((await app.harness.request(`/v1/consents/${grant.id}/revoke`, { method: 'POST', headers: { authorization: `Bearer ${caseworker}` } })).status).toBe(200);
    const after = await app.run();
    // The change is withheld; the one thing sent is plan.unshared, which a plan.changed subscriber gets too: stop holding the plan.
    expect(after).toMatchObject({ fannedOut: 1, delivered: 1 });
    expect(after.withheld).toBeGreaterThanOrEqual(1);
    expect(await app.events()).toEqual([]);
    expect(received.map((r) => (JSON.parse(r.body) as { type: string }).type)).toEqual(['plan.changed', 'plan.changed', 'plan.unshared']);
    await app.close();
  });

  it('a delivery.dead event goes only to the subscription of the system the delivery was for', async () => {
    const app = await freshApp();
    const subscribe = async (system: string) => (await app.call('POST', '/v1/subscriptions', ['vendor'], { url: `${receiverUrl}/${system}`, events: ['delivery.dead'] }, `vendor-${system}`, '101', { system })).body.id as string;
    const social = await subscribe('social');
    const dfdg = await subscribe('dfdg');
    await app.database.db.run(sql`insert into outbox (id, tenant, registration_id, citizen_id, target, operation, payload, status, attempts, next_attempt_at, consent_ref, created_at, updated_at, sequence) values ('o-dfdg', '101', 'r-1', 'c-1', 'dfdg', 'goal.upsert', 'null', 'pending', 0, '2026-01-01T00:00:00Z', 'g', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z', 1)`);
    await runRelayOnce(app.deps, { limit: 10 });
    expect(await app.run()).toMatchObject({ fannedOut: 1, delivered: 1, withheld: 1 });
    expect(received).toHaveLength(1);
    expect(JSON.parse(received[0]!.body)).toMatchObject({ type: 'delivery.dead', data: { outboxId: 'o-dfdg', target: 'dfdg' } });
    const deliveriesOf = async (id: string, system: string) => (await app.call('GET', `/v1/subscriptions/${id}/deliveries`, ['vendor'], undefined, `vendor-${system}`, '101', { system })).body.deliveries as { id: string }[];
    expect((await deliveriesOf(dfdg, 'dfdg')).map((d) => d.id)).toEqual([received[0]!.headers['webhook-id']]);
    expect(await deliveriesOf(social, 'social')).toEqual([]);
    await app.close();
  });

  it('a vendor subscribes only for the system its token names; IT staff for any, naming it (RFC 9457)', async () => {
    const app = await freshApp();
    const subscribe = (roles: string[], body: Record<string, unknown>, claims: { system?: string }) => app.call('POST', '/v1/subscriptions', roles, { url: receiverUrl, ...body }, 'vendor-social', '101', claims);
    const another = await subscribe(['vendor'], { system: 'dfdg' }, { system: 'social' });
    expect(another.status).toBe(403);
    expect(another.body).toMatchObject({ type: '/problems/forbidden', status: 403, detail: expect.stringMatching(/social system/) });
    const unnamed = await subscribe(['vendor'], { system: 'social' }, {});
    expect(unnamed.status).toBe(403);
    expect(unnamed.body).toMatchObject({ type: '/problems/forbidden', detail: expect.stringMatching(/claim `system`/) });
    expect((await subscribe(['vendor'], { system: 'payroll' }, { system: 'social' })).body).toMatchObject({ status: 400, type: '/problems/validation-failed' });
    const itStaffUnnamed = await subscribe(['it-staff'], {}, {});
    expect(itStaffUnnamed.body).toMatchObject({ status: 400, type: '/problems/validation-failed', detail: expect.stringMatching(/^system:/) });
    expect((await app.call('GET', '/v1/subscriptions', ['it-staff'])).body.subscriptions).toEqual([]);
    expect(await app.deps.store.audit.list('101', {})).toEqual([]);

    expect((await subscribe(['vendor'], { system: 'social' }, { system: 'social' })).body.system).toBe('social');
    expect((await subscribe(['it-staff'], { system: 'health' }, {})).body.system).toBe('health');
    expect((await app.deps.store.audit.list('101', {})).map((row) => row.detail.system)).toEqual(['social', 'health']);
    await app.close();
  });

  it('a subscription made before subscriptions named a system gets no events; its test event and deliveries still work', async () => {
    const app = await freshApp();
    const { deps } = app;
    const id = crypto.randomUUID();
    const secret = 'whsec_c2lnbmluZy1zZWNyZXQtb2YtdGhlLXZlbmRvcg==';
    await deps.store.batch([
      deps.store.subscriptions.createStatement({ id, tenant: '101', url: receiverUrl, secretSealed: await deps.vault.sealPayload(secret, { column: 'subscriptions.secret_sealed', tenant: '101', id }), events: JSON.stringify(['plan.created', 'plan.changed', 'delivery.dead']), description: null, createdBy: 'vendor:vendor-old', createdAt: app.clock.now().toISOString() }),
    ]);
    await enrolShared(app.deps, testCpr());
    await app.database.db.run(sql`insert into outbox (id, tenant, registration_id, citizen_id, target, operation, payload, status, attempts, next_attempt_at, consent_ref, created_at, updated_at, sequence) values ('o-old', '101', 'r-1', 'c-1', 'social', 'goal.upsert', 'null', 'pending', 0, '2026-01-01T00:00:00Z', 'g', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z', 1)`);
    await runRelayOnce(app.deps, { limit: 10 });
    expect(await app.run()).toMatchObject({ fannedOut: 0, withheld: 4 });
    expect(received).toEqual([]);
    const old = await app.call('GET', `/v1/subscriptions/${id}`, ['vendor'], undefined, 'vendor-old', '101', {});
    expect(old.body).toMatchObject({ system: null, disabledAt: null });
    expect((await app.call('POST', `/v1/subscriptions/${id}/test`, ['vendor'], undefined, 'vendor-old', '101', {})).body).toMatchObject({ delivered: true });
    expect((await app.call('GET', `/v1/subscriptions/${id}/deliveries`, ['vendor'], undefined, 'vendor-old', '101', {})).body.deliveries).toEqual([]);
    await app.close();
  });
});

describe('consent checked again at sending, and told when it begins or ends (plan.shared, plan.unshared)', () => {
  const memberOf = (plan: Awaited<ReturnType<typeof enrol>>) => (plan.subject.kind === 'citizen' ? plan.subject.member : { memberId: '', citizenId: '' });
  const bodies = () => received.map((r) => JSON.parse(r.body) as { type: string; data: Record<string, unknown> });
  type App = Awaited<ReturnType<typeof freshApp>>;
  const caseworker = (app: App) => app.harness.token({ tenant: '101', roles: ['caseworker'] });
  /** A grant through the consents API (the way a caseworker records one), with the member consenting themself. */
  async function grantThroughApi(app: App, plan: Awaited<ReturnType<typeof enrol>>, fields: { source: string; categories: string[]; validFrom?: string; validTo?: string }) {
    const { memberId } = memberOf(plan);
    const response = await app.harness.request('/v1/consents', {
      method: 'POST',
      headers: { authorization: `Bearer ${await caseworker(app)}`, 'content-type': 'application/json' },
      body: JSON.stringify({ planId: plan.id, memberId, recipient: 'enplan', purpose: 'Koordinering af indsatser i Én plan', validFrom: '2026-01-01', signed: { method: 'mitid', documentRef: 'doc', textVersion: 'samtykke-v1', language: 'da' }, grantedBy: { memberId, capacity: 'self' }, ...fields }),
    });
    expect(response.status).toBe(201);
    return ((await response.json()) as { id: string }).id;
  }
  const revokeThroughApi = async (app: App, grantId: string) =>
    expect((await app.harness.request(`/v1/consents/${grantId}/revoke`, { method: 'POST', headers: { authorization: `Bearer ${await caseworker(app)}` } })).status).toBe(200);
  async function registerGoal(app: App, planId: string) {
    const response = await app.harness.request('/v1/registrations', {
      method: 'POST',
      headers: { authorization: `Bearer ${await caseworker(app)}`, 'content-type': 'application/json', 'idempotency-key': crypto.randomUUID() },
      body: JSON.stringify({ planId, kind: 'goal.added', goal: { level: 'overall', title: 'Egen bolig', sector: 'social' } }),
    });
    expect(response.status).toBe(202);
  }
  const deliveriesOf = async (app: App, id: string, sub: string, system = 'social') =>
    (await app.call('GET', `/v1/subscriptions/${id}/deliveries`, ['vendor'], undefined, sub, '101', { system })).body.deliveries as { id: string; type: string; status: string; lastError: string | null }[];

  it('a delivery waiting in retry when the consent is revoked is cancelled at its turn, not sent: the receiver hears nothing more of the plan', async () => {
    const app = await freshApp();
    const { id } = (await app.call('POST', '/v1/subscriptions', ['vendor'], { url: receiverUrl, events: ['plan.changed'] }, 'vendor-social')).body as { id: string };
    const plan = await enrol(app.deps, testCpr());
    const grant = await grantConsent(app.deps, { citizenId: memberOf(plan).citizenId, source: 'social', categories: ['plan-core', 'goals'] });
    expect(await app.run()).toMatchObject({ delivered: 2 });
    // The receiver is down when the next change goes out: the delivery waits in retry.
    await registerGoal(app, plan.id);
    answers = [503];
    expect(await app.run()).toMatchObject({ fannedOut: 1, retried: 1 });
    const [waiting] = await deliveriesOf(app, id, 'vendor-social');
    expect(waiting).toMatchObject({ status: 'pending', type: 'plan.changed' });
    await revokeThroughApi(app, grant.id);
    // The consent is read once for the claimed batch, not per delivery.
    let reads = 0;
    const read = app.deps.store.subscriptions.membersWithConsents.bind(app.deps.store.subscriptions);
    app.deps.store.subscriptions.membersWithConsents = (planIds) => (planIds.length > 0 && reads++, read(planIds));
    app.clock.advance(1000);
    const after = await app.run();
    expect(after).toMatchObject({ delivered: 1, withdrawn: 1, dead: 0 });
    expect(reads).toBe(1); // for the due batch (the fan-out's page held no consent-gated plan event)
    // Two delivered and the one try that failed; after the revocation only plan.unshared (sent to a plan.changed subscriber too).
    expect(received.map((r) => (JSON.parse(r.body) as { type: string }).type)).toEqual(['plan.changed', 'plan.changed', 'plan.changed', 'plan.unshared']);
    // The vendor sees a delivery it knew of withdrawn, for a reason that tells it nothing more.
    expect((await deliveriesOf(app, id, 'vendor-social')).find((d) => d.id === waiting!.id)).toMatchObject({ status: 'cancelled', lastError: 'withdrawn: consent no longer covers this system' });
    app.clock.advance(60 * 60_000);
    expect(await app.run()).toMatchObject({ delivered: 0, retried: 0 });
    expect(received).toHaveLength(4);
    await app.close();
  });

  it('a grant tells the subscription of its system that the plan now concerns it (plan.shared), the last revocation that it no longer does (plan.unshared), then nothing more', async () => {
    const app = await freshApp();
    const social = (await app.call('POST', '/v1/subscriptions', ['vendor'], { url: receiverUrl }, 'vendor-social', '101', { system: 'social' })).body.id as string;
    const dfdg = (await app.call('POST', '/v1/subscriptions', ['vendor'], { url: receiverUrl }, 'vendor-dfdg', '101', { system: 'dfdg' })).body.id as string;
    const cpr = testCpr();
    const plan = await enrol(app.deps, cpr);
    expect(await app.run()).toMatchObject({ fannedOut: 0, withheld: 6 });

    const first = await grantThroughApi(app, plan, { source: 'social', categories: ['plan-core'] });
    // A second grant to the same system shares nothing new.
    const second = await grantThroughApi(app, plan, { source: 'social', categories: ['goals'] });
    expect(await app.run()).toMatchObject({ fannedOut: 1, delivered: 1 });
    expect(bodies()).toEqual([{ type: 'plan.shared', timestamp: expect.any(String), data: { tenant: '101', planId: plan.id, system: 'social' } }]);
    expect(await deliveriesOf(app, dfdg, 'vendor-dfdg', 'dfdg')).toEqual([]);

    // One of two grants revoked: the plan still concerns social.
    await revokeThroughApi(app, first);
    expect(await app.run()).toMatchObject({ fannedOut: 0 });
    expect(received).toHaveLength(1);
    // The last: told to stop holding the plan. A subscription made after that never heard of the plan, and is not told of it now.
    await revokeThroughApi(app, second);
    app.clock.advance(1000);
    const later = (await app.call('POST', '/v1/subscriptions', ['vendor'], { url: `${receiverUrl}/later` }, 'vendor-social-later', '101', { system: 'social' })).body.id as string;
    expect(await app.run()).toMatchObject({ delivered: 1 });
    expect(bodies().map((b) => [b.type, b.data])).toEqual([
      ['plan.shared', { tenant: '101', planId: plan.id, system: 'social' }],
      ['plan.unshared', { tenant: '101', planId: plan.id, system: 'social' }],
    ]);
    expect(await deliveriesOf(app, later, 'vendor-social-later')).toEqual([]);
    expect(await deliveriesOf(app, dfdg, 'vendor-dfdg', 'dfdg')).toEqual([]);
    // Nothing after: the plan's next change concerns no subscription.
    await registerGoal(app, plan.id);
    expect(await app.run()).toMatchObject({ fannedOut: 0, delivered: 0 });
    expect(received).toHaveLength(2);
    expect((await deliveriesOf(app, social, 'vendor-social')).map((d) => d.type).sort()).toEqual(['plan.shared', 'plan.unshared']);
    for (const { headers, body } of received) {
      expect(SubscriptionEventBody.safeParse(JSON.parse(body)).error).toBeUndefined();
      expect(EventHeaders.safeParse(headers).error).toBeUndefined();
      expect(body).not.toContain(cpr);
      expect(body).not.toContain(cpr.slice(0, 6));
    }
    await app.close();
  });

  it('a grant that lapses or a legal basis that ends tells its system plan.unshared; a legal basis recorded, or a grant on its first day, plan.shared', async () => {
    const app = await freshApp();
    await app.call('POST', '/v1/subscriptions', ['vendor'], { url: receiverUrl, events: ['plan.shared', 'plan.unshared'] }, 'vendor-social');
    const lapsing = await enrol(app.deps, testCpr());
    await grantThroughApi(app, lapsing, { source: 'social', categories: ['plan-core'], validTo: danishToday(app.clock.now()) });
    const byBasis = await enrol(app.deps, testCpr());
    const basis = await app.harness.request('/v1/consents/legal-basis', {
      method: 'POST',
      headers: { authorization: `Bearer ${await caseworker(app)}`, 'content-type': 'application/json' },
      body: JSON.stringify({ planId: byBasis.id, memberId: memberOf(byBasis).memberId, source: 'enplan', recipient: 'social', categories: ['plan-core'], basis: 'SEL § 49 b' }),
    });
    expect(basis.status).toBe(201);
    // A grant dated to start later shares nothing yet.
    const starting = await enrol(app.deps, testCpr());
    await grantThroughApi(app, starting, { source: 'social', categories: ['plan-core'], validFrom: danishToday(new Date(app.clock.now().getTime() + 24 * 60 * 60_000)) });
    expect(await app.run()).toMatchObject({ delivered: 2 });
    expect(bodies().map((b) => [b.type, b.data.planId])).toEqual([['plan.shared', lapsing.id], ['plan.shared', byBasis.id]]);
    app.clock.advance(2 * 24 * 60 * 60_000);
    expect(await handleLapsedGrants(app.deps, '101')).toMatchObject({ grantsLapsed: 1 });
    expect(await handleStartedGrants(app.deps, '101')).toMatchObject({ grantsStarted: 1 });
    const ended = await app.harness.request(`/v1/consents/legal-basis/${((await basis.json()) as { id: string }).id}/end`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await caseworker(app)}`, 'content-type': 'application/json' },
      body: JSON.stringify({ reason: 'Indsatsen er afsluttet' }),
    });
    expect(ended.status).toBe(200);
    expect(await app.run()).toMatchObject({ delivered: 3 });
    expect(bodies().slice(2).map((b) => [b.type, b.data.planId])).toEqual([['plan.unshared', lapsing.id], ['plan.shared', starting.id], ['plan.unshared', byBasis.id]]);
    await app.close();
  });

  it('a plan.unshared still waiting when the plan is shared again is cancelled: the receiver is not told to drop a plan it may hold again', async () => {
    const app = await freshApp();
    const id = (await app.call('POST', '/v1/subscriptions', ['vendor'], { url: receiverUrl, events: ['plan.shared', 'plan.unshared'] }, 'vendor-social')).body.id as string;
    const plan = await enrol(app.deps, testCpr());
    const grant = await grantThroughApi(app, plan, { source: 'social', categories: ['plan-core'] });
    expect(await app.run()).toMatchObject({ delivered: 1 });
    await revokeThroughApi(app, grant);
    answers = [503];
    expect(await app.run()).toMatchObject({ retried: 1 });
    await grantThroughApi(app, plan, { source: 'social', categories: ['plan-core'] });
    app.clock.advance(1000);
    expect(await app.run()).toMatchObject({ delivered: 1, withdrawn: 1 });
    expect(bodies().map((b) => b.type)).toEqual(['plan.shared', 'plan.unshared', 'plan.shared']); // the second, the failed try
    expect((await deliveriesOf(app, id, 'vendor-social')).find((d) => d.type === 'plan.unshared')).toMatchObject({ status: 'cancelled', lastError: 'superseded by a later change' });
    await app.close();
  });

  it('plan.unshared reaches a subscription of its system wanting any plan event, not only one listing it (R10, R16; GDPR art. 19); one wanting only delivery.dead is not told', async () => {
    const app = await freshApp();
    // A list chosen before plan.unshared existed looks like this one: plan events, but not the new type.
    const changesOnly = (await app.call('POST', '/v1/subscriptions', ['vendor'], { url: `${receiverUrl}/changes-only`, events: ['plan.changed'] }, 'vendor-changes-only')).body.id as string;
    const deadOnly = (await app.call('POST', '/v1/subscriptions', ['vendor'], { url: `${receiverUrl}/dead-only`, events: ['delivery.dead'] }, 'vendor-dead-only')).body.id as string;
    const plan = await enrol(app.deps, testCpr());
    const grant = await grantThroughApi(app, plan, { source: 'social', categories: ['plan-core', 'goals'] });
    await app.run();
    // It heard of the plan (the grant's changes): it holds something to stop holding.
    const heard = (await deliveriesOf(app, changesOnly, 'vendor-changes-only')).map((d) => [d.type, d.status]);
    expect(heard.length).toBeGreaterThan(0);
    expect(heard.every(([type, status]) => type === 'plan.changed' && status === 'delivered')).toBe(true);
    await revokeThroughApi(app, grant);
    app.clock.advance(1000);
    await app.run();
    const unsharedTo = (path: string) => received.filter((r) => r.path === `/enplan-events${path}`).map((r) => JSON.parse(r.body) as { type: string; data: Record<string, unknown> }).filter((b) => b.type === 'plan.unshared');
    expect(unsharedTo('/changes-only').map((b) => b.data)).toEqual([{ tenant: '101', planId: plan.id, system: 'social' }]);
    expect((await deliveriesOf(app, changesOnly, 'vendor-changes-only')).map((d) => [d.type, d.status]).sort()).toEqual([...heard, ['plan.unshared', 'delivered']].sort());
    expect(unsharedTo('/dead-only')).toEqual([]);
    expect(await deliveriesOf(app, deadOnly, 'vendor-dead-only')).toEqual([]);
    // plan.shared stays opt-in: it tells of a plan, not of a duty.
    await grantThroughApi(app, plan, { source: 'social', categories: ['plan-core'] });
    app.clock.advance(1000);
    await app.run();
    expect((await deliveriesOf(app, changesOnly, 'vendor-changes-only')).map((d) => d.type)).not.toContain('plan.shared');
    await app.close();
  });

  it('a system never told of a plan does not hear plan.unshared of it: a grant revoked before its plan.shared went out tells the vendor nothing', async () => {
    const app = await freshApp();
    const id = (await app.call('POST', '/v1/subscriptions', ['vendor'], { url: receiverUrl }, 'vendor-social')).body.id as string;
    const plan = await enrol(app.deps, testCpr());
    // Granted and revoked before any fan-out: the plan.shared is withheld (consent no longer covers social), and with it what would follow.
    await revokeThroughApi(app, await grantThroughApi(app, plan, { source: 'social', categories: ['plan-core'] }));
    expect((await app.events()).map((e) => e.type).filter((type) => type.startsWith('plan.') && type !== 'plan.changed' && type !== 'plan.created')).toEqual(['plan.shared', 'plan.unshared']);
    expect(await app.run()).toMatchObject({ fannedOut: 0, delivered: 0 });
    expect(received).toEqual([]);
    expect(await deliveriesOf(app, id, 'vendor-social')).toEqual([]);
    // Once told of the plan, it hears its end as before.
    const grant = await grantThroughApi(app, plan, { source: 'social', categories: ['plan-core'] });
    expect(await app.run()).toMatchObject({ delivered: 1 });
    await revokeThroughApi(app, grant);
    expect(await app.run()).toMatchObject({ delivered: 1 });
    expect(bodies().map((b) => [b.type, b.data.planId])).toEqual([['plan.shared', plan.id], ['plan.unshared', plan.id]]);
    await app.close();
  });

  it('a vendor that keeps its duties on a subscription of their own hears plan.unshared there: told is counted per vendor and system, not per subscription; another vendor of the system is not told', async () => {
    const app = await freshApp();
    const subscribe = async (sub: string, path: string, events: string[]) => (await app.call('POST', '/v1/subscriptions', ['vendor'], { url: `${receiverUrl}/${path}`, events }, sub)).body.id as string;
    // One vendor, two endpoints: one for the plan's changes, one for what it must stop holding.
    const changes = await subscribe('vendor-social', 'changes', ['plan.changed']);
    const duties = await subscribe('vendor-social', 'duties', ['plan.unshared', 'plan.purged']);
    // Another supplier of the same system, never told of the plan.
    const otherVendor = await subscribe('vendor-social-other', 'other', ['plan.unshared', 'plan.purged']);
    const plan = await enrol(app.deps, testCpr());
    const grant = await grantThroughApi(app, plan, { source: 'social', categories: ['plan-core', 'goals'] });
    await app.run();
    expect((await deliveriesOf(app, changes, 'vendor-social')).length).toBeGreaterThan(0);
    expect(await deliveriesOf(app, duties, 'vendor-social')).toEqual([]);
    await revokeThroughApi(app, grant);
    app.clock.advance(1000);
    await app.run();
    const unsharedAt = (path: string) => received.filter((r) => r.path === `/enplan-events/${path}`).map((r) => JSON.parse(r.body) as { type: string; data: Record<string, unknown> }).filter((b) => b.type === 'plan.unshared').map((b) => b.data);
    expect(unsharedAt('duties')).toEqual([{ tenant: '101', planId: plan.id, system: 'social' }]);
    expect(unsharedAt('changes')).toEqual([{ tenant: '101', planId: plan.id, system: 'social' }]);
    expect(unsharedAt('other')).toEqual([]);
    expect(await deliveriesOf(app, otherVendor, 'vendor-social-other')).toEqual([]);
    await app.close();
  });

  it('a subscription made before who was told of a plan was recorded keeps the rule of before: plan.unshared of any plan whose event came after it was made', async () => {
    const app = await freshApp();
    const id = (await app.call('POST', '/v1/subscriptions', ['vendor'], { url: receiverUrl }, 'vendor-social')).body.id as string;
    // As migration 0034 leaves a subscription made before it.
    await app.database.db.update(subscriptionsTable).set({ tellsTracked: false }).where(eq(subscriptionsTable.id, id));
    const plan = await enrol(app.deps, testCpr());
    await revokeThroughApi(app, await grantThroughApi(app, plan, { source: 'social', categories: ['plan-core'] }));
    expect(await app.run()).toMatchObject({ delivered: 1 });
    expect(bodies().map((b) => b.type)).toEqual(['plan.unshared']);
    await app.close();
  });
});

describe('a member leaving a family plan ends or keeps its sharing without any consent change (R4, R16)', () => {
  type App = Awaited<ReturnType<typeof freshApp>>;
  type FamilyMember = { memberId: string; citizenId: string };
  const bodies = () => received.map((r) => JSON.parse(r.body) as { type: string; data: { planId?: string; system?: string } });
  const subscribe = async (app: App, system: string) =>
    (await app.call('POST', '/v1/subscriptions', ['vendor'], { url: `${receiverUrl}/${system}` }, `vendor-${system}`, '101', { system })).body.id as string;
  /** A subscription's deliveries, oldest first (the API lists the newest first). */
  const deliveriesOf = async (app: App, id: string, system: string) =>
    ((await app.call('GET', `/v1/subscriptions/${id}/deliveries`, ['vendor'], undefined, `vendor-${system}`, '101', { system })).body.deliveries as { type: string }[]).reverse();
  /** A family plan of two adults, made through the API as a caseworker makes one. */
  async function familyPlan(app: App) {
    const created = await app.call('POST', '/v1/plans', ['caseworker'], { cpr: testCpr(), origin: 'offered', role: 'parent', family: { name: 'Familien Test', members: [{ cpr: testCpr(), role: 'adult' }] } });
    expect(created.status).toBe(201);
    const [stays, leaving] = created.body.subject.members as [FamilyMember, FamilyMember];
    return { id: created.body.id as string, stays, leaving };
  }
  const leave = async (app: App, planId: string, memberId: string) => {
    const left = await app.call('POST', `/v1/plans/${planId}/members/${memberId}/leave`, ['caseworker']);
    expect(left.status).toBe(201);
    return left.body as { familyPlan: { id: string }; ownPlan: { id: string } };
  };
  async function registerGoal(app: App, planId: string) {
    const token = await app.harness.token({ tenant: '101', roles: ['caseworker'] });
    const response = await app.harness.request('/v1/registrations', {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'idempotency-key': crypto.randomUUID() },
      body: JSON.stringify({ planId, kind: 'goal.added', goal: { level: 'overall', title: 'Egen bolig', sector: 'social' } }),
    });
    expect(response.status).toBe(202);
  }

  it('the member whose consent alone shared the family plan with social leaves: social hears plan.unshared for the family plan and plan.created for the leaver’s own, then nothing more of the family plan', async () => {
    const app = await freshApp();
    const social = await subscribe(app, 'social');
    const dfdg = await subscribe(app, 'dfdg');
    const family = await familyPlan(app);
    await grantConsent(app.deps, { citizenId: family.leaving.citizenId, source: 'social', categories: ['plan-core'] });
    // The member who stays shares the family plan with dfdg: that sharing does not change.
    await grantConsent(app.deps, { citizenId: family.stays.citizenId, source: 'dfdg', categories: ['plan-core', 'employment'] });
    expect(await app.run()).toMatchObject({ delivered: 2 });
    expect(bodies().map((b) => [b.type, b.data.planId])).toEqual([['plan.created', family.id], ['plan.created', family.id]]);
    received = [];

    const { ownPlan } = await leave(app, family.id, family.leaving.memberId);
    expect(await app.run()).toMatchObject({ delivered: 3 });
    const toSocial = received.filter((r) => r.path?.endsWith('/social')).map((r) => JSON.parse(r.body) as { type: string; data: unknown });
    // Social: told to stop holding the family plan (its plan.changed withheld), and of the leaver's own plan as a new one.
    expect((await deliveriesOf(app, social, 'social')).map((d) => d.type)).toEqual(['plan.created', 'plan.unshared', 'plan.created']);
    expect(toSocial.map((b) => [b.type, b.data])).toEqual([
      ['plan.unshared', { tenant: '101', planId: family.id, system: 'social' }],
      ['plan.created', expect.objectContaining({ planId: ownPlan.id })],
    ]);
    // Dfdg: the family plan's change, as before; no sharing event, and nothing of the leaver's plan.
    expect((await deliveriesOf(app, dfdg, 'dfdg')).map((d) => d.type)).toEqual(['plan.created', 'plan.changed']);

    // The family's later changes no longer reach social.
    received = [];
    await registerGoal(app, family.id);
    expect(await app.run()).toMatchObject({ delivered: 1 });
    expect(bodies().map((b) => [b.type, b.data.planId])).toEqual([['plan.changed', family.id]]);
    expect((await deliveriesOf(app, social, 'social')).map((d) => d.type)).toEqual(['plan.created', 'plan.unshared', 'plan.created']);
    await app.close();
  });

  it('a member leaves a family plan another member’s consent also shares with social: no plan.unshared, and the family’s events still reach social', async () => {
    const app = await freshApp();
    const social = await subscribe(app, 'social');
    const family = await familyPlan(app);
    await grantConsent(app.deps, { citizenId: family.leaving.citizenId, source: 'social', categories: ['plan-core'] });
    await grantConsent(app.deps, { citizenId: family.stays.citizenId, source: 'enplan', recipient: 'social', categories: ['goals'] });
    await app.run();
    const { ownPlan } = await leave(app, family.id, family.leaving.memberId);
    await app.run();
    expect(await app.events()).toEqual([]);
    const heard = (await deliveriesOf(app, social, 'social')).map((d) => d.type);
    expect(heard).toEqual(['plan.created', 'plan.changed', 'plan.created']);
    expect(bodies().slice(1).map((b) => b.data.planId)).toEqual([family.id, ownPlan.id]);
    await app.close();
  });

  it('a leave that loses to a rival write of the family plan records no plan.unshared: the event is in the leave’s own batch', async () => {
    const app = await freshApp();
    await subscribe(app, 'social');
    const family = await familyPlan(app);
    await grantConsent(app.deps, { citizenId: family.leaving.citizenId, source: 'social', categories: ['plan-core'] });
    await app.run();
    const plan = (await app.deps.store.plans.get('101', family.id))!;
    const racing = rivalWritesFirst(app.database, () => app.deps.store.plans.updateStatements({ ...plan, purpose: 'Skrevet af en anden', version: plan.version + 1 }, plan.version));
    const racedDeps = { ...app.deps, store: createStore(racing) };
    await expect(membershipService(racedDeps).leave(caseworkerOf(), family.id, family.leaving.memberId)).rejects.toMatchObject({ problemType: 'version-conflict' });
    expect(racing.rivalWritten()).toBe(true);
    expect((await app.events()).map((e) => e.type)).toEqual(['plan.changed']);
    await app.close();
  });

  it('a tenant without a subscription pays one probe when a member leaves: the members and their consents are not read', async () => {
    const app = await freshApp();
    const family = await familyPlan(app);
    await grantConsent(app.deps, { citizenId: family.leaving.citizenId, source: 'social', categories: ['plan-core'] });
    let reads = 0;
    const read = app.deps.store.subscriptions.membersWithConsents.bind(app.deps.store.subscriptions);
    app.deps.store.subscriptions.membersWithConsents = (planIds) => (reads++, read(planIds));
    await leave(app, family.id, family.leaving.memberId);
    expect(reads).toBe(0);
    expect(await app.events()).toEqual([]);
    await app.close();
  });
});

describe('a plan purged by retention (R16) tells the systems it was shared with to delete what they hold of it (plan.purged)', () => {
  type App = Awaited<ReturnType<typeof freshApp>>;
  const citizenOf = (plan: Awaited<ReturnType<typeof enrol>>) => (plan.subject.kind === 'citizen' ? plan.subject.member.citizenId : '');
  const subscribe = async (app: App, system: string, sub = `vendor-${system}`, events?: string[]) =>
    (await app.call('POST', '/v1/subscriptions', ['vendor'], { url: `${receiverUrl}/${system}`, ...(events ? { events } : {}) }, sub, '101', { system })).body.id as string;
  /** A subscription's deliveries, oldest first (the API lists the newest first). */
  const deliveriesOf = async (app: App, id: string, system: string, sub = `vendor-${system}`) =>
    ((await app.call('GET', `/v1/subscriptions/${id}/deliveries`, ['vendor'], undefined, sub, '101', { system })).body.deliveries as { type: string; status: string; lastError: string | null }[]).reverse();
  const close = (app: App, planId: string) => planService(app.deps).changeStatus(caseworkerOf(), planId, { status: 'closed' });
  /** Past the retention period after the plans were closed. */
  const pastRetention = (app: App) => app.clock.advance((app.deps.config.retention.closedPlanDays + 1) * 24 * 60 * 60_000);
  const bodiesTo = (system: string) => received.filter((r) => r.path?.endsWith(`/${system}`)).map((r) => JSON.parse(r.body) as { type: string; data: Record<string, unknown> });

  it('each system a purged plan was shared with hears plan.purged (ids only) and nothing of the plan after; its waiting delivery is withdrawn; a system it was not shared with hears nothing', async () => {
    const app = await freshApp();
    const social = await subscribe(app, 'social');
    const dfdg = await subscribe(app, 'dfdg');
    // A vendor wanting only plan.changed has heard of the plan all the same: it is told to delete it too (GDPR art. 19).
    const socialChangesOnly = await subscribe(app, 'social', 'vendor-social-changes', ['plan.changed']);
    const socialCpr = testCpr();
    const sharedWithSocial = await enrol(app.deps, socialCpr);
    await grantConsent(app.deps, { citizenId: citizenOf(sharedWithSocial), source: 'social', categories: ['plan-core'] });
    const sharedWithDfdg = await enrol(app.deps, testCpr());
    await grantConsent(app.deps, { citizenId: citizenOf(sharedWithDfdg), source: 'dfdg', categories: ['plan-core', 'employment'] });
    const sharedWithNone = await enrol(app.deps, testCpr());
    expect(await app.run()).toMatchObject({ dead: 0, retried: 0 });
    await close(app, sharedWithDfdg.id);
    await close(app, sharedWithNone.id);
    expect(await app.run()).toMatchObject({ fannedOut: 1, delivered: 1 });
    // The social receiver is down when the last closing goes out: its plan.changed waits in retry.
    await close(app, sharedWithSocial.id);
    answers = [503, 503];
    expect(await app.run()).toMatchObject({ fannedOut: 2, retried: 2 });
    received = [];

    pastRetention(app);
    let reads = 0;
    const read = app.deps.store.subscriptions.membersWithConsents.bind(app.deps.store.subscriptions);
    app.deps.store.subscriptions.membersWithConsents = (planIds) => (planIds.length > 0 && reads++, read(planIds));
    expect(await runRetention(app.deps)).toMatchObject({ plansPurged: 3 });
    // The purged plans' members and consents are read once for the page, before the purge deletes them.
    expect(reads).toBe(1);
    app.deps.store.subscriptions.membersWithConsents = read;
    expect((await app.events()).map((e) => e.type)).toEqual(['plan.purged', 'plan.purged']);
    // One made after the purge was recorded never heard of the plan.
    app.clock.advance(1000);
    const later = await subscribe(app, 'social', 'vendor-social-later');

    expect(await app.run()).toMatchObject({ delivered: 3, withdrawn: 2, dead: 0 });
    const purged = (planId: string, system: string) => ({ type: 'plan.purged', timestamp: expect.any(String), data: { tenant: '101', planId, system } });
    expect(bodiesTo('social')).toEqual([purged(sharedWithSocial.id, 'social'), purged(sharedWithSocial.id, 'social')]);
    expect(bodiesTo('dfdg')).toEqual([purged(sharedWithDfdg.id, 'dfdg')]);
    // The closing's change still waiting is withdrawn, not sent, now that the plan is gone.
    expect((await deliveriesOf(app, social, 'social')).slice(-2)).toEqual([
      expect.objectContaining({ type: 'plan.changed', status: 'cancelled', lastError: 'withdrawn: consent no longer covers this system' }),
      expect.objectContaining({ type: 'plan.purged', status: 'delivered' }),
    ]);
    expect((await deliveriesOf(app, socialChangesOnly, 'social', 'vendor-social-changes')).slice(-2).map((d) => [d.type, d.status])).toEqual([
      ['plan.changed', 'cancelled'],
      ['plan.purged', 'delivered'],
    ]);
    expect(await deliveriesOf(app, later, 'social', 'vendor-social-later')).toEqual([]);
    expect((await deliveriesOf(app, dfdg, 'dfdg')).filter((d) => d.type === 'plan.purged')).toEqual([expect.objectContaining({ status: 'delivered' })]);
    for (const { body } of received) {
      expect(SubscriptionEventBody.safeParse(JSON.parse(body)).error).toBeUndefined();
      expect(body).not.toContain(socialCpr);
      expect(body).not.toContain(socialCpr.slice(0, 6));
    }
    // Nothing more of the plans.
    received = [];
    app.clock.advance(24 * 60 * 60_000);
    expect(await runRetention(app.deps)).toMatchObject({ plansPurged: 0 });
    expect(await app.run()).toMatchObject({ fannedOut: 0, delivered: 0 });
    expect(received).toEqual([]);
    await app.close();
  });

  it('the event is in the purge’s own batch: a deletion that fails records none, and a plan another run deleted first records none again', async () => {
    const app = await freshApp();
    await subscribe(app, 'social');
    const [purgedByRival, purgedHere] = [await enrol(app.deps, testCpr()), await enrol(app.deps, testCpr())];
    for (const plan of [purgedByRival, purgedHere]) {
      await grantConsent(app.deps, { citizenId: citizenOf(plan), source: 'social', categories: ['plan-core'] });
      await close(app, plan.id);
    }
    await app.run();
    pastRetention(app);
    await app.database.db.run(sql`create trigger plan_kept before delete on plans begin select raise(abort, 'the plan cannot be deleted'); end`);
    await expect(runRetention(app.deps)).rejects.toThrow();
    await app.database.db.run(sql`drop trigger plan_kept`);
    expect(await app.events()).toEqual([]);

    // A rival run deletes one of the plans between this run's reads and its first batch.
    const racing = rivalWritesFirst(app.database, () => [app.database.db.delete(plansTable).where(eq(plansTable.id, purgedByRival.id))]);
    await runRetention({ ...app.deps, store: createStore(racing) });
    expect(racing.rivalWritten()).toBe(true);
    const recorded = await app.database.db.select({ type: eventsTable.type, data: eventsTable.data }).from(eventsTable).orderBy(eventsTable.seq);
    expect(recorded.map((e) => [e.type, JSON.parse(e.data)])).toEqual([['plan.purged', { planId: purgedHere.id, system: 'social' }]]);
    await app.close();
  });

  it('a tenant without a subscription pays one probe per page of purged plans: their members and consents are not read', async () => {
    const app = await freshApp();
    for (let i = 0; i < 3; i++) {
      const plan = await enrol(app.deps, testCpr());
      await grantConsent(app.deps, { citizenId: citizenOf(plan), source: 'social', categories: ['plan-core'] });
      await close(app, plan.id);
    }
    pastRetention(app);
    let reads = 0;
    let probes = 0;
    const read = app.deps.store.subscriptions.membersWithConsents.bind(app.deps.store.subscriptions);
    app.deps.store.subscriptions.membersWithConsents = (planIds) => (reads++, read(planIds));
    const probe = app.deps.store.subscriptions.activeSystemsOf.bind(app.deps.store.subscriptions);
    app.deps.store.subscriptions.activeSystemsOf = (tenant) => (probes++, probe(tenant));
    expect(await runRetention(app.deps)).toMatchObject({ plansPurged: 3 });
    expect(probes).toBe(1);
    expect(reads).toBe(0);
    expect(await app.events()).toEqual([]);
    await app.close();
  });

  /** A social subscription told of a plan (its consent lets social data in), then the plan closed and its events sent. */
  async function closedPlanToldToSocial() {
    const app = await freshApp();
    const told = await subscribe(app, 'social');
    const plan = await enrol(app.deps, testCpr());
    await grantConsent(app.deps, { citizenId: citizenOf(plan), source: 'social', categories: ['plan-core'] });
    await close(app, plan.id);
    expect(await app.run()).toMatchObject({ dead: 0, retried: 0 });
    return { app, told, plan };
  }

  it('only a subscription told of the plan hears its plan.purged: one made after its last event was fanned out learns nothing of it, and who was told is forgotten once told', async () => {
    const { app, told, plan } = await closedPlanToldToSocial();
    const toldRows = () => app.database.db.select({ subscriptionId: plansTold.subscriptionId, planId: plansTold.planId }).from(plansTold).where(eq(plansTold.planId, plan.id));
    expect(await toldRows()).toEqual([{ subscriptionId: told, planId: plan.id }]);
    // Made after all the plan's events went out: it was never told of it.
    app.clock.advance(1000);
    const never = await subscribe(app, 'social', 'vendor-social-never');
    received = [];

    pastRetention(app);
    expect(await runRetention(app.deps)).toMatchObject({ plansPurged: 1, plansToldForgotten: 0 });
    expect(await app.run()).toMatchObject({ delivered: 1, dead: 0 });
    expect(bodiesTo('social').map((b) => [b.type, b.data.planId])).toEqual([['plan.purged', plan.id]]);
    expect((await deliveriesOf(app, told, 'social')).at(-1)).toMatchObject({ type: 'plan.purged', status: 'delivered' });
    expect(await deliveriesOf(app, never, 'social', 'vendor-social-never')).toEqual([]);
    expect(await toldRows()).toEqual([]);
    await app.close();
  });

  it('the nightly job forgets what an ended subscription was told of, while the plan stays and a live subscription’s rows stay', async () => {
    const app = await freshApp();
    const told = await subscribe(app, 'social');
    const kept = await subscribe(app, 'social', 'vendor-social-kept');
    const plan = await enrol(app.deps, testCpr());
    await grantConsent(app.deps, { citizenId: citizenOf(plan), source: 'social', categories: ['plan-core'] });
    expect(await app.run()).toMatchObject({ dead: 0, retried: 0 });
    const toldOf = async () => (await app.database.db.select({ subscriptionId: plansTold.subscriptionId }).from(plansTold).where(eq(plansTold.planId, plan.id))).map((r) => r.subscriptionId).sort();
    expect(await toldOf()).toEqual([told, kept].sort());
    expect((await app.call('DELETE', `/v1/subscriptions/${told}`, ['vendor'], undefined, 'vendor-social', '101', { system: 'social' })).status).toBe(204);
    expect(await runRetention(app.deps)).toMatchObject({ plansPurged: 0, plansToldForgotten: 1 });
    expect(await toldOf()).toEqual([kept]);
    await app.close();
  });

  /** One vendor of the social system with two subscriptions — its plan changes, and its duty to delete — told of a plan shared with social. */
  async function vendorWithDutiesApart(options: { closed: boolean }) {
    const app = await freshApp();
    const changes = await subscribe(app, 'social', 'vendor-social', ['plan.changed']);
    const duties = await subscribe(app, 'social', 'vendor-social', ['plan.purged']);
    const plan = await enrol(app.deps, testCpr());
    await grantConsent(app.deps, { citizenId: citizenOf(plan), source: 'social', categories: ['plan-core'] });
    if (options.closed) await close(app, plan.id);
    expect(await app.run()).toMatchObject({ dead: 0, retried: 0 });
    return { app, changes, duties, plan };
  }

  it('a vendor that ends the subscription that heard of a plan and keeps its duties subscription still hears plan.purged there: the nightly job keeps what it was told until its last subscription ends', async () => {
    const { app, changes, duties, plan } = await vendorWithDutiesApart({ closed: true });
    const toldRows = () => app.database.db.select({ subscriptionId: plansTold.subscriptionId }).from(plansTold).where(eq(plansTold.planId, plan.id));
    expect(await toldRows()).toEqual([{ subscriptionId: changes }]);
    expect((await app.call('DELETE', `/v1/subscriptions/${changes}`, ['vendor'], undefined, 'vendor-social', '101', { system: 'social' })).status).toBe(204);
    expect(await runRetention(app.deps)).toMatchObject({ plansPurged: 0, plansToldForgotten: 0 });
    received = [];
    pastRetention(app);
    expect(await runRetention(app.deps)).toMatchObject({ plansPurged: 1, plansToldForgotten: 0 });
    expect(await app.run()).toMatchObject({ delivered: 1, dead: 0 });
    expect(bodiesTo('social').map((b) => [b.type, b.data.planId])).toEqual([['plan.purged', plan.id]]);
    expect((await deliveriesOf(app, duties, 'social')).map((d) => [d.type, d.status])).toEqual([['plan.purged', 'delivered']]);
    // Told, so forgotten.
    expect(await toldRows()).toEqual([]);
    await app.close();
  });

  it('the nightly job forgets what a vendor was told of once its last subscription for the system has ended', async () => {
    const { app, changes: first, duties: second, plan } = await vendorWithDutiesApart({ closed: false });
    const end = async (id: string) => expect((await app.call('DELETE', `/v1/subscriptions/${id}`, ['vendor'], undefined, 'vendor-social', '101', { system: 'social' })).status).toBe(204);
    await end(first);
    expect(await runRetention(app.deps)).toMatchObject({ plansToldForgotten: 0 });
    await end(second);
    expect(await runRetention(app.deps)).toMatchObject({ plansToldForgotten: 1 });
    expect(await app.database.db.select().from(plansTold).where(eq(plansTold.planId, plan.id))).toEqual([]);
    await app.close();
  });

  it('a plan purged while its system’s subscription was ended tells nothing, and the nightly job forgets who was told of it', async () => {
    const { app, told, plan } = await closedPlanToldToSocial();
    expect((await app.call('DELETE', `/v1/subscriptions/${told}`, ['vendor'], undefined, 'vendor-social', '101', { system: 'social' })).status).toBe(204);
    pastRetention(app);
    expect(await runRetention(app.deps)).toMatchObject({ plansPurged: 1, plansToldForgotten: 1 });
    expect(await app.events()).toEqual([]);
    expect(await app.database.db.select().from(plansTold).where(eq(plansTold.planId, plan.id))).toEqual([]);
    await app.close();
  });
});

describe('the address is checked again at every delivery', () => {
  it('an address taken off the allowlist after subscribing gets no more events', async () => {
    const app = await freshApp();
    await app.call('POST', '/v1/subscriptions', ['vendor'], { url: receiverUrl, events: ['plan.created'] }, 'vendor-a');
    (app.deps.config.subscriptions as { allowedHosts: string[] }).allowedHosts = [];
    await enrolShared(app.deps, testCpr());
    expect(await app.run()).toMatchObject({ fannedOut: 1, delivered: 0, dead: 1 });
    expect(received).toEqual([]);
    const [subscription] = (await app.call('GET', '/v1/subscriptions', ['it-staff'])).body.subscriptions;
    const [dead] = (await app.call('GET', `/v1/subscriptions/${subscription.id}/deliveries`, ['it-staff'])).body.deliveries;
    expect(dead.lastError).toMatch(/^address refused: events go over https/);
    // Nor a test event: refused before anything is sent.
    const test = await app.call('POST', `/v1/subscriptions/${subscription.id}/test`, ['it-staff']);
    expect(test.status).toBe(422);
    expect(test.body.type).toBe('/problems/subscription-address-refused');
    expect(received).toEqual([]);
    await app.close();
  });
});

describe('a subscriber’s sealed signing secret copied into another row or column', () => {
  it('is refused: nothing is sent signed with it, and the test event says why', async () => {
    const app = await freshApp();
    const subscribe = async (sub: string, tenant = '101') => ((await app.call('POST', '/v1/subscriptions', ['vendor'], { url: receiverUrl, events: ['plan.created'] }, sub, tenant)).body as { id: string }).id;
    const owner = await subscribe('vendor-a');
    const sameMunicipality = await subscribe('vendor-b');
    const otherMunicipality = await subscribe('vendor-c', '751');
    const testEvent = (id: string, sub: string, tenant = '101') => app.call('POST', `/v1/subscriptions/${id}/test`, ['vendor'], undefined, sub, tenant);
    expect((await testEvent(owner, 'vendor-a')).body).toMatchObject({ delivered: true });
    received = [];

    const ownerSealed = (await app.deps.store.subscriptions.get('101', owner))!.secretSealed;
    await app.database.db.run(sql`update subscriptions set secret_sealed = ${ownerSealed} where id in (${sameMunicipality}, ${otherMunicipality})`);
    for (const [id, sub, tenant] of [[sameMunicipality, 'vendor-b', '101'], [otherMunicipality, 'vendor-c', '751']] as const) {
      const sent = await testEvent(id, sub, tenant);
      expect(sent.status).toBe(200);
      expect(sent.body).toMatchObject({ delivered: false, status: null, error: expect.stringContaining('sealed for another row, column or municipality') });
    }
    expect(received).toEqual([]);
    // A rotation is the way out: a new secret, without an overlap for the one that does not open.
    const recovered = await app.call('POST', `/v1/subscriptions/${sameMunicipality}/rotate-secret`, ['vendor'], {}, 'vendor-b');
    expect(recovered.status).toBe(200);
    expect(recovered.body.previousSecretValidUntil).toBeNull();
    expect((await testEvent(sameMunicipality, 'vendor-b')).body).toMatchObject({ delivered: true });
    expect((received.pop()!.headers['webhook-signature'] as string).split(' ')).toHaveLength(1);

    // The owner's own current secret put in its row's other column (the previous secret, during an overlap).
    expect((await app.call('POST', `/v1/subscriptions/${owner}/rotate-secret`, ['vendor'], {}, 'vendor-a')).status).toBe(200);
    expect((await testEvent(owner, 'vendor-a')).body).toMatchObject({ delivered: true });
    expect((received.pop()!.headers['webhook-signature'] as string).split(' ')).toHaveLength(2);
    await app.database.db.run(sql`update subscriptions set previous_secret_sealed = secret_sealed where id = ${owner}`);
    expect((await testEvent(owner, 'vendor-a')).body).toMatchObject({ delivered: false, error: expect.stringContaining('sealed for another row, column or municipality') });
    expect(received).toEqual([]);
    await app.close();
  });
});
