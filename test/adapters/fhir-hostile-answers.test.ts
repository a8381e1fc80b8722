/**
 * The shared FHIR adapter (social and health) against answers no honest server sends, served over
 * real HTTP on 127.0.0.1 so fhir-kit-client parses them as it would a sector system's:
 * - records nested thousands deep (extensions inside extensions, any element inside another):
 *   quarantined one by one with a readable reason, never a stack overflow, and the rest of the page
 *   still flows — through `pull` and `pullMany`;
 * - a 2xx page whose JSON is a bare value (`null`, `5`, `"x"`): a malformed page, quarantined like
 *   one that is no JSON at all — never reported as a network problem.
 * The citizen is synthetic and never named in a test name or message.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AdapterError, type QuarantinedRecord } from '../../adapters/adapter';
import { FhirClient, MalformedResponseError } from '../../adapters/fhir/client';
import { MAX_RECORD_DEPTH } from '../../adapters/fhir/nesting';
import { CPR_SYSTEM } from '../../adapters/fhir/systems';
import { generatePopulation } from '../../adapters/shared/population';
import { createSocialAdapter } from '../../adapters/social/adapter';

const PATIENT_ID = 'hostile-patient';
const citizen = { citizenId: 'citizen-1', cpr: generatePopulation(1, 4242)[0]!.cpr };
const fixture = (path: string) => JSON.parse(readFileSync(join(import.meta.dirname, '../fixtures', path), 'utf8')) as { id: string } & Record<string, unknown>;
const goal = { ...fixture('social/goal/ffb-intervention-goal.input.json'), subject: { reference: `Patient/${PATIENT_ID}` } };
const carePlan = { ...fixture('social/careplan/ffb-plan.input.json'), subject: { reference: `Patient/${PATIENT_ID}` } };
const patient = { resourceType: 'Patient', id: PATIENT_ID, meta: { versionId: '1', lastUpdated: '2026-01-01T00:00:00Z' }, identifier: [{ system: CPR_SYSTEM, value: citizen.cpr }] };

// Built as text: JSON.stringify itself overflows the stack on values this deep.
const extensionsNested = (depth: number) => `${'[{"url":"urn:hostile","extension":'.repeat(depth)}[]${'}]'.repeat(depth)}`;
const objectNested = (depth: number) => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
/** The resource's JSON with one more property, given as JSON text. */
const withProperty = (resource: object, name: string, json: string) => `${JSON.stringify(resource).slice(0, -1)},"${name}":${json}}`;
const page = (...resources: string[]) => `{"resourceType":"Bundle","type":"searchset","entry":[${resources.map((r) => `{"resource":${r}}`).join(',')}]}`;
const emptyPage = page();

