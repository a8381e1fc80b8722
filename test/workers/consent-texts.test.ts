/** In workerd on D1: a consent text registered once (migration 0014), read back, and required of a consent afterwards. */
import { describe, expect, it } from 'vitest';
import { testCpr } from '../support/cpr';
import { d1App } from './d1-app';

describe('consent texts in workerd', () => {
  it('registers a text once and holds consents to it', async () => {
    const { app, token } = await d1App();
    const call = async (role: string, method: string, path: string, body?: unknown) => {
      const response = await app.request(path, { method, headers: { authorization: `Bearer ${await token({ sub: role, tenant: '102', roles: [role] })}`, ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined });
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
