/**
 * Whose words an element holds after the writer of its content leaves it (R9, R10, decision 0026):
 * a consent revoked, or a source taking its word back, while another writer stays. The last
 * provenance entry wrote the content and decides who may see it; when that entry goes, the content
 * must not pass to the writer that stays — it may have reached one department alone, or may no
 * longer flow at all. The rules on plan documents (merge, revocation, the caseworker's view), then
 * the whole path: the real health simulator over HTTP, libSQL, the consent API and the sync.
 */
import type { CareTeam } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { createDfdgAdapter } from '../../adapters/dfdg';
import { createHealthAdapter } from '../../adapters/health/adapter';
import { healthRecordsFor } from '../../adapters/health/records';
import { generatePopulation } from '../../adapters/shared/population';
import { removeRevokedData } from '../../src/consent';
import { membersOf, type ConsentGrant, type Department, type Fragment, type Plan } from '../../src/model';
import { allMappings } from '../../src/sync/all-mappings';
import { runSync } from '../../src/sync/engine';
import { mergeFragments, type FragmentOrigin } from '../../src/sync/merge';
import { readsAgainSettled } from '../../src/sync/on-demand';
import { viewOf } from '../../src/views';
import { byRegistration, familyMember, intervention as interventionElement, planWith } from '../support/elements';
import { startTestApp } from '../support/node-app';
import { enrol, grantConsent } from '../support/seed';
import { dfdgAndHealthSimulators } from '../support/sector-simulators';

const member = familyMember('m-1', 'adult', '1984-02-01');
const times = ['2026-11-24T09:00:00.000Z', '2026-11-24T10:00:00.000Z', '2026-11-24T11:00:00.000Z', '2026-11-24T12:00:00.000Z', '2026-11-24T13:00:00.000Z'];
const shared = 'Hjemløshed';
const healthWords = 'Indlagt på psykiatrisk afdeling';

const note = (text: string): Fragment => ({ kind: 'situation', elementId: 'n1', category: 'health', content: { summary: text, barriers: [text], resources: [] } });
/** The region's flow reached the health department alone; the social system's every party of the plan. */
const health = (recordVersion: string): FragmentOrigin => ({ system: 'health', recordId: 'h1', recordVersion, mappingId: 'health.condition', mappingVersion: '1.0.0', consentRef: 'g-health', category: 'health', audience: ['health'] });
const social = (recordVersion: string): FragmentOrigin => ({ system: 'social', recordId: 's1', recordVersion, mappingId: 'social.condition', mappingVersion: '1.0.0', consentRef: 'g-social', category: 'social' });
const merged = (plan: Plan, fragment: Fragment, origin: FragmentOrigin, at: string) => mergeFragments(plan, [{ fragment, origin, memberId: 'm-1' }], { at, ruleVersion: 'r1' }).plan;

/** Social said the barrier first; health joined saying the same, then changed it in its own words: health wrote the content. */
function healthWroteLast(): Plan {
  let plan = merged(planWith([member]), note(shared), social('1'), times[0]!);
  plan = merged(plan, note(shared), health('1'), times[1]!);
  plan = merged(plan, note(healthWords), health('2'), times[2]!);
  expect(plan.situationNotes[0]!.provenance.map((p) => p.kind === 'source' && p.system)).toEqual(['social', 'health']);
  return plan;
}

const grant = (id: string, source: 'health' | 'social', recipient: ConsentGrant['recipient'], revoked: boolean): ConsentGrant => ({
  id,
  tenant: '101',
  citizenId: member.citizenId,
  grantedBy: { citizenId: member.citizenId, capacity: 'self' },
  source,
  recipient,
  categories: [source],
  explicitHealth: source === 'health',
  purpose: 'Samlet plan',
  validFrom: '2026-11-01',
  signed: { method: 'mitid', documentRef: 'doc', textVersion: 'v3', language: 'da' },
  createdAt: '2026-11-01T09:00:00.000Z',
  ...(revoked ? { revokedAt: times[3]!, revokedBy: 'citizen:x' } : {}),
});
const revokeHealth = (plan: Plan) =>
  removeRevokedData(plan, { grantId: 'g-health', citizenId: member.citizenId, birthDate: member.birthDate, at: new Date(times[3]!), grants: [grant('g-health', 'health', 'health', true), grant('g-social', 'social', 'enplan', false)], legalBases: [] });

