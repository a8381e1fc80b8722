/**
 * The Én plan (helhedsorienteret plan): one coordinated plan for a citizen or a family (R1–R8).
 * Schemas first; types are inferred.
 */
import { z } from 'zod';
import { Coding, Contact, Id, IsoDate, IsoDateTime, LegalBasis, MunicipalityCode, Period, Sector, Text, Topic } from './common';
import { Provenances, RuleVersion } from './provenance';
import { PlanStatus, StatusChange } from './lifecycle';
import { Department } from './consent';

export const FamilyRole = z.enum(['adult', 'parent', 'custody-holder', 'child', 'young-person']);

/** A member of the plan's subject. `citizenId` points at the protected citizen record, never at a CPR. */
export const Member = z.object({
  memberId: Id,
  citizenId: Id,
  role: FamilyRole,
  birthDate: IsoDate,
  /** A member who left the family plan keeps their history here but gets their own plan (R4). */
  leftAt: IsoDateTime.optional(),
  ownPlanId: Id.optional(),
});
export type Member = z.infer<typeof Member>;

export const Subject = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('citizen'), member: Member }),
  z.object({ kind: z.literal('family'), name: Text.optional(), members: z.array(Member).min(2, 'a family plan has at least two members') }),
]);
export type Subject = z.infer<typeof Subject>;

export const Situation = z.object({
  summary: Text,
  barriers: z.array(Text).default([]),
  resources: z.array(Text).default([]),
});

/**
 * A sector system's account of the citizen's situation (a social or health Condition): one per
 * source record, kept with its member and provenance, so consent revocation and the family's
 * visibility rules apply to it as to any element (R4, R10). The plan's own `situation` is written
 * by the caseworker with the citizen, through the API; sources never change it.
 */
export const SituationNote = Situation.extend({ id: Id, memberId: Id, ruleVersion: RuleVersion.optional(), provenance: Provenances });
export type SituationNote = z.infer<typeof SituationNote>;

/** The citizen's own views and wishes, in their own words and language (R1, R4 child's voice). */
export const CitizenView = z.object({
  id: Id,
  memberId: Id,
  text: Text,
  language: z.string().regex(/^[a-z]{2,3}(-[A-Za-z0-9]+)*$/, 'a BCP 47 language tag such as "da"'),
  recordedAt: IsoDateTime,
  recordedBy: z.string().min(1),
  /** The rule set in force when it was recorded (R25); absent on elements recorded before it was kept. */
  ruleVersion: RuleVersion.optional(),
  provenance: Provenances,
});

export type CitizenView = z.infer<typeof CitizenView>;

/**
 * Who could see an element, kept on it when what decided that left the plan (a revocation, a
 * source taking its word back, a member leaving; R4, R9): a follow-up whose goal or intervention
 * left, a goal shielded only because a SEL § 101 a treatment that left served it. The views show it
 * to no one who could not see it before. Set by `dropDanglingReferences`, never by a source or a
 * registration; absent on every other element.
 */
export const KeptVisibility = z.object({
  /** The member it was about: among the family, that member (and a child's custody holders) alone. */
  memberId: Id.optional(),
  /** It was about anonymous treatment (SEL § 101 a): that member and caseworkers alone (R4). */
  anonymousTreatment: z.literal(true).optional(),
  /** The departments alone the citizen's consent let see it (R9, decision 0026). */
  audience: z.array(Department).min(1).optional(),
});
export type KeptVisibility = z.infer<typeof KeptVisibility>;

export const GoalLevel = z.enum(['overall', 'sub', 'progression']);
export const GoalStatus = z.enum(['proposed', 'active', 'achieved', 'abandoned']);

