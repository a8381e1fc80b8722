/**
 * Applying a registration to a plan: pure. Validates against the plan (ids exist, the transition
 * is allowed) and the model (`Plan.parse`), stamps provenance `{ kind: 'registration',
 * registrationId, actor, at }`, and describes what goes out: the element as it now stands
 * (`Outbound`), which the relay reverse-maps per target.
 */
import {
  canTransition,
  isAnonymousTreatmentBasis,
  membersOf,
  Plan,
  planIntegrityProblems,
  type Agreement,
  type CitizenView,
  type Coordinator,
  type FollowUp,
  type Goal,
  type Intervention,
  type Member,
  type PlanStatus,
  type Provenance,
  type Sector,
} from '../model';
import type { RegistrationKind } from '../rules';
import { withSoleWriterSeen } from '../sync/merge';
import { elementIdsOf } from '../plans/references';
import { replacementProblems } from '../rules/completeness';
import { danishToday } from '../views/danish';
import { protectedElements } from '../views/plan-view';
import type { RegistrationRequest } from './kinds';

/** The model-side operation a target is asked to perform; reverse mappings are found by it. */
export type OutboundOperation = 'goal.upsert' | 'intervention.upsert' | 'intervention.end' | 'followup.upsert' | 'agreement.upsert' | 'coordinator.set' | 'plan.status' | 'plan.details' | 'view.record';

export const operationOf: Record<RegistrationKind, OutboundOperation> = {
  'goal.added': 'goal.upsert',
  'goal.changed': 'goal.upsert',
  'intervention.added': 'intervention.upsert',
  'intervention.changed': 'intervention.upsert',
  'intervention.ended': 'intervention.end',
  'followup.scheduled': 'followup.upsert',
  'followup.done': 'followup.upsert',
  'agreement.added': 'agreement.upsert',
  'coordinator.changed': 'coordinator.set',
  'plan.status-changed': 'plan.status',
  'plan.details-changed': 'plan.details',
  'view.recorded': 'view.record',
};

export type OutboundElement =
  | { type: 'goal'; goal: Goal }
  | { type: 'intervention'; intervention: Intervention }
  /**
   * `nextOpenDue`: the earliest due date of the plan's follow-ups still open after this registration
   * (this member's, in this follow-up's sector, and the plan-wide ones), null when none is; a target
   * that holds only "the next follow-up" (Ungedatabasen) sends that, not a done one's date, and
   * `nextOpenId` names the follow-up whose date that is (what the target then holds). Absent on rows
   * queued before they were carried.
   */
  | { type: 'followUp'; followUp: FollowUp; nextOpenDue?: string | null; nextOpenId?: string | null }
  | { type: 'agreement'; agreement: Agreement }
  | { type: 'coordinator'; coordinator: Coordinator; previous?: string; reason?: string }
  | { type: 'planStatus'; status: PlanStatus; previous: PlanStatus; reason?: string }
  | { type: 'planDetails'; changed: string[] }
  | { type: 'citizenView'; citizenView: CitizenView };

/** What a registration sends to the sector systems: the element as it now stands, with context. */
export interface Outbound {
  operation: OutboundOperation;
  kind: RegistrationKind;
  registrationId: string;
  tenant: string;
  planId: string;
  at: string;
  actor: string;
  /** The element concerned (goal, intervention, follow-up, agreement or citizen view id); absent for plan-wide ones. */
  elementId?: string;
  /** The member the data is about; the consent question is asked for this member's citizen. */
  memberId: string;
  citizenId: string;
  birthDate: string;
  sector?: Sector;
  legalBasis?: string;
  confidentiality?: string;
  planTypes: string[];
  /** The sector plan types the Én plan replaces or frames (for the targets' own plan references). */
  element: OutboundElement;
}

export interface ApplyContext {
  registrationId: string;
  actor: string;
  at: string;
  ruleVersion: string;
  newId: () => string;
}

/** A registration that does not fit the plan: answered 400 with these issues; nothing is stored. */
export class RegistrationInvalid extends Error {
  constructor(readonly issues: { path: string; message: string }[]) {
    super(issues.map((i) => `${i.path}: ${i.message}`).join('; '));
    this.name = 'RegistrationInvalid';
  }
}

/** The plan cannot take this registration in its state (closed, declined, or a forbidden transition). */
export class RegistrationConflict extends Error {
  constructor(
    readonly problem: 'plan-not-open' | 'invalid-transition',
    message: string,
  ) {
    super(message);
    this.name = 'RegistrationConflict';
  }
}

