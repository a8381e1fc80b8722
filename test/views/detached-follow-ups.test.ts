/**
 * What stays behind when an element leaves a plan (R4, R9): a revocation, a source taking its word
 * back or a member leaving takes a goal or intervention out, and the follow-ups on it stay as
 * plan-level follow-ups for a caseworker to review (`dropDanglingReferences`). They, and a goal
 * shielded only because a SEL § 101 a treatment served it, must still be shown to no one who could
 * not see the element they were about: not the other adult of the family, not another department.
 * The real revocation, merge and leave logic on plan documents, then `viewOf`.
 */
import type { Task } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadProfiles } from '../../adapters/fhir/definitions';
import { removeRevokedData } from '../../src/consent';
import { planViewToFhirBundle } from '../../src/fhir';
import { Plan, type ConsentGrant, type Fragment, type Provenance } from '../../src/model';
import { leaveFamilyPlan } from '../../src/plans/leave';
import { applyRegistration, routingSubjectOf } from '../../src/registrations/apply';
import { routeFor } from '../../src/rules';
import { mergeFragments, type FragmentOrigin, type MergeInput } from '../../src/sync/merge';
import { hiddenFromCaseworker, viewOf, type PlanView } from '../../src/views';
import { byRegistration, familyMember, followUp, fromSource, goal, intervention, planWith } from '../support/elements';
import { bundleProblems, resourcesOf } from '../fhir/support';
import { testCpr } from '../support/cpr';
import { startTestApp } from '../support/node-app';

const adultA = familyMember('m-a', 'adult', '1984-02-01');
const adultB = familyMember('m-b', 'adult', '1986-07-09');
const revokedAt = new Date('2026-11-24T12:00:00.000Z');

const ids = (list?: { id: string }[]) => (list ?? []).map((e) => e.id).sort();
const asCitizen = (plan: Plan, member: { citizenId: string }) => viewOf(plan, { kind: 'citizen', citizenId: member.citizenId })!;
const shownTo = (view: PlanView) => [...ids(view.goals), ...ids(view.interventions), ...ids(view.followUps)];

/** B's grant to the social system's data, revoked. */
const grantOfB: ConsentGrant = {
  id: 'g-b-social',
  tenant: '101',
  citizenId: adultB.citizenId,
  grantedBy: { citizenId: adultB.citizenId, capacity: 'self' },
  source: 'social',
  recipient: 'enplan',
  categories: ['social', 'interventions', 'goals', 'health'],
  explicitHealth: true,
  purpose: 'Samlet plan',
  validFrom: '2026-11-01',
  signed: { method: 'mitid', documentRef: 'doc', textVersion: 'v3', language: 'da' },
  createdAt: '2026-11-01T09:00:00.000Z',
  revokedAt: '2026-11-24T11:00:00.000Z',
  revokedBy: 'citizen:b',
};
const revokeB = (plan: Plan) => removeRevokedData(plan, { grantId: grantOfB.id, citizenId: adultB.citizenId, birthDate: adultB.birthDate, at: revokedAt, grants: [grantOfB], legalBases: [] });

/**
 * A family plan of two adults. B's social data (on B's grant): an intervention in anonymous
 * treatment (SEL § 101 a) and an ordinary one. The caseworker registered a follow-up on each, and a
 * family-wide goal that only the anonymous treatment serves.
 */
const family = planWith([adultA, adultB], {
  goals: [goal('g-family'), goal('g-sober', { title: 'Et liv uden alkohol', sector: 'social' })],
  interventions: [
    intervention('i-a', 'm-a', { goalIds: ['g-family'] }),
    intervention('i-b-anon', 'm-b', { confidentiality: 'anonymous-treatment', legalBasis: 'SEL § 101 a', title: 'Anonym alkoholbehandling', goalIds: ['g-sober'], provenance: [fromSource(grantOfB.id, 'social', 'social')] }),
    intervention('i-b', 'm-b', { title: 'Bostøtte til B', provenance: [fromSource(grantOfB.id, 'interventions', 'social', 'rec-b')] }),
  ],
  followUps: [
    followUp('f-plan'),
    followUp('f-b-anon', { elementId: 'i-b-anon', text: 'Tal med B om behandlingen' }),
    followUp('f-b', { elementId: 'i-b', text: 'Hvordan går det med B’s bostøtte' }),
    followUp('f-sober', { elementId: 'g-sober' }),
  ],
});

