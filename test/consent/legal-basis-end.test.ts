/**
 * The municipality ends a legal-basis record whose basis no longer applies (R11, R16): nothing more
 * flows on it, what rests on it alone leaves the plans at once, the end is audited once, and the
 * citizen is told. Real DFDG simulator over HTTP, libSQL, the API.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDfdgAdapter, startDfdgSimulator, type DfdgSimulator } from '../../adapters/dfdg';
import { generatePopulation } from '../../adapters/shared/population';
import { membersOf, type Plan } from '../../src/model';
import { allMappings } from '../../src/sync/all-mappings';
import { runSync } from '../../src/sync/engine';
import { startTestApp } from '../support/node-app';
import { enrol, grantConsent } from '../support/seed';

const population = generatePopulation(3, 8181).map((c) => ({ ...c, sectors: { employment: true, education: false, social: false, health: false } }));
let dfdg: DfdgSimulator;
beforeAll(async () => {
  dfdg = await startDfdgSimulator({ population, port: 0 });
});
afterAll(() => dfdg?.close());

const fromDfdg = (plan: Plan) => [...plan.goals, ...plan.interventions, ...plan.agreements].filter((e) => e.provenance.some((p) => p.kind === 'source' && p.system === 'dfdg'));

describe('ending a legal-basis record', () => {
  it('stops the flow, removes what rested on it at once, logs the end once, and tells the citizen', async () => {
    const app = await startTestApp({ adapters: { dfdg: createDfdgAdapter({ baseUrl: dfdg.url, organisation: { typeIdentifier: 'kommune', code: '101' } }) }, mappings: allMappings });
    const token = await app.harness.token({ tenant: '101', roles: ['caseworker'] });
    const call = async (path: string, body: unknown) => {
      const response = await app.harness.request(path, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
      return { status: response.status, body: (await response.json()) as any };
    };
    const plan = await enrol(app.deps, population[0]!.cpr);
    const member = membersOf(plan)[0]!;
    const recorded = await call('/v1/consents/legal-basis', { planId: plan.id, memberId: member.memberId, source: 'dfdg', recipient: 'enplan', categories: ['plan-core', 'employment', 'goals', 'interventions'], basis: 'LAB § 20 (deling uden samtykke)' });
    expect(recorded.status).toBe(201);
    const sync = () => runSync(app.deps, { tenant: '101', adapter: 'dfdg', trigger: 'test', mappings: allMappings });
    await sync();
    const before = (await app.deps.store.plans.get('101', plan.id))!;
    expect(fromDfdg(before).length).toBeGreaterThan(0);

    const ended = await call(`/v1/consents/legal-basis/${recorded.body.id}/end`, { reason: 'Sagen er afsluttet' });
    expect(ended.status).toBe(200);
    expect(ended.body.legalBasis).toMatchObject({ id: recorded.body.id, endedAt: expect.any(String), endReason: 'Sagen er afsluttet' });
    expect(ended.body.plans.map((p: { planId: string }) => p.planId)).toEqual([plan.id]);
    const after = (await app.deps.store.plans.get('101', plan.id))!;
    expect(fromDfdg(after)).toEqual([]);

    // Again: the first end stands, nothing more changes, nothing is logged twice.
    const again = await call(`/v1/consents/legal-basis/${recorded.body.id}/end`, { reason: 'igen' });
    expect(again.status).toBe(200);
    expect(again.body.legalBasis.endedAt).toBe(ended.body.legalBasis.endedAt);
    expect(again.body.plans).toEqual([]);
    const audit = await app.deps.store.audit.list('101', { citizenId: member.citizenId });
    expect(audit.filter((a) => a.action === 'legal-basis.ended')).toHaveLength(1);
    expect(JSON.stringify(audit.filter((a) => a.action === 'legal-basis.ended'))).not.toContain('Sagen er afsluttet');

    // As FHIR, the record's Consent is no longer active.
    const fhir = (await (await app.harness.request(`/v1/plans/${plan.id}/consents?format=fhir`, { headers: { authorization: `Bearer ${token}` } })).json()) as { entry: { resource: { resourceType: string; status?: string; identifier?: { value: string }[] } }[] };
    expect(fhir.entry.map((e) => e.resource).find((r) => r.resourceType === 'Consent' && r.identifier?.[0]?.value === recorded.body.id)?.status).toBe('inactive');

    // The next sync does not bring it back.
    dfdg.mutate(1);
    expect((await sync()).stats.refusedByConsent).toBeGreaterThan(0);
    expect(fromDfdg((await app.deps.store.plans.get('101', plan.id))!)).toEqual([]);

    // The citizen is told what left and why, and that the basis was ended.
    const citizenToken = await app.harness.token({ tenant: '101', roles: ['citizen'], citizenId: member.citizenId });
    const log = (await (await app.harness.request('/v1/citizen/data-flows', { headers: { authorization: `Bearer ${citizenToken}` } })).json()) as { flows: { kind: string; text: string }[]; legalBases: { id: string; text: string }[] };
    expect(log.flows.find((f) => f.kind === 'removed')?.text).toMatch(/fjernet fra din Én plan, fordi kommunen afsluttede det lovgrundlag, de var delt på uden dit samtykke \(LAB § 20 \(deling uden samtykke\)\), den /);
    expect(log.legalBases.find((r) => r.id === recorded.body.id)?.text).toContain('Kommunen afsluttede grundlaget den');
    await app.close();
  });

  it('is for caseworkers, answers 404 for anything but a legal-basis record of the municipality, and wants a reason', async () => {
    const app = await startTestApp({ mappings: allMappings });
    const plan = await enrol(app.deps, population[1]!.cpr);
    const grant = await grantConsent(app.deps, { citizenId: membersOf(plan)[0]!.citizenId, source: 'dfdg', categories: ['goals'] });
    const post = async (roles: string[], path: string, body: unknown) =>
      (await app.harness.request(path, { method: 'POST', headers: { authorization: `Bearer ${await app.harness.token({ tenant: '101', roles: roles as never, citizenId: 'c-x' })}`, 'content-type': 'application/json' }, body: JSON.stringify(body) })).status;
    expect(await post(['caseworker'], `/v1/consents/legal-basis/${grant.id}/end`, { reason: 'x' })).toBe(404);
    expect(await post(['caseworker'], `/v1/consents/legal-basis/${crypto.randomUUID()}/end`, { reason: 'x' })).toBe(404);
    expect(await post(['citizen'], `/v1/consents/legal-basis/${grant.id}/end`, { reason: 'x' })).toBe(403);
    expect(await post(['caseworker'], `/v1/consents/legal-basis/${grant.id}/end`, {})).toBe(400);
    expect(await post(['caseworker'], `/v1/consents/legal-basis/${grant.id}/end`, { reason: '  ' })).toBe(400);
    await app.close();
  });
});
