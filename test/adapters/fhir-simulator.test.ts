/**
 * The FHIR simulator over real HTTP on 127.0.0.1: the REST semantics the adapters rely on (media
 * type, ETag/Last-Modified/Location, paging links, `_lastUpdated`, POST `_search`, If-Match → 412,
 * If-None-Exist), faults, mutation, the lazy seeding path, R4 validity of what it serves, and the
 * record generators. CPR numbers are never put in test names.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Resource } from '@medplum/fhirtypes';
import { parseSearchRequest } from '@medplum/core';
import { generatePopulation } from '../../adapters/shared/population';
import { fhirValidationErrors, loadProfiles, loadSearchParameters } from '../../adapters/fhir/definitions';
import { SimulatorRepository } from '../../adapters/fhir/store';
import { CARE_SOCIAL_SYSTEM, CPR_SYSTEM, ENPLAN_OPERATION_SYSTEM, FFB_SYSTEM, FSIII_SYSTEM, GOAL_CATEGORY_SYSTEM, REGIONAL_ACTIVITY_SYSTEM, REGIONAL_PLAN_TYPE_SYSTEM } from '../../adapters/fhir/systems';
import { socialSeedSource, startSocialSimulator, type SectorSimulator } from '../../adapters/social/simulator';
import { startHealthSimulator } from '../../adapters/health/simulator';
import { socialRecordStream, generateSocialRecords } from '../../adapters/social/records';
import { generateHealthRecords, healthRecordStream } from '../../adapters/health/records';
import { lookupCode } from '../../mappings/social/codes';
import { activityFor, goalCategoryFor, planTypeFor } from '../../mappings/health/codes';

interface Answer {
  status: number;
  headers: Headers;
  text: string;
  json: () => any;
}

async function call(url: string, init: RequestInit = {}): Promise<Answer> {
  const response = await fetch(url, init);
  const text = await response.text();
  return { status: response.status, headers: response.headers, text, json: () => JSON.parse(text) };
}

const fhirJson = { 'content-type': 'application/fhir+json' };
const postForm = (params: Record<string, string>): RequestInit => ({
  method: 'POST',
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
  body: new URLSearchParams(params),
});

/** Every resource of a search, following `next` links. */
async function searchAll(first: string, init?: RequestInit): Promise<Resource[]> {
  const found: Resource[] = [];
  let answer = await call(first, init);
  for (;;) {
    expect(answer.status).toBe(200);
    const bundle = answer.json();
    found.push(...(bundle.entry ?? []).map((e: { resource: Resource }) => e.resource));
    const next = bundle.link?.find((l: { relation: string }) => l.relation === 'next')?.url;
    if (!next) return found;
    answer = await call(next);
  }
}

const keyOf = (r: Resource) => `${r.resourceType}/${r.id}`;
const patientOf = async (sim: SectorSimulator, ordinal: number) => {
  const bundle = (await call(`${sim.baseUrl}/Patient/_search`, postForm({ identifier: `${CPR_SYSTEM}|${sim.citizens[ordinal]!.cpr}` }))).json();
  return bundle.entry[0].resource as Resource & { id: string };
};

