/**
 * A CarePlan version already merged under social.careplan 1.2.0 (activities named by position) is
 * merged again under 1.3.0 (named by what they are): a new consent grant forgets the merged-record
 * marks, and the engine reads the citizen again. Before, the new ids were added while the position
 * ids stayed — every intervention twice until the CarePlan next changed. Now the re-read moves each
 * intervention to its new id in place: a caseworker's follow-up on it, an open conflict on it and a
 * registration's change of it go with it. The real simulator over HTTP, real adapters, engine, store
 * and API (decision 0003, session 19).
 */
import type { CarePlan } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { socialRecordsFor } from '../../adapters/social/records';
import { createSocialAdapter } from '../../adapters/social/adapter';
import { generatePopulation } from '../../adapters/shared/population';
import { startSocialSimulator, type SectorSimulator } from '../../adapters/social/simulator';
import type { CarePlan as CarePlanRecord } from '../../adapters/fhir/contract';
import { socialCarePlanMapping } from '../../mappings/social';
import { carePlanActivityElementIds } from '../../mappings/social/careplan';
import { membersOf, type DataCategory, type Plan } from '../../src/model';
import { allMappings } from '../../src/sync/all-mappings';
import { runSync } from '../../src/sync/engine';
import type { MappingRegistry } from '../../src/sync/registry';
import { mappingsBeforeActivityIdentity } from '../support/position-named-careplans';
import { startTestApp } from '../support/node-app';
import { enrol, grantConsent } from '../support/seed';

const SEED = 2026;
const population = generatePopulation(40, 4343).map((c) => ({ ...c, sectors: { employment: false, education: false, social: true, health: false } }));
let social: SectorSimulator;
beforeAll(async () => {
  social = await startSocialSimulator({ population, seed: SEED, port: 0 });
});
afterAll(async () => {
  await social?.close();
});

const categories: DataCategory[] = ['plan-core', 'social', 'goals', 'interventions', 'health'];
const used = new Set<string>();

/** A citizen no other test here has used whose seeded CarePlan has three activities of three different services, none with its own id. */
function citizenWithThreeActivities() {
  for (const [ordinal, citizen] of population.entries()) {
    const plan = socialRecordsFor(citizen, ordinal, SEED).find((r) => r.resourceType === 'CarePlan') as CarePlan;
    const activity = plan.activity ?? [];
    const codes = new Set(activity.map((a) => a.detail?.code?.coding?.[0]?.code));
    if (used.has(citizen.cpr) || activity.length !== 3 || codes.size !== 3 || activity.some((a) => a.id !== undefined)) continue;
    used.add(citizen.cpr);
    return { citizen, carePlanId: plan.id! };
  }
  throw new Error('no citizen with three different activities without ids');
}

const legacy = mappingsBeforeActivityIdentity('social');

/** The interventions read from that CarePlan, in the plan's order. */
const fromCarePlan = (plan: Plan, carePlanId: string) => plan.interventions.filter((i) => i.provenance.some((p) => p.kind === 'source' && p.recordId === carePlanId));