export const Goal = z.object({
  id: Id,
  level: GoalLevel,
  parentGoalId: Id.optional(),
  title: Text,
  description: z.string().optional(),
  sector: Sector,
  status: GoalStatus,
  targetDate: IsoDate.optional(),
  /** The goal in a sector's own terms where it has one, e.g. the education programme (UddannelseKode). */
  code: Coding.optional(),
  /** The member the goal is for; absent on a goal for the whole family. */
  memberId: Id.optional(),
  topics: z.array(Topic).default([]),
  /** Still shielded as revealing anonymous treatment after the intervention that made it so left the plan. */
  keptVisibility: KeptVisibility.optional(),
  ruleVersion: RuleVersion,
  provenance: Provenances,
});
export type Goal = z.infer<typeof Goal>;

export const InterventionStatus = z.enum(['planned', 'active', 'ended', 'cancelled']);

/** Anonymous treatment (SEL §101 a) must never become visible to other members (R4). */
export const Confidentiality = z.enum(['normal', 'anonymous-treatment']);

/**
 * "101 a" / "101a" as a section of its own: not part of a longer number ("§ 1011 a", "§ 2101 a")
 * and not the start of a word ("§ 101 ab"); "§ 101" and "§ 101 b" are other sections.
 */
const SECTION_101_A = /(?<!\d)101\s*-?\s*a(?![\p{L}\p{N}])/iu;

/**
 * Whether a legal basis names SEL § 101 a (anonymous addiction treatment, R4), however it is
 * written: "SEL §101 a", "Serviceloven § 101 a", "Lov om social service § 101 a", "servicelovens
 * §101a", "§ 101 a, stk. 1", "SEL §§ 85 og 101 a". It fails closed: any reference to a section
 * 101 a counts, whatever act it is said to be in — treating another act's § 101 a as anonymous
 * only hides an element, missing one would show anonymous treatment to the family. The one test
 * every mapping and the router use.
 */
export function isAnonymousTreatmentBasis(legalBasis: string | undefined | null): boolean {
  return typeof legalBasis === 'string' && SECTION_101_A.test(legalBasis);
}

export const Intervention = z.object({
  id: Id,
  sector: Sector,
  legalBasis: LegalBasis,
  type: Coding,
  title: Text,
  responsibleUnit: Text,
  contact: Contact,
  period: Period,
  order: z.number().int().nonnegative(),
  dependsOn: z.array(Id).default([]),
  status: InterventionStatus,
  /** Every intervention is attributable to exactly one member (R4). */
  memberId: Id,
  goalIds: z.array(Id).default([]),
  /** The external provider (leverandør) performing it; that provider sees only its part (R14). */
  providerId: z.string().min(1).optional(),
  hoursPerWeek: z.number().nonnegative().max(80).optional(),
  confidentiality: Confidentiality.default('normal'),
  topics: z.array(Topic).default([]),
  ruleVersion: RuleVersion,
  provenance: Provenances,
});
export type Intervention = z.infer<typeof Intervention>;

export const Agreement = z.object({
  id: Id,
  text: Text,
  sector: Sector.optional(),
  agreedAt: IsoDate,
  parties: z.array(Text).min(1),
  memberId: Id.optional(),
  topics: z.array(Topic).default([]),
  /** The rule set in force when it was agreed (R25); absent on elements recorded before it was kept. */
  ruleVersion: RuleVersion.optional(),
  provenance: Provenances,
});
export type Agreement = z.infer<typeof Agreement>;

export const FollowUp = z.object({
  id: Id,
  due: IsoDate,
  text: Text,
  /** The goal or intervention followed up; absent for the plan as a whole. */
  elementId: Id.optional(),
  /**
   * The member it is about, for a follow-up of one member's plan as a whole (a sector system's own
   * follow-up of that member's plan); absent: the family's, or its element's member.
   */
  memberId: Id.optional(),
  done: z.boolean().default(false),
  doneAt: IsoDateTime.optional(),
  /** The rule set in force when it was scheduled (R25); absent on elements recorded before it was kept. */
  ruleVersion: RuleVersion.optional(),
  /** On a follow-up whose element left the plan (so `elementId` is gone): who could see that element. */
  keptVisibility: KeptVisibility.optional(),
  provenance: Provenances,
});
export type FollowUp = z.infer<typeof FollowUp>;

