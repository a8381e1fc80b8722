/**
 * The body of `POST /v1/registrations`: `{ planId, kind: '<noun>.<past-tense verb>', …kind fields }`.
 * One schema per kind, one discriminated union over them. Content schemas are the model's, minus
 * what the layer fills in itself (ids when not given, provenance, rule version, `since`).
 */
import { z } from 'zod';
import { Agreement, CitizenView, Coordinator, FollowUp, Goal, Id, IsoDate, IsoDateTime, Intervention, Period, PlanStatus, ReplacedPlan, Situation, Topic } from '../model';

const PlanId = Id;

export const GoalInput = Goal.omit({ id: true, provenance: true, ruleVersion: true, status: true, keptVisibility: true }).extend({
  id: Id.optional(),
  status: Goal.shape.status.default('active'),
});

// Fields with a default in the model are re-declared without it: zod applies a default even inside
// `.partial()`, and a change must never reset a field it does not name.
// `level` and `parentGoalId` are held to the goal hierarchy's rules (`planIntegrityProblems`) when applied;
// `parentGoalId: null` takes a goal out from under its parent (an overall goal has none).
export const GoalChanges = Goal.pick({ title: true, description: true, status: true, targetDate: true, level: true })
  .extend({
    topics: z.array(Topic),
    parentGoalId: Goal.shape.parentGoalId.unwrap().nullable().describe('The goal this one serves; null: none (an overall goal has none)'),
  })
  .partial()
  .refine((c) => Object.keys(c).length > 0, { message: 'name at least one field to change' });

export const InterventionInput = Intervention.omit({ id: true, provenance: true, ruleVersion: true, status: true, order: true }).extend({
  id: Id.optional(),
  status: z.enum(['planned', 'active']).default('planned'),
  order: Intervention.shape.order.optional(),
});

/** Sector and member are fixed once registered (R3, R4): moving an intervention is ending it and adding a new one. */
export const InterventionChanges = Intervention.pick({
  legalBasis: true,
  type: true,
  title: true,
  responsibleUnit: true,
  contact: true,
  period: true,
  order: true,
  providerId: true,
  hoursPerWeek: true,
})
  .extend({ status: z.enum(['planned', 'active']), dependsOn: z.array(Id), goalIds: z.array(Id), topics: z.array(Topic) })
  .partial()
  .refine((c) => Object.keys(c).length > 0, { message: 'name at least one field to change' });

export const FollowUpInput = FollowUp.omit({ id: true, provenance: true, done: true, doneAt: true, ruleVersion: true, keptVisibility: true }).extend({ id: Id.optional() });
export const AgreementInput = Agreement.omit({ id: true, provenance: true, ruleVersion: true }).extend({ id: Id.optional() });
export const CoordinatorInput = Coordinator.omit({ since: true });
/** The citizen's own words: recorded as given (trimmed), in the language they were given in. */
export const CitizenViewInput = z.object({
  id: Id.optional(),
  memberId: Id.optional(),
  text: z.string().trim().min(1).max(4000),
  language: CitizenView.shape.language.default('da'),
});

const base = { planId: PlanId };

export const GoalAdded = z.object({ ...base, kind: z.literal('goal.added'), goal: GoalInput });
export const GoalChanged = z.object({ ...base, kind: z.literal('goal.changed'), goalId: Id, changes: GoalChanges });
export const InterventionAdded = z.object({ ...base, kind: z.literal('intervention.added'), intervention: InterventionInput });
export const InterventionChanged = z.object({ ...base, kind: z.literal('intervention.changed'), interventionId: Id, changes: InterventionChanges });
export const InterventionEnded = z.object({
  ...base,
  kind: z.literal('intervention.ended'),
  interventionId: Id,
  endDate: IsoDate,
  reason: z.string().trim().min(1).max(2000).optional(),
});
export const FollowUpScheduled = z.object({ ...base, kind: z.literal('followup.scheduled'), followUp: FollowUpInput });
export const FollowUpDone = z.object({ ...base, kind: z.literal('followup.done'), followUpId: Id, doneAt: IsoDateTime.optional() });
export const AgreementAdded = z.object({ ...base, kind: z.literal('agreement.added'), agreement: AgreementInput });
/** A hand-over between coordinators (R5); recorded in the plan's coordinator history. */
export const CoordinatorChanged = z.object({ ...base, kind: z.literal('coordinator.changed'), coordinator: CoordinatorInput, reason: z.string().trim().min(1).max(2000).optional() });
export const PlanStatusChanged = z
  .object({ ...base, kind: z.literal('plan.status-changed'), status: PlanStatus, reason: z.string().trim().min(1).max(2000).optional() })
  .refine((r) => r.status !== 'declined' || !!r.reason, { message: 'a decline must state the reason', path: ['reason'] });

/**
 * The plan's own content, agreed with the citizen (R1, R2): its purpose, the situation as the
 * caseworker and citizen describe it, its time frame, and which sector plans it replaces or frames
 * (each for one member where the plan type is a member's, e.g. a child's plan in a family plan).
 * Only the fields named change. Kept in the Én plan: no rule sends them to a sector system.
 */
export const PlanDetailsChanges = z
  .object({
    purpose: z.string().trim().min(1).max(4000),
    situation: Situation,
    timeFrame: Period,
    replaces: z.array(ReplacedPlan).max(20),
  })
  .partial()
  .refine((c) => Object.keys(c).length > 0, { message: 'name at least one field to change' });
export const PlanDetailsChanged = z.object({ ...base, kind: z.literal('plan.details-changed'), changes: PlanDetailsChanges });

/** The citizen's (or a child's) own views and wishes (R1, R4), recorded by a caseworker or by the citizen. */
export const ViewRecorded = z.object({ ...base, kind: z.literal('view.recorded'), view: CitizenViewInput });

export const RegistrationRequest = z.discriminatedUnion('kind', [
  GoalAdded,
  GoalChanged,
  InterventionAdded,
  InterventionChanged,
  InterventionEnded,
  FollowUpScheduled,
  FollowUpDone,
  AgreementAdded,
  CoordinatorChanged,
  PlanStatusChanged,
  PlanDetailsChanged,
  ViewRecorded,
]);
export type RegistrationRequest = z.infer<typeof RegistrationRequest>;