describe('before anything leaves', () => {
  it('adult A sees neither B’s elements nor the goal and follow-ups that would reveal B’s treatment', () => {
    expect(shownTo(asCitizen(family, adultA))).toEqual(['g-family', 'i-a', 'f-plan']);
  });
});

describe('a consent revocation takes B’s interventions out of the family plan', () => {
  const { plan, detachedFollowUps } = revokeB(family);

  it('detaches the follow-ups on them and keeps the goal the treatment served', () => {
    expect(ids(plan.interventions)).toEqual(['i-a']);
    expect(detachedFollowUps.sort()).toEqual(['f-b', 'f-b-anon']);
    expect(ids(plan.goals)).toEqual(['g-family', 'g-sober']);
    expect(Plan.parse(plan)).toEqual(plan);
  });

  it('the other adult sees none of it: not B’s follow-ups, not the goal revealing B’s treatment, nor its follow-up', () => {
    expect(shownTo(asCitizen(plan, adultA))).toEqual(['g-family', 'i-a', 'f-plan']);
    expect(JSON.stringify(asCitizen(plan, adultA))).not.toContain('alkohol');
  });

  it('B still sees their own follow-ups and goal; the caseworker sees all, the § 101 a ones flagged', () => {
    expect(shownTo(asCitizen(plan, adultB))).toEqual(['g-family', 'g-sober', 'f-b', 'f-b-anon', 'f-plan', 'f-sober']);
    const caseworker = viewOf(plan, { kind: 'caseworker' })!;
    expect(ids(caseworker.followUps)).toEqual(['f-b', 'f-b-anon', 'f-plan', 'f-sober']);
    expect(caseworker.view.protectedElementIds!.sort()).toEqual(['f-b-anon', 'f-sober', 'g-sober']);
  });
});

describe('a source takes its word back (a newer version of the record no longer yields the treatment)', () => {
  const at = '2026-11-24T10:00:00.000Z';
  const origin = (recordVersion: string): FragmentOrigin => ({ system: 'social', recordId: 'cp-b', recordVersion, mappingId: 'social.careplan', mappingVersion: '1.0.0', consentRef: grantOfB.id, category: 'social' });
  const { id: _id, provenance: _p, ruleVersion: _r, memberId: _m, ...content } = family.interventions.find((i) => i.id === 'i-b-anon')!;
  const treatment: Fragment = { kind: 'intervention', elementId: 'i-b-anon', category: 'social', content } as Fragment;
  const merged = mergeFragments(
    planWith([adultA, adultB], { goals: family.goals, followUps: [followUp('f-b-anon', { elementId: 'i-b-anon', text: 'Tal med B om behandlingen' }), followUp('f-sober', { elementId: 'g-sober' })] }),
    [{ fragment: treatment, origin: origin('1'), memberId: 'm-b' }],
    { at, ruleVersion: 'rules-2026.11' },
  ).plan;

  it('leaves the follow-up on it, and the goal it alone served, hidden from the other adult', () => {
    expect(shownTo(asCitizen(merged, adultA))).toEqual(['g-family']);
    const { plan, withdrawn } = mergeFragments(merged, [], { at: '2026-11-24T12:00:00.000Z', ruleVersion: 'rules-2026.11', readWhole: [{ system: 'social', recordId: 'cp-b', recordVersion: '2' }] });
    expect(withdrawn).toEqual([{ system: 'social', recordId: 'cp-b', elementId: 'i-b-anon', removed: true }]);
    expect(plan.followUps.find((f) => f.id === 'f-b-anon')!.elementId).toBeUndefined();
    expect(shownTo(asCitizen(plan, adultA))).toEqual(['g-family']);
    expect(shownTo(asCitizen(plan, adultB))).toEqual(['g-family', 'g-sober', 'f-b-anon', 'f-sober']);
  });

  it('the goal stays shielded when the source reports it again, unchanged', () => {
    const sourceGoal = (recordVersion: string): MergeInput => ({
      fragment: { kind: 'goal', elementId: 'g-social', category: 'goals', content: { level: 'overall', title: 'Stabil bolig', sector: 'social', status: 'active', topics: [] } },
      origin: { ...origin(recordVersion), recordId: 'goal-b' },
      memberId: 'm-b',
    });
    const serving = { ...treatment, content: { ...content, goalIds: ['g-social'] } } as Fragment;
    const withGoal = mergeFragments(planWith([adultA, adultB]), [sourceGoal('1'), { fragment: serving, origin: origin('1'), memberId: 'm-b' }], { at, ruleVersion: 'rules-2026.11' }).plan;
    const { plan } = mergeFragments(withGoal, [], { at: '2026-11-24T12:00:00.000Z', ruleVersion: 'rules-2026.11', readWhole: [{ system: 'social', recordId: 'cp-b', recordVersion: '2' }] });
    expect(plan.interventions).toEqual([]);
    const again = mergeFragments(plan, [sourceGoal('2')], { at: '2026-11-24T13:00:00.000Z', ruleVersion: 'rules-2026.11' });
    expect(again.plan.conflicts).toEqual([]);
    expect(viewOf(again.plan, { kind: 'caseworker' })!.view.protectedElementIds).toEqual(['g-social']);
  });
});

