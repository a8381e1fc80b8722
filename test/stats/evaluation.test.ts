/** Evaluation figures (R22): periods, each figure's definition, and small-count suppression. */
import { describe, expect, it } from 'vitest';
import { membersOf, Plan, type PlanStatus } from '../../src/model';
import {
  evaluationFigures,
  evaluationTally,
  HalfYearId,
  halfYear,
  lastCompleteHalfYear,
  suppressBreakdown,
  suppressCount,
  type EvaluationFigures,
} from '../../src/stats';
import { registration, validPlan } from '../support/plans';

const H1 = halfYear('2026-H1');

let serial = 0;
interface Spec {
  id?: string;
  origin?: 'offered' | 'requested';
  /** Status changes in order; the first is the one the plan was created with. */
  history?: [PlanStatus, string][];
  members?: { citizenId: string; leftAt?: string }[];
  interventions?: { memberIndex?: number; sector: string; code: string; display?: string; contact?: string; start?: string; end?: string; status?: string }[];
  coordinator?: string | null;
  handOvers?: { from?: string; to: string; at: string }[];
}

/** A valid plan document (parsed with the model's own schema) with only what a test is about. */
function plan(spec: Spec = {}): Plan {
  serial++;
  const history = spec.history ?? [
    ['offered', '2025-11-01T09:00:00.000Z'],
    ['accepted', '2025-11-15T09:00:00.000Z'],
    ['active', '2025-12-01T09:00:00.000Z'],
  ];
  const members = (spec.members ?? [{ citizenId: `citizen-${serial}` }]).map((m, i) => ({
    memberId: `m${i}`,
    citizenId: m.citizenId,
    role: (i === 0 ? 'parent' : 'child') as 'parent' | 'child',
    birthDate: i === 0 ? '1985-06-15' : '2012-03-04',
    ...(m.leftAt ? { leftAt: m.leftAt } : {}),
  }));
  const status = history.at(-1)![0];
  return Plan.parse(
    validPlan({
      id: spec.id ?? `plan-${serial}`,
      origin: spec.origin ?? 'offered',
      status,
      statusHistory: history.map(([to, at], i) => ({ ...(i > 0 ? { from: history[i - 1]![0] } : {}), to, at, recordedBy: 'caseworker:anna', ...(to === 'declined' ? { reason: 'Borgeren ønsker det ikke' } : {}) })),
      subject: members.length === 1 ? { kind: 'citizen', member: members[0]! } : ({ kind: 'family', members } as never),
      citizenViews: [],
      goals: [],
      interventions: (spec.interventions ?? []).map((i, n) => ({
        id: `i${n}`,
        sector: i.sector,
        legalBasis: 'SEL §85',
        type: { system: 'urn:test:types', code: i.code, ...(i.display ? { display: i.display } : {}) },
        title: 'Indsats',
        responsibleUnit: 'Enhed',
        contact: { name: i.contact ?? `Kontakt ${i.sector}` },
        period: { start: i.start ?? '2026-01-10', ...(i.end ? { end: i.end } : {}) },
        order: n,
        status: i.status ?? 'active',
        memberId: `m${i.memberIndex ?? 0}`,
        ruleVersion: 'rules-2026.11',
        provenance: registration(),
      })) as never,
      agreements: [],
      followUps: [],
      ...(spec.coordinator === null
        ? { coordinator: undefined }
        : { coordinator: { kind: 'caseworker', name: spec.coordinator ?? 'Anna Koordinator', sector: 'employment', unit: 'Jobcenter', since: '2025-11-01T09:00:00.000Z', teamMembers: [] } }),
      coordinatorHistory: (spec.handOvers ?? []).map((h) => ({ ...h, toSector: 'social', recordedBy: 'caseworker:anna' })) as never,
      createdAt: history[0]![1],
      updatedAt: history.at(-1)![1],
    }),
  );
}
const many = (n: number, spec: Omit<Spec, 'id' | 'members'> = {}) => Array.from({ length: n }, () => plan(spec));
const value = (cell: { value: number | null; suppressed: boolean }) => (cell.suppressed ? 'suppressed' : cell.value);
const buckets = (f: EvaluationFigures) => Object.fromEntries(f.contactPersonsPerCitizen.map((b) => [b.contactPersons, value(b.citizens)]));

