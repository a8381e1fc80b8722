/** `/v1/plans`: create, read (as JSON or FHIR R4), look up by CPR (in the body), change status, sector completeness. */
import { z } from '@hono/zod-openapi';
import { FHIR_JSON, planViewToFhirBundle } from '../fhir';
import { IsoDate, Cpr, Plan, StatusChangeRequest } from '../model';
import { CreatePlanRequest, planService } from '../plans/service';
import { caseworkerViewer, planViewService, PlanView, viewOf } from '../views';
import { ProblemError } from './context';
import { fhirBundleSchema, formatOf, formatQuery } from './fhir-format';
import { PageQuery } from './paging';
import { problemResponses } from './problem';
import { newRouter } from './router';
import { securedRoute } from './security';
import type { Principal } from '../security';

const notFound = () => new ProblemError('not-found', 'no such plan in your municipality');
const PlanIdParam = z.object({ id: z.string().min(1).max(128).openapi({ param: { name: 'id', in: 'path' } }) });
// Model schemas are used as they are: they may be built before @hono/zod-openapi extends zod.
// Caseworkers get the plan as their view of it: the whole plan less what consent gives other
// departments alone, and which elements fall under SEL § 101 a (`view.protectedElementIds`), so a
// client can keep them apart wherever it shows them.
const PlanResponse = PlanView;
const asCaseworker = (plan: Plan, principal: Principal) => viewOf(plan, caseworkerViewer(principal))!;
const json = <T extends z.ZodType>(schema: T, description: string) => ({ content: { 'application/json': { schema } }, description });
const jsonBody = <T extends z.ZodType>(schema: T) => ({ body: { content: { 'application/json': { schema } }, required: true } });

const ReadQuery = formatQuery('the plan view');
/** The FHIR R4 Bundle of a plan (see docs/decisions/0015-fhir-export.md). */
const FhirBundleResponse = fhirBundleSchema(
  'FhirPlanBundle',
  'FHIR R4 Bundle (type collection): CarePlan, Goal, ServiceRequest, Task, CareTeam, Patient/Group (pseudonymous citizen ids, never a CPR number), Practitioner, Organization, Provenance',
);

const ConflictParams = PlanIdParam.extend({ conflictId: z.string().min(1).max(256).openapi({ param: { name: 'conflictId', in: 'path' } }) });
const ResolveConflictRequest = z
  .strictObject({
    chosen: z.number().int().nonnegative().openapi({ description: "Index into the conflict's values: 0 keeps the content as it is, 1 takes what the other writer reported" }),
    reason: z.string().trim().min(1).max(500).optional(),
    push: z.boolean().default(true).openapi({ description: 'Register the settled value back to the sector systems (routing and consent decide which); false when they are set right by other means' }),
  })
  .openapi('ResolveConflictRequest');

const OpenConflictsResponse = z.object({
  plans: z.array(
    z.object({
      planId: z.string(),
      status: z.string(),
      updatedAt: z.string(),
      conflicts: z.array(z.object({ id: z.string(), elementId: z.string(), fields: z.array(z.string()), detectedAt: z.string(), writers: z.array(z.string()) })),
    }),
  ),
  nextOffset: z.number().int().nullable(),
});

const CompletenessResponse = z
  .object({
    planId: z.string(),
    onDate: IsoDate,
    reports: z.array(
      z.object({
        planType: z.string(),
        relation: z.enum(['replaces', 'frames']),
        ruleVersion: z.string().nullable(),
        legalReference: z.string().nullable(),
        ruleInForce: z.boolean(),
        replaceable: z.boolean(),
        complete: z.boolean(),
        missing: z.array(z.object({ id: z.string(), label: z.string(), legalReference: z.string() })),
      }),
    ),
  })
  .openapi('CompletenessReport');

