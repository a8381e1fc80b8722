/**
 * S3 end to end through the API: revoking a grant stops flows on it, cancels the deliveries queued
 * on it (nothing reaches the target), and removes the data merged on it from every plan of the
 * citizen — while elements with another provenance stay.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decideFlow } from '../../src/consent';
import { Plan, type ConsentGrant } from '../../src/model';
import type { Role } from '../../src/security';
import { testCpr } from '../support/cpr';
import { byRegistration, followUp, fromSource, goal, intervention } from '../support/elements';
import { employmentIntervention, startPushFixture, type PushFixture } from '../registrations/fixture';

let f: PushFixture;
beforeAll(async () => {
  f = await startPushFixture();
});
afterAll(() => f.close());

async function call(method: string, path: string, claims: { role?: Role; tenant?: string; citizenId?: string } = {}, body?: unknown) {
  const token = await f.app.harness.token({ tenant: claims.tenant ?? '101', roles: [claims.role ?? 'caseworker'], citizenId: claims.citizenId });
  const headers: Record<string, string> = { authorization: `Bearer ${token}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await f.app.harness.request(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : null };
}

const signed = { method: 'written', documentRef: 'scan-1', textVersion: 'samtykke-v3', language: 'da' };

async function grant(planId: string, memberId: string, source: string, recipient: string, categories: string[]): Promise<ConsentGrant> {
  const response = await call('POST', '/v1/consents', {}, {
    planId,
    memberId,
    source,
    recipient,
    categories,
    purpose: 'Én plan',
    validFrom: '2026-01-01',
    signed,
    grantedBy: { memberId, capacity: 'self' },
  });
  expect(response.status).toBe(201);
  return response.body;
}

/** What the sync engine would have merged: elements with source provenance on the given grants. */
async function merge(planId: string, content: (p: Plan) => Partial<Plan>) {
  const plan = (await f.deps.store.plans.get('101', planId))!;
  const next = Plan.parse({ ...plan, ...content(plan), version: plan.version + 1 });
  expect(await f.deps.store.plans.update(next, plan.version)).toBe(true);
}

const idsOf = (list: { id: string }[]) => list.map((e) => e.id).sort();

