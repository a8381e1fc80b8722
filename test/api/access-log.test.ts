/**
 * POST /v1/data-subject/access-log: for the municipality's DPO, who used a citizen's data and how,
 * with the users named (the citizen's own log names only the authority) — paged, CPR in the body
 * only, the DPO role only, and the look itself told in the citizen's own log.
 */
import { describe, expect, it } from 'vitest';
import { testCpr } from '../support/cpr';
import { startTestApp } from '../support/node-app';

async function setUp() {
  const app = await startTestApp();
  const call = async (method: string, path: string, roles: string[], body?: unknown, sub = 'user-1', tenant = '101') => {
    const token = await app.harness.token({ tenant, roles: roles as never, sub });
    const headers: Record<string, string> = { authorization: `Bearer ${token}` };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const response = await app.harness.request(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    return { status: response.status, body: (await response.json()) as any };
  };
  return { ...app, call };
}

describe('the DPO’s access log', () => {
  it('names who opened the citizen’s plan and when, a page at a time, and the look is in the citizen’s own log', async () => {
    const app = await setUp();
    const cpr = testCpr();
    const created = await app.call('POST', '/v1/plans', ['caseworker'], { cpr, origin: 'offered' }, 'kommune-ad:anna');
    expect(created.status).toBe(201);
    const planId = created.body.id as string;
    for (let i = 0; i < 3; i++) expect((await app.call('GET', `/v1/plans/${planId}`, ['caseworker'], undefined, 'kommune-ad:bo')).status).toBe(200);

    const first = await app.call('POST', '/v1/data-subject/access-log', ['dpo'], { cpr, limit: 2 }, 'dpo-karen');
    expect(first.status).toBe(200);
    expect(first.body.entries).toHaveLength(2);
    expect(first.body.nextAfterSeq).toBe(first.body.entries[1].seq);
    const rest = await app.call('POST', '/v1/data-subject/access-log', ['dpo'], { cpr, afterSeq: first.body.nextAfterSeq }, 'dpo-karen');
    const entries = [...first.body.entries, ...rest.body.entries];
    expect(rest.body.nextAfterSeq).toBeNull();
    // Oldest first; the plan's creation by anna, then bo's three reads, users named.
    expect(entries.map((e: { seq: number }) => e.seq)).toEqual([...entries.map((e: { seq: number }) => e.seq)].sort((a, b) => a - b));
    expect(entries.filter((e: { action: string; actor: string }) => e.action === 'plan.read' && e.actor === 'caseworker:kommune-ad:bo')).toHaveLength(3);
    expect(entries.some((e: { actor: string }) => e.actor === 'caseworker:kommune-ad:anna')).toBe(true);
    expect(JSON.stringify(entries)).not.toContain(cpr);

    // The citizen is told the DPO looked (not who).
    const citizenId = first.body.citizenId as string;
    const token = await app.harness.token({ tenant: '101', roles: ['citizen'], citizenId });
    const flows = (await (await app.harness.request('/v1/citizen/data-flows', { headers: { authorization: `Bearer ${token}` } })).json()) as { flows: { recipient: string; text: string }[] };
    const looked = flows.flows.filter((f) => f.recipient === 'dpo');
    expect(looked).toHaveLength(2);
    expect(looked[0]!.text).toMatch(/gennemgik kommunens databeskyttelsesrådgiver loggen over, hvem der har set og brugt dine oplysninger/);
    expect(JSON.stringify(flows)).not.toContain('dpo-karen');
    await app.close();
  });

  it('is for the DPO only, in their own municipality, and says nothing of a CPR number it does not hold', async () => {
    const app = await setUp();
    const cpr = testCpr();
    expect((await app.call('POST', '/v1/plans', ['caseworker'], { cpr, origin: 'offered' })).status).toBe(201);
    for (const role of ['caseworker', 'it-staff', 'vendor', 'sync-job']) expect((await app.call('POST', '/v1/data-subject/access-log', [role], { cpr })).status, role).toBe(403);
    expect((await app.call('POST', '/v1/data-subject/access-log', ['dpo'], { cpr }, 'dpo-1', '751')).status).toBe(404);
    expect((await app.call('POST', '/v1/data-subject/access-log', ['dpo'], { cpr: testCpr() })).status).toBe(404);
    const bad = await app.call('POST', '/v1/data-subject/access-log', ['dpo'], { cpr, limit: 5000 });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).not.toContain(cpr);
    await app.close();
  });
});
