/**
 * Nothing typed twice across a push and the next pull (R17, R18): an element a caseworker registers
 * goes to the sector systems that must hold it, and the next sync from those systems reads it back
 * as the SAME element — our registration and the source's record as its provenances — with no
 * conflict against our own value, and a sync after that changes nothing. Against the real
 * simulators over HTTP, with the real adapters, relay, reverse and forward mappings.
 */
import type { SourceAdapter } from '../../adapters/adapter';
import { beforeAll, describe, expect, it } from 'vitest';
import { type DfdgSimulator } from '../../adapters/dfdg';
import { createEducationAdapter, type EducationSimulator } from '../../adapters/education';
import { FFB_SYSTEM } from '../../adapters/fhir/systems';
import { createHealthAdapter } from '../../adapters/health/adapter';
import { createSocialAdapter } from '../../adapters/social/adapter';
import type { SectorSimulator } from '../../adapters/social/simulator';
import { activationTypes } from '../../mappings/dfdg';
import { educationProgrammes, planActivityTypes } from '../../mappings/education';
import { regionalActivities } from '../../mappings/health/codes';
import ffb from '../../mappings/social/codes/ffb.json' with { type: 'json' };
import { membersOf, type DataCategory, type Plan, type Provenance, type SourceSystem } from '../../src/model';
import { fourTargetsForThisFile, type FourTargets } from '../support/four-targets';
import type { startTestApp } from '../support/node-app';
import { enrol, grantConsent, grantPushConsents } from '../support/seed';

let dfdg: DfdgSimulator;
let education: EducationSimulator;
let social: SectorSimulator;
let health: SectorSimulator;
let app: Awaited<ReturnType<typeof startTestApp>>;
const setUp = fourTargetsForThisFile();
const { population } = setUp;
let targets: FourTargets;
beforeAll(() => {
  targets = setUp.targets();
  ({ dfdg, education, social, health, app } = targets);
});

/** What each source may bring into the plan. */
const sourceCategories: Record<SourceSystem, DataCategory[]> = {
  dfdg: ['plan-core', 'employment', 'goals', 'interventions'],
  education: ['plan-core', 'education', 'goals', 'interventions'],
  social: ['plan-core', 'social', 'goals', 'interventions'],
  health: ['health'],
};

const used = new Set<string>();
/**
 * An active plan for a citizen the named systems know (not used by another test), with consent to
 * push to every sector and to pull from the named systems, already synced once from each of them.
 */
async function syncedCitizen(systems: SourceSystem[]) {
  const known: Record<SourceSystem, Set<string>> = {
    dfdg: new Set(dfdg.knownCitizens().map((c) => c.cpr)),
    education: new Set(education.knownCitizens().map((c) => c.cpr)),
    social: new Set(social.citizens.map((c) => c.cpr)),
    health: new Set(health.citizens.map((c) => c.cpr)),
  };
  const citizen = population.find((c) => !used.has(c.cpr) && systems.every((s) => known[s].has(c.cpr)));
  if (!citizen) throw new Error(`no unused citizen known to ${systems.join(', ')}`);
  used.add(citizen.cpr);
  const plan = await enrol(app.deps, citizen.cpr);
  const { citizenId, memberId } = membersOf(plan)[0]!;
  await grantPushConsents(app.deps, citizenId, ['goals', 'interventions', 'plan-core']);
  for (const system of systems) await grantConsent(app.deps, { citizenId, source: system, categories: sourceCategories[system] });
  for (const system of systems) await targets!.sync(system);
  return { planId: plan.id, memberId, cpr: citizen.cpr };
}




const planOf = async (planId: string) => (await app.deps.store.plans.get('101', planId))!;
const elementsOf = (plan: Plan) => [...plan.goals, ...plan.interventions, ...plan.agreements, ...plan.followUps] as unknown as { id: string; provenance: Provenance[] }[];
/** Who wrote an element: `registration`, or the source system. */
const writers = (element: { provenance: Provenance[] }) => element.provenance.map((p) => (p.kind === 'registration' ? 'registration' : p.system)).sort();

