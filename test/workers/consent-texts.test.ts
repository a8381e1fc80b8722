/** In workerd on D1: a consent text registered once (migration 0014), read back, and required of a consent afterwards. */
import { env } from 'cloudflare:test';
import { sign } from 'hono/jwt';
import { describe, expect, it } from 'vitest';
import { createApp } from '../../src/app';
import { loadConfig } from '../../src/config';
import { createMemoryLogger } from '../../src/monitoring/log';
import { composeDeps } from '../../src/runtime/compose';
import { openD1Database } from '../../src/store/d1';
import { testCpr } from '../support/cpr';
import { TEST_CPR_KEY, TEST_JWT_SECRET } from '../support/harness';

describe('consent texts in workerd', () => {
  it('registers a text once and holds consents to it', async () => {
    const deps = await composeDeps({
      database: openD1Database(env.DB as never),
      config: loadConfig({ NODE_ENV: 'test', JWT_SECRET: TEST_JWT_SECRET, CPR_KEY: TEST_CPR_KEY, LOG_LEVEL: 'warn' }),
      logger: createMemoryLogger('warn'),
    });
    const app = createApp(deps);
    const now = Math.floor(Date.now() / 1000);
    const as = async (role: string) => sign({ sub: role, tenant: '102', roles: [role], iat: now, exp: now + 600 }, TEST_JWT_SECRET, 'HS256');
    const call = async (role: string, method: string, path: string, body?: unknown) => {
      const response = await app.request(path, { method, headers: { authorization: `Bearer ${await as(role)}`, ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined });
      return { status: response.status, body: (await response.json()) as Record<string, any> };
    };
    const text = { version: 'v-workers', language: 'da', title: 'Samtykke', body: 'Jeg giver samtykke.' };
    expect((await call('it-staff', 'POST', '/v1/consent-texts', text)).status).toBe(201);
    expect((await call('it-staff', 'POST', '/v1/consent-texts', text)).status).toBe(200);
    expect((await call('caseworker', 'GET', '/v1/consent-texts/v-workers/da')).body.body).toBe('Jeg giver samtykke.');
    const plan = (await call('caseworker', 'POST', '/v1/plans', { cpr: testCpr('1979-03-03'), origin: 'offered' })).body;
    const member = plan.subject.member.memberId;
    const grant = (textVersion: string) =>
      call('caseworker', 'POST', '/v1/consents', { planId: plan.id, memberId: member, source: 'dfdg', recipient: 'enplan', categories: ['employment'], purpose: 'Samlet plan', validFrom: '2026-11-01', signed: { method: 'mitid', documentRef: 'd', textVersion, language: 'da' }, grantedBy: { memberId: member, capacity: 'self' } });
    expect((await grant('ukendt')).status).toBe(400);
    expect((await grant('v-workers')).status).toBe(201);
  });
});
