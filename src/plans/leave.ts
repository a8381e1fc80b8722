/**
 * A member leaves a family plan and gets their own (R4). Pure document logic:
 * - the new plan is offered to the member (status `offered`, same coordinator) and carries the
 *   member's own elements: goals, interventions, agreements and views with their `memberId`, the
 *   follow-ups on those (and those kept for the member after their element left), conflicts about
 *   them and the replaced sector plans attributed to them;
 * - the family plan keeps the member (with `leftAt` and `ownPlanId`) for its history, and loses
 *   those elements; family-wide elements stay with the family (a goal only the member's SEL § 101 a
 *   treatment served stays shielded for the member: `dropDanglingReferences`);
 * - references across the split (an intervention of the member serving a family goal, say) are
 *   dropped on both sides. Links to other municipalities are not carried over: they rest on the
 *   family's consent, and the new plan needs its own.
 */
import type { Member, Plan } from '../model';
import { followUpMemberOf, membersOf } from '../model';
import { dropDanglingReferences, type ElementList } from './references';

export interface LeaveOptions {
  newPlanId: string;
  at: string;
  actor: string;
  ruleVersion: string;
}

export interface LeaveOutcome {
  familyPlan: Plan;
  ownPlan: Plan;
  member: Member;
  moved: { list: ElementList; id: string }[];
}

export class LeaveError extends Error {}

export function leaveFamilyPlan(plan: Plan, memberId: string, options: LeaveOptions): LeaveOutcome {
  if (plan.subject.kind !== 'family') throw new LeaveError('only a member of a family plan can leave it');
  const member = plan.subject.members.find((m) => m.memberId === memberId);
  if (!member) throw new LeaveError('no such member in the plan');
  if (member.leftAt) throw new LeaveError('the member has already left the plan');
  if (plan.status === 'closed' || plan.status === 'declined') throw new LeaveError(`the plan is ${plan.status}; there is nothing to leave`);

  const mine = (element: { memberId?: string }) => element.memberId === memberId;
  const movedIds = new Set<string>();
  const moved: { list: ElementList; id: string }[] = [];
  for (const list of ['goals', 'interventions', 'agreements', 'citizenViews', 'situationNotes', 'careTeams'] as const)
    for (const element of plan[list] as { id: string; memberId?: string }[])
      if (mine(element)) {
        movedIds.add(element.id);
        moved.push({ list, id: element.id });
      }
  // A follow-up goes with its element, or, with none, with the member it is about (or was kept for).
  for (const followUp of plan.followUps)
    if (followUp.elementId ? movedIds.has(followUp.elementId) : followUpMemberOf(plan, followUp) === memberId) {
      movedIds.add(followUp.id);
      moved.push({ list: 'followUps', id: followUp.id });
    }
  const goes = (element: { id: string }) => movedIds.has(element.id);
  const stays = (element: { id: string }) => !movedIds.has(element.id);

  const { leftAt: _l, ownPlanId: _o, ...ownMember } = member;
  const ownDraft: Plan = {
    id: options.newPlanId,
    tenant: plan.tenant,
    origin: 'offered',
    status: 'offered',
    statusHistory: [{ to: 'offered', at: options.at, recordedBy: options.actor, reason: 'member left a family plan' }],
    subject: { kind: 'citizen', member: ownMember },
    citizenViews: plan.citizenViews.filter(goes),
    goals: plan.goals.filter(goes),
    interventions: plan.interventions.filter(goes),
    agreements: plan.agreements.filter(goes),
    followUps: plan.followUps.filter(goes),
    situationNotes: plan.situationNotes.filter(goes),
    careTeams: plan.careTeams.filter(goes),
    coordinator: plan.coordinator ? { ...plan.coordinator, since: options.at } : undefined,
    coordinatorHistory: plan.coordinator
      ? [{ to: plan.coordinator.name, toSector: plan.coordinator.sector, at: options.at, recordedBy: options.actor, reason: 'member left a family plan' }]
      : [],
    municipalities: plan.municipalities.map(({ link: _link, ...m }) => m),
    // Departments made parties to the family's plan were asked in for the family; they join the own plan by what moves with it.
    parties: [],
    replaces: plan.replaces.filter((r) => r.memberId === memberId),
    timeFrame: plan.timeFrame,
    conflicts: plan.conflicts.filter((c) => movedIds.has(c.elementId)),
    ruleVersion: options.ruleVersion,
    createdAt: options.at,
    updatedAt: options.at,
    version: 1,
  };
  const familyDraft: Plan = {
    ...plan,
    subject: { ...plan.subject, members: plan.subject.members.map((m) => (m.memberId === memberId ? { ...m, leftAt: options.at, ownPlanId: options.newPlanId } : m)) },
    citizenViews: plan.citizenViews.filter(stays),
    goals: plan.goals.filter(stays),
    interventions: plan.interventions.filter(stays),
    agreements: plan.agreements.filter(stays),
    followUps: plan.followUps.filter(stays),
    situationNotes: plan.situationNotes.filter(stays),
    careTeams: plan.careTeams.filter(stays),
    replaces: plan.replaces.filter((r) => r.memberId !== memberId),
    conflicts: plan.conflicts.filter((c) => !movedIds.has(c.elementId)),
    updatedAt: options.at,
    version: plan.version + 1,
  };
  // Follow-ups that crossed the split are kept on their own side; only references are repaired.
  const own = dropDanglingReferences(ownDraft, plan).plan;
  const family = dropDanglingReferences(familyDraft, plan).plan;
  if (membersOf(family).filter((m) => !m.leftAt).length === 0) throw new LeaveError('the last member cannot leave');
  return { familyPlan: family, ownPlan: own, member, moved };
}
