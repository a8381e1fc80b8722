/**
 * The merge: folds model fragments into a plan with provenance (issue 4, F4).
 *
 * - An element is identified by its element id; the same fact reported by two systems under one
 *   id becomes one element with two provenances.
 * - Ordering is by source version, not arrival: a version at or below the one already merged
 *   from that record is ignored.
 * - The last provenance entry of an element is the writer of its current content. When a system
 *   reports a change to an element whose content another origin wrote since this system's last
 *   sync with it, both changed it since the last sync: the change is recorded as a conflict for
 *   a person to resolve, and the current content is kept. Nothing is silently overwritten. When
 *   the writer leaves (its consent gone, its source taking its word back), the content does not pass
 *   to another writer unless that writer said just that (`contentWriterAfter`): the element leaves,
 *   and the sources that stay are read again.
 * - "Since the last sync" (F4): a source entry's `at` is when that record last came into step with
 *   the element — its report was taken, arrived first, or came to match the content the element
 *   holds — or when its report was flagged as a conflict. A version that changes nothing the record
 *   reported before (`seen`) shows nothing seen since, so `at` stays: restating the content another
 *   writer has since changed is no conflict (the record changed nothing; its statement is the one
 *   the other changed from), but the record's next change is one. So is the next change of a record
 *   whose flagged value was not chosen, until it reports the content the element holds. A change to
 *   an element holding exactly what the record last reported is the record's own, whatever was
 *   written in between (nothing it has not seen is left to overwrite).
 * - `seen` is kept from the moment an element has a second writer, for the first one too: when
 *   another record joins it, or a registration changes it (`withSoleWriterSeen`), the record that
 *   wrote it alone gets the digests of the content, which is just what it last reported. So a source
 *   restating what it last said is never a change, whoever wrote the element since. An element with
 *   one writer keeps none (nothing to tell apart; no per-field work).
 * - An open conflict stays true to its element (F4, R17): its `values[0]` is always what the element
 *   holds now on the conflict's fields, and its writer. When the element's content moves on (its
 *   writer changes it, or a change is taken), the open conflicts on it are re-based on the new
 *   content — the dispute is still real, and a person can still settle it — unless the new content
 *   is what another value of the conflict said: then the sources agree, and the conflict is closed as
 *   settled by them (`resolution.by` `sync`, `chosen` that value). A record whose value an open
 *   conflict holds and that reports a newer version closes that conflict: superseded by the new
 *   conflict its newer value is flagged in (`chosen` 0: the content stayed), or settled when it now
 *   reports what the element holds. So at most one conflict per record and element is open, and
 *   none offers a value its writer has since taken back.
 * - A record a target holds for one of our elements (recorded when the delivery succeeded:
 *   `held_elements`, e.g. Ungedatabasen's one education goal as `education:education-goal:<plan id>`)
 *   is merged onto that element, and references to it name that element: the same fact, never a
 *   second element (R17, R18).
 * - Two records of the same system that describe one element (the events of one education course)
 *   do not conflict: the system's later statement supersedes its earlier one — later by the records'
 *   `sequence` where the mapping gives one (an earlier record read late only joins the provenance),
 *   else by arrival.
 * - A record version read again by a newer version of its mapping: what that no longer yields is taken
 *   back as for a newer record version, and an element it names anew (`Fragment.formerElementId`) moves
 *   to the new id with what names it, where the older mapping read this very version (`movedToNewName`).
 */
import { z } from 'zod';
import type { Agreement, CareTeamContact, CitizenView, Conflict, DataCategory, Department, FollowUp, Fragment, Goal, Intervention, Plan, Provenance, SituationNote } from '../model';
import { dropDanglingReferences } from '../plans/references';
import {
  Agreement as AgreementSchema,
  CareTeamContact as CareTeamContactSchema,
  CitizenView as CitizenViewSchema,
  Conflict as ConflictSchema,
  FollowUp as FollowUpSchema,
  Goal as GoalSchema,
  Intervention as InterventionSchema,
  planIntegrityProblems,
  SituationNote as SituationNoteSchema,
} from '../model';

export interface FragmentOrigin {
  system: 'dfdg' | 'education' | 'social' | 'health';
  recordId: string;
  recordVersion: string;
  mappingId: string;
  mappingVersion: string;
  consentRef?: string;
  category: DataCategory;
  /** The departments alone that consent lets see it (R9); absent: every party of the plan. */
  audience?: Department[];
  /** The fragment's `sequence`: its record's place among the system's records of the same element. */
  sequence?: string;
}

export interface MergeInput {
  fragment: Fragment;
  origin: FragmentOrigin;
  /** The plan member the record is about. */
  memberId: string;
}

export interface MergeOutcome {
  plan: Plan;
  added: number;
  updated: number;
  unchanged: number;
  stale: number;
  conflicts: number;
  /** The same counts per source system, for the runs of a round that merged several at once. */
  bySystem: Partial<Record<FragmentOrigin['system'], { added: number; updated: number; conflicts: number }>>;
  /**
   * References a source sent to elements the plan does not hold (a goal refused by consent,
   * quarantined, or not sent): left out of the element so the plan stays whole and the rest
   * flows. The record is merged again, references and all, when it is read again.
   */
  unresolvedReferences: UnresolvedReference[];
  /**
   * Elements a record read whole no longer speaks of in its newer version (`MergeContext.readWhole`):
   * that record's entry left them, and an element with no other provenance left the plan (`removed`).
   */
  withdrawn: WithdrawnElement[];
  /**
   * Systems whose records stayed on an element that left because the record withdrawing from it
   * wrote its content (`contentWriterAfter`): read again for the citizen (their marks forgotten), they
   * bring it back in their own words.
   */
  readAgain: FragmentOrigin['system'][];
  /**
   * Elements moved to the id a newer version of their mapping gives them (`Fragment.formerElementId`),
   * references, conflicts and all: what else names them (`held_elements`) is to follow.
   */
  renamed: RenamedElement[];
}

export interface RenamedElement {
  system: FragmentOrigin['system'];
  recordId: string;
  from: string;
  to: string;
}

export interface WithdrawnElement {
  system: FragmentOrigin['system'];
  recordId: string;
  elementId: string;
  removed: boolean;
}

