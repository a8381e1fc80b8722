/**
 * The region's own consent to share (R9, R10): the regional health system keeps a Consent per
 * citizen saying whether it may share with the municipality. Where the current one refuses, is
 * withdrawn or has run out, the region's health data does not flow into the plan on the citizen's
 * consent with us — refused and logged with the region's reason — and what flowed before leaves
 * the plan on the next incremental sync, as on a revocation; a permit again brings it back. A legal
 * basis other than consent (R11) still carries it, and a region with no Consent leaves the decision
 * to ours. A permit that runs out with no change at the region is ended by the nightly job; a permit
 * naming its recipients counts for us only if this municipality is one of them. A Consent the region
 * holds that we cannot read holds back new data (fail closed) but takes nothing out. Real health
 * simulator over HTTP, libSQL, the app's routes; a pull worker thread too.
 */
import type { Consent, ConsentProvisionActor, Goal } from '@medplum/fhirtypes';
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
import { HEALTH_SEED, regionConsents, withdrawn } from '../support/region-consent';
import { dfdgAndHealthSimulators } from '../support/sector-simulators';

const population = generatePopulation(18, 6262).map((c) => ({ ...c, sectors: { employment: true, education: false, social: false, health: true } }));
const simulators = dfdgAndHealthSimulators(population);

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

