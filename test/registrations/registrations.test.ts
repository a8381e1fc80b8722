/** `POST /v1/registrations` and `GET /v1/registrations/{id}`: kinds, idempotency, validation, consent at routing, roles, tenants. */
import { count, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { outbox, registrations } from '../../src/store/schema';
import { ruleSetVersion } from '../../src/rules';
import { testCpr } from '../support/cpr';
import { employmentIntervention, startPushFixture, type PushFixture } from './fixture';

let f: PushFixture;
beforeAll(async () => {
  f = await startPushFixture();
});
afterAll(() => f.close());

const countRows = async (table: typeof outbox | typeof registrations, tenant = '101') =>
  (await f.deps.store.database.db.select({ n: count() }).from(table).where(eq(table.tenant, tenant)))[0]!.n;

const readPlan = async (id: string, tenant = '101') => (await f.call('GET', `/v1/plans/${id}`, { tenant })).body;

describe('status changes reach the sector systems (R6, R17)', () => {
  const statusRowsOf = async (planId: string) => {
    const regs = await f.deps.store.database.db.select().from(registrations).where(eq(registrations.planId, planId));
    const rows = [];
    for (const reg of regs.filter((r) => r.kind === 'plan.status-changed')) rows.push(...(await f.deps.store.outbox.forRegistration('101', reg.id)));
    return rows.map((r) => [r.target, r.operation, (JSON.parse(r.payload!) as { outbound: { element: { status: string } } }).outbound.element.status]);
  };

  it('a caseworker’s status change is a registration: every system holding a replaced plan is told', async () => {
    const plan = await f.createPlan({ replaces: ['employment-plan'] });
    await f.grantAll(plan.citizenId);
    const changed = await f.call('POST', `/v1/plans/${plan.id}/status`, { body: { status: 'accepted' } });
    expect(changed.status).toBe(200);
    expect(changed.body.status).toBe('accepted');
    expect(await statusRowsOf(plan.id)).toEqual([['dfdg', 'plan.status', 'accepted']]);
    // The same change again is refused as before: the plan is accepted already.
    expect((await f.call('POST', `/v1/plans/${plan.id}/status`, { body: { status: 'accepted' } })).status).toBe(409);
  });

  it('the citizen’s own decline tells the systems whose plans apply again', async () => {
    const plan = await f.createPlan({ replaces: ['employment-plan'] });
    await f.grantAll(plan.citizenId);
    const token = await f.app.harness.token({ tenant: '101', roles: ['citizen'], citizenId: plan.citizenId });
    const declined = await f.app.harness.request(`/v1/citizen/plans/${plan.id}/decision`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ decision: 'decline' }) });
    expect(declined.status).toBe(200);
    expect(await statusRowsOf(plan.id)).toEqual([['dfdg', 'plan.status', 'declined']]);
  });
});

describe('what a caseworker’s plan routes answer', () => {
  it('the caseworker’s view, with the SEL § 101 a elements named, from create, status, lookup and read alike', async () => {
    const cpr = testCpr();
    const childCpr = testCpr('2014-05-05');
    const created = await f.call('POST', '/v1/plans', { body: { cpr, origin: 'offered', role: 'parent', family: { members: [{ cpr: childCpr, role: 'child' }] } } });
    expect(created.status).toBe(201);
    expect(created.body.view).toEqual({ as: 'caseworker', protectedElementIds: [] });
    const parent = created.body.subject.members[0];
    const anonymous = await f.register({ planId: created.body.id, kind: 'intervention.added', intervention: { ...employmentIntervention(parent.memberId), sector: 'social', legalBasis: 'SEL § 101 a', confidentiality: 'anonymous-treatment', title: 'Anonym behandling' } });
    expect(anonymous.status).toBe(202);
    const accepted = await f.call('POST', `/v1/plans/${created.body.id}/status`, { body: { status: 'accepted' } });
    expect(accepted.body.view.protectedElementIds).toEqual([anonymous.body.elementId]);
    const read = await f.call('GET', `/v1/plans/${created.body.id}`);
    expect(read.body.view).toEqual(accepted.body.view);

    // A look-up by one member's CPR shows the whole family plan: each active member's log tells it.
    const lookedUp = await f.call('POST', '/v1/plans/lookup', { body: { cpr } });
    expect(lookedUp.body.plans.map((p: { id: string; view: { protectedElementIds: string[] } }) => [p.id, p.view.protectedElementIds])).toEqual([[created.body.id, [anonymous.body.elementId]]]);
    const lookups = (await f.deps.store.audit.list('101', { limit: 1000 })).filter((row) => row.action === 'plan.looked-up' && row.targetId === created.body.id);
    expect(lookups.map((row) => row.citizenId).sort()).toEqual(created.body.subject.members.map((m: { citizenId: string }) => m.citizenId).sort());
  });
});

