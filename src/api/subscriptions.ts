/**
 * `/v1/subscriptions`: vendors (and IT staff) subscribe an https address to thin, signed plan and
 * delivery events (architecture "Events out"; S6: internal addresses refused unless allowed), for one
 * sector system: only of plans whose consent lets data flow with it (R9, R16).
 */
import { z } from '@hono/zod-openapi';
import { SourceSystem } from '../model';
import { EventType, NewSubscription, SecretRotation, subscriptionService } from '../subscriptions/service';
import { nextOffsetOf, PageQuery } from './paging';
import { problemResponses } from './problem';
import { newRouter } from './router';
import { securedRoute } from './security';
import { ProblemError } from './context';

const notFound = () => new ProblemError('not-found', 'no such subscription of yours in your municipality');

const json = <T extends z.ZodType>(schema: T, description: string) => ({ content: { 'application/json': { schema } }, description });
const IdParam = z.object({ id: z.uuid() });
const roles = ['vendor', 'it-staff'] as const;

const Subscription = z
  .object({
    id: z.string(),
    url: z.string(),
    events: z.array(EventType),
    system: SourceSystem.nullable().describe('The sector system it serves; null for one made before subscriptions named one, which gets no events (subscribe again naming it)'),
    description: z.string().nullable(),
    createdBy: z.string(),
    createdAt: z.string(),
    disabledAt: z.string().nullable(),
    disabledReason: z.string().nullable(),
    previousSecretValidUntil: z.string().nullable().describe('After a secret rotation: until when events also carry a signature under the secret before it'),
  })
  .openapi('Subscription');

const Delivery = z
  .object({
    id: z.string().describe('The webhook-id the event was sent under (the same on every try)'),
    type: EventType,
    status: z.enum(['pending', 'delivered', 'dead', 'cancelled']),
    attempts: z.number().int(),
    createdAt: z.string(),
    nextAttemptAt: z.string().nullable(),
    deliveredAt: z.string().nullable(),
    lastStatusCode: z.number().int().nullable(),
    lastError: z.string().nullable(),
  })
  .openapi('SubscriptionDelivery');