const seenBy = (plan: Plan, department: Department) => JSON.stringify(viewOf(plan, { kind: 'caseworker', department }));

describe('the writer of an element’s content leaves it while another writer stays', () => {
  it('before: only the health department sees the region’s words', () => {
    const plan = healthWroteLast();
    expect(seenBy(plan, 'health')).toContain(healthWords);
    expect(seenBy(plan, 'employment')).not.toContain(healthWords);
  });

  it('a revoked grant takes the content its flow wrote with it, and the source that stays is read again', () => {
    const outcome = revokeHealth(healthWroteLast());
    expect(seenBy(outcome.plan, 'employment')).not.toContain(healthWords);
    expect(JSON.stringify(outcome.plan)).not.toContain(healthWords);
    expect(outcome.removed).toEqual([{ list: 'situationNotes', id: 'n1' }]);
    expect(outcome.readAgain).toEqual(['social']);
  });

  it('a source taking its word back takes its words with it, and the source that stays is read again', () => {
    const outcome = mergeFragments(healthWroteLast(), [], { at: times[3]!, ruleVersion: 'r1', readWhole: [{ system: 'health', recordId: 'h1', recordVersion: '3' }] });
    expect(seenBy(outcome.plan, 'employment')).not.toContain(healthWords);
    expect(outcome.plan.situationNotes).toEqual([]);
    expect(outcome.withdrawn).toEqual([{ system: 'health', recordId: 'h1', elementId: 'n1', removed: true }]);
    expect(outcome.readAgain).toEqual(['social']);
    // Read again, the social record brings the note back in its own words, for every party its flow reaches.
    const back = merged(outcome.plan, note(shared), social('1'), times[4]!);
    expect(back.situationNotes.map((n) => [n.summary, n.provenance.map((p) => p.kind === 'source' && p.system)])).toEqual([[shared, ['social']]]);
    expect(seenBy(back, 'employment')).toContain(shared);
  });

  it('a caseworker’s registration that stays does not take over words a source wrote since', () => {
    const registered = planWith([member], { interventions: [interventionElement('i1', 'm-1', { title: 'Bostøtte', provenance: [byRegistration()] })] });
    const { id: _id, provenance: _p, ruleVersion: _r, memberId: _m, ...content } = registered.interventions[0]!;
    const reported = (title: string): Fragment => ({ kind: 'intervention', elementId: 'i1', category: 'health', content: { ...content, title } } as Fragment);
    // The region reads our intervention back (its wording confirms it), then changes it in its own words.
    let plan = merged(registered, reported('Bostøtte'), health('1'), times[1]!);
    plan = merged(plan, reported(healthWords), health('2'), times[2]!);
    expect(plan.interventions[0]!.provenance.at(-1)).toMatchObject({ system: 'health' });

    const outcome = revokeHealth(plan);
    expect(seenBy(outcome.plan, 'employment')).not.toContain(healthWords);
    expect(outcome.removed).toEqual([{ list: 'interventions', id: 'i1' }]);
    expect(outcome.readAgain).toEqual([]);
  });

  it('a source taking back words every party could see leaves them under our registration; words for one department alone go', () => {
    const registered = planWith([member], { interventions: [interventionElement('i1', 'm-1', { title: 'Bostøtte', provenance: [byRegistration()] })] });
    const { id: _id, provenance: _p, ruleVersion: _r, memberId: _m, ...content } = registered.interventions[0]!;
    const reported = (title: string): Fragment => ({ kind: 'intervention', elementId: 'i1', category: 'health', content: { ...content, title } } as Fragment);
    const forAll = (recordVersion: string): FragmentOrigin => { const { audience: _a, ...rest } = health(recordVersion); return rest; };
    const takenBack = (plan: Plan) => mergeFragments(plan, [], { at: times[3]!, ruleVersion: 'r1', readWhole: [{ system: 'health', recordId: 'h1', recordVersion: '3' }] });

    // The region read our intervention back, then changed it in its own words, for every party.
    let shared = merged(registered, reported('Bostøtte'), forAll('1'), times[1]!);
    shared = merged(shared, reported(healthWords), forAll('2'), times[2]!);
    const kept = takenBack(shared);
    expect(kept.plan.interventions.map((i) => [i.id, i.title, i.provenance.map((p) => p.kind)])).toEqual([['i1', healthWords, ['registration']]]);
    expect(kept.withdrawn).toEqual([{ system: 'health', recordId: 'h1', elementId: 'i1', removed: false }]);

    // The same for the health department alone: under the registration they would reach every department.
    let narrow = merged(registered, reported('Bostøtte'), health('1'), times[1]!);
    narrow = merged(narrow, reported(healthWords), health('2'), times[2]!);
    const gone = takenBack(narrow);
    expect(gone.plan.interventions).toEqual([]);
    expect(seenBy(gone.plan, 'employment')).not.toContain(healthWords);
  });

  it('stays with a source that stays and last reported just these words, which now decides who sees it', () => {
    // Social came to say what health said: the words are its too.
    const plan = merged(healthWroteLast(), note(healthWords), social('2'), times[3]!);
    for (const outcome of [revokeHealth(plan), mergeFragments(plan, [], { at: times[4]!, ruleVersion: 'r1', readWhole: [{ system: 'health', recordId: 'h1', recordVersion: '3' }] })]) {
      expect(outcome.plan.situationNotes.map((n) => [n.summary, n.provenance.map((p) => p.kind === 'source' && p.system)])).toEqual([[healthWords, ['social']]]);
      expect(outcome.readAgain).toEqual([]);
      expect(seenBy(outcome.plan, 'employment')).toContain(healthWords);
    }
  });

  it('leaves no open conflict crediting the content to the writer that left', () => {
    // Health wrote the content; social changed the barrier since: a conflict, health's value current (values[0]).
    const plan = merged(healthWroteLast(), note('Bor på herberg'), social('2'), times[3]!);
    const open = plan.conflicts.filter((c) => !c.resolvedAt);
    expect(open.map((c) => c.values[0]!.provenance.map((p) => p.kind === 'source' && p.system))).toEqual([['health']]);

    const withdrawn = mergeFragments(plan, [], { at: times[4]!, ruleVersion: 'r1', readWhole: [{ system: 'health', recordId: 'h1', recordVersion: '3' }] });
    const revoked = revokeHealth(plan);
    for (const outcome of [withdrawn, revoked]) {
      expect(outcome.plan.conflicts.filter((c) => !c.resolvedAt)).toEqual([]);
      expect(outcome.readAgain).toEqual(['social']);
    }
  });

  it('credits an open conflict’s current value to the source the content passed to', () => {
    // Social came to say health's words too; the employment system, there from the start, changed them since: its value is the open conflict's other one.
    const employment = (recordVersion: string): FragmentOrigin => ({ ...social(recordVersion), system: 'dfdg', recordId: 'd1', mappingId: 'dfdg.note' });
    let plan = merged(merged(planWith([member]), note(shared), social('1'), times[0]!), note(shared), employment('1'), times[0]!);
    plan = merged(plan, note(shared), health('1'), times[1]!);
    plan = merged(plan, note(healthWords), health('2'), times[2]!);
    plan = merged(plan, note(healthWords), social('2'), times[3]!);
    plan = merged(plan, note('I arbejde 10 timer om ugen'), employment('2'), times[3]!);
    expect(plan.conflicts.filter((c) => !c.resolvedAt).map((c) => c.values[0]!.provenance.map((p) => p.kind === 'source' && p.system))).toEqual([['health']]);

    const outcome = mergeFragments(plan, [], { at: times[4]!, ruleVersion: 'r1', readWhole: [{ system: 'health', recordId: 'h1', recordVersion: '3' }] });
    const open = outcome.plan.conflicts.filter((c) => !c.resolvedAt);
    expect(open.map((c) => [c.values[0]!.value, c.values[0]!.provenance.map((p) => p.kind === 'source' && p.system)])).toEqual([[{ barriers: [healthWords], summary: healthWords }, ['social']]]);
    // Both departments see it: its writer's flow reached every party.
    expect(seenBy(outcome.plan, 'employment')).toContain('I arbejde 10 timer om ugen');
  });
});

