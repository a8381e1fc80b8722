/**
 * Plan operations behind the API: create (with the citizen or family), read, look up by CPR,
 * change status, report sector completeness. Every read and write of personal data is audited.
 */
import { z } from 'zod';
import type { AppDeps } from '../api/context';
import { ProblemError } from '../api/context';
import {
  birthDateFromCpr,
  canTransition,
  Coordinator,
  Cpr,
  FamilyRole,
  InvolvedMunicipality,
  membersOf,
  Period,
  Plan,
  PlanOrigin,
  ReplacedPlan,
  Situation,
  Text,
  type Member,
  type Provenance,
  type StatusChangeRequest,
} from '../model';
import { completenessOf, replacementProblems, ruleSetVersion } from '../rules';
import { danishToday } from '../views/danish';
import { hiddenFromCaseworker } from '../views/plan-view';
import { departmentTakesPart } from '../views/involvement';
import { finishedStatuses, openPlanOf as openPlanOfCitizen, refuseSecondOpenPlan as refuseSecondOpen } from './open-plans';
import { rebasedConflicts, resolveConflict, settledConflictRegistration, settlementKey, type ConflictChoice } from './conflicts';
import type { RegistrationRequest } from '../registrations/kinds';
import { registrationService } from '../registrations/service';
import { actorOf, type Principal } from '../security';
import type { AuditEntry } from '../store';
import type { CitizenRow } from '../store/citizens';

export const CreatePlanRequest = z
  .object({
    cpr: Cpr,
    origin: PlanOrigin,
    role: FamilyRole.default('adult'),
    family: z
      .object({
        name: Text.max(200).optional(),
        members: z.array(z.object({ cpr: Cpr, role: FamilyRole })).min(1).max(20),
      })
      .optional(),
    purpose: Text.max(4000).optional(),
    situation: Situation.optional(),
    coordinator: Coordinator.omit({ since: true }).optional(),
    replaces: z.array(ReplacedPlan.omit({ memberId: true })).max(20).default([]),
    timeFrame: Period.optional(),
    municipalities: z.array(InvolvedMunicipality.omit({ link: true })).max(5).default([]),
  })
  .refine((r) => !r.family || new Set([r.cpr, ...r.family.members.map((m) => m.cpr)]).size === r.family.members.length + 1, {
    message: 'a family member is listed twice',
    path: ['family', 'members'],
  });
export type CreatePlanRequest = z.infer<typeof CreatePlanRequest>;

/** Statuses after which a citizen may get a new plan. */

