/**
 * The citizen's door (R13) through the API: `GET /v1/citizen/plan` and `GET /v1/citizen/data-flows`
 * read the audit rows the sync engine and the relay write, and tell them in plain Danish.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Clock } from '../../src/api/context';
import { testCpr } from '../support/cpr';
import { grantConsent } from '../support/seed';
import { startTestApp } from '../support/node-app';

let now = Date.parse('2026-11-01T09:00:00.000Z');
const clock: Clock = { now: () => new Date(now) };
let app: Awaited<ReturnType<typeof startTestApp>>;
beforeAll(async () => {
  app = await startTestApp({ clock });
});
afterAll(() => app.close());

async function call(method: string, path: string, claims: { roles: ('caseworker' | 'citizen')[]; citizenId?: string; tenant?: string }, body?: unknown) {
  const token = await app.harness.token({ tenant: claims.tenant ?? '101', ...claims });
  const headers: Record<string, string> = { authorization: `Bearer ${token}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await app.harness.request(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- response bodies are checked field by field
  return { status: response.status, body: (await response.json()) as any };
}

describe('the citizen’s door', () => {
  it('tells every flow of their data from the audit log in plain Danish, with their consents and legal bases', async () => {
    const created = await call('POST', '/v1/plans', { roles: ['caseworker'] }, { cpr: testCpr(), origin: 'offered' });
    const member = created.body.subject.member as { memberId: string; citizenId: string };
    const grant = await call('POST', '/v1/consents', { roles: ['caseworker'] }, {
      planId: created.body.id,
      memberId: member.memberId,
      source: 'dfdg',
      recipient: 'enplan',
      categories: ['employment', 'interventions'],
      purpose: 'At samle dine planer i én plan',
      validFrom: '2026-11-01',
      validTo: '2027-10-31',
      signed: { method: 'mitid', documentRef: 'doc-1', textVersion: 'samtykke-v3', language: 'ar' },
      grantedBy: { memberId: member.memberId, capacity: 'self' },
    });
    expect(grant.status).toBe(201);
    now = Date.parse('2026-11-23T09:04:00.000Z');

    // What the sync engine writes when it pulls from DFDG on this grant, and what it refused.
    await app.deps.store.audit.append('101', {
      at: '2026-11-23T09:04:00.000Z',
      actor: 'sync-job:dfdg',
      action: 'data.flowed',
      targetType: 'citizen',
      targetId: member.citizenId,
      citizenId: member.citizenId,
      detail: { source: 'dfdg', recipient: 'enplan', categories: ['employment', 'interventions'], basis: 'consent', consentRefs: [grant.body.id], elements: 2 },
    });
    await app.deps.store.audit.append('101', {
      at: '2026-11-23T09:05:00.000Z',
      actor: 'sync-job:health',
      action: 'data.refused',
      targetType: 'citizen',
      targetId: member.citizenId,
      citizenId: member.citizenId,
      detail: { source: 'health', recipient: 'enplan', categories: ['health'], reason: 'no consent covers health data from health to enplan' },
    });

    const log = await call('GET', '/v1/citizen/data-flows', { roles: ['citizen'], citizenId: member.citizenId });
    expect(log.status).toBe(200);
    expect(log.body.flows.map((f: { text: string }) => f.text)).toEqual([
      'Den 23. november 2026 kl. 10.05 blev oplysninger om helbred fra regionens sundhedssystem ikke sendt til din Én plan, fordi der ikke er givet samtykke til det.',
      'Den 23. november 2026 kl. 10.04 sendte Jobcentret (DFDG) oplysninger om beskæftigelse og indsatser til din Én plan. Grundlag: dit samtykke af 1. november 2026.',
    ]);
    expect(log.body.flows[1]).toMatchObject({ kind: 'flowed', source: 'dfdg', recipient: 'enplan', categories: ['employment', 'interventions'], basis: 'consent', consentRefs: [grant.body.id] });
    expect(log.body.consents).toEqual([
      expect.objectContaining({ id: grant.body.id, grantedBy: 'self', textVersion: 'samtykke-v3', language: 'ar', textPath: '/v1/consent-texts/samtykke-v3/ar', validTo: '2027-10-31', revokedAt: null }),
    ]);
    // How far back the log goes (no audit period set here).
    expect(log.body.logKept).toBe('Loggen gemmes uden tidsgrænse: den viser alt, hvad der er sket med dine oplysninger her.');
    expect(log.body.consents[0].text).toMatch(/^Den 1\. november 2026 gav du samtykke til, at Jobcentret \(DFDG\) må sende oplysninger om beskæftigelse og indsatser til din Én plan\./);

    // Another citizen sees none of it.
    const other = await call('GET', '/v1/citizen/data-flows', { roles: ['citizen'], citizenId: 'someone-else' });
    expect(other.body).toEqual({ flows: [], consents: [], legalBases: [], logKept: 'Loggen gemmes uden tidsgrænse: den viser alt, hvad der er sket med dine oplysninger her.' });
    // Nor does the same pseudonymous id in another municipality.
    const elsewhere = await call('GET', '/v1/citizen/data-flows', { roles: ['citizen'], citizenId: member.citizenId, tenant: '751' });
    expect(elsewhere.body.flows).toEqual([]);
  });

  it('shows the citizen their plan with the coordinator’s contact', async () => {
    const created = await call('POST', '/v1/plans', { roles: ['caseworker'] }, {
      cpr: testCpr(),
      origin: 'requested',
      purpose: 'Job og bolig',
      coordinator: { kind: 'caseworker', name: 'Anna Koordinator', sector: 'employment', unit: 'Jobcenter København', email: 'anna@kk.dk' },
    });
    const member = created.body.subject.member as { citizenId: string };
    const mine = await call('GET', '/v1/citizen/plan', { roles: ['citizen'], citizenId: member.citizenId });
    expect(mine.status).toBe(200);
    expect(mine.body.plans).toHaveLength(1);
    expect(mine.body.plans[0]).toMatchObject({ id: created.body.id, purpose: 'Job og bolig', coordinator: { name: 'Anna Koordinator', email: 'anna@kk.dk' }, view: { as: 'citizen' } });
    expect(mine.body.plans[0]).not.toHaveProperty('conflicts');
  });

  it('tells of a consent whose last day has passed by the Danish calendar day, as the consent gate judges it', async () => {
    const citizenId = 'citizen-new-year';
    await grantConsent(app.deps, { citizenId, source: 'dfdg', categories: ['employment'], validTo: '2026-12-31' });
    const was = now;
    try {
      now = Date.parse('2026-12-31T22:30:00.000Z'); // 23:30 on the last day in Denmark
      expect((await call('GET', '/v1/citizen/data-flows', { roles: ['citizen'], citizenId })).body.consents[0].text).not.toContain('Samtykket er udløbet');
      now = Date.parse('2026-12-31T23:30:00.000Z'); // 00:30 on 1 January in Denmark: UTC still says 31 December
      expect((await call('GET', '/v1/citizen/data-flows', { roles: ['citizen'], citizenId })).body.consents[0].text).toContain('Samtykket er udløbet');
    } finally {
      now = was;
    }
  });

  it('lets an adult member leave a family plan and get their own; a young person leaves with the caseworker (R4)', async () => {
    const [parent, other, young] = [testCpr('1980-03-04'), testCpr('1982-05-06'), testCpr('2010-02-01')];
    const created = await call('POST', '/v1/plans', { roles: ['caseworker'] }, { cpr: parent, origin: 'offered', role: 'parent', family: { members: [{ cpr: other, role: 'parent' }, { cpr: young, role: 'young-person' }] } });
    expect(created.status).toBe(201);
    const [first, second, youngMember] = created.body.subject.members as { memberId: string; citizenId: string }[];
    const goal = await call('POST', '/v1/registrations', { roles: ['caseworker'] }, { planId: created.body.id, kind: 'goal.added', goal: { memberId: second!.memberId, level: 'overall', title: 'Min egen plan for job', sector: 'employment' } });
    expect(goal.status).toBe(400); // no Idempotency-Key: the registration below sends one
    const token = await app.harness.token({ tenant: '101', roles: ['caseworker'] });
    const registered = await app.harness.request('/v1/registrations', { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'idempotency-key': 'leave-test-goal-1' }, body: JSON.stringify({ planId: created.body.id, kind: 'goal.added', goal: { memberId: second!.memberId, level: 'overall', title: 'Min egen plan for job', sector: 'employment' } }) });
    expect(registered.status).toBe(202);

    // The second parent cannot decide for the family, and is told where to go instead.
    const decision = await call('POST', `/v1/citizen/plans/${created.body.id}/decision`, { roles: ['citizen'], citizenId: second!.citizenId }, { decision: 'decline' });
    expect(decision.status).toBe(403);
    expect(decision.body.detail).toContain(`/v1/citizen/plans/${created.body.id}/leave`);

    const young16 = await call('POST', `/v1/citizen/plans/${created.body.id}/leave`, { roles: ['citizen'], citizenId: youngMember!.citizenId });
    expect(young16.status).toBe(403);
    const left = await call('POST', `/v1/citizen/plans/${created.body.id}/leave`, { roles: ['citizen'], citizenId: second!.citizenId });
    expect(left.status).toBe(201);
    expect(left.body).toMatchObject({ status: 'offered', view: { as: 'citizen' } });
    expect(left.body.goals.map((g: { title: string }) => g.title)).toEqual(['Min egen plan for job']);
    // Left once: the family plan is no longer theirs to leave; the first parent's family plan goes on without them.
    expect((await call('POST', `/v1/citizen/plans/${created.body.id}/leave`, { roles: ['citizen'], citizenId: second!.citizenId })).status).toBe(404);
    const family = await call('GET', '/v1/citizen/plan', { roles: ['citizen'], citizenId: first!.citizenId });
    expect(family.body.plans[0].goals ?? []).toEqual([]);
    // Another citizen's plan is not theirs to leave.
    expect((await call('POST', `/v1/citizen/plans/${created.body.id}/leave`, { roles: ['citizen'], citizenId: 'someone-else' })).status).toBe(404);
  });
});
