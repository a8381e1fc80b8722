/**
 * POST /v1/data-subject/access-report (GDPR art. 15): what the layer holds about one citizen, for the
 * caseworker answering their access request — their plans as they may see them (in a family plan not
 * another member's private data, R4), consents, legal bases and where their data went, in Danish;
 * CPR in the body only; the export is in the citizen's own log.
 */
import { describe, expect, it } from 'vitest';
import { membersOf, Plan, type Provenance } from '../../src/model';
import { planService } from '../../src/plans/service';
import { testCpr } from '../support/cpr';
import { startTestApp } from '../support/node-app';
import { fromSource, intervention } from '../support/elements';
import { caseworkerOf, enrol, grantConsent } from '../support/seed';

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
    expect(log).toEqual([expect.objectContaining({ actor: 'caseworker:cw-9', detail: { plans: 1, flows: 1, withheld: 0 } })]);
    const citizenToken = await app.harness.token({ tenant: '101', roles: ['citizen'], citizenId: me!.citizenId });
    const ownLog = (await (await app.harness.request('/v1/citizen/data-flows', { headers: { authorization: `Bearer ${citizenToken}` } })).json()) as { flows: { kind: string; text: string }[] };
    expect(ownLog.flows[0]).toMatchObject({ kind: 'viewed', text: expect.stringContaining('anmodning om indsigt') });
    await app.close();
  });

  it('a caseworker’s report leaves out what consent gives other departments alone, and says how much; the DPO’s holds it all', async () => {
    const app = await setUp();
    const cpr = testCpr();
    const plan = await enrol(app.deps, cpr);
    const [member] = membersOf(plan);
    const grant = await grantConsent(app.deps, { citizenId: member!.citizenId, source: 'health', recipient: 'social', categories: ['health'], explicitHealth: true });
    const forSocial: Provenance = { ...(fromSource(grant.id, 'health', 'health', 'r-psych') as Extract<Provenance, { kind: 'source' }>), audience: ['social'] };
    const next = Plan.parse({ ...plan, interventions: [intervention('i-psych', member!.memberId, { sector: 'health', title: 'Behandling kun for socialafdelingen', provenance: [forSocial] })], version: plan.version + 1 });
    expect(await app.deps.store.plans.update(next, plan.version)).toBe(true);
    await app.deps.store.audit.append('101', {
      at: new Date().toISOString(), actor: 'sync-job:health', action: 'data.flowed', targetType: 'citizen', targetId: member!.citizenId, citizenId: member!.citizenId,
      detail: { source: 'health', recipient: 'social', categories: ['health'], basis: 'consent', consentRefs: [grant.id], anonymousTreatment: false },
    });
    const report = async (claims: { roles: string[]; department?: string }) => {
      const token = await app.harness.token({ tenant: '101', sub: 'reader-1', roles: claims.roles as never, ...(claims.department ? { department: claims.department as never } : {}) });
      const response = await app.harness.request('/v1/data-subject/access-report', { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ cpr }) });
      expect(response.status).toBe(200);
      return (await response.json()) as { plans: { interventions?: { title: string }[] }[]; flows: unknown[]; consents: unknown[]; withheld: Record<string, number> };
    };
    const flowed = (body: Awaited<ReturnType<typeof report>>) => body.flows.filter((f) => (f as { kind: string }).kind === 'flowed');
    const titles = (body: Awaited<ReturnType<typeof report>>) => body.plans.flatMap((p) => (p.interventions ?? []).map((i) => i.title));

    // The employment department's caseworker, and one with no department: left out, and counted.
    for (const claims of [{ roles: ['caseworker'], department: 'employment' }, { roles: ['caseworker'] }]) {
      const body = await report(claims);
      expect(titles(body)).toEqual([]);
      expect(JSON.stringify(body)).not.toContain('r-psych');
      // (Earlier reports are in the log as the citizen's own "viewed" lines; the health flow is not.)
      expect([flowed(body), body.consents]).toEqual([[], []]);
      expect(body.withheld).toEqual({ elements: 1, flows: 1, consents: 1, legalBases: 0 });
    }
    // The social department's caseworker sees what was given to them; the DPO sees everything.
    for (const claims of [{ roles: ['caseworker'], department: 'social' }, { roles: ['dpo'] }]) {
      const body = await report(claims);
      expect(titles(body)).toEqual(['Behandling kun for socialafdelingen']);
      expect([flowed(body).length, body.consents.length]).toEqual([1, 1]);
      expect(body.withheld).toEqual({ elements: 0, flows: 0, consents: 0, legalBases: 0 });
    }
    await app.close();
  });

  it('holds the region’s say the layer keeps for the citizen, in Danish: a withdrawal, a permit not started yet, and nothing for another citizen', async () => {
    const app = await setUp();
    const [withdrew, later, neither] = [testCpr(), testCpr(), testCpr()];
    const citizenOf = async (cpr: string) => membersOf(await enrol(app.deps, cpr))[0]!.citizenId;
    const [withdrewId, laterId] = [await citizenOf(withdrew), await citizenOf(later), await citizenOf(neither)];
    const at = '2026-11-20T09:00:00.000Z';
    await app.deps.store.batch([
      app.deps.store.regionalConsents.refuseStatement('101', { citizenId: withdrewId!, source: 'health', recordId: 'consent-1', recordVersion: '3', reason: 'the region records that the citizen withdrew its consent to share health data with the municipality' }, at),
      app.deps.store.regionalConsents.refuseStatement('101', { citizenId: laterId!, source: 'health', recordId: 'consent-2', recordVersion: '1', reason: "the region's consent to share health data with the municipality starts on 2026-12-01", permitsFrom: '2026-12-01' }, at),
    ]);
    const report = async (cpr: string) => (await app.call('POST', '/v1/data-subject/access-report', ['dpo'], { cpr })).body.sourceSays;
    expect(await report(withdrew)).toEqual([
      { source: 'health', since: at, permitsFrom: null, text: 'Regionens sundhedssystem deler ikke dine oplysninger med kommunen lige nu, fordi du har trukket dit samtykke til, at regionen deler dine helbredsoplysninger med kommunen, tilbage.' },
    ]);
    expect(await report(later)).toEqual([
      { source: 'health', since: at, permitsFrom: '2026-12-01', text: 'Regionens sundhedssystem deler ikke dine oplysninger med kommunen lige nu, fordi dit samtykke til, at regionen deler dine helbredsoplysninger med kommunen, endnu ikke gælder.' },
    ]);
    expect(await report(neither)).toEqual([]);
    // A caseworker's report holds it too: it is the citizen's own say at the region, not a department's data.
    expect((await app.call('POST', '/v1/data-subject/access-report', ['caseworker'], { cpr: withdrew })).body.sourceSays).toHaveLength(1);
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