describe('the rule version on every element (R25)', () => {
  it('goals, interventions, follow-ups, agreements and citizen views each record the rule set in force when registered', async () => {
    const plan = await f.createPlan();
    await f.register({ planId: plan.id, kind: 'goal.added', goal: { level: 'overall', title: 'Job', sector: 'employment' } });
    await f.register({ planId: plan.id, kind: 'intervention.added', intervention: employmentIntervention(plan.memberId) });
    await f.register({ planId: plan.id, kind: 'followup.scheduled', followUp: { due: '2027-01-15', text: 'Samtale' } });
    await f.register({ planId: plan.id, kind: 'agreement.added', agreement: { text: 'Søger job', agreedAt: '2026-11-24', parties: ['borger', 'jobcenter'] } });
    await f.register({ planId: plan.id, kind: 'view.recorded', view: { text: 'Jeg vil gerne arbejde' } });
    const stored = await readPlan(plan.id);
    const elements = [...stored.goals, ...stored.interventions, ...stored.followUps, ...stored.agreements, ...stored.citizenViews];
    expect(elements).toHaveLength(5);
    expect(elements.map((e: { ruleVersion?: string }) => e.ruleVersion)).toEqual(Array(5).fill(ruleSetVersion));
    // A client cannot set it: the layer records what applied.
    const claimed = await f.register({ planId: plan.id, kind: 'agreement.added', agreement: { text: 'X', agreedAt: '2026-11-24', parties: ['borger'], ruleVersion: 'rules-1999.1' } });
    expect((await readPlan(plan.id)).agreements.find((a: { id: string }) => a.id === claimed.body.elementId).ruleVersion).toBe(ruleSetVersion);
  });
});

