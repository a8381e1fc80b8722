/**
 * The outbox relay against push targets over real HTTP: delivery with a deterministic key, consent
 * re-checked at delivery (S3), per-citizen ordering, backoff and Retry-After, dead letters with a
 * readable reason and their retry from the API, leases, and the outbox API's roles and tenants.
 */
import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { PushOperation } from '../../adapters/adapter';
import { cancelDeliveriesForRevokedConsent, createRelay, reverseMappingRegistry } from '../../src/delivery';
import type { Outbound } from '../../src/registrations';
import { Dashboard, localTime } from '../../src/monitoring/dashboard';
import { monitoringOverview, toPrometheus } from '../../src/monitoring/overview';
import { citizens } from '../../src/store/schema';
import { employmentIntervention, startPushFixture, TARGETS, type PushFixture } from '../registrations/fixture';

let f: PushFixture;
beforeAll(async () => {
  f = await startPushFixture();
});
afterAll(() => f.close());
beforeEach(async () => {
  // Leave nothing due from an earlier test, and start each with healthy, empty targets.
  await f.drain();
  for (const t of TARGETS) {
    f.targets[t].setFaults({ errorRate: 0, timeoutRate: 0, malformedRate: 0, refuseWith: null, retryAfterSeconds: null, latencyMs: 0 });
    f.targets[t].reset();
  }
});

async function employmentCase() {
  const plan = await f.createPlan();
  const grants = await f.grantAll(plan.citizenId, { health: true });
  return { plan, grants };
}

const addIntervention = (planId: string, memberId: string, title = 'Virksomhedspraktik') =>
  f.register({ planId, kind: 'intervention.added', intervention: employmentIntervention(memberId, { title }) });

