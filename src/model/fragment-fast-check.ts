/**
 * A hand-written fast path in front of the `Fragment` model check (see fragment.ts).
 *
 * Every fragment a mapping makes is checked against `Fragment` on every sync. zod's compiled parser
 * for it is correct but generic: a closure per optional field, a default cloned through a getter,
 * a regular expression for every date. This reads a fragment once, field by field, and builds the
 * output zod would build — a fresh object in the schema's key order, unknown keys dropped, defaults
 * filled in, the legal basis trimmed, every array copied — for the fragment kinds the mappings make
 * (goal, intervention, agreement, followUp, situation, coordinator).
 *
 * It only ever says yes: for anything it does not fully understand (another kind, an object that
 * is not plain, a value it would have to think hard about, anything invalid) it answers undefined
 * and zod parses the fragment — so zod alone decides what is refused, and its issues name the path
 * and the reason. test/model/fragment-fast-check.test.ts holds it against zod's ordinary parser:
 * whenever this answers, zod accepts the same input with a deep-equal output (same key order).
 *
 * What it mirrors, field by field (src/model/plan.ts, common.ts, consent.ts):
 * - strings with `.min(1)`: any non-empty string (one UTF-16 unit is at least one code point);
 *   `Id` also `.max(128)` code points: vouched for up to 128 UTF-16 units, longer ones go to zod;
 * - `LegalBasis`: trimmed, then 2–120 code points (counted here only for short strings);
 * - `IsoDate` / `IsoDateTime` (offset allowed): zod's patterns, checked character by character;
 * - `z.email()`: zod's own pattern, taken from the schema;
 * - `Topic`: `^[a-z0-9-]+$`;
 * - enums and literals: their value sets, taken from the schemas;
 * - numbers: finite; `int()` a safe integer; `nonnegative()` ≥ 0; `max(80)`;
 * - an optional key is in the output when it is `in` the input (even when undefined), as zod does;
 *   a key with a default always is, undefined becoming the default;
 * - `Period`'s refinement: no end, or an end on or after the start.
 */
import type { z } from 'zod';
import { Contact, Sector } from './common';
import { DataCategory } from './consent';
import { Confidentiality, Coordinator, GoalLevel, GoalStatus, InterventionStatus } from './plan';

type Json = Record<string, unknown>;

const setOf = (schema: { options: readonly unknown[] }): ReadonlySet<unknown> => new Set(schema.options);
const categories = setOf(DataCategory);
const sectors = setOf(Sector);
const goalLevels = setOf(GoalLevel);
const goalStatuses = setOf(GoalStatus);
const interventionStatuses = setOf(InterventionStatus);
const confidentialities = setOf(Confidentiality);
const coordinatorKinds = setOf(Coordinator.shape.kind);

/** The pattern of a `z.email()` (the schema's own, so a newer zod's pattern is used here too). */
function patternOf(schema: z.core.$ZodType): RegExp {
  const pattern = (schema._zod.def as { pattern?: unknown }).pattern;
  if (!(pattern instanceof RegExp)) throw new Error('patternOf: not a string format schema');
  return pattern;
}
const EMAIL = patternOf(Contact.shape.email.unwrap());
// Both e-mail fields are the same check; if the schemas ever differ, this fast path must too.
if (patternOf(Coordinator.shape.email.unwrap()).source !== EMAIL.source) throw new Error('fragment fast check: the two e-mail patterns differ');

/** A plain object (Object's prototype): what the mappings build. Anything else goes to zod. */
function isPlain(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === Object.prototype;
}

/** `Text`: holds something besides whitespace. */
const NOT_BLANK = /\S/;
const isText = (value: unknown): value is string => typeof value === 'string' && NOT_BLANK.test(value);
/** `Id`: 1–128 code points; vouched for up to 128 UTF-16 units (never more code points than that). */
const isId = (value: unknown): value is string => typeof value === 'string' && value.length > 0 && value.length <= 128;

const digit = (text: string, at: number) => {
  const c = text.charCodeAt(at) - 48;
  return c >= 0 && c <= 9 ? c : -1;
};
const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31] as const;

/** zod's `date` pattern at `text[0..10)`: YYYY-MM-DD, a day the month has (Gregorian leap years, year 0000 included). */
function isDateAt(text: string): boolean {
  const y1 = digit(text, 0);
  const y2 = digit(text, 1);
  const y3 = digit(text, 2);
  const y4 = digit(text, 3);
  const m1 = digit(text, 5);
  const m2 = digit(text, 6);
  const d1 = digit(text, 8);
  const d2 = digit(text, 9);
  if ((y1 | y2 | y3 | y4 | m1 | m2 | d1 | d2) < 0 || text.charCodeAt(4) !== 45 || text.charCodeAt(7) !== 45) return false;
  const month = m1 * 10 + m2;
  const day = d1 * 10 + d2;
  if (month < 1 || month > 12 || day < 1) return false;
  if (month !== 2) return day <= DAYS_IN_MONTH[month - 1]!;
  if (day <= 28) return true;
  if (day > 29) return false;
  const year = y1 * 1000 + y2 * 100 + y3 * 10 + y4;
  return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
}