describe('the plan’s own content after it was created (R1, R2)', () => {
  it('plan.details-changed sets purpose, situation, time frame and the replaced plans, sends them nowhere, and completes the sector plan', async () => {
    const plan = await f.createPlan({ replaces: ['sel-141-plan'] });
    await f.grantAll(plan.citizenId);
    const missing = async () => ((await f.call('GET', `/v1/plans/${plan.id}/completeness`)).body as { reports: { planType: string; missing: { id: string }[] }[] }).reports.find((r) => r.planType === 'sel-141-plan')!.missing.map((m) => m.id);
    expect(await missing()).toEqual(expect.arrayContaining(['purpose', 'expected-duration', 'other-matters']));
    const changes = {
      purpose: 'At borgeren kan bo i egen bolig og komme i uddannelse',
      situation: { summary: 'Bor midlertidigt hos en ven', barriers: ['Ingen fast bolig'], resources: ['Motiveret for uddannelse'] },
      timeFrame: { start: '2026-12-01', end: '2027-11-30' },
      replaces: [{ planType: 'sel-141-plan', relation: 'replaces', memberId: plan.memberId }],
    };
    const answer = await f.register({ planId: plan.id, kind: 'plan.details-changed', changes });
    expect(answer.status).toBe(202);
    expect(answer.body.deliveries).toEqual([]);
    const stored = await readPlan(plan.id);
    expect(stored).toMatchObject(changes);
    expect(stored.version).toBe(plan.version + 1);
    expect(await missing()).not.toContain('purpose');
    expect(await missing()).not.toContain('expected-duration');
    expect(await missing()).not.toContain('other-matters');
    // Only what is named changes.
    expect((await f.register({ planId: plan.id, kind: 'plan.details-changed', changes: { purpose: 'Egen bolig først' } })).status).toBe(202);
    expect(await readPlan(plan.id)).toMatchObject({ purpose: 'Egen bolig først', situation: changes.situation, timeFrame: changes.timeFrame });
  });

  it('an Én plan frames a KUI education plan but cannot replace it (R2), at creation or later', async () => {
    const created = await f.call('POST', '/v1/plans', { body: { cpr: testCpr(), origin: 'offered', replaces: [{ planType: 'education-plan', relation: 'replaces' }] } });
    expect(created.status).toBe(400);
    expect(created.body.detail).toContain('cannot replace the Uddannelsesplan (KUI)');
    const plan = await f.createPlan();
    const replacing = await f.register({ planId: plan.id, kind: 'plan.details-changed', changes: { replaces: [{ planType: 'education-plan', relation: 'replaces' }] } });
    expect(replacing.status).toBe(400);
    expect(JSON.stringify(replacing.body)).toContain('it can frame it');
    const framing = await f.register({ planId: plan.id, kind: 'plan.details-changed', changes: { replaces: [{ planType: 'education-plan', relation: 'frames' }] } });
    expect(framing.status).toBe(202);
  });

  it('an ungeplan is replaced only for a young person aged 16–23 and barnets plan only for a parent’s part (Barnets lov § 110), at creation or later', async () => {
    const now = f.deps.clock.now();
    const bornYearsAgo = (years: number) => `${now.getUTCFullYear() - years}-01-01`;
    // At creation: a 36-year-old alone has no ungeplan to replace; a family with a 17-year-old has.
    const adult = await f.call('POST', '/v1/plans', { body: { cpr: testCpr(bornYearsAgo(36)), origin: 'offered', replaces: [{ planType: 'youth-plan', relation: 'replaces' }] } });
    expect(adult.status).toBe(400);
    expect(adult.body.type).toBe('/problems/validation-failed');
    expect(adult.body.detail).toContain('16–23');
    const family = await f.call('POST', '/v1/plans', {
      body: { cpr: testCpr(bornYearsAgo(45)), origin: 'offered', role: 'parent', family: { members: [{ cpr: testCpr(bornYearsAgo(17)), role: 'young-person' }] }, replaces: [{ planType: 'youth-plan', relation: 'replaces' }] },
    });
    expect(family.status).toBe(201);
    // Later: the member is named, and must be one the rule allows.
    const plan = await f.createPlan({ replaces: [], family: [{ birthDate: bornYearsAgo(9), role: 'child' }, { birthDate: bornYearsAgo(17), role: 'young-person' }] });
    const [parent, child, young] = plan.members;
    const change = (replaces: unknown[]) => f.register({ planId: plan.id, kind: 'plan.details-changed', changes: { replaces } });
    for (const refused of [
      [{ planType: 'children-plan', relation: 'replaces', memberId: child!.memberId }],
      [{ planType: 'youth-plan', relation: 'replaces', memberId: parent!.memberId }],
      [{ planType: 'youth-plan', relation: 'replaces' }],
    ]) {
      const answer = await change(refused);
      expect(answer.status, JSON.stringify(refused)).toBe(400);
      expect(JSON.stringify(answer.body)).toContain('changes.replaces.0.memberId');
    }
    const accepted = await change([
      { planType: 'children-plan', relation: 'replaces', memberId: parent!.memberId },
      { planType: 'children-plan', relation: 'frames', memberId: child!.memberId },
      { planType: 'youth-plan', relation: 'replaces', memberId: young!.memberId },
    ]);
    expect(accepted.status).toBe(202);
  });

  it('refuses an empty change, a time frame that ends before it starts and a replaced plan of someone outside the plan', async () => {
    const plan = await f.createPlan();
    for (const changes of [{}, { timeFrame: { start: '2027-01-01', end: '2026-01-01' } }, { replaces: [{ planType: 'children-plan', relation: 'frames', memberId: 'not-a-member' }] }]) {
      const answer = await f.register({ planId: plan.id, kind: 'plan.details-changed', changes });
      expect(answer.status, JSON.stringify(changes)).toBe(400);
      expect(answer.body.type).toMatch(/validation|invalid/);
    }
    expect((await readPlan(plan.id)).version).toBe(plan.version);
  });
});

