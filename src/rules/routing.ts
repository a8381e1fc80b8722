/**
 * Registration routing as dated data (R17, R20, R25): which registrations go to which sector
 * systems, on what legal reference, from when to when, and under which consent question
 * (recipient and data category). Code only evaluates the table; changing where a registration
 * goes is a change of data here, with its legal reference and validity.
 *
 * A rule matches a registration when every condition it states holds:
 * - `kinds`: the registration kind (`goal.added` …);
 * - `scope`: `element` rules look at the element's sector and legal basis; `plan` rules look at the
 *   sector plans the Én plan replaces or frames (for plan-wide registrations: status, coordinator
 *   hand-over, plan-wide follow-ups and agreements);
 * - `sectors` / `legalBasis` (a case-insensitive pattern on the start of the legal basis) /
 *   `planTypes` / `confidentiality`.
 * An `exclude` rule that matches stops all routing of the registration (e.g. anonymous treatment).
 *
 * The legal references are what the rule rests on; `verification` says how well we have checked
 * them (the DFDG reporting duties and the KUI/Ungedatabasen duties are not public in detail).
 */
import { z } from 'zod';
import { Confidentiality, DataCategory, isAnonymousTreatmentBasis, Recipient, Sector, SectorPlanType, SourceSystem } from '../model';
import { inForce, Validity, Verification } from './schema';

/** Registration kinds: `<noun>.<past-tense verb>`. */
export const RegistrationKind = z.enum([
  'goal.added',
  'goal.changed',
  'intervention.added',
  'intervention.changed',
  'intervention.ended',
  'followup.scheduled',
  'followup.done',
  'agreement.added',
  'coordinator.changed',
  'plan.status-changed',
  // The citizen's own views and wishes, in their own words (R1; a child's before a decision, R4).
  // Kept in the Én plan: no rule sends them to a sector system.
  'view.recorded',
  // The plan's purpose, situation, time frame and the plans it replaces: the Én plan's own content.
  'plan.details-changed',
]);
export type RegistrationKind = z.infer<typeof RegistrationKind>;

const elementKinds = ['goal.added', 'goal.changed', 'intervention.added', 'intervention.changed', 'intervention.ended', 'followup.scheduled', 'followup.done', 'agreement.added'] as const;
const planKinds = ['plan.status-changed', 'coordinator.changed', 'followup.scheduled', 'followup.done', 'agreement.added'] as const;

export const RoutingRule = Validity.extend({
  id: z.string().regex(/^[a-z0-9-]+$/),
  description: z.string().min(1),
  legalReference: z.string().min(1),
  source: z.string().min(1),
  verification: Verification,
  scope: z.enum(['element', 'plan']),
  when: z.object({
    kinds: z.array(RegistrationKind).min(1),
    sectors: z.array(Sector).optional(),
    /** A case-insensitive regular expression matched at the start of the legal basis. */
    legalBasis: z.string().optional(),
    planTypes: z.array(SectorPlanType).optional(),
    confidentiality: z.array(Confidentiality).optional(),
  }),
  /** Stops routing altogether when it matches; then target/recipient/category are not used. */
  exclude: z.boolean().default(false),
  target: SourceSystem.optional(),
  /** The party the data flows to, as the consent policy knows it. */
  recipient: Recipient.optional(),
  /** The data category asked about; `by-element` means goals/interventions/plan-core by kind. */
  category: z.union([DataCategory, z.literal('by-element')]).default('by-element'),
});
export type RoutingRule = z.infer<typeof RoutingRule>;

const LAB = 'LAB (LBK 280/2024) §§ 40–42 (Min Plan: jobmål, tilbud, aftaler, opfølgning)';
const DFDG_DUTY = 'Lov om organisering og understøttelse af beskæftigelsesindsatsen m.v. (Det Fælles Datagrundlag)';

