/**
 * The pull engine against real simulators over HTTP: enrolment (R12), the consent gate (R9),
 * incremental sync from the change feed, out-of-order versions, a crash mid-batch, quarantine
 * visible to IT staff, and the sync API.
 */
import { describe, expect, it } from 'vitest';
import { AdapterError, type PullManyOptions, type PullSubject } from '../../adapters/adapter';
import { createDfdgAdapter } from '../../adapters/dfdg';
import { createHealthAdapter } from '../../adapters/health/adapter';
import { fictitiousCpr, generatePopulation, type SyntheticCitizen } from '../../adapters/shared/population';
import { membersOf, type Plan } from '../../src/model';
import { planService } from '../../src/plans/service';
import { allMappings } from '../../src/sync/all-mappings';
import { runSync, runSyncRound } from '../../src/sync/engine';
import { startTestApp } from '../support/node-app';
import { citizens as citizensTable, planMembers as planMembersTable } from '../../src/store/schema';
import { eq } from 'drizzle-orm';
import { TEST_CPR_KEY, TEST_JWT_SECRET } from '../support/harness';
import { loadConfig } from '../../src/config';
import { createCprVault } from '../../src/security';
import { adaptersFromConfig, tenantAdapters } from '../../src/runtime/adapters';
import { caseworkerOf, enrol, grantConsent } from '../support/seed';
import { dfdgAndHealthSimulators } from '../support/sector-simulators';

const population: SyntheticCitizen[] = generatePopulation(20, 4242).map((c) => ({ ...c, sectors: { employment: true, education: false, social: false, health: true } }));
// A 16-year-old (born 2010): their data needs their own consent and a custody holder's (Barnets lov § 110).
const youngPerson: SyntheticCitizen = { ...population[19]!, index: 20, cpr: fictitiousCpr(new Date(Date.UTC(2010, 2, 1)), 321), birthDate: '2010-03-01' };
population.push(youngPerson);
const simulators = dfdgAndHealthSimulators(population);

async function freshApp() {
  const app = await startTestApp({
    adapters: {
      dfdg: createDfdgAdapter({ baseUrl: simulators.dfdg.url, organisation: { typeIdentifier: 'kommune', code: '101' } }),
      health: createHealthAdapter({ baseUrl: simulators.health.baseUrl, timeoutMs: 5000 }),
    },
    mappings: allMappings,
  });
  return app;
}
const citizenIdOf = (plan: Plan) => membersOf(plan)[0]!.citizenId;
/** Someone else writes the plan (its purpose) while a merge is under way, so the merge's write loses its race. */
async function changePlanMeanwhile(app: Awaited<ReturnType<typeof freshApp>>, planId: string, purpose: string, updatedAt = new Date(Date.now() + 1000)) {
  const current = (await app.deps.store.plans.get('101', planId))!;
  expect(await app.deps.store.plans.update({ ...current, purpose, version: current.version + 1, updatedAt: updatedAt.toISOString() }, current.version)).toBe(true);
}
const employment = ['plan-core', 'employment', 'goals', 'interventions'] as const;
/** A citizen in two enrolled plans: their own, and a partner's made the family's with the citizen in it too (straight into the store: the service keeps one open plan per citizen). */
async function inTwoPlans(app: Awaited<ReturnType<typeof freshApp>>) {
  const own = await enrol(app.deps, population[13]!.cpr);
  const grant = await grantConsent(app.deps, { citizenId: citizenIdOf(own), source: 'dfdg', categories: [...employment] });
  // The partner has given no consent: their records are refused, and their plan changes by the citizen's merge alone.
  const partners = await enrol(app.deps, population[14]!.cpr);
  const ownMember = membersOf(own)[0]!;
  const family: Plan = {
    ...partners,
    subject: { kind: 'family', name: 'Familien', members: [membersOf(partners)[0]!, { memberId: crypto.randomUUID(), citizenId: ownMember.citizenId, role: ownMember.role, birthDate: ownMember.birthDate }] },
    version: partners.version + 1,
    updatedAt: new Date().toISOString(),
  };
  expect(await app.deps.store.plans.update(family, partners.version)).toBe(true);
  return { own, family, citizenId: ownMember.citizenId, partnerId: citizenIdOf(partners), grant };
}
/** The source records (`id@version`) a plan holds on this grant, one per element; no element may be there twice. */
async function recordsIn(app: Awaited<ReturnType<typeof freshApp>>, planId: string, grantId: string) {
  const plan = (await app.deps.store.plans.get('101', planId))!;
  const elements = [...plan.goals, ...plan.interventions, ...plan.agreements, ...plan.followUps];
  expect(new Set(elements.map((e) => e.id)).size, 'no element twice').toBe(elements.length);
  return elements.flatMap((e) => e.provenance.flatMap((p) => (p.kind === 'source' && p.consentRef === grantId ? [`${p.recordId}@${p.recordVersion}`] : []))).sort();
}
/** The consent decisions in a citizen's log (`data.flowed`, `data.refused`). */
const flowsLogged = async (app: Awaited<ReturnType<typeof freshApp>>, citizenId: string) => (await app.deps.store.audit.list('101', { citizenId })).filter((r) => r.action.startsWith('data.')).map((r) => r.action).sort();
const sync = (app: Awaited<ReturnType<typeof freshApp>>, adapter: 'dfdg' | 'health', extra: Partial<Parameters<typeof runSync>[1]> = {}) =>
  runSync(app.deps, { tenant: '101', adapter, trigger: 'test', mappings: allMappings, ...extra });
const pullsOf = () => simulators.dfdg.requestLog().filter((r) => /PlanData|Person/i.test(r.operation ?? '')).length;
/** An app whose DFDG batch answers leave out the citizen `leaveOut` names, if any: a source that drops one of a batch. */
async function appLeavingOut(leaveOut: (subjects: readonly PullSubject[], options?: PullManyOptions) => string | undefined) {
  const real = createDfdgAdapter({ baseUrl: simulators.dfdg.url, organisation: { typeIdentifier: 'kommune', code: '101' } });
  const pullMany = async (subjects: readonly PullSubject[], options?: PullManyOptions) => {
    const results = await real.pullMany(subjects, options);
    const left = leaveOut(subjects, options);
    if (left) results.delete(left);
    return results;
  };
  return startTestApp({ adapters: { dfdg: { ...real, pullMany } }, mappings: allMappings });
}