describe('FHIR simulator (social, eager medplum repository)', () => {
  let sim: SectorSimulator;

  beforeAll(async () => {
    sim = await startSocialSimulator({ size: 60, seeding: 'eager' });
  });
  afterAll(async () => {
    await sim.close();
  });

  it('serves a FHIR R4 CapabilityStatement as application/fhir+json', async () => {
    const answer = await call(`${sim.baseUrl}/metadata`);
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toMatch(/^application\/fhir\+json/);
    const statement = answer.json();
    expect(statement.resourceType).toBe('CapabilityStatement');
    expect(statement.fhirVersion).toBe('4.0.1');
    expect(statement.rest[0].resource.map((r: { type: string }) => r.type)).toEqual(expect.arrayContaining(['Patient', 'CarePlan', 'Goal', 'Condition', 'CareTeam']));
  });

  it('reads a resource with its ETag, Last-Modified and the FHIR media type', async () => {
    const patient = await patientOf(sim, 0);
    const answer = await call(`${sim.baseUrl}/Patient/${patient.id}`);
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toMatch(/^application\/fhir\+json/);
    expect(answer.headers.get('etag')).toBe('W/"1"');
    expect(new Date(answer.headers.get('last-modified')!).getTime()).toBe(Math.floor(Date.parse(answer.json().meta.lastUpdated) / 1000) * 1000);
  });

  it('answers 404 with an OperationOutcome for an unknown id', async () => {
    const answer = await call(`${sim.baseUrl}/Goal/00000000-0000-4000-8000-000000000000`);
    expect(answer.status).toBe(404);
    expect(answer.json().resourceType).toBe('OperationOutcome');
  });

  it('creates with 201, a server-assigned id, version 1 and a Location with the version', async () => {
    const patient = await patientOf(sim, 1);
    const answer = await call(`${sim.baseUrl}/Goal`, {
      method: 'POST',
      headers: fhirJson,
      body: JSON.stringify({ resourceType: 'Goal', id: 'client-chosen', lifecycleStatus: 'proposed', description: { text: 'Egen bolig' }, subject: { reference: `Patient/${patient.id}` } }),
    });
    expect(answer.status).toBe(201);
    const created = answer.json();
    expect(created.id).not.toBe('client-chosen');
    expect(created.meta.versionId).toBe('1');
    expect(answer.headers.get('location')).toBe(`${sim.baseUrl}/Goal/${created.id}/_history/1`);
    expect(answer.headers.get('etag')).toBe('W/"1"');
  });

  it('conditional create returns the existing resource with 200 and never makes a second one', async () => {
    const patient = await patientOf(sim, 2);
    const key = 'sim-conditional-1';
    const create = () =>
      call(`${sim.baseUrl}/Goal`, {
        method: 'POST',
        headers: { ...fhirJson, 'if-none-exist': `identifier=${encodeURIComponent(`${ENPLAN_OPERATION_SYSTEM}|${key}`)}` },
        body: JSON.stringify({
          resourceType: 'Goal',
          identifier: [{ system: ENPLAN_OPERATION_SYSTEM, value: key }],
          lifecycleStatus: 'active',
          description: { text: 'Møder i værkstedet' },
          subject: { reference: `Patient/${patient.id}` },
        }),
      });
    const first = await create();
    const second = await create();
    expect(first.status).toBe(201);
    expect(second.status).toBe(200);
    expect(second.json().id).toBe(first.json().id);
    const matches = await searchAll(`${sim.baseUrl}/Goal?identifier=${encodeURIComponent(`${ENPLAN_OPERATION_SYSTEM}|${key}`)}`);
    expect(matches).toHaveLength(1);
    expect(sim.effects(key)).toBe(1);
  });

  it('conditional creates racing with the same identifier make exactly one resource', async () => {
    const patient = await patientOf(sim, 3);
    const key = 'sim-conditional-race';
    const answers = await Promise.all(
      Array.from({ length: 8 }, () =>
        call(`${sim.baseUrl}/Goal`, {
          method: 'POST',
          headers: { ...fhirJson, 'if-none-exist': `identifier=${encodeURIComponent(`${ENPLAN_OPERATION_SYSTEM}|${key}`)}` },
          body: JSON.stringify({ resourceType: 'Goal', identifier: [{ system: ENPLAN_OPERATION_SYSTEM, value: key }], lifecycleStatus: 'active', description: { text: 'x' }, subject: { reference: `Patient/${patient.id}` } }),
        }),
      ),
    );
    expect(answers.map((a) => a.status).sort()).toEqual([200, 200, 200, 200, 200, 200, 200, 201]);
    expect(new Set(answers.map((a) => a.json().id)).size).toBe(1);
    expect(sim.effects(key)).toBe(1);
  });

  it('updates on the current If-Match, answers 412 on a stale one, and refuses an If-Match that is not an ETag', async () => {
    const patient = await patientOf(sim, 4);
    const goals = await searchAll(`${sim.baseUrl}/Goal?subject=Patient/${patient.id}`);
    const goal = goals[0]!;
    const put = (ifMatch: string, status: string) =>
      call(`${sim.baseUrl}/Goal/${goal.id}`, { method: 'PUT', headers: { ...fhirJson, 'if-match': ifMatch }, body: JSON.stringify({ ...goal, lifecycleStatus: status }) });
    const updated = await put('W/"1"', 'on-hold');
    expect(updated.status).toBe(200);
    expect(updated.headers.get('etag')).toBe('W/"2"');
    expect(updated.json().meta.versionId).toBe('2');
    const stale = await put('W/"1"', 'cancelled');
    expect(stale.status).toBe(412);
    expect(stale.json().resourceType).toBe('OperationOutcome');
    expect((await put('2', 'cancelled')).status).toBe(400);
    const history = (await call(`${sim.baseUrl}/Goal/${goal.id}/_history`)).json();
    expect(history.entry.map((e: { resource: Resource }) => e.resource.meta!.versionId)).toEqual(['2', '1']);
    expect((await call(`${sim.baseUrl}/Goal/${goal.id}/_history/1`)).json().lifecycleStatus).toBe((goal as { lifecycleStatus: string }).lifecycleStatus);
  });

  it('patches (JSON Patch) on the current If-Match only, keeping the fields the patch does not name', async () => {
    const patient = await patientOf(sim, 5);
    const goal = (await searchAll(`${sim.baseUrl}/Goal?subject=Patient/${patient.id}`))[0]! as Resource & { lifecycleStatus: string; description: unknown };
    const version = goal.meta!.versionId!;
    const patch = (ifMatch: string, status: string) =>
      call(`${sim.baseUrl}/Goal/${goal.id}`, { method: 'PATCH', headers: { 'content-type': 'application/json-patch+json', 'if-match': ifMatch }, body: JSON.stringify([{ op: 'replace', path: '/lifecycleStatus', value: status }]) });
    const patched = await patch(`W/"${version}"`, 'on-hold');
    expect(patched.status).toBe(200);
    const next = String(Number(version) + 1);
    expect(patched.headers.get('etag')).toBe(`W/"${next}"`);
    expect(patched.json()).toMatchObject({ lifecycleStatus: 'on-hold', description: goal.description, meta: { versionId: next } });
    const stale = await patch(`W/"${version}"`, 'cancelled');
    expect(stale.status).toBe(412);
    expect((await call(`${sim.baseUrl}/Goal/${goal.id}`)).json()).toMatchObject({ lifecycleStatus: 'on-hold', meta: { versionId: next } });
  });

  it('pages a search with _count through Bundle.link next, each resource exactly once', async () => {
    const all = await searchAll(`${sim.baseUrl}/Condition?_count=1000`);
    const first = (await call(`${sim.baseUrl}/Condition?_count=7&_total=accurate`)).json();
    expect(first.entry).toHaveLength(7);
    expect(first.total).toBe(all.length);
    expect(first.link.find((l: { relation: string }) => l.relation === 'next').url).toContain('_offset=7');
    const paged = await searchAll(`${sim.baseUrl}/Condition?_count=7`);
    expect(paged.map(keyOf)).toEqual(all.map(keyOf));
    expect(new Set(paged.map(keyOf)).size).toBe(all.length);
  });

  it('answers _elements with only those elements (plus id and meta, tagged SUBSETTED), on every page', async () => {
    const full = await searchAll(`${sim.baseUrl}?_type=CarePlan,Goal&_sort=_lastUpdated&_count=1000`);
    const subset = await searchAll(`${sim.baseUrl}?_type=CarePlan,Goal&_sort=_lastUpdated&_count=9&_elements=subject`);
    expect(subset.map(keyOf)).toEqual(full.map(keyOf));
    for (const [index, resource] of subset.entries()) {
      expect(Object.keys(resource).sort()).toEqual(['id', 'meta', 'resourceType', 'subject']);
      expect(resource.meta?.tag).toContainEqual(expect.objectContaining({ code: 'SUBSETTED' }));
      expect(resource.meta?.versionId).toBe(full[index]!.meta?.versionId);
      expect((resource as { subject?: unknown }).subject).toEqual((full[index] as { subject?: unknown }).subject);
    }
  });

  it('answers _lastUpdated=gt with exactly the records changed after the instant', async () => {
    const all = await searchAll(`${sim.baseUrl}?_type=CarePlan,Goal,Condition,CareTeam&_count=1000`);
    const instants = all.map((r) => r.meta!.lastUpdated!).sort();
    const middle = instants[Math.floor(instants.length / 2)]!;
    const expected = all.filter((r) => r.meta!.lastUpdated! > middle).map(keyOf).sort();
    const found = await searchAll(`${sim.baseUrl}?_type=CarePlan,Goal,Condition,CareTeam&_lastUpdated=gt${middle}&_sort=_lastUpdated&_count=50`);
    expect(found.map(keyOf).sort()).toEqual(expected);
    const ordered = found.map((r) => r.meta!.lastUpdated!);
    expect(ordered).toEqual([...ordered].sort());
  });

  it('pages by keyset when sorted by _lastUpdated, so records changed mid-way are not skipped', async () => {
    const before = new Set((await searchAll(`${sim.baseUrl}?_type=CarePlan,Goal,Condition,CareTeam&_count=1000`)).map(keyOf));
    let answer = await call(`${sim.baseUrl}?_type=CarePlan,Goal,Condition,CareTeam&_sort=_lastUpdated&_count=10`);
    const seen = new Set<string>();
    let mutated = false;
    for (;;) {
      const bundle = answer.json();
      for (const entry of bundle.entry ?? []) seen.add(keyOf(entry.resource));
      const next = bundle.link.find((l: { relation: string }) => l.relation === 'next')?.url;
      if (!next) break;
      expect(next).toContain('_cursor=');
      if (!mutated) {
        // A third of the records move to the end of the order while we page.
        await sim.mutate(0.3);
        mutated = true;
      }
      answer = await call(next);
    }
    for (const key of before) expect(seen.has(key), key).toBe(true);
  });

  it('keeps POST _search parameters out of every link URL, and lets a paged search expire', async () => {
    const cpr = sim.citizens[5]!.cpr;
    const bundle = (await call(`${sim.baseUrl}/Patient/_search`, postForm({ identifier: `${CPR_SYSTEM}|${cpr}` }))).json();
    expect(bundle.entry).toHaveLength(1);
    expect(JSON.stringify(bundle.link).includes(cpr)).toBe(false);
    const ids = (await searchAll(`${sim.baseUrl}/Goal?_count=1000`)).map((g) => g.id).slice(0, 12);
    const first = (await call(`${sim.baseUrl}/Goal/_search`, postForm({ _id: ids.join(','), _count: '5' }))).json();
    const next = first.link.find((l: { relation: string }) => l.relation === 'next').url as string;
    expect(next).toMatch(/\?_getpages=[0-9a-f-]+&/);
    for (const id of ids) expect(next).not.toContain(id!);
    const pages = await searchAll(`${sim.baseUrl}/Goal/_search`, postForm({ _id: ids.join(','), _count: '5' }));
    expect(pages.map((g) => g.id).sort()).toEqual([...ids].sort());
    expect((await call(`${sim.baseUrl}?_getpages=no-such-search`)).status).toBe(410);
  });

  it('searches comma OR-lists of identifiers and of patient references, paged with _count', async () => {
    const ordinals = [10, 11, 12, 13, 14, 15, 16, 17, 18, 19];
    const stranger = generatePopulation(1, 555)[0]!.cpr;
    const identifiers = [...ordinals.map((o) => `${CPR_SYSTEM}|${sim.citizens[o]!.cpr}`), `${CPR_SYSTEM}|${stranger}`].join(',');
    const patients = await searchAll(`${sim.baseUrl}/Patient/_search`, postForm({ identifier: identifiers, _count: '3' }));
    const singles = await Promise.all(ordinals.map((o) => patientOf(sim, o)));
    expect(patients.map(keyOf).sort()).toEqual(singles.map(keyOf).sort());
    expect(new Set(patients.map(keyOf)).size).toBe(ordinals.length);

    // Without a system, a token matches the value in any system.
    const bare = await searchAll(`${sim.baseUrl}/Patient/_search`, postForm({ identifier: ordinals.slice(0, 2).map((o) => sim.citizens[o]!.cpr).join(','), _count: '1' }));
    expect(bare.map(keyOf).sort()).toEqual(singles.slice(0, 2).map(keyOf).sort());
    for (const [system, value] of [['urn:example:a', 'or-list-1'], ['urn:example:b', 'or-list-2'], ['urn:example:a', 'or-list-3']]) {
      await sim.repository.createResource({ resourceType: 'Goal', lifecycleStatus: 'proposed', description: { text: value }, subject: { reference: `Patient/${singles[0]!.id}` }, identifier: [{ system, value }] } as never);
    }
    const tokens = async (query: string) => (await searchAll(`${sim.baseUrl}/Goal?identifier=${encodeURIComponent(query)}&_count=1`)).map((g) => (g as { description: { text: string } }).description.text).sort();
    expect(await tokens('or-list-1,OR-LIST-2,or-list-9')).toEqual(['or-list-1', 'or-list-2']);
    expect(await tokens('urn:example:a|or-list-1,urn:example:a|or-list-2,urn:example:a|or-list-3')).toEqual(['or-list-1', 'or-list-3']);

    const references = singles.map((p) => `Patient/${p.id}`);
    for (const type of ['Goal', 'CarePlan']) {
      const one = (await Promise.all(references.map((r) => searchAll(`${sim.baseUrl}/${type}?subject=${r}&_count=1000`)))).flat();
      expect(one.length).toBeGreaterThanOrEqual(ordinals.length);
      const byGet = await searchAll(`${sim.baseUrl}/${type}?subject=${encodeURIComponent(references.join(','))}&_count=4`);
      const byPost = await searchAll(`${sim.baseUrl}/${type}/_search`, postForm({ subject: references.join(','), _count: '4' }));
      // A bare id means a Patient id, as in a single search.
      const bare = await searchAll(`${sim.baseUrl}/${type}?subject=${singles.map((p) => p.id).join(',')}&_count=1000`);
      for (const found of [byGet, byPost, bare]) {
        expect(found.map(keyOf).sort()).toEqual(one.map(keyOf).sort());
        expect(new Set(found.map(keyOf)).size).toBe(found.length);
      }
    }
  });

  it('pages an OR-list in an order edits do not change, so no record is skipped or repeated', async () => {
    const references = (await Promise.all([20, 21, 22, 23, 24, 25].map((o) => patientOf(sim, o)))).map((p) => `Patient/${p.id}`);
    const url = (count: number) => `${sim.baseUrl}/Goal?subject=${encodeURIComponent(references.join(','))}&_count=${count}`;
    const whole = (await searchAll(url(1000))).map(keyOf);
    expect(whole.length).toBeGreaterThan(6);
    const seen: string[] = [];
    let answer = await call(url(2));
    for (let page = 0; ; page++) {
      const bundle = answer.json();
      seen.push(...(bundle.entry ?? []).map((e: { resource: Resource }) => keyOf(e.resource)));
      const next = bundle.link.find((l: { relation: string }) => l.relation === 'next')?.url;
      if (!next) break;
      if (page === 0) {
        // Edit every record not read yet, last first, before the next page.
        for (const key of whole.slice(seen.length).reverse()) {
          const [type, id] = key.split('/') as [string, string];
          const current = (await call(`${sim.baseUrl}/${type}/${id}`)).json();
          await sim.repository.updateResource({ ...current, note: [{ text: 'edited while paging' }] });
        }
      }
      answer = await call(next);
    }
    expect(seen).toEqual(whole);
  });

  it('refuses an unknown search parameter with 400', async () => {
    const answer = await call(`${sim.baseUrl}/Goal?no-such-parameter=1`);
    expect(answer.status).toBe(400);
    expect(answer.json().resourceType).toBe('OperationOutcome');
  });

  it('searches by a parameter without an index through medplum’s matching', async () => {
    const all = await searchAll(`${sim.baseUrl}/Goal?_count=1000`);
    const active = await searchAll(`${sim.baseUrl}/Goal?lifecycle-status=active&_count=1000`);
    expect(active.map(keyOf).sort()).toEqual(all.filter((g) => (g as { lifecycleStatus: string }).lifecycleStatus === 'active').map(keyOf).sort());
  });

  it('switches faults on and off at run time: 503, a cut-off body, an answer that never comes', async () => {
    const url = `${sim.baseUrl}/Goal?_count=1`;
    sim.setFaults({ errorRate: 1 });
    const failed = await call(url);
    expect(failed.status).toBe(503);
    expect(failed.headers.get('retry-after')).toBe('1');
    sim.setFaults({ errorRate: 0, malformedRate: 1 });
    const cut = await call(url);
    expect(cut.status).toBe(200);
    expect(() => cut.json()).toThrow();
    sim.setFaults({ malformedRate: 0, timeoutRate: 1 });
    await expect(fetch(url, { signal: AbortSignal.timeout(300) })).rejects.toThrow();
    sim.setFaults({ timeoutRate: 0, errorRate: 1, scope: { method: 'GET', resourceType: 'Condition' } });
    expect((await call(`${sim.baseUrl}/Condition?_count=1`)).status).toBe(503);
    expect((await call(url)).status).toBe(200);
    sim.setFaults({ errorRate: 0, scope: undefined });
    expect((await call(`${sim.baseUrl}/Condition?_count=1`)).status).toBe(200);
  });

  it('mutate(fraction) gives that share of the records a new version', async () => {
    const live = (await searchAll(`${sim.baseUrl}?_type=CarePlan,Goal,Condition,CareTeam&_count=1000`)).length;
    const changed = await sim.mutate(0.1);
    expect(changed.length).toBe(Math.round(0.1 * live));
    expect(new Set(changed.map((c) => `${c.resourceType}/${c.id}`)).size).toBe(changed.length);
    for (const record of changed.slice(0, 5)) {
      const current = (await call(`${sim.baseUrl}/${record.resourceType}/${record.id}`)).json();
      expect(current.meta.versionId).toBe(record.version);
      expect(Number(record.version)).toBeGreaterThan(1);
      const history = (await call(`${sim.baseUrl}/${record.resourceType}/${record.id}/_history`)).json();
      expect(history.entry).toHaveLength(Number(record.version));
    }
  });
});

