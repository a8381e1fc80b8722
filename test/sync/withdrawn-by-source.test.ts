/**
 * A source takes its word back: a newer version of a record that no longer yields an element it
 * yielded before (a Condition marked entered in error, a care team ended) takes that record's entry
 * off the element, and an element nothing else says leaves the plan. Before, the merge only ever
 * added and updated, so a barrier the social department recorded in error stayed in the citizen's
 * plan for good. The merge rules on plan documents, then the whole path: the real health simulator
 * over HTTP, libSQL, an incremental sync.
 */
import type { CareTeam } from '@medplum/fhirtypes';
import type { PullResult, SourceAdapter, SourceRecord } from '../../adapters/adapter';
import { describe, expect, it } from 'vitest';
import { createHealthAdapter } from '../../adapters/health/adapter';
import { healthRecordsFor } from '../../adapters/health/records';
import { generatePopulation } from '../../adapters/shared/population';
import { membersOf, type Fragment, type Plan } from '../../src/model';
import { allMappings } from '../../src/sync/all-mappings';
import { runSync } from '../../src/sync/engine';
import { runRetention } from '../../src/sync/retention';
import { mergeFragments, type FragmentOrigin } from '../../src/sync/merge';
import { familyMember, goal as goalElement, intervention as interventionElement, planWith } from '../support/elements';
import { startTestApp } from '../support/node-app';
import { enrol, grantConsent } from '../support/seed';
import { dfdgAndHealthSimulators } from '../support/sector-simulators';

const at = '2026-11-24T10:00:00.000Z';
const later = '2026-11-24T12:00:00.000Z';
const member = familyMember('m-1', 'parent', '1984-02-01');

const barrier = (elementId: string, text: string): Fragment => ({ kind: 'situation', elementId, category: 'social', content: { summary: text, barriers: [text], resources: [] } });
/** A goal and an intervention as fragments, from the test elements (their content without identity and provenance). */
const goal = (elementId: string, title: string): Fragment => {
  const { id: _id, provenance: _p, ruleVersion: _r, memberId: _m, ...content } = goalElement(elementId, { title, sector: 'social' });
  return { kind: 'goal', elementId, category: 'social', content } as Fragment;
};
const intervention = (elementId: string, goalIds: string[]): Fragment => {
  const { id: _id, provenance: _p, ruleVersion: _r, memberId: _m, ...content } = interventionElement(elementId, 'm-1', { goalIds });
  return { kind: 'intervention', elementId, category: 'social', content } as Fragment;
};
const origin = (system: FragmentOrigin['system'], recordId: string, recordVersion: string): FragmentOrigin => ({ system, recordId, recordVersion, mappingId: `${system}.condition`, mappingVersion: '1.0.0', category: 'social' });
const read = (system: FragmentOrigin['system'], recordId: string, recordVersion: string) => ({ system, recordId, recordVersion });

/** A plan holding what record c1 (version 1) of the social system said. */
const withBarrier = () =>
  mergeFragments(planWith([member]), [{ fragment: barrier('social:condition:c1', 'Hjemløshed'), origin: origin('social', 'c1', '1'), memberId: 'm-1' }], { at, ruleVersion: 'r1' }).plan;

