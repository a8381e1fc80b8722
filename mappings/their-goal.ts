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
 * - `category`: given our goal's level and topics (`ours`), the codings our pull reads level and topics
 *   from (`CategoryScheme.codings`: KL's goal categories, HL7's goal categories) are made to say ours —
 *   theirs that agree stay where they are, the others go, and what is missing takes the place of one
 *   that went (else comes after theirs) — while every other coding and category of theirs stays (the
 *   codes that decide the sector, R9, among them). Only when the pull then reads exactly our level and
 *   topics: otherwise (a topic no category carries, an order the pull cannot read back) their category
 *   stays as it is. Were the pull to read another sector from it, placing throws: the goal's sector is
 *   not ours to change.
 * - `identifier` is theirs: their record is named by their id.
 */
import type { Annotation, CodeableConcept, Coding, Goal as FhirGoal, GoalTarget } from '@medplum/fhirtypes';
import { danishDate } from '../adapters/fhir/fhir-values';
import { goalStatus, isCalendarDate } from '../adapters/fhir/mapping-support';
import { enplanNamespace } from '../adapters/fhir/systems';
import type { Goal } from '../src/model';
import { healthGoalMapping } from './health/goal';
import { goalCategories as healthGoalCategories } from './health/codes';
import { mapRecord, type Mapping } from './mapping';
import { goalTopics } from './social/codes';
import { socialGoalMapping } from './social/goal';

/** Marks the note on a sector system's own Goal that carries the Én plan goal's description. */
export const ENPLAN_NOTE_EXTENSION = `${enplanNamespace}/StructureDefinition/goal-description-note`;

type GoalLike = Partial<FhirGoal> & Record<string, unknown>;

const isOurs = (note: Annotation) => note.extension?.some((e) => e.url === ENPLAN_NOTE_EXTENSION) === true;
/** The text of the note that carries our description on their Goal, if it has one. */
export const ourDescriptionIn = (goal: object): string | undefined => (goal as GoalLike).note?.find(isOurs)?.text;
/** The pair as both pulls read it. */
const readStatus = (goal: GoalLike) => goalStatus(goal as Parameters<typeof goalStatus>[0]);
const saysAchieved = (goal: GoalLike) => goal.achievementStatus?.coding?.some((c) => c.code === 'achieved') === true;

/** A category coding our pull reads a goal's level or topics from, and what it says (`level` absent: nothing about the level). */
export interface CategoryCoding {
  system: string;
  code: string;
  display: string;
  level?: Goal['level'];
  topics: readonly string[];
}

/** What our pull reads of a Goal: level, topics, sector. */
export type GoalClassification = Pick<Goal, 'level' | 'topics' | 'sector'>;

/** How a system's Goal categories carry a goal's level and topics, and how our pull reads a Goal of it. */
export interface CategoryScheme {
  /** The codings the pull reads level or topics from, in the order a missing one is chosen. */
  codings: readonly CategoryCoding[];
  /** What the pull reads of `goal`; undefined when it cannot read it. */
  read(goal: object): GoalClassification | undefined;
}

/** A scheme whose `read` is the pull mapping's own. */
export function categoryScheme(codings: readonly CategoryCoding[], pull: Mapping<any>): CategoryScheme {
  return {
    codings,
    read: (goal) => {
      const result = mapRecord(pull, goal, { now: new Date(0).toISOString(), ruleVersion: '' });
      const content = result.ok ? (result.fragments[0]?.content as Partial<Goal> | undefined) : undefined;
      return content?.level && content.topics && content.sector ? { level: content.level, topics: content.topics, sector: content.sector } : undefined;
    },
  };
}

/** KL's goal categories (CareSocialCodes "Mål/formål"), each with the level and topics `social.goal` reads from it. */
export const socialGoalCategoryScheme = categoryScheme(goalTopics.goalCategories, socialGoalMapping);
/** HL7's goal categories, each with the topics `health.goal` reads from it (the region's goals are all sub-goals). */
export const healthGoalCategoryScheme = categoryScheme(
  healthGoalCategories.concepts.map((c) => ({ system: healthGoalCategories.system, code: c.code, display: c.display, topics: c.topics })),
  healthGoalMapping,
);

