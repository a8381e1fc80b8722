/**
 * The zod contract of the FHIR R4 resources the social and health adapters read and write.
 *
 * It checks what the mappings rely on — status codes, the subject, codings, dates — and lets every
 * other element through untouched (`looseObject`), because FHIR resources carry far more than we use
 * and a profile may add extensions at any level. Element names and value sets are FHIR R4's
 * (hl7.org/fhir/R4). `withServerMeta` adds what a server must send (id, meta.versionId,
 * meta.lastUpdated) for records we order and version; fixtures such as a KL Gateway delivery
 * report carry no meta, so the mapping contracts do not demand it.
 */
import { z } from 'zod';
import { CONDITION_CLINICAL_SYSTEM, CONDITION_VERIFICATION_SYSTEM } from './systems';

/** FHIR `id`: 1–64 characters of letters, digits, `-` and `.`. */
const FHIR_ID = /^[A-Za-z0-9\-.]{1,64}$/;
export const FhirId = z.string().regex(FHIR_ID, 'a FHIR id has 1–64 letters, digits, "-" or "."');

/** FHIR `instant`: a full timestamp with seconds and a zone. */
const FHIR_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
export const FhirInstant = z.string().regex(FHIR_INSTANT, 'a FHIR instant is a full timestamp with a zone');

/** FHIR `date`: YYYY, YYYY-MM or YYYY-MM-DD. */
const FHIR_DATE = /^\d{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?)?$/;
export const FhirDate = z.string().regex(FHIR_DATE, 'a FHIR date is YYYY, YYYY-MM or YYYY-MM-DD');

/** FHIR `dateTime`: a date, or a date with time (seconds required) and zone. */
const FHIR_DATE_TIME =
  /^\d{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01])(T([01]\d|2[0-3]):[0-5]\d:([0-5]\d|60)(\.\d+)?(Z|[+-]((0\d|1[0-3]):[0-5]\d|14:00)))?)?)?$/;
export const FhirDateTime = z.string().regex(FHIR_DATE_TIME, 'a FHIR dateTime is a date or a full timestamp with a zone');

/**
 * The data types every resource repeats (codings, references, identifiers, periods, meta), compiled
 * with `z.compile` (zod ≥ 4.5): a flat generated parser for the same schema — same output, and a
 * value the generated code rejects goes through zod's ordinary parser, so the issues (and the
 * quarantine reasons built from them) are the same too. A resource contract stays an ordinary
 * schema that runs these parts: compiled whole, a contract (extensions nest recursively, which
 * z.compile refuses, and every part is inlined at every use) would be hundreds of kilobytes of
 * generated code. Where code generation is not allowed (no `new Function`, e.g. Workers)
 * `z.compile` returns the schema unchanged.
 */
const compiledPart = <T extends z.ZodType>(schema: T): T => z.compile(schema);

export const Coding = compiledPart(z.looseObject({
  system: z.string().min(1).optional(),
  version: z.string().optional(),
  code: z.string().min(1).optional(),
  display: z.string().optional(),
}));
export type Coding = z.infer<typeof Coding>;

export const CodeableConcept = compiledPart(z.looseObject({
  coding: z.array(Coding).optional(),
  text: z.string().optional(),
}));
export type CodeableConcept = z.infer<typeof CodeableConcept>;

export const Period = compiledPart(z.looseObject({ start: FhirDateTime.optional(), end: FhirDateTime.optional() }));
export type Period = z.infer<typeof Period>;

export const Identifier = compiledPart(z.looseObject({
  use: z.enum(['usual', 'official', 'temp', 'secondary', 'old']).optional(),
  type: CodeableConcept.optional(),
  system: z.string().min(1).optional(),
  value: z.string().min(1).optional(),
  period: Period.optional(),
}));
export type Identifier = z.infer<typeof Identifier>;

export const Reference = compiledPart(z.looseObject({
  reference: z.string().min(1).optional(),
  type: z.string().optional(),
  identifier: Identifier.optional(),
  display: z.string().optional(),
}));
export type Reference = z.infer<typeof Reference>;

export const ContactPoint = compiledPart(z.looseObject({
  system: z.enum(['phone', 'fax', 'email', 'pager', 'url', 'sms', 'other']).optional(),
  value: z.string().optional(),
  use: z.enum(['home', 'work', 'temp', 'old', 'mobile']).optional(),
}));
export type ContactPoint = z.infer<typeof ContactPoint>;

export const Annotation = compiledPart(z.looseObject({ text: z.string() }));

