/**
 * Evaluation figures for one half-year (R22), computed from plan documents alone — no I/O.
 *
 * The figures count citizens (a family plan counts each member), each citizen once however many
 * plans they have. `evaluationTally` takes plans one at a time, so a caller can read a tenant's
 * plans page by page: what it keeps is a few small values per citizen who counts in the period
 * (flags, a sector mask, the names of their contact persons, their intervention types), never the
 * documents. Every figure leaves through `suppression.ts`: no ids, names or per-citizen rows.
 *
 * Definitions (docs/decisions/0012-evaluation-figures.md):
 * - *with Én plan*: a member of a plan whose status was `accepted` or `active` at some moment of the
 *   period (a member who left the family plan counts up to leaving).
 * - *offered / requested / declined*: a member of a plan whose status history enters that status
 *   in the period.
 * - *helped by two or more departments*: a citizen with Én plan whose interventions active in the
 *   period (not cancelled, dates overlapping it) come from at least two sectors; *offered Én plan*:
 *   of those, the ones a plan was offered to by the municipality (origin or history `offered`, by
 *   the end of the period) rather than only requested by themselves.
 * - *contact persons*: distinct names among the coordinators in office during the period and the
 *   contacts of the citizen's interventions active in the period, in the plans that made them count.
 * - *intervention types*: distinct citizens with Én plan per (sector, code system, code) of their
 *   interventions active in the period.
 */
import type { Plan, PlanStatus, Sector } from '../model';
import { enrolledStatuses, membersOf } from '../model';
import { REPORTING_TIME_ZONE, type HalfYear } from './period';
import { suppressBreakdown, suppressCount, SUPPRESSION_THRESHOLD, type Cell } from './suppression';

export const contactBuckets = ['0', '1', '2', '3', '4+'] as const;
export type ContactBucket = (typeof contactBuckets)[number];

export interface EvaluationFigures {
  period: { id: string; firstDay: string; lastDay: string; timeZone: string };
  suppression: { threshold: number };
  citizensWithPlan: Cell;
  multipleDepartments: { citizens: Cell; offeredEnPlan: Cell; notOfferedEnPlan: Cell; note: string };
  lifecycle: { offered: Cell; requested: Cell; declined: Cell };
  contactPersonsPerCitizen: { contactPersons: ContactBucket; citizens: Cell }[];
  interventionTypes: { sector: Sector; system: string; code: string; display: string | null; citizens: Cell }[];
  satisfaction: { collected: true; answeredBy: Cell; byScore: { score: number; citizens: Cell }[]; note: string };
}

export const MULTIPLE_DEPARTMENTS_NOTE =
  'Counted among citizens with Én plan in the period: the layer holds no data on citizens without an Én plan case (R12, no bulk matching), ' +
  'so citizens helped by two or more departments who never had a plan cannot be counted here. offeredEnPlan: the municipality offered them a plan; notOfferedEnPlan: they only requested one themselves.';

export const SATISFACTION_NOTE =
  'Citizens who answered how satisfied they are with their plan (1 very dissatisfied … 5 very satisfied) in the period, each once (their latest answer), as citizens asked themselves through their own access; not a survey of everyone with a plan.';

// Per-citizen flags.
const ENROLLED = 1;
const ENTERED_OFFERED = 2;
const ENTERED_REQUESTED = 4;
const ENTERED_DECLINED = 8;
const OFFERED_BY_END = 16;

const sectorBits: Record<Sector, number> = { employment: 1, education: 2, social: 4, children: 8, health: 16, integration: 32 };
const bitCount = (n: number) => {
  let count = 0;
  for (let m = n; m; m &= m - 1) count++;
  return count;
};

interface CitizenTally {
  flags: number;
  sectors: number;
  contacts?: Set<string>;
  types?: Set<string>;
}

interface Segment {
  status: PlanStatus;
  from: number;
  to: number;
}