describe('a member leaves the family plan', () => {
  it('the family-wide goal only B’s § 101 a treatment served stays shielded from the adult who stays', () => {
    const { familyPlan, ownPlan } = leaveFamilyPlan(family, 'm-b', { newPlanId: 'plan-b', at: '2026-11-24T12:00:00.000Z', actor: 'caseworker:anna', ruleVersion: 'rules-2026.11' });
    expect(ids(ownPlan.interventions)).toEqual(['i-b', 'i-b-anon']);
    expect(shownTo(asCitizen(familyPlan, adultA))).toEqual(['g-family', 'i-a', 'f-plan']);
    expect(viewOf(familyPlan, { kind: 'caseworker' })!.view.protectedElementIds!.sort()).toEqual(['f-sober', 'g-sober']);
  });
});

describe('an element consent gave one department alone (R9, decision 0026)', () => {
  const forSocial: Provenance = { ...(fromSource(grantOfB.id, 'health', 'social', 'rec-psych') as Extract<Provenance, { kind: 'source' }>), audience: ['social'] };
  const plan = planWith([adultA, adultB], {
    interventions: [intervention('i-psych', 'm-b', { sector: 'health', title: 'Psykiatrisk forløb', provenance: [forSocial] }), intervention('i-a', 'm-a')],
    followUps: [followUp('f-psych', { elementId: 'i-psych', text: 'Opfølgning på psykiatrien', provenance: [byRegistration()] }), followUp('f-plan')],
  });

  it('its follow-up, once detached, is still for that department’s caseworkers alone', () => {
    expect(ids(viewOf(plan, { kind: 'caseworker', department: 'employment' })!.followUps)).toEqual(['f-plan']);
    const { plan: after, detachedFollowUps } = revokeB(plan);
    expect(detachedFollowUps).toEqual(['f-psych']);
    expect(ids(viewOf(after, { kind: 'caseworker', department: 'social' })!.followUps)).toEqual(['f-plan', 'f-psych']);
    for (const department of ['employment', undefined] as const) {
      const view = viewOf(after, { kind: 'caseworker', ...(department ? { department } : {}) })!;
      expect(ids(view.followUps)).toEqual(['f-plan']);
      expect(JSON.stringify(view)).not.toContain('psykiatri');
      expect(hiddenFromCaseworker(after, department).elements).toEqual(new Set(['f-psych']));
    }
    expect(shownTo(asCitizen(after, adultA))).toEqual(['i-a', 'f-plan']);
  });
});