export const planRoutes = newRouter()
  .openapi(
    securedRoute(['caseworker'], {
      method: 'post',
      path: '/v1/plans',
      summary: 'Offer or register a request for an Én plan for a citizen or a family',
      request: jsonBody(CreatePlanRequest),
      responses: { 201: json(PlanResponse, 'The new plan'), ...problemResponses(409) },
    }),
    async (c) => {
      const plan = await planService(c.get('deps')).create(c.get('principal'), c.req.valid('json'));
      return c.json(asCaseworker(plan, c.get('principal')), 201, { location: `/v1/plans/${plan.id}` });
    },
  )
  .openapi(
    securedRoute(['caseworker'], {
      method: 'post',
      path: '/v1/plans/lookup',
      summary: 'Find a citizen’s plans by CPR number (sent in the body, never in the URL)',
      request: jsonBody(z.object({ cpr: Cpr }).openapi('PlanLookupRequest')),
      responses: { 200: json(z.object({ plans: z.array(PlanResponse) }), 'The citizen’s plans in your municipality (possibly none)') },
    }),
    async (c) => {
      const found = await planService(c.get('deps')).lookup(c.get('principal'), c.req.valid('json').cpr);
      return c.json(
        {
          plans: found.map(({ plan, departmentInPlan }) => {
            const view = asCaseworker(plan, c.get('principal'));
            return departmentInPlan === undefined ? view : { ...view, view: { ...view.view, departmentInPlan } };
          }),
        },
        200,
      );
    },
  )
  .openapi(
    securedRoute(['caseworker', 'citizen', 'provider'], {
      method: 'get',
      path: '/v1/plans/{id}',
      summary: 'Read a plan as you may see it: whole for its caseworkers; a member citizen, a provider or a linked municipality sees only their part (see views/)',
      request: { params: PlanIdParam, query: ReadQuery },
      responses: {
        200: {
          description: 'The plan, or the part of it you may see (`view` says which); with `format=fhir`, that same part as a FHIR R4 Bundle',
          content: { 'application/json': { schema: PlanView }, [FHIR_JSON]: { schema: FhirBundleResponse } },
        },
      },
    }),
    async (c) => {
      const format = formatOf(c.req.valid('query').format, c.req.header('accept'));
      // The one read: it decides what the principal may see and audits it; the FHIR Bundle is that view, reshaped.
      const view = await planViewService(c.get('deps')).read(c.get('principal'), c.req.valid('param').id);
      if (!view) throw notFound();
      if (format === 'fhir') return c.json(planViewToFhirBundle(view, { generatedAt: c.get('deps').clock.now() }) as z.infer<typeof FhirBundleResponse>, 200, { 'Content-Type': FHIR_JSON });
      return c.json(view, 200);
    },
  )
  .openapi(
    securedRoute(['caseworker'], {
      method: 'post',
      path: '/v1/plans/{id}/status',
      summary: 'Move a plan through its lifecycle (accept, decline with a reason, activate, close)',
      request: { params: PlanIdParam, ...jsonBody(StatusChangeRequest) },
      responses: { 200: json(PlanResponse, 'The plan in its new status'), ...problemResponses(409) },
    }),
    async (c) => {
      const plan = await planService(c.get('deps')).changeStatus(c.get('principal'), c.req.valid('param').id, c.req.valid('json'));
      if (!plan) throw notFound();
      return c.json(asCaseworker(plan, c.get('principal')), 200);
    },
  )
  .openapi(
    securedRoute(['caseworker'], {
      method: 'get',
      path: '/v1/conflicts',
      summary: 'Plans with conflicts the sync flagged that wait for a person, most recently changed first',
      request: { query: PageQuery },
      responses: { 200: json(OpenConflictsResponse, 'A page of plans with their open conflicts (the values are on the plan)') },
    }),
    async (c) => c.json(await planService(c.get('deps')).openConflicts(c.get('principal'), c.req.valid('query')), 200),
  )
  .openapi(
    securedRoute(['caseworker'], {
      method: 'post',
      path: '/v1/plans/{id}/conflicts/{conflictId}/resolve',
      summary: 'Settle a conflict the sync flagged: choose which value stands; it goes back to the sector systems as one registration unless push is false (issue 4)',
      request: { params: ConflictParams, ...jsonBody(ResolveConflictRequest) },
      responses: { 200: json(PlanResponse, 'The plan with the conflict resolved (the same choice again changes nothing)'), ...problemResponses(409) },
    }),
    async (c) => {
      const { id, conflictId } = c.req.valid('param');
      const plan = await planService(c.get('deps')).resolveConflict(c.get('principal'), id, conflictId, c.req.valid('json'));
      if (!plan) throw notFound();
      return c.json(asCaseworker(plan, c.get('principal')), 200);
    },
  )
  .openapi(
    securedRoute(['caseworker', 'it-staff'], {
      method: 'get',
      path: '/v1/plans/{id}/completeness',
      summary: 'What the plan still lacks for each sector plan it replaces or frames (R2)',
      request: { params: PlanIdParam, query: z.object({ date: IsoDate.optional() }) },
      responses: { 200: json(CompletenessResponse, 'One report per replaced or framed plan type') },
    }),
    async (c) => {
      const report = await planService(c.get('deps')).completeness(c.get('principal'), c.req.valid('param').id, c.req.valid('query').date);
      if (!report) throw notFound();
      return c.json(report, 200);
    },
  );