/** The plan's statuses over time: each from when it was entered until the next change. */
export function statusTimeline(plan: Pick<Plan, 'status' | 'statusHistory' | 'createdAt'>): Segment[] {
  const created = Date.parse(plan.createdAt);
  const history = [...(plan.statusHistory ?? [])].sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
  const starts: { status: PlanStatus; from: number }[] = [];
  // A plan written without history (or whose history begins later) had its first status from creation.
  if (history.length === 0) starts.push({ status: plan.status, from: created });
  else if (history[0]!.from && Date.parse(history[0]!.at) > created) starts.push({ status: history[0]!.from, from: created });
  for (const change of history) starts.push({ status: change.to, from: Date.parse(change.at) });
  return starts.map((s, i) => ({ ...s, to: starts[i + 1]?.from ?? Number.POSITIVE_INFINITY }));
}

/** When each coordinator held the plan: hand-overs in order, and the current coordinator from `since`. */
function coordinatorTenures(plan: Pick<Plan, 'coordinator' | 'coordinatorHistory'>): { name: string; from: number; to: number }[] {
  const handOvers = [...(plan.coordinatorHistory ?? [])].sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
  const tenures: { name: string; from: number; to: number }[] = [];
  if (handOvers[0]?.from) tenures.push({ name: handOvers[0].from, from: Number.NEGATIVE_INFINITY, to: Date.parse(handOvers[0].at) });
  handOvers.forEach((h, i) => tenures.push({ name: h.to, from: Date.parse(h.at), to: handOvers[i + 1] ? Date.parse(handOvers[i + 1]!.at) : Number.POSITIVE_INFINITY }));
  const current = plan.coordinator;
  if (current && !tenures.some((t) => t.to === Number.POSITIVE_INFINITY && personKey(t.name) === personKey(current.name)))
    tenures.push({ name: current.name, from: Date.parse(current.since), to: Number.POSITIVE_INFINITY });
  return tenures;
}

/** One person however their name was typed in different systems. */
const personKey = (name: string) => name.trim().replace(/\s+/g, ' ').toLowerCase();
const typeKey = (sector: string, system: string, code: string) => JSON.stringify([sector, system, code]);
const byText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
const overlaps = (a: { from: number; to: number }, from: number, to: number) => a.from < to && a.to > from;

