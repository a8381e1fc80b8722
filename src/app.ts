/**
 * Composes the Hono app from its ports: store, CPR vault, clock, config, logger, token verifier.
 * Only Web-standard Request/Response here, so the same app runs on Node and on Workers.
 */
import { OpenAPIHono } from '@hono/zod-openapi';
import { bodyLimit } from 'hono/body-limit';
import { HTTPException } from 'hono/http-exception';
import type { MiddlewareHandler } from 'hono';
import { routePath } from 'hono/route';
import {
  authenticate,
  citizenRoutes,
  consentRoutes,
  consentTextRoutes,
  dataSubjectRoutes,
  DocsPage,
  healthRoutes,
  mappingRoutes,
  monitoringApiRoutes,
  monitoringPageRoutes,
  outboxRoutes,
  planRoutes,
  planSharingRoutes,
  ProblemError,
  problemResponse,
  problemTypes,
  processingRecordRoutes,
  registrationRoutes,
  statsRoutes,
  subscriptionRoutes,
  syncRoutes,
  webhookRoutes,
  worklistRoutes,
  type AppDeps,
  type AppEnv,
} from './api';
import { createHttpMetrics } from './monitoring/http-metrics';
import { IdentityProviderUnavailableError } from './security';
import { redactCpr } from './security/redact';
import { SyncThreadStoppedError } from './sync/on-demand';
import { EventHeaders, webhookEvents } from './subscriptions/events';

export const apiInfo = {
  title: 'Én plan integration layer',
  version: '0.1.0',
  description: 'Pulls sector plans, maps them into one shared Én plan, and pushes single registrations back — under the citizen’s consent.',
};

const knownMethods = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

const HALF_PAIR = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const unstorable = (text: string) => text.includes('\0') || HALF_PAIR.test(text);

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined; // the route's own validation answers malformed JSON
  }
}

/** The path (`a.b[2]`, `(body)`) of the first key or string that cannot be stored as sent, if any. */
function unstorableStringIn(value: unknown, path = '(body)'): string | undefined {
  if (typeof value === 'string') return unstorable(value) ? path : undefined;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = unstorableStringIn(value[i], `${path}[${i}]`);
      if (found) return found;
    }
    return undefined;
  }
  if (value && typeof value === 'object')
    for (const [key, item] of Object.entries(value)) {
      if (unstorable(key)) return `${path} (a key)`;
      const found = unstorableStringIn(item, path === '(body)' ? key.slice(0, 60) : `${path}.${key.slice(0, 60)}`);
      if (found) return found;
    }
  return undefined;
}