describe('lazy seeding serves exactly what eager seeding serves', () => {
  let eager: SectorSimulator;
  let lazy: SectorSimulator;
  const population = generatePopulation(50, 99);

  beforeAll(async () => {
    eager = await startSocialSimulator({ population, seed: 99, seeding: 'eager' });
    lazy = await startSocialSimulator({ population, seed: 99, seeding: 'lazy' });
  });
  afterAll(async () => {
    await eager.close();
    await lazy.close();
  });

  const normalised = (sim: SectorSimulator, answer: Answer) => {
    const body = answer.text.split(sim.baseUrl).join('BASE').replace(/_getpages=[0-9a-f-]+/g, '_getpages=TOKEN');
    const parsed = JSON.parse(body);
    if (parsed.resourceType === 'Bundle') delete parsed.id;
    return { status: answer.status, etag: answer.headers.get('etag'), body: parsed };
  };

  it('gives the same answers to the same requests, before and after writes', async () => {
    const requests = async (sim: SectorSimulator) => {
      const out = [];
      for (const ordinal of [0, 7, 21]) {
        const search = await call(`${sim.baseUrl}/Patient/_search`, postForm({ identifier: `${CPR_SYSTEM}|${sim.citizens[ordinal]!.cpr}` }));
        out.push(normalised(sim, search));
        const patientId = search.json().entry[0].resource.id;
        for (const type of ['CarePlan', 'Goal', 'Condition', 'CareTeam']) out.push(normalised(sim, await call(`${sim.baseUrl}/${type}?subject=Patient/${patientId}&_count=2`)));
        out.push(normalised(sim, await call(`${sim.baseUrl}/Patient/${patientId}/_history`)));
      }
      // OR-lists: each asked citizen materialised as by a single search, pages included.
      const identifiers = [3, 9, 21, 28].map((o) => `${CPR_SYSTEM}|${sim.citizens[o]!.cpr}`).join(',');
      let answer = await call(`${sim.baseUrl}/Patient/_search`, postForm({ identifier: identifiers, _count: '3' }));
      const patientIds: string[] = [];
      for (;;) {
        out.push(normalised(sim, answer));
        patientIds.push(...answer.json().entry.map((e: { resource: Resource }) => e.resource.id));
        const next = answer.json().link.find((l: { relation: string }) => l.relation === 'next')?.url;
        if (!next) break;
        answer = await call(next);
      }
      expect(patientIds).toHaveLength(4);
      const references = encodeURIComponent(patientIds.map((id) => `Patient/${id}`).join(','));
      for (const offset of [0, 5, 10]) out.push(normalised(sim, await call(`${sim.baseUrl}/Goal?subject=${references}&_count=5&_offset=${offset}`)));
      out.push(normalised(sim, await call(`${sim.baseUrl}/CareTeam/_search`, postForm({ subject: decodeURIComponent(references), _count: '2' }))));
      out.push(normalised(sim, await call(`${sim.baseUrl}?_type=CarePlan,Goal,Condition,CareTeam&_sort=_lastUpdated&_count=25`)));
      out.push(normalised(sim, await call(`${sim.baseUrl}/Goal?_count=1000`)));
      return out;
    };
    expect(await requests(lazy)).toEqual(await requests(eager));
    // The same seeded choice of records to change, and the same edits, in both.
    const changedEager = await eager.mutate(0.2);
    const changedLazy = await lazy.mutate(0.2);
    expect(changedLazy.map((c) => [c.resourceType, c.id, c.version])).toEqual(changedEager.map((c) => [c.resourceType, c.id, c.version]));
    const afterWrites = async (sim: SectorSimulator) =>
      Promise.all(changedEager.slice(0, 6).map(async (c) => {
        const current = normalised(sim, await call(`${sim.baseUrl}/${c.resourceType}/${c.id}`));
        delete current.body.meta.lastUpdated;
        const history = (await call(`${sim.baseUrl}/${c.resourceType}/${c.id}/_history`)).json().entry.map((e: { resource: Resource }) => e.resource.meta!.versionId);
        return { current, history };
      }));
    expect(await afterWrites(lazy)).toEqual(await afterWrites(eager));
  });
});

