/**
 * A citizen who logs in nationally (MitID through NemLog-in, or a broker) arrives with a token that
 * names their CPR number, not our pseudonymous citizen id: the token check finds the citizen by the
 * CPR's keyed hashes, so the citizen's routes work — and the number goes no further (S4).
 */
import { sign } from 'hono/jwt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cprPattern, testCpr } from '../support/cpr';
import { TEST_JWT_SECRET } from '../support/harness';
import { startTestApp } from '../support/node-app';

let app: Awaited<ReturnType<typeof startTestApp>>;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(() => app.close());

const nationalToken = async (claims: Record<string, unknown>) => {
  const now = Math.floor(Date.now() / 1000);
  return sign({ sub: 'nemlogin-person-uuid', tenant: '101', roles: ['citizen'], iat: now, exp: now + 600, ...claims }, TEST_JWT_SECRET, 'HS256');
};
const asCitizen = async (path: string, token: string) => {
  const response = await app.harness.request(path, { headers: { authorization: `Bearer ${token}` } });
  return { status: response.status, text: await response.text() };
};

async function planFor(cpr: string) {
  const token = await app.harness.token({ tenant: '101', roles: ['caseworker'] });
  const created = await app.harness.request('/v1/plans', { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ cpr, origin: 'offered' }) });
  expect(created.status).toBe(201);
  return (await created.json()) as { id: string; subject: { member: { citizenId: string } } };
}

describe('a citizen logged in with MitID', () => {
  it('is found by the CPR number their token names, under each claim name identity providers use', async () => {
    const cpr = testCpr();
    const plan = await planFor(cpr);
    const dashed = `${cpr.slice(0, 6)}-${cpr.slice(6)}`;
    for (const claims of [{ 'https://data.gov.dk/model/core/eid/cprNumber': cpr }, { 'dk:gov:saml:attribute:CprNumberIdentifier': cpr }, { cpr: dashed }]) {
      const seen = await asCitizen('/v1/citizen/plan', await nationalToken(claims));
      expect(seen.status, Object.keys(claims)[0]).toBe(200);
      const body = JSON.parse(seen.text) as { plans: { id: string; view: { as: string } }[] };
      expect(body.plans.map((p) => [p.id, p.view.as])).toEqual([[plan.id, 'citizen']]);
      // The answer carries the citizen's id, never the number they logged in with.
      expect(seen.text).not.toContain(cpr);
    }
  });

  it('an identity provider using the CPR number as the token’s subject puts no CPR number in the audit log (S4)', async () => {
    const cpr = testCpr();
    const plan = await planFor(cpr);
    for (const sub of [cpr, `${cpr.slice(0, 6)}-${cpr.slice(6)}`]) expect((await asCitizen('/v1/citizen/plan', await nationalToken({ sub, cpr }))).status).toBe(200);
    const rows = await app.deps.store.audit.list('101', { citizenId: plan.subject.member.citizenId });
    expect(rows.filter((row) => row.action === 'plan.read').map((row) => row.actor)).toEqual([`citizen:citizen-id-${plan.subject.member.citizenId}`, `citizen:citizen-id-${plan.subject.member.citizenId}`]);
    // The number in any form (its last four digits alone could be in a row's random id or hash).
    expect(JSON.stringify(rows)).not.toMatch(cprPattern(cpr));
  });

  it('the CPR number decides: a citizen id claimed beside it does not', async () => {
    const own = testCpr();
    const ownPlan = await planFor(own);
    const someoneElse = await planFor(testCpr());
    const seen = await asCitizen('/v1/citizen/plan', await nationalToken({ cpr: own, citizenId: someoneElse.subject.member.citizenId }));
    expect((JSON.parse(seen.text) as { plans: { id: string }[] }).plans.map((p) => p.id)).toEqual([ownPlan.id]);
  });

  it('a login below NSIS Substantial is refused; Substantial and High are taken', async () => {
    const cpr = testCpr();
    await planFor(cpr);
    const loa = 'https://data.gov.dk/concept/core/nsis/loa';
    expect((await asCitizen('/v1/citizen/plan', await nationalToken({ cpr, [loa]: 'Low' }))).status).toBe(401);
    expect((await asCitizen('/v1/citizen/plan', await nationalToken({ cpr, [loa]: 'Substantial' }))).status).toBe(200);
    expect((await asCitizen('/v1/citizen/plan', await nationalToken({ cpr, [loa]: 'High' }))).status).toBe(200);
  });

  it('a citizen the municipality holds nothing about has no plans and no flows; a malformed number is refused without being echoed', async () => {
    const unknown = await asCitizen('/v1/citizen/plan', await nationalToken({ cpr: testCpr() }));
    expect(unknown.status).toBe(200);
    expect(JSON.parse(unknown.text)).toEqual({ plans: [] });
    expect((await asCitizen('/v1/citizen/data-flows', await nationalToken({ cpr: testCpr() }))).status).toBe(200);
    const bad = '3113991234';
    const refused = await asCitizen('/v1/citizen/plan', await nationalToken({ cpr: bad }));
    expect(refused.status).toBe(401);
    expect(refused.text).not.toContain(bad);
  });
});
