/**
 * `GET /v1/plans/{id}?format=fhir` on the real app (SQLite): the same reader, the same view, the same
 * audit as the JSON read — only the shape differs. A provider's Bundle holds exactly the elements of
 * its JSON view; no Bundle holds a CPR number.
 */
import type { Bundle } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadProfiles } from '../../adapters/fhir/definitions';
import { membersOf, Plan } from '../../src/model';
import type { Role } from '../../src/security';
import { testCpr } from '../support/cpr';
import { agreement, followUp, fromSource, goal, intervention } from '../support/elements';
import { startTestApp } from '../support/node-app';
import { grantConsent } from '../support/seed';
import { bundleProblems, elementIdsOf, resourcesOf } from './support';

let app: Awaited<ReturnType<typeof startTestApp>>;
let plan: Plan;
const cpr = testCpr('1988-04-12');

interface Claims {
  roles: Role[];
  tenant?: string;
  citizenId?: string;
  providerId?: string;
}

async function get(path: string, claims: Claims | null, headers: Record<string, string> = {}) {
  const token = claims ? await app.harness.token({ tenant: claims.tenant ?? '101', ...claims }) : null;
  const response = await app.harness.request(path, { headers: { ...headers, ...(token ? { authorization: `Bearer ${token}` } : {}) } });
  const text = await response.text();
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- bodies are checked field by field
  return { status: response.status, type: response.headers.get('content-type') ?? '', text, body: (text ? JSON.parse(text) : null) as any };
}

const caseworker: Claims = { roles: ['caseworker'] };
const elementIdsOfView = (view: { goals?: { id: string }[]; interventions?: { id: string }[]; followUps?: { id: string }[] }) =>
  [...(view.goals ?? []), ...(view.interventions ?? []), ...(view.followUps ?? [])].map((e) => e.id).sort();
const planReads = async (planId: string) => (await app.deps.store.audit.list('101')).filter((row) => row.action === 'plan.read' && row.targetId === planId);

beforeAll(async () => {
  loadProfiles();
  app = await startTestApp();
  const token = await app.harness.token({ tenant: '101', roles: ['caseworker'] });
  const created = await app.harness.request('/v1/plans', {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      cpr,
      origin: 'offered',
      purpose: 'Job og et liv med mindre angst',
      coordinator: { kind: 'caseworker', name: 'Anna Koordinator', sector: 'employment', unit: 'Jobcenter København', phone: '+45 33 33 33 33' },
    }),
  });
  expect(created.status).toBe(201);
  const stored = (await created.json()) as Plan;
  const memberId = membersOf(stored)[0]!.memberId;
  plan = Plan.parse({
    ...stored,
    goals: [
      goal('dfdg:goal:1', { sector: 'employment', title: 'Job som lagermedarbejder', targetDate: '2027-06-30', provenance: [fromSource('grant-dfdg', 'employment', 'dfdg', 'dfdg-goal-1')] }),
      goal('health:goal:2', { sector: 'health', level: 'sub', parentGoalId: 'dfdg:goal:1', title: 'Mindre angst', provenance: [fromSource('grant-health', 'health', 'health', 'Goal/2')] }),
    ],
    interventions: [
      intervention('dfdg:activity:1', memberId, {
        sector: 'employment',
        legalBasis: 'LAB § 32',
        type: { system: 'urn:enplan:dfdg:activation-type', code: 'VIP', display: 'Virksomhedspraktik' },
        title: 'Praktik på lager',
        responsibleUnit: 'Jobcenter København',
        providerId: 'lager-partner',
        goalIds: ['dfdg:goal:1'],
        provenance: [fromSource('grant-dfdg', 'employment', 'dfdg', 'dfdg-activity-1')],
      }),
      intervention('health:careplan:3:activity:0', memberId, {
        sector: 'health',
        legalBasis: 'SUL § 79',
        type: { system: 'http://snomed.info/sct', code: '228557008', display: 'Kognitiv terapi' },
        title: 'Forløb i distriktspsykiatrien',
        responsibleUnit: 'Distriktspsykiatrien',
        goalIds: ['health:goal:2'],
        order: 2,
        provenance: [fromSource('grant-health', 'health', 'health', 'CarePlan/3')],
      }),
    ],
    agreements: [agreement('a1', { provenance: [fromSource('grant-dfdg', 'employment', 'dfdg', 'dfdg-agreement-1')] })],
    followUps: [followUp('f1', { elementId: 'dfdg:activity:1' })],
    version: stored.version + 1,
  });
  expect(await app.deps.store.plans.update(plan, stored.version)).toBe(true);
});
afterAll(() => app?.close());