export const subscriptionRoutes = newRouter()
  .openapi(
    securedRoute(roles, {
      method: 'post',
      path: '/v1/subscriptions',
      summary: 'Subscribe an https address to the plan and delivery events of one sector system (signed per Standard Webhooks with the secret in the answer, shown once)',
      description:
        'A subscription serves one sector system (`system`): a vendor’s is the one its token names (claim `system`; a token naming none, or a body naming another, is refused with 403), IT staff name any. ' +
        'It hears of a plan only while a member’s consent or recorded legal basis lets data flow between the plan and that system (into the plan from it, or to a department it receives registrations for), asked when the event is fanned out and again when it is sent — so a revoked grant stops them, also one waiting in retry (cancelled, `withdrawn: consent no longer covers this system`) — and of `delivery.dead` only for deliveries to that system. ' +
        '`plan.shared` says a consent or legal basis now lets data flow between a plan and the system where none did; `plan.unshared` that the last one was revoked, lapsed or ended: stop holding the plan (it is the one event about a plan no longer shared, sent by design); `plan.purged` that a plan shared with the system was deleted (retention): delete all you hold of it. `plan.unshared` and `plan.purged` go to a subscription wanting any plan event type, listed or not; `plan.shared` only to one listing it. ' +
        'Events are thin — `{"type":"plan.changed","timestamp":"…","data":{"tenant":"101","planId":"…","version":4,"status":"active","previousStatus":"active","changed":["goals"]}}` — never content or a CPR number: read the plan through the API. ' +
        'Addresses in loopback, private, link-local or other internal networks are refused (422) unless the deployment allows them (SUBSCRIPTION_ALLOWED_HOSTS). A receiver answering 410 ends the subscription. ' +
        'At most 10 active subscriptions per client (token subject) and 100 per municipality (409).',
      request: { body: { content: { 'application/json': { schema: NewSubscription } }, required: true } },
      responses: { 201: json(Subscription.extend({ secret: z.string().describe('whsec_… — verify each event’s webhook-signature with it; not shown again') }), 'Subscribed'), ...problemResponses(409, 422) },
    }),
    async (c) => c.json(await subscriptionService(c.get('deps')).create(c.get('principal'), c.req.valid('json')), 201),
  )
  .openapi(
    securedRoute(roles, {
      method: 'get',
      path: '/v1/subscriptions',
      summary: 'Subscriptions of your municipality (a vendor sees its own)',
      request: { query: PageQuery },
      responses: { 200: json(z.object({ subscriptions: z.array(Subscription), nextOffset: z.number().int().nullable() }), 'Newest first') },
    }),
    async (c) => {
      const page = c.req.valid('query');
      const subscriptions = await subscriptionService(c.get('deps')).list(c.get('principal'), page);
      return c.json({ subscriptions, nextOffset: nextOffsetOf(subscriptions, page) }, 200);
    },
  )
  .openapi(
    securedRoute(roles, { method: 'get', path: '/v1/subscriptions/{id}', summary: 'One subscription', request: { params: IdParam }, responses: { 200: json(Subscription, 'The subscription') } }),
    async (c) => {
      const found = await subscriptionService(c.get('deps')).get(c.get('principal'), c.req.valid('param').id);
      if (!found) throw notFound();
      return c.json(found, 200);
    },
  )
  .openapi(
    securedRoute(roles, {
      method: 'post',
      path: '/v1/subscriptions/{id}/rotate-secret',
      summary: 'A new signing secret (shown once); the old one keeps signing beside it for the overlap, so the receiver can switch without missing an event',
      request: { params: IdParam, body: { content: { 'application/json': { schema: SecretRotation } }, required: true } },
      responses: {
        200: json(z.object({ id: z.string(), secret: z.string().describe('whsec_… — not shown again'), previousSecretValidUntil: z.string().nullable() }), 'Rotated'),
        ...problemResponses(409),
      },
    }),
    async (c) => {
      const rotated = await subscriptionService(c.get('deps')).rotateSecret(c.get('principal'), c.req.valid('param').id, c.req.valid('json'));
      if (!rotated) throw notFound();
      return c.json(rotated, 200);
    },
  )
  .openapi(
    securedRoute(roles, {
      method: 'post',
      path: '/v1/subscriptions/{id}/test',
      summary: 'Send a signed `subscription.test` event now and see what the receiver answered (not queued, not retried)',
      request: { params: IdParam },
      responses: {
        200: json(
          z.object({ webhookId: z.string(), delivered: z.boolean().describe('The receiver answered 2xx'), status: z.number().int().nullable(), error: z.string().nullable() }),
          'Sent; what the receiver answered',
        ),
        ...problemResponses(409, 422),
      },
    }),
    async (c) => {
      const sent = await subscriptionService(c.get('deps')).sendTestEvent(c.get('principal'), c.req.valid('param').id);
      if (!sent) throw notFound();
      return c.json(sent, 200);
    },
  )
  .openapi(
    securedRoute(roles, { method: 'delete', path: '/v1/subscriptions/{id}', summary: 'End a subscription: no further events; waiting deliveries are cancelled', request: { params: IdParam }, responses: { 204: { description: 'Ended' } } }),
    async (c) => {
      if (!(await subscriptionService(c.get('deps')).disable(c.get('principal'), c.req.valid('param').id))) throw notFound();
      return c.body(null, 204);
    },
  )
  .openapi(
    securedRoute(roles, {
      method: 'get',
      path: '/v1/subscriptions/{id}/deliveries',
      summary: 'The events sent to a subscription, with each one’s state, tries and the receiver’s last answer',
      request: { params: IdParam, query: PageQuery },
      responses: { 200: json(z.object({ deliveries: z.array(Delivery), nextOffset: z.number().int().nullable() }), 'Newest first') },
    }),
    async (c) => {
      const page = c.req.valid('query');
      const deliveries = await subscriptionService(c.get('deps')).deliveries(c.get('principal'), c.req.valid('param').id, page);
      if (!deliveries) throw notFound();
      return c.json({ deliveries, nextOffset: nextOffsetOf(deliveries, page) }, 200);
    },
  )
  .openapi(
    securedRoute(roles, {
      method: 'post',
      path: '/v1/subscriptions/{id}/deliveries/{deliveryId}/retry',
      summary: 'Send a dead delivery again (the receiver is fixed): the same event under the same webhook-id, due now',
      request: { params: IdParam.extend({ deliveryId: z.uuid() }) },
      responses: { 202: json(z.object({ id: z.string(), status: z.literal('pending') }), 'Queued again'), ...problemResponses(409) },
    }),
    async (c) => {
      const { id, deliveryId } = c.req.valid('param');
      if ((await subscriptionService(c.get('deps')).replay(c.get('principal'), id, deliveryId)) === 'not-found') throw new ProblemError('not-found', 'no such delivery of your subscription');
      return c.json({ id: deliveryId, status: 'pending' as const }, 202);
    },
  );