/**
 * The member a follow-up with no element is about: the one it names, or the one it was kept for when
 * its element left; undefined for the family's own. `null` for one a sector system reported in a
 * family plan before follow-ups named their member (all its provenance from sources): it is some
 * member's, not the family's, so no member is shown it until the source reports it again.
 */
export function followUpMemberOf(plan: Pick<Plan, 'subject'>, followUp: FollowUp): string | undefined | null {
  const named = followUp.memberId ?? followUp.keptVisibility?.memberId;
  if (named !== undefined || followUp.elementId !== undefined || followUp.keptVisibility) return named;
  if (!followUp.provenance.every((p) => p.kind === 'source')) return undefined;
  return plan.subject.kind === 'citizen' ? plan.subject.member.memberId : null;
}

/** Open plans one coordinator should carry at most: DS recommends 20–30 cross-sector cases (R5). */
export const RECOMMENDED_CASELOAD = 30;

/** Exactly one responsible coordinator: a named caseworker or a named small team (R5). */
export const Coordinator = z.object({
  kind: z.enum(['caseworker', 'team']),
  name: Text,
  sector: Sector,
  unit: Text,
  phone: z.string().optional(),
  email: z.email().optional(),
  teamMembers: z.array(Text).default([]),
  since: IsoDateTime,
});
export type Coordinator = z.infer<typeof Coordinator>;

/**
 * A team or caseworker a sector system names for the citizen (a FHIR CareTeam): someone the citizen
 * and the coordinator can reach, kept with its member and provenance so that consent revocation and
 * the family's visibility rules apply to it as to any element (R4, R10). It is not the plan's
 * responsible coordinator: the municipality appoints that one (R5), through the API.
 */
export const CareTeamContact = Coordinator.extend({ id: Id, memberId: Id, ruleVersion: RuleVersion.optional(), provenance: Provenances });
export type CareTeamContact = z.infer<typeof CareTeamContact>;

export const CoordinatorHandOver = z.object({
  from: z.string().min(1).optional(),
  to: z.string().min(1),
  fromSector: Sector.optional(),
  toSector: Sector,
  at: IsoDateTime,
  reason: z.string().optional(),
  recordedBy: z.string().min(1),
});

/** A municipality involved in the plan (R8); sharing with a second one needs an explicit link. */
export const InvolvedMunicipality = z.object({
  code: MunicipalityCode,
  role: z.enum(['acting', 'residence', 'former', 'other']),
  responsibility: z.string().optional(),
  /** Which parts the other municipality may see; only with the citizen's consent (R8). */
  link: z
    .object({ consentRef: Id, parts: z.array(z.enum(['goals', 'interventions', 'agreements', 'followUps', 'coordinator'])).min(1), linkedAt: IsoDateTime })
    .optional(),
});

/**
 * A department a caseworker taking part made a party to the plan, before it has an element, the
 * coordination or a consent of its own there (decision 0032): asked to assess, or to a meeting. Its
 * caseworkers' reads then count as from within. The reason stays on the plan, not in the log.
 */
export const PlanParty = z.object({
  department: Department,
  since: IsoDateTime,
  recordedBy: z.string().min(1),
  reason: z.string().min(1).max(500),
});
export type PlanParty = z.infer<typeof PlanParty>;

/** The sector plan types an Én plan can replace or frame (see `rules/`). */
export const SectorPlanType = z.enum([
  'employment-plan',
  'rehabilitation-action-part',
  'sel-141-plan',
  'children-plan',
  'youth-plan',
  'parents-plan',
  'integration-contract',
  'education-plan',
  'sickness-benefit-agreement',
]);
export type SectorPlanType = z.infer<typeof SectorPlanType>;

export const ReplacedPlan = z.object({
  planType: SectorPlanType,
  relation: z.enum(['replaces', 'frames']),
  memberId: Id.optional(),
});

