/** Bearer authentication for `/v1/*` and the per-route role check (S1). */
import { createRoute, type RouteConfig } from '@hono/zod-openapi';
import type { MiddlewareHandler } from 'hono';
import { AuthenticationError, hasAnyRole, type Role } from '../security';
import type { AppEnv } from './context';
import { problemResponse, problemResponses } from './problem';

export const authenticate: MiddlewareHandler<AppEnv> = async (c, next) => {
  const header = c.req.header('authorization') ?? '';
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  if (!match) return problemResponse('unauthenticated', 'send `Authorization: Bearer <token>`');
  try {
    c.set('principal', await c.get('deps').verifyToken(match[1]!));
  } catch (error) {
    if (error instanceof AuthenticationError) return problemResponse('unauthenticated', error.message);
    throw error;
  }
  await next();
};

export function requireRoles(roles: readonly Role[]): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    if (!hasAnyRole(c.get('principal'), roles)) return problemResponse('forbidden', `this needs one of the roles: ${roles.join(', ')}`);
    await next();
  };
}

/** A route that needs a bearer token with one of `roles`; the roles are also published in the OpenAPI document. */
export function securedRoute<const R extends RouteConfig>(roles: readonly Role[], config: R) {
  return createRoute({
    ...config,
    security: [{ bearerAuth: [] }],
    middleware: [requireRoles(roles)] as const,
    'x-roles': roles,
    responses: { ...problemResponses(400, 401, 403, 404, 503), ...config.responses },
  } as R & { 'x-roles': readonly Role[] });
}
