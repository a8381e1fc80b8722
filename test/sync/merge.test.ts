/** F4: one effect per record version, ordering by source version, conflicts flagged. */
import { describe, expect, it } from 'vitest';
import { Fragment as FragmentSchema, Plan, type Fragment } from '../../src/model';
import { compareVersions, mergeFragments, type FragmentOrigin } from '../../src/sync/merge';
import { validPlan } from '../support/plans';

const base = () => Plan.parse(validPlan({ goals: [], interventions: [], agreements: [], followUps: [], citizenViews: [] }));
const ctx = (at: string) => ({ at, ruleVersion: 'rules-2026.11' });
const goal = (title: string, elementId = 'shared:goal:1'): Fragment => ({
  kind: 'goal',
  elementId,
  category: 'goals',
  content: { level: 'overall', title, sector: 'employment', status: 'active', topics: ['job-goal'] },
});
const origin = (system: FragmentOrigin['system'], recordVersion: string, recordId = 'rec-1'): FragmentOrigin => ({
  system,
  recordId,
  recordVersion,
  mappingId: `${system}.goal`,
  mappingVersion: '1.0.0',
  category: 'goals',
  consentRef: 'grant-1',
});

/** A social intervention serving `goalIds` (element ids), as the social CarePlan mapping makes one. */
const intervention = (goalIds: string[], title = 'Bostøtte', elementId = 'social:activity:1'): Fragment =>
  FragmentSchema.parse({
    kind: 'intervention',
    elementId,
    category: 'interventions',
    content: {
      sector: 'social',
      legalBasis: 'SEL §85',
      type: { system: 'urn:test:ffb', code: 'x', display: 'Socialpædagogisk støtte' },
      title,
      responsibleUnit: 'Socialforvaltningen',
      contact: { name: 'Bo Bostøtte' },
      period: { start: '2026-12-01', end: '2027-06-01' },
      order: 1,
      status: 'planned',
      goalIds,
    },
  });
const socialOrigin = (recordVersion: string, recordId = 'careplan-1'): FragmentOrigin => ({ ...origin('social', recordVersion, recordId), mappingId: 'social.careplan', category: 'interventions' });