const openStatuses: readonly PlanStatus[] = ['requested', 'offered', 'accepted', 'active'];

function invalid(path: string, message: string): never {
  throw new RegistrationInvalid([{ path, message }]);
}

export function applyRegistration(plan: Plan, request: RegistrationRequest, ctx: ApplyContext): { plan: Plan; outbound: Outbound } {
  if (request.kind !== 'plan.status-changed' && !openStatuses.includes(plan.status))
    throw new RegistrationConflict('plan-not-open', `the plan is ${plan.status}; registrations need a plan that is requested, offered, accepted or active`);

  // A change to a source's element keeps what that source last reported (`withSoleWriterSeen`), so its
  // next report restating it is no change to ours, while a change of its own is still a conflict.
  const provenance: Provenance = { kind: 'registration', registrationId: ctx.registrationId, actor: ctx.actor, at: ctx.at };
  const members = membersOf(plan);
  const primary = members.find((m) => !m.leftAt) ?? members[0]!;
  const memberById = (id: string | undefined, path: string): Member => {
    if (id === undefined) return primary;
    const member = members.find((m) => m.memberId === id);
    if (!member) invalid(path, `no member ${id} in the plan`);
    if (member.leftAt) invalid(path, `member ${id} has left the family plan`);
    return member;
  };
  const next: Record<string, unknown> = { ...plan, updatedAt: ctx.at, version: plan.version + 1 };
  const planTypes = [...new Set(plan.replaces.map((r) => r.planType))];
  const common = { operation: operationOf[request.kind], kind: request.kind, registrationId: ctx.registrationId, tenant: plan.tenant, planId: plan.id, at: ctx.at, actor: ctx.actor, planTypes };
  const about = (member: Member) => ({ memberId: member.memberId, citizenId: member.citizenId, birthDate: member.birthDate });
  // Ids are the plan's, not a list's: the § 101 a shield, the views and the FHIR export look an element
  // up by id alone, so a goal sharing an intervention's id took its visibility and its references.
  const taken = elementIdsOf(plan);
  const unique = (id: string, path: string) => {
    if (taken.has(id)) invalid(path, `the plan already has an element with id ${id}`);
    return id;
  };
  let outbound: Outbound;

  switch (request.kind) {
    case 'goal.added': {
      const { id, ...rest } = request.goal;
      const member = memberById(rest.memberId, 'goal.memberId');
      const goal = { ...rest, id: unique(id ?? ctx.newId(), 'goal.id'), ruleVersion: ctx.ruleVersion, provenance: [provenance] } as Goal;
      next.goals = [...plan.goals, goal];
      outbound = { ...common, ...about(member), elementId: goal.id, sector: goal.sector, element: { type: 'goal', goal } };
      break;
    }
    case 'goal.changed': {
      const current = plan.goals.find((g) => g.id === request.goalId) ?? invalid('goalId', `no goal ${request.goalId} in the plan`);
      const { parentGoalId, ...changes } = request.changes;
      const { parentGoalId: currentParent, ...kept } = current;
      const parent = parentGoalId === null ? undefined : (parentGoalId ?? currentParent);
      const goal = { ...kept, ...stripUndefined(changes), ...(parent !== undefined ? { parentGoalId: parent } : {}), provenance: [...withSoleWriterSeen(current), provenance] } as Goal;
      next.goals = plan.goals.map((g) => (g.id === goal.id ? goal : g));
      hierarchyProblems(plan, next.goals as Goal[], goal.id, request.changes);
      outbound = { ...common, ...about(memberById(goal.memberId, 'goalId')), elementId: goal.id, sector: goal.sector, element: { type: 'goal', goal } };
      break;
    }
    case 'intervention.added': {
      const { id, ...rest } = request.intervention;
      const member = memberById(rest.memberId, 'intervention.memberId');
      const intervention = {
        ...rest,
        id: unique(id ?? ctx.newId(), 'intervention.id'),
        order: rest.order ?? plan.interventions.length + 1,
        ruleVersion: ctx.ruleVersion,
        provenance: [provenance],
        ...anonymousIfSection101a(rest.legalBasis),
      } as Intervention;
      next.interventions = [...plan.interventions, intervention];
      outbound = interventionOutbound(common, about(member), intervention);
      break;
    }
    case 'intervention.changed': {
      const current = plan.interventions.find((i) => i.id === request.interventionId) ?? invalid('interventionId', `no intervention ${request.interventionId} in the plan`);
      if (current.status === 'ended' || current.status === 'cancelled') invalid('interventionId', `the intervention is ${current.status}; register a new one instead`);
      const changed = { ...current, ...stripUndefined(request.changes), provenance: [...withSoleWriterSeen(current), provenance] };
      const intervention = { ...changed, ...anonymousIfSection101a(changed.legalBasis) } as Intervention;
      next.interventions = plan.interventions.map((i) => (i.id === intervention.id ? intervention : i));
      outbound = interventionOutbound(common, about(memberById(intervention.memberId, 'interventionId')), intervention);
      break;
    }
    case 'intervention.ended': {
      const current = plan.interventions.find((i) => i.id === request.interventionId) ?? invalid('interventionId', `no intervention ${request.interventionId} in the plan`);
      if (current.status === 'ended' || current.status === 'cancelled') invalid('interventionId', `the intervention is already ${current.status}`);
      if (request.endDate < current.period.start) invalid('endDate', `an intervention cannot end before it starts (${current.period.start})`);
      const intervention = { ...current, status: 'ended', period: { ...current.period, end: request.endDate }, provenance: [...withSoleWriterSeen(current), provenance] } as Intervention;
      next.interventions = plan.interventions.map((i) => (i.id === intervention.id ? intervention : i));
      outbound = interventionOutbound(common, about(memberById(intervention.memberId, 'interventionId')), intervention);
      break;
    }
    case 'followup.scheduled': {
      const { id, ...rest } = request.followUp;
      if (rest.memberId !== undefined) {
        memberById(rest.memberId, 'followUp.memberId');
        const element = rest.elementId ? (plan.goals.find((g) => g.id === rest.elementId) ?? plan.interventions.find((i) => i.id === rest.elementId)) : undefined;
        if (element?.memberId !== undefined && element.memberId !== rest.memberId) invalid('followUp.memberId', `${rest.elementId} is another member's; a follow-up of it is about that member`);
      }
      const followUp = { ...rest, id: unique(id ?? ctx.newId(), 'followUp.id'), done: false, ruleVersion: ctx.ruleVersion, provenance: [provenance] } as FollowUp;
      next.followUps = [...plan.followUps, followUp];
      outbound = followUpOutbound(plan, next.followUps as FollowUp[], common, followUp, memberById);
      break;
    }
    case 'followup.done': {
      const current = plan.followUps.find((f) => f.id === request.followUpId) ?? invalid('followUpId', `no follow-up ${request.followUpId} in the plan`);
      if (current.done) invalid('followUpId', 'the follow-up is already done');
      const followUp = { ...current, done: true, doneAt: request.doneAt ?? ctx.at, provenance: [...withSoleWriterSeen(current), provenance] } as FollowUp;
      next.followUps = plan.followUps.map((f) => (f.id === followUp.id ? followUp : f));
      outbound = followUpOutbound(plan, next.followUps as FollowUp[], common, followUp, memberById);
      break;
    }
    case 'agreement.added': {
      const { id, ...rest } = request.agreement;
      const member = memberById(rest.memberId, 'agreement.memberId');
      const agreement = { ...rest, id: unique(id ?? ctx.newId(), 'agreement.id'), ruleVersion: ctx.ruleVersion, provenance: [provenance] } as Agreement;
      next.agreements = [...plan.agreements, agreement];
      outbound = agreement.sector
        ? { ...common, ...about(member), elementId: agreement.id, sector: agreement.sector, element: { type: 'agreement', agreement } }
        : { ...common, ...about(member), elementId: agreement.id, element: { type: 'agreement', agreement } };
      break;
    }
    case 'coordinator.changed': {
      const coordinator = { ...request.coordinator, since: ctx.at } as Coordinator;
      next.coordinator = coordinator;
      next.coordinatorHistory = [
        ...plan.coordinatorHistory,
        { from: plan.coordinator?.name, to: coordinator.name, fromSector: plan.coordinator?.sector, toSector: coordinator.sector, at: ctx.at, reason: request.reason, recordedBy: ctx.actor },
      ];
      outbound = { ...common, ...about(primary), element: { type: 'coordinator', coordinator, previous: plan.coordinator?.name, reason: request.reason } };
      break;
    }
    case 'plan.details-changed': {
      const { purpose, situation, timeFrame, replaces } = request.changes;
      if (purpose !== undefined) next.purpose = purpose;
      if (situation !== undefined) next.situation = situation;
      if (timeFrame !== undefined) next.timeFrame = timeFrame;
      if (replaces !== undefined) {
        replaces.forEach((r, i) => r.memberId !== undefined && memberById(r.memberId, `changes.replaces.${i}.memberId`));
        const problems = replacementProblems(replaces, danishToday(new Date(ctx.at)), members);
        if (problems.length > 0) throw new RegistrationInvalid(problems.map((p) => ({ path: `changes.replaces.${p.index}.${p.field}`, message: p.message })));
        next.replaces = replaces;
      }
      outbound = { ...common, ...about(primary), element: { type: 'planDetails', changed: Object.keys(request.changes).sort() } };
      break;
    }
    case 'view.recorded': {
      const { id, memberId, ...rest } = request.view;
      const member = memberById(memberId, 'view.memberId');
      const citizenView: CitizenView = { ...rest, id: unique(id ?? ctx.newId(), 'view.id'), memberId: member.memberId, recordedAt: ctx.at, recordedBy: ctx.actor, ruleVersion: ctx.ruleVersion, provenance: [provenance] };
      next.citizenViews = [...plan.citizenViews, citizenView];
      outbound = { ...common, ...about(member), elementId: citizenView.id, element: { type: 'citizenView', citizenView } };
      break;
    }
    case 'plan.status-changed': {
      if (!canTransition(plan.status, request.status)) throw new RegistrationConflict('invalid-transition', `a plan that is ${plan.status} cannot become ${request.status}`);
      next.status = request.status;
      next.statusHistory = [...plan.statusHistory, { from: plan.status, to: request.status, at: ctx.at, recordedBy: ctx.actor, reason: request.reason }];
      outbound = { ...common, ...about(primary), element: { type: 'planStatus', status: request.status, previous: plan.status, reason: request.reason } };
      break;
    }
  }

  const parsed = Plan.safeParse(next);
  if (!parsed.success)
    throw new RegistrationInvalid(parsed.error.issues.map((i) => ({ path: i.path.map(String).join('.') || '(plan)', message: i.message })));
  // What the views shield as anonymous treatment (a goal served only by SEL § 101 a interventions, a
  // follow-up on one) goes out marked so, and the routing table sends it nowhere (R4).
  if (outbound!.elementId && outbound!.confidentiality !== 'anonymous-treatment' && protectedElements(parsed.data).has(outbound!.elementId))
    outbound = { ...outbound!, confidentiality: 'anonymous-treatment' };
  return { plan: parsed.data, outbound: outbound! };
}