const raw = [
  // Anonymous treatment is never registered under the citizen's CPR anywhere (R4).
  {
    id: 'anonymous-treatment-not-routed',
    description: 'Anonymous addiction treatment is never sent to a sector system',
    legalReference: 'Serviceloven § 101 a',
    source: 'shared/docs/domain.md R4',
    verification: 'verified',
    scope: 'element',
    when: { kinds: [...elementKinds], confidentiality: ['anonymous-treatment'] },
    exclude: true,
    effectiveFrom: '2018-01-01',
  },
  // Employment → DFDG (STAR), until the new employment act of 1 January 2027.
  {
    id: 'employment-to-dfdg',
    description: 'Employment goals, interventions, follow-ups and agreements go to DFDG (Min Plan)',
    legalReference: `${LAB}; ${DFDG_DUTY}`,
    source: 'shared/docs/sector-plans.md (employment plan); STAR DFDG service descriptions (not public in detail)',
    verification: 'partly-verified',
    scope: 'element',
    when: { kinds: [...elementKinds], sectors: ['employment'] },
    target: 'dfdg',
    recipient: 'employment',
    effectiveFrom: '2024-03-01',
    effectiveTo: '2027-01-01',
  },
  {
    id: 'employment-to-dfdg-2027',
    description: 'Employment elements go to DFDG under the new employment act (to be re-verified when it is published)',
    legalReference: `Ny beskæftigelseslov (i kraft 1.1.2027) — paragraphs not yet known; ${DFDG_DUTY}`,
    source: 'shared/docs/domain.md R25 (lov nr. 1750 af 29.12.2025 and the announced 2027 act)',
    verification: 'unverified',
    scope: 'element',
    when: { kinds: [...elementKinds], sectors: ['employment'] },
    target: 'dfdg',
    recipient: 'employment',
    effectiveFrom: '2027-01-01',
  },
  {
    id: 'labour-law-basis-to-dfdg',
    description: 'An element whose legal basis is the employment act goes to DFDG whatever sector it was filed under',
    legalReference: `${LAB}; ${DFDG_DUTY}`,
    source: 'shared/docs/domain.md R3, R17',
    verification: 'partly-verified',
    scope: 'element',
    when: { kinds: [...elementKinds], legalBasis: '(LAB|LAS|beskæftigelseslov|lov om en aktiv beskæftigelsesindsats)\\b' },
    target: 'dfdg',
    recipient: 'employment',
    effectiveFrom: '2024-03-01',
  },
  {
    id: 'integration-to-dfdg',
    description: 'Integration-programme elements (the integration contract is the plan, R21) go to DFDG',
    legalReference: 'Integrationsloven §§ 16, 19 (integrationsprogram og integrationskontrakt); ' + DFDG_DUTY,
    source: 'shared/docs/domain.md R21',
    verification: 'unverified',
    scope: 'element',
    when: { kinds: [...elementKinds], sectors: ['integration'] },
    target: 'dfdg',
    recipient: 'integration',
    effectiveFrom: '2018-07-01',
  },
  // Social: SEL §141 handleplan and other adult social services.
  {
    id: 'social-to-social',
    description: 'Social-sector elements (SEL § 141 handleplan) go to the social case system',
    legalReference: 'Serviceloven § 141 stk. 3 (handleplanens indhold)',
    source: 'shared/docs/sector-plans.md (sel-141-plan)',
    verification: 'verified',
    scope: 'element',
    when: { kinds: [...elementKinds], sectors: ['social'] },
    target: 'social',
    recipient: 'social',
    effectiveFrom: '2011-01-01',
  },
  {
    id: 'sel-basis-to-social',
    description: 'An element granted under Serviceloven goes to the social case system whatever sector it was filed under',
    legalReference: 'Serviceloven § 141 stk. 3; the complaint route follows the legal basis (R3)',
    source: 'shared/docs/domain.md R3',
    verification: 'verified',
    scope: 'element',
    when: { kinds: [...elementKinds], legalBasis: '(SEL|serviceloven)\\b' },
    target: 'social',
    recipient: 'social',
    effectiveFrom: '2011-01-01',
  },
  // Children: Barnets lov plans live in the children's case system (the social adapter).
  {
    id: 'children-to-social',
    description: 'Children-sector elements (Barnets lov) go to the children’s case system',
    legalReference: 'Barnets lov (LBK 282/2025) §§ 91–92 (barnets plan)',
    source: 'shared/docs/sector-plans.md (children-plan)',
    verification: 'verified',
    scope: 'element',
    when: { kinds: [...elementKinds], sectors: ['children'] },
    target: 'social',
    recipient: 'children',
    effectiveFrom: '2024-01-01',
  },
  // Education: Ungedatabasen/KUI, and DFDG too (R20: registered once, available to both).
  {
    id: 'education-to-education',
    description: 'Education-plan changes go to Ungedatabasen/KUI',
    legalReference: 'Lov om kommunal indsats for unge under 25 år (KUI) §§ 2 a–2 b (uddannelsesplan)',
    source: 'shared/docs/domain.md R20; STIL service names (structure not public)',
    verification: 'partly-verified',
    scope: 'element',
    when: { kinds: [...elementKinds], sectors: ['education'] },
    target: 'education',
    recipient: 'education',
    effectiveFrom: '2019-08-01',
  },
  {
    id: 'education-to-dfdg-r20',
    description: 'Education-plan changes also go to DFDG so employment sees the same education data (R20)',
    legalReference: `R20 (KL's hearing response); ${LAB} (job- og uddannelsesmål)`,
    source: 'shared/docs/domain.md R20',
    verification: 'partly-verified',
    scope: 'element',
    when: { kinds: [...elementKinds], sectors: ['education'] },
    target: 'dfdg',
    recipient: 'employment',
    effectiveFrom: '2019-08-01',
  },
  // Health: regional systems, only with explicit health consent (asked as category `health`).
  {
    id: 'health-to-health',
    description: 'Health elements go to the regional health system, only with explicit health consent',
    legalReference: 'Sundhedsloven § 43 (udtrykkeligt samtykke til videregivelse af helbredsoplysninger)',
    source: 'shared/docs/domain.md R9, R19',
    verification: 'verified',
    scope: 'element',
    when: { kinds: [...elementKinds], sectors: ['health'] },
    target: 'health',
    recipient: 'health',
    category: 'health',
    effectiveFrom: '2018-07-01',
  },
  // Plan-wide registrations go to the systems whose sector plan the Én plan replaces or frames.
  {
    id: 'plan-employment',
    description: 'Plan status, coordinator hand-overs and plan-wide follow-ups/agreements reach DFDG when the Én plan replaces or frames an employment plan',
    legalReference: `${LAB}; LAB § 40 stk. 3 (Én plan i stedet for Min Plan)`,
    source: 'shared/docs/sector-plans.md',
    verification: 'partly-verified',
    scope: 'plan',
    when: { kinds: [...planKinds], planTypes: ['employment-plan', 'rehabilitation-action-part', 'sickness-benefit-agreement'] },
    target: 'dfdg',
    recipient: 'employment',
    effectiveFrom: '2019-01-01',
  },
  {
    id: 'plan-integration',
    description: 'Plan-wide registrations reach DFDG when the Én plan is the integration contract (R21)',
    legalReference: 'Integrationsloven § 19',
    source: 'shared/docs/domain.md R21',
    verification: 'unverified',
    scope: 'plan',
    when: { kinds: [...planKinds], planTypes: ['integration-contract'] },
    target: 'dfdg',
    recipient: 'integration',
    effectiveFrom: '2019-01-01',
  },
  {
    id: 'plan-social',
    description: 'Plan-wide registrations reach the social case system when the Én plan replaces a § 141 plan',
    legalReference: 'Serviceloven § 141 stk. 7',
    source: 'shared/docs/sector-plans.md (sel-141-plan)',
    verification: 'verified',
    scope: 'plan',
    when: { kinds: [...planKinds], planTypes: ['sel-141-plan'] },
    target: 'social',
    recipient: 'social',
    effectiveFrom: '2019-01-01',
  },
  {
    id: 'plan-children',
    description: 'Plan-wide registrations reach the children’s case system when the Én plan frames a Barnets lov plan',
    legalReference: 'Barnets lov § 110 stk. 2',
    source: 'shared/docs/sector-plans.md (children-plan)',
    verification: 'verified',
    scope: 'plan',
    when: { kinds: [...planKinds], planTypes: ['children-plan', 'youth-plan', 'parents-plan'] },
    target: 'social',
    recipient: 'children',
    effectiveFrom: '2024-01-01',
  },
  {
    id: 'plan-education',
    description: 'Plan-wide registrations reach Ungedatabasen/KUI when the Én plan frames the education plan',
    legalReference: 'KUI §§ 2 a–2 b',
    source: 'shared/docs/domain.md R20',
    verification: 'partly-verified',
    scope: 'plan',
    when: { kinds: [...planKinds], planTypes: ['education-plan'] },
    target: 'education',
    recipient: 'education',
    effectiveFrom: '2019-08-01',
  },
];

