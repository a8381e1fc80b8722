/**
 * Building blocks shared by the FHIR mappings (mappings/social, mappings/health): FHIR status codes
 * in the model's words, a collector of mapping notes, and the final check of every fragment against
 * the model, so a mapping hands back valid fragments or a readable failure — never a throw.
 */
import { Fragment, type FragmentKind } from '../../src/model';
import { fragmentFormatChecks } from '../../src/model/fragment-fast-check';
import type { MappingResult } from '../../mappings/mapping';
import type { CarePlan, CarePlanActivity, Coding, Goal, Reference } from './contract';
import { firstCoding, isDateShaped, referencedId, scrubCpr, unreadFieldReporter } from './fhir-values';
import { ENPLAN_ELEMENT_SYSTEM } from './systems';

/** Text used where the source leaves out something the model requires (unit, contact). */
export const NOT_STATED = 'Ikke oplyst i kilden';

/** Collects unknown codes and ignored fields while a mapping runs. */
export class MappingNotesCollector {
  readonly unknownCodes: { system: string; code: string }[] = [];
  /** Each ignored field once; most records have none, so the list is made on the first. */
  private ignored: string[] | undefined;

  /**
   * One collector kept for the life of the process, with both lists made, so that V8 never collects
   * the collectors' hidden class. Every FHIR mapping makes a collector per record and its optimised
   * code is built on that class; a full garbage collection at a moment when no collector is alive
   * (between two sync chunks, say) would otherwise drop the class — only live collectors reach it —
   * and V8 then throws away all optimised code that embeds it (every mapping, its notes, the
   * Fragment check) and compiles it again on the next records. In B1, whose rounds each begin with
   * a full collection, that recompilation was a large part of a FHIR record's time. (A static field:
   * a module-level constant that no function refers to does not outlive the module's evaluation.)
   */
  static readonly #kept = MappingNotesCollector.#keep();

  static #keep(): MappingNotesCollector {
    const kept = new MappingNotesCollector();
    kept.ignoreField('(kept)');
    kept.unknown('(kept)', '(kept)');
    return kept;
  }

  /** Noted for IT staff's statistics (run stats, dashboard): system and code come from the source, so anything CPR-shaped is masked (S4). */
  unknown(system: string | undefined, code: string | undefined): void {
    if (!code) return;
    const s = system === undefined ? '(no system)' : scrubCpr(system);
    const shown = scrubCpr(code);
    if (!this.unknownCodes.some((c) => c.system === s && c.code === shown)) this.unknownCodes.push({ system: s, code: shown });
  }

  ignore(...fields: string[]): void {
    for (const field of fields) this.ignoreField(field);
  }

  /** `ignore` for one field, without building an argument array. */
  ignoreField(field: string): void {
    if (!this.ignored) this.ignored = [field];
    else if (!this.ignored.includes(field)) this.ignored.push(field);
  }

  absorb(result: { unknownCodes: readonly { system: string; code: string }[]; ignoredFields: readonly string[] }): void {
    for (const code of result.unknownCodes) this.unknown(code.system, code.code);
    this.ignore(...result.ignoredFields);
  }

  /** A sorted copy (as `slice().sort()` would give: these are strings, each once). */
  get ignoredFields(): string[] {
    return this.ignored ? sortedCopy(this.ignored) : [];
  }

  ok(fragments: unknown[]): MappingResult {
    const checked = new Array<Fragment>(fragments.length);
    for (let i = 0; i < fragments.length; i++) {
      const fragment = fragments[i];
      const parsed = Fragment.safeParse(fragment);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        const where = issue?.path.length ? issue.path.join('.') : 'fragment';
        return this.fail('model', `${(fragment as { elementId?: string }).elementId ?? 'fragment'} ${where}: ${issue?.message ?? 'is not a valid model fragment'}`);
      }
      checked[i] = parsed.data;
    }
    return { ok: true, fragments: checked, unknownCodes: this.unknownCodes, ignoredFields: this.ignoredFields };
  }

  /** A failure; the reason quotes ids and codes of the source, so anything CPR-shaped in it is masked (S4). */
  fail(ruleId: string, reason: string): MappingResult {
    return { ok: false, ruleId, reason: scrubCpr(reason), unknownCodes: this.unknownCodes, ignoredFields: this.ignoredFields };
  }
}

/**
 * A sorted copy of a short list of strings, by insertion: the order `Array.prototype.sort` gives
 * strings (UTF-16 code units, which is what `<` compares), without the sort's working storage —
 * it runs for the notes of every record, and V8's sort allocates about a kilobyte even for a few
 * elements.
 */