describe('a record whose newer version no longer yields an element', () => {
  it('takes the element out of the plan when nothing else says it', () => {
    const plan = withBarrier();
    expect(plan.situationNotes.map((n) => n.id)).toEqual(['social:condition:c1']);
    const outcome = mergeFragments(plan, [], { at: later, ruleVersion: 'r1', readWhole: [read('social', 'c1', '2')] });
    expect(outcome.plan.situationNotes).toEqual([]);
    expect(outcome.withdrawn).toEqual([{ system: 'social', recordId: 'c1', elementId: 'social:condition:c1', removed: true }]);
    expect(outcome.plan.version).toBe(plan.version + 1);
  });

  it('keeps an element another source still says, with that source as its provenance', () => {
    const plan = mergeFragments(withBarrier(), [{ fragment: barrier('social:condition:c1', 'Hjemløshed'), origin: origin('health', 'h7', '3'), memberId: 'm-1' }], { at, ruleVersion: 'r1' }).plan;
    const outcome = mergeFragments(plan, [], { at: later, ruleVersion: 'r1', readWhole: [read('social', 'c1', '2')] });
    expect(outcome.plan.situationNotes).toHaveLength(1);
    expect(outcome.plan.situationNotes[0]!.provenance).toEqual([expect.objectContaining({ system: 'health', recordId: 'h7' })]);
    expect(outcome.withdrawn).toEqual([{ system: 'social', recordId: 'c1', elementId: 'social:condition:c1', removed: false }]);
  });

  it('changes nothing for the version already merged, an older one read late, or another record', () => {
    const plan = withBarrier();
    for (const readWhole of [[read('social', 'c1', '1')], [read('social', 'c1', '0')], [read('social', 'c2', '5')], [read('health', 'c1', '9')]]) {
      const outcome = mergeFragments(plan, [], { at: later, ruleVersion: 'r1', readWhole });
      expect(outcome.plan).toBe(plan);
      expect(outcome.withdrawn).toEqual([]);
    }
  });

  it('keeps what the newer version still yields and takes back only the rest', () => {
    const plan = mergeFragments(
      planWith([member]),
      [
        { fragment: goal('social:goal:g1', 'Egen bolig'), origin: origin('social', 'cp1', '1'), memberId: 'm-1' },
        { fragment: intervention('social:intervention:i1', ['social:goal:g1']), origin: origin('social', 'cp1', '1'), memberId: 'm-1' },
      ],
      { at, ruleVersion: 'r1' },
    ).plan;
    // Version 2 says the intervention, no longer its goal: the goal leaves, and the intervention's reference to it with it.
    const outcome = mergeFragments(plan, [{ fragment: intervention('social:intervention:i1', []), origin: origin('social', 'cp1', '2'), memberId: 'm-1' }], { at: later, ruleVersion: 'r1', readWhole: [read('social', 'cp1', '2')] });
    expect(outcome.plan.goals).toEqual([]);
    expect(outcome.plan.interventions.map((i) => [i.id, i.goalIds, i.provenance.map((p) => p.kind === 'source' && p.recordVersion)])).toEqual([['social:intervention:i1', [], ['2']]]);
    expect(outcome.withdrawn).toEqual([{ system: 'social', recordId: 'cp1', elementId: 'social:goal:g1', removed: true }]);
  });

  it('does not let an older version read late bring back what a newer one took back', () => {
    const v1 = [
      { fragment: goal('social:goal:g1', 'Egen bolig'), origin: origin('social', 'cp1', '1'), memberId: 'm-1' },
      { fragment: intervention('social:intervention:i1', ['social:goal:g1']), origin: origin('social', 'cp1', '1'), memberId: 'm-1' },
    ];
    const first = mergeFragments(planWith([member]), v1, { at, ruleVersion: 'r1' }).plan;
    const plan = mergeFragments(first, [{ fragment: intervention('social:intervention:i1', []), origin: origin('social', 'cp1', '2'), memberId: 'm-1' }], { at: later, ruleVersion: 'r1', readWhole: [read('social', 'cp1', '2')] }).plan;
    expect(plan.goals).toEqual([]);
    // Version 1 again (a lagging replica, a replayed feed): all of it is older than what the plan holds of cp1.
    const late = mergeFragments(plan, v1, { at: later, ruleVersion: 'r1', readWhole: [read('social', 'cp1', '1')] });
    expect(late.plan).toBe(plan);
    expect(late.bySystem).toEqual({});
    expect(late.stale).toBe(2);
  });

  it('without `readWhole` (a record refused in part by consent) nothing is taken back', () => {
    const plan = withBarrier();
    expect(mergeFragments(plan, [], { at: later, ruleVersion: 'r1' }).plan).toBe(plan);
  });

  it('closes an open conflict in which the withdrawn record’s value was disputed', () => {
    // Health wrote the note; social's c1 changed it since: a conflict, social's value the disputed one.
    let plan = mergeFragments(planWith([member]), [{ fragment: barrier('n1', 'Hjemløshed'), origin: origin('health', 'h7', '1'), memberId: 'm-1' }], { at, ruleVersion: 'r1' }).plan;
    plan = mergeFragments(plan, [{ fragment: barrier('n1', 'Hjemløshed'), origin: origin('social', 'c1', '1'), memberId: 'm-1' }], { at, ruleVersion: 'r1' }).plan;
    plan = mergeFragments(plan, [{ fragment: barrier('n1', 'Bor hos en ven'), origin: origin('health', 'h7', '2'), memberId: 'm-1' }], { at: '2026-11-24T11:00:00.000Z', ruleVersion: 'r1' }).plan;
    plan = mergeFragments(plan, [{ fragment: barrier('n1', 'Bor på herberg'), origin: origin('social', 'c1', '2'), memberId: 'm-1' }], { at: '2026-11-24T11:30:00.000Z', ruleVersion: 'r1' }).plan;
    expect(plan.conflicts.filter((c) => !c.resolvedAt)).toHaveLength(1);

    const outcome = mergeFragments(plan, [], { at: later, ruleVersion: 'r1', readWhole: [read('social', 'c1', '3')] });
    expect(outcome.plan.situationNotes.map((n) => n.summary)).toEqual(['Bor hos en ven']);
    expect(outcome.plan.conflicts).toEqual([expect.objectContaining({ resolvedAt: later, resolution: expect.objectContaining({ chosen: 0, reason: expect.stringContaining('withdrawn') }) })]);
  });

  it('leaves open a conflict whose disputed value its record still says, when another record withdraws from the element', () => {
    // Health wrote the note (the jobcentre's d1 said it too, at first); social's c1 changed it since: a conflict, social's value the disputed one.
    let plan = mergeFragments(planWith([member]), [{ fragment: barrier('n1', 'Hjemløshed'), origin: origin('health', 'h7', '1'), memberId: 'm-1' }], { at, ruleVersion: 'r1' }).plan;
    plan = mergeFragments(plan, [{ fragment: barrier('n1', 'Hjemløshed'), origin: origin('social', 'c1', '1'), memberId: 'm-1' }], { at, ruleVersion: 'r1' }).plan;
    plan = mergeFragments(plan, [{ fragment: barrier('n1', 'Hjemløshed'), origin: origin('dfdg', 'd1', '1'), memberId: 'm-1' }], { at, ruleVersion: 'r1' }).plan;
    plan = mergeFragments(plan, [{ fragment: barrier('n1', 'Bor hos en ven'), origin: origin('health', 'h7', '2'), memberId: 'm-1' }], { at: '2026-11-24T11:00:00.000Z', ruleVersion: 'r1' }).plan;
    plan = mergeFragments(plan, [{ fragment: barrier('n1', 'Bor på herberg'), origin: origin('social', 'c1', '2'), memberId: 'm-1' }], { at: '2026-11-24T11:30:00.000Z', ruleVersion: 'r1' }).plan;
    const disputed = plan.conflicts.find((c) => !c.resolvedAt)!;

    // One round: c1's version 3 still says its value; the jobcentre's d1 version 3 no longer yields the note.
    // (Had health, the writer of the content, withdrawn, its words would have left with it: test/sync/content-writer-leaves.test.ts.)
    const outcome = mergeFragments(plan, [{ fragment: barrier('n1', 'Bor på herberg'), origin: origin('social', 'c1', '3'), memberId: 'm-1' }], {
      at: later,
      ruleVersion: 'r1',
      readWhole: [read('social', 'c1', '3'), read('dfdg', 'd1', '3')],
    });
    expect(outcome.withdrawn).toEqual([{ system: 'dfdg', recordId: 'd1', elementId: 'n1', removed: false }]);
    expect(outcome.plan.situationNotes.map((n) => n.summary)).toEqual(['Bor hos en ven']);
    // Social still disputes the content: a person settles it, not the withdrawal of another record.
    expect(outcome.plan.conflicts.find((c) => c.id === disputed.id)).toMatchObject({ values: [expect.anything(), expect.objectContaining({ value: { barriers: ['Bor på herberg'], summary: 'Bor på herberg' } })] });
    expect(outcome.plan.conflicts.find((c) => c.id === disputed.id)!.resolvedAt).toBeUndefined();
  });
});