describe('half-year periods', () => {
  it('starts and ends at midnight Danish time (CET in winter, CEST in summer)', () => {
    expect(new Date(H1.start).toISOString()).toBe('2025-12-31T23:00:00.000Z');
    expect(new Date(H1.end).toISOString()).toBe('2026-06-30T22:00:00.000Z');
    const h2 = halfYear('2026-H2');
    expect(new Date(h2.start).toISOString()).toBe('2026-06-30T22:00:00.000Z');
    expect(new Date(h2.end).toISOString()).toBe('2026-12-31T23:00:00.000Z');
    expect([H1.firstDay, H1.lastDay, h2.firstDay, h2.lastDay]).toEqual(['2026-01-01', '2026-06-30', '2026-07-01', '2026-12-31']);
  });

  it('defaults to the last half-year that has ended in Denmark', () => {
    expect(lastCompleteHalfYear(new Date('2026-08-15T12:00:00Z')).id).toBe('2026-H1');
    expect(lastCompleteHalfYear(new Date('2026-06-30T21:59:59Z')).id).toBe('2025-H2'); // 23:59:59 on 30 June in Denmark
    expect(lastCompleteHalfYear(new Date('2026-06-30T22:00:00Z')).id).toBe('2026-H1'); // midnight, 1 July
    expect(lastCompleteHalfYear(new Date('2026-12-31T23:30:00Z')).id).toBe('2026-H2'); // already 1 January 2027 in Denmark
    expect(lastCompleteHalfYear(new Date('2026-03-01T00:00:00Z')).id).toBe('2025-H2');
  });

  it('accepts only YYYY-H1 and YYYY-H2', () => {
    for (const good of ['2026-H1', '2019-H2']) expect(HalfYearId.safeParse(good).success).toBe(true);
    for (const bad of ['2026-H3', '2026-h1', '2026H1', '26-H1', '2026-H1 ', '2026-Q1', '1999-H1', '']) expect(HalfYearId.safeParse(bad).success).toBe(false);
  });

  it('counts a status change at the first instant of the period, and one at the first instant of the next period there', () => {
    const atStart = plan({ history: [['offered', '2025-12-31T23:00:00.000Z']] });
    const justBefore = plan({ history: [['offered', '2025-12-31T22:59:59.999Z']] });
    const atEnd = plan({ history: [['offered', '2026-06-30T22:00:00.000Z']] });
    const f = evaluationFigures([atStart, ...many(4, { history: [['offered', '2026-03-01T00:00:00.000Z']] }), justBefore, atEnd], H1);
    expect(value(f.lifecycle.offered)).toBe(5);
    expect(value(evaluationFigures([atEnd, ...many(4, { history: [['offered', '2026-08-01T00:00:00.000Z']] })], halfYear('2026-H2')).lifecycle.offered)).toBe(5);
  });

  it('counts a plan as in force in the period when its accepted/active time overlaps it, not when it ended exactly at the start or began at the end', () => {
    const endedAtStart = (n: number) => many(n, { history: [['offered', '2025-09-01T00:00:00.000Z'], ['accepted', '2025-10-01T00:00:00.000Z'], ['closed', '2025-12-31T23:00:00.000Z']] });
    const acceptedAtEnd = (n: number) => many(n, { history: [['offered', '2026-05-01T00:00:00.000Z'], ['accepted', '2026-06-30T22:00:00.000Z']] });
    const acceptedLastMinute = (n: number) => many(n, { history: [['offered', '2026-05-01T00:00:00.000Z'], ['accepted', '2026-06-30T21:59:00.000Z']] });
    const closedFirstMinute = (n: number) => many(n, { history: [['offered', '2025-09-01T00:00:00.000Z'], ['accepted', '2025-10-01T00:00:00.000Z'], ['closed', '2025-12-31T23:01:00.000Z']] });
    expect(value(evaluationFigures([...endedAtStart(6), ...acceptedAtEnd(6)], H1).citizensWithPlan)).toBe(0);
    expect(value(evaluationFigures([...acceptedLastMinute(3), ...closedFirstMinute(3)], H1).citizensWithPlan)).toBe(6);
  });
});