/**
 * After the push, a sync from each system that holds the elements: each element is held once, by
 * our id, with our registration and each system as its provenance; nothing else in the plan says
 * the same (the `same` predicate per element); no conflict; and another sync changes nothing.
 */
async function expectReadBackOnce(planId: string, systems: SourceSystem[], expected: { elementId: string; writers: string[]; same: (element: Record<string, unknown>) => boolean }[]) {
  for (const system of systems) await targets!.sync(system);
  const plan = await planOf(planId);
  for (const { elementId, writers: who, same } of expected) {
    const sameFact = elementsOf(plan).filter((e) => same(e as unknown as Record<string, unknown>));
    expect(sameFact.map((e) => e.id), `the plan holds ${elementId} once`).toEqual([elementId]);
    expect(writers(sameFact[0]!), elementId).toEqual([...who].sort());
  }
  expect(plan.conflicts).toEqual([]);
  for (const system of systems) {
    const again = await targets!.sync(system);
    expect({ system, added: again.stats.elementsAdded, updated: again.stats.elementsUpdated, conflicts: again.stats.conflicts }).toEqual({ system, added: 0, updated: 0, conflicts: 0 });
  }
  const after = await planOf(planId);
  expect(after.version).toBe(plan.version);
  expect(after.conflicts).toEqual([]);
  return after;
}

/** The version of the system's record an element was last read from. */
function readVersion(plan: Plan, elementId: string, system: SourceSystem) {
  const entry = elementsOf(plan).find((e) => e.id === elementId)?.provenance.find((p) => p.kind === 'source' && p.system === system);
  return entry?.kind === 'source' ? entry.recordVersion : undefined;
}
/** After a change round: each element was read again, from a newer version of each system's record. */
function expectReadAgain(before: Plan, after: Plan, elementIds: string[], systems: SourceSystem[]) {
  for (const id of elementIds)
    for (const system of systems) {
      expect(readVersion(before, id, system), `${id} from ${system}`).toBeDefined();
      expect(readVersion(after, id, system), `${id} from ${system}`).not.toBe(readVersion(before, id, system));
    }
}

const titled = (title: string) => (e: Record<string, unknown>) => e.title === title;
const texted = (text: string) => (e: Record<string, unknown>) => e.text === text;

