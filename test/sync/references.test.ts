/**
 * What a source refers to that the plan does not hold, against the real social simulator: a
 * CarePlan serving goals the citizen has not consented to share still brings its interventions,
 * without the dangling references, and links them once the goals may flow; and a record whose
 * merge would break the plan is quarantined for that citizen alone, the chunk's others merged.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDfdgAdapter, startDfdgSimulator, type DfdgSimulator } from '../../adapters/dfdg';
import { generatePopulation } from '../../adapters/shared/population';
import { createSocialAdapter } from '../../adapters/social/adapter';
import { startSocialSimulator, type SectorSimulator } from '../../adapters/social/simulator';
import type { Mapping } from '../../mappings/mapping';
import { membersOf, type Plan } from '../../src/model';
import { allMappings } from '../../src/sync/all-mappings';
import { runSync, runSyncRound } from '../../src/sync/engine';
import { createMappingRegistry } from '../../src/sync/registry';
import { startTestApp } from '../support/node-app';
import { enrol, grantConsent } from '../support/seed';

const population = generatePopulation(30, 5151).map((c) => ({ ...c, sectors: { employment: true, education: false, social: true, health: false } }));
let social: SectorSimulator;
let dfdg: DfdgSimulator;

beforeAll(async () => {
  [social, dfdg] = await Promise.all([startSocialSimulator({ population }), startDfdgSimulator({ population, port: 0 })]);
});
afterAll(async () => {
  await Promise.all([social?.close(), dfdg?.close()]);
});

const citizenIdOf = (plan: Plan) => membersOf(plan)[0]!.citizenId;
const appWith = (mappings = allMappings) =>
  startTestApp({
    adapters: { social: createSocialAdapter({ baseUrl: social.baseUrl, timeoutMs: 5000 }), dfdg: createDfdgAdapter({ baseUrl: dfdg.url, organisation: { typeIdentifier: 'kommune', code: '101' } }) },
    mappings,
  });

describe('references the plan does not hold', () => {
  it('merges interventions without goals refused by consent, and links them once the goals may flow', async () => {
    const app = await appWith();
    // Citizens whose care plans serve goals: every one of them is enrolled, so the test cannot pass on none.
    const plans = await Promise.all(population.slice(0, 12).map((c) => enrol(app.deps, c.cpr)));
    for (const plan of plans) await grantConsent(app.deps, { citizenId: citizenIdOf(plan), source: 'social', categories: ['plan-core', 'social', 'interventions'] });
    const first = await runSync(app.deps, { tenant: '101', adapter: 'social', trigger: 'test', mappings: allMappings });
    expect(first.status).toBe('succeeded');
    expect(first.stats.referencesUnresolved).toBeGreaterThan(0);
    expect(first.stats.mergeFailures).toBe(0);
    const unlinked = await Promise.all(plans.map(async (p) => (await app.deps.store.plans.get('101', p.id))!));
    const socialInterventions = unlinked.flatMap((p) => p.interventions.filter((i) => i.sector === 'social'));
    expect(socialInterventions.length).toBeGreaterThan(0);
    expect(unlinked.every((p) => p.goals.length === 0 && p.interventions.every((i) => i.goalIds.length === 0))).toBe(true);

    // Goals may flow now; a new consent reads the citizen again (as the consent service does).
    for (const plan of plans) {
      await grantConsent(app.deps, { citizenId: citizenIdOf(plan), source: 'social', categories: ['goals'] });
      await app.deps.store.sync.forgetPulled('101', citizenIdOf(plan));
    }
    const second = await runSync(app.deps, { tenant: '101', adapter: 'social', trigger: 'test', mappings: allMappings });
    expect(second.stats.referencesUnresolved).toBe(0);
    const linked = await Promise.all(plans.map(async (p) => (await app.deps.store.plans.get('101', p.id))!));
    const served = linked.flatMap((p) => p.interventions.filter((i) => i.goalIds.length > 0));
    expect(served.length).toBeGreaterThan(0);
    for (const plan of linked) for (const i of plan.interventions) for (const goalId of i.goalIds) expect(plan.goals.some((g) => g.id === goalId)).toBe(true);
    // Linking is an update of the same intervention, not a second one.
    expect(linked.flatMap((p) => p.interventions.filter((i) => i.sector === 'social')).length).toBe(socialInterventions.length);
    await app.close();
  });

  it('quarantines a citizen whose records would break the plan; the other citizens of the chunk are merged', async () => {
    // A social Goal mapping gone wrong: every goal it makes is an overall goal with a parent, which no plan may hold.
    const goalMapping = allMappings.find('social', 'Goal')!;
    const broken: Mapping = {
      ...goalMapping,
      map: (input, context) => {
        const result = goalMapping.map(input, context);
        if (!result.ok) return result;
        return { ...result, fragments: result.fragments.map((f) => (f.kind === 'goal' ? { ...f, content: { ...f.content, level: 'overall' as const, parentGoalId: f.elementId } } : f)) };
      },
    };
    const mappings = createMappingRegistry(allMappings.all().map((m) => (m === goalMapping ? broken : m)));
    const app = await appWith(mappings);
    const [socialCitizen, employmentCitizen] = [population[20]!, population[21]!];
    const withSocial = await enrol(app.deps, socialCitizen.cpr);
    const withEmployment = await enrol(app.deps, employmentCitizen.cpr);
    // Not interventions: what consent refused is logged though the merge of the rest failed.
    await grantConsent(app.deps, { citizenId: citizenIdOf(withSocial), source: 'social', categories: ['plan-core', 'social', 'goals'] });
    await grantConsent(app.deps, { citizenId: citizenIdOf(withEmployment), source: 'dfdg', categories: ['plan-core', 'employment', 'goals', 'interventions'] });

    const [dfdgRun, socialRun] = await runSyncRound(app.deps, { tenant: '101', adapters: ['dfdg', 'social'], trigger: 'test', mappings });
    expect(dfdgRun!.status).toBe('succeeded');
    expect(socialRun!.status).toBe('succeeded');
    expect(socialRun!.stats.mergeFailures).toBeGreaterThan(0);
    expect(socialRun!.stats.quarantined).toBe(socialRun!.stats.mergeFailures);
    // The other citizen's data is in their plan; the broken citizen's plan is as it was, with nothing recorded as flowed.
    expect((await app.deps.store.plans.get('101', withEmployment.id))!.interventions.length).toBeGreaterThan(0);
    const untouched = (await app.deps.store.plans.get('101', withSocial.id))!;
    expect(untouched.version).toBe(withSocial.version);
    const logged = await app.deps.store.audit.list('101', { citizenId: citizenIdOf(withSocial) });
    expect(logged.filter((r) => r.action === 'data.flowed')).toEqual([]);
    // The consent gate's refusals were decisions all the same, and the citizen is told of them (issue 4: every decision audited).
    const refused = logged.filter((r) => r.action === 'data.refused');
    expect(refused.flatMap((r) => (r.detail as { categories: string[] }).categories)).toContain('interventions');
    expect(await app.deps.store.audit.verify('101')).toMatchObject({ ok: true });
    const quarantined = await app.deps.store.sync.quarantined('101', { adapter: 'social' });
    expect(quarantined.length).toBe(socialRun!.stats.mergeFailures);
    for (const row of quarantined) expect(row.reason).toMatch(/^merge: the merge would break the plan: .*an overall goal has no parent goal/);
    // Quarantined once: the next run does not quarantine the same versions again.
    const [, again] = await runSyncRound(app.deps, { tenant: '101', adapters: ['dfdg', 'social'], trigger: 'test', mappings });
    expect(again!.stats.quarantined).toBe(0);
    await app.close();
  });
});
