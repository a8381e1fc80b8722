/**
 * `/v1/webhooks/inbound/{source}`: a sector system tells us it has changes (Standard Webhooks,
 * S2). Authenticated by the signature, not a bearer token; the body is read raw, because the
 * signature is over the exact bytes sent. `GET /v1/webhooks/inbound` lets IT staff see what came.
 */
import { createRoute, z } from '@hono/zod-openapi';
import { askForJob } from '../runtime/job-queue';
import { processInboundWebhooks, receiveInboundWebhook } from '../webhooks/inbound';
import { nextOffsetOf, PageQuery } from './paging';
import { problemResponses } from './problem';
import { newRouter } from './router';
import { securedRoute } from './security';

const json = <T extends z.ZodType>(schema: T, description: string) => ({ content: { 'application/json': { schema } }, description });

const Received = z.object({ id: z.string().describe('The webhook-id the source sent'), status: z.enum(['accepted', 'duplicate']) }).openapi('InboundWebhookReceipt');

const Notice = z
  .object({
    source: z.string(),
    id: z.string(),
    type: z.string(),
    receivedAt: z.string(),
    status: z.enum(['pending', 'processed', 'ignored']),
    attempts: z.number().int(),
    runId: z.string().nullable(),
    processedAt: z.string().nullable(),
    lastError: z.string().nullable(),
  })
  .openapi('InboundWebhookNotice');

export const webhookRoutes = newRouter()
  .openapi(
    createRoute({
      method: 'post',
      path: '/v1/webhooks/inbound/{source}',
      security: [{ standardWebhooks: [] }],
      summary: 'A sector system’s change notice: we read its changes for the municipality soon after (Standard Webhooks)',
      description: [
        'Signed per Standard Webhooks (`webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64 HMAC-SHA256>` over `id.timestamp.body`, with the source’s `whsec_` secret).',
        'A timestamp more than 5 minutes off, a changed body or another secret is refused (401). A notice sent again with the same `webhook-id` is answered 200 `duplicate` and has no second effect.',
        'Body: `{"type":"records.changed","timestamp":"…","data":{"municipality":"101","changed":3}}`. No plan data and never a CPR number (422): the records are read through the pull, under the citizen’s consent.',
        'The notice is stored before the answer, so an accepted notice is never lost; one sync run answers all the notices waiting from a source.',
      ].join('\n\n'),
      request: { params: z.object({ source: z.string().max(40).describe('dfdg, education, social or health') }) },
      responses: {
        202: json(Received, 'Stored; the source’s changes will be read'),
        200: json(Received, 'This webhook-id was received before; nothing more happens'),
        ...problemResponses(400, 401, 404, 413, 415, 422),
      },
    }),
    async (c) => {
      const deps = c.get('deps');
      const source = c.req.valid('param').source;
      const headers = { id: c.req.header('webhook-id'), timestamp: c.req.header('webhook-timestamp'), signature: c.req.header('webhook-signature') };
      const received = await receiveInboundWebhook(deps, source, headers, new Uint8Array(await c.req.arrayBuffer()));
      if (received.duplicate) return c.json({ id: received.webhookId, status: 'duplicate' as const }, 200);
      if (deps.onInboundWebhook) deps.onInboundWebhook();
      // Workers with the job queue read the changes in an invocation of their own (decision 0020);
      // without one, or if the queue refused the message, after answering, in this request's lifetime.
      else if (!(await askForJob(deps, { kind: 'inbound', tenant: received.tenant, source: received.source }))) {
        try {
          c.executionCtx.waitUntil(processInboundWebhooks(deps, { tenant: received.tenant, source }).catch(() => undefined));
        } catch {
          // No execution context (tests on Node without a processor): the next scheduled round processes it.
        }
      }
      return c.json({ id: received.webhookId, status: 'accepted' as const }, 202);
    },
  )
  .openapi(
    securedRoute(['it-staff'], {
      method: 'get',
      path: '/v1/webhooks/inbound',
      summary: 'The change notices the sector systems sent, newest first, with what became of each',
      request: { query: PageQuery },
      responses: { 200: json(z.object({ notices: z.array(Notice), nextOffset: z.number().int().nullable() }), 'The notices') },
    }),
    async (c) => {
      const { limit, offset } = c.req.valid('query');
      const rows = await c.get('deps').store.inboundWebhooks.list(c.get('principal').tenant, limit, offset);
      return c.json(
        {
          notices: rows.map((r) => ({ source: r.source, id: r.webhookId, type: r.eventType, receivedAt: r.receivedAt, status: r.status, attempts: r.attempts, runId: r.runId, processedAt: r.processedAt, lastError: r.lastError })),
          nextOffset: nextOffsetOf(rows, { limit, offset }),
        },
        200,
      );
    },
  );