/** `IsoDate`. */
const isIsoDate = (value: unknown): value is string => typeof value === 'string' && value.length === 10 && isDateAt(value);

/** Two digits at `at` forming a number ≤ `max` (hours ≤ 23, minutes and seconds ≤ 59). */
function twoDigitsAt(text: string, at: number, max: number): boolean {
  const a = digit(text, at);
  const b = digit(text, at + 1);
  return a >= 0 && b >= 0 && a * 10 + b <= max;
}

/** `IsoDateTime` with offsets: YYYY-MM-DDTHH:MM:SS, optional fraction `.d+`, then `Z` or `±HH:MM`. */
function isIsoDateTime(value: unknown): value is string {
  if (typeof value !== 'string' || value.length < 20 || !isDateAt(value) || value.charCodeAt(10) !== 84) return false;
  if (!twoDigitsAt(value, 11, 23) || value.charCodeAt(13) !== 58 || !twoDigitsAt(value, 14, 59) || value.charCodeAt(16) !== 58 || !twoDigitsAt(value, 17, 59)) return false;
  let at = 19;
  if (value.charCodeAt(at) === 46) {
    at++;
    const digits = at;
    while (at < value.length && digit(value, at) >= 0) at++;
    if (at === digits) return false;
  }
  const zone = value.charCodeAt(at);
  if (zone === 90) return at + 1 === value.length;
  return (
    (zone === 43 || zone === 45) &&
    at + 6 === value.length &&
    twoDigitsAt(value, at + 1, 23) &&
    value.charCodeAt(at + 3) === 58 &&
    twoDigitsAt(value, at + 4, 59)
  );
}

/** `Topic`: one or more of a–z, 0–9 and `-`. */
function isTopic(value: unknown): value is string {
  if (typeof value !== 'string' || value.length === 0) return false;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (!((c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 45)) return false;
  }
  return true;
}

const isEmail = (value: unknown): value is string => typeof value === 'string' && EMAIL.test(value);

/**
 * A copy of an array whose every element passes `item`, or undefined; `undefined` itself gives a
 * fresh empty array (the schemas' `.default([])`). A hole reads as undefined, which no item passes.
 */
function listOf(value: unknown, item: (element: unknown) => boolean): unknown[] | undefined {
  if (value === undefined) return [];
  if (!Array.isArray(value)) return undefined;
  const length = value.length;
  const copy = new Array<unknown>(length);
  for (let i = 0; i < length; i++) {
    const element: unknown = value[i];
    if (!item(element)) return undefined;
    copy[i] = element;
  }
  return copy;
}

/** `Coding` (system, code, optional display), copied. */
function coding(value: unknown): Json | undefined {
  if (!isPlain(value)) return undefined;
  const { system, code, display } = value;
  if (!isText(system) || !isText(code)) return undefined;
  if (display !== undefined) return typeof display === 'string' ? { system, code, display } : undefined;
  return 'display' in value ? { system, code, display: undefined } : { system, code };
}

/**
 * `LegalBasis`: trimmed, then 2–120 code points. A trimmed text of 4–120 UTF-16 units has at least
 * two code points; shorter ones are counted, longer ones are left to zod.
 */
function legalBasis(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const text = value.trim();
  const units = text.length;
  if (units < 2 || units > 120) return undefined;
  if (units < 4) {
    let points = 0;
    for (let i = 0; i < units; i++) {
      const c = text.charCodeAt(i);
      if (c >= 0xd800 && c <= 0xdbff && i + 1 < units && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) i++;
      points++;
    }
    if (points < 2) return undefined;
  }
  return text;
}

/** `Contact` (name, optional unit, phone, e-mail), copied with the optional keys the input has. */
function contact(value: unknown): Json | undefined {
  if (!isPlain(value)) return undefined;
  const { name, unit, phone, email } = value;
  if (!isText(name) || (unit !== undefined && !isText(unit)) || (phone !== undefined && typeof phone !== 'string') || (email !== undefined && !isEmail(email))) return undefined;
  if (phone === undefined && email === undefined && !('phone' in value) && !('email' in value)) {
    if (unit !== undefined) return { name, unit };
    if (!('unit' in value)) return { name };
  }
  const out: Json = { name };
  optional(out, value, 'unit', unit);
  optional(out, value, 'phone', phone);
  optional(out, value, 'email', email);
  return out;
}

