/**
 * Reading a plan as whoever asks (the owning municipality's caseworker, a member citizen, a
 * provider, a linked municipality), and recording the explicit link that lets a second
 * municipality see named parts of a plan (R8). Every read is audited; a read that discloses data
 * to a party outside the owning municipality is recorded in the owning municipality's log per
 * citizen, so the citizen sees it among their data flows (R13).
 */
import { z } from 'zod';
import type { AppDeps } from '../api/context';
import { ProblemError } from '../api/context';
import { decideFlow } from '../consent/policy';
import { Id, InvolvedMunicipality, MunicipalityCode, membersOf, Plan, type ConsentGrant } from '../model';
import { actorOf, type Principal } from '../security';
import type { ConsentDocument } from '../store';
import { departmentTakesPart } from './involvement';
import { caseworkerViewer, explainView, LinkPart, linkPartCategory, type Disclosure, type PlanView, type Viewer } from './plan-view';

export const CreateLinkRequest = z.strictObject({
  /** The other municipality (kommunekode). */
  code: MunicipalityCode,
  role: InvolvedMunicipality.shape.role.optional(),
  /** The grant (recipient `municipality:<code>`) of the plan's primary member this link rests on. */
  consentRef: Id,
  parts: z.array(LinkPart).min(1).max(LinkPart.options.length),
});
export type CreateLinkRequest = z.infer<typeof CreateLinkRequest>;

const grantsOf = (documents: ConsentDocument[]): ConsentGrant[] =>
  documents.flatMap((d) => {
    if (d.kind !== 'grant') return [];
    const { kind: _kind, ...grant } = d;
    return [grant];
  });