export function evaluationTally(period: HalfYear) {
  const citizens = new Map<string, CitizenTally>();
  const displays = new Map<string, string>();
  const tallyOf = (citizenId: string) => {
    let tally = citizens.get(citizenId);
    if (!tally) citizens.set(citizenId, (tally = { flags: 0, sectors: 0 }));
    return tally;
  };

  function add(plan: Plan): void {
    const timeline = statusTimeline(plan);
    const offeredByEnd = plan.origin === 'offered';
    const interventions = (plan.interventions ?? []).filter(
      (i) => i.status !== 'cancelled' && i.period.start <= period.lastDay && (!i.period.end || i.period.end >= period.firstDay),
    );
    const tenures = coordinatorTenures(plan);
    for (const member of membersOf(plan)) {
      // A member who left the family plan counts in it up to leaving (their own plan counts from then).
      const until = member.leftAt ? Math.min(period.end, Date.parse(member.leftAt)) : period.end;
      if (until <= period.start) continue;
      let flags = 0;
      if (timeline.some((s) => enrolledStatuses.includes(s.status) && overlaps(s, period.start, until))) flags |= ENROLLED;
      const entered = (status: PlanStatus) => timeline.some((s) => s.status === status && s.from >= period.start && s.from < until);
      if (entered('offered')) flags |= ENTERED_OFFERED;
      if (entered('requested')) flags |= ENTERED_REQUESTED;
      if (entered('declined')) flags |= ENTERED_DECLINED;
      if (offeredByEnd || timeline.some((s) => s.status === 'offered' && s.from < until)) flags |= OFFERED_BY_END;
      if (!(flags & (ENROLLED | ENTERED_OFFERED | ENTERED_REQUESTED | ENTERED_DECLINED))) continue;

      const tally = tallyOf(member.citizenId);
      tally.flags |= flags;
      // What the citizen received is known only from plans that were in force for them (R12: no
      // data is pulled before a plan is accepted), so only those add sectors, contacts and types.
      if (!(flags & ENROLLED)) continue;
      const contacts = (tally.contacts ??= new Set());
      for (const tenure of tenures) if (overlaps(tenure, period.start, until)) contacts.add(personKey(tenure.name));
      for (const intervention of interventions) {
        if (intervention.memberId !== member.memberId) continue;
        tally.sectors |= sectorBits[intervention.sector] ?? 0;
        contacts.add(personKey(intervention.contact.name));
        const key = typeKey(intervention.sector, intervention.type.system, intervention.type.code);
        (tally.types ??= new Set()).add(key);
        const display = intervention.type.display;
        // The same code may carry different display texts from different systems: take the first in sort order, so the answer is stable.
        if (display && (!displays.has(key) || display < displays.get(key)!)) displays.set(key, display);
      }
    }
  }

  /** `satisfaction`: citizens per score (1–5) who answered in the period (R22), from the store. */
  function figures(satisfaction: ReadonlyMap<number, number> = new Map()): EvaluationFigures {
    let withPlan = 0;
    let multi = 0;
    let multiOffered = 0;
    const lifecycle = { offered: 0, requested: 0, declined: 0 };
    const buckets = contactBuckets.map(() => 0);
    const types = new Map<string, number>();
    for (const tally of citizens.values()) {
      if (tally.flags & ENTERED_OFFERED) lifecycle.offered++;
      if (tally.flags & ENTERED_REQUESTED) lifecycle.requested++;
      if (tally.flags & ENTERED_DECLINED) lifecycle.declined++;
      if (!(tally.flags & ENROLLED)) continue;
      withPlan++;
      buckets[Math.min(tally.contacts?.size ?? 0, contactBuckets.length - 1)]!++;
      if (bitCount(tally.sectors) >= 2) {
        multi++;
        if (tally.flags & OFFERED_BY_END) multiOffered++;
      }
      for (const key of tally.types ?? []) types.set(key, (types.get(key) ?? 0) + 1);
    }
    const contactCells = suppressBreakdown(withPlan, buckets);
    const multiCells = suppressBreakdown(multi, [multiOffered, multi - multiOffered]);
    return {
      period: { id: period.id, firstDay: period.firstDay, lastDay: period.lastDay, timeZone: REPORTING_TIME_ZONE },
      suppression: { threshold: SUPPRESSION_THRESHOLD },
      citizensWithPlan: contactCells.total,
      multipleDepartments: { citizens: multiCells.total, offeredEnPlan: multiCells.cells[0]!, notOfferedEnPlan: multiCells.cells[1]!, note: MULTIPLE_DEPARTMENTS_NOTE },
      lifecycle: { offered: suppressCount(lifecycle.offered), requested: suppressCount(lifecycle.requested), declined: suppressCount(lifecycle.declined) },
      contactPersonsPerCitizen: contactBuckets.map((contactPersons, i) => ({ contactPersons, citizens: contactCells.cells[i]! })),
      interventionTypes: [...types.entries()]
        .map(([key, n]) => {
          const [sector, system, code] = JSON.parse(key) as [Sector, string, string];
          return { sector, system, code, display: displays.get(key) ?? null, citizens: suppressCount(n) };
        })
        .sort((a, b) => byText(a.sector, b.sector) || byText(a.system, b.system) || byText(a.code, b.code)),
      satisfaction: satisfactionFigures(satisfaction),
    };
  }

  return { add, figures };
}

/** The figures for `plans` in `period`: the tally over an in-memory list (tests, small tenants). */
export function evaluationFigures(plans: Iterable<Plan>, period: HalfYear, satisfaction?: ReadonlyMap<number, number>): EvaluationFigures {
  const tally = evaluationTally(period);
  for (const plan of plans) tally.add(plan);
  return tally.figures(satisfaction);
}

/** Citizens per score, 1 to 5, as a suppressed breakdown of those who answered. */
function satisfactionFigures(counts: ReadonlyMap<number, number>): EvaluationFigures['satisfaction'] {
  const scores = [1, 2, 3, 4, 5];
  const cells = scores.map((score) => counts.get(score) ?? 0);
  const breakdown = suppressBreakdown(cells.reduce((a, b) => a + b, 0), cells);
  return { collected: true, answeredBy: breakdown.total, byScore: scores.map((score, i) => ({ score, citizens: breakdown.cells[i]! })), note: SATISFACTION_NOTE };
}