describe('revocation through the API (R10, S3)', () => {
  it('removes the merged data of a revoked grant from every plan of the citizen, keeping what rests on something else', async () => {
    const cpr = testCpr();
    const first = await call('POST', '/v1/plans', {}, { cpr, origin: 'offered' });
    const member = first.body.subject.member as { memberId: string; citizenId: string };
    const dfdg = await grant(first.body.id, member.memberId, 'dfdg', 'enplan', ['employment', 'interventions', 'goals']);
    const social = await grant(first.body.id, member.memberId, 'social', 'enplan', ['social', 'goals']);

    await merge(first.body.id, () => ({
      goals: [goal('g-old', { provenance: [fromSource(dfdg.id, 'goals')] })],
      interventions: [intervention('i-old', member.memberId, { provenance: [fromSource(dfdg.id, 'interventions')] })],
    }));
    // The first plan is declined; the citizen gets a new one later. Both carry data from the grant.
    expect((await call('POST', `/v1/plans/${first.body.id}/status`, {}, { status: 'declined', reason: 'Borgeren ønskede at vente' })).status).toBe(200);
    const second = await call('POST', '/v1/plans', {}, { cpr, origin: 'requested' });
    expect(second.status).toBe(201);
    expect(second.body.subject.member.citizenId).toBe(member.citizenId);
    const secondMember = second.body.subject.member.memberId as string;
    await merge(second.body.id, () => ({
      goals: [
        goal('g-dfdg-only', { provenance: [fromSource(dfdg.id, 'goals')] }),
        goal('g-both', { provenance: [fromSource(dfdg.id, 'goals'), fromSource(social.id, 'goals', 'social')] }),
      ],
      interventions: [
        intervention('i-dfdg-only', secondMember, { goalIds: ['g-dfdg-only'], provenance: [fromSource(dfdg.id, 'interventions')] }),
        // Our registration, read back from the jobcentre's system: the registration still wrote its content (last).
        intervention('i-registered', secondMember, { goalIds: ['g-dfdg-only', 'g-both'], provenance: [fromSource(dfdg.id, 'employment'), byRegistration()] }),
        intervention('i-social', secondMember, { sector: 'social', provenance: [fromSource(social.id, 'social', 'social')] }),
      ],
      followUps: [followUp('f-on-removed', { elementId: 'i-dfdg-only' })],
    }));
    const versionsBefore = [(await f.deps.store.plans.get('101', first.body.id))!.version, (await f.deps.store.plans.get('101', second.body.id))!.version];

    const revoked = await call('POST', `/v1/consents/${dfdg.id}/revoke`, { role: 'citizen', citizenId: member.citizenId });
    expect(revoked.status).toBe(200);
    expect(revoked.body.grant.revokedAt).toBe('2026-11-23T10:00:00.000Z');
    const byPlan = Object.fromEntries(revoked.body.plans.map((p: { planId: string; removedElements: { id: string }[] }) => [p.planId, p.removedElements.map((e) => e.id).sort()]));
    expect(byPlan).toEqual({ [first.body.id]: ['g-old', 'i-old'], [second.body.id]: ['g-dfdg-only', 'i-dfdg-only'] });

    const firstAfter = (await f.deps.store.plans.get('101', first.body.id))!;
    const secondAfter = (await f.deps.store.plans.get('101', second.body.id))!;
    expect([firstAfter.version, secondAfter.version]).toEqual(versionsBefore.map((v) => v + 1));
    expect(firstAfter.goals).toEqual([]);
    expect(firstAfter.interventions).toEqual([]);
    expect(idsOf(secondAfter.goals)).toEqual(['g-both']);
    expect(idsOf(secondAfter.interventions)).toEqual(['i-registered', 'i-social']);
    expect(secondAfter.goals[0]!.provenance).toEqual([fromSource(social.id, 'goals', 'social')]);
    expect(secondAfter.interventions.find((i) => i.id === 'i-registered')).toMatchObject({ goalIds: ['g-both'], provenance: [byRegistration()] });
    expect(secondAfter.followUps[0]).not.toHaveProperty('elementId');
    expect(JSON.stringify([firstAfter, secondAfter])).not.toContain(dfdg.id);

    // From now on nothing flows on it: the policy the sync engine asks refuses.
    const stored = (await f.deps.store.consents.forCitizens('101', [member.citizenId])).filter((d) => d.kind === 'grant') as ConsentGrant[];
    const decision = decideFlow(
      { citizenId: member.citizenId, birthDate: '1985-06-15', source: 'dfdg', recipient: 'enplan', category: 'employment', at: f.clock.now() },
      stored,
    );
    expect(decision).toEqual({ allowed: false, reason: 'the consent was revoked' });

    const audit = await f.deps.store.audit.list('101', { citizenId: member.citizenId });
    expect(audit.filter((a) => a.action === 'consent.revoked').map((a) => a.targetId)).toEqual([dfdg.id]);
    expect(audit.filter((a) => a.action === 'plan.consent-data-removed').map((a) => a.targetId).sort()).toEqual([first.body.id, second.body.id].sort());
    expect(JSON.stringify(audit.map((a) => a.detail))).not.toContain('Borgeren');

    // The citizen sees their data leave as well as come (R10, R13): one entry per plan, with what stayed and why.
    const log = await call('GET', '/v1/citizen/data-flows', { role: 'citizen', citizenId: member.citizenId });
    const removals = log.body.flows.filter((entry: { kind: string }) => entry.kind === 'removed');
    expect(removals).toHaveLength(2);
    for (const removal of removals) expect(removal).toMatchObject({ source: 'dfdg', recipient: 'enplan', basis: 'consent', consentRefs: [dfdg.id], categories: ['employment', 'interventions', 'goals'] });
    expect(removals.map((r: { text: string }) => r.text.replace(/^Den [^,]+? blev /, '')).sort()).toEqual([
      '2 punkter med oplysninger fra Jobcentret (DFDG) fjernet fra din Én plan, fordi dit samtykke af 23. november 2026 blev trukket tilbage. 2 punkter blev i planen, fordi de også er kommet på et andet grundlag, som stadig gælder. Jobcentret (DFDG) har stadig sine egne oplysninger.',
      '2 punkter med oplysninger fra Jobcentret (DFDG) fjernet fra din Én plan, fordi dit samtykke af 23. november 2026 blev trukket tilbage. Jobcentret (DFDG) har stadig sine egne oplysninger.',
    ]);

    // Revoking again changes nothing more.
    const again = await call('POST', `/v1/consents/${dfdg.id}/revoke`, {});
    expect(again.body.plans).toEqual([]);
    expect((await f.deps.store.plans.get('101', second.body.id))!.version).toBe(secondAfter.version);
  });

  it('cancels the deliveries queued on the revoked grant: nothing reaches the target', async () => {
    const plan = await f.createPlan();
    const toJobcentre = await grant(plan.id, plan.memberId, 'enplan', 'employment', ['plan-core', 'goals', 'interventions']);
    const registered = await f.register({ planId: plan.id, kind: 'intervention.added', intervention: employmentIntervention(plan.memberId) });
    expect(registered.status).toBe(202);
    expect(registered.body.deliveries.map((d: { target: string }) => d.target)).toEqual(['dfdg']);
    f.targets.dfdg.reset();

    const revoked = await call('POST', `/v1/consents/${toJobcentre.id}/revoke`, {});
    expect(revoked.body.deliveries).toEqual({ cancelled: 1, kept: 0 });
    expect(await f.relay()).toMatchObject({ delivered: 0 });
    expect(f.targets.dfdg.requests()).toBe(0);
    const status = await f.call('GET', `/v1/registrations/${registered.body.id}`);
    expect(status.body.targets[0]).toMatchObject({ status: 'cancelled' });
    // The caseworker's own registration stays in the plan: it did not flow in on the grant.
    const after = (await f.deps.store.plans.get('101', plan.id))!;
    expect(after.interventions).toHaveLength(1);
  });
});