describe('single registration', () => {
  it('accepts a registration, applies it with provenance and queues one outbox row per routed target', async () => {
    const plan = await f.createPlan();
    await f.grantAll(plan.citizenId);
    const answer = await f.register({ planId: plan.id, kind: 'intervention.added', intervention: employmentIntervention(plan.memberId) });
    expect(answer.status).toBe(202);
    expect(answer.body.deliveries.map((d: { target: string }) => d.target)).toEqual(['dfdg']);
    expect(answer.body.deliveries[0].ruleIds).toContain('employment-to-dfdg');
    expect(answer.body.deliveries[0].basis).toBe('consent');
    const stored = await readPlan(plan.id);
    const intervention = stored.interventions.find((i: { id: string }) => i.id === answer.body.elementId);
    expect(intervention.provenance).toEqual([{ kind: 'registration', registrationId: answer.body.id, actor: expect.stringContaining('caseworker'), at: expect.any(String) }]);
    expect(stored.version).toBe(plan.version + 1);
    const rows = await f.deps.store.outbox.forRegistration('101', answer.body.id);
    expect(rows.map((r) => [r.target, r.status, r.operation])).toEqual([['dfdg', 'pending', 'intervention.upsert']]);
    const audit = await f.deps.store.audit.list('101', { citizenId: plan.citizenId });
    expect(audit.map((a) => a.action)).toContain('registration.accepted');
  });

  it('routes an education change to education AND dfdg (R20), a social element to social', async () => {
    const plan = await f.createPlan({ birthDate: '2004-03-03' });
    await f.grantAll(plan.citizenId);
    const education = await f.register({ planId: plan.id, kind: 'goal.added', goal: { level: 'overall', title: 'Gennemføre en erhvervsuddannelse', sector: 'education', topics: ['education-goal'] } });
    expect(education.status).toBe(202);
    expect(education.body.deliveries.map((d: { target: string }) => d.target).sort()).toEqual(['dfdg', 'education']);
    const social = await f.register({
      planId: plan.id,
      kind: 'intervention.added',
      intervention: { ...employmentIntervention(plan.memberId), sector: 'social', legalBasis: 'SEL § 85', title: 'Bostøtte', type: { system: 'urn:oid:1.2.208.176.2.22', code: 'x' } },
    });
    expect(social.body.deliveries.map((d: { target: string }) => d.target)).toEqual(['social']);
  });

  it('accepts every kind and applies each to the plan', async () => {
    const plan = await f.createPlan({ replaces: ['employment-plan'] });
    await f.grantAll(plan.citizenId);
    const goal = await f.register({ planId: plan.id, kind: 'goal.added', goal: { level: 'overall', title: 'Job i detailhandlen', sector: 'employment', topics: ['job-goal'] } });
    expect(goal.status).toBe(202);
    const goalId = goal.body.elementId;
    const steps: Record<string, unknown>[] = [
      { kind: 'goal.changed', goalId, changes: { title: 'Job i detailhandlen, 25 timer', status: 'active' } },
      { kind: 'intervention.added', intervention: employmentIntervention(plan.memberId, { id: 'int-1', goalIds: [goalId] }) },
      { kind: 'intervention.changed', interventionId: 'int-1', changes: { hoursPerWeek: 20, status: 'active' } },
      { kind: 'followup.scheduled', followUp: { id: 'fu-1', due: '2026-12-15', text: 'Opfølgning på praktikken', elementId: 'int-1' } },
      { kind: 'followup.scheduled', followUp: { due: '2027-01-15', text: 'Samlet opfølgning på planen' } },
      { kind: 'followup.done', followUpId: 'fu-1' },
      { kind: 'agreement.added', agreement: { text: 'Søger fem job om ugen', sector: 'employment', agreedAt: '2026-11-23', parties: ['borger', 'jobcenter'], topics: ['job-search'] } },
      { kind: 'coordinator.changed', coordinator: { kind: 'caseworker', name: 'Bente Koordinator', sector: 'social', unit: 'Socialcenter Nord' }, reason: 'Borgeren flytter til socialcentret' },
      { kind: 'intervention.ended', interventionId: 'int-1', endDate: '2027-02-01', reason: 'Fik job' },
      { kind: 'plan.status-changed', status: 'accepted' },
    ];
    for (const step of steps) {
      const answer = await f.register({ planId: plan.id, ...step });
      expect(answer.status, JSON.stringify(answer.body)).toBe(202);
      // Every one of these concerns employment or a plan replacing an employment plan: DFDG holds it.
      expect(answer.body.deliveries.map((d: { target: string }) => d.target)).toContain('dfdg');
    }
    const stored = await readPlan(plan.id);
    expect(stored.goals[0].title).toBe('Job i detailhandlen, 25 timer');
    expect(stored.goals[0].provenance).toHaveLength(2);
    const intervention = stored.interventions.find((i: { id: string }) => i.id === 'int-1');
    expect(intervention).toMatchObject({ status: 'ended', hoursPerWeek: 20, period: { start: '2026-12-01', end: '2027-02-01' }, goalIds: [goalId] });
    expect(stored.followUps.find((x: { id: string }) => x.id === 'fu-1')).toMatchObject({ done: true, doneAt: expect.any(String) });
    expect(stored.agreements).toHaveLength(1);
    expect(stored.coordinator).toMatchObject({ name: 'Bente Koordinator', sector: 'social' });
    expect(stored.coordinatorHistory.at(-1)).toMatchObject({ to: 'Bente Koordinator', toSector: 'social', reason: 'Borgeren flytter til socialcentret' });
    expect(stored.status).toBe('accepted');
    expect(stored.version).toBe(plan.version + steps.length + 1);
  });

  it('answers an invalid status transition with 409 and a closed plan with plan-not-open', async () => {
    const plan = await f.createPlan();
    const bad = await f.register({ planId: plan.id, kind: 'plan.status-changed', status: 'closed' });
    expect(bad.status).toBe(409);
    expect(bad.body.type).toBe('/problems/invalid-transition');
    for (const status of ['accepted', 'closed']) expect((await f.register({ planId: plan.id, kind: 'plan.status-changed', status })).status).toBe(202);
    const closed = await f.register({ planId: plan.id, kind: 'goal.added', goal: { level: 'overall', title: 'x', sector: 'employment' } });
    expect(closed.status).toBe(409);
    expect(closed.body.type).toBe('/problems/plan-not-open');
  });

  it('never routes anonymous treatment (SEL § 101 a) anywhere', async () => {
    const plan = await f.createPlan();
    await f.grantAll(plan.citizenId);
    const answer = await f.register({
      planId: plan.id,
      kind: 'intervention.added',
      intervention: { ...employmentIntervention(plan.memberId), sector: 'social', legalBasis: 'SEL § 101 a', confidentiality: 'anonymous-treatment', title: 'Anonym behandling' },
    });
    expect(answer.status).toBe(202);
    expect(answer.body.deliveries).toEqual([]);
    expect(answer.body.excludedBy.ruleId).toBe('anonymous-treatment-not-routed');
    expect(await f.deps.store.outbox.forRegistration('101', answer.body.id)).toEqual([]);
  });

  it('treats an intervention under § 101 a, however written, as anonymous treatment even when registered as normal (fail closed, R4)', async () => {
    const plan = await f.createPlan();
    await f.grantAll(plan.citizenId);
    const answer = await f.register({
      planId: plan.id,
      kind: 'intervention.added',
      intervention: { ...employmentIntervention(plan.memberId), sector: 'social', legalBasis: 'Serviceloven § 101 a', confidentiality: 'normal', title: 'Behandling' },
    });
    expect(answer.status).toBe(202);
    expect(answer.body.deliveries).toEqual([]);
    expect(answer.body.excludedBy.ruleId).toBe('anonymous-treatment-not-routed');
    const stored = (await f.deps.store.plans.get('101', plan.id))!.interventions.find((i) => i.id === answer.body.elementId);
    expect(stored?.confidentiality).toBe('anonymous-treatment');
  });

  it('never routes a goal served only by anonymous treatment, nor a follow-up on it (R4: what the views hide is not pushed either)', async () => {
    const plan = await f.createPlan();
    await f.grantAll(plan.citizenId);
    const goal = await f.register({ planId: plan.id, kind: 'goal.added', goal: { level: 'sub', title: 'Ude af misbrug', sector: 'social', memberId: plan.memberId } });
    expect(goal.status).toBe(202);
    const anonymous = await f.register({
      planId: plan.id,
      kind: 'intervention.added',
      intervention: { ...employmentIntervention(plan.memberId), sector: 'social', legalBasis: 'SEL § 101 a', confidentiality: 'anonymous-treatment', title: 'Anonym behandling', goalIds: [goal.body.elementId] },
    });
    expect(anonymous.body.excludedBy.ruleId).toBe('anonymous-treatment-not-routed');
    const changed = await f.register({ planId: plan.id, kind: 'goal.changed', goalId: goal.body.elementId, changes: { status: 'active' } });
    const followUp = await f.register({ planId: plan.id, kind: 'followup.scheduled', followUp: { due: '2027-01-10', text: 'Opfølgning', elementId: goal.body.elementId } });
    for (const answer of [changed, followUp]) {
      expect(answer.status, JSON.stringify(answer.body)).toBe(202);
      expect(answer.body.deliveries).toEqual([]);
      expect(answer.body.excludedBy?.ruleId).toBe('anonymous-treatment-not-routed');
      expect(await f.deps.store.outbox.forRegistration('101', answer.body.id)).toEqual([]);
    }
    // A goal also served by an ordinary intervention is not protected: it still goes to social.
    const other = await f.register({ planId: plan.id, kind: 'goal.added', goal: { level: 'sub', title: 'Bolig', sector: 'social', memberId: plan.memberId } });
    await f.register({ planId: plan.id, kind: 'intervention.added', intervention: { ...employmentIntervention(plan.memberId), sector: 'social', legalBasis: 'SEL § 101 a', title: 'Anonym behandling', goalIds: [other.body.elementId] } });
    await f.register({ planId: plan.id, kind: 'intervention.added', intervention: { ...employmentIntervention(plan.memberId), sector: 'social', legalBasis: 'SEL § 85', title: 'Bostøtte', goalIds: [other.body.elementId] } });
    const otherChanged = await f.register({ planId: plan.id, kind: 'goal.changed', goalId: other.body.elementId, changes: { status: 'active' } });
    expect(otherChanged.body.deliveries.map((d: { target: string }) => d.target)).toEqual(['social']);
  });
});

