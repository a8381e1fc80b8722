/**
 * `/metrics` counts the requests the server answered (R24): per route as registered, method and
 * status, with a latency histogram — for the scraping municipality only, and with no id or other
 * personal data in any label (S4).
 */
import { describe, expect, it } from 'vitest';
import { testCpr } from '../support/cpr';
import { startTestApp } from '../support/node-app';
import { enrol } from '../support/seed';

describe('request metrics on /metrics', () => {
  it('counts requests by route pattern, method and status, per municipality, without ids in labels', async () => {
    const app = await startTestApp();
    const plan = await enrol(app.deps, testCpr());
    const send = async (path: string, tenant: string | null, init: RequestInit = {}) => {
      const headers = new Headers(init.headers);
      if (tenant) headers.set('authorization', `Bearer ${await app.harness.token({ tenant, roles: ['caseworker', 'it-staff'] })}`);
      return (await app.harness.request(path, { ...init, headers })).status;
    };
    expect(await send(`/v1/plans/${plan.id}`, '101')).toBe(200);
    expect(await send(`/v1/plans/${plan.id}`, '101')).toBe(200);
    expect(await send(`/v1/plans/${crypto.randomUUID()}`, '101')).toBe(404);
    expect(await send(`/v1/plans/${plan.id}`, '751')).toBe(404);
    expect(await send('/v1/plans', '101', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"cpr":' })).toBe(400);
    expect(await send(`/v1/plans/${plan.id}`, null)).toBe(401);
    expect(await send('/no/such/page', '101')).toBe(404);

    const token = await app.harness.token({ tenant: '101', roles: ['it-staff'] });
    const text = await (await app.harness.request('/metrics', { headers: { authorization: `Bearer ${token}` } })).text();
    const value = (series: string) => Number(new RegExp(`^${series.replace(/[{}()[\]|.+*?^$]/g, '\\$&')} (\\S+)$`, 'm').exec(text)?.[1]);
    expect(value('enplan_http_requests_total{tenant="101",method="GET",route="/v1/plans/:id",status="200"}')).toBe(2);
    expect(value('enplan_http_requests_total{tenant="101",method="GET",route="/v1/plans/:id",status="404"}')).toBe(1);
    expect(value('enplan_http_requests_total{tenant="101",method="POST",route="/v1/plans",status="400"}')).toBe(1);
    // A page no route serves asks for no token, so it belongs to no municipality.
    expect(value('enplan_http_requests_without_tenant_total{method="GET",route="unmatched",status="404"}')).toBe(1);
    expect(value('enplan_http_request_duration_seconds_count{tenant="101",method="GET",route="/v1/plans/:id",status="200"}')).toBe(2);
    expect(value('enplan_http_request_duration_seconds_bucket{tenant="101",method="GET",route="/v1/plans/:id",status="200",le="+Inf"}')).toBe(2);
    expect(value('enplan_http_requests_without_tenant_total{method="GET",route="/v1/plans/:id",status="401"}')).toBe(1);
    // Another municipality's requests are theirs to see; no id or path asked for is a label.
    expect(text).not.toContain('tenant="751"');
    expect(text).not.toContain(plan.id);
    expect(text).not.toContain('/no/such/page');
    await app.close();
  });

  it('the dashboard shows the municipality’s busiest routes with their refusals, failures and latency', async () => {
    const app = await startTestApp();
    const token = await app.harness.token({ tenant: '101', roles: ['caseworker', 'it-staff'] });
    const headers = { authorization: `Bearer ${token}` };
    for (let i = 0; i < 3; i++) await app.harness.request(`/v1/plans/${crypto.randomUUID()}`, { headers });
    await app.harness.request('/v1/conflicts', { headers });
    // Another municipality's requests are not on this one's page.
    await app.harness.request('/v1/coordinators/caseload', { headers: { authorization: `Bearer ${await app.harness.token({ tenant: '751', roles: ['caseworker'] })}` } });

    const page = await (await app.harness.request('/dashboard', { headers: { cookie: `enplan_session=${token}` } })).text();
    const row = (route: string) => new RegExp(`<tr data-route="${route}"><td>[^<]*</td><td class="num">(\\d+)</td><td class="num">(\\d+)</td><td class="num ?">(\\d+)</td><td class="num">([^<]+)</td></tr>`).exec(page)?.slice(1);
    expect(row('GET /v1/plans/:id')).toEqual(['3', '3', '0', expect.stringMatching(/^≤ \d+ (ms|s)$/)]);
    expect(row('GET /v1/conflicts')).toEqual(['1', '0', '0', expect.stringMatching(/^≤ /)]);
    // Busiest first; the other municipality's route is not shown.
    expect(page.indexOf('data-route="GET /v1/plans/:id"')).toBeLessThan(page.indexOf('data-route="GET /v1/conflicts"'));
    expect(page).not.toContain('data-route="GET /v1/coordinators/caseload"');
    await app.close();
  });
});