describe('the figures', () => {
  it('citizens with Én plan: accepted or active at some time in the period; offered or declined only, no', () => {
    const enrolled = many(5);
    const onlyOffered = many(5, { history: [['offered', '2026-02-01T00:00:00.000Z']] });
    const declinedWithoutAccepting = many(5, { history: [['offered', '2026-02-01T00:00:00.000Z'], ['declined', '2026-02-10T00:00:00.000Z']] });
    const closedLastYear = many(5, { history: [['offered', '2025-01-01T00:00:00.000Z'], ['accepted', '2025-02-01T00:00:00.000Z'], ['closed', '2025-09-01T00:00:00.000Z']] });
    const f = evaluationFigures([...enrolled, ...onlyOffered, ...declinedWithoutAccepting, ...closedLastYear], H1);
    expect(value(f.citizensWithPlan)).toBe(5);
  });

  it('offered / requested / declined: citizens whose plan entered the status in the period', () => {
    const offeredBefore = many(5); // offered in November 2025, active since
    const offered = many(6, { history: [['offered', '2026-01-05T00:00:00.000Z']] });
    const requested = many(7, { origin: 'requested', history: [['requested', '2026-02-05T00:00:00.000Z']] });
    const requestedThenOffered = many(5, { origin: 'requested', history: [['requested', '2025-12-01T00:00:00.000Z'], ['offered', '2026-04-01T00:00:00.000Z']] });
    const f = evaluationFigures([...offeredBefore, ...offered, ...requested, ...requestedThenOffered], H1);
    expect(value(f.lifecycle.offered)).toBe(11);
    expect(value(f.lifecycle.requested)).toBe(7);
    expect(value(f.lifecycle.declined)).toBe(0);
  });

  it('a plan declined in the period counts as declined, and as Én plan for the time it was in force', () => {
    const declined = many(5, { history: [['offered', '2025-10-01T00:00:00.000Z'], ['accepted', '2025-10-15T00:00:00.000Z'], ['active', '2025-11-01T00:00:00.000Z'], ['declined', '2026-03-15T10:00:00.000Z']] });
    const declinedLastYear = many(5, { history: [['offered', '2025-10-01T00:00:00.000Z'], ['declined', '2025-10-15T00:00:00.000Z']] });
    const f = evaluationFigures([...declined, ...declinedLastYear], H1);
    expect(value(f.lifecycle.declined)).toBe(5);
    expect(value(f.citizensWithPlan)).toBe(5);
    expect(value(evaluationFigures(declined, halfYear('2026-H2')).citizensWithPlan)).toBe(0);
  });

  it('a family plan counts each member; a member who left before the period does not count in it', () => {
    const family = plan({ members: ['a', 'b', 'c', 'd', 'e', 'f'].map((x) => ({ citizenId: `fam-${x}` })) });
    expect(value(evaluationFigures([family], H1).citizensWithPlan)).toBe(6);
    const leftBefore = plan({ members: [{ citizenId: 'p' }, { citizenId: 'q' }, { citizenId: 'r' }, { citizenId: 's' }, { citizenId: 't' }, { citizenId: 'u', leftAt: '2025-12-20T00:00:00.000Z' }] });
    expect(value(evaluationFigures([leftBefore], H1).citizensWithPlan)).toBe(5);
    const leftDuring = plan({ members: [{ citizenId: 'p' }, { citizenId: 'q' }, { citizenId: 'r' }, { citizenId: 's' }, { citizenId: 't' }, { citizenId: 'u', leftAt: '2026-02-20T00:00:00.000Z' }] });
    expect(value(evaluationFigures([leftDuring], H1).citizensWithPlan)).toBe(6);
    const offeredFamily = plan({ history: [['offered', '2026-01-20T00:00:00.000Z']], members: ['a', 'b', 'c', 'd', 'e'].map((x) => ({ citizenId: `off-${x}` })) });
    expect(value(evaluationFigures([offeredFamily], H1).lifecycle.offered)).toBe(5);
  });

  it('a citizen in two plans counts once', () => {
    const citizens = ['x1', 'x2', 'x3', 'x4', 'x5'];
    const first = citizens.map((c) => plan({ members: [{ citizenId: c }], history: [['offered', '2026-01-02T00:00:00.000Z'], ['declined', '2026-01-20T00:00:00.000Z']] }));
    const second = citizens.map((c) => plan({ members: [{ citizenId: c }], history: [['offered', '2026-02-02T00:00:00.000Z'], ['accepted', '2026-02-20T00:00:00.000Z']] }));
    const f = evaluationFigures([...first, ...second], H1);
    expect(value(f.lifecycle.offered)).toBe(5);
    expect(value(f.citizensWithPlan)).toBe(5);
  });

  it('helped by two or more departments: sectors of interventions active in the period, and how many were offered Én plan', () => {
    const twoSectors = [{ sector: 'employment', code: 'A' }, { sector: 'social', code: 'B' }];
    const offered = many(6, { interventions: twoSectors });
    const requestedOnly = many(5, { origin: 'requested', history: [['requested', '2025-11-01T00:00:00.000Z'], ['accepted', '2025-11-15T00:00:00.000Z']], interventions: twoSectors });
    const oneSectorTwice = many(5, { interventions: [{ sector: 'social', code: 'B' }, { sector: 'social', code: 'C' }] });
    const secondEndedBefore = many(5, { interventions: [{ sector: 'social', code: 'B' }, { sector: 'health', code: 'H', start: '2025-06-01', end: '2025-12-31' }] });
    const secondCancelled = many(5, { interventions: [{ sector: 'social', code: 'B' }, { sector: 'health', code: 'H', status: 'cancelled' }] });
    const secondStartsLater = many(5, { interventions: [{ sector: 'social', code: 'B' }, { sector: 'health', code: 'H', start: '2026-07-01' }] });
    const f = evaluationFigures([...offered, ...requestedOnly, ...oneSectorTwice, ...secondEndedBefore, ...secondCancelled, ...secondStartsLater], H1);
    expect(value(f.multipleDepartments.citizens)).toBe(11);
    expect(value(f.multipleDepartments.offeredEnPlan)).toBe(6);
    expect(value(f.multipleDepartments.notOfferedEnPlan)).toBe(5);
    expect(f.multipleDepartments.note).toMatch(/R12/);
  });

  it('sectors of one citizen add up across their plans, and the interventions of one member are not another’s', () => {
    const citizens = ['s1', 's2', 's3', 's4', 's5'];
    const plans = citizens.flatMap((c) => [plan({ members: [{ citizenId: c }], interventions: [{ sector: 'employment', code: 'A' }] }), plan({ members: [{ citizenId: c }], interventions: [{ sector: 'health', code: 'H' }] })]);
    expect(value(evaluationFigures(plans, H1).multipleDepartments.citizens)).toBe(5);
    const families = Array.from({ length: 5 }, (_, i) =>
      plan({ members: [{ citizenId: `par-${i}` }, { citizenId: `kid-${i}` }], interventions: [{ sector: 'employment', code: 'A', memberIndex: 0 }, { sector: 'children', code: 'K', memberIndex: 1 }] }),
    );
    expect(value(evaluationFigures(families, H1).citizensWithPlan)).toBe(10);
    expect(value(evaluationFigures(families, H1).multipleDepartments.citizens)).toBe(0);
  });

  it('contact persons per citizen: distinct coordinators in office and intervention contacts, in buckets that add up', () => {
    const coordinatorOnly = many(5, { interventions: [] });
    const coordinatorIsAlsoContact = many(5, { interventions: [{ sector: 'employment', code: 'A', contact: '  anna   KOORDINATOR ' }] });
    const twoMore = many(5, { interventions: [{ sector: 'employment', code: 'A', contact: 'Jens' }, { sector: 'social', code: 'B', contact: 'Bo' }] });
    const handedOverInPeriod = many(5, { coordinator: 'Karin', handOvers: [{ from: 'Anna Koordinator', to: 'Karin', at: '2026-03-01T00:00:00.000Z' }], interventions: [{ sector: 'social', code: 'B', contact: 'Bo' }, { sector: 'health', code: 'H', contact: 'Hanne' }] });
    const handedOverBefore = many(5, { coordinator: 'Karin', handOvers: [{ from: 'Anna Koordinator', to: 'Karin', at: '2025-12-01T00:00:00.000Z' }] });
    const noCoordinator = many(6, { coordinator: null });
    const f = evaluationFigures([...coordinatorOnly, ...coordinatorIsAlsoContact, ...twoMore, ...handedOverInPeriod, ...handedOverBefore, ...noCoordinator], H1);
    expect(buckets(f)).toEqual({ '0': 6, '1': 15, '2': 0, '3': 5, '4+': 5 });
    expect(value(f.citizensWithPlan)).toBe(31);
  });

  it('intervention types: citizens with Én plan per sector and code active in the period', () => {
    const f = evaluationFigures(
      [
        ...many(6, { interventions: [{ sector: 'employment', code: 'MENTOR', display: 'Mentor' }, { sector: 'employment', code: 'MENTOR', display: 'Mentorstøtte' }] }),
        ...many(5, { interventions: [{ sector: 'social', code: 'SEL85', display: 'Socialpædagogisk støtte' }] }),
        ...many(2, { interventions: [{ sector: 'health', code: 'RARE' }] }),
        ...many(5, { interventions: [{ sector: 'health', code: 'OLD', end: '2025-12-31', start: '2025-01-01' }, { sector: 'health', code: 'GONE', status: 'cancelled' }] }),
        ...many(5, { history: [['offered', '2026-01-05T00:00:00.000Z']], interventions: [{ sector: 'social', code: 'NOTENROLLED' }] }),
      ],
      H1,
    );
    expect(f.interventionTypes.map((t) => [t.sector, t.code, t.display, value(t.citizens)])).toEqual([
      ['employment', 'MENTOR', 'Mentor', 6],
      ['health', 'RARE', null, 'suppressed'],
      ['social', 'SEL85', 'Socialpædagogisk støtte', 5],
    ]);
    expect(f.interventionTypes[0]!.system).toBe('urn:test:types');
  });

  it('satisfaction: citizens per score 1–5, suppressed like any breakdown', () => {
    const shownAll = evaluationFigures(many(10), H1, new Map([[4, 6], [5, 7]])).satisfaction;
    expect(shownAll.answeredBy).toEqual({ value: 13, suppressed: false });
    expect(shownAll.byScore.map((s) => [s.score, s.citizens.value])).toEqual([[1, 0], [2, 0], [3, 0], [4, 6], [5, 7]]);
    // One lone dissatisfied citizen is withheld, and so is the next smallest score, so neither can be worked out.
    const lone = evaluationFigures(many(10), H1, new Map([[1, 1], [4, 6], [5, 7]])).satisfaction;
    expect(lone.answeredBy.value).toBe(14);
    expect(lone.byScore.map((s) => s.citizens.suppressed)).toEqual([true, false, false, true, false]);
    // Too few answers: the whole breakdown is withheld.
    expect(evaluationFigures(many(10), H1, new Map([[5, 3]])).satisfaction.byScore.every((s) => s.citizens.suppressed)).toBe(true);
    expect(evaluationFigures(many(10), H1).satisfaction.answeredBy).toEqual({ value: 0, suppressed: false });
  });

  it('holds no ids, names or CPR numbers, only aggregates', () => {
    const plans = many(8, { coordinator: 'Anna Koordinator', interventions: [{ sector: 'social', code: 'B', contact: 'Bo Bostøtte' }] });
    const text = JSON.stringify(evaluationFigures(plans, H1));
    for (const p of plans) {
      expect(text).not.toContain(p.id);
      for (const m of membersOf(p)) expect(text).not.toContain(m.citizenId);
    }
    expect(text).not.toMatch(/Anna|Bo Bostøtte|citizen-|plan-|m0/);
    expect(text).not.toMatch(/\d{6}-?\d{4}/);
  });

  it('page by page gives the same figures as all at once, in any order', () => {
    const plans = [
      ...many(7, { interventions: [{ sector: 'employment', code: 'A' }, { sector: 'social', code: 'B' }] }),
      ...many(9, { origin: 'requested', history: [['requested', '2026-02-01T00:00:00.000Z'], ['declined', '2026-03-01T00:00:00.000Z']] }),
    ];
    const tally = evaluationTally(H1);
    for (const p of [...plans].reverse()) tally.add(p);
    expect(tally.figures()).toEqual(evaluationFigures(plans, H1));
  });
});

