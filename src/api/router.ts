/** Route modules are OpenAPIHono routers whose validation failures become problem documents. */
import { OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from './context';
import { issuesOf, problemResponse } from './problem';

export function newRouter() {
  return new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      if (!result.success) return problemResponse('validation-failed', 'see `errors` for what to fix', { errors: issuesOf(result.error) });
    },
  });
}