describe('Idempotency-Key', () => {
  it('answers the same key and body with the first answer, storing nothing twice', async () => {
    const plan = await f.createPlan();
    await f.grantAll(plan.citizenId);
    const key = f.newKey();
    const body = { planId: plan.id, kind: 'goal.added', goal: { level: 'overall', title: 'Ordinært job', sector: 'employment' } };
    const first = await f.register(body, { key });
    const before = { regs: await countRows(registrations), rows: await countRows(outbox), version: (await readPlan(plan.id)).version };
    // The same body with its keys in another order is the same body.
    const again = await f.register({ goal: { sector: 'employment', title: 'Ordinært job', level: 'overall' }, kind: 'goal.added', planId: plan.id }, { key });
    expect(again.status).toBe(202);
    expect(again.body).toEqual(first.body);
    expect({ regs: await countRows(registrations), rows: await countRows(outbox), version: (await readPlan(plan.id)).version }).toEqual(before);
  });

  it('refuses the same key with another body (409 idempotency-key-reused)', async () => {
    const plan = await f.createPlan();
    const key = f.newKey();
    expect((await f.register({ planId: plan.id, kind: 'goal.added', goal: { level: 'overall', title: 'A', sector: 'employment' } }, { key })).status).toBe(202);
    const other = await f.register({ planId: plan.id, kind: 'goal.added', goal: { level: 'overall', title: 'B', sector: 'employment' } }, { key });
    expect(other.status).toBe(409);
    expect(other.body.type).toBe('/problems/idempotency-key-reused');
    expect((await readPlan(plan.id)).goals.map((g: { title: string }) => g.title)).toEqual(['A']);
  });

  it('serves concurrent requests with one key exactly once', async () => {
    const plan = await f.createPlan();
    await f.grantAll(plan.citizenId);
    const key = f.newKey();
    const body = { planId: plan.id, kind: 'goal.added', goal: { level: 'overall', title: 'Samtidig', sector: 'employment' } };
    const answers = await Promise.all(Array.from({ length: 5 }, () => f.register(body, { key })));
    expect(answers.map((a) => a.status)).toEqual([202, 202, 202, 202, 202]);
    expect(new Set(answers.map((a) => a.body.id)).size).toBe(1);
    expect((await readPlan(plan.id)).goals).toHaveLength(1);
  });

  it('requires the header', async () => {
    const plan = await f.createPlan();
    const missing = await f.call('POST', '/v1/registrations', { body: { planId: plan.id, kind: 'goal.added', goal: { level: 'overall', title: 'A', sector: 'employment' } }, key: null });
    expect(missing.status).toBe(400);
    expect(missing.body.type).toBe('/problems/validation-failed');
  });
});

