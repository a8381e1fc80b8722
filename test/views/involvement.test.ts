/**
 * Which departments take part in a plan, and a read by a caseworker of one that does not: recorded
 * with the read, told to the citizen on a line of its own (R13), visible to the DPO in the log.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConsentGrant, LegalBasisRecord, Provenance } from '../../src/model';
import type { ConsentDocument } from '../../src/store';
import { monitoringOverview, toPrometheus } from '../../src/monitoring/overview';
import { departmentsInPlan } from '../../src/views/involvement';
import { TestClock } from '../registrations/fixture';
import { testCpr } from '../support/cpr';
import { startTestApp } from '../support/node-app';
import { familyMember, followUp, fromSource, goal, intervention, planWith } from '../support/elements';
import { enrol, grantConsent } from '../support/seed';

const at = new Date('2026-11-25T12:00:00.000Z');
const adult = familyMember('m1', 'adult', '1985-06-15');
const leaver = { ...familyMember('m2', 'adult', '1987-02-01'), leftAt: '2026-11-01T10:00:00.000Z' };
const forChildren: Provenance = { ...(fromSource('g-children', 'social', 'social', 'r-1') as Extract<Provenance, { kind: 'source' }>), audience: ['children'] };

const grantTo = (recipient: string, citizenId: string, more: Partial<ConsentGrant> = {}): ConsentDocument => ({
  kind: 'grant',
  id: `g-${recipient}-${citizenId}`,
  tenant: '101',
  citizenId,
  grantedBy: { citizenId, capacity: 'self' },
  source: 'enplan',
  recipient,
  categories: ['plan-core'],
  explicitHealth: false,
  purpose: 'Koordinering',
  validFrom: '2026-11-01',
  signed: { method: 'mitid', documentRef: 'doc', textVersion: 'samtykke-v1', language: 'da' },
  createdAt: '2026-11-01T09:00:00.000Z',
  ...more,
});
const legalBasisTo = (recipient: string, citizenId: string, more: Partial<LegalBasisRecord> = {}): ConsentDocument => ({
  kind: 'legal-basis',
  id: `lb-${recipient}`,
  tenant: '101',
  citizenId,
  source: 'enplan',
  recipient,
  categories: ['plan-core'],
  basis: 'SEL § 49 b',
  recordedBy: 'caseworker:anna',
  recordedAt: '2026-11-05T13:00:00.000Z',
  citizenInformed: true,
  ...more,
});

describe('the departments that take part in a plan', () => {
  const plan = planWith([adult, leaver], {
    // The coordinator's (social, from planWith), a goal's sector (employment), data consent gave children alone.
    goals: [goal('g-1', { sector: 'employment' })],
    interventions: [intervention('i-1', 'm1', { sector: 'social', provenance: [forChildren] })],
    replaces: [{ planType: 'integration-contract', relation: 'replaces' }],
  });

  it('are the coordinator’s, those of its elements, those consent gave data alone, and the keeper of a sector plan it replaces', () => {
    expect([...departmentsInPlan(plan, [], at)].sort()).toEqual(['children', 'employment', 'integration', 'social']);
  });

  it('and those an element was kept for after its source left, or a follow-up’s data was given to alone', () => {
    const kept = planWith([adult], {
      goals: [goal('g-kept', { sector: 'social', keptVisibility: { audience: ['health'] } })],
      followUps: [followUp('f-1', { provenance: [{ ...forChildren, audience: ['education'] }] })],
    });
    expect([...departmentsInPlan(kept, [], at)].sort()).toEqual(['education', 'health', 'social']);
  });

  it('and a department an active member’s consent or legal basis names as recipient, while in force', () => {
    expect(departmentsInPlan(plan, [grantTo('education', 'c-m1')], at).has('education')).toBe(true);
    expect(departmentsInPlan(plan, [legalBasisTo('health', 'c-m1')], at).has('health')).toBe(true);
    // Revoked, expired, not yet begun, ended, or given by a member who has left: not a part.
    const notInForce = [
      grantTo('education', 'c-m1', { revokedAt: '2026-11-20T10:00:00.000Z' }),
      grantTo('education', 'c-m1', { id: 'g-2', validTo: '2026-11-24' }),
      grantTo('education', 'c-m1', { id: 'g-3', validFrom: '2026-12-01' }),
      legalBasisTo('health', 'c-m1', { endedAt: '2026-11-20T10:00:00.000Z' }),
      grantTo('health', 'c-m2'),
      // The plan itself, a provider or another municipality is not a department.
      grantTo('enplan', 'c-m1', { id: 'g-4' }),
      grantTo('provider:p-1', 'c-m1', { id: 'g-5' }),
    ];
    const found = departmentsInPlan(plan, notInForce, at);
    expect(found.has('education')).toBe(false);
    expect(found.has('health')).toBe(false);
    expect(found.size).toBe(4);
  });
});

describe('a caseworker of a department that takes no part in the plan reads it', () => {
  let app: Awaited<ReturnType<typeof startTestApp>>;
  const clock = new TestClock(at.getTime());
  beforeAll(async () => {
    app = await startTestApp({ clock });
  });
  afterAll(() => app.close());

  const read = async (planId: string, department?: string) => {
    const token = await app.harness.token({ tenant: '101', roles: ['caseworker'], sub: `anna-${department ?? 'none'}`, ...(department ? { department: department as never } : {}) });
    return app.harness.request(`/v1/plans/${planId}`, { headers: { authorization: `Bearer ${token}` } });
  };
  const lookUp = async (cpr: string, department: string) => {
    const token = await app.harness.token({ tenant: '101', roles: ['caseworker'], sub: `anna-${department}`, department: department as never });
    return app.harness.request('/v1/plans/lookup', { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ cpr }) });
  };
  const readsOf = async (citizenId: string) =>
    (await app.deps.store.audit.list('101', { citizenId, limit: 1000 })).filter((r) => r.action === 'plan.read' || r.action === 'plan.looked-up').map((r) => [r.action, r.actor, r.detail]);
  const citizenFlows = async (citizenId: string) => {
    const token = await app.harness.token({ tenant: '101', roles: ['citizen'], citizenId });
    const response = await app.harness.request('/v1/citizen/data-flows', { headers: { authorization: `Bearer ${token}` } });
    expect(response.status).toBe(200);
    return ((await response.json()) as { flows: { kind: string; text: string }[] }).flows.filter((f) => f.kind === 'viewed').map((f) => f.text);
  };

  it('may read it, and the read says so: in the audit row, on a line of its own to the citizen; a part’s read and one with no department named do not', async () => {
    const cpr = testCpr();
    const plan = await enrol(app.deps, cpr);
    const citizenId = plan.subject.kind === 'citizen' ? plan.subject.member.citizenId : '';
    // The plan's coordination is not yet appointed and it holds nothing: no department takes part, until consent names education.
    expect(plan.coordinator).toBeUndefined();
    // A minute apart, so the citizen's lines come in a known order.
    const minuteLater = () => clock.advance(60_000);
    // The caseworker is told in the answer too (`view.departmentInPlan`); a token naming no department is not weighed.
    const viewOf = async (response: Response) => ((await response.json()) as { view: Record<string, unknown> }).view;
    expect(await viewOf(await read(plan.id, 'employment'))).toMatchObject({ as: 'caseworker', department: 'employment', departmentInPlan: false });
    minuteLater();
    await grantConsent(app.deps, { citizenId, source: 'enplan', recipient: 'education', categories: ['plan-core'] });
    expect(await viewOf(await read(plan.id, 'education'))).toMatchObject({ department: 'education', departmentInPlan: true });
    minuteLater();
    expect(await viewOf(await read(plan.id))).not.toHaveProperty('departmentInPlan');
    minuteLater();
    const found = await lookUp(cpr, 'health');
    expect(found.status).toBe(200);
    expect(((await found.json()) as { plans: { id: string; view: Record<string, unknown> }[] }).plans.map((p) => [p.id, p.view.departmentInPlan])).toEqual([[plan.id, false]]);
    expect(await readsOf(citizenId)).toEqual([
      ['plan.read', 'caseworker:anna-employment', { view: 'caseworker', department: 'employment', departmentInPlan: false }],
      ['plan.read', 'caseworker:anna-education', { view: 'caseworker', department: 'education', departmentInPlan: true }],
      ['plan.read', 'caseworker:anna-none', { view: 'caseworker' }],
      ['plan.looked-up', 'caseworker:anna-health', { department: 'health', departmentInPlan: false }],
    ]);
    expect(await citizenFlows(citizenId)).toEqual([
      'Den 25. november 2026 kl. 13.03 åbnede en sagsbehandler fra sundhedsområdet din Én plan efter at have søgt på CPR-nummeret, selv om sundhedsområdet ikke er part i planen. Det er registreret, hvem det var, og kommunens databeskyttelsesrådgiver kan se det.',
      // The part's read and the one naming no department are the day's line, as before.
      'Den 25. november 2026 åbnede kommunens sagsbehandlere fra uddannelsesvejledningen din Én plan 2 gange, senest kl. 13.02.',
      'Den 25. november 2026 kl. 13.00 åbnede en sagsbehandler fra Jobcentret din Én plan, selv om Jobcentret ikke er part i planen. Det er registreret, hvem det var, og kommunens databeskyttelsesrådgiver kan se det.',
    ]);

    // The DPO's follow-up, a minute later: those two reads, users named, paged; the look itself is logged.
    minuteLater();
    const dpo = await app.harness.token({ tenant: '101', roles: ['dpo'], sub: 'dpo-1' });
    const outside = async (query: string, tenant = '101') =>
      app.harness.request(`/v1/data-subject/reads-from-outside${query}`, { headers: { authorization: `Bearer ${tenant === '101' ? dpo : await app.harness.token({ tenant, roles: ['dpo'], sub: 'dpo-2' })}` } });
    const first = await outside('?limit=1');
    expect(first.status).toBe(200);
    const page = (await first.json()) as { entries: Record<string, unknown>[]; nextAfterSeq: number | null; from: string; to: string };
    expect(page).toMatchObject({ from: '2026-10-26T12:04:00.000Z', to: '2026-11-25T12:04:00.000Z' });
    expect(page.entries).toEqual([{ seq: expect.any(Number), at: '2026-11-25T12:00:00.000Z', actor: 'caseworker:anna-employment', action: 'plan.read', planId: plan.id, citizenId, department: 'employment' }]);
    const rest = (await (await outside(`?afterSeq=${page.nextAfterSeq}`)).json()) as typeof page;
    expect(rest.entries).toEqual([{ seq: expect.any(Number), at: '2026-11-25T12:03:00.000Z', actor: 'caseworker:anna-health', action: 'plan.looked-up', planId: plan.id, citizenId, department: 'health' }]);
    expect(rest.nextAfterSeq).toBeNull();
    // A period that ends before them holds neither; another municipality's DPO sees none of them.
    const before = (await (await outside('?from=2026-11-01T00:00:00Z&to=2026-11-25T12:00:00Z')).json()) as typeof page;
    expect(before.entries).toEqual([]);
    expect(((await (await outside('', '751')).json()) as typeof page).entries).toEqual([]);
    expect((await app.deps.store.audit.list('101', { limit: 10_000 })).filter((r) => r.action === 'data-subject.reads-from-outside-listed').map((r) => [r.actor, r.citizenId, r.detail.entries])).toEqual([
      ['dpo:dpo-1', null, 1],
      ['dpo:dpo-1', null, 1],
      ['dpo:dpo-1', null, 0],
    ]);
    // IT staff see how many, not who: in the overview, on /metrics and the dashboard; a day later, none.
    expect((await monitoringOverview(app.deps, '101')).readsFromOutsideLastDay).toBe(2);
    expect(toPrometheus(await monitoringOverview(app.deps, '101'))).toContain('enplan_plan_reads_from_outside_last_day{tenant="101"} 2');
    const itStaff = await app.harness.token({ tenant: '101', roles: ['it-staff'], sub: 'it-1' });
    const dashboard = await (await app.harness.request('/dashboard', { headers: { cookie: `enplan_session=${itStaff}` } })).text();
    expect(dashboard).toContain('Reads of plans by departments taking no part in them, last 24 hours: 2');
    expect(dashboard).not.toContain('anna-employment');
    expect((await monitoringOverview(app.deps, '751')).readsFromOutsideLastDay).toBe(0);

    // The DPO's page lists the same, users named; IT staff are sent back to the dashboard.
    const pageAs = async (token: string, query = '') => app.harness.request(`/dashboard/reads-from-outside${query}`, { headers: { cookie: `enplan_session=${token}` } });
    const dpoPage = await (await pageAs(dpo)).text();
    expect(dpoPage.match(/<tr data-seq=/g)).toHaveLength(2);
    expect(dpoPage).toContain('anna-employment');
    expect(dpoPage).toContain('found it by CPR number');
    expect(await (await app.harness.request('/dashboard/processing-record', { headers: { cookie: `enplan_session=${dpo}` } })).text()).toContain('href="/dashboard/reads-from-outside"');
    expect(await (await app.harness.request('/dashboard/processing-record', { headers: { cookie: `enplan_session=${itStaff}` } })).text()).not.toContain('href="/dashboard/reads-from-outside"');
    const itPage = await pageAs(itStaff);
    expect(itPage.status).toBe(303);
    expect(itPage.headers.get('location')).toBe('/dashboard');
    expect((await pageAs(dpo, '?from=yesterday')).status).toBe(400);

    // A caseworker may not list them; a period turned around is a problem, not an empty answer.
    const caseworker = await app.harness.token({ tenant: '101', roles: ['caseworker'], sub: 'anna' });
    expect((await app.harness.request('/v1/data-subject/reads-from-outside', { headers: { authorization: `Bearer ${caseworker}` } })).status).toBe(403);
    const turned = await outside('?from=2026-11-25T00:00:00Z&to=2026-11-24T00:00:00Z');
    expect(turned.status).toBe(400);
    expect(((await turned.json()) as { detail: string }).detail).toMatch(/`from` must come before `to`/);
    expect((await outside('?from=yesterday')).status).toBe(400);
    clock.advance(24 * 60 * 60_000);
    expect((await monitoringOverview(app.deps, '101')).readsFromOutsideLastDay).toBe(0);
  });
});
