/**
 * A record a FHIR sector system deletes outright (`DELETE [base]/Type/id`, no new version of it) leaves
 * the plan as a record whose newer version no longer yields an element does (decision 0003, session
 * 19): the simulator keeps the deletion in its history (a `history` Bundle, DELETE entries, `_since`
 * inclusive, keyset pages), the FHIR adapter's change feed reports it after the search's changes,
 * and the engine finds whose record it was by its marks and takes off all it said. A Consent the
 * region deletes is gone from its say on sharing. Real social and health simulators over HTTP,
 * libSQL. Citizens are named by their place in the population, never by CPR.
 */
import type { Consent, Goal } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChangesPage, SourceAdapter } from '../../adapters/adapter';
import { ENPLAN_ELEMENT_SYSTEM } from '../../adapters/fhir/systems';
import { createHealthAdapter } from '../../adapters/health/adapter';
import { startHealthSimulator } from '../../adapters/health/simulator';
import { generatePopulation } from '../../adapters/shared/population';
import { createSocialAdapter } from '../../adapters/social/adapter';
import { startSocialSimulator, type SectorSimulator } from '../../adapters/social/simulator';
import { membersOf, type DataCategory, type Plan } from '../../src/model';
import { allMappings } from '../../src/sync/all-mappings';
import { runSync } from '../../src/sync/engine';
import { startTestApp } from '../support/node-app';
import { enrol, grantConsent } from '../support/seed';

const SEED = 2026;
const population = generatePopulation(24, 4848).map((c) => ({ ...c, sectors: { employment: false, education: false, social: true, health: true } }));
let social: SectorSimulator;
let health: SectorSimulator;
beforeAll(async () => {
  [social, health] = await Promise.all([startSocialSimulator({ population, seed: SEED, port: 0 }), startHealthSimulator({ population, seed: SEED, port: 0 })]);
});
afterAll(async () => {
  await Promise.all([social?.close(), health?.close()]);
});

type App = Awaited<ReturnType<typeof startTestApp>>;
const socialCategories: DataCategory[] = ['plan-core', 'social', 'goals', 'interventions', 'health'];
const freshApp = () =>
  startTestApp({
    adapters: { social: createSocialAdapter({ baseUrl: social.baseUrl, timeoutMs: 5000 }), health: createHealthAdapter({ baseUrl: health.baseUrl, timeoutMs: 5000 }) },
    mappings: allMappings,
  });
const sync = (app: App, adapter: 'social' | 'health', pageSize?: number) => runSync(app.deps, { tenant: '101', adapter, trigger: 'test', mappings: allMappings, ...(pageSize ? { pageSize } : {}) });
const citizenIdOf = (plan: Plan) => membersOf(plan)[0]!.citizenId;
const stored = async (app: App, plan: Plan) => (await app.deps.store.plans.get('101', plan.id)) as Plan;
const elementsOf = (plan: Plan) => [...plan.goals, ...plan.interventions, ...plan.agreements, ...plan.followUps, ...plan.situationNotes, ...plan.careTeams];
const sourcesOf = (element: { provenance: Plan['goals'][number]['provenance'] }) => element.provenance.flatMap((p) => (p.kind === 'source' ? [`${p.system}:${p.recordId}`] : []));
const auditOf = async (app: App, plan: Plan, action: string) => (await app.deps.store.audit.list('101', { citizenId: citizenIdOf(plan) })).filter((a) => a.action === action);

/** Enrols the citizen of this ordinal with consent for the social system's data (and the region's, when asked). */
async function enrolled(app: App, ordinal: number, withHealth = false) {
  const plan = await enrol(app.deps, population[ordinal]!.cpr);
  await grantConsent(app.deps, { citizenId: citizenIdOf(plan), source: 'social', categories: socialCategories, explicitHealth: true });
  if (withHealth) await grantConsent(app.deps, { citizenId: citizenIdOf(plan), source: 'health', categories: ['health'], explicitHealth: true });
  return plan;
}

/** The situation notes the social system's Conditions put in the plan, with the Condition's id. */
const conditionNotesOf = (plan: Plan) =>
  plan.situationNotes.flatMap((note) => note.provenance.flatMap((p) => (p.kind === 'source' && p.system === 'social' && p.mappingId === 'social.condition' ? [{ id: note.id, recordId: p.recordId }] : [])));

