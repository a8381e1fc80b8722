/** R22: citizens answer how satisfied they are with their plan; the half-yearly figures count them, each once, and the answers leave with the plan. */
import { describe, expect, it } from 'vitest';
import { testCpr } from '../support/cpr';
import { startTestApp } from '../support/node-app';

describe('satisfaction with the plan', () => {
  it('is answered by the citizen, counted once per citizen in the half-year figures, and logged without the score', async () => {
    const now = new Date('2026-09-15T10:00:00.000Z');
    const app = await startTestApp({ clock: { now: () => now } });
    const call = async (method: string, path: string, claims: { roles: string[]; citizenId?: string }, body?: unknown) => {
      const token = await app.harness.token({ tenant: '101', ...claims } as never);
      const response = await app.harness.request(path, { method, headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, body: body === undefined ? undefined : JSON.stringify(body) });
      // eslint-disable-next-line @typescript-eslint/no-explicit-any -- checked field by field
      return { status: response.status, body: (await response.json()) as any };
    };
    const citizens: { planId: string; citizenId: string }[] = [];
    for (let i = 0; i < 6; i++) {
      const plan = (await call('POST', '/v1/plans', { roles: ['caseworker'] }, { cpr: testCpr(), origin: 'offered' })).body;
      citizens.push({ planId: plan.id, citizenId: plan.subject.member.citizenId });
    }
    const answer = (who: { planId: string; citizenId: string }, score: unknown, planId = who.planId) =>
      call('POST', `/v1/citizen/plans/${planId}/satisfaction`, { roles: ['citizen'], citizenId: who.citizenId }, { score });
    // The first changes their mind: only the later answer counts.
    expect((await answer(citizens[0]!, 2)).body).toEqual({ period: '2026-H2', recorded: true });
    for (const who of citizens) expect((await answer(who, 4)).status).toBe(200);
    expect((await answer(citizens[1]!, 6)).status).toBe(400);
    expect((await answer(citizens[1]!, 5, citizens[2]!.planId)).status).toBe(404);
    expect((await call('POST', `/v1/citizen/plans/${citizens[1]!.planId}/satisfaction`, { roles: ['caseworker'] }, { score: 3 })).status).toBe(403);

    const figures = await call('GET', '/v1/stats/evaluation?period=2026-H2', { roles: ['it-staff'] });
    expect(figures.status).toBe(200);
    expect(figures.body.satisfaction.answeredBy).toEqual({ value: 6, suppressed: false });
    expect(figures.body.satisfaction.byScore.map((s: { score: number; citizens: { value: number } }) => [s.score, s.citizens.value])).toEqual([[1, 0], [2, 0], [3, 0], [4, 6], [5, 0]]);
    const logged = (await app.deps.store.audit.list('101', { limit: 1000 })).filter((row) => row.action === 'plan.satisfaction-answered');
    expect(logged).toHaveLength(7);
    expect(logged.every((row) => !JSON.stringify(row.detail).includes('score'))).toBe(true);
    await app.close();
  });
});