describe('pull engine', () => {
  it('pulls only enrolled citizens and merges what their consent allows', async () => {
    const app = await freshApp();
    const active = await enrol(app.deps, population[0]!.cpr);
    await grantConsent(app.deps, { citizenId: citizenIdOf(active), source: 'dfdg', categories: [...employment] });
    // Offered but not accepted: not enrolled, so never pulled (R12).
    await planService(app.deps).create(caseworkerOf(), { cpr: population[1]!.cpr, origin: 'offered', role: 'adult', replaces: [], municipalities: [] });
    const pullsBefore = pullsOf();
    const result = await sync(app, 'dfdg');
    expect(result.status).toBe('succeeded');
    expect(pullsOf() - pullsBefore).toBe(1);
    expect(result.stats.citizensPulled).toBe(1);
    expect(result.stats.recordsMerged).toBeGreaterThan(0);
    // The first run's feed starts where its catch-up started: the source's history is not replayed.
    expect(result.stats.changeNotices).toBe(0);
    const plan = (await app.deps.store.plans.get('101', active.id))!;
    const elements = [...plan.goals, ...plan.interventions, ...plan.agreements];
    expect(elements.length).toBeGreaterThan(0);
    for (const element of elements)
      expect(element.provenance[0]).toMatchObject({ kind: 'source', system: 'dfdg', mappingVersion: '1.0.0', category: expect.any(String), consentRef: expect.any(String) });
    const audit = await app.deps.store.audit.list('101', { citizenId: citizenIdOf(active) });
    expect(audit.filter((r) => r.action === 'data.flowed')).toHaveLength(1);
    expect(audit.find((r) => r.action === 'data.flowed')!.detail).toMatchObject({ source: 'dfdg', recipient: 'enplan', basis: 'consent' });
    await app.close();
  });

  it('refuses what no consent covers and counts it, without marking it merged', async () => {
    const app = await freshApp();
    const plan = await enrol(app.deps, population[2]!.cpr);
    await grantConsent(app.deps, { citizenId: citizenIdOf(plan), source: 'dfdg', categories: ['goals'] });
    const first = await sync(app, 'dfdg');
    expect(first.stats.refusedByConsent).toBeGreaterThan(0);
    const refused = (await app.deps.store.audit.list('101', { citizenId: citizenIdOf(plan) })).find((r) => r.action === 'data.refused');
    expect(refused?.detail).toMatchObject({ source: 'dfdg', reason: expect.stringContaining('no consent covers') });
    const stored = (await app.deps.store.plans.get('101', plan.id))!;
    expect(stored.interventions).toEqual([]);
    // Consent given later: forgetting the first pull lets the next run merge what was refused.
    await grantConsent(app.deps, { citizenId: citizenIdOf(plan), source: 'dfdg', categories: [...employment] });
    await app.deps.store.sync.forgetPulled('101', citizenIdOf(plan));
    await sync(app, 'dfdg');
    expect((await app.deps.store.plans.get('101', plan.id))!.interventions.length).toBeGreaterThan(0);
    await app.close();
  });

  it('refuses health data without explicit health consent and merges it with it', async () => {
    const app = await freshApp();
    const plan = await enrol(app.deps, population[3]!.cpr);
    const result = await sync(app, 'health');
    expect(result.stats.refusedByConsent).toBeGreaterThan(0);
    expect((await app.deps.store.plans.get('101', plan.id))!.interventions.filter((i) => i.sector === 'health')).toEqual([]);
    await grantConsent(app.deps, { citizenId: citizenIdOf(plan), source: 'health', categories: ['health'], explicitHealth: true });
    await app.deps.store.sync.forgetPulled('101', citizenIdOf(plan));
    const second = await sync(app, 'health');
    expect(second.stats.recordsMerged).toBeGreaterThan(0);
    const merged = (await app.deps.store.plans.get('101', plan.id))!;
    expect([...merged.goals, ...merged.interventions].every((e) => e.provenance.every((p) => p.kind !== 'source' || p.category === 'health'))).toBe(true);
    await app.close();
  });

  it('follows the change feed: an incremental run reads only what changed', async () => {
    const app = await freshApp();
    const plans = [];
    for (const citizen of population.slice(4, 8)) {
      const plan = await enrol(app.deps, citizen.cpr);
      await grantConsent(app.deps, { citizenId: citizenIdOf(plan), source: 'dfdg', categories: [...employment] });
      plans.push(plan);
    }
    await sync(app, 'dfdg');
    const quiet = await sync(app, 'dfdg');
    expect(quiet.stats.citizensPulled).toBe(0);
    expect(quiet.stats.recordsMerged).toBe(0);
    simulators.dfdg.mutate(1);
    const incremental = await sync(app, 'dfdg');
    expect(incremental.stats.citizensPulled).toBe(4);
    // Everyone's records changed; notices about citizens not enrolled here are dropped unread (R12).
    expect(incremental.stats.noticesNotEnrolled).toBeGreaterThan(0);
    expect(incremental.stats.recordsMerged).toBeGreaterThan(0);
    expect(incremental.stats.recordsSkippedAsMerged).toBe(0);
    const again = await sync(app, 'dfdg');
    expect(again.stats.recordsMerged).toBe(0);
    await app.close();
  });

  it('mid CPR key rotation, change notices still find their citizens under the retired key’s hashes', async () => {
    const app = await freshApp();
    for (const citizen of population.slice(4, 7)) {
      const plan = await enrol(app.deps, citizen.cpr);
      await grantConsent(app.deps, { citizenId: citizenIdOf(plan), source: 'dfdg', categories: [...employment] });
    }
    await sync(app, 'dfdg');
    // The service restarted with a new CPR_KEY and the old one retired; nothing re-keyed yet.
    const rotated = { ...app.deps, vault: await createCprVault('the-new-cpr-key-after-rotation', [TEST_CPR_KEY]) };
    simulators.dfdg.mutate(1);
    const incremental = await runSync(rotated, { tenant: '101', adapter: 'dfdg', trigger: 'test', mappings: allMappings });
    expect(incremental.stats.citizensPulled).toBe(3);
    expect(incremental.stats.recordsMerged).toBeGreaterThan(0);
    await app.close();
  });

  it('a crash mid-batch loses nothing and doubles nothing', async () => {
    const app = await freshApp();
    const plan = await enrol(app.deps, population[8]!.cpr);
    await grantConsent(app.deps, { citizenId: citizenIdOf(plan), source: 'dfdg', categories: [...employment] });
    const crashed = await sync(app, 'dfdg', {
      beforeWrite: () => {
        throw new Error('the store went away mid-batch');
      },
    });
    expect(crashed.status).toBe('failed');
    expect((await app.deps.store.plans.get('101', plan.id))!.version).toBe(plan.version);
    // The citizen's log shows no flow that did not happen…
    const flowsLogged = async () => (await app.deps.store.audit.list('101', { citizenId: citizenIdOf(plan) })).filter((r) => r.action === 'data.flowed').length;
    expect(await flowsLogged()).toBe(0);
    const rerun = await sync(app, 'dfdg');
    expect(rerun.status).toBe('succeeded');
    // …and the flow that did, once.
    expect(await flowsLogged()).toBe(1);
    expect(await app.deps.store.audit.verify('101')).toMatchObject({ ok: true });
    const merged = (await app.deps.store.plans.get('101', plan.id))!;
    const ids = [...merged.goals, ...merged.interventions, ...merged.agreements, ...merged.followUps].map((e) => e.id);
    expect(ids.length).toBeGreaterThan(0);
    expect(new Set(ids).size).toBe(ids.length);
    const third = await sync(app, 'dfdg');
    expect(third.stats.recordsMerged).toBe(0);
    expect((await app.deps.store.plans.get('101', plan.id))!.version).toBe(merged.version);
    await app.close();
  });

  it('a plan changed by someone else mid-merge is merged again on its new version, without reading again', async () => {
    const app = await freshApp();
    const plan = await enrol(app.deps, population[11]!.cpr);
    await grantConsent(app.deps, { citizenId: citizenIdOf(plan), source: 'dfdg', categories: [...employment] });
    let interfered = false;
    const pullsBefore = pullsOf();
    const result = await sync(app, 'dfdg', {
      beforeWrite: async () => {
        if (interfered) return;
        interfered = true;
        const current = (await app.deps.store.plans.get('101', plan.id))!;
        const edited = { ...current, purpose: 'Ændret af sagsbehandleren imens', version: current.version + 1, updatedAt: new Date(Date.now() + 1000).toISOString() };
        expect(await app.deps.store.plans.update(edited, current.version)).toBe(true);
      },
    });
    expect(result.status).toBe('succeeded');
    expect(interfered).toBe(true);
    expect(pullsOf() - pullsBefore).toBe(1);
    const merged = (await app.deps.store.plans.get('101', plan.id))!;
    expect(merged.purpose).toBe('Ændret af sagsbehandleren imens');
    expect(merged.interventions.length).toBeGreaterThan(0);
    expect(result.stats.recordsMerged).toBeGreaterThan(0);
    expect((await sync(app, 'dfdg')).stats.recordsMerged).toBe(0);
    await app.close();
  });

  it('a merge that lost its plan race and went again shows in the citizen’s log once, the chain intact', async () => {
    const app = await freshApp();
    const plan = await enrol(app.deps, population[11]!.cpr);
    await grantConsent(app.deps, { citizenId: citizenIdOf(plan), source: 'dfdg', categories: [...employment] });
    let interfered = false;
    const result = await sync(app, 'dfdg', {
      beforeWrite: async () => {
        if (interfered) return;
        interfered = true;
        await changePlanMeanwhile(app, plan.id, 'Ændret imens');
      },
    });
    expect(result.status).toBe('succeeded');
    expect(interfered).toBe(true);
    const logged = await app.deps.store.audit.list('101', { citizenId: citizenIdOf(plan) });
    expect(logged.filter((r) => r.action === 'data.flowed')).toHaveLength(1);
    expect(await app.deps.store.audit.verify('101')).toMatchObject({ ok: true });
    await app.close();
  });

  it('a citizen in two plans, one of them changed by someone else mid-merge: both plans get their records, each flow logged once, nothing counted twice', async () => {
    const countsOf = ({ catchUpMs: _catchUp, feedMs: _feed, ...counts }: Awaited<ReturnType<typeof sync>>['stats']) => counts;

    // What one undisturbed run does.
    const undisturbed = await freshApp();
    const expected = await inTwoPlans(undisturbed);
    const baseline = await sync(undisturbed, 'dfdg', { feedStartMarginMs: 0 });
    expect(baseline.status).toBe('succeeded');
    const expectedRecords = await recordsIn(undisturbed, expected.own.id, expected.grant.id);
    expect(expectedRecords.length).toBeGreaterThan(0);
    expect(await recordsIn(undisturbed, expected.family.id, expected.grant.id)).toEqual(expectedRecords);
    const expectedLog = { citizen: await flowsLogged(undisturbed, expected.citizenId), partner: await flowsLogged(undisturbed, expected.partnerId) };
    expect(expectedLog.citizen).toEqual(['data.flowed']);
    await undisturbed.close();

    // Whichever of the two plans is taken meanwhile (the engine merges into them in some order).
    for (const taken of ['family', 'own'] as const) {
      const app = await freshApp();
      const setUp = await inTwoPlans(app);
      let interfered = false;
      const result = await sync(app, 'dfdg', {
        feedStartMarginMs: 0,
        beforeWrite: async () => {
          if (interfered) return;
          interfered = true;
          await changePlanMeanwhile(app, setUp[taken].id, 'Ændret imens');
        },
      });
      expect(result.status, taken).toBe('succeeded');
      expect(interfered).toBe(true);
      expect((await app.deps.store.plans.get('101', setUp[taken].id))!.purpose).toBe('Ændret imens');
      expect(await recordsIn(app, setUp.own.id, setUp.grant.id), `own plan, ${taken} taken`).toEqual(expectedRecords);
      expect(await recordsIn(app, setUp.family.id, setUp.grant.id), `family plan, ${taken} taken`).toEqual(expectedRecords);
      expect({ citizen: await flowsLogged(app, setUp.citizenId), partner: await flowsLogged(app, setUp.partnerId) }, `${taken} taken`).toEqual(expectedLog);
      expect(await app.deps.store.audit.verify('101')).toMatchObject({ ok: true });
      expect(countsOf(result.stats), `${taken} taken`).toEqual(countsOf(baseline.stats));
      // Everything marked merged is in both plans: the next run finds nothing new.
      expect((await sync(app, 'dfdg')).stats.recordsMerged).toBe(0);
      await app.close();
    }
  });

  it('a citizen in two plans, one taken by someone else: a crash before the retry is written loses nothing and doubles nothing', async () => {
    for (const taken of ['family', 'own'] as const) {
      const app = await freshApp();
      const setUp = await inTwoPlans(app);
      let writes = 0;
      const crashed = await sync(app, 'dfdg', {
        feedStartMarginMs: 0,
        beforeWrite: async () => {
          writes++;
          if (writes === 1) await changePlanMeanwhile(app, setUp[taken].id, 'Ændret imens');
          else throw new Error('the process went away before the retry was written');
        },
      });
      expect(crashed.status).toBe('failed');
      expect(writes).toBe(2);
      const rerun = await sync(app, 'dfdg', { feedStartMarginMs: 0 });
      expect(rerun.status).toBe('succeeded');
      const records = await recordsIn(app, setUp.own.id, setUp.grant.id);
      expect(records.length, `${taken} taken`).toBeGreaterThan(0);
      expect(await recordsIn(app, setUp.family.id, setUp.grant.id), `${taken} taken`).toEqual(records);
      expect(await flowsLogged(app, setUp.citizenId), `${taken} taken`).toEqual(['data.flowed']);
      expect(await app.deps.store.audit.verify('101')).toMatchObject({ ok: true });
      expect((await sync(app, 'dfdg')).stats.recordsMerged).toBe(0);
      await app.close();
    }
  });

  it('a merge that never wins its plan race leaves no flow in the citizen’s log', async () => {
    const app = await freshApp();
    const plan = await enrol(app.deps, population[11]!.cpr);
    await grantConsent(app.deps, { citizenId: citizenIdOf(plan), source: 'dfdg', categories: [...employment] });
    const before = (await app.deps.store.plans.get('101', plan.id))!;
    let interferences = 0;
    const result = await sync(app, 'dfdg', {
      // Someone changes the plan before every write of the merge, first and retries alike.
      beforeWrite: async () => {
        interferences++;
        await changePlanMeanwhile(app, plan.id, `Ændret imens (${interferences})`);
      },
    });
    expect(result.status).toBe('failed');
    expect(interferences).toBe(4);
    expect((await app.deps.store.plans.get('101', plan.id))!.interventions.length).toBe(before.interventions.length);
    const logged = await app.deps.store.audit.list('101', { citizenId: citizenIdOf(plan) });
    expect(logged.filter((r) => r.action === 'data.flowed')).toEqual([]);
    expect(await app.deps.store.audit.verify('101')).toMatchObject({ ok: true });
    await app.close();
  });

  it('a rival write of the same plan version in the same millisecond is not taken for the merge’s own: the merge goes again', async () => {
    // A clock that stands still: the merge and its rival write the same version at the same instant.
    const instant = new Date('2026-11-24T08:00:00.000Z');
    const app = await startTestApp({ clock: { now: () => new Date(instant) }, adapters: { dfdg: createDfdgAdapter({ baseUrl: simulators.dfdg.url, organisation: { typeIdentifier: 'kommune', code: '101' } }) }, mappings: allMappings });
    const plan = await enrol(app.deps, population[12]!.cpr);
    await grantConsent(app.deps, { citizenId: citizenIdOf(plan), source: 'dfdg', categories: [...employment] });
    let interfered = false;
    const result = await sync(app, 'dfdg', {
      beforeWrite: async () => {
        if (interfered) return;
        interfered = true;
        await changePlanMeanwhile(app, plan.id, 'Skrevet i samme millisekund', instant);
      },
    });
    expect(result.status).toBe('succeeded');
    expect(interfered).toBe(true);
    const merged = (await app.deps.store.plans.get('101', plan.id))!;
    expect(merged.purpose).toBe('Skrevet i samme millisekund');
    expect(merged.interventions.length).toBeGreaterThan(0);
    // What is marked merged is in the plan: a later sync finds nothing new, and nothing is missing.
    expect((await sync(app, 'dfdg')).stats.recordsMerged).toBe(0);
    expect((await app.deps.store.plans.get('101', plan.id))!.interventions.length).toBe(merged.interventions.length);
    await app.close();
  });

  it('revocation removes what flowed on the grant; the next sync does not bring it back', async () => {
    const app = await freshApp();
    const plan = await enrol(app.deps, population[9]!.cpr);
    const grant = await grantConsent(app.deps, { citizenId: citizenIdOf(plan), source: 'dfdg', categories: [...employment] });
    await sync(app, 'dfdg');
    expect((await app.deps.store.plans.get('101', plan.id))!.interventions.length).toBeGreaterThan(0);
    const token = await app.harness.token({ tenant: '101', roles: ['caseworker'] });
    const revoke = await app.harness.request(`/v1/consents/${grant.id}/revoke`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: '{}' });
    expect(revoke.status).toBe(200);
    const after = (await app.deps.store.plans.get('101', plan.id))!;
    expect([...after.goals, ...after.interventions, ...after.agreements].filter((e) => e.provenance.some((p) => p.kind === 'source' && p.system === 'dfdg'))).toEqual([]);
    simulators.dfdg.mutate(1);
    const next = await sync(app, 'dfdg');
    expect(next.stats.refusedByConsent).toBeGreaterThan(0);
    expect((await app.deps.store.plans.get('101', plan.id))!.interventions).toEqual([]);
    await app.close();
  });

  it('a 16-year-old’s data rests on two grants: revoking the one its provenance does not name removes it too', async () => {
    const app = await freshApp();
    const caseworker = caseworkerOf('101');
    const service = planService(app.deps);
    const created = await service.create(caseworker, {
      cpr: population[18]!.cpr, origin: 'offered', role: 'parent', replaces: [], municipalities: [],
      family: { name: 'Familien Test', members: [{ cpr: youngPerson.cpr, role: 'young-person' }] },
    });
    await service.changeStatus(caseworker, created.id, { status: 'accepted' });
    const plan = (await service.changeStatus(caseworker, created.id, { status: 'active' }))!;
    const [parent, young] = membersOf(plan);
    const own = await grantConsent(app.deps, { citizenId: young!.citizenId, source: 'dfdg', categories: [...employment] });
    const parents = await grantConsent(app.deps, { citizenId: young!.citizenId, source: 'dfdg', categories: [...employment], grantedBy: { citizenId: parent!.citizenId, capacity: 'custody-holder' } });
    await sync(app, 'dfdg');
    const youngsData = (p: Plan) => [...p.goals, ...p.interventions, ...p.agreements].filter((e) => e.provenance.some((entry) => entry.kind === 'source' && [own.id, parents.id].includes(entry.consentRef ?? '')));
    const merged = youngsData((await app.deps.store.plans.get('101', plan.id))!);
    expect(merged.length).toBeGreaterThan(0);
    // The provenance names one of the two grants; revoke the other.
    const named = new Set(merged.flatMap((e) => e.provenance.flatMap((entry) => (entry.kind === 'source' ? [entry.consentRef] : []))));
    expect(named.size).toBe(1);
    const other = named.has(own.id) ? parents : own;
    const token = await app.harness.token({ tenant: '101', roles: ['caseworker'] });
    const revoke = await app.harness.request(`/v1/consents/${other.id}/revoke`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: '{}' });
    expect(revoke.status).toBe(200);
    expect(((await revoke.json()) as { plans: { planId: string }[] }).plans.map((p) => p.planId)).toEqual([plan.id]);
    expect(youngsData((await app.deps.store.plans.get('101', plan.id))!)).toEqual([]);
    await app.close();
  });

  it('the region’s care team arrives as the citizen’s contact, never as the coordinator, and leaves with the health consent', async () => {
    const app = await freshApp();
    const plans = [];
    for (const citizen of population.slice(10, 20)) {
      const plan = await enrol(app.deps, citizen.cpr);
      plans.push({ plan, grant: await grantConsent(app.deps, { citizenId: citizenIdOf(plan), source: 'health', categories: ['health'], explicitHealth: true }) });
    }
    await sync(app, 'health');
    const withTeam = [];
    for (const { plan, grant } of plans) {
      const stored = (await app.deps.store.plans.get('101', plan.id))!;
      expect(stored.coordinator).toEqual(plan.coordinator);
      if (stored.careTeams.length > 0) withTeam.push({ stored, grant });
    }
    expect(withTeam.length).toBeGreaterThan(0);
    const { stored, grant } = withTeam[0]!;
    expect(stored.careTeams.every((t) => t.sector === 'health' && t.provenance.every((p) => p.kind === 'source' && p.consentRef === grant.id))).toBe(true);
    const token = await app.harness.token({ tenant: '101', roles: ['caseworker'] });
    const revoke = await app.harness.request(`/v1/consents/${grant.id}/revoke`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: '{}' });
    expect(revoke.status).toBe(200);
    const after = (await app.deps.store.plans.get('101', stored.id))!;
    expect(after.careTeams).toEqual([]);
    expect(after.situationNotes).toEqual([]);
    await app.close();
  });

  it('a grant revoked while its data is being merged: the merge lands, then what flowed on the grant is removed at once', async () => {
    const app = await freshApp();
    const plan = await enrol(app.deps, population[10]!.cpr);
    const grant = await grantConsent(app.deps, { citizenId: citizenIdOf(plan), source: 'dfdg', categories: [...employment] });
    const token = await app.harness.token({ tenant: '101', roles: ['caseworker'] });
    // The consent gate said yes; the revocation comes before the chunk is written, and finds nothing to remove yet.
    const result = await sync(app, 'dfdg', {
      beforeWrite: async () => {
        const revoke = await app.harness.request(`/v1/consents/${grant.id}/revoke`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: '{}' });
        expect(((await revoke.json()) as { plans: unknown[] }).plans).toEqual([]);
      },
    });
    expect(result.stats.recordsMerged).toBeGreaterThan(0);
    const after = (await app.deps.store.plans.get('101', plan.id))!;
    expect([...after.goals, ...after.interventions, ...after.agreements].filter((e) => e.provenance.some((p) => p.kind === 'source' && p.consentRef === grant.id))).toEqual([]);
    const removals = (await app.deps.store.audit.list('101', { citizenId: citizenIdOf(plan) })).filter((a) => a.action === 'plan.consent-data-removed');
    expect(removals).toEqual([expect.objectContaining({ actor: 'sync-job:dfdg', targetId: plan.id })]);
    await app.close();
  });

  it('a round pulls several adapters in batches and writes each plan once, with a run per adapter', async () => {
    const app = await freshApp();
    const plans = [];
    for (const citizen of population.slice(12, 15)) {
      const plan = await enrol(app.deps, citizen.cpr);
      await grantConsent(app.deps, { citizenId: citizenIdOf(plan), source: 'dfdg', categories: [...employment] });
      await grantConsent(app.deps, { citizenId: citizenIdOf(plan), source: 'health', categories: ['health'], explicitHealth: true });
      plans.push(plan);
    }
    const batchesBefore = simulators.dfdg.operationCounts().PersonPlanDataBatchReadRequest ?? 0;
    const singlesBefore = pullsOf() - batchesBefore;
    const results = await runSyncRound(app.deps, { tenant: '101', adapters: ['dfdg', 'health'], trigger: 'test', mappings: allMappings, chunkSize: 10 });
    expect(results.map((r) => [r.adapter, r.status])).toEqual([['dfdg', 'succeeded'], ['health', 'succeeded']]);
    expect(new Set(results.map((r) => r.runId)).size).toBe(2);
    // Three citizens, one batch request, no single reads.
    expect((simulators.dfdg.operationCounts().PersonPlanDataBatchReadRequest ?? 0) - batchesBefore).toBe(1);
    expect(pullsOf() - (simulators.dfdg.operationCounts().PersonPlanDataBatchReadRequest ?? 0) - singlesBefore).toBe(0);
    for (const result of results) {
      expect(result.stats.citizensPulled).toBe(3);
      expect(result.stats.recordsMerged).toBeGreaterThan(0);
      expect(result.stats.elementsAdded).toBeGreaterThan(0);
    }
    for (const plan of plans) {
      const merged = (await app.deps.store.plans.get('101', plan.id))!;
      // Both sources' elements arrived in a single write of the plan.
      expect(merged.version).toBe(plan.version + 1);
      const systems = new Set([...merged.goals, ...merged.interventions].flatMap((e) => e.provenance.map((p) => (p.kind === 'source' ? p.system : p.kind))));
      expect([...systems].sort()).toEqual(['dfdg', 'health']);
    }
    const runs = await app.deps.store.sync.runs('101', { limit: 10 });
    expect(runs.filter((r) => results.some((x) => x.runId === r.id)).map((r) => r.status)).toEqual(['succeeded', 'succeeded']);
    // A second round finds nothing new at either source.
    const again = await runSyncRound(app.deps, { tenant: '101', adapters: ['dfdg', 'health'], trigger: 'test', mappings: allMappings });
    expect(again.map((r) => r.stats.recordsMerged)).toEqual([0, 0]);
    await app.close();
  });

  it('the catch-up walks the enrolled population a page at a time and reaches every citizen once', async () => {
    const app = await freshApp();
    const plans = [];
    for (const citizen of population.slice(12, 19)) {
      const plan = await enrol(app.deps, citizen.cpr);
      await grantConsent(app.deps, { citizenId: citizenIdOf(plan), source: 'dfdg', categories: [...employment] });
      plans.push(plan);
    }
    // Seven citizens in pages of two: four pages, the last one short.
    const [result] = await runSyncRound(app.deps, { tenant: '101', adapters: ['dfdg'], trigger: 'test', mappings: allMappings, catchUpPageSize: 2 });
    expect(result!.status).toBe('succeeded');
    expect(result!.stats.citizensPulled).toBe(7);
    for (const plan of plans) expect((await app.deps.store.plans.get('101', plan.id))!.version).toBe(plan.version + 1);
    await app.close();
  });

  it('the catch-up pages of several adapters: each citizen pulled once from each, merged in one write, whatever the page size', async () => {
    for (const pageSize of [1, 2, 3]) {
      const app = await freshApp();
      const plans: Plan[] = [];
      for (const citizen of population.slice(12, 17)) {
        const plan = await enrol(app.deps, citizen.cpr);
        await grantConsent(app.deps, { citizenId: citizenIdOf(plan), source: 'dfdg', categories: [...employment] });
        await grantConsent(app.deps, { citizenId: citizenIdOf(plan), source: 'health', categories: ['health', 'goals', 'interventions'] });
        plans.push(plan);
      }
      // One citizen listed as an active member of a second enrolled plan too (only written straight
      // into the store: the service keeps one open plan per citizen): two rows, more than a page of one holds.
      await app.deps.store.database.db.insert(planMembersTable).values({ tenant: '101', planId: plans[3]!.id, citizenId: citizenIdOf(plans[1]!), active: true });
      const results = await runSyncRound(app.deps, { tenant: '101', adapters: ['dfdg', 'health'], trigger: 'test', mappings: allMappings, catchUpPageSize: pageSize });
      expect(results.map((r) => r.status)).toEqual(['succeeded', 'succeeded']);
      expect(results.map((r) => r.stats.citizensPulled)).toEqual([5, 5]);
      // Both sources merged into each plan in one write.
      for (const plan of [plans[0]!, plans[2]!, plans[4]!]) expect((await app.deps.store.plans.get('101', plan.id))!.version, `page size ${pageSize}`).toBe(plan.version + 1);
      // Nothing left to catch up: a second round pulls no one.
      const again = await runSyncRound(app.deps, { tenant: '101', adapters: ['dfdg', 'health'], trigger: 'test', mappings: allMappings, catchUpPageSize: pageSize });
      expect(again.map((r) => r.stats.citizensPulled)).toEqual([0, 0]);
      await app.close();
    }
  });

  it('a caught-up adapter is not searched again until the enrolment changes: a new plan, a status change, a forgotten pull', async () => {
    const app = await freshApp();
    const searched: string[] = [];
    const plansStore = app.deps.store.plans;
    const search = plansStore.enrolledNotPulledFrom.bind(plansStore);
    plansStore.enrolledNotPulledFrom = async (tenant, adapter, from, limit) => {
      searched.push(adapter);
      return search(tenant, adapter, from, limit);
    };
    const round = async () => {
      searched.length = 0;
      const [result] = await runSyncRound(app.deps, { tenant: '101', adapters: ['dfdg'], trigger: 'test', mappings: allMappings, feedStartMarginMs: 0 });
      expect(result!.status).toBe('succeeded');
      // The run record tells IT staff the same.
      expect(result!.stats.catchUpSearched).toBe(searched.length > 0);
      return { pulled: result!.stats.citizensPulled, searched: searched.length > 0 };
    };
    const first = await enrol(app.deps, population[12]!.cpr);
    await grantConsent(app.deps, { citizenId: citizenIdOf(first), source: 'dfdg', categories: [...employment] });
    expect(await round()).toEqual({ pulled: 1, searched: true });
    expect(await round()).toEqual({ pulled: 0, searched: false });
    // A plan offered, not yet accepted: the search runs (a plan was added) and finds no one to pull (R12).
    const service = planService(app.deps);
    const offered = await service.create(caseworkerOf(), { cpr: population[13]!.cpr, origin: 'offered', role: 'adult', replaces: [], municipalities: [] });
    await grantConsent(app.deps, { citizenId: citizenIdOf(offered), source: 'dfdg', categories: [...employment] });
    expect(await round()).toEqual({ pulled: 0, searched: true });
    expect(await round()).toEqual({ pulled: 0, searched: false });
    // Accepted: enrolled by the status change alone.
    await service.changeStatus(caseworkerOf(), offered.id, { status: 'accepted' });
    expect(await round()).toEqual({ pulled: 1, searched: true });
    // Forgetting a first pull (as a new consent does) makes the citizen due in full again.
    await app.deps.store.sync.forgetPulled('101', citizenIdOf(first));
    expect(await round()).toEqual({ pulled: 1, searched: true });
    expect(await round()).toEqual({ pulled: 0, searched: false });
    await app.close();
  });

  it('a citizen enrolled while the catch-up runs is caught up by the next run', async () => {
    const app = await freshApp();
    const early = await enrol(app.deps, population[12]!.cpr);
    await grantConsent(app.deps, { citizenId: citizenIdOf(early), source: 'dfdg', categories: [...employment] });
    let late: Plan | undefined;
    const [first] = await runSyncRound(app.deps, {
      tenant: '101', adapters: ['dfdg'], trigger: 'test', mappings: allMappings, feedStartMarginMs: 0,
      // After the catch-up has read its page, before its write lands.
      beforeWrite: async () => {
        if (late) return;
        late = await enrol(app.deps, population[14]!.cpr);
        await grantConsent(app.deps, { citizenId: citizenIdOf(late), source: 'dfdg', categories: [...employment] });
      },
    });
    expect(first!.stats.citizensPulled).toBe(1);
    const [second] = await runSyncRound(app.deps, { tenant: '101', adapters: ['dfdg'], trigger: 'test', mappings: allMappings });
    expect(second!.stats.citizensPulled).toBe(1);
    expect((await app.deps.store.plans.get('101', late!.id))!.version).toBe(late!.version + 1);
    await app.close();
  });

  it('a citizen whose catch-up pull failed is read in full later, even if the feed brought a change for them meanwhile', async () => {
    let failing: string | undefined;
    // The catch-up's batch (no position) leaves the citizen out; the feed's (a position) does not.
    const app = await appLeavingOut((_subjects, options) => (options?.since == null ? failing : undefined));
    const plans = [];
    for (const citizen of population.slice(15, 17)) {
      const plan = await enrol(app.deps, citizen.cpr);
      await grantConsent(app.deps, { citizenId: citizenIdOf(plan), source: 'dfdg', categories: [...employment] });
      plans.push(plan);
    }
    failing = citizenIdOf(plans[0]!);
    // Changed at the source just now: the first run's feed, which starts before its catch-up, reads it.
    simulators.dfdg.mutate(1);
    const [first] = await runSyncRound(app.deps, { tenant: '101', adapters: ['dfdg'], trigger: 'test', mappings: allMappings });
    expect(first!.stats.pullErrors).toBe(1);
    expect(first!.stats.changeNotices).toBeGreaterThan(0);
    failing = undefined;
    // The feed's pull read only what changed: the citizen is still due a full read.
    const [second] = await runSyncRound(app.deps, { tenant: '101', adapters: ['dfdg'], trigger: 'test', mappings: allMappings });
    expect(second!.stats).toMatchObject({ pullErrors: 0, citizensPulled: 1 });
    const [third] = await runSyncRound(app.deps, { tenant: '101', adapters: ['dfdg'], trigger: 'test', mappings: allMappings });
    expect(third!.stats.citizensPulled).toBe(0);
    await app.close();
  });

  it('a run bounded in citizens catches up over several runs and follows the feed a page at a time, losing nothing', async () => {
    const app = await freshApp();
    const plans: Plan[] = [];
    for (const citizen of population.slice(12, 17)) {
      const plan = await enrol(app.deps, citizen.cpr);
      await grantConsent(app.deps, { citizenId: citizenIdOf(plan), source: 'dfdg', categories: [...employment] });
      plans.push(plan);
    }
    const bounded = async (extra: Partial<Parameters<typeof runSync>[1]> = {}) => (await sync(app, 'dfdg', { maxCitizensPerRun: 2, feedStartMarginMs: 0, ...extra })).stats;
    // Catch-up: 2, 2, 1 — not complete (so searched again) until the last.
    const catchUps = [await bounded(), await bounded(), await bounded(), await bounded()];
    expect(catchUps.map((s) => [s.citizensPulled, s.stoppedAtLimit, s.catchUpSearched])).toEqual([[2, true, true], [2, true, true], [1, false, true], [0, false, false]]);
    for (const plan of plans) expect((await app.deps.store.plans.get('101', plan.id))!.version).toBe(plan.version + 1);
    // Feed: every record changes; pages of two notices, stopping after each page that reaches the bound.
    simulators.dfdg.mutate(1);
    let runs = 0;
    for (let stats = await bounded({ pageSize: 2 }); ; stats = await bounded({ pageSize: 2 })) {
      runs++;
      if (!stats.stoppedAtLimit) break;
      expect(runs).toBeLessThan(20);
    }
    expect(runs).toBeGreaterThan(1);
    // Nothing lost: every merged dfdg element now rests on a changed version, and nothing is left.
    for (const plan of plans) {
      const merged = (await app.deps.store.plans.get('101', plan.id))!;
      const versions = [...merged.goals, ...merged.interventions].flatMap((e) => e.provenance.flatMap((p) => (p.kind === 'source' ? [p.recordVersion] : [])));
      expect(versions.length).toBeGreaterThan(0);
      expect(versions.every((v) => v !== '1')).toBe(true);
    }
    expect((await sync(app, 'dfdg')).stats.recordsMerged).toBe(0);
    await app.close();
  });

  it('a feed page with more enrolled citizens than the bound: each run takes at most the bound, the next goes on where it stopped, nothing lost or read twice', async () => {
    // Two apps on the same source and citizens: one unbounded, one at two citizens per run.
    const [unbounded, bounded] = [await freshApp(), await freshApp()];
    for (const app of [unbounded, bounded])
      for (const citizen of population.slice(12, 17)) {
        const plan = await enrol(app.deps, citizen.cpr);
        await grantConsent(app.deps, { citizenId: citizenIdOf(plan), source: 'dfdg', categories: [...employment] });
      }
    for (const app of [unbounded, bounded]) expect((await sync(app, 'dfdg', { feedStartMarginMs: 0 })).stats.citizensPulled).toBe(5);
    // Every record changes: one page of the default size holds all five citizens' notices.
    simulators.dfdg.mutate(1);
    const all = (await sync(unbounded, 'dfdg')).stats;
    expect(all).toMatchObject({ citizensPulled: 5, stoppedAtLimit: false });
    const runs: { citizensPulled: number; recordsMerged: number; stoppedAtLimit: boolean }[] = [];
    do {
      const { citizensPulled, recordsMerged, stoppedAtLimit } = (await sync(bounded, 'dfdg', { maxCitizensPerRun: 2 })).stats;
      runs.push({ citizensPulled, recordsMerged, stoppedAtLimit });
    } while (runs.at(-1)!.stoppedAtLimit && runs.length < 10);
    expect(runs.map((r) => r.citizensPulled)).toEqual([2, 2, 1]);
    // Each citizen read once and each changed record merged once, as by the unbounded run.
    expect(runs.reduce((n, r) => n + r.recordsMerged, 0)).toBe(all.recordsMerged);
    const elementsOf = async (app: typeof bounded) =>
      (await Promise.all((await app.deps.store.plans.summaries('101', {}, 10, 0)).map(async (s) => (await app.deps.store.plans.get('101', s.id))!)))
        .flatMap((plan) => [...plan.goals, ...plan.interventions].map((e) => `${e.title}|${e.provenance.map((p) => (p.kind === 'source' ? `${p.recordId}@${p.recordVersion}` : '')).join(',')}`))
        .sort();
    expect(await elementsOf(bounded)).toEqual(await elementsOf(unbounded));
    expect((await sync(bounded, 'dfdg', { maxCitizensPerRun: 2 })).stats).toMatchObject({ citizensPulled: 0, recordsMerged: 0, stoppedAtLimit: false });
    await unbounded.close();
    await bounded.close();
  });

  it('a bounded round whose adapters never pulled different citizens catches up at most the bound per run', async () => {
    const app = await freshApp();
    const citizenIds: string[] = [];
    for (const citizen of population.slice(0, 6)) citizenIds.push(citizenIdOf(await enrol(app.deps, citizen.cpr)));
    citizenIds.sort();
    // Interleaved: DFDG has pulled every second citizen, the region the others.
    const pulledBy = (adapter: string, offset: number) => citizenIds.filter((_, i) => i % 2 === offset).map((citizenId) => ({ adapter, citizenId }));
    await app.deps.store.batch(app.deps.store.sync.pulledManyStatements('101', new Date().toISOString(), [...pulledBy('dfdg', 1), ...pulledBy('health', 0)]));
    const citizensPerRound: number[] = [];
    for (let stopped = true; stopped && citizensPerRound.length < 10; ) {
      const results = await runSyncRound(app.deps, { tenant: '101', adapters: ['dfdg', 'health'], trigger: 'test', mappings: allMappings, maxCitizensPerRun: 3, feedStartMarginMs: 0 });
      // Each citizen is due at one adapter only, so the pulls add up to the citizens read.
      citizensPerRound.push(results.reduce((n, r) => n + r.stats.citizensPulled + r.stats.citizensUnknownAtSource, 0));
      stopped = results.some((r) => r.stats.stoppedAtLimit);
    }
    expect(citizensPerRound).toEqual([3, 3]);
    await app.close();
  });

  it('a bounded round keeps one bound for all its adapters’ feeds together, each feed taking its share every round, nothing lost or read twice', async () => {
    const [unbounded, bounded] = [await freshApp(), await freshApp()];
    for (const app of [unbounded, bounded])
      for (const citizen of population.slice(12, 17)) {
        const plan = await enrol(app.deps, citizen.cpr);
        await grantConsent(app.deps, { citizenId: citizenIdOf(plan), source: 'dfdg', categories: [...employment] });
        await grantConsent(app.deps, { citizenId: citizenIdOf(plan), source: 'health', categories: ['health'], explicitHealth: true });
      }
    const round = (app: typeof bounded, maxCitizensPerRun?: number) =>
      runSyncRound(app.deps, { tenant: '101', adapters: ['dfdg', 'health'], trigger: 'test', mappings: allMappings, feedStartMarginMs: 0, ...(maxCitizensPerRun ? { maxCitizensPerRun } : {}) });
    for (const app of [unbounded, bounded]) await round(app);
    // Both sources change every record: each feed has every citizen to pull again.
    simulators.dfdg.mutate(1);
    await simulators.health.mutate(1);
    const all = (await round(unbounded)).map((r) => r.stats);
    expect(all.every((s) => s.citizensPulled > 1)).toBe(true);
    const rounds: { pulled: number[]; merged: number }[] = [];
    for (let stopped = true; stopped && rounds.length < 20; ) {
      const results = await round(bounded, 2);
      rounds.push({ pulled: results.map((r) => r.stats.citizensPulled), merged: results.reduce((n, r) => n + r.stats.recordsMerged, 0) });
      stopped = results.some((r) => r.stats.stoppedAtLimit);
    }
    // Two citizens a round for the two feeds together: one each while each has citizens left.
    const expected = Array.from({ length: Math.max(...all.map((s) => s.citizensPulled)) }, (_, i) => all.map((s) => (i < s.citizensPulled ? 1 : 0)));
    expect(rounds.map((r) => r.pulled)).toEqual(expected);
    expect(rounds.reduce((n, r) => n + r.merged, 0)).toBe(all.reduce((n, s) => n + s.recordsMerged, 0));
    const elementsOf = async (app: typeof bounded) =>
      (await Promise.all((await app.deps.store.plans.summaries('101', {}, 10, 0)).map(async (s) => (await app.deps.store.plans.get('101', s.id))!)))
        .flatMap((plan) => [...plan.goals, ...plan.interventions].map((e) => `${e.title}|${e.provenance.map((p) => (p.kind === 'source' ? `${p.system}:${p.recordId}@${p.recordVersion}` : '')).join(',')}`))
        .sort();
    expect(await elementsOf(bounded)).toEqual(await elementsOf(unbounded));
    expect((await round(bounded, 2)).map((r) => [r.stats.citizensPulled, r.stats.stoppedAtLimit])).toEqual([[0, false], [0, false]]);
    await unbounded.close();
    await bounded.close();
  });

  it('a bounded run counts the catch-up and the feed against one bound, and the next runs go on with both', async () => {
    const app = await freshApp();
    const plans: Plan[] = [];
    const enrolWithConsent = async (citizen: SyntheticCitizen) => {
      const plan = await enrol(app.deps, citizen.cpr);
      await grantConsent(app.deps, { citizenId: citizenIdOf(plan), source: 'dfdg', categories: [...employment] });
      plans.push(plan);
    };
    for (const citizen of population.slice(12, 17)) await enrolWithConsent(citizen);
    expect((await sync(app, 'dfdg', { feedStartMarginMs: 0 })).stats.citizensPulled).toBe(5);
    // The five change at the source (the feed), and three more are enrolled (the catch-up).
    simulators.dfdg.mutate(1);
    for (const citizen of population.slice(0, 3)) await enrolWithConsent(citizen);
    const taken: number[] = [];
    for (let stopped = true; stopped && taken.length < 20; ) {
      const { stats } = await sync(app, 'dfdg', { maxCitizensPerRun: 2 });
      taken.push(stats.citizensPulled + stats.citizensUnknownAtSource);
      stopped = stats.stoppedAtLimit;
    }
    expect(Math.max(...taken)).toBe(2);
    expect(taken.reduce((n, t) => n + t, 0)).toBeGreaterThanOrEqual(8);
    // Everyone's records arrived, each at its changed version, and nothing is left for an unbounded run.
    for (const plan of plans) {
      const merged = (await app.deps.store.plans.get('101', plan.id))!;
      const versions = [...merged.goals, ...merged.interventions].flatMap((e) => e.provenance.flatMap((p) => (p.kind === 'source' ? [p.recordVersion] : [])));
      expect(versions.length).toBeGreaterThan(0);
      expect(versions.every((v) => v !== '1')).toBe(true);
    }
    expect((await sync(app, 'dfdg')).stats).toMatchObject({ citizensPulled: 0, recordsMerged: 0 });
    await app.close();
  });

  it('a bounded catch-up goes on past citizens whose pull keeps failing: the others are caught up, the failing ones retried each time round', async () => {
    const real = createDfdgAdapter({ baseUrl: simulators.dfdg.url, organisation: { typeIdentifier: 'kommune', code: '101' } });
    let failing = new Set<string>();
    const attempts = new Map<string, number>();
    const timedOut = () => Promise.reject(new AdapterError('timed out', false, 'timeout'));
    const app = await startTestApp({
      adapters: {
        dfdg: {
          ...real,
          // The source times out for the failing citizens, in a batch as alone.
          pullMany: async (subjects, options) => (subjects.some((s) => failing.has(s.citizenId)) ? timedOut() : real.pullMany(subjects, options)),
          pull: async (subject, since) => {
            if (!failing.has(subject.citizenId)) return real.pull(subject, since);
            attempts.set(subject.citizenId, (attempts.get(subject.citizenId) ?? 0) + 1);
            return timedOut();
          },
        },
      },
      mappings: allMappings,
    });
    const plans: Plan[] = [];
    for (const citizen of population.slice(6, 12)) {
      const plan = await enrol(app.deps, citizen.cpr);
      await grantConsent(app.deps, { citizenId: citizenIdOf(plan), source: 'dfdg', categories: [...employment] });
      plans.push(plan);
    }
    // The first two in citizen id order: the catch-up meets them first.
    const inIdOrder = [...plans].sort((a, b) => (citizenIdOf(a) < citizenIdOf(b) ? -1 : 1));
    failing = new Set(inIdOrder.slice(0, 2).map(citizenIdOf));
    const bounded = async () => (await sync(app, 'dfdg', { maxCitizensPerRun: 2, feedStartMarginMs: 0 })).stats;
    const runs = [];
    for (let i = 0; i < 6; i++) runs.push(await bounded());
    expect(runs.every((s) => s.catchUpSearched)).toBe(true);
    for (const plan of inIdOrder.slice(2)) expect((await app.deps.store.plans.get('101', plan.id))!.version, 'caught up past the failing citizens').toBe(plan.version + 1);
    // Never skipped: each failing citizen was tried again, in more than one run.
    for (const id of failing) expect(attempts.get(id)).toBeGreaterThanOrEqual(2);
    expect(runs.reduce((n, s) => n + s.pullErrors, 0)).toBeGreaterThanOrEqual(4);
    // Once their source answers, they are caught up too, and the catch-up is complete.
    failing = new Set();
    for (let stats = await bounded(), i = 0; stats.stoppedAtLimit && i < 10; stats = await bounded(), i++);
    for (const plan of inIdOrder.slice(0, 2)) expect((await app.deps.store.plans.get('101', plan.id))!.version).toBe(plan.version + 1);
    expect(await bounded()).toMatchObject({ catchUpSearched: false, citizensPulled: 0 });
    await app.close();
  });

  it('a batch pull that fails as a whole is pulled one citizen at a time instead', async () => {
    const real = createDfdgAdapter({ baseUrl: simulators.dfdg.url, organisation: { typeIdentifier: 'kommune', code: '101' } });
    const app = await startTestApp({
      adapters: { dfdg: { ...real, pullMany: async () => Promise.reject(new AdapterError('the batch service is down', false, 'unavailable')) } },
      mappings: allMappings,
    });
    for (const citizen of population.slice(15, 18)) {
      const plan = await enrol(app.deps, citizen.cpr);
      await grantConsent(app.deps, { citizenId: citizenIdOf(plan), source: 'dfdg', categories: [...employment] });
    }
    const result = await sync(app, 'dfdg');
    expect(result.status).toBe('succeeded');
    expect(result.stats.batchFallbacks).toBe(1);
    expect(result.stats.citizensPulled).toBe(3);
    expect(result.stats.pullErrors).toBe(0);
    expect(result.stats.recordsMerged).toBeGreaterThan(0);
    await app.close();
  });

  it('a batch answer that leaves a citizen out counts one pull error and leaves them for the next run', async () => {
    let dropOne = true;
    const app = await appLeavingOut((subjects) => (dropOne ? subjects[0]!.citizenId : undefined));
    for (const citizen of population.slice(15, 18)) {
      const plan = await enrol(app.deps, citizen.cpr);
      await grantConsent(app.deps, { citizenId: citizenIdOf(plan), source: 'dfdg', categories: [...employment] });
    }
    // The feed starts now: earlier tests' changes at the shared simulator stay out of the counts.
    const first = await sync(app, 'dfdg', { feedStartMarginMs: 0 });
    expect(first.stats).toMatchObject({ pullErrors: 1, citizensPulled: 2, batchFallbacks: 0 });
    dropOne = false;
    const second = await sync(app, 'dfdg');
    expect(second.stats).toMatchObject({ pullErrors: 0, citizensPulled: 1 });
    expect(second.stats.recordsMerged).toBeGreaterThan(0);
    await app.close();
  });

  it('after a failed batch, a citizen whose single pull fails too is one pull error, not two', async () => {
    const real = createDfdgAdapter({ baseUrl: simulators.dfdg.url, organisation: { typeIdentifier: 'kommune', code: '101' } });
    const app = await startTestApp({ adapters: { dfdg: { ...real, pullMany: async () => Promise.reject(new AdapterError('the batch service is down', false, 'unavailable')) } }, mappings: allMappings });
    const plans = [];
    for (const citizen of population.slice(15, 18)) {
      const plan = await enrol(app.deps, citizen.cpr);
      await grantConsent(app.deps, { citizenId: citizenIdOf(plan), source: 'dfdg', categories: [...employment] });
      plans.push(plan);
    }
    const failing = citizenIdOf(plans[0]!);
    app.deps.adapters.dfdg!.pull = async (subject, cursor) => (subject.citizenId === failing ? Promise.reject(new AdapterError('timed out', false, 'timeout')) : real.pull(subject, cursor));
    const result = await sync(app, 'dfdg', { feedStartMarginMs: 0 });
    expect(result.stats).toMatchObject({ batchFallbacks: 1, pullErrors: 1, citizensPulled: 2 });
    await app.close();
  });

  it('a first run starts the feeds where its catch-up started: what changes meanwhile is read on the next run', async () => {
    const app = await freshApp();
    const plan = await enrol(app.deps, population[18]!.cpr);
    await grantConsent(app.deps, { citizenId: citizenIdOf(plan), source: 'dfdg', categories: [...employment] });
    await grantConsent(app.deps, { citizenId: citizenIdOf(plan), source: 'health', categories: ['health'], explicitHealth: true });
    let changedDuringCatchUp = false;
    const first = await runSyncRound(app.deps, {
      tenant: '101', adapters: ['dfdg', 'health'], trigger: 'test', mappings: allMappings, feedStartMarginMs: 0,
      beforeWrite: async () => {
        if (changedDuringCatchUp) return;
        changedDuringCatchUp = true;
        // The sources change after we read them and before our write lands.
        simulators.dfdg.mutate(1);
        await simulators.health.mutate(1);
      },
    });
    expect(first.map((r) => r.status)).toEqual(['succeeded', 'succeeded']);
    expect(changedDuringCatchUp).toBe(true);
    for (const result of first) {
      // Read once by the catch-up, and again from the feed, which began before the change.
      expect(result.stats.changeNotices).toBeGreaterThan(0);
      expect(result.stats.citizensPulled).toBe(2);
    }
    const merged = (await app.deps.store.plans.get('101', plan.id))!;
    const versions = [...merged.goals, ...merged.interventions].flatMap((e) => e.provenance.flatMap((p) => (p.kind === 'source' ? [p.recordVersion] : [])));
    expect(versions.length).toBeGreaterThan(0);
    expect(versions.every((v) => v !== '1')).toBe(true);
    const second = await runSyncRound(app.deps, { tenant: '101', adapters: ['dfdg', 'health'], trigger: 'test', mappings: allMappings });
    expect(second.map((r) => r.stats.recordsMerged)).toEqual([0, 0]);
    await app.close();
  });

  it('speaks to STAR for the municipality it syncs: ActiveOrganisation carries each tenant’s kommunekode', async () => {
    const config = loadConfig({ NODE_ENV: 'test', DFDG_URL: simulators.dfdg.url, JWT_SECRET: TEST_JWT_SECRET, CPR_KEY: TEST_CPR_KEY });
    const app = await startTestApp({ adapters: adaptersFromConfig(config), adaptersFor: tenantAdapters(config), mappings: allMappings });
    for (const [tenant, citizen] of [['101', population[19]!], ['751', population[12]!]] as const) {
      const plan = await enrol(app.deps, citizen.cpr, tenant);
      await grantConsent(app.deps, { tenant, citizenId: citizenIdOf(plan), source: 'dfdg', categories: [...employment] });
    }
    const codesDuring = async (tenant: string) => {
      // The request log keeps the last 200 requests only: the run's are counted by the (uncapped) operation counts.
      const requestsSoFar = () => Object.values(simulators.dfdg.operationCounts()).reduce((n, c) => n + (c ?? 0), 0);
      const before = requestsSoFar();
      const result = await runSync(app.deps, { tenant, adapter: 'dfdg', trigger: 'test', mappings: allMappings });
      expect(result.status).toBe('succeeded');
      expect(result.stats.recordsMerged).toBeGreaterThan(0);
      return new Set(simulators.dfdg.requestLog().slice(before - requestsSoFar()).map((r) => (r.soapHeader?.ActiveOrganisation as { OrganisationCode?: unknown } | undefined)?.OrganisationCode));
    };
    expect([...(await codesDuring('101'))]).toEqual(['101']);
    expect([...(await codesDuring('751'))]).toEqual(['751']);
    await app.close();
  });

  it('exposes runs and quarantine to IT staff, not to caseworkers', async () => {
    const app = await freshApp();
    const plan = await enrol(app.deps, population[10]!.cpr);
    await grantConsent(app.deps, { citizenId: citizenIdOf(plan), source: 'dfdg', categories: [...employment] });
    simulators.dfdg.injectRecord(population[10]!.cpr, 'ActivityItem', '<ActivityCoreItem><ActivityIdentifier>not-a-guid</ActivityIdentifier></ActivityCoreItem>');
    const it = await app.harness.token({ tenant: '101', roles: ['it-staff'] });
    const run = await app.harness.request('/v1/sync/dfdg/run', { method: 'POST', headers: { authorization: `Bearer ${it}` } });
    expect(run.status).toBe(200);
    const body = (await run.json()) as { status: string; stats: { quarantined: number } };
    expect(body.status).toBe('succeeded');
    expect(body.stats.quarantined).toBeGreaterThan(0);
    const runs = (await (await app.harness.request('/v1/sync/runs', { headers: { authorization: `Bearer ${it}` } })).json()) as { runs: { adapter: string; status: string }[] };
    expect(runs.runs[0]).toMatchObject({ adapter: 'dfdg', status: 'succeeded' });
    const quarantine = (await (await app.harness.request('/v1/sync/quarantine', { headers: { authorization: `Bearer ${it}` } })).json()) as { records: { reason: string; recordType: string }[] };
    expect(quarantine.records.length).toBeGreaterThan(0);
    expect(quarantine.records[0]!.reason.length).toBeGreaterThan(5);
    expect(JSON.stringify(quarantine)).not.toContain(population[10]!.cpr);
    const caseworker = await app.harness.token({ tenant: '101', roles: ['caseworker'] });
    expect((await app.harness.request('/v1/sync/runs', { headers: { authorization: `Bearer ${caseworker}` } })).status).toBe(403);
    await app.close();
  });
});