export function planService(deps: AppDeps) {
  const { store, vault, clock } = deps;
  const nowIso = () => clock.now().toISOString();

  const entryOf = (principal: Principal, action: string, plan: Pick<Plan, 'id'>, citizenId: string | null, detail: Record<string, unknown> = {}): AuditEntry => ({
    at: nowIso(), actor: actorOf(principal), action, targetType: 'plan', targetId: plan.id, citizenId, detail,
  });
  async function audit(...entry: Parameters<typeof entryOf>) {
    await store.audit.append(entry[0].tenant, entryOf(...entry));
  }
  /** A commit of a plan's change together with its audit entry: the change and its record, or neither. */
  const recorded = (...entry: Parameters<typeof entryOf>) => store.audit.committing(entry[0].tenant, [entryOf(...entry)]);

  // Found under any configured key: during a key rotation the row may carry a retired key's hash.
  const knownCitizen = async (tenant: string, cpr: string) => store.citizens.findByAnyCprHash(tenant, await vault.lookupHashes(tenant, cpr));

  async function newCitizen(tenant: string, cpr: string, id: string) {
    return store.citizens.upsert({
      id,
      tenant,
      cprHash: await vault.hash(tenant, cpr),
      cprCipher: await vault.encrypt(cpr, { tenant, citizenId: id }),
      birthDate: birthDateFromCpr(cpr)!,
      createdAt: nowIso(),
    });
  }

  const openPlanOf = (tenant: string, citizenId: string) => openPlanOfCitizen(store, tenant, citizenId);
  const refuseSecondOpenPlan = (tenant: string, plan: Plan, to: StatusChangeRequest['status']) => refuseSecondOpen(store, tenant, plan, to);

  const primaryCitizenId = (plan: Plan) => (plan.subject.kind === 'citizen' ? plan.subject.member.citizenId : plan.subject.members[0]!.citizenId);

  /**
   * A settled conflict's value as one registration under the conflict's key, and whether it went out
   * in an audit row. The choice stands whatever happens to the registration; the audit says why nothing went out.
   */
  async function pushSettled(principal: Principal, plan: Plan, conflictId: string, request: RegistrationRequest, key: string): Promise<Plan> {
    let pushed: Record<string, unknown>;
    try {
      const { answer } = await registrationService(deps).register(principal, key, request);
      pushed = { pushed: true, registrationId: answer.id, targets: answer.deliveries.map((d) => d.target) };
    } catch (error) {
      pushed = { pushed: false, notPushed: (error instanceof Error ? error.message : String(error)).slice(0, 300) };
    }
    await audit(principal, 'plan.conflict-pushed', plan, primaryCitizenId(plan), { conflictId, ...pushed });
    return pushed.pushed ? ((await store.plans.get(principal.tenant, plan.id)) ?? plan) : plan;
  }

  return {
    async create(principal: Principal, request: CreatePlanRequest): Promise<Plan> {
      const tenant = principal.tenant;
      const people = [{ cpr: request.cpr, role: request.role }, ...(request.family?.members ?? [])];
      // Whom a sector plan may be replaced for is judged on the people's roles and ages (their CPR
      // birth dates) on the Danish day; members have no ids yet, so none can be named (R2, R25).
      const asMembers = people.map((person, index) => ({ memberId: `new-${index}`, citizenId: `new-${index}`, role: person.role, birthDate: birthDateFromCpr(person.cpr)! }));
      const notReplaceable = replacementProblems(request.replaces, danishToday(clock.now()), asMembers, undefined, { memberIdsKnown: false });
      if (notReplaceable.length > 0) throw new ProblemError('validation-failed', notReplaceable.map((p) => `replaces[${p.index}]: ${p.message}`).join('; '));
      const known: (CitizenRow | null)[] = [];
      for (const person of people) {
        const citizen = await knownCitizen(tenant, person.cpr);
        if (citizen && (await openPlanOf(tenant, citizen.id))) throw new ProblemError('duplicate-plan', 'a listed citizen already has an open Én plan; update that plan instead');
        known.push(citizen);
      }
      // New people get their ids now and their rows only once the plan is whole: a refused request
      // leaves no one's CPR number stored (R16).
      const members: Member[] = people.map((person, index) => ({
        memberId: crypto.randomUUID(),
        citizenId: known[index]?.id ?? crypto.randomUUID(),
        role: person.role,
        birthDate: known[index]?.birthDate ?? birthDateFromCpr(person.cpr)!,
      }));
      const at = nowIso();
      const plan = Plan.parse({
        id: crypto.randomUUID(),
        tenant,
        origin: request.origin,
        status: request.origin,
        statusHistory: [{ to: request.origin, at, recordedBy: actorOf(principal) }],
        subject: request.family ? { kind: 'family', name: request.family.name, members } : { kind: 'citizen', member: members[0] },
        purpose: request.purpose,
        situation: request.situation,
        coordinator: request.coordinator ? { ...request.coordinator, since: at } : undefined,
        coordinatorHistory: request.coordinator
          ? [{ to: request.coordinator.name, toSector: request.coordinator.sector, at, recordedBy: actorOf(principal), reason: 'plan created' }]
          : [],
        municipalities: request.municipalities,
        replaces: request.replaces,
        timeFrame: request.timeFrame,
        ruleVersion: ruleSetVersion,
        createdAt: at,
        updatedAt: at,
        version: 1,
      });
      for (const [index, person] of people.entries()) {
        if (known[index]) continue;
        const stored = await newCitizen(tenant, person.cpr, members[index]!.citizenId);
        // Another request recorded this person at the same moment: sent again, this one sees their row (and any open plan).
        if (stored.id !== members[index]!.citizenId) throw new ProblemError('version-conflict', 'a listed citizen was recorded by another request at the same moment; send the request again');
      }
      await store.plans.insert(plan, recorded(principal, 'plan.created', plan, members[0]!.citizenId, { members: members.length, origin: plan.origin }));
      return plan;
    },

    /** The plan, or null when it does not exist in the caller's tenant (answered as 404). */
    async read(principal: Principal, id: string): Promise<Plan | null> {
      const plan = await store.plans.get(principal.tenant, id);
      if (plan) await audit(principal, 'plan.read', plan, primaryCitizenId(plan));
      return plan;
    },

    /** The citizen's plans, each with whether the caseworker's department (if the token names one) takes part in it. */
    async lookup(principal: Principal, cpr: string): Promise<{ plan: Plan; departmentInPlan?: boolean }[]> {
      const citizen = await store.citizens.findByAnyCprHash(principal.tenant, await vault.lookupHashes(principal.tenant, cpr));
      if (!citizen) return [];
      const plans: Plan[] = [];
      for (const planId of await store.plans.idsForCitizen(principal.tenant, citizen.id, false)) {
        const plan = await store.plans.get(principal.tenant, planId);
        if (plan) plans.push(plan);
      }
      // The whole plan is shown: in a family plan every active member's data was looked at, so each member's log tells it.
      const found: { plan: Plan; departmentInPlan?: boolean }[] = [];
      for (const plan of plans) {
        const active = membersOf(plan).filter((m) => !m.leftAt).map((m) => m.citizenId);
        const department = principal.department ? { department: principal.department, departmentInPlan: await departmentTakesPart(store, plan, principal.department, clock.now()) } : {};
        for (const citizenId of new Set([citizen.id, ...active])) await audit(principal, 'plan.looked-up', plan, citizenId, department);
        found.push({ plan, ...('departmentInPlan' in department ? { departmentInPlan: department.departmentInPlan } : {}) });
      }
      return found;
    },

    /**
     * A status change, as a `plan.status-changed` registration: every sector system that must hold
     * the plan's status is told through the outbox (R17) — a declined or closed Én plan gives the
     * sector plans it replaced back to their own rules (R6), so their systems must know.
     */
    async changeStatus(principal: Principal, id: string, request: StatusChangeRequest): Promise<Plan | null> {
      const plan = await store.plans.get(principal.tenant, id);
      if (!plan) return null;
      if (!canTransition(plan.status, request.status))
        throw new ProblemError('invalid-transition', `a plan that is ${plan.status} cannot become ${request.status}`);
      await refuseSecondOpenPlan(principal.tenant, plan, request.status);
      // One key per plan version and status: a repeated request on the same version is the same change.
      const key = `plan-status:${plan.id}:${plan.version}:${request.status}`;
      // The status change's own row is committed with the registration, so a repeated request logs nothing twice.
      await registrationService(deps).register(principal, key, { kind: 'plan.status-changed', planId: id, status: request.status, ...(request.reason ? { reason: request.reason } : {}) }, [
        entryOf(principal, 'plan.status-changed', plan, primaryCitizenId(plan), { from: plan.status, to: request.status }),
      ]);
      return store.plans.get(principal.tenant, id);
    },

    /**
     * A status recorded without telling any sector system: only for history that happened
     * elsewhere before this service held the plan (the demo's seeded plans). Not on any route.
     */
    async recordStatusHistory(principal: Principal, id: string, request: StatusChangeRequest): Promise<Plan | null> {
      const plan = await store.plans.get(principal.tenant, id);
      if (!plan) return null;
      if (!canTransition(plan.status, request.status))
        throw new ProblemError('invalid-transition', `a plan that is ${plan.status} cannot become ${request.status}`);
      await refuseSecondOpenPlan(principal.tenant, plan, request.status);
      const at = nowIso();
      const next = Plan.parse({
        ...plan,
        status: request.status,
        statusHistory: [...plan.statusHistory, { from: plan.status, to: request.status, at, recordedBy: actorOf(principal), reason: request.reason }],
        updatedAt: at,
        version: plan.version + 1,
      });
      if (!(await store.plans.update(next, plan.version, [], recorded(principal, 'plan.status-changed', next, primaryCitizenId(next), { from: plan.status, to: next.status }))))
        throw new ProblemError('version-conflict', 'the plan changed meanwhile; read it again');
      return next;
    },

    /**
     * The caseworkers' worklist: plans with conflicts waiting for a person, and those conflicts —
     * which element, which fields, flagged when, between which writers (the values are on the plan).
     */
    async openConflicts(principal: Principal, page: { limit: number; offset: number }) {
      const rows = await store.plans.withOpenConflicts(principal.tenant, page.limit, page.offset);
      const byId = new Map((await store.plans.getMany(principal.tenant, rows.map((r) => r.id))).map((p) => [p.id, p]));
      const writerName = (p: Provenance) => (p.kind === 'source' ? p.system : 'registration');
      const plans = rows.flatMap((row) => {
        const plan = byId.get(row.id);
        // Closed or declined since the page was read: not settled here any more (R6).
        if (!plan || finishedStatuses.has(plan.status)) return [];
        // A conflict about data consent gives other departments alone is theirs to settle (R9).
        const hidden = hiddenFromCaseworker(plan, principal.department).conflicts;
        const conflicts = plan.conflicts
          .filter((c) => !c.resolvedAt && !hidden.has(c.id))
          .map((c) => ({ id: c.id, elementId: c.elementId, fields: c.field.split(',').filter(Boolean), detectedAt: c.detectedAt, writers: c.values.map((v) => writerName(v.provenance.at(-1)!)) }));
        return conflicts.length > 0 ? [{ planId: plan.id, status: plan.status, updatedAt: plan.updatedAt, conflicts }] : [];
      });
      await store.audit.append(principal.tenant, { at: nowIso(), actor: actorOf(principal), action: 'plan.conflicts-listed', targetType: 'tenant', targetId: principal.tenant, citizenId: null, detail: { plans: plans.length } });
      return { plans, nextOffset: rows.length === page.limit ? page.offset + page.limit : null };
    },

    /** A caseworker settles a conflict the merge flagged (src/plans/conflicts.ts); null when there is no such plan. */
    async resolveConflict(principal: Principal, id: string, conflictId: string, choice: ConflictChoice): Promise<Plan | null> {
      const plan = await store.plans.get(principal.tenant, id);
      if (!plan) return null;
      // Answered as for a conflict that does not exist: its existence is not theirs to know either.
      if (hiddenFromCaseworker(plan, principal.department).conflicts.has(conflictId)) throw new ProblemError('not-found', 'no such conflict in this plan');
      let result: ReturnType<typeof resolveConflict>;
      try {
        result = resolveConflict(plan, conflictId, choice, { at: nowIso(), by: actorOf(principal) });
      } catch (error) {
        // Its element changed by other means since (a registration): the conflict is re-based on what
        // the element holds now and the choice refused, so the next one is made on that, not blind.
        const rebased = error instanceof ProblemError && error.problemType === 'conflict-outdated' ? rebasedConflicts(plan, conflictId, nowIso()) : null;
        if (rebased) await store.plans.update(rebased, plan.version, [], recorded(principal, 'plan.conflict-rebased', rebased, primaryCitizenId(rebased), { conflictId }));
        throw error;
      }
      const { plan: next, conflict, changed } = result;
      // Its key is the conflict's: settling is registered once, however often the request comes.
      const key = settlementKey(plan.id, conflict.id);
      if (!changed) {
        // The same choice again: a push that did not go out (it failed, or the process stopped between
        // the choice and its registration) goes out now; one that did is not made twice.
        if (choice.push === false || finishedStatuses.has(plan.status) || (await store.registrations.findByKey(principal.tenant, key))) return plan;
        const built = settledConflictRegistration(plan, conflict);
        return built.request ? pushSettled(principal, plan, conflictId, built.request, key) : plan;
      }
      // Which writer was chosen, never the values themselves: the audit log holds no content. The
      // choice is committed with its row; whether it was pushed is known only after, in a row of its own.
      const writer = conflict.values[choice.chosen]!.provenance.at(-1)!;
      const push = choice.push !== false;
      const resolved = recorded(principal, 'plan.conflict-resolved', next, primaryCitizenId(next), {
        conflictId,
        elementId: conflict.elementId,
        fields: conflict.field,
        chosen: choice.chosen,
        chosenWriter: writer.kind === 'source' ? `${writer.system}:${writer.recordId}` : `registration:${writer.registrationId}`,
        push,
      });
      if (!(await store.plans.update(next, plan.version, [], resolved))) throw new ProblemError('version-conflict', 'the plan changed meanwhile; read it again');
      if (!push) return next;
      // The settled value goes back to the sector systems as one registration (routing and consent
      // decide where), so the system whose value was not chosen is told and nobody types it twice.
      const built = settledConflictRegistration(next, conflict);
      if (built.request) return pushSettled(principal, next, conflictId, built.request, key);
      await audit(principal, 'plan.conflict-pushed', next, primaryCitizenId(next), { conflictId, pushed: false, notPushed: built.reason });
      return next;
    },

    async completeness(principal: Principal, id: string, onDate?: string) {
      const plan = await store.plans.get(principal.tenant, id);
      if (!plan) return null;
      // The Danish day, as the consent gate reads the grants the report counts.
      const date = onDate ?? danishToday(clock.now());
      await audit(principal, 'plan.completeness-read', plan, primaryCitizenId(plan));
      const grants = (await store.consents.forCitizens(principal.tenant, membersOf(plan).map((m) => m.citizenId))).flatMap((d) => (d.kind === 'grant' ? [d] : []));
      return { planId: plan.id, onDate: date, reports: completenessOf(plan, date, undefined, grants) };
    },
  };
}
export type PlanService = ReturnType<typeof planService>;
