/**
 * A record merged whole whose marks were forgotten so that it is merged again on the next read (a
 * new consent grant, a grant taking effect, …) still leaves the plan when its FHIR source deletes
 * it before that read. The forget turns the citizen's marks for the source into marks of whose record
 * it is (`applied_records.complete` 0, migration 0027) instead of deleting them: the deletion finds
 * the owner, while the next read still merges the record again. Before, the marks were deleted, the
 * deletion named nobody and what flowed stayed for ever.
 * The real social simulator over HTTP, libSQL. Citizens are named by their place in the population, never by CPR.
 */
import type { CarePlan } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { consentService, handleStartedGrants } from '../../src/consent/service';
import { ConsentGrant, membersOf, type DataCategory, type Plan } from '../../src/model';
import { danishToday } from '../../src/views/danish';
import { caseworkerOf, enrol, grantConsent } from '../support/seed';
import { allButHealth, citizenIdOf, socialDeletionSetUp, type App } from '../support/social-deletions';

const { population, social, freshApp, sync, stored, auditOf, fromCarePlan, citizenWithSocialCarePlan, deleteAt } = socialDeletionSetUp(6363);

/** A plan whose citizen's CarePlan was merged whole from the social system. */
async function mergedWhole(app: App) {
  const { ordinal, carePlan } = citizenWithSocialCarePlan();
  const plan = await enrol(app.deps, population[ordinal]!.cpr);
  const grant = await grantConsent(app.deps, { citizenId: citizenIdOf(plan), source: 'social', categories: allButHealth, explicitHealth: false });
  expect((await sync(app)).status).toBe('succeeded');
  const flowed = fromCarePlan(await stored(app, plan), carePlan.id!);
  expect(flowed.length).toBe(carePlan.activity!.length);
  const version = `${carePlan.id}@${carePlan.meta!.versionId}`;
  expect((await app.deps.store.sync.appliedVersions('101', 'social', [citizenIdOf(plan)])).has(version)).toBe(true);
  return { plan, carePlanId: carePlan.id!, version, flowed, grant };
}

/** A new grant through the consent service (health from the social system): the citizen's social marks are forgotten, to merge again. */
async function grantHealthToo(app: App, plan: Plan) {
  const member = membersOf(plan)[0]!;
  await consentService(app.deps).grant(caseworkerOf(), {
    planId: plan.id, memberId: member.memberId, source: 'social', recipient: 'enplan', categories: ['health'], explicitHealth: true,
    purpose: 'Koordinering af indsatser i Én plan', validFrom: '2026-01-01', signed: { method: 'mitid', documentRef: 'doc-health', textVersion: 'samtykke-v1', language: 'da' },
    grantedBy: { memberId: member.memberId, capacity: 'self' },
  });
}

/** A health grant recorded yesterday, dated to start today: the nightly job puts it into effect, forgetting the citizen's social marks. */
async function healthGrantStartingToday(app: App, plan: Plan) {
  const citizenId = citizenIdOf(plan);
  const now = new Date();
  const grant = ConsentGrant.parse({
    id: crypto.randomUUID(), tenant: '101', citizenId, grantedBy: { citizenId, capacity: 'self' }, source: 'social', recipient: 'enplan', categories: ['health'], explicitHealth: true,
    purpose: 'Koordinering af indsatser i Én plan', validFrom: danishToday(now), signed: { method: 'mitid', documentRef: 'doc-health', textVersion: 'samtykke-v1', language: 'da' },
    createdAt: new Date(now.getTime() - 86_400_000).toISOString(),
  });
  await app.deps.store.consents.insert({ kind: 'grant', ...grant });
  expect(await handleStartedGrants(app.deps, '101')).toMatchObject({ grantsStarted: 1, failures: 0 });
}