describe('the FHIR export of what stayed behind', () => {
  beforeAll(() => loadProfiles(), 60_000);
  const bundleOf = (view: PlanView) => {
    const bundle = planViewToFhirBundle(view);
    expect(bundleProblems(bundle)).toEqual([]);
    return bundle;
  };
  const taskFor = (view: PlanView, followUpId: string) => resourcesOf(bundleOf(view), 'Task').find((t) => t.identifier!.some((i) => i.value === followUpId)) as Task;

  it('a detached follow-up is for the member it was kept for, and still marked restricted when it was about § 101 a', () => {
    const { plan } = revokeB(family);
    for (const view of [asCitizen(plan, adultB), viewOf(plan, { kind: 'caseworker' })!]) {
      const patientB = resourcesOf(bundleOf(view), 'Patient').find((p) => p.identifier!.some((i) => i.value === 'm-b'))!;
      expect(taskFor(view, 'f-b').for).toEqual({ reference: `urn:uuid:${patientB.id}`, type: 'Patient' });
    }
    expect(taskFor(viewOf(plan, { kind: 'caseworker' })!, 'f-b-anon').meta?.security).toEqual([expect.objectContaining({ code: 'R' })]);
  });

  it('one kept for a department alone says so, as its element did (decision 0026)', () => {
    const forSocial: Provenance = { ...(fromSource(grantOfB.id, 'health', 'social', 'rec-psych') as Extract<Provenance, { kind: 'source' }>), audience: ['social'] };
    const plan = planWith([adultB], {
      interventions: [intervention('i-psych', 'm-b', { sector: 'health', provenance: [forSocial] })],
      followUps: [followUp('f-psych', { elementId: 'i-psych' })],
    });
    const task = taskFor(viewOf(revokeB(plan).plan, { kind: 'caseworker', department: 'social' })!, 'f-psych');
    expect(task.meta?.security).toEqual([expect.objectContaining({ code: 'R' })]);
    expect(task.meta?.tag).toEqual([expect.objectContaining({ system: 'urn:enplan:audience', code: 'social' })]);
  });
});

describe('marking a detached follow-up done', () => {
  const ctx = { registrationId: 'reg-done', actor: 'caseworker:anna', at: '2026-11-24T13:00:00.000Z', ruleVersion: 'rules-2026.11', newId: () => 'x' };
  const { plan } = revokeB(family);

  it('tells the sector systems about it as the member’s it was kept for, not the family’s first member’s', () => {
    const { outbound } = applyRegistration(plan, { planId: plan.id, kind: 'followup.done', followUpId: 'f-b' }, ctx);
    expect(outbound).toMatchObject({ memberId: 'm-b', citizenId: adultB.citizenId });
  });

  it('the next open date another member’s follow-up sends is never that of one kept for B', () => {
    // B's detached follow-ups fall due first; A's intervention gets a follow-up of its own.
    const early = { ...plan, followUps: plan.followUps.map((f) => (f.keptVisibility ? { ...f, due: '2026-12-01' } : f.id === 'f-plan' ? { ...f, done: true } : f)) };
    expect(early.followUps.filter((f) => f.keptVisibility?.memberId === 'm-b').length).toBeGreaterThan(0);
    const { outbound } = applyRegistration(early, { planId: plan.id, kind: 'followup.scheduled', followUp: { due: '2027-03-01', text: 'Opfølgning på A’s forløb', elementId: 'i-a' } }, ctx);
    expect(outbound).toMatchObject({ memberId: 'm-a', element: { nextOpenDue: '2027-03-01' } });
  });

  it('one about § 101 a goes out marked so, and the routing sends it nowhere', () => {
    const { outbound } = applyRegistration(plan, { planId: plan.id, kind: 'followup.done', followUpId: 'f-b-anon' }, ctx);
    expect(outbound).toMatchObject({ memberId: 'm-b', confidentiality: 'anonymous-treatment' });
    expect(routeFor(routingSubjectOf(outbound), '2026-11-24').excluded?.ruleId).toBe('anonymous-treatment-not-routed');
  });
});