async function readAs(app: Awaited<ReturnType<typeof startTestApp>>, planId: string, department: Department) {
  const token = await app.harness.token({ tenant: '101', roles: ['caseworker'], department });
  const response = await app.harness.request(`/v1/plans/${planId}`, { headers: { authorization: `Bearer ${token}` } });
  expect(response.status).toBe(200);
  return response.text();
}

describe('the writer of an element’s content leaves it, end to end', () => {
  const population = generatePopulation(4, 8181).map((c) => ({ ...c, sectors: { employment: true, education: false, social: false, health: true } }));
  const simulators = dfdgAndHealthSimulators(population);

  it('a revocation takes the departments’ words out of every view, and the next sync brings the element back in the source’s own words', async () => {
    const app = await startTestApp({ adapters: { health: createHealthAdapter({ baseUrl: simulators.health.baseUrl, timeoutMs: 5000 }) }, mappings: allMappings });
    const sync = () => runSync(app.deps, { tenant: '101', adapter: 'health', trigger: 'test', mappings: allMappings });
    const enrolled = await enrol(app.deps, population[0]!.cpr);
    const citizenId = membersOf(enrolled)[0]!.citizenId;
    await grantConsent(app.deps, { citizenId, source: 'health', categories: ['health'], explicitHealth: true });
    const toSocial = await grantConsent(app.deps, { citizenId, source: 'social', recipient: 'social', categories: ['social'] });
    expect((await sync()).status).toBe('succeeded');
    const synced = (await app.deps.store.plans.get('101', enrolled.id))!;
    const regional = synced.careTeams[0]!;
    expect(regional).toBeDefined();

    // The social system reports the region's care team too, then rewrites it: its flow reached the social department alone.
    const { id: elementId, provenance: _p, ruleVersion: _r, memberId, ...content } = regional;
    const socialWords = 'Socialforvaltningens team for misbrug, ikke kendt af regionen';
    const origin = (recordVersion: string): FragmentOrigin => ({ system: 'social', recordId: 'sc-1', recordVersion, mappingId: 'social.careteam', mappingVersion: '1.0.0', consentRef: toSocial.id, category: 'social', audience: ['social'] });
    let plan = mergeFragments(synced, [{ fragment: { kind: 'coordinator', elementId, category: 'social', content } as Fragment, origin: origin('1'), memberId }], { at: times[0]!, ruleVersion: 'r1' }).plan;
    plan = mergeFragments(plan, [{ fragment: { kind: 'coordinator', elementId, category: 'social', content: { ...content, name: socialWords } } as Fragment, origin: origin('2'), memberId }], { at: times[1]!, ruleVersion: 'r1' }).plan;
    expect(plan.careTeams.find((t) => t.id === elementId)!.name).toBe(socialWords);
    expect(await app.deps.store.plans.update(plan, synced.version)).toBe(true);
    expect(await readAs(app, enrolled.id, 'social')).toContain(socialWords);
    expect(await readAs(app, enrolled.id, 'employment')).not.toContain(socialWords);

    const token = await app.harness.token({ tenant: '101', roles: ['caseworker'], department: 'social' });
    const revoke = await app.harness.request(`/v1/consents/${toSocial.id}/revoke`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: '{}' });
    expect(revoke.status).toBe(200);
    // The revocation has the region read again at once (test/consent/read-again-after-revocation.test.ts); its read ends first here.
    await readsAgainSettled(app.deps);
    for (const department of ['employment', 'health', 'social'] as const) expect(await readAs(app, enrolled.id, department)).not.toContain(socialWords);

    // The region's record is read again: the team is back in its words, for every party as its flow allows.
    expect((await sync()).status).toBe('succeeded');
    const back = (await app.deps.store.plans.get('101', enrolled.id))!.careTeams.find((t) => t.id === elementId);
    expect(back).toMatchObject({ name: regional.name, provenance: [expect.objectContaining({ system: 'health', recordId: (regional.provenance[0] as { recordId: string }).recordId })] });
    expect(back!.provenance.some((p) => p.kind === 'source' && !!p.audience)).toBe(false);
    expect(await readAs(app, enrolled.id, 'employment')).toContain(JSON.stringify(elementId));
    await app.close();
  });

  it('a sync in which the region takes its word back takes its words with it, and reads the source that stays again', async () => {
    const app = await startTestApp({
      adapters: {
        dfdg: createDfdgAdapter({ baseUrl: simulators.dfdg.url, organisation: { typeIdentifier: 'kommune', code: '101' } }),
        health: createHealthAdapter({ baseUrl: simulators.health.baseUrl, timeoutMs: 5000 }),
      },
      mappings: allMappings,
    });
    const sync = (adapter: 'dfdg' | 'health') => runSync(app.deps, { tenant: '101', adapter, trigger: 'test', mappings: allMappings });
    const enrolled = await enrol(app.deps, population[1]!.cpr);
    const citizenId = membersOf(enrolled)[0]!.citizenId;
    await grantConsent(app.deps, { citizenId, source: 'dfdg', categories: ['plan-core', 'employment', 'goals', 'interventions'] });
    const toHealth = await grantConsent(app.deps, { citizenId, source: 'health', recipient: 'health', categories: ['health'], explicitHealth: true });
    expect((await sync('dfdg')).status).toBe('succeeded');
    expect((await sync('health')).status).toBe('succeeded');
    expect((await app.deps.store.sync.appliedVersions('101', 'dfdg', [citizenId])).size).toBeGreaterThan(0);
    const synced = (await app.deps.store.plans.get('101', enrolled.id))!;
    const team = healthRecordsFor(simulators.health.citizens[1]!, 1, 2026).find((r) => r.resourceType === 'CareTeam')!;
    const regional = synced.careTeams.find((t) => t.provenance.some((p) => p.kind === 'source' && p.recordId === team.id))!;
    expect(regional.provenance).toEqual([expect.objectContaining({ system: 'health', audience: ['health'], consentRef: toHealth.id })]);

    // The jobcentre's system reports the team too, in other words: a conflict; the region's words stay the content.
    const { id: elementId, provenance: _p, ruleVersion: _r, memberId, ...content } = regional;
    const jobcentre: FragmentOrigin = { system: 'dfdg', recordId: 'dfdg-team-1', recordVersion: '1', mappingId: 'dfdg.team', mappingVersion: '1.0.0', category: 'employment' };
    const plan = mergeFragments(synced, [{ fragment: { kind: 'coordinator', elementId, category: 'employment', content: { ...content, name: 'Jobcentrets mentorteam' } } as Fragment, origin: jobcentre, memberId }], { at: times[0]!, ruleVersion: 'r1' }).plan;
    expect(plan.conflicts.filter((c) => !c.resolvedAt && c.elementId === elementId)).toHaveLength(1);
    expect(await app.deps.store.plans.update(plan, synced.version)).toBe(true);
    expect(await readAs(app, enrolled.id, 'employment')).not.toContain(JSON.stringify(regional.name));

    // The region ends the team.
    const current = await simulators.health.repository.readResource<CareTeam>('CareTeam', team.id!);
    await simulators.health.repository.updateResource<CareTeam>({ ...current, status: 'inactive' });
    expect((await sync('health')).stats.elementsWithdrawn).toBeGreaterThan(0);

    const after = (await app.deps.store.plans.get('101', enrolled.id))!;
    expect(await readAs(app, enrolled.id, 'employment')).not.toContain(JSON.stringify(regional.name));
    expect(after.careTeams.some((t) => t.id === elementId)).toBe(false);
    expect(after.conflicts.filter((c) => c.elementId === elementId)).toEqual([]);
    // The jobcentre's system, which stays, was read again as the region's sync ended (its feed shows no
    // change, so its next run would not have): its records are merged anew, in its own words.
    const runs = await app.deps.store.sync.runs('101', { adapter: 'dfdg' });
    expect(runs.map((r) => r.trigger)).toEqual(['read-again:source-withdrew', 'test']);
    expect(runs[0]!.status).toBe('succeeded');
    expect((runs[0]!.stats as { recordsMerged: number }).recordsMerged).toBeGreaterThan(0);
    expect((await app.deps.store.sync.appliedVersions('101', 'dfdg', [citizenId])).size).toBeGreaterThan(0);
    await app.close();
  });
});
