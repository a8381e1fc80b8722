/**
 * A CarePlan activity the social system or the region removes, reorders or moves on, synced over
 * HTTP from the real simulators with the real adapters, engine and store. Before, an activity's
 * element id was its position: removing the first of three "updated" the first intervention with the
 * second one's content (a different service), and a caseworker's follow-up on it sat on another
 * service. Now each intervention keeps its id and content, and the removed one is withdrawn.
 * Also what plans already holding position ids see when the mapping changes (decision 0003, session 19).
 */
import type { CarePlan } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SourceAdapter } from '../../adapters/adapter';
import { createHealthAdapter } from '../../adapters/health/adapter';
import { healthRecordsFor } from '../../adapters/health/records';
import { startHealthSimulator } from '../../adapters/health/simulator';
import { generatePopulation, type SyntheticCitizen } from '../../adapters/shared/population';
import { createSocialAdapter } from '../../adapters/social/adapter';
import { socialRecordsFor } from '../../adapters/social/records';
import { startSocialSimulator, type SectorSimulator } from '../../adapters/social/simulator';
import { membersOf, type DataCategory, type Intervention, type Plan } from '../../src/model';
import { allMappings } from '../../src/sync/all-mappings';
import { runSync } from '../../src/sync/engine';
import type { MappingRegistry } from '../../src/sync/registry';
import { mappingsBeforeActivityIdentity } from '../support/position-named-careplans';
import { startTestApp } from '../support/node-app';
import { enrol, grantConsent } from '../support/seed';

const SEED = 2026;
const population = generatePopulation(40, 4242).map((c) => ({ ...c, sectors: { employment: false, education: false, social: true, health: true } }));
let social: SectorSimulator;
let health: SectorSimulator;
beforeAll(async () => {
  [social, health] = await Promise.all([startSocialSimulator({ population, seed: SEED, port: 0 }), startHealthSimulator({ population, seed: SEED, port: 0 })]);
});
afterAll(async () => {
  await Promise.all([social?.close(), health?.close()]);
});

type System = 'social' | 'health';
const simulator = (system: System) => (system === 'social' ? social : health);
const seededCarePlan = (system: System, citizen: SyntheticCitizen, ordinal: number) =>
  (system === 'social' ? socialRecordsFor(citizen, ordinal, SEED) : healthRecordsFor(citizen, ordinal, SEED)).find((r) => r.resourceType === 'CarePlan') as CarePlan;
const categories: Record<System, DataCategory[]> = { social: ['plan-core', 'social', 'goals', 'interventions', 'health'], health: ['health'] };

const used = new Set<string>();
/**
 * A citizen no other test has used whose seeded CarePlan has three activities of three different
 * services, named by their own element ids or by detail alone (the simulators give every other
 * citizen's plan ids).
 */
function citizenWith(system: System, ownIds: boolean) {
  for (const [ordinal, citizen] of population.entries()) {
    const plan = seededCarePlan(system, citizen, ordinal);
    const activity = plan.activity ?? [];
    const codes = new Set(activity.map((a) => a.detail?.code?.coding?.[0]?.code));
    if (used.has(citizen.cpr) || activity.length !== 3 || codes.size !== 3 || !activity.every((a) => (a.id !== undefined) === ownIds)) continue;
    used.add(citizen.cpr);
    return { citizen, carePlanId: plan.id! };
  }
  throw new Error(`no ${system} citizen with three different activities ${ownIds ? 'with' : 'without'} ids`);
}

async function appFor(system: System, mappings: MappingRegistry = allMappings) {
  const adapter: SourceAdapter = system === 'social' ? createSocialAdapter({ baseUrl: social.baseUrl, timeoutMs: 5000 }) : createHealthAdapter({ baseUrl: health.baseUrl, timeoutMs: 5000 });
  return startTestApp({ adapters: { [system]: adapter }, mappings });
}

/** The CarePlan as the simulator holds it now, changed by `change` and stored as its next version. */
async function changeAtSource(system: System, carePlanId: string, change: (plan: CarePlan) => CarePlan) {
  const { repository } = simulator(system);
  await repository.updateResource(change(await repository.readResource<CarePlan>('CarePlan', carePlanId)));
}

/** The interventions read from that CarePlan, in the plan's order, without their provenance (which moves on with every version). */
const fromCarePlan = (plan: Plan, carePlanId: string) =>
  plan.interventions
    .filter((i) => i.provenance.some((p) => p.kind === 'source' && p.recordId === carePlanId))
    .map(({ provenance: _p, ...rest }) => rest as Omit<Intervention, 'provenance'>);

const cases = [
  { system: 'social' as const, ownIds: true, naming: 'activities with their own ids' },
  { system: 'social' as const, ownIds: false, naming: 'detail-only activities' },
  { system: 'health' as const, ownIds: true, naming: 'activities with their own ids' },
  { system: 'health' as const, ownIds: false, naming: 'detail-only activities' },
];

