/**
 * R9 per recipient party, end to end: a citizen consents that the region's health data go to the
 * social department alone. The sync merges it for that department (provenance `audience`), logs the
 * flow to that department, and the API shows it to that department's caseworkers only; revoking a
 * grant to the whole plan narrows what stays instead of removing it, and a new one widens it again.
 * Real simulators over HTTP, libSQL, the app's routes.
 */
import { describe, expect, it } from 'vitest';
import { createDfdgAdapter } from '../../adapters/dfdg';
import { createHealthAdapter } from '../../adapters/health/adapter';
import { generatePopulation } from '../../adapters/shared/population';
import { membersOf, type Department, type Plan, type Provenance } from '../../src/model';
import { allMappings } from '../../src/sync/all-mappings';
import { runSync } from '../../src/sync/engine';
import { startTestApp } from '../support/node-app';
import { enrol, grantConsent } from '../support/seed';
import { dfdgAndHealthSimulators } from '../support/sector-simulators';
import { followUp } from '../support/elements';
import { bundleProblems } from '../fhir/support';
import type { Bundle } from '@medplum/fhirtypes';

const population = generatePopulation(4, 5151).map((c) => ({ ...c, sectors: { employment: true, education: false, social: false, health: true } }));
const employment = ['plan-core', 'employment', 'goals', 'interventions'] as const;
const simulators = dfdgAndHealthSimulators(population);

type App = Awaited<ReturnType<typeof startTestApp>>;
const freshApp = () =>
  startTestApp({
    adapters: {
      dfdg: createDfdgAdapter({ baseUrl: simulators.dfdg.url, organisation: { typeIdentifier: 'kommune', code: '101' } }),
      health: createHealthAdapter({ baseUrl: simulators.health.baseUrl, timeoutMs: 5000 }),
    },
    mappings: allMappings,
  });
const sync = (app: App, adapter: 'dfdg' | 'health') => runSync(app.deps, { tenant: '101', adapter, trigger: 'test', mappings: allMappings });
const citizenIdOf = (plan: Plan) => membersOf(plan)[0]!.citizenId;
const elementsOf = (plan: Plan) => [...plan.goals, ...plan.interventions, ...plan.agreements, ...plan.situationNotes, ...plan.careTeams];
const fromHealth = (plan: Plan) => elementsOf(plan).filter((e) => e.provenance.some((p) => p.kind === 'source' && p.system === 'health'));
const healthEntries = (plan: Plan) => fromHealth(plan).flatMap((e) => e.provenance.filter((p): p is Extract<Provenance, { kind: 'source' }> => p.kind === 'source' && p.system === 'health'));

async function readAs(app: App, planId: string, department?: Department, format = '') {
  const token = await app.harness.token({ tenant: '101', roles: ['caseworker'], ...(department ? { department } : {}) });
  const response = await app.harness.request(`/v1/plans/${planId}${format}`, { headers: { authorization: `Bearer ${token}` } });
  expect(response.status).toBe(200);
  return response.text();
}

