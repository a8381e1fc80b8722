/** Where a plan element came from: a source record through a mapping, or a registration by an actor. */
import { z } from 'zod';
import { Id, IsoDateTime, SourceSystem } from './common';
import { DataCategory, Department } from './consent';

export const SourceProvenance = z.object({
  kind: z.literal('source'),
  system: SourceSystem,
  recordId: z.string().min(1),
  recordVersion: z.string().min(1),
  mappingId: z.string().min(1),
  mappingVersion: z.string().regex(/^\d+\.\d+\.\d+$/, 'a semantic version'),
  at: IsoDateTime,
  /** The consent grant (or legal-basis record) the data flowed on; revoking it removes the element (R10). */
  consentRef: Id.optional(),
  /** The data category it flowed as; needed to re-decide the flow when a grant is revoked. */
  category: DataCategory.optional(),
  /**
   * The departments this entry may be shown to, when the citizen's consent names departments
   * rather than the Én plan as a whole (R9); absent: every party of the plan.
   */
  audience: z.array(Department).min(1).optional(),
  /** Where several records of one system describe this element: the record's place among them (see `Fragment.sequence`). */
  sequence: z.string().min(1).max(64).optional(),
  /**
   * On an element more than one writer describes: a short digest of each content field as this
   * record last reported it, so a later report of the record says which fields the source itself
   * changed — its own wording of the rest (codes, formatting) is neither a change nor a conflict.
   */
  seen: z
    .record(z.string().max(64), z.string().max(16))
    .refine((digests) => Object.keys(digests).length <= 40, 'at most 40 fields')
    .optional(),
});

export const RegistrationProvenance = z.object({
  kind: z.literal('registration'),
  registrationId: Id,
  actor: z.string().min(1),
  at: IsoDateTime,
});

export const Provenance = z.discriminatedUnion('kind', [SourceProvenance, RegistrationProvenance]);
export type Provenance = z.infer<typeof Provenance>;

/**
 * The departments alone an element's content may be shown to (R9, decision 0026): those of its latest
 * entry from a source. A caseworker's registration after it (new hours, a status) does not lift it:
 * the rest of the content is still what consent gave those departments alone.
 */
export function audienceOf(provenance: readonly Provenance[]): readonly string[] | undefined {
  for (let i = provenance.length - 1; i >= 0; i--) {
    const entry = provenance[i]!;
    if (entry.kind === 'source') return entry.audience;
  }
  return undefined;
}

/** Every element carries at least one provenance; the same fact from two systems carries two. */
export const Provenances = z.array(Provenance).min(1, 'every plan element needs its provenance');

/** The rule-set version that applied when the element was made (R25). */
export const RuleVersion = z.string().min(1);
