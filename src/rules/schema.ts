/**
 * The law is dated data (R25): every rule carries its legal reference, the source it was read in,
 * how well it is verified, and the period it is in force. Rules are evaluated for a given date.
 */
import { z } from 'zod';
import { IsoDate, Sector, SectorPlanType } from '../model';

export const Verification = z.enum(['verified', 'partly-verified', 'unverified']);

export const Validity = z.object({
  effectiveFrom: IsoDate,
  effectiveTo: IsoDate.optional(),
});

/** One required element: which plan part must exist, narrowed by sector, goal level or topic. */
export const RequiredElement = z.object({
  id: z.string().regex(/^[a-z0-9-]+$/),
  label: z.string().min(1),
  legalReference: z.string().min(1),
  element: z.enum(['purpose', 'situation', 'citizenViews', 'goal', 'intervention', 'agreement', 'followUp', 'coordinator', 'timeFrame']),
  where: z
    .object({
      sector: z.array(Sector).optional(),
      goalLevel: z.array(z.enum(['overall', 'sub', 'progression'])).optional(),
      topic: z.array(z.string()).optional(),
    })
    .optional(),
});
export type RequiredElement = z.infer<typeof RequiredElement>;

export const SectorPlanRule = Validity.extend({
  planType: SectorPlanType,
  version: z.string().min(1),
  name: z.string().min(1),
  legalReference: z.string().min(1),
  /** Whether, and on what basis, an Én plan may replace it; otherwise it can only be framed. */
  replaceable: z.boolean(),
  replacementBasis: z.string().optional(),
  consentFrom: z.array(z.string()).default([]),
  source: z.string().min(1),
  verification: Verification,
  requires: z.array(RequiredElement).min(1),
});
export type SectorPlanRule = z.infer<typeof SectorPlanRule>;

export function inForce(rule: z.infer<typeof Validity>, onDate: string): boolean {
  return rule.effectiveFrom <= onDate && (!rule.effectiveTo || onDate < rule.effectiveTo);
}