export const routingRules: readonly RoutingRule[] = raw.map((rule) => RoutingRule.parse(rule));
export const routingRuleSetVersion = 'routing-2026.11';

/** What the router knows about a registration: the facts the rules look at. */
export interface RoutingSubject {
  kind: RegistrationKind;
  /** `element` for registrations about one goal/intervention/follow-up/agreement with a sector; else `plan`. */
  scope: 'element' | 'plan';
  sector?: string;
  legalBasis?: string;
  confidentiality?: string;
  /** The sector plans the Én plan replaces or frames. */
  planTypes: readonly string[];
}

export interface RouteTarget {
  target: SourceSystem;
  /** The first rule's recipient and category; `byRule` holds every rule's own. */
  recipient: Recipient;
  category: DataCategory;
  /** Every in-force rule that sends the registration to this target. */
  ruleIds: string[];
  legalReferences: string[];
  /**
   * Each rule's recipient and data category, in table order. Rules of different departments may send
   * to one target (an integration offer under LAB: the employment and the integration department):
   * the consent question is asked of each until one allows the flow.
   */
  byRule: { ruleId: string; recipient: Recipient; category: DataCategory }[];
}

export type RoutingResult = { excluded: { ruleId: string; legalReference: string } | null; targets: RouteTarget[] };

