/**
 * Changes at a source are read however the citizen's enrolment or the feed went meanwhile (F1,
 * R18), and data merged on a legal basis ended during the merge leaves the plan (R10/R11, S3).
 */
import { describe, expect, it } from 'vitest';
import { AdapterError, type PullManyOptions, type PullSubject } from '../../adapters/adapter';
import { createDfdgAdapter } from '../../adapters/dfdg';
import { generatePopulation } from '../../adapters/shared/population';
import { consentService } from '../../src/consent/service';
import { membersOf, type Plan } from '../../src/model';
import { planService } from '../../src/plans/service';
import { allMappings } from '../../src/sync/all-mappings';
import { runSync } from '../../src/sync/engine';
import { startTestApp } from '../support/node-app';
import { caseworkerOf, enrol, grantConsent } from '../support/seed';
import { dfdgAndHealthSimulators } from '../support/sector-simulators';

const population = generatePopulation(4, 777).map((c) => ({ ...c, sectors: { employment: true, education: false, social: false, health: true } }));
const simulators = dfdgAndHealthSimulators(population);
const citizenIdOf = (plan: Plan) => membersOf(plan)[0]!.citizenId;
const employment = ['plan-core', 'employment', 'goals', 'interventions'] as const;
const organisation = { typeIdentifier: 'kommune', code: '101' } as const;
const fresh = () => startTestApp({ adapters: { dfdg: createDfdgAdapter({ baseUrl: simulators.dfdg.url, organisation }) }, mappings: allMappings });
type App = Awaited<ReturnType<typeof fresh>>;
const cw = caseworkerOf();
const syncOf = (app: App) => () => runSync(app.deps, { tenant: '101', adapter: 'dfdg', trigger: 'test', mappings: allMappings, feedStartMarginMs: 0 });
/** The source record versions the plan's interventions rest on. */
const versions = async (app: App, planId: string) =>
  JSON.stringify((await app.deps.store.plans.get('101', planId))!.interventions.map((i) => i.provenance.map((p) => (p.kind === 'source' ? `${p.recordId}@${p.recordVersion}` : ''))).sort());

