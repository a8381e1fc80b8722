/**
 * The social adapter against the running social simulator over real HTTP on 127.0.0.1: pull,
 * changes since a cursor (with ties), paging through Bundle.link, If-Match → 412, conditional create
 * idempotency (also after a lost answer), timeouts and 5xx as transient errors, quarantine of
 * contract failures and malformed pages, unknown codes — and no CPR in any URL.
 * Citizens are named by their place in the population, never by CPR.
 */
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdapterError, type PullResult, type PullSubject, type SourceAdapter } from '../../adapters/adapter';
import { FhirClient, MalformedResponseError, VersionConflictError } from '../../adapters/fhir/client';
import { fhirValidationErrors } from '../../adapters/fhir/definitions';
import { CPR_SYSTEM, ENPLAN_OPERATION_SYSTEM } from '../../adapters/fhir/systems';
import { generatePopulation, type SyntheticCitizen } from '../../adapters/shared/population';
import { createSocialAdapter } from '../../adapters/social/adapter';
import { socialRecordsFor } from '../../adapters/social/records';
import { startSocialSimulator, type SectorSimulator } from '../../adapters/social/simulator';
import { runMapping } from '../../mappings/mapping';
import { socialCarePlanMapping, socialGoalReverse, socialInterventionReverse, socialMappingsByRecordType, socialServiceRequestReverse } from '../../mappings/social';
import { Plan, type Goal, type Intervention } from '../../src/model';
import { mergeFragments } from '../../src/sync/merge';
import { validPlan } from '../support/plans';

const SEED = 2026;
const context = { now: '2026-03-01T12:00:00+01:00', ruleVersion: 'rules-2026.11' };

let sim: SectorSimulator;
let adapter: SourceAdapter;
const population = generatePopulation(120, SEED);

const subjectOf = (ordinal: number) => ({ citizenId: `citizen-${ordinal}`, cpr: sim.citizens[ordinal]!.cpr });
const seededRecords = (ordinal: number) => socialRecordsFor(sim.citizens[ordinal]!, ordinal, SEED).filter((r) => r.resourceType !== 'Patient');

async function expectAdapterError(promise: Promise<unknown>, expected: { code: string | RegExp; permanent: boolean }): Promise<AdapterError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AdapterError);
  const adapterError = error as AdapterError;
  if (typeof expected.code === 'string') expect(adapterError.code).toBe(expected.code);
  else expect(adapterError.code).toMatch(expected.code);
  expect(adapterError.permanent).toBe(expected.permanent);
  return adapterError;
}

const modelGoal = (id: string): Goal => ({
  id,
  level: 'sub',
  title: 'Kan selv handle ind en gang om ugen',
  description: 'Aftalt på netværksmødet',
  sector: 'social',
  status: 'active',
  targetDate: '2026-09-01',
  topics: [],
  ruleVersion: 'rules-2026.11',
  provenance: [{ kind: 'registration', registrationId: 'reg-1', actor: 'caseworker-7', at: '2026-03-01T10:00:00+01:00' }],
});

const modelIntervention = (id: string): Intervention => ({
  id,
  sector: 'social',
  legalBasis: 'SEL §85',
  type: { system: 'urn:oid:1.2.208.176.2.22', code: '638f44df-6bf2-47f8-9935-b8fdc83e5bf5', display: 'Støtte til daglige opgaver i hjemmet' },
  title: 'Bostøtte to gange om ugen',
  responsibleUnit: 'Bostøtten Nord',
  contact: { name: 'Mette Holm' },
  period: { start: '2026-03-15', end: '2026-09-15' },
  order: 0,
  dependsOn: [],
  status: 'planned',
  memberId: 'member-1',
  goalIds: [],
  confidentiality: 'normal',
  topics: [],
  ruleVersion: 'rules-2026.11',
  provenance: [{ kind: 'registration', registrationId: 'reg-2', actor: 'caseworker-7', at: '2026-03-01T10:00:00+01:00' }],
});

beforeAll(async () => {
  sim = await startSocialSimulator({ population, seed: SEED });
  adapter = createSocialAdapter({ baseUrl: sim.baseUrl, timeoutMs: 5_000 });
});
afterAll(async () => {
  await sim.close();
});

describe('social adapter: describe and check', () => {
  it('describes itself as the FHIR social source with its record types and push operations', () => {
    const description = adapter.describe();
    expect(description).toMatchObject({ id: 'social', sector: 'social', recordTypes: ['CarePlan', 'Goal', 'Condition', 'CareTeam'] });
    expect(description.format).toMatch(/FHIR R4/);
    expect(description.pushOperations).toEqual(['goal.upsert', 'intervention.upsert', 'service-request.create']);
  });

  it('checks the connection with the CapabilityStatement', async () => {
    const result = await adapter.check();
    expect(result.ok).toBe(true);
    expect(result.detail).toMatch(/FHIR 4\.0\.1/);
    expect(result.latencyMs).toBeGreaterThanOrEqual(0);
  });

  it('reports a server it cannot reach as not ok, with the reason', async () => {
    const other = await startSocialSimulator({ size: 5 });
    const baseUrl = other.baseUrl;
    await other.close();
    const result = await createSocialAdapter({ baseUrl, timeoutMs: 2_000 }).check();
    expect(result.ok).toBe(false);
    expect(result.detail).toMatch(/could not reach/);
  });

  it('sends every request through the configured fetch dispatcher', async () => {
    await fetch(`${sim.baseUrl}/metadata`);
    const global = (globalThis as Record<symbol, { dispatch: (...args: unknown[]) => boolean }>)[Symbol.for('undici.globalDispatcher.1')]!;
    let dispatched = 0;
    const dispatcher = { dispatch: (...args: unknown[]) => (dispatched++, global.dispatch(...args)) };
    const withDispatcher = createSocialAdapter({ baseUrl: sim.baseUrl, dispatcher });
    await withDispatcher.pull(subjectOf(0));
    expect(dispatched).toBe(5);
  });
});

