/**
 * Sharing a plan beyond the owning caseworkers: an explicit link to a second municipality (R8),
 * and a member leaving a family plan for their own (R4). Reading a plan as another party is
 * `GET /v1/plans/{id}` (see `views/`).
 */
import { z } from '@hono/zod-openapi';
import { InvolvedMunicipality, Plan } from '../model';
import { membershipService } from '../plans/membership';
import { CreateLinkRequest, planViewService } from '../views';
import { ProblemError } from './context';
import { problemResponses } from './problem';
import { newRouter } from './router';
import { securedRoute } from './security';

const json = <T extends z.ZodType>(schema: T, description: string) => ({ content: { 'application/json': { schema } }, description });
const PlanIdParam = z.object({ id: z.string().min(1).max(128).openapi({ param: { name: 'id', in: 'path' } }) });
const MemberParams = z.object({
  id: z.string().min(1).max(128).openapi({ param: { name: 'id', in: 'path' } }),
  memberId: z.string().min(1).max(128).openapi({ param: { name: 'memberId', in: 'path' } }),
});
const notFound = () => new ProblemError('not-found', 'no such plan in your municipality');

export const planSharingRoutes = newRouter()
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
      method: 'post',
      path: '/v1/plans/{id}/members/{memberId}/leave',
      summary: 'A member leaves the family plan and is offered their own plan with their own elements (R4)',
      request: { params: MemberParams },
      responses: { 201: json(z.object({ familyPlan: Plan, ownPlan: Plan }), 'The family plan without the member’s elements, and the member’s own plan'), ...problemResponses(409) },
    }),
    async (c) => {
      const { id, memberId } = c.req.valid('param');
      const result = await membershipService(c.get('deps')).leave(c.get('principal'), id, memberId);
      if (!result) throw new ProblemError('not-found', 'no such plan or member in your municipality');
      return c.json(result, 201, { location: `/v1/plans/${result.ownPlan.id}` });
    },
  );