/** An extension, possibly nested; only the value types we read are named. */
export type Extension = {
  url: string;
  extension?: Extension[];
  valueString?: string;
  valueIdentifier?: Identifier;
  valueCodeableConcept?: CodeableConcept;
  [key: string]: unknown;
};
export const Extension: z.ZodType<Extension> = z.lazy(() =>
  z.looseObject({
    url: z.string().min(1),
    extension: z.array(Extension).optional(),
    valueString: z.string().optional(),
    valueIdentifier: Identifier.optional(),
    valueCodeableConcept: CodeableConcept.optional(),
  }),
);

export const Meta = compiledPart(z.looseObject({
  versionId: z.string().min(1).optional(),
  lastUpdated: FhirInstant.optional(),
  profile: z.array(z.string()).optional(),
  tag: z.array(Coding).optional(),
}));
export type Meta = z.infer<typeof Meta>;

/**
 * A record contract with its fast check in front (see "Fast checks" at the end of this file): the
 * same schema (a clone, same definition), whose `safeParse` and `parse` return the record itself
 * when the hand-written check vouches for it, and otherwise let zod parse it — so zod alone
 * decides what is rejected, and its issues name the path in a quarantine reason.
 */
type FastCheck = (value: unknown, served: boolean) => boolean;
const fastChecks = new WeakMap<z.ZodType, FastCheck>();

function withFastCheck<S extends z.ZodObject<z.ZodRawShape>>(check: FastCheck, schema: S, served = false): S {
  const checked = schema.clone() as S;
  const safeParse: S['safeParse'] = (data, params) => (check(data, served) ? { success: true, data: data as z.output<S> } : schema.safeParse(data, params));
  const parse: S['parse'] = (data, params) => (check(data, served) ? (data as z.output<S>) : schema.parse(data, params));
  Object.assign(checked, { safeParse, parse });
  fastChecks.set(checked, check);
  return checked;
}

const base = {
  id: FhirId.optional(),
  meta: Meta.optional(),
  extension: z.array(Extension).optional(),
};

export const Patient = z.looseObject({
  resourceType: z.literal('Patient'),
  ...base,
  identifier: z.array(Identifier).optional(),
  active: z.boolean().optional(),
  name: z.array(z.looseObject({ family: z.string().optional(), given: z.array(z.string()).optional(), text: z.string().optional() })).optional(),
  gender: z.enum(['male', 'female', 'other', 'unknown']).optional(),
  birthDate: FhirDate.optional(),
  generalPractitioner: z.array(Reference).optional(),
  managingOrganization: Reference.optional(),
});
export type Patient = z.infer<typeof Patient>;

export const CarePlanActivityStatus = z.enum(['not-started', 'scheduled', 'in-progress', 'on-hold', 'completed', 'cancelled', 'stopped', 'unknown', 'entered-in-error']);

export const CarePlanActivity = z.looseObject({
  outcomeReference: z.array(Reference).optional(),
  reference: Reference.optional(),
  detail: z
    .looseObject({
      extension: z.array(Extension).optional(),
      kind: z.string().optional(),
      code: CodeableConcept.optional(),
      reasonCode: z.array(CodeableConcept).optional(),
      reasonReference: z.array(Reference).optional(),
      goal: z.array(Reference).optional(),
      status: CarePlanActivityStatus,
      scheduledPeriod: Period.optional(),
      performer: z.array(Reference).optional(),
      description: z.string().optional(),
    })
    .optional(),
});
export type CarePlanActivity = z.infer<typeof CarePlanActivity>;

export const CarePlan = withFastCheck(checkCarePlan, z.looseObject({
  resourceType: z.literal('CarePlan'),
  ...base,
  identifier: z.array(Identifier).optional(),
  basedOn: z.array(Reference).optional(),
  status: z.enum(['draft', 'active', 'on-hold', 'revoked', 'completed', 'entered-in-error', 'unknown']),
  intent: z.enum(['proposal', 'plan', 'order', 'option']),
  category: z.array(CodeableConcept).optional(),
  title: z.string().optional(),
  description: z.string().optional(),
  subject: Reference,
  period: Period.optional(),
  created: FhirDateTime.optional(),
  author: Reference.optional(),
  careTeam: z.array(Reference).optional(),
  addresses: z.array(Reference).optional(),
  goal: z.array(Reference).optional(),
  activity: z.array(CarePlanActivity).optional(),
  note: z.array(Annotation).optional(),
}));
export type CarePlan = z.infer<typeof CarePlan>;

export const GoalLifecycleStatus = z.enum(['proposed', 'planned', 'accepted', 'active', 'on-hold', 'completed', 'cancelled', 'entered-in-error', 'rejected']);

