/**
 * POST /v1/data-subject/access-report (GDPR art. 15): what the layer holds about one citizen, for the
 * caseworker answering their access request — their plans as they may see them (in a family plan not
 * another member's private data, R4), consents, legal bases and where their data went, in Danish;
 * CPR in the body only; the export is in the citizen's own log.
 */
import { describe, expect, it } from 'vitest';
import { membersOf } from '../../src/model';
import { planService } from '../../src/plans/service';
import { testCpr } from '../support/cpr';
import { startTestApp } from '../support/node-app';
import { caseworkerOf, grantConsent } from '../support/seed';

async function setUp() {
  const app = await startTestApp();
  const call = async (method: string, path: string, roles: string[], body?: unknown, tenant = '101', key?: string) => {
    const token = await app.harness.token({ tenant, roles: roles as never, sub: 'cw-9' });
    const headers: Record<string, string> = { authorization: `Bearer ${token}` };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (key) headers['idempotency-key'] = key;
    const response = await app.harness.request(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    return { status: response.status, body: (await response.json()) as any };
  };
  return { ...app, call };
}

describe('the access report (GDPR art. 15)', () => {
  it('holds the citizen’s plan as they may see it, their consents, legal bases and flows — not the other parent’s private data', async () => {
    const app = await setUp();
    const [parentCpr, otherCpr, childCpr] = [testCpr(), testCpr(), testCpr('2014-05-02')];
    const service = planService(app.deps);
    const plan = await service.create(caseworkerOf(), { cpr: parentCpr, origin: 'requested', role: 'custody-holder', family: { members: [{ cpr: otherCpr, role: 'parent' }, { cpr: childCpr, role: 'child' }] }, replaces: [], municipalities: [] });
    await service.changeStatus(caseworkerOf(), plan.id, { status: 'accepted' });
    const [me, other] = membersOf(plan);
    const goal = (memberId: string, title: string, key: string) =>
      app.call('POST', '/v1/registrations', ['caseworker'], { planId: plan.id, kind: 'goal.added', goal: { memberId, level: 'overall', title, sector: 'employment' } }, '101', key);
    expect((await goal(me!.memberId, 'Mit eget mål', 'goal-key-mine-1')).status).toBe(202);
    expect((await goal(other!.memberId, 'Den anden forælders mål', 'goal-key-other-1')).status).toBe(202);
    const grant = await grantConsent(app.deps, { citizenId: me!.citizenId, source: 'dfdg', categories: ['employment'] });
    const basis = await app.call('POST', '/v1/consents/legal-basis', ['caseworker'], { planId: plan.id, memberId: me!.memberId, source: 'social', recipient: 'enplan', categories: ['social'], basis: 'Serviceloven § 11 c' });
    expect(basis.status).toBe(201);
    await app.deps.store.audit.append('101', {
      at: new Date().toISOString(), actor: 'sync-job:dfdg', action: 'data.flowed', targetType: 'citizen', targetId: me!.citizenId, citizenId: me!.citizenId,
      detail: { source: 'dfdg', recipient: 'enplan', categories: ['employment'], basis: 'consent', consentRefs: [grant.id], anonymousTreatment: false },
    });

    const { status, body } = await app.call('POST', '/v1/data-subject/access-report', ['caseworker'], { cpr: parentCpr });
    expect(status).toBe(200);
    expect(body.citizenId).toBe(me!.citizenId);
    expect(body.purpose).toMatch(/^One coordinated plan/);
    expect(body.retention).toMatchObject({ closedPlansDays: 1825 });
    expect(body.plans).toHaveLength(1);
    const titles = body.plans[0].goals.map((g: { title: string }) => g.title);
    expect(titles).toContain('Mit eget mål');
    expect(titles).not.toContain('Den anden forælders mål');
    expect(body.consents.map((c: { id: string }) => c.id)).toEqual([grant.id]);
    expect(body.legalBases.map((l: { basis: string }) => l.basis)).toEqual(['Serviceloven § 11 c']);
    expect(body.flows).toEqual([expect.objectContaining({ kind: 'flowed', source: 'dfdg', text: expect.stringContaining('dit samtykke') })]);
    // No CPR number in it, and nothing of the other parent.
    for (const cpr of [parentCpr, otherCpr, childCpr]) expect(JSON.stringify(body)).not.toContain(cpr);

    // In the citizen's own log: who exported it.
    const log = (await app.deps.store.audit.list('101', { citizenId: me!.citizenId })).filter((row) => row.action === 'data-subject.access-report');
    expect(log).toEqual([expect.objectContaining({ actor: 'caseworker:cw-9', detail: { plans: 1, flows: 1 } })]);
    const citizenToken = await app.harness.token({ tenant: '101', roles: ['citizen'], citizenId: me!.citizenId });
    const ownLog = (await (await app.harness.request('/v1/citizen/data-flows', { headers: { authorization: `Bearer ${citizenToken}` } })).json()) as { flows: { kind: string; text: string }[] };
    expect(ownLog.flows[0]).toMatchObject({ kind: 'viewed', text: expect.stringContaining('anmodning om indsigt') });
    await app.close();
  });

  it('answers 404 for a citizen it holds nothing about or of another municipality; caseworkers only; bad CPR is a 400', async () => {
    const app = await setUp();
    const cpr = testCpr();
    expect((await app.call('POST', '/v1/plans', ['caseworker'], { cpr, origin: 'offered' })).status).toBe(201);
    const unknown = await app.call('POST', '/v1/data-subject/access-report', ['caseworker'], { cpr: testCpr() });
    expect(unknown.status).toBe(404);
    expect(unknown.body.type).toBe('/problems/not-found');
    expect((await app.call('POST', '/v1/data-subject/access-report', ['caseworker'], { cpr }, '751')).status).toBe(404);
    for (const role of ['it-staff', 'vendor', 'sync-job']) expect((await app.call('POST', '/v1/data-subject/access-report', [role], { cpr })).status).toBe(403);
    const bad = await app.call('POST', '/v1/data-subject/access-report', ['caseworker'], { cpr: '3213801234' });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).not.toContain('3213801234');
    await app.close();
  });
});