/**
 * The goal hierarchy's rules (`planIntegrityProblems`) as they bear on the goal a `goal.changed`
 * changed, named by the field of the change that broke them: an overall goal left with its parent is
 * the level's doing unless the change also named a parent. Other goals' problems are left to `Plan`.
 */
function hierarchyProblems(plan: Plan, goals: readonly Goal[], goalId: string, changes: { level?: unknown; parentGoalId?: unknown }): void {
  const index = goals.findIndex((g) => g.id === goalId);
  const problems = planIntegrityProblems({ ...plan, goals }).filter((p) => p.path[0] === 'goals' && p.path[1] === index && p.path[2] === 'parentGoalId');
  if (problems.length === 0) return;
  const byLevel = changes.parentGoalId === undefined && changes.level !== undefined;
  throw new RegistrationInvalid(
    problems.map((p) =>
      byLevel
        ? { path: 'changes.level', message: `${p.message}: send parentGoalId: null with the level to take it out from under ${goals[index]!.parentGoalId}` }
        : { path: changes.parentGoalId !== undefined ? 'changes.parentGoalId' : p.path.join('.'), message: p.message },
    ),
  );
}

function interventionOutbound(common: Omit<Outbound, 'memberId' | 'citizenId' | 'birthDate' | 'element'>, member: Pick<Outbound, 'memberId' | 'citizenId' | 'birthDate'>, intervention: Intervention): Outbound {
  return {
    ...common,
    ...member,
    elementId: intervention.id,
    sector: intervention.sector,
    legalBasis: intervention.legalBasis,
    confidentiality: intervention.confidentiality,
    element: { type: 'intervention', intervention },
  };
}