export const Goal = withFastCheck(checkGoal, z.looseObject({
  resourceType: z.literal('Goal'),
  ...base,
  identifier: z.array(Identifier).optional(),
  lifecycleStatus: GoalLifecycleStatus,
  achievementStatus: CodeableConcept.optional(),
  category: z.array(CodeableConcept).optional(),
  priority: CodeableConcept.optional(),
  description: CodeableConcept,
  subject: Reference,
  startDate: FhirDate.optional(),
  target: z
    .array(
      z.looseObject({
        measure: CodeableConcept.optional(),
        detailCodeableConcept: CodeableConcept.optional(),
        detailString: z.string().optional(),
        dueDate: FhirDate.optional(),
      }),
    )
    .optional(),
  statusDate: FhirDate.optional(),
  addresses: z.array(Reference).optional(),
  note: z.array(Annotation).optional(),
}));
export type Goal = z.infer<typeof Goal>;

/** FHIR R4's value set for Condition.clinicalStatus (system CONDITION_CLINICAL_SYSTEM). */
export const CONDITION_CLINICAL_CODES: ReadonlySet<string> = new Set(['active', 'recurrence', 'relapse', 'inactive', 'remission', 'resolved']);

/** FHIR R4's value set for Condition.verificationStatus (system CONDITION_VERIFICATION_SYSTEM). */
export const CONDITION_VERIFICATION_CODES: ReadonlySet<string> = new Set(['unconfirmed', 'provisional', 'differential', 'confirmed', 'refuted', 'entered-in-error']);

/** True when the concept is coded in `system` and every coding of that system has one of `codes`. */
const codedWithin = (system: string, codes: ReadonlySet<string>) => (concept: CodeableConcept): boolean => {
  let coded = false;
  for (const coding of concept.coding ?? []) {
    if (coding?.system !== system) continue;
    if (coding.code === undefined || !codes.has(coding.code)) return false;
    coded = true;
  }
  return coded;
};
const hasClinicalStatusCoding = codedWithin(CONDITION_CLINICAL_SYSTEM, CONDITION_CLINICAL_CODES);
const hasVerificationStatusCoding = codedWithin(CONDITION_VERIFICATION_SYSTEM, CONDITION_VERIFICATION_CODES);

/**
 * Both bindings are required, so a clinical and a verification status are coded in their FHIR
 * code systems, with one of their six codes each: a code outside the set has no meaning we could
 * map, and guessing one (current or not, confirmed or refuted) would put a wrong barrier in the
 * plan, or leave a right one out. Refused like an unknown status code, in the contract.
 */
const ClinicalStatus = CodeableConcept.refine(hasClinicalStatusCoding, {
  message: `not coded in ${CONDITION_CLINICAL_SYSTEM} with one of ${[...CONDITION_CLINICAL_CODES].join(', ')}`,
});
const VerificationStatus = CodeableConcept.refine(hasVerificationStatusCoding, {
  message: `not coded in ${CONDITION_VERIFICATION_SYSTEM} with one of ${[...CONDITION_VERIFICATION_CODES].join(', ')}`,
});

export const Condition = withFastCheck(checkCondition, z.looseObject({
  resourceType: z.literal('Condition'),
  ...base,
  clinicalStatus: ClinicalStatus.optional(),
  verificationStatus: VerificationStatus.optional(),
  category: z.array(CodeableConcept).optional(),
  severity: CodeableConcept.optional(),
  /** R4 makes it optional; a condition without a code tells the plan nothing, so we require it. */
  code: CodeableConcept,
  subject: Reference,
  recordedDate: FhirDateTime.optional(),
  note: z.array(Annotation).optional(),
}));
export type Condition = z.infer<typeof Condition>;

export const CareTeam = withFastCheck(checkCareTeam, z.looseObject({
  resourceType: z.literal('CareTeam'),
  ...base,
  status: z.enum(['proposed', 'active', 'suspended', 'inactive', 'entered-in-error']).optional(),
  category: z.array(CodeableConcept).optional(),
  name: z.string().optional(),
  subject: Reference,
  period: Period.optional(),
  participant: z
    .array(z.looseObject({ role: z.array(CodeableConcept).optional(), member: Reference.optional(), onBehalfOf: Reference.optional() }))
    .optional(),
  managingOrganization: z.array(Reference).optional(),
  telecom: z.array(ContactPoint).optional(),
  note: z.array(Annotation).optional(),
}));
export type CareTeam = z.infer<typeof CareTeam>;

export const Consent = withFastCheck(checkConsent, z.looseObject({
  resourceType: z.literal('Consent'),
  ...base,
  status: z.enum(['draft', 'proposed', 'active', 'rejected', 'inactive', 'entered-in-error']),
  scope: CodeableConcept,
  category: z.array(CodeableConcept).min(1),
  patient: Reference,
  dateTime: FhirDateTime.optional(),
  organization: z.array(Reference).optional(),
  provision: z
    .looseObject({
      type: z.enum(['deny', 'permit']).optional(),
      period: Period.optional(),
      actor: z.array(z.looseObject({ role: CodeableConcept, reference: Reference })).optional(),
      purpose: z.array(Coding).optional(),
    })
    .optional(),
}));
export type Consent = z.infer<typeof Consent>;