/** A source record the merge was given in full: every fragment its version yields is among the inputs. */
export interface RecordReadWhole {
  system: FragmentOrigin['system'];
  recordId: string;
  recordVersion: string;
  /**
   * The mapping that read it (absent for a record deleted at its source): an entry of the same
   * version made by an older version of this mapping is outdated too — what the newer mapping no
   * longer yields from it is withdrawn.
   */
  mappingId?: string;
  mappingVersion?: string;
}

export interface UnresolvedReference {
  system: FragmentOrigin['system'];
  recordId: string;
  elementId: string;
  field: 'goalIds' | 'dependsOn' | 'parentGoalId';
  reference: string;
}

type SourceProvenance = Extract<Provenance, { kind: 'source' }>;
type ListKey = 'goals' | 'interventions' | 'agreements' | 'followUps' | 'citizenViews' | 'situationNotes' | 'careTeams';
type Element = Goal | Intervention | Agreement | FollowUp | CitizenView | SituationNote | CareTeamContact;

/**
 * Every element the merge adds or replaces is checked against its schema: tens of thousands per
 * full sync, so compiled (`z.compile`: same schema, same output and issues; the schema itself
 * where code generation is not allowed, e.g. Workers).
 */
const schemaOf: Record<ListKey, z.ZodType> = {
  goals: z.compile(GoalSchema),
  interventions: z.compile(InterventionSchema),
  agreements: z.compile(AgreementSchema),
  followUps: z.compile(FollowUpSchema),
  citizenViews: z.compile(CitizenViewSchema),
  situationNotes: z.compile(SituationNoteSchema),
  careTeams: z.compile(CareTeamContactSchema),
};

const listFor: Partial<Record<Fragment['kind'], ListKey>> = {
  goal: 'goals',
  intervention: 'interventions',
  agreement: 'agreements',
  followUp: 'followUps',
  citizenView: 'citizenViews',
  // A source's Condition and CareTeam are elements like any other (member, provenance, revocable):
  // they never write the plan's own situation or its responsible coordinator (R5, R10).
  situation: 'situationNotes',
  coordinator: 'careTeams',
};

