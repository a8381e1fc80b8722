/**
 * The batch read (`pullMany`) of a SOAP adapter against its running simulator over real HTTP on
 * 127.0.0.1, shared by the DFDG and Ungedatabasen tests (call it inside a `describe`). CPR numbers
 * are never printed: results are compared with CPRs masked (a readable diff), then exactly, as a
 * boolean.
 */
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { AdapterError, type PullResult, type PullSubject, type SourceAdapter } from '../../adapters/adapter';
import type { SyntheticCitizen } from '../../adapters/shared/population';
import type { BatchReadSpec } from '../../adapters/soap/batch-read';
import { buildEnvelope, SOAP11_CONTENT_TYPE } from '../../adapters/soap/envelope';
import { noFaults, type SoapSectorSimulator } from '../../adapters/soap/simulator-kit';
import type { XmlWritableObject } from '../../adapters/soap/xml';
import { testCpr } from './cpr';

const CPR_SHAPED = /\d{6}-?\d{4}/;

export type BatchAdapter = SourceAdapter & { pullMany: NonNullable<SourceAdapter['pullMany']> };

export interface BatchReadSuiteOptions {
  /** Start the simulator (at least 2 × cap + 5 citizens in its population). */
  start(): Promise<SoapSectorSimulator>;
  connect(baseUrl: string, options: { timeoutMs: number; fetch?: typeof fetch }): BatchAdapter;
  spec: BatchReadSpec;
  namespace: string;
  /** The service's SOAP header, for requests sent without the adapter. */
  header: XmlWritableObject;
  /** A valid record about `about`, to inject into another citizen's read reply. */
  recordAbout(about: SyntheticCitizen): { element: string; content: XmlWritableObject; recordId: string };
}

export async function failure(promise: Promise<unknown>): Promise<AdapterError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof AdapterError) return error;
    throw error;
  }
  throw new Error('the call succeeded');
}

const subject = (citizen: SyntheticCitizen): PullSubject => ({ citizenId: `citizen-${citizen.index}`, cpr: citizen.cpr });
const masked = (value: unknown) => String(JSON.stringify(value)).replace(/\d{6}-?\d{4}/g, '[cpr]');

/** The same result, field for field and in the same order, without printing a CPR number. */
function expectSame(actual: PullResult | undefined, expected: PullResult | undefined): void {
  expect(actual).toBeDefined();
  expect(masked(actual)).toBe(masked(expected));
  expect(JSON.stringify(actual) === JSON.stringify(expected)).toBe(true);
}

