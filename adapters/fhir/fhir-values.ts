/**
 * Small readers of FHIR values shared by the FHIR adapters and their mappings: Danish calendar dates
 * from FHIR dateTimes, codings by system, references, and which source fields a mapping left unused.
 */
import type { CodeableConcept, Coding, Extension, Reference } from './contract';

const danishDay = new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Copenhagen', year: 'numeric', month: '2-digit', day: '2-digit' });
const danishOffset = new Intl.DateTimeFormat('en-US', { timeZone: 'Europe/Copenhagen', timeZoneName: 'longOffset' });

/** `count` ASCII digits from `at`. */
function digitsAt(text: string, at: number, count: number): boolean {
  for (let i = at; i < at + count; i++) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

/**
 * The shapes `/^\d{4}-\d{2}-\d{2}$/`, `/^\d{4}-\d{2}$/` and `/^\d{4}$/` (`\d` is 0–9), read by
 * character: dates are checked several times per record, and a pattern costs a call into the
 * RegExp machinery each time.
 */
export const isDateShaped = (value: string) => value.length === 10 && digitsAt(value, 0, 4) && value.charCodeAt(4) === 45 && digitsAt(value, 5, 2) && value.charCodeAt(7) === 45 && digitsAt(value, 8, 2);
const isYearMonthShaped = (value: string) => value.length === 7 && digitsAt(value, 0, 4) && value.charCodeAt(4) === 45 && digitsAt(value, 5, 2);
const isYearShaped = (value: string) => value.length === 4 && digitsAt(value, 0, 4);

/**
 * The Danish calendar date (YYYY-MM-DD) of a FHIR date or dateTime. A timestamp is read in
 * Europe/Copenhagen, so 2021-05-29T23:30:00Z is the 30th. A partial date (YYYY or YYYY-MM) becomes
 * the first day of its period; anything unreadable gives undefined.
 */
export function danishDate(value: string | undefined): string | undefined {
  if (!value) return undefined;
  if (isDateShaped(value)) return value;
  if (isYearMonthShaped(value)) return `${value}-01`;
  if (isYearShaped(value)) return `${value}-01-01`;
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) return undefined;
  return danishDay.format(new Date(ms));
}

/** A FHIR date or dateTime as an ISO timestamp with offset; a bare date is midnight, Danish time. */
export function danishDateTime(value: string | undefined): string | undefined {
  if (!value) return undefined;
  // A timestamp is kept as it is when it parses. (Its Danish date, which `danishDate` would compute
  // first, is never empty for a timestamp that parses, so it decides nothing here.)
  if (value.includes('T')) return Number.isNaN(Date.parse(value)) ? undefined : value;
  const date = danishDate(value);
  if (!date) return undefined;
  return `${date}T00:00:00${danishOffsetOn(date)}`;
}

/** Europe/Copenhagen's UTC offset (`+01:00` or `+02:00`) at noon of a date, remembered per date. */
const offsetByDate = new Map<string, string>();
const MAX_REMEMBERED_OFFSETS = 20_000;

function danishOffsetOn(date: string): string {
  let offset = offsetByDate.get(date);
  if (offset === undefined) {
    const noonUtc = new Date(`${date}T12:00:00Z`);
    const name = danishOffset.formatToParts(noonUtc).find((p) => p.type === 'timeZoneName')?.value ?? 'GMT+01:00';
    offset = name === 'GMT' ? '+00:00' : name.replace('GMT', '');
    if (offsetByDate.size >= MAX_REMEMBERED_OFFSETS) offsetByDate.clear();
    offsetByDate.set(date, offset);
  }
  return offset;
}

const isList = (value: CodeableConcept | readonly CodeableConcept[]): value is readonly CodeableConcept[] => Array.isArray(value);

/** The first coding of one concept with `system` (any system when undefined) and a code. Loops, no closure per call. */
function codingOf(concept: CodeableConcept, system: string | undefined): Coding | undefined {
  const codings = concept.coding;
  if (!codings) return undefined;
  for (let i = 0; i < codings.length; i++) {
    const coding = codings[i]!;
    if ((system === undefined ? coding.system : coding.system === system) && coding.code) return coding;
  }
  return undefined;
}

