/**
 * The app over real HTTP (@hono/node-server, as `npm start` serves), where the server's fast paths
 * apply (no web Request or Response built unless needed): the body limit — a declared length judged
 * from the header, a chunked body as it streams, both answered 413 as a problem, a body within the
 * limit read as sent — and the request id on every answer, problems included.
 */
import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testCpr } from '../support/cpr';
import { startTestApp } from '../support/node-app';

let app: Awaited<ReturnType<typeof startTestApp>>;
let server: ReturnType<typeof serve>;
let port: number;
let token: string;

beforeAll(async () => {
  app = await startTestApp({ env: { BODY_LIMIT_BYTES: '65536' } });
  server = await new Promise((resolve) => {
    const s = serve({ fetch: app.app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s));
  });
  port = (server.address() as AddressInfo).port;
  token = await app.harness.token({ tenant: '101', roles: ['caseworker'] });
});
afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await app.close();
});

/** POSTs `body` to /v1/plans, with a Content-Length or chunked. */
function post(body: string, chunked: boolean): Promise<{ status: number; type: string | undefined; json: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    if (!chunked) headers['content-length'] = String(Buffer.byteLength(body));
    const req = httpRequest({ host: '127.0.0.1', port, path: '/v1/plans', method: 'POST', headers }, (res) => {
      let text = '';
      res.on('data', (chunk) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode!, type: res.headers['content-type'], json: text ? JSON.parse(text) : {} }));
    });
    // The server may answer and close before the whole body is sent.
    req.on('error', (error) => ((error as NodeJS.ErrnoException).code === 'EPIPE' || (error as NodeJS.ErrnoException).code === 'ECONNRESET' ? undefined : reject(error)));
    if (chunked) for (let i = 0; i < body.length; i += 16_384) req.write(body.slice(i, i + 16_384));
    else req.write(body);
    req.end();
  });
}

describe('the body limit over HTTP', () => {
  const oversized = JSON.stringify({ cpr: testCpr(), origin: 'offered', purpose: 'x'.repeat(100_000) });

  it('refuses a declared length over the limit from the header', async () => {
    const answer = await post(oversized, false);
    expect(answer.status).toBe(413);
    expect(answer.type).toContain('application/problem+json');
    expect(answer.json.type).toBe('/problems/payload-too-large');
  });

  it('refuses a chunked body once it passes the limit', async () => {
    const answer = await post(oversized, true);
    expect(answer.status).toBe(413);
    expect(answer.json.type).toBe('/problems/payload-too-large');
  });

  it('reads a body within the limit as sent, declared or chunked', async () => {
    for (const chunked of [false, true]) {
      const answer = await post(JSON.stringify({ cpr: testCpr(), origin: 'offered' }), chunked);
      expect(answer.status).toBe(201);
      expect(answer.json.status).toBe('offered');
    }
  });
});

describe('the request id over HTTP', () => {
  const get = (path: string, headers: Record<string, string> = {}) =>
    new Promise<{ status: number; id: string | undefined }>((resolve, reject) => {
      httpRequest({ host: '127.0.0.1', port, path, headers }, (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode!, id: res.headers['x-request-id'] as string | undefined }));
      }).on('error', reject).end();
    });

  it('is on every answer — a success, a problem, a 404 — and the caller’s own is echoed', async () => {
    const ok = await get('/health');
    expect(ok.status).toBe(200);
    expect(ok.id).toMatch(/^[0-9a-f-]{36}$/);
    const unauthenticated = await get('/v1/plans/00000000-0000-4000-8000-000000000000');
    expect(unauthenticated.status).toBe(401);
    expect(unauthenticated.id).toMatch(/^[0-9a-f-]{36}$/);
    const missing = await get('/v1/plans/00000000-0000-4000-8000-000000000000', { authorization: `Bearer ${token}` });
    expect(missing.status).toBe(404);
    expect(missing.id).toMatch(/^[0-9a-f-]{36}$/);
    expect((await get('/health', { 'x-request-id': 'trace-abc-123' })).id).toBe('trace-abc-123');
  });
});