export const ServiceRequest = z.looseObject({
  resourceType: z.literal('ServiceRequest'),
  ...base,
  identifier: z.array(Identifier).optional(),
  status: z.enum(['draft', 'active', 'on-hold', 'revoked', 'completed', 'entered-in-error', 'unknown']),
  intent: z.enum(['proposal', 'plan', 'directive', 'order', 'original-order', 'reflex-order', 'filler-order', 'instance-order', 'option']),
  category: z.array(CodeableConcept).optional(),
  code: CodeableConcept.optional(),
  subject: Reference,
  occurrencePeriod: Period.optional(),
  authoredOn: FhirDateTime.optional(),
  requester: Reference.optional(),
  performer: z.array(Reference).optional(),
  reasonCode: z.array(CodeableConcept).optional(),
  note: z.array(Annotation).optional(),
});
export type ServiceRequest = z.infer<typeof ServiceRequest>;

export const Encounter = z.looseObject({
  resourceType: z.literal('Encounter'),
  ...base,
  status: z.enum(['planned', 'arrived', 'triaged', 'in-progress', 'onleave', 'finished', 'cancelled', 'entered-in-error', 'unknown']),
  class: Coding,
  type: z.array(CodeableConcept).optional(),
  subject: Reference.optional(),
  period: Period.optional(),
  reasonReference: z.array(Reference).optional(),
});
export type Encounter = z.infer<typeof Encounter>;

/** Any resource: only its type is checked; the entry's own contract checks the rest. */
export const AnyResource = z.looseObject({ resourceType: z.string().min(1), id: z.string().optional() });

export const BundleLink = z.looseObject({ relation: z.string().min(1), url: z.string().min(1) });

export const Bundle = z.looseObject({
  resourceType: z.literal('Bundle'),
  id: z.string().optional(),
  meta: Meta.optional(),
  type: z.enum(['document', 'message', 'transaction', 'transaction-response', 'batch', 'batch-response', 'history', 'searchset', 'collection']),
  timestamp: FhirInstant.optional(),
  total: z.number().int().nonnegative().optional(),
  link: z.array(BundleLink).optional(),
  entry: z
    .array(
      z.looseObject({
        fullUrl: z.string().optional(),
        /** Kept as unknown so one bad entry is quarantined on its own instead of failing the page. */
        resource: z.unknown().optional(),
        search: z.looseObject({ mode: z.enum(['match', 'include', 'outcome']).optional() }).optional(),
      }),
    )
    .optional(),
});
export type Bundle = z.infer<typeof Bundle>;

export const OperationOutcome = z.looseObject({
  resourceType: z.literal('OperationOutcome'),
  issue: z.array(
    z.looseObject({
      severity: z.enum(['fatal', 'error', 'warning', 'information']),
      code: z.string(),
      diagnostics: z.string().optional(),
      details: CodeableConcept.optional(),
    }),
  ),
});
export type OperationOutcome = z.infer<typeof OperationOutcome>;

export const CapabilityStatement = z.looseObject({
  resourceType: z.literal('CapabilityStatement'),
  status: z.string(),
  fhirVersion: z.string(),
  format: z.array(z.string()),
  software: z.looseObject({ name: z.string(), version: z.string().optional() }).optional(),
  rest: z
    .array(
      z.looseObject({
        mode: z.enum(['client', 'server']),
        resource: z.array(z.looseObject({ type: z.string(), interaction: z.array(z.looseObject({ code: z.string() })).optional() })).optional(),
        /** Whole-system interactions (`history-system`, `search-system`, `batch` …). */
        interaction: z.array(z.looseObject({ code: z.string() })).optional(),
      }),
    )
    .optional(),
});
export type CapabilityStatement = z.infer<typeof CapabilityStatement>;

/** What a FHIR server must add to every resource it serves: its id and version metadata. */
const ServerMeta = z.looseObject({
  versionId: z.string().min(1),
  lastUpdated: FhirInstant,
  profile: z.array(z.string()).optional(),
  tag: z.array(Coding).optional(),
});

/**
 * The same contract, for a resource as a server serves it (id, versionId and lastUpdated present);
 * a record contract keeps its fast check, now demanding the server's metadata too.
 */
export function withServerMeta<Shape extends z.ZodRawShape>(schema: z.ZodObject<Shape>) {
  const served = schema.extend({ id: FhirId, meta: ServerMeta });
  const check = fastChecks.get(schema);
  return check ? withFastCheck(check, served, true) : served;
}