describe('a CarePlan’s activities changing at the source, synced', () => {
  it.each(cases)('$system, $naming: removing the first of three withdraws it, the other two keep their ids and content; reordering changes nothing; progress updates in place', { timeout: 60_000 }, async ({ system, ownIds }) => {
    const { citizen, carePlanId } = citizenWith(system, ownIds);
    const app = await appFor(system);
    const sync = async () => {
      const run = await runSync(app.deps, { tenant: '101', adapter: system, trigger: 'test', mappings: allMappings });
      expect(run.status, JSON.stringify(run.error)).toBe('succeeded');
      return run.stats;
    };
    const enrolled = await enrol(app.deps, citizen.cpr);
    await grantConsent(app.deps, { citizenId: membersOf(enrolled)[0]!.citizenId, source: system, categories: categories[system], explicitHealth: true });
    const stored = async () => (await app.deps.store.plans.get('101', enrolled.id))!;

    await sync();
    const three = fromCarePlan(await stored(), carePlanId);
    expect(three).toHaveLength(3);

    await changeAtSource(system, carePlanId, (plan) => ({ ...plan, activity: plan.activity!.slice(1) }));
    expect(await sync()).toMatchObject({ elementsAdded: 0, elementsUpdated: 0, elementsWithdrawn: 1, conflicts: 0 });
    const two = fromCarePlan(await stored(), carePlanId);
    expect(two).toEqual(three.slice(1));

    await changeAtSource(system, carePlanId, (plan) => ({ ...plan, activity: [...plan.activity!].reverse() }));
    expect(await sync()).toMatchObject({ elementsAdded: 0, elementsUpdated: 0, elementsWithdrawn: 0, conflicts: 0 });
    expect(fromCarePlan(await stored(), carePlanId)).toEqual(two);

    // The activity now first at the source is completed: its intervention ends, under the same id.
    await changeAtSource(system, carePlanId, (plan) => ({
      ...plan,
      activity: plan.activity!.map((a, i) => (i === 0 ? { ...a, detail: { ...a.detail!, status: 'completed', scheduledPeriod: { ...a.detail!.scheduledPeriod, end: '2026-11-30' } } } : a)),
    }));
    expect(await sync()).toMatchObject({ elementsAdded: 0, elementsUpdated: 1, elementsWithdrawn: 0, conflicts: 0 });
    const progressed = fromCarePlan(await stored(), carePlanId);
    expect(progressed.map((i) => i.id)).toEqual(two.map((i) => i.id));
    expect(progressed.find((i) => i.id === two[1]!.id)).toMatchObject({ status: 'ended', period: { end: '2026-11-30' } });
    await app.close();
  });
});


describe('a plan holding interventions under the old position ids', () => {
  it('keeps them until the CarePlan next changes at the source; then they leave, the new ids arrive, and a caseworker’s follow-up on one stays, kept for its member', { timeout: 60_000 }, async () => {
    const { citizen, carePlanId } = citizenWith('social', false);
    const legacy = mappingsBeforeActivityIdentity('social');
    const app = await appFor('social', legacy);
    const sync = async (mappings: MappingRegistry) => {
      const run = await runSync(app.deps, { tenant: '101', adapter: 'social', trigger: 'test', mappings });
      expect(run.status, JSON.stringify(run.error)).toBe('succeeded');
      return run.stats;
    };
    const enrolled = await enrol(app.deps, citizen.cpr);
    const { citizenId, memberId } = membersOf(enrolled)[0]!;
    await grantConsent(app.deps, { citizenId, source: 'social', categories: categories.social, explicitHealth: true });
    const stored = async () => (await app.deps.store.plans.get('101', enrolled.id))!;
    await sync(legacy);
    const old = fromCarePlan(await stored(), carePlanId).map((i) => i.id);
    expect(old).toEqual([0, 1, 2].map((n) => `social:careplan:${carePlanId}:activity:${n}`));

    // The caseworker plans a follow-up on the second intervention.
    const token = await app.harness.token({ tenant: '101', roles: ['caseworker'] });
    const response = await app.harness.request('/v1/registrations', {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'idempotency-key': `identity-${crypto.randomUUID()}` },
      body: JSON.stringify({ planId: enrolled.id, kind: 'followup.scheduled', followUp: { due: '2027-01-10', text: 'Hvordan går det med støtten?', elementId: old[1] } }),
    });
    expect(response.status, await response.clone().text()).toBe(202);
    const { elementId: followUpId } = (await response.json()) as { elementId: string };

    // The new mapping reads nothing new: the CarePlan's version is merged, so the old ids stay.
    expect(await sync(allMappings)).toMatchObject({ elementsAdded: 0, elementsUpdated: 0, elementsWithdrawn: 0 });
    expect(fromCarePlan(await stored(), carePlanId).map((i) => i.id)).toEqual(old);

    // The social system changes the CarePlan (its last activity is completed): the next read moves every intervention of it.
    await changeAtSource('social', carePlanId, (plan) => ({ ...plan, activity: plan.activity!.map((a, i) => (i === 2 ? { ...a, detail: { ...a.detail!, status: 'completed' } } : a)) }));
    expect(await sync(allMappings)).toMatchObject({ elementsAdded: 3, elementsWithdrawn: 3, conflicts: 0 });
    const moved = await stored();
    const now = fromCarePlan(moved, carePlanId);
    expect(now.map((i) => i.id).filter((id) => old.includes(id))).toEqual([]);
    expect(now.map((i) => i.id)).toEqual(now.map((i) => i.id).filter((id) => /:activity:key-[0-9a-f]{16}$/.test(id)));
    expect(now).toHaveLength(3);
    // The follow-up stays, no longer on an intervention, shown only to whom its intervention was.
    const followUp = moved.followUps.find((f) => f.id === followUpId)!;
    expect(followUp.elementId).toBeUndefined();
    expect(followUp.keptVisibility).toMatchObject({ memberId });
    await app.close();
  });
});
