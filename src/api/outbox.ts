/** `/v1/outbox`: the delivery queue for IT staff — list by status, retry a dead letter. */
import { z } from '@hono/zod-openapi';
import { retryDelivery } from '../delivery';
import { deliveryStateOf } from '../registrations';
import type { OutboxRow } from '../store';
import { actorOf } from '../security';
import { ProblemError } from './context';
import { problemResponses } from './problem';
import { DeliveryStateSchema } from './registrations';
import { newRouter } from './router';
import { securedRoute } from './security';

const json = <T extends z.ZodType>(schema: T, description: string) => ({ content: { 'application/json': { schema } }, description });
const Status = z.enum(['pending', 'retrying', 'delivered', 'dead', 'cancelled']);

const OutboxItem = DeliveryStateSchema.extend({
  registrationId: z.string(),
  citizenId: z.string().openapi({ description: 'Pseudonymous citizen id (never a CPR)' }),
  operation: z.string(),
  createdAt: z.string(),
}).openapi('OutboxItem');

const toItem = (row: OutboxRow) => ({ ...deliveryStateOf(row), registrationId: row.registrationId, citizenId: row.citizenId, operation: row.operation, createdAt: row.createdAt });

export const outboxRoutes = newRouter()
  .openapi(
    securedRoute(['it-staff'], {
      method: 'get',
      path: '/v1/outbox',
      summary: 'Deliveries of registrations to the sector systems, newest first, by status and target',
      request: {
        query: z.object({
          status: Status.optional(),
          target: z.enum(['dfdg', 'education', 'social', 'health']).optional(),
          limit: z.coerce.number().int().min(1).max(500).default(100),
          offset: z.coerce.number().int().min(0).default(0),
        }),
      },
      responses: { 200: json(z.object({ items: z.array(OutboxItem), counts: z.record(z.string(), z.number()) }), 'The deliveries and the count per status') },
    }),
    async (c) => {
      const { store } = c.get('deps');
      const tenant = c.get('principal').tenant;
      const query = c.req.valid('query');
      const [rows, counts] = await Promise.all([store.outbox.list(tenant, query), store.outbox.countByStatus(tenant)]);
      return c.json({ items: rows.map(toItem), counts }, 200);
    },
  )
  .openapi(
    securedRoute(['it-staff'], {
      method: 'post',
      path: '/v1/outbox/{id}/retry',
      summary: 'Retry a dead or waiting delivery now (same idempotency key, so never applied twice)',
      request: { params: z.object({ id: z.string().min(1).max(128).openapi({ param: { name: 'id', in: 'path' } }) }) },
      responses: {
        200: json(z.object({ item: OutboxItem, attempt: z.string().openapi({ description: 'What the immediate attempt did: delivered, retried, dead, cancelled, or not-due when an earlier delivery of the same citizen to the same target must go first' }) }), 'The delivery after the attempt'),
        ...problemResponses(409),
      },
    }),
    async (c) => {
      const principal = c.get('principal');
      const result = await retryDelivery(c.get('deps'), principal, c.req.valid('param').id);
      if (!result) throw new ProblemError('not-found', 'no such delivery in your municipality');
      c.get('deps').logger.info('outbox retry', { outboxId: result.row.id, actor: actorOf(principal), attempt: result.attempt });
      return c.json({ item: toItem(result.row), attempt: result.attempt }, 200);
    },
  );
