/**
 * Consent (R9–R11, R15): graduated grants per source → recipient and data category, plus the
 * record of a legal basis other than consent, which the citizen must be told about.
 */
import { z } from 'zod';
import { Id, IsoDate, IsoDateTime, SourceSystem } from './common';

/** What kind of data flows. Health data needs explicit consent (Sundhedsloven §43). */
export const DataCategory = z.enum([
  'plan-core',
  'goals',
  'interventions',
  'employment',
  'education',
  'social',
  'health',
  'family',
]);
export type DataCategory = z.infer<typeof DataCategory>;

/** A sector department of the municipality: a party of the plan a consent can name on its own (R9). */
export const Department = z.enum(['employment', 'education', 'social', 'children', 'health', 'integration']);
export type Department = z.infer<typeof Department>;

/**
 * The party data flows to: the Én plan itself (every party of the plan in the municipality), one
 * sector department of the tenant, an external provider (`provider:<id>`) or another municipality
 * (`municipality:<kommunekode>`).
 */
export const Recipient = z.union([
  z.enum(['enplan', ...Department.options]),
  z.string().regex(/^provider:[A-Za-z0-9._-]+$/),
  z.string().regex(/^municipality:\d{3}$/),
]);
export type Recipient = z.infer<typeof Recipient>;

/** A source of data: a sector system, or the Én plan (for flows out through registrations). */
export const ConsentSource = z.union([SourceSystem, z.literal('enplan')]);
export type ConsentSource = z.infer<typeof ConsentSource>;

/** How and in what form the citizen gave consent: the text version and language they saw (R15). */
export const Signature = z.object({
  method: z.enum(['written', 'digital', 'mitid', 'oral-recorded']),
  documentRef: z.string().min(1),
  textVersion: z.string().min(1),
  language: z.string().regex(/^[a-z]{2,3}(-[A-Za-z0-9]+)*$/),
});

export const ConsentGrant = z
  .object({
    id: Id,
    tenant: z.string().regex(/^\d{3}$/),
    citizenId: Id,
    /** Who gave it: the citizen, or a custody holder for a child (Barnets lov). */
    grantedBy: z.object({ citizenId: Id, capacity: z.enum(['self', 'custody-holder', 'guardian']) }),
    source: ConsentSource,
    recipient: Recipient,
    categories: z.array(DataCategory).min(1),
    /** Explicit consent to health data; without it health never flows. */
    explicitHealth: z.boolean().default(false),
    purpose: z.string().min(1),
    validFrom: IsoDate,
    validTo: IsoDate.optional(),
    signed: Signature,
    createdAt: IsoDateTime,
    revokedAt: IsoDateTime.optional(),
    revokedBy: z.string().optional(),
  })
  .refine((g) => !g.categories.includes('health') || g.explicitHealth, {
    message: 'health data needs explicit consent (Sundhedsloven §43)',
    path: ['explicitHealth'],
  })
  .refine((g) => !g.validTo || g.validTo >= g.validFrom, { message: 'a grant cannot end before it starts', path: ['validTo'] });
export type ConsentGrant = z.infer<typeof ConsentGrant>;

/** A flow on a legal basis other than consent (R11): the basis is recorded and the citizen told. */
export const LegalBasisRecord = z.object({
  id: Id,
  tenant: z.string().regex(/^\d{3}$/),
  citizenId: Id,
  source: ConsentSource,
  recipient: Recipient,
  categories: z.array(DataCategory).min(1),
  basis: z.string().min(2),
  recordedBy: z.string().min(1),
  recordedAt: IsoDateTime,
  validTo: IsoDate.optional(),
  citizenInformed: z.boolean(),
  informedAt: IsoDateTime.optional(),
  /** The municipality ended it (the basis no longer applies): nothing more flows on it, and what rests on it alone leaves the plans. */
  endedAt: IsoDateTime.optional(),
  endedBy: z.string().min(1).optional(),
  endReason: z.string().trim().min(1).max(500).optional(),
});
export type LegalBasisRecord = z.infer<typeof LegalBasisRecord>;