export function batchReadSuite(options: BatchReadSuiteOptions): void {
  const { spec } = options;
  const cap = spec.maxSubjects;
  let sim: SoapSectorSimulator;
  let adapter: BatchAdapter;

  beforeAll(async () => {
    sim = await options.start();
    adapter = options.connect(sim.url, { timeoutMs: 5_000 });
  });
  afterAll(() => sim.close());
  afterEach(() => {
    sim.setFaults(noFaults);
  });

  const batchRequests = () => sim.operationCounts()[spec.request] ?? 0;
  const allRequests = () => Object.values(sim.operationCounts()).reduce((sum, n) => sum + n, 0);
  /** What `pull` says about a subject, with fault 1010 read as `unknownAtSource` (as pullMany reports it). */
  async function pullOne(s: PullSubject): Promise<PullResult> {
    try {
      return await adapter.pull(s);
    } catch (error) {
      if (error instanceof AdapterError && error.code === '1010') return { records: [], quarantined: [], unknownAtSource: true };
      throw error;
    }
  }

  it('reads several citizens in one request, each exactly as pull reads them', async () => {
    const citizens = sim.knownCitizens().slice(0, 12);
    const before = batchRequests();
    const many = await adapter.pullMany(citizens.map(subject));
    expect(batchRequests() - before).toBe(1);
    expect([...many.keys()].sort()).toEqual(citizens.map((c) => subject(c).citizenId).sort());
    for (const citizen of citizens) {
      const single = await adapter.pull(subject(citizen));
      expect(single.records.length).toBeGreaterThan(0);
      expectSame(many.get(subject(citizen).citizenId), single);
    }
  });

  it('with a feed position, reads only what changed after it, exactly as pull with that cursor does', async () => {
    const citizens = sim.knownCitizens().slice(0, 20);
    const position = adapter.cursorAt!(new Date(Date.now() - 1));
    expect(sim.mutate(0.3)).toBeGreaterThan(0);
    const everything = await adapter.pullMany(citizens.map(subject));
    const changed = await adapter.pullMany(citizens.map(subject), { since: position });
    const count = (results: Map<string, PullResult>) => [...results.values()].reduce((sum, r) => sum + r.records.length, 0);
    expect(count(changed)).toBeGreaterThan(0);
    expect(count(changed)).toBeLessThan(count(everything));
    for (const citizen of citizens) expectSame(changed.get(subject(citizen).citizenId), await adapter.pull(subject(citizen), position));
  });

  it('reports an unknown CPR among known ones as unknownAtSource, for that subject only', async () => {
    const knownCprs = new Set(sim.knownCitizens().map((c) => c.cpr));
    const known = sim.knownCitizens().slice(12, 16).map(subject);
    const notServed = sim.population.find((c) => !knownCprs.has(c.cpr))!;
    const unknown = [
      { citizenId: 'not-served-here', cpr: notServed.cpr },
      { citizenId: 'nowhere', cpr: testCpr() },
    ];
    expect(unknown.some((s) => knownCprs.has(s.cpr))).toBe(false);
    const many = await adapter.pullMany([known[0]!, unknown[0]!, known[1]!, known[2]!, unknown[1]!, known[3]!]);
    expect(many.size).toBe(6);
    for (const s of unknown) {
      const result = many.get(s.citizenId)!;
      expect(result.unknownAtSource).toBe(true);
      expect(result.records.length + result.quarantined.length).toBe(0);
      expect((await failure(adapter.pull(s))).code).toBe('1010');
    }
    for (const s of known) {
      const result = many.get(s.citizenId)!;
      expect(result.unknownAtSource).toBeUndefined();
      expect(result.records.length).toBeGreaterThan(0);
      expectSame(result, await adapter.pull(s));
    }
  });

  it('gives every citizenId the result when two subjects share a CPR', async () => {
    const citizen = sim.knownCitizens()[16]!;
    const many = await adapter.pullMany([
      { citizenId: 'first', cpr: citizen.cpr },
      { citizenId: 'second', cpr: citizen.cpr },
    ]);
    expect([...many.keys()]).toEqual(['first', 'second']);
    expectSame(many.get('first'), await adapter.pull(subject(citizen)));
    expectSame(many.get('second'), many.get('first'));
    expect(many.get('second')).not.toBe(many.get('first'));
  });

  it(`splits more subjects than the cap into several requests and reads each as pull would`, async () => {
    const citizens = sim.population.slice(0, 2 * cap + 5);
    let before = batchRequests();
    await adapter.pullMany(citizens.slice(0, cap).map(subject));
    expect(batchRequests() - before).toBe(1);

    before = batchRequests();
    const many = await adapter.pullMany(citizens.map(subject));
    expect(batchRequests() - before).toBe(3);
    expect(many.size).toBe(citizens.length);
    let unknown = 0;
    for (const citizen of citizens) {
      const result = many.get(subject(citizen).citizenId);
      if (result?.unknownAtSource) unknown++;
      expectSame(result, await pullOne(subject(citizen)));
    }
    expect(unknown).toBeGreaterThan(0);
    expect(unknown).toBeLessThan(citizens.length);
  });

  it('the simulator refuses a batch over the cap with a clear fault', async () => {
    const cprs = sim.population.slice(0, cap + 1).map((c) => c.cpr);
    const body = buildEnvelope({ namespace: options.namespace, header: options.header, operation: spec.request, content: { [spec.subjectElement]: cprs } });
    const response = await fetch(sim.url, { method: 'POST', headers: { 'content-type': SOAP11_CONTENT_TYPE }, body });
    expect(response.status).toBe(500);
    const reply = await response.text();
    expect(CPR_SHAPED.test(reply)).toBe(false);
    expect(reply).toContain('<ErrorCode>1020</ErrorCode>');
    expect(reply).toContain(`names ${cap + 1} persons; at most ${cap} are allowed per request`);
    // At the cap it answers.
    const atCap = buildEnvelope({ namespace: options.namespace, header: options.header, operation: spec.request, content: { [spec.subjectElement]: cprs.slice(0, cap) } });
    expect((await fetch(sim.url, { method: 'POST', headers: { 'content-type': SOAP11_CONTENT_TYPE }, body: atCap })).status).toBe(200);
  });

  it('keeps a record about another asked citizen quarantined with the citizen whose reply carried it', async () => {
    const [target, other] = sim.knownCitizens().slice(20, 22) as [SyntheticCitizen, SyntheticCitizen];
    const foreign = options.recordAbout(other);
    sim.injectRecord(target.cpr, foreign.element, foreign.content);
    const many = await adapter.pullMany([subject(target), subject(other)]);
    const forTarget = many.get(subject(target).citizenId)!;
    const forOther = many.get(subject(other).citizenId)!;
    expectSame(forTarget, await adapter.pull(subject(target)));
    expectSame(forOther, await adapter.pull(subject(other)));
    expect(forTarget.quarantined.map((q) => q.reason)).toEqual(['the record is about another citizen than the one asked for']);
    expect(forTarget.records.some((r) => r.recordId === foreign.recordId)).toBe(false);
    expect(forOther.records.some((r) => r.recordId === foreign.recordId)).toBe(false);
  });

  it('fails the whole batch when the reply names a person not asked for', async () => {
    const [asked, alsoAsked, stranger] = sim.knownCitizens().slice(22, 25) as [SyntheticCitizen, SyntheticCitizen, SyntheticCitizen];
    // The real simulator's reply, with the first group (the first person asked) relabelled.
    const relabelling: typeof fetch = async (input, init) => {
      const response = await fetch(input, init);
      const text = (await response.text()).replace(asked.cpr, stranger.cpr);
      return new Response(text, { status: response.status, headers: { 'content-type': response.headers.get('content-type') ?? '' } });
    };
    const relabelled = options.connect(sim.url, { timeoutMs: 5_000, fetch: relabelling });
    const error = await failure(relabelled.pullMany([subject(asked), subject(alsoAsked)]));
    expect(error.code).toBe('unexpected-response');
    expect(error.message).toMatch(/not asked for/);
    expect(CPR_SHAPED.test(error.message)).toBe(false);
  });

  it('sends the CPRs in the SOAP body only, and checks every CPR before calling', async () => {
    await adapter.pullMany(sim.knownCitizens().slice(0, 3).map(subject));
    const last = sim.requestLog().at(-1)!;
    expect(last.operation).toBe(spec.request);
    expect(CPR_SHAPED.test(last.url)).toBe(false);
    expect(CPR_SHAPED.test(JSON.stringify(last.headers))).toBe(false);

    const before = allRequests();
    const invalid = await failure(adapter.pullMany([subject(sim.knownCitizens()[0]!), { citizenId: 'bad', cpr: '3213991234' }]));
    expect(invalid).toMatchObject({ permanent: true, code: 'invalid-cpr' });
    expect((await adapter.pullMany([])).size).toBe(0);
    expect(allRequests()).toBe(before);
  });

  it('passes simulated faults on as AdapterErrors', async () => {
    const subjects = sim.knownCitizens().slice(0, 3).map(subject);
    sim.setFaults({ errorRate: 1 });
    expect(await failure(adapter.pullMany(subjects))).toMatchObject({ permanent: false, code: '5000' });
    sim.setFaults({ errorRate: 0, malformedRate: 1 });
    expect(await failure(adapter.pullMany(subjects))).toMatchObject({ permanent: false, code: 'malformed-response' });
    const impatient = options.connect(sim.url, { timeoutMs: 150 });
    sim.setFaults({ malformedRate: 0, timeoutRate: 1 });
    expect(await failure(impatient.pullMany(subjects))).toMatchObject({ permanent: false, code: 'timeout' });
    sim.setFaults({ timeoutRate: 0, latencyMs: 1_000 });
    expect(await failure(impatient.pullMany(subjects))).toMatchObject({ permanent: false, code: 'timeout' });
    sim.setFaults(noFaults);
    expect((await adapter.pullMany(subjects)).size).toBe(3);
  });
}
