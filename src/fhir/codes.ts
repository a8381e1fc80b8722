/**
 * The code systems, identifier systems and status mappings of the FHIR export. Our own naming
 * systems are URNs under `urn:enplan:`; no CodeSystem or StructureDefinition is published for them
 * (yet), so a receiver treats them as opaque. DK-core is used where it has a system for what we hold
 * (municipality codes); see docs/decisions/0015-fhir-export.md.
 */
import type { CarePlan, CareTeam, Coding, Goal, ServiceRequest, Task } from '@medplum/fhirtypes';
import type { Goal as PlanGoal, Intervention, PlanStatus, Sector, SectorPlanType, StatusChange } from '../model';
import { sectorPlanRules } from '../rules/sector-plans';

export const FHIR_JSON = 'application/fhir+json';

export const systems = {
  /** The plan's own id. */
  plan: 'urn:enplan:plan',
  /** A plan element's id (goal, intervention, follow-up, agreement, citizen view). */
  element: 'urn:enplan:element',
  /** The service's pseudonymous citizen id; a receiver resolves it through `POST /v1/plans/lookup`. Never a CPR number. */
  citizen: 'urn:enplan:citizen',
  /** A member of the plan's subject (plan-local; what provider and municipality views carry). */
  member: 'urn:enplan:member',
  provider: 'urn:enplan:provider',
  sourceSystem: 'urn:enplan:source-system',
  sourceRecord: (system: string) => `urn:enplan:source-record:${system}`,
  registration: 'urn:enplan:registration',
  actor: 'urn:enplan:actor',
  sector: 'urn:enplan:sector',
  goalLevel: 'urn:enplan:goal-level',
  planCategory: 'urn:enplan:plan-category',
  sectorPlanType: 'urn:enplan:sector-plan-type',
  careTeamRole: 'urn:enplan:care-team-role',
  topic: 'urn:enplan:topic',
  ruleVersion: 'urn:enplan:rule-version',
  /** The departments alone an element may be shown to, where the citizen's consent named them (decision 0026). */
  audience: 'urn:enplan:audience',
  /** Which party's view a Bundle is (caseworker, citizen, provider, municipality). */
  view: 'urn:enplan:view',
  /** Extension: an intervention's legal basis (R3), e.g. "SEL §85". */
  legalBasis: 'urn:enplan:extension:legal-basis',
  mapping: (id: string, version: string) => `urn:enplan:mapping:${id}@${version}`,
  consent: (ref: string) => `urn:enplan:consent:${ref}`,
  /** DK-core: the Danish municipality codes (four digits, e.g. 0101 København). */
  dkMunicipality: 'http://hl7.dk/fhir/core/CodeSystem/dk-core-municipality-codes',
  // HL7 systems.
  confidentiality: 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality',
  participantType: 'http://terminology.hl7.org/CodeSystem/provenance-participant-type',
  goalAchievement: 'http://terminology.hl7.org/CodeSystem/goal-achievement',
  goalRelationshipType: 'http://terminology.hl7.org/CodeSystem/goal-relationship-type',
  ucum: 'http://unitsofmeasure.org',
  // HL7 core extensions (R4).
  pertainsToGoal: 'http://hl7.org/fhir/StructureDefinition/resource-pertainsToGoal',
  goalRelationship: 'http://hl7.org/fhir/StructureDefinition/goal-relationship',
  language: 'http://hl7.org/fhir/StructureDefinition/language',
  /** From the FHIR extensions pack: the element of the target a Provenance is about (a CarePlan note). */
  targetElement: 'http://hl7.org/fhir/StructureDefinition/targetElement',
} as const;

const sectorNames: Record<Sector, string> = {
  employment: 'Beskæftigelse',
  education: 'Uddannelse',
  social: 'Socialområdet (voksne)',
  children: 'Børn og familie',
  health: 'Sundhed',
  integration: 'Integration',
};
export const sectorCoding = (sector: Sector): Coding => ({ system: systems.sector, code: sector, display: sectorNames[sector] });

const goalLevelNames: Record<PlanGoal['level'], string> = { overall: 'Overordnet mål', sub: 'Delmål', progression: 'Progressionsmål' };
export const goalLevelCoding = (level: PlanGoal['level']): Coding => ({ system: systems.goalLevel, code: level, display: goalLevelNames[level] });

/**
 * The plan's status as CarePlan status: requested and offered plans are drafts until the citizen
 * accepts; an accepted plan is in force (`active`) like an active one; a declined plan is `revoked`
 * (the sector plans apply again, R6); a closed one `completed`.
 */
export const carePlanStatus: Readonly<Record<PlanStatus, CarePlan['status']>> = {
  requested: 'draft',
  offered: 'draft',
  accepted: 'active',
  active: 'active',
  declined: 'revoked',
  closed: 'completed',
};

/**
 * The plan's intent: a `proposal` until the citizen accepts it, a `plan` from then on. A declined
 * plan stays a proposal unless the status history shown says it had been accepted before.
 */
export function carePlanIntent(status: PlanStatus, history: readonly (Partial<StatusChange> & Pick<StatusChange, 'to'>)[] = []): CarePlan['intent'] {
  if (status === 'accepted' || status === 'active' || status === 'closed') return 'plan';
  if (status === 'declined' && history.some((change) => change.to === 'accepted' || change.to === 'active')) return 'plan';
  return 'proposal';
}

export const careTeamStatus: Readonly<Record<PlanStatus, NonNullable<CareTeam['status']>>> = {
  requested: 'proposed',
  offered: 'proposed',
  accepted: 'active',
  active: 'active',
  declined: 'inactive',
  closed: 'inactive',
};

export const goalLifecycleStatus: Readonly<Record<PlanGoal['status'], Goal['lifecycleStatus']>> = {
  proposed: 'proposed',
  active: 'active',
  achieved: 'completed',
  abandoned: 'cancelled',
};

/**
 * An intervention as a ServiceRequest: planned and running interventions are both requests in force
 * (`active`; the period says whether it has started), an ended one is `completed`, a cancelled one
 * `revoked`.
 */
export const serviceRequestStatus: Readonly<Record<Intervention['status'], ServiceRequest['status']>> = {
  planned: 'active',
  active: 'active',
  ended: 'completed',
  cancelled: 'revoked',
};

export const taskStatus = (done: boolean): Task['status'] => (done ? 'completed' : 'requested');

export const careTeamRoles = {
  coordinator: { system: systems.careTeamRole, code: 'coordinator', display: 'Koordinerende sagsbehandler' },
  coordinatingTeam: { system: systems.careTeamRole, code: 'coordinating-team', display: 'Koordinerende team' },
  teamMember: { system: systems.careTeamRole, code: 'team-member', display: 'Medlem af det koordinerende team' },
  contact: { system: systems.careTeamRole, code: 'contact', display: 'Kontaktperson for en indsats' },
} as const satisfies Record<string, Coding>;

export const sourceSystemNames: Readonly<Record<string, string>> = {
  dfdg: 'STAR Det Fælles Datagrundlag (DFDG)',
  education: 'Ungedatabasen (STIL)',
  social: 'Socialforvaltningens fagsystem',
  health: 'Regionens sundhedssystem',
};

/** A sector plan type the plan replaces or frames, named as the rule set names it (R2, R25). */
export const sectorPlanTypeCoding = (planType: SectorPlanType): Coding => ({
  system: systems.sectorPlanType,
  code: planType,
  display: sectorPlanRules.find((rule) => rule.planType === planType)?.name ?? planType,
});
