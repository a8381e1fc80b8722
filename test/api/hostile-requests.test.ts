/**
 * Every route the service documents, fed hostile requests: odd path parameters, query values and
 * bodies (malformed JSON, wrong JSON types, deep nesting, prototype keys, a CPR number where none
 * belongs), with tokens of several roles. Whatever the route, the answer is never a 5xx, every
 * refusal is an RFC 9457 problem document, and no answer quotes a CPR number back. The routes come
 * from the OpenAPI document, so a new route is covered the day it is added.
 */
import { sign } from 'hono/jwt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { membersOf } from '../../src/model';
import type { Role } from '../../src/security';
import { testCpr } from '../support/cpr';
import { TEST_JWT_SECRET } from '../support/harness';
import { signWebhook } from '../../src/webhooks/standard-webhooks';
import { startTestApp } from '../support/node-app';
import { enrol, grantConsent } from '../support/seed';

let app: Awaited<ReturnType<typeof startTestApp>>;
let planId: string;
let memberId: string;
let citizenId: string;
let grantId: string;
const cpr = testCpr();

beforeAll(async () => {
  // With a webhook secret, so the signed route is reached (and must refuse what is not signed).
  app = await startTestApp({ env: { WEBHOOK_SECRETS_DFDG: `whsec_${Buffer.from('hostile-requests-test-webhook-secret').toString('base64')}` } });
  const plan = await enrol(app.deps, cpr);
  planId = plan.id;
  memberId = membersOf(plan)[0]!.memberId;
  citizenId = membersOf(plan)[0]!.citizenId;
  grantId = (await grantConsent(app.deps, { citizenId, source: 'dfdg', categories: ['employment'] })).id;
});
afterAll(() => app?.close());

interface Operation {
  method: string;
  path: string;
  hasBody: boolean;
  queryNames: string[];
  /** Whether the document says it needs a bearer token. */
  secured: boolean;
}

async function documentedOperations(): Promise<Operation[]> {
  const doc = (await (await app.harness.request('/openapi.json')).json()) as {
    paths: Record<string, Record<string, { requestBody?: unknown; parameters?: { in: string; name: string }[]; security?: unknown[] }>>;
  };
  return Object.entries(doc.paths).flatMap(([path, operations]) =>
    Object.entries(operations).map(([method, operation]) => ({
      method: method.toUpperCase(),
      path,
      hasBody: !!operation.requestBody,
      queryNames: (operation.parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name),
      secured: (operation.security ?? []).length > 0,
    })),
  );
}

/** Path parameter values: real ids (so the hostile body reaches the route's own code) and hostile ones. */
const pathValues = () => [planId, memberId, grantId, citizenId, 'dfdg', crypto.randomUUID(), '%00', 'x'.repeat(3000), '..%2F..%2Fetc', '%E2%80%AE', cpr, "'%20OR%201=1--", '%FF'];

const deep = (levels: number) => '['.repeat(levels) + ']'.repeat(levels);
const bodies: { name: string; body: string; contentType?: string }[] = [
  { name: 'none', body: '' },
  { name: 'cut JSON', body: '{"status": "acc' },
  { name: 'null', body: 'null' },
  { name: 'an array', body: '[]' },
  { name: 'a string', body: '"accepted"' },
  { name: 'a number', body: '1e999' },
  { name: 'prototype keys', body: '{"__proto__": {"admin": true}, "constructor": {"prototype": {"x": 1}}}' },
  { name: 'deep nesting', body: deep(5000) },
  { name: 'wrong types everywhere', body: JSON.stringify({ status: 7, cpr: 12, origin: [], planId: {}, memberId: null, categories: 'all', source: true, purpose: { a: 1 }, validFrom: 'yesterday', reason: 9 }) },
  { name: 'a CPR number in every field', body: JSON.stringify({ status: cpr, cpr: `${cpr}x`, reason: cpr, purpose: cpr, planId: cpr, memberId: cpr, source: cpr, recipient: cpr, categories: [cpr] }) },
  { name: 'text, not JSON', body: 'status=accepted', contentType: 'text/plain' },
  { name: 'a form', body: 'status=accepted', contentType: 'application/x-www-form-urlencoded' },
  // A media type that only begins like JSON's, and a body with none: 415, not the validator's 500.
  { name: 'a JSON text sequence', body: '{}', contentType: 'application/json-seq' },
  { name: 'JSON without a content type', body: '{}', contentType: '' },
];
const queryValues = ['-1', 'abc', '1e999', '%FF', '', 'x'.repeat(3000), cpr];

