/** The record of processing (R16) on D1: its aggregate queries (json_each over the consent documents) run in workerd. */
import { SELF } from 'cloudflare:test';
import { sign } from 'hono/jwt';
import { describe, expect, it } from 'vitest';
import { testCpr } from '../support/cpr';
import { TEST_JWT_SECRET } from '../support/harness';

async function call(method: string, path: string, body?: unknown, roles = ['caseworker']) {
  const now = Math.floor(Date.now() / 1000);
  const token = await sign({ sub: 'record-test', tenant: '101', roles, iat: now, exp: now + 600 }, TEST_JWT_SECRET, 'HS256');
  const response = await SELF.fetch(`https://enplan.test${path}`, { method, headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined });
  return { status: response.status, body: (await response.json()) as any };
}

describe('record of processing in workerd on D1', () => {
  it('counts the flows the grants in force allow and the legal bases recorded', async () => {
    const created = await call('POST', '/v1/plans', { cpr: testCpr(), origin: 'offered' });
    const planId = created.body.id as string;
    const memberId = created.body.subject.member.memberId as string;
    const grant = await call('POST', '/v1/consents', {
      planId, memberId, source: 'education', recipient: 'enplan', categories: ['education', 'goals'], purpose: 'Koordinering af indsatser i Én plan', validFrom: '2026-01-01',
      signed: { method: 'mitid', documentRef: 'record-doc', textVersion: 'samtykke-v1', language: 'da' }, grantedBy: { memberId, capacity: 'self' },
    });
    expect(grant.status).toBe(201);
    expect((await call('POST', '/v1/consents/legal-basis', { planId, memberId, source: 'social', recipient: 'enplan', categories: ['social'], basis: 'Barnets lov § 133' })).status).toBe(201);
    const record = await call('GET', '/v1/processing-record', undefined, ['it-staff']);
    expect(record.status).toBe(200);
    expect(record.body.flowsOnConsent).toEqual(expect.arrayContaining([{ source: 'education', recipient: 'enplan', category: 'education', citizens: 1, grants: 1 }, { source: 'education', recipient: 'enplan', category: 'goals', citizens: 1, grants: 1 }]));
    expect(record.body.flowsOnOtherLegalBasis).toEqual(expect.arrayContaining([{ basis: 'Barnets lov § 133', source: 'social', recipient: 'enplan', category: 'social', citizens: 1, notYetInformed: 1 }]));
    expect(record.body.sources.find((s: { system: string }) => s.system === 'dfdg')).toMatchObject({ read: true, host: expect.stringMatching(/^127\.0\.0\.1:\d+$/) });
  });
});