/** `Period` (start, optional end, not ending before it starts), copied. */
function period(value: unknown): Json | undefined {
  if (!isPlain(value)) return undefined;
  const { start, end } = value;
  if (!isIsoDate(start)) return undefined;
  if (end !== undefined) return isIsoDate(end) && end >= start ? { start, end } : undefined;
  return 'end' in value ? { start, end: undefined } : { start };
}

/**
 * Adds an optional key the way zod's output has it: with its (checked) value, or as undefined when
 * the input has the key with nothing in it. The common shapes are object literals instead (their
 * hidden classes live as long as this code, where ones built key by key can be collected between
 * syncs, and the code built on them with them); this is for the rest.
 */
function optional(out: Json, input: Json, key: string, value: unknown): void {
  if (value !== undefined || key in input) out[key] = value;
}

const isNonNegativeInteger = (value: unknown): value is number => typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;

function goalContent(c: Json): Json | undefined {
  const { level, parentGoalId, title, description, sector, status, targetDate, code } = c;
  if (!goalLevels.has(level) || !isText(title) || !sectors.has(sector) || !goalStatuses.has(status)) return undefined;
  if ((parentGoalId !== undefined && !isId(parentGoalId)) || (description !== undefined && typeof description !== 'string') || (targetDate !== undefined && !isIsoDate(targetDate)))
    return undefined;
  let checkedCode: Json | undefined;
  if (code !== undefined && !(checkedCode = coding(code))) return undefined;
  const topics = listOf(c.topics, isTopic);
  if (!topics) return undefined;
  // The shapes the mappings make, as literals (see `optional`).
  if (parentGoalId === undefined && code === undefined && !('parentGoalId' in c) && !('code' in c) && (description !== undefined || !('description' in c)) && (targetDate !== undefined || !('targetDate' in c))) {
    if (description === undefined) return targetDate === undefined ? { level, title, sector, status, topics } : { level, title, sector, status, targetDate, topics };
    return targetDate === undefined ? { level, title, description, sector, status, topics } : { level, title, description, sector, status, targetDate, topics };
  }
  const out: Json = { level };
  optional(out, c, 'parentGoalId', parentGoalId);
  out.title = title;
  optional(out, c, 'description', description);
  out.sector = sector;
  out.status = status;
  optional(out, c, 'targetDate', targetDate);
  optional(out, c, 'code', checkedCode);
  out.topics = topics;
  return out;
}

function interventionContent(c: Json): Json | undefined {
  const { sector, title, responsibleUnit, order, status, providerId, hoursPerWeek } = c;
  if (!sectors.has(sector)) return undefined;
  const basis = legalBasis(c.legalBasis);
  const type = coding(c.type);
  if (basis === undefined || !type || !isText(title) || !isText(responsibleUnit)) return undefined;
  const contactOut = contact(c.contact);
  const periodOut = period(c.period);
  if (!contactOut || !periodOut || !isNonNegativeInteger(order)) return undefined;
  const dependsOn = listOf(c.dependsOn, isId);
  if (!dependsOn || !interventionStatuses.has(status)) return undefined;
  const goalIds = listOf(c.goalIds, isId);
  if (!goalIds) return undefined;
  if ((providerId !== undefined && !isText(providerId)) || (hoursPerWeek !== undefined && (typeof hoursPerWeek !== 'number' || !(hoursPerWeek >= 0 && hoursPerWeek <= 80)))) return undefined;
  const confidentiality = c.confidentiality === undefined ? 'normal' : c.confidentiality;
  if (!confidentialities.has(confidentiality)) return undefined;
  const topics = listOf(c.topics, isTopic);
  if (!topics) return undefined;
  // The shapes the mappings make, as literals (see `optional`).
  if (hoursPerWeek === undefined && !('hoursPerWeek' in c)) {
    // prettier-ignore
    if (providerId !== undefined) return { sector, legalBasis: basis, type, title, responsibleUnit, contact: contactOut, period: periodOut, order, dependsOn, status, goalIds, providerId, confidentiality, topics };
    // prettier-ignore
    if (!('providerId' in c)) return { sector, legalBasis: basis, type, title, responsibleUnit, contact: contactOut, period: periodOut, order, dependsOn, status, goalIds, confidentiality, topics };
  }
  const out: Json = { sector, legalBasis: basis, type, title, responsibleUnit, contact: contactOut, period: periodOut, order, dependsOn, status, goalIds };
  optional(out, c, 'providerId', providerId);
  optional(out, c, 'hoursPerWeek', hoursPerWeek);
  out.confidentiality = confidentiality;
  out.topics = topics;
  return out;
}