export function sortedCopy(values: readonly string[]): string[] {
  const sorted = new Array<string>(values.length);
  for (let i = 0; i < values.length; i++) {
    const value = values[i]!;
    let at = i;
    while (at > 0 && sorted[at - 1]! > value) {
      sorted[at] = sorted[at - 1]!;
      at--;
    }
    sorted[at] = value;
  }
  return sorted;
}

/** A fragment before the model check: kind, deterministic element id, data category, content. */
export function fragment(kind: FragmentKind, elementId: string, category: Fragment['category'], content: Record<string, unknown>) {
  return { kind, elementId, category, content };
}

/**
 * `fragment`, also naming the id an older version of the mapping gave the element
 * (`Fragment.formerElementId`); none when that id is this one.
 */
export function renamedFragment(kind: FragmentKind, elementId: string, formerElementId: string, category: Fragment['category'], content: Record<string, unknown>) {
  return formerElementId === elementId ? { kind, elementId, category, content } : { kind, elementId, category, content, formerElementId };
}

type ActivityStatus = NonNullable<CarePlanActivity['detail']>['status'];

/** CarePlan activity status → intervention status; the plan's own status overrides when final. */
export function interventionStatus(activity: ActivityStatus, plan: CarePlan['status']): 'planned' | 'active' | 'ended' | 'cancelled' {
  if (plan === 'revoked' || plan === 'entered-in-error') return 'cancelled';
  switch (activity) {
    case 'not-started':
    case 'scheduled':
      return plan === 'completed' ? 'ended' : 'planned';
    case 'in-progress':
    case 'on-hold':
      return plan === 'completed' ? 'ended' : 'active';
    case 'completed':
    case 'stopped':
      return 'ended';
    case 'cancelled':
    case 'entered-in-error':
      return 'cancelled';
    default:
      return plan === 'completed' ? 'ended' : plan === 'active' ? 'active' : 'planned';
  }
}

/** Goal lifecycle (and achievement) → goal status. */
export function goalStatus(goal: Pick<Goal, 'lifecycleStatus' | 'achievementStatus'>): 'proposed' | 'active' | 'achieved' | 'abandoned' {
  if (goal.achievementStatus?.coding?.some((c) => c.code === 'achieved')) return 'achieved';
  switch (goal.lifecycleStatus) {
    case 'proposed':
    case 'planned':
      return 'proposed';
    case 'accepted':
    case 'active':
    case 'on-hold':
      return 'active';
    case 'completed':
      return 'achieved';
    default:
      return 'abandoned';
  }
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31] as const;
const digitAt = (text: string, at: number) => text.charCodeAt(at) - 48;

/**
 * A real calendar date (YYYY-MM-DD), not just the right shape: month 1–12 and a day that month has,
 * by the Gregorian leap-year rule — exactly the dates that survive a round trip through `Date` and
 * `toISOString` (years 0000–9999), without building a Date and a string for each check.
 */
export function isCalendarDate(value: string | undefined): value is string {
  if (!value || !isDateShaped(value)) return false;
  const year = digitAt(value, 0) * 1000 + digitAt(value, 1) * 100 + digitAt(value, 2) * 10 + digitAt(value, 3);
  const month = digitAt(value, 5) * 10 + digitAt(value, 6);
  const day = digitAt(value, 8) * 10 + digitAt(value, 9);
  if (month < 1 || month > 12 || day < 1) return false;
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  return day <= (month === 2 && leap ? 29 : DAYS_IN_MONTH[month - 1]!);
}

/**
 * An e-mail address the model's contact and coordinator schemas accept: their own pattern, taken
 * from the schemas (src/model/fragment-fast-check.ts, held against zod by its tests).
 */
export function isEmail(value: string | undefined): value is string {
  return fragmentFormatChecks.isEmail(value);
}

/** `value` trimmed when it has visible text. */
function visibleText(value: string | undefined | null): string | undefined {
  const text = value?.trim();
  return text ? text : undefined;
}

/**
 * The first value with visible text, trimmed: sources send "" where they mean "nothing". Up to four
 * values, as named parameters: a rest parameter would make an array on every call.
 */
export function firstText(a: string | undefined | null, b?: string | null, c?: string | null, d?: string | null): string | undefined {
  return visibleText(a) ?? visibleText(b) ?? visibleText(c) ?? visibleText(d);
}