/**
 * Our Goal payload re-expressed against their Goal as it is held now: the returned payload carries
 * our content in their arrays and words; a field it does not carry is left as they hold it, one it
 * carries as `undefined` is removed. With `classified` (our goal's level and topics, and the system's
 * scheme) it carries their `category` saying ours where the pull can read it back.
 */
export function placeInTheirGoal(payload: object, theirs: object, classified?: { ours: Pick<Goal, 'level' | 'topics'>; scheme: CategoryScheme }): object {
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
  const category = classified && categoryPlaced(record, placed, classified.ours, classified.scheme);
  if (category) placed.category = category;
  return placed;
}

/**
 * Their categories with the codings `scheme` reads level and topics from made to say `ours`; theirs
 * as they are where the pull would not read ours back from that. Throws where it would read another
 * sector (never by the schemes' own codings, which are all social or all health; a guard, R9).
 */
function categoryPlaced(record: GoalLike, placed: GoalLike, ours: Pick<Goal, 'level' | 'topics'>, scheme: CategoryScheme): CodeableConcept[] | undefined {
  const theirs = record.category ?? [];
  const schemeCoding = (c: Coding) => scheme.codings.find((s) => s.system === c.system && s.code === c.code);
  const theirSchemeCodings = theirs.flatMap((entry) => (entry.coding ?? []).map(schemeCoding).filter((s): s is CategoryCoding => s !== undefined));
  // A coding that says something else than ours: a topic we do not hold, an overall goal when ours is not, or only another level.
  const saysOurs = (s: CategoryCoding) => s.topics.every((t) => ours.topics.includes(t)) && (s.level !== 'overall' || ours.level === 'overall') && (s.topics.length > 0 || s.level === undefined || s.level === ours.level);
  const kept = theirSchemeCodings.filter(saysOurs);
  const added: CategoryCoding[] = [];
  const carried = (t: string) => [...kept, ...added].some((s) => s.topics.includes(t));
  for (const topic of ours.topics) {
    const carrier = carried(topic) ? undefined : scheme.codings.find((s) => s.topics.includes(topic) && saysOurs(s));
    if (carrier) added.push(carrier);
  }
  const levelled = (level: Goal['level']) => [...kept, ...added].some((s) => s.level === level);
  // An overall goal needs a coding saying so; a goal whose level codings all went gets one saying its level, so KL still files it.
  if (!levelled(ours.level) && (ours.level === 'overall' || theirSchemeCodings.some((s) => s.level))) {
    const levelCoding = scheme.codings.find((s) => s.level === ours.level && saysOurs(s));
    if (levelCoding) added.push(levelCoding);
  }
  if (kept.length === theirSchemeCodings.length && added.length === 0) return record.category;

  const saysOursOrNone = (c: Coding) => {
    const s = schemeCoding(c);
    return !s || saysOurs(s);
  };
  const codingOf = (s: CategoryCoding): Coding => ({ system: s.system, code: s.code, display: s.display });
  // Ours where theirs went (positions kept, so a later three-way merge meets like with like), or after theirs: the first the pull reads back as ours.
  const candidate = (inPlace: boolean) => {
    const queue = [...added];
    const category: CodeableConcept[] = [];
    for (const entry of theirs) {
      if (!entry.coding?.some((c) => !saysOursOrNone(c))) {
        category.push(entry);
        continue;
      }
      const coding = entry.coding.flatMap((c) => (saysOursOrNone(c) ? [c] : inPlace && queue.length > 0 ? [codingOf(queue.shift()!)] : []));
      const { coding: _gone, ...others } = entry;
      // An entry left with nothing of its own (no coding, text or extension) goes with its codings.
      if (coding.length > 0) category.push({ ...others, coding });
      else if (Object.keys(others).length > 0) category.push(others);
    }
    for (const s of queue) category.push({ coding: [codingOf(s)] });
    return category;
  };
  const now = scheme.read({ ...record, ...placed, category: theirs });
  if (!now) return record.category;
  for (const category of [candidate(true), candidate(false)]) {
    const after = scheme.read({ ...record, ...placed, category });
    if (!after) continue;
    if (after.sector !== now.sector) throw new Error(`their Goal would read as a ${after.sector} goal, not ${now.sector}: its sector is decided by their codes (R9), not changed from here`);
    if (after.level === ours.level && after.topics.length === ours.topics.length && after.topics.every((t, i) => t === ours.topics[i])) return category;
  }
  return record.category;
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
