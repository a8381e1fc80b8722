/** `/health` (the process is up) and `/ready` (it can reach its database). No token needed. */
import { createRoute, z } from '@hono/zod-openapi';
import { newRouter } from './router';

const Health = z.object({ status: z.enum(['ok', 'unavailable']), checks: z.record(z.string(), z.string()).optional() }).openapi('Health');

export const healthRoutes = newRouter()
  .openapi(
    createRoute({ method: 'get', path: '/health', summary: 'Liveness', responses: { 200: { content: { 'application/json': { schema: Health } }, description: 'Up' } } }),
    (c) => c.json({ status: 'ok' as const }, 200),
  )
  .openapi(
    createRoute({
      method: 'get',
      path: '/ready',
      summary: 'Readiness: the database answers',
      responses: {
        200: { content: { 'application/json': { schema: Health } }, description: 'Ready' },
        503: { content: { 'application/json': { schema: Health } }, description: 'Not ready' },
      },
    }),
    async (c) => {
      try {
        await c.get('deps').store.plans.listIds('000', 1);
        return c.json({ status: 'ok' as const, checks: { database: 'ok' } }, 200);
      } catch {
        return c.json({ status: 'unavailable' as const, checks: { database: 'unreachable' } }, 503);
      }
    },
  );