function agreementContent(c: Json): Json | undefined {
  const { text, sector, agreedAt, parties: partiesIn } = c;
  if (!isText(text) || (sector !== undefined && !sectors.has(sector)) || !isIsoDate(agreedAt)) return undefined;
  // `.min(1)`, and no default: an absent list is refused.
  if (!Array.isArray(partiesIn) || partiesIn.length === 0) return undefined;
  const parties = listOf(partiesIn, isText);
  const topics = listOf(c.topics, isTopic);
  if (!parties || !topics) return undefined;
  if (sector !== undefined) return { text, sector, agreedAt, parties, topics };
  if (!('sector' in c)) return { text, agreedAt, parties, topics };
  return { text, sector: undefined, agreedAt, parties, topics };
}

function followUpContent(c: Json): Json | undefined {
  const { due, text, elementId, doneAt } = c;
  const done = c.done === undefined ? false : c.done;
  if (!isIsoDate(due) || !isText(text) || (elementId !== undefined && !isId(elementId)) || typeof done !== 'boolean' || (doneAt !== undefined && !isIsoDateTime(doneAt))) return undefined;
  // The shapes the mappings make, as literals (see `optional`).
  if (doneAt === undefined && !('doneAt' in c)) {
    if (elementId !== undefined) return { due, text, elementId, done };
    if (!('elementId' in c)) return { due, text, done };
  }
  const out: Json = { due, text };
  optional(out, c, 'elementId', elementId);
  out.done = done;
  optional(out, c, 'doneAt', doneAt);
  return out;
}

function situationContent(c: Json): Json | undefined {
  const { summary } = c;
  if (!isText(summary)) return undefined;
  const barriers = listOf(c.barriers, isText);
  const resources = listOf(c.resources, isText);
  return barriers && resources ? { summary, barriers, resources } : undefined;
}

function coordinatorContent(c: Json): Json | undefined {
  const { kind, name, sector, unit, phone, email, since } = c;
  if (!coordinatorKinds.has(kind) || !isText(name) || !sectors.has(sector) || !isText(unit)) return undefined;
  if ((phone !== undefined && typeof phone !== 'string') || (email !== undefined && !isEmail(email)) || !isIsoDateTime(since)) return undefined;
  const teamMembers = listOf(c.teamMembers, isText);
  if (!teamMembers) return undefined;
  // The shapes the mappings make, as literals (see `optional`).
  if ((phone !== undefined || !('phone' in c)) && (email !== undefined || !('email' in c))) {
    if (phone === undefined) return email === undefined ? { kind, name, sector, unit, teamMembers, since } : { kind, name, sector, unit, email, teamMembers, since };
    return email === undefined ? { kind, name, sector, unit, phone, teamMembers, since } : { kind, name, sector, unit, phone, email, teamMembers, since };
  }
  const out: Json = { kind, name, sector, unit };
  optional(out, c, 'phone', phone);
  optional(out, c, 'email', email);
  out.teamMembers = teamMembers;
  out.since = since;
  return out;
}

/**
 * The fragment as `Fragment.parse` would return it, or undefined where zod must decide (an invalid
 * fragment, a kind or a value this does not handle). Never throws for a plain-data input.
 */
export function fastFragment(value: unknown): Json | undefined {
  if (!isPlain(value)) return undefined;
  const { kind, elementId, category, content } = value;
  if (!isText(elementId) || !categories.has(category) || !isPlain(content)) return undefined;
  let checked: Json | undefined;
  switch (kind) {
    case 'intervention':
      checked = interventionContent(content);
      break;
    case 'goal':
      checked = goalContent(content);
      break;
    case 'situation':
      checked = situationContent(content);
      break;
    case 'coordinator':
      checked = coordinatorContent(content);
      break;
    case 'followUp':
      checked = followUpContent(content);
      break;
    case 'agreement':
      checked = agreementContent(content);
      break;
    default:
      // citizenView (no mapping makes one) and anything else: zod.
      return undefined;
  }
  if (!checked) return undefined;
  const hasSequence = 'sequence' in value;
  const hasFormerId = 'formerElementId' in value;
  if (!hasSequence && !hasFormerId) return { kind, elementId, category, content: checked };
  // 1–64 code points: counted only when it is longer than 64 UTF-16 units.
  const { sequence, formerElementId } = value;
  if (sequence !== undefined && !(typeof sequence === 'string' && sequence.length >= 1 && (sequence.length <= 64 || [...sequence].length <= 64))) return undefined;
  if (formerElementId !== undefined && !(typeof formerElementId === 'string' && formerElementId.length >= 1)) return undefined;
  if (!hasFormerId) return { kind, elementId, category, content: checked, sequence };
  return hasSequence ? { kind, elementId, category, content: checked, sequence, formerElementId } : { kind, elementId, category, content: checked, formerElementId };
}

/** For the tests: the format checks alone, to hold against zod's patterns. */
export const fragmentFormatChecks = { isIsoDate, isIsoDateTime, isTopic, isEmail, legalBasis };
