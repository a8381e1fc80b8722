/**
 * A custody holder's log (R13 with R4): besides their own, they see where their child's data went
 * on the consents they gave for the child — and nothing that rests only on another parent's
 * consent, and never a flow of a record holding anonymous treatment (SEL § 101 a), which the sync
 * engine records apart and marks. Real parts: the social system's FHIR simulator over HTTP, the
 * sync engine, the API.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generatePopulation, type SyntheticCitizen } from '../../adapters/shared/population';
import { CPR_SYSTEM } from '../../adapters/fhir/systems';
import { createSocialAdapter } from '../../adapters/social/adapter';
import { startSocialSimulator, type SectorSimulator } from '../../adapters/social/simulator';
import { membersOf } from '../../src/model';
import { planService } from '../../src/plans/service';
import { allMappings } from '../../src/sync/all-mappings';
import { runSync } from '../../src/sync/engine';
import { testCpr } from '../support/cpr';
import { startTestApp } from '../support/node-app';
import { refusingRecordsOf } from '../support/refusing-activities';
import { caseworkerOf, grantConsent } from '../support/seed';

const socialOnly = { employment: false, education: false, social: true, health: false };
const [parent, otherParent, someone] = generatePopulation(3, 4242).map((c) => ({ ...c, sectors: socialOnly }));
const child = { ...someone!, cpr: testCpr('2014-03-12'), birthDate: '2014-03-12' };
const categories = ['plan-core', 'social', 'goals', 'interventions'] as const;

/** The social system's simulator for these citizens, where the child is also in anonymous treatment (SEL § 101 a): a CarePlan says so. */
async function socialSystemWithAnonymousTreatment(population: SyntheticCitizen[], childCpr: string) {
  const simulator = await startSocialSimulator({ population, port: 0 });
  const found = (await (await fetch(`${simulator.baseUrl}/Patient?identifier=${encodeURIComponent(`${CPR_SYSTEM}|${childCpr}`)}`)).json()) as { entry?: { resource: { id: string } }[] };
  const patientId = found.entry?.[0]?.resource.id;
  expect(patientId).toBeTruthy();
  const fixture = JSON.parse(readFileSync(join(import.meta.dirname, '../fixtures/social/careplan/local-code-and-anonymous-treatment.input.json'), 'utf8')) as Record<string, unknown>;
  const { id: _id, meta: _meta, ...carePlan } = fixture;
  await simulator.repository.createResource({ ...carePlan, subject: { reference: `Patient/${patientId}` } } as never);
  return simulator;
}

let social: SectorSimulator;
let app: Awaited<ReturnType<typeof startTestApp>>;
beforeAll(async () => {
  social = await socialSystemWithAnonymousTreatment([parent!, otherParent!, child], child.cpr);
  app = await startTestApp({ adapters: { social: createSocialAdapter({ baseUrl: social.baseUrl, timeoutMs: 5_000 }) }, mappings: allMappings });
});
afterAll(async () => {
  await app?.close();
  await social?.close();
});

async function flowsAs(citizenId: string) {
  const token = await app.harness.token({ tenant: '101', roles: ['citizen'], citizenId });
  const response = await app.harness.request('/v1/citizen/data-flows', { headers: { authorization: `Bearer ${token}` } });
  expect(response.status).toBe(200);
  return (await response.json()) as {
    flows: { about: { relation: string; citizenId: string; birthDate?: string }; kind: string; consentRefs: string[]; text: string }[];
    consents: { id: string; about: { relation: string; citizenId: string }; text: string }[];
  };
}