export const contracts = { Patient, CarePlan, Goal, Condition, CareTeam, Consent, ServiceRequest, Encounter } as const;
export type ContractType = keyof typeof contracts;

// ---------------------------------------------------------------------------------------------
// Fast checks
//
// zod parses a record node by node, building a copy of it; for a FHIR record that costs about as
// much as JSON.parse of its text, once per record on every sync. These hand-written checks answer
// the same question for the record contracts above — is the record valid? — by reading it in
// place, so a valid record is handed on as it is (deep-equal to zod's copy; keys in the order the
// server sent them). They mirror the schemas field by field and take their value sets and
// patterns from them. A check that says no costs nothing but time: zod then parses the record and
// decides. test/adapters/fhir-fast-checks.test.ts holds every check against zod on generated
// records and on mutations of every field the schemas declare, so a schema changed without its
// check fails there.
//
// Only plain JSON data is vouched for: objects whose prototype is Object's (an own `__proto__` key,
// which zod drops from its copy, goes to zod), arrays without holes, and extensions nested at most
// MAX_EXTENSION_DEPTH deep (a cyclic value goes to zod, too).

type Json = Record<string, unknown>;

/** A node's value set (an optional's includes undefined), from the schema. */
const valuesOf = (schema: z.core.$ZodType): ReadonlySet<unknown> => {
  const values = schema._zod.values;
  if (!values) throw new Error('valuesOf: not an enum or literal schema');
  return values;
};
const shapeOf = (schema: z.core.$ZodType) => (schema as unknown as z.ZodObject<z.ZodRawShape>).shape;
const innerOf = (schema: z.core.$ZodType) => (schema as unknown as z.ZodOptional<z.ZodType>).unwrap();

function isRecord(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === Object.prototype && !Object.hasOwn(value, '__proto__');
}

const isString = (value: unknown): value is string => typeof value === 'string';
/** `z.string().min(1)`: one UTF-16 unit is at least one code point. */
const isText = (value: unknown): value is string => typeof value === 'string' && value.length > 0;
const optionalString = (value: unknown) => value === undefined || typeof value === 'string';
const optionalText = (value: unknown) => value === undefined || isText(value);

// The FHIR formats, read character by character: what FHIR_ID, FHIR_INSTANT, FHIR_DATE and
// FHIR_DATE_TIME match, exactly (test/adapters/fhir-fast-checks.test.ts holds them against the
// patterns) — a regular expression costs a call into the RegExp machinery for every date of every record.

const isDigitCode = (c: number) => c >= 48 && c <= 57;
/** `count` digits from `at`. */
function digitsAt(text: string, at: number, count: number): boolean {
  for (let i = at; i < at + count; i++) if (!isDigitCode(text.charCodeAt(i))) return false;
  return true;
}
/** `(0[1-9]|1[0-2])` at `at`. */
function monthAt(text: string, at: number): boolean {
  const a = text.charCodeAt(at);
  const b = text.charCodeAt(at + 1);
  return (a === 48 && b >= 49 && b <= 57) || (a === 49 && b >= 48 && b <= 50);
}
/** `(0[1-9]|[12]\d|3[01])` at `at`. */
function dayAt(text: string, at: number): boolean {
  const a = text.charCodeAt(at);
  const b = text.charCodeAt(at + 1);
  return (a === 48 && b >= 49 && b <= 57) || ((a === 49 || a === 50) && isDigitCode(b)) || (a === 51 && (b === 48 || b === 49));
}
/** A digit in 0..`max` at `at`, then any digit in 0..`maxSecond` (`[0-5]\d`: 5, 9). */
function twoDigitsAt(text: string, at: number, max: number, maxSecond: number): boolean {
  const a = text.charCodeAt(at) - 48;
  const b = text.charCodeAt(at + 1) - 48;
  return a >= 0 && a <= max && b >= 0 && b <= maxSecond;
}
/** `\.\d+` from `at` (one or more digits), or nothing: where the fraction ends, or -1 for a dot without digits. */
function fractionEnd(text: string, at: number): number {
  if (text.charCodeAt(at) !== 46) return at;
  let end = at + 1;
  while (end < text.length && isDigitCode(text.charCodeAt(end))) end++;
  return end === at + 1 ? -1 : end;
}

/** The characters of a FHIR id, by character code below 128: A–Z, a–z, 0–9, `-` and `.`. */
const FHIR_ID_CHARS = new Uint8Array(128);
for (let c = 0; c < 128; c++) FHIR_ID_CHARS[c] = (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 45 || c === 46 ? 1 : 0;

/** FHIR_ID: 1–64 of A–Z, a–z, 0–9, `-` and `.` (one table look per character). */
function isFhirId(value: unknown): boolean {
  if (typeof value !== 'string' || value.length === 0 || value.length > 64) return false;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c >= 128 || FHIR_ID_CHARS[c] === 0) return false;
  }
  return true;
}