/** Same element edited in two systems since the last sync: flagged for a person, never overwritten. */
export const Conflict = z.object({
  id: Id,
  elementId: Id,
  field: z.string(),
  values: z.array(z.object({ value: z.unknown(), provenance: Provenances })).min(2),
  detectedAt: IsoDateTime,
  resolvedAt: IsoDateTime.optional(),
  /** Who resolved it, which of `values` they chose (its content is the element's since), and why. */
  resolution: z.object({ by: z.string().min(1), chosen: z.number().int().nonnegative(), reason: z.string().min(1).max(500).optional() }).optional(),
});
export type Conflict = z.infer<typeof Conflict>;

export const PlanOrigin = z.enum(['offered', 'requested']);

export const Plan = z
  .object({
    id: Id,
    tenant: MunicipalityCode,
    origin: PlanOrigin,
    status: PlanStatus,
    statusHistory: z.array(StatusChange).default([]),
    subject: Subject,
    purpose: Text.optional(),
    situation: Situation.optional(),
    situationNotes: z.array(SituationNote).default([]),
    citizenViews: z.array(CitizenView).default([]),
    goals: z.array(Goal).default([]),
    interventions: z.array(Intervention).default([]),
    agreements: z.array(Agreement).default([]),
    followUps: z.array(FollowUp).default([]),
    coordinator: Coordinator.optional(),
    coordinatorHistory: z.array(CoordinatorHandOver).default([]),
    careTeams: z.array(CareTeamContact).default([]),
    municipalities: z.array(InvolvedMunicipality).default([]),
    /** Departments made parties by a caseworker (see `PlanParty`); the others take part by what the plan holds. */
    parties: z.array(PlanParty).default([]),
    replaces: z.array(ReplacedPlan).default([]),
    timeFrame: Period.optional(),
    conflicts: z.array(Conflict).default([]),
    ruleVersion: RuleVersion,
    createdAt: IsoDateTime,
    updatedAt: IsoDateTime,
    version: z.number().int().positive(),
  })
  .superRefine((plan, ctx) => {
    for (const problem of planIntegrityProblems(plan)) ctx.addIssue({ code: 'custom', ...problem });
  });
export type Plan = z.infer<typeof Plan>;

/**
 * The rules that tie a plan's parts together (members, goal and intervention references, a
 * documented decline). Part of `Plan`; exported for the merge, which checks only the elements it
 * touched with their own schemas and then these rules, instead of re-parsing the whole plan.
 */
