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

/** FHIR `id`: 1–64 characters of letters, digits, `-` and `.`. */
export const FhirId = z.string().regex(/^[A-Za-z0-9\-.]{1,64}$/, 'a FHIR id has 1–64 letters, digits, "-" or "."');

/** FHIR `instant`: a full timestamp with seconds and a zone. */
export const FhirInstant = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/, 'a FHIR instant is a full timestamp with a zone');

/** FHIR `date`: YYYY, YYYY-MM or YYYY-MM-DD. */
export const FhirDate = z.string().regex(/^\d{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?)?$/, 'a FHIR date is YYYY, YYYY-MM or YYYY-MM-DD');

/** FHIR `dateTime`: a date, or a date with time (seconds required) and zone. */
export const FhirDateTime = z
  .string()
  .regex(
    /^\d{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01])(T([01]\d|2[0-3]):[0-5]\d:([0-5]\d|60)(\.\d+)?(Z|[+-]((0\d|1[0-3]):[0-5]\d|14:00)))?)?)?$/,
    'a FHIR dateTime is a date or a full timestamp with a zone',
  );

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

export const CarePlan = z.looseObject({
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
});
export type CarePlan = z.infer<typeof CarePlan>;

export const GoalLifecycleStatus = z.enum(['proposed', 'planned', 'accepted', 'active', 'on-hold', 'completed', 'cancelled', 'entered-in-error', 'rejected']);

export const Goal = z.looseObject({
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
});
export type Goal = z.infer<typeof Goal>;

export const Condition = z.looseObject({
  resourceType: z.literal('Condition'),
  ...base,
  clinicalStatus: CodeableConcept.optional(),
  verificationStatus: CodeableConcept.optional(),
  category: z.array(CodeableConcept).optional(),
  severity: CodeableConcept.optional(),
  /** R4 makes it optional; a condition without a code tells the plan nothing, so we require it. */
  code: CodeableConcept,
  subject: Reference,
  recordedDate: FhirDateTime.optional(),
  note: z.array(Annotation).optional(),
});
export type Condition = z.infer<typeof Condition>;

export const CareTeam = z.looseObject({
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
});
export type CareTeam = z.infer<typeof CareTeam>;

export const Consent = z.looseObject({
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
});
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

/** The same contract, for a resource as a server serves it (id, versionId and lastUpdated present). */
export function withServerMeta<Shape extends z.ZodRawShape>(schema: z.ZodObject<Shape>) {
  return schema.extend({ id: FhirId, meta: ServerMeta });
}

export const contracts = { Patient, CarePlan, Goal, Condition, CareTeam, Consent, ServiceRequest, Encounter } as const;
export type ContractType = keyof typeof contracts;
