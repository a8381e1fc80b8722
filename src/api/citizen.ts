/** `/v1/citizen`: the citizen's own plan(s) and the log of where their data went (R13). */
import { z } from '@hono/zod-openapi';
import { ageOn, membersOf, type PlanStatus } from '../model';
import { membershipService } from '../plans/membership';
import { planService } from '../plans/service';
import { actorOf, type Principal } from '../security';
import { currentHalfYear } from '../stats/period';
import { CitizenViewInput, RegistrationInvalid, registrationService } from '../registrations';
import { citizenService, planViewService, PlanView, viewOf } from '../views';
import { danishToday } from '../views/danish';
import { ProblemError, type AppDeps } from './context';
import { problemResponse, problemResponses } from './problem';
import { IdempotencyHeaders, RegistrationAccepted } from './registrations';
import { newRouter } from './router';
import { securedRoute } from './security';

const json = <T extends z.ZodType>(schema: T, description: string) => ({ content: { 'application/json': { schema } }, description });

const About = z.object({
  relation: z.enum(['self', 'child']).openapi({ description: "`self`: the reader's own data; `child`: a child's, shown to a custody holder who consented for them" }),
  citizenId: z.string(),
  birthDate: z.string().optional(),
});
export const Flow = z.object({
  at: z.string(),
  about: About,
  kind: z.enum(['flowed', 'refused', 'delivered', 'viewed', 'removed', 'party']).openapi({ description: '`party`: a department was made a party to the plan, or stopped being one (decision 0032)' }),
  source: z.string(),
  recipient: z.string(),
  categories: z.array(z.string()),
  basis: z.enum(['consent', 'legal-basis']).nullable(),
  consentRefs: z.array(z.string()),
  legalBasis: z.string().nullable(),
  text: z.string().openapi({ example: 'Den 23. november 2026 kl. 10.04 sendte Jobcentret (DFDG) oplysninger om beskæftigelse og indsatser til din Én plan. Grundlag: dit samtykke af 1. november 2026.' }),
});
export const Consent = z.object({
  id: z.string(),
  about: About,
  source: z.string(),
  recipient: z.string(),
  categories: z.array(z.string()),
  explicitHealth: z.boolean(),
  purpose: z.string(),
  validFrom: z.string(),
  validTo: z.string().nullable(),
  grantedAt: z.string(),
  grantedBy: z.enum(['self', 'custody-holder', 'guardian']),
  textVersion: z.string(),
  language: z.string(),
  textPath: z.string().openapi({ description: 'Where the words you agreed to can be read (GET); 404 where the municipality keeps no copy' }),
  revokedAt: z.string().nullable(),
  text: z.string(),
});
export const LegalBasis = z.object({
  id: z.string(),
  source: z.string(),
  recipient: z.string(),
  categories: z.array(z.string()),
  basis: z.string(),
  recordedAt: z.string(),
  validTo: z.string().nullable(),
  citizenInformed: z.boolean(),
  informedAt: z.string().nullable(),
  text: z.string(),
});

/**
 * The plan and the caller's own membership in it, with its first-named active member; 404 for a plan
 * they are not (or no longer: they left the family plan) a member of.
 */
async function ownMembership(deps: AppDeps, principal: Principal, planId: string) {
  const plan = principal.citizenId ? await deps.store.plans.get(principal.tenant, planId) : null;
  const active = plan ? membersOf(plan).filter((m) => !m.leftAt) : [];
  const member = active.find((m) => m.citizenId === principal.citizenId);
  if (!plan || !member) throw new ProblemError('not-found', 'you have no such plan');
  return { plan, member, firstNamed: active[0]! };
}

const CitizenDecision = z
  .object({
    decision: z.enum(['accept', 'decline']),
    reason: z.string().trim().min(1).max(2000).optional().openapi({ description: 'Why, if you want to say (kept in the plan’s history)' }),
  })
  .openapi('CitizenDecision');

const SatisfactionAnswer = z
  .strictObject({ score: z.number().int().min(1).max(5).openapi({ description: '1 very dissatisfied … 5 very satisfied' }) })
  .openapi('SatisfactionAnswer');

