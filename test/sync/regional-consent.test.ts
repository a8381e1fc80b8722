/**
 * The region's own consent to share (R9, R10): the regional health system keeps a Consent per
 * citizen saying whether it may share with the municipality. Where the current one refuses, is
 * withdrawn or has run out, the region's health data does not flow into the plan on the citizen's
 * consent with us — refused and logged with the region's reason — and what flowed before leaves
 * the plan on the next incremental sync, as on a revocation; a permit again brings it back. A legal
 * basis other than consent (R11) still carries it, and a region with no Consent leaves the decision
 * to ours. A permit that runs out with no change at the region is ended by the nightly job; a permit
 * naming its recipients counts for us only if this municipality is one of them. Real health
 * simulator over HTTP, libSQL, the app's routes; a pull worker thread too.
 */
import type { Consent, ConsentProvisionActor } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { createHealthAdapter } from '../../adapters/health/adapter';
import { MUNICIPALITY_CODE_SYSTEM, PARTICIPATION_TYPE_SYSTEM } from '../../adapters/fhir/systems';
import { healthRecordsFor } from '../../adapters/health/records';
import { generatePopulation } from '../../adapters/shared/population';
import { loadConfig } from '../../src/config';
import { membersOf, type LegalBasisRecord, type Plan } from '../../src/model';
import { tenantAdapters } from '../../src/runtime/adapters';
import { allMappings } from '../../src/sync/all-mappings';
import { runSync } from '../../src/sync/engine';
import { startPullWorker } from '../../src/sync/pull-worker';
import { runRetention } from '../../src/sync/retention';
import { danishToday } from '../../src/views/danish';
import { TestClock } from '../registrations/fixture';
import { startTestApp } from '../support/node-app';
import { enrol, grantConsent } from '../support/seed';
import { dfdgAndHealthSimulators } from '../support/sector-simulators';

const population = generatePopulation(16, 6262).map((c) => ({ ...c, sectors: { employment: true, education: false, social: false, health: true } }));
const simulators = dfdgAndHealthSimulators(population);
/** The health simulator's seed (its default), which names each citizen's seeded Consent. */
const HEALTH_SEED = 2026;

type App = Awaited<ReturnType<typeof startTestApp>>;
const freshApp = (clock?: TestClock) => startTestApp({ clock, adapters: { health: createHealthAdapter({ baseUrl: simulators.health.baseUrl, timeoutMs: 5000 }) }, mappings: allMappings });
const sync = (app: App) => runSync(app.deps, { tenant: '101', adapter: 'health', trigger: 'test', mappings: allMappings });
const citizenIdOf = (plan: Plan) => membersOf(plan)[0]!.citizenId;
const elementsOf = (plan: Plan) => [...plan.goals, ...plan.interventions, ...plan.agreements, ...plan.situationNotes, ...plan.careTeams];
const healthIdsOf = async (app: App, plan: Plan) =>
  elementsOf((await app.deps.store.plans.get('101', plan.id))!)
    .filter((e) => e.provenance.some((p) => p.kind === 'source' && p.system === 'health'))
    .map((e) => e.id)
    .sort();

/** Enrols the citizen of this ordinal and records their explicit consent that the region's health data flow into the plan. */
async function enrolWithHealthConsent(app: App, ordinal: number) {
  const plan = await enrol(app.deps, population[ordinal]!.cpr);
  await grantConsent(app.deps, { citizenId: citizenIdOf(plan), source: 'health', categories: ['health'], explicitHealth: true });
  return plan;
}

const consentIdOf = (ordinal: number) => healthRecordsFor(simulators.health.citizens[ordinal]!, ordinal, HEALTH_SEED).find((r) => r.resourceType === 'Consent')!.id!;
/** The region writes a new version of the citizen's Consent (as its EHR would), from a permit in force. */
async function regionRecords(ordinal: number, change: (consent: Consent) => Consent = (c) => c) {
  const current = await simulators.health.repository.readResource<Consent>('Consent', consentIdOf(ordinal));
  const permit: Consent = { ...current, status: 'active', provision: { ...current.provision, type: 'permit', period: { start: '2025-01-01', end: '2099-12-31' } } };
  await simulators.health.repository.updateResource(change(permit));
}
const withdrawn = (c: Consent): Consent => ({ ...c, status: 'inactive' });
/** A recipient the Consent names (provision.actor, role IRCP), by municipality code and/or in words. */
const recipient = (municipalityCode: string | undefined, display?: string): ConsentProvisionActor => ({
  role: { coding: [{ system: PARTICIPATION_TYPE_SYSTEM, code: 'IRCP', display: 'information recipient' }] },
  reference: { ...(municipalityCode ? { identifier: { system: MUNICIPALITY_CODE_SYSTEM, value: municipalityCode } } : {}), ...(display ? { display } : {}) },
});
const recipientsAre = (...actor: ConsentProvisionActor[]) => (c: Consent): Consent => ({ ...c, provision: { ...c.provision, actor } });

