/**
 * Who sees what of a plan (R4, R5, R8, R13, R14). One pure function, `viewOf(plan, viewer)`,
 * decides it for every party; `GET /v1/plans/{id}` and `GET /v1/citizen/plan` apply it. It
 * answers null when the viewer may not see the plan at all (the API then says 404, so the
 * plan's existence is not revealed either).
 *
 * - **caseworker** of the owning municipality: the whole plan, less what the citizen's consent gives
 *   other departments alone (R9; the token's `department`, decision 0026). Elements under SEL § 101 a
 *   (anonymous addiction treatment) are shown, and listed in `view.protectedElementIds`, to
 *   caseworkers only: the coordinating caseworker must be able to avoid planning against a
 *   treatment the citizen is in, and the caseworker is bound by confidentiality anyway. No other
 *   party ever gets them (decision recorded in docs/decisions).
 * - **citizen** (an active member): plan-level fields, the coordinator's contact (R5), their own
 *   elements (sector systems' situation notes and care teams included) and the family-wide ones (no `memberId`); a parent or custody holder also sees the
 *   children's elements. Never another adult member's elements (separated parents, R4), never a
 *   § 101 a element of another member — not even a child's to a parent — and nothing that would
 *   reveal one (a goal served only by such a treatment, a follow-up on it). What an element that
 *   left the plan leaves behind (a follow-up on it, a goal it shielded) goes only to whom that
 *   element did (`keptVisibility`, decision 0004). Other members appear only with member id and
 *   role (children in full to their parents).
 * - **provider**: the interventions it performs and the goals they serve, plus the plan's id,
 *   status and coordinator contact (R14); 404 when it performs nothing in the plan. § 101 a
 *   interventions are never shown to a provider, even the one performing them (it holds its own
 *   records; the plan is not the channel for them).
 * - **another municipality**: only through an explicit link on the plan (R8) naming parts, and
 *   only the named parts the citizen's consent (recipient `municipality:<code>`, source
 *   `enplan`) allows now, decided by `decideFlow`. Each member's elements need that member's
 *   consent; health-sector elements also need explicit health consent; § 101 a never goes.
 *
 * Provenance (which system a fact came from) is shown to caseworkers and citizens (R13), not to
 * providers or other municipalities (data minimisation, R16).
 */
import { z } from 'zod';
import { decideFlow } from '../consent/policy';
import { elementLists } from '../plans/references';
import { danishToday } from './danish';
import {
  ageOn,
  audienceOf,
  Agreement,
  CareTeamContact,
  CitizenView,
  Conflict,
  Coordinator,
  CoordinatorHandOver,
  FollowUp,
  followUpMemberOf,
  Goal,
  Id,
  InvolvedMunicipality,
  PlanParty,
  IsoDateTime,
  Intervention,
  Member,
  MunicipalityCode,
  Period,
  PlanOrigin,
  PlanStatus,
  Provenances,
  Department,
  ReplacedPlan,
  Situation,
  SituationNote,
  StatusChange,
  membersOf,
  protectedElements,
  type KeptVisibility,
  type ConsentGrant,
  type DataCategory,
  type Plan,
  type Provenance,
} from '../model';

/** Which elements are under SEL § 101 a is the model's rule; the views apply it. */
export { protectedElements } from '../model';

export const LinkPart = z.enum(['goals', 'interventions', 'agreements', 'followUps', 'coordinator']);
export type LinkPart = z.infer<typeof LinkPart>;

/** The data category a linked part flows as; the citizen's consent is asked per category. */
export const linkPartCategory: Readonly<Record<LinkPart, DataCategory>> = {
  goals: 'goals',
  interventions: 'interventions',
  agreements: 'plan-core',
  followUps: 'plan-core',
  coordinator: 'plan-core',
};

const optionalProvenance = { provenance: Provenances.optional() };
const MemberView = Member.partial({ citizenId: true, birthDate: true });

