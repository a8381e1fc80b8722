/** `/v1/sync`: run a pull now, list runs, and see what was quarantined (IT staff, sync jobs). */
import { z } from '@hono/zod-openapi';
import { SourceSystem } from '../model';
import { runSyncNowGoingOn } from '../sync/on-demand';
import { readQuarantinedPayload, resolveQuarantined } from '../sync/quarantine';
import { ProblemError } from './context';
import { problemResponses } from './problem';
import { newRouter } from './router';
import { securedRoute } from './security';

const json = <T extends z.ZodType>(schema: T, description: string) => ({ content: { 'application/json': { schema } }, description });
const Run = z.object({
  id: z.string(),
  adapter: z.string(),
  trigger: z.string(),
  /** `interrupted`: the process running it ended before the run did (a crash, a restart, a time limit); `error` says how it was found. */
  status: z.enum(['running', 'succeeded', 'failed', 'interrupted']),
  startedAt: z.string(),
  endedAt: z.string().nullable(),
  stats: z.record(z.string(), z.unknown()),
  error: z.string().nullable(),
});

const Offset = z.coerce.number().int().min(0).max(1_000_000).default(0);
const QuarantinedPayload = z.object({
  id: z.string(),
  adapter: z.string(),
  recordType: z.string(),
  recordId: z.string().nullable().openapi({ description: 'The record’s id at its source' }),
  runId: z.string().nullable(),
  createdAt: z.string(),
  resolvedAt: z.string().nullable(),
  reason: z.string(),
  mappingId: z.string().nullable().openapi({ description: 'The mapping that failed it; null when it failed before mapping (its contract, or no mapping)' }),
  mappingVersion: z.string().nullable().openapi({ description: 'The version of that mapping the quarantining run used' }),
  currentMapping: z.object({ id: z.string(), version: z.string() }).nullable().openapi({ description: 'The mapping its record type has now: what `POST /v1/mappings/{id}/preview` with `quarantineId` runs' }),
  payload: z.string().openapi({ description: 'The payload as stored, every CPR-shaped number shown as [cpr]' }),
  mayBeCut: z.boolean().openapi({ description: 'The stored payload reached the length kept (4,000 characters), so the source’s may have been longer' }),
  masking: z.object({ cprLikeNumbers: z.number().int(), note: z.string() }),
});

export const syncRoutes = newRouter()
  .openapi(
    securedRoute(['it-staff', 'sync-job'], {
      method: 'post',
      path: '/v1/sync/{adapter}/run',
      summary: 'Pull from one sector system now, for the enrolled citizens of your municipality',
      request: { params: z.object({ adapter: SourceSystem }) },
      responses: { 200: json(z.object({ runId: z.string(), status: z.enum(['succeeded', 'failed']), stats: z.record(z.string(), z.unknown()), error: z.string().optional() }), 'The finished run') },
    }),
    async (c) => {
      const deps = c.get('deps');
      const adapter = c.req.valid('param').adapter;
      if (!deps.adapters[adapter]) throw new ProblemError('not-found', `no ${adapter} adapter is configured`);
      const result = await runSyncNowGoingOn(deps, { tenant: c.get('principal').tenant, adapter, trigger: `api:${c.get('principal').sub}` });
      return c.json({ runId: result.runId, status: result.status, stats: result.stats as unknown as Record<string, unknown>, ...(result.error ? { error: result.error } : {}) }, 200);
    },
  )
  .openapi(
    securedRoute(['it-staff', 'sync-job'], {
      method: 'get',
      path: '/v1/sync/runs',
      summary: 'Recent sync runs with what they read, merged, quarantined and refused',
      request: { query: z.object({ adapter: SourceSystem.optional(), limit: z.coerce.number().int().min(1).max(500).default(50), offset: Offset }) },
      responses: { 200: json(z.object({ runs: z.array(Run), nextOffset: z.number().int().nullable() }), 'Newest first; `nextOffset` is null on the last page') },
    }),
    async (c) => {
      const { adapter, limit, offset } = c.req.valid('query');
      const runs = await c.get('deps').store.sync.runs(c.get('principal').tenant, { adapter, limit, offset });
      return c.json({ runs: runs.map(({ tenant: _tenant, owner: _owner, ...run }) => run), nextOffset: runs.length === limit ? offset + limit : null }, 200);
    },
  )
  .openapi(
    securedRoute(['it-staff'], {
      method: 'get',
      path: '/v1/sync/quarantine',
      summary: 'Records that failed their contract or mapping, with the reason (payloads are not shown here)',
      request: { query: z.object({ adapter: SourceSystem.optional(), limit: z.coerce.number().int().min(1).max(500).default(100), offset: Offset }) },
      responses: {
        200: json(
          z.object({
            records: z.array(z.object({ id: z.string(), adapter: z.string(), recordType: z.string(), recordId: z.string().nullable(), mappingId: z.string().nullable(), reason: z.string(), createdAt: z.string(), runId: z.string().nullable() })),
            nextOffset: z.number().int().nullable(),
          }),
          'Unresolved quarantined records, newest first; `nextOffset` is null on the last page',
        ),
      },
    }),
    async (c) => {
      const { adapter, limit, offset } = c.req.valid('query');
      const rows = await c.get('deps').store.sync.quarantined(c.get('principal').tenant, { adapter, limit, offset });
      // The raw payload may hold personal data; IT staff see the reason, not the content.
      // (and the citizen's id is not needed to judge a mapping failure).
      return c.json({ records: rows.map(({ raw: _raw, tenant: _tenant, citizenId: _citizen, ...rest }) => rest), nextOffset: rows.length === limit ? offset + limit : null }, 200);
    },
  )
  .openapi(
    securedRoute(['it-staff'], {
      method: 'get',
      path: '/v1/sync/quarantine/{id}/payload',
      summary: 'A quarantined record’s stored payload, CPR numbers masked, with its reason and mapping: each read is audited and told to the citizen',
      request: { params: z.object({ id: z.string().min(1).max(100) }) },
      responses: {
        200: json(QuarantinedPayload, 'The payload until retention removes it (RETENTION_PAYLOAD_DAYS)'),
        ...problemResponses(404, 409, 410),
      },
    }),
    async (c) => c.json(await readQuarantinedPayload(c.get('deps'), c.get('principal'), c.req.valid('param').id), 200),
  )
  .openapi(
    securedRoute(['it-staff'], {
      method: 'post',
      path: '/v1/sync/quarantine/{id}/resolve',
      summary: 'Resolve a quarantined record: dismiss it, or retry it (the next sync reads the citizen from that adapter again)',
      request: {
        params: z.object({ id: z.string().min(1).max(100) }),
        body: { content: { 'application/json': { schema: z.object({ action: z.enum(['dismiss', 'retry']), note: z.string().max(500).optional() }).strict() } }, required: true },
      },
      responses: {
        200: json(z.object({ id: z.string(), resolution: z.enum(['dismissed', 'retried']), resolvedAt: z.string() }), 'Resolved; it no longer shows among the open records'),
        ...problemResponses(400, 404, 409),
      },
    }),
    async (c) => c.json(await resolveQuarantined(c.get('deps'), c.get('principal'), c.req.valid('param').id, c.req.valid('json')), 200),
  );