describe('a CPR ciphertext copied into another citizen’s row', () => {
  it('is refused: the sync skips that citizen, counts and logs it, and pulls no one’s data into their plan — in the same municipality or another', async () => {
    const app = await freshApp();
    const owner = await enrol(app.deps, population[15]!.cpr);
    const sameMunicipality = await enrol(app.deps, population[16]!.cpr);
    const otherMunicipality = await enrol(app.deps, population[17]!.cpr, '751');
    for (const [tenant, plan] of [['101', owner], ['101', sameMunicipality], ['751', otherMunicipality]] as const)
      await grantConsent(app.deps, { tenant, citizenId: citizenIdOf(plan), source: 'dfdg', categories: [...employment] });
    // Someone who can write the database moves the owner's ciphertext into the others' rows.
    const ownerCipher = (await app.deps.store.citizens.get('101', citizenIdOf(owner)))!.cprCipher;
    for (const plan of [sameMunicipality, otherMunicipality]) await app.database.db.update(citizensTable).set({ cprCipher: ownerCipher }).where(eq(citizensTable.id, citizenIdOf(plan)));
    const linesBefore = app.logger.lines.length;

    // The feeds start now: other tests' changes at the source are not read here.
    const here = await sync(app, 'dfdg', { feedStartMarginMs: 0 });
    expect(here.status).toBe('succeeded');
    expect(here.stats).toMatchObject({ citizensPulled: 1, pullErrors: 1 });
    const there = await runSync(app.deps, { tenant: '751', adapter: 'dfdg', trigger: 'test', mappings: allMappings, feedStartMarginMs: 0 });
    expect(there.status).toBe('succeeded');
    expect(there.stats).toMatchObject({ citizensPulled: 0, pullErrors: 1 });

    const elementsOf = async (tenant: string, plan: Plan) => {
      const stored = (await app.deps.store.plans.get(tenant, plan.id))!;
      return [...stored.goals, ...stored.interventions, ...stored.agreements];
    };
    expect((await elementsOf('101', owner)).length).toBeGreaterThan(0);
    expect(await elementsOf('101', sameMunicipality)).toEqual([]);
    expect(await elementsOf('751', otherMunicipality)).toEqual([]);
    // One warning each, naming the municipality and the citizen row (by id; the log's CPR mask may hide digits of it).
    const refusals = app.logger.lines.slice(linesBefore).filter((line) => line.includes('sealed for another citizen or municipality')).map((line) => JSON.parse(line) as { tenant: string; citizenId: string });
    expect(refusals.map((r) => r.tenant).sort()).toEqual(['101', '751']);
    expect(refusals.every((r) => r.citizenId.length > 0)).toBe(true);
    for (const citizen of population.slice(15, 18)) expect(app.logger.lines.some((line) => line.includes(citizen.cpr))).toBe(false);
    // Not caught up: the next run tries them again (and refuses again) rather than forgetting them.
    expect((await sync(app, 'dfdg')).stats).toMatchObject({ catchUpSearched: true, pullErrors: 1 });
    await app.close();
  });
});
