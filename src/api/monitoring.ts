/**
 * Monitoring for IT staff: `/v1/monitoring/overview` (JSON), `/v1/monitoring/connections` (the
 * sector connections' checks, run on request), `/metrics` (Prometheus, bearer token; with each
 * connection's newest check, probed at most once a minute) and
 * `/dashboard` (HTML; the token is kept in an HttpOnly, SameSite=Strict cookie so a browser can use
 * it). Everything is scoped to the caller's tenant.
 */
import { z } from '@hono/zod-openapi';
import { Hono, type Context } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { csrf } from 'hono/csrf';
import { retryDelivery } from '../delivery';
import { SourceSystem } from '../model';
import { readProcessingRecord } from '../consent/processing-record';
import { checkConnections, connectionChecksForMetrics, lastConnectionChecks } from '../monitoring/connections';
import { ConnectionsPage } from '../monitoring/connections-page';
import { Dashboard, localTime, SignIn } from '../monitoring/dashboard';
import { ProcessingRecordPage } from '../monitoring/processing-record-page';
import { ReadsFromOutsidePage } from '../monitoring/reads-from-outside-page';
import { QuarantinedPayloadPage, QuarantinePreviewPage, QuarantineProblemPage } from '../monitoring/quarantine-payload-page';
import { monitoringOverview, toPrometheus } from '../monitoring/overview';
import { AuthenticationError, hasAnyRole, type Principal, type Role } from '../security';
import { runSyncNowGoingOn } from '../sync/on-demand';
import { readQuarantinedPayload, resolveQuarantined, type QuarantineAction } from '../sync/quarantine';
import { listReadsFromOutside } from '../views/involvement';
import { ProblemError, type AppEnv } from './context';
import { previewQuarantined } from './mappings';
import { problemResponse, problemTypes } from './problem';
import { newRouter } from './router';
import { securedRoute } from './security';

const ConnectionCheckSchema = z
  .object({
    adapter: SourceSystem,
    name: z.string(),
    ok: z.boolean(),
    latencyMs: z.number().int().nonnegative(),
    detail: z.string().nullable().openapi({ description: 'What the check found, CPR-shaped numbers masked; for a failing connection, why' }),
    warnings: z.array(z.string()).openapi({ description: 'What the working connection will not do; each is in `detail` too' }),
  })
  .openapi('ConnectionCheck');
const ConnectionChecksSchema = z.object({ checkedAt: z.string(), connections: z.array(ConnectionCheckSchema) }).openapi('ConnectionChecks');

const SESSION_COOKIE = 'enplan_session';
/** What a dashboard action did, shown once on the page it redirects to. */
const NOTICE_COOKIE = 'enplan_notice';

export const monitoringApiRoutes = newRouter().openapi(
  securedRoute(['it-staff'], {
    method: 'get',
    path: '/v1/monitoring/overview',
    summary: 'Adapters, sync runs, mapping health, quarantine, delivery queues and plan counts',
    responses: { 200: { content: { 'application/json': { schema: z.record(z.string(), z.unknown()) } }, description: 'The overview for your municipality' } },
  }),
  async (c) => c.json((await monitoringOverview(c.get('deps'), c.get('principal').tenant)) as unknown as Record<string, unknown>, 200),
).openapi(
  securedRoute(['it-staff'], {
    method: 'get',
    path: '/v1/monitoring/connections',
    summary: 'Check every configured sector connection now',
    description:
      'Runs each configured adapter’s connection check in parallel, each bounded by twice ADAPTER_TIMEOUT_MS (a FHIR check may make two calls): the sector systems are probed at most every ten seconds per municipality (calls in between share the last answer; `checkedAt` tells its age), so ask when you need to know, not on a timer: `/metrics` reports each connection’s newest check for alerting (and probes at most once a minute itself). A source that is down or does not answer in time is `ok: false` with a readable `detail`; the answer is still 200. `warnings` are what a working connection will not do (e.g. a FHIR server without history: deletions there go unseen).',
    responses: { 200: { content: { 'application/json': { schema: ConnectionChecksSchema } }, description: 'The connections as they speak for your municipality, checked now or less than ten seconds ago' } },
  }),
  async (c) => c.json(await checkConnections(c.get('deps'), c.get('principal').tenant), 200),
);