/** A plan synced under 1.2.0 for a fresh citizen, with what the tests need to change and read it. */
async function planUnderPositionIds() {
  const { citizen, carePlanId } = citizenWithThreeActivities();
  const app = await startTestApp({ adapters: { social: createSocialAdapter({ baseUrl: social.baseUrl, timeoutMs: 5000 }) }, mappings: legacy });
  const sync = async (mappings: MappingRegistry) => {
    const run = await runSync(app.deps, { tenant: '101', adapter: 'social', trigger: 'test', mappings });
    expect(run.status, JSON.stringify(run.error)).toBe('succeeded');
    return run.stats;
  };
  const enrolled = await enrol(app.deps, citizen.cpr);
  const { citizenId, memberId } = membersOf(enrolled)[0]!;
  await grantConsent(app.deps, { citizenId, source: 'social', categories, explicitHealth: true });
  const stored = async () => (await app.deps.store.plans.get('101', enrolled.id))!;
  await sync(legacy);
  const old = fromCarePlan(await stored(), carePlanId).map((i) => i.id);
  expect(old).toEqual([0, 1, 2].map((n) => `social:careplan:${carePlanId}:activity:${n}`));
  const token = await app.harness.token({ tenant: '101', roles: ['caseworker'] });
  const register = async (body: Record<string, unknown>) => {
    const response = await app.harness.request('/v1/registrations', {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'idempotency-key': `reread-${crypto.randomUUID()}` },
      body: JSON.stringify({ planId: enrolled.id, ...body }),
    });
    expect(response.status, await response.clone().text()).toBe(202);
    return (await response.json()) as { elementId: string };
  };
  /** The same CarePlan version merged again, now by 1.3.0: a new consent grant forgets the merged-record marks and reads the citizen in full (as consent/service.ts does). */
  const rereadUnderNewMapping = async () => {
    await grantConsent(app.deps, { citizenId, source: 'social', categories: ['goals'] });
    const { sync: marks } = app.deps.store;
    await app.deps.store.audit.appendMany('101', [], [marks.forgetAppliedStatement('101', 'social', citizenId), marks.forgetPulledFromStatement('101', 'social', [citizenId])]);
    return sync(allMappings);
  };
  /** The ids 1.3.0 gives the CarePlan's activities as the simulator holds it now, by position. */
  const newIds = async () => carePlanActivityElementIds((await social.repository.readResource<CarePlan>('CarePlan', carePlanId)) as CarePlanRecord) as string[];
  const renames = async () => (await app.deps.store.audit.list('101', { citizenId })).filter((a) => a.action === 'plan.element-renamed');
  return { app, carePlanId, citizenId, memberId, old, sync, stored, register, rereadUnderNewMapping, newIds, renames };
}

async function changeAtSource(carePlanId: string, change: (plan: CarePlan) => CarePlan) {
  await social.repository.updateResource(change(await social.repository.readResource<CarePlan>('CarePlan', carePlanId)));
}

