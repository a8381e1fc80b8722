/**
 * The law is dated data (R25): every rule carries its legal reference, the source it was read in,
 * how well it is verified, and the period it is in force. Rules are evaluated for a given date.
 */
import { z } from 'zod';
import { FamilyRole, IsoDate, Sector, SectorPlanType } from '../model';

export const Verification = z.enum(['verified', 'partly-verified', 'unverified']);

export const Validity = z.object({
  effectiveFrom: IsoDate,
  effectiveTo: IsoDate.optional(),
});

/**
 * One required element: which plan part must exist, narrowed by sector, goal level, topic, or the
 * role of the member it is about (`memberRole`: the child's own views must be the child's, R4).
 */
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
      /**
       * Only elements of members in these roles count. When the replaced plan is about a member in
       * one of them, only that member's elements count; when it is about someone else (a parent's
       * part of barnets plan), the elements of any member in these roles do.
       */
      memberRole: z.array(FamilyRole).min(1).optional(),
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
  /**
   * For whom an Én plan may replace it, when the law limits that: the roles of the member whose plan
   * it is, and their age in whole years on the (Danish) day, from `min` up to but not including
   * `maxExclusive`. A replaced plan limited this way must name its member (`memberId`) in a family plan.
   */
  replaceableFor: z
    .object({
      memberRoles: z.array(FamilyRole).min(1).optional(),
      age: z.object({ min: z.number().int().min(0), maxExclusive: z.number().int().positive() }).optional(),
      /** Says, in the rule's own words, whom it may be replaced for; used in refusals. */
      description: z.string().min(1),
    })
    .optional(),
  source: z.string().min(1),
  verification: Verification,
  requires: z.array(RequiredElement).min(1),
});
export type SectorPlanRule = z.infer<typeof SectorPlanRule>;

export function inForce(rule: z.infer<typeof Validity>, onDate: string): boolean {
  return rule.effectiveFrom <= onDate && (!rule.effectiveTo || onDate < rule.effectiveTo);
}