async function principalFrom(c: Context<AppEnv>, token: string | undefined): Promise<Principal | null> {
  if (!token) return null;
  try {
    return await c.get('deps').verifyToken(token);
  } catch (error) {
    if (error instanceof AuthenticationError) return null;
    throw error;
  }
}

export const monitoringPageRoutes = new Hono<AppEnv>();

monitoringPageRoutes.get('/metrics', async (c) => {
  const principal = await principalFrom(c, /^Bearer\s+(\S+)$/i.exec(c.req.header('authorization') ?? '')?.[1]);
  if (!principal) return problemResponse('unauthenticated', 'send `Authorization: Bearer <token>` (role it-staff)');
  if (!hasAnyRole(principal, ['it-staff'])) return problemResponse('forbidden', 'this needs the role it-staff');
  const deps = c.get('deps');
  const [overview, connections] = await Promise.all([monitoringOverview(deps, principal.tenant), connectionChecksForMetrics(deps, principal.tenant)]);
  const state = toPrometheus(overview, connections);
  return c.text(state + c.get('httpMetrics').render(principal.tenant), 200, { 'content-type': 'text/plain; version=0.0.4' });
});

monitoringPageRoutes.use('/dashboard/*', csrf());

async function renderDashboard(c: Context<AppEnv>, principal: Principal, notice?: string) {
  const deps = c.get('deps');
  const [overview, dead, quarantine] = await Promise.all([
    monitoringOverview(deps, principal.tenant),
    deps.store.outbox.list(principal.tenant, { status: 'dead', limit: 20 }),
    deps.store.sync.quarantined(principal.tenant, { limit: 20 }),
  ]);
  return c.html(
    Dashboard({
      overview,
      notice,
      deadLetters: dead.map((d) => ({ id: d.id, target: d.target, operation: d.operation, lastError: d.lastError, attempts: d.attempts, updatedAt: d.updatedAt })),
      quarantine: quarantine.map((q) => ({ id: q.id, adapter: q.adapter, recordType: q.recordType, reason: q.reason, createdAt: q.createdAt })),
      requests: c.get('httpMetrics').summary(principal.tenant),
      connections: lastConnectionChecks(deps, principal.tenant),
    }) as never,
  );
}

const ReadsFromOutsidePageQuery = z.object({ from: z.iso.datetime().optional(), to: z.iso.datetime().optional(), afterSeq: z.coerce.number().int().nonnegative().optional() });

/** The signed-in principal if it holds one of `roles` (IT staff run the dashboard; the DPO reads the record of processing). */
async function dashboardPrincipal(c: Context<AppEnv>, roles: Role[] = ['it-staff']) {
  const principal = await principalFrom(c, getCookie(c, SESSION_COOKIE));
  return principal && hasAnyRole(principal, roles) ? principal : null;
}

/**
 * Production sits behind a TLS-terminating proxy (the Node server listens on loopback), so the URL
 * seen here says http while the browser's says https: cookies are Secure there.
 */
const secureCookies = (c: Context<AppEnv>) => c.get('deps').config.environment === 'production' || new URL(c.req.url).protocol === 'https:';

/**
 * Back to the dashboard with what the action did. The notice travels in a short-lived cookie only
 * this site can set, not in the URL: a link anyone sends could otherwise put their words on the page.
 */
function backToDashboard(c: Context<AppEnv>, notice: string) {
  setCookie(c, NOTICE_COOKIE, notice.slice(0, 500), { httpOnly: true, sameSite: 'Strict', path: '/dashboard', maxAge: 60, secure: secureCookies(c) });
  return c.redirect('/dashboard', 303);
}