export const ViewInfo = z.object({
  as: z.enum(['caseworker', 'citizen', 'provider', 'municipality']),
  /** Citizen view: the member the viewer is. */
  memberId: Id.optional(),
  /** Provider view: the provider. */
  providerId: z.string().optional(),
  /** Municipality view: the viewing municipality, the parts it sees and the grants that allow it. */
  municipality: MunicipalityCode.optional(),
  parts: z.array(LinkPart).optional(),
  consentRefs: z.array(Id).optional(),
  /** Caseworker view only: elements under SEL § 101 a (anonymous treatment) or revealing one. */
  protectedElementIds: z.array(Id).optional(),
  /** Caseworker view only: the department the caseworker reads as (data consent gives named departments alone, R9). */
  department: Department.optional(),
  /**
   * Caseworker view with a department, when read or found (decision 0032): whether that department takes
   * part in the plan. False: the reading is recorded as from outside the plan and told to the citizen apart.
   */
  departmentInPlan: z.boolean().optional(),
});
export type ViewInfo = z.infer<typeof ViewInfo>;

/** A plan as one party sees it: the plan's fields, each present only where the party may see it. */
export const PlanView = z.object({
  id: Id,
  tenant: MunicipalityCode,
  status: PlanStatus,
  origin: PlanOrigin.optional(),
  /** `recordedBy` is absent in the citizen's view: the authority is named, not its users. */
  statusHistory: z.array(StatusChange.partial({ recordedBy: true })).optional(),
  subject: z
    .discriminatedUnion('kind', [
      z.object({ kind: z.literal('citizen'), member: MemberView }),
      z.object({ kind: z.literal('family'), name: z.string().optional(), members: z.array(MemberView) }),
    ])
    .optional(),
  purpose: z.string().optional(),
  situation: Situation.optional(),
  situationNotes: z.array(SituationNote.extend(optionalProvenance)).optional(),
  citizenViews: z.array(CitizenView.extend(optionalProvenance)).optional(),
  goals: z.array(Goal.extend(optionalProvenance)).optional(),
  interventions: z.array(Intervention.extend(optionalProvenance)).optional(),
  agreements: z.array(Agreement.extend(optionalProvenance)).optional(),
  followUps: z.array(FollowUp.extend(optionalProvenance)).optional(),
  coordinator: Coordinator.optional(),
  coordinatorHistory: z.array(CoordinatorHandOver.partial({ recordedBy: true })).optional(),
  careTeams: z.array(CareTeamContact.extend(optionalProvenance)).optional(),
  municipalities: z.array(InvolvedMunicipality).optional(),
  parties: z.array(PlanParty.partial({ recordedBy: true })).optional(),
  replaces: z.array(ReplacedPlan).optional(),
  timeFrame: Period.optional(),
  conflicts: z.array(Conflict).optional(),
  ruleVersion: z.string().optional(),
  createdAt: IsoDateTime.optional(),
  updatedAt: IsoDateTime.optional(),
  version: z.number().int().optional(),
  view: ViewInfo,
});
export type PlanView = z.infer<typeof PlanView>;

export type Viewer =
  /** `department`: the caseworker's, from their token; without one, only what consent gives the whole plan. */
  | { kind: 'caseworker'; department?: Department }
  /** `at`: when it is read; a custody holder sees a child's part only while the child is under 18. */
  | { kind: 'citizen'; citizenId: string; at?: Date }
  | { kind: 'provider'; providerId: string }
  /** `grants`: the consent grants of the plan's members; `at`: when the flow happens. */
  | { kind: 'municipality'; code: string; grants: readonly ConsentGrant[]; at: Date };

/** What a view discloses to a party outside the owning municipality, per citizen, for the audit log. */
export interface Disclosure {
  citizenId: string;
  recipient: string;
  categories: DataCategory[];
  consentRefs: string[];
  elements: number;
}

export interface ExplainedView {
  view: PlanView | null;
  disclosures: Disclosure[];
}

const childRoles = new Set(['child', 'young-person']);
const parentRoles = new Set(['parent', 'custody-holder']);

const stripProvenance = <T extends { provenance?: unknown }>(element: T): Omit<T, 'provenance'> => {
  const { provenance: _p, ...rest } = element;
  return rest;
};