/** Search answers by resource type; the Patient search and every other type answer sensibly. */
let answers: Record<string, string> = {};
let server: Server;
let baseUrl: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    req.resume();
    const segments = new URL(req.url ?? '/', 'http://x').pathname.split('/').filter(Boolean);
    const type = segments.at(-1) === '_search' ? segments.at(-2)! : segments.at(-1)!;
    res.writeHead(200, { 'content-type': 'application/fhir+json' });
    res.end(answers[type] ?? (type === 'Patient' ? page(JSON.stringify(patient)) : emptyPage));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const address = server.address();
  baseUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/fhir`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});
beforeEach(() => {
  answers = {};
});

const adapter = () => createSocialAdapter({ baseUrl, timeoutMs: 5_000 });

function expectTooDeep(quarantined: QuarantinedRecord | undefined, recordId: string): void {
  expect(quarantined).toMatchObject({ recordType: 'Goal', recordId });
  expect(quarantined!.reason).toMatch(new RegExp(`Goal contract: record: nests .* more than ${MAX_RECORD_DEPTH} levels deep`));
  expect(quarantined!.reason.length).toBeLessThan(200);
  // Kept for IT staff as far as it goes, the deep part cut off.
  expect(quarantined!.raw).toContain(`"id":"${recordId}"`);
  expect(quarantined!.raw.length).toBeLessThanOrEqual(4000);
}

describe('FHIR adapter: records nested thousands deep', () => {
  const deepPage = () =>
    page(
      JSON.stringify({ ...goal, id: 'goal-fine' }),
      withProperty({ ...goal, id: 'goal-deep-extensions' }, 'extension', extensionsNested(3_000)),
      withProperty({ ...goal, id: 'goal-deep-object' }, 'note', `[{"text":"x","nested":${objectNested(20_000)}}]`),
      JSON.stringify({ ...goal, id: 'goal-also-fine' }),
    );

  it('pull quarantines each record too deep to check, with a readable reason, and reads the rest of the page', async () => {
    answers.Goal = deepPage();
    answers.CarePlan = page(JSON.stringify(carePlan));
    const result = await adapter().pull(citizen);
    expect(result.records.map((r) => `${r.recordType}/${r.recordId}`).sort()).toEqual([`CarePlan/${carePlan.id}`, 'Goal/goal-also-fine', 'Goal/goal-fine']);
    expect(result.quarantined).toHaveLength(2);
    expectTooDeep(result.quarantined[0], 'goal-deep-extensions');
    expectTooDeep(result.quarantined[1], 'goal-deep-object');
  });

  it('pullMany does the same, with the quarantined records kept for the citizen they belong to', async () => {
    answers.Goal = deepPage();
    const result = (await adapter().pullMany!([citizen])).get(citizen.citizenId)!;
    expect(result.records.map((r) => r.recordId).sort()).toEqual(['goal-also-fine', 'goal-fine']);
    expect(result.quarantined.map((q) => q.recordId)).toEqual(['goal-deep-extensions', 'goal-deep-object']);
  });

  it('still checks extensions as deep as real records nest them against the contract', async () => {
    answers.Goal = page(withProperty({ ...goal, id: 'goal-nested-40' }, 'extension', extensionsNested(40)));
    const result = await adapter().pull(citizen);
    expect(result.quarantined).toEqual([]);
    expect(result.records.map((r) => r.recordId)).toEqual(['goal-nested-40']);
  });

  it('refuses the citizen’s Patient nested too deep as an invalid Patient, in pull and in pullMany', async () => {
    answers.Patient = page(withProperty(patient, 'extension', extensionsNested(3_000)));
    for (const attempt of [() => adapter().pull(citizen), () => adapter().pullMany!([citizen])]) {
      const error = await attempt().then(() => undefined, (e: unknown) => e);
      expect(error).toBeInstanceOf(AdapterError);
      expect(error).toMatchObject({ code: 'invalid-patient', permanent: true });
      expect((error as AdapterError).message).toMatch(new RegExp(`more than ${MAX_RECORD_DEPTH} levels deep`));
    }
  });

  it('quarantines a page that is no Bundle and nests 20,000 deep as one malformed page', async () => {
    answers.Goal = objectNested(20_000);
    const result = await adapter().pull(citizen);
    expect(result.quarantined).toHaveLength(1);
    expect(result.quarantined[0]).toMatchObject({ recordType: 'Goal', recordId: null });
    expect(result.quarantined[0]!.reason).toMatch(/not a FHIR Bundle/);
    expect(result.quarantined[0]!.raw.length).toBeLessThanOrEqual(4000);
  });
});

describe('FHIR adapter: a 2xx page whose JSON is a bare value', () => {
  it.each(['null', '5', '"x"', 'true'])('quarantines the page %s as malformed and reads the other record types', async (body) => {
    answers.Goal = body;
    answers.CarePlan = page(JSON.stringify(carePlan));
    const result = await adapter().pull(citizen);
    expect(result.records.map((r) => r.recordType)).toEqual(['CarePlan']);
    expect(result.quarantined).toHaveLength(1);
    expect(result.quarantined[0]).toMatchObject({ recordType: 'Goal', recordId: null });
    expect(result.quarantined[0]!.reason).toMatch(/not a FHIR resource/);
    expect(result.quarantined[0]!.reason).not.toMatch(/could not reach|defineProperty/);
  });

  it('is a transient malformed answer for the client and for pullMany, not a network failure', async () => {
    answers.Goal = 'null';
    const fromClient = await new FhirClient({ baseUrl }).search('Goal', { subject: `Patient/${PATIENT_ID}` }).then(() => undefined, (e: unknown) => e);
    expect(fromClient).toBeInstanceOf(MalformedResponseError);
    const fromPullMany = await adapter().pullMany!([citizen]).then(() => undefined, (e: unknown) => e);
    expect(fromPullMany).toMatchObject({ code: 'malformed-response', permanent: false });
  });
});