describe('a custody holder’s log of their child’s data', () => {
  it('shows the flows on the consents they gave, never anonymous treatment, nothing of the other parent’s', async () => {
    const service = planService(app.deps);
    const caseworker = caseworkerOf();
    const plan = await service.create(caseworker, {
      cpr: parent!.cpr,
      origin: 'requested',
      role: 'custody-holder',
      family: { members: [{ cpr: child.cpr, role: 'child' }, { cpr: otherParent!.cpr, role: 'parent' }] },
      replaces: [],
      municipalities: [],
    });
    await service.changeStatus(caseworker, plan.id, { status: 'accepted' });
    await service.changeStatus(caseworker, plan.id, { status: 'active' });
    const [me, kid, other] = membersOf(plan);
    // Health too, explicitly: the fixture's CarePlan also holds a local code no KL list knows, which is
    // health data (Sundhedsloven § 43, social.careplan 1.1.0); without it that part is refused.
    const childCategories = [...categories, 'health'] as const;
    const mine = await grantConsent(app.deps, { citizenId: kid!.citizenId, source: 'social', categories: [...childCategories], grantedBy: { citizenId: me!.citizenId, capacity: 'custody-holder' } });
    const theirs = await grantConsent(app.deps, { citizenId: kid!.citizenId, source: 'social', categories: [...childCategories], grantedBy: { citizenId: other!.citizenId, capacity: 'custody-holder' } });
    await grantConsent(app.deps, { citizenId: me!.citizenId, source: 'social', categories: [...categories] });

    expect((await runSync(app.deps, { tenant: '101', adapter: 'social', trigger: 'test', mappings: allMappings })).status).toBe('succeeded');
    // The engine recorded the child's flows in two kinds: with and without anonymous treatment.
    const childLog = await app.deps.store.audit.list('101', { citizenId: kid!.citizenId });
    const flowed = childLog.filter((row) => row.action === 'data.flowed');
    expect(flowed.filter((row) => row.detail.anonymousTreatment === true)).toHaveLength(1);
    const plain = flowed.filter((row) => row.detail.anonymousTreatment === false);
    expect(plain.length).toBeGreaterThan(0);
    for (const row of flowed) expect(row.detail.consentRefs).toEqual(expect.arrayContaining([mine.id, theirs.id]));

    // The custody holder: their own flows, and the child's plain ones, told as the child's.
    const log = await flowsAs(me!.citizenId);
    const aboutChild = log.flows.filter((f) => f.about.relation === 'child');
    expect(aboutChild).toHaveLength(plain.length);
    for (const entry of aboutChild) {
      expect(entry.about).toEqual({ relation: 'child', citizenId: kid!.citizenId, birthDate: '2014-03-12' });
      expect(entry.text).toMatch(/^Den .+ sendte socialforvaltningens fagsystem oplysninger om .+ vedrørende dit barn \(født 12\. marts 2014\) til din Én plan\. Grundlag: dit samtykke af \d+\. \w+ \d{4}\.$/);
      // The other custody holder's consent is not named, not even by id.
      expect(entry.consentRefs).toEqual([mine.id]);
    }
    expect(log.flows.some((f) => f.about.relation === 'self' && f.kind === 'flowed')).toBe(true);
    // Their consent for the child is listed (so they can see and revoke it); the other parent's is not.
    const forChild = log.consents.filter((c) => c.about.relation === 'child');
    expect(forChild.map((c) => c.id)).toEqual([mine.id]);
    expect(forChild[0]!.text).toMatch(/gav du som forældremyndighedsindehaver samtykke til, at socialforvaltningens fagsystem må sende oplysninger om .+ vedrørende dit barn \(født 12\. marts 2014\)/);

    // The other parent consented too, so they see the same plain flows — and nothing of the first parent's own.
    const otherLog = await flowsAs(other!.citizenId);
    expect(otherLog.flows.filter((f) => f.about.relation === 'child')).toHaveLength(plain.length);
    expect(otherLog.flows.filter((f) => f.about.relation === 'self').map((f) => f.kind)).toEqual(['refused']); // no consent of their own
    expect(otherLog.consents.map((c) => c.id)).toEqual([theirs.id]);
    expect([...otherLog.flows, ...otherLog.consents].some((entry) => entry.about.citizenId === me!.citizenId)).toBe(false);

    // The child sees all of their own, the anonymous treatment's flow too — and that both custody holders looked.
    const childView = await flowsAs(kid!.citizenId);
    expect(childView.flows.filter((f) => f.kind === 'flowed')).toHaveLength(flowed.length);
    expect(childView.flows.every((f) => f.about.relation === 'self')).toBe(true);
    const looked = childView.flows.filter((f) => f.kind === 'viewed');
    expect(looked).toHaveLength(2);
    for (const entry of looked) expect(entry.text).toMatch(/^Den .+ så din forældremyndighedsindehaver, hvor oplysninger om dig er sendt hen på de samtykker, vedkommende har givet for dig\.$/);
  });

  it('tells that IT staff looked at the child’s record from a system they consented for, never one about anonymous treatment', async () => {
    // Their own simulator and app: these citizens' care plans are quarantined by a mapping that refuses them all.
    const [mother, father, someChild] = generatePopulation(3, 5151).map((c) => ({ ...c, sectors: socialOnly }));
    const daughter = { ...someChild!, cpr: testCpr('2013-09-04'), birthDate: '2013-09-04' };
    const system = await socialSystemWithAnonymousTreatment([mother!, father!, daughter], daughter.cpr);
    const quarantining = await startTestApp({ adapters: { social: createSocialAdapter({ baseUrl: system.baseUrl, timeoutMs: 5_000 }) }, mappings: allMappings });
    try {
      const service = planService(quarantining.deps);
      const caseworker = caseworkerOf();
      const plan = await service.create(caseworker, { cpr: mother!.cpr, origin: 'requested', role: 'custody-holder', family: { members: [{ cpr: daughter.cpr, role: 'child' }, { cpr: father!.cpr, role: 'parent' }] }, replaces: [], municipalities: [] });
      for (const status of ['accepted', 'active'] as const) await service.changeStatus(caseworker, plan.id, { status });
      const [me, kid, other] = membersOf(plan);
      // The mother consented for the child to the social system's data; the father to the jobcentre's only.
      await grantConsent(quarantining.deps, { citizenId: kid!.citizenId, source: 'social', categories: [...categories], grantedBy: { citizenId: me!.citizenId, capacity: 'custody-holder' } });
      await grantConsent(quarantining.deps, { citizenId: kid!.citizenId, source: 'dfdg', categories: ['plan-core', 'employment'], grantedBy: { citizenId: other!.citizenId, capacity: 'custody-holder' } });
      const refusing = refusingRecordsOf('social', 'CarePlan', 'activity.type', 'the code list lacks this code');
      expect((await runSync(quarantining.deps, { tenant: '101', adapter: 'social', trigger: 'test', mappings: refusing })).stats.quarantined).toBeGreaterThan(0);

      // IT staff read each of the child's quarantined records.
      const itStaff = { authorization: `Bearer ${await quarantining.harness.token({ tenant: '101', roles: ['it-staff'], sub: 'it-anna' })}` };
      const childsEntries = (await quarantining.deps.store.sync.quarantined('101')).filter((e) => e.citizenId === kid!.citizenId);
      let anonymous = 0;
      for (const entry of childsEntries) {
        const answer = await quarantining.harness.request(`/v1/sync/quarantine/${entry.id}/payload`, { headers: itStaff });
        expect(answer.status).toBe(200);
        if (/101 a/.test(((await answer.json()) as { payload: string }).payload)) anonymous++;
      }
      expect(anonymous).toBe(1);
      expect(childsEntries.length).toBeGreaterThan(1);

      const looks = async (citizenId: string) => {
        const token = await quarantining.harness.token({ tenant: '101', roles: ['citizen'], citizenId });
        const log = (await (await quarantining.harness.request('/v1/citizen/data-flows', { headers: { authorization: `Bearer ${token}` } })).json()) as { flows: { about: { relation: string; citizenId: string }; kind: string; recipient: string; source: string; text: string }[] };
        return log.flows.filter((f) => f.recipient === 'it-staff');
      };
      // The mother is told of every look but the one at the anonymous treatment, in Danish, as the child's.
      const toMother = await looks(me!.citizenId);
      expect(toMother).toHaveLength(childsEntries.length - anonymous);
      for (const entry of toMother) {
        expect(entry).toMatchObject({ kind: 'viewed', source: 'social', about: { relation: 'child', citizenId: kid!.citizenId } });
        expect(entry.text).toMatch(/^Den \d+\. \w+ \d{4} kl\. \d\d\.\d\d så en it-medarbejder i kommunen oplysninger om dit barn \(født 4\. september 2013\) fra socialforvaltningens fagsystem, som Én plan ikke kunne læse ind i barnets plan, for at finde fejlen\. CPR-numre var skjult\.$/);
      }
      // The father consented for no data of the social system's: he is not told of looks at it.
      expect(await looks(other!.citizenId)).toEqual([]);
      // The child is told of every look, the anonymous treatment's too.
      const toChild = await looks(kid!.citizenId);
      expect(toChild).toHaveLength(childsEntries.length);
      expect(toChild.every((f) => f.about.relation === 'self')).toBe(true);
    } finally {
      await quarantining.close();
      await system.close();
    }
  });

  it('shows nothing of a child’s log to a parent who gave no consent for them', async () => {
    const service = planService(app.deps);
    const caseworker = caseworkerOf();
    const cprOfChild = testCpr('2015-01-20');
    const plan = await service.create(caseworker, { cpr: testCpr(), origin: 'requested', role: 'parent', family: { members: [{ cpr: cprOfChild, role: 'child' }] }, replaces: [], municipalities: [] });
    const [me, kid] = membersOf(plan);
    await app.deps.store.audit.append('101', {
      at: new Date().toISOString(), actor: 'sync-job:social', action: 'data.flowed', targetType: 'citizen', targetId: kid!.citizenId, citizenId: kid!.citizenId,
      detail: { source: 'social', recipient: 'enplan', categories: ['social'], basis: 'consent', consentRefs: ['someone-elses-grant'], anonymousTreatment: false },
    });
    const log = await flowsAs(me!.citizenId);
    expect(log.flows).toEqual([]);
    expect(log.consents).toEqual([]);
    // Nothing shown, so nothing is recorded in the child's log either.
    expect((await app.deps.store.audit.list('101', { citizenId: kid!.citizenId })).filter((a) => a.action === 'citizen.data-flows-read-by-custody-holder')).toEqual([]);
  });

  it('shows nothing of a young person who has turned 18, though the parent gave consent for them once', async () => {
    const service = planService(app.deps);
    const caseworker = caseworkerOf();
    // The role runs to 23 (the ungeplan); custody ends at 18.
    const plan = await service.create(caseworker, { cpr: testCpr(), origin: 'requested', role: 'parent', family: { members: [{ cpr: testCpr('2006-05-05'), role: 'young-person' }] }, replaces: [], municipalities: [] });
    const [me, grownUp] = membersOf(plan);
    const given = await grantConsent(app.deps, { citizenId: grownUp!.citizenId, source: 'social', categories: [...categories], grantedBy: { citizenId: me!.citizenId, capacity: 'custody-holder' } });
    await app.deps.store.audit.append('101', {
      at: new Date().toISOString(), actor: 'sync-job:social', action: 'data.flowed', targetType: 'citizen', targetId: grownUp!.citizenId, citizenId: grownUp!.citizenId,
      detail: { source: 'social', recipient: 'enplan', categories: ['social'], basis: 'consent', consentRefs: [given.id], anonymousTreatment: false },
    });
    const log = await flowsAs(me!.citizenId);
    expect(log.flows.filter((f) => f.about.citizenId === grownUp!.citizenId)).toEqual([]);
    expect(log.consents.filter((c) => c.about.citizenId === grownUp!.citizenId)).toEqual([]);
  });
});
