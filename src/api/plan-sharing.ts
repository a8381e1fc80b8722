/**
 * Sharing a plan beyond the owning caseworkers: an explicit link to a second municipality (R8),
 * and a member leaving a family plan for their own (R4). Reading a plan as another party is
 * `GET /v1/plans/{id}` (see `views/`).
 */
import { z } from '@hono/zod-openapi';
import { Department, InvolvedMunicipality, Plan, PlanParty } from '../model';
import { membershipService } from '../plans/membership';
import { partyService } from '../plans/parties';
import { caseworkerViewer, CreateLinkRequest, planViewService, PlanView, viewOf } from '../views';
import { ProblemError } from './context';
import { PageQuery } from './paging';
import { problemResponses } from './problem';
import { newRouter } from './router';
import { securedRoute } from './security';

const json = <T extends z.ZodType>(schema: T, description: string) => ({ content: { 'application/json': { schema } }, description });
const PlanIdParam = z.object({ id: z.string().min(1).max(128).openapi({ param: { name: 'id', in: 'path' } }) });
const MemberParams = z.object({
  id: z.string().min(1).max(128).openapi({ param: { name: 'id', in: 'path' } }),
  memberId: z.string().min(1).max(128).openapi({ param: { name: 'memberId', in: 'path' } }),
});
const LinkParams = PlanIdParam.extend({ code: z.string().regex(/^\d{3}$/).openapi({ param: { name: 'code', in: 'path' }, description: 'The linked municipality’s kommunekode' }) });
const notFound = () => new ProblemError('not-found', 'no such plan in your municipality');

const PartyParams = PlanIdParam.extend({ department: z.enum(Department.options).openapi({ param: { name: 'department', in: 'path' } }) });
const AddPartyRequest = z
  .strictObject({
    department: Department,
    reason: z.string().trim().min(1).max(500).openapi({ description: 'Why the department is asked in; shown to the plan’s parties and the citizen' }),
  })
  .openapi('AddPartyRequest');

export const planSharingRoutes = newRouter()
  .openapi(
    securedRoute(['caseworker'], {
      method: 'post',
      path: '/v1/plans/{id}/parties',
      summary:
        'Make a department a party to the plan before it holds anything there (asked to assess, or to a meeting): its caseworkers’ reads then count as from within (decision 0032). Only a caseworker of a department taking part, or the coordinating staff, may; each member is told',
      request: { params: PlanIdParam, body: { content: { 'application/json': { schema: AddPartyRequest } }, required: true } },
      responses: {
        201: json(z.object({ planId: z.string(), version: z.number().int(), party: PlanParty }), 'The department is a party, as recorded on the plan'),
        200: json(z.object({ planId: z.string(), version: z.number().int(), party: PlanParty }), 'The department was a party already: nothing changed'),
        ...problemResponses(400, 403, 404, 409),
      },
    }),
    async (c) => {
      const added = await partyService(c.get('deps')).add(c.get('principal'), c.req.valid('param').id, c.req.valid('json'));
      if (!added) throw notFound();
      const { added: isNew, ...body } = added;
      return c.json(body, isNew ? 201 : 200);
    },
  )
  .openapi(
    securedRoute(['caseworker'], {
      method: 'delete',
      path: '/v1/plans/{id}/parties/{department}',
      summary: 'End a department’s part by record (it may still take part by what the plan holds); each member is told',
      request: { params: PartyParams },
      responses: { 200: json(z.object({ planId: z.string(), version: z.number().int() }), 'The department is no longer a party by record'), ...problemResponses(403, 404, 409) },
    }),
    async (c) => {
      const { id, department } = c.req.valid('param');
      const removed = await partyService(c.get('deps')).remove(c.get('principal'), id, department);
      if (!removed) throw new ProblemError('not-found', 'no such plan in your municipality, or that department is not a party to it by record');
      return c.json(removed, 200);
    },
  )
  .openapi(
    securedRoute(['caseworker'], {
      method: 'post',
      path: '/v1/plans/{id}/links',
      summary: 'Link a second municipality to the plan: it may then read the named parts, as far as the citizen’s consent allows (R8)',
      request: { params: PlanIdParam, body: { content: { 'application/json': { schema: CreateLinkRequest } }, required: true } },
      responses: {
        201: json(z.object({ planId: z.string(), version: z.number().int(), municipality: InvolvedMunicipality }), 'The link as recorded on the plan'),
        ...problemResponses(403, 409),
      },
    }),
    async (c) => {
      const linked = await planViewService(c.get('deps')).link(c.get('principal'), c.req.valid('param').id, c.req.valid('json'));
      if (!linked) throw notFound();
      return c.json(linked, 201);
    },
  )
  .openapi(
    securedRoute(['caseworker'], {
      method: 'delete',
      path: '/v1/plans/{id}/links/{code}',
      summary: 'End a second municipality’s link to the plan: it reads nothing more of it (R8); it stays named among the municipalities involved',
      request: { params: LinkParams },
      responses: { 200: json(z.object({ planId: z.string(), version: z.number().int() }), 'The link is gone from the plan'), ...problemResponses(404, 409) },
    }),
    async (c) => {
      const { id, code } = c.req.valid('param');
      const unlinked = await planViewService(c.get('deps')).unlink(c.get('principal'), id, code);
      if (!unlinked) throw new ProblemError('not-found', 'no such plan in your municipality, or no link to that municipality');
      return c.json(unlinked, 200);
    },
  )
  .openapi(
    securedRoute(['caseworker'], {
      method: 'get',
      path: '/v1/linked-plans',
      summary: 'Plans other municipalities have linked yours to (R8): read each with GET /v1/plans/{id}, as far as the link and the citizen’s consent allow',
      request: { query: PageQuery },
      responses: { 200: json(z.object({ plans: z.array(z.object({ planId: z.string(), ownerMunicipality: z.string(), linkedAt: z.string() })), nextOffset: z.number().int().nullable() }), 'A page of links, newest first') },
    }),
    async (c) => {
      const { limit, offset } = c.req.valid('query');
      const rows = await c.get('deps').store.planLinks.linkedTo(c.get('principal').tenant, limit, offset);
      return c.json({ plans: rows.map((r) => ({ planId: r.planId, ownerMunicipality: r.ownerTenant, linkedAt: r.createdAt })), nextOffset: rows.length === limit ? offset + limit : null }, 200);
    },
  )
  .openapi(
    securedRoute(['caseworker'], {
      method: 'post',
      path: '/v1/plans/{id}/members/{memberId}/leave',
      summary: 'A member leaves the family plan and is offered their own plan with their own elements (R4)',
      request: { params: MemberParams },
      responses: { 201: json(z.object({ familyPlan: PlanView, ownPlan: PlanView }), 'The family plan without the member’s elements, and the member’s own plan, each as the caseworker may see it'), ...problemResponses(409) },
    }),
    async (c) => {
      const { id, memberId } = c.req.valid('param');
      const result = await membershipService(c.get('deps')).leave(c.get('principal'), id, memberId);
      if (!result) throw new ProblemError('not-found', 'no such plan or member in your municipality');
      const asCaseworker = (plan: Plan) => viewOf(plan, caseworkerViewer(c.get('principal')))!;
      return c.json({ familyPlan: asCaseworker(result.familyPlan), ownPlan: asCaseworker(result.ownPlan) }, 201, { location: `/v1/plans/${result.ownPlan.id}` });
    },
  );