/**
 * The consent question's data category. A health element is health data whichever target its legal
 * basis sends it to (an intervention filed under health but granted under SEL or LAB): every target
 * asks `health`, which only an explicit health grant covers (R9, Sundhedsloven § 43). The router and
 * the relay both ask the route's category, so both hold it to that.
 */
function categoryFor(rule: RoutingRule, subject: Pick<RoutingSubject, 'kind' | 'sector'>): DataCategory {
  if (subject.sector === 'health') return 'health';
  const kind = subject.kind;
  if (rule.category !== 'by-element') return rule.category;
  if (kind.startsWith('goal.')) return 'goals';
  if (kind.startsWith('intervention.')) return 'interventions';
  return 'plan-core';
}

/**
 * A registration's confidentiality as the rules see it: one whose legal basis names SEL § 101 a is
 * anonymous treatment whatever it was registered as (fail closed, R4).
 */
const confidentialityOf = (subject: RoutingSubject) => (isAnonymousTreatmentBasis(subject.legalBasis) ? 'anonymous-treatment' : (subject.confidentiality ?? 'normal'));

export function ruleMatches(rule: RoutingRule, subject: RoutingSubject): boolean {
  const w = rule.when;
  if (rule.scope !== subject.scope) return false;
  if (!w.kinds.includes(subject.kind)) return false;
  if (w.sectors && (!subject.sector || !w.sectors.includes(subject.sector as never))) return false;
  if (w.legalBasis && (!subject.legalBasis || !new RegExp(`^\\s*(?:${w.legalBasis})`, 'i').test(subject.legalBasis))) return false;
  if (w.planTypes && !w.planTypes.some((t) => subject.planTypes.includes(t))) return false;
  if (w.confidentiality && !w.confidentiality.includes(confidentialityOf(subject) as never)) return false;
  return true;
}

/** Where a registration goes on a given date (YYYY-MM-DD). Targets are unique and in table order. */
export function routeFor(subject: RoutingSubject, onDate: string, rules: readonly RoutingRule[] = routingRules): RoutingResult {
  const active = rules.filter((r) => inForce(r, onDate) && ruleMatches(r, subject));
  const exclusion = active.find((r) => r.exclude);
  if (exclusion) return { excluded: { ruleId: exclusion.id, legalReference: exclusion.legalReference }, targets: [] };
  const byTarget = new Map<SourceSystem, RouteTarget>();
  for (const rule of active) {
    if (!rule.target || !rule.recipient) continue;
    const existing = byTarget.get(rule.target);
    const own = { ruleId: rule.id, recipient: rule.recipient, category: categoryFor(rule, subject) };
    if (existing) {
      existing.ruleIds.push(rule.id);
      existing.byRule.push(own);
      if (!existing.legalReferences.includes(rule.legalReference)) existing.legalReferences.push(rule.legalReference);
    } else {
      byTarget.set(rule.target, { target: rule.target, recipient: rule.recipient, category: own.category, ruleIds: [rule.id], legalReferences: [rule.legalReference], byRule: [own] });
    }
  }
  return { excluded: null, targets: [...byTarget.values()] };
}