/** FHIR_INSTANT: `\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}`, an optional fraction, then `Z` or `[+-]\d{2}:\d{2}`. */
function isFhirInstant(value: unknown): boolean {
  if (typeof value !== 'string' || value.length < 20) return false;
  if (!(digitsAt(value, 0, 4) && value.charCodeAt(4) === 45 && digitsAt(value, 5, 2) && value.charCodeAt(7) === 45 && digitsAt(value, 8, 2))) return false;
  if (!(value.charCodeAt(10) === 84 && digitsAt(value, 11, 2) && value.charCodeAt(13) === 58 && digitsAt(value, 14, 2) && value.charCodeAt(16) === 58 && digitsAt(value, 17, 2))) return false;
  const zone = fractionEnd(value, 19);
  if (zone < 0) return false;
  const sign = value.charCodeAt(zone);
  if (sign === 90) return zone + 1 === value.length;
  return (sign === 43 || sign === 45) && zone + 6 === value.length && digitsAt(value, zone + 1, 2) && value.charCodeAt(zone + 3) === 58 && digitsAt(value, zone + 4, 2);
}

/** FHIR_DATE: YYYY, YYYY-MM or YYYY-MM-DD (month 01–12, day 01–31). */
function isFhirDate(value: unknown): boolean {
  if (typeof value !== 'string') return false;
  const length = value.length;
  return (length === 4 || length === 7 || length === 10) && isFhirDateOf(value, length);
}

/** The first `length` (4, 7 or 10) characters of `text` as a FHIR date (no substring made). */
function isFhirDateOf(text: string, length: number): boolean {
  if (!digitsAt(text, 0, 4)) return false;
  if (length === 4) return true;
  if (text.charCodeAt(4) !== 45 || !monthAt(text, 5)) return false;
  return length === 7 || (text.charCodeAt(7) === 45 && dayAt(text, 8));
}

/**
 * FHIR_DATE_TIME: a FHIR date, or YYYY-MM-DD then `T`, hours 00–23, minutes 00–59, seconds 00–60, an
 * optional fraction, and `Z` or an offset `[+-]` (00–13:00–59 or 14:00).
 */
function isFhirDateTime(value: unknown): boolean {
  if (typeof value !== 'string') return false;
  if (value.length <= 10) return isFhirDate(value);
  if (!(isFhirDateOf(value, 10) && value.charCodeAt(10) === 84)) return false;
  if (!(twoDigitsAt(value, 11, 2, 9) && (value.charCodeAt(11) !== 50 || value.charCodeAt(12) <= 51))) return false;
  if (!(value.charCodeAt(13) === 58 && twoDigitsAt(value, 14, 5, 9) && value.charCodeAt(16) === 58)) return false;
  // Seconds 00–59, or 60 (a leap second).
  if (!(twoDigitsAt(value, 17, 5, 9) || (value.charCodeAt(17) === 54 && value.charCodeAt(18) === 48))) return false;
  const zone = fractionEnd(value, 19);
  if (zone < 0) return false;
  const sign = value.charCodeAt(zone);
  if (sign === 90) return zone + 1 === value.length;
  if (!((sign === 43 || sign === 45) && zone + 6 === value.length && value.charCodeAt(zone + 3) === 58)) return false;
  const h1 = value.charCodeAt(zone + 1);
  const h2 = value.charCodeAt(zone + 2);
  // (0\d|1[0-3]):[0-5]\d, or 14:00.
  if ((h1 === 48 && isDigitCode(h2)) || (h1 === 49 && h2 >= 48 && h2 <= 51)) return twoDigitsAt(value, zone + 4, 5, 9);
  return h1 === 49 && h2 === 52 && value.charCodeAt(zone + 4) === 48 && value.charCodeAt(zone + 5) === 48;
}

/** For the tests: the format checks, to hold against the patterns. */
export const fhirFormatChecks = { isFhirId, isFhirInstant, isFhirDate, isFhirDateTime };

const optionalDateTime = (value: unknown) => value === undefined || isFhirDateTime(value);
const optionalDate = (value: unknown) => value === undefined || isFhirDate(value);

/** `z.array(item)` (undefined allowed when optional): every element, a hole counting as undefined. */
function isListOf(value: unknown, item: (element: unknown) => boolean, optional: boolean): boolean {
  if (value === undefined) return optional;
  if (!Array.isArray(value)) return false;
  for (let i = 0; i < value.length; i++) if (!item(value[i])) return false;
  return true;
}

