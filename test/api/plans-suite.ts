/**
 * The plan API suite. Runs unchanged against the app on Node (libSQL) and inside workerd (D1),
 * so both runtimes are held to the same behaviour. Uses only Web-standard APIs.
 */
import { describe, expect, it } from 'vitest';
import type { Role } from '../../src/security';
import type { ApiHarness } from '../support/harness';

export interface PlanSuiteOptions {
  harness: () => ApiHarness;
  /** A fresh fictitious CPR per call. */
  cpr: (birthDate?: string) => string;
  /** How many plans the tenant has in the store, to prove a rejected request stored nothing. */
  countPlans?: (tenant: string) => Promise<number>;
}

const allRoles: Role[] = ['it-staff', 'caseworker', 'vendor', 'sync-job', 'citizen', 'provider', 'dpo'];

export function definePlanApiSuite({ harness, cpr, countPlans }: PlanSuiteOptions) {
  const h = () => harness();
  const caseworker = (tenant = '101') => h().token({ tenant, roles: ['caseworker'] });
  const tokenFor = (role: Role, tenant = '101') =>
    h().token({ tenant, roles: [role], providerId: role === 'provider' ? 'prov-1' : undefined, citizenId: role === 'citizen' ? 'citizen-x' : undefined });

  async function call(method: string, path: string, token: string | null, body?: unknown) {
    const headers: Record<string, string> = {};
    if (token) headers.authorization = `Bearer ${token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const response = await h().request(path, { method, headers, body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body) });
    const text = await response.text();
    return { status: response.status, type: response.headers.get('content-type') ?? '', body: text ? JSON.parse(text) : null };
  }

  async function createPlan(tenant = '101', extra: Record<string, unknown> = {}) {
    const created = await call('POST', '/v1/plans', await caseworker(tenant), { cpr: cpr(), origin: 'offered', ...extra });
    expect(created.status).toBe(201);
    return created.body as { id: string; status: string; version: number; subject: { kind: string } };
  }

  describe('plans API', () => {
    it('creates a plan and reads it back', async () => {
      const plan = await createPlan('101', { purpose: 'Stabil bolig og vej mod job', replaces: [{ planType: 'sel-141-plan', relation: 'replaces' }] });
      expect(plan.status).toBe('offered');
      const read = await call('GET', `/v1/plans/${plan.id}`, await caseworker());
      expect(read.status).toBe(200);
      expect(read.body.id).toBe(plan.id);
      expect(read.body.purpose).toBe('Stabil bolig og vej mod job');
      expect(JSON.stringify(read.body)).not.toMatch(/(?<![\w-])\d{6}-?\d{4}(?![\w-])/);
    });

    it('creates a family plan with every member attributed', async () => {
      const plan = await createPlan('101', { role: 'parent', family: { name: 'Familien Test', members: [{ cpr: cpr('2010-02-03'), role: 'child' }] } });
      expect(plan.subject.kind).toBe('family');
      const read = await call('GET', `/v1/plans/${plan.id}`, await caseworker());
      expect(read.body.subject.members).toHaveLength(2);
      expect(read.body.subject.members.map((m: { role: string }) => m.role).sort()).toEqual(['child', 'parent']);
    });

    it('looks a plan up by the CPR in the body', async () => {
      const number = cpr();
      const created = await call('POST', '/v1/plans', await caseworker(), { cpr: number, origin: 'requested' });
      const found = await call('POST', '/v1/plans/lookup', await caseworker(), { cpr: number });
      expect(found.status).toBe(200);
      expect(found.body.plans.map((p: { id: string }) => p.id)).toEqual([created.body.id]);
      const none = await call('POST', '/v1/plans/lookup', await caseworker(), { cpr: cpr() });
      expect(none.body.plans).toEqual([]);
    });

    it('refuses a second open plan for the same citizen', async () => {
      const number = cpr();
      expect((await call('POST', '/v1/plans', await caseworker(), { cpr: number, origin: 'offered' })).status).toBe(201);
      const again = await call('POST', '/v1/plans', await caseworker(), { cpr: number, origin: 'offered' });
      expect(again.status).toBe(409);
      expect(again.body.type).toBe('/problems/duplicate-plan');

      // A family plan refused for one member stores nothing of the others: the layer holds nothing about them (R16).
      const newcomer = cpr('1990-02-03');
      const family = await call('POST', '/v1/plans', await caseworker(), { cpr: newcomer, origin: 'offered', family: { members: [{ cpr: number, role: 'adult' }] } });
      expect(family.status).toBe(409);
      expect((await call('POST', '/v1/data-subject/access-report', await caseworker(), { cpr: newcomer })).status).toBe(404);
      expect((await call('POST', '/v1/plans', await caseworker(), { cpr: newcomer, origin: 'offered' })).status).toBe(201);
      expect((await call('POST', '/v1/data-subject/access-report', await caseworker(), { cpr: newcomer })).status).toBe(200);
    });

    it('moves through the lifecycle and refuses invalid transitions', async () => {
      const plan = await createPlan();
      const token = await caseworker();
      expect((await call('POST', `/v1/plans/${plan.id}/status`, token, { status: 'active' })).body.type).toBe('/problems/invalid-transition');
      const accepted = await call('POST', `/v1/plans/${plan.id}/status`, token, { status: 'accepted' });
      expect(accepted.status).toBe(200);
      expect(accepted.body.status).toBe('accepted');
      const active = await call('POST', `/v1/plans/${plan.id}/status`, token, { status: 'active' });
      expect(active.body.status).toBe('active');
      expect(active.body.statusHistory.map((s: { to: string }) => s.to)).toEqual(['offered', 'accepted', 'active']);
      const closed = await call('POST', `/v1/plans/${plan.id}/status`, token, { status: 'closed' });
      expect(closed.body.status).toBe('closed');
      const reopened = await call('POST', `/v1/plans/${plan.id}/status`, token, { status: 'active' });
      expect(reopened.status).toBe(409);
    });

    it('records a decline with its reason and who recorded it, and demands the reason', async () => {
      const plan = await createPlan();
      const token = await caseworker();
      const noReason = await call('POST', `/v1/plans/${plan.id}/status`, token, { status: 'declined' });
      expect(noReason.status).toBe(400);
      expect(noReason.type).toContain('application/problem+json');
      const declined = await call('POST', `/v1/plans/${plan.id}/status`, token, { status: 'declined', reason: 'Borgeren ønsker at beholde de enkelte sektorplaner' });
      expect(declined.status).toBe(200);
      const last = declined.body.statusHistory.at(-1);
      expect(last).toMatchObject({ from: 'offered', to: 'declined', reason: 'Borgeren ønsker at beholde de enkelte sektorplaner' });
      expect(last.recordedBy).toContain('caseworker');
    });

    it('reports sector completeness for each replaced plan type', async () => {
      const plan = await createPlan('101', { replaces: [{ planType: 'sel-141-plan', relation: 'replaces' }], purpose: 'Formål' });
      const report = await call('GET', `/v1/plans/${plan.id}/completeness?date=2026-11-23`, await caseworker());
      expect(report.status).toBe(200);
      const sel = report.body.reports[0];
      expect(sel.planType).toBe('sel-141-plan');
      expect(sel.complete).toBe(false);
      // And the citizen's own consent to the Én plan, which replacing a § 141 plan needs: none is recorded yet.
      expect(sel.missing.map((m: { id: string }) => m.id)).toEqual(['social-intervention', 'expected-duration', 'other-matters', 'consent-citizen']);
    });

    it('answers bad input with a 400 problem and stores nothing', async () => {
      const token = await caseworker('102');
      const before = countPlans ? await countPlans('102') : 0;
      const cases: [string, unknown][] = [
        ['malformed JSON', '{"cpr": "01'],
        ['wrong types', { cpr: 101, origin: 7 }],
        ['invalid CPR date', { cpr: '3213801234', origin: 'offered' }],
        ['CPR with letters', { cpr: '01018O1234', origin: 'offered' }],
        ['unknown origin', { cpr: cpr(), origin: 'imposed' }],
        ['empty body', {}],
      ];
      for (const [, body] of cases) {
        const response = await call('POST', '/v1/plans', token, body);
        expect(response.status).toBe(400);
        expect(response.type).toContain('application/problem+json');
        expect(response.body.type).toMatch(/^\/problems\/(validation-failed|malformed-json)$/);
        expect(JSON.stringify(response.body)).not.toMatch(/3213801234/);
      }
      const plan = await createPlan('102');
      const unknownStatus = await call('POST', `/v1/plans/${plan.id}/status`, token, { status: 'paused' });
      expect(unknownStatus.status).toBe(400);
      if (countPlans) expect(await countPlans('102')).toBe(before + 1);
    });

    it('rejects a non-JSON body with 415', async () => {
      const response = await h().request('/v1/plans', { method: 'POST', headers: { authorization: `Bearer ${await caseworker()}`, 'content-type': 'text/plain' }, body: 'hello' });
      expect(response.status).toBe(415);
    });
  });

  describe('tenant isolation, roles and tokens (S1)', () => {
    const routes = (id: string) =>
      [
        ['GET', `/v1/plans/${id}`, undefined],
        ['POST', `/v1/plans/${id}/status`, { status: 'accepted' }],
        ['GET', `/v1/plans/${id}/completeness`, undefined],
      ] as const;

    it('a plan of tenant 101 is 404 for a token of tenant 751 on every route', async () => {
      const plan = await createPlan('101');
      const other = await caseworker('751');
      for (const [method, path, body] of routes(plan.id)) {
        const response = await call(method, path, other, body);
        expect(response.status, `${method} ${path}`).toBe(404);
        expect(response.body.type).toBe('/problems/not-found');
      }
      const stillOffered = await call('GET', `/v1/plans/${plan.id}`, await caseworker('101'));
      expect(stillOffered.body.status).toBe('offered');
    });

    it('a lookup from another tenant finds nothing', async () => {
      const number = cpr();
      await call('POST', '/v1/plans', await caseworker('101'), { cpr: number, origin: 'offered' });
      const found = await call('POST', '/v1/plans/lookup', await caseworker('751'), { cpr: number });
      expect(found.body.plans).toEqual([]);
    });

    it('a vendor token cannot read plans, and every role a route does not grant gets 403', async () => {
      const plan = await createPlan('101');
      const vendorRead = await call('GET', `/v1/plans/${plan.id}`, await tokenFor('vendor'));
      expect(vendorRead.status).toBe(403);
      const doc = (await call('GET', '/openapi.json', null)).body as { paths: Record<string, Record<string, { 'x-roles'?: Role[] }>> };
      let checked = 0;
      for (const [template, methods] of Object.entries(doc.paths)) {
        for (const [method, op] of Object.entries(methods)) {
          if (!op['x-roles']) continue;
          const path = template.replace('{id}', plan.id);
          for (const role of allRoles.filter((r) => !op['x-roles']!.includes(r))) {
            const response = await call(method.toUpperCase(), path, await tokenFor(role), method === 'get' ? undefined : {});
            expect(response.status, `${role} ${method} ${template}`).toBe(403);
            checked++;
          }
        }
      }
      expect(checked).toBeGreaterThan(10);
    });

    it('no token, a bad token and an expired token are 401', async () => {
      const plan = await createPlan('101');
      expect((await call('GET', `/v1/plans/${plan.id}`, null)).status).toBe(401);
      expect((await call('GET', `/v1/plans/${plan.id}`, 'not-a-jwt')).status).toBe(401);
      const expired = await h().token({ tenant: '101', roles: ['caseworker'] }, -60);
      const response = await call('GET', `/v1/plans/${plan.id}`, expired);
      expect(response.status).toBe(401);
      expect(response.body.type).toBe('/problems/unauthenticated');
    });
  });

  describe('service endpoints', () => {
    it('serves health, readiness, the OpenAPI document and a readable reference', async () => {
      expect((await call('GET', '/health', null)).body.status).toBe('ok');
      expect((await call('GET', '/ready', null)).body.status).toBe('ok');
      const doc = await call('GET', '/openapi.json', null);
      expect(Object.keys(doc.body.paths)).toEqual(expect.arrayContaining(['/v1/plans', '/v1/plans/{id}', '/v1/plans/lookup', '/v1/plans/{id}/status', '/v1/plans/{id}/completeness']));
      // The token's claims are documented, the caseworker's department among them.
      expect(doc.body.components.securitySchemes.bearerAuth.description).toContain('`department`');
      const html = await h().request('/docs');
      expect(html.status).toBe(200);
      const page = await html.text();
      expect(page).toContain('/v1/plans/{id}/completeness');
      // The events subscribers receive, from the document's webhooks.
      for (const event of ['plan.created', 'plan.changed', 'delivery.dead']) expect(page).toContain(`data-event="${event}"`);
      expect(page).not.toMatch(/<script[^>]+src=|<link[^>]+href="http/);
    });

    it('answers the root address: a browser is sent to the dashboard, a client is told where things are', async () => {
      const browser = await h().request('/', { headers: { accept: 'text/html,application/xhtml+xml' }, redirect: 'manual' });
      expect(browser.status).toBe(302);
      expect(browser.headers.get('location')).toBe('/dashboard');
      const client = await h().request('/', { headers: { accept: 'application/json' } });
      expect(client.status).toBe(200);
      const index = (await client.json()) as { links: Record<string, string> };
      expect(index.links).toMatchObject({ dashboard: '/dashboard', docs: '/docs', openapi: '/openapi.json', ready: '/ready' });
      // Every link it names is there.
      for (const path of Object.values(index.links)) expect((await h().request(path)).status, path).not.toBe(404);
    });
  });
}
