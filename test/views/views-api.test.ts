/**
 * `GET /v1/plans/{id}` as each party, on a family plan with private and § 101 a elements (R4,
 * R14): what goes over the wire, and what the read leaves in the audit log.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Plan } from '../../src/model';
import { testCpr } from '../support/cpr';
import { goal, intervention } from '../support/elements';
import { startTestApp } from '../support/node-app';

let app: Awaited<ReturnType<typeof startTestApp>>;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(() => app.close());

interface Member {
  memberId: string;
  citizenId: string;
  role: string;
}

async function get(path: string, claims: { roles: ('caseworker' | 'citizen' | 'provider')[]; tenant?: string; citizenId?: string; providerId?: string }) {
  const token = await app.harness.token({ tenant: claims.tenant ?? '101', ...claims });
  const response = await app.harness.request(path, { headers: { authorization: `Bearer ${token}` } });
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- response bodies are checked field by field
  return { status: response.status, body: (await response.json()) as any };
}

async function familyPlan() {
  const token = await app.harness.token({ tenant: '101', roles: ['caseworker'] });
  const created = await app.harness.request('/v1/plans', {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      cpr: testCpr('1984-02-01'),
      origin: 'offered',
      role: 'parent',
      coordinator: { kind: 'caseworker', name: 'Anna Koordinator', sector: 'social', unit: 'Familieafdelingen', phone: '+45 33 33 33 33' },
      family: { members: [{ cpr: testCpr('1986-07-09'), role: 'parent' }, { cpr: testCpr('2010-03-01'), role: 'young-person' }] },
    }),
  });
  expect(created.status).toBe(201);
  const plan = (await created.json()) as Plan;
  const [a, b, y] = (plan.subject.kind === 'family' ? plan.subject.members : []) as unknown as [Member, Member, Member];
  const next = Plan.parse({
    ...plan,
    goals: [goal('g-family'), goal('g-b', { memberId: b.memberId }), goal('g-anon', { memberId: y.memberId, title: 'Stoppe med hash' })],
    interventions: [
      intervention('i-a', a.memberId, { providerId: 'bo-tilbud', goalIds: ['g-family'] }),
      intervention('i-b', b.memberId, { goalIds: ['g-b'], title: 'Privat forløb' }),
      intervention('i-y', y.memberId, { providerId: 'bo-tilbud' }),
      intervention('i-anon', y.memberId, { confidentiality: 'anonymous-treatment', providerId: 'bo-tilbud', goalIds: ['g-anon'] }),
    ],
    version: plan.version + 1,
  });
  expect(await app.deps.store.plans.update(next, plan.version)).toBe(true);
  return { plan: next, a, b, y };
}

const ids = (list: { id: string }[] | undefined) => (list ?? []).map((e) => e.id).sort();

describe('GET /v1/plans/{id} as each party', () => {
  it('the caseworker sees everything, § 101 a flagged', async () => {
    const { plan } = await familyPlan();
    const read = await get(`/v1/plans/${plan.id}`, { roles: ['caseworker'] });
    expect(read.status).toBe(200);
    expect(ids(read.body.interventions)).toEqual(['i-a', 'i-anon', 'i-b', 'i-y']);
    expect(read.body.view.protectedElementIds.sort()).toEqual(['g-anon', 'i-anon']);
    // The read is in every member's own log (R13): each is told the plan was opened.
    const members = plan.subject.kind === 'family' ? plan.subject.members : [];
    const readRows = (await app.deps.store.audit.list('101', { limit: 1000 })).filter((row) => row.action === 'plan.read' && row.targetId === plan.id && row.detail.view === 'caseworker');
    expect(readRows.map((row) => row.citizenId).sort()).toEqual(members.map((m) => m.citizenId).sort());
    for (const member of members) {
      const log = await get('/v1/citizen/data-flows', { roles: ['citizen'], citizenId: member.citizenId });
      expect(log.body.flows.some((f: { kind: string; recipient: string }) => f.kind === 'viewed' && f.recipient === 'caseworker')).toBe(true);
    }
  });

  it('separated parents each see their own, the family’s and the young person’s — not each other’s, and no one’s anonymous treatment', async () => {
    const { plan, a, b, y } = await familyPlan();
    const asA = await get(`/v1/plans/${plan.id}`, { roles: ['citizen'], citizenId: a.citizenId });
    expect(asA.status).toBe(200);
    expect(ids(asA.body.interventions)).toEqual(['i-a', 'i-y']);
    expect(ids(asA.body.goals)).toEqual(['g-family']);
    expect(asA.body.coordinator).toMatchObject({ name: 'Anna Koordinator', phone: '+45 33 33 33 33' });
    const asB = await get(`/v1/plans/${plan.id}`, { roles: ['citizen'], citizenId: b.citizenId });
    expect(ids(asB.body.interventions)).toEqual(['i-b', 'i-y']);
    for (const body of [asA.body, asB.body]) {
      const text = JSON.stringify(body);
      expect(text).not.toContain('anonymous-treatment');
      expect(text).not.toContain('Stoppe med hash');
    }
    expect(JSON.stringify(asA.body)).not.toContain('Privat forløb');
    expect(JSON.stringify(asA.body)).not.toContain(b.citizenId);
    const asY = await get(`/v1/plans/${plan.id}`, { roles: ['citizen'], citizenId: y.citizenId });
    expect(ids(asY.body.interventions)).toEqual(['i-anon', 'i-y']);
  });

  it('a provider sees only its part, never § 101 a; the read is in the citizens’ logs', async () => {
    const { plan, a, y } = await familyPlan();
    const read = await get(`/v1/plans/${plan.id}`, { roles: ['provider'], providerId: 'bo-tilbud' });
    expect(read.status).toBe(200);
    expect(ids(read.body.interventions)).toEqual(['i-a', 'i-y']);
    expect(ids(read.body.goals)).toEqual(['g-family']);
    expect(read.body).not.toHaveProperty('subject');
    expect(JSON.stringify(read.body)).not.toContain('anonymous-treatment');
    expect((await get(`/v1/plans/${plan.id}`, { roles: ['provider'], providerId: 'another-provider' })).status).toBe(404);
    expect((await get(`/v1/plans/${plan.id}`, { roles: ['provider'], providerId: 'bo-tilbud', tenant: '751' })).status).toBe(404);

    const flows = await get('/v1/citizen/data-flows', { roles: ['citizen'], citizenId: y.citizenId });
    const viewed = flows.body.flows.filter((f: { kind: string }) => f.kind === 'viewed');
    expect(viewed).toHaveLength(1);
    expect(viewed[0]).toMatchObject({ recipient: 'provider:bo-tilbud', categories: ['interventions'] });
    expect(viewed[0].text).toMatch(/så leverandøren bo-tilbud oplysninger om indsatser i din Én plan/);
    const forA = await get('/v1/citizen/data-flows', { roles: ['citizen'], citizenId: a.citizenId });
    expect(forA.body.flows.filter((f: { kind: string }) => f.kind === 'viewed')[0]).toMatchObject({ categories: ['interventions', 'goals'] });
  });
});