/** Keeps only references to elements the viewer sees. */
function trimReferences(view: Pick<PlanView, 'goals' | 'interventions'>): void {
  const goalIds = new Set((view.goals ?? []).map((g) => g.id));
  const interventionIds = new Set((view.interventions ?? []).map((i) => i.id));
  view.goals = view.goals?.map((g) => (g.parentGoalId && !goalIds.has(g.parentGoalId) ? { ...g, parentGoalId: undefined } : g));
  view.interventions = view.interventions?.map((i) => ({ ...i, goalIds: i.goalIds.filter((id) => goalIds.has(id)), dependsOn: i.dependsOn.filter((id) => interventionIds.has(id)) }));
}

/** May a caseworker of `department` (undefined: none named) see what this provenance entry brought (R9)? */
const entryShownTo = (department: Department | undefined) => (entry: Provenance) => entry.kind !== 'source' || !entry.audience || (!!department && entry.audience.includes(department));

/** May a caseworker of `department` see an element kept for named departments alone after what it was about left the plan? */
const keptShownTo = (department: Department | undefined) => (element: { keptVisibility?: KeptVisibility }) =>
  !element.keptVisibility?.audience || (!!department && element.keptVisibility.audience.includes(department));

/** Whether anything in the plan reached named departments alone. */
function holdsDepartmentData(plan: Plan): boolean {
  const restricted = (provenance: readonly Provenance[]) => provenance.some((p) => p.kind === 'source' && !!p.audience);
  return (
    elementLists.some((list) => (plan[list] as { provenance: Provenance[] }[]).some((e) => restricted(e.provenance))) ||
    plan.conflicts.some((c) => c.values.some((v) => restricted(v.provenance))) ||
    plan.followUps.some((f) => !!f.keptVisibility?.audience)
  );
}

/**
 * The whole plan, less what consent gives other departments alone (R9): an element is shown when
 * the entry that wrote its content (the last) may be shown, with only the entries that may; a
 * follow-up on a hidden element and a conflict any of whose values is hidden are left out too.
 */
function caseworkerView(plan: Plan, department?: Department): PlanView {
  const info = { as: 'caseworker' as const, ...(department ? { department } : {}) };
  if (!holdsDepartmentData(plan)) return { ...plan, view: { ...info, protectedElementIds: [...protectedElements(plan).keys()] } };
  const shown = entryShownTo(department);
  const keptShown = keptShownTo(department);
  const audienceShown = (provenance: readonly Provenance[]) => {
    const audience = audienceOf(provenance);
    return !audience || (!!department && audience.includes(department));
  };
  const hidden = new Set<string>();
  const keep = <T extends { id: string; provenance: Provenance[]; keptVisibility?: KeptVisibility }>(elements: readonly T[]): T[] =>
    elements.flatMap((element) => {
      if (!audienceShown(element.provenance) || !keptShown(element)) {
        hidden.add(element.id);
        return [];
      }
      const entries = element.provenance.filter(shown);
      return [entries.length === element.provenance.length ? element : { ...element, provenance: entries }];
    });
  const view: PlanView = {
    ...plan,
    goals: keep(plan.goals),
    interventions: keep(plan.interventions),
    agreements: keep(plan.agreements),
    citizenViews: keep(plan.citizenViews),
    situationNotes: keep(plan.situationNotes),
    careTeams: keep(plan.careTeams),
    followUps: [],
    conflicts: [],
    view: info,
  };
  view.followUps = keep(plan.followUps).filter((f) => !f.elementId || !hidden.has(f.elementId));
  view.conflicts = plan.conflicts.filter((c) => !hidden.has(c.elementId) && c.values.every((v) => v.provenance.some(shown)));
  trimReferences(view);
  view.view.protectedElementIds = [...protectedElements(plan).keys()].filter((id) => !hidden.has(id));
  return view;
}

/** A caseworker as a viewer: the department their token names, if any. */
export const caseworkerViewer = (principal: { department?: Department }): Viewer => ({ kind: 'caseworker', ...(principal.department ? { department: principal.department } : {}) });

