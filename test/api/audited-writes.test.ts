/**
 * No change without its audit row: a change and the audit entries that record it are committed in
 * one batch, so when the audit log cannot be written nothing of the change is either — no plan
 * created unlogged, no consent in force that the log does not show, no registration queued for the
 * sector systems without its `registration.accepted`. The outage is a trigger that refuses inserts
 * into the audit log while a row stands in `audit_outage`.
 */
import { count, eq, sql } from 'drizzle-orm';
import type { SQLiteTable } from 'drizzle-orm/sqlite-core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { consentService } from '../../src/consent/service';
import { retryDelivery } from '../../src/delivery/control';
import { membersOf, type Plan } from '../../src/model';
import { membershipService } from '../../src/plans/membership';
import { planService } from '../../src/plans/service';
import { RegistrationRequest } from '../../src/registrations/kinds';
import { registrationService } from '../../src/registrations/service';
import { outbox, planLinks, plans, pulledCitizens, satisfactionAnswers, subscriptions } from '../../src/store/schema';
import { subscriptionService } from '../../src/subscriptions/service';
import { resolveQuarantined } from '../../src/sync/quarantine';
import { runRetention } from '../../src/sync/retention';
import { planViewService } from '../../src/views/service';
import { testCpr } from '../support/cpr';
import { startTestApp } from '../support/node-app';
import { caseworkerOf, enrol, grantConsent } from '../support/seed';

let app: Awaited<ReturnType<typeof startTestApp>>;
const caseworker = caseworkerOf();

beforeEach(async () => {
  app = await startTestApp({ env: { SUBSCRIPTION_ALLOWED_HOSTS: '127.0.0.1' } });
  await app.database.db.run(sql`create table audit_outage (since text)`);
  await app.database.db.run(sql`create trigger audit_outage before insert on audit_log when exists (select 1 from audit_outage) begin select raise(abort, 'the audit log cannot be written'); end`);
});
afterEach(() => app.close());

/** Runs `change` while the audit log cannot be written: it must fail. */
async function duringAuditOutage(change: () => Promise<unknown>): Promise<void> {
  await app.database.db.run(sql`insert into audit_outage values ('now')`);
  try {
    await expect(change()).rejects.toThrow();
  } finally {
    await app.database.db.run(sql`delete from audit_outage`);
  }
}

const countOf = async (table: SQLiteTable) => (await app.database.db.select({ n: count() }).from(table))[0]!.n;
const stored = (plan: Plan) => app.deps.store.plans.get(plan.tenant, plan.id);