describe('OR-list searches go through the indexes', () => {
  it('touch only the asked citizens’ seeded records, never the whole population', async () => {
    loadSearchParameters();
    const source = socialSeedSource(generatePopulation(400, 31), 31);
    let generated = 0;
    const counting = { ...source, recordsOf: (ordinal: number) => (generated++, source.recordsOf(ordinal)) };
    const repository = new SimulatorRepository(counting, { seeding: 'lazy' });
    await repository.seed();
    expect(source.size).toBeGreaterThan(260);
    const asked = [4, 50, 99, 150, 201];
    generated = 0;
    const identifiers = asked.map((o) => `${CPR_SYSTEM}|${source.citizens[o]!.cpr}`).join(',');
    const patients = await repository.searchPage(parseSearchRequest('Patient', { identifier: [identifiers], _count: ['100'] }));
    expect(patients.resources).toHaveLength(asked.length);
    const references = patients.resources.map((p) => `Patient/${p.id}`).join(',');
    const goals = await repository.searchPage(parseSearchRequest('Goal', { subject: [references], _count: ['2'], _offset: ['2'] }));
    expect(goals.resources).toHaveLength(2);
    expect(goals.hasMore).toBe(true);
    const careTeams = await repository.searchPage(parseSearchRequest('CareTeam', { subject: [references], _count: ['100'] }));
    expect(careTeams.resources.length).toBeGreaterThan(0);
    expect(generated).toBeLessThanOrEqual(asked.length);
    // What a search without an index costs, for contrast: every citizen is generated.
    generated = 0;
    await repository.searchPage(parseSearchRequest('Goal', { 'lifecycle-status': ['active'], _count: ['1000'] }));
    expect(generated).toBeGreaterThan(source.size / 2);
  });

  it('answer a reference search bounded after the seed from the written records alone, and the same as without the shortcut', async () => {
    loadSearchParameters();
    const source = socialSeedSource(generatePopulation(1000, 41), 41);
    let generated = 0;
    const counting = { ...source, recordsOf: (ordinal: number) => (generated++, source.recordsOf(ordinal)) };
    const repository = new SimulatorRepository(counting, { seeding: 'lazy' });
    await repository.seed();
    const asked = [3, 40, 77, 120];
    const identifiers = asked.map((o) => `${CPR_SYSTEM}|${source.citizens[o]!.cpr}`).join(',');
    const patients = await repository.searchPage(parseSearchRequest('Patient', { identifier: [identifiers], _count: ['100'] }));
    const references = patients.resources.map((p) => `Patient/${p.id}`).join(',');
    const before = await repository.searchPage(parseSearchRequest('Goal', { subject: [references], _count: ['1000'] }));
    expect(before.resources.length).toBeGreaterThan(asked.length);
    const newestSeeded = Math.max(...before.resources.map((g) => Date.parse(g.meta!.lastUpdated!)));
    // Two of the asked citizens' seeded goals are written (a caseworker's edit): they move past the seed.
    const edited = [before.resources[0]!, before.resources.at(-1)!];
    const written: Resource[] = [];
    for (const goal of edited) written.push(await repository.updateResource({ ...goal, note: [{ text: 'edited' }] } as never));
    // Other citizens read meanwhile push the asked ones out of the simulator's small cache of generated citizens.
    const others = source.citizens.filter((_, ordinal) => !asked.includes(ordinal)).slice(0, 300).map((c) => `${CPR_SYSTEM}|${c.cpr}`).join(',');
    expect(others.split(',')).toHaveLength(300);
    await repository.searchPage(parseSearchRequest('Patient', { identifier: [others], _count: ['1000'] }));
    generated = 0;
    // Changes since the first edit: a bound after every seeded record (writes are stamped after the seed).
    const bound = `ge${written[0]!.meta!.lastUpdated}`;
    expect(Date.parse(written[0]!.meta!.lastUpdated!)).toBeGreaterThan(newestSeeded);
    const changed = await repository.searchPage(parseSearchRequest('Goal', { subject: [references], _lastUpdated: [bound], _count: ['1000'] }));
    expect(changed.resources.map((g) => g.id).sort()).toEqual(edited.map((g) => g.id).sort());
    expect(generated).toBe(0);
    // A bound inside the seed's time span still finds seeded records, as without the shortcut.
    const middle = before.resources.map((g) => Date.parse(g.meta!.lastUpdated!)).sort((a, b) => a - b)[Math.floor(before.resources.length / 2)]!;
    const inside = await repository.searchPage(parseSearchRequest('Goal', { subject: [references], _lastUpdated: [`ge${new Date(middle).toISOString()}`], _count: ['1000'] }));
    const all = await repository.searchPage(parseSearchRequest('Goal', { subject: [references], _count: ['1000'] }));
    const expected = all.resources.filter((g) => Date.parse(g.meta!.lastUpdated!) >= middle).map((g) => g.id).sort();
    expect(inside.resources.map((g) => g.id).sort()).toEqual(expected);
    expect(expected.length).toBeGreaterThan(edited.length);
  });
});