describe('a pushed element read back on the next sync is the same element (R17, R18)', () => {
  it('social: a goal and a CarePlan', { timeout: 60_000 }, async () => {
    const c = await syncedCitizen(['social']);
    const goal = await targets!.register({ planId: c.planId, kind: 'goal.added', goal: { level: 'sub', title: 'Bo i egen bolig', sector: 'social', status: 'active' } });
    const care = await targets!.register({
      planId: c.planId,
      kind: 'intervention.added',
      intervention: {
        memberId: c.memberId, sector: 'social', legalBasis: 'SEL § 85', type: { system: FFB_SYSTEM, code: ffb.concepts[0]!.code }, title: 'Socialpædagogisk støtte i hjemmet',
        responsibleUnit: 'Socialcenter', contact: { name: 'Sara Social' }, period: { start: '2026-12-01', end: '2027-06-01' },
      },
    });
    expect([goal, care].map((r) => r.deliveries.map((d) => d.target))).toEqual([['social'], ['social']]);
    await targets!.drainDelivered();
    const pushed = await expectReadBackOnce(c.planId, ['social'], [
      { elementId: goal.elementId, writers: ['registration', 'social'], same: titled('Bo i egen bolig') },
      { elementId: care.elementId, writers: ['registration', 'social'], same: titled('Socialpædagogisk støtte i hjemmet') },
    ]);
    // Changed here, pushed as an update of the same resources, read back: still one each, our content.
    await targets!.register({ planId: c.planId, kind: 'goal.changed', goalId: goal.elementId, changes: { title: 'Bo i egen bolig med støtte' } });
    await targets!.register({ planId: c.planId, kind: 'intervention.changed', interventionId: care.elementId, changes: { title: 'Socialpædagogisk støtte, 4 timer' } });
    await targets!.drainDelivered();
    const changed = await expectReadBackOnce(c.planId, ['social'], [
      { elementId: goal.elementId, writers: ['registration', 'registration', 'social'], same: titled('Bo i egen bolig med støtte') },
      { elementId: care.elementId, writers: ['registration', 'registration', 'social'], same: titled('Socialpædagogisk støtte, 4 timer') },
    ]);
    expectReadAgain(pushed, changed, [goal.elementId, care.elementId], ['social']);
  });

  it('social: a CarePlan the social system makes for a goal we pushed serves our goal', { timeout: 60_000 }, async () => {
    const c = await syncedCitizen(['social']);
    const goal = await targets!.register({ planId: c.planId, kind: 'goal.added', goal: { level: 'sub', title: 'Komme i beskæftigelse', sector: 'social', status: 'active' } });
    await targets!.drainDelivered();
    const [row] = await app.deps.store.outbox.forRegistration('101', goal.id);
    const goalAtSocial = (JSON.parse(row!.receipt!) as { targetId: string }).targetId;
    // The social system's own caseworker plans an intervention for that goal (no Én plan identifier).
    const cpr = [...used].at(-1)!;
    const code = ffb.concepts[1]!.code;
    await createSocialAdapter({ baseUrl: social.baseUrl, timeoutMs: 2000 }).push(
      {
        operation: 'intervention.upsert',
        cpr,
        payload: {
          resourceType: 'CarePlan', status: 'active', intent: 'plan', title: 'Mentorstøtte',
          activity: [{ detail: { code: { coding: [{ system: FFB_SYSTEM, code }] }, status: 'in-progress', scheduledPeriod: { start: '2026-12-01' }, goal: [{ reference: `Goal/${goalAtSocial}` }], description: 'Mentorstøtte' } }],
        },
      },
      `social-own-${crypto.randomUUID()}`,
    );
    const run = await targets!.sync('social');
    expect(run.stats.referencesUnresolved).toBe(0);
    const plan = await planOf(c.planId);
    expect(plan.goals.filter((g) => g.title === 'Komme i beskæftigelse').map((g) => g.id)).toEqual([goal.elementId]);
    expect(plan.interventions.filter((i) => i.title === 'Mentorstøtte').map((i) => i.goalIds)).toEqual([[goal.elementId]]);
    const again = await targets!.sync('social');
    expect([again.stats.elementsAdded, again.stats.elementsUpdated, again.stats.conflicts]).toEqual([0, 0, 0]);
    expect((await planOf(c.planId)).version).toBe(plan.version);
  });

  it('health: a proposed goal; a requested service is not read back (the region is not read for ServiceRequests)', { timeout: 60_000 }, async () => {
    const c = await syncedCitizen(['health']);
    const goal = await targets!.register({ planId: c.planId, kind: 'goal.added', goal: { level: 'sub', title: 'Stabil medicinering', sector: 'health', status: 'proposed' } });
    const activity = regionalActivities.concepts[0]!;
    const request = await targets!.register({
      planId: c.planId,
      kind: 'intervention.added',
      intervention: {
        memberId: c.memberId, sector: 'health', legalBasis: 'Sundhedsloven § 140', type: { system: regionalActivities.system, code: activity.code }, title: 'Udskrivningskonference om medicinering',
        responsibleUnit: 'Sundhed og Omsorg', contact: { name: 'Sofie Sundhed' }, period: { start: '2026-12-01', end: '2027-03-01' },
      },
    });
    expect([goal, request].map((r) => r.deliveries.map((d) => d.target))).toEqual([['health'], ['health']]);
    await targets!.drainDelivered();
    const pushed = await expectReadBackOnce(c.planId, ['health'], [
      { elementId: goal.elementId, writers: ['registration', 'health'], same: titled('Stabil medicinering') },
      { elementId: request.elementId, writers: ['registration'], same: titled('Udskrivningskonference om medicinering') },
    ]);
    await targets!.register({ planId: c.planId, kind: 'goal.changed', goalId: goal.elementId, changes: { title: 'Stabil medicinering hjemme', status: 'active' } });
    await targets!.drainDelivered();
    const changed = await expectReadBackOnce(c.planId, ['health'], [{ elementId: goal.elementId, writers: ['registration', 'registration', 'health'], same: titled('Stabil medicinering hjemme') }]);
    expectReadAgain(pushed, changed, [goal.elementId], ['health']);
    expect((await planOf(c.planId)).goals.find((g) => g.id === goal.elementId)).toMatchObject({ status: 'active' });
  });

  it('DFDG: an activity, a job goal, a job-search agreement and a follow-up', { timeout: 60_000 }, async () => {
    const c = await syncedCitizen(['dfdg']);
    const activity = await targets!.register({
      planId: c.planId,
      kind: 'intervention.added',
      intervention: {
        memberId: c.memberId, sector: 'employment', legalBasis: 'LAB § 32', type: { system: activationTypes.system, code: activationTypes.codes[0]!.code }, title: 'Virksomhedspraktik hos tømrer',
        responsibleUnit: 'Jobcenter', contact: { name: 'Karin Kontakt' }, period: { start: '2026-12-01', end: '2027-03-01' },
      },
    });
    const goal = await targets!.register({ planId: c.planId, kind: 'goal.added', goal: { level: 'overall', title: 'Job som tømrer', sector: 'employment', topics: ['job-goal'] } });
    const agreement = await targets!.register({ planId: c.planId, kind: 'agreement.added', agreement: { text: 'Søg 3 job om ugen', agreedAt: '2026-11-23', parties: ['borger', 'jobcenter'], sector: 'employment', topics: ['job-search'] } });
    const followUp = await targets!.register({ planId: c.planId, kind: 'followup.scheduled', followUp: { due: '2027-01-10', text: 'Opfølgning på jobsøgning', elementId: goal.elementId } });
    expect([activity, goal, agreement, followUp].map((r) => r.deliveries.map((d) => d.target))).toEqual([['dfdg'], ['dfdg'], ['dfdg'], ['dfdg']]);
    await targets!.drainDelivered();
    const pushed = await expectReadBackOnce(c.planId, ['dfdg'], [
      { elementId: activity.elementId, writers: ['registration', 'dfdg'], same: titled('Virksomhedspraktik hos tømrer') },
      { elementId: goal.elementId, writers: ['registration', 'dfdg'], same: titled('Job som tømrer') },
      { elementId: agreement.elementId, writers: ['registration', 'dfdg'], same: texted('Søg 3 job om ugen') },
      { elementId: followUp.elementId, writers: ['registration', 'dfdg'], same: texted('Opfølgning på jobsøgning') },
    ]);
    await targets!.register({ planId: c.planId, kind: 'goal.changed', goalId: goal.elementId, changes: { title: 'Job som tømrer (fuld tid)' } });
    await targets!.register({ planId: c.planId, kind: 'intervention.changed', interventionId: activity.elementId, changes: { hoursPerWeek: 20 } });
    await targets!.register({ planId: c.planId, kind: 'followup.done', followUpId: followUp.elementId });
    await targets!.drainDelivered();
    const changed = await expectReadBackOnce(c.planId, ['dfdg'], [
      { elementId: activity.elementId, writers: ['registration', 'registration', 'dfdg'], same: titled('Virksomhedspraktik hos tømrer') },
      { elementId: goal.elementId, writers: ['registration', 'registration', 'dfdg'], same: titled('Job som tømrer (fuld tid)') },
      { elementId: followUp.elementId, writers: ['registration', 'registration', 'dfdg'], same: texted('Opfølgning på jobsøgning') },
    ]);
    expectReadAgain(pushed, changed, [activity.elementId, goal.elementId, followUp.elementId], ['dfdg']);
    const plan = await planOf(c.planId);
    expect(plan.interventions.find((i) => i.id === activity.elementId)).toMatchObject({ hoursPerWeek: 20 });
    expect(plan.followUps.find((f) => f.id === followUp.elementId)).toMatchObject({ done: true });
  });

  it('Ungedatabasen: a planned activity, which DFDG holds too (R20)', { timeout: 60_000 }, async () => {
    const c = await syncedCitizen(['education', 'dfdg']);
    const activity = await targets!.register({
      planId: c.planId,
      kind: 'intervention.added',
      intervention: {
        memberId: c.memberId, sector: 'education', legalBasis: 'KUI § 2 a', type: { system: planActivityTypes.system, code: planActivityTypes.codes[0]!.code }, title: 'Brobygning til tømreruddannelsen',
        responsibleUnit: 'Ungeindsatsen', contact: { name: 'Vera Vejleder' }, period: { start: '2026-12-01', end: '2027-03-01' },
      },
    });
    expect(activity.deliveries.map((d) => d.target).sort()).toEqual(['dfdg', 'education']);
    await targets!.drainDelivered();
    const pushed = await expectReadBackOnce(c.planId, ['education', 'dfdg'], [
      { elementId: activity.elementId, writers: ['registration', 'education', 'dfdg'], same: titled('Brobygning til tømreruddannelsen') },
    ]);
    await targets!.register({ planId: c.planId, kind: 'intervention.changed', interventionId: activity.elementId, changes: { title: 'Brobygning, to uger' } });
    await targets!.drainDelivered();
    const changed = await expectReadBackOnce(c.planId, ['education', 'dfdg'], [
      { elementId: activity.elementId, writers: ['registration', 'registration', 'education', 'dfdg'], same: titled('Brobygning, to uger') },
    ]);
    expectReadAgain(pushed, changed, [activity.elementId], ['education', 'dfdg']);
  });});