describe('changes are not skipped', () => {
  it('F1: a feed pull that fails must not let the cursor skip the change for good', async () => {
    let failFeedFor: string | undefined;
    const real = createDfdgAdapter({ baseUrl: simulators.dfdg.url, organisation });
    const unavailable = () => new AdapterError('source unavailable', false, '503');
    const adapter = {
      ...real,
      pull: async (subject: PullSubject, since?: string | null) => {
        if (since != null && subject.citizenId === failFeedFor) throw unavailable();
        return real.pull(subject, since);
      },
      pullMany: async (subjects: readonly PullSubject[], options?: PullManyOptions) => {
        if (options?.since != null && subjects.some((s) => s.citizenId === failFeedFor)) throw unavailable();
        return real.pullMany(subjects, options);
      },
    };
    const app = await startTestApp({ adapters: { dfdg: adapter }, mappings: allMappings });
    const sync = syncOf(app);
    const plan = await enrol(app.deps, population[0]!.cpr);
    await grantConsent(app.deps, { citizenId: citizenIdOf(plan), source: 'dfdg', categories: [...employment] });
    expect((await sync()).stats.recordsMerged).toBeGreaterThan(0);
    const before = await versions(app, plan.id);
    simulators.dfdg.mutate(1);
    failFeedFor = citizenIdOf(plan);
    const failed = await sync();
    expect(failed.stats.pullErrors).toBe(1);
    failFeedFor = undefined;
    const next = await sync();
    const again = await sync();
    expect(next.stats.recordsMerged + again.stats.recordsMerged).toBeGreaterThan(0);
    expect(await versions(app, plan.id)).not.toBe(before);
    await app.close();
  });

  it('F1: a feed batch answer that leaves a citizen out does not let the cursor skip their change either', async () => {
    let leaveOut: string | undefined;
    const real = createDfdgAdapter({ baseUrl: simulators.dfdg.url, organisation });
    const pullMany = async (subjects: readonly PullSubject[], options?: PullManyOptions) => {
      const results = await real.pullMany(subjects, options);
      if (options?.since != null && leaveOut) results.delete(leaveOut);
      return results;
    };
    const app = await startTestApp({ adapters: { dfdg: { ...real, pullMany } }, mappings: allMappings });
    const sync = syncOf(app);
    const plans: Plan[] = [];
    for (const citizen of population.slice(0, 2)) {
      const plan = await enrol(app.deps, citizen.cpr);
      await grantConsent(app.deps, { citizenId: citizenIdOf(plan), source: 'dfdg', categories: [...employment] });
      plans.push(plan);
    }
    await sync();
    const before = await versions(app, plans[0]!.id);
    simulators.dfdg.mutate(1);
    leaveOut = citizenIdOf(plans[0]!);
    expect((await sync()).stats.pullErrors).toBe(1);
    leaveOut = undefined;
    const next = await sync();
    expect(next.stats).toMatchObject({ catchUpSearched: true, citizensPulled: 1 });
    expect(await versions(app, plans[0]!.id)).not.toBe(before);
    await app.close();
  });

  it('F1/R18: changes made while a plan was declined are read when the citizen accepts it again', async () => {
    const app = await fresh();
    const sync = syncOf(app);
    const plan = await enrol(app.deps, population[1]!.cpr);
    await grantConsent(app.deps, { citizenId: citizenIdOf(plan), source: 'dfdg', categories: [...employment] });
    expect((await sync()).stats.recordsMerged).toBeGreaterThan(0);
    const before = await versions(app, plan.id);
    await planService(app.deps).changeStatus(cw, plan.id, { status: 'declined', reason: 'borgeren ønsker det ikke nu' });
    simulators.dfdg.mutate(1);
    expect((await sync()).stats.noticesNotEnrolled).toBeGreaterThan(0);
    await planService(app.deps).changeStatus(cw, plan.id, { status: 'offered' });
    await planService(app.deps).changeStatus(cw, plan.id, { status: 'accepted' });
    await planService(app.deps).changeStatus(cw, plan.id, { status: 'active' });
    const after = await sync();
    expect(after.stats.recordsMerged).toBeGreaterThan(0);
    expect(await versions(app, plan.id)).not.toBe(before);
    await app.close();
  });

  it('F1/R18: a new plan after a closed one gets the citizen’s existing sector records', async () => {
    const app = await fresh();
    const sync = syncOf(app);
    const first = await enrol(app.deps, population[2]!.cpr);
    await grantConsent(app.deps, { citizenId: citizenIdOf(first), source: 'dfdg', categories: [...employment] });
    await sync();
    const merged = (await app.deps.store.plans.get('101', first.id))!.interventions.length;
    expect(merged).toBeGreaterThan(0);
    const closed = (await planService(app.deps).changeStatus(cw, first.id, { status: 'closed' }))!;
    const second = await enrol(app.deps, population[2]!.cpr);
    await sync();
    expect((await app.deps.store.plans.get('101', second.id))!.interventions.length).toBe(merged);
    // The closed plan is left as it was.
    expect((await app.deps.store.plans.get('101', first.id))!.version).toBe(closed.version);
    await app.close();
  });

  it('R10/R11: a legal basis ended while its data is being merged: what flowed on it leaves the plan', async () => {
    const app = await fresh();
    const plan = await enrol(app.deps, population[3]!.cpr);
    const member = membersOf(plan)[0]!;
    const record = await consentService(app.deps).recordLegalBasis(cw, { planId: plan.id, memberId: member.memberId, source: 'dfdg', recipient: 'enplan', categories: [...employment], basis: 'LAB § 21' });
    const result = await runSync(app.deps, {
      tenant: '101', adapter: 'dfdg', trigger: 'test', mappings: allMappings, feedStartMarginMs: 0,
      // After the chunk is built on the legal basis, before it is written.
      beforeWrite: async () => {
        await consentService(app.deps).endLegalBasis(cw, record.id, 'sagen er lukket');
      },
    });
    expect(result.stats.recordsMerged).toBeGreaterThan(0);
    const after = (await app.deps.store.plans.get('101', plan.id))!;
    const resting = [...after.goals, ...after.interventions, ...after.agreements].filter((e) => e.provenance.some((p) => p.kind === 'source' && p.consentRef === record.id));
    expect(resting).toEqual([]);
    // The sync removed it, and the citizen's log says so.
    const removals = (await app.deps.store.audit.list('101', { citizenId: member.citizenId })).filter((e) => e.action === 'plan.consent-data-removed');
    expect(removals.map((e) => [e.actor, e.detail.grantId])).toEqual([['sync-job:dfdg', record.id]]);
    await app.close();
  });

  it('R11: a legal basis whose last day ends while its data is being merged: what flowed on it leaves the plan', async () => {
    // 23:59 in Denmark on the basis's last day; the merge is written after midnight.
    let now = new Date('2026-06-10T21:59:00Z');
    const app = await startTestApp({ clock: { now: () => now }, adapters: { dfdg: createDfdgAdapter({ baseUrl: simulators.dfdg.url, organisation }) }, mappings: allMappings });
    const plan = await enrol(app.deps, population[3]!.cpr);
    const member = membersOf(plan)[0]!;
    const record = await consentService(app.deps).recordLegalBasis(cw, { planId: plan.id, memberId: member.memberId, source: 'dfdg', recipient: 'enplan', categories: [...employment], basis: 'LAB § 21', validTo: '2026-06-10' });
    const result = await runSync(app.deps, {
      tenant: '101', adapter: 'dfdg', trigger: 'test', mappings: allMappings, feedStartMarginMs: 0,
      beforeWrite: () => {
        now = new Date('2026-06-10T22:00:01Z');
      },
    });
    expect(result.stats.recordsMerged).toBeGreaterThan(0);
    const after = (await app.deps.store.plans.get('101', plan.id))!;
    expect([...after.goals, ...after.interventions, ...after.agreements].filter((e) => e.provenance.some((p) => p.kind === 'source' && p.consentRef === record.id))).toEqual([]);
    await app.close();
  });
});