describe('what the simulators serve is valid FHIR R4 with listed codes', () => {
  let social: SectorSimulator;
  let health: SectorSimulator;
  const population = generatePopulation(80, 7);

  beforeAll(async () => {
    loadProfiles();
    social = await startSocialSimulator({ population, seed: 7 });
    health = await startHealthSimulator({ population, seed: 7 });
  });
  afterAll(async () => {
    await social.close();
    await health.close();
  });

  const codings = (value: unknown, found: { system?: string; code?: string; display?: string }[] = []) => {
    if (Array.isArray(value)) for (const item of value) codings(item, found);
    else if (value && typeof value === 'object') {
      const record = value as Record<string, unknown>;
      if (typeof record.code === 'string' && typeof record.system === 'string') found.push(record as { system: string; code: string; display?: string });
      for (const child of Object.values(record)) codings(child, found);
    }
    return found;
  };

  it('passes medplum’s R4 validation for every social resource, Bundle and the CapabilityStatement', async () => {
    const resources = await searchAll(`${social.baseUrl}?_type=Patient,CarePlan,Goal,Condition,CareTeam&_count=1000`);
    expect(resources.length).toBeGreaterThan(300);
    for (const resource of resources) expect(fhirValidationErrors(resource), keyOf(resource)).toEqual([]);
    expect(fhirValidationErrors((await call(`${social.baseUrl}/Goal?_count=3`)).json())).toEqual([]);
    expect(fhirValidationErrors((await call(`${social.baseUrl}/metadata`)).json())).toEqual([]);
  });

  it('passes medplum’s R4 validation for every health resource', async () => {
    const resources = await searchAll(`${health.baseUrl}?_type=Patient,CarePlan,Goal,CareTeam,Consent&_count=1000`);
    expect(resources.length).toBeGreaterThan(150);
    for (const resource of resources) expect(fhirValidationErrors(resource), keyOf(resource)).toEqual([]);
  });

  it('uses only FFB, FSIII and CareSocialCodes codes that KL lists, with KL’s display text', async () => {
    const resources = await searchAll(`${social.baseUrl}?_type=CarePlan,Goal,Condition,CareTeam&_count=1000`);
    const kl = codings(resources).filter((c) => c.system === FFB_SYSTEM || c.system === FSIII_SYSTEM || c.system === CARE_SOCIAL_SYSTEM);
    expect(kl.length).toBeGreaterThan(500);
    // The generator's one deliberate local code stands for what real fagsystemer send.
    for (const coding of kl.filter((c) => c.code !== 'lokal-vaerested-4711')) {
      const listed = lookupCode(coding.system, coding.code);
      expect(listed, `${coding.system}|${coding.code}`).toBeDefined();
      expect(coding.display).toBe(listed!.display);
    }
  });

  it('uses only listed regional plan types, activities and goal categories', async () => {
    const resources = await searchAll(`${health.baseUrl}?_type=CarePlan,Goal&_count=1000`);
    const all = codings(resources);
    const check = (system: string, find: (s: string, c: string) => { display: string } | undefined) => {
      const used = all.filter((c) => c.system === system);
      expect(used.length).toBeGreaterThan(10);
      for (const coding of used) expect(coding.display).toBe(find(coding.system!, coding.code!)?.display);
    };
    check(REGIONAL_PLAN_TYPE_SYSTEM, planTypeFor);
    check(REGIONAL_ACTIVITY_SYSTEM, activityFor);
    check(GOAL_CATEGORY_SYSTEM, goalCategoryFor);
  });
});

describe('record generators', () => {
  it('stream 100,000 social and 100,000 health records, deterministic for the seed', () => {
    for (const stream of [socialRecordStream, healthRecordStream]) {
      const ids = new Set<string>();
      let count = 0;
      for (const { recordType, resource } of stream(100_000, 11)) {
        expect(recordType).toBe(resource.resourceType);
        ids.add(`${recordType}/${resource.id}`);
        count++;
      }
      expect(count).toBe(100_000);
      expect(ids.size).toBe(100_000);
    }
    expect(generateSocialRecords(50, 3)).toEqual(generateSocialRecords(50, 3));
    expect(generateHealthRecords(50, 3)).toEqual(generateHealthRecords(50, 3));
    expect(generateSocialRecords(50, 3)).not.toEqual(generateSocialRecords(50, 4));
  });

  it('make records that pass R4 validation', () => {
    loadProfiles();
    for (const { resource } of [...generateSocialRecords(300, 5), ...generateHealthRecords(300, 5)]) {
      expect(fhirValidationErrors(resource as Resource), `${resource.resourceType}/${resource.id}`).toEqual([]);
    }
  });
});