/**
 * Targets whose format has no field for our element's id (Ungedatabasen's one education goal and one
 * next follow-up per plan), and elements of another source sent on to DFDG (R20): what the target
 * holds for one of our elements is recorded when the delivery succeeds, and read back onto it.
 */
describe('a pushed element the target cannot name by our id is read back as that element (R17, R18, R20)', () => {
  /** The follow-up Ungedatabasen's plan holds (its NaesteOpfoelgning), as the first sync read it. */
  async function educationFollowUpOf(planId: string) {
    const held = (await planOf(planId)).followUps.filter((f) => f.id.startsWith('education:plan-follow-up:'));
    expect(held.map((f) => f.done)).toEqual([false]);
    return held[0]!;
  }

  it('Ungedatabasen: the education goal we register replaces the plan’s goal there and comes back as ours', { timeout: 60_000 }, async () => {
    const c = await syncedCitizen(['education']);
    const theirGoals = (await planOf(c.planId)).goals.filter((g) => g.provenance.every((p) => p.kind === 'source' && p.system === 'education')).map((g) => g.id);
    expect(theirGoals.length).toBeGreaterThan(0);
    const programme = educationProgrammes.codes[0]!.code;
    const goal = await targets!.register({
      planId: c.planId,
      kind: 'goal.added',
      goal: { level: 'overall', title: 'Erhvervsuddannelse som tømrer', sector: 'education', topics: ['education-goal'], code: { system: educationProgrammes.system, code: programme }, memberId: c.memberId },
    });
    expect(goal.deliveries.map((d) => d.target)).toEqual(['education']);
    await targets!.drainDelivered();
    await expectReadBackOnce(c.planId, ['education'], [{ elementId: goal.elementId, writers: ['registration', 'education'], same: titled('Erhvervsuddannelse som tømrer') }]);
    // Ungedatabasen's planned activities serve the plan's goal, which is ours now; the goal ours replaced there is no longer said, so it left the plan.
    const plan = await planOf(c.planId);
    expect(plan.goals.filter((g) => theirGoals.includes(g.id))).toEqual([]);
    const activities = plan.interventions.filter((i) => i.id.startsWith('education:plan-activity:'));
    expect(activities.length).toBeGreaterThan(0);
    for (const activity of activities) expect(activity.goalIds).toEqual([goal.elementId]);
  });

  it('Ungedatabasen: the next follow-up we send comes back as ours, with no conflict on the one marked done', { timeout: 60_000 }, async () => {
    const c = await syncedCitizen(['education']);
    const theirs = await educationFollowUpOf(c.planId);
    // Ours is scheduled; theirs (overdue) is held and marked done, so ours is the plan's next one at Ungedatabasen.
    const ours = await targets!.register({ planId: c.planId, kind: 'followup.scheduled', followUp: { due: '2027-01-10', text: 'Opfølgning på valg af uddannelse', elementId: theirs.elementId } });
    const done = await targets!.register({ planId: c.planId, kind: 'followup.done', followUpId: theirs.id });
    expect(done.deliveries.map((d) => d.target).sort()).toEqual(['dfdg', 'education']);
    await targets!.drainDelivered();
    const plan = await expectReadBackOnce(c.planId, ['education'], [
      { elementId: ours.elementId, writers: ['registration', 'education'], same: (f) => f.due === '2027-01-10' },
      // Ungedatabasen holds one next follow-up, ours now: its plan record no longer says theirs, which stays ours (marked done) alone.
      { elementId: theirs.id, writers: ['registration'], same: (f) => f.id === theirs.id },
    ]);
    expect(plan.followUps.find((f) => f.id === theirs.id)).toMatchObject({ done: true, due: theirs.due });
    expect(plan.followUps.find((f) => f.id === ours.elementId)).toMatchObject({ done: false, text: 'Opfølgning på valg af uddannelse' });
  });

  it('Ungedatabasen’s follow-up marked done reaches DFDG under a stable id and comes back as the same follow-up (R20)', { timeout: 60_000 }, async () => {
    const c = await syncedCitizen(['education', 'dfdg']);
    const theirs = await educationFollowUpOf(c.planId);
    const done = await targets!.register({ planId: c.planId, kind: 'followup.done', followUpId: theirs.id });
    expect(done.deliveries.map((d) => d.target)).toEqual(['dfdg']);
    await targets!.drainDelivered();
    await expectReadBackOnce(c.planId, ['education', 'dfdg'], [{ elementId: theirs.id, writers: ['education', 'registration', 'dfdg'], same: texted(theirs.text) }]);
    // Changed again here: DFDG updates the record it holds, it does not make another.
    const again = await targets!.register({ planId: c.planId, kind: 'followup.scheduled', followUp: { due: '2027-02-01', text: 'Opfølgning efter brobygning', elementId: theirs.elementId } });
    await targets!.drainDelivered();
    await expectReadBackOnce(c.planId, ['education', 'dfdg'], [
      // Ungedatabasen's one next follow-up is the new one now: it no longer says the one marked done, which DFDG still holds.
      { elementId: theirs.id, writers: ['registration', 'dfdg'], same: texted(theirs.text) },
      { elementId: again.elementId, writers: ['registration', 'education', 'dfdg'], same: texted('Opfølgning efter brobygning') },
    ]);
  });

  it('Ungedatabasen restating a follow-up marked done here (its plan record changed for another reason) is no conflict; its new date is one', { timeout: 60_000 }, async () => {
    const c = await syncedCitizen(['education', 'dfdg']);
    const theirs = await educationFollowUpOf(c.planId);
    // No other follow-up is open, so Ungedatabasen is not told (its format cannot clear NaesteOpfoelgning).
    const done = await targets!.register({ planId: c.planId, kind: 'followup.done', followUpId: theirs.id });
    expect(done.deliveries.map((d) => d.target)).toEqual(['dfdg']);
    await targets!.drainDelivered();
    const before = await expectReadBackOnce(c.planId, ['education', 'dfdg'], [{ elementId: theirs.id, writers: ['education', 'registration', 'dfdg'], same: texted(theirs.text) }]);
    const atUngedatabasen = createEducationAdapter({ baseUrl: education.url, municipalityCode: '101', timeoutMs: 2000 });

    // A new guide there: the plan record changes, and its next follow-up is restated as it was ("open, due <date>").
    await atUngedatabasen.push({ operation: 'education-plan.update', cpr: c.cpr, payload: { Vejleder: { Navn: 'Ny Vejleder', Enhed: 'Ungeindsatsen' } } }, `guide-${crypto.randomUUID()}`);
    const restated = await targets!.sync('education');
    expect(restated.stats.conflicts).toBe(0);
    const after = await planOf(c.planId);
    expect(readVersion(after, theirs.id, 'education'), 'the follow-up was read again').not.toBe(readVersion(before, theirs.id, 'education'));
    expect(after.followUps.find((f) => f.id === theirs.id)).toMatchObject({ done: true, due: theirs.due });
    expect(after.conflicts).toEqual([]);

    // A new date there is a change of its own, made after ours: flagged for a person.
    await atUngedatabasen.push({ operation: 'education-plan.update', cpr: c.cpr, payload: { NaesteOpfoelgning: '2027-03-01' } }, `date-${crypto.randomUUID()}`);
    const moved = await targets!.sync('education');
    expect(moved.stats.conflicts).toBe(1);
    const flagged = await planOf(c.planId);
    expect(flagged.followUps.find((f) => f.id === theirs.id)).toMatchObject({ done: true, due: theirs.due });
    expect(flagged.conflicts.map((k) => ({ elementId: k.elementId, field: k.field, values: k.values.map((v) => v.value), open: !k.resolvedAt }))).toEqual([
      { elementId: theirs.id, field: 'due', values: [{ due: theirs.due }, { due: '2027-03-01' }], open: true },
    ]);
  });
});