export function createApp(deps: AppDeps) {
  const app = new OpenAPIHono<AppEnv>();

  const httpMetrics = createHttpMetrics();
  app.use('*', async (c, next) => {
    const requestId = c.req.header('x-request-id')?.slice(0, 64) || crypto.randomUUID();
    c.set('deps', deps);
    c.set('requestId', requestId);
    c.set('httpMetrics', httpMetrics);
    const started = performance.now();
    await next();
    // The route as registered (the handler's, even when a middleware answered first, as on a 401),
    // never the path asked for (ids; S4); only middleware matched: unmatched. An unknown method: OTHER.
    const route = routePath(c, -1);
    httpMetrics.record(c.get('principal')?.tenant, knownMethods.has(c.req.method) ? c.req.method : 'OTHER', route === '' || route.endsWith('*') ? 'unmatched' : route, c.res.status, (performance.now() - started) / 1000);
    // On the response's own headers: c.header() after the handler copies the response, which makes
    // @hono/node-server build a full web Response and body stream for every request (B3, B5).
    try {
      c.res.headers.set('x-request-id', requestId);
    } catch {
      c.header('x-request-id', requestId); // immutable headers (a response fetched from elsewhere): copied after all
    }
    // The path only, never the query: a careless client could put personal data there.
    deps.logger.info('request', { requestId, method: c.req.method, path: c.req.path, status: c.res.status, ms: Math.round(performance.now() - started) });
  });
  // A declared length is checked from the header alone; only a body without one (chunked) goes through
  // hono's bodyLimit, which counts it as it streams. hono's reads `c.req.raw.body` for every request,
  // which makes @hono/node-server build a full web Request (abort signal, header copy, stream) that
  // reading the body does not need: ~15 % of a webhook notice's CPU and a few % of every read (B3, B5).
  const limitBodies = (maxSize: number, what: string): MiddlewareHandler => {
    const tooLarge = () => problemResponse('payload-too-large', `the limit ${what} is ${maxSize} bytes`);
    const streamedLimit = bodyLimit({ maxSize, onError: tooLarge });
    return async (c, next) => {
      if (c.req.method === 'GET' || c.req.method === 'HEAD') return next();
      const declared = c.req.header('content-length');
      if (declared !== undefined && c.req.header('transfer-encoding') === undefined) return Number.parseInt(declared, 10) > maxSize ? tooLarge() : next();
      return streamedLimit(c, next);
    };
  };
  app.use('/v1/*', limitBodies(deps.config.bodyLimitBytes, 'of a request'));
  // The dashboard's forms carry a token or nothing, and nobody signed in is needed to send one: a few KB.
  app.use('/dashboard/*', limitBodies(16 * 1024, 'of a dashboard form'));
  app.use('/v1/*', async (c, next) => {
    if (!['POST', 'PUT', 'PATCH'].includes(c.req.method)) return next();
    // The media type itself, not a prefix: `application/json-seq` is no JSON document.
    const type = c.req.header('content-type');
    const mediaType = type?.split(';')[0]!.trim().toLowerCase();
    if (mediaType) {
      if (!/^application\/([\w.-]+\+)?json$/.test(mediaType)) return problemResponse('unsupported-media-type', `got ${type!.slice(0, 80)}`);
    } else if (Number(c.req.header('content-length') ?? 0) > 0 || c.req.header('transfer-encoding') !== undefined) {
      return problemResponse('unsupported-media-type', 'a body needs content-type: application/json');
    }
    await next();
  });
  // A sector system's change notice is authenticated by its Standard Webhooks signature, not a bearer
  // token: only that route (`/v1/webhooks/inbound/{source}`), not IT staff's routes under it.
  app.use('/v1/*', (c, next) => (c.req.method === 'POST' && /^\/v1\/webhooks\/inbound\/[^/]+$/.test(c.req.path) ? next() : authenticate(c, next)));
  // A string holding NUL or half a surrogate pair cannot be stored as sent: SQLite's text ends at the
  // NUL and UTF-8 has no half pair, so the stored words would differ from those acknowledged (a consent
  // text must be kept word for word). Such bodies are refused; only JSON's \u escapes can carry them.
  app.use('/v1/*', async (c, next) => {
    if (!['POST', 'PUT', 'PATCH'].includes(c.req.method) || /^\/v1\/webhooks\/inbound\/[^/]+$/.test(c.req.path)) return next();
    const text = await c.req.text();
    if (/\\u(0000|d[89a-f][0-9a-f]{2})/i.test(text)) {
      const unstorable = unstorableStringIn(safeJson(text));
      if (unstorable) return problemResponse('validation-failed', `${redactCpr(unstorable)}: holds a NUL character or half a surrogate pair, which cannot be stored as sent`);
    }
    await next();
  });

  app.route('/', healthRoutes);
  app.route('/', planRoutes);
  app.route('/', planSharingRoutes);
  app.route('/', consentRoutes);
  app.route('/', consentTextRoutes);
  app.route('/', citizenRoutes);
  app.route('/', registrationRoutes);
  app.route('/', outboxRoutes);
  app.route('/', syncRoutes);
  app.route('/', mappingRoutes);
  app.route('/', monitoringApiRoutes);
  app.route('/', statsRoutes);
  app.route('/', processingRecordRoutes);
  app.route('/', dataSubjectRoutes);
  app.route('/', worklistRoutes);
  app.route('/', webhookRoutes);
  app.route('/', subscriptionRoutes);
  app.route('/', monitoringPageRoutes);

  app.openAPIRegistry.registerComponent('securitySchemes', 'bearerAuth', {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'JWT',
    description:
      'Claims: `tenant` (kommunekode), `roles`; `providerId` for a provider, `citizenId` (or a national login’s CPR claim) for a citizen, and for a caseworker optionally `department` (employment, education, social, children, health, integration): data the citizen’s consent gives one department alone is shown to its caseworkers only',
  });
  app.openAPIRegistry.registerComponent('securitySchemes', 'standardWebhooks', {
    type: 'apiKey',
    in: 'header',
    name: 'webhook-signature',
    description: 'Standard Webhooks: webhook-id, webhook-timestamp and webhook-signature (v1, HMAC-SHA256 with the source’s whsec_ secret)',
  });
  // The events a subscriber receives (POST to its address), as OpenAPI 3.1 webhooks.
  for (const [name, schema] of webhookEvents)
    app.openAPIRegistry.registerWebhook({
      method: 'post',
      path: name,
      summary: `The ${name} event, sent to a subscription's address, signed per Standard Webhooks`,
      request: { headers: EventHeaders, body: { content: { 'application/json': { schema } }, required: true } },
      responses: { 200: { description: 'Any 2xx: received. 410 Gone ends the subscription; anything else is retried with backoff under the same webhook-id' } },
    });
  const openApiDocument = () => app.getOpenAPI31Document({ openapi: '3.1.0', info: apiInfo });
  app.get('/openapi.json', (c) => c.json(openApiDocument()));
  app.get('/docs', (c) => c.html(DocsPage({ doc: openApiDocument() as never }) as never));
  app.get('/problems', (c) => c.json(Object.entries(problemTypes).map(([slug, p]) => ({ type: `/problems/${slug}`, ...p }))));
  app.get('/problems/:slug', (c) => {
    // Own keys only: `__proto__` or `toString` is no problem type.
    const slug = c.req.param('slug');
    const entry = Object.hasOwn(problemTypes, slug) ? problemTypes[slug as keyof typeof problemTypes] : undefined;
    return entry ? c.json({ type: `/problems/${c.req.param('slug')}`, ...entry }) : problemResponse('not-found');
  });

  // The address a newcomer opens first: a browser goes to the dashboard, a client gets where things are.
  app.get('/', (c) =>
    (c.req.header('accept') ?? '').includes('text/html')
      ? c.redirect('/dashboard', 302)
      : c.json({ name: apiInfo.title, version: apiInfo.version, links: { dashboard: '/dashboard', docs: '/docs', openapi: '/openapi.json', problems: '/problems', health: '/health', ready: '/ready', metrics: '/metrics' } }),
  );
  // A known address asked with another method is a 405 naming the methods it takes, so a client
  // cannot read "no such route" as "no such plan".
  let routeMethods: { pattern: RegExp; method: string }[] | undefined;
  const allowedMethods = (path: string) => {
    routeMethods ??= app.routes
      .filter((r) => r.method !== 'ALL' && !r.path.includes('*'))
      .map((r) => ({ pattern: new RegExp(`^${r.path.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/:[^/]+/g, '[^/]+')}/?$`), method: r.method }));
    const methods = new Set(routeMethods.filter((r) => r.pattern.test(path)).map((r) => r.method));
    if (methods.has('GET')) methods.add('HEAD');
    return [...methods];
  };
  app.notFound((c) => {
    const allowed = allowedMethods(c.req.path);
    if (allowed.length === 0) return problemResponse('not-found', 'no such route');
    const response = problemResponse('method-not-allowed', `${c.req.method.slice(0, 10)} is not one of ${allowed.join(', ')}`);
    response.headers.set('allow', allowed.join(', '));
    return response;
  });
  app.onError((error, c) => {
    if (error instanceof ProblemError) return problemResponse(error.problemType, error.detail);
    // The token may be valid: the IdP's keys could not be read (a 503, worth retrying; not a 401).
    if (error instanceof IdentityProviderUnavailableError) return problemResponse('identity-provider-unavailable', 'try again shortly');
    // A sync's thread ended under it (its run is marked interrupted): worth asking again, not a 500.
    if (error instanceof SyncThreadStoppedError) return problemResponse('sync-interrupted', error.message);
    if (error instanceof HTTPException) {
      if (error.status === 400) return problemResponse('malformed-json', error.message);
      if (error.status === 413) return problemResponse('payload-too-large');
      // @hono/zod-openapi's validator refuses a body of a media type its route does not declare.
      if (error.status === 415) return problemResponse('unsupported-media-type', 'the request body must be application/json');
      if (error.status === 401) return problemResponse('unauthenticated');
      // hono/csrf refuses a dashboard form posted from another origin.
      if (error.status === 403) return problemResponse('forbidden', 'the form was not sent from this site');
    }
    deps.logger.error('unhandled error', { requestId: c.get('requestId'), error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) });
    return problemResponse('internal-error', `quote request id ${c.get('requestId')} when you report this`);
  });
  return app;
}
export type App = ReturnType<typeof createApp>;
