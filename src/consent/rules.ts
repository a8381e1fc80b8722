/**
 * Whose consent is needed, by age, as dated data (R4, R25). Barnets lov (in force 1 Jan 2024):
 * a helhedsorienteret plan for a young person needs the custody holder's consent and, from 16,
 * the young person's own (§ 110). Adults consent themselves, or through a guardian (værge) appointed
 * for their personal matters (værgemålsloven § 5).
 */
export interface ConsentCapacityRule {
  id: string;
  legalReference: string;
  effectiveFrom: string;
  effectiveTo?: string;
  /** Inclusive lower and exclusive upper age bound. */
  fromAge: number;
  toAge: number;
  /** Each entry must be met by a matching grant in one of its capacities. */
  requires: readonly (readonly ('self' | 'custody-holder' | 'guardian')[])[];
}

export const consentCapacityRules: readonly ConsentCapacityRule[] = [
  { id: 'child-under-16', legalReference: 'Barnets lov § 110 stk. 1', effectiveFrom: '2024-01-01', fromAge: 0, toAge: 16, requires: [['custody-holder']] },
  { id: 'young-16-17', legalReference: 'Barnets lov § 110 stk. 1', effectiveFrom: '2024-01-01', fromAge: 16, toAge: 18, requires: [['self'], ['custody-holder']] },
  { id: 'adult', legalReference: 'LAB § 40 stk. 3; SEL § 141 stk. 7; værgemålsloven § 5', effectiveFrom: '2018-07-01', fromAge: 18, toAge: 200, requires: [['self', 'guardian']] },
];

export function capacityRuleFor(age: number, onDate: string, rules = consentCapacityRules): ConsentCapacityRule | undefined {
  return rules.find((r) => age >= r.fromAge && age < r.toAge && r.effectiveFrom <= onDate && (!r.effectiveTo || onDate < r.effectiveTo));
}