describe('a source taking its word back, end to end', () => {
  const population = generatePopulation(4, 7171).map((c) => ({ ...c, sectors: { employment: false, education: false, social: false, health: true } }));
  const simulators = dfdgAndHealthSimulators(population);

  it('an incremental sync takes a care team the region ended out of the plan, and only that', async () => {
    const app = await startTestApp({ adapters: { health: createHealthAdapter({ baseUrl: simulators.health.baseUrl, timeoutMs: 5000 }) }, mappings: allMappings });
    const sync = () => runSync(app.deps, { tenant: '101', adapter: 'health', trigger: 'test', mappings: allMappings });
    const plan = await enrol(app.deps, population[0]!.cpr);
    await grantConsent(app.deps, { citizenId: membersOf(plan)[0]!.citizenId, source: 'health', categories: ['health'], explicitHealth: true });
    expect((await sync()).status).toBe('succeeded');
    const stored = async () => (await app.deps.store.plans.get('101', plan.id)) as Plan;
    const before = await stored();
    expect(before.careTeams.length).toBeGreaterThan(0);
    const otherElements = before.goals.length + before.interventions.length;

    const team = healthRecordsFor(simulators.health.citizens[0]!, 0, 2026).find((r) => r.resourceType === 'CareTeam')!;
    const current = await simulators.health.repository.readResource<CareTeam>('CareTeam', team.id!);
    await simulators.health.repository.updateResource<CareTeam>({ ...current, status: 'inactive' });

    const incremental = await sync();
    expect(incremental).toMatchObject({ status: 'succeeded', stats: { catchUpSearched: false, elementsWithdrawn: 1 } });
    const after = await stored();
    expect(after.careTeams.map((t) => t.id)).toEqual(before.careTeams.filter((t) => !t.provenance.some((p) => p.kind === 'source' && p.recordId === team.id)).map((t) => t.id));
    expect(after.goals.length + after.interventions.length).toBe(otherElements);
    // The log keeps what left and why (ids, no content), with the plan write it went with.
    const traces = (await app.deps.store.audit.list('101', { citizenId: membersOf(plan)[0]!.citizenId })).filter((a) => a.action === 'plan.source-withdrew');
    const removedTeams = before.careTeams.filter((t) => !after.careTeams.some((a) => a.id === t.id)).map((t) => t.id);
    expect(traces.map((a) => ({ target: a.targetId, detail: a.detail }))).toEqual([
      { target: plan.id, detail: { source: 'health', removedElements: removedTeams, keptElements: [], records: [team.id], runId: incremental.runId } },
    ]);
    // Read again, the ended team stays out: the version is merged.
    expect((await sync()).stats.elementsWithdrawn).toBe(0);
    expect((await stored()).careTeams).toEqual(after.careTeams);
    await app.close();
  });

  it('the version before it, read late after retention dropped its mark, does not bring the ended care team back: the mark of the newer version says it is old', async () => {
    // What the region answered first, kept by record id; on `lagging`, that older version is answered again.
    const real = createHealthAdapter({ baseUrl: simulators.health.baseUrl, timeoutMs: 5000 });
    const firstSeen = new Map<string, SourceRecord>();
    let lagging = false;
    const replay = (result: PullResult): PullResult => {
      for (const record of result.records) if (!firstSeen.has(record.recordId)) firstSeen.set(record.recordId, record);
      return lagging ? { ...result, records: result.records.map((record) => firstSeen.get(record.recordId) ?? record) } : result;
    };
    const health: SourceAdapter = {
      ...real,
      pull: async (subject, since) => replay(await real.pull(subject, since)),
      pullMany: async (subjects, options) => new Map([...(await real.pullMany!(subjects, options))].map(([id, result]) => [id, replay(result)])),
    };
    const app = await startTestApp({ adapters: { health }, mappings: allMappings });
    const sync = () => runSync(app.deps, { tenant: '101', adapter: 'health', trigger: 'test', mappings: allMappings });
    const plan = await enrol(app.deps, population[1]!.cpr);
    const citizenId = membersOf(plan)[0]!.citizenId;
    await grantConsent(app.deps, { citizenId, source: 'health', categories: ['health'], explicitHealth: true });
    expect((await sync()).status).toBe('succeeded');
    const team = healthRecordsFor(simulators.health.citizens[1]!, 1, 2026).find((r) => r.resourceType === 'CareTeam')!;
    const current = await simulators.health.repository.readResource<CareTeam>('CareTeam', team.id!);
    await simulators.health.repository.updateResource<CareTeam>({ ...current, status: 'inactive' });
    expect((await sync()).stats.elementsWithdrawn).toBe(1);
    const stored = async () => (await app.deps.store.plans.get('101', plan.id)) as Plan;
    const ended = await stored();
    expect(ended.careTeams.some((t) => t.provenance.some((p) => p.kind === 'source' && p.recordId === team.id))).toBe(false);

    // Retention drops the mark of the version before (a newer one replaced it): the newer one's must say it is old.
    expect((await runRetention(app.deps)).supersededMarksPruned).toBeGreaterThanOrEqual(1);
    // A full read that gets the region's older answers (a lagging replica): nothing of the team comes back.
    lagging = true;
    await app.deps.store.sync.forgetPulled('101', citizenId);
    const late = await sync();
    expect(late.status).toBe('succeeded');
    expect(late.stats.elementsAdded).toBe(0);
    expect((await stored()).careTeams).toEqual(ended.careTeams);
    await app.close();
  });
});
