/**
 * The citizen's own views and wishes in their own words (R1; a child's, Barnets lov § 5 stk. 3, R4):
 * recorded by a caseworker as a `view.recorded` registration or by the citizen through
 * `POST /v1/citizen/views`; kept in the plan, sent to no sector system, and counted by the sector
 * completeness that asks for them.
 */
import { describe, expect, it } from 'vitest';
import { membersOf } from '../../src/model';
import { testCpr } from '../support/cpr';
import { startTestApp } from '../support/node-app';

async function setUp() {
  const app = await startTestApp();
  const call = async (method: string, path: string, claims: Record<string, unknown>, body?: unknown, key?: string) => {
    const token = await app.harness.token({ tenant: '101', ...claims } as never);
    const headers: Record<string, string> = { authorization: `Bearer ${token}` };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (key) headers['idempotency-key'] = key;
    const response = await app.harness.request(path, { method, headers, body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body) });
    return { status: response.status, body: (await response.json()) as any };
  };
  const caseworker = { roles: ['caseworker'], sub: 'cw-1' };
  const newPlan = async (extra: Record<string, unknown> = {}) => {
    const created = await call('POST', '/v1/plans', caseworker, { cpr: testCpr(), origin: 'offered', ...extra });
    expect(created.status).toBe(201);
    return { id: created.body.id as string, memberId: created.body.subject.member.memberId as string, citizenId: created.body.subject.member.citizenId as string };
  };
  return { ...app, call, caseworker, newPlan };
}

describe('the citizen’s own words in the plan', () => {
  it('a caseworker records a young person’s views: kept in the plan, sent nowhere, and the completeness that asks for them is met', async () => {
    const app = await setUp();
    // A young person of 17 on the day asked about: only their own views are the young person's (R4).
    const plan = await app.newPlan({ cpr: testCpr('2009-03-01'), role: 'young-person', replaces: [{ planType: 'youth-plan', relation: 'frames' }] });
    const missingBefore = (await app.call('GET', `/v1/plans/${plan.id}/completeness?date=2026-11-23`, app.caseworker)).body.reports[0].missing.map((m: { id: string }) => m.id);
    expect(missingBefore).toContain('youth-views');

    const recorded = await app.call('POST', '/v1/registrations', app.caseworker, { planId: plan.id, kind: 'view.recorded', view: { text: 'Jeg vil gerne blive boende hjemme og gå i skole.', language: 'da' } }, 'view-key-0001');
    expect(recorded.status, JSON.stringify(recorded.body)).toBe(202);
    expect(recorded.body).toMatchObject({ kind: 'view.recorded', deliveries: [], notRouted: [], excludedBy: null });
    expect(await app.deps.store.outbox.countByStatus('101')).toEqual({});

    const read = (await app.call('GET', `/v1/plans/${plan.id}`, app.caseworker)).body;
    expect(read.citizenViews).toEqual([
      expect.objectContaining({ id: recorded.body.elementId, memberId: plan.memberId, text: 'Jeg vil gerne blive boende hjemme og gå i skole.', language: 'da', recordedBy: 'caseworker:cw-1' }),
    ]);
    const missingAfter = (await app.call('GET', `/v1/plans/${plan.id}/completeness?date=2026-11-23`, app.caseworker)).body.reports[0].missing.map((m: { id: string }) => m.id);
    expect(missingAfter).not.toContain('youth-views');
    await app.close();
  });

  it('the citizen writes their own views, trimmed, once per key; they see them in their plan', async () => {
    const app = await setUp();
    const plan = await app.newPlan();
    const citizen = { roles: ['citizen'], sub: 'borger-1', citizenId: plan.citizenId };
    const body = { text: '  Jeg ønsker et arbejde med dyr.  ', language: 'da' };
    const first = await app.call('POST', '/v1/citizen/views', citizen, body, 'citizen-view-0001');
    expect(first.status, JSON.stringify(first.body)).toBe(202);
    const again = await app.call('POST', '/v1/citizen/views', citizen, body, 'citizen-view-0001');
    expect(again).toEqual(first);
    // The same key with other words is refused, not recorded.
    expect((await app.call('POST', '/v1/citizen/views', citizen, { text: 'Noget andet' }, 'citizen-view-0001')).status).toBe(409);

    const [mine] = (await app.call('GET', '/v1/citizen/plan', citizen)).body.plans;
    expect(mine.citizenViews).toEqual([expect.objectContaining({ text: 'Jeg ønsker et arbejde med dyr.', language: 'da', recordedBy: 'citizen:borger-1', memberId: plan.memberId })]);
    // The caseworker sees the same words.
    expect((await app.call('GET', `/v1/plans/${plan.id}`, app.caseworker)).body.citizenViews).toHaveLength(1);
    await app.close();
  });

  it('refuses what is not the citizen’s to write, and bad input, with a problem and nothing stored', async () => {
    const app = await setUp();
    const mine = await app.newPlan();
    const theirs = await app.newPlan();
    const citizen = { roles: ['citizen'], sub: 'borger-2', citizenId: mine.citizenId };
    const post = (body: unknown, key = `k-${crypto.randomUUID()}`) => app.call('POST', '/v1/citizen/views', citizen, body, key);

    const other = await post({ text: 'Ikke min plan', planId: theirs.id });
    expect(other.status).toBe(404);
    expect(other.body.type).toBe('/problems/not-found');
    for (const bad of [{ text: '   ' }, { text: 'x'.repeat(4001) }, { text: 'Hej', language: 'dansk sprog' }, { words: 'Hej' }, '{"text": "Hej"'])
      expect((await post(bad)).status, JSON.stringify(bad)).toBe(400);
    expect((await app.call('POST', '/v1/citizen/views', citizen, { text: 'Hej' })).status).toBe(400); // no Idempotency-Key
    const nobody = await app.call('POST', '/v1/citizen/views', { roles: ['citizen'], sub: 'x', citizenId: crypto.randomUUID() }, { text: 'Hej' }, 'k-nobody-0001');
    expect(nobody.status).toBe(404);
    // A declined plan takes no more registrations.
    await app.call('POST', `/v1/plans/${mine.id}/status`, app.caseworker, { status: 'declined', reason: 'Borgeren ønsker det ikke' });
    const closed = await post({ text: 'For sent' });
    expect(closed.status).toBe(409);
    expect(closed.body.type).toBe('/problems/plan-not-open');

    for (const plan of [mine, theirs]) expect((await app.call('GET', `/v1/plans/${plan.id}`, app.caseworker)).body.citizenViews ?? []).toEqual([]);
    await app.close();
  });
});