/**
 * The plan less what consent gives other departments alone, still a plan: for a view built on top
 * of what a caseworker of `department` may see (the citizen's view in an access report they answer).
 */
export function planAsCaseworkerMaySee(plan: Plan, department: Department | undefined): Plan {
  if (!holdsDepartmentData(plan)) return plan;
  const { view: _info, ...rest } = caseworkerView(plan, department);
  return rest as Plan;
}

/** The elements and conflicts a caseworker of `department` may not see, for checks outside a view (settling a conflict). */
export function hiddenFromCaseworker(plan: Plan, department: Department | undefined): { elements: Set<string>; conflicts: Set<string> } {
  if (!holdsDepartmentData(plan)) return { elements: new Set(), conflicts: new Set() };
  const view = caseworkerView(plan, department);
  const shownIds = new Set(elementLists.flatMap((list) => ((view[list] ?? []) as { id: string }[]).map((e) => e.id)));
  const shownConflicts = new Set((view.conflicts ?? []).map((c) => c.id));
  return {
    elements: new Set(elementLists.flatMap((list) => (plan[list] as { id: string }[]).map((e) => e.id)).filter((id) => !shownIds.has(id))),
    conflicts: new Set(plan.conflicts.map((c) => c.id).filter((id) => !shownConflicts.has(id))),
  };
}

function citizenView(plan: Plan, citizenId: string, at: Date): PlanView | null {
  const members = membersOf(plan);
  const me = members.find((m) => m.citizenId === citizenId && !m.leftAt);
  if (!me) return null;
  const isParent = parentRoles.has(me.role);
  // Custody ends at 18: a young person keeps the role to 23 (the ungeplan), not the parent's insight.
  const today = danishToday(at);
  const inMyCustody = (m: Member | undefined) => isParent && !!m && childRoles.has(m.role) && ageOn(m.birthDate, today) < 18;
  const memberById = new Map(members.map((m) => [m.memberId, m]));
  const sees = (memberId: string | undefined) => memberId === undefined || memberId === me.memberId || inMyCustody(memberById.get(memberId));
  const shielded = protectedElements(plan);
  const visible = (element: { id: string; memberId?: string }) => {
    if (shielded.has(element.id)) return shielded.get(element.id) === me.memberId;
    return sees(element.memberId);
  };

  const goals = plan.goals.filter(visible);
  const interventions = plan.interventions.filter(visible);
  const shownIds = new Set([...goals, ...interventions].map((e) => e.id));
  // A follow-up of one member's plan as a whole, or one whose element left (its kept member), goes to
  // whoever may see that member's elements; one whose member is not known to no member.
  const followUpSeen = (f: FollowUp) => {
    const about = followUpMemberOf(plan, f);
    return about !== null && sees(about);
  };
  const followUps = plan.followUps.filter((f) => (shielded.has(f.id) ? shielded.get(f.id) === me.memberId : f.elementId ? shownIds.has(f.elementId) : followUpSeen(f)));
  const memberView = (m: Member) => (m.memberId === me.memberId || inMyCustody(m) ? m : { memberId: m.memberId, role: m.role, ...(m.leftAt ? { leftAt: m.leftAt } : {}) });

  const view: PlanView = {
    id: plan.id,
    tenant: plan.tenant,
    status: plan.status,
    origin: plan.origin,
    // Who recorded a change is the authority, not its users (as with parties below).
    statusHistory: plan.statusHistory.map(({ recordedBy: _by, ...change }) => change),
    subject: plan.subject.kind === 'citizen' ? { kind: 'citizen', member: memberView(plan.subject.member) } : { kind: 'family', name: plan.subject.name, members: plan.subject.members.map(memberView) },
    purpose: plan.purpose,
    situation: plan.situation,
    // A sector system's notes and care teams are a member's own data, like their elements (R4).
    situationNotes: plan.situationNotes.filter((n) => sees(n.memberId)),
    citizenViews: plan.citizenViews.filter((v) => sees(v.memberId)),
    goals,
    interventions,
    agreements: plan.agreements.filter((a) => sees(a.memberId)),
    followUps,
    coordinator: plan.coordinator,
    coordinatorHistory: plan.coordinatorHistory.map(({ recordedBy: _by, ...handOver }) => handOver),
    careTeams: plan.careTeams.filter((t) => sees(t.memberId)),
    municipalities: plan.municipalities.map(({ link: _link, ...m }) => m),
    // Which departments were asked in, and why (decision 0032); not by whom: the citizen's log names the authority, not its users.
    parties: plan.parties.map(({ recordedBy: _by, ...party }) => party),
    replaces: plan.replaces.filter((r) => sees(r.memberId)),
    timeFrame: plan.timeFrame,
    ruleVersion: plan.ruleVersion,
    createdAt: plan.createdAt,
    updatedAt: plan.updatedAt,
    version: plan.version,
    view: { as: 'citizen', memberId: me.memberId },
  };
  trimReferences(view);
  return view;
}

