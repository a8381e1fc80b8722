/**
 * A record merged only in part — consent refused one of its data categories, or references it makes
 * were left out — still leaves the plan when its FHIR source deletes it outright. Such a record is
 * marked as the citizen's but not as merged (`applied_records.complete` 0, migration 0027): the
 * deletion finds whose it was, while every read still merges it again, so a later consent lets the
 * rest flow. Before, it had no mark at all: the deletion named nobody and what flowed stayed for ever.
 * The real social simulator over HTTP, libSQL. Citizens are named by their place in the population, never by CPR.
 */
import type { CarePlan } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { FFB_SYSTEM } from '../../adapters/fhir/systems';
import { membersOf, type DataCategory, type Plan } from '../../src/model';
import { enrol, grantConsent } from '../support/seed';
import { allButHealth, citizenIdOf, socialDeletionSetUp, type App } from '../support/social-deletions';

const { population, social, freshApp, sync, stored, auditOf, fromCarePlan, citizenWithSocialCarePlan, deleteAt } = socialDeletionSetUp(6262);

/** The social system's caseworker adds an activity under a local code no KL list holds: health data (fail closed, Sundhedsloven § 43). */
async function addLocalActivity(carePlanId: string) {
  const carePlan = await social().repository.readResource<CarePlan>('CarePlan', carePlanId);
  const [first] = carePlan.activity!;
  const local = { ...first!, ...(first!.id ? { id: 'indsats-lokal' } : {}), detail: { ...first!.detail!, code: { coding: [{ system: FFB_SYSTEM, code: 'lokal-sundhed-0815', display: 'Lokal indsats: sundhedsfaglig støtte' }] } } };
  // No activity serves a goal here: only the refused category keeps the CarePlan from being merged whole.
  const activity = [...carePlan.activity!, local].map((a) => ({ ...a, detail: { ...a.detail!, goal: [] } }));
  return social().repository.updateResource<CarePlan>({ ...carePlan, activity });
}

/** A plan whose citizen's CarePlan was merged in part: its social activities flowed, its health activity was refused. */
async function mergedInPart(app: App) {
  const { ordinal, carePlan: seeded } = citizenWithSocialCarePlan(false);
  const carePlanId = seeded.id!;
  const carePlan = await addLocalActivity(carePlanId);
  const plan = await enrol(app.deps, population[ordinal]!.cpr);
  await grantConsent(app.deps, { citizenId: citizenIdOf(plan), source: 'social', categories: allButHealth, explicitHealth: false });
  expect((await sync(app)).status).toBe('succeeded');
  const flowed = fromCarePlan(await stored(app, plan), carePlanId);
  expect(flowed.length).toBe(carePlan.activity!.length - 1);
  expect(flowed.every((i) => i.sector === 'social')).toBe(true);
  expect((await auditOf(app, plan, 'data.refused')).some((a) => (a.detail.categories as string[]).includes('health'))).toBe(true);
  return { plan, carePlan, flowed };
}

describe('a record merged in part, deleted at its source', () => {
  it('takes what flowed from a CarePlan whose health activity consent refused out of the plan when the social system deletes it', async () => {
    const app = await freshApp();
    const { plan, carePlan, flowed } = await mergedInPart(app);
    // Whose it is, is known; that it is merged, is not.
    expect(await app.deps.store.sync.citizensOfRecords('101', 'social', [carePlan.id])).toEqual(new Map([[carePlan.id, [citizenIdOf(plan)]]]));
    expect((await app.deps.store.sync.appliedVersions('101', 'social', [citizenIdOf(plan)])).has(`${carePlan.id}@${carePlan.meta!.versionId}`)).toBe(false);

    await deleteAt('CarePlan', carePlan.id);
    const incremental = await sync(app);
    expect(incremental).toMatchObject({ status: 'succeeded', stats: { catchUpSearched: false, elementsWithdrawn: flowed.length } });
    expect(fromCarePlan(await stored(app, plan), carePlan.id)).toEqual([]);
    const traces = (await auditOf(app, plan, 'plan.source-withdrew')).filter((a) => a.detail.runId === incremental.runId);
    expect(traces.map((a) => ({ target: a.targetId, detail: a.detail }))).toEqual([
      { target: plan.id, detail: { source: 'social', removedElements: flowed.map((i) => i.id).sort(), keptElements: [], records: [carePlan.id], runId: incremental.runId } },
    ]);
    // Its mark went with it: the deletion is not taken twice.
    expect(await app.deps.store.sync.citizensOfRecords('101', 'social', [carePlan.id])).toEqual(new Map());
    expect((await sync(app)).stats.elementsWithdrawn).toBe(0);
    await app.close();
  });

  it('still merges that CarePlan again on a later read, so the refused activity flows once consent is given, and then counts it merged', async () => {
    const app = await freshApp();
    const { plan, carePlan, flowed } = await mergedInPart(app);
    const version = `${carePlan.id}@${carePlan.meta!.versionId}`;
    await grantConsent(app.deps, { citizenId: citizenIdOf(plan), source: 'social', categories: ['health'], explicitHealth: true });
    // Read in full again, its marks kept: the part mark must not pass for merged.
    await app.deps.store.sync.forgetPulled('101', citizenIdOf(plan));
    expect((await sync(app)).status).toBe('succeeded');
    const whole = fromCarePlan(await stored(app, plan), carePlan.id);
    expect(whole.length).toBe(flowed.length + 1);
    expect(whole.filter((i) => i.sector === 'health')).toHaveLength(1);
    // Merged whole now: the mark says so (the part mark made whole, not a second one), and the next read skips it.
    expect((await app.deps.store.sync.appliedVersions('101', 'social', [citizenIdOf(plan)])).has(version)).toBe(true);
    await app.deps.store.sync.forgetPulled('101', citizenIdOf(plan));
    const again = await sync(app);
    expect(again.stats.recordsSkippedAsMerged).toBeGreaterThan(0);
    expect(fromCarePlan(await stored(app, plan), carePlan.id)).toEqual(whole);
    await app.close();
  });

  it('takes out a CarePlan merged with the goals it serves left out (consent refused them) when the social system deletes it', async () => {
    const app = await freshApp();
    const { ordinal, carePlan: seeded } = citizenWithSocialCarePlan(true);
    const carePlanId = seeded.id!;
    const plan = await enrol(app.deps, population[ordinal]!.cpr);
    await grantConsent(app.deps, { citizenId: citizenIdOf(plan), source: 'social', categories: ['plan-core', 'social', 'interventions'] });
    const first = await sync(app);
    expect(first.status).toBe('succeeded');
    expect(first.stats.referencesUnresolved).toBeGreaterThan(0);
    const flowed = fromCarePlan(await stored(app, plan), carePlanId);
    expect(flowed.length).toBeGreaterThan(0);
    expect(flowed.every((i) => i.goalIds.length === 0)).toBe(true);

    await deleteAt('CarePlan', carePlanId);
    const incremental = await sync(app);
    expect(incremental).toMatchObject({ status: 'succeeded', stats: { elementsWithdrawn: flowed.length } });
    expect(fromCarePlan(await stored(app, plan), carePlanId)).toEqual([]);
    const traces = (await auditOf(app, plan, 'plan.source-withdrew')).filter((a) => a.detail.runId === incremental.runId);
    expect(traces.map((a) => a.detail.records)).toEqual([[carePlanId]]);
    await app.close();
  });
});
