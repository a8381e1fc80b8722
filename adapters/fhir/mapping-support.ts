/**
 * Building blocks shared by the FHIR mappings (mappings/social, mappings/health): FHIR status codes
 * in the model's words, a collector of mapping notes, and the final check of every fragment against
 * the model, so a mapping hands back valid fragments or a readable failure — never a throw.
 */
import { Fragment, type FragmentKind } from '../../src/model';
import type { MappingResult } from '../../mappings/mapping';
import type { CarePlan, CarePlanActivity, Goal } from './contract';
import { firstCoding, scrubCpr, unreadFieldReporter } from './fhir-values';

/** Text used where the source leaves out something the model requires (unit, contact). */
export const NOT_STATED = 'Ikke oplyst i kilden';

/** Collects unknown codes and ignored fields while a mapping runs. */
export class MappingNotesCollector {
  readonly unknownCodes: { system: string; code: string }[] = [];
  /** Each ignored field once; most records have none, so the list is made on the first. */
  private ignored: string[] | undefined;

  unknown(system: string | undefined, code: string | undefined): void {
    if (!code) return;
    const s = system ?? '(no system)';
    if (!this.unknownCodes.some((c) => c.system === s && c.code === code)) this.unknownCodes.push({ system: s, code });
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

  get ignoredFields(): string[] {
    return this.ignored ? this.ignored.slice().sort() : [];
  }

  ok(fragments: unknown[]): MappingResult {
    const checked: Fragment[] = [];
    for (const fragment of fragments) {
      const parsed = Fragment.safeParse(fragment);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        const where = issue?.path.length ? issue.path.join('.') : 'fragment';
        return this.fail('model', `${(fragment as { elementId?: string }).elementId ?? 'fragment'} ${where}: ${issue?.message ?? 'is not a valid model fragment'}`);
      }
      checked.push(parsed.data);
    }
    return { ok: true, fragments: checked, unknownCodes: this.unknownCodes, ignoredFields: this.ignoredFields };
  }

  /** A failure; the reason quotes ids and codes of the source, so anything CPR-shaped in it is masked (S4). */
  fail(ruleId: string, reason: string): MappingResult {
    return { ok: false, ruleId, reason: scrubCpr(reason), unknownCodes: this.unknownCodes, ignoredFields: this.ignoredFields };
  }
}

/** A fragment before the model check: kind, deterministic element id, data category, content. */
export function fragment(kind: FragmentKind, elementId: string, category: Fragment['category'], content: Record<string, unknown>) {
  return { kind, elementId, category, content };
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

const CALENDAR_DATE = /^\d{4}-\d{2}-\d{2}$/;
const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31] as const;
const digitAt = (text: string, at: number) => text.charCodeAt(at) - 48;

/**
 * A real calendar date (YYYY-MM-DD), not just the right shape: month 1–12 and a day that month has,
 * by the Gregorian leap-year rule — exactly the dates that survive a round trip through `Date` and
 * `toISOString` (years 0000–9999), without building a Date and a string for each check.
 */
export function isCalendarDate(value: string | undefined): value is string {
  if (!value || !CALENDAR_DATE.test(value)) return false;
  const year = digitAt(value, 0) * 1000 + digitAt(value, 1) * 100 + digitAt(value, 2) * 10 + digitAt(value, 3);
  const month = digitAt(value, 5) * 10 + digitAt(value, 6);
  const day = digitAt(value, 8) * 10 + digitAt(value, 9);
  if (month < 1 || month > 12 || day < 1) return false;
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  return day <= (month === 2 && leap ? 29 : DAYS_IN_MONTH[month - 1]!);
}

/** An e-mail address the model's contact and coordinator schemas accept. */
export function isEmail(value: string | undefined): value is string {
  return !!value && /^(?!\.)(?!.*\.\.)([A-Za-z0-9_'+\-.]*)[A-Za-z0-9_+-]@([A-Za-z0-9][A-Za-z0-9-]*\.)+[A-Za-z]{2,}$/.test(value);
}

/** The first value with visible text, trimmed: sources send "" where they mean "nothing". */
export function firstText(...values: (string | undefined | null)[]): string | undefined {
  for (const value of values) {
    const text = value?.trim();
    if (text) return text;
  }
  return undefined;
}

/** A stated legal basis the model accepts (2–120 characters), else undefined. */
export function usableLegalBasis(value: string | undefined): string | undefined {
  const text = value?.trim();
  return text && text.length >= 2 && text.length <= 120 ? text : undefined;
}

const TOPIC = /^[a-z0-9-]+$/;

/** A topic tag as the model wants it (lower-case letters, digits, hyphens): each once, in first-seen order. */
export function topicsOf(...lists: readonly (readonly string[])[]): string[] {
  const seen = new Set<string>();
  const topics: string[] = [];
  for (const list of lists)
    for (const topic of list) {
      if (seen.has(topic)) continue;
      seen.add(topic);
      if (TOPIC.test(topic)) topics.push(topic);
    }
  return topics;
}

type ActivityDetail = NonNullable<CarePlanActivity['detail']>;

/** Reports the fields of a CarePlan activity's detail that `codedActivities` and the mappings do not read. */
const reportUnreadDetailFields = unreadFieldReporter('CarePlan.activity.detail', ['extension', 'code', 'status', 'scheduledPeriod', 'performer', 'goal', 'description']);

/**
 * The coded activities of a CarePlan, as both FHIR mappings read them: fields we do not use are
 * reported as ignored, an activity without a code is skipped (and reported), an unknown code is
 * reported. `lookup` finds the code in the mapping's code lists.
 */
export function* codedActivities<Listed extends { display?: string }>(
  plan: Pick<CarePlan, 'activity'>,
  notes: MappingNotesCollector,
  lookup: (system: string, code: string) => Listed | undefined,
): Generator<{ index: number; detail: ActivityDetail; coding: { system: string; code: string; display?: string }; listed: Listed | undefined; display: string }> {
  const activities = plan.activity ?? [];
  // Lazily, activity by activity: a mapping that fails on one has not noted anything of the later ones.
  for (let index = 0; index < activities.length; index++) {
    const activity = activities[index]!;
    if (activity.outcomeReference) notes.ignoreField('CarePlan.activity.outcomeReference');
    if (activity.reference) notes.ignoreField('CarePlan.activity.reference');
    const detail = activity.detail;
    if (!detail) continue;
    reportUnreadDetailFields(detail, notes);
    const coding = firstCoding(detail.code);
    if (!coding?.code || !coding.system) {
      notes.ignore('CarePlan.activity.detail (an activity without a code)');
      continue;
    }
    const listed = lookup(coding.system, coding.code);
    if (!listed) notes.unknown(coding.system, coding.code);
    const display = firstText(listed?.display, coding.display, detail.code?.text) ?? coding.code;
    const codingOut = coding.display ? { system: coding.system, code: coding.code, display: coding.display } : { system: coding.system, code: coding.code };
    yield { index, detail, coding: codingOut, listed, display };
  }
}