/** A stated legal basis the model accepts (2–120 characters), else undefined. */
export function usableLegalBasis(value: string | undefined): string | undefined {
  const text = value?.trim();
  return text && text.length >= 2 && text.length <= 120 ? text : undefined;
}

/** `^[a-z0-9-]+$`, the model's topic tag. */
function isTopic(topic: string): boolean {
  if (topic.length === 0) return false;
  for (let i = 0; i < topic.length; i++) {
    const c = topic.charCodeAt(i);
    if (!((c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 45)) return false;
  }
  return true;
}

/** A topic tag as the model wants it (lower-case letters, digits, hyphens): each once, in first-seen order. */
export function topicsOf(...lists: readonly (readonly string[])[]): string[] {
  return topicsOfLists(lists);
}

/**
 * `topicsOf` for a list of lists (no spread call). An invalid tag never reaches the output, so
 * "each once" is a look in the (short) output instead of a Set of everything seen.
 */
export function topicsOfLists(lists: readonly (readonly string[])[]): string[] {
  const topics: string[] = [];
  for (let l = 0; l < lists.length; l++) {
    const list = lists[l]!;
    for (let i = 0; i < list.length; i++) {
      const topic = list[i]!;
      if (isTopic(topic) && !topics.includes(topic)) topics.push(topic);
    }
  }
  return topics;
}

const OUR_ELEMENT_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The id of our element that a resource we pushed carries (its UUID under ENPLAN_ELEMENT_SYSTEM,
 * set by the reverse mappings): read back under the server's own id, the resource is that element,
 * not a second one (R18). Undefined for a resource the system made itself.
 */
export function ourElementIdOf(resource: { identifier?: readonly { system?: string | undefined; value?: string | undefined }[] | undefined }): string | undefined {
  const ours = resource.identifier?.find((i) => i.system === ENPLAN_ELEMENT_SYSTEM)?.value;
  return ours && OUR_ELEMENT_ID.test(ours) ? ours.toLowerCase() : undefined;
}

/** The ids of the references to `type` (`…/<type>/<id>`) as element ids (`toElementId(<id>)`), in order, in one loop; references to anything else are left out. */
export function referencedElementIds(references: readonly Reference[] | undefined, type: string, toElementId: (id: string) => string): string[] {
  const ids: string[] = [];
  if (!references) return ids;
  for (let i = 0; i < references.length; i++) {
    const id = referencedId(references[i], type);
    if (id) ids.push(toElementId(id));
  }
  return ids;
}

type ActivityDetail = NonNullable<CarePlanActivity['detail']>;

/** Reports the fields of a CarePlan activity's detail that `codedActivity` and the mappings do not read. */
const reportUnreadDetailFields = unreadFieldReporter('CarePlan.activity.detail', ['extension', 'code', 'status', 'scheduledPeriod', 'performer', 'goal', 'description']);

/** One coded activity of a CarePlan, as `codedActivity` hands it to a mapping. */
export interface CodedActivity<Listed> {
  detail: ActivityDetail;
  /** The activity's first coding with a system and a code. */
  coding: Coding & { system: string; code: string };
  listed: Listed | undefined;
  display: string;
}

/**
 * A CarePlan activity as both FHIR mappings read it, or undefined when it has no coded detail: fields
 * we do not use are reported as ignored, an activity without a code is skipped (and reported), an
 * unknown code is reported. `lookup` finds the code in the mapping's code lists. Called activity by
 * activity (a plain loop, not a generator), so a mapping that fails on one has not noted anything
 * of the later ones.
 */
export function codedActivity<Listed extends { display?: string }>(
  activity: CarePlanActivity,
  notes: MappingNotesCollector,
  lookup: (system: string, code: string) => Listed | undefined,
): CodedActivity<Listed> | undefined {
  if (activity.outcomeReference) notes.ignoreField('CarePlan.activity.outcomeReference');
  if (activity.reference) notes.ignoreField('CarePlan.activity.reference');
  const detail = activity.detail;
  if (!detail) return undefined;
  reportUnreadDetailFields(detail, notes);
  const coding = firstCoding(detail.code);
  if (!coding?.code || !coding.system) {
    notes.ignoreField('CarePlan.activity.detail (an activity without a code)');
    return undefined;
  }
  const listed = lookup(coding.system, coding.code);
  if (!listed) notes.unknown(coding.system, coding.code);
  const display = firstText(listed?.display, coding.display, detail.code?.text) ?? coding.code;
  return { detail, coding: coding as CodedActivity<Listed>['coding'], listed, display };
}
