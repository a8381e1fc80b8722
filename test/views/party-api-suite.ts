/**
 * The consent, sharing and citizen API suite (R4, R8–R15, S1, S3), through HTTP only. Runs
 * unchanged against the app on Node (libSQL) and inside workerd (D1). Uses only Web-standard APIs.
 */
import { describe, expect, it } from 'vitest';
import type { Role } from '../../src/security';
import type { ApiHarness } from '../support/harness';

export interface PartyApiSuiteOptions {
  harness: () => ApiHarness;
  /** A fresh fictitious CPR per call. */
  cpr: (birthDate?: string) => string;
}

interface Member {
  memberId: string;
  citizenId: string;
  role: string;
}
interface CreatedPlan {
  id: string;
  tenant: string;
  members: Member[];
}

export function definePartyApiSuite({ harness, cpr }: PartyApiSuiteOptions) {
  const h = () => harness();
  const caseworker = (tenant = '101') => h().token({ tenant, roles: ['caseworker'] });
  const citizen = (citizenId: string, tenant = '101') => h().token({ tenant, roles: ['citizen'], citizenId });
  const provider = (providerId: string, tenant = '101') => h().token({ tenant, roles: ['provider'], providerId });
  const tokenFor = (role: Role, tenant = '101') =>
    h().token({ tenant, roles: [role], providerId: role === 'provider' ? 'prov-1' : undefined, citizenId: role === 'citizen' ? 'citizen-x' : undefined });

  async function call(method: string, path: string, token: string | null, body?: unknown) {
    const headers: Record<string, string> = {};
    if (token) headers.authorization = `Bearer ${token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const response = await h().request(path, { method, headers, body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body) });
    const text = await response.text();
    return { status: response.status, type: response.headers.get('content-type') ?? '', body: text ? JSON.parse(text) : null };
  }

  async function createPlan(tenant = '101', family?: { role: string; birthDate: string }[], ownRole = 'adult'): Promise<CreatedPlan> {
    const body: Record<string, unknown> = { cpr: cpr('1984-02-01'), origin: 'offered', role: family ? ownRole : 'adult' };
    if (family) body.family = { name: 'Familien Test', members: family.map((m) => ({ cpr: cpr(m.birthDate), role: m.role })) };
    const created = await call('POST', '/v1/plans', await caseworker(tenant), body);
    expect(created.status).toBe(201);
    const subject = created.body.subject;
    return { id: created.body.id, tenant, members: subject.kind === 'citizen' ? [subject.member] : subject.members };
  }

  const signed = { method: 'mitid', documentRef: 'doc-7', textVersion: 'samtykke-v3', language: 'da' };
  function grantBody(plan: CreatedPlan, member: Member, overrides: Record<string, unknown> = {}) {
    return {
      planId: plan.id,
      memberId: member.memberId,
      source: 'dfdg',
      recipient: 'enplan',
      categories: ['employment', 'interventions'],
      purpose: 'At samle dine planer i én plan',
      validFrom: '2026-01-01',
      signed,
      grantedBy: { memberId: member.memberId, capacity: 'self' },
      ...overrides,
    };
  }
  async function grant(plan: CreatedPlan, member: Member, overrides: Record<string, unknown> = {}) {
    const response = await call('POST', '/v1/consents', await caseworker(plan.tenant), grantBody(plan, member, overrides));
    expect(response.status).toBe(201);
    return response.body as { id: string; citizenId: string; revokedAt?: string };
  }
  async function listConsents(plan: CreatedPlan) {
    const response = await call('GET', `/v1/plans/${plan.id}/consents`, await caseworker(plan.tenant));
    expect(response.status).toBe(200);
    return response.body as { grants: { id: string; status: string; memberId: string }[]; legalBases: { id: string; citizenInformed: boolean }[] };
  }

  describe('consents API', () => {
    it('records a grant for a plan member, named by plan and member, and lists it with its status', async () => {
      const plan = await createPlan();
      const member = plan.members[0]!;
      const response = await call('POST', '/v1/consents', await caseworker(), grantBody(plan, member, { validTo: '2030-12-31' }));
      expect(response.status).toBe(201);
      expect(response.body).toMatchObject({
        citizenId: member.citizenId,
        grantedBy: { citizenId: member.citizenId, capacity: 'self' },
        source: 'dfdg',
        recipient: 'enplan',
        categories: ['employment', 'interventions'],
        explicitHealth: false,
        signed,
      });
      const read = await call('GET', `/v1/consents/${response.body.id}`, await caseworker());
      expect(read.body).toMatchObject({ kind: 'grant', id: response.body.id });
      const listing = await listConsents(plan);
      expect(listing.grants).toEqual([expect.objectContaining({ id: response.body.id, status: 'active', memberId: member.memberId })]);
    });

    it('answers bad input with a 400 problem and stores nothing', async () => {
      const plan = await createPlan('101', [{ role: 'child', birthDate: '2014-05-01' }], 'parent');
      const [parent, child] = plan.members as [Member, Member];
      const token = await caseworker();
      const cases: [string, unknown][] = [
        ['malformed JSON', '{"planId": "x"'],
        ['a CPR number instead of plan and member', { ...grantBody(plan, parent), cpr: cpr() }],
        ['health without explicit consent', grantBody(plan, parent, { categories: ['health'] })],
        ['ends before it starts', grantBody(plan, parent, { validFrom: '2026-06-01', validTo: '2026-05-01' })],
        ['unknown category', grantBody(plan, parent, { categories: ['gossip'] })],
        ['recipient not a party', grantBody(plan, parent, { recipient: 'the-press' })],
        // A consent that names a flow nothing carries would be given for nothing (R9).
        ['a sector system’s data to a provider', grantBody(plan, parent, { source: 'health', recipient: 'provider:bo-tilbud', categories: ['health'], explicitHealth: true })],
        ['a sector system’s data to another municipality', grantBody(plan, parent, { recipient: 'municipality:751' })],
        ['the Én plan to itself', grantBody(plan, parent, { source: 'enplan', recipient: 'enplan', categories: ['goals'] })],
        ['the Én plan to a provider', grantBody(plan, parent, { source: 'enplan', recipient: 'provider:bo-tilbud', categories: ['interventions'] })],
        ['no signature', { ...grantBody(plan, parent), signed: undefined }],
        ['not a member of the plan', grantBody(plan, { ...parent, memberId: 'someone-else' })],
        ['"self" given by another member', grantBody(plan, child, { grantedBy: { memberId: parent.memberId, capacity: 'self' } })],
        ['custody holder consenting for themselves', grantBody(plan, parent, { grantedBy: { memberId: parent.memberId, capacity: 'custody-holder' } })],
        ['a child as custody holder', grantBody(plan, parent, { grantedBy: { memberId: child.memberId, capacity: 'custody-holder' } })],
        ['empty body', {}],
      ];
      for (const [label, body] of cases) {
        const response = await call('POST', '/v1/consents', token, body);
        expect(response.status, label).toBe(400);
        expect(response.type, label).toContain('application/problem+json');
        expect(response.body.type, label).toMatch(/^\/problems\/(validation-failed|malformed-json)$/);
        // A CPR-shaped run of digits, not a digit-only part of a UUID.
        expect(JSON.stringify(response.body)).not.toMatch(/(?<![\w-])\d{6}-?\d{4}(?![\w-])/);
      }
      const badLegalBasis = await call('POST', '/v1/consents/legal-basis', token, { planId: plan.id, memberId: parent.memberId, source: 'social', recipient: 'enplan', categories: ['social'], basis: '' });
      expect(badLegalBasis.status).toBe(400);
      const pointlessLegalBasis = await call('POST', '/v1/consents/legal-basis', token, { planId: plan.id, memberId: parent.memberId, source: 'social', recipient: 'provider:bo-tilbud', categories: ['social'], basis: 'SEL § 49 b' });
      expect(pointlessLegalBasis.status).toBe(400);
      expect(pointlessLegalBasis.body.detail).toContain('flows into the Én plan');
      const listing = await listConsents(plan);
      expect(listing.grants).toEqual([]);
      expect(listing.legalBases).toEqual([]);
      // The valid custody-holder grant for the child is accepted, and so is a grant to one department alone (decision 0026).
      await grant(plan, child, { grantedBy: { memberId: parent.memberId, capacity: 'custody-holder' } });
      await grant(plan, parent, { source: 'health', recipient: 'social', categories: ['health'], explicitHealth: true });
      expect((await listConsents(plan)).grants).toHaveLength(2);
    });

    it('records a legal basis as not yet told; telling is the caseworker’s recorded act, and the citizen reading their log marks nothing (R11)', async () => {
      const plan = await createPlan();
      const member = plan.members[0]!;
      const recorded = await call('POST', '/v1/consents/legal-basis', await caseworker(), {
        planId: plan.id,
        memberId: member.memberId,
        source: 'social',
        recipient: 'enplan',
        categories: ['social'],
        basis: 'SEL § 49 b',
      });
      expect(recorded.status).toBe(201);
      expect(recorded.body).toMatchObject({ citizenId: member.citizenId, basis: 'SEL § 49 b', citizenInformed: false });
      expect(recorded.body.recordedBy).toContain('caseworker');

      const log = await call('GET', '/v1/citizen/data-flows', await citizen(member.citizenId));
      expect(log.status).toBe(200);
      expect(log.body.legalBases).toEqual([expect.objectContaining({ id: recorded.body.id, basis: 'SEL § 49 b', citizenInformed: false })]);
      expect(log.body.legalBases[0].text).toContain('Kommunen skal orientere dig om det.');
      expect((await listConsents(plan)).legalBases[0]!.citizenInformed).toBe(false);

      // It is on the caseworkers' worklist of citizens still to be told, with the citizen's plan, until they are told.
      const waiting = async () => {
        const page = await call('GET', '/v1/consents/legal-basis/to-inform?limit=200', await caseworker());
        expect(page.status).toBe(200);
        return (page.body.items as { record: { id: string }; planIds: string[] }[]).filter((item) => item.record.id === recorded.body.id);
      };
      expect(await waiting()).toEqual([{ record: expect.objectContaining({ id: recorded.body.id, citizenInformed: false }), planIds: [plan.id] }]);

      const informed = await call('POST', `/v1/consents/legal-basis/${recorded.body.id}/informed`, await caseworker());
      expect(informed.status).toBe(200);
      expect(informed.body.citizenInformed).toBe(true);
      expect(await waiting()).toEqual([]);
      const again = await call('POST', `/v1/consents/legal-basis/${recorded.body.id}/informed`, await caseworker());
      expect(again.body.informedAt).toBe(informed.body.informedAt);
      const after = await call('GET', '/v1/citizen/data-flows', await citizen(member.citizenId));
      expect(after.body.legalBases[0].text).toMatch(/Kommunen orienterede dig om det den \d+\. \w+ \d{4}\.$/);
    });

    it('a citizen may revoke a grant about them or one they gave, not anyone else’s; revoking twice keeps the first time', async () => {
      const plan = await createPlan('101', [{ role: 'child', birthDate: '2014-05-01' }], 'parent');
      const [parent, child] = plan.members as [Member, Member];
      const parentsOwn = await grant(plan, parent);
      const forTheChild = await grant(plan, child, { grantedBy: { memberId: parent.memberId, capacity: 'custody-holder' } });
      const stranger = await createPlan();

      const notTheirs = await call('POST', `/v1/consents/${parentsOwn.id}/revoke`, await citizen(stranger.members[0]!.citizenId));
      expect(notTheirs.status).toBe(404);
      const byChild = await call('POST', `/v1/consents/${parentsOwn.id}/revoke`, await citizen(child.citizenId));
      expect(byChild.status).toBe(404);

      const byParent = await call('POST', `/v1/consents/${forTheChild.id}/revoke`, await citizen(parent.citizenId));
      expect(byParent.status).toBe(200);
      expect(byParent.body.grant.revokedAt).toBeTruthy();
      expect(byParent.body.grant.revokedBy).toContain('citizen');
      expect(byParent.body.deliveries).toEqual({ cancelled: 0, kept: 0 });

      const again = await call('POST', `/v1/consents/${forTheChild.id}/revoke`, await caseworker());
      expect(again.status).toBe(200);
      expect(again.body.grant.revokedAt).toBe(byParent.body.grant.revokedAt);

      const statuses = Object.fromEntries((await listConsents(plan)).grants.map((g) => [g.id, g.status]));
      expect(statuses).toEqual({ [parentsOwn.id]: 'active', [forTheChild.id]: 'revoked' });

      const log = await call('GET', '/v1/citizen/data-flows', await citizen(child.citizenId));
      expect(log.body.consents[0].text).toMatch(/Samtykket blev trukket tilbage den/);
    });
  });

  describe('other municipalities (R8)', () => {
    it('see a plan only through a link covered by consent, only the named parts, and not after the consent is revoked', async () => {
      const plan = await createPlan('101');
      const member = plan.members[0]!;
      const aarhus = await caseworker('751');
      expect((await call('GET', `/v1/plans/${plan.id}`, aarhus)).status).toBe(404);

      const wrongGrant = await grant(plan, member); // to the Én plan, not to Aarhus
      const refused = await call('POST', `/v1/plans/${plan.id}/links`, await caseworker(), { code: '751', consentRef: wrongGrant.id, parts: ['goals'] });
      expect(refused.status).toBe(403);
      expect(refused.body.type).toBe('/problems/consent-required');

      const toAarhus = await grant(plan, member, { source: 'enplan', recipient: 'municipality:751', categories: ['goals', 'plan-core'] });
      const notCovered = await call('POST', `/v1/plans/${plan.id}/links`, await caseworker(), { code: '751', consentRef: toAarhus.id, parts: ['goals', 'interventions'] });
      expect(notCovered.status).toBe(403);
      expect(notCovered.body.detail).toContain('interventions');
      const ownCode = await call('POST', `/v1/plans/${plan.id}/links`, await caseworker(), { code: '101', consentRef: toAarhus.id, parts: ['goals'] });
      expect(ownCode.status).toBe(400);
      expect((await call('GET', `/v1/plans/${plan.id}`, aarhus)).status).toBe(404);

      const linked = await call('POST', `/v1/plans/${plan.id}/links`, await caseworker(), { code: '751', role: 'residence', consentRef: toAarhus.id, parts: ['goals', 'coordinator'] });
      expect(linked.status).toBe(201);
      expect(linked.body.municipality).toMatchObject({ code: '751', role: 'residence', link: { consentRef: toAarhus.id, parts: ['goals', 'coordinator'] } });

      const seen = await call('GET', `/v1/plans/${plan.id}`, aarhus);
      expect(seen.status).toBe(200);
      expect(seen.body.view).toMatchObject({ as: 'municipality', municipality: '751', parts: ['goals', 'coordinator'], consentRefs: [toAarhus.id] });
      expect(seen.body.goals).toEqual([]);
      for (const hidden of ['subject', 'purpose', 'situation', 'interventions', 'agreements', 'followUps', 'statusHistory']) expect(seen.body, hidden).not.toHaveProperty(hidden);
      expect(JSON.stringify(seen.body)).not.toContain(member.citizenId);
      // A third municipality has no link.
      expect((await call('GET', `/v1/plans/${plan.id}`, await caseworker('147'))).status).toBe(404);
      // Aarhus cannot link or change the plan itself.
      expect((await call('POST', `/v1/plans/${plan.id}/links`, aarhus, { code: '147', consentRef: toAarhus.id, parts: ['goals'] })).status).toBe(404);

      const log = await call('GET', '/v1/citizen/data-flows', await citizen(member.citizenId));
      const flow = log.body.flows.find((f: { recipient: string }) => f.recipient === 'municipality:751');
      expect(flow).toMatchObject({ kind: 'flowed', source: 'enplan', basis: 'consent', consentRefs: [toAarhus.id] });
      expect(flow.text).toMatch(/sendte din Én plan oplysninger om .*til Aarhus Kommune\. Grundlag: dit samtykke af /);

      expect((await call('POST', `/v1/consents/${toAarhus.id}/revoke`, await citizen(member.citizenId))).status).toBe(200);
      expect((await call('GET', `/v1/plans/${plan.id}`, aarhus)).status).toBe(404);
    });
  });

  describe('other municipalities: finding and ending links (R8)', () => {
    it('the linked municipality finds the plans linked to it; the owner ends a link and the reading stops', async () => {
      const plan = await createPlan('101');
      const member = plan.members[0]!;
      const aarhus = await caseworker('751');
      const toAarhus = await grant(plan, member, { source: 'enplan', recipient: 'municipality:751', categories: ['goals', 'plan-core'] });
      expect((await call('POST', `/v1/plans/${plan.id}/links`, await caseworker(), { code: '751', role: 'residence', consentRef: toAarhus.id, parts: ['goals'] })).status).toBe(201);
      const listed = await call('GET', '/v1/linked-plans', aarhus);
      expect(listed.status).toBe(200);
      expect(listed.body.plans).toContainEqual({ planId: plan.id, ownerMunicipality: '101', linkedAt: expect.any(String) });
      expect((await call('GET', '/v1/linked-plans', await caseworker('147'))).body.plans).toEqual([]);
      // Only the owner ends it.
      expect((await call('DELETE', `/v1/plans/${plan.id}/links/751`, aarhus)).status).toBe(404);
      const ended = await call('DELETE', `/v1/plans/${plan.id}/links/751`, await caseworker());
      expect(ended.status).toBe(200);
      expect((await call('GET', `/v1/plans/${plan.id}`, aarhus)).status).toBe(404);
      expect((await call('GET', '/v1/linked-plans', aarhus)).body.plans.map((p: { planId: string }) => p.planId)).not.toContain(plan.id);
      const owners = await call('GET', `/v1/plans/${plan.id}`, await caseworker());
      expect(owners.body.municipalities).toContainEqual({ code: '751', role: 'residence' });
      expect((await call('DELETE', `/v1/plans/${plan.id}/links/751`, await caseworker())).status).toBe(404);
    });
  });

  describe('members, citizens and providers', () => {
    it('a citizen reads their own plan as a member and nothing else; a provider with no part in it gets 404', async () => {
      const plan = await createPlan();
      const other = await createPlan();
      const me = plan.members[0]!;
      const mine = await call('GET', `/v1/plans/${plan.id}`, await citizen(me.citizenId));
      expect(mine.status).toBe(200);
      expect(mine.body.view).toEqual({ as: 'citizen', memberId: me.memberId });
      expect(mine.body.coordinator === undefined || typeof mine.body.coordinator.name === 'string').toBe(true);
      expect((await call('GET', `/v1/plans/${other.id}`, await citizen(me.citizenId))).status).toBe(404);
      expect((await call('GET', `/v1/plans/${plan.id}`, await citizen(me.citizenId, '751'))).status).toBe(404);
      expect((await call('GET', `/v1/plans/${plan.id}`, await provider('prov-1'))).status).toBe(404);
      const list = await call('GET', '/v1/citizen/plan', await citizen(me.citizenId));
      expect(list.status).toBe(200);
      expect(list.body.plans.map((p: { id: string }) => p.id)).toEqual([plan.id]);
      expect((await call('GET', '/v1/citizen/plan', await citizen('nobody-at-all'))).body.plans).toEqual([]);
    });

    it('a member leaves the family plan and is offered their own; the family plan keeps them as having left (R4)', async () => {
      const plan = await createPlan('101', [{ role: 'parent', birthDate: '1986-07-09' }, { role: 'child', birthDate: '2015-04-04' }], 'parent');
      const [, leaving] = plan.members as [Member, Member, Member];
      const token = await caseworker();
      expect((await call('POST', `/v1/plans/${plan.id}/members/${leaving.memberId}/leave`, await caseworker('751'))).status).toBe(404);
      expect((await call('POST', `/v1/plans/${plan.id}/members/nobody/leave`, token)).status).toBe(404);

      const left = await call('POST', `/v1/plans/${plan.id}/members/${leaving.memberId}/leave`, token);
      expect(left.status).toBe(201);
      const { familyPlan, ownPlan } = left.body;
      expect(ownPlan).toMatchObject({ status: 'offered', origin: 'offered', subject: { kind: 'citizen', member: { memberId: leaving.memberId, citizenId: leaving.citizenId } } });
      const stays = familyPlan.subject.members.find((m: Member) => m.memberId === leaving.memberId);
      expect(stays).toMatchObject({ leftAt: expect.any(String), ownPlanId: ownPlan.id });
      expect(familyPlan.version).toBe(2);

      const again = await call('POST', `/v1/plans/${plan.id}/members/${leaving.memberId}/leave`, token);
      expect(again.status).toBe(409);
      const single = await createPlan();
      expect((await call('POST', `/v1/plans/${single.id}/members/${single.members[0]!.memberId}/leave`, token)).status).toBe(409);

      // The member now sees their own plan, not the family's.
      const asLeaver = await citizen(leaving.citizenId);
      expect((await call('GET', `/v1/plans/${plan.id}`, asLeaver)).status).toBe(404);
      expect((await call('GET', `/v1/plans/${ownPlan.id}`, asLeaver)).status).toBe(200);
      expect((await call('GET', '/v1/citizen/plan', asLeaver)).body.plans.map((p: { id: string }) => p.id)).toEqual([ownPlan.id]);
      expect((await call('GET', `/v1/plans/${ownPlan.id}`, token)).body.statusHistory).toEqual([expect.objectContaining({ to: 'offered', reason: 'member left a family plan' })]);
    });
  });

  describe('tenant isolation, roles and tokens on these routes (S1)', () => {
    it('every route answers 404 for another municipality’s plans, members and consents', async () => {
      const plan = await createPlan('101');
      const member = plan.members[0]!;
      const g = await grant(plan, member);
      const lb = await call('POST', '/v1/consents/legal-basis', await caseworker(), { planId: plan.id, memberId: member.memberId, source: 'social', recipient: 'enplan', categories: ['social'], basis: 'SEL § 49 b' });
      const other = await caseworker('751');
      const routes: [string, string, unknown][] = [
        ['POST', '/v1/consents', grantBody(plan, member)],
        ['POST', '/v1/consents/legal-basis', { planId: plan.id, memberId: member.memberId, source: 'social', recipient: 'enplan', categories: ['social'], basis: 'SEL § 49 b' }],
        ['GET', `/v1/consents/${g.id}`, undefined],
        ['POST', `/v1/consents/${g.id}/revoke`, undefined],
        ['POST', `/v1/consents/legal-basis/${lb.body.id}/informed`, undefined],
        ['GET', `/v1/plans/${plan.id}/consents`, undefined],
        ['POST', `/v1/plans/${plan.id}/links`, { code: '147', consentRef: g.id, parts: ['goals'] }],
        ['POST', `/v1/plans/${plan.id}/members/${member.memberId}/leave`, undefined],
        ['POST', `/v1/plans/${plan.id}/parties`, { department: 'health', reason: 'Netværksmøde' }],
        ['DELETE', `/v1/plans/${plan.id}/parties/health`, undefined],
      ];
      for (const [method, path, body] of routes) {
        const response = await call(method, path, other, body);
        expect(response.status, `${method} ${path}`).toBe(404);
        expect(response.body.type).toBe('/problems/not-found');
      }
      const listing = await listConsents(plan);
      expect(listing.grants).toEqual([expect.objectContaining({ id: g.id, status: 'active' })]);
      expect(listing.legalBases[0]!.citizenInformed).toBe(false);
      expect((await listConsents(await createPlan('751'))).grants).toEqual([]);
    });

    it('roles a route does not grant get 403, and no token gets 401', async () => {
      const plan = await createPlan('101');
      const checks: [Role, string, string][] = [
        ['citizen', 'POST', '/v1/consents'],
        ['provider', 'POST', '/v1/consents'],
        ['vendor', 'POST', `/v1/consents/x/revoke`],
        ['it-staff', 'GET', `/v1/plans/${plan.id}/consents`],
        ['citizen', 'POST', `/v1/plans/${plan.id}/links`],
        ['provider', 'GET', '/v1/citizen/plan'],
        ['caseworker', 'GET', '/v1/citizen/data-flows'],
        ['sync-job', 'GET', `/v1/plans/${plan.id}`],
      ];
      for (const [role, method, path] of checks) {
        const response = await call(method, path, await tokenFor(role), method === 'GET' ? undefined : {});
        expect(response.status, `${role} ${method} ${path}`).toBe(403);
      }
      for (const [method, path] of [
        ['GET', '/v1/citizen/plan'],
        ['GET', '/v1/citizen/data-flows'],
        ['POST', '/v1/consents'],
        ['GET', `/v1/plans/${plan.id}/consents`],
      ] as const)
        expect((await call(method, path, null)).status, `${method} ${path}`).toBe(401);
    });
  });
}