export const citizenRoutes = newRouter()
  .openapi(
    securedRoute(['citizen'], {
      method: 'post',
      path: '/v1/citizen/plans/{id}/satisfaction',
      summary: 'How satisfied are you with your plan, 1–5 (R22)? Counted only in the municipality’s half-yearly figures, never shown as yours; a new answer in the same half-year replaces the last',
      request: {
        params: z.object({ id: z.string().min(1).max(128).openapi({ param: { name: 'id', in: 'path' } }) }),
        body: { content: { 'application/json': { schema: SatisfactionAnswer } }, required: true },
      },
      responses: { 200: json(z.object({ period: z.string(), recorded: z.literal(true) }), 'Recorded for this half-year'), ...problemResponses(400, 404) },
    }),
    async (c) => {
      const deps = c.get('deps');
      const principal = c.get('principal');
      const { plan, member } = await ownMembership(deps, principal, c.req.valid('param').id);
      const now = deps.clock.now();
      const period = currentHalfYear(now).id;
      // The log says that they answered, not what: the score is theirs and counts only in aggregate.
      await deps.store.audit.appendMany(
        principal.tenant,
        [{ at: now.toISOString(), actor: actorOf(principal), action: 'plan.satisfaction-answered', targetType: 'plan', targetId: plan.id, citizenId: member.citizenId, detail: { period } }],
        [deps.store.satisfaction.answerStatement({ tenant: principal.tenant, planId: plan.id, citizenId: member.citizenId, period, score: c.req.valid('json').score, answeredAt: now.toISOString() })],
      );
      return c.json({ period, recorded: true as const }, 200);
    },
  )
  .openapi(
    securedRoute(['citizen'], {
      method: 'get',
      path: '/v1/citizen/plan',
      summary: 'Your Én plan(s), as you may see them (R13)',
      responses: { 200: json(z.object({ plans: z.array(PlanView) }), 'Your plans, newest first (possibly none)') },
    }),
    async (c) => c.json({ plans: await planViewService(c.get('deps')).citizenPlans(c.get('principal')) }, 200),
  )
  .openapi(
    securedRoute(['citizen'], {
      method: 'get',
      path: '/v1/citizen/data-flows',
      summary: 'Where your data went: from which system, to whom, when, which kinds of data, on which consent or legal basis (R13)',
      responses: {
        200: json(
          z.object({
            flows: z.array(Flow),
            consents: z.array(Consent),
            legalBases: z.array(LegalBasis),
            logKept: z.string().openapi({ description: 'How far back this log goes, in Danish: the audit log it is built on may have a retention period (RETENTION_AUDIT_DAYS)' }),
          }),
          'Newest first, each with a sentence in Danish',
        ),
      },
    }),
    async (c) => c.json(await citizenService(c.get('deps')).dataFlows(c.get('principal')), 200),
  )
  .openapi(
    securedRoute(['citizen'], {
      method: 'post',
      path: '/v1/citizen/plans/{id}/decision',
      summary: 'Accept the Én plan you were offered (or asked for), or decline it at any time (R6): a decline means the sector plans apply again, and nothing more is read for the plan',
      description:
        'Yours to decide when you are the plan’s first-named member; in a family plan another member who disagrees can leave it and get their own. A reason for a decline is yours to give or not; it is kept in the plan’s history.',
      request: {
        params: z.object({ id: z.string().min(1).max(128).openapi({ param: { name: 'id', in: 'path' } }) }),
        body: { content: { 'application/json': { schema: CitizenDecision } }, required: true },
      },
      responses: { 200: json(PlanView, 'Your plan, in its new status, as you may see it'), ...problemResponses(400, 403, 404, 409) },
    }),
    async (c) => {
      const deps = c.get('deps');
      const principal = c.get('principal');
      const planId = c.req.valid('param').id;
      const { decision, reason } = c.req.valid('json');
      const { member, firstNamed } = await ownMembership(deps, principal, planId);
      if (member !== firstNamed) throw new ProblemError('forbidden', `in a family plan its first-named member decides; you can leave the family plan and get your own (POST /v1/citizen/plans/${planId}/leave)`);
      const status: PlanStatus = decision === 'accept' ? 'accepted' : 'declined';
      const changed = await planService(deps).changeStatus(principal, planId, { status, reason: reason ?? (status === 'declined' ? 'Afslået af borgeren selv' : undefined) });
      const view = changed ? viewOf(changed, { kind: 'citizen', citizenId: principal.citizenId!, at: deps.clock.now() }) : null;
      if (!view) throw new ProblemError('not-found', 'you have no such plan');
      return c.json(view, 200);
    },
  )
  .openapi(
    securedRoute(['citizen'], {
      method: 'post',
      path: '/v1/citizen/plans/{id}/leave',
      summary: 'Leave a family plan and get your own plan, with your own goals, interventions and views (R4); the others keep the family plan',
      description:
        'For a member of 18 or more, who decides this alone. A child or young person leaves with the caseworker, who involves the custody holders. Your own plan is offered to you: accept or decline it as any other.',
      request: { params: z.object({ id: z.string().min(1).max(128).openapi({ param: { name: 'id', in: 'path' } }) }) },
      responses: { 201: json(PlanView, 'Your own plan, as you may see it'), ...problemResponses(403, 404, 409) },
    }),
    async (c) => {
      const deps = c.get('deps');
      const principal = c.get('principal');
      const planId = c.req.valid('param').id;
      const { member } = await ownMembership(deps, principal, planId);
      if (ageOn(member.birthDate, danishToday(deps.clock.now())) < 18)
        throw new ProblemError('forbidden', 'under 18 you leave a family plan with your caseworker, who involves your custody holders; ask them');
      const result = await membershipService(deps).leave(principal, planId, member.memberId);
      const view = result ? viewOf(result.ownPlan, { kind: 'citizen', citizenId: principal.citizenId!, at: deps.clock.now() }) : null;
      if (!view) throw new ProblemError('not-found', 'you have no such plan');
      return c.json(view, 201, { location: `/v1/citizen/plan` });
    },
  )
  .openapi(
    securedRoute(['citizen'], {
      method: 'post',
      path: '/v1/citizen/views',
      summary: 'Add your own views and wishes to your Én plan, in your own words (R1); they stay in the plan and are sent to no other system',
      request: {
        headers: IdempotencyHeaders,
        body: {
          content: { 'application/json': { schema: CitizenViewInput.omit({ id: true, memberId: true }).extend({ planId: z.string().min(1).max(128).optional().openapi({ description: 'Which of your plans; needed only if you have more than one' }) }) } },
          required: true,
        },
      },
      responses: { 202: json(RegistrationAccepted, 'Recorded in your plan (as a registration of kind view.recorded, by you)'), ...problemResponses(400, 404, 409) },
    }),
    async (c) => {
      const deps = c.get('deps');
      const principal = c.get('principal');
      const { planId: asked, text, language } = c.req.valid('json');
      const planIds = principal.citizenId ? await deps.store.plans.idsForCitizen(principal.tenant, principal.citizenId) : [];
      if (asked !== undefined && !planIds.includes(asked)) throw new ProblemError('not-found', 'you have no such plan');
      if (asked === undefined && planIds.length !== 1) throw planIds.length === 0 ? new ProblemError('not-found', 'you have no Én plan') : new ProblemError('validation-failed', 'you have more than one plan: name it in planId');
      const planId = asked ?? planIds[0]!;
      const { member } = await ownMembership(deps, principal, planId);
      try {
        const { answer } = await registrationService(deps).register(principal, c.req.valid('header')['idempotency-key'], { planId, kind: 'view.recorded', view: { memberId: member.memberId, text, language } });
        return c.json(answer, 202);
      } catch (error) {
        if (error instanceof RegistrationInvalid) return problemResponse('validation-failed', 'the view does not fit the plan; see `errors`', { errors: error.issues }) as never;
        throw error;
      }
    },
  );
