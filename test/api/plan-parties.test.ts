/**
 * A department made a party to a plan by record (decision 0032): asked in before it holds anything
 * there, so its caseworkers' reads count as from within; only a part (or the coordinating staff) may
 * ask it in; each member is told.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planService } from '../../src/plans/service';
import { TestClock } from '../registrations/fixture';
import { testCpr } from '../support/cpr';
import { startTestApp } from '../support/node-app';
import { caseworkerOf, enrol } from '../support/seed';

describe('a department made a party to a plan', () => {
  let app: Awaited<ReturnType<typeof startTestApp>>;
  const clock = new TestClock(Date.parse('2026-11-25T12:00:00.000Z'));
  beforeAll(async () => {
    app = await startTestApp({ clock });
  });
  afterAll(() => app.close());

  const call = async (method: string, path: string, claims: { department?: string; tenant?: string; roles?: string[]; citizenId?: string } = {}, body?: unknown) => {
    const token = await app.harness.token({ tenant: claims.tenant ?? '101', roles: (claims.roles ?? ['caseworker']) as never, sub: `anna-${claims.department ?? 'staff'}`, ...(claims.department ? { department: claims.department as never } : {}), ...(claims.citizenId ? { citizenId: claims.citizenId } : {}) });
    const response = await app.harness.request(path, { method, headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) }, ...(body ? { body: JSON.stringify(body) } : {}) });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : null };
  };
  const lastReadDetail = async (citizenId: string) => (await app.deps.store.audit.list('101', { citizenId, limit: 1000 })).filter((r) => r.action === 'plan.read').at(-1)?.detail;

  it('is asked in by the coordinating staff or a department taking part, never by itself; its reads then count as from within; each member is told', async () => {
    const plan = await enrol(app.deps, testCpr());
    const citizenId = plan.subject.kind === 'citizen' ? plan.subject.member.citizenId : '';
    const reason = 'Sundhedsområdet deltager i netværksmødet 2. december';

    // Health takes no part: it cannot make itself one.
    const self = await call('POST', `/v1/plans/${plan.id}/parties`, { department: 'health' }, { department: 'health', reason });
    expect(self.status).toBe(403);
    expect(self.body).toMatchObject({ type: '/problems/not-a-party', detail: expect.stringContaining('your department (health) takes no part in this plan') });
    expect((await app.deps.store.plans.get('101', plan.id))!.version).toBe(plan.version);

    // The coordinating staff (no department on the token) asks it in.
    clock.advance(60_000);
    const added = await call('POST', `/v1/plans/${plan.id}/parties`, {}, { department: 'health', reason });
    expect(added).toMatchObject({ status: 201, body: { planId: plan.id, version: plan.version + 1, party: { department: 'health', since: '2026-11-25T12:01:00.000Z', recordedBy: 'caseworker:anna-staff', reason } } });
    // Asked again: as it is.
    expect(await call('POST', `/v1/plans/${plan.id}/parties`, {}, { department: 'health', reason: 'igen' })).toMatchObject({ status: 200, body: { version: plan.version + 1, party: { reason } } });

    // Its reads count as from within now.
    expect((await call('GET', `/v1/plans/${plan.id}`, { department: 'health' })).status).toBe(200);
    expect(await lastReadDetail(citizenId)).toEqual({ view: 'caseworker', department: 'health', departmentInPlan: true });
    // And, taking part, it may ask another in.
    expect((await call('POST', `/v1/plans/${plan.id}/parties`, { department: 'health' }, { department: 'employment', reason: 'Afklaring af arbejdsevne' })).status).toBe(201);

    // The citizen sees who was asked in and why (not by whom), and is told in their log.
    const own = await call('GET', '/v1/citizen/plan', { roles: ['citizen'], citizenId });
    expect(own.status).toBe(200);
    const shown = (own.body.plans ?? [own.body]).flatMap((p: { parties?: unknown[] }) => p.parties ?? []);
    expect(shown).toEqual([
      { department: 'health', since: '2026-11-25T12:01:00.000Z', reason },
      { department: 'employment', since: '2026-11-25T12:01:00.000Z', reason: 'Afklaring af arbejdsevne' },
    ]);
    const flows = (await call('GET', '/v1/citizen/data-flows', { roles: ['citizen'], citizenId })).body.flows as { kind: string; text: string }[];
    expect(flows.filter((f) => f.kind === 'party').map((f) => f.text)).toEqual([
      'Den 25. november 2026 kl. 13.01 gjorde kommunen sundhedsområdet til part i din Én plan. Sundhedsområdet kan nu se det af planen, som dit samtykke giver alle planens parter.',
      'Den 25. november 2026 kl. 13.01 gjorde kommunen Jobcentret til part i din Én plan. Jobcentret kan nu se det af planen, som dit samtykke giver alle planens parter.',
    ]);

    // Ended: its reads are from outside again; ending it twice finds nothing.
    clock.advance(60_000);
    expect(await call('DELETE', `/v1/plans/${plan.id}/parties/health`)).toMatchObject({ status: 200, body: { planId: plan.id, version: plan.version + 3 } });
    expect((await call('GET', `/v1/plans/${plan.id}`, { department: 'health' })).status).toBe(200);
    expect(await lastReadDetail(citizenId)).toMatchObject({ departmentInPlan: false });
    expect((await call('DELETE', `/v1/plans/${plan.id}/parties/health`)).status).toBe(404);
    expect((await app.deps.store.audit.list('101', { citizenId, limit: 1000 })).filter((r) => r.action.startsWith('plan.party-')).map((r) => [r.action, r.actor, r.detail])).toEqual([
      ['plan.party-added', 'caseworker:anna-staff', { department: 'health' }],
      ['plan.party-added', 'caseworker:anna-health', { department: 'employment' }],
      ['plan.party-removed', 'caseworker:anna-staff', { department: 'health' }],
    ]);
  });

  it('refuses a reason holding a CPR number, an unknown department, a closed plan, and another municipality’s plan; stores nothing', async () => {
    const plan = await enrol(app.deps, testCpr());
    const cpr = testCpr();
    const refused = await call('POST', `/v1/plans/${plan.id}/parties`, {}, { department: 'health', reason: `Om ${cpr}` });
    expect(refused).toMatchObject({ status: 400, body: { type: '/problems/validation-failed' } });
    expect(JSON.stringify(refused.body)).not.toContain(cpr);
    expect((await call('POST', `/v1/plans/${plan.id}/parties`, {}, { department: 'police', reason: 'x' })).status).toBe(400);
    expect((await call('POST', `/v1/plans/${plan.id}/parties`, {}, { department: 'health' })).status).toBe(400);
    expect((await call('POST', `/v1/plans/${plan.id}/parties`, { tenant: '751' }, { department: 'health', reason: 'x' })).status).toBe(404);
    expect((await call('DELETE', `/v1/plans/${plan.id}/parties/health`, { tenant: '751' })).status).toBe(404);
    await planService(app.deps).changeStatus(caseworkerOf(), plan.id, { status: 'closed' });
    expect((await call('POST', `/v1/plans/${plan.id}/parties`, {}, { department: 'health', reason: 'x' })).body).toMatchObject({ status: 409, type: '/problems/plan-not-open' });
    expect((await app.deps.store.plans.get('101', plan.id))!.parties).toEqual([]);
  });
});