describe('the same CarePlan version merged again under a newer mapping version', () => {
  it('moves each intervention to its new id — no second copy — and a caseworker’s follow-up on one moves with it', { timeout: 60_000 }, async () => {
    const { app, carePlanId, citizenId, old, sync, stored, register, rereadUnderNewMapping, newIds, renames } = await planUnderPositionIds();
    const before = fromCarePlan(await stored(), carePlanId);
    const { elementId: followUpId } = await register({ kind: 'followup.scheduled', followUp: { due: '2027-01-10', text: 'Hvordan går det med støtten?', elementId: old[1] } });
    // A target holds the second intervention (sent on to DFDG, R20): its record reads back onto ours.
    const { heldElements } = app.deps.store;
    const atDfdg = 'dfdg:activity:3b1f5c2e-7d4a-5e8b-9c0d-1a2b3c4d5e6f';
    await app.deps.store.audit.appendMany('101', [], [heldElements.recordStatement('101', citizenId, 'dfdg', crypto.randomUUID(), [{ targetElementId: atDfdg, elementId: old[1]! }], new Date().toISOString())!]);

    expect(await rereadUnderNewMapping()).toMatchObject({ elementsAdded: 0, elementsWithdrawn: 0, conflicts: 0 });
    const ids = await newIds();
    const now = fromCarePlan(await stored(), carePlanId);
    expect(now.map((i) => i.id)).toEqual(ids);
    expect(ids.every((id) => /:activity:key-[0-9a-f]{16}$/.test(id))).toBe(true);
    // The same services, in place: only the id and the order (no longer the position) moved.
    expect(now.map((i) => i.type)).toEqual(before.map((i) => i.type));
    expect(now.map((i) => i.order)).toEqual([0, 0, 0]);
    expect(now.every((i) => i.provenance.every((p) => p.kind !== 'source' || p.mappingVersion === socialCarePlanMapping.version))).toBe(true);
    expect((await stored()).followUps.find((f) => f.id === followUpId)).toMatchObject({ elementId: ids[1] });
    expect(await heldElements.forCitizens('101', [citizenId])).toMatchObject([{ target: 'dfdg', targetElementId: atDfdg, elementId: ids[1] }]);
    const [renamed] = await renames();
    expect(renamed?.detail).toMatchObject({ source: 'social', renamedElements: old.map((from, n) => ({ from, to: ids[n] })), records: [carePlanId] });

    // Read again at the same version and mapping: nothing to do.
    expect(await rereadUnderNewMapping()).toMatchObject({ elementsAdded: 0, elementsUpdated: 0, elementsWithdrawn: 0 });
    // The social system's next version changes the last one in place.
    await changeAtSource(carePlanId, (plan) => ({ ...plan, activity: plan.activity!.map((a, i) => (i === 2 ? { ...a, detail: { ...a.detail!, status: 'completed' } } : a)) }));
    expect(await sync(allMappings)).toMatchObject({ elementsAdded: 0, elementsUpdated: 1, elementsWithdrawn: 0 });
    expect(fromCarePlan(await stored(), carePlanId).map((i) => i.id)).toEqual(ids);
    await app.close();
  });

  it('keeps an open conflict on the intervention it moves, and the caseworker’s change of it, without a second copy', { timeout: 60_000 }, async () => {
    const { app, carePlanId, old, sync, stored, register, rereadUnderNewMapping, newIds } = await planUnderPositionIds();
    // The caseworker retitles the first intervention; then the social system retitles its activity: a conflict.
    await register({ kind: 'intervention.changed', interventionId: old[0], changes: { title: 'Støtte i hjemmet, aftalt med borgeren' } });
    await changeAtSource(carePlanId, (plan) => ({ ...plan, activity: plan.activity!.map((a, i) => (i === 0 ? { ...a, detail: { ...a.detail!, description: 'Støtte efter revisitation' } } : a)) }));
    expect(await sync(legacy)).toMatchObject({ conflicts: 1 });
    const conflicted = await stored();
    const conflict = conflicted.conflicts.find((c) => c.elementId === old[0] && !c.resolvedAt)!;
    expect(conflict).toBeDefined();

    expect(await rereadUnderNewMapping()).toMatchObject({ elementsAdded: 0, elementsWithdrawn: 0, conflicts: 0 });
    const ids = await newIds();
    const plan = await stored();
    const now = fromCarePlan(plan, carePlanId);
    expect(now.map((i) => i.id)).toEqual(ids);
    // The caseworker's words stay, under the registration, on the one intervention.
    expect(now[0]).toMatchObject({ title: 'Støtte i hjemmet, aftalt med borgeren' });
    expect(now[0]!.provenance.at(-1)).toMatchObject({ kind: 'registration' });
    expect(plan.interventions.filter((i) => i.id.startsWith(`social:careplan:${carePlanId}:`))).toHaveLength(3);
    // The dispute is still open, now on the new id, with both values.
    const moved = plan.conflicts.find((c) => c.id === conflict.id)!;
    expect(moved).toMatchObject({ elementId: ids[0], values: conflict.values });
    expect(moved.resolvedAt).toBeUndefined();
    await app.close();
  });

  it('moves nothing when the CarePlan changed since the older mapping read it: its position may name another activity now', { timeout: 60_000 }, async () => {
    const { app, carePlanId, old, sync, stored, register, newIds } = await planUnderPositionIds();
    const { elementId: followUpId } = await register({ kind: 'followup.scheduled', followUp: { due: '2027-01-10', text: 'Hvordan går det?', elementId: old[1] } });
    // The first activity is removed: position 1 now holds what was position 2.
    await changeAtSource(carePlanId, (plan) => ({ ...plan, activity: plan.activity!.slice(1) }));
    expect(await sync(allMappings)).toMatchObject({ elementsAdded: 2, elementsWithdrawn: 3 });
    expect(fromCarePlan(await stored(), carePlanId).map((i) => i.id)).toEqual(await newIds());
    // Not moved onto another service: left for a caseworker to attach again (decision 0003).
    expect((await stored()).followUps.find((f) => f.id === followUpId)?.elementId).toBeUndefined();
    await app.close();
  });
});
