/** `/health` (the process is up) and `/ready` (it can reach its database and, with JWKS_URL, has the IdP's signing keys). No token needed. */
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
      summary: 'Readiness: the database answers and, with JWKS_URL, the identity provider’s signing keys are at hand',
      responses: {
        200: { content: { 'application/json': { schema: Health } }, description: 'Ready' },
        503: { content: { 'application/json': { schema: Health } }, description: 'Not ready' },
      },
    }),
    async (c) => {
      const deps = c.get('deps');
      const checks: Record<string, string> = {};
      let ready = true;
      try {
        await deps.store.plans.listIds('000', 1);
        checks.database = 'ok';
      } catch {
        checks.database = 'unreachable';
        ready = false;
      }
      if (deps.identityProvider) {
        // Keys held past their max-age still check tokens (the IdP is down): ready, and said so.
        const keys = await deps.identityProvider.status();
        checks.identityProvider = keys === 'ok' ? 'ok' : keys === 'stale' ? 'signing keys held, the IdP cannot be read now' : 'no signing keys: the IdP cannot be read';
        if (keys === 'unavailable') ready = false;
      }
      return ready ? c.json({ status: 'ok' as const, checks }, 200) : c.json({ status: 'unavailable' as const, checks }, 503);
    },
  );
