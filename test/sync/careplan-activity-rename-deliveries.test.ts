/**
 * A CarePlan activity moved to its new id by a re-read under the newer mapping (decision 0003,
 * session 19) keeps addressing what a target already holds for it. A regional CarePlan's activities
 * are the CarePlan interventions a target takes: a caseworker's change of one goes to the region as a
 * ServiceRequest, and the region's receipt names it. (A social CarePlan's go nowhere: the social
 * system's own records are not written, and DFDG takes no social intervention.) Before, the deliveries kept the old id, so the
 * next change of the moved intervention found no receipt and made a second ServiceRequest, and ending
 * it was not routed at all ("the region was never sent a request"). The real simulators over HTTP,
 * real adapters, engine, relay, store and API.
 */
import type { ServiceRequest } from '@medplum/fhirtypes';
import { beforeAll, describe, expect, it } from 'vitest';
import { ENPLAN_ELEMENT_SYSTEM } from '../../adapters/fhir/systems';
import { generatePopulation } from '../../adapters/shared/population';
import { membersOf, type Plan } from '../../src/model';
import { runSync } from '../../src/sync/engine';
import { mappingsBeforeActivityIdentity } from '../support/position-named-careplans';
import { fourTargetsForThisFile, type FourTargets } from '../support/four-targets';
import { enrol, grantConsent, grantPushConsents } from '../support/seed';

const setUp = fourTargetsForThisFile({ population: generatePopulation(120, 5151), relay: { leaseMs: 10_000, pushTimeoutMs: 3_000, random: () => 0.5 } });
const { clock, population } = setUp;
let targets: FourTargets;
beforeAll(() => {
  targets = setUp.targets();
});

const legacy = mappingsBeforeActivityIdentity('health');

const used = new Set<string>();
/** The open interventions of the plan read from regional CarePlans, under position ids. */
const openCarePlanActivities = (plan: Plan) => plan.interventions.filter((i) => /^health:careplan:.+:activity:\d+$/.test(i.id) && (i.status === 'planned' || i.status === 'active'));

/**
 * A citizen the region knows (not used by another test here), with an active plan, consent to pull
 * from the region and to push to it, synced under health.careplan 1.0.0; one of their open CarePlan
 * interventions under its position id.
 */
async function interventionUnderPositionId() {
  for (const citizen of targets.health.citizens) {
    if (used.has(citizen.cpr)) continue;
    used.add(citizen.cpr);
    const { app } = targets;
    const plan = await enrol(app.deps, citizen.cpr);
    const { citizenId } = membersOf(plan)[0]!;
    await grantPushConsents(app.deps, citizenId, ['goals', 'interventions', 'plan-core']);
    await grantConsent(app.deps, { citizenId, source: 'health', categories: ['health'] });
    clock.advance(60_000);
    const run = await runSync(app.deps, { tenant: '101', adapter: 'health', trigger: 'test', mappings: legacy });
    expect(run.status, JSON.stringify(run.error)).toBe('succeeded');
    const stored = async () => (await app.deps.store.plans.get('101', plan.id))!;
    const [intervention] = openCarePlanActivities(await stored());
    if (!intervention) continue;
    /** The same CarePlan version merged again, now by 1.1.0: the merged-record marks forgotten, the citizen read in full (as a new consent grant does). */
    const rereadUnderNewMapping = async () => {
      const { sync: marks } = app.deps.store;
      await app.deps.store.audit.appendMany('101', [], [marks.forgetAppliedStatement('101', 'health', citizenId), marks.forgetPulledFromStatement('101', 'health', [citizenId])]);
      await targets.sync('health');
      const renamed = (await app.deps.store.audit.list('101', { citizenId })).filter((a) => a.action === 'plan.element-renamed');
      const moves = renamed.flatMap((a) => (a.detail as { renamedElements: { from: string; to: string }[] }).renamedElements);
      const to = moves.find((m) => m.from === intervention.id)?.to;
      expect(to, 'the intervention moved to its new id').toMatch(/^health:careplan:.+:activity:(id|key)-[0-9a-f]{16}$/);
      expect((await stored()).interventions.map((i) => i.id)).not.toContain(intervention.id);
      return to!;
    };
    return { planId: plan.id, citizenId, intervention, stored, rereadUnderNewMapping };
  }
  throw new Error('no unused citizen with an open regional CarePlan activity');
}

const changed = (planId: string, interventionId: string, title: string) => ({ planId, kind: 'intervention.changed', interventionId, changes: { title } });

/** What a delivery's receipt names at the region. */
async function receiptOf(outboxId: string) {
  const row = (await targets.app.deps.store.outbox.get('101', outboxId))!;
  expect(row.status).toBe('delivered');
  return JSON.parse(row.receipt!) as { targetId: string; version?: string };
}