describe('validation failures store nothing', () => {
  const cases: [string, (plan: { id: string; memberId: string }) => Record<string, unknown>][] = [
    ['an unknown kind', (p) => ({ planId: p.id, kind: 'goal.deleted', goalId: 'x' })],
    ['a kind in the wrong form', (p) => ({ planId: p.id, kind: 'GoalAdded', goal: { level: 'overall', title: 'x', sector: 'employment' } })],
    ['a goal change of an unknown goal', (p) => ({ planId: p.id, kind: 'goal.changed', goalId: 'nope', changes: { title: 'x' } })],
    ['a goal change with nothing to change', (p) => ({ planId: p.id, kind: 'goal.changed', goalId: 'nope', changes: {} })],
    ['a goal with a blank title', (p) => ({ planId: p.id, kind: 'goal.added', goal: { level: 'overall', title: ' \t ', sector: 'employment' } })],
    ['an intervention with a blank responsible unit', (p) => ({ planId: p.id, kind: 'intervention.added', intervention: employmentIntervention(p.memberId, { responsibleUnit: '   ' }) })],
    ['an intervention for a non-member', (p) => ({ planId: p.id, kind: 'intervention.added', intervention: employmentIntervention('not-a-member') })],
    ['an intervention without legal basis', (p) => ({ planId: p.id, kind: 'intervention.added', intervention: { ...employmentIntervention(p.memberId), legalBasis: undefined } })],
    ['an intervention with an unknown goal', (p) => ({ planId: p.id, kind: 'intervention.added', intervention: employmentIntervention(p.memberId, { goalIds: ['ghost'] }) })],
    ['an intervention ending before it starts', (p) => ({ planId: p.id, kind: 'intervention.added', intervention: employmentIntervention(p.memberId, { period: { start: '2027-01-01', end: '2026-01-01' } }) })],
    ['a follow-up with an impossible date', (p) => ({ planId: p.id, kind: 'followup.scheduled', followUp: { due: '2026-13-45', text: 'x' } })],
    ['a follow-up of an unknown element', (p) => ({ planId: p.id, kind: 'followup.scheduled', followUp: { due: '2026-12-15', text: 'x', elementId: 'ghost' } })],
    ['a follow-up done that does not exist', (p) => ({ planId: p.id, kind: 'followup.done', followUpId: 'ghost' })],
    ['an agreement without parties', (p) => ({ planId: p.id, kind: 'agreement.added', agreement: { text: 'x', agreedAt: '2026-11-23', parties: [] } })],
    ['a decline without a reason', (p) => ({ planId: p.id, kind: 'plan.status-changed', status: 'declined' })],
    ['a coordinator without a unit', (p) => ({ planId: p.id, kind: 'coordinator.changed', coordinator: { kind: 'caseworker', name: 'X', sector: 'social' } })],
  ];

  it.each(cases)('refuses %s with 400 and stores nothing', async (_name, make) => {
    const plan = await f.createPlan();
    await f.grantAll(plan.citizenId);
    const before = { regs: await countRows(registrations), rows: await countRows(outbox), plan: await readPlan(plan.id) };
    const answer = await f.register(make(plan));
    expect(answer.status).toBe(400);
    expect(answer.body.type).toBe('/problems/validation-failed');
    expect(JSON.stringify(answer.body)).not.toMatch(/(?<![\w-])\d{6}-?\d{4}(?![\w-])/);
    expect({ regs: await countRows(registrations), rows: await countRows(outbox), plan: await readPlan(plan.id) }).toEqual(before);
  });
});

