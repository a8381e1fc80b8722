/**
 * The citizen accepts or declines their Én plan themselves (R6): `POST /v1/citizen/plans/{id}/decision`.
 * Recorded in the plan's history as theirs; a decline stops the sync reading for the plan (R12);
 * in a family plan the first-named member decides; anyone else's plan is 404.
 */
import { describe, expect, it } from 'vitest';
import { membersOf } from '../../src/model';
import { planService } from '../../src/plans/service';
import { testCpr } from '../support/cpr';
import { startTestApp } from '../support/node-app';
import { caseworkerOf } from '../support/seed';

async function setUp() {
  const app = await startTestApp();
  const call = async (path: string, claims: Record<string, unknown>, body?: unknown) => {
    const token = await app.harness.token({ tenant: '101', ...claims } as never);
    const response = await app.harness.request(path, { method: body === undefined ? 'GET' : 'POST', headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) }, body: body === undefined ? undefined : JSON.stringify(body) });
    return { status: response.status, body: (await response.json()) as any };
  };
  const offer = async () => {
    const plan = await planService(app.deps).create(caseworkerOf(), { cpr: testCpr(), origin: 'offered', role: 'adult', replaces: [], municipalities: [] });
    return { plan, citizen: { roles: ['citizen'], sub: 'borger', citizenId: membersOf(plan)[0]!.citizenId } };
  };
  return { ...app, call, offer };
}

describe('the citizen’s own decision on their plan', () => {
  it('accepts an offered plan, recorded as theirs; then declines it at any time, with or without a reason', async () => {
    const app = await setUp();
    const { plan, citizen } = await app.offer();
    const accepted = await app.call(`/v1/citizen/plans/${plan.id}/decision`, citizen, { decision: 'accept' });
    expect(accepted.status, JSON.stringify(accepted.body)).toBe(200);
    expect(accepted.body).toMatchObject({ id: plan.id, status: 'accepted' });
    expect((await app.deps.store.plans.enrolledPlansOf('101', [citizen.citizenId])).map((r) => r.planId)).toEqual([plan.id]);

    const declined = await app.call(`/v1/citizen/plans/${plan.id}/decision`, citizen, { decision: 'decline' });
    expect(declined.status).toBe(200);
    expect(declined.body.status).toBe('declined');
    const stored = (await app.deps.store.plans.get('101', plan.id))!;
    expect(stored.statusHistory.slice(-2)).toEqual([
      expect.objectContaining({ from: 'offered', to: 'accepted', recordedBy: 'citizen:borger' }),
      expect.objectContaining({ from: 'accepted', to: 'declined', recordedBy: 'citizen:borger', reason: 'Afslået af borgeren selv' }),
    ]);
    // Declined: not enrolled, so no sync reads for it any more (R12).
    expect(await app.deps.store.plans.enrolledPlansOf('101', [citizen.citizenId])).toEqual([]);
    // Declining again is not a move a declined plan can make.
    const again = await app.call(`/v1/citizen/plans/${plan.id}/decision`, citizen, { decision: 'decline', reason: 'Jeg vil ikke' });
    expect(again.status).toBe(409);
    expect(again.body.type).toBe('/problems/invalid-transition');
    await app.close();
  });

  it('only for the plan’s first-named member; another citizen’s plan is 404; bad input 400; nothing changes', async () => {
    const app = await setUp();
    const { plan: mine, citizen } = await app.offer();
    const { plan: theirs } = await app.offer();
    expect((await app.call(`/v1/citizen/plans/${theirs.id}/decision`, citizen, { decision: 'accept' })).status).toBe(404);
    for (const bad of [{ decision: 'activate' }, { decision: 'decline', reason: '   ' }, {}])
      expect((await app.call(`/v1/citizen/plans/${mine.id}/decision`, citizen, bad)).status, JSON.stringify(bad)).toBe(400);

    const family = await planService(app.deps).create(caseworkerOf(), { cpr: testCpr(), origin: 'offered', role: 'parent', family: { members: [{ cpr: testCpr(), role: 'parent' }] }, replaces: [], municipalities: [] });
    const second = membersOf(family)[1]!;
    const refused = await app.call(`/v1/citizen/plans/${family.id}/decision`, { roles: ['citizen'], sub: 'other', citizenId: second.citizenId }, { decision: 'decline' });
    expect(refused.status).toBe(403);
    expect(refused.body.detail).toMatch(/first-named member/);
    for (const plan of [mine, theirs, family]) expect((await app.deps.store.plans.get('101', plan.id))!.status).toBe('offered');
    await app.close();
  });
});