async function citizenLog(app: App, plan: Plan) {
  const token = await app.harness.token({ tenant: '101', roles: ['citizen'], citizenId: citizenIdOf(plan) });
  const response = await app.harness.request('/v1/citizen/data-flows', { headers: { authorization: `Bearer ${token}` } });
  expect(response.status).toBe(200);
  return ((await response.json()) as { flows: { kind: string; source: string; text: string }[] }).flows;
}
const auditOf = async (app: App, plan: Plan, action: string) => (await app.deps.store.audit.list('101', { citizenId: citizenIdOf(plan) })).filter((a) => a.action === action);

describe('the region’s own consent to share with the municipality', () => {
  it('refuses the region’s data when its current Consent is withdrawn, a refusal or run out, and logs the region’s reason', async () => {
    const app = await freshApp();
    const [withdrew, refused, ranOut, permits] = [await enrolWithHealthConsent(app, 0), await enrolWithHealthConsent(app, 1), await enrolWithHealthConsent(app, 2), await enrolWithHealthConsent(app, 3)];
    await regionRecords(0, withdrawn);
    await regionRecords(1, (c) => ({ ...c, provision: { ...c.provision, type: 'deny' } }));
    await regionRecords(2, (c) => ({ ...c, provision: { ...c.provision, period: { start: '2024-02-01', end: '2026-01-31' } } }));
    await regionRecords(3);

    const run = await sync(app);
    expect(run.status).toBe('succeeded');
    expect(run.stats.refusedByConsent).toBeGreaterThan(0);
    for (const plan of [withdrew, refused, ranOut]) expect(await healthIdsOf(app, plan)).toEqual([]);
    expect((await healthIdsOf(app, permits)).length).toBeGreaterThan(0);

    const reasonOf = async (plan: Plan) => (await auditOf(app, plan, 'data.refused')).map((a) => a.detail.reason);
    expect(await reasonOf(withdrew)).toEqual(['the region records that the citizen withdrew its consent to share health data with the municipality']);
    expect(await reasonOf(refused)).toEqual(['the region records that the citizen refused to let it share health data with the municipality']);
    expect(await reasonOf(ranOut)).toEqual(["the region's consent to share health data with the municipality ended on 2026-01-31"]);
    expect(await auditOf(app, withdrew, 'data.flowed')).toEqual([]);
    expect(await reasonOf(permits)).toEqual([]);

    expect((await citizenLog(app, withdrew)).find((f) => f.kind === 'refused')?.text).toContain('fordi du har trukket dit samtykke til, at regionen deler dine helbredsoplysninger med kommunen, tilbage');
    expect((await citizenLog(app, ranOut)).find((f) => f.kind === 'refused')?.text).toContain('udløb (det gjaldt til og med 31. januar 2026)');
    await app.close();
  });

  it('takes out what flowed when the region’s Consent is withdrawn, on an incremental sync and without an extra request; a permit again brings it back', async () => {
    const app = await freshApp();
    const plan = await enrolWithHealthConsent(app, 4);
    await regionRecords(4);
    expect((await sync(app)).status).toBe('succeeded');
    const flowed = await healthIdsOf(app, plan);
    expect(flowed.length).toBeGreaterThan(0);

    await regionRecords(4, withdrawn);
    const requestsBefore = simulators.health.requests().length;
    const incremental = await sync(app);
    expect(incremental).toMatchObject({ status: 'succeeded', stats: { catchUpSearched: false, citizensPulled: 1 } });
    // The Consent came with the pull the feed notice asked for: one search of each record type, as ever.
    expect(simulators.health.requests().slice(requestsBefore).filter((r) => r.url.startsWith('/fhir/Consent')).length).toBe(1);
    expect(await healthIdsOf(app, plan)).toEqual([]);
    const removed = await auditOf(app, plan, 'plan.consent-data-removed');
    expect(removed).toHaveLength(1);
    expect(removed[0]!.detail).toMatchObject({ source: 'health', regionalConsent: { recordId: consentIdOf(4), status: 'inactive' } });
    expect([...(removed[0]!.detail.removedElements as string[])].sort()).toEqual(flowed);
    expect((await citizenLog(app, plan)).find((f) => f.kind === 'removed')?.text).toMatch(
      /fjernet fra din Én plan, fordi du har trukket dit samtykke til, at regionen deler dine helbredsoplysninger med kommunen, tilbage\. Regionens sundhedssystem har stadig sine egne oplysninger\./,
    );

    // A later change at the region while it still refuses brings nothing in.
    const carePlan = healthRecordsFor(simulators.health.citizens[4]!, 4, HEALTH_SEED).find((r) => r.resourceType === 'CarePlan')!;
    const current = await simulators.health.repository.readResource('CarePlan', carePlan.id!);
    await simulators.health.repository.updateResource({ ...current, description: 'Justeret efter samtale' } as never);
    const whileRefused = await sync(app);
    expect(whileRefused.stats.refusedByConsent).toBeGreaterThan(0);
    expect(await healthIdsOf(app, plan)).toEqual([]);

    // The citizen consents at the region again: the next runs read them in full, and what was refused flows.
    await regionRecords(4);
    expect((await sync(app)).status).toBe('succeeded');
    expect((await sync(app)).status).toBe('succeeded');
    expect(await healthIdsOf(app, plan)).toEqual(flowed);
    await app.close();
  });

  it('leaves a flow on a legal basis other than consent alone, and a region without a Consent to the citizen’s consent with us', async () => {
    const app = await freshApp();
    const onLegalBasis = await enrol(app.deps, population[5]!.cpr);
    const record: LegalBasisRecord = {
      id: crypto.randomUUID(), tenant: '101', citizenId: citizenIdOf(onLegalBasis), source: 'health', recipient: 'enplan', categories: ['health'],
      basis: 'Sundhedsloven § 43 stk. 2 (deling uden samtykke)', recordedBy: 'caseworker:anna', recordedAt: new Date().toISOString(), citizenInformed: false,
    };
    await app.deps.store.consents.insert({ kind: 'legal-basis', ...record });
    await regionRecords(5, withdrawn);
    const noRegionalConsent = await enrolWithHealthConsent(app, 6);
    const neither = await enrol(app.deps, population[7]!.cpr);
    for (const ordinal of [6, 7]) await simulators.health.repository.deleteResource('Consent', consentIdOf(ordinal));

    expect((await sync(app)).status).toBe('succeeded');
    expect((await healthIdsOf(app, onLegalBasis)).length).toBeGreaterThan(0);
    expect((await auditOf(app, onLegalBasis, 'data.flowed')).map((a) => a.detail.basis)).toEqual(['legal-basis']);
    expect((await healthIdsOf(app, noRegionalConsent)).length).toBeGreaterThan(0);
    expect(await healthIdsOf(app, neither)).toEqual([]);
    expect((await auditOf(app, neither, 'data.refused')).map((a) => a.detail.reason)).toEqual(['no consent covers health data from health to enplan']);
    await app.close();
  });

  it('takes out what flowed on the region’s permit after its last day, by the nightly job with no change at the region; a renewed permit lets it flow again', async () => {
    const clock = new TestClock(Date.now());
    const app = await freshApp(clock);
    const plan = await enrolWithHealthConsent(app, 10);
    const lastDay = danishToday(clock.now());
    await regionRecords(10, (c) => ({ ...c, provision: { ...c.provision, period: { start: '2025-01-01', end: lastDay } } }));
    expect((await sync(app)).status).toBe('succeeded');
    const flowed = await healthIdsOf(app, plan);
    expect(flowed.length).toBeGreaterThan(0);

    // Its last day has not passed: the nightly job leaves the data.
    await runRetention(app.deps);
    expect(await healthIdsOf(app, plan)).toEqual(flowed);

    // Two days on, with nothing changed at the region (so no feed notice names the citizen).
    clock.advance(2 * 86_400_000);
    expect(await runRetention(app.deps)).toMatchObject({ regionalConsentsLapsed: 1, plansChangedByLapse: 1, lapseFailures: 0 });
    expect(await healthIdsOf(app, plan)).toEqual([]);
    const removed = await auditOf(app, plan, 'plan.consent-data-removed');
    expect(removed).toHaveLength(1);
    expect(removed[0]).toMatchObject({ actor: 'system:consent-expiry', detail: { source: 'health', regionalConsent: { recordId: consentIdOf(10), status: 'active' }, reason: `the region's consent to share health data with the municipality ended on ${lastDay}` } });
    expect([...(removed[0]!.detail.removedElements as string[])].sort()).toEqual(flowed);
    expect(await auditOf(app, plan, 'consent.lapsed')).toEqual([expect.objectContaining({ actor: 'system:consent-expiry', targetId: consentIdOf(10), detail: expect.objectContaining({ kind: 'regional', source: 'health', validTo: lastDay, plansChanged: [plan.id] }) })]);
    expect((await citizenLog(app, plan)).find((f) => f.kind === 'removed')?.text).toMatch(/fjernet fra din Én plan, fordi dit samtykke til, at regionen deler dine helbredsoplysninger med kommunen, udløb/);
    // Handled once: the next night does nothing more.
    expect(await runRetention(app.deps)).toMatchObject({ regionalConsentsLapsed: 0, plansChangedByLapse: 0 });

    // A change at the region while its permit is still ended brings nothing back.
    const carePlan = healthRecordsFor(simulators.health.citizens[10]!, 10, HEALTH_SEED).find((r) => r.resourceType === 'CarePlan')!;
    const current = await simulators.health.repository.readResource('CarePlan', carePlan.id!);
    await simulators.health.repository.updateResource({ ...current, description: 'Justeret efter samtale' } as never);
    expect((await sync(app)).stats.refusedByConsent).toBeGreaterThan(0);
    expect(await healthIdsOf(app, plan)).toEqual([]);

    // The citizen renews the permit at the region: what was taken out flows again, and stays.
    await regionRecords(10);
    expect((await sync(app)).status).toBe('succeeded');
    expect((await sync(app)).status).toBe('succeeded');
    expect(await healthIdsOf(app, plan)).toEqual(flowed);
    clock.advance(2 * 86_400_000);
    expect(await runRetention(app.deps)).toMatchObject({ regionalConsentsLapsed: 0 });
    expect(await healthIdsOf(app, plan)).toEqual(flowed);
    await app.close();
  });

  it('counts a permit that names its recipients only when this municipality is one of them', async () => {
    const app = await freshApp();
    const [elsewhere, inWordsOnly, amongOthers, besideAnother] = [await enrolWithHealthConsent(app, 11), await enrolWithHealthConsent(app, 12), await enrolWithHealthConsent(app, 13), await enrolWithHealthConsent(app, 14)];
    await regionRecords(11, recipientsAre(recipient('0751', 'Aarhus Kommune')));
    // A name in words identifies no one: the region must say which municipality by its code.
    await regionRecords(12, recipientsAre(recipient(undefined, 'Kommune 101, koordinerende sagsbehandler')));
    await regionRecords(13, recipientsAre(recipient('0751'), recipient('0101', 'Københavns Kommune')));
    // A newer permit to another municipality is about sharing with it, and does not outvote the one to us.
    await regionRecords(14);
    const ours = await simulators.health.repository.readResource<Consent>('Consent', consentIdOf(14));
    const { id: _id, meta: _meta, ...copy } = ours;
    await simulators.health.repository.createResource<Consent>(recipientsAre(recipient('0751'))({ ...copy, dateTime: new Date().toISOString() }));

    expect((await sync(app)).status).toBe('succeeded');
    expect(await healthIdsOf(app, elsewhere)).toEqual([]);
    expect(await healthIdsOf(app, inWordsOnly)).toEqual([]);
    const reason = "the region's consents on sharing health data concern recipients other than this municipality";
    expect((await auditOf(app, elsewhere, 'data.refused')).map((a) => a.detail.reason)).toEqual([reason]);
    expect((await auditOf(app, inWordsOnly, 'data.refused')).map((a) => a.detail.reason)).toEqual([reason]);
    expect((await citizenLog(app, elsewhere)).find((f) => f.kind === 'refused')?.text).toContain('fordi dine samtykker hos regionen til deling af helbredsoplysninger gælder andre modtagere end kommunen');
    expect((await healthIdsOf(app, amongOthers)).length).toBeGreaterThan(0);
    expect((await healthIdsOf(app, besideAnother)).length).toBeGreaterThan(0);
    await app.close();
  });

  it('honours the region’s Consent when a pull worker reads and maps the records', async () => {
    const config = loadConfig({ NODE_ENV: 'test', HEALTH_FHIR_URL: simulators.health.baseUrl, ADAPTER_TIMEOUT_MS: '5000' });
    const worker = startPullWorker(config);
    const local = tenantAdapters(config);
    const app = await startTestApp({ adaptersFor: (tenant) => worker.wrap(tenant, local(tenant)) });
    try {
      const [withdrew, permits] = [await enrolWithHealthConsent(app, 8), await enrolWithHealthConsent(app, 9)];
      await regionRecords(8, withdrawn);
      await regionRecords(9);
      const run = await sync(app);
      expect(run.status).toBe('succeeded');
      expect(await healthIdsOf(app, withdrew)).toEqual([]);
      expect((await auditOf(app, withdrew, 'data.refused')).map((a) => a.detail.reason)).toEqual(['the region records that the citizen withdrew its consent to share health data with the municipality']);
      expect((await healthIdsOf(app, permits)).length).toBeGreaterThan(0);
    } finally {
      await app.close();
      await worker.close();
    }
  });
});