export function planViewService(deps: AppDeps) {
  const { store, clock } = deps;
  const nowIso = () => clock.now().toISOString();
  const primaryCitizenId = (plan: Plan) => membersOf(plan)[0]!.citizenId;
  /** The plan's members who have not left it (a plan has at least one). */
  const activeMemberIds = (plan: Plan) => {
    const active = membersOf(plan).filter((m) => !m.leftAt).map((m) => m.citizenId);
    return active.length > 0 ? active : [primaryCitizenId(plan)];
  };

  async function auditDisclosures(principal: Principal, plan: Plan, viewAs: string, disclosures: Disclosure[], at: string) {
    for (const d of disclosures) {
      const viaConsent = d.recipient.startsWith('municipality:');
      await store.audit.append(plan.tenant, {
        at,
        actor: actorOf(principal),
        // A linked municipality's read is a consent-gated flow; a provider's read is its view of its own part.
        action: viaConsent ? 'data.flowed' : 'plan.read',
        targetType: 'plan',
        targetId: plan.id,
        citizenId: d.citizenId,
        detail: viaConsent
          ? { source: 'enplan', recipient: d.recipient, categories: d.categories, basis: 'consent', consentRefs: d.consentRefs, elements: d.elements, via: 'plan-link' }
          : { view: viewAs, recipient: d.recipient, categories: d.categories, elements: d.elements },
      });
    }
  }

  /** Which viewer the principal is for a plan of its own municipality. */
  function localViewer(principal: Principal): Viewer | null {
    if (principal.roles.includes('caseworker')) return caseworkerViewer(principal);
    if (principal.roles.includes('provider') && principal.providerId) return { kind: 'provider', providerId: principal.providerId };
    if (principal.roles.includes('citizen') && principal.citizenId) return { kind: 'citizen', citizenId: principal.citizenId, at: clock.now() };
    return null;
  }

  return {
    /** The plan as the principal may see it, or null (answered as 404). */
    async read(principal: Principal, planId: string): Promise<PlanView | null> {
      const at = clock.now();
      const own = await store.plans.get(principal.tenant, planId);
      if (own) {
        const viewer = localViewer(principal);
        if (!viewer) return null;
        const { view, disclosures } = explainView(own, viewer);
        if (!view) return null;
        if (viewer.kind === 'provider') await auditDisclosures(principal, own, 'provider', disclosures, at.toISOString());
        else {
          // A caseworker's read is in the log of every member of the plan (each is told, R13); a
          // citizen's own read in theirs. Appended together, the rows share one commit.
          const whose = viewer.kind === 'citizen' ? [viewer.citizenId] : activeMemberIds(own);
          // A caseworker's department, and whether it takes part in the plan: a read from outside is told apart (R13).
          const department = viewer.kind === 'caseworker' && viewer.department ? { department: viewer.department, departmentInPlan: await departmentTakesPart(store, own, viewer.department, at) } : {};
          await Promise.all(
            whose.map((citizenId) =>
              store.audit.append(principal.tenant, { at: at.toISOString(), actor: actorOf(principal), action: 'plan.read', targetType: 'plan', targetId: own.id, citizenId, detail: { view: viewer.kind, ...department } }),
            ),
          );
          // The caseworker is told too: their fagsystem can say that this reading counts as from outside.
          if ('departmentInPlan' in department) return { ...view, view: { ...view.view, departmentInPlan: department.departmentInPlan } };
        }
        return view;
      }
      // Another municipality's plan: only a caseworker, only through a recorded link (R8).
      if (!principal.roles.includes('caseworker')) return null;
      const ownerTenant = await store.planLinks.ownerFor(principal.tenant, planId);
      if (!ownerTenant) return null;
      const plan = await store.plans.get(ownerTenant, planId);
      if (!plan) return null;
      const grants = grantsOf(await store.consents.forCitizens(ownerTenant, membersOf(plan).map((m) => m.citizenId)));
      const { view, disclosures } = explainView(plan, { kind: 'municipality', code: principal.tenant, grants, at });
      if (!view) return null;
      await auditDisclosures(principal, plan, 'municipality', disclosures, at.toISOString());
      await store.audit.append(principal.tenant, {
        at: at.toISOString(),
        actor: actorOf(principal),
        action: 'plan.read-linked',
        targetType: 'plan',
        targetId: plan.id,
        citizenId: null,
        detail: { ownerTenant, parts: view.view.parts ?? [] },
      });
      return view;
    },

    /** The citizen's own plans (R13), each as they may see it. */
    async citizenPlans(principal: Principal): Promise<PlanView[]> {
      const citizenId = principal.citizenId;
      if (!citizenId) return [];
      const views: PlanView[] = [];
      for (const planId of await store.plans.idsForCitizen(principal.tenant, citizenId)) {
        const plan = await store.plans.get(principal.tenant, planId);
        const view = plan ? explainView(plan, { kind: 'citizen', citizenId, at: clock.now() }).view : null;
        if (!plan || !view) continue;
        views.push(view);
        await store.audit.append(principal.tenant, {
          at: nowIso(),
          actor: actorOf(principal),
          action: 'plan.read',
          targetType: 'plan',
          targetId: plan.id,
          citizenId,
          detail: { view: 'citizen' },
        });
      }
      return views.sort((a, b) => (b.createdAt ?? '').localeCompare(a.createdAt ?? ''));
    },

    /**
     * Records an explicit link to a second municipality (R8). The consent named must be an active
     * grant of the plan's primary member to `municipality:<code>` that carries every named part
     * (decided by the consent policy); the link is written on the plan and indexed in
     * `plan_links` in one batch.
     */
    async link(principal: Principal, planId: string, request: CreateLinkRequest) {
      const plan = await store.plans.get(principal.tenant, planId);
      if (!plan) return null;
      if (request.code === plan.tenant) throw new ProblemError('validation-failed', 'code: a plan is not linked to its own municipality');
      const primary = membersOf(plan)[0]!;
      const document = await store.consents.get(principal.tenant, request.consentRef);
      const recipient = `municipality:${request.code}`;
      if (!document || document.kind !== 'grant' || document.citizenId !== primary.citizenId || document.recipient !== recipient)
        throw new ProblemError('consent-required', `consentRef must be a consent grant of the plan's primary member to ${recipient}`);
      const grants = grantsOf(await store.consents.forCitizens(principal.tenant, [primary.citizenId]));
      const at = clock.now();
      const uncovered = [...new Set(request.parts)].filter((part) => {
        const decision = decideFlow(
          { citizenId: primary.citizenId, birthDate: primary.birthDate, source: 'enplan', recipient, category: linkPartCategory[part], at },
          grants,
        );
        return !decision.allowed || decision.basis !== 'consent' || !decision.grantIds.includes(request.consentRef);
      });
      if (uncovered.length > 0)
        throw new ProblemError('consent-required', `the consent does not (now) allow these parts to flow to ${recipient}: ${uncovered.join(', ')}`);

      const link = { consentRef: request.consentRef, parts: [...new Set(request.parts)], linkedAt: at.toISOString() };
      const existing = plan.municipalities.find((m) => m.code === request.code);
      const municipalities = existing
        ? plan.municipalities.map((m) => (m.code === request.code ? { ...m, ...(request.role ? { role: request.role } : {}), link } : m))
        : [...plan.municipalities, { code: request.code, role: request.role ?? 'other', link }];
      const next = Plan.parse({ ...plan, municipalities, updatedAt: at.toISOString(), version: plan.version + 1 });
      const row = { planId: plan.id, ownerTenant: plan.tenant, linkedTenant: request.code, createdAt: at.toISOString() };
      const recorded = store.audit.committing(principal.tenant, [
        {
          at: at.toISOString(),
          actor: actorOf(principal),
          action: 'plan.linked',
          targetType: 'plan',
          targetId: plan.id,
          citizenId: primary.citizenId,
          detail: { municipality: request.code, parts: link.parts, consentRef: link.consentRef },
        },
      ]);
      if (!(await store.plans.update(next, plan.version, [store.planLinks.upsertStatement(row)], recorded)))
        throw new ProblemError('version-conflict', 'the plan changed meanwhile; try again');
      return { planId: plan.id, version: next.version, municipality: next.municipalities.find((m) => m.code === request.code)! };
    },

    /** Ends a second municipality's link (R8): it reads nothing more of the plan; it stays named as involved. Null when there is no such plan or link. */
    async unlink(principal: Principal, planId: string, code: string) {
      const plan = await store.plans.get(principal.tenant, planId);
      const entry = plan?.municipalities.find((m) => m.code === code && m.link);
      if (!plan || !entry) return null;
      const at = clock.now().toISOString();
      const municipalities = plan.municipalities.map((m) => (m.code === code ? (({ link: _ended, ...rest }) => rest)(m) : m));
      const next = Plan.parse({ ...plan, municipalities, updatedAt: at, version: plan.version + 1 });
      const recorded = store.audit.committing(principal.tenant, [
        { at, actor: actorOf(principal), action: 'plan.unlinked', targetType: 'plan', targetId: plan.id, citizenId: membersOf(plan)[0]!.citizenId, detail: { municipality: code } },
      ]);
      if (!(await store.plans.update(next, plan.version, [store.planLinks.deleteStatement(plan.tenant, plan.id, code)], recorded)))
        throw new ProblemError('version-conflict', 'the plan changed meanwhile; try again');
      return { planId: plan.id, version: next.version };
    },
  };
}
export type PlanViewService = ReturnType<typeof planViewService>;
