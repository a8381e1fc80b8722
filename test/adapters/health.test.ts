/**
 * The health adapter against the running regional (DK-core) simulator over real HTTP on
 * 127.0.0.1: pull (Consent found by `patient`), everything mapped into data category `health`,
 * changes, conditional create idempotency, If-Match → 412, transient timeouts and 5xx, quarantine
 * of contract failures, unknown codes, and no CPR in any URL. Citizens are named by ordinal only.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdapterError, type PullResult, type PullSubject, type SourceAdapter } from '../../adapters/adapter';
import { FhirClient, VersionConflictError } from '../../adapters/fhir/client';
import { Consent } from '../../adapters/fhir/contract';
import { fhirValidationErrors } from '../../adapters/fhir/definitions';
import { CPR_SYSTEM, REGIONAL_ACTIVITY_SYSTEM } from '../../adapters/fhir/systems';
import { createHealthAdapter } from '../../adapters/health/adapter';
import { DK_CORE_PATIENT_PROFILE, healthRecordsFor } from '../../adapters/health/records';
import { startHealthSimulator } from '../../adapters/health/simulator';
import type { SectorSimulator } from '../../adapters/social/simulator';
import { generatePopulation } from '../../adapters/shared/population';
import { runMapping } from '../../mappings/mapping';
import { healthGoalReverse, healthMappingsByRecordType, healthServiceRequestReverse, readRegionalConsent } from '../../mappings/health';
import type { Goal, Intervention } from '../../src/model';

const SEED = 2026;
const context = { now: '2026-03-01T12:00:00+01:00', ruleVersion: 'rules-2026.11' };
const population = generatePopulation(120, SEED);

let sim: SectorSimulator;
let adapter: SourceAdapter;

const subjectOf = (ordinal: number) => ({ citizenId: `citizen-${ordinal}`, cpr: sim.citizens[ordinal]!.cpr });
const seededRecords = (ordinal: number) => healthRecordsFor(sim.citizens[ordinal]!, ordinal, SEED);

async function adapterError(promise: Promise<unknown>): Promise<AdapterError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AdapterError);
  return error as AdapterError;
}

/** What a pull yielded, comparable without the payloads. */
const summary = (result: PullResult | undefined) =>
  result && {
    records: result.records.map((r) => `${r.recordType}/${r.recordId}@${r.version}`).sort(),
    quarantined: result.quarantined.map((q) => `${q.recordType}/${q.recordId}`).sort(),
    unknownAtSource: result.unknownAtSource ?? false,
  };

/** pullMany's answer for these (known) subjects next to `pull` of each. */
async function compareWithPull(source: SourceAdapter, many: Map<string, PullResult>, subjects: readonly PullSubject[]) {
  for (const subject of subjects) {
    const one = await source.pull(subject);
    expect(one.records.length).toBeGreaterThan(0);
    expect(summary(many.get(subject.citizenId)), subject.citizenId).toEqual(summary(one));
  }
}

const provenance = [{ kind: 'registration' as const, registrationId: 'reg-h', actor: 'caseworker-3', at: '2026-03-01T10:00:00+01:00' }];
const modelGoal: Goal = {
  id: 'goal-element-h1',
  level: 'sub',
  title: 'Færre akutte indlæggelser',
  sector: 'health',
  status: 'proposed',
  targetDate: '2026-12-31',
  topics: ['mental-health'],
  ruleVersion: 'rules-2026.11',
  provenance,
};
const coordinationMeeting: Intervention = {
  id: 'intervention-element-h1',
  sector: 'health',
  legalBasis: 'PsykL §13 b',
  type: { system: REGIONAL_ACTIVITY_SYSTEM, code: 'coordination-meeting', display: 'Koordinerende møde med kommunen' },
  title: 'Koordinerende møde før udskrivning',
  responsibleUnit: 'Socialforvaltningen, Socialpsykiatri',
  contact: { name: 'Mette Holm' },
  period: { start: '2026-04-01' },
  order: 0,
  dependsOn: [],
  status: 'planned',
  memberId: 'member-1',
  goalIds: [],
  confidentiality: 'normal',
  topics: [],
  ruleVersion: 'rules-2026.11',
  provenance,
};

