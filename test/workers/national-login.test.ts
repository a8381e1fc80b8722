/** In workerd on D1: a citizen's token naming their CPR number (NemLog-in's claim) finds their plan. */
import { describe, expect, it } from 'vitest';
import { testCpr } from '../support/cpr';
import { d1App } from './d1-app';

describe('a citizen logged in with MitID, in workerd', () => {
  it('is found by the CPR claim and sees their plan', async () => {
    const { app, token } = await d1App();
    const cpr = testCpr('1988-04-12');
    const caseworker = await token({ tenant: '101', roles: ['caseworker'] });
    const created = await app.request('/v1/plans', { method: 'POST', headers: { authorization: `Bearer ${caseworker}`, 'content-type': 'application/json' }, body: JSON.stringify({ cpr, origin: 'offered' }) });
    expect(created.status).toBe(201);
    const planId = ((await created.json()) as { id: string }).id;
    const citizen = await token({ sub: 'nemlogin-person', tenant: '101', roles: ['citizen'], 'https://data.gov.dk/model/core/eid/cprNumber': cpr });
    const seen = await app.request('/v1/citizen/plan', { headers: { authorization: `Bearer ${citizen}` } });
    expect(seen.status).toBe(200);
    expect(((await seen.json()) as { plans: { id: string }[] }).plans.map((p) => p.id)).toEqual([planId]);
  });
});
