/**
 * `/v1/registrations`: register a fact once (R17) and see where it went.
 *
 * `POST` needs an `Idempotency-Key` header: the same key with the same body answers the first
 * answer again (202); the same key with another body is a 409 `idempotency-key-reused`.
 */
import { z } from '@hono/zod-openapi';
import { RegistrationInvalid, RegistrationRequest, registrationService } from '../registrations';
import { ProblemError } from './context';
import { problemResponse, problemResponses } from './problem';
import { newRouter } from './router';
import { securedRoute } from './security';

const json = <T extends z.ZodType>(schema: T, description: string) => ({ content: { 'application/json': { schema } }, description });

export const IdempotencyHeaders = z.object({
  'idempotency-key': z
    .string()
    .regex(/^[\x21-\x7e]{8,200}$/, 'an Idempotency-Key of 8–200 visible ASCII characters, e.g. a UUID')
    .openapi({ param: { name: 'idempotency-key', in: 'header', description: 'Idempotency-Key: the same key and body answer the first answer; the same key with another body is a 409' }, example: '0b7c6d0e-3f55-4f6b-9a8e-2f8b1f0e9d11' }),
});

const RegistrationIdParam = z.object({ id: z.string().min(1).max(128).openapi({ param: { name: 'id', in: 'path' } }) });

const Target = z.enum(['dfdg', 'education', 'social', 'health']);
const NotRouted = z.object({ target: z.string(), recipient: z.string(), cause: z.enum(['consent', 'target']), reason: z.string(), ruleIds: z.array(z.string()) });
const Excluded = z.object({ ruleId: z.string(), legalReference: z.string() }).nullable();

export const RegistrationAccepted = z
  .object({
    id: z.string(),
    planId: z.string(),
    kind: z.string(),
    acceptedAt: z.string(),
    planVersion: z.number().int(),
    elementId: z.string().nullable(),
    deliveries: z.array(z.object({ target: Target, outboxId: z.string(), status: z.literal('pending'), recipient: z.string(), basis: z.string(), ruleIds: z.array(z.string()) })),
    notRouted: z.array(NotRouted).openapi({ description: 'Targets the routing table names but that get no outbox row: the citizen’s consent does not allow it (cause consent), or the target system has no place for it under its own rules (cause target)' }),
    excludedBy: Excluded,
  })
  .openapi('RegistrationAccepted');

export const DeliveryStateSchema = z
  .object({
    target: z.string(),
    outboxId: z.string(),
    status: z.enum(['pending', 'retrying', 'delivered', 'dead', 'cancelled']),
    attempts: z.number().int(),
    nextAttemptAt: z.string().optional(),
    lastError: z.string().optional(),
    receipt: z.unknown().optional().openapi({ description: 'For delivered: the target’s id of what it now holds' }),
    reason: z.string().optional().openapi({ description: 'For dead and cancelled: why' }),
    updatedAt: z.string(),
  })
  .openapi('DeliveryState');

const RegistrationStatus = z
  .object({
    id: z.string(),
    planId: z.string(),
    kind: z.string(),
    acceptedAt: z.string(),
    actor: z.string(),
    elementId: z.string().nullable(),
    targets: z.array(DeliveryStateSchema),
    notRouted: z.array(NotRouted),
    excludedBy: Excluded,
  })
  .openapi('RegistrationStatus');

export const registrationRoutes = newRouter()
  .openapi(
    securedRoute(['caseworker', 'sync-job'], {
      method: 'post',
      path: '/v1/registrations',
      summary: 'Register a fact once; it is applied to the plan and delivered to every sector system that must hold it (R17)',
      description:
        'Body: `{ planId, kind, …kind fields }` with kind one of goal.added, goal.changed, intervention.added, intervention.changed, intervention.ended, followup.scheduled, followup.done, agreement.added, coordinator.changed, plan.status-changed, plan.details-changed (the plan’s purpose, situation, time frame and the sector plans it replaces or frames; kept in the Én plan, sent nowhere), view.recorded (the citizen’s or a child’s own views and wishes, in their own words; kept in the Én plan, sent nowhere). Targets are chosen by the dated routing table and the citizen’s consent; those without consent are listed in `notRouted`.',
      request: { headers: IdempotencyHeaders, body: { content: { 'application/json': { schema: RegistrationRequest } }, required: true } },
      responses: { 202: json(RegistrationAccepted, 'Accepted: stored, applied to the plan and queued per target'), ...problemResponses(409) },
    }),
    async (c) => {
      try {
        const { answer } = await registrationService(c.get('deps')).register(c.get('principal'), c.req.valid('header')['idempotency-key'], c.req.valid('json'));
        return c.json(answer, 202, { location: `/v1/registrations/${answer.id}` });
      } catch (error) {
        if (error instanceof RegistrationInvalid) return problemResponse('validation-failed', 'the registration does not fit the plan; see `errors`', { errors: error.issues }) as never;
        throw error;
      }
    },
  )
  .openapi(
    securedRoute(['caseworker', 'sync-job', 'it-staff'], {
      method: 'get',
      path: '/v1/registrations/{id}',
      summary: 'A registration and its delivery state per target: pending, delivered (receipt), retrying (attempts, next try, last error), dead or cancelled (reason)',
      request: { params: RegistrationIdParam },
      responses: { 200: json(RegistrationStatus, 'The registration') },
    }),
    async (c) => {
      const found = await registrationService(c.get('deps')).read(c.get('principal'), c.req.valid('param').id);
      if (!found) throw new ProblemError('not-found', 'no such registration in your municipality');
      return c.json(found as z.infer<typeof RegistrationStatus>, 200);
    },
  );
