/**
 * F4: an element changed in two systems since the last sync is flagged as a conflict for a person to
 * resolve, never silently overwritten — whatever versions without changes either system sends in
 * between. A source's provenance entry keeps, in `at`, its last sync with the element (when what it
 * reported was taken, or matched the element); a version that changes nothing of what it reported
 * before is not a sync, so it does not move that time on.
 */
import { describe, expect, it } from 'vitest';
import { Plan as PlanSchema, type Fragment, type Plan } from '../../src/model';
import { resolveConflict } from '../../src/plans/conflicts';
import { mergeFragments, type FragmentOrigin } from '../../src/sync/merge';
import { validPlan } from '../support/plans';

const g = (title: string): Fragment => ({ kind: 'goal', elementId: 'shared:goal:1', category: 'goals', content: { level: 'overall', title, sector: 'employment', status: 'active', topics: ['job-goal'] } });
const o = (system: FragmentOrigin['system'], recordVersion: string): FragmentOrigin => ({ system, recordId: `${system}-rec`, recordVersion, mappingId: `${system}.goal`, mappingVersion: '1.0.0', category: 'goals', consentRef: 'grant-1' });
const day = (d: number) => `2026-11-${String(d).padStart(2, '0')}T10:00:00.000Z`;
const step = (plan: Plan, fragment: Fragment, origin: FragmentOrigin, at: string) => mergeFragments(plan, [{ fragment, origin, memberId: 'm1' }], { at, ruleVersion: 'rules-2026.11' });
const blank = () => PlanSchema.parse(validPlan({ goals: [], interventions: [], agreements: [], followUps: [], citizenViews: [] }));

/** DFDG writes A, education confirms A, DFDG changes A to B: education has not seen B. */
function dfdgChangedIt(): Plan {
  let plan = step(blank(), g('A'), o('dfdg', '1'), day(1)).plan;
  plan = step(plan, g('A'), o('education', '1'), day(2)).plan;
  return step(plan, g('B'), o('dfdg', '2'), day(3)).plan;
}
const titleOf = (plan: Plan) => plan.goals[0]!.title;
const entryOf = (plan: Plan, system: FragmentOrigin['system']) => plan.goals[0]!.provenance.find((p) => p.kind === 'source' && p.system === system)!;