/** A follow-up of a goal or intervention belongs to that element's sector and member; else it is plan-wide (of its kept member, if any). */
function followUpOutbound(
  plan: Plan,
  followUps: readonly FollowUp[],
  common: Omit<Outbound, 'memberId' | 'citizenId' | 'birthDate' | 'element'>,
  followUp: FollowUp,
  memberById: (id: string | undefined, path: string) => Member,
): Outbound {
  if (!followUp.elementId) {
    // One of a member's plan as a whole, or whose element left, is about that member, not the family's first.
    const member = memberById(followUp.memberId ?? followUp.keptVisibility?.memberId, 'followUpId');
    const element = { type: 'followUp' as const, followUp, ...nextOpen(plan, followUps, undefined, member.memberId) };
    return { ...common, memberId: member.memberId, citizenId: member.citizenId, birthDate: member.birthDate, elementId: followUp.id, element };
  }
  const goal = plan.goals.find((g) => g.id === followUp.elementId);
  const intervention = plan.interventions.find((i) => i.id === followUp.elementId);
  if (!goal && !intervention) invalid('followUp.elementId', `no goal or intervention ${followUp.elementId} in the plan`);
  const member = memberById(intervention?.memberId ?? goal?.memberId, 'followUp.elementId');
  const element = { type: 'followUp' as const, followUp, ...nextOpen(plan, followUps, (intervention ?? goal)!.sector, member.memberId) };
  return {
    ...common,
    memberId: member.memberId,
    citizenId: member.citizenId,
    birthDate: member.birthDate,
    elementId: followUp.id,
    sector: (intervention ?? goal)!.sector,
    legalBasis: intervention?.legalBasis,
    confidentiality: intervention?.confidentiality,
    element,
  };
}