beforeAll(async () => {
  sim = await startHealthSimulator({ population, seed: SEED });
  adapter = createHealthAdapter({ baseUrl: sim.baseUrl, timeoutMs: 5_000 });
});
afterAll(async () => {
  await sim.close();
});

describe('health adapter', () => {
  it('describes itself as the regional DK-core source and checks the connection', async () => {
    expect(adapter.describe()).toMatchObject({ id: 'health', sector: 'health', recordTypes: ['CarePlan', 'Goal', 'CareTeam', 'Consent'], pushOperations: ['goal.upsert', 'service-request.create'] });
    const check = await adapter.check();
    expect(check.ok).toBe(true);
    expect(check.detail).toMatch(/DK-core/);
    expect(check.detail).not.toMatch(/patch/);
  });

  it('tells IT staff, without failing the check, when the region cannot be patched: our changes after its own edits would be dead-lettered', async () => {
    const unpatchable = await startHealthSimulator({ population: population.slice(0, 2), seed: SEED, patch: false });
    try {
      const check = await createHealthAdapter({ baseUrl: unpatchable.baseUrl, timeoutMs: 5_000 }).check();
      expect(check.ok).toBe(true);
      expect(check.detail).toMatch(/does not offer patch for Goal, ServiceRequest: once the system edits a resource we made there, our next change to it cannot be written/);
      // As it says: a JSON Patch is refused.
      const refused = await fetch(`${unpatchable.baseUrl}/Goal/any`, { method: 'PATCH', headers: { 'content-type': 'application/json-patch+json' }, body: JSON.stringify([{ op: 'replace', path: '/lifecycleStatus', value: 'active' }]) });
      expect(refused.status).toBe(400);
    } finally {
      await unpatchable.close();
    }
  });

  it('finds the DK-core Patient by its CPR identifier in a POST body', async () => {
    const client = new FhirClient({ baseUrl: sim.baseUrl });
    const { body } = await client.searchByPost('Patient', { identifier: `${CPR_SYSTEM}|${subjectOf(0).cpr}` });
    const patient = body.entry![0]!.resource as { meta: { profile: string[] }; identifier: { use: string; system: string; value: string }[] };
    expect(patient.meta.profile).toEqual([DK_CORE_PATIENT_PROFILE]);
    expect(patient.identifier).toHaveLength(1);
    expect(patient.identifier[0]).toMatchObject({ use: 'official', system: CPR_SYSTEM });
    expect(patient.identifier[0]!.value === subjectOf(0).cpr).toBe(true);
    expect(fhirValidationErrors(patient as never)).toEqual([]);
  });

  it('pulls the citizen’s CarePlan, Goals, CareTeam and Consent (the Consent by its patient element)', async () => {
    const result = await adapter.pull(subjectOf(2));
    expect(result.quarantined).toEqual([]);
    const expected = seededRecords(2).filter((r) => r.resourceType !== 'Patient');
    expect(result.records.map((r) => `${r.recordType}/${r.recordId}`).sort()).toEqual(expected.map((r) => `${r.resourceType}/${r.id}`).sort());
    expect(new Set(result.records.map((r) => r.recordType))).toEqual(new Set(['CarePlan', 'Goal', 'CareTeam', 'Consent']));
    const consent = Consent.parse(result.records.find((r) => r.recordType === 'Consent')!.payload);
    const status = readRegionalConsent(consent, '2026-01-01');
    expect(status.purposes).toEqual(['COC']);
    expect(status.recipients[0]).toMatch(/koordinerende sagsbehandler/);
  });

  it('maps everything it pulls into data category health, sector health', async () => {
    let fragments = 0;
    for (let ordinal = 0; ordinal < 40; ordinal++) {
      for (const record of (await adapter.pull(subjectOf(ordinal))).records) {
        const result = runMapping(healthMappingsByRecordType[record.recordType]!, record.payload, context);
        expect(result.ok, `${record.recordType} of citizen ${ordinal}`).toBe(true);
        if (!result.ok) continue;
        for (const fragment of result.fragments) {
          fragments++;
          expect(fragment.category).toBe('health');
          if ('sector' in fragment.content) expect(fragment.content.sector).toBe('health');
        }
      }
    }
    expect(fragments).toBeGreaterThan(100);
  });

  it('reports every record once through the changes cursor, with the owner’s CPR', async () => {
    const found = new Map<string, string>();
    for (let page = await adapter.changes(null, 50); ; page = await adapter.changes(page.cursor, 50)) {
      for (const change of page.changes) {
        expect(found.has(`${change.recordType}/${change.recordId}`)).toBe(false);
        found.set(`${change.recordType}/${change.recordId}`, change.cpr);
      }
      if (!page.hasMore) break;
    }
    const expected = sim.citizens.flatMap((citizen, ordinal) => seededRecords(ordinal).filter((r) => r.resourceType !== 'Patient').map((r) => [`${r.resourceType}/${r.id}`, citizen.cpr] as const));
    expect(found.size).toBe(expected.length);
    for (const [key, cpr] of expected) expect(found.get(key) === cpr, key).toBe(true);
  });

  it('names every notice’s citizen however small its Patient cache, and the cache stays bounded', async () => {
    const everything = async (reader: SourceAdapter) => {
      const found = new Map<string, string>();
      for (let page = await reader.changes(null, 50); ; page = await reader.changes(page.cursor, 50)) {
        for (const change of page.changes) found.set(`${change.recordType}/${change.recordId}`, change.cpr);
        if (!page.hasMore) break;
      }
      return found;
    };
    const patientLookups = () => sim.requests().filter((r) => r.method === 'POST' && r.url.endsWith('/Patient/_search')).length;
    const roomy = createHealthAdapter({ baseUrl: sim.baseUrl });
    const reference = await everything(roomy);
    // Three Patients in the cache, while a page of 50 notices names more: each page still names all.
    const small = createHealthAdapter({ baseUrl: sim.baseUrl, patientCacheSize: 3 });
    expect(await everything(small)).toEqual(reference);
    // A second pass: the roomy cache knows every Patient already; the small one must ask again.
    let before = patientLookups();
    await everything(roomy);
    expect(patientLookups() - before).toBe(0);
    before = patientLookups();
    await everything(small);
    expect(patientLookups() - before).toBeGreaterThan(0);
  });

  it('quarantines a Consent that fails the contract', async () => {
    const consent = seededRecords(3).find((r) => r.resourceType === 'Consent')!;
    await sim.repository.putRaw({ ...consent, id: consent.id!, status: 'maybe' } as never);
    const result = await adapter.pull(subjectOf(3));
    expect(result.quarantined).toEqual([expect.objectContaining({ recordType: 'Consent', recordId: consent.id })]);
    expect(result.quarantined[0]!.reason).toMatch(/status/);
    expect(result.records.some((r) => r.recordType === 'CarePlan')).toBe(true);
  });

  it('reports timeouts and 5xx as transient errors', async () => {
    sim.setFaults({ timeoutRate: 1 });
    try {
      const timeout = await adapterError(createHealthAdapter({ baseUrl: sim.baseUrl, timeoutMs: 250 }).changes(null));
      expect(timeout).toMatchObject({ code: 'timeout', permanent: false });
    } finally {
      sim.setFaults({ timeoutRate: 0 });
    }
    sim.setFaults({ errorRate: 1 });
    try {
      expect(await adapterError(adapter.pull(subjectOf(4)))).toMatchObject({ code: 'http-503', permanent: false });
    } finally {
      sim.setFaults({ errorRate: 0 });
    }
  });

  it('proposes a goal exactly once per idempotency key, as a valid FHIR Goal', async () => {
    const mapped = healthGoalReverse.map(modelGoal);
    if (!mapped.ok) throw new Error(mapped.reason);
    const operation = { operation: 'goal.upsert', cpr: subjectOf(5).cpr, payload: mapped.payload };
    const first = await adapter.push(operation, 'registration-h1:health:goal');
    const again = await adapter.push(operation, 'registration-h1:health:goal');
    expect(again).toEqual({ ...first, duplicate: true });
    expect(sim.effects('registration-h1:health:goal')).toBe(1);
    const stored = (await new FhirClient({ baseUrl: sim.baseUrl }).read('Goal', first.targetId)).body as { category: { coding: { code: string }[] }[] };
    expect(stored.category[0]!.coding[0]!.code).toBe('behavioral');
    expect(fhirValidationErrors(stored as never)).toEqual([]);
    // A stale If-Match (the region holds version 1): written field by field instead, still a valid Goal.
    const stale = { ...operation, payload: { ...mapped.payload, id: first.targetId, lifecycleStatus: 'active' }, expectedVersion: '7' };
    expect(await adapter.push(stale, 'registration-h2:update')).toEqual({ targetId: first.targetId, duplicate: false, fieldLevel: true, version: '2' });
    const patched = (await new FhirClient({ baseUrl: sim.baseUrl }).read('Goal', first.targetId)).body;
    expect(patched).toMatchObject({ lifecycleStatus: 'active', category: stored.category });
    expect(fhirValidationErrors(patched as never)).toEqual([]);
  });

  it('requests a regional service as a ServiceRequest the simulator stores as valid FHIR', async () => {
    const mapped = healthServiceRequestReverse.map(coordinationMeeting);
    if (!mapped.ok) throw new Error(mapped.reason);
    const receipt = await adapter.push({ operation: 'service-request.create', cpr: subjectOf(6).cpr, payload: mapped.payload }, 'registration-h3:request');
    expect(receipt.duplicate).toBe(false);
    const stored = (await new FhirClient({ baseUrl: sim.baseUrl }).read('ServiceRequest', receipt.targetId)).body;
    expect(fhirValidationErrors(stored as never)).toEqual([]);
    expect(stored).toMatchObject({ status: 'active', intent: 'order', code: { coding: [{ code: 'coordination-meeting' }] } });
    const refused = await adapterError(adapter.push({ operation: 'intervention.upsert', cpr: subjectOf(6).cpr, payload: mapped.payload }, 'k'));
    expect(refused).toMatchObject({ code: 'unsupported-operation', permanent: true });
  });

  it('reports unknown regional codes through the mapping of a pulled plan', async () => {
    const client = new FhirClient({ baseUrl: sim.baseUrl });
    const plan = seededRecords(7).find((r) => r.resourceType === 'CarePlan')! as { id: string; activity: { detail: { code: unknown } }[] };
    const current = (await client.read('CarePlan', plan.id)).body as typeof plan & { meta: { versionId: string } };
    current.activity[0]!.detail.code = { coding: [{ system: 'http://region.example/fhir/CodeSystem/local-activity', code: 'gruppeforloeb-angst', display: 'Gruppeforløb for angst' }] };
    await client.updateIfMatch('CarePlan', plan.id, current, current.meta.versionId);
    const pulled = (await adapter.pull(subjectOf(7))).records.find((r) => r.recordType === 'CarePlan')!;
    const result = runMapping(healthMappingsByRecordType.CarePlan!, pulled.payload, context);
    expect(result.unknownCodes).toEqual([{ system: 'http://region.example/fhir/CodeSystem/local-activity', code: 'gruppeforloeb-angst' }]);
    expect(result.ok && result.fragments[0]!.content).toMatchObject({ type: { display: 'Gruppeforløb for angst' } });
  });

  it('pulls from a cursor what changed since and, whole, the citizen’s Consents — in the requests a full pull makes', async () => {
    const cursor = adapter.cursorAt!(new Date(Date.now() - 1000));
    const client = new FhirClient({ baseUrl: sim.baseUrl });
    const goal = seededRecords(8).find((r) => r.resourceType === 'Goal')!;
    const current = (await client.read('Goal', goal.id!)).body as { meta: { versionId: string } };
    await client.updateIfMatch('Goal', goal.id!, { ...current, note: [{ text: 'Aftalt på koordinerende møde' }] }, current.meta.versionId);
    const consentOf = (ordinal: number) => `Consent/${seededRecords(ordinal).find((r) => r.resourceType === 'Consent')!.id}`;

    const requestsOf = async (pulling: () => Promise<unknown>) => {
      const before = sim.requests().length;
      await pulling();
      return sim.requests().slice(before).map((r) => `${r.method} ${r.url.split('?')[0]}`);
    };
    let since: PullResult | undefined;
    const fromCursor = await requestsOf(async () => (since = await adapter.pull(subjectOf(8), cursor)));
    expect(fromCursor).toEqual(await requestsOf(() => adapter.pull(subjectOf(8))));
    expect(since!.records.map((r) => `${r.recordType}/${r.recordId}`).sort()).toEqual([consentOf(8), `Goal/${goal.id}`].sort());

    const many = await adapter.pullMany!([subjectOf(8), subjectOf(9)], { since: cursor });
    expect(summary(many.get('citizen-8'))).toEqual(summary(since));
    expect(many.get('citizen-9')!.records.map((r) => `${r.recordType}/${r.recordId}`)).toEqual([consentOf(9)]);
  });

  it('pulls many citizens at once, Consents by their patient element, each exactly as pull does', async () => {
    const stranger = { citizenId: 'stranger', cpr: generatePopulation(1, 555)[0]!.cpr };
    expect(population.some((c) => c.cpr === stranger.cpr)).toBe(false);
    const subjects = [...Array.from({ length: 20 }, (_, ordinal) => subjectOf(ordinal)), stranger];
    const before = sim.requests().length;
    const many = await adapter.pullMany!(subjects);
    expect(sim.requests().slice(before).map((r) => `${r.method} ${r.url}`)).toEqual(['Patient', 'CarePlan', 'Goal', 'CareTeam', 'Consent'].map((type) => `POST /fhir/${type}/_search`));
    expect(many.size).toBe(subjects.length);
    expect(many.get('stranger')).toEqual({ records: [], quarantined: [], unknownAtSource: true });
    // Citizen 3's Consent failed the contract earlier in this file: quarantined for citizen 3 alone.
    expect(many.get('citizen-3')!.quarantined).toEqual([expect.objectContaining({ recordType: 'Consent' })]);
    await compareWithPull(adapter, many, subjects.slice(0, 20));
    expect([...many.values()].flatMap((r) => r.records).filter((r) => r.recordType === 'Consent').length).toBeGreaterThanOrEqual(15);

    const paged = await createHealthAdapter({ baseUrl: sim.baseUrl, pageSize: 3, batchSize: 7 }).pullMany!(subjects);
    expect([...paged.keys()].sort()).toEqual([...many.keys()].sort());
    for (const [citizenId, result] of many) expect(summary(paged.get(citizenId)), citizenId).toEqual(summary(result));
  });

  it('throws when it cannot tell whose a record is, where pull quarantines it', async () => {
    const small = await startHealthSimulator({ size: 20, seed: SEED });
    try {
      const smallAdapter = createHealthAdapter({ baseUrl: small.baseUrl });
      const subjects = small.citizens.map((c, i) => ({ citizenId: `small-${i}`, cpr: c.cpr }));
      const consent = healthRecordsFor(small.citizens[1]!, 1, SEED).find((r) => r.resourceType === 'Consent')! as { id: string; patient: unknown };
      // The server still finds it by `patient` (it falls back to subject), but the record has no patient element.
      const { patient, ...withoutPatient } = consent;
      await small.repository.putRaw({ ...withoutPatient, subject: patient } as never);
      const single = await smallAdapter.pull(subjects[1]!);
      expect(single.quarantined).toEqual([expect.objectContaining({ recordType: 'Consent', recordId: consent.id })]);
      const error = await adapterError(smallAdapter.pullMany!(subjects));
      expect(error).toMatchObject({ code: 'unattributable-record', permanent: false });
      const others = subjects.filter((_, i) => i !== 1);
      await compareWithPull(smallAdapter, await smallAdapter.pullMany!(others), others);
    } finally {
      await small.close();
    }
  });

  it('never put a CPR number in any URL it requested', () => {
    const urls = sim.requests().map((r) => r.url);
    expect(urls.length).toBeGreaterThan(50);
    // Counted, not listed: a failure message must not print the CPR it found.
    expect(urls.filter((url) => population.some((c) => url.includes(c.cpr))).length).toBe(0);
  });
});