describe('two writers of one element (F4)', () => {
  it('F4: a no-op version of one writer must not hide the other writer’s change from conflict detection', () => {
    let plan = PlanSchema.parse(validPlan({ goals: [], interventions: [], agreements: [], followUps: [], citizenViews: [] }));
    plan = step(plan, g('A'), o('dfdg', '1'), '2026-11-01T10:00:00.000Z').plan;
    plan = step(plan, g('A'), o('education', '1'), '2026-11-02T10:00:00.000Z').plan;
    plan = step(plan, g('B'), o('dfdg', '2'), '2026-11-03T10:00:00.000Z').plan;
    plan = step(plan, g('A'), o('education', '2'), '2026-11-04T10:00:00.000Z').plan;
    const out = step(plan, g('C'), o('education', '3'), '2026-11-05T10:00:00.000Z');
    expect(out.plan.goals[0]!.title).toBe('B');
    expect(out.conflicts).toBe(1);
  });

  it('the no-op version itself is no conflict and no change: the other writer’s content stays, the source’s last sync stays', () => {
    const plan = dfdgChangedIt();
    const out = step(plan, g('A'), o('education', '2'), day(4));
    expect(out).toMatchObject({ conflicts: 0, updated: 0, unchanged: 1 });
    expect(titleOf(out.plan)).toBe('B');
    expect(out.plan.conflicts).toEqual([]);
    // The version is recorded, the time of the last sync is not moved; DFDG still writes the content.
    expect(entryOf(out.plan, 'education')).toMatchObject({ recordVersion: '2', at: day(2) });
    expect(out.plan.goals[0]!.provenance.at(-1)).toMatchObject({ system: 'dfdg', recordVersion: '2' });
    // The conflict then flagged names both values, and the content is kept.
    const clash = step(out.plan, g('C'), o('education', '3'), day(5));
    expect(clash.plan.conflicts[0]!.values.map((v) => v.value)).toEqual([{ title: 'B' }, { title: 'C' }]);
    // Several no-op versions in a row change nothing of that.
    let again = out.plan;
    for (const v of ['3', '4', '5']) again = step(again, g('A'), o('education', v), day(4 + Number(v))).plan;
    expect(step(again, g('C'), o('education', '6'), day(12))).toMatchObject({ conflicts: 1 });
  });

  it('(a) flags the same change without the no-op version in between', () => {
    const out = step(dfdgChangedIt(), g('C'), o('education', '2'), day(5));
    expect(out.conflicts).toBe(1);
    expect(titleOf(out.plan)).toBe('B');
  });

  it('(b) a source sending again what it sent before, while the element holds it, is a plain confirmation', () => {
    let plan = step(blank(), g('A'), o('dfdg', '1'), day(1)).plan;
    plan = step(plan, g('A'), o('education', '1'), day(2)).plan;
    const out = step(plan, g('A'), o('education', '2'), day(3));
    expect(out).toMatchObject({ conflicts: 0, updated: 0, unchanged: 1 });
    expect(titleOf(out.plan)).toBe('A');
    expect(entryOf(out.plan, 'education')).toMatchObject({ recordVersion: '2', at: day(2) });
    // The writer of the content sending it again: the same.
    const writer = step(out.plan, g('A'), o('dfdg', '2'), day(4));
    expect(writer).toMatchObject({ conflicts: 0, updated: 0, unchanged: 1 });
    expect(entryOf(writer.plan, 'dfdg')).toMatchObject({ recordVersion: '2', at: day(1) });
    // Either may then change it without a conflict: the other has changed nothing since.
    expect(step(writer.plan, g('C'), o('education', '3'), day(5))).toMatchObject({ conflicts: 0, updated: 1 });
    expect(step(writer.plan, g('D'), o('dfdg', '3'), day(5))).toMatchObject({ conflicts: 0, updated: 1 });
  });

  it('(c) a source adopting the other writer’s change is no conflict, and its next change is its own', () => {
    for (const noOpFirst of [false, true]) {
      let plan = dfdgChangedIt();
      if (noOpFirst) plan = step(plan, g('A'), o('education', '2'), day(4)).plan;
      const adopted = step(plan, g('B'), o('education', '3'), day(5));
      expect(adopted).toMatchObject({ conflicts: 0, updated: 0, unchanged: 1 });
      expect(titleOf(adopted.plan)).toBe('B');
      // Education has seen B now: its change of B is taken, as DFDG changed nothing since.
      const changed = step(adopted.plan, g('C'), o('education', '4'), day(6));
      expect(changed).toMatchObject({ conflicts: 0, updated: 1 });
      expect(titleOf(changed.plan)).toBe('C');
      expect(changed.plan.goals[0]!.provenance.at(-1)).toMatchObject({ system: 'education', recordVersion: '4' });
    }
  });

  it('(d) orders by source version: an older version arriving after a newer one is ignored, whatever it says', () => {
    let plan = dfdgChangedIt();
    plan = step(plan, g('A'), o('education', '3'), day(4)).plan;
    for (const title of ['A', 'Z']) {
      const late = step(plan, g(title), o('education', '2'), day(5));
      expect(late).toMatchObject({ stale: 1, conflicts: 0, updated: 0 });
      expect(late.plan).toBe(plan);
    }
    // DFDG's older version arriving late does not undo B either.
    expect(step(plan, g('A'), o('dfdg', '1'), day(5))).toMatchObject({ stale: 1, conflicts: 0 });
    // And the late versions hide nothing: education's next change still conflicts with B.
    expect(step(plan, g('C'), o('education', '4'), day(6))).toMatchObject({ conflicts: 1 });
  });

  describe('(e) with a conflict already open on the element', () => {
    /** Education changed A to C after DFDG changed it to B: flagged, B kept. */
    const flagged = () => {
      const out = step(dfdgChangedIt(), g('C'), o('education', '2'), day(4));
      expect(out.conflicts).toBe(1);
      return out.plan;
    };

    it('a further change from the same source is flagged again, not taken over the disputed content', () => {
      const out = step(flagged(), g('D'), o('education', '3'), day(5));
      expect(out.conflicts).toBe(1);
      expect(titleOf(out.plan)).toBe('B');
      // Education's newer value supersedes its older one: the older conflict is closed, pointing at the newer (R17: nothing stale is offered or pushed).
      expect(out.plan.conflicts.map((c) => [c.values.map((v) => v.value), c.resolvedAt])).toEqual([
        [[{ title: 'B' }, { title: 'C' }], day(5)],
        [[{ title: 'B' }, { title: 'D' }], undefined],
      ]);
      expect(out.plan.conflicts[0]!.resolution).toEqual({ by: 'sync', chosen: 0, reason: `superseded by ${out.plan.conflicts[1]!.id}: the source reported a newer value` });
      // Also after versions without changes in between.
      let plan = flagged();
      plan = step(plan, g('C'), o('education', '3'), day(5)).plan;
      expect(step(plan, g('D'), o('education', '4'), day(6))).toMatchObject({ conflicts: 1 });
    });

    it('the same source sending its flagged value again changes nothing; adopting the content lets its next change through', () => {
      const again = step(flagged(), g('C'), o('education', '3'), day(5));
      expect(again).toMatchObject({ conflicts: 0, updated: 0 });
      expect(again.plan.conflicts).toHaveLength(1);
      expect(titleOf(again.plan)).toBe('B');
      const adopted = step(again.plan, g('B'), o('education', '4'), day(6));
      expect(adopted).toMatchObject({ conflicts: 0, updated: 0 });
      // Education now says what the element holds: the sources agree, the conflict is settled.
      expect(adopted.plan.conflicts).toEqual([expect.objectContaining({ resolvedAt: day(6), resolution: expect.objectContaining({ by: 'sync', chosen: 0 }) })]);
      expect(step(adopted.plan, g('E'), o('education', '5'), day(7))).toMatchObject({ conflicts: 0, updated: 1 });
    });

    it('the writer of the content changing it again is its own change; the other source’s next change conflicts with that', () => {
      const moved = step(flagged(), g('B2'), o('dfdg', '3'), day(5));
      expect(moved).toMatchObject({ conflicts: 0, updated: 1 });
      expect(titleOf(moved.plan)).toBe('B2');
      // The open conflict is re-based on what the element holds now, and its writer: still a real dispute, still resolvable.
      expect(moved.plan.conflicts.filter((c) => !c.resolvedAt)).toHaveLength(1);
      expect(moved.plan.conflicts).toEqual([expect.objectContaining({ values: [{ value: { title: 'B2' }, provenance: [expect.objectContaining({ system: 'dfdg', recordVersion: '3' })] }, expect.objectContaining({ value: { title: 'C' } })] })]);
      expect(resolveConflict(moved.plan, moved.plan.conflicts[0]!.id, { chosen: 1 }, { at: day(6), by: 'caseworker:anna' }).plan.goals[0]!.title).toBe('C');
      expect(step(moved.plan, g('D'), o('education', '3'), day(6))).toMatchObject({ conflicts: 1 });
    });

    it('the writer of the content coming to report the flagged value settles the conflict: the sources agree', () => {
      const agreed = step(flagged(), g('C'), o('dfdg', '3'), day(5));
      expect(agreed).toMatchObject({ conflicts: 0, updated: 1 });
      expect(titleOf(agreed.plan)).toBe('C');
      expect(agreed.plan.conflicts).toEqual([expect.objectContaining({ resolvedAt: day(5), resolution: { by: 'sync', chosen: 1, reason: expect.stringMatching(/the sources agree/) } })]);
      // Education's next change is its own: the element holds what it last reported.
      expect(step(agreed.plan, g('D'), o('education', '3'), day(6))).toMatchObject({ conflicts: 0, updated: 1 });
    });

    it('a person’s choice of the current content is not overwritten by the other source’s next change', () => {
      const plan = flagged();
      const kept = resolveConflict(plan, plan.conflicts[0]!.id, { chosen: 0, push: false }, { at: day(5), by: 'caseworker:anna' }).plan;
      const out = step(kept, g('D'), o('education', '3'), day(6));
      expect(out.conflicts).toBe(1);
      expect(titleOf(out.plan)).toBe('B');
    });

    it('a person’s choice of the source’s value makes that source the writer: its next change is taken, the other’s is flagged', () => {
      const plan = flagged();
      const chosen = resolveConflict(plan, plan.conflicts[0]!.id, { chosen: 1 }, { at: day(5), by: 'caseworker:anna' }).plan;
      expect(titleOf(chosen)).toBe('C');
      expect(step(chosen, g('D'), o('education', '3'), day(6))).toMatchObject({ conflicts: 0, updated: 1 });
      expect(step(chosen, g('B3'), o('dfdg', '3'), day(6))).toMatchObject({ conflicts: 1 });
    });
  });

  it('a change to content that is just what the source last reported is its own, whatever was written in between', () => {
    // DFDG changes A to B and back to A: nothing education has not seen is left in the element.
    const back = step(dfdgChangedIt(), g('A'), o('dfdg', '3'), day(4)).plan;
    const out = step(back, g('C'), o('education', '2'), day(5));
    expect(out).toMatchObject({ conflicts: 0, updated: 1 });
    expect(titleOf(out.plan)).toBe('C');

    // A settled conflict registered back (`goal.changed` with the chosen value, as the plan service
    // does): the registration writes the element, with the content DFDG reported.
    const flagged = step(dfdgChangedIt(), g('C'), o('education', '2'), day(4)).plan;
    const kept = resolveConflict(flagged, flagged.conflicts[0]!.id, { chosen: 0 }, { at: day(5), by: 'caseworker:anna' }).plan;
    const registered = PlanSchema.parse({
      ...kept,
      goals: kept.goals.map((goal) => ({ ...goal, title: 'B', provenance: [...goal.provenance, { kind: 'registration', registrationId: 'reg-1', actor: 'caseworker:anna', at: day(5) }] })),
    });
    // DFDG's echo changes nothing; its next change is its own, as the element holds what it reported.
    const echo = step(registered, g('B'), o('dfdg', '3'), day(6)).plan;
    expect(step(echo, g('B2'), o('dfdg', '4'), day(7))).toMatchObject({ conflicts: 0, updated: 1 });
    // Education, told, adopts B; its next change is its own too. Not told, its change is flagged again.
    const told = step(echo, g('B'), o('education', '3'), day(7)).plan;
    expect(step(told, g('E'), o('education', '4'), day(8))).toMatchObject({ conflicts: 0, updated: 1 });
    expect(step(echo, g('E'), o('education', '3'), day(8))).toMatchObject({ conflicts: 1 });
  });

  it('the record that wrote an element alone, restating that after another writer was chosen, changes nothing; its own change is still flagged', () => {
    // DFDG wrote A alone; education's first report X is flagged, and a person chooses X.
    const first = step(step(blank(), g('A'), o('dfdg', '1'), day(1)).plan, g('X'), o('education', '1'), day(2)).plan;
    const chosen = resolveConflict(first, first.conflicts[0]!.id, { chosen: 1, push: false }, { at: day(3), by: 'caseworker:anna' }).plan;
    expect(titleOf(chosen)).toBe('X');
    // DFDG's record changes for another reason and restates A: what it last said, no change of its own.
    const restated = step(chosen, g('A'), o('dfdg', '2'), day(4));
    expect(restated).toMatchObject({ conflicts: 0, updated: 0, unchanged: 1 });
    expect(titleOf(restated.plan)).toBe('X');
    expect(restated.plan.conflicts.filter((c) => !c.resolvedAt)).toEqual([]);
    // DFDG changing it after the choice has not seen X: a conflict, X kept.
    const moved = step(restated.plan, g('B'), o('dfdg', '3'), day(5));
    expect(moved.conflicts).toBe(1);
    expect(titleOf(moved.plan)).toBe('X');
    expect(moved.plan.conflicts.filter((c) => !c.resolvedAt).map((c) => c.values.map((v) => v.value))).toEqual([[{ title: 'X' }, { title: 'B' }]]);
  });

  it('a first report that differs from another system’s content is flagged, and so is that system’s next change until it has seen the content', () => {
    const first = step(step(blank(), g('A'), o('dfdg', '1'), day(1)).plan, g('X'), o('education', '1'), day(2));
    expect(first.conflicts).toBe(1);
    expect(step(first.plan, g('Y'), o('education', '2'), day(3))).toMatchObject({ conflicts: 1 });
    const adopted = step(first.plan, g('A'), o('education', '2'), day(3)).plan;
    expect(step(adopted, g('Y'), o('education', '3'), day(4))).toMatchObject({ conflicts: 0, updated: 1 });
  });
});
