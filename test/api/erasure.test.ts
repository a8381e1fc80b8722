/**
 * POST /v1/data-subject/erasure: the DPO erases what the layer holds about a citizen now (GDPR art.
 * 17, R16) — their own plans with registrations and deliveries still due, CPR ciphertext, consents,
 * marks and quarantined records — tells subscribed systems (`plan.purged`), keeps the audit rows, and
 * refuses to touch a plan shared with other family members.
 */
import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { membersOf } from '../../src/model';
import { planService } from '../../src/plans/service';
import { appliedRecords, consents, events, outbox, planMembers, quarantine, registrations } from '../../src/store/schema';
import { cprPattern, testCpr } from '../support/cpr';
import { startTestApp } from '../support/node-app';
import { caseworkerOf, enrol, grantConsent } from '../support/seed';

async function setUp() {
  const app = await startTestApp();
  const call = async (method: string, path: string, roles: string[], body?: unknown, sub = 'dpo-karen', tenant = '101') => {
    const token = await app.harness.token({ tenant, roles: roles as never, sub });
    const headers: Record<string, string> = { authorization: `Bearer ${token}` };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const response = await app.harness.request(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    return { status: response.status, type: response.headers.get('content-type'), text: await response.text() };
  };
  const erase = async (body: unknown, roles = ['dpo'], tenant = '101') => {
    const answer = await call('POST', '/v1/data-subject/erasure', roles, body, 'dpo-karen', tenant);
    return { ...answer, body: JSON.parse(answer.text) };
  };
  const db = app.database.db;
  const rowsOf = {
    consents: async (citizenId: string) => (await db.select({ id: consents.id }).from(consents).where(eq(consents.citizenId, citizenId))).length,
    marks: async (citizenId: string) => (await db.select({ id: appliedRecords.recordId }).from(appliedRecords).where(eq(appliedRecords.citizenId, citizenId))).length,
    quarantine: async (citizenId: string) => (await db.select({ id: quarantine.id }).from(quarantine).where(eq(quarantine.citizenId, citizenId))).length,
    registrations: async (planId: string) => (await db.select({ id: registrations.id }).from(registrations).where(eq(registrations.planId, planId))).length,
    outbox: async (citizenId: string) => (await db.select({ id: outbox.id }).from(outbox).where(eq(outbox.citizenId, citizenId))).length,
  };
  /** A plan with what hangs on a citizen: a consent, a mark, a quarantined record and a delivery still due. */
  const citizenWithData = async (cpr = testCpr()) => {
    const plan = await enrol(app.deps, cpr);
    const citizenId = membersOf(plan)[0]!.citizenId;
    await grantConsent(app.deps, { citizenId, source: 'dfdg', categories: ['plan-core'] });
    const at = app.deps.clock.now().toISOString();
    const [registration] = await db.select({ id: registrations.id }).from(registrations).where(eq(registrations.planId, plan.id)).limit(1);
    await app.deps.store.batch([
      app.deps.store.outbox.insertStatement({ id: `due-${citizenId}`, tenant: '101', registrationId: registration!.id, citizenId, target: 'dfdg', operation: 'plan.status', payload: '{}', nextAttemptAt: at, consentRef: null, createdAt: at }),
      app.deps.store.sync.quarantineStatement({ id: `q-${citizenId}`, tenant: '101', adapter: 'dfdg', recordType: 'activity', recordId: `r-${citizenId}`, mappingId: null, reason: 'test', raw: '<x/>', runId: null, citizenId, createdAt: at }),
    ]);
    await db.insert(appliedRecords).values({ tenant: '101', citizenId, source: 'dfdg', recordId: `r-${citizenId}`, recordVersion: '1', planId: plan.id, appliedAt: at });
    return { cpr, plan, citizenId };
  };
  /** Another member joins `planId` just after the erasure has looked whether the citizen's plans are theirs alone (once). */
  const memberArrivesAfterTheLook = (planId: string) => {
    const look = app.deps.store.plans.withOtherMembers.bind(app.deps.store.plans);
    let arrived = false;
    app.deps.store.plans.withOtherMembers = async (tenant, planIds, citizen) => {
      const answer = await look(tenant, planIds, citizen);
      if (!arrived) await app.deps.store.batch([db.insert(planMembers).values({ tenant: '101', planId, citizenId: 'arrived-later', active: true })]);
      arrived = true;
      return answer;
    };
  };
  return { ...app, call, erase, rowsOf, citizenWithData, memberArrivesAfterTheLook };
}

describe('erasure at the DPO’s request (GDPR art. 17)', () => {
  it('erases the citizen’s plan and all keyed by them now, tells the subscribed system, and keeps the audit rows', async () => {
    const app = await setUp();
    // A vendor of the employment system subscribed: the citizen's consent lets the plan flow to dfdg.
    await app.deps.store.batch([
      app.deps.store.subscriptions.createStatement({ id: 'sub-dfdg', tenant: '101', url: 'https://vendor.example/events', secretSealed: 'sealed', events: '["plan.changed"]', description: null, createdBy: 'vendor:v1', createdAt: app.deps.clock.now().toISOString(), system: 'dfdg' }),
    ]);
    const gone = await app.citizenWithData();
    const kept = await app.citizenWithData();
    const reason = 'Indskrevet under forkert CPR-nummer (art. 17, stk. 1, litra d)';

    const answer = await app.erase({ cpr: gone.cpr, reason });
    expect(answer.status, answer.text).toBe(200);
    expect(answer.body).toEqual({ citizenId: gone.citizenId, erasedAt: expect.any(String), plansErased: [gone.plan.id], deliveriesCancelled: 1, quarantinedRecordsDeleted: 1, familyPlansLeft: [], citizenErased: true });
    expect(answer.text).not.toMatch(cprPattern(gone.cpr));

    expect(await app.deps.store.plans.get('101', gone.plan.id)).toBeNull();
    expect(await app.deps.store.citizens.get('101', gone.citizenId)).toBeNull();
    for (const count of [app.rowsOf.consents, app.rowsOf.marks, app.rowsOf.quarantine, app.rowsOf.outbox]) expect(await count(gone.citizenId)).toBe(0);
    expect(await app.rowsOf.registrations(gone.plan.id)).toBe(0);
    // The other citizen keeps everything.
    expect(await app.deps.store.plans.get('101', kept.plan.id)).not.toBeNull();
    for (const count of [app.rowsOf.consents, app.rowsOf.marks, app.rowsOf.quarantine, app.rowsOf.outbox]) expect(await count(kept.citizenId)).toBe(1);

    // The employment system's vendor is told to delete the plan (art. 19).
    const told = await app.database.db.select({ type: events.type, data: events.data }).from(events).where(eq(events.type, 'plan.purged'));
    expect(told.map((e) => JSON.parse(e.data))).toEqual([expect.objectContaining({ planId: gone.plan.id, system: 'dfdg' })]);

    // What was done is in the log, by whom and why; the chain still holds.
    const log = await app.deps.store.audit.list('101');
    expect(log.filter((e) => e.action === 'plan.purged')).toEqual([expect.objectContaining({ targetId: gone.plan.id, actor: 'dpo:dpo-karen', detail: expect.objectContaining({ reason: expect.stringContaining(reason), deliveriesCancelled: 1 }) })]);
    expect(log.filter((e) => e.action === 'citizen.purged')).toEqual([expect.objectContaining({ targetId: gone.citizenId, actor: 'dpo:dpo-karen', detail: expect.objectContaining({ quarantinedRecordsDeleted: 1 }) })]);
    expect(log.some((e) => e.citizenId === gone.citizenId && e.action === 'plan.created')).toBe(true);
    expect(await app.deps.store.audit.verify('101')).toMatchObject({ ok: true });
    expect(JSON.stringify(log)).not.toMatch(cprPattern(gone.cpr));

    // Nothing is held under the number now.
    expect((await app.call('POST', '/v1/data-subject/access-report', ['dpo'], { cpr: gone.cpr })).status).toBe(404);
    expect((await app.erase({ cpr: gone.cpr, reason })).status).toBe(404);
    await app.close();
  });

  it('refuses a citizen in a family plan with others (409), and erases nothing', async () => {
    const app = await setUp();
    const cpr = testCpr();
    const created = await app.call('POST', '/v1/plans', ['caseworker'], { cpr, origin: 'offered', family: { members: [{ cpr: testCpr('1986-07-09'), role: 'adult' }] } }, 'caseworker-1');
    expect(created.status, created.text).toBe(201);
    const planId = JSON.parse(created.text).id as string;

    const answer = await app.erase({ cpr, reason: 'Borgeren har bedt om sletning' });
    expect(answer.status).toBe(409);
    expect(answer.type).toContain('application/problem+json');
    expect(answer.body).toMatchObject({ type: '/problems/erasure-shared-plan', status: 409 });
    expect(answer.body.detail).toContain(planId);
    expect(await app.deps.store.plans.get('101', planId)).not.toBeNull();
    expect((await app.deps.store.audit.list('101')).some((e) => e.action.endsWith('.purged'))).toBe(false);
    await app.close();
  });

  it('erases a member who left the family plan, as the 409 asks: their own plan goes, the family plan stays the others’', async () => {
    const app = await setUp();
    const stayer = testCpr();
    const leaverCpr = testCpr('1986-07-09');
    const created = await app.call('POST', '/v1/plans', ['caseworker'], { cpr: stayer, origin: 'offered', family: { members: [{ cpr: leaverCpr, role: 'adult' }] } }, 'caseworker-1');
    expect(created.status, created.text).toBe(201);
    const familyPlanId = JSON.parse(created.text).id as string;
    const leaver = membersOf((await app.deps.store.plans.get('101', familyPlanId))!)[1]!;
    // Refused while in it.
    expect((await app.erase({ cpr: leaverCpr, reason: 'Borgeren har bedt om sletning' })).status).toBe(409);
    const left = await app.call('POST', `/v1/plans/${familyPlanId}/members/${leaver.memberId}/leave`, ['caseworker'], undefined, 'caseworker-1');
    expect(left.status, left.text).toBe(201);
    const ownPlanId = JSON.parse(left.text).ownPlan?.id ?? JSON.parse(left.text).id;

    const answer = await app.erase({ cpr: leaverCpr, reason: 'Borgeren har bedt om sletning' });
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    expect(answer.body).toMatchObject({ citizenId: leaver.citizenId, plansErased: [ownPlanId], familyPlansLeft: [familyPlanId], citizenErased: true });
    // The family plan stays the other member's; the leaver's membership of it is gone, so nothing finds them by it.
    const family = (await app.deps.store.plans.get('101', familyPlanId))!;
    expect(family.status).not.toBe('closed');
    expect(await app.database.db.select().from(planMembers).where(eq(planMembers.citizenId, leaver.citizenId))).toEqual([]);
    expect(await app.deps.store.citizens.get('101', leaver.citizenId)).toBeNull();
    expect(await app.deps.store.plans.get('101', ownPlanId)).toBeNull();
    const logged = (await app.deps.store.audit.list('101', { citizenId: leaver.citizenId })).map((e) => e.action);
    expect(logged).toEqual(expect.arrayContaining(['plan.member-erased', 'citizen.purged']));
    expect(await app.deps.store.audit.verify('101')).toMatchObject({ ok: true });
    // With the leaver's membership forgotten, the one who stayed is alone in the family plan: it can be erased too.
    expect((await app.erase({ cpr: stayer, reason: 'Borgeren har bedt om sletning' })).body).toMatchObject({ plansErased: [familyPlanId] });
    await app.close();
  });

  it('checks in the same batch that the plan is the citizen’s alone: a member added after the look keeps it whole', async () => {
    const app = await setUp();
    const { cpr, plan, citizenId } = await app.citizenWithData();
    // Another member arrives between the look and the deletion.
    app.memberArrivesAfterTheLook(plan.id);
    const answer = await app.erase({ cpr, reason: 'Borgeren har bedt om sletning' });
    expect(answer.status, answer.text).toBe(409);
    expect(await app.deps.store.plans.get('101', plan.id)).not.toBeNull();
    expect(await app.deps.store.citizens.get('101', citizenId)).not.toBeNull();
    expect(await app.rowsOf.outbox(citizenId)).toBe(1);
    expect((await app.deps.store.audit.list('101')).some((e) => e.action.endsWith('.purged'))).toBe(false);
    await app.close();
  });

  it('is all or nothing for a citizen with several plans: a member joining the second after the look keeps the first too', async () => {
    const app = await setUp();
    const { cpr, plan: first, citizenId } = await app.citizenWithData();
    await planService(app.deps).changeStatus(caseworkerOf(), first.id, { status: 'closed' });
    const second = await enrol(app.deps, cpr);
    app.memberArrivesAfterTheLook(second.id);
    const answer = await app.erase({ cpr, reason: 'Borgeren har bedt om sletning' });
    expect(answer.status, answer.text).toBe(409);
    expect(answer.body.detail).toContain(second.id);
    // Before, the first plan was erased in a batch of its own and the call still answered 409.
    expect(await app.deps.store.plans.get('101', first.id)).not.toBeNull();
    expect(await app.deps.store.plans.get('101', second.id)).not.toBeNull();
    expect(await app.deps.store.citizens.get('101', citizenId)).not.toBeNull();
    expect((await app.deps.store.audit.list('101')).some((e) => e.action.endsWith('.purged'))).toBe(false);
    await app.close();
  });

  it('a plan made for the citizen while the erasure runs is erased with the rest, not left behind with the citizen', async () => {
    const app = await setUp();
    const { cpr, plan: first, citizenId } = await app.citizenWithData();
    await planService(app.deps).changeStatus(caseworkerOf(), first.id, { status: 'closed' });
    // A caseworker makes a new plan for them after the erasure has read which plans they have.
    const count = app.deps.store.sync.quarantineCountOfCitizens.bind(app.deps.store.sync);
    let made: string | undefined;
    app.deps.store.sync.quarantineCountOfCitizens = async (tenant, ids) => {
      made ??= (await enrol(app.deps, cpr)).id;
      return count(tenant, ids);
    };
    const answer = await app.erase({ cpr, reason: 'Borgeren har bedt om sletning' });
    expect(answer.status, answer.text).toBe(200);
    expect(answer.body.plansErased.sort()).toEqual([first.id, made!].sort());
    expect(answer.body.citizenErased).toBe(true);
    expect(await app.deps.store.plans.get('101', made!)).toBeNull();
    expect(await app.deps.store.citizens.get('101', citizenId)).toBeNull();
    // One citizen.purged, and one plan.purged per plan: the attempt that met the new plan left no row.
    const purged = (await app.deps.store.audit.list('101')).filter((e) => e.action.endsWith('.purged')).map((e) => e.action);
    expect(purged.sort()).toEqual(['citizen.purged', 'plan.purged', 'plan.purged']);
    expect(await app.deps.store.audit.verify('101')).toMatchObject({ ok: true });
    await app.close();
  });

  it('is for the DPO of the citizen’s own municipality; a reason holding a CPR number or none is refused; nothing is erased by a refused call', async () => {
    const app = await setUp();
    const { cpr, plan } = await app.citizenWithData();
    const reason = 'Borgeren har bedt om sletning';
    for (const role of ['caseworker', 'it-staff', 'vendor', 'sync-job']) expect((await app.erase({ cpr, reason }, [role])).status, role).toBe(403);
    expect((await app.erase({ cpr, reason }, ['dpo'], '751')).status).toBe(404);
    expect((await app.erase({ cpr: testCpr(), reason })).status).toBe(404);
    const withCpr = await app.erase({ cpr, reason: `forkert person, rette nummer er ${testCpr()}` });
    expect(withCpr.status).toBe(400);
    expect(withCpr.body.type).toBe('/problems/validation-failed');
    expect((await app.erase({ cpr })).status).toBe(400);
    expect((await app.erase({ cpr, reason, extra: 1 })).status).toBe(400);
    const anonymous = await app.harness.request('/v1/data-subject/erasure', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ cpr, reason }) });
    expect(anonymous.status).toBe(401);
    expect(await app.deps.store.plans.get('101', plan.id)).not.toBeNull();
    await app.close();
  });
});