describe('a change whose audit row cannot be written is not made', () => {
  it('creating a plan', async () => {
    const cpr = testCpr();
    await duringAuditOutage(() => planService(app.deps).create(caseworker, { cpr, origin: 'offered', role: 'adult', replaces: [], municipalities: [] }));
    expect(await countOf(plans)).toBe(0);
    // Once the log can be written, the same request succeeds: nothing half-made stands in its way.
    expect((await planService(app.deps).create(caseworker, { cpr, origin: 'offered', role: 'adult', replaces: [], municipalities: [] })).status).toBe('offered');
  });

  it('granting consent, and recording a legal basis: no grant, and the citizen’s sync marks are untouched', async () => {
    const plan = await enrol(app.deps, testCpr());
    const member = membersOf(plan)[0]!;
    await app.deps.store.batch([app.deps.store.sync.pulledStatement('101', 'dfdg', member.citizenId, '2026-11-24T08:00:00.000Z')]);
    const request = {
      planId: plan.id, memberId: member.memberId, source: 'dfdg' as const, recipient: 'enplan' as const, categories: ['employment' as const], explicitHealth: false,
      purpose: 'Koordinering', validFrom: '2026-01-01', signed: { method: 'mitid' as const, documentRef: 'doc-1', textVersion: 'samtykke-v1', language: 'da' },
      grantedBy: { memberId: member.memberId, capacity: 'self' as const },
    };
    await duringAuditOutage(() => consentService(app.deps).grant(caseworker, request));
    await duringAuditOutage(() => consentService(app.deps).recordLegalBasis(caseworker, { planId: plan.id, memberId: member.memberId, source: 'social', recipient: 'enplan', categories: ['social'], basis: 'Serviceloven § 11 c' }));
    expect(await app.deps.store.consents.forCitizens('101', [member.citizenId])).toEqual([]);
    expect(await countOf(pulledCitizens)).toBe(1);
  });

  it('revoking consent, and marking a citizen informed', async () => {
    const plan = await enrol(app.deps, testCpr());
    const member = membersOf(plan)[0]!;
    const grant = await grantConsent(app.deps, { citizenId: member.citizenId, source: 'dfdg', categories: ['employment'] });
    const basis = await consentService(app.deps).recordLegalBasis(caseworker, { planId: plan.id, memberId: member.memberId, source: 'social', recipient: 'enplan', categories: ['social'], basis: 'Serviceloven § 11 c' });
    await duringAuditOutage(() => consentService(app.deps).revoke(caseworker, grant.id));
    await duringAuditOutage(() => consentService(app.deps).markInformed(caseworker, basis.id));
    const documents = await app.deps.store.consents.forCitizens('101', [member.citizenId]);
    expect(documents.find((d) => d.id === grant.id)).not.toHaveProperty('revokedAt');
    expect(documents.find((d) => d.id === basis.id)).toMatchObject({ citizenInformed: false });
  });

  it('a registration: the plan, the registration and its outbox rows stay as they were', async () => {
    const plan = await enrol(app.deps, testCpr());
    const member = membersOf(plan)[0]!;
    await grantConsent(app.deps, { citizenId: member.citizenId, source: 'enplan', recipient: 'employment', categories: ['goals', 'plan-core'] });
    const outboxBefore = await countOf(outbox);
    const register = () =>
      registrationService(app.deps).register(caseworker, 'goal-during-outage', RegistrationRequest.parse({ kind: 'goal.added', planId: plan.id, goal: { memberId: member.memberId, level: 'overall', title: 'Job inden for et år', sector: 'employment' } }));
    await duringAuditOutage(register);
    expect((await stored(plan))!.version).toBe(plan.version);
    expect(await app.deps.store.registrations.findByKey('101', 'goal-during-outage')).toBeNull();
    expect(await countOf(outbox)).toBe(outboxBefore);
    // Sent again with the same key once the log can be written, it is accepted as new, not replayed.
    const { answer, replayed } = await register();
    expect(replayed).toBe(false);
    expect(answer.planVersion).toBe(plan.version + 1);
  });

  it('a member leaving a family plan, and a plan linked to (and unlinked from) a second municipality', async () => {
    const service = planService(app.deps);
    const family = await service.create(caseworker, { cpr: testCpr(), origin: 'offered', role: 'parent', family: { members: [{ cpr: testCpr('1988-02-03'), role: 'parent' }] }, replaces: [], municipalities: [] });
    const leaving = membersOf(family)[1]!;
    await duringAuditOutage(() => membershipService(app.deps).leave(caseworker, family.id, leaving.memberId));
    expect(await countOf(plans)).toBe(1);
    expect(membersOf((await stored(family))!).every((m) => !m.leftAt)).toBe(true);

    const primary = membersOf(family)[0]!;
    const grant = await grantConsent(app.deps, { citizenId: primary.citizenId, source: 'enplan', recipient: 'municipality:751', categories: ['goals'] });
    await duringAuditOutage(() => planViewService(app.deps).link(caseworker, family.id, { code: '751', consentRef: grant.id, parts: ['goals'] }));
    expect((await stored(family))!.municipalities).toEqual([]);
    expect(await countOf(planLinks)).toBe(0);

    await planViewService(app.deps).link(caseworker, family.id, { code: '751', consentRef: grant.id, parts: ['goals'] });
    await duringAuditOutage(() => planViewService(app.deps).unlink(caseworker, family.id, '751'));
    expect((await stored(family))!.municipalities[0]!.link).toBeDefined();
    expect(await countOf(planLinks)).toBe(1);
  });

  it('resolving a quarantined record, a citizen’s satisfaction answer, and an event subscription made, ended or given a new secret', async () => {
    await app.deps.store.batch([
      app.deps.store.sync.quarantineStatement({ id: 'q-1', tenant: '101', adapter: 'dfdg', recordType: 'activity', recordId: 'r-1', mappingId: null, reason: 'test', raw: null, runId: null, citizenId: 'c-1', createdAt: '2026-11-24T08:00:00.000Z' }),
    ]);
    const itStaff = { sub: 'it-1', tenant: '101', roles: ['it-staff' as const] };
    await duringAuditOutage(() => resolveQuarantined(app.deps, itStaff, 'q-1', { action: 'dismiss' }));
    expect((await app.deps.store.sync.quarantineEntry('101', 'q-1'))!.resolvedAt).toBeFalsy();

    const plan = await enrol(app.deps, testCpr());
    const member = membersOf(plan)[0]!;
    const token = await app.harness.token({ tenant: '101', roles: ['citizen'], citizenId: member.citizenId });
    const answer = () => app.harness.request(`/v1/citizen/plans/${plan.id}/satisfaction`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ score: 4 }) });
    await app.database.db.run(sql`insert into audit_outage values ('now')`);
    expect((await answer()).status).toBe(500);
    await app.database.db.run(sql`delete from audit_outage`);
    expect(await countOf(satisfactionAnswers)).toBe(0);
    expect((await answer()).status).toBe(200);
    expect(await countOf(satisfactionAnswers)).toBe(1);

    const vendor = { sub: 'vendor-1', tenant: '101', roles: ['vendor' as const], system: 'social' as const };
    await duringAuditOutage(() => subscriptionService(app.deps).create(vendor, { url: 'http://127.0.0.1:9/events' }));
    expect(await countOf(subscriptions)).toBe(0);
    // Ending it or rotating its secret: not done unlogged either.
    const { id } = await subscriptionService(app.deps).create(vendor, { url: 'http://127.0.0.1:9/events' });
    const secretBefore = (await app.deps.store.subscriptions.get('101', id))!.secretSealed;
    await duringAuditOutage(() => subscriptionService(app.deps).disable(vendor, id));
    await duringAuditOutage(() => subscriptionService(app.deps).rotateSecret(vendor, id, { overlapHours: 0 }));
    expect(await app.deps.store.subscriptions.get('101', id)).toMatchObject({ disabledAt: null, secretSealed: secretBefore });
  });

  it('registering a consent text', async () => {
    const itStaff = { sub: 'it-1', tenant: '101', roles: ['it-staff' as const] };
    const token = await app.harness.token(itStaff);
    const register = () => app.harness.request('/v1/consent-texts', { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ version: 'samtykke-2027-1', language: 'da', title: 'Samtykke', body: 'Jeg giver samtykke til …' }) });
    await app.database.db.run(sql`insert into audit_outage values ('now')`);
    expect((await register()).status).toBe(500);
    await app.database.db.run(sql`delete from audit_outage`);
    expect(await app.deps.store.consentTexts.any('101')).toBe(false);
    expect((await register()).status).toBe(201);
    expect((await register()).status).toBe(200);
  });

  it('retention purging an ended plan and its member: nothing goes unlogged, and no log row tells of a deletion that failed', async () => {
    const plan = await enrol(app.deps, testCpr());
    const citizenId = membersOf(plan)[0]!.citizenId;
    // Closed six years ago (the default period is five).
    await app.database.db.update(plans).set({ status: 'closed', updatedAt: '2020-11-23T10:00:00.000Z' }).where(eq(plans.id, plan.id));
    await duringAuditOutage(() => runRetention(app.deps));
    expect(await stored(plan)).not.toBeNull();
    expect(await app.deps.store.citizens.get('101', citizenId)).not.toBeNull();
    // The other way round: the deletion fails, so no audit row may say it happened.
    await app.database.db.run(sql`create trigger plan_kept before delete on plans begin select raise(abort, 'the plan cannot be deleted'); end`);
    await expect(runRetention(app.deps)).rejects.toThrow();
    await app.database.db.run(sql`drop trigger plan_kept`);
    expect((await app.deps.store.audit.list('101')).filter((a) => a.action.endsWith('.purged'))).toEqual([]);
    expect(await runRetention(app.deps)).toMatchObject({ plansPurged: 1, citizensPurged: 1 });
    expect(await stored(plan)).toBeNull();
    expect((await app.deps.store.audit.list('101')).filter((a) => a.action.endsWith('.purged')).map((a) => [a.action, a.targetId])).toEqual([['plan.purged', plan.id], ['citizen.purged', citizenId]]);
  });

  it('IT staff retrying a dead delivery: not requeued unlogged; and one the relay finished meanwhile is neither requeued nor logged as such', async () => {
    const row = { id: 'o-1', tenant: '101', registrationId: 'reg-1', citizenId: 'c-1', target: 'dfdg', operation: 'plan.status', payload: '{}', nextAttemptAt: '2026-11-24T08:00:00.000Z', consentRef: null, createdAt: '2026-11-24T08:00:00.000Z' };
    await app.deps.store.batch([app.deps.store.outbox.insertStatement(row)]);
    await app.database.db.update(outbox).set({ status: 'dead' }).where(eq(outbox.id, 'o-1'));
    const itStaff = { sub: 'it-1', tenant: '101', roles: ['it-staff' as const] };
    await duringAuditOutage(() => retryDelivery(app.deps, itStaff, 'o-1'));
    expect((await app.deps.store.outbox.get('101', 'o-1'))!.status).toBe('dead');

    // Read as dead, delivered by the time the retry is committed.
    const asRead = (await app.deps.store.outbox.get('101', 'o-1'))!;
    await app.database.db.update(outbox).set({ status: 'delivered' }).where(eq(outbox.id, 'o-1'));
    const get = app.deps.store.outbox.get;
    app.deps.store.outbox.get = async () => asRead;
    try {
      await expect(retryDelivery(app.deps, itStaff, 'o-1')).rejects.toMatchObject({ problemType: 'outbox-not-retryable' });
    } finally {
      app.deps.store.outbox.get = get;
    }
    expect((await app.deps.store.outbox.get('101', 'o-1'))!.status).toBe('delivered');
    expect((await app.deps.store.audit.list('101')).filter((a) => a.action === 'delivery.retry-requested')).toEqual([]);
  });

  it('a status change is made with its own row or not at all, even when only that row cannot be written', async () => {
    const plan = await planService(app.deps).create(caseworker, { cpr: testCpr(), origin: 'offered', role: 'adult', replaces: [], municipalities: [] });
    await app.database.db.run(sql`create trigger status_row_refused before insert on audit_log when new.action = 'plan.status-changed' begin select raise(abort, 'refused'); end`);
    await expect(planService(app.deps).changeStatus(caseworker, plan.id, { status: 'accepted' })).rejects.toThrow();
    expect((await stored(plan))!.status).toBe('offered');
    expect(await countOf(outbox)).toBe(0);
    await app.database.db.run(sql`drop trigger status_row_refused`);
    expect((await planService(app.deps).changeStatus(caseworker, plan.id, { status: 'accepted' }))!.status).toBe('accepted');
    expect((await app.deps.store.audit.list('101')).filter((a) => a.action === 'plan.status-changed').map((a) => a.detail)).toEqual([{ from: 'offered', to: 'accepted' }]);
  });
});