describe('GET /v1/plans/{id}?format=fhir', () => {
  it('gives the caseworker the whole plan as a valid FHIR R4 Bundle, without the CPR number, audited once', async () => {
    const before = (await planReads(plan.id)).length;
    const read = await get(`/v1/plans/${plan.id}?format=fhir`, caseworker);
    expect(read.status).toBe(200);
    expect(read.type).toMatch(/^application\/fhir\+json/);
    const bundle = read.body as Bundle;
    expect(bundle).toMatchObject({ resourceType: 'Bundle', type: 'collection' });
    expect(bundleProblems(bundle, [cpr])).toEqual([]);
    expect(read.text).not.toContain(cpr);
    const json = await get(`/v1/plans/${plan.id}`, caseworker);
    expect(elementIdsOf(bundle)).toEqual(elementIdsOfView(json.body));
    expect(elementIdsOf(bundle)).toHaveLength(5);
    // The member is named by the service's citizen id; a receiver resolves it through POST /v1/plans/lookup.
    const [patient] = resourcesOf(bundle, 'Patient');
    expect(patient!.identifier).toContainEqual({ system: 'urn:enplan:citizen', value: json.body.subject.member.citizenId });
    // Provenance from two systems and one registration (the follow-up).
    expect(resourcesOf(bundle, 'Provenance').map((p) => p.agent[0]!.who.identifier!.value).sort()).toEqual(['caseworker:anna', 'dfdg', 'dfdg', 'dfdg', 'health', 'health']);
    // One FHIR read and one JSON read: two audit entries, not three.
    const reads = (await planReads(plan.id)).slice(before);
    expect(reads.map((r) => r.detail.view)).toEqual(['caseworker', 'caseworker']);
  });

  it('answers `Accept: application/fhir+json` with FHIR too; an explicit format wins', async () => {
    const byAccept = await get(`/v1/plans/${plan.id}`, caseworker, { accept: 'application/fhir+json' });
    expect(byAccept.type).toMatch(/^application\/fhir\+json/);
    expect(byAccept.body.resourceType).toBe('Bundle');
    const explicit = await get(`/v1/plans/${plan.id}?format=json`, caseworker, { accept: 'application/fhir+json' });
    expect(explicit.type).toMatch(/^application\/json/);
    expect(explicit.body.id).toBe(plan.id);
    const preferJson = await get(`/v1/plans/${plan.id}`, caseworker, { accept: 'application/fhir+json;q=0.5, application/json' });
    expect(preferJson.body.id).toBe(plan.id);
  });

  it('gives a provider only its part: the same elements as its JSON view, no citizen id, no provenance; audited as the JSON read is', async () => {
    const provider: Claims = { roles: ['provider'], providerId: 'lager-partner' };
    const before = (await planReads(plan.id)).length;
    const fhir = await get(`/v1/plans/${plan.id}?format=fhir`, provider);
    expect(fhir.status).toBe(200);
    const json = await get(`/v1/plans/${plan.id}`, provider);
    expect(json.status).toBe(200);
    const bundle = fhir.body as Bundle;
    expect(bundleProblems(bundle, [cpr])).toEqual([]);
    expect(elementIdsOf(bundle)).toEqual(elementIdsOfView(json.body));
    expect(elementIdsOf(bundle)).toEqual(['dfdg:activity:1', 'dfdg:goal:1']);
    expect(resourcesOf(bundle, 'Provenance')).toEqual([]);
    expect(fhir.text).not.toContain('urn:enplan:citizen');
    expect(fhir.text).not.toContain('Forløb i distriktspsykiatrien');
    expect(bundle.meta!.tag).toEqual([{ system: 'urn:enplan:view', code: 'provider' }]);
    const reads = (await planReads(plan.id)).slice(before);
    expect(reads.map((r) => [r.detail.view, r.detail.recipient])).toEqual([
      ['provider', 'provider:lager-partner'],
      ['provider', 'provider:lager-partner'],
    ]);
    expect((await get(`/v1/plans/${plan.id}?format=fhir`, { roles: ['provider'], providerId: 'another-provider' })).status).toBe(404);
  });

  it('gives the member citizen their plan, and a citizen of another plan a 404', async () => {
    const citizenId = membersOf(plan)[0]!.citizenId;
    const own = await get(`/v1/plans/${plan.id}?format=fhir`, { roles: ['citizen'], citizenId });
    expect(own.status).toBe(200);
    expect(bundleProblems(own.body, [cpr])).toEqual([]);
    expect(own.body.meta.tag).toEqual([{ system: 'urn:enplan:view', code: 'citizen' }]);
    const stranger = await get(`/v1/plans/${plan.id}?format=fhir`, { roles: ['citizen'], citizenId: 'someone-else' });
    expect(stranger.status).toBe(404);
    expect(stranger.type).toMatch(/^application\/problem\+json/);
    expect(stranger.body.type).toBe('/problems/not-found');
    expect((await get(`/v1/plans/${plan.id}?format=fhir`, { roles: ['caseworker'], tenant: '751' })).status).toBe(404);
  });

  it('refuses an unknown format with a 400 problem, no token with 401, a vendor with 403', async () => {
    for (const format of ['xml', 'FHIR', '']) {
      const response = await get(`/v1/plans/${plan.id}?format=${format}`, caseworker);
      expect(response.status, format).toBe(400);
      expect(response.type).toMatch(/^application\/problem\+json/);
      expect(response.body.type).toBe('/problems/validation-failed');
      expect(response.body.errors[0].path).toBe('format');
    }
    const anonymous = await get(`/v1/plans/${plan.id}?format=fhir`, null);
    expect(anonymous.status).toBe(401);
    expect(anonymous.body.type).toBe('/problems/unauthenticated');
    expect((await get(`/v1/plans/${plan.id}?format=fhir`, { roles: ['vendor'] })).status).toBe(403);
  });

  it('is documented: the format parameter and the FHIR content type of the answer', async () => {
    const doc = (await get('/openapi.json', null)).body;
    const operation = doc.paths['/v1/plans/{id}'].get;
    expect(operation.parameters.find((p: { name: string }) => p.name === 'format')).toMatchObject({ in: 'query', schema: { enum: ['json', 'fhir'] } });
    expect(Object.keys(operation.responses['200'].content).sort()).toEqual(['application/fhir+json', 'application/json']);
  });
});

