/**
 * Content requirements of the sector plans an Én plan may replace or frame (R2), as data.
 * Source: shared/docs/sector-plans.md (lovguiden, elov, danskelove mirrors of retsinformation),
 * read 2026; the marks there are kept as `verification`. Re-check on retsinformation.dk.
 */
import { SectorPlanRule } from './schema';

const raw = [
  {
    planType: 'employment-plan',
    version: 'lab-2024.1',
    name: 'Min Plan (beskæftigelsesplan)',
    legalReference: 'LAB (LBK 280/2024) §§ 40–42, 47',
    replaceable: true,
    replacementBasis: 'LAB § 40 stk. 3',
    consentFrom: ['citizen'],
    effectiveFrom: '2024-03-01',
    effectiveTo: '2027-01-01',
    source: 'elov.dk/lov-om-en-aktiv-beskaeftigelsesindsats/paragraf/41',
    verification: 'verified',
    requires: [
      { id: 'job-goal', label: 'Jobmål eller job- og uddannelsesmål', legalReference: 'LAB § 41 stk. 2', element: 'goal', where: { sector: ['employment', 'education'], topic: ['job-goal', 'education-goal'] } },
      { id: 'job-search-agreements', label: 'Aftaler om og krav til jobsøgning', legalReference: 'LAB § 41 stk. 2', element: 'agreement', where: { topic: ['job-search'] } },
      { id: 'employment-offers', label: 'Tilbud efter kap. 11–14 eller øvrige aftalte indsatser', legalReference: 'LAB § 41 stk. 2', element: 'intervention', where: { sector: ['employment'] } },
      { id: 'status-follow-up', label: 'Status og opfølgning', legalReference: 'LAB § 41 stk. 2', element: 'followUp' },
    ],
  },
  {
    planType: 'rehabilitation-action-part',
    version: 'lab-2024.1',
    name: 'Rehabiliteringsplanens indsatsdel',
    legalReference: 'LAB §§ 40 stk. 2, 44, 47; BEK 2408/2021',
    replaceable: true,
    replacementBasis: 'LAB § 40 stk. 3',
    consentFrom: ['citizen'],
    effectiveFrom: '2022-01-01',
    // L 66 (lov nr. 1750 af 29.12.2025) removes the rehabilitation team from 1 July 2026.
    effectiveTo: '2026-07-01',
    source: 'cabiweb.dk; sygedagpengeloven (pre-2025) § 13 d stk. 5',
    verification: 'partly-verified',
    requires: [
      { id: 'education-employment-goal', label: 'Uddannelses- og beskæftigelsesmål', legalReference: 'LAB § 44; BEK om rehabiliteringsplan', element: 'goal', where: { topic: ['job-goal', 'education-goal'] } },
      { id: 'cross-disciplinary-interventions', label: 'Tværfaglige indsatser (beskæftigelse, uddannelse, social, sundhed)', legalReference: 'LAB § 44', element: 'intervention' },
      { id: 'coordinating-caseworker', label: 'Koordinerende sagsbehandler', legalReference: 'LAB § 44; STAR skrivelse 10112/2021', element: 'coordinator' },
      { id: 'follow-up', label: 'Løbende opfølgning og justering', legalReference: 'LAB § 47 stk. 1', element: 'followUp' },
    ],
  },
  {
    planType: 'sel-141-plan',
    version: 'sel-141.1',
    name: 'Handleplan efter serviceloven § 141',
    legalReference: 'Serviceloven § 141 stk. 3',
    replaceable: true,
    replacementBasis: 'Serviceloven § 141 stk. 7',
    consentFrom: ['citizen'],
    effectiveFrom: '2011-01-01',
    source: 'danskelove.dk/serviceloven/141',
    verification: 'verified',
    requires: [
      { id: 'purpose', label: 'Formålet med indsatsen', legalReference: 'SEL § 141 stk. 3 nr. 1', element: 'purpose' },
      { id: 'social-intervention', label: 'Den indsats, der er nødvendig', legalReference: 'SEL § 141 stk. 3 nr. 2', element: 'intervention', where: { sector: ['social'] } },
      { id: 'expected-duration', label: 'Forventet varighed', legalReference: 'SEL § 141 stk. 3 nr. 3', element: 'timeFrame' },
      { id: 'other-matters', label: 'Andre særlige forhold (bolig, beskæftigelse, personlig hjælp, behandling, hjælpemidler)', legalReference: 'SEL § 141 stk. 3 nr. 4', element: 'situation' },
    ],
  },
  {
    planType: 'children-plan',
    // bl-2024.2: the same law read again — consent from the parents whose part is replaced (not the
    // custody holder), never the child's own part, and only a child's views count as the child's.
    version: 'bl-2024.2',
    name: 'Barnets plan (forældrenes dele)',
    legalReference: 'Barnets lov (LBK 282/2025) §§ 91–92',
    replaceable: true,
    replacementBasis: 'Barnets lov § 110 stk. 2 (kun forældrenes dele)',
    consentFrom: ['parents'],
    replaceableFor: { memberRoles: ['parent', 'custody-holder', 'adult'], description: 'only for a parent’s part, never for the child’s or young person’s own' },
    effectiveFrom: '2024-01-01',
    source: 'lovguiden.dk bekendtgørelse af barnets lov §§ 91, 92, 110',
    verification: 'verified',
    requires: [
      { id: 'wellbeing-development-goals', label: 'Konkrete mål for barnets trivsel og udvikling', legalReference: 'Barnets lov § 92', element: 'goal', where: { sector: ['children'], topic: ['wellbeing', 'development'] } },
      { id: 'childs-views', label: 'Barnets synspunkter, indhentet før afgørelsen', legalReference: 'Barnets lov § 5 stk. 3', element: 'citizenViews', where: { memberRole: ['child', 'young-person'] } },
      { id: 'children-intervention', label: 'Støtte efter § 32', legalReference: 'Barnets lov § 92', element: 'intervention', where: { sector: ['children'] } },
      { id: 'follow-up', label: 'Opfølgning', legalReference: 'Barnets lov § 92', element: 'followUp' },
    ],
  },
  {
    planType: 'youth-plan',
    // bl-2024.2: the same law read again — replaceable only for ages 16–23 (§ 110 stk. 1), the young
    // person's own views, and a custody holder's consent only while the young person is under 18.
    version: 'bl-2024.2',
    name: 'Ungeplan (16–23 år)',
    legalReference: 'Barnets lov §§ 108–109',
    replaceable: true,
    replacementBasis: 'Barnets lov § 110 stk. 1',
    consentFrom: ['custody-holder', 'young-person-16'],
    replaceableFor: { age: { min: 16, maxExclusive: 24 }, description: 'only for a young person aged 16–23' },
    effectiveFrom: '2024-01-01',
    source: 'lovguiden.dk bekendtgørelse af barnets lov §§ 108, 109, 110',
    verification: 'verified',
    requires: [
      { id: 'wellbeing-development-goals', label: 'Mål for trivsel og udvikling', legalReference: 'Barnets lov § 109', element: 'goal', where: { topic: ['wellbeing', 'development'] } },
      { id: 'transition-goal', label: 'Overgangen til voksenlivet, herunder uddannelse og beskæftigelse', legalReference: 'Barnets lov § 109', element: 'goal', where: { topic: ['transition-to-adulthood', 'education-goal', 'job-goal'] } },
      { id: 'youth-views', label: 'Den unges synspunkter', legalReference: 'Barnets lov § 5 stk. 3', element: 'citizenViews', where: { memberRole: ['child', 'young-person'] } },
      { id: 'follow-up', label: 'Opfølgning', legalReference: 'Barnets lov § 109', element: 'followUp' },
    ],
  },
  {
    planType: 'parents-plan',
    version: 'bl-2024.1',
    name: 'Forældrehandleplan',
    legalReference: 'Barnets lov § 77',
    replaceable: true,
    replacementBasis: 'Barnets lov § 78',
    consentFrom: ['parents'],
    effectiveFrom: '2024-01-01',
    source: 'regelrytter; Socialstyrelsen template (content of § 77 unverified)',
    verification: 'unverified',
    requires: [
      { id: 'purpose', label: 'Formålet med støtten', legalReference: 'Barnets lov § 77', element: 'purpose' },
      { id: 'concrete-goals', label: 'Konkrete mål', legalReference: 'Barnets lov § 77', element: 'goal' },
    ],
  },
  {
    planType: 'integration-contract',
    version: 'intl-2024.1',
    name: 'Integrationskontrakt',
    legalReference: 'Integrationsloven § 19; BEK 1761/2024',
    replaceable: true,
    replacementBasis: 'Integrationsloven (via L 232, 2018) — stk. unverified',
    consentFrom: ['citizen'],
    effectiveFrom: '2024-01-01',
    source: 'cabiweb.dk/lovstof/kontrakt; elov.dk',
    verification: 'partly-verified',
    requires: [
      { id: 'employment-education-goal', label: 'Beskæftigelses- eller uddannelsesmål', legalReference: 'Integrationsloven § 19', element: 'goal', where: { topic: ['job-goal', 'education-goal'] } },
      { id: 'programme-activities', label: 'Aktiviteter i programmet', legalReference: 'Integrationsloven § 19', element: 'intervention', where: { sector: ['integration', 'employment'] } },
      { id: 'signed-agreement', label: 'Kontrakten underskrevet af begge parter', legalReference: 'Integrationsloven § 19', element: 'agreement', where: { topic: ['integration-contract'] } },
    ],
  },
  {
    planType: 'education-plan',
    version: 'kui-2019.1',
    name: 'Uddannelsesplan (KUI)',
    legalReference: 'Lov om kommunal indsats for unge under 25 år §§ 2 a, 2 c',
    replaceable: false,
    consentFrom: [],
    effectiveFrom: '2019-08-01',
    source: 'uvm.dk; elov.dk',
    verification: 'partly-verified',
    requires: [
      { id: 'education-goal', label: 'Uddannelsesmål', legalReference: 'KUI § 2 a', element: 'goal', where: { topic: ['education-goal'] } },
      { id: 'municipal-measures', label: 'Kommunens indsatser (uddannelse, beskæftigelse, social)', legalReference: 'KUI § 2 a', element: 'intervention', where: { sector: ['education', 'employment', 'social'] } },
    ],
  },
  {
    planType: 'sickness-benefit-agreement',
    version: 'sdl-2025.1',
    name: 'Aftale om beskæftigelsesmål og indsats (sygedagpenge)',
    legalReference: 'Sygedagpengeloven § 13 c, § 13 e',
    replaceable: true,
    replacementBasis: 'Sygedagpengeloven § 13 e',
    consentFrom: ['citizen'],
    effectiveFrom: '2025-01-01',
    source: 'L 74 (lov 1657/2024)',
    verification: 'partly-verified',
    requires: [
      { id: 'employment-goal', label: 'Beskæftigelsesmål', legalReference: 'SDL § 13 c', element: 'goal', where: { topic: ['job-goal'] } },
      { id: 'measures', label: 'Indsats', legalReference: 'SDL § 13 c', element: 'intervention' },
      { id: 'follow-up', label: 'Opfølgning (mindst 4 gange på 6 måneder)', legalReference: 'SDL § 13 b', element: 'followUp' },
    ],
  },
] as const;

export const sectorPlanRules: readonly SectorPlanRule[] = raw.map((rule) => SectorPlanRule.parse(rule));

/** The rules for a plan type in force on a date, or undefined when none is in force. */
export function sectorPlanRuleFor(planType: SectorPlanRule['planType'], onDate: string, rules = sectorPlanRules): SectorPlanRule | undefined {
  return rules.find((r) => r.planType === planType && r.effectiveFrom <= onDate && (!r.effectiveTo || onDate < r.effectiveTo));
}

/** The identifier of the rule set, stamped on plan elements (R25). */
export const ruleSetVersion = 'rules-2026.11';
