/**
 * GET /v1/processing-record (R16): the record of processing as the deployment carries it out,
 * derived from its configuration, rules and the consents in force — IT staff only, counts only,
 * the municipality's own, its read logged.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config';
import { membersOf } from '../../src/model';
import { adaptersFromConfig } from '../../src/runtime/adapters';
import { allMappings } from '../../src/sync/all-mappings';
import { testCpr } from '../support/cpr';
import { startTestApp } from '../support/node-app';
import { enrol, grantConsent } from '../support/seed';

async function setUp(extra: Record<string, string> = {}) {
  const env = { DFDG_URL: 'https://dfdg.star.example/service?key=secret-ish', HEALTH_FHIR_URL: 'http://127.0.0.1:9/fhir', WEBHOOK_SECRETS_DFDG: 'whsec_dGVzdC13ZWJob29rLXNlY3JldC1mb3ItdGhlLWVucGxhbi1zdWl0ZQ==', ...extra };
  // The adapters as the service builds them from the same settings (nothing is reached here).
  const adapters = adaptersFromConfig(loadConfig({ NODE_ENV: 'test', ...env }));
  const app = await startTestApp({ mappings: allMappings, adapters, env });
  const call = async (method: string, path: string, roles: string[], body?: unknown, tenant = '101') => {
    const token = await app.harness.token({ tenant, roles: roles as never });
    const response = await app.harness.request(path, { method, headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined });
    return { status: response.status, body: (await response.json()) as any };
  };
  return { ...app, call };
}

describe('the record of processing', () => {
  it('says when the education adapter signs its requests (WS-Security, decision 0027)', async () => {
    const tls = (file: string) => readFileSync(join(process.cwd(), 'test/fixtures/tls', file), 'utf8');
    const app = await setUp({ EDUCATION_URL: 'https://ungedata.stil.example/soap', EDUCATION_WSSE_CERT: tls('client.pem'), EDUCATION_WSSE_KEY: tls('client.key') });
    const { body } = await app.call('GET', '/v1/processing-record', ['it-staff']);
    expect(body.sources.find((s: { system: string }) => s.system === 'education')).toMatchObject({ read: true, transport: 'https', messageSecurity: 'every request signed with the function certificate (WS-Security)' });
    expect(JSON.stringify(body)).not.toContain('PRIVATE KEY');
    await app.close();
  });

  it('counts the flows consent allows today and the other legal bases, nothing revoked, lapsed, not yet begun or of another municipality', async () => {
    const app = await setUp();
    const citizenOf = (plan: Awaited<ReturnType<typeof enrol>>) => membersOf(plan)[0]!.citizenId;
    const [a, b, c] = [await enrol(app.deps, testCpr()), await enrol(app.deps, testCpr()), await enrol(app.deps, testCpr())];
    await grantConsent(app.deps, { citizenId: citizenOf(a), source: 'dfdg', categories: ['employment', 'goals'] });
    await grantConsent(app.deps, { citizenId: citizenOf(b), source: 'dfdg', categories: ['employment'] });
    await grantConsent(app.deps, { citizenId: citizenOf(b), source: 'dfdg', categories: ['employment'], recipient: 'enplan' }); // a second grant for the same flow
    await grantConsent(app.deps, { citizenId: citizenOf(a), source: 'health', categories: ['health'] });
    // To one department alone (decision 0026): a recipient of its own in the record.
    await grantConsent(app.deps, { citizenId: citizenOf(b), source: 'health', categories: ['health'], recipient: 'social' });
    // Not in force: lapsed, revoked, begun only later; and another municipality's.
    await grantConsent(app.deps, { citizenId: citizenOf(c), source: 'dfdg', categories: ['employment'], validTo: '2026-02-01' });
    const revoked = await grantConsent(app.deps, { citizenId: citizenOf(c), source: 'education', categories: ['education'] });
    expect((await app.call('POST', `/v1/consents/${revoked.id}/revoke`, ['caseworker'])).status).toBe(200);
    const later = await grantConsent(app.deps, { citizenId: citizenOf(c), source: 'social', categories: ['social'] });
    await app.deps.store.consents.replace({ kind: 'grant', ...later, validFrom: '2099-01-01' });
    const other = await enrol(app.deps, testCpr(), '751');
    await grantConsent(app.deps, { tenant: '751', citizenId: citizenOf(other), source: 'dfdg', categories: ['employment'] });
    const basis = await app.call('POST', '/v1/consents/legal-basis', ['caseworker'], { planId: c.id, memberId: membersOf(c)[0]!.memberId, source: 'social', recipient: 'enplan', categories: ['social'], basis: 'Serviceloven § 11 c (underretning)' });
    expect(basis.status).toBe(201);

    const { status, body } = await app.call('GET', '/v1/processing-record', ['it-staff']);
    expect(status).toBe(200);
    expect(body.flowsOnConsent).toEqual([
      { source: 'dfdg', recipient: 'enplan', category: 'employment', citizens: 2, grants: 3 },
      { source: 'dfdg', recipient: 'enplan', category: 'goals', citizens: 1, grants: 1 },
      { source: 'health', recipient: 'enplan', category: 'health', citizens: 1, grants: 1 },
      { source: 'health', recipient: 'social', category: 'health', citizens: 1, grants: 1 },
    ]);
    expect(body.flowsOnOtherLegalBasis).toEqual([{ basis: 'Serviceloven § 11 c (underretning)', source: 'social', recipient: 'enplan', category: 'social', citizens: 1, notYetInformed: 1 }]);
    expect(body.categoriesOfData.map((c: { category: string }) => c.category)).toEqual(['employment', 'goals', 'health', 'social']);
    expect(body.categoriesOfData.find((c: { category: string }) => c.category === 'health').note).toContain('art. 9');
    expect(body.dataSubjects).toMatchObject({ plansByStatus: { active: 3 }, enrolledPlans: 3 });

    // The systems: read or not, host only (never a path or query), how, and the mappings used.
    const source = (system: string) => body.sources.find((s: { system: string }) => s.system === system);
    expect(source('dfdg')).toMatchObject({ read: true, host: 'dfdg.star.example', transport: 'https', changeNotices: 'signed webhooks (Standard Webhooks) and polling' });
    expect(source('health')).toMatchObject({ read: true, host: '127.0.0.1:9', transport: 'http (not encrypted: a simulator or a test system)', changeNotices: 'polling' });
    expect(source('education')).toMatchObject({ read: false, host: null, changeNotices: null, messageSecurity: null });
    expect(source('dfdg').mappings.length).toBeGreaterThan(0);
    expect(JSON.stringify(body)).not.toContain('secret-ish');
    // Where registrations go, on what legal reference, and what is never sent (anonymous treatment).
    expect(body.registrationsSentTo.rules.some((r: { target: string; legalReference: string }) => r.target === 'dfdg' && r.legalReference.length > 0)).toBe(true);
    expect(body.registrationsSentTo.neverSent.map((r: { id: string }) => r.id)).toContain('anonymous-treatment-not-routed');
    expect(body.retention).toMatchObject({ closedPlansDays: 1825, payloadBodiesDays: 30 });
    // Erasure before the period is there too, for the DPO's record (GDPR art. 17, decision 0028).
    expect(body.retention.erasure).toContain('POST /v1/data-subject/erasure');
    expect(body.security.access).toMatch(/^bearer tokens signed with the configured shared secret \(HS256\); roles on every route/);
    // Who else reads personal data: IT staff, a quarantined record's payload, masked and each look audited (R24).
    expect(body.security.quarantinedPayloads).toBe(
      'IT staff of the municipality may read the stored payload of a record quarantined because it could not be mapped, to find the fault, until it is deleted after 30 days: every CPR-shaped number masked, each look audited and shown in the citizen’s own log of where their data went — for a child, also to a custody holder who consented for the child to that system’s data, never a look that may concern anonymous treatment (SEL § 101 a) — (the DPO’s access log names who); a refused attempt is audited too',
    );
    // A caseworker's read from outside the plan: possible, and told apart (src/views/involvement.ts).
    expect(body.security.caseworkerReads).toMatch(/takes no part in the plan .* told to the citizen on a line of its own and marked in the log \(departmentInPlan false\) for the DPO’s follow-up/);
    // Which CPR key generation protects the data (art. 32 documentation); no rotation under way here.
    expect(body.security.cprAtRest).toBe(`AES-256-GCM under the key ${app.deps.vault.currentPrefix.split(':')[1]}; found through a keyed HMAC-SHA-256 per municipality, never decrypted to search`);
    // No citizen ids, CPR numbers or plan ids in it.
    for (const plan of [a, b, c]) {
      expect(JSON.stringify(body)).not.toContain(citizenOf(plan));
      expect(JSON.stringify(body)).not.toContain(plan.id);
    }

    // Logged: who read it (no content).
    const read = (await app.deps.store.audit.list('101', { limit: 1000 })).filter((row) => row.action === 'processing-record.read');
    expect(read).toHaveLength(1);
    expect(read[0]).toMatchObject({ targetType: 'tenant', targetId: '101', citizenId: null });
    await app.close();
  });

  it('names the sector system each event subscriber serves and which plans it hears of: for the health system, the region’s own Consent too', async () => {
    const app = await setUp({ SUBSCRIPTION_ALLOWED_HOSTS: '127.0.0.1' });
    for (const system of ['health', 'social'])
      expect((await app.call('POST', '/v1/subscriptions', ['it-staff'], { url: `http://127.0.0.1:9/${system}-events`, system })).status).toBe(201);
    const { body } = await app.call('GET', '/v1/processing-record', ['it-staff']);
    const of = (system: string) => body.eventSubscribers.find((s: { system: string }) => s.system === system);
    expect(of('health')).toMatchObject({ host: '127.0.0.1:9', content: 'ids and status only, never plan content', hears: expect.stringContaining("only while the region's own Consent permits sharing with the municipality") });
    expect(of('social').hears).toMatch(/^the plans whose data flows between the plan and that system on a member's consent or legal basis/);
    expect(of('social').hears).not.toContain('region');
    expect(of('social').hears).toMatch(/; and, of a plan it was told of, when that plan no longer concerns it or is deleted$/);
    const page = await app.harness.request('/dashboard/processing-record', { headers: { cookie: `enplan_session=${await app.harness.token({ tenant: '101', roles: ['it-staff'] })}` } });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('127.0.0.1:9 (for health)');
    await app.close();
  });

  it('is for IT staff and the data-protection officer, who reads it but runs nothing on the dashboard', async () => {
    const app = await setUp();
    expect((await app.call('GET', '/v1/processing-record', ['dpo'])).status).toBe(200);
    const token = await app.harness.token({ tenant: '101', roles: ['dpo'] });
    const signIn = await app.harness.request('/dashboard/session', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'http://localhost' }, body: `token=${encodeURIComponent(token)}` });
    expect(signIn.status).toBe(303);
    expect(signIn.headers.get('location')).toBe('/dashboard/processing-record');
    const session = { cookie: `enplan_session=${token}` };
    const page = await app.harness.request('/dashboard/processing-record', { headers: session });
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('Record of processing');
    expect(html).toContain('Quarantined payloads: IT staff of the municipality may read the stored payload');
    // The operations dashboard is IT staff's: the DPO is sent to the record.
    const dashboard = await app.harness.request('/dashboard', { headers: session });
    expect(dashboard.status).toBe(303);
    expect(dashboard.headers.get('location')).toBe('/dashboard/processing-record');
    // Here, over plain http in development, the session cookie cannot be Secure (the browser would drop it).
    expect(signIn.headers.get('set-cookie')).toMatch(/HttpOnly/);
    expect(signIn.headers.get('set-cookie')).not.toMatch(/Secure/);
    await app.close();
  });

  it('in production the session cookie is Secure although the service sees plain http behind its TLS proxy', async () => {
    const app = await startTestApp({ env: { NODE_ENV: 'production' } });
    try {
      const token = await app.harness.token({ tenant: '101', roles: ['it-staff'] });
      const signIn = await app.harness.request('http://enplan.kommune.example/dashboard/session', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', 'sec-fetch-site': 'same-origin' }, body: `token=${encodeURIComponent(token)}` });
      expect(signIn.status).toBe(303);
      expect(signIn.headers.get('set-cookie')).toMatch(/enplan_session=.*; .*Secure/);
      expect(signIn.headers.get('set-cookie')).toMatch(/SameSite=Strict/);
    } finally {
      await app.close();
    }
  });

  it('is for IT staff of the municipality only', async () => {
    const app = await setUp();
    for (const role of ['caseworker', 'vendor', 'sync-job']) expect((await app.call('GET', '/v1/processing-record', [role])).status).toBe(403);
    const unauthenticated = await app.harness.request('/v1/processing-record');
    expect(unauthenticated.status).toBe(401);
    expect(unauthenticated.headers.get('content-type')).toContain('application/problem+json');
    // Another municipality's IT staff see their own (empty) record, not this one's.
    const other = await app.call('GET', '/v1/processing-record', ['it-staff'], undefined, '751');
    expect(other.body).toMatchObject({ tenant: '751', flowsOnConsent: [], flowsOnOtherLegalBasis: [] });
    await app.close();
  });
});