describe('GET /v1/plans/{id}/consents?format=fhir', () => {
  const consentReads = async (planId: string) => (await app.deps.store.audit.list('101')).filter((row) => row.action === 'plan.consents-read' && row.targetId === planId);

  it('gives the caseworker the grants and legal-basis records as valid FHIR R4 Consents, the same read as the JSON listing, audited once', async () => {
    const citizenId = membersOf(plan)[0]!.citizenId;
    await grantConsent(app.deps, { citizenId, source: 'dfdg', categories: ['employment', 'goals'] });
    await grantConsent(app.deps, { citizenId, source: 'health', categories: ['health'], recipient: 'provider:lager-partner', validTo: '2027-12-31' });
    const legal = await app.harness.request('/v1/consents/legal-basis', {
      method: 'POST',
      headers: { authorization: `Bearer ${await app.harness.token({ tenant: '101', roles: ['caseworker'] })}`, 'content-type': 'application/json' },
      body: JSON.stringify({ planId: plan.id, memberId: membersOf(plan)[0]!.memberId, source: 'social', recipient: 'children', categories: ['social'], basis: 'SEL § 49 b' }),
    });
    expect(legal.status, await legal.clone().text()).toBe(201);

    const listing = await get(`/v1/plans/${plan.id}/consents`, caseworker);
    expect(listing.status).toBe(200);
    const before = (await consentReads(plan.id)).length;
    const fhir = await get(`/v1/plans/${plan.id}/consents?format=fhir`, caseworker);
    expect(fhir.status).toBe(200);
    expect(fhir.type).toMatch(/^application\/fhir\+json/);
    const bundle = fhir.body as Bundle;
    expect(bundleProblems(bundle, [cpr])).toEqual([]);
    const consentIds = resourcesOf(bundle, 'Consent').map((c) => c.identifier![0]!.value).sort();
    expect(consentIds).toEqual([...listing.body.grants, ...listing.body.legalBases].map((d: { id: string }) => d.id).sort());
    expect(consentIds).toHaveLength(3);
    expect((await consentReads(plan.id)).length).toBe(before + 1);
    // The plan's own Bundle names the member by the same Patient id.
    const planBundle = (await get(`/v1/plans/${plan.id}?format=fhir`, caseworker)).body as Bundle;
    expect(resourcesOf(bundle, 'Patient').map((p) => p.id)).toEqual(resourcesOf(planBundle, 'Patient').map((p) => p.id));
    // Accept asks for it too; an explicit format wins.
    expect((await get(`/v1/plans/${plan.id}/consents`, caseworker, { accept: 'application/fhir+json' })).type).toMatch(/^application\/fhir\+json/);
    expect((await get(`/v1/plans/${plan.id}/consents?format=json`, caseworker, { accept: 'application/fhir+json' })).body.planId).toBe(plan.id);
  });

  it('is refused as the JSON listing is: 404 for another municipality, 403 for a citizen or provider, 400 for an unknown format — and documented', async () => {
    expect((await get(`/v1/plans/${plan.id}/consents?format=fhir`, { roles: ['caseworker'], tenant: '751' })).status).toBe(404);
    expect((await get(`/v1/plans/${plan.id}/consents?format=fhir`, { roles: ['citizen'], citizenId: membersOf(plan)[0]!.citizenId })).status).toBe(403);
    expect((await get(`/v1/plans/${plan.id}/consents?format=fhir`, { roles: ['provider'], providerId: 'lager-partner' })).status).toBe(403);
    const unknown = await get(`/v1/plans/${plan.id}/consents?format=xml`, caseworker);
    expect(unknown.status).toBe(400);
    expect(unknown.body.errors[0].path).toBe('format');
    const operation = (await get('/openapi.json', null)).body.paths['/v1/plans/{id}/consents'].get;
    expect(operation.parameters.find((p: { name: string }) => p.name === 'format')).toMatchObject({ in: 'query', schema: { enum: ['json', 'fhir'] } });
    expect(Object.keys(operation.responses['200'].content).sort()).toEqual(['application/fhir+json', 'application/json']);
  });
});