/** The sector system deletes a record outright, as its own REST API does it. */
async function deleteAt(simulator: SectorSimulator, type: string, id: string) {
  const response = await fetch(`${simulator.baseUrl}/${type}/${id}`, { method: 'DELETE' });
  expect(response.ok).toBe(true);
}

async function getJson(url: string) {
  const response = await fetch(url, { headers: { accept: 'application/fhir+json' } });
  return { status: response.status, body: (await response.json()) as any };
}

describe('the FHIR simulator’s history', () => {
  it('serves a type’s history as a history Bundle, newest first, a deletion as a DELETE entry with no resource; `_since` is inclusive; keyset pages', async () => {
    const first = (await social.repository.searchPage({ resourceType: 'Condition', count: 3 } as never)).resources;
    expect(first.length).toBe(3);
    const [edited, deleted] = [first[0]!, first[1]!];
    const since = new Date(Date.now() - 1000).toISOString();
    const update = await fetch(`${social.baseUrl}/Condition/${edited.id}`, { method: 'PUT', headers: { 'content-type': 'application/fhir+json' }, body: JSON.stringify({ ...edited, note: [{ text: 'Revurderet' }] }) });
    expect(update.ok).toBe(true);
    await deleteAt(social, 'Condition', deleted.id!);
    // Gone for reads and searches, as before.
    expect((await getJson(`${social.baseUrl}/Condition/${deleted.id}`)).status).toBe(404);
    expect((await getJson(`${social.baseUrl}/Condition?_id=${deleted.id}`)).body.entry).toBeUndefined();

    const { status, body } = await getJson(`${social.baseUrl}/Condition/_history?_since=${encodeURIComponent(since)}`);
    expect(status).toBe(200);
    expect(body).toMatchObject({ resourceType: 'Bundle', type: 'history' });
    const [gone, put] = body.entry;
    expect(gone).toEqual({
      fullUrl: `${social.baseUrl}/Condition/${deleted.id}`,
      request: { method: 'DELETE', url: `Condition/${deleted.id}` },
      response: { status: '204', etag: `W/"${Number(deleted.meta!.versionId) + 1}"`, lastModified: expect.any(String) },
    });
    expect(gone.resource).toBeUndefined();
    expect(put).toMatchObject({ request: { method: 'PUT', url: `Condition/${edited.id}` }, resource: { id: edited.id, note: [{ text: 'Revurderet' }] } });
    expect(Date.parse(put.response.lastModified)).toBeLessThan(Date.parse(gone.response.lastModified));

    // `_since` is inclusive: the deletion's own instant still lists it, a millisecond later does not.
    const at = (ms: number) => getJson(`${social.baseUrl}/Condition/_history?_since=${encodeURIComponent(new Date(ms).toISOString())}`);
    expect((await at(Date.parse(gone.response.lastModified))).body.entry.map((e: any) => e.request.method)).toEqual(['DELETE']);
    expect((await at(Date.parse(gone.response.lastModified) + 1)).body.entry).toBeUndefined();

    // Pages of one follow the next links and give the same entries, none twice; the system level with `_type` too.
    const paged: string[] = [];
    let next: string | undefined = `${social.baseUrl}/_history?_type=Condition&_since=${encodeURIComponent(since)}&_count=1`;
    while (next) {
      const page: any = (await getJson(next)).body;
      expect(page.type).toBe('history');
      paged.push(...(page.entry ?? []).map((e: any) => `${e.request.method} ${e.fullUrl} ${e.response.etag}`));
      next = page.link.find((l: any) => l.relation === 'next')?.url;
    }
    expect(paged).toEqual(body.entry.map((e: any) => `${e.request.method} ${e.fullUrl} ${e.response.etag}`));

    // A record written again under the deleted id goes on from the deletion's version.
    const again = await fetch(`${social.baseUrl}/Condition/${deleted.id}`, { method: 'PUT', headers: { 'content-type': 'application/fhir+json' }, body: JSON.stringify({ ...deleted, meta: undefined }) });
    expect(((await again.json()) as { meta: { versionId: string } }).meta.versionId).toBe(String(Number(deleted.meta!.versionId) + 2));
  });

  it('declares the history and delete interactions in its CapabilityStatement, and refuses a `_since` that is no instant', async () => {
    const statement = (await getJson(`${social.baseUrl}/metadata`)).body;
    const condition = statement.rest[0].resource.find((r: any) => r.type === 'Condition');
    expect(condition.interaction.map((i: any) => i.code)).toEqual(expect.arrayContaining(['history-type', 'delete']));
    expect(statement.rest[0].interaction.map((i: any) => i.code)).toContain('history-system');
    const bad = await getJson(`${social.baseUrl}/Condition/_history?_since=yesterday`);
    expect(bad.status).toBe(400);
    expect(bad.body.resourceType).toBe('OperationOutcome');
  });
});