describe('through the API: B revokes, A reads GET /v1/citizen/plan', () => {
  let app: Awaited<ReturnType<typeof startTestApp>>;
  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(() => app.close());

  async function call(method: string, path: string, claims: { roles: ('caseworker' | 'citizen')[]; citizenId?: string; department?: string }, body?: unknown) {
    const token = await app.harness.token({ tenant: '101', ...claims } as Parameters<typeof app.harness.token>[0]);
    const headers: Record<string, string> = { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) };
    const response = await app.harness.request(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- response bodies are checked field by field
    return { status: response.status, body: (await response.json()) as any };
  }

  it('A’s plan shows nothing of B’s removed treatment, its follow-up or the goal it served; B’s still does', async () => {
    const caseworker = { roles: ['caseworker' as const] };
    const created = await call('POST', '/v1/plans', caseworker, {
      cpr: testCpr('1984-02-01'),
      origin: 'offered',
      role: 'adult',
      coordinator: { kind: 'caseworker', name: 'Anna Koordinator', sector: 'social', unit: 'Familieafdelingen' },
      family: { members: [{ cpr: testCpr('1986-07-09'), role: 'adult' }] },
    });
    expect(created.status).toBe(201);
    const [a, b] = created.body.subject.members as { memberId: string; citizenId: string }[];
    const granted = await call('POST', '/v1/consents', caseworker, {
      planId: created.body.id,
      memberId: b!.memberId,
      source: 'social',
      recipient: 'enplan',
      categories: ['social', 'interventions'],
      purpose: 'Én plan',
      validFrom: '2026-01-01',
      signed: { method: 'written', documentRef: 'scan-1', textVersion: 'samtykke-v3', language: 'da' },
      grantedBy: { memberId: b!.memberId, capacity: 'self' },
    });
    expect(granted.status).toBe(201);
    // What the sync would have merged on B's grant, and what the caseworker registered on it.
    const stored = (await app.deps.store.plans.get('101', created.body.id))!;
    const next = Plan.parse({
      ...stored,
      goals: [goal('g-family'), goal('g-sober', { title: 'Et liv uden alkohol', sector: 'social' })],
      interventions: [
        intervention('i-a', a!.memberId, { goalIds: ['g-family'] }),
        intervention('i-b-anon', b!.memberId, { confidentiality: 'anonymous-treatment', legalBasis: 'SEL § 101 a', title: 'Anonym alkoholbehandling', goalIds: ['g-sober'], provenance: [fromSource(granted.body.id, 'social', 'social')] }),
        intervention('i-b', b!.memberId, { provenance: [fromSource(granted.body.id, 'interventions', 'social', 'rec-b')] }),
      ],
      followUps: [followUp('f-b-anon', { elementId: 'i-b-anon', text: 'Tal med B om alkoholbehandlingen' }), followUp('f-b', { elementId: 'i-b', text: 'Bostøtten til B' }), followUp('f-plan')],
      version: stored.version + 1,
    });
    expect(await app.deps.store.plans.update(next, stored.version)).toBe(true);

    expect((await call('POST', `/v1/consents/${granted.body.id}/revoke`, caseworker)).status).toBe(200);
    const asA = await call('GET', '/v1/citizen/plan', { roles: ['citizen'], citizenId: a!.citizenId });
    expect(asA.status).toBe(200);
    const [planOfA] = asA.body.plans as PlanView[];
    expect(shownTo(planOfA!)).toEqual(['g-family', 'i-a', 'f-plan']);
    for (const hidden of ['alkohol', 'Bostøtten til B']) expect(JSON.stringify(asA.body)).not.toContain(hidden);
    const [planOfB] = (await call('GET', '/v1/citizen/plan', { roles: ['citizen'], citizenId: b!.citizenId })).body.plans as PlanView[];
    expect(shownTo(planOfB!)).toEqual(['g-family', 'g-sober', 'f-b', 'f-b-anon', 'f-plan']);
  });
});