describe('merge', () => {
  it('adds a fragment as an element with its provenance and the member', () => {
    const out = mergeFragments(base(), [{ fragment: goal('Job som tømrer'), origin: origin('dfdg', '1'), memberId: 'm1' }], ctx('2026-11-23T10:00:00.000Z'));
    expect(out.added).toBe(1);
    expect(out.plan.version).toBe(2);
    expect(out.plan.goals[0]).toMatchObject({ id: 'shared:goal:1', title: 'Job som tømrer', memberId: 'm1' });
    expect(out.plan.goals[0]!.provenance).toEqual([
      expect.objectContaining({ kind: 'source', system: 'dfdg', recordId: 'rec-1', recordVersion: '1', mappingId: 'dfdg.goal', consentRef: 'grant-1', category: 'goals' }),
    ]);
  });

  it('applies the same record version once, however often it arrives', () => {
    let plan = base();
    for (let i = 0; i < 5; i++) plan = mergeFragments(plan, [{ fragment: goal('Job'), origin: origin('dfdg', '3'), memberId: 'm1' }], ctx(`2026-11-23T10:0${i}:00.000Z`)).plan;
    expect(plan.goals).toHaveLength(1);
    expect(plan.goals[0]!.provenance).toHaveLength(1);
    expect(plan.version).toBe(2);
  });

  it('orders by source version, not arrival', () => {
    let plan = base();
    plan = mergeFragments(plan, [{ fragment: goal('v5'), origin: origin('dfdg', '5'), memberId: 'm1' }], ctx('2026-11-23T10:00:00.000Z')).plan;
    const late = mergeFragments(plan, [{ fragment: goal('v4'), origin: origin('dfdg', '4'), memberId: 'm1' }], ctx('2026-11-23T10:01:00.000Z'));
    expect(late.stale).toBe(1);
    expect(late.plan.goals[0]!.title).toBe('v5');
    const newer = mergeFragments(plan, [{ fragment: goal('v10'), origin: origin('dfdg', '10'), memberId: 'm1' }], ctx('2026-11-23T10:02:00.000Z'));
    expect(newer.updated).toBe(1);
    expect(newer.plan.goals[0]!.title).toBe('v10');
  });

  it('makes the same fact from two systems one element with two provenances', () => {
    let plan = base();
    plan = mergeFragments(plan, [{ fragment: goal('Job'), origin: origin('dfdg', '1'), memberId: 'm1' }], ctx('2026-11-23T10:00:00.000Z')).plan;
    const out = mergeFragments(plan, [{ fragment: goal('Job'), origin: origin('education', '7', 'edu-9'), memberId: 'm1' }], ctx('2026-11-23T10:01:00.000Z'));
    expect(out.plan.goals).toHaveLength(1);
    // The system that wrote the content stays last; the confirming one is added before it.
    expect(out.plan.goals[0]!.provenance.map((p) => (p.kind === 'source' ? p.system : p.kind))).toEqual(['education', 'dfdg']);
    expect(out.conflicts).toBe(0);
  });

  it('flags two systems editing the same goal as a conflict and keeps the current content', () => {
    let plan = base();
    plan = mergeFragments(plan, [{ fragment: goal('Job'), origin: origin('dfdg', '1'), memberId: 'm1' }], ctx('2026-11-23T10:00:00.000Z')).plan;
    plan = mergeFragments(plan, [{ fragment: goal('Job'), origin: origin('education', '1', 'edu-9'), memberId: 'm1' }], ctx('2026-11-23T10:01:00.000Z')).plan;
    // Both change it before the next sync: DFDG first, then education.
    plan = mergeFragments(plan, [{ fragment: goal('Job som tømrer'), origin: origin('dfdg', '2'), memberId: 'm1' }], ctx('2026-11-23T11:00:00.000Z')).plan;
    const out = mergeFragments(plan, [{ fragment: goal('Uddannelse som tømrer'), origin: origin('education', '2', 'edu-9'), memberId: 'm1' }], ctx('2026-11-23T11:01:00.000Z'));
    expect(out.conflicts).toBe(1);
    expect(out.plan.goals[0]!.title).toBe('Job som tømrer');
    expect(out.plan.conflicts).toHaveLength(1);
    expect(out.plan.conflicts[0]).toMatchObject({ elementId: 'shared:goal:1', field: 'title' });
    expect(out.plan.conflicts[0]!.values.map((v) => v.value)).toEqual([{ title: 'Job som tømrer' }, { title: 'Uddannelse som tømrer' }]);
    // The same conflicting version again is not flagged twice.
    expect(mergeFragments(out.plan, [{ fragment: goal('Uddannelse som tømrer'), origin: origin('education', '2', 'edu-9'), memberId: 'm1' }], ctx('2026-11-23T11:02:00.000Z')).stale).toBe(1);
  });

  it('lets the system that wrote the content change it again without a conflict', () => {
    let plan = base();
    plan = mergeFragments(plan, [{ fragment: goal('A'), origin: origin('dfdg', '1'), memberId: 'm1' }], ctx('2026-11-23T10:00:00.000Z')).plan;
    const out = mergeFragments(plan, [{ fragment: goal('B'), origin: origin('dfdg', '2'), memberId: 'm1' }], ctx('2026-11-23T10:01:00.000Z'));
    expect(out).toMatchObject({ updated: 1, conflicts: 0 });
    expect(out.plan.goals[0]!.title).toBe('B');
  });

  it('lets a later record of the same system supersede an earlier one on the same element, without a conflict', () => {
    // Two events of one course: two records of one system, one element.
    const first = mergeFragments(base(), [{ fragment: goal('Optaget'), origin: origin('education', '1', 'event-1'), memberId: 'm1' }], ctx('2026-11-23T10:00:00.000Z')).plan;
    const out = mergeFragments(first, [{ fragment: goal('Påbegyndt'), origin: origin('education', '1', 'event-2'), memberId: 'm1' }], ctx('2026-11-23T11:00:00.000Z'));
    expect(out.conflicts).toBe(0);
    expect(out.plan.conflicts).toEqual([]);
    expect(out.plan.goals[0]!.title).toBe('Påbegyndt');
    expect(out.plan.goals[0]!.provenance.map((p) => (p.kind === 'source' ? p.recordId : p.kind))).toEqual(['event-1', 'event-2']);
    // Within one merge too, in the order given.
    const together = mergeFragments(base(), [
      { fragment: goal('Optaget'), origin: origin('education', '1', 'event-1'), memberId: 'm1' },
      { fragment: goal('Påbegyndt'), origin: origin('education', '1', 'event-2'), memberId: 'm1' },
    ], ctx('2026-11-23T10:00:00.000Z'));
    expect([together.conflicts, together.plan.goals[0]!.title]).toEqual([0, 'Påbegyndt']);
    // Another system changing it still conflicts.
    expect(mergeFragments(out.plan, [{ fragment: goal('Afbrudt'), origin: origin('dfdg', '1'), memberId: 'm1' }], ctx('2026-11-23T12:00:00.000Z')).conflicts).toBe(1);
  });

  it('keeps the content of the latest record by its sequence, whatever order the records are read in', () => {
    const event = (title: string, sequence: string): Fragment => ({ ...goal(title), sequence });
    const seq = (recordId: string, version = '1') => origin('education', version, recordId);
    const inputs = (title: string, sequence: string, recordId: string, version?: string) => [{ fragment: event(title, sequence), origin: { ...seq(recordId, version), sequence }, memberId: 'm1' }];
    let plan = mergeFragments(base(), inputs('Påbegyndt', '2026-08-10#000000000002', 'event-2'), ctx('2026-11-23T10:00:00.000Z')).plan;
    // The earlier event read later (a catch-up listing it last, or a correction of it): it joins the provenance only.
    for (const [version, at] of [['1', '11'], ['2', '12']] as const) {
      const out = mergeFragments(plan, inputs('Optaget', '2026-06-20#000000000001', 'event-1', version), ctx(`2026-11-23T${at}:00:00.000Z`));
      expect([out.conflicts, out.updated, out.plan.goals[0]!.title]).toEqual([0, 0, 'Påbegyndt']);
      expect(out.plan.goals[0]!.provenance.map((p) => (p.kind === 'source' ? `${p.recordId}@${p.recordVersion}` : p.kind))).toEqual([`event-1@${version}`, 'event-2@1']);
      plan = out.plan;
    }
    // A later event takes over.
    const last = mergeFragments(plan, inputs('Fuldført', '2027-06-30#000000000003', 'event-3'), ctx('2026-11-23T13:00:00.000Z'));
    expect([last.conflicts, last.plan.goals[0]!.title]).toEqual([0, 'Fuldført']);
    expect(last.plan.goals[0]!.provenance.at(-1)).toMatchObject({ recordId: 'event-3', sequence: '2027-06-30#000000000003' });
  });

  it('compares numeric versions as numbers and others as text', () => {
    expect(compareVersions('10', '9')).toBeGreaterThan(0);
    expect(compareVersions('2026-11-23T10:00:00Z', '2026-11-22T23:00:00Z')).toBeGreaterThan(0);
    expect(compareVersions('7', '7')).toBe(0);
  });

  it('recognises a registered element that comes back from the target under the target’s id', () => {
    const uuid = '5f0c6a52-3a0e-4c51-9a4e-2b7f1d9e8c11';
    const registered = Plan.parse({
      ...base(),
      goals: [{ id: uuid, level: 'overall', title: 'Job som tømrer', sector: 'employment', status: 'active', topics: ['job-goal'], memberId: 'm1', ruleVersion: 'rules-2026.11', provenance: [{ kind: 'registration', registrationId: 'reg-9', actor: 'caseworker:anna', at: '2026-11-23T09:00:00.000Z' }] }],
    });
    // DFDG words it its own way (another title); the first report confirms, it does not conflict.
    const back = mergeFragments(registered, [{ fragment: goal('Tømrer', `dfdg:job-goal:${uuid}`), origin: origin('dfdg', '1', uuid), memberId: 'm1' }], ctx('2026-11-23T10:00:00.000Z'));
    expect(back.plan.goals).toHaveLength(1);
    expect(back.plan.goals[0]!.title).toBe('Job som tømrer');
    expect(back.plan.goals[0]!.provenance.map((p) => p.kind)).toEqual(['source', 'registration']);
    expect(back.conflicts).toBe(0);
    // A later change made in DFDG after that is applied as DFDG's.
    const changed = mergeFragments(back.plan, [{ fragment: goal('Tømrerlærling', `dfdg:job-goal:${uuid}`), origin: origin('dfdg', '2', uuid), memberId: 'm1' }], ctx('2026-11-23T11:00:00.000Z'));
    expect(changed.plan.goals).toHaveLength(1);
    expect(changed.plan.goals[0]).toMatchObject({ id: uuid, title: 'Tømrerlærling' });
  });
  it('tells a source’s own wording from its changes once an element has several writers: only changed fields move or conflict', () => {
    const uuid = '7a1d2c3e-4b5f-4a6b-8c7d-9e0f1a2b3c4d';
    const registered = Plan.parse({
      ...base(),
      interventions: [
        {
          id: uuid, sector: 'education', legalBasis: 'LAB kap. 11', type: { system: 'urn:test:ours', code: 'BRO', display: 'Brobygning' }, title: 'Brobygning', responsibleUnit: 'Ungeindsatsen', contact: { name: 'Anna Andersen' },
          period: { start: '2026-12-07', end: '2027-02-15' }, order: 1, status: 'planned', goalIds: [], dependsOn: [], topics: [], memberId: 'm1', ruleVersion: 'rules-2026.11',
          provenance: [{ kind: 'registration', registrationId: 'reg-7', actor: 'caseworker:anna', at: '2026-11-23T09:00:00.000Z' }],
        },
      ],
    });
    // Each target words the course its own way (its own type code, its own unit name).
    const worded = (system: 'dfdg' | 'education', end: string, extra: Record<string, unknown> = {}): Fragment =>
      FragmentSchema.parse({
        kind: 'intervention',
        elementId: `${system}:activity:${uuid}`,
        category: 'interventions',
        content: { sector: 'education', legalBasis: 'LAB kap. 11', type: { system: `urn:test:${system}`, code: system === 'dfdg' ? 'VEJ' : 'BRO-U', display: 'Brobygning' }, title: 'Brobygning', responsibleUnit: system === 'dfdg' ? 'Jobcenter' : 'UU', contact: { name: system === 'dfdg' ? 'Jobcentret' : 'UU-vejleder' }, period: { start: '2026-12-07', end }, order: 1, status: 'planned', goalIds: [], ...extra },
      });
    const from = (system: 'dfdg' | 'education', version: string) => ({ ...origin(system, version, `${system}-${uuid}`), mappingId: `${system}.activity`, category: 'interventions' as const });
    let plan = mergeFragments(registered, [{ fragment: worded('dfdg', '2027-02-15'), origin: from('dfdg', '1'), memberId: 'm1' }], ctx('2026-11-23T10:00:00.000Z')).plan;
    plan = mergeFragments(plan, [{ fragment: worded('education', '2027-02-15'), origin: from('education', '1'), memberId: 'm1' }], ctx('2026-11-23T10:01:00.000Z')).plan;
    expect(plan.interventions[0]!.provenance.map((p) => (p.kind === 'source' ? `${p.system}:${p.seen ? 'seen' : '-'}` : p.kind))).toEqual(['dfdg:seen', 'education:seen', 'registration']);

    // The jobcentre moves the end date: only the period is taken; our wording stays; no conflict.
    const moved = mergeFragments(plan, [{ fragment: worded('dfdg', '2027-03-15'), origin: from('dfdg', '2'), memberId: 'm1' }], ctx('2026-11-23T11:00:00.000Z'));
    expect(moved.conflicts).toBe(0);
    expect(moved.plan.interventions[0]).toMatchObject({ period: { end: '2027-03-15' }, type: { system: 'urn:test:ours' }, responsibleUnit: 'Ungeindsatsen' });
    expect(moved.plan.interventions[0]!.provenance.at(-1)).toMatchObject({ kind: 'source', system: 'dfdg', recordVersion: '2' });

    // Ungedatabasen moves it otherwise: a conflict on the period alone, not on each system's wording.
    const clash = mergeFragments(moved.plan, [{ fragment: worded('education', '2027-02-01'), origin: from('education', '2'), memberId: 'm1' }], ctx('2026-11-23T12:00:00.000Z'));
    expect(clash.conflicts).toBe(1);
    expect(clash.plan.conflicts[0]).toMatchObject({ field: 'period', values: [{ value: { period: { end: '2027-03-15' } } }, { value: { period: { end: '2027-02-01' } } }] });
    expect(clash.plan.interventions[0]!.period).toEqual({ start: '2026-12-07', end: '2027-03-15' });

    // A report that changes nothing the source reported before is news to nobody: provenance only.
    const again = mergeFragments(clash.plan, [{ fragment: worded('dfdg', '2027-03-15'), origin: from('dfdg', '3'), memberId: 'm1' }], ctx('2026-11-23T13:00:00.000Z'));
    expect(again).toMatchObject({ conflicts: 0, updated: 0, unchanged: 1 });
    expect(again.plan.interventions[0]!.responsibleUnit).toBe('Ungeindsatsen');
  });

  it('keeps no field digests on an element only one record writes (a plan document does not grow for nothing)', () => {
    const first = mergeFragments(base(), [{ fragment: intervention([]), origin: socialOrigin('1'), memberId: 'm1' }], ctx('2026-11-23T10:00:00.000Z'));
    const second = mergeFragments(first.plan, [{ fragment: intervention([], 'Bostøtte i eget hjem'), origin: socialOrigin('2'), memberId: 'm1' }], ctx('2026-11-23T11:00:00.000Z'));
    expect(second.plan.interventions[0]!.title).toBe('Bostøtte i eget hjem');
    expect(JSON.stringify(second.plan)).not.toContain('"seen"');
  });

  it('checks what it builds as Plan.parse would: a bad element or a broken reference throws, the input plan is untouched', () => {
    const plan = base();
    const before = JSON.stringify(plan);
    // An element whose content breaks the Goal schema.
    const broken: Fragment = { ...goal('x'), content: { ...(goal('x') as { content: object }).content, level: 'not-a-level' } } as unknown as Fragment;
    expect(() => mergeFragments(plan, [{ fragment: broken, origin: origin('dfdg', '1'), memberId: 'm1' }], ctx('2026-11-23T10:00:00.000Z'))).toThrow();
    // A valid element that belongs to no member of the plan breaks the plan-wide rules.
    expect(() => mergeFragments(plan, [{ fragment: goal('Job'), origin: origin('dfdg', '1'), memberId: 'nobody' }], ctx('2026-11-23T10:00:00.000Z'))).toThrow(/member of the plan/);
    // Whatever the merge builds, Plan.parse accepts it unchanged.
    const out = mergeFragments(plan, [{ fragment: goal('Job'), origin: origin('dfdg', '1'), memberId: 'm1' }, { fragment: goal('Job 2'), origin: origin('social', '4', 'soc-1'), memberId: 'm1' }], ctx('2026-11-23T10:00:00.000Z'));
    expect(out.conflicts).toBe(1);
    expect(Plan.parse(out.plan)).toEqual(out.plan);
    expect(JSON.stringify(plan)).toBe(before);
  });

  it('leaves out references to goals the plan will not hold, reports them, and keeps the plan whole', () => {
    const out = mergeFragments(base(), [{ fragment: intervention(['social:goal:refused', 'social:goal:here']), origin: socialOrigin('1'), memberId: 'm1' }, { fragment: goal('Egen bolig', 'social:goal:here'), origin: origin('social', '1', 'goal-here'), memberId: 'm1' }], ctx('2026-11-23T10:00:00.000Z'));
    // The goal that arrives in the same merge resolves, whatever the order of the fragments.
    expect(out.plan.interventions[0]!.goalIds).toEqual(['social:goal:here']);
    expect(out.unresolvedReferences).toEqual([{ system: 'social', recordId: 'careplan-1', elementId: 'social:activity:1', field: 'goalIds', reference: 'social:goal:refused' }]);
    expect(Plan.parse(out.plan)).toEqual(out.plan);
  });

  it('links a reference once it resolves when the same record version is read again', () => {
    const first = mergeFragments(base(), [{ fragment: intervention(['social:goal:later']), origin: socialOrigin('3'), memberId: 'm1' }], ctx('2026-11-23T10:00:00.000Z'));
    expect(first.plan.interventions[0]!.goalIds).toEqual([]);
    // Read again with nothing new: old news, not a change.
    const again = mergeFragments(first.plan, [{ fragment: intervention(['social:goal:later']), origin: socialOrigin('3'), memberId: 'm1' }], ctx('2026-11-23T10:30:00.000Z'));
    expect(again).toMatchObject({ stale: 1, updated: 0 });
    expect(again.plan).toBe(first.plan);
    // The goal is there now (e.g. consent to goals was given): the same version links it.
    const withGoal = mergeFragments(first.plan, [{ fragment: goal('Egen bolig', 'social:goal:later'), origin: origin('social', '1', 'goal-later'), memberId: 'm1' }], ctx('2026-11-23T11:00:00.000Z')).plan;
    const linked = mergeFragments(withGoal, [{ fragment: intervention(['social:goal:later']), origin: socialOrigin('3'), memberId: 'm1' }], ctx('2026-11-23T11:01:00.000Z'));
    expect(linked).toMatchObject({ updated: 1, conflicts: 0, unresolvedReferences: [] });
    expect(linked.plan.interventions[0]!.goalIds).toEqual(['social:goal:later']);
  });

  it('does not let a version read again undo what another system wrote since', () => {
    let plan = mergeFragments(base(), [{ fragment: intervention([], 'Bostøtte'), origin: socialOrigin('1'), memberId: 'm1' }], ctx('2026-11-23T10:00:00.000Z')).plan;
    plan = mergeFragments(plan, [{ fragment: intervention([], 'Bostøtte'), origin: { ...socialOrigin('4', 'other-record'), system: 'health' }, memberId: 'm1' }], ctx('2026-11-23T10:01:00.000Z')).plan;
    plan = mergeFragments(plan, [{ fragment: intervention([], 'Bostøtte 2 timer'), origin: { ...socialOrigin('5', 'other-record'), system: 'health' }, memberId: 'm1' }], ctx('2026-11-23T10:02:00.000Z')).plan;
    const reread = mergeFragments(plan, [{ fragment: intervention([], 'Bostøtte'), origin: socialOrigin('1'), memberId: 'm1' }], ctx('2026-11-23T10:03:00.000Z'));
    expect(reread).toMatchObject({ stale: 1, conflicts: 0 });
    expect(reread.plan.interventions[0]!.title).toBe('Bostøtte 2 timer');
    expect(reread.plan.conflicts).toEqual([]);
  });

  it('leaves out a parent goal and a dependency the plan does not hold', () => {
    const overall = goal('Delmål', 'social:goal:sub') as Extract<Fragment, { kind: 'goal' }>;
    const sub: Fragment = { ...overall, content: { ...overall.content, level: 'sub', parentGoalId: 'social:goal:missing' } };
    const dependent = intervention([]);
    (dependent.content as { dependsOn: string[] }).dependsOn = ['social:activity:missing'];
    const out = mergeFragments(base(), [{ fragment: sub, origin: origin('social', '1', 'goal-sub'), memberId: 'm1' }, { fragment: dependent, origin: socialOrigin('1'), memberId: 'm1' }], ctx('2026-11-23T10:00:00.000Z'));
    expect(out.plan.goals[0]!.parentGoalId).toBeUndefined();
    expect(out.plan.interventions[0]!.dependsOn).toEqual([]);
    expect(out.unresolvedReferences.map((r) => [r.field, r.reference])).toEqual([['parentGoalId', 'social:goal:missing'], ['dependsOn', 'social:activity:missing']]);
  });
});
