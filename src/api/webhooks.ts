/**
 * `/v1/webhooks/inbound/{source}`: a sector system tells us it has changes (Standard Webhooks,
 * S2). Authenticated by the signature, not a bearer token; the body is read raw, because the
 * signature is over the exact bytes sent. `GET /v1/webhooks/inbound` lets IT staff see what came,
 * and `POST /v1/webhooks/inbound/{source}/{id}/retry` has a dead notice processed again.
 */
import { createRoute, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { askForJob } from '../runtime/job-queue';
import type { SourceSystem } from '../model';
import type { InboundWebhookRow } from '../store';
import { processInboundWebhooks, receiveInboundWebhook, retryDeadNotice } from '../webhooks/inbound';
import { ProblemError, type AppDeps } from './context';
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
    status: z.enum(['pending', 'processed', 'ignored', 'dead']).describe('dead: its sync runs failed at every try; IT staff can have it processed again'),
    attempts: z.number().int(),
    runId: z.string().nullable(),
    processedAt: z.string().nullable(),
    lastError: z.string().nullable(),
  })
  .openapi('InboundWebhookNotice');

const noticeOf = (r: InboundWebhookRow) => ({ source: r.source, id: r.webhookId, type: r.eventType, receivedAt: r.receivedAt, status: r.status, attempts: r.attempts, runId: r.runId, processedAt: r.processedAt, lastError: r.lastError });

/**
 * Has the waiting notices of a tenant and source processed soon: the Node processor, or the job queue
 * on Workers (decision 0020), or, without one or if it refused, after answering, in this request's lifetime.
 */
async function processSoon(c: Context, deps: AppDeps, tenant: string, source: SourceSystem): Promise<void> {
  if (deps.onInboundWebhook) deps.onInboundWebhook();
  else if (!(await askForJob(deps, { kind: 'inbound', tenant, source }))) {
    try {
      c.executionCtx.waitUntil(processInboundWebhooks(deps, { tenant, source }).catch(() => undefined));
    } catch {
      // No execution context (tests on Node without a processor): the next scheduled round processes it.
    }
  }
}

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
      await processSoon(c, deps, received.tenant, received.source);
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
          notices: rows.map(noticeOf),
          nextOffset: nextOffsetOf(rows, { limit, offset }),
        },
        200,
      );
    },
  )
  .openapi(
    securedRoute(['it-staff'], {
      method: 'post',
      path: '/v1/webhooks/inbound/{source}/{id}/retry',
      summary: 'Have a dead change notice processed again (its source fixed): it waits again, its tries counted afresh',
      request: { params: z.object({ source: z.string().max(40), id: z.string().min(1).max(200).describe('The webhook-id the source sent (URL-encoded)') }) },
      responses: { 200: json(Notice, 'Waiting again; a sync run follows soon'), ...problemResponses(404, 409) },
    }),
    async (c) => {
      const deps = c.get('deps');
      const { source, id } = c.req.valid('param');
      const row = await retryDeadNotice(deps, c.get('principal'), source, id);
      if (!row) throw new ProblemError('not-found', 'no such change notice in your municipality');
      await processSoon(c, deps, row.tenant, row.source as SourceSystem);
      return c.json(noticeOf(row), 200);
    },
  );
