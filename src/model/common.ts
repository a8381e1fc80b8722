/** Small shared value types of the Én plan model. */
import { z } from 'zod';

export const Id = z.string().min(1).max(128);
/** Words people read (a title, a unit, a name): not empty and not blank — FHIR too asks strings to hold non-whitespace content. */
export const Text = z.string().regex(/\S/, 'must not be blank');
export const IsoDate = z.iso.date();
export const IsoDateTime = z.iso.datetime({ offset: true });

/** A municipality code (kommunekode): three digits, e.g. 101 København, 751 Aarhus. */
export const MunicipalityCode = z.string().regex(/^\d{3}$/, 'a kommunekode has three digits');

/** The sectors a plan element can belong to; decisions and complaint routes stay per sector (R3). */
export const Sector = z.enum(['employment', 'education', 'social', 'children', 'health', 'integration']);
export type Sector = z.infer<typeof Sector>;

/** The sector systems we integrate with, plus the Én plan layer itself. */
export const SourceSystem = z.enum(['dfdg', 'education', 'social', 'health']);
export type SourceSystem = z.infer<typeof SourceSystem>;

/** A code with the code system it comes from (FSIII, FFB, DFDG activation types …). */
export const Coding = z.object({
  system: Text,
  code: Text,
  display: z.string().optional(),
});
export type Coding = z.infer<typeof Coding>;

export const Contact = z.object({
  name: Text,
  unit: Text.optional(),
  phone: z.string().optional(),
  email: z.email().optional(),
});
export type Contact = z.infer<typeof Contact>;

export const Period = z
  .object({ start: IsoDate, end: IsoDate.optional() })
  .refine((p) => !p.end || p.end >= p.start, { message: 'a period cannot end before it starts', path: ['end'] });
export type Period = z.infer<typeof Period>;

/**
 * Legal basis of an element, e.g. "SEL §85", "LAB §41", "Barnets lov §32", "KUI §2 a".
 * Free text by design: the list of laws moves (R25); a rule set can still check the prefix.
 */
export const LegalBasis = z.string().trim().min(2).max(120);

/** Topic tags that the sector completeness rules (R2) look for, e.g. "job-goal". */
export const Topic = z.string().regex(/^[a-z0-9-]+$/);
