/**
 * Where our goal sits in a FHIR Goal a sector system made itself (the social system's or the region's
 * own goal, changed in the Én plan): our reverse mappings make a Goal of their own, but into their
 * record only our content is written, placed where our pull mappings (`social.goal`, `health.goal`)
 * read it, beside everything of theirs (decision 0005, "Later (2026-11-24, session 19): all of our
 * change reaches their own Goal").
 *
 * - `target`: our target date is the earliest due date, which is what the pull reads; so the entries
 *   of theirs holding that date get ours (their measure and value stay), and a Goal with no dated
 *   target gets our entry (`{ dueDate }`) after theirs. Their other targets are left alone.
 * - `note`: our description is one note marked as ours (`ENPLAN_NOTE_EXTENSION`); that note is
 *   replaced in place (their `time`, `author` kept), or added after theirs. Their notes stay.
 * - `lifecycleStatus` / `achievementStatus`: a pair. Where their pair already reads as our status it
 *   stays in their words (`on-hold` is active to us, and not ours to undo). Otherwise ours, with an
 *   achievement status that agrees: achieved carries `achieved`; any other status drops an `achieved`
 *   of theirs (it would read back as achieved), and keeps one that does not contradict it.
 * - `identifier` and `category` are theirs: their record is named by their id, and their categories
 *   carry KL's level and the codes that decide the goal's sector (R9) and topics.
 */
import type { Annotation, Goal as FhirGoal, GoalTarget } from '@medplum/fhirtypes';
import { danishDate } from '../adapters/fhir/fhir-values';
import { goalStatus, isCalendarDate } from '../adapters/fhir/mapping-support';
import { enplanNamespace } from '../adapters/fhir/systems';

/** Marks the note on a sector system's own Goal that carries the Én plan goal's description. */
export const ENPLAN_NOTE_EXTENSION = `${enplanNamespace}/StructureDefinition/goal-description-note`;

type GoalLike = Partial<FhirGoal> & Record<string, unknown>;

const isOurs = (note: Annotation) => note.extension?.some((e) => e.url === ENPLAN_NOTE_EXTENSION) === true;
/** The pair as both pulls read it. */
const readStatus = (goal: GoalLike) => goalStatus(goal as Parameters<typeof goalStatus>[0]);
const saysAchieved = (goal: GoalLike) => goal.achievementStatus?.coding?.some((c) => c.code === 'achieved') === true;

/**
 * Our Goal payload re-expressed against their Goal as it is held now: the returned payload carries
 * our content in their arrays and words; a field it does not carry is left as they hold it, one it
 * carries as `undefined` is removed.
 */
export function placeInTheirGoal(payload: object, theirs: object): object {
  const ours = payload as GoalLike;
  const record = theirs as GoalLike;
  const { identifier: _identifier, category: _category, target, note, lifecycleStatus, achievementStatus, ...rest } = ours;
  const placed: GoalLike = { ...rest };

  if (lifecycleStatus) {
    const status = readStatus(ours);
    // Both members always stated (absent: removed), so a payload placed before and one placed now compare member by member.
    const agrees = readStatus(record) === status;
    placed.lifecycleStatus = agrees ? record.lifecycleStatus : lifecycleStatus;
    placed.achievementStatus = agrees ? record.achievementStatus : status === 'achieved' ? achievementStatus : saysAchieved(record) ? undefined : record.achievementStatus;
  }

  const due = target?.[0]?.dueDate;
  if (due) placed.target = withDueDate(record.target ?? [], due);

  const text = note?.[0]?.text;
  const theirNotes = record.note ?? [];
  const at = theirNotes.findIndex(isOurs);
  if (text !== undefined) {
    placed.note = at >= 0 ? theirNotes.map((n, i) => (i === at ? { ...n, text } : n)) : [...theirNotes, { extension: [{ url: ENPLAN_NOTE_EXTENSION, valueBoolean: true }], text }];
  } else if (at >= 0) {
    placed.note = theirNotes.filter((n) => !isOurs(n));
  }
  return placed;
}

/** Their targets with the entries holding the earliest due date (what the pull reads) moved to `due`; ours appended when none is dated. */
function withDueDate(targets: readonly GoalTarget[], due: string): GoalTarget[] {
  let earliest: string | undefined;
  for (const t of targets) {
    const date = danishDate(t.dueDate);
    if (isCalendarDate(date) && (earliest === undefined || date < earliest)) earliest = date;
  }
  if (earliest === undefined) return [...targets, { dueDate: due }];
  return targets.map((t) => (danishDate(t.dueDate) === earliest ? { ...t, dueDate: due } : t));
}