function isCoding(value: unknown): boolean {
  return isRecord(value) && optionalText(value.system) && optionalString(value.version) && optionalText(value.code) && optionalString(value.display);
}
const isCodingList = (value: unknown) => isListOf(value, isCoding, true);

function isCodeableConcept(value: unknown): boolean {
  return isRecord(value) && isCodingList(value.coding) && optionalString(value.text);
}
const optionalConcept = (value: unknown) => value === undefined || isCodeableConcept(value);
const isConceptList = (value: unknown) => isListOf(value, isCodeableConcept, true);

function isPeriod(value: unknown): boolean {
  return isRecord(value) && optionalDateTime(value.start) && optionalDateTime(value.end);
}
const optionalPeriod = (value: unknown) => value === undefined || isPeriod(value);

const identifierUses = valuesOf(shapeOf(Identifier).use!);
function isIdentifier(value: unknown): boolean {
  return (
    isRecord(value) &&
    identifierUses.has(value.use) &&
    optionalConcept(value.type) &&
    optionalText(value.system) &&
    optionalText(value.value) &&
    optionalPeriod(value.period)
  );
}
const optionalIdentifier = (value: unknown) => value === undefined || isIdentifier(value);

function isReference(value: unknown): boolean {
  return isRecord(value) && optionalText(value.reference) && optionalString(value.type) && optionalIdentifier(value.identifier) && optionalString(value.display);
}
const optionalReference = (value: unknown) => value === undefined || isReference(value);
const isReferenceList = (value: unknown) => isListOf(value, isReference, true);

const contactSystems = valuesOf(shapeOf(ContactPoint).system!);
const contactUses = valuesOf(shapeOf(ContactPoint).use!);
function isContactPoint(value: unknown): boolean {
  return isRecord(value) && contactSystems.has(value.system) && optionalString(value.value) && contactUses.has(value.use);
}

function isAnnotation(value: unknown): boolean {
  return isRecord(value) && isString(value.text);
}
const isAnnotationList = (value: unknown) => isListOf(value, isAnnotation, true);

const MAX_EXTENSION_DEPTH = 16;
function isExtension(value: unknown, depth: number): boolean {
  if (!isRecord(value) || !isText(value.url) || depth >= MAX_EXTENSION_DEPTH) return false;
  const nested = value.extension;
  if (nested !== undefined) {
    if (!Array.isArray(nested)) return false;
    for (let i = 0; i < nested.length; i++) if (!isExtension(nested[i], depth + 1)) return false;
  }
  return optionalString(value.valueString) && optionalIdentifier(value.valueIdentifier) && optionalConcept(value.valueCodeableConcept);
}
const isTopExtension = (value: unknown) => isExtension(value, 0);
const isExtensionList = (value: unknown) => isListOf(value, isTopExtension, true);

const isStringList = (value: unknown) => isListOf(value, isString, true);

/** `Meta`, or the server's (versionId and lastUpdated required). */
function isMeta(value: unknown, served: boolean): boolean {
  if (!isRecord(value)) return false;
  const { versionId, lastUpdated } = value;
  return (
    (served ? isText(versionId) : optionalText(versionId)) &&
    (served ? isFhirInstant(lastUpdated) : lastUpdated === undefined || isFhirInstant(lastUpdated)) &&
    isStringList(value.profile) &&
    isCodingList(value.tag)
  );
}

/** `base` (id, meta, extension), or a served resource's (id and meta required). */
function hasBase(value: Json, resourceType: string, served: boolean): boolean {
  const { id, meta } = value;
  return (
    value.resourceType === resourceType &&
    (served ? isFhirId(id) : id === undefined || isFhirId(id)) &&
    (served ? isMeta(meta, true) : meta === undefined || isMeta(meta, false)) &&
    isExtensionList(value.extension)
  );
}

const carePlanShape = shapeOf(CarePlan);
const carePlanStatuses = valuesOf(carePlanShape.status!);
const carePlanIntents = valuesOf(carePlanShape.intent!);
const activityStatuses = valuesOf(CarePlanActivityStatus);

function isActivityDetail(value: unknown): boolean {
  return (
    isRecord(value) &&
    isExtensionList(value.extension) &&
    optionalString(value.kind) &&
    optionalConcept(value.code) &&
    isConceptList(value.reasonCode) &&
    isReferenceList(value.reasonReference) &&
    isReferenceList(value.goal) &&
    activityStatuses.has(value.status) &&
    optionalPeriod(value.scheduledPeriod) &&
    isReferenceList(value.performer) &&
    optionalString(value.description)
  );
}

