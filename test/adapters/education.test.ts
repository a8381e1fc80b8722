/**
 * The Ungedatabasen / KUI adapter against the running education simulator over real HTTP on
 * 127.0.0.1: pulls, the change list, faults and timeouts, idempotent pushes of plan changes and
 * events, quarantine, and hostile XML. No CPR number appears in a test name.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AdapterError } from '../../adapters/adapter';
import {
  createEducationAdapter,
  EDUCATION_ID_NAMESPACE,
  EDUCATION_NAMESPACE,
  educationBatchRead,
  educationChangeList,
  educationRecordTypes,
  generateEducationRecordXml,
  startEducationSimulator,
  type EducationSimulator,
} from '../../adapters/education';
import { deterministicUuid } from '../../adapters/soap/identifiers';
import { noFaults } from '../../adapters/soap/simulator-kit';
import type { SyntheticCitizen } from '../../adapters/shared/population';
import { batchReadSuite, failure } from '../support/soap-batch-read';
import { changeListQuarantineSuite } from '../support/soap-change-list';

const CPR_SHAPED = /\d{6}-?\d{4}/;

const subject = (citizen: SyntheticCitizen) => ({ citizenId: `citizen-${citizen.index}`, cpr: citizen.cpr });

describe('Ungedatabasen adapter against the simulator', () => {
  let sim: EducationSimulator;
  let adapter: ReturnType<typeof createEducationAdapter>;
  let young: SyntheticCitizen;

  beforeAll(async () => {
    sim = await startEducationSimulator({ size: 400, seed: 21 });
    adapter = createEducationAdapter({ baseUrl: sim.url, municipalityCode: '101', timeoutMs: 5_000 });
    young = sim.knownCitizens()[0]!;
  });
  afterAll(() => sim.close());
  afterEach(() => {
    sim.setFaults(noFaults);
  });

  it('describes itself and checks the connection', async () => {
    expect(adapter.describe()).toMatchObject({
      id: 'education',
      sector: 'education',
      recordTypes: ['education-plan', 'education-event'],
      pushOperations: ['education-plan.update', 'education-event.register'],
    });
    expect(await adapter.check()).toMatchObject({ ok: true });
  });

  it('pulls the education plan and events of one young person, checked against the contract', async () => {
    const result = await adapter.pull(subject(young));
    expect(result.quarantined).toEqual([]);
    expect(result.records.filter((r) => r.recordType === 'education-plan')).toHaveLength(1);
    const events = result.records.filter((r) => r.recordType === 'education-event');
    expect(events.length).toBeGreaterThan(0);
    for (const event of events) expect(event.recordId).toMatch(/^[1-9]\d*$/);
    for (const record of result.records) {
      expect(record.version).toMatch(/^[1-9]\d*$/);
      expect(educationRecordTypes[record.recordType as keyof typeof educationRecordTypes].schema.safeParse(record.payload).success).toBe(true);
    }
  });

  it('only knows young people in education: others get fault 1010, permanent and without a CPR in the message', async () => {
    const notKnown = sim.population.find((c) => !c.sectors.education)!;
    const error = await failure(adapter.pull(subject(notKnown)));
    expect(error).toMatchObject({ permanent: true, code: '1010' });
    expect(error.message).not.toMatch(CPR_SHAPED);
  });

  it('sends CPRNr in the SOAP body only', async () => {
    await adapter.pull(subject(young));
    const last = sim.requestLog().at(-1)!;
    expect(last.operation).toBe('HentBorgerDataRequest');
    expect(last.url).not.toMatch(CPR_SHAPED);
    expect(JSON.stringify(last.headers)).not.toMatch(CPR_SHAPED);
  });

  it('reports timeouts, server errors and malformed replies as transient', async () => {
    const impatient = createEducationAdapter({ baseUrl: sim.url, municipalityCode: '101', timeoutMs: 100 });
    sim.setFaults({ latencyMs: 2_000 });
    expect(await failure(impatient.pull(subject(young)))).toMatchObject({ permanent: false, code: 'timeout' });
    sim.setFaults({ latencyMs: 0, errorRate: 1 });
    expect(await failure(adapter.pull(subject(young)))).toMatchObject({ permanent: false, code: '5000' });
    sim.setFaults({ errorRate: 0, malformedRate: 1 });
    expect(await failure(adapter.changes(null))).toMatchObject({ permanent: false, code: 'malformed-response' });
  });

  it('quarantines events that break the contract and keeps the rest', async () => {
    const target = sim.knownCitizens()[1]!;
    const good = await adapter.pull(subject(target));
    const event = (fields: Record<string, unknown>) => ({
      HaendelseNummer: '900001',
      CPRNr: target.cpr,
      HaendelseKode: 'OPTAGET',
      HaendelseDato: '2026-06-01',
      UddannelsesforloebId: 'b0000000-0000-4000-8000-000000000002',
      UddannelseKode: 'EUD',
      Institution: { InstitutionsNummer: '101412' },
      Version: '1',
      SenestAendret: '2026-06-01T00:00:00Z',
      ...fields,
    });
    sim.injectRecord(target.cpr, 'Haendelse', event({ CPRNr: '0000000000' }));
    sim.injectRecord(target.cpr, 'Haendelse', event({ HaendelseNummer: 'first' }));
    sim.injectRecord(target.cpr, 'Haendelse', event({ Institution: { InstitutionsNummer: '12' } }));
    sim.injectRecord(target.cpr, 'Uddannelsesplan', { UddannelsesplanId: 'not-a-guid' });
    const result = await adapter.pull(subject(target));
    expect(result.records.map((r) => r.recordId)).toEqual(good.records.map((r) => r.recordId));
    expect(result.quarantined.map((q) => q.recordType)).toEqual(['education-plan', 'education-event', 'education-event', 'education-event']);
    const reasons = result.quarantined.map((q) => q.reason).join('\n');
    expect(reasons).toMatch(/CPRNr: the date part of the CPR number is not a real date/);
    expect(reasons).toMatch(/HaendelseNummer/);
    expect(reasons).toMatch(/InstitutionsNummer: must be a six-digit institution number/);
    expect(reasons).toMatch(/UddannelsesplanId: must be a GUID/);
    expect(reasons).not.toMatch(CPR_SHAPED);
  });

  it('registers an event once per key, opening a course whose id comes from the key', async () => {
    const payload = { HaendelseKode: 'OPTAGET', HaendelseDato: '2026-06-25', UddannelseKode: 'FGU', ForloebStartDato: '2026-08-10', Institution: { InstitutionsNummer: '101520', Navn: 'FGU Hovedstaden' } };
    const first = await adapter.push({ operation: 'education-event.register', cpr: young.cpr, payload }, 'enrolment-1');
    const replay = await adapter.push({ operation: 'education-event.register', cpr: young.cpr, payload }, 'enrolment-1');
    expect(first.duplicate).toBe(false);
    expect(replay).toEqual({ ...first, duplicate: true });
    expect(sim.effectCounts()[first.targetId]).toBe(1);
    const events = (await adapter.pull(subject(young))).records.filter((r) => r.recordId === first.targetId);
    expect(events).toHaveLength(1);
    expect(events[0]!.payload).toMatchObject({ UddannelsesforloebId: await deterministicUuid(EDUCATION_ID_NAMESPACE, 'course:enrolment-1'), HaendelseKode: 'OPTAGET' });
  });

  it('does not register the same event twice even under a new key', async () => {
    const pulled = await adapter.pull(subject(young));
    const held = pulled.records.find((r) => r.recordType === 'education-event')!.payload as Record<string, unknown>;
    const payload = {
      HaendelseKode: held.HaendelseKode,
      HaendelseDato: held.HaendelseDato,
      UddannelsesforloebId: held.UddannelsesforloebId,
      UddannelseKode: held.UddannelseKode,
      ForloebStartDato: held.ForloebStartDato,
      Institution: held.Institution,
    };
    const receipt = await adapter.push({ operation: 'education-event.register', cpr: young.cpr, payload }, 'same-event-other-key');
    expect(receipt).toMatchObject({ targetId: String(held.HaendelseNummer), duplicate: true });
    expect(sim.effectCounts()[receipt.targetId]).toBeUndefined();
  });

  it('applies a plan update exactly once when the reply is lost and the client retries', async () => {
    const payload = { PlanlagtAktivitet: [{ AktivitetKode: 'PRAKTIK', AktivitetStatus: 'PLANLAGT', StartDato: '2026-09-07', SlutDato: '2026-09-18' }], NaesteOpfoelgning: '2026-09-21' };
    const impatient = createEducationAdapter({ baseUrl: sim.url, municipalityCode: '101', timeoutMs: 200 });
    sim.setFaults({ timeoutRate: 1 });
    expect(await failure(impatient.push({ operation: 'education-plan.update', cpr: young.cpr, payload }, 'plan-1'))).toMatchObject({ permanent: false });
    sim.setFaults(noFaults);
    const retry = await adapter.push({ operation: 'education-plan.update', cpr: young.cpr, payload }, 'plan-1');
    expect(retry.duplicate).toBe(true);
    expect(sim.effectCounts()[retry.targetId]).toBe(1);
    const plan = (await adapter.pull(subject(young))).records.find((r) => r.recordType === 'education-plan')!;
    const activities = (plan.payload as { PlanlagtAktivitet: { AktivitetId: string }[] }).PlanlagtAktivitet;
    expect(activities.filter((a) => a.AktivitetId === activities.at(-1)!.AktivitetId)).toHaveLength(1);
    expect(plan.payload).toMatchObject({ NaesteOpfoelgning: '2026-09-21' });
  });

  it('refuses bad payloads before sending, and passes the service’s refusals on', async () => {
    expect(await failure(adapter.push({ operation: 'education-plan.update', cpr: young.cpr, payload: {} }, 'empty'))).toMatchObject({ permanent: true, code: 'invalid-payload' });
    const unknownProgramme = { HaendelseKode: 'OPTAGET', HaendelseDato: '2026-06-25', UddannelseKode: 'PILOT', Institution: { InstitutionsNummer: '101520' } };
    expect(await failure(adapter.push({ operation: 'education-event.register', cpr: young.cpr, payload: unknownProgramme }, 'unknown'))).toMatchObject({ permanent: true, code: '1030' });
  });

  it('pages the change list to the end and sees a mutation once', async () => {
    let cursor: string | null = null;
    let total = 0;
    for (;;) {
      const page = await adapter.changes(cursor, 64);
      total += page.changes.length;
      cursor = page.cursor;
      if (!page.hasMore) break;
    }
    expect(total).toBe(sim.recordCount());
    const changed = sim.mutate(0.05);
    const seen: string[] = [];
    for (;;) {
      const page = await adapter.changes(cursor, 5);
      seen.push(...page.changes.map((c) => c.recordId));
      cursor = page.cursor;
      if (!page.hasMore) break;
    }
    expect(seen).toHaveLength(changed);
    expect(new Set(seen).size).toBe(changed);
  });

  it('reads standalone record documents and quarantines hostile ones', () => {
    const generated = [...generateEducationRecordXml(300, { seed: 4 })];
    expect(new Set(generated.map((g) => g.recordType))).toEqual(new Set(['education-plan', 'education-event']));
    for (const g of generated) expect(adapter.readRecordXml(g.xml).ok).toBe(true);
    const laughs = adapter.readRecordXml('<!DOCTYPE l [<!ENTITY a "a"><!ENTITY b "&a;&a;">]><Haendelse>&b;</Haendelse>');
    expect(laughs.ok ? '' : laughs.quarantined.reason).toMatch(/DOCTYPE/);
  });
});

describe('Ungedatabasen batch read (pullMany) against the simulator', () => {
  batchReadSuite({
    start: () => startEducationSimulator({ size: 400, seed: 23 }),
    connect: (baseUrl, options) => createEducationAdapter({ baseUrl, municipalityCode: '101', ...options }),
    spec: educationBatchRead,
    namespace: EDUCATION_NAMESPACE,
    header: { Kaldskontekst: { KommuneKode: '101', SystemNavn: 'batch-test' } },
    recordAbout: (about) => ({
      element: 'Haendelse',
      recordId: '900101',
      content: {
        HaendelseNummer: '900101',
        CPRNr: about.cpr,
        HaendelseKode: 'OPTAGET',
        HaendelseDato: '2026-06-01',
        UddannelsesforloebId: 'b0000000-0000-4000-8000-0000000000b1',
        UddannelseKode: 'EUD',
        Institution: { InstitutionsNummer: '101412' },
        Version: '1',
        SenestAendret: '2026-06-01T00:00:00Z',
      },
    }),
  });
});

describe('Ungedatabasen change list with change items that break the contract', () => {
  changeListQuarantineSuite({
    start: () => startEducationSimulator({ size: 120, seed: 27 }),
    connect: (baseUrl, options) => createEducationAdapter({ baseUrl, municipalityCode: '101', timeoutMs: 5_000, ...options }),
    spec: educationChangeList,
  });
});