/**
 * A change registered here of an element that is not ours, sent to a FHIR system: the system's own
 * Goal (read in by a sync) is patched in place, field by field, keeping what we do not set, and no
 * second one is made there; another source's element comes back from the server that got it as that
 * element (decision 0005, "Later (2026-11-24, session 18)").
 */
describe('a change here of an element a FHIR system did not get from us (R17, R18)', () => {
  /** The citizen's Goals as the FHIR system holds them, and the one behind our element `elementId`. */
  function goalsAt(adapter: Pick<SourceAdapter, 'pull'>, system: 'social' | 'health', cpr: string, elementId: string) {
    const all = async () => (await adapter.pull({ citizenId: 'c', cpr })).records.filter((r) => r.recordType === 'Goal');
    const theirs = async () => (await all()).find((r) => `${system}:goal:${r.recordId}` === elementId) as { version: string; payload: Record<string, any> } | undefined;
    return { all, theirs };
  }

  it('social: a change here of the social system’s own goal updates that Goal in place, keeping their other fields', { timeout: 60_000 }, async () => {
    const c = await syncedCitizen(['social']);
    const theirs = (await planOf(c.planId)).goals.find((g) => g.id.startsWith('social:goal:') && g.sector === 'social');
    expect(theirs, 'the social system holds a social goal of the citizen').toBeDefined();
    const { all: goalsAtSocial, theirs: theirGoal } = goalsAt(createSocialAdapter({ baseUrl: social.baseUrl, timeoutMs: 2000 }), 'social', c.cpr, theirs!.id);
    const before = await theirGoal();
    const countBefore = (await goalsAtSocial()).length;

    const changed = await targets!.register({ planId: c.planId, kind: 'goal.changed', goalId: theirs!.id, changes: { title: 'Bo i egen bolig, ændret i Én plan' } });
    expect(changed.notRouted).toEqual([]);
    expect(changed.deliveries.map((d) => d.target)).toEqual(['social']);
    await targets!.drainDelivered();
    const after = await theirGoal();
    expect(after?.payload.description.text, 'their own Goal carries our change').toBe('Bo i egen bolig, ændret i Én plan');
    expect(after?.version).not.toBe(before!.version);
    const { description: _d, meta: _m, ...theirFields } = before!.payload;
    expect(after?.payload, 'every other field of theirs is kept').toMatchObject(theirFields);
    expect(after?.payload.description.coding).toEqual(before!.payload.description.coding);
    expect((await goalsAtSocial()).length, 'no second Goal at the social system').toBe(countBefore);

    const goalsHere = (await planOf(c.planId)).goals.length;
    await targets!.sync('social');
    const plan = await planOf(c.planId);
    expect(plan.goals).toHaveLength(goalsHere);
    expect(plan.goals.filter((g) => g.title === 'Bo i egen bolig, ændret i Én plan').map((g) => g.id)).toEqual([theirs!.id]);
    expect(plan.conflicts).toEqual([]);
  });

  it('a goal of the social system’s about health, changed here, reaches the region and comes back from there as the same goal', { timeout: 60_000 }, async () => {
    const c = await syncedCitizen(['social', 'health']);
    const { citizenId } = membersOf(await planOf(c.planId))[0]!;
    await grantConsent(app.deps, { citizenId, source: 'social', categories: ['health'] });
    // The social system's own caseworker records a goal coded outside KL's lists: health, failing closed.
    await createSocialAdapter({ baseUrl: social.baseUrl, timeoutMs: 2000 }).push(
      { operation: 'goal.upsert', cpr: c.cpr, payload: { resourceType: 'Goal', lifecycleStatus: 'active', description: { text: 'Færre indlæggelser' }, category: [{ coding: [{ system: 'urn:oid:1.2.208.176.2.4', code: 'DF20' }] }] } },
      `social-own-${crypto.randomUUID()}`,
    );
    await targets!.sync('social');
    const theirs = (await planOf(c.planId)).goals.find((g) => g.title === 'Færre indlæggelser');
    expect(theirs).toMatchObject({ id: expect.stringMatching(/^social:goal:/), sector: 'health' });

    const changed = await targets!.register({ planId: c.planId, kind: 'goal.changed', goalId: theirs!.id, changes: { title: 'Færre indlæggelser i 2027' } });
    expect(changed.deliveries.map((d) => d.target)).toEqual(['health']);
    await targets!.drainDelivered();
    await expectReadBackOnce(c.planId, ['social', 'health'], [{ elementId: theirs!.id, writers: ['social', 'registration', 'health'], same: titled('Færre indlæggelser i 2027') }]);
  });

  it('health: a change here of the region’s own goal updates that Goal in place, keeping their other fields', { timeout: 60_000 }, async () => {
    const c = await syncedCitizen(['health']);
    const theirs = (await planOf(c.planId)).goals.find((g) => g.id.startsWith('health:goal:'));
    expect(theirs, 'the region holds a goal of the citizen').toBeDefined();
    const { all: goalsAtRegion, theirs: theirGoal } = goalsAt(createHealthAdapter({ baseUrl: health.baseUrl, timeoutMs: 2000 }), 'health', c.cpr, theirs!.id);
    const before = await theirGoal();
    const countBefore = (await goalsAtRegion()).length;

    const changed = await targets!.register({ planId: c.planId, kind: 'goal.changed', goalId: theirs!.id, changes: { status: 'achieved' } });
    expect(changed.notRouted).toEqual([]);
    expect(changed.deliveries.map((d) => d.target)).toEqual(['health']);
    await targets!.drainDelivered();
    const after = await theirGoal();
    expect(after?.payload.lifecycleStatus, 'their own Goal carries our change').toBe('completed');
    expect(after?.version).not.toBe(before!.version);
    const { lifecycleStatus: _l, achievementStatus: _a, meta: _m, ...theirFields } = before!.payload;
    expect(after?.payload, 'every other field of theirs is kept').toMatchObject(theirFields);
    expect((await goalsAtRegion()).length, 'no second Goal at the region').toBe(countBefore);

    const goalsHere = (await planOf(c.planId)).goals.length;
    await targets!.sync('health');
    const plan = await planOf(c.planId);
    expect(plan.goals).toHaveLength(goalsHere);
    expect(plan.goals.find((g) => g.id === theirs!.id)).toMatchObject({ status: 'achieved' });
    expect(plan.conflicts).toEqual([]);
  });
});