function isActivity(value: unknown): boolean {
  return isRecord(value) && isReferenceList(value.outcomeReference) && optionalReference(value.reference) && (value.detail === undefined || isActivityDetail(value.detail));
}

function checkCarePlan(value: unknown, served: boolean): boolean {
  return (
    isRecord(value) &&
    hasBase(value, 'CarePlan', served) &&
    isListOf(value.identifier, isIdentifier, true) &&
    isReferenceList(value.basedOn) &&
    carePlanStatuses.has(value.status) &&
    carePlanIntents.has(value.intent) &&
    isConceptList(value.category) &&
    optionalString(value.title) &&
    optionalString(value.description) &&
    isReference(value.subject) &&
    optionalPeriod(value.period) &&
    optionalDateTime(value.created) &&
    optionalReference(value.author) &&
    isReferenceList(value.careTeam) &&
    isReferenceList(value.addresses) &&
    isReferenceList(value.goal) &&
    isListOf(value.activity, isActivity, true) &&
    isAnnotationList(value.note)
  );
}

const goalStatuses = valuesOf(GoalLifecycleStatus);

function isGoalTarget(value: unknown): boolean {
  return (
    isRecord(value) &&
    optionalConcept(value.measure) &&
    optionalConcept(value.detailCodeableConcept) &&
    optionalString(value.detailString) &&
    optionalDate(value.dueDate)
  );
}

function checkGoal(value: unknown, served: boolean): boolean {
  return (
    isRecord(value) &&
    hasBase(value, 'Goal', served) &&
    isListOf(value.identifier, isIdentifier, true) &&
    goalStatuses.has(value.lifecycleStatus) &&
    optionalConcept(value.achievementStatus) &&
    isConceptList(value.category) &&
    optionalConcept(value.priority) &&
    isCodeableConcept(value.description) &&
    isReference(value.subject) &&
    optionalDate(value.startDate) &&
    isListOf(value.target, isGoalTarget, true) &&
    optionalDate(value.statusDate) &&
    isReferenceList(value.addresses) &&
    isAnnotationList(value.note)
  );
}

function checkCondition(value: unknown, served: boolean): boolean {
  return (
    isRecord(value) &&
    hasBase(value, 'Condition', served) &&
    (value.clinicalStatus === undefined || (isCodeableConcept(value.clinicalStatus) && hasClinicalStatusCoding(value.clinicalStatus as CodeableConcept))) &&
    (value.verificationStatus === undefined || (isCodeableConcept(value.verificationStatus) && hasVerificationStatusCoding(value.verificationStatus as CodeableConcept))) &&
    isConceptList(value.category) &&
    optionalConcept(value.severity) &&
    isCodeableConcept(value.code) &&
    isReference(value.subject) &&
    optionalDateTime(value.recordedDate) &&
    isAnnotationList(value.note)
  );
}

const careTeamStatuses = valuesOf(shapeOf(CareTeam).status!);

function isParticipant(value: unknown): boolean {
  return isRecord(value) && isConceptList(value.role) && optionalReference(value.member) && optionalReference(value.onBehalfOf);
}

function checkCareTeam(value: unknown, served: boolean): boolean {
  return (
    isRecord(value) &&
    hasBase(value, 'CareTeam', served) &&
    careTeamStatuses.has(value.status) &&
    isConceptList(value.category) &&
    optionalString(value.name) &&
    isReference(value.subject) &&
    optionalPeriod(value.period) &&
    isListOf(value.participant, isParticipant, true) &&
    isReferenceList(value.managingOrganization) &&
    isListOf(value.telecom, isContactPoint, true) &&
    isAnnotationList(value.note)
  );
}

const consentShape = shapeOf(Consent);
const consentStatuses = valuesOf(consentShape.status!);
const provisionTypes = valuesOf(shapeOf(innerOf(consentShape.provision!)).type!);

function isProvisionActor(value: unknown): boolean {
  return isRecord(value) && isCodeableConcept(value.role) && isReference(value.reference);
}

function isProvision(value: unknown): boolean {
  return (
    isRecord(value) &&
    provisionTypes.has(value.type) &&
    optionalPeriod(value.period) &&
    isListOf(value.actor, isProvisionActor, true) &&
    isCodingList(value.purpose)
  );
}

function checkConsent(value: unknown, served: boolean): boolean {
  return (
    isRecord(value) &&
    hasBase(value, 'Consent', served) &&
    consentStatuses.has(value.status) &&
    isCodeableConcept(value.scope) &&
    Array.isArray(value.category) &&
    value.category.length >= 1 &&
    isConceptList(value.category) &&
    isReference(value.patient) &&
    optionalDateTime(value.dateTime) &&
    isReferenceList(value.organization) &&
    (value.provision === undefined || isProvision(value.provision))
  );
}