const roleSets: Role[][] = [['it-staff', 'caseworker', 'vendor', 'sync-job', 'dpo'], ['citizen'], ['provider']];

function fill(path: string, value: string): string {
  return path.replace(/\{[^}]+\}/g, value);
}

describe('hostile requests to every documented route', () => {
  it('never get a 5xx; every refusal is a problem document that quotes no CPR number', async () => {
    const operations = await documentedOperations();
    expect(operations.length).toBeGreaterThan(20);
    const tokens = await Promise.all(roleSets.map((roles) => app.harness.token({ tenant: '101', roles, citizenId, providerId: 'provider-1' })));
    const failures: string[] = [];
    let requests = 0;
    const statusCounts: Record<number, number> = {};

    async function probe(operation: Operation, url: string, token: string, body?: { body: string; contentType?: string }) {
      requests++;
      const headers: Record<string, string> = { authorization: `Bearer ${token}` };
      if (body && body.contentType !== '') headers['content-type'] = body.contentType ?? 'application/json';
      // Bytes, not a string: a string body would be given `text/plain` by the Request itself.
      const sent = body && operation.method !== 'GET' ? (body.contentType === '' ? new TextEncoder().encode(body.body) : body.body) : undefined;
      const response = await app.harness.request(url, { method: operation.method, headers, body: sent });
      const text = await response.text();
      // The signed change-notice route answers 401 to everything here (nothing is signed); counted apart below.
      if (operation.path !== '/v1/webhooks/inbound/{source}') statusCounts[response.status] = (statusCounts[response.status] ?? 0) + 1;
      const where = `${operation.method} ${url.slice(0, 120)}${body ? ` with ${bodies.find((b) => b.body === body.body)?.name}` : ''}`;
      if (response.status >= 500) failures.push(`${where}: ${response.status} ${text.slice(0, 200)}`);
      else if (response.status >= 400) {
        if (!(response.headers.get('content-type') ?? '').startsWith('application/problem+json')) failures.push(`${where}: ${response.status} is not a problem document`);
        else {
          const problem = JSON.parse(text) as { type?: unknown; title?: unknown; status?: unknown };
          if (typeof problem.title !== 'string' || problem.status !== response.status) failures.push(`${where}: malformed problem ${text.slice(0, 200)}`);
        }
      }
      if (text.includes(cpr)) failures.push(`${where}: the answer quotes the CPR number`);
    }

    for (const operation of operations) {
      const hasPathParameters = operation.path.includes('{');
      const urls = hasPathParameters ? pathValues().map((value) => fill(operation.path, value)) : [operation.path];
      for (const token of tokens) {
        for (const url of urls) await probe(operation, url, token);
        for (const name of operation.queryNames) for (const value of queryValues) await probe(operation, `${fill(operation.path, planId)}?${name}=${value}`, token);
        if (operation.hasBody || operation.method !== 'GET')
          for (const body of bodies) for (const url of hasPathParameters ? [fill(operation.path, planId), fill(operation.path, memberId), fill(operation.path, grantId)] : urls) await probe(operation, url, token, body);
      }
    }
    // The same hostile bodies, validly signed, reach the change-notice route's own checks.
    const webhookSecret = app.deps.config.inboundWebhookSecrets.dfdg![0]!;
    for (const body of bodies) {
      const id = `hostile-${crypto.randomUUID()}`;
      const timestamp = Math.floor(Date.now() / 1000);
      const headers = { 'content-type': body.contentType ?? 'application/json', 'webhook-id': id, 'webhook-timestamp': String(timestamp), 'webhook-signature': await signWebhook(webhookSecret, id, timestamp, body.body) };
      const response = await app.harness.request('/v1/webhooks/inbound/dfdg', { method: 'POST', headers, body: body.body });
      const text = await response.text();
      if (response.status >= 500 || response.status === 401) failures.push(`signed notice with ${body.name}: ${response.status} ${text.slice(0, 200)}`);
      else if (response.status >= 400 && !(response.headers.get('content-type') ?? '').startsWith('application/problem+json')) failures.push(`signed notice with ${body.name}: not a problem document`);
      if (text.includes(cpr)) failures.push(`signed notice with ${body.name}: the answer quotes the CPR number`);
    }
    expect(requests).toBeGreaterThan(1000);
    // The probes got past authentication and reached the routes' own validation and lookups.
    expect(statusCounts[400]).toBeGreaterThan(100);
    expect(statusCounts[404]).toBeGreaterThan(100);
    expect(statusCounts[401]).toBeUndefined();
    expect(failures).toEqual([]);
  }, 120_000);

  it('the dashboard’s forms too: no 5xx, a notice in the address is not shown, and an action’s notice is text, never markup', async () => {
    const token = await app.harness.token({ tenant: '101', roles: ['it-staff'] });
    const form = (body: string, extra: Record<string, string> = {}) => ({ method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'http://localhost', ...extra }, body });
    const signIn = [`token=${'x'.repeat(10_000)}`, 'token=&token=a', 'token[]=1', '%%%', '', `token=${token}%00`];
    const statuses: number[] = [];
    for (const body of signIn) statuses.push((await app.harness.request('/dashboard/session', form(body))).status);
    statuses.push((await app.harness.request('/dashboard/session', { method: 'POST', headers: { 'content-type': 'multipart/form-data; boundary=zz', origin: 'http://localhost' }, body: '--zz\r\nbroken' })).status);
    const session = { cookie: `enplan_session=${token}` };
    const actions = ['/dashboard/sync/%00', '/dashboard/sync/dfdg', `/dashboard/sync/${'x'.repeat(3000)}`, '/dashboard/outbox/%FF/retry', `/dashboard/outbox/${crypto.randomUUID()}/retry`, '/dashboard/quarantine/%00/retry', `/dashboard/quarantine/${crypto.randomUUID()}/dismiss`];
    for (const action of actions) statuses.push((await app.harness.request(action, form('x=1', session))).status);
    expect(statuses.filter((status) => status >= 500)).toEqual([]);

    const lured = await app.harness.request(`/dashboard?notice=${encodeURIComponent('<script>alert(1)</script>')}`, { headers: session });
    expect(lured.status).toBe(200);
    expect(await lured.text()).not.toContain('alert(1)');
    // The notice an action leaves comes back in its cookie: shown as text.
    const page = await app.harness.request('/dashboard', { headers: { cookie: `${session.cookie}; enplan_notice=${encodeURIComponent('<script>alert(1)</script>')}` } });
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).not.toContain('<script>alert(1)</script>');

    // Nobody signed in can make the server hold a large form: declared or streamed, it is a 413 problem.
    const huge = `token=${'x'.repeat(3_000_000)}`;
    const declared = await app.harness.request('/dashboard/session', form(huge));
    expect(declared.status).toBe(413);
    expect(declared.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    const streamed = await app.harness.request('/dashboard/session', { ...form(''), body: new Blob([huge]).stream(), duplex: 'half' } as RequestInit);
    expect(streamed.status).toBe(413);
  });

  it('the problem type pages know only their own types, not an object’s inherited names', async () => {
    for (const slug of ['__proto__', 'constructor', 'toString', 'hasOwnProperty']) expect((await app.harness.request(`/problems/${slug}`)).status).toBe(404);
    expect((await app.harness.request('/problems/not-found')).status).toBe(200);
  });

  it('a documented address asked with a method it does not take answers 405 with the methods it does, never "no such route"', async () => {
    const operations = await documentedOperations();
    const token = await app.harness.token({ tenant: '101', roles: ['it-staff', 'caseworker', 'dpo'] });
    const methodsOf = new Map<string, Set<string>>();
    for (const { path, method } of operations) methodsOf.set(path, (methodsOf.get(path) ?? new Set()).add(method));
    // `GET /v1/plans/lookup` is `GET /v1/plans/{id}` with the id "lookup": such an address belongs to that route.
    const patternOf = (path: string) => new RegExp(`^${path.replace(/\{[^}]+\}/g, '[^/]+')}$`);
    const takenByAnother = (url: string, method: string) => operations.some((o) => o.method === method && patternOf(o.path).test(url));
    const failures: string[] = [];
    let asked = 0;
    for (const [path, documented] of methodsOf) {
      const url = fill(path, planId);
      for (const method of ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'].filter((m) => !documented.has(m) && !takenByAnother(url, m))) {
        asked++;
        const response = await app.harness.request(url, { method, headers: { authorization: `Bearer ${token}` } });
        const allowed = new Set((response.headers.get('allow') ?? '').split(/,\s*/));
        const problem = (await response.json()) as { type?: string };
        if (response.status !== 405 || problem.type !== '/problems/method-not-allowed') failures.push(`${method} ${path}: ${response.status} ${problem.type}`);
        else if ([...documented].some((m) => !allowed.has(m))) failures.push(`${method} ${path}: Allow ${response.headers.get('allow')} lacks one of ${[...documented].join(', ')}`);
      }
    }
    expect(asked).toBeGreaterThan(100);
    expect(failures).toEqual([]);
    // An address that does not exist is still a 404.
    expect((await app.harness.request('/v1/no-such-thing', { method: 'DELETE', headers: { authorization: `Bearer ${token}` } })).status).toBe(404);
  });

  it('a blank purpose or family name is refused with 400 and stores nothing', async () => {
    const token = await app.harness.token({ tenant: '101', roles: ['caseworker'] });
    const create = (body: object) =>
      app.harness.request('/v1/plans', { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ origin: 'offered', ...body }) });
    const listed = async () => ((await (await app.harness.request('/v1/plans?limit=200', { headers: { authorization: `Bearer ${token}` } })).json()) as { plans: unknown[] }).plans.length;
    const before = await listed();
    for (const body of [{ cpr: testCpr('1990-03-04'), purpose: '   ' }, { cpr: testCpr('1990-03-05'), family: { name: ' \t ', members: [{ cpr: testCpr('2012-05-06'), role: 'child' }] } }]) {
      const response = await create(body);
      expect(response.status).toBe(400);
      expect(((await response.json()) as { type: string }).type).toBe('/problems/validation-failed');
    }
    expect(await listed()).toBe(before);
    // The same with words in it is a plan.
    expect((await create({ cpr: testCpr('1990-03-04'), purpose: 'Job og bolig' })).status).toBe(201);
  });

  it('every route but the public ones refuses a missing, forged, expired or malformed token with 401, as a problem document', async () => {
    const operations = await documentedOperations();
    // Only the probes are open; a route the document shows without a token requirement fails here.
    expect(operations.filter((o) => !o.secured).map((o) => `${o.method} ${o.path}`).sort()).toEqual(['GET /health', 'GET /ready']);
    const now = Math.floor(Date.now() / 1000);
    const claims = { sub: 'x', tenant: '101', roles: ['it-staff', 'caseworker'], iat: now, exp: now + 600 };
    const base64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const authorizations: [string, string | undefined][] = [
      ['none', undefined],
      ['an empty bearer', 'Bearer '],
      ['another scheme', 'Basic dXNlcjpwYXNz'],
      ['garbage', 'Bearer not.a.token'],
      ['alg none', `Bearer ${base64url({ alg: 'none', typ: 'JWT' })}.${base64url(claims)}.`],
      ['another key', `Bearer ${await sign(claims, 'not-our-secret', 'HS256')}`],
      ['expired', `Bearer ${await sign({ ...claims, exp: now - 60 }, TEST_JWT_SECRET, 'HS256')}`],
      ['no expiry', `Bearer ${await sign({ ...claims, exp: undefined }, TEST_JWT_SECRET, 'HS256')}`],
      ['an unknown role', `Bearer ${await sign({ ...claims, roles: ['root'] }, TEST_JWT_SECRET, 'HS256')}`],
      ['no roles', `Bearer ${await sign({ ...claims, roles: [] }, TEST_JWT_SECRET, 'HS256')}`],
      ['a malformed tenant', `Bearer ${await sign({ ...claims, tenant: '../101' }, TEST_JWT_SECRET, 'HS256')}`],
      ['a citizen without a citizen id', `Bearer ${await sign({ ...claims, roles: ['citizen'] }, TEST_JWT_SECRET, 'HS256')}`],
      ['a huge token', `Bearer ${'a'.repeat(100_000)}`],
    ];
    const wrong: string[] = [];
    for (const operation of operations.filter((o) => o.secured)) {
      // A change notice is authenticated by its signature, not a bearer token: with none it is 401 all the same.
      const url = operation.path === '/v1/webhooks/inbound/{source}' ? '/v1/webhooks/inbound/dfdg' : fill(operation.path, planId);
      for (const [name, authorization] of authorizations) {
        const headers: Record<string, string> = { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) };
        const response = await app.harness.request(url, { method: operation.method, headers, body: operation.method === 'GET' ? undefined : '{}' });
        const type = response.headers.get('content-type') ?? '';
        if (response.status !== 401 || !type.startsWith('application/problem+json')) wrong.push(`${operation.method} ${operation.path} with ${name}: ${response.status} ${type}`);
      }
    }
    expect(wrong).toEqual([]);
  });
});