describe('the goal hierarchy (R1)', () => {
  it('refuses a goal made its own parent with 400, and stores nothing', async () => {
    const plan = await f.createPlan();
    await f.grantAll(plan.citizenId);
    const top = await f.register({ planId: plan.id, kind: 'goal.added', goal: { level: 'overall', title: 'Top', sector: 'employment' } });
    const sub = await f.register({ planId: plan.id, kind: 'goal.added', goal: { level: 'sub', title: 'Sub', sector: 'employment', parentGoalId: top.body.elementId } });
    expect([top.status, sub.status]).toEqual([202, 202]);
    const before = { regs: await countRows(registrations), rows: await countRows(outbox), plan: await readPlan(plan.id) };
    const self = await f.register({ planId: plan.id, kind: 'goal.changed', goalId: sub.body.elementId, changes: { parentGoalId: sub.body.elementId } });
    expect(self.status).toBe(400);
    expect(JSON.stringify(self.body.errors)).toContain('a goal cannot be its own parent');
    expect({ regs: await countRows(registrations), rows: await countRows(outbox), plan: await readPlan(plan.id) }).toEqual(before);
  });
});

describe('consent at routing time', () => {
  it('writes no outbox row for a target without consent and says so', async () => {
    const plan = await f.createPlan();
    await f.grant(plan.citizenId, 'employment', ['interventions']);
    const answer = await f.register({
      planId: plan.id,
      kind: 'intervention.added',
      intervention: { ...employmentIntervention(plan.memberId), sector: 'education', legalBasis: 'KUI § 2 a', title: 'Forberedende grunduddannelse' },
    });
    expect(answer.status).toBe(202);
    expect(answer.body.deliveries.map((d: { target: string }) => d.target)).toEqual(['dfdg']);
    expect(answer.body.notRouted).toEqual([
      expect.objectContaining({ target: 'education', recipient: 'education', cause: 'consent', reason: expect.stringContaining('no consent covers interventions data from enplan to education') }),
    ]);
    const rows = await f.deps.store.outbox.forRegistration('101', answer.body.id);
    expect(rows.map((r) => r.target)).toEqual(['dfdg']);
    const status = await f.call('GET', `/v1/registrations/${answer.body.id}`);
    expect(status.body.notRouted[0].target).toBe('education');
  });

  it('sends health data only with explicit health consent (Sundhedsloven § 43)', async () => {
    const plan = await f.createPlan();
    await f.grant(plan.citizenId, 'health', ['interventions', 'goals']);
    const health = { planId: plan.id, kind: 'goal.added', goal: { level: 'sub', title: 'Stabil medicinering', sector: 'health' } };
    const without = await f.register(health);
    expect(without.body.deliveries).toEqual([]);
    expect(without.body.notRouted[0]).toMatchObject({ target: 'health', reason: expect.stringMatching(/health/) });
    await f.grant(plan.citizenId, 'health', ['health']);
    const withConsent = await f.register(health);
    expect(withConsent.body.deliveries.map((d: { target: string }) => d.target)).toEqual(['health']);
  });

  it('asks for the family member the element is attributed to (a child needs the custody holder)', async () => {
    const plan = await f.createPlan({ birthDate: '1985-02-02', family: [{ birthDate: '2015-05-05', role: 'child' }] });
    const child = plan.members[1]!;
    await f.grantAll(plan.citizenId);
    const childIntervention = { planId: plan.id, kind: 'intervention.added', intervention: { ...employmentIntervention(child.memberId), sector: 'children', legalBasis: 'Barnets lov § 32', title: 'Familiebehandling' } };
    const refused = await f.register(childIntervention);
    expect(refused.body.deliveries).toEqual([]);
    expect(refused.body.notRouted[0].target).toBe('social');
    await f.grant(child.citizenId, 'children', ['interventions'], { grantedBy: { citizenId: plan.citizenId, capacity: 'custody-holder' } });
    const allowed = await f.register(childIntervention);
    expect(allowed.body.deliveries).toEqual([expect.objectContaining({ target: 'social', recipient: 'children' })]);
    const rows = await f.deps.store.outbox.forRegistration('101', allowed.body.id);
    expect(rows[0]!.citizenId).toBe(child.citizenId);
  });
});