/**
 * The earliest due date among the open follow-ups that belong with one of `sector` for this member:
 * those on this member's goals and interventions of the same sector, and the plan-wide ones (the
 * plan's own, and one kept for this member after its element left, unless it was about anonymous
 * treatment or for named departments alone), and the follow-up it is (the first listed of those due
 * that day). Nulls when none is open.
 */
function nextOpen(plan: Plan, followUps: readonly FollowUp[], sector: Sector | undefined, memberId: string): { nextOpenDue: string | null; nextOpenId: string | null } {
  const primary = membersOf(plan).find((m) => !m.leftAt)?.memberId;
  const owner = (id: string) => plan.goals.find((g) => g.id === id) ?? plan.interventions.find((i) => i.id === id);
  let next: FollowUp | undefined;
  for (const f of followUps) {
    if (f.done || (next && next.due <= f.due)) continue;
    const element = f.elementId ? owner(f.elementId) : undefined;
    // A plan-level one kept after its element left counts only for that member, and never when it was about anonymous treatment or for named departments alone (R4, R9).
    const plainPlanLevel = !f.elementId && (!f.keptVisibility || (!f.keptVisibility.anonymousTreatment && !f.keptVisibility.audience)) && (f.memberId ?? f.keptVisibility?.memberId ?? memberId) === memberId;
    // So does one on a goal kept shielded after the § 101 a treatment it served left (its member's alone, and not to be told).
    const kept = element && 'keptVisibility' in element ? element.keptVisibility : undefined;
    const ownedHere = !!element && !kept?.anonymousTreatment && !kept?.audience && element.sector === sector && (kept?.memberId ?? element.memberId ?? primary) === memberId;
    if (plainPlanLevel || ownedHere) next = f;
  }
  return { nextOpenDue: next?.due ?? null, nextOpenId: next?.id ?? null };
}

/** An intervention under SEL § 101 a is anonymous treatment, whatever the registration said (fail closed, R4). */
const anonymousIfSection101a = (legalBasis: string | undefined) => (isAnonymousTreatmentBasis(legalBasis) ? { confidentiality: 'anonymous-treatment' as const } : {});

function stripUndefined<T extends Record<string, unknown>>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/**
 * The facts the routing table looks at. Anything about anonymous treatment is looked at as the
 * element it is about, whose rule stops it (R4) — a follow-up kept so after its § 101 a element left
 * the plan has no sector, but is no plan-wide news.
 */
export function routingSubjectOf(outbound: Outbound) {
  return {
    kind: outbound.kind,
    scope: outbound.sector || outbound.confidentiality === 'anonymous-treatment' ? ('element' as const) : ('plan' as const),
    sector: outbound.sector,
    legalBasis: outbound.legalBasis,
    confidentiality: outbound.confidentiality,
    planTypes: outbound.planTypes,
  };
}