monitoringPageRoutes.get('/dashboard', async (c) => {
  const principal = await dashboardPrincipal(c, ['it-staff', 'dpo']);
  if (!principal) return c.html(SignIn({}) as never, 200);
  if (!hasAnyRole(principal, ['it-staff'])) return c.redirect('/dashboard/processing-record', 303);
  // Shown once.
  const notice = getCookie(c, NOTICE_COOKIE);
  if (notice !== undefined) deleteCookie(c, NOTICE_COOKIE, { path: '/dashboard', secure: secureCookies(c) });
  return renderDashboard(c, principal, notice);
});

monitoringPageRoutes.get('/dashboard/processing-record', async (c) => {
  const principal = await dashboardPrincipal(c, ['it-staff', 'dpo']);
  if (!principal) return c.html(SignIn({}) as never, 200);
  return c.html(ProcessingRecordPage({ record: await readProcessingRecord(c.get('deps'), principal), dpo: hasAnyRole(principal, ['dpo']), dashboard: hasAnyRole(principal, ['it-staff']) }) as never);
});

// The DPO's log follow-up (decision 0032): who opened plans from outside them. The DPO's alone: IT staff see the count on the dashboard.
monitoringPageRoutes.get('/dashboard/reads-from-outside', async (c) => {
  const principal = await dashboardPrincipal(c, ['it-staff', 'dpo']);
  if (!principal) return c.html(SignIn({}) as never, 200);
  if (!hasAnyRole(principal, ['dpo'])) return c.redirect('/dashboard', 303);
  const query = ReadsFromOutsidePageQuery.safeParse(c.req.query());
  if (!query.success) return problemResponse('validation-failed', query.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
  const listed = await listReadsFromOutside(c.get('deps'), principal, { ...query.data, limit: 200 });
  if ('invalid' in listed) return problemResponse('validation-failed', listed.invalid);
  return c.html(ReadsFromOutsidePage({ tenant: principal.tenant, ...listed }) as never);
});

// A page of its own, never part of /dashboard: opening it probes every sector system.
monitoringPageRoutes.get('/dashboard/connections', async (c) => {
  const principal = await dashboardPrincipal(c, ['it-staff', 'dpo']);
  if (!principal) return c.html(SignIn({}) as never, 200);
  if (!hasAnyRole(principal, ['it-staff'])) return c.redirect('/dashboard/processing-record', 303);
  return c.html(ConnectionsPage({ tenant: principal.tenant, checks: await checkConnections(c.get('deps'), principal.tenant) }) as never);
});

monitoringPageRoutes.post('/dashboard/session', async (c) => {
  // A body that claims to be a form and is not one (a broken multipart body) is refused, not a 500.
  const form = await c.req.parseBody().catch(() => null);
  if (!form) return c.html(SignIn({ error: 'The form could not be read. Paste the token and send it again.' }) as never, 400);
  const token = typeof form.token === 'string' ? form.token.trim() : '';
  const principal = await principalFrom(c, token);
  if (!principal) return c.html(SignIn({ error: 'That token is not valid or has expired.' }) as never, 401);
  if (!hasAnyRole(principal, ['it-staff', 'dpo'])) return c.html(SignIn({ error: 'The dashboard needs a token with the role it-staff (or dpo, for the record of processing).' }) as never, 403);
  setCookie(c, SESSION_COOKIE, token, { httpOnly: true, sameSite: 'Strict', path: '/', secure: secureCookies(c) });
  return c.redirect(hasAnyRole(principal, ['it-staff']) ? '/dashboard' : '/dashboard/processing-record', 303);
});

monitoringPageRoutes.post('/dashboard/logout', (c) => {
  deleteCookie(c, SESSION_COOKIE, { path: '/' });
  return c.redirect('/dashboard', 303);
});

monitoringPageRoutes.post('/dashboard/sync/:adapter', async (c) => {
  const principal = await dashboardPrincipal(c);
  if (!principal) return c.redirect('/dashboard', 303);
  const adapter = SourceSystem.safeParse(c.req.param('adapter'));
  const deps = c.get('deps');
  if (!adapter.success || !deps.adapters[adapter.data]) return problemResponse('not-found', 'no such adapter');
  const result = await runSyncNowGoingOn(deps, { tenant: principal.tenant, adapter: adapter.data, trigger: `dashboard:${principal.sub}` });
  return backToDashboard(c, `Sync of ${adapter.data}: ${result.status}`);
});

monitoringPageRoutes.post('/dashboard/outbox/:id/retry', async (c) => {
  const principal = await dashboardPrincipal(c);
  if (!principal) return c.redirect('/dashboard', 303);
  const result = await retryDelivery(c.get('deps'), principal, c.req.param('id')).catch((error: Error) => ({ error: error.message }));
  return backToDashboard(c, result === null ? 'No such delivery.' : 'error' in result ? `Retry refused: ${result.error}` : `Retry: ${result.row.status}`);
});

monitoringPageRoutes.post('/dashboard/quarantine/:id/:action{dismiss|retry}', async (c) => {
  const principal = await dashboardPrincipal(c);
  if (!principal) return c.redirect('/dashboard', 303);
  const action = c.req.param('action') as QuarantineAction;
  const id = c.req.param('id');
  const result = await resolveQuarantined(c.get('deps'), principal, id, { action }).catch(async (error: Error) => {
    // The API says when in UTC; the page's reader goes by Danish time.
    const resolvedAt = error instanceof ProblemError && error.problemType === 'quarantine-resolved' ? (await c.get('deps').store.sync.quarantineEntry(principal.tenant, id))?.resolvedAt : null;
    return { error: resolvedAt ? `it was resolved already, at ${localTime(resolvedAt)} (Danish time)` : error.message };
  });
  return backToDashboard(c, 'error' in result ? `Not resolved: ${result.error}` : result.resolution === 'retried' ? 'Retried: the next sync reads the citizen from that system again.' : 'Dismissed.');
});

/** A quarantined record's problem (gone, pruned, not opened) as a page with its status; anything else is not ours to word. */
function quarantineProblemPage(c: Context<AppEnv>, id: string, error: unknown) {
  if (!(error instanceof ProblemError)) throw error;
  const { status, title } = problemTypes[error.problemType];
  return c.html(QuarantineProblemPage({ id, title, detail: error.detail }) as never, status);
}

// Posted, not linked: reading personal data writes an audit row, so it is a form the CSRF check guards.
monitoringPageRoutes.post('/dashboard/quarantine/:id/payload', async (c) => {
  const principal = await dashboardPrincipal(c);
  if (!principal) return c.redirect('/dashboard', 303);
  const id = c.req.param('id');
  try {
    return c.html(QuarantinedPayloadPage({ record: await readQuarantinedPayload(c.get('deps'), principal, id) }) as never);
  } catch (error) {
    return quarantineProblemPage(c, id, error);
  }
});

monitoringPageRoutes.post('/dashboard/quarantine/:id/preview', async (c) => {
  const principal = await dashboardPrincipal(c);
  if (!principal) return c.redirect('/dashboard', 303);
  const deps = c.get('deps');
  const id = c.req.param('id');
  try {
    const entry = await deps.store.sync.quarantineEntry(principal.tenant, id);
    if (!entry) throw new ProblemError('not-found', 'no quarantined record with that id');
    const mapping = deps.mappings.find(entry.adapter, entry.recordType);
    if (!mapping) throw new ProblemError('not-found', `no mapping reads ${entry.adapter} ${entry.recordType} records now`);
    return c.html(QuarantinePreviewPage({ id, mapping, result: await previewQuarantined(deps, principal, id, mapping) }) as never);
  } catch (error) {
    return quarantineProblemPage(c, id, error);
  }
});