describe('the FHIR adapter’s change feed', () => {
  it('reports records deleted since its cursor after the changes, as many as the page has room for, none twice and none lost', async () => {
    const adapter: SourceAdapter = createSocialAdapter({ baseUrl: social.baseUrl, timeoutMs: 5000 });
    const start = adapter.cursorAt!(new Date());
    const requestsBefore = social.requests().length;
    const goals = (await social.repository.searchPage({ resourceType: 'Goal', count: 3 } as never)).resources;
    for (const goal of goals) await deleteAt(social, 'Goal', goal.id!);

    const pages: ChangesPage[] = [];
    let cursor: string | null = start;
    for (let i = 0; i < 10; i++) {
      const page: ChangesPage = await adapter.changes(cursor, 2);
      pages.push(page);
      cursor = page.cursor;
      if (!page.hasMore) break;
    }
    const deleted = pages.flatMap((p) => p.deleted ?? []);
    expect(deleted.map((d) => d.recordId)).toEqual(goals.map((g) => g.id));
    expect(deleted.map((d) => d.version)).toEqual(goals.map((g) => String(Number(g.meta!.versionId) + 1)));
    expect(deleted.every((d) => d.recordType === 'Goal' && !Number.isNaN(Date.parse(d.deletedAt)))).toBe(true);
    expect(pages.every((p) => p.changes.length + (p.deleted?.length ?? 0) <= 2)).toBe(true);
    // From where it ended, nothing more.
    const after = await adapter.changes(cursor, 2);
    expect(after.deleted ?? []).toEqual([]);
    expect(after.changes).toEqual([]);
    // The history was asked for ids and versions only (R12), and no CPR ever went in a URL.
    const historyCalls = social.requests().slice(requestsBefore).filter((r) => r.url.includes('/_history?'));
    expect(historyCalls.length).toBeGreaterThan(0);
    expect(historyCalls.every((r) => new URL(r.url, 'http://x').searchParams.get('_elements') === 'id')).toBe(true);
    expect(social.requests().some((r) => population.some((c) => r.url.includes(c.cpr)))).toBe(false);
  });
});

describe('a FHIR server that does not offer history', () => {
  it('keeps the feed going without deletions, asks for the history no more for a while, and its connection check tells IT staff', async () => {
    const plain = await startSocialSimulator({ population: population.slice(0, 4), seed: SEED, port: 0, history: false });
    try {
      const adapter: SourceAdapter = createSocialAdapter({ baseUrl: plain.baseUrl, timeoutMs: 5000 });
      const check = await adapter.check();
      expect(check.ok).toBe(true);
      expect(check.detail).toMatch(/does not declare history-system: a record deleted there outright is not seen here/);
      // As it declares: the history is refused.
      expect((await getJson(`${plain.baseUrl}/_history?_type=Goal`)).status).toBe(400);

      const goal = (await plain.repository.searchPage({ resourceType: 'Goal', count: 1 } as never)).resources[0]!;
      const start = adapter.cursorAt!(new Date(Date.now() - 60_000));
      await plain.repository.updateResource({ ...goal, lifecycleStatus: 'completed' } as Goal);
      const historyCalls = () => plain.requests().filter((r) => r.url.includes('/_history?')).length;
      const before = historyCalls();
      const page = await adapter.changes(start, 50);
      expect(page.changes.map((c) => c.recordId)).toContain(goal.id);
      expect(page.deleted ?? []).toEqual([]);
      const asked = historyCalls();
      expect(asked).toBe(before + 1);
      await adapter.changes(page.cursor, 50);
      expect(historyCalls()).toBe(asked);
    } finally {
      await plain.close();
    }
  });

  it('the region’s simulator without history says so in the same words', async () => {
    const plain = await startHealthSimulator({ population: population.slice(0, 2), seed: SEED, port: 0, history: false });
    try {
      const check = await createHealthAdapter({ baseUrl: plain.baseUrl, timeoutMs: 5000 }).check();
      expect(check.detail).toMatch(/does not declare history-system/);
      expect((await createHealthAdapter({ baseUrl: health.baseUrl, timeoutMs: 5000 }).check()).detail).not.toMatch(/history/);
    } finally {
      await plain.close();
    }
  });
});

