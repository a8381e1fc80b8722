/**
 * The DFDG adapter against the running DFDG simulator over real HTTP on 127.0.0.1: pulls, the
 * change list with cursors, faults and timeouts, idempotent pushes, quarantine of records that
 * break the contract, and refusal of hostile XML. No CPR number appears in a test name.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AdapterError } from '../../adapters/adapter';
import { createDfdgAdapter, DFDG_ID_NAMESPACE, DFDG_NAMESPACE, dfdgBatchRead, dfdgChangeList, dfdgRecordTypes, generateDfdgRecordXml, startDfdgSimulator, type DfdgSimulator } from '../../adapters/dfdg';
import { deterministicUuid } from '../../adapters/soap/identifiers';
import { noFaults } from '../../adapters/soap/simulator-kit';
import type { SyntheticCitizen } from '../../adapters/shared/population';
import { batchReadSuite, failure } from '../support/soap-batch-read';
import { changeListQuarantineSuite } from '../support/soap-change-list';

const CPR_SHAPED = /\d{6}-?\d{4}/;
const organisation = { typeIdentifier: 'kommune', code: '101' };

const subject = (citizen: SyntheticCitizen) => ({ citizenId: `citizen-${citizen.index}`, cpr: citizen.cpr });

describe('DFDG adapter against the simulator', () => {
  let sim: DfdgSimulator;
  let adapter: ReturnType<typeof createDfdgAdapter>;
  let citizen: SyntheticCitizen;

  beforeAll(async () => {
    sim = await startDfdgSimulator({ size: 400, seed: 11 });
    adapter = createDfdgAdapter({ baseUrl: sim.url, organisation, timeoutMs: 5_000 });
    citizen = sim.knownCitizens().find((c) => !c.refugee)!;
  });
  afterAll(() => sim.close());
  afterEach(() => {
    sim.setFaults(noFaults);
  });

  it('describes itself with its record types and push operations', () => {
    expect(adapter.describe()).toMatchObject({
      id: 'dfdg',
      sector: 'employment',
      format: 'SOAP 1.1 / XML',
      recordTypes: ['activity', 'rehabilitation-process', 'employment-plan', 'integration-contract'],
      pushOperations: ['activity.upsert', 'employment-plan.update'],
    });
  });

  it('checks the connection', async () => {
    expect(await adapter.check()).toMatchObject({ ok: true });
    sim.setFaults({ errorRate: 1 });
    const down = await adapter.check();
    expect(down.ok).toBe(false);
    expect(down.detail).toMatch(/5000/);
  });

  it('pulls one citizen’s records, each checked against the contract, versioned and about that citizen', async () => {
    const result = await adapter.pull(subject(citizen));
    expect(result.quarantined).toEqual([]);
    const types = new Set(result.records.map((r) => r.recordType));
    expect(types.has('activity')).toBe(true);
    expect(types.has('employment-plan')).toBe(true);
    for (const record of result.records) {
      expect(record.version).toMatch(/^[1-9]\d*$/);
      expect(Number.isNaN(Date.parse(record.updatedAt))).toBe(false);
      expect(record.recordId).toMatch(/^[0-9a-f-]{36}$/);
      const type = dfdgRecordTypes[record.recordType as keyof typeof dfdgRecordTypes];
      expect(type.schema.safeParse(record.payload).success).toBe(true);
      // Compared as a boolean so a failure never prints the CPR number.
      expect(JSON.stringify(record.payload).includes(citizen.cpr)).toBe(true);
    }
  });

  it('gives refugees an integration contract and others none', async () => {
    const refugee = sim.knownCitizens().find((c) => c.refugee)!;
    expect((await adapter.pull(subject(refugee))).records.filter((r) => r.recordType === 'integration-contract')).toHaveLength(1);
    expect((await adapter.pull(subject(citizen))).records.filter((r) => r.recordType === 'integration-contract')).toHaveLength(0);
  });

  it('turns fault 1010 (unknown CPR) into a permanent error that names no CPR', async () => {
    const notInDfdg = sim.population.find((c) => !c.sectors.employment)!;
    for (const cpr of [notInDfdg.cpr, '0101451111']) {
      const error = await failure(adapter.pull({ citizenId: 'unknown', cpr }));
      expect(error).toMatchObject({ permanent: true, code: '1010' });
      expect(error.message).not.toMatch(CPR_SHAPED);
    }
  });

  it('refuses an invalid subject CPR without calling DFDG', async () => {
    const before = sim.requestLog().length;
    expect(await failure(adapter.pull({ citizenId: 'x', cpr: '3213991234' }))).toMatchObject({ permanent: true, code: 'invalid-cpr' });
    expect(sim.requestLog().length).toBe(before);
  });

  it('sends the CPR in the SOAP body only, never in the URL or headers, with STAR metadata headers', async () => {
    await adapter.pull(subject(citizen));
    const last = sim.requestLog().at(-1)!;
    expect(last.operation).toBe('PersonPlanDataReadRequest');
    expect(new URL(last.url).pathname).toBe('/soap');
    expect(last.url).not.toMatch(CPR_SHAPED);
    expect(JSON.stringify(last.headers)).not.toMatch(CPR_SHAPED);
    expect(last.headers['content-type']).toMatch(/^text\/xml/);
  });

  it('reports a reply slower than the client timeout as a transient timeout', async () => {
    const impatient = createDfdgAdapter({ baseUrl: sim.url, organisation, timeoutMs: 100 });
    sim.setFaults({ latencyMs: 2_000 });
    expect(await failure(impatient.pull(subject(citizen)))).toMatchObject({ permanent: false, code: 'timeout' });
    sim.setFaults({ latencyMs: 0, timeoutRate: 1 });
    expect(await failure(impatient.pull(subject(citizen)))).toMatchObject({ permanent: false, code: 'timeout' });
  });

  it('reports simulated server errors and malformed replies as transient', async () => {
    sim.setFaults({ errorRate: 1 });
    expect(await failure(adapter.pull(subject(citizen)))).toMatchObject({ permanent: false, code: '5000' });
    sim.setFaults({ errorRate: 0, malformedRate: 1 });
    expect(await failure(adapter.pull(subject(citizen)))).toMatchObject({ permanent: false, code: 'malformed-response' });
  });

  it('quarantines records that break the contract with a readable reason, and keeps the good ones', async () => {
    const target = sim.knownCitizens().find((c) => c.refugee && c !== citizen)!;
    const other = sim.knownCitizens().find((c) => c !== target && c !== citizen)!;
    const good = await adapter.pull(subject(target));
    const core = (fields: Record<string, string>) => ({
      ActivityCoreItem: {
        ActivityIdentifier: 'a0000000-0000-4000-8000-000000000001',
        PersonCivilRegistrationIdentifier: target.cpr,
        ActivationTypeIdentifier: 'MENTOR',
        ActivityStatusIdentifier: 'IGANG',
        StartDate: '2026-01-01',
        ResponsibleAuthority: { AuthorityCode: '101' },
        ...fields,
      },
      RecordVersionIdentifier: '1',
      RecordUpdatedDateTime: '2026-01-01T00:00:00Z',
    });
    sim.injectRecord(target.cpr, 'ActivityItem', core({ PersonCivilRegistrationIdentifier: '3213991234' }));
    sim.injectRecord(target.cpr, 'ActivityItem', core({ HoursPerWeek: 'many' }));
    sim.injectRecord(target.cpr, 'ActivityItem', core({ StartDate: '2026-02-30' }));
    sim.injectRecord(target.cpr, 'ActivityItem', { ActivityCoreItem: 'not a structure', RecordVersionIdentifier: '1', RecordUpdatedDateTime: '2026-01-01T00:00:00Z' });
    sim.injectRecord(target.cpr, 'ActivityItem', 'just text');
    sim.injectRecord(target.cpr, 'ActivityItem', core({ PersonCivilRegistrationIdentifier: other.cpr }));
    sim.injectRecord(target.cpr, 'UnemploymentBenefitItem', { Amount: '1' });

    const result = await adapter.pull(subject(target));
    expect(result.records.map((r) => r.recordId)).toEqual(good.records.map((r) => r.recordId));
    const reasons = result.quarantined.map((q) => q.reason);
    expect(reasons).toHaveLength(7);
    expect(reasons[0]).toMatch(/PersonCivilRegistrationIdentifier: the date part of the CPR number is not a real date/);
    expect(reasons[1]).toMatch(/HoursPerWeek/);
    expect(reasons[2]).toMatch(/StartDate/);
    expect(reasons[3]).toMatch(/ActivityCoreItem/);
    expect(reasons[4]).toMatch(/not a structured record/);
    expect(reasons[5]).toMatch(/another citizen/);
    expect(reasons[6]).toMatch(/UnemploymentBenefitItem/);
    expect(result.quarantined[0]).toMatchObject({ recordType: 'activity', recordId: 'a0000000-0000-4000-8000-000000000001' });
    expect(result.quarantined[6]!.recordType).toBe('unknown:UnemploymentBenefitItem');
    for (const reason of reasons) expect(reason).not.toMatch(CPR_SHAPED);
    expect(result.quarantined[1]!.raw).toContain('<HoursPerWeek>many</HoursPerWeek>');
  });

  it('writes an activity once per idempotency key: a replay is a no-op at DFDG', async () => {
    const payload = { ActivationTypeIdentifier: 'MENTOR', ActivityStatusIdentifier: 'PLANLAGT', ActivityName: 'Mentor fra Én plan', StartDate: '2026-09-01', ResponsibleAuthority: { AuthorityCode: '101' } };
    const first = await adapter.push({ operation: 'activity.upsert', cpr: citizen.cpr, payload }, 'registration-1:dfdg');
    const replay = await adapter.push({ operation: 'activity.upsert', cpr: citizen.cpr, payload }, 'registration-1:dfdg');
    expect(first.duplicate).toBe(false);
    // The new activity's identifier is derived from the key, so even a target that forgot the
    // transaction would upsert the same activity rather than create a second one.
    expect(first.targetId).toBe(await deterministicUuid(DFDG_ID_NAMESPACE, 'activity:registration-1:dfdg'));
    expect(replay).toEqual({ ...first, duplicate: true });
    expect(sim.effectCounts()[first.targetId]).toBe(1);
    const pulled = await adapter.pull(subject(citizen));
    expect(pulled.records.filter((r) => r.recordId === first.targetId)).toHaveLength(1);

    const other = await adapter.push({ operation: 'activity.upsert', cpr: citizen.cpr, payload }, 'registration-2:dfdg');
    expect(other.targetId).not.toBe(first.targetId);
  });

  it('applies a write exactly once when the reply is lost and the client retries', async () => {
    const payload = { ActivationTypeIdentifier: 'VEJOPK', ActivityStatusIdentifier: 'PLANLAGT', StartDate: '2026-10-01', ResponsibleAuthority: { AuthorityCode: '101' } };
    const impatient = createDfdgAdapter({ baseUrl: sim.url, organisation, timeoutMs: 200 });
    sim.setFaults({ timeoutRate: 1 });
    expect(await failure(impatient.push({ operation: 'activity.upsert', cpr: citizen.cpr, payload }, 'lost-reply'))).toMatchObject({ permanent: false, code: 'timeout' });
    sim.setFaults(noFaults);
    const retry = await adapter.push({ operation: 'activity.upsert', cpr: citizen.cpr, payload }, 'lost-reply');
    expect(retry.duplicate).toBe(true);
    expect(sim.effectCounts()[retry.targetId]).toBe(1);
    expect(sim.writeLog().filter((w) => w.targetId === retry.targetId).map((w) => w.duplicate)).toEqual([false, true]);
  });

  it('updates an existing activity in place when the payload carries its ActivityIdentifier', async () => {
    const before = (await adapter.pull(subject(citizen))).records.find((r) => r.recordType === 'activity' && !sim.effectCounts()[r.recordId])!;
    const payload = {
      ActivityIdentifier: before.recordId,
      ActivationTypeIdentifier: 'LOENTILSK',
      ActivityStatusIdentifier: 'IGANG',
      StartDate: '2026-01-05',
      EndDate: '2026-12-18',
      HoursPerWeek: 37,
      ResponsibleAuthority: { AuthorityCode: '101', AuthorityName: 'Jobcenter København' },
    };
    const receipt = await adapter.push({ operation: 'activity.upsert', cpr: citizen.cpr, payload }, 'update-existing');
    expect(receipt.targetId).toBe(before.recordId);
    expect(Number(receipt.version)).toBe(Number(before.version) + 1);
    const after = (await adapter.pull(subject(citizen))).records.find((r) => r.recordId === before.recordId)!;
    expect(after.payload).toMatchObject({ ActivityCoreItem: { ActivationTypeIdentifier: 'LOENTILSK', EndDate: '2026-12-18', HoursPerWeek: 37 } });
  });

  it('updates the employment plan once per key, with item identifiers derived from the key', async () => {
    const payload = { JobGoal: [{ JobGoalText: 'Buschauffør', OccupationCode: '8331' }], FollowUp: [{ FollowUpDate: '2026-10-15', FollowUpText: 'Opfølgning på jobmål' }] };
    const first = await adapter.push({ operation: 'employment-plan.update', cpr: citizen.cpr, payload }, 'plan-change-1');
    const replay = await adapter.push({ operation: 'employment-plan.update', cpr: citizen.cpr, payload }, 'plan-change-1');
    expect(replay).toEqual({ ...first, duplicate: true });
    expect(sim.effectCounts()[first.targetId]).toBe(1);
    const plan = (await adapter.pull(subject(citizen))).records.find((r) => r.recordType === 'employment-plan')!;
    expect(plan.recordId).toBe(first.targetId);
    const goals = (plan.payload as { JobGoal: { JobGoalText: string }[] }).JobGoal.filter((g) => g.JobGoalText === 'Buschauffør');
    expect(goals).toHaveLength(1);
  });

  it('refuses payloads that break the contract before sending, and passes DFDG’s own refusals on', async () => {
    const before = sim.requestLog().length;
    const invalid = await failure(adapter.push({ operation: 'activity.upsert', cpr: citizen.cpr, payload: { ActivationTypeIdentifier: 'MENTOR', StartDate: 'soon' } }, 'bad-1'));
    expect(invalid).toMatchObject({ permanent: true, code: 'invalid-payload' });
    expect(invalid.message).toMatch(/StartDate/);
    expect(sim.requestLog().length).toBe(before);

    const unknownCode = { ActivationTypeIdentifier: 'NOSUCH', ActivityStatusIdentifier: 'PLANLAGT', StartDate: '2026-09-01', ResponsibleAuthority: { AuthorityCode: '101' } };
    expect(await failure(adapter.push({ operation: 'activity.upsert', cpr: citizen.cpr, payload: unknownCode }, 'bad-2'))).toMatchObject({ permanent: true, code: '1030' });
    expect(await failure(adapter.push({ operation: 'activity.delete', cpr: citizen.cpr, payload: {} }, 'bad-3'))).toMatchObject({ permanent: true, code: 'unsupported-operation' });
  });

  it('refuses calls without STAR metadata (1020) and hostile requests (1001) at the simulator, and keeps serving', async () => {
    const bare = await fetch(sim.url, { method: 'POST', headers: { 'content-type': 'text/xml' }, body: '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><ServiceStatusReadRequest/></soap:Body></soap:Envelope>' });
    expect(await bare.text()).toContain('<ErrorCode>1020</ErrorCode>');
    const laughs = `<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><X>&b;</X></soap:Body></soap:Envelope>`;
    const response = await fetch(sim.url, { method: 'POST', headers: { 'content-type': 'text/xml' }, body: laughs });
    expect(response.status).toBe(500);
    const body = await response.text();
    expect(body).toContain('<ErrorCode>1001</ErrorCode>');
    expect(body).toMatch(/DOCTYPE/);
    expect(await adapter.check()).toMatchObject({ ok: true });
  });

  it('reads standalone record documents, quarantining malformed and hostile XML instead of throwing', () => {
    const [generated] = generateDfdgRecordXml(1, { seed: 3 });
    expect(adapter.readRecordXml(generated!.xml)).toMatchObject({ ok: true, record: { recordType: 'activity' } });
    const cut = adapter.readRecordXml(generated!.xml.slice(0, 120));
    expect(cut).toMatchObject({ ok: false, quarantined: { recordId: null } });
    expect(cut.ok ? '' : cut.quarantined.reason).toMatch(/not well-formed/);
    const hostile = adapter.readRecordXml('<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><ActivityItem>&e;</ActivityItem>');
    expect(hostile.ok ? '' : hostile.quarantined.reason).toMatch(/DOCTYPE declarations are refused/);
    const unknown = adapter.readRecordXml('<PaymentItem><Amount>1</Amount></PaymentItem>');
    expect(unknown.ok ? '' : unknown.quarantined.recordType).toBe('unknown:PaymentItem');
  });

  it('switches faults and mutates through the admin endpoints', async () => {
    const set = await fetch(`${sim.adminUrl}/faults`, { method: 'POST', body: JSON.stringify({ errorRate: 1 }), headers: { 'content-type': 'application/json' } });
    expect(await set.json()).toMatchObject({ errorRate: 1 });
    expect((await adapter.check()).ok).toBe(false);
    await fetch(`${sim.adminUrl}/faults`, { method: 'POST', body: JSON.stringify({ errorRate: 0 }), headers: { 'content-type': 'application/json' } });
    expect((await adapter.check()).ok).toBe(true);
    const mutated = await (await fetch(`${sim.adminUrl}/mutate`, { method: 'POST', body: JSON.stringify({ fraction: 0.02 }), headers: { 'content-type': 'application/json' } })).json() as { changed: number };
    expect(mutated.changed).toBe(Math.round(0.02 * sim.recordCount()));
    const effects = (await (await fetch(`${sim.adminUrl}/effects`)).json()) as { effects: Record<string, number> };
    expect(effects.effects).toEqual(sim.effectCounts());
    const refused = await fetch(`${sim.adminUrl}/mutate`, { method: 'POST', body: JSON.stringify({ fraction: 2 }), headers: { 'content-type': 'application/json' } });
    expect(refused.status).toBe(400);
  });
});

describe('DFDG batch read (pullMany) against the simulator', () => {
  batchReadSuite({
    start: () => startDfdgSimulator({ size: 400, seed: 13 }),
    connect: (baseUrl, options) => createDfdgAdapter({ baseUrl, organisation, ...options }),
    spec: dfdgBatchRead,
    namespace: DFDG_NAMESPACE,
    header: { ActiveOrganisation: { OrganisationTypeIdentifier: 'kommune', OrganisationCode: '101' }, RequestUserMetadata: { UserIdentifier: 'batch-test' } },
    recordAbout: (about) => ({
      element: 'ActivityItem',
      recordId: 'a0000000-0000-4000-8000-0000000000b1',
      content: {
        ActivityCoreItem: {
          ActivityIdentifier: 'a0000000-0000-4000-8000-0000000000b1',
          PersonCivilRegistrationIdentifier: about.cpr,
          ActivationTypeIdentifier: 'MENTOR',
          ActivityStatusIdentifier: 'IGANG',
          StartDate: '2026-01-01',
          ResponsibleAuthority: { AuthorityCode: '101' },
        },
        RecordVersionIdentifier: '1',
        RecordUpdatedDateTime: '2026-01-01T00:00:00Z',
      },
    }),
  });
});

describe('DFDG change list', () => {
  let sim: DfdgSimulator;
  let adapter: ReturnType<typeof createDfdgAdapter>;

  beforeAll(async () => {
    sim = await startDfdgSimulator({ size: 300, seed: 5 });
    adapter = createDfdgAdapter({ baseUrl: sim.url, organisation, pageSize: 50 });
  });
  afterAll(() => sim.close());

  async function readAll(since: string | null, limit: number) {
    const seen: { cpr: string; recordType: string; recordId: string; version: string; updatedAt: string }[] = [];
    let cursor = since;
    let pages = 0;
    for (;;) {
      const page = await adapter.changes(cursor, limit);
      seen.push(...page.changes);
      cursor = page.cursor;
      pages++;
      if (!page.hasMore) break;
    }
    return { seen, cursor, pages };
  }

  it('pages through every record once, then reports nothing new', async () => {
    const all = await readAll(null, 37);
    expect(all.seen).toHaveLength(sim.recordCount());
    expect(new Set(all.seen.map((c) => c.recordId)).size).toBe(all.seen.length);
    expect(all.pages).toBe(Math.ceil(sim.recordCount() / 37));
    expect(all.cursor).not.toMatch(CPR_SHAPED);
    const known = new Set(sim.knownCitizens().map((c) => c.cpr));
    for (const change of all.seen) expect(known.has(change.cpr)).toBe(true);

    const nothing = await adapter.changes(all.cursor, 10);
    expect(nothing).toEqual({ changes: [], cursor: all.cursor, hasMore: false });
  });

  it('after a mutation returns exactly the changed records — one batch, one timestamp, split by the tie-breaker', async () => {
    const { cursor } = await readAll(null, 1000);
    const versions = new Map((await readAll(null, 1000)).seen.map((c) => [c.recordId, Number(c.version)]));
    const changed = sim.mutate(0.1);
    expect(changed).toBeGreaterThan(10);

    const after = await readAll(cursor, 7);
    expect(after.seen).toHaveLength(changed);
    expect(new Set(after.seen.map((c) => c.recordId)).size).toBe(changed);
    expect(new Set(after.seen.map((c) => c.updatedAt)).size).toBe(1);
    for (const change of after.seen) expect(Number(change.version)).toBe(versions.get(change.recordId)! + 1);

    // A pull with the old cursor brings only that citizen's changed records.
    const mutatedNotice = after.seen[0]!;
    const pulled = await adapter.pull({ citizenId: 'c', cpr: mutatedNotice.cpr }, cursor);
    const expected = after.seen.filter((c) => c.cpr === mutatedNotice.cpr).map((c) => c.recordId).sort();
    expect(pulled.records.map((r) => r.recordId).sort()).toEqual(expected);
  });

  it('refuses a cursor it did not issue', async () => {
    expect(await failure(adapter.changes('c1.bm90LWEtY3Vyc29y'))).toMatchObject({ permanent: true, code: 'invalid-cursor' });
  });
});

describe('DFDG change list with change items that break the contract', () => {
  changeListQuarantineSuite({
    start: () => startDfdgSimulator({ size: 120, seed: 17 }),
    connect: (baseUrl, options) => createDfdgAdapter({ baseUrl, organisation, timeoutMs: 5_000, ...options }),
    spec: dfdgChangeList,
  });
});

describe('DFDG record generator', () => {
  it('generates realistic records of all four types that pass the contract', () => {
    const generated = [...generateDfdgRecordXml(400, { seed: 9 })];
    expect(generated).toHaveLength(400);
    expect(new Set(generated.map((g) => g.recordType))).toEqual(new Set(['activity', 'employment-plan', 'rehabilitation-process', 'integration-contract']));
    const adapter = createDfdgAdapter({ baseUrl: 'http://127.0.0.1:9/unused', organisation });
    for (const g of generated) expect(adapter.readRecordXml(g.xml).ok).toBe(true);
    expect([...generateDfdgRecordXml(50, { seed: 9 })].map((g) => g.xml)).toEqual(generated.slice(0, 50).map((g) => g.xml));
  });
});