function providerView(plan: Plan, providerId: string): ExplainedView {
  const interventions = plan.interventions.filter((i) => i.providerId === providerId && i.confidentiality !== 'anonymous-treatment');
  if (interventions.length === 0) return { view: null, disclosures: [] };
  const goalIds = new Set(interventions.flatMap((i) => i.goalIds));
  // A goal that would tell of anonymous treatment (SEL § 101 a) stays shielded though an ordinary intervention serves it (R4, decision 0004).
  const shielded = protectedElements(plan);
  const goals = plan.goals.filter((g) => goalIds.has(g.id) && !shielded.has(g.id));
  const view: PlanView = {
    id: plan.id,
    tenant: plan.tenant,
    status: plan.status,
    coordinator: plan.coordinator,
    goals: goals.map(stripProvenance),
    interventions: interventions.map(stripProvenance),
    view: { as: 'provider', providerId },
  };
  trimReferences(view);
  const citizenOf = new Map(membersOf(plan).map((m) => [m.memberId, m.citizenId]));
  const perCitizen = new Map<string, { elements: number; servesGoals: boolean }>();
  for (const i of interventions) {
    const citizenId = citizenOf.get(i.memberId)!;
    const entry = perCitizen.get(citizenId) ?? { elements: 0, servesGoals: false };
    perCitizen.set(citizenId, { elements: entry.elements + 1, servesGoals: entry.servesGoals || goals.some((g) => i.goalIds.includes(g.id)) });
  }
  const disclosures = [...perCitizen].map(([citizenId, entry]) => ({
    citizenId,
    recipient: `provider:${providerId}`,
    categories: (entry.servesGoals ? ['interventions', 'goals'] : ['interventions']) as DataCategory[],
    consentRefs: [],
    elements: entry.elements,
  }));
  return { view, disclosures };
}