export function planIntegrityProblems(plan: {
  subject: z.infer<typeof Subject>;
  goals: readonly Pick<z.infer<typeof Goal>, 'id' | 'memberId' | 'level' | 'parentGoalId'>[];
  interventions: readonly Pick<z.infer<typeof Intervention>, 'id' | 'memberId' | 'goalIds' | 'dependsOn'>[];
  citizenViews: readonly Pick<z.infer<typeof CitizenView>, 'memberId'>[];
  situationNotes?: readonly Pick<SituationNote, 'memberId'>[];
  careTeams?: readonly Pick<CareTeamContact, 'memberId'>[];
  status: z.infer<typeof PlanStatus>;
  statusHistory: readonly z.infer<typeof StatusChange>[];
}): { path: (string | number)[]; message: string }[] {
  const problems: { path: (string | number)[]; message: string }[] = [];
  const members = plan.subject.kind === 'citizen' ? [plan.subject.member] : plan.subject.members;
  const memberIds = new Set(members.map((m) => m.memberId));
  const goalIds = new Set(plan.goals.map((g) => g.id));
  const interventionIds = new Set(plan.interventions.map((i) => i.id));
  plan.interventions.forEach((intervention, index) => {
    if (!memberIds.has(intervention.memberId))
      problems.push({ path: ['interventions', index, 'memberId'], message: 'the intervention must belong to a member of the plan' });
    intervention.goalIds.forEach((goalId) => {
      if (!goalIds.has(goalId)) problems.push({ path: ['interventions', index, 'goalIds'], message: `unknown goal ${goalId}` });
    });
    intervention.dependsOn.forEach((id) => {
      if (!interventionIds.has(id) || id === intervention.id)
        problems.push({ path: ['interventions', index, 'dependsOn'], message: `unknown intervention ${id}` });
    });
  });
  plan.goals.forEach((goal, index) => {
    if (goal.memberId && !memberIds.has(goal.memberId))
      problems.push({ path: ['goals', index, 'memberId'], message: 'the goal must belong to a member of the plan' });
    if (goal.level === 'overall' && goal.parentGoalId)
      problems.push({ path: ['goals', index, 'parentGoalId'], message: 'an overall goal has no parent goal' });
    if (goal.level !== 'overall' && goal.parentGoalId && !goalIds.has(goal.parentGoalId))
      problems.push({ path: ['goals', index, 'parentGoalId'], message: `unknown parent goal ${goal.parentGoalId}` });
  });
  // A sub-goal serves a goal above it (R1): following the parents must end, never come back round.
  const parentOf = new Map(plan.goals.map((g) => [g.id, g.parentGoalId]));
  plan.goals.forEach((goal, index) => {
    const seen = new Set([goal.id]);
    for (let parent = goal.parentGoalId; parent !== undefined; parent = parentOf.get(parent)) {
      if (seen.has(parent)) {
        problems.push({ path: ['goals', index, 'parentGoalId'], message: goal.parentGoalId === goal.id ? 'a goal cannot be its own parent' : `the parent goals go round in a circle back to ${parent}` });
        break;
      }
      seen.add(parent);
    }
  });
  plan.citizenViews.forEach((view, index) => {
    if (!memberIds.has(view.memberId))
      problems.push({ path: ['citizenViews', index, 'memberId'], message: 'the view must be a member’s own' });
  });
  plan.situationNotes?.forEach((note, index) => {
    if (!memberIds.has(note.memberId)) problems.push({ path: ['situationNotes', index, 'memberId'], message: 'the note must be about a member of the plan' });
  });
  plan.careTeams?.forEach((team, index) => {
    if (!memberIds.has(team.memberId)) problems.push({ path: ['careTeams', index, 'memberId'], message: 'the care team must be a member’s' });
  });
  if (plan.status === 'declined') {
    const last = plan.statusHistory.at(-1);
    if (!last || last.to !== 'declined' || !last.reason)
      problems.push({ path: ['statusHistory'], message: 'a declined plan records why and who recorded it' });
  }
  return problems;
}

export function membersOf(plan: Pick<Plan, 'subject'>): Member[] {
  return plan.subject.kind === 'citizen' ? [plan.subject.member] : plan.subject.members;
}

/**
 * Elements under SEL § 101 a, with the member they belong to: the anonymous-treatment
 * interventions themselves, goals served only by such interventions, follow-ups on either, and the
 * goals and follow-ups kept shielded after such an intervention left the plan (`keptVisibility`).
 */
export function protectedElements(plan: Pick<Plan, 'goals' | 'interventions' | 'followUps'>): Map<string, string | undefined> {
  const protectedIds = new Map<string, string | undefined>();
  for (const intervention of plan.interventions)
    if (intervention.confidentiality === 'anonymous-treatment') protectedIds.set(intervention.id, intervention.memberId);
  for (const goal of plan.goals) {
    if (goal.keptVisibility?.anonymousTreatment) {
      protectedIds.set(goal.id, goal.keptVisibility.memberId);
      continue;
    }
    const serving = plan.interventions.filter((i) => i.goalIds.includes(goal.id));
    if (serving.length > 0 && serving.every((i) => protectedIds.has(i.id))) protectedIds.set(goal.id, goal.memberId ?? serving[0]!.memberId);
  }
  for (const followUp of plan.followUps) {
    if (followUp.keptVisibility?.anonymousTreatment) protectedIds.set(followUp.id, followUp.keptVisibility.memberId);
    else if (followUp.elementId && protectedIds.has(followUp.elementId)) protectedIds.set(followUp.id, protectedIds.get(followUp.elementId));
  }
  return protectedIds;
}