describe('small-count suppression', () => {
  it('withholds 1 to 4 and shows 0 and 5', () => {
    expect([0, 1, 4, 5, 120].map((n) => suppressCount(n))).toEqual([
      { value: 0, suppressed: false },
      { value: null, suppressed: true },
      { value: null, suppressed: true },
      { value: 5, suppressed: false },
      { value: 120, suppressed: false },
    ]);
  });

  it('in the figures: 3 citizens with Én plan are withheld', () => {
    const f = evaluationFigures(many(3), H1);
    expect(f.citizensWithPlan).toEqual({ value: null, suppressed: true });
    expect(f.lifecycle.declined).toEqual({ value: 0, suppressed: false });
  });

  it('secondary: a lone withheld cell takes the next smallest non-zero cell with it, so subtraction from the total tells nothing', () => {
    const { total, cells } = suppressBreakdown(19, [0, 10, 3, 6, 0]);
    expect(total).toEqual({ value: 19, suppressed: false });
    expect(cells.map(value)).toEqual([0, 10, 'suppressed', 'suppressed', 0]);
  });

  it('secondary: withheld cells that add up to less than 5 take another cell with them', () => {
    expect(suppressBreakdown(102, [1, 1, 100]).cells.map(value)).toEqual(['suppressed', 'suppressed', 'suppressed']);
    expect(suppressBreakdown(30, [2, 3, 25]).cells.map(value)).toEqual(['suppressed', 'suppressed', 25]);
    expect(suppressBreakdown(12, [6, 6]).cells.map(value)).toEqual([6, 6]);
  });

  it('a breakdown whose total is withheld is withheld whole, zeros too', () => {
    const { total, cells } = suppressBreakdown(3, [0, 3, 0]);
    expect(total.suppressed).toBe(true);
    expect(cells.every((c) => c.suppressed && c.value === null)).toBe(true);
  });

  it('refuses a breakdown that does not add up to its total', () => {
    expect(() => suppressBreakdown(10, [4, 5])).toThrow(/add up/);
  });

  it('in the figures: contact-person buckets and offered/not offered get secondary suppression', () => {
    const f = evaluationFigures(
      [
        ...many(10, { interventions: [{ sector: 'employment', code: 'A', contact: 'Anna Koordinator' }, { sector: 'social', code: 'B', contact: 'Anna Koordinator' }] }), // 1 contact, offered
        ...many(3, { origin: 'requested', history: [['requested', '2025-11-01T00:00:00.000Z'], ['accepted', '2025-11-15T00:00:00.000Z']], interventions: [{ sector: 'employment', code: 'A', contact: 'Jens' }, { sector: 'social', code: 'B', contact: 'Anna Koordinator' }] }), // 2 contacts, requested
        ...many(6, { interventions: [{ sector: 'employment', code: 'A', contact: 'Jens' }, { sector: 'social', code: 'B', contact: 'Bo' }] }), // 3 contacts, offered
      ],
      H1,
    );
    expect(value(f.citizensWithPlan)).toBe(19);
    expect(buckets(f)).toEqual({ '0': 0, '1': 10, '2': 'suppressed', '3': 'suppressed', '4+': 0 });
    expect(value(f.multipleDepartments.citizens)).toBe(19);
    expect(value(f.multipleDepartments.offeredEnPlan)).toBe('suppressed');
    expect(value(f.multipleDepartments.notOfferedEnPlan)).toBe('suppressed');
  });
});