const TRAILING_UUID = /:([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/i;

/** Numeric versions compare as numbers; others (ISO timestamps, opaque ids) as strings. */
export function compareVersions(a: string, b: string): number {
  if (/^\d+$/.test(a) && /^\d+$/.test(b)) return Number(a) - Number(b) || a.length - b.length;
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Whether mapping version `a` is older than `b` (semantic versions, compared number by number; text
 * where a part is not a number). Only asked where the two differ: the common case costs one `!==`.
 */
export function isOlderMappingVersion(a: string, b: string): boolean {
  const left = a.split('.');
  const right = b.split('.');
  for (let i = 0; i < Math.max(left.length, right.length); i++) {
    const x = left[i] ?? '0';
    const y = right[i] ?? '0';
    if (x === y) continue;
    return /^\d+$/.test(x) && /^\d+$/.test(y) ? Number(x) < Number(y) : x < y;
  }
  return false;
}

/** Whether `entry` was made by an older version of the mapping `origin` was read by. */
const byOlderMapping = (entry: SourceProvenance, origin: Pick<FragmentOrigin, 'mappingId' | 'mappingVersion'>) =>
  entry.mappingVersion !== origin.mappingVersion && entry.mappingId === origin.mappingId && isOlderMappingVersion(entry.mappingVersion, origin.mappingVersion);

const isSame = (p: Provenance, o: FragmentOrigin) => p.kind === 'source' && p.system === o.system && p.recordId === o.recordId;

export function stableStringify(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableStringify).join(',')}]`;
  if (value && typeof value === 'object')
    return `{${Object.keys(value)
      .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stableStringify((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return JSON.stringify(value);
}

/** The element's content: everything but identity, provenance and bookkeeping (who may still see it after what it was about left: no source says that). */
function contentOf(element: Record<string, unknown>): Record<string, unknown> {
  const { id: _id, provenance: _p, ruleVersion: _r, memberId: _m, keptVisibility: _k, ...content } = element;
  return content;
}

/** FNV-1a, 32 bits, base 36: a field's digest in `seen` (a collision would hide one change of one field of one source: 1 in 4 billion). */
function digest(text: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193);
  return (hash >>> 0).toString(36);
}

/** Each content field's digest, as a source reported it. */
function digestsOf(content: Record<string, unknown>): Record<string, string> {
  const digests: Record<string, string> = {};
  for (const key of Object.keys(content).sort()) if (content[key] !== undefined) digests[key] = digest(stableStringify(content[key]));
  return digests;
}

/** The fields a source changed since it reported `seen` (added, removed or different), given the digests of what it reports `now`. */
function changedSince(seen: Record<string, string>, now: Record<string, string>): Set<string> {
  return new Set([...new Set([...Object.keys(seen), ...Object.keys(now)])].filter((key) => seen[key] !== now[key]));
}

const writerKey = (p: Provenance) => (p.kind === 'source' ? `${p.system}|${p.recordId}` : `registration|${p.registrationId}`);

/** Whether more than one record (or registration) writes the element: only then is `seen` kept. */
const severalWriters = (provenance: readonly Provenance[]) => new Set(provenance.map(writerKey)).size > 1;

/**
 * The provenance of an element about to get a second writer (another record, or a registration),
 * with `seen` recorded for the source record that wrote it alone until now. One writer keeps no
 * `seen` (nothing to tell apart), so it is recorded at this step: the element's content is then
 * exactly what that record last reported, and its next report must be told from the other writer's
 * content — a restatement is no change, a change of its own still is. The same array where there is
 * nothing to record (several writers already, a registration's element, `seen` already kept), so an
 * element no second writer touches costs nothing.
 */
export function withSoleWriterSeen(element: { readonly provenance: readonly Provenance[] }): readonly Provenance[] {
  const { provenance } = element;
  const sole = provenance.at(-1);
  if (sole?.kind !== 'source' || sole.seen) return provenance;
  for (const p of provenance) if (!sameWriterAs(p, sole)) return provenance;
  const seen = digestsOf(contentOf(element as unknown as Record<string, unknown>));
  return provenance.map((p) => (p === sole ? { ...sole, seen } : p));
}

/**
 * The provenance an element keeps when the writer of its content (its last entry) leaves it — its
 * consent gone, or its source taking its word back — and `remaining` stays: the content stays only
 * under a writer whose words they are. A remaining source record that last reported just this
 * content (`seen`, field by field) said it too: it becomes the writer (last), and its consent and
 * departments (`audience`) now decide. Null when none did (a registration keeps no `seen`, and wrote
 * the content only while last): the words are the leaving writer's, and go with it — left under
 * another writer they would reach whoever that writer's flow reaches, or stay after their flow ended.
 */
export function contentWriterAfter(element: object, remaining: readonly Provenance[]): Provenance[] | null {
  let held: Record<string, string> | undefined;
  for (let i = remaining.length - 1; i >= 0; i--) {
    const entry = remaining[i]!;
    if (entry.kind !== 'source' || !entry.seen) continue;
    const digests = (held ??= digestsOf(contentOf(element as Record<string, unknown>)));
    const fields = Object.keys(digests);
    if (fields.length !== Object.keys(entry.seen).length || fields.some((f) => entry.seen![f] !== digests[f])) continue;
    return [...remaining.slice(0, i), ...remaining.slice(i + 1), entry];
  }
  return null;
}

/**
 * An open conflict on an element whose content passed to `writer` (`contentWriterAfter`), true to
 * the header's rule again: its `values[0]` (what the element holds) credited to `writer`; closed at
 * `at` as settled when `writer` is the record of another of its values — it last reported what the
 * element holds. A resolved conflict stays as it was.
 */
export function creditedToWriter(conflict: Conflict, writer: Provenance, at: string): Conflict {
  if (conflict.resolvedAt) return conflict;
  const credited = { ...conflict, values: [{ ...conflict.values[0]!, provenance: [writer] }, ...conflict.values.slice(1)] };
  return conflict.values.some((v, k) => k > 0 && v.provenance.some((p) => sameWriterAs(p, writer)))
    ? closedConflict(credited, at, 0, 'settled by the sources: the source came to report what the element holds (the sources agree)')
    : credited;
}

/**
 * Whether a value `origin`'s record reported at or after `since` (its entry's `at`) was flagged as a
 * conflict on the element and not chosen: the record then still has not seen the element's content.
 */
function flaggedSince(conflicts: readonly Conflict[], elementId: string, origin: FragmentOrigin, since: string): boolean {
  for (const conflict of conflicts) {
    if (conflict.elementId !== elementId || conflict.detectedAt < since) continue;
    for (let k = 1; k < conflict.values.length; k++) {
      if (conflict.resolution?.chosen === k) continue;
      for (const p of conflict.values[k]!.provenance) if (isSame(p, origin)) return true;
    }
  }
  return false;
}

/** Who closes a conflict that the sources settled themselves (`resolution.by`): no person chose. */
export const SETTLED_BY_SYNC = 'sync';

/** Whether a conflict was closed by the sync (superseded or settled by the sources), not by a person. */
export const closedBySync = (conflict: Conflict) => conflict.resolution?.by === SETTLED_BY_SYNC;

const closedConflict = (conflict: Conflict, at: string, chosen: number, reason: string): Conflict => ({ ...conflict, resolvedAt: at, resolution: { by: SETTLED_BY_SYNC, chosen, reason } });

const sameWriterAs = (a: Provenance, b: Provenance) =>
  a.kind === 'source' && b.kind === 'source' ? a.system === b.system && a.recordId === b.recordId : a.kind === 'registration' && b.kind === 'registration' && a.registrationId === b.registrationId;

/**
 * Keeps the open conflicts on an element (`element`, whose id is `elementId`) true to its content
 * after it moved on (the header's rule): each one whose fields the element no longer holds as its
 * `values[0]` recorded is re-based on the element's content now and `writer` — or closed at `at` as
 * settled by the sources when that content is what another of its values said, or as superseded when
 * `writer` is the record of one of its values (its own newer statement). `except`: a conflict left
 * alone (the one just settled). Replaces entries of `conflicts` in place; returns whether any changed.
 * Only conflicts on the element cost anything: the merge calls it for every change it takes.
 */
export function rebaseOpenConflicts(conflicts: Conflict[], elementId: string, element: Readonly<Record<string, unknown>>, writer: Provenance, at: string, except?: string): boolean {
  let changed = false;
  for (let i = 0; i < conflicts.length; i++) {
    const conflict = conflicts[i]!;
    if (conflict.resolvedAt || conflict.elementId !== elementId || conflict.id === except) continue;
    const fields = conflict.field.split(',').filter(Boolean);
    const recorded = conflict.values[0]!.value as Record<string, unknown>;
    const now = fields.map((f) => stableStringify(element[f]));
    if (fields.every((f, n) => stableStringify(recorded[f]) === now[n])) continue;
    changed = true;
    const agreed = conflict.values.findIndex((v, k) => k > 0 && fields.every((f, n) => stableStringify((v.value as Record<string, unknown>)[f]) === now[n]));
    if (agreed > 0) {
      conflicts[i] = closedConflict(conflict, at, agreed, 'settled by the sources: the element came to hold this value (the sources agree)');
      continue;
    }
    const value = { value: Object.fromEntries(fields.map((f) => [f, element[f]])), provenance: [writer] };
    if (conflict.values.some((v, k) => k > 0 && v.provenance.some((p) => sameWriterAs(p, writer))))
      conflicts[i] = closedConflict({ ...conflict, values: [value, ...conflict.values.slice(1)] }, at, 0, 'superseded: the source of the other value wrote a newer one');
    else conflicts[i] = { ...conflict, values: [value, ...conflict.values.slice(1)] };
  }
  return changed;
}

/**
 * The open conflicts on the element holding a value `origin`'s record reported, closed at `at`:
 * its newer report is flagged as `supersededBy`, or (null) it came to report what the element holds.
 */
function closeReportsOf(conflicts: Conflict[], elementId: string, origin: FragmentOrigin, at: string, supersededBy: string | null, agreedFields?: readonly string[]): void {
  for (let i = 0; i < conflicts.length; i++) {
    const conflict = conflicts[i]!;
    if (conflict.resolvedAt || conflict.elementId !== elementId) continue;
    let ofRecord = false;
    for (let k = 1; k < conflict.values.length && !ofRecord; k++) for (const p of conflict.values[k]!.provenance) if (isSame(p, origin)) ofRecord = true;
    if (!ofRecord) continue;
    if (supersededBy !== null) conflicts[i] = closedConflict(conflict, at, 0, `superseded by ${supersededBy}: the source reported a newer value`);
    // Only when the report agrees with the element on every field of the conflict (not a restatement of the flagged value).
    else if (!conflict.field.split(',').some((f) => f !== '' && agreedFields!.includes(f))) conflicts[i] = closedConflict(conflict, at, 0, 'settled by the sources: the source came to report what the element holds (the sources agree)');
  }
}

/**
 * Whether the element holds exactly what the source last reported (`seen`), told from what the merge
 * has already worked out: a field outside `allFields` (the element's content differs from the report)
 * and `ownChanges` (the report differs from `seen`) holds it; a field in just one of them does not;
 * only a field in both (`fields`) is digested from the element to compare.
 */
function holdsLastReport(seen: Record<string, string>, current: Record<string, unknown>, allFields: readonly string[], ownChanges: ReadonlySet<string>, fields: readonly string[]): boolean {
  if (allFields.length !== fields.length || ownChanges.size !== fields.length) return false;
  for (const f of fields) if ((current[f] === undefined ? undefined : digest(stableStringify(current[f]))) !== seen[f]) return false;
  return true;
}

function changedFields(current: Record<string, unknown>, incoming: Record<string, unknown>): string[] {
  const keys = new Set([...Object.keys(current), ...Object.keys(incoming)]);
  return [...keys].filter((k) => stableStringify(current[k]) !== stableStringify(incoming[k])).sort();
}

/** What one merge has done so far; `provenanceChanged` also counts as a change of the plan. */
interface Tally {
  added: number;
  updated: number;
  unchanged: number;
  stale: number;
  conflicts: number;
  provenanceChanged: boolean;
  unresolved: UnresolvedReference[];
  renamed: RenamedElement[];
}

/** The goals and interventions the plan will hold after this merge: what a reference may point at. */
interface Referable {
  goals: ReadonlySet<string>;
  interventions: ReadonlySet<string>;
  /** The goal a source's own name for it (`<system>:goal:<record id>`) stands for where the plan holds it under another id. */
  goalNamed(reference: string): string | undefined;
  /** Whether a fragment of this merge is named `elementId` (asked only before a rename). */
  yielded(elementId: string): boolean;
}

/**
 * How social and health CarePlans name a Goal (`<system>:goal:<record id>`), for each goal held
 * under another id: a Goal we pushed is read back onto our goal (R18), and a CarePlan the system
 * makes for that goal still names it by the server's id. A name two goals answer to names neither.
 */
function goalsBySourceName(goals: readonly Goal[], inputs: readonly MergeInput[]): Map<string, string | null> {
  const named = new Map<string, string | null>();
  const add = (system: string, recordId: string, goalId: string) => {
    const name = `${system}:goal:${recordId}`;
    if (name === goalId) return;
    const held = named.get(name);
    named.set(name, held === undefined || held === goalId ? goalId : null);
  };
  for (const goal of goals) for (const p of goal.provenance) if (p.kind === 'source') add(p.system, p.recordId, goal.id);
  for (const { fragment, origin } of inputs) if (fragment.kind === 'goal') add(origin.system, origin.recordId, fragment.elementId);
  return named;
}

/** The goals `ids` name, as the plan holds them (each once); the ones it does not hold go to `unresolved`. */
function heldGoals(ids: readonly string[], referable: Referable, unresolved: (id: string) => void): string[] {
  const held: string[] = [];
  for (const id of ids) {
    const goal = referable.goals.has(id) ? id : referable.goalNamed(id);
    if (goal === undefined) unresolved(id);
    else if (!held.includes(goal)) held.push(goal);
  }
  return held;
}

/**
 * The fragment's content with references to elements outside `referable` left out (and noted in
 * `tally`), so the merged plan passes `planIntegrityProblems`: a source's dangling reference must
 * not stop the citizen's other data, nor the other citizens of a chunk.
 */
function resolvableContent(fragment: Fragment, origin: FragmentOrigin, referable: Referable, tally: Tally): Record<string, unknown> {
  const content = { ...fragment.content } as Record<string, unknown>;
  const note = (field: UnresolvedReference['field'], reference: string) =>
    tally.unresolved.push({ system: origin.system, recordId: origin.recordId, elementId: fragment.elementId, field, reference });
  if (fragment.kind === 'intervention') {
    const { goalIds, dependsOn } = fragment.content;
    const goals = goalIds.every((id) => referable.goals.has(id)) ? goalIds : heldGoals(goalIds, referable, (id) => note('goalIds', id));
    const dependencies = dependsOn.filter((id) => referable.interventions.has(id) && id !== fragment.elementId);
    for (const id of dependsOn) if (!dependencies.includes(id)) note('dependsOn', id);
    if (goals !== goalIds) content.goalIds = goals;
    if (dependencies.length !== dependsOn.length) content.dependsOn = dependencies;
  }
  if (fragment.kind === 'goal' && fragment.content.parentGoalId !== undefined && !referable.goals.has(fragment.content.parentGoalId)) {
    note('parentGoalId', fragment.content.parentGoalId);
    delete content.parentGoalId;
  }
  return content;
}

const checkedElement = (key: ListKey, element: unknown) => schemaOf[key].parse(element) as Element;

/** The element as stored: the fragment's content with its identity, member, rule version and provenance. */
function elementOf(fragment: Fragment, content: Record<string, unknown>, elementId: string, memberId: string, ruleVersion: string, provenance: Provenance[], held?: Element): Element {
  const kept = held && 'keptVisibility' in held ? held.keptVisibility : undefined;
  return {
    ...content,
    id: elementId,
    // A follow-up too is one member's: a sector system reports the plan of one citizen (R4).
    memberId,
    ruleVersion,
    // A source's newer report does not make visible what was kept from those who could not see it.
    ...(kept ? { keptVisibility: kept } : {}),
    provenance,
  } as unknown as Element;
}

/**
 * Moves the element `next[key]` holds under `from` to `to`, where that is safe: the element's entry
 * from `origin`'s record is of the very record version read now (so `from`, the id the older mapping
 * gave the same part of that version, names the same thing) and was made by an older version of the
 * same mapping; and no fragment of this merge is itself named `from`. What names it in the plan moves
 * with it: follow-ups, `dependsOn` and `goalIds`, a goal's parent, conflicts. Returns the element's
 * index, or -1 (nothing moved: it is withdrawn and the fragment added, as for any other new id).
 */
function movedToNewName(next: Plan, key: ListKey, from: string, to: string, origin: FragmentOrigin, referable: Referable, tally: Tally): number {
  // Most such fragments are simply new (a first read): a set lookup, not a scan, tells them.
  const known = key === 'interventions' ? referable.interventions : key === 'goals' ? referable.goals : undefined;
  if (known && !known.has(from)) return -1;
  const list = next[key] as Element[];
  const index = list.findIndex((e) => e.id === from);
  if (index < 0) return -1;
  const element = list[index]!;
  const entry = element.provenance.find((p) => isSame(p, origin)) as SourceProvenance | undefined;
  if (!entry || entry.recordVersion !== origin.recordVersion || !byOlderMapping(entry, origin) || referable.yielded(from)) return -1;
  list[index] = { ...element, id: to } as Element;
  const renamed = (id: string) => (id === from ? to : id);
  // In place: the lists are this merge's copies (the caller holds `list`); elements are replaced, never changed.
  const { followUps, interventions, goals, conflicts } = next;
  for (let i = 0; i < followUps.length; i++) if (followUps[i]!.elementId === from) followUps[i] = { ...followUps[i]!, elementId: to };
  for (let i = 0; i < interventions.length; i++) {
    const other = interventions[i]!;
    if (other.dependsOn.includes(from) || other.goalIds.includes(from)) interventions[i] = { ...other, dependsOn: other.dependsOn.map(renamed), goalIds: other.goalIds.map(renamed) };
  }
  for (let i = 0; i < goals.length; i++) if (goals[i]!.parentGoalId === from) goals[i] = { ...goals[i]!, parentGoalId: to };
  for (let i = 0; i < conflicts.length; i++) if (conflicts[i]!.elementId === from) conflicts[i] = { ...conflicts[i]!, elementId: to };
  tally.renamed.push({ system: origin.system, recordId: origin.recordId, from, to });
  tally.provenanceChanged = true;
  return index;
}

/** Folds one fragment into `next` (whose lists are already copies), counting what it did in `tally`. */
function mergeOne(next: Plan, { fragment, origin, memberId }: MergeInput, context: { at: string; ruleVersion: string }, referable: Referable, tally: Tally): void {
  const provenance: SourceProvenance = {
    kind: 'source',
    system: origin.system,
    recordId: origin.recordId,
    recordVersion: origin.recordVersion,
    mappingId: origin.mappingId,
    mappingVersion: origin.mappingVersion,
    at: context.at,
    ...(origin.consentRef ? { consentRef: origin.consentRef } : {}),
    category: origin.category,
    ...(origin.audience ? { audience: origin.audience } : {}),
    ...(origin.sequence ? { sequence: origin.sequence } : {}),
  };

  const key = listFor[fragment.kind]!;
  const list = next[key] as Element[];
  let index = list.findIndex((e) => e.id === fragment.elementId);
  if (index < 0) {
    // An element we registered and pushed comes back under the target's id, which carries our
    // element's UUID (e.g. `dfdg:activity:<uuid>`): it is the same fact, not a new element.
    const uuid = TRAILING_UUID.exec(fragment.elementId)?.[1]?.toLowerCase();
    if (uuid) index = list.findIndex((e) => e.id === uuid);
  }
  // A newer mapping names the element anew: the plan's element under its former name moves to it.
  if (index < 0 && fragment.formerElementId !== undefined) index = movedToNewName(next, key, fragment.formerElementId, fragment.elementId, origin, referable, tally);
  const elementId = index >= 0 ? list[index]!.id : fragment.elementId;
  const incoming = resolvableContent(fragment, origin, referable, tally);

  if (index < 0) {
    list.push(checkedElement(key, elementOf(fragment, incoming, elementId, memberId, context.ruleVersion, [provenance])));
    tally.added++;
    return;
  }

  const held = list[index]!;
  const previous = held.provenance.find((p) => isSame(p, origin)) as SourceProvenance | undefined;
  // A record joining the element: the record that wrote it alone keeps what it last reported (`seen`).
  const soleWriterKept = previous ? held.provenance : withSoleWriterSeen(held);
  const element = soleWriterKept === held.provenance ? held : ({ ...held, provenance: soleWriterKept } as Element);
  const order = previous ? compareVersions(origin.recordVersion, previous.recordVersion) : 1;
  if (order < 0) {
    tally.stale++;
    return;
  }
  const others = element.provenance.filter((p) => !isSame(p, origin));
  const current = contentOf(element as unknown as Record<string, unknown>);
  const allFields = changedFields(current, incoming);
  // Where the element has several writers and this record's last report is known field by field,
  // only the fields the source itself changed since then count: the rest is its own wording of the
  // same fact (its codes, its formatting), which it has always worded so. What it reports is
  // digested once, for `ownChanges` and for its entry's `seen`.
  let reported = previous?.seen ? digestsOf(incoming) : null;
  const ownChanges = previous?.seen && reported ? changedSince(previous.seen, reported) : null;
  const fields = ownChanges ? allFields.filter((f) => ownChanges.has(f)) : allFields;
  // This record's entry, with what it reported field by field once the element has several writers.
  const withSeen = (entry: SourceProvenance, provenanceAfter: readonly Provenance[]): SourceProvenance => (severalWriters(provenanceAfter) ? { ...entry, seen: (reported ??= digestsOf(incoming)) } : entry);
  const lastWriter = element.provenance.at(-1)!;
  // The same version read again: only this record's own content may move on (references that
  // resolve now, a newer mapping's wording); anything else is old news, not a change or a conflict.
  if (order === 0 && (allFields.length === 0 || !isSame(lastWriter, origin))) {
    // Consent changed since (a grant to the whole plan added, say): who may see it moves on all the
    // same. So does the mapping that read it, when newer: the entry still says this, so a whole read
    // must not take it as the older mapping's word (`withdrawUnsaid`).
    const newerMapping = previous !== undefined && previous.mappingVersion !== origin.mappingVersion && byOlderMapping(previous, origin);
    if (previous && (newerMapping || String(previous.audience ?? '') !== String(origin.audience ?? ''))) {
      const { audience: _was, ...rest } = previous;
      const entry: SourceProvenance = { ...rest, ...(newerMapping ? { mappingVersion: origin.mappingVersion } : {}), ...(origin.audience ? { audience: origin.audience } : {}) };
      list[index] = checkedElement(key, { ...element, provenance: element.provenance.map((p) => (p === previous ? entry : p)) });
      tally.provenanceChanged = true;
    }
    tally.stale++;
    return;
  }
  if (allFields.length === 0 || (ownChanges && fields.length === 0)) {
    // Same content, or nothing the source changed differs from it: only the provenance moves on (a
    // second system, or a newer version). The writer of the content stays last. The entry's `at`
    // (its last sync) stays when the source changed nothing it reported before — a confirmation
    // keeps the time it first arrived, and a version restating what the element no longer holds
    // has not seen the change (F4) — or, not knowing what it reported, when it confirms content no
    // one else wrote since. It moves on when the source came to report what the element holds.
    const keepsSync = previous !== undefined && (ownChanges ? ownChanges.size === 0 : lastWriter === previous || lastWriter.at <= previous.at);
    const entry = keepsSync ? { ...provenance, at: previous.at } : provenance;
    const confirmed = element.provenance.map((p) => (isSame(p, origin) ? entry : p));
    if (!previous) confirmed.splice(confirmed.length - 1, 0, entry);
    const kept = confirmed.map((p) => (isSame(p, origin) ? withSeen(p as SourceProvenance, confirmed) : p));
    list[index] = checkedElement(key, { ...element, provenance: kept });
    // A newer version from a record whose value is flagged: where it now says what the element holds, the dispute is over.
    if (order > 0 && next.conflicts.length > 0) closeReportsOf(next.conflicts, elementId, origin, context.at, null, allFields);
    tally.unchanged++;
    tally.provenanceChanged = true;
    return;
  }
  if (!previous && lastWriter.kind === 'registration') {
    // The first report of a fact we registered and pushed: the target's wording of it (its own
    // codes, its formatting) confirms it; the registration stays the writer of the content. What the
    // target reported is kept field by field, so its later changes are told from its wording.
    const after = [...element.provenance.slice(0, -1), provenance, lastWriter];
    list[index] = checkedElement(key, { ...element, provenance: after.map((p) => (p === provenance ? withSeen(provenance, after) : p)) });
    tally.unchanged++;
    tally.provenanceChanged = true;
    return;
  }
  const writtenByThisRecord = isSame(lastWriter, origin);
  // A system is the authority on its own records: another record of the same system describing this
  // element (a later event of one education course) supersedes it. Only a different writer conflicts.
  const sameSystem = lastWriter.kind === 'source' && lastWriter.system === origin.system;
  if (sameSystem && !writtenByThisRecord && origin.sequence && lastWriter.sequence && origin.sequence < lastWriter.sequence) {
    // An earlier record of that system, read after a later one: it joins the provenance, the content stays the later one's.
    list[index] = checkedElement(key, { ...element, provenance: [...others.filter((p) => p !== lastWriter), provenance, lastWriter] });
    tally.unchanged++;
    tally.provenanceChanged = true;
    return;
  }
  // Another writer wrote the element since this record's last sync, or the record's last value was
  // flagged and not chosen: unless the element holds just what the record last reported (nothing
  // written since survives in it), its change meets content it has not seen — a conflict.
  const otherChangedSince =
    !writtenByThisRecord &&
    !sameSystem &&
    (!previous ||
      ((lastWriter.at > previous.at || flaggedSince(next.conflicts, elementId, origin, previous.at)) &&
        !(previous.seen && ownChanges && holdsLastReport(previous.seen, current, allFields, ownChanges, fields))));
  if (otherChangedSince) {
    const id = `${elementId}@${origin.system}:${origin.recordVersion}`;
    // This record's older value on the element, still open, is superseded by the newer one.
    closeReportsOf(next.conflicts, elementId, origin, context.at, id);
    next.conflicts.push(ConflictSchema.parse({
      id,
      elementId,
      field: fields.join(','),
      values: [
        { value: Object.fromEntries(fields.map((f) => [f, current[f]])), provenance: [lastWriter] },
        { value: Object.fromEntries(fields.map((f) => [f, incoming[f]])), provenance: [provenance] },
      ],
      detectedAt: context.at,
    }));
    // Keep the current writer last: the content is still theirs.
    const after = [...others.filter((p) => p !== lastWriter), provenance, lastWriter];
    list[index] = checkedElement(key, { ...element, provenance: after.map((p) => (p === provenance ? withSeen(provenance, after) : p)) });
    tally.conflicts++;
    return;
  }
  const after = [...others, provenance];
  if (ownChanges) {
    // Only what the source changed is taken; the other fields keep the words they have.
    const content: Record<string, unknown> = { ...current };
    for (const f of fields) {
      if (incoming[f] === undefined) delete content[f];
      else content[f] = incoming[f];
    }
    list[index] = checkedElement(key, elementOf(fragment, content, elementId, memberId, context.ruleVersion, after.map((p) => (p === provenance ? withSeen(provenance, after) : p)), element));
  } else list[index] = checkedElement(key, elementOf(fragment, incoming, elementId, memberId, context.ruleVersion, after.map((p) => (p === provenance ? withSeen(provenance, after) : p)), element));
  // The content moved on: open conflicts on the element are re-based on it, or settled (the header's rule).
  if (next.conflicts.length > 0) {
    const written = list[index]!;
    rebaseOpenConflicts(next.conflicts, elementId, written as unknown as Record<string, unknown>, written.provenance.at(-1)!, context.at);
  }
  tally.updated++;
}

/** The key of `MergeContext.held`: a source system and the element id its record reads back as. */
export const heldKey = (system: FragmentOrigin['system'], targetElementId: string) => `${system}\u0000${targetElementId}`;

export interface MergeContext {
  at: string;
  ruleVersion: string;
  /**
   * Our element each target's record holds (`heldKey` → our element id), for the citizen whose
   * records these are: from the deliveries that put them there (`store.heldElements`).
   */
  held?: ReadonlyMap<string, string>;
  /**
   * Records read whole (not refused in part by consent): a newer version of one that no longer yields
   * an element it yielded before (the source marked it entered in error, ended a care team) takes its
   * entry off that element. A record given here with no fragment at all withdraws everything it said.
   */
  readWhole?: readonly RecordReadWhole[];
}

/**
 * The inputs with each fragment a target holds for one of our elements named as that element, and
 * its references to such fragments too — where this plan holds that element (a citizen's other plan
 * may not). A target's own name for what it holds stays where the plan does not hold ours.
 */
function onOurElements(plan: Plan, inputs: readonly MergeInput[], held: ReadonlyMap<string, string>): MergeInput[] {
  const goals = new Set(plan.goals.map((g) => g.id));
  const interventions = new Set(plan.interventions.map((i) => i.id));
  const heldIn: Partial<Record<Fragment['kind'], Set<string>>> = {
    goal: goals,
    intervention: interventions,
    agreement: new Set(plan.agreements.map((a) => a.id)),
    followUp: new Set(plan.followUps.map((f) => f.id)),
  };
  return inputs.map((input) => {
    const { fragment, origin } = input;
    const own = heldIn[fragment.kind];
    if (!own) return input;
    let renamed = false;
    const ours = (id: string, among: readonly Set<string>[]) => {
      const element = held.get(heldKey(origin.system, id));
      if (element === undefined || element === id || !among.some((set) => set.has(element))) return id;
      renamed = true;
      return element;
    };
    const elementId = ours(fragment.elementId, [own]);
    const content = { ...fragment.content } as Record<string, unknown>;
    if (fragment.kind === 'intervention') {
      content.goalIds = [...new Set(fragment.content.goalIds.map((id) => ours(id, [goals])))];
      content.dependsOn = [...new Set(fragment.content.dependsOn.map((id) => ours(id, [interventions])))];
    }
    if (fragment.kind === 'goal' && fragment.content.parentGoalId !== undefined) content.parentGoalId = ours(fragment.content.parentGoalId, [goals]);
    if (fragment.kind === 'followUp' && fragment.content.elementId !== undefined) content.elementId = ours(fragment.content.elementId, [goals, interventions]);
    return renamed ? { ...input, fragment: { ...fragment, elementId, content } as Fragment } : input;
  });
}

const recordKey = (system: string, recordId: string) => `${system}\u0000${recordId}`;
const elementListKeys = [...new Set(Object.values(listFor))];

/**
 * Takes off `next`'s elements the entries of records read whole at an older version than the one read
 * now: after the merge, such an entry is left only on an element the newer version no longer yields.
 * An element with no provenance left leaves the plan (references to it are dropped, as on a
 * revocation), and so does one whose content such a record wrote unless a record that stays said just
 * that (`contentWriterAfter`; the ones that stay are to be read again, `readAgain`); an open conflict
 * in which the record's older value is disputed is closed, the record no longer claiming it, and one
 * whose current value it wrote is credited to the new writer. Returns the plan (`next` itself when
 * nothing was withdrawn) and what left.
 */
function withdrawUnsaid(next: Plan, records: readonly RecordReadWhole[], at: string): { plan: Plan; withdrawn: WithdrawnElement[]; readAgain: FragmentOrigin['system'][] } {
  // Per record id, the newest read of each system's record of that id. Every merge of a sync passes
  // here, so the scan below does no string building and mostly one lookup per entry.
  const newest = new Map<string, Partial<Record<FragmentOrigin['system'], RecordReadWhole>>>();
  for (const r of records) {
    const bySystem = newest.get(r.recordId) ?? {};
    const known = bySystem[r.system];
    if (known === undefined || compareVersions(r.recordVersion, known.recordVersion) > 0) bySystem[r.system] = r;
    newest.set(r.recordId, bySystem);
  }
  // An entry of an older version of the record; or of this very version, made by an older version of
  // the mapping that read it now (re-read after a new mapping version: what it no longer yields goes).
  const outdated = (p: Provenance): p is SourceProvenance => {
    if (p.kind !== 'source') return false;
    const read = newest.get(p.recordId)?.[p.system];
    if (read === undefined) return false;
    if (read.recordVersion === p.recordVersion) return read.mappingVersion !== undefined && read.mappingVersion !== p.mappingVersion && byOlderMapping(p, read as Required<RecordReadWhole>);
    return compareVersions(read.recordVersion, p.recordVersion) > 0;
  };
  const withdrawn: WithdrawnElement[] = [];
  // The records that stayed on an element that left with its writer's words: read again, they bring it back in theirs.
  const readAgain = new Set<FragmentOrigin['system']>();
  const newWriter = new Map<string, Provenance>();
  let plan = next;
  for (const key of elementListKeys) {
    const list = plan[key] as Element[];
    if (!list.some((e) => e.provenance.some(outdated))) continue;
    const kept: Element[] = [];
    for (const element of list) {
      const leaving = element.provenance.filter(outdated);
      if (leaving.length === 0) {
        kept.push(element);
        continue;
      }
      // Typed wide: `outdated` is a type guard, and an entry not outdated may still be a source's.
      const staying: Provenance[] = element.provenance.filter((p) => !outdated(p));
      // The writer of the content left: the content stays only under a writer whose words they are.
      const writerLeft = staying.length > 0 && outdated(element.provenance.at(-1)!);
      let provenance = writerLeft ? contentWriterAfter(element, staying) : staying;
      // A source taking its word back revokes nothing: words that reached every party stay under our
      // own registration that remains (the caseworker's element is not lost). Words for named
      // departments alone go with their writer, as above: under the registration they would reach all.
      if (!provenance && writerLeft && staying.some((p) => p.kind === 'registration') && !leaving.some((p) => p.audience)) provenance = [...staying.filter((p) => p.kind !== 'registration'), ...staying.filter((p) => p.kind === 'registration')];
      for (const entry of leaving) withdrawn.push({ system: entry.system, recordId: entry.recordId, elementId: element.id, removed: !provenance?.length });
      if (!provenance) for (const p of staying) if (p.kind === 'source') readAgain.add(p.system);
      if (provenance?.length) kept.push(checkedElement(key, { ...element, provenance } as Element));
      if (provenance && writerLeft) newWriter.set(element.id, provenance.at(-1)!);
    }
    plan = { ...plan, [key]: kept };
  }
  if (withdrawn.length === 0) return { plan: next, withdrawn, readAgain: [] };
  // Per element that stays, the records that took their word back from it: only their disputed values
  // are no longer claimed (a record merely read at a newer version may still say its value).
  const withdrawnFrom = new Map<string, Set<string>>();
  for (const w of withdrawn) if (!w.removed) withdrawnFrom.set(w.elementId, (withdrawnFrom.get(w.elementId) ?? new Set()).add(recordKey(w.system, w.recordId)));
  const disputedBy = (conflict: Conflict, records: ReadonlySet<string>) => conflict.values.slice(1).some((v) => v.provenance.some((p) => p.kind === 'source' && records.has(recordKey(p.system, p.recordId))));
  plan = {
    ...plan,
    conflicts: plan.conflicts.map((conflict) => {
      const records = conflict.resolvedAt ? undefined : withdrawnFrom.get(conflict.elementId);
      if (records && disputedBy(conflict, records)) return closedConflict(conflict, at, 0, 'withdrawn: the source no longer reports this element, so its value is no longer claimed');
      const writer = newWriter.get(conflict.elementId);
      return writer ? creditedToWriter(conflict, writer, at) : conflict;
    }),
  };
  return { plan: dropDanglingReferences(plan, next).plan, withdrawn, readAgain: [...readAgain] };
}

/**
 * Per record id and system, the newest version of that record the plan's elements hold (the
 * records of `inputs` only; looked up by id first, so the scan builds no string per entry).
 */
function newestVersionsHeld(plan: Plan, inputs: readonly MergeInput[]): Map<string, Partial<Record<FragmentOrigin['system'], string>>> {
  const newest = new Map<string, Partial<Record<FragmentOrigin['system'], string>>>();
  const read = new Map<string, Set<FragmentOrigin['system']>>();
  for (const { origin } of inputs) read.set(origin.recordId, (read.get(origin.recordId) ?? new Set()).add(origin.system));
  for (const key of elementListKeys)
    for (const element of plan[key] as Element[])
      for (const p of element.provenance) {
        if (p.kind !== 'source' || !read.get(p.recordId)?.has(p.system)) continue;
        const bySystem = newest.get(p.recordId) ?? {};
        const held = bySystem[p.system];
        if (held === undefined || compareVersions(p.recordVersion, held) > 0) bySystem[p.system] = p.recordVersion;
        newest.set(p.recordId, bySystem);
      }
  return newest;
}

/**
 * Folds `inputs` into `plan` and returns a new plan (the given one is not changed). Validity: the
 * stored plan was valid when written, so only what the merge builds is checked — each element it
 * adds or replaces with that element's schema, then the plan-wide rules (`planIntegrityProblems`).
 * That is what `Plan.parse` would check, at a fraction of the cost for a large plan.
 */
export function mergeFragments(plan: Plan, given: readonly MergeInput[], context: MergeContext): MergeOutcome {
  const mapped = context.held && context.held.size > 0 ? onOurElements(plan, given, context.held) : given;
  // A version older than one the plan holds of the same record is stale as a whole, every fragment
  // of it: read late (a lagging replica, a replayed feed) it would otherwise bring back elements the
  // newer version took back, which no provenance is left on to say it is old.
  const newestHeld = newestVersionsHeld(plan, mapped);
  const isOlder = ({ origin }: MergeInput) => {
    const held = newestHeld.get(origin.recordId)?.[origin.system];
    return held !== undefined && compareVersions(origin.recordVersion, held) < 0;
  };
  const inputs = newestHeld.size > 0 ? mapped.filter((input) => !isOlder(input)) : mapped;
  const olderThanHeld = mapped.length - inputs.length;
  // Lists are copied and elements replaced, never changed in place, so a shallow copy suffices.
  const next: Plan = {
    ...plan,
    goals: [...plan.goals],
    interventions: [...plan.interventions],
    agreements: [...plan.agreements],
    followUps: [...plan.followUps],
    citizenViews: [...plan.citizenViews],
    situationNotes: [...plan.situationNotes],
    careTeams: [...plan.careTeams],
    conflicts: [...plan.conflicts],
  };
  const tally: Tally = { added: 0, updated: 0, unchanged: 0, stale: olderThanHeld, conflicts: 0, provenanceChanged: false, unresolved: [], renamed: [] };
  const bySystem: MergeOutcome['bySystem'] = {};
  // Built only when a reference is not held by its own name (rare): the plan's goals and this merge's.
  let goalNames: Map<string, string | null> | undefined;
  const goalNamed = (reference: string) => (goalNames ??= goalsBySourceName(plan.goals, inputs)).get(reference) ?? undefined;
  // Built only before a rename (rare): the element ids this merge's fragments carry.
  let yieldedIds: Set<string> | undefined;
  const yielded = (elementId: string) => (yieldedIds ??= new Set(inputs.map((i) => i.fragment.elementId))).has(elementId);
  const referable = { goals: new Set(plan.goals.map((g) => g.id)), interventions: new Set(plan.interventions.map((i) => i.id)), goalNamed, yielded };
  for (const { fragment } of inputs) {
    if (fragment.kind === 'goal') referable.goals.add(fragment.elementId);
    if (fragment.kind === 'intervention') referable.interventions.add(fragment.elementId);
  }

  for (const input of inputs) {
    const before = { added: tally.added, updated: tally.updated, conflicts: tally.conflicts };
    mergeOne(next, input, context, referable, tally);
    const delta = { added: tally.added - before.added, updated: tally.updated - before.updated, conflicts: tally.conflicts - before.conflicts };
    if (delta.added + delta.updated + delta.conflicts > 0) {
      const counts = (bySystem[input.origin.system] ??= { added: 0, updated: 0, conflicts: 0 });
      counts.added += delta.added;
      counts.updated += delta.updated;
      counts.conflicts += delta.conflicts;
    }
  }

  const { provenanceChanged, unresolved: unresolvedReferences, renamed, ...outcome } = tally;
  const { plan: folded, withdrawn, readAgain } = context.readWhole?.length ? withdrawUnsaid(next, context.readWhole, context.at) : { plan: next, withdrawn: [], readAgain: [] };
  const changed = provenanceChanged || withdrawn.length > 0 || outcome.added + outcome.updated + outcome.conflicts > 0;
  if (!changed) return { plan, ...outcome, bySystem, unresolvedReferences, withdrawn, readAgain, renamed };
  const merged: Plan = { ...folded, updatedAt: context.at, version: plan.version + 1 };
  const problems = planIntegrityProblems(merged);
  if (problems.length > 0) throw new Error(`the merge would break the plan: ${problems.map((p) => `${p.path.join('.')}: ${p.message}`).join('; ')}`);
  return { plan: merged, ...outcome, bySystem, unresolvedReferences, withdrawn, readAgain, renamed };
}
