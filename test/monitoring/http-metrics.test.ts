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
});