function municipalityView(plan: Plan, viewer: Extract<Viewer, { kind: 'municipality' }>): ExplainedView {
  const none = { view: null, disclosures: [] };
  const entry = plan.municipalities.find((m) => m.code === viewer.code && m.link);
  if (!entry?.link || viewer.code === plan.tenant) return none;
  const members = membersOf(plan);
  const primary = members[0]!;
  const memberById = new Map(members.map((m) => [m.memberId, m]));
  const recipient = `municipality:${viewer.code}`;
  const decide = (member: Member, category: DataCategory) =>
    decideFlow({ citizenId: member.citizenId, birthDate: member.birthDate, source: 'enplan', recipient, category, at: viewer.at }, viewer.grants);

  const parts = entry.link.parts.filter((part) => decide(primary, linkPartCategory[part]).allowed);
  if (parts.length === 0) return none;

  const shielded = protectedElements(plan);
  const disclosed = new Map<string, { categories: Set<DataCategory>; consentRefs: Set<string>; elements: number }>();
  const note = (member: Member, categories: DataCategory[], refs: string[], elements: number) => {
    const d = disclosed.get(member.citizenId) ?? { categories: new Set(), consentRefs: new Set(), elements: 0 };
    categories.forEach((c) => d.categories.add(c));
    refs.forEach((r) => d.consentRefs.add(r));
    d.elements += elements;
    disclosed.set(member.citizenId, d);
  };
  /** May this element of this part go: its member's consent for the part's category (and health, for health-sector elements). */
  const mayShow = (part: LinkPart, element: { id: string; memberId?: string; sector?: string; provenance?: readonly Provenance[] }): boolean => {
    if (shielded.has(element.id)) return false;
    // What consent gives named departments alone never leaves the municipality (R9).
    if (element.provenance && audienceOf(element.provenance)) return false;
    const member = element.memberId ? memberById.get(element.memberId) : primary;
    if (!member || member.leftAt) return false;
    const categories: DataCategory[] = element.sector === 'health' ? [linkPartCategory[part], 'health'] : [linkPartCategory[part]];
    const decisions = categories.map((c) => decide(member, c));
    if (!decisions.every((d) => d.allowed)) return false;
    note(member, categories, decisions.flatMap((d) => (d.allowed && d.basis === 'consent' ? d.grantIds : [])), 1);
    return true;
  };

  const view: PlanView = {
    id: plan.id,
    tenant: plan.tenant,
    status: plan.status,
    municipalities: [entry],
    view: { as: 'municipality', municipality: viewer.code, parts, consentRefs: [] },
  };
  if (parts.includes('goals')) view.goals = plan.goals.filter((g) => mayShow('goals', g)).map(stripProvenance);
  if (parts.includes('interventions')) view.interventions = plan.interventions.filter((i) => mayShow('interventions', i)).map(stripProvenance);
  if (parts.includes('agreements')) view.agreements = plan.agreements.filter((a) => mayShow('agreements', a)).map(stripProvenance);
  if (parts.includes('followUps')) {
    const shown = new Set([...(view.goals ?? []), ...(view.interventions ?? [])].map((e) => e.id));
    // One whose element left the plan stays in the municipality: what decided who may see it left with the element.
    // One of a member's plan as a whole goes on that member's consent; one whose member is not known does not go.
    view.followUps = plan.followUps
      .filter((f) => {
        if (f.elementId) return shown.has(f.elementId) && mayShow('followUps', { id: f.id, provenance: f.provenance });
        const about = followUpMemberOf(plan, f);
        return !f.keptVisibility && about !== null && mayShow('followUps', { id: f.id, memberId: about, provenance: f.provenance });
      })
      .map(stripProvenance);
  }
  if (parts.includes('coordinator')) {
    view.coordinator = plan.coordinator;
    const decision = decide(primary, 'plan-core');
    note(primary, ['plan-core'], decision.allowed && decision.basis === 'consent' ? decision.grantIds : [], 0);
  }
  trimReferences(view);
  const primaryRefs = parts.flatMap((part) => {
    const d = decide(primary, linkPartCategory[part]);
    return d.allowed && d.basis === 'consent' ? d.grantIds : [];
  });
  view.view.consentRefs = [...new Set(primaryRefs)];
  if (!disclosed.has(primary.citizenId)) note(primary, parts.map((p) => linkPartCategory[p]), primaryRefs, 0);
  const disclosures = [...disclosed].map(([citizenId, d]) => ({ citizenId, recipient, categories: [...d.categories], consentRefs: [...d.consentRefs], elements: d.elements }));
  return { view, disclosures };
}

/** The plan as `viewer` sees it, and what that discloses to parties outside the owning municipality. */
export function explainView(plan: Plan, viewer: Viewer): ExplainedView {
  switch (viewer.kind) {
    case 'caseworker':
      return { view: caseworkerView(plan, viewer.department), disclosures: [] };
    case 'citizen':
      return { view: citizenView(plan, viewer.citizenId, viewer.at ?? new Date()), disclosures: [] };
    case 'provider':
      return providerView(plan, viewer.providerId);
    case 'municipality':
      return municipalityView(plan, viewer);
  }
}

/** The plan as `viewer` sees it, or null when they may not see it at all (answered as 404). */
export function viewOf(plan: Plan, viewer: Viewer): PlanView | null {
  return explainView(plan, viewer).view;
}