describe('consent to one department (R9)', () => {
  it('merges the data for that department alone, logs the flow to it, and shows it to its caseworkers only', async () => {
    const app = await freshApp();
    const plan = await enrol(app.deps, population[0]!.cpr);
    await grantConsent(app.deps, { citizenId: citizenIdOf(plan), source: 'dfdg', categories: [...employment] });
    await grantConsent(app.deps, { citizenId: citizenIdOf(plan), source: 'health', recipient: 'social', categories: ['health'], explicitHealth: true });
    expect((await sync(app, 'dfdg')).status).toBe('succeeded');
    const healthRun = await sync(app, 'health');
    expect(healthRun.stats.refusedByConsent).toBe(0);
    expect(healthRun.stats.recordsMerged).toBeGreaterThan(0);

    const stored = (await app.deps.store.plans.get('101', plan.id))!;
    const healthIds = fromHealth(stored).map((e) => e.id);
    expect(healthIds.length).toBeGreaterThan(0);
    expect(healthEntries(stored).every((p) => JSON.stringify(p.audience) === '["social"]')).toBe(true);
    expect(elementsOf(stored).filter((e) => e.provenance.some((p) => p.kind === 'source' && p.system === 'dfdg')).every((e) => e.provenance.every((p) => p.kind !== 'source' || !p.audience))).toBe(true);

    // Each flow is logged to whom it went.
    const flows = (await app.deps.store.audit.list('101', { citizenId: citizenIdOf(plan) })).filter((a) => a.action === 'data.flowed');
    expect(flows.filter((f) => f.detail.source === 'health').map((f) => f.detail.recipient)).toEqual(['social']);
    expect(flows.filter((f) => f.detail.source === 'dfdg').map((f) => f.detail.recipient)).toEqual(['enplan']);

    const social = await readAs(app, plan.id, 'social');
    for (const id of healthIds) expect(social).toContain(JSON.stringify(id));
    // As FHIR, the department's elements are marked restricted and say to whom, so a receiving system can keep them so.
    const bundle = JSON.parse(await readAs(app, plan.id, 'social', '?format=fhir')) as { entry: { resource: { resourceType: string; meta?: { tag?: { system: string; code: string }[]; security?: { code: string }[] } } }[] };
    const marked = bundle.entry.map((e) => e.resource).filter((r) => r.meta?.tag?.some((t) => t.system === 'urn:enplan:audience'));
    expect(marked.length).toBeGreaterThan(0);
    expect(bundleProblems(bundle as unknown as Bundle, [population[0]!.cpr])).toEqual([]);
    for (const resource of marked) {
      expect(resource.meta!.tag!.filter((t) => t.system === 'urn:enplan:audience').map((t) => t.code)).toEqual(['social']);
      expect(resource.meta!.security!.map((c) => c.code)).toEqual(['R']);
    }
    for (const text of [await readAs(app, plan.id, 'employment'), await readAs(app, plan.id), await readAs(app, plan.id, 'employment', '?format=fhir')]) {
      for (const id of healthIds) expect(text).not.toContain(id.replace(/^health:[a-z-]+:/, ''));
      expect(text).not.toContain('"system":"health"');
    }
    // Found by CPR, the plan is the same view.
    const lookUp = async (department: Department) => {
      const response = await app.harness.request('/v1/plans/lookup', {
        method: 'POST',
        headers: { authorization: `Bearer ${await app.harness.token({ tenant: '101', roles: ['caseworker'], department })}`, 'content-type': 'application/json' },
        body: JSON.stringify({ cpr: population[0]!.cpr }),
      });
      expect(response.status).toBe(200);
      return response.text();
    };
    expect(await lookUp('employment')).not.toContain('"system":"health"');
    expect(await lookUp('social')).toContain(JSON.stringify(healthIds[0]));
    const employmentView = JSON.parse(await readAs(app, plan.id, 'employment')) as Plan & { view: { department?: string } };
    expect(employmentView.view.department).toBe('employment');
    expect(employmentView.interventions.length).toBeGreaterThan(0);

    // The citizen's log names the department.
    const citizenToken = await app.harness.token({ tenant: '101', roles: ['citizen'], citizenId: citizenIdOf(plan) });
    const log = (await (await app.harness.request('/v1/citizen/data-flows', { headers: { authorization: `Bearer ${citizenToken}` } })).json()) as { flows: { kind: string; source: string; recipient: string; text: string }[] };
    expect(log.flows.find((f) => f.kind === 'flowed' && f.source === 'health')).toMatchObject({ recipient: 'social', text: expect.stringContaining('til socialforvaltningen') });
    // And which departments opened the plan (R13).
    expect(log.flows.find((f) => f.kind === 'viewed')?.text).toMatch(/åbnede kommunens sagsbehandlere fra Jobcentret og socialforvaltningen din Én plan \d+ gange/);

    // A registration that refers to the department's data: refused to others, accepted from the department.
    const { id: _id, provenance: _p, done: _d, doneAt: _da, ruleVersion: _r, ...input } = followUp('unused', { elementId: healthIds[0]!, due: '2026-12-15' });
    const register = async (department: Department, key: string) =>
      app.harness.request('/v1/registrations', {
        method: 'POST',
        headers: { authorization: `Bearer ${await app.harness.token({ tenant: '101', roles: ['caseworker'], department })}`, 'content-type': 'application/json', 'idempotency-key': key },
        body: JSON.stringify({ planId: plan.id, kind: 'followup.scheduled', followUp: input }),
      });
    const refused = await register('employment', 'dept-refused-1');
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as { detail: string }).detail).toContain('not in the plan');
    expect((await register('social', 'dept-accepted-1')).status).toBe(202);
    await app.close();
  });

  it('revoking the grant to the whole plan narrows the data to the department another grant names; a new one widens it again', async () => {
    const app = await freshApp();
    const plan = await enrol(app.deps, population[1]!.cpr);
    const citizenId = citizenIdOf(plan);
    const toAll = await grantConsent(app.deps, { citizenId, source: 'health', categories: ['health'], explicitHealth: true });
    await grantConsent(app.deps, { citizenId, source: 'health', recipient: 'social', categories: ['health'], explicitHealth: true });
    await sync(app, 'health');
    const before = (await app.deps.store.plans.get('101', plan.id))!;
    const healthIds = fromHealth(before).map((e) => e.id).sort();
    expect(healthIds.length).toBeGreaterThan(0);
    expect(healthEntries(before).every((p) => !p.audience)).toBe(true);
    expect(await readAs(app, plan.id, 'employment')).toContain(JSON.stringify(healthIds[0]));

    const token = await app.harness.token({ tenant: '101', roles: ['caseworker'], department: 'social' });
    const revoke = await app.harness.request(`/v1/consents/${toAll.id}/revoke`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: '{}' });
    expect(revoke.status).toBe(200);
    const narrowed = (await app.deps.store.plans.get('101', plan.id))!;
    expect(fromHealth(narrowed).map((e) => e.id).sort()).toEqual(healthIds);
    expect(healthEntries(narrowed).every((p) => JSON.stringify(p.audience) === '["social"]' && p.consentRef !== toAll.id)).toBe(true);
    expect(await readAs(app, plan.id, 'employment')).not.toContain(JSON.stringify(healthIds[0]));
    expect(await readAs(app, plan.id, 'social')).toContain(JSON.stringify(healthIds[0]));

    // The citizen gives the whole plan their health data again: the next read of the source widens it.
    await grantConsent(app.deps, { citizenId, source: 'health', categories: ['health'], explicitHealth: true });
    await app.deps.store.batch([app.deps.store.sync.forgetPulledStatement('101', citizenId), app.deps.store.sync.forgetAppliedStatement('101', 'health', citizenId)]);
    await sync(app, 'health');
    const widened = (await app.deps.store.plans.get('101', plan.id))!;
    expect(healthEntries(widened).every((p) => !p.audience)).toBe(true);
    expect(await readAs(app, plan.id, 'employment')).toContain(JSON.stringify(healthIds[0]));
    await app.close();
  });
});