describe('a record deleted at its source, end to end', () => {
  it('an incremental sync takes a Condition the social system deleted out of the plan, audited and counted, and only that', async () => {
    const app = await freshApp();
    const plan = await enrolled(app, 0);
    expect((await sync(app, 'social')).status).toBe('succeeded');
    const before = await stored(app, plan);
    const [condition] = conditionNotesOf(before);
    expect(condition).toBeDefined();

    await deleteAt(social, 'Condition', condition!.recordId);
    const incremental = await sync(app, 'social');
    expect(incremental).toMatchObject({ status: 'succeeded', stats: { catchUpSearched: false, elementsWithdrawn: 1 } });
    const after = await stored(app, plan);
    expect(elementsOf(after).map((e) => e.id).sort()).toEqual(elementsOf(before).filter((e) => e.id !== condition!.id).map((e) => e.id).sort());
    const traces = await auditOf(app, plan, 'plan.source-withdrew');
    expect(traces.map((a) => ({ target: a.targetId, detail: a.detail }))).toEqual([
      { target: plan.id, detail: { source: 'social', removedElements: [condition!.id], keptElements: [], records: [condition!.recordId], runId: incremental.runId } },
    ]);
    // Its marks went with it: read again, nothing more leaves, and the deletion is not taken twice.
    expect(await app.deps.store.sync.citizensOfRecords('101', 'social', [condition!.recordId])).toEqual(new Map());
    const again = await sync(app, 'social');
    expect(again.stats.elementsWithdrawn).toBe(0);
    expect(elementsOf(await stored(app, plan))).toEqual(elementsOf(after));
    await app.close();
  });

  it('keeps an element another source also reported, under that source, when one source deletes its record', async () => {
    const app = await freshApp();
    const plan = await enrolled(app, 1, true);
    expect((await sync(app, 'social')).status).toBe('succeeded');
    const ourGoal = (await stored(app, plan)).goals.find((g) => sourcesOf(g).some((s) => s.startsWith('social:')))!;
    // The element is the social system's goal; the region records the same goal, naming our element.
    const socialGoalId = ourGoal.provenance.find((p) => p.kind === 'source')!.recordId;
    const elementId = crypto.randomUUID();
    const socialGoal = await social.repository.readResource<Goal>('Goal', socialGoalId);
    await social.repository.updateResource<Goal>({ ...socialGoal, identifier: [...(socialGoal.identifier ?? []), { system: ENPLAN_ELEMENT_SYSTEM, value: elementId }] });
    const regionGoals = (await health.repository.searchPage({ resourceType: 'Goal', filters: [{ code: 'subject', operator: 'eq', value: `Patient/${await patientIdAt(health, 1)}` }], count: 1 } as never)).resources;
    const { id: _id, meta: _meta, ...copy } = regionGoals[0] as Goal;
    const regionGoal = await health.repository.createResource<Goal>({ ...copy, identifier: [{ system: ENPLAN_ELEMENT_SYSTEM, value: elementId }] });
    expect((await sync(app, 'social')).status).toBe('succeeded');
    expect((await sync(app, 'health')).status).toBe('succeeded');
    const both = (await stored(app, plan)).goals.find((g) => g.id === elementId)!;
    expect(sourcesOf(both).sort()).toEqual([`health:${regionGoal.id}`, `social:${socialGoalId}`]);

    await deleteAt(health, 'Goal', regionGoal.id);
    const incremental = await sync(app, 'health');
    expect(incremental).toMatchObject({ status: 'succeeded', stats: { elementsWithdrawn: 1 } });
    const kept = (await stored(app, plan)).goals.find((g) => g.id === elementId)!;
    expect(sourcesOf(kept)).toEqual([`social:${socialGoalId}`]);
    const traces = (await auditOf(app, plan, 'plan.source-withdrew')).filter((a) => a.detail.runId === incremental.runId);
    expect(traces.map((a) => a.detail)).toEqual([{ source: 'health', removedElements: [], keptElements: [elementId], records: [regionGoal.id], runId: incremental.runId }]);
    await app.close();
  });

  it('takes out what flowed on the region’s permit when the region deletes that Consent and its earlier refusal stands again', async () => {
    const app = await freshApp();
    const plan = await enrolled(app, 2, true);
    const healthIds = async () => elementsOf(await stored(app, plan)).filter((e) => sourcesOf(e).some((s) => s.startsWith('health:'))).map((e) => e.id);
    // The region's seeded Consent becomes a refusal issued a year ago; a permit issued since decides.
    const patient = await patientIdAt(health, 2);
    const [seeded] = (await health.repository.searchPage({ resourceType: 'Consent', filters: [{ code: 'patient', operator: 'eq', value: `Patient/${patient}` }] } as never)).resources as Consent[];
    await health.repository.updateResource<Consent>({ ...seeded!, status: 'active', dateTime: '2025-11-01T10:00:00+01:00', provision: { ...seeded!.provision, type: 'deny' } });
    const { id: _id, meta: _meta, ...copy } = seeded!;
    const permit = await health.repository.createResource<Consent>({ ...copy, status: 'active', dateTime: '2026-06-01T10:00:00+02:00', provision: { ...copy.provision, type: 'permit', period: { start: '2026-06-01', end: '2099-12-31' } } });
    expect((await sync(app, 'health')).status).toBe('succeeded');
    const flowed = await healthIds();
    expect(flowed.length).toBeGreaterThan(0);

    await deleteAt(health, 'Consent', permit.id);
    const incremental = await sync(app, 'health');
    expect(incremental).toMatchObject({ status: 'succeeded', stats: { catchUpSearched: false, citizensPulled: 1 } });
    expect(await healthIds()).toEqual([]);
    const removals = await auditOf(app, plan, 'plan.consent-data-removed');
    expect(removals.map((a) => a.detail.reason)).toEqual(['the region records that the citizen refused to let it share health data with the municipality']);
    expect(removals[0]!.detail.removedElements).toEqual(expect.arrayContaining(flowed));
    await app.close();
  });

  it('takes a deleted record out even when the feed pull of its citizen fails (the next full read cannot see what is gone)', async () => {
    const app = await freshApp();
    const plan = await enrolled(app, 6);
    expect((await sync(app, 'social')).status).toBe('succeeded');
    const [condition] = conditionNotesOf(await stored(app, plan));
    await deleteAt(social, 'Condition', condition!.recordId);
    social.setFaults({ errorRate: 1, scope: { method: 'POST', resourceType: 'Patient' } });
    try {
      const incremental = await sync(app, 'social');
      expect(incremental).toMatchObject({ status: 'succeeded', stats: { pullErrors: 1, citizensPulled: 0, elementsWithdrawn: 1 } });
    } finally {
      social.setFaults({ errorRate: 0, scope: undefined });
    }
    expect(elementsOf(await stored(app, plan)).map((e) => e.id)).not.toContain(condition!.id);
    await app.close();
  });

  it('loses no deletion across feed pages: more deletions than a page holds all leave the plans', async () => {
    const app = await freshApp();
    const plans = [await enrolled(app, 3), await enrolled(app, 4), await enrolled(app, 5)];
    expect((await sync(app, 'social')).status).toBe('succeeded');
    const gone: { plan: Plan; id: string }[] = [];
    for (const plan of plans) {
      for (const note of conditionNotesOf(await stored(app, plan)).slice(0, 2)) {
        await deleteAt(social, 'Condition', note.recordId);
        gone.push({ plan, id: note.id });
      }
    }
    expect(gone.length).toBeGreaterThan(3);
    const incremental = await sync(app, 'social', 2);
    expect(incremental).toMatchObject({ status: 'succeeded', stats: { elementsWithdrawn: gone.length } });
    for (const { plan, id } of gone) expect(elementsOf(await stored(app, plan)).map((e) => e.id)).not.toContain(id);
    await app.close();
  });
});

/** The Patient id of the citizen of this ordinal at a simulator (found as the adapters find it: by CPR, in a search body). */
async function patientIdAt(simulator: SectorSimulator, ordinal: number): Promise<string> {
  const response = await fetch(`${simulator.baseUrl}/Patient/_search`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ identifier: `urn:oid:1.2.208.176.1.2|${population[ordinal]!.cpr}` }),
  });
  const bundle = (await response.json()) as { entry: { resource: { id: string } }[] };
  return bundle.entry[0]!.resource.id;
}