/** The first coding in `system` (any system when undefined) of a concept or of several, in order; no list is made of a single concept. */
function findCoding(concepts: CodeableConcept | readonly CodeableConcept[] | undefined, system: string | undefined): Coding | undefined {
  if (!concepts) return undefined;
  if (!isList(concepts)) return codingOf(concepts, system);
  for (let i = 0; i < concepts.length; i++) {
    const coding = codingOf(concepts[i]!, system);
    if (coding) return coding;
  }
  return undefined;
}

/** The first coding of a concept (or of several concepts) in the given system. */
export function codingIn(concepts: CodeableConcept | readonly CodeableConcept[] | undefined, system: string): Coding | undefined {
  return findCoding(concepts, system);
}

/** The first coding with both system and code, in any system. */
export function firstCoding(concepts: CodeableConcept | readonly CodeableConcept[] | undefined): Coding | undefined {
  return findCoding(concepts, undefined);
}

/**
 * The id part of a relative reference of the given type ("Goal/abc" → "abc"): the segment after the
 * last `/`-separated segment equal to the type. Scans the text instead of splitting it (no array).
 */
export function referencedId(reference: Reference | undefined, type: string): string | undefined {
  const ref = reference?.reference;
  if (!ref) return undefined;
  // Segments from the last to the first: `end` is where the current one ends, `followingEnd` where
  // the one after it ends (the id, when the current one is the type).
  let end = ref.length;
  let followingEnd = -1;
  for (;;) {
    const slash = end === 0 ? -1 : ref.lastIndexOf('/', end - 1);
    const start = slash + 1;
    // Only the last segment equal to the type counts, as with `split('/').lastIndexOf(type)`.
    if (end - start === type.length && ref.startsWith(type, start)) return followingEnd < 0 ? undefined : ref.slice(end + 1, followingEnd) || undefined;
    if (slash < 0) return undefined;
    followingEnd = end;
    end = slash;
  }
}

/** The value of an extension (string) found by url, searching one level of nesting too. */
export function extensionString(extensions: readonly Extension[] | undefined, url: string): string | undefined {
  if (!extensions) return undefined;
  for (let i = 0; i < extensions.length; i++) {
    const ext = extensions[i]!;
    if (ext.url === url && typeof ext.valueString === 'string') return ext.valueString;
  }
  return undefined;
}

const BOOKKEEPING_FIELDS: readonly string[] = ['resourceType', 'id', 'meta', 'text'];
const isBookkeeping = (key: string) => key === 'resourceType' || key === 'id' || key === 'meta' || key === 'text';

/**
 * Which top-level fields of a source record a mapping did not carry into the model, as
 * "<prefix>.<field>", so IT staff can see what is dropped. Bookkeeping fields are not reported.
 */
export function ignoredFields(record: object, used: readonly string[], prefix: string): string[] {
  let ignored: string[] | undefined;
  for (const key of Object.keys(record)) if (!isBookkeeping(key) && !used.includes(key)) (ignored ??= []).push(key);
  if (!ignored) return [];
  return ignored.sort().map((key) => `${prefix}.${key}`);
}

/** Names of unread fields remembered per reporter; beyond this many distinct ones they are built each time. */
const MAX_REMEMBERED_FIELD_NAMES = 256;

/**
 * `ignoredFields` prepared once per record type, for the mappings' hot path: hands each field of a
 * record that is neither read nor bookkeeping straight to `notes.ignoreField` as "<prefix>.<field>"
 * (in the record's key order; the notes collector sorts), without building a list or a name per
 * record.
 */
export function unreadFieldReporter(prefix: string, used: readonly string[]): (record: object, notes: { ignoreField(field: string): void }) => void {
  const skipped: ReadonlySet<string> = new Set([...BOOKKEEPING_FIELDS, ...used]);
  const names = new Map<string, string>();
  return (record, notes) => {
    for (const key of Object.keys(record)) {
      if (skipped.has(key)) continue;
      let name = names.get(key);
      if (name === undefined) {
        name = `${prefix}.${key}`;
        if (names.size < MAX_REMEMBERED_FIELD_NAMES) names.set(key, name);
      }
      notes.ignoreField(name);
    }
  };
}

/** Replaces anything shaped like a CPR number, so a server's error text can be logged safely (the service's one rule). */
export { redactCpr as scrubCpr } from '../../src/security/redact';