/** The social system deletes the CarePlan; the next sync takes what flowed from it out of the plan. */
async function expectWithdrawnOnDeletion(app: App, plan: Plan, carePlanId: string, flowed: Plan['interventions']) {
  await deleteAt('CarePlan', carePlanId);
  const incremental = await sync(app);
  expect(incremental).toMatchObject({ status: 'succeeded', stats: { elementsWithdrawn: flowed.length } });
  expect(fromCarePlan(await stored(app, plan), carePlanId)).toEqual([]);
  const traces = (await auditOf(app, plan, 'plan.source-withdrew')).filter((a) => a.detail.runId === incremental.runId);
  expect(traces.map((a) => ({ target: a.targetId, removed: [...(a.detail.removedElements as string[])].sort(), records: a.detail.records }))).toEqual([
    { target: plan.id, removed: flowed.map((i) => i.id).sort(), records: [carePlanId] },
  ]);
  // Its marks went with it: the deletion is not taken twice.
  expect(await app.deps.store.sync.citizensOfRecords('101', 'social', [carePlanId])).toEqual(new Map());
  expect((await sync(app)).stats.elementsWithdrawn).toBe(0);
}

describe("a record deleted at its source after the citizen's marks were forgotten", () => {
  it('takes what flowed from a CarePlan out of the plan when the social system deletes it after a new grant forgot its marks', async () => {
    const app = await freshApp();
    const { plan, carePlanId, version, flowed } = await mergedWhole(app);
    await grantHealthToo(app, plan);
    // No longer counted merged, but still known as the citizen's.
    expect((await app.deps.store.sync.appliedVersions('101', 'social', [citizenIdOf(plan)])).has(version)).toBe(false);
    expect(await app.deps.store.sync.citizensOfRecords('101', 'social', [carePlanId])).toEqual(new Map([[carePlanId, [citizenIdOf(plan)]]]));

    await expectWithdrawnOnDeletion(app, plan, carePlanId, flowed);
    await app.close();
  });

  it('takes it out too when a grant taking effect forgot the marks (the nightly job)', async () => {
    const app = await freshApp();
    const { plan, carePlanId, version, flowed } = await mergedWhole(app);
    await healthGrantStartingToday(app, plan);
    expect((await app.deps.store.sync.appliedVersions('101', 'social', [citizenIdOf(plan)])).has(version)).toBe(false);

    await expectWithdrawnOnDeletion(app, plan, carePlanId, flowed);
    await app.close();
  });

  it('still merges the CarePlan again on the next read after the forget, and then counts it merged', async () => {
    const app = await freshApp();
    const { plan, carePlanId, version, flowed } = await mergedWhole(app);
    await grantHealthToo(app, plan);
    const reread = await sync(app);
    expect(reread.status).toBe('succeeded');
    // Read in full and merged again, not skipped as merged: the kept mark does not pass for merged.
    expect(reread.stats.recordsMerged).toBeGreaterThan(0);
    expect(fromCarePlan(await stored(app, plan), carePlanId).map((i) => i.id).sort()).toEqual(flowed.map((i) => i.id).sort());
    // Its mark is whole again (the kept one made whole, not a second one), and the next read skips it.
    expect((await app.deps.store.sync.appliedVersions('101', 'social', [citizenIdOf(plan)])).has(version)).toBe(true);
    await app.deps.store.sync.forgetPulled('101', citizenIdOf(plan));
    const again = await sync(app);
    expect(again.stats.recordsSkippedAsMerged).toBeGreaterThan(0);
    expect(again.stats.recordsMerged).toBe(0);
    await app.close();
  });
});

describe('a quarantine entry retried', () => {
  it("keeps the record's marks as the citizen's, not merged: a deletion before the re-read still finds whose it was", async () => {
    const app = await freshApp();
    const { plan, carePlanId, version } = await mergedWhole(app);
    const citizenId = citizenIdOf(plan);
    const at = new Date().toISOString();
    await app.deps.store.batch([app.deps.store.sync.quarantineStatement({ id: 'q-retry', tenant: '101', adapter: 'social', recordType: 'CarePlan', recordId: carePlanId, citizenId, mappingId: null, reason: 'test', raw: null, runId: null, createdAt: at })]);
    await app.deps.store.batch(app.deps.store.sync.resolveQuarantineStatements({ tenant: '101', id: 'q-retry', adapter: 'social', recordId: carePlanId, citizenId }, { action: 'retried', by: 'test', at }));
    expect((await app.deps.store.sync.appliedVersions('101', 'social', [citizenId])).has(version)).toBe(false);
    expect(await app.deps.store.sync.citizensOfRecords('101', 'social', [carePlanId])).toEqual(new Map([[carePlanId, [citizenId]]]));
    await app.close();
  });
});