describe('social adapter: pull', () => {
  it('reads the citizen’s CarePlans, Goals, Conditions and CareTeam, each checked and versioned', async () => {
    const result = await adapter.pull(subjectOf(3));
    expect(result.quarantined).toEqual([]);
    const expected = seededRecords(3);
    expect(result.records.map((r) => `${r.recordType}/${r.recordId}`).sort()).toEqual(expected.map((r) => `${r.resourceType}/${r.id}`).sort());
    for (const record of result.records) {
      expect(record.version).toBe('1');
      expect(record.updatedAt).toBe((expected.find((r) => r.id === record.recordId)!.meta!.lastUpdated));
      expect((record.payload as { subject: { reference: string } }).subject.reference).toMatch(/^Patient\//);
    }
  });

  it('follows Bundle.link next page by page and reads the same records', async () => {
    const small = createSocialAdapter({ baseUrl: sim.baseUrl, pageSize: 1 });
    const before = sim.requests().length;
    const paged = await small.pull(subjectOf(4));
    const whole = await adapter.pull(subjectOf(4));
    expect(paged.records).toEqual(whole.records);
    const pageRequests = sim.requests().slice(before).filter((r) => r.url.includes('_offset='));
    expect(pageRequests.length).toBe(whole.records.length - 4);
  });

  it('finds the Patient with POST _search, so the CPR stays in the request body', async () => {
    const before = sim.requests().length;
    await adapter.pull(subjectOf(5));
    const requests = sim.requests().slice(before);
    expect(requests[0]).toMatchObject({ method: 'POST', url: '/fhir/Patient/_search', status: 200 });
    expect(requests.slice(1).every((r) => r.method === 'GET' && /subject=Patient%2F/.test(r.url))).toBe(true);
  });

  it('returns nothing for a citizen the system does not know', async () => {
    const stranger = generatePopulation(1, 555)[0]!;
    expect(population.some((c) => c.cpr === stranger.cpr)).toBe(false);
    expect(await adapter.pull({ citizenId: 'stranger', cpr: stranger.cpr })).toEqual({ records: [], quarantined: [] });
  });

  it('quarantines a record that fails the contract, with a reason, and keeps the rest', async () => {
    const ordinal = 6;
    const goal = seededRecords(ordinal).find((r) => r.resourceType === 'Goal')!;
    await sim.repository.putRaw({ ...goal, id: goal.id!, lifecycleStatus: 'somewhere-in-between' } as never);
    const result = await adapter.pull(subjectOf(ordinal));
    expect(result.quarantined).toHaveLength(1);
    expect(result.quarantined[0]).toMatchObject({ recordType: 'Goal', recordId: goal.id });
    expect(result.quarantined[0]!.reason).toMatch(/lifecycleStatus/);
    expect(result.quarantined[0]!.raw).toContain('somewhere-in-between');
    expect(result.records.map((r) => r.recordId)).not.toContain(goal.id);
    expect(result.records.length).toBe(seededRecords(ordinal).length - 1);
  });

  it('quarantines a page whose JSON is cut off, and still reads the other record types', async () => {
    sim.setFaults({ malformedRate: 1, scope: { method: 'GET', resourceType: 'Condition' } });
    try {
      const result = await adapter.pull(subjectOf(7));
      expect(result.quarantined).toHaveLength(1);
      expect(result.quarantined[0]).toMatchObject({ recordType: 'Condition', recordId: null });
      expect(result.quarantined[0]!.reason).toMatch(/not valid JSON/);
      expect(result.quarantined[0]!.raw.length).toBeGreaterThan(0);
      expect(new Set(result.records.map((r) => r.recordType))).toEqual(new Set(['CarePlan', 'Goal', 'CareTeam']));
    } finally {
      sim.setFaults({ malformedRate: 0, scope: undefined });
    }
  });

  it('reports a 5xx as a transient error with the server’s Retry-After', async () => {
    sim.setFaults({ errorRate: 1 });
    try {
      const error = await expectAdapterError(adapter.pull(subjectOf(8)), { code: 'http-503', permanent: false });
      expect(error.retryAfterSeconds).toBe(1);
    } finally {
      sim.setFaults({ errorRate: 0 });
    }
  });

  it('reports a server that does not answer in time as a transient timeout', async () => {
    const impatient = createSocialAdapter({ baseUrl: sim.baseUrl, timeoutMs: 250 });
    sim.setFaults({ timeoutRate: 1 });
    try {
      await expectAdapterError(impatient.pull(subjectOf(9)), { code: 'timeout', permanent: false });
    } finally {
      sim.setFaults({ timeoutRate: 0 });
    }
  });

  it('reports a refused request (4xx) as permanent', async () => {
    const client = new FhirClient({ baseUrl: sim.baseUrl });
    await expectAdapterError(client.read('Goal', '00000000-0000-4000-8000-000000000000'), { code: 'http-404', permanent: true });
    await expectAdapterError(client.search('Goal', { 'no-such-parameter': 'x' }), { code: 'http-400', permanent: true });
  });

  it('hands the mapping codes it does not know, reported as unknown codes', async () => {
    const ordinal = sim.citizens.findIndex((_, o) =>
      seededRecords(o).some((r) => r.resourceType === 'CarePlan' && JSON.stringify(r).includes('lokal-vaerested-4711')),
    );
    expect(ordinal).toBeGreaterThanOrEqual(0);
    const plan = (await adapter.pull(subjectOf(ordinal))).records.find((r) => r.recordType === 'CarePlan')!;
    const result = runMapping(socialCarePlanMapping, plan.payload, context);
    expect(result.ok).toBe(true);
    expect(result.unknownCodes).toContainEqual({ system: 'urn:oid:1.2.208.176.2.22', code: 'lokal-vaerested-4711' });
  });

  it('maps every pulled record of every citizen without a failure', async () => {
    for (let ordinal = 10; ordinal < 30; ordinal++) {
      for (const record of (await adapter.pull(subjectOf(ordinal))).records) {
        const result = runMapping(socialMappingsByRecordType[record.recordType]!, record.payload, context);
        expect(result.ok, `${record.recordType} of citizen ${ordinal}`).toBe(true);
      }
    }
  });
});

describe('social adapter: changes', () => {
  it('walks every record once through an opaque cursor, then reports nothing new', async () => {
    const seen = new Map<string, string>();
    let cursor: string | null = null;
    let pages = 0;
    for (;;) {
      const page = await adapter.changes(cursor, 37);
      pages++;
      for (const change of page.changes) {
        const key = `${change.recordType}/${change.recordId}`;
        expect(seen.has(key), key).toBe(false);
        seen.set(key, change.cpr);
      }
      cursor = page.cursor;
      if (!page.hasMore) break;
    }
    const live = sim.citizens.flatMap((citizen, ordinal) => seededRecords(ordinal).map((r) => [`${r.resourceType}/${r.id}`, citizen.cpr] as const));
    // Records written by earlier tests (putRaw) are live too; every seeded record must be there with its owner.
    for (const [key, cpr] of live) expect(seen.get(key) === cpr, key).toBe(true);
    expect(pages).toBeGreaterThan(live.length / 37 - 1);
    const again = await adapter.changes(cursor, 37);
    expect(again).toEqual({ changes: [], cursor, hasMore: false });
  });

  it('reports exactly the records changed since a cursor, with their new versions and owners', async () => {
    let cursor: string | null = null;
    for (let page = await adapter.changes(null, 1000); ; page = await adapter.changes(cursor, 1000)) {
      cursor = page.cursor;
      if (!page.hasMore) break;
    }
    const changed = await sim.mutate(0.1);
    const found = [];
    for (let page = await adapter.changes(cursor, 25); ; page = await adapter.changes(page.cursor, 25)) {
      found.push(...page.changes);
      if (!page.hasMore) break;
    }
    expect(found.map((c) => `${c.recordType}/${c.recordId}@${c.version}`).sort()).toEqual(changed.map((c) => `${c.resourceType}/${c.id}@${c.version}`).sort());
    for (const change of found) {
      const owner = sim.citizens.findIndex((_, o) => seededRecords(o).some((r) => r.id === change.recordId));
      if (owner >= 0) expect(change.cpr === sim.citizens[owner]!.cpr).toBe(true);
    }
  });

  it('reads records with the same lastUpdated without repeating or skipping one, though they are more than a page', async () => {
    const frozen = Date.parse('2026-06-01T08:00:00.000Z');
    const tied = await startSocialSimulator({ size: 40, writeTimestamps: 'clock', clock: () => frozen });
    try {
      const tiedAdapter = createSocialAdapter({ baseUrl: tied.baseUrl });
      let cursor: string | null = null;
      for (let page = await tiedAdapter.changes(null, 1000); ; page = await tiedAdapter.changes(cursor, 1000)) {
        cursor = page.cursor;
        if (!page.hasMore) break;
      }
      const changed = await tied.mutate(0.25);
      expect(new Set(changed.map((c) => c.lastUpdated))).toEqual(new Set(['2026-06-01T08:00:00.000Z']));
      const keys: string[] = [];
      const pageSizes: number[] = [];
      for (let page = await tiedAdapter.changes(cursor, 7); ; page = await tiedAdapter.changes(page.cursor, 7)) {
        keys.push(...page.changes.map((c) => `${c.recordType}/${c.recordId}`));
        pageSizes.push(page.changes.length);
        if (!page.hasMore) break;
      }
      expect(keys.length).toBe(changed.length);
      expect(new Set(keys)).toEqual(new Set(changed.map((c) => `${c.resourceType}/${c.id}`)));
      // More records of the instant than a page holds, and one instant is never cut between pages
      // (the server promises no order within it: test/adapters/fhir-feed-ties.test.ts): the first page
      // holds them all; the next, the deletions', none.
      expect(changed.length).toBeGreaterThan(7);
      expect(pageSizes[0]).toBe(changed.length);
    } finally {
      await tied.close();
    }
  });

  it('pulls only what changed after a cursor', async () => {
    let cursor: string | null = null;
    for (let page = await adapter.changes(null, 1000); ; page = await adapter.changes(cursor, 1000)) {
      cursor = page.cursor;
      if (!page.hasMore) break;
    }
    const ordinal = 12;
    const patient = (await adapter.pull(subjectOf(ordinal))).records;
    const goal = patient.find((r) => r.recordType === 'Goal')!;
    const current = await new FhirClient({ baseUrl: sim.baseUrl }).read('Goal', goal.recordId);
    await adapter.push({ operation: 'goal.upsert', cpr: subjectOf(ordinal).cpr, payload: { ...(current.body as object), lifecycleStatus: 'on-hold' }, expectedVersion: goal.version }, 'pull-since-cursor');
    const since = await adapter.pull(subjectOf(ordinal), cursor);
    expect(since.records.map((r) => r.recordId)).toEqual([goal.recordId]);
    expect(since.records[0]!.version).toBe(String(Number(goal.version) + 1));
  });

  it('refuses a cursor it did not issue, permanently', async () => {
    await expectAdapterError(adapter.changes('bm90IGEgY3Vyc29y'), { code: 'invalid-cursor', permanent: true });
    await expectAdapterError(adapter.pull(subjectOf(0), 'garbage'), { code: 'invalid-cursor', permanent: true });
  });
});

describe('social adapter: push', () => {
  const goalPayload = () => {
    const mapped = socialGoalReverse.map(modelGoal('goal-element-1'));
    if (!mapped.ok) throw new Error(mapped.reason);
    return mapped.payload;
  };

  it('creates once per idempotency key: the same key twice gives one resource and one effect', async () => {
    const key = 'registration-1:social:goal';
    const first = await adapter.push({ operation: 'goal.upsert', cpr: subjectOf(20).cpr, payload: goalPayload() }, key);
    const second = await adapter.push({ operation: 'goal.upsert', cpr: subjectOf(20).cpr, payload: goalPayload() }, key);
    expect(first).toMatchObject({ duplicate: false, version: '1' });
    expect(second).toEqual({ ...first, duplicate: true });
    expect(sim.effects(key)).toBe(1);
    const stored = await new FhirClient({ baseUrl: sim.baseUrl }).search('Goal', { identifier: `${ENPLAN_OPERATION_SYSTEM}|${key}` });
    expect(stored.body.entry).toHaveLength(1);
    expect(fhirValidationErrors(stored.body.entry![0]!.resource as never)).toEqual([]);
  });

  it('stays exactly-once when concurrent pushes race with one key', async () => {
    const key = 'registration-2:social:goal';
    const receipts = await Promise.all(Array.from({ length: 6 }, () => adapter.push({ operation: 'goal.upsert', cpr: subjectOf(21).cpr, payload: goalPayload() }, key)));
    expect(new Set(receipts.map((r) => r.targetId)).size).toBe(1);
    expect(receipts.filter((r) => !r.duplicate)).toHaveLength(1);
    expect(sim.effects(key)).toBe(1);
  });

  it('stays exactly-once when the answer to a create is lost or cut off and the push is retried', async () => {
    const impatient = createSocialAdapter({ baseUrl: sim.baseUrl, timeoutMs: 300 });
    const lost = 'registration-3:social:goal';
    sim.setFaults({ timeoutRate: 1, scope: { method: 'POST', resourceType: 'Goal' } });
    try {
      await expectAdapterError(impatient.push({ operation: 'goal.upsert', cpr: subjectOf(22).cpr, payload: goalPayload() }, lost), { code: 'timeout', permanent: false });
    } finally {
      sim.setFaults({ timeoutRate: 0, scope: undefined });
    }
    expect(await impatient.push({ operation: 'goal.upsert', cpr: subjectOf(22).cpr, payload: goalPayload() }, lost)).toMatchObject({ duplicate: true });
    expect(sim.effects(lost)).toBe(1);

    const cut = 'registration-4:social:goal';
    sim.setFaults({ malformedRate: 1, scope: { method: 'POST', resourceType: 'Goal' } });
    try {
      const error = await expectAdapterError(adapter.push({ operation: 'goal.upsert', cpr: subjectOf(22).cpr, payload: goalPayload() }, cut), { code: 'malformed-response', permanent: false });
      expect(error).toBeInstanceOf(MalformedResponseError);
    } finally {
      sim.setFaults({ malformedRate: 0, scope: undefined });
    }
    expect(await adapter.push({ operation: 'goal.upsert', cpr: subjectOf(22).cpr, payload: goalPayload() }, cut)).toMatchObject({ duplicate: true });
    expect(sim.effects(cut)).toBe(1);
  });

  it('updates with If-Match, a replay is a duplicate; a stale version is patched field by field, a conflict only when edits race the patch twice', async () => {
    const cpr = subjectOf(23).cpr;
    const created = await adapter.push({ operation: 'goal.upsert', cpr, payload: goalPayload() }, 'registration-5:create');
    const update = { operation: 'goal.upsert', cpr, payload: { ...goalPayload(), id: created.targetId, lifecycleStatus: 'completed' }, expectedVersion: '1' };
    const updated = await adapter.push(update, 'registration-5:update');
    expect(updated).toEqual({ targetId: created.targetId, duplicate: false, version: '2' });
    // A replay cannot tell whether its landed write was whole or a patch, so later updates are field-level.
    expect(await adapter.push(update, 'registration-5:update')).toEqual({ targetId: created.targetId, duplicate: true, fieldLevel: true, version: '2' });
    expect(sim.effects('registration-5:update')).toBe(1);
    // Stale (version 1, the Goal is at 2): only our changed field is patched, under the version read.
    const cancelled = { ...update, payload: { ...update.payload, lifecycleStatus: 'cancelled' }, previousPayload: update.payload };
    expect(await adapter.push(cancelled, 'registration-6:update')).toEqual({ targetId: created.targetId, duplicate: false, fieldLevel: true, version: '3' });
    expect(await adapter.push(cancelled, 'registration-6:update')).toEqual({ targetId: created.targetId, duplicate: true, fieldLevel: true, version: '3' });
    expect(sim.effects('registration-6:update')).toBe(1);
    expect((await sim.repository.readResource('Goal', created.targetId)) as object).toMatchObject({ lifecycleStatus: 'cancelled' });

    // Someone edits the Goal after each of our reads: two refused patches, then the conflict stands.
    const readResource = sim.repository.readResource.bind(sim.repository);
    sim.repository.readResource = (async (type: string, id: string) => {
      const answer = await readResource(type, id);
      if (type === 'Goal' && id === created.targetId) await sim.repository.updateResource({ ...(answer as object), priority: { text: 'Høj' } } as never);
      return answer;
    }) as typeof sim.repository.readResource;
    try {
      const conflict = await expectAdapterError(
        adapter.push({ ...cancelled, payload: { ...cancelled.payload, lifecycleStatus: 'on-hold' } }, 'registration-7:update'),
        { code: 'version-conflict', permanent: true },
      );
      expect(conflict).toBeInstanceOf(VersionConflictError);
      expect(conflict.message.includes(cpr)).toBe(false);
    } finally {
      sim.repository.readResource = readResource;
    }
    expect(sim.effects('registration-7:update')).toBe(0);
    expect((await sim.repository.readResource('Goal', created.targetId)) as object).toMatchObject({ lifecycleStatus: 'cancelled', priority: { text: 'Høj' } });
  });

  it('writes an intervention as a CarePlan the social mapping reads back to the same intervention', async () => {
    const mapped = socialInterventionReverse.map(modelIntervention('intervention-element-1'));
    expect(mapped.ok).toBe(true);
    if (!mapped.ok) return;
    const receipt = await adapter.push({ operation: 'intervention.upsert', cpr: subjectOf(24).cpr, payload: mapped.payload }, 'registration-7:careplan');
    const stored = (await new FhirClient({ baseUrl: sim.baseUrl }).read('CarePlan', receipt.targetId)).body;
    expect(fhirValidationErrors(stored as never)).toEqual([]);
    const back = runMapping(socialCarePlanMapping, stored, context);
    expect(back.ok).toBe(true);
    if (!back.ok) return;
    expect(back.fragments[0]).toMatchObject({
      kind: 'intervention',
      category: 'interventions',
      content: { legalBasis: 'SEL §85', type: modelIntervention('x').type, title: 'Bostøtte to gange om ugen', period: { start: '2026-03-15', end: '2026-09-15' }, status: 'planned', responsibleUnit: 'Bostøtten Nord' },
    });
  });

  it('reads a CarePlan it pushed back onto the same intervention, not a second one (R18)', async () => {
    const elementId = crypto.randomUUID();
    const ours = modelIntervention(elementId);
    const mapped = socialInterventionReverse.map(ours);
    if (!mapped.ok) throw new Error(mapped.reason);
    const receipt = await adapter.push({ operation: 'intervention.upsert', cpr: subjectOf(27).cpr, payload: mapped.payload }, `registration-${elementId}:careplan`);
    expect(receipt.targetId).not.toBe(elementId);
    // The next pull: the CarePlan as the server holds it, under the server's own id.
    const pulled = await adapter.pull(subjectOf(27));
    const record = pulled.records.find((r) => r.recordType === 'CarePlan' && (r.payload as { id?: string }).id === receipt.targetId)!;
    const back = runMapping(socialCarePlanMapping, record.payload, context);
    if (!back.ok) throw new Error(back.reason);
    const plan = Plan.parse(validPlan({ goals: [], interventions: [{ ...ours, memberId: 'm1', goalIds: [] }], agreements: [], followUps: [], citizenViews: [] }));
    const origin = { system: 'social' as const, recordId: record.recordId, recordVersion: record.version, mappingId: socialCarePlanMapping.id, mappingVersion: socialCarePlanMapping.version, category: 'interventions' as const, consentRef: 'g' };
    const merged = mergeFragments(plan, back.fragments.map((fragment) => ({ fragment, origin, memberId: 'm1' })), { at: '2026-03-02T10:00:00Z', ruleVersion: 'rules-2026.11' });
    expect(merged.plan.interventions.map((i) => i.id)).toEqual([elementId]);
    expect(merged.added).toBe(0);
    // A CarePlan the social system made itself keeps the social system's id.
    const seeded = pulled.records.find((r) => r.recordType === 'CarePlan' && (r.payload as { id?: string }).id !== receipt.targetId);
    if (seeded) {
      const own = runMapping(socialCarePlanMapping, seeded.payload, context);
      if (own.ok) for (const fragment of own.fragments) expect(fragment.elementId).toMatch(/^social:careplan:/);
    }
  });

  it('sends a service request as a ServiceRequest', async () => {
    const mapped = socialServiceRequestReverse.map(modelIntervention('intervention-element-2'));
    if (!mapped.ok) throw new Error(mapped.reason);
    const receipt = await adapter.push({ operation: 'service-request.create', cpr: subjectOf(25).cpr, payload: mapped.payload }, 'registration-8:request');
    const stored = (await new FhirClient({ baseUrl: sim.baseUrl }).read('ServiceRequest', receipt.targetId)).body as { subject: { reference: string } };
    expect(stored.subject.reference).toMatch(/^Patient\//);
    expect(fhirValidationErrors(stored as never)).toEqual([]);
  });

  it('refuses permanently what can never succeed', async () => {
    const cpr = subjectOf(26).cpr;
    const stranger = generatePopulation(1, 556)[0] as SyntheticCitizen;
    await expectAdapterError(adapter.push({ operation: 'goal.upsert', cpr: stranger.cpr, payload: goalPayload() }, 'k1'), { code: 'unknown-citizen', permanent: true });
    await expectAdapterError(adapter.push({ operation: 'plan.delete', cpr, payload: goalPayload() }, 'k2'), { code: 'unsupported-operation', permanent: true });
    await expectAdapterError(adapter.push({ operation: 'goal.upsert', cpr, payload: { resourceType: 'Goal', description: { text: 'no status' } } }, 'k3'), { code: 'invalid-payload', permanent: true });
    await expectAdapterError(adapter.push({ operation: 'goal.upsert', cpr, payload: { ...goalPayload(), id: 'abc' } }, 'k4'), { code: 'missing-expected-version', permanent: true });
    expect(sim.effects('k1') + sim.effects('k2') + sim.effects('k3') + sim.effects('k4')).toBe(0);
  });
});

/** What a pull yielded, comparable without the payloads: records with versions, quarantined ids. */
const summary = (result: PullResult | undefined) =>
  result && {
    records: result.records.map((r) => `${r.recordType}/${r.recordId}@${r.version}`).sort(),
    quarantined: result.quarantined.map((q) => `${q.recordType}/${q.recordId}`).sort(),
    unknownAtSource: result.unknownAtSource ?? false,
  };

/** pullMany's answer for these subjects next to `pull` of each, as summaries (a known citizen is never "unknown"). */
async function compareWithPull(many: Map<string, PullResult>, subjects: readonly PullSubject[], single: SourceAdapter = adapter) {
  expect(subjects.every((s) => many.has(s.citizenId))).toBe(true);
  for (const subject of subjects) {
    const one = await single.pull(subject);
    const unknown = one.records.length === 0 && one.quarantined.length === 0;
    expect(summary(many.get(subject.citizenId)), subject.citizenId).toEqual({ ...summary(one), unknownAtSource: unknown });
  }
}

/**
 * A FHIR server that lies: forwards everything to the simulator, but may rewrite the form body of
 * a POST search first; links in the answers are pointed back at the proxy.
 */
async function startProxy(target: string, rewrite: (path: string, form: URLSearchParams) => void, inspect: (path: string, body: unknown) => void, alter?: (url: string, body: any) => void) {
  const targetUrl = new URL(target);
  let base = '';
  const server: Server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    let body: string | undefined = chunks.length ? Buffer.concat(chunks).toString('utf8') : undefined;
    const path = new URL(req.url ?? '/', 'http://proxy').pathname;
    if (body !== undefined && String(req.headers['content-type']).startsWith('application/x-www-form-urlencoded')) {
      const form = new URLSearchParams(body);
      rewrite(path, form);
      body = form.toString();
    }
    const headers: Record<string, string> = {};
    for (const name of ['content-type', 'accept', 'if-match', 'if-none-exist']) if (req.headers[name]) headers[name] = String(req.headers[name]);
    const answer = await fetch(`${targetUrl.origin}${req.url}`, { method: req.method, headers, ...(body !== undefined ? { body } : {}) });
    let text = (await answer.text()).split(target).join(base);
    try {
      const json = JSON.parse(text);
      inspect(path, json);
      if (alter) {
        alter(req.url ?? '', json);
        text = JSON.stringify(json);
      }
    } catch {
      // not JSON: passed on as is
    }
    res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'application/fhir+json' });
    res.end(text);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const address = server.address();
  base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}${targetUrl.pathname}`;
  return {
    baseUrl: base,
    close: () => new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve()))),
  };
}

describe('social adapter: change feed', () => {
  it('asks the feed for ids, versions, times and owners only, never the records themselves (R12)', async () => {
    const before = sim.requests().length;
    const page = await adapter.changes(null, 50);
    expect(page.changes.length).toBeGreaterThan(0);
    const feedRequests = sim.requests().slice(before).filter((r) => r.url.includes('_type='));
    expect(feedRequests.length).toBeGreaterThan(0);
    for (const request of feedRequests) expect(decodeURIComponent(request.url)).toMatch(/[?&]_elements=subject(&|$)/);
  });
});

describe('social adapter: a feed entry that cannot be ordered', () => {
  it('is quarantined with what it lacks, and the feed goes on with the rest (F3)', async () => {
    let broken: string | undefined;
    const proxy = await startProxy(sim.baseUrl, () => undefined, () => undefined, (url, body) => {
      // The first feed page's first entry loses its version, as a faulty server might send it.
      if (!decodeURIComponent(url).includes('_type=') || broken || !body?.entry?.length) return;
      const resource = body.entry[0].resource;
      broken = `${resource.resourceType}/${resource.id}`;
      delete resource.meta.versionId;
    });
    try {
      const faulty = createSocialAdapter({ baseUrl: proxy.baseUrl, timeoutMs: 5_000 });
      const page = await faulty.changes(null, 20);
      expect(broken).toBeDefined();
      expect(page.quarantined).toEqual([expect.objectContaining({ recordId: broken!.split('/')[1], reason: expect.stringContaining('without meta.versionId') })]);
      expect(page.quarantined![0]!.recordType).toBe(broken!.split('/')[0]);
      expect(page.changes.length).toBeGreaterThan(0);
      expect(page.changes.some((c) => `${c.recordType}/${c.recordId}` === broken)).toBe(false);
    } finally {
      await proxy.close();
    }
  });
});

describe('social adapter: pullMany', () => {
  const strangers = generatePopulation(150, 777).filter((c) => !population.some((p) => p.cpr === c.cpr));
  const strangerSubject = (i: number) => ({ citizenId: `stranger-${i}`, cpr: strangers[i]!.cpr });

  it('reads several citizens in one Patient search and one search per record type, each exactly as pull does', async () => {
    // A contract failure, records written since the start (push tests) and changed ones (changes tests) are among them.
    const goal = seededRecords(40).find((r) => r.resourceType === 'Goal')!;
    await sim.repository.putRaw({ ...goal, id: goal.id!, lifecycleStatus: 'somewhere-in-between' } as never);
    const subjects = [40, 3, 20, 21, 22, 23, 12, 41, 42, 43].map(subjectOf);
    const before = sim.requests().length;
    const many = await adapter.pullMany!(subjects);
    const requests = sim.requests().slice(before);
    expect([...many.keys()].sort()).toEqual(subjects.map((s) => s.citizenId).sort());
    expect(requests.map((r) => `${r.method} ${r.url} ${r.status}`)).toEqual(
      ['Patient', 'CarePlan', 'Goal', 'Condition', 'CareTeam'].map((type) => `POST /fhir/${type}/_search 200`),
    );
    expect(many.get('citizen-40')!.quarantined).toEqual([expect.objectContaining({ recordType: 'Goal', recordId: goal.id })]);
    expect(many.get('citizen-40')!.quarantined[0]!.reason).toMatch(/lifecycleStatus/);
    expect(many.get('citizen-20')!.records.length).toBeGreaterThan(seededRecords(20).length);
    await compareWithPull(many, subjects);
  });

  it('with a feed position, reads only what changed after it, exactly as pull with that cursor does', async () => {
    const subjects = [60, 61, 62, 63, 64, 65, 66, 67].map(subjectOf);
    const position = adapter.cursorAt!(new Date(Date.now() - 1));
    expect((await sim.mutate(0.4)).length).toBeGreaterThan(0);
    const count = (results: Map<string, PullResult>) => [...results.values()].reduce((sum, r) => sum + r.records.length, 0);
    const changed = await adapter.pullMany!(subjects, { since: position });
    expect(count(changed)).toBeGreaterThan(0);
    expect(count(changed)).toBeLessThan(count(await adapter.pullMany!(subjects)));
    for (const subject of subjects) expect(summary(changed.get(subject.citizenId))).toEqual({ ...summary(await adapter.pull(subject, position)), unknownAtSource: false });
  });

  it('says unknownAtSource for a citizen the system does not know, and for that one only', async () => {
    const subjects = [subjectOf(1), strangerSubject(0), subjectOf(2)];
    const many = await adapter.pullMany!(subjects);
    expect(many.get('stranger-0')).toEqual({ records: [], quarantined: [], unknownAtSource: true });
    for (const id of ['citizen-1', 'citizen-2']) {
      expect(many.get(id)!.unknownAtSource).toBeUndefined();
      expect(many.get(id)!.records.length).toBeGreaterThan(0);
    }
    await compareWithPull(many, subjects);
    expect(await adapter.pullMany!([strangerSubject(1)])).toEqual(new Map([['stranger-1', { records: [], quarantined: [], unknownAtSource: true }]]));
    expect(await adapter.pullMany!([])).toEqual(new Map());
  });

  it('follows Bundle.link next through every page of the Patient and record searches', async () => {
    const small = createSocialAdapter({ baseUrl: sim.baseUrl, pageSize: 2 });
    const subjects = Array.from({ length: 11 }, (_, i) => subjectOf(50 + i));
    const before = sim.requests().length;
    const paged = await small.pullMany!(subjects);
    const requests = sim.requests().slice(before);
    const whole = await adapter.pullMany!(subjects);
    expect([...paged].map(([id, r]) => [id, summary(r)])).toEqual([...whole].map(([id, r]) => [id, summary(r)]));
    // Next pages by the server's token: neither CPRs nor the reference list in the URL.
    const nextPages = requests.filter((r) => r.method === 'GET');
    expect(nextPages.every((r) => /^\/fhir\?_getpages=[0-9a-f-]+&_count=2&_offset=\d+$/.test(r.url) && r.status === 200)).toBe(true);
    const perType = new Map<string, number>([['Patient', subjects.length]]);
    for (const result of whole.values()) for (const r of [...result.records, ...result.quarantined]) perType.set(r.recordType, (perType.get(r.recordType) ?? 0) + 1);
    const expectedNextPages = [...perType.values()].reduce((sum, n) => sum + Math.max(1, Math.ceil(n / 2)) - 1, 0);
    expect(nextPages.length).toBe(expectedNextPages);
    expect(nextPages.length).toBeGreaterThan(20);
    await compareWithPull(paged, subjects);
  });

  it('splits more subjects than a round takes into several rounds', async () => {
    const subjects = [...sim.citizens.map((_, ordinal) => subjectOf(ordinal)), ...strangers.map((_, i) => strangerSubject(i))];
    expect(subjects.length).toBeGreaterThan(200);
    let before = sim.requests().length;
    const many = await adapter.pullMany!(subjects);
    const patientSearches = (from: number) => sim.requests().slice(from).filter((r) => r.method === 'POST' && r.url === '/fhir/Patient/_search').length;
    expect(patientSearches(before)).toBe(Math.ceil(subjects.length / 100));
    expect(many.size).toBe(subjects.length);
    expect(strangers.every((_, i) => many.get(`stranger-${i}`)!.unknownAtSource === true)).toBe(true);
    await compareWithPull(many, subjects.slice(0, sim.citizens.length));

    const threeAtATime = createSocialAdapter({ baseUrl: sim.baseUrl, batchSize: 3 });
    const eight = [30, 31, 32, 33, 34, 35, 36, 37].map(subjectOf);
    before = sim.requests().length;
    const batched = await threeAtATime.pullMany!(eight);
    expect(patientSearches(before)).toBe(3);
    expect(sim.requests().slice(before).filter((r) => r.method === 'POST' && r.url === '/fhir/Goal/_search').length).toBe(3);
    await compareWithPull(batched, eight);
  });

  it('never hands back a record of a patient not asked for, even when the server sends one', async () => {
    const client = new FhirClient({ baseUrl: sim.baseUrl });
    const foreign = (await client.searchByPost('Patient', { identifier: `${CPR_SYSTEM}|${subjectOf(70).cpr}` })).body.entry![0]!.resource as { id: string };
    const foreignRef = `Patient/${foreign.id}`;
    let lie = false;
    let foreignSent = 0;
    const proxy = await startProxy(
      sim.baseUrl,
      (path, form) => {
        // The lying server widens the reference OR-list of the Goal search by someone else.
        if (lie && path === '/fhir/Goal/_search' && form.has('subject')) form.set('subject', `${form.get('subject')},${foreignRef}`);
      },
      (_path, body) => {
        const entries = (body as { entry?: { resource?: { subject?: { reference?: string } } }[] }).entry ?? [];
        foreignSent += entries.filter((e) => e.resource?.subject?.reference === foreignRef).length;
      },
    );
    try {
      const lied = createSocialAdapter({ baseUrl: proxy.baseUrl });
      const subjects = [subjectOf(71), subjectOf(72)];
      // Through the proxy as it is, pullMany reads what pull reads.
      await compareWithPull(await lied.pullMany!(subjects), subjects);
      expect(foreignSent).toBe(0);
      lie = true;
      const error = await expectAdapterError(lied.pullMany!(subjects), { code: 'unattributable-record', permanent: false });
      expect(foreignSent).toBeGreaterThan(0);
      expect(error.message).toMatch(/not asked for/);
      for (const subject of subjects) expect(error.message.includes(subject.cpr)).toBe(false);
    } finally {
      await proxy.close();
    }
  });

  it('learns the Patient ids of the citizens it read, so changes names the owners without a Patient search', async () => {
    const small = await startSocialSimulator({ size: 12 });
    try {
      const smallAdapter = createSocialAdapter({ baseUrl: small.baseUrl });
      await smallAdapter.pullMany!(small.citizens.map((c, i) => ({ citizenId: `small-${i}`, cpr: c.cpr })));
      small.setFaults({ errorRate: 1, scope: { method: 'POST', resourceType: 'Patient' } });
      const page = await smallAdapter.changes(null, 1000);
      expect(page.changes.length).toBeGreaterThan(small.citizens.length);
      const cprs = new Set(small.citizens.map((c) => c.cpr));
      expect(page.changes.every((c) => cprs.has(c.cpr))).toBe(true);
    } finally {
      await small.close();
    }
  });

  it('refuses a CPR that two Patients carry, as pull does', async () => {
    const small = await startSocialSimulator({ size: 12 });
    try {
      const smallAdapter = createSocialAdapter({ baseUrl: small.baseUrl });
      const cpr = small.citizens[2]!.cpr;
      await small.repository.createResource({ resourceType: 'Patient', identifier: [{ system: CPR_SYSTEM, value: cpr }] } as never);
      const subjects = small.citizens.map((c, i) => ({ citizenId: `small-${i}`, cpr: c.cpr }));
      await expectAdapterError(smallAdapter.pull(subjects[2]!), { code: 'ambiguous-patient', permanent: true });
      const error = await expectAdapterError(smallAdapter.pullMany!(subjects), { code: 'ambiguous-patient', permanent: true });
      expect(error.message.includes(cpr)).toBe(false);
      const others = subjects.filter((_, i) => i !== 2);
      const many = await smallAdapter.pullMany!(others);
      expect(many.size).toBe(others.length);
      await compareWithPull(many, others, smallAdapter);
    } finally {
      await small.close();
    }
  });

  it('refuses a list that gives one CPR to two citizens', async () => {
    await expectAdapterError(adapter.pullMany!([subjectOf(1), { citizenId: 'someone-else', cpr: subjectOf(1).cpr }]), { code: 'conflicting-subjects', permanent: true });
    const twice = await adapter.pullMany!([subjectOf(1), subjectOf(1)]);
    expect([...twice.keys()]).toEqual(['citizen-1']);
  });
});

describe('social adapter: CPR protection', () => {
  it('never put a CPR number in any URL it requested', () => {
    const urls = sim.requests().map((r) => r.url);
    expect(urls.length).toBeGreaterThan(100);
    const cprs = population.map((c) => c.cpr);
    // Counted, not listed: a failure message must not print the CPR it found.
    expect(urls.filter((url) => cprs.some((cpr) => url.includes(cpr))).length).toBe(0);
  });
});