describe('delivery', () => {
  it('delivers each outbox row once, keyed by the row id, and shows the receipt', async () => {
    const { plan } = await employmentCase();
    const education = await f.register({ planId: plan.id, kind: 'goal.added', goal: { level: 'overall', title: 'Uddannelse', sector: 'education' } });
    const health = await f.register({ planId: plan.id, kind: 'goal.added', goal: { level: 'sub', title: 'Behandling', sector: 'health' } });
    expect(education.body.deliveries).toHaveLength(2);
    expect(health.body.deliveries).toHaveLength(1);
    const result = await f.relay();
    expect(result).toEqual({ delivered: 3, retried: 0, dead: 0, cancelled: 0 });
    for (const delivery of [...education.body.deliveries, ...health.body.deliveries])
      expect(f.targets[delivery.target as 'dfdg'].effectCounts()).toMatchObject({ [delivery.outboxId]: 1 });
    const status = await f.call('GET', `/v1/registrations/${education.body.id}`);
    expect(status.body.targets).toEqual(
      expect.arrayContaining([expect.objectContaining({ target: 'education', status: 'delivered', attempts: 1, receipt: expect.objectContaining({ targetId: expect.stringMatching(/^education-/) }) })]),
    );
    expect(await f.relay()).toEqual({ delivered: 0, retried: 0, dead: 0, cancelled: 0 });
    const audit = await f.deps.store.audit.list('101', { citizenId: plan.citizenId });
    const delivered = audit.filter((a) => a.action === 'delivery.delivered');
    expect(delivered).toHaveLength(3);
    expect(delivered[0]!.detail).toMatchObject({ basis: 'consent', recipient: expect.any(String), categories: [expect.any(String)], consentRefs: [expect.any(String)], target: expect.any(String) });
  });

  it('cancels a queued delivery when the consent is revoked before it goes (S3): nothing reaches the target', async () => {
    const { plan, grants } = await employmentCase();
    const answer = await addIntervention(plan.id, plan.memberId);
    expect(answer.body.deliveries.map((d: { target: string }) => d.target)).toEqual(['dfdg']);
    await f.revoke(grants[0]!); // the employment grant
    expect(await f.relay()).toEqual({ delivered: 0, retried: 0, dead: 0, cancelled: 1 });
    expect(f.targets.dfdg.requests()).toBe(0);
    const status = await f.call('GET', `/v1/registrations/${answer.body.id}`);
    expect(status.body.targets[0]).toMatchObject({ status: 'cancelled', reason: expect.stringContaining('the consent was revoked') });
    const audit = await f.deps.store.audit.list('101', { citizenId: plan.citizenId });
    expect(audit.some((a) => a.action === 'delivery.cancelled' && a.targetId === answer.body.deliveries[0].outboxId)).toBe(true);
  });

  it('cancels retrying deliveries at once through cancelDeliveriesForRevokedConsent, keeping what other consent covers', async () => {
    const { plan, grants } = await employmentCase();
    f.targets.dfdg.setFaults({ errorRate: 1 });
    f.targets.education.setFaults({ errorRate: 1 });
    const answer = await f.register({ planId: plan.id, kind: 'goal.added', goal: { level: 'overall', title: 'Uddannelse', sector: 'education' } });
    expect(await f.relay()).toMatchObject({ retried: 2 });
    const requestsBefore = f.targets.dfdg.requests();
    await f.revoke(grants[0]!); // employment only: the education delivery stays
    expect(await cancelDeliveriesForRevokedConsent(f.deps, '101', grants[0]!)).toEqual({ cancelled: 1, kept: 1 });
    f.targets.dfdg.setFaults({ errorRate: 0 });
    f.targets.education.setFaults({ errorRate: 0 });
    await f.drain();
    expect(f.targets.dfdg.requests()).toBe(requestsBefore);
    expect(Object.keys(f.targets.dfdg.effectCounts())).toEqual([]);
    const status = await f.call('GET', `/v1/registrations/${answer.body.id}`);
    const byTarget = Object.fromEntries(status.body.targets.map((t: { target: string }) => [t.target, t]));
    expect(byTarget.dfdg).toMatchObject({ status: 'cancelled', reason: expect.stringContaining(`consent ${grants[0]} was revoked`) });
    expect(byTarget.education).toMatchObject({ status: 'delivered' });
    // Another tenant cannot cancel by naming the grant.
    expect(await cancelDeliveriesForRevokedConsent(f.deps, '202', grants[1]!)).toEqual({ cancelled: 0, kept: 0 });
  });

  it('keeps per-citizen order: a later row waits for an earlier undelivered one to the same target', async () => {
    const a = await employmentCase();
    const b = await employmentCase();
    f.targets.dfdg.setFaults({ errorRate: 1 });
    const first = await addIntervention(a.plan.id, a.plan.memberId, 'Først');
    expect(await f.relay()).toMatchObject({ retried: 1 });
    f.targets.dfdg.setFaults({ errorRate: 0 });
    const second = await addIntervention(a.plan.id, a.plan.memberId, 'Derefter');
    const other = await addIntervention(b.plan.id, b.plan.memberId, 'Anden borger');
    // The first row waits for its backoff; the second must not overtake it; the other citizen is not held up.
    const now = await f.relay();
    expect(now).toMatchObject({ delivered: 1 });
    expect(f.targets.dfdg.effects().map((e) => e.registrationId)).toEqual([other.body.id]);
    await f.drain();
    const order = f.targets.dfdg.effects().map((e) => e.registrationId);
    expect(order.indexOf(first.body.id)).toBeLessThan(order.indexOf(second.body.id));
    expect(order).toHaveLength(3);
  });

  it('backs off with jitter on transient failures and shows attempts, next try and last error', async () => {
    const { plan } = await employmentCase();
    f.targets.dfdg.setFaults({ errorRate: 1 });
    const answer = await addIntervention(plan.id, plan.memberId);
    const t0 = f.clock.now().getTime();
    await f.relay();
    await f.relay(); // not due yet: nothing happens
    let status = (await f.call('GET', `/v1/registrations/${answer.body.id}`)).body.targets[0];
    expect(status).toMatchObject({ status: 'retrying', attempts: 1, lastError: expect.stringContaining('dfdg (http-503)') });
    // Full jitter with random() = 0.5 and base 2 s: 1 s after the first failure.
    expect(Date.parse(status.nextAttemptAt) - t0).toBe(1_000);
    f.clock.advance(1_000);
    await f.relay();
    status = (await f.call('GET', `/v1/registrations/${answer.body.id}`)).body.targets[0];
    expect(status.attempts).toBe(2);
    expect(Date.parse(status.nextAttemptAt) - f.clock.now().getTime()).toBe(2_000);
    f.targets.dfdg.setFaults({ errorRate: 0 });
    await f.drain();
    expect((await f.call('GET', `/v1/registrations/${answer.body.id}`)).body.targets[0]).toMatchObject({ status: 'delivered', attempts: 3 });
  });

  it('shows IT staff since when the oldest registration waits per target (overview, /metrics, dashboard), and nothing once delivered', async () => {
    const { plan } = await employmentCase();
    f.targets.dfdg.setFaults({ errorRate: 1 });
    const acceptedAt = f.clock.now().toISOString();
    await addIntervention(plan.id, plan.memberId);
    await f.relay();
    f.clock.advance(60 * 60_000);
    await addIntervention(plan.id, plan.memberId, 'Løntilskud');
    const overview = await monitoringOverview(f.deps, '101');
    expect(overview.outboxOldestWaiting).toEqual({ dfdg: acceptedAt });
    expect(toPrometheus(overview)).toContain(`enplan_outbox_oldest_waiting_timestamp_seconds{tenant="101",target="dfdg"} ${Math.floor(Date.parse(acceptedAt) / 1000)}`);
    expect(String(Dashboard({ overview, deadLetters: [], quarantine: [], requests: [] }))).toContain(`Oldest waiting: dfdg since ${localTime(acceptedAt)}`);
    // Another municipality's figures hold none of it.
    expect((await monitoringOverview(f.deps, '202')).outboxOldestWaiting).toEqual({});
    f.targets.dfdg.setFaults({ errorRate: 0 });
    await f.drain();
    const after = await monitoringOverview(f.deps, '101');
    expect(after.outboxOldestWaiting).toEqual({});
    expect(toPrometheus(after)).not.toMatch(/enplan_outbox_oldest_waiting_timestamp_seconds\{/);
    expect(String(Dashboard({ overview: after, deadLetters: [], quarantine: [], requests: [] }))).not.toContain('Oldest waiting');
  });

  it('honours Retry-After', async () => {
    const { plan } = await employmentCase();
    f.targets.dfdg.setFaults({ retryAfterSeconds: 120 });
    const answer = await addIntervention(plan.id, plan.memberId);
    await f.relay();
    const status = (await f.call('GET', `/v1/registrations/${answer.body.id}`)).body.targets[0];
    expect(Date.parse(status.nextAttemptAt) - f.clock.now().getTime()).toBe(120_000);
  });

  it('dead-letters after the attempt limit, saying why', async () => {
    const { plan } = await employmentCase();
    f.targets.dfdg.setFaults({ errorRate: 1 });
    const answer = await addIntervention(plan.id, plan.memberId);
    const totals = await f.drain(20, { backoff: { maxAttempts: 3 } });
    expect(totals).toMatchObject({ retried: 2, dead: 1 });
    const status = (await f.call('GET', `/v1/registrations/${answer.body.id}`)).body.targets[0];
    expect(status).toMatchObject({ status: 'dead', attempts: 3, reason: expect.stringMatching(/^gave up after 3 attempts; last error: dfdg \(http-503\)/) });
  });

  it('dead-letters a permanent refusal with a readable reason; the API retry delivers it exactly once after the fix', async () => {
    const { plan } = await employmentCase();
    f.targets.dfdg.setFaults({ refuseWith: 'ActivationTypeIdentifier VJT is not allowed for this citizen' });
    const answer = await addIntervention(plan.id, plan.memberId);
    expect(await f.relay()).toMatchObject({ dead: 1 });
    const outboxId = answer.body.deliveries[0].outboxId;
    const dead = await f.call('GET', '/v1/outbox?status=dead', { role: 'it-staff' });
    expect(dead.status).toBe(200);
    const item = dead.body.items.find((i: { outboxId: string }) => i.outboxId === outboxId);
    expect(item).toMatchObject({ status: 'dead', reason: 'dfdg refused it (http-422): dfdg refused the operation: ActivationTypeIdentifier VJT is not allowed for this citizen' });
    expect(dead.body.counts.dead).toBeGreaterThanOrEqual(1);

    // Still broken: the retry answers with the new dead letter.
    const stillBroken = await f.call('POST', `/v1/outbox/${outboxId}/retry`, { role: 'it-staff' });
    expect(stillBroken.status).toBe(200);
    expect(stillBroken.body).toMatchObject({ attempt: 'dead', item: { status: 'dead', attempts: 2 } });

    f.targets.dfdg.setFaults({ refuseWith: null });
    const retried = await f.call('POST', `/v1/outbox/${outboxId}/retry`, { role: 'it-staff' });
    expect(retried.body).toMatchObject({ attempt: 'delivered', item: { status: 'delivered', attempts: 3 } });
    await f.drain();
    expect(f.targets.dfdg.effectCounts()).toEqual({ [outboxId]: 1 });
    const again = await f.call('POST', `/v1/outbox/${outboxId}/retry`, { role: 'it-staff' });
    expect(again.status).toBe(409);
    expect(again.body.type).toBe('/problems/outbox-not-retryable');
    const audit = await f.deps.store.audit.list('101', { citizenId: plan.citizenId });
    expect(audit.filter((a) => a.action === 'delivery.retry-requested')).toHaveLength(2);
  });

  it('dead-letters a row no reverse mapping can express, naming the gap', async () => {
    const { plan } = await employmentCase();
    const answer = await addIntervention(plan.id, plan.memberId);
    const none = reverseMappingRegistry([]);
    expect(await createRelay(f.deps, f.relayOptions({ reverseMappings: none })).runOnce()).toMatchObject({ dead: 1 });
    const status = (await f.call('GET', `/v1/registrations/${answer.body.id}`)).body.targets[0];
    expect(status.reason).toBe('no reverse mapping turns intervention.upsert into a dfdg operation; deploy one, then retry');
    const refusing = reverseMappingRegistry([{ target: 'dfdg', operations: ['goal.upsert'], mapping: { id: 'm', version: '1.0.0', adapter: 'dfdg', operation: 'x', map: () => ({ ok: false, reason: 'DFDG has no field for it' }) } }]);
    const goal = await f.register({ planId: plan.id, kind: 'goal.added', goal: { level: 'overall', title: 'Job', sector: 'employment' } });
    await createRelay(f.deps, f.relayOptions({ reverseMappings: refusing })).runOnce();
    expect((await f.call('GET', `/v1/registrations/${goal.body.id}`)).body.targets[0].reason).toBe('reverse mapping m@1.0.0 cannot express it for dfdg: DFDG has no field for it');
    expect(f.targets.dfdg.requests()).toBe(0);
  });

  it('lets only one of two concurrent relays deliver a row (lease), so each row is pushed once', async () => {
    const cases = await Promise.all(Array.from({ length: 6 }, () => employmentCase()));
    for (const c of cases) await addIntervention(c.plan.id, c.plan.memberId);
    const [r1, r2] = await Promise.all([f.relay(), f.relay()]);
    expect(r1.delivered + r2.delivered).toBe(6);
    expect(f.targets.dfdg.requests()).toBe(6);
  });

  it('re-delivers under the same key after a lost reply; the target applies it once', async () => {
    const { plan } = await employmentCase();
    f.targets.dfdg.setFaults({ malformedRate: 1 });
    const answer = await addIntervention(plan.id, plan.memberId);
    await f.relay();
    f.targets.dfdg.setFaults({ malformedRate: 0 });
    await f.drain();
    const outboxId = answer.body.deliveries[0].outboxId;
    expect(f.targets.dfdg.requests()).toBe(2);
    expect(f.targets.dfdg.effectCounts()).toEqual({ [outboxId]: 1 });
    expect((await f.call('GET', `/v1/registrations/${answer.body.id}`)).body.targets[0]).toMatchObject({ status: 'delivered', receipt: { duplicate: true } });
  });
});

describe('delivery bookkeeping', () => {
  it('marks a delivery done only together with its audit entry: if that write fails, the row comes due again and the log gets it once', async () => {
    const { plan } = await employmentCase();
    const answer = await addIntervention(plan.id, plan.memberId);
    const outboxId = answer.body.deliveries[0].outboxId as string;
    // The audit insert fails (a full disk, say) after the target took the registration.
    const db = f.deps.store.database.db;
    await db.run(sql.raw(`CREATE TRIGGER audit_fails BEFORE INSERT ON audit_log WHEN NEW.action = 'delivery.delivered' BEGIN SELECT RAISE(ABORT, 'the disk is full'); END`));
    try {
      // Recorded per push: the failure is that row's alone (logged), and the run goes on.
      expect(await f.relay()).toMatchObject({ delivered: 0 });
    } finally {
      await db.run(sql.raw('DROP TRIGGER audit_fails'));
    }
    expect(f.targets.dfdg.effectCounts()).toEqual({ [outboxId]: 1 });
    const logged = async () => (await f.deps.store.audit.list('101', { citizenId: plan.citizenId })).filter((a) => a.action === 'delivery.delivered' && a.targetId === outboxId).length;
    expect(await logged()).toBe(0);
    expect((await f.call('GET', `/v1/registrations/${answer.body.id}`)).body.targets[0].status).not.toBe('delivered');
    // After the lease, the same key again: the target applies it once, and the log has it once.
    await f.drain();
    expect(f.targets.dfdg.effectCounts()).toEqual({ [outboxId]: 1 });
    expect((await f.call('GET', `/v1/registrations/${answer.body.id}`)).body.targets[0]).toMatchObject({ status: 'delivered', receipt: { duplicate: true } });
    expect(await logged()).toBe(1);
  });
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('a dead letter replayed after a newer delivery of the same element (F4, R18)', () => {
  it('refuses to retry a dead row a later delivery of the same element superseded: the target keeps the newer content', async () => {
    const { plan } = await employmentCase();
    f.targets.dfdg.setFaults({ refuseWith: 'target validation failed for a while' });
    const added = await f.register({ planId: plan.id, kind: 'intervention.added', intervention: employmentIntervention(plan.memberId, { title: 'v1' }) });
    expect(await f.relay()).toMatchObject({ dead: 1 });
    f.targets.dfdg.setFaults({ refuseWith: null });
    const changed = await f.register({ planId: plan.id, kind: 'intervention.changed', interventionId: added.body.elementId, changes: { title: 'v2' } });
    await f.drain();
    const deadId = added.body.deliveries[0].outboxId as string;
    const retried = await f.call('POST', `/v1/outbox/${deadId}/retry`, { role: 'it-staff' });
    expect(retried.status).toBe(409);
    expect(retried.body).toMatchObject({ type: '/problems/outbox-not-retryable', detail: expect.stringMatching(/superseded by delivery .* of the same element, delivered with newer content/) });
    await f.drain();
    const order = f.targets.dfdg.effects().map((e) => e.registrationId);
    expect(order).toEqual([changed.body.id]);
    expect((await f.deps.store.outbox.get('101', deadId))!.status).toBe('dead');
    const audit = await f.deps.store.audit.list('101', { citizenId: plan.citizenId });
    expect(audit.filter((a) => a.action === 'delivery.retry-requested')).toHaveLength(0);
  });

  it('refuses it too while the later delivery is still on its way, and retries it when the later one is dead as well (in order)', async () => {
    const { plan } = await employmentCase();
    f.targets.dfdg.setFaults({ refuseWith: 'not yet' });
    const added = await f.register({ planId: plan.id, kind: 'intervention.added', intervention: employmentIntervention(plan.memberId, { title: 'v1' }) });
    expect(await f.relay()).toMatchObject({ dead: 1 });
    f.targets.dfdg.setFaults({ refuseWith: null, errorRate: 1 });
    const changed = await f.register({ planId: plan.id, kind: 'intervention.changed', interventionId: added.body.elementId, changes: { title: 'v2' } });
    expect(await f.relay()).toMatchObject({ retried: 1 });
    const first = added.body.deliveries[0].outboxId as string;
    const waiting = await f.call('POST', `/v1/outbox/${first}/retry`, { role: 'it-staff' });
    expect(waiting.status).toBe(409);
    expect(waiting.body.detail).toMatch(/superseded by delivery .* of the same element, waiting to go with newer content/);
    // Both dead: the older one may go first, then the newer one lands last.
    f.targets.dfdg.setFaults({ errorRate: 0, refuseWith: 'still no' });
    await f.drain();
    f.targets.dfdg.setFaults({ refuseWith: null });
    expect((await f.call('POST', `/v1/outbox/${first}/retry`, { role: 'it-staff' })).body).toMatchObject({ attempt: 'delivered' });
    expect((await f.call('POST', `/v1/outbox/${changed.body.deliveries[0].outboxId}/retry`, { role: 'it-staff' })).body).toMatchObject({ attempt: 'delivered' });
    expect(f.targets.dfdg.effects().map((e) => e.registrationId)).toEqual([added.body.id, changed.body.id]);
  });

  it('never sends a superseded row, even requeued behind the API’s back: a target addressed by receipt keeps one resource per element', async () => {
    const { plan } = await employmentCase();
    const pushed: { key: string; payload: { id?: string; registrationId?: string } }[] = [];
    const inner = f.deps.adapters.dfdg!;
    const recording = { ...inner, push: (op: PushOperation, key: string) => (pushed.push({ key, payload: op.payload as never }), inner.push(op, key)) };
    const deps = { ...f.deps, adapters: { ...f.deps.adapters, dfdg: recording } };
    const byReceipt = reverseMappingRegistry([
      {
        target: 'dfdg',
        operations: ['intervention.upsert'],
        addressBy: 'receipt',
        mapping: { id: 'fhir-like', version: '1.0.0', adapter: 'dfdg', operation: 'enplan.element', map: (o: Outbound) => ({ ok: true as const, payload: { registrationId: o.registrationId, elementId: o.elementId } }) },
      },
    ]);
    const relay = () => createRelay(deps, f.relayOptions({ reverseMappings: byReceipt })).runOnce();
    f.targets.dfdg.setFaults({ refuseWith: 'nope for now' });
    const added = await f.register({ planId: plan.id, kind: 'intervention.added', intervention: employmentIntervention(plan.memberId, { title: 'v1' }) });
    expect(await relay()).toMatchObject({ dead: 1 });
    pushed.length = 0; // the refused try created nothing
    f.targets.dfdg.setFaults({ refuseWith: null });
    const changed = await f.register({ planId: plan.id, kind: 'intervention.changed', interventionId: added.body.elementId, changes: { title: 'v2' } });
    expect(await relay()).toMatchObject({ delivered: 1 });
    const deadId = added.body.deliveries[0].outboxId as string;
    await f.deps.store.outbox.requeueStatement('101', deadId, f.clock.now().toISOString());
    expect(await relay()).toEqual({ delivered: 0, retried: 0, dead: 0, cancelled: 1 });
    const creates = pushed.filter((p) => p.payload.id === undefined && (p.payload.registrationId === added.body.id || p.payload.registrationId === changed.body.id));
    expect(new Set(creates.map((c) => c.key)).size).toBe(1);
    expect(f.targets.dfdg.effects().map((e) => e.registrationId)).toEqual([changed.body.id]);
    const row = (await f.deps.store.outbox.get('101', deadId))!;
    expect(row).toMatchObject({ status: 'cancelled', lastError: expect.stringMatching(/^superseded by delivery /) });
    const audit = await f.deps.store.audit.list('101', { citizenId: plan.citizenId });
    expect(audit.filter((a) => a.action === 'delivery.superseded' && a.targetId === deadId)).toHaveLength(1);
  });
});

describe('leases and the run’s own slowness (F4, R13)', () => {
  it('logs a delivery once when a second relay takes over a row whose lease ran out mid-push', async () => {
    const { plan } = await employmentCase();
    f.targets.dfdg.setFaults({ latencyMs: 300 });
    const answer = await addIntervention(plan.id, plan.memberId);
    const outboxId = answer.body.deliveries[0].outboxId as string;
    const r1 = f.relay();
    await sleep(100);
    // The push takes "longer than the lease" (only a moved clock can do that: a push is cut at the lease's end).
    f.clock.advance(11_000);
    const r2 = f.relay();
    const [a, b] = await Promise.all([r1, r2]);
    expect(a.delivered + b.delivered).toBe(1);
    const logged = (await f.deps.store.audit.list('101', { citizenId: plan.citizenId })).filter((e) => e.action === 'delivery.delivered' && e.targetId === outboxId);
    // Two requests under one key: the target applies it once, and the citizen's log shows it once.
    expect({ requests: f.targets.dfdg.requests(), effects: f.targets.dfdg.effectCounts(), logged: logged.length }).toEqual({ requests: 2, effects: { [outboxId]: 1 }, logged: 1 });
  });

  it('claims a run’s rows wave by wave, so a row waiting behind slow pushes is never pushed under an expired lease', async () => {
    const cases = [await employmentCase(), await employmentCase(), await employmentCase()];
    f.targets.dfdg.setFaults({ latencyMs: 300 });
    const ids: string[] = [];
    for (const c of cases) ids.push((await addIntervention(c.plan.id, c.plan.memberId)).body.deliveries[0].outboxId);
    const r1 = f.relay({ concurrency: 1 });
    await sleep(100);
    // Each push takes 300 ms; the first wave's lease ends while it runs (clock moved), but the rows behind it were never claimed.
    f.clock.advance(11_000);
    const r2 = f.relay({ concurrency: 1 });
    await Promise.all([r1, r2]);
    const effects = f.targets.dfdg.effectCounts();
    expect(Object.keys(effects).sort()).toEqual([...ids].sort());
    // Each row went once: the second relay took the rows the first had not claimed yet, and the
    // first row only after the first relay had recorded it (so not at all).
    expect(f.targets.dfdg.requests()).toBe(3);
    for (const id of ids) {
      const row = (await f.deps.store.outbox.get('101', id))!;
      expect(row.status).toBe('delivered');
      const logged = (await f.deps.store.audit.list('101', { citizenId: row.citizenId })).filter((e) => e.action === 'delivery.delivered' && e.targetId === id);
      expect(logged).toHaveLength(1);
    }
  });
});

describe('recording deliveries as their pushes return', () => {
  it('writes deliveries that return together in one batch, and leaves out only a row recorded meanwhile', async () => {
    const cases = await Promise.all(Array.from({ length: 5 }, () => employmentCase()));
    const ids: string[] = [];
    for (const c of cases) ids.push((await addIntervention(c.plan.id, c.plan.memberId)).body.deliveries[0].outboxId);
    f.targets.dfdg.setFaults({ latencyMs: 200 });
    const audit = f.deps.store.audit;
    const appendMany = audit.appendMany.bind(audit);
    const batches: number[] = [];
    // A slow disk: while one delivery is written, the others return and wait for the next batch.
    audit.appendMany = async (tenant, entries, alongWith) => {
      batches.push(entries.filter((e) => e.action === 'delivery.delivered').length);
      await sleep(50);
      return appendMany(tenant, entries, alongWith);
    };
    try {
      const run = f.relay();
      await sleep(100);
      // Another relay (its lease ran out on ours) recorded this one while our push was on its way.
      const taken = ids[2]!;
      await f.deps.store.outbox.markDelivered('101', taken, { targetId: 'elsewhere', duplicate: false }, f.clock.now().toISOString());
      expect(await run).toMatchObject({ delivered: 4 });
      expect(batches.some((n) => n > 1)).toBe(true);
      for (const id of ids) {
        const row = (await f.deps.store.outbox.get('101', id))!;
        const logged = (await f.deps.store.audit.list('101', { citizenId: row.citizenId })).filter((e) => e.action === 'delivery.delivered' && e.targetId === id);
        expect({ id, status: row.status, logged: logged.length }).toEqual({ id, status: 'delivered', logged: id === taken ? 0 : 1 });
      }
      expect(JSON.parse((await f.deps.store.outbox.get('101', taken))!.receipt!)).toMatchObject({ targetId: 'elsewhere' });
    } finally {
      audit.appendMany = appendMany;
    }
  });
});

describe('outbox API roles and tenants', () => {
  it('is for it-staff only and scoped to the municipality', async () => {
    const { plan } = await employmentCase();
    f.targets.dfdg.setFaults({ refuseWith: 'nej' });
    const answer = await addIntervention(plan.id, plan.memberId);
    await f.relay();
    const outboxId = answer.body.deliveries[0].outboxId;
    for (const role of ['caseworker', 'vendor', 'sync-job', 'citizen'] as const) {
      expect((await f.call('GET', '/v1/outbox', { role })).status).toBe(role === 'citizen' ? 401 : 403);
      expect((await f.call('POST', `/v1/outbox/${outboxId}/retry`, { role })).status).toBe(role === 'citizen' ? 401 : 403);
    }
    const foreign = await f.call('POST', `/v1/outbox/${outboxId}/retry`, { role: 'it-staff', tenant: '202' });
    expect(foreign.status).toBe(404);
    const foreignList = await f.call('GET', '/v1/outbox', { role: 'it-staff', tenant: '202' });
    expect(foreignList.body.items.some((i: { outboxId: string }) => i.outboxId === outboxId)).toBe(false);
    expect((await f.deps.store.outbox.get('101', outboxId))!.status).toBe('dead');
    expect((await f.call('GET', '/v1/outbox?status=bogus', { role: 'it-staff' })).status).toBe(400);
  });
});

describe('a CPR ciphertext copied into another citizen’s row', () => {
  it('is refused at delivery, in the same municipality or another: dead-lettered with the reason, nothing pushed under another person’s number', async () => {
    const owner = await employmentCase();
    const sameMunicipality = await employmentCase();
    const otherMunicipality = await f.createPlan({ tenant: '202' });
    await f.grantAll(otherMunicipality.citizenId, { tenant: '202' });
    const ownerCipher = (await f.deps.store.citizens.get('101', owner.plan.citizenId))!.cprCipher;
    for (const plan of [sameMunicipality.plan, otherMunicipality]) await f.app.database.db.update(citizens).set({ cprCipher: ownerCipher }).where(eq(citizens.id, plan.citizenId));
    const registered = [
      { tenant: '101', answer: await addIntervention(sameMunicipality.plan.id, sameMunicipality.plan.memberId) },
      { tenant: '202', answer: await f.register({ planId: otherMunicipality.id, kind: 'intervention.added', intervention: employmentIntervention(otherMunicipality.memberId) }, { tenant: '202' }) },
    ];
    for (const { answer } of registered) expect(answer.status).toBe(202);
    expect(await f.relay()).toEqual({ delivered: 0, retried: 0, dead: 2, cancelled: 0 });
    expect(f.targets.dfdg.requests()).toBe(0);
    for (const { tenant, answer } of registered) {
      const status = await f.call('GET', `/v1/registrations/${answer.body.id}`, { tenant });
      expect(status.body.targets[0]).toMatchObject({ status: 'dead', reason: expect.stringContaining('sealed for another citizen or municipality') });
    }
  });
});