describe('OpenAPI', () => {
  it('documents the registration and outbox routes, the Idempotency-Key header and the kinds', async () => {
    const doc = (await (await f.app.harness.request('/openapi.json')).json()) as { paths: Record<string, Record<string, { parameters?: { name: string; in: string; required?: boolean }[]; 'x-roles'?: string[] }>> };
    const post = doc.paths['/v1/registrations']!.post!;
    expect(post.parameters).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'idempotency-key', in: 'header', required: true })]));
    expect(post['x-roles']).toEqual(['caseworker', 'sync-job']);
    expect(doc.paths['/v1/registrations/{id}']!.get).toBeDefined();
    expect(doc.paths['/v1/outbox']!.get!['x-roles']).toEqual(['it-staff']);
    expect(doc.paths['/v1/outbox/{id}/retry']!.post!['x-roles']).toEqual(['it-staff']);
    const text = JSON.stringify(doc);
    for (const kind of ['goal.added', 'goal.changed', 'intervention.added', 'intervention.changed', 'intervention.ended', 'followup.scheduled', 'followup.done', 'agreement.added', 'coordinator.changed', 'plan.status-changed', 'plan.details-changed'])
      expect(text).toContain(`"${kind}"`);
  });
});

describe('roles and tenants', () => {
  it('lets caseworker and sync-job register; refuses vendor, it-staff and citizen with 403', async () => {
    const plan = await f.createPlan();
    const body = { planId: plan.id, kind: 'goal.added', goal: { level: 'overall', title: 'Rolle', sector: 'employment' } };
    expect((await f.register(body, { role: 'sync-job' })).status).toBe(202);
    for (const role of ['vendor', 'it-staff'] as const) {
      const refused = await f.register(body, { role });
      expect(refused.status).toBe(403);
      expect(refused.body.type).toBe('/problems/forbidden');
    }
    const noToken = await f.app.harness.request('/v1/registrations', { method: 'POST', headers: { 'content-type': 'application/json', 'idempotency-key': f.newKey() }, body: JSON.stringify(body) });
    expect(noToken.status).toBe(401);
  });

  it('answers another municipality’s plan and registration with 404 and stores nothing', async () => {
    const plan = await f.createPlan();
    await f.grantAll(plan.citizenId);
    const before = await countRows(registrations, '202');
    const foreign = await f.register({ planId: plan.id, kind: 'goal.added', goal: { level: 'overall', title: 'Fremmed', sector: 'employment' } }, { tenant: '202' });
    expect(foreign.status).toBe(404);
    expect(await countRows(registrations, '202')).toBe(before);
    const own = await f.register({ planId: plan.id, kind: 'goal.added', goal: { level: 'overall', title: 'Egen', sector: 'employment' } });
    expect((await f.call('GET', `/v1/registrations/${own.body.id}`)).status).toBe(200);
    expect((await f.call('GET', `/v1/registrations/${own.body.id}`, { tenant: '202' })).status).toBe(404);
    expect((await f.call('GET', `/v1/registrations/${own.body.id}`, { role: 'vendor' })).status).toBe(403);
    // The idempotency key is per municipality: the same key in another tenant is another request.
    const key = f.newKey();
    const plan202 = await f.createPlan({ tenant: '202' });
    expect((await f.register({ planId: plan202.id, kind: 'goal.added', goal: { level: 'overall', title: 'A', sector: 'employment' } }, { key, tenant: '202' })).status).toBe(202);
    expect((await f.register({ planId: plan.id, kind: 'goal.added', goal: { level: 'overall', title: 'B', sector: 'employment' } }, { key })).status).toBe(202);
  });
});