const { consentIdOf, regionRecords } = regionConsents(simulators);
/** A withdrawal the region's system wrote without the Consent's category: it fails the contract. */
const unreadableWithdrawal = (c: Consent): Consent => ({ ...c, status: 'inactive', category: [] });
/** The region stores a Consent as given, contract or not (its next version, written now), as a faulty EHR export would. */
async function regionStoresAsGiven(consent: Consent & { id: string }) {
  const current = await simulators.health.repository.readResource<Consent>('Consent', consent.id).catch(() => undefined);
  const versionId = String(Number(current?.meta?.versionId ?? '0') + 1);
  await simulators.health.repository.putRaw({ ...consent, meta: { versionId, lastUpdated: new Date().toISOString() } });
}
/** New health data for the citizen at the region: a Goal of theirs written as a new record. */
async function regionAddsGoal(ordinal: number, text: string) {
  const goal = healthRecordsFor(simulators.health.citizens[ordinal]!, ordinal, HEALTH_SEED).find((r) => r.resourceType === 'Goal')!;
  const { id: _id, meta: _meta, ...copy } = await simulators.health.repository.readResource<Goal>('Goal', goal.id!);
  await simulators.health.repository.createResource<Goal>({ ...copy, lifecycleStatus: 'active', description: { text } });
}
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
    const read = (await app.deps.store.plans.get('101', plan.id))!;
    const requestsBefore = simulators.health.requests().length;
    const incremental = await sync(app);
    expect(incremental).toMatchObject({ status: 'succeeded', stats: { catchUpSearched: false, citizensPulled: 1 } });
    // Taking data out (with nothing merged after it) is a new version of the plan: a writer of the version
    // read before it loses, so what left cannot come back with that write.
    const afterRemoval = (await app.deps.store.plans.get('101', plan.id))!;
    expect(afterRemoval.version).toBe(read.version + 1);
    expect(afterRemoval.updatedAt > read.updatedAt).toBe(true);
    expect(await app.deps.store.plans.update({ ...read, version: read.version + 1 }, read.version)).toBe(false);
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

  it('refuses new health flows while the region’s newest Consent cannot be read, keeps what flowed, and lets them flow once the region corrects it', async () => {
    const app = await freshApp();
    const plan = await enrolWithHealthConsent(app, 15);
    await regionRecords(15);
    expect((await sync(app)).status).toBe('succeeded');
    const flowed = await healthIdsOf(app, plan);
    expect(flowed.length).toBeGreaterThan(0);

    // The region's newest say is a withdrawal we cannot read; meanwhile it has new health data for the citizen.
    const readable = await simulators.health.repository.readResource<Consent>('Consent', consentIdOf(15));
    await regionStoresAsGiven(unreadableWithdrawal(readable) as Consent & { id: string });
    await regionAddsGoal(15, 'Genoptræning efter indlæggelse');
    const whileUnreadable = await sync(app);
    expect(whileUnreadable.status).toBe('succeeded');
    expect(whileUnreadable.stats.refusedByConsent).toBeGreaterThan(0);
    // Nothing new flowed, and nothing was taken out: an unreadable record is not the citizen's withdrawal.
    expect(await healthIdsOf(app, plan)).toEqual(flowed);
    expect(await auditOf(app, plan, 'plan.consent-data-removed')).toEqual([]);
    const reasons = (await auditOf(app, plan, 'data.refused')).map((a) => String(a.detail.reason));
    expect(reasons).toHaveLength(1);
    expect(reasons[0]).toMatch(/^the region's consent to share health data with the municipality could not be read: does not match the Consent contract: .*category/);
    expect(reasons[0]!.includes(population[15]!.cpr)).toBe(false);
    expect((await citizenLog(app, plan)).find((f) => f.kind === 'refused')?.text).toContain('fordi regionens oplysning om dit samtykke til, at regionen deler dine helbredsoplysninger med kommunen, ikke kunne læses');
    // IT staff see the Consent in quarantine, as any record that fails its contract.
    const quarantinedConsents = (await app.deps.store.sync.quarantined('101', { adapter: 'health' })).filter((q) => q.recordType === 'Consent');
    expect(quarantinedConsents.map((q) => q.recordId)).toContain(consentIdOf(15));

    // The region corrects its Consent (a readable permit): the data it held back flows, in the next runs.
    await regionRecords(15, (c) => ({ ...c, category: readable.category }));
    expect((await sync(app)).status).toBe('succeeded');
    expect((await sync(app)).status).toBe('succeeded');
    const afterCorrection = await healthIdsOf(app, plan);
    expect(afterCorrection).toEqual(expect.arrayContaining(flowed));
    expect(afterCorrection).toHaveLength(flowed.length + 1);
    expect((await app.deps.store.sync.quarantined('101', { adapter: 'health' })).filter((q) => q.recordId === consentIdOf(15))).toEqual([]);
    await app.close();
  });

  it('weighs a Consent it cannot read by when the region issued it: a readable one issued later outvotes it, a draft decides nothing, and one it cannot place stands', async () => {
    const app = await freshApp();
    const [outvoted, unplaced] = [await enrolWithHealthConsent(app, 16), await enrolWithHealthConsent(app, 17)];
    await regionRecords(16);
    await regionRecords(17);
    const { id: _id, meta: _meta, ...permit } = await simulators.health.repository.readResource<Consent>('Consent', consentIdOf(16));
    // An old withdrawal, issued before the permit, and a draft being written now: neither readable.
    await regionStoresAsGiven({ ...unreadableWithdrawal(permit), id: 'unreadable-old-withdrawal-16', dateTime: '2020-03-01T10:00:00+01:00' });
    await regionStoresAsGiven({ ...unreadableWithdrawal(permit), id: 'unreadable-draft-16', status: 'draft', dateTime: new Date().toISOString() });
    expect((await sync(app)).status).toBe('succeeded');
    expect((await healthIdsOf(app, outvoted)).length).toBeGreaterThan(0);
    expect(await auditOf(app, outvoted, 'data.refused')).toEqual([]);
    const flowedToUnplaced = await healthIdsOf(app, unplaced);
    expect(flowedToUnplaced.length).toBeGreaterThan(0);

    // A withdrawal issued after the permit, unreadable: it stands, and the region's new data waits.
    await regionStoresAsGiven({ ...unreadableWithdrawal(permit), id: 'unreadable-new-withdrawal-16', dateTime: new Date().toISOString() });
    await regionAddsGoal(16, 'Fast tid hos egen læge');
    expect((await sync(app)).status).toBe('succeeded');
    const refusedFor = async (plan: Plan) => (await auditOf(app, plan, 'data.refused')).map((a) => String(a.detail.reason));
    expect(await refusedFor(outvoted)).toEqual([expect.stringMatching(/^the region's consent to share health data with the municipality could not be read: does not match the Consent contract/)]);

    // The region's server cuts its answer to the Consent search: whatever Consents it holds cannot be placed.
    await regionAddsGoal(17, 'Bolig tæt på behandlingsstedet');
    simulators.health.setFaults({ malformedRate: 1, scope: { resourceType: 'Consent' } });
    try {
      expect((await sync(app)).status).toBe('succeeded');
    } finally {
      simulators.health.setFaults({ malformedRate: 0, scope: undefined });
    }
    expect(await refusedFor(unplaced)).toEqual([expect.stringMatching(/^the region's consent to share health data with the municipality could not be read: /)]);
    expect(await healthIdsOf(app, unplaced)).toEqual(flowedToUnplaced);
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
