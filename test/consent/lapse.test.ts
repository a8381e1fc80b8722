/**
 * A grant's period is kept by itself (R9). After a grant's last valid day, the nightly retention
 * job removes from the plan what flowed only on it, as a revocation would (R10), audits it once,
 * and leaves alone what another live grant still covers and grants whose period has not ended.
 * A legal-basis record recorded for a period ends the same way. A grant dated to start later takes
 * effect on its first day: its citizen is read again in full. A grant that runs out while a chunk
 * merges on it leaves nothing behind, even when the nightly job handled its lapse first.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDfdgAdapter, startDfdgSimulator, type DfdgSimulator } from '../../adapters/dfdg';
import { generatePopulation } from '../../adapters/shared/population';
import { ConsentGrant as ConsentGrantSchema, membersOf, type ConsentGrant, type LegalBasisRecord, type Plan } from '../../src/model';
import { allMappings } from '../../src/sync/all-mappings';
import { runSync } from '../../src/sync/engine';
import { runRetention } from '../../src/sync/retention';
import { TestClock } from '../registrations/fixture';
import { startTestApp } from '../support/node-app';
import { enrol, grantConsent } from '../support/seed';
import { danishToday } from '../../src/views/danish';

const population = generatePopulation(7, 7331).map((c) => ({ ...c, sectors: { employment: true, education: false, social: false, health: false } }));
const employment = ['plan-core', 'employment', 'goals', 'interventions'] as const;
let dfdg: DfdgSimulator;
beforeAll(async () => {
  dfdg = await startDfdgSimulator({ population, port: 0 });
});
afterAll(() => dfdg?.close());

const citizenIdOf = (plan: Plan) => membersOf(plan)[0]!.citizenId;
const elementsOn = (plan: Plan, grantId: string) =>
  [...plan.goals, ...plan.interventions, ...plan.agreements, ...plan.followUps].filter((e) => e.provenance.some((p) => p.kind === 'source' && p.consentRef === grantId));

describe('consent lapse', () => {
  it('removes what flowed only on a grant whose period ended, once, and nothing else', async () => {
    const app = await startTestApp({ adapters: { dfdg: createDfdgAdapter({ baseUrl: dfdg.url, organisation: { typeIdentifier: 'kommune', code: '101' } }) }, mappings: allMappings });
    const today = danishToday(new Date());
    // Three citizens: one whose grant will lapse, one with a second, open-ended grant covering the same, one whose grant runs on.
    const [lapsing, covered, running] = await Promise.all(population.slice(0, 3).map((c) => enrol(app.deps, c.cpr)));
    const grantOf = async (plan: Plan, validTo?: string) => grantConsent(app.deps, { citizenId: citizenIdOf(plan), source: 'dfdg', categories: [...employment], validTo });
    const lapsingGrant = await grantOf(lapsing!, today);
    const coveredGrant = await grantOf(covered!, today);
    const backup = await grantOf(covered!);
    const runningGrant = await grantOf(running!, '2099-12-31');
    expect((await runSync(app.deps, { tenant: '101', adapter: 'dfdg', trigger: 'test', mappings: allMappings })).status).toBe('succeeded');
    const before = await app.deps.store.plans.get('101', lapsing!.id);
    expect(elementsOn(before!, lapsingGrant.id).length).toBeGreaterThan(0);
    const runningVersion = (await app.deps.store.plans.get('101', running!.id))!.version;

    // Nothing has lapsed yet: the grants are valid through today.
    expect(await runRetention(app.deps)).toMatchObject({ grantsLapsed: 0, plansChangedByLapse: 0 });
    // Time passes: the two grants' last day is now behind us.
    const ended = (grant: ConsentGrant): ConsentGrant => ({ ...grant, validTo: '2026-06-30' });
    await app.deps.store.consents.replace({ kind: 'grant', ...ended(lapsingGrant) });
    await app.deps.store.consents.replace({ kind: 'grant', ...ended(coveredGrant) });
    // One plan keeps changing under the first attempt: that grant waits for the next run, the other goes on.
    const update = app.deps.store.plans.update.bind(app.deps.store.plans);
    app.deps.store.plans.update = async (plan, ...rest) => (plan.id === covered!.id ? false : update(plan, ...rest));
    expect(await runRetention(app.deps)).toMatchObject({ grantsLapsed: 1, plansChangedByLapse: 1, lapseFailures: 1 });
    app.deps.store.plans.update = update;
    expect(await runRetention(app.deps)).toMatchObject({ grantsLapsed: 1, plansChangedByLapse: 1, lapseFailures: 0 });

    const after = (await app.deps.store.plans.get('101', lapsing!.id))!;
    expect(elementsOn(after, lapsingGrant.id)).toEqual([]);
    expect([...after.goals, ...after.interventions].filter((e) => e.provenance.some((p) => p.kind === 'source'))).toEqual([]);
    // Covered by the open-ended grant: kept, now resting on it.
    const coveredPlan = (await app.deps.store.plans.get('101', covered!.id))!;
    expect(elementsOn(coveredPlan, coveredGrant.id)).toEqual([]);
    expect(elementsOn(coveredPlan, backup.id).length).toBeGreaterThan(0);
    // Still running: untouched.
    const runningPlan = (await app.deps.store.plans.get('101', running!.id))!;
    expect(runningPlan.version).toBe(runningVersion);
    expect(elementsOn(runningPlan, runningGrant.id).length).toBeGreaterThan(0);

    const audit = await app.deps.store.audit.list('101', { citizenId: citizenIdOf(lapsing!) });
    expect(audit.filter((a) => a.action === 'consent.lapsed')).toEqual([expect.objectContaining({ targetId: lapsingGrant.id, detail: expect.objectContaining({ validTo: '2026-06-30', plansChanged: [lapsing!.id] }) })]);
    expect(audit.some((a) => a.action === 'plan.consent-data-removed' && a.actor === 'system:consent-expiry')).toBe(true);
    // The citizen is told what left their plan, and why.
    const token = await app.harness.token({ tenant: '101', roles: ['citizen'], citizenId: citizenIdOf(lapsing!) });
    const log = (await (await app.harness.request('/v1/citizen/data-flows', { headers: { authorization: `Bearer ${token}` } })).json()) as { flows: { kind: string; text: string; consentRefs: string[] }[]; consents: { id: string; text: string }[] };
    const removal = log.flows.find((f) => f.kind === 'removed');
    expect(removal?.consentRefs).toEqual([lapsingGrant.id]);
    expect(removal?.text).toMatch(/punkt(er)? med oplysninger fra Jobcentret \(DFDG\) fjernet fra din Én plan, fordi dit samtykke af .+ udløb \(det gjaldt til og med 30\. juni 2026\)\./);
    expect(log.consents.find((c) => c.id === lapsingGrant.id)?.text).toContain('Samtykket er udløbet.');

    // Handled once: a second night finds nothing, and a sync does not bring the data back.
    expect(await runRetention(app.deps)).toMatchObject({ grantsLapsed: 0, plansChangedByLapse: 0 });
    await runSync(app.deps, { tenant: '101', adapter: 'dfdg', trigger: 'test', mappings: allMappings });
    expect(elementsOn((await app.deps.store.plans.get('101', lapsing!.id))!, lapsingGrant.id)).toEqual([]);
    await app.close();
  });

  it('removes what flowed only on a legal-basis record whose period ended, tells the citizen, and does it once (R11, R16)', async () => {
    const app = await startTestApp({ adapters: { dfdg: createDfdgAdapter({ baseUrl: dfdg.url, organisation: { typeIdentifier: 'kommune', code: '101' } }) }, mappings: allMappings });
    const today = danishToday(new Date());
    const plan = await enrol(app.deps, population[5]!.cpr);
    const record: LegalBasisRecord = {
      id: crypto.randomUUID(), tenant: '101', citizenId: citizenIdOf(plan), source: 'dfdg', recipient: 'enplan', categories: [...employment],
      basis: 'LAB § 20 (deling uden samtykke)', recordedBy: 'caseworker:anna', recordedAt: new Date().toISOString(), validTo: today, citizenInformed: false,
    };
    await app.deps.store.consents.insert({ kind: 'legal-basis', ...record });
    const sync = () => runSync(app.deps, { tenant: '101', adapter: 'dfdg', trigger: 'test', mappings: allMappings });
    expect((await sync()).status).toBe('succeeded');
    expect(elementsOn((await app.deps.store.plans.get('101', plan.id))!, record.id).length).toBeGreaterThan(0);
    expect(await runRetention(app.deps)).toMatchObject({ legalBasesLapsed: 0, plansChangedByLapse: 0 });

    // Time passes: the basis was recorded for a period that is now over.
    await app.deps.store.consents.replace({ kind: 'legal-basis', ...record, validTo: '2026-06-30' });
    expect(await runRetention(app.deps)).toMatchObject({ legalBasesLapsed: 1, plansChangedByLapse: 1, lapseFailures: 0 });
    const after = (await app.deps.store.plans.get('101', plan.id))!;
    expect([...after.goals, ...after.interventions, ...after.agreements].filter((e) => e.provenance.some((p) => p.kind === 'source'))).toEqual([]);
    const audit = await app.deps.store.audit.list('101', { citizenId: citizenIdOf(plan) });
    expect(audit.filter((a) => a.action === 'consent.lapsed')).toEqual([expect.objectContaining({ targetId: record.id, detail: expect.objectContaining({ kind: 'legal-basis', validTo: '2026-06-30', plansChanged: [plan.id] }) })]);
    const token = await app.harness.token({ tenant: '101', roles: ['citizen'], citizenId: citizenIdOf(plan) });
    const log = (await (await app.harness.request('/v1/citizen/data-flows', { headers: { authorization: `Bearer ${token}` } })).json()) as { flows: { kind: string; text: string; basis: string }[]; legalBases: { id: string; text: string }[] };
    const removal = log.flows.find((f) => f.kind === 'removed');
    expect(removal?.basis).toBe('legal-basis');
    expect(removal?.text).toMatch(/fjernet fra din Én plan, fordi det lovgrundlag, de var delt på uden dit samtykke \(LAB § 20 \(deling uden samtykke\)\), ophørte \(det gjaldt til og med 30\. juni 2026\)\./);
    expect(log.legalBases.find((r) => r.id === record.id)?.text).toContain('Grundlaget gjaldt til og med 30. juni 2026.');

    // Telling the citizen afterwards does not make the ended basis lapse again; nor does a sync bring the data back.
    const told = (await app.deps.store.consents.get('101', record.id))!;
    await app.deps.store.consents.replace({ ...told, kind: 'legal-basis', citizenInformed: true, informedAt: new Date().toISOString() } as typeof told);
    expect(await runRetention(app.deps)).toMatchObject({ legalBasesLapsed: 0, plansChangedByLapse: 0 });
    expect((await sync()).stats.refusedByConsent).toBe(0); // nothing changed at the source: nothing read again
    dfdg.mutate(1);
    expect((await sync()).stats.refusedByConsent).toBeGreaterThan(0);
    expect(elementsOn((await app.deps.store.plans.get('101', plan.id))!, record.id)).toEqual([]);
    await app.close();
  });

  it('lapses and starts grants by the Danish day: at 00:30 Danish time the day is already the next one', async () => {
    // 23:30 UTC on 10 March is 00:30 on 11 March in Denmark (CET).
    const clock = new TestClock(Date.parse('2026-03-10T23:30:00.000Z'));
    const app = await startTestApp({ clock });
    const plan = await enrol(app.deps, population[5]!.cpr);
    const citizenId = citizenIdOf(plan);
    const base = {
      tenant: '101', citizenId, grantedBy: { citizenId, capacity: 'self' as const }, source: 'dfdg' as const, recipient: 'enplan', categories: [...employment], explicitHealth: false,
      purpose: 'Koordinering af indsatser i Én plan', signed: { method: 'mitid' as const, documentRef: 'test-doc', textVersion: 'samtykke-v1', language: 'da' }, createdAt: '2026-01-01T09:00:00.000Z',
    };
    const ended = ConsentGrantSchema.parse({ ...base, id: crypto.randomUUID(), validFrom: '2026-01-01', validTo: '2026-03-10' });
    const starting = ConsentGrantSchema.parse({ ...base, id: crypto.randomUUID(), validFrom: '2026-03-11' });
    await app.deps.store.consents.insert({ kind: 'grant', ...ended });
    await app.deps.store.consents.insert({ kind: 'grant', ...starting });
    expect(await runRetention(app.deps)).toMatchObject({ grantsLapsed: 1, grantsStarted: 1 });
    await app.close();
  });

  it('lets a grant dated to start later take effect on its first day: the citizen is read again and the data flows', async () => {
    const clock = new TestClock(Date.parse('2026-11-23T10:00:00.000Z'));
    const app = await startTestApp({ clock, adapters: { dfdg: createDfdgAdapter({ baseUrl: dfdg.url, organisation: { typeIdentifier: 'kommune', code: '101' } }) }, mappings: allMappings });
    const plan = await enrol(app.deps, population[4]!.cpr);
    const grant = ConsentGrantSchema.parse({
      id: crypto.randomUUID(), tenant: '101', citizenId: citizenIdOf(plan), grantedBy: { citizenId: citizenIdOf(plan), capacity: 'self' },
      source: 'dfdg', recipient: 'enplan', categories: [...employment], explicitHealth: false, purpose: 'Koordinering af indsatser i Én plan',
      validFrom: '2026-12-01', signed: { method: 'mitid', documentRef: 'test-doc', textVersion: 'samtykke-v1', language: 'da' }, createdAt: clock.now().toISOString(),
    });
    await app.deps.store.consents.insert({ kind: 'grant', ...grant });
    const sync = () => runSync(app.deps, { tenant: '101', adapter: 'dfdg', trigger: 'test', mappings: allMappings });
    const before = await sync();
    expect(before.stats.refusedByConsent).toBeGreaterThan(0);
    expect(elementsOn((await app.deps.store.plans.get('101', plan.id))!, grant.id)).toEqual([]);
    // Not yet its day: nothing to do, and a sync still refuses.
    expect(await runRetention(app.deps)).toMatchObject({ grantsStarted: 0 });
    clock.advance(8 * 86_400_000); // 1 December
    expect(await runRetention(app.deps)).toMatchObject({ grantsStarted: 1, startFailures: 0 });
    const after = await sync();
    expect(after.stats).toMatchObject({ catchUpSearched: true, citizensPulled: 1, refusedByConsent: 0 });
    expect(elementsOn((await app.deps.store.plans.get('101', plan.id))!, grant.id).length).toBeGreaterThan(0);
    const audit = await app.deps.store.audit.list('101', { citizenId: citizenIdOf(plan) });
    expect(audit.filter((a) => a.action === 'consent.took-effect')).toEqual([expect.objectContaining({ targetId: grant.id, detail: expect.objectContaining({ validFrom: '2026-12-01' }) })]);
    // Once: the next night finds nothing more.
    expect(await runRetention(app.deps)).toMatchObject({ grantsStarted: 0 });
    await app.close();
  });

  it('a grant that runs out while a chunk merges on it leaves nothing in the plan, though the nightly job handled its lapse before the write', async () => {
    // 23:59 in Denmark (CET, UTC+1) on the grant's last day: the chunk's consent decision still lets it flow.
    const clock = new TestClock(Date.parse('2026-11-24T22:59:00.000Z'));
    const app = await startTestApp({ clock, adapters: { dfdg: createDfdgAdapter({ baseUrl: dfdg.url, organisation: { typeIdentifier: 'kommune', code: '101' } }) }, mappings: allMappings });
    const plan = await enrol(app.deps, population[6]!.cpr);
    const grant = await grantConsent(app.deps, { citizenId: citizenIdOf(plan), source: 'dfdg', categories: [...employment], validTo: '2026-11-24' });
    let lapsesHandled = -1;
    const result = await runSync(app.deps, {
      tenant: '101', adapter: 'dfdg', trigger: 'test', mappings: allMappings,
      beforeWrite: async () => {
        // Danish midnight passes, and the nightly job finds the lapse before the chunk's write lands.
        clock.advance(2 * 60_000);
        lapsesHandled = (await runRetention(app.deps)).grantsLapsed;
      },
    });
    expect(result.status).toBe('succeeded');
    expect(lapsesHandled).toBe(1);
    expect(result.stats.recordsMerged).toBeGreaterThan(0);
    // The lapse is marked handled: no later night would remove what the write brought.
    expect((await runRetention(app.deps)).grantsLapsed).toBe(0);
    expect(elementsOn((await app.deps.store.plans.get('101', plan.id))!, grant.id)).toEqual([]);
    await app.close();
  });
});