/** The ServiceRequests at the region naming either id of the element (its identifier). */
async function requestsNaming(...elementIds: string[]) {
  const found: ServiceRequest[] = [];
  for (const id of elementIds) {
    const response = await fetch(`${targets.health.baseUrl}/ServiceRequest?identifier=${encodeURIComponent(`${ENPLAN_ELEMENT_SYSTEM}|${id}`)}`, { headers: { accept: 'application/fhir+json' } });
    expect(response.status).toBe(200);
    const bundle = (await response.json()) as { entry?: { resource: ServiceRequest }[] };
    found.push(...(bundle.entry ?? []).map((e) => e.resource));
  }
  return found;
}

describe('a CarePlan activity moved to its new id, and what the region holds for it', () => {
  it('a change after the move updates the ServiceRequest the region already holds — not a second one', { timeout: 60_000 }, async () => {
    const { planId, intervention, rereadUnderNewMapping } = await interventionUnderPositionId();
    const first = await targets.register(changed(planId, intervention.id, 'Koordinerende samtale, aftalt med borgeren'));
    expect(first.deliveries.map((d) => d.target)).toEqual(['health']);
    await targets.drainDelivered();
    const { targetId } = await receiptOf(first.deliveries[0]!.outboxId);

    const moved = await rereadUnderNewMapping();
    const after = await targets.register(changed(planId, moved, 'Koordinerende samtale, flyttet til torsdag'));
    expect(after.deliveries.map((d) => d.target)).toEqual(['health']);
    await targets.drainDelivered();
    // The same request, updated with the newest content and now naming the element by its new id.
    expect((await receiptOf(after.deliveries[0]!.outboxId)).targetId).toBe(targetId);
    const held = await requestsNaming(intervention.id, moved);
    expect(held.map((r) => r.id)).toEqual([targetId]);
    expect(held[0]).toMatchObject({ identifier: [{ system: ENPLAN_ELEMENT_SYSTEM, value: moved }], note: [{ text: expect.stringContaining('flyttet til torsdag') }] });
  });

  it('a delivery queued before the move, and the change after it, reach one ServiceRequest', { timeout: 60_000 }, async () => {
    const { planId, intervention, rereadUnderNewMapping } = await interventionUnderPositionId();
    // Queued under the position id, not yet sent when the re-read moves the intervention.
    const queued = await targets.register(changed(planId, intervention.id, 'Udskrivningskonference aftalt'));
    expect(queued.deliveries.map((d) => d.target)).toEqual(['health']);
    const moved = await rereadUnderNewMapping();
    const after = await targets.register(changed(planId, moved, 'Udskrivningskonference, med pårørende'));
    await targets.drainDelivered();

    const { targetId } = await receiptOf(queued.deliveries[0]!.outboxId);
    expect((await receiptOf(after.deliveries[0]!.outboxId)).targetId).toBe(targetId);
    const held = await requestsNaming(intervention.id, moved);
    expect(held.map((r) => r.id)).toEqual([targetId]);
    expect(held[0]).toMatchObject({ identifier: [{ value: moved }], note: [{ text: expect.stringContaining('med pårørende') }] });
  });

  it('ending a moved intervention is sent to the region, and completes the request it holds', { timeout: 60_000 }, async () => {
    const { planId, intervention, rereadUnderNewMapping } = await interventionUnderPositionId();
    const first = await targets.register(changed(planId, intervention.id, 'Opfølgende hjemmebesøg'));
    await targets.drainDelivered();
    const { targetId } = await receiptOf(first.deliveries[0]!.outboxId);

    const moved = await rereadUnderNewMapping();
    const end = await targets.register({ planId, kind: 'intervention.ended', interventionId: moved, endDate: '2027-02-01' });
    expect(end.notRouted).toEqual([]);
    expect(end.deliveries.map((d) => d.target)).toEqual(['health']);
    await targets.drainDelivered();
    expect((await receiptOf(end.deliveries[0]!.outboxId)).targetId).toBe(targetId);
    const held = await requestsNaming(intervention.id, moved);
    expect(held.map((r) => [r.id, r.status])).toEqual([[targetId, 'completed']]);
  });

  it('never goes to a target that derives its record id from our element id: DFDG takes no health intervention, Ungedatabasen only education', { timeout: 60_000 }, async () => {
    // Why only receipts are re-pointed (decision 0003): were this routed, a moved id would name a new DFDG activity.
    const { planId, citizenId, rereadUnderNewMapping } = await interventionUnderPositionId();
    for (const recipient of ['employment', 'education']) await grantConsent(targets.app.deps, { citizenId, source: 'enplan', recipient, categories: ['health'], explicitHealth: true });
    const moved = await rereadUnderNewMapping();
    const answer = await targets.register({ planId, kind: 'intervention.changed', interventionId: moved, changes: { legalBasis: 'LAB § 32' } });
    expect(answer.deliveries.map((d) => d.target)).toEqual(['health']);
    expect(answer.notRouted).toEqual([expect.objectContaining({ target: 'dfdg', cause: 'target', reason: expect.stringContaining('not health') })]);
  });
});
