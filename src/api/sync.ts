/** `/v1/sync`: run a pull now, list runs, and see what was quarantined (IT staff, sync jobs). */
import { z } from '@hono/zod-openapi';
import { SourceSystem } from '../model';
import { runSync } from '../sync/engine';
import { ProblemError } from './context';
import { newRouter } from './router';
import { securedRoute } from './security';

const json = <T extends z.ZodType>(schema: T, description: string) => ({ content: { 'application/json': { schema } }, description });
const Run = z.object({
  id: z.string(),
  adapter: z.string(),
  trigger: z.string(),
  status: z.enum(['running', 'succeeded', 'failed']),
  startedAt: z.string(),
  endedAt: z.string().nullable(),
  stats: z.record(z.string(), z.unknown()),
  error: z.string().nullable(),
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
      const result = await runSync(deps, { tenant: c.get('principal').tenant, adapter, trigger: `api:${c.get('principal').sub}`, mappings: deps.mappings });
      return c.json({ runId: result.runId, status: result.status, stats: result.stats as unknown as Record<string, unknown>, ...(result.error ? { error: result.error } : {}) }, 200);
    },
  )
  .openapi(
    securedRoute(['it-staff', 'sync-job'], {
      method: 'get',
      path: '/v1/sync/runs',
      summary: 'Recent sync runs with what they read, merged, quarantined and refused',
      request: { query: z.object({ adapter: SourceSystem.optional(), limit: z.coerce.number().int().min(1).max(500).default(50) }) },
      responses: { 200: json(z.object({ runs: z.array(Run) }), 'Newest first') },
    }),
    async (c) => {
      const { adapter, limit } = c.req.valid('query');
      return c.json({ runs: await c.get('deps').store.sync.runs(c.get('principal').tenant, { adapter, limit }) }, 200);
    },
  )
  .openapi(
    securedRoute(['it-staff'], {
      method: 'get',
      path: '/v1/sync/quarantine',
      summary: 'Records that failed their contract or mapping, with the reason (payloads are not shown here)',
      request: { query: z.object({ adapter: SourceSystem.optional(), limit: z.coerce.number().int().min(1).max(500).default(100) }) },
      responses: {
        200: json(
          z.object({ records: z.array(z.object({ id: z.string(), adapter: z.string(), recordType: z.string(), recordId: z.string().nullable(), mappingId: z.string().nullable(), reason: z.string(), createdAt: z.string(), runId: z.string().nullable() })) }),
          'Unresolved quarantined records, newest first',
        ),
      },
    }),
    async (c) => {
      const { adapter, limit } = c.req.valid('query');
      const rows = await c.get('deps').store.sync.quarantined(c.get('principal').tenant, { adapter, limit });
      // The raw payload may hold personal data; IT staff see the reason, not the content.
      return c.json({ records: rows.map(({ raw: _raw, tenant: _tenant, ...rest }) => rest) }, 200);
    },
  );
