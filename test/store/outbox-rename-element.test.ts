/**
 * `outbox.renameElementStatement`: a sync renamed a plan's element (a CarePlan activity moved from its
 * position id to its new id, decision 0003), and that plan's deliveries of it follow — delivered ones
 * (their receipts address the next change), pruned ones, and those still to be sent — only with the
 * plan write that renamed it. Real SQLite (libSQL in memory).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { eq } from 'drizzle-orm';
import { Plan } from '../../src/model';
import { createStore, type Store } from '../../src/store';
import { openLibsqlDatabase } from '../../src/store/libsql';
import { plans, registrations } from '../../src/store/schema';
import type { OutboxStatus } from '../../src/store/outbox';
import { validPlan } from '../support/plans';

const FROM = 'health:careplan:cp-1:activity:0';
const TO = 'health:careplan:cp-1:activity:key-0123456789abcdef';
const OTHER = 'health:careplan:cp-1:activity:1';
const AT = '2026-11-24T08:00:00.000Z';
const WRITE_ID = 'write-that-renamed';

let store: Store | undefined;
afterEach(async () => {
  await store?.close();
  store = undefined;
});

/** A row's payload as the registration service writes it: the outbound element, and the route. */
const payloadOf = (planId: string, elementId: string) =>
  JSON.stringify({
    outbound: { operation: 'intervention.upsert', planId, citizenId: 'citizen-1', elementId, element: { type: 'intervention', intervention: { id: elementId, title: 'Koordinerende samtale' } } },
    route: { recipient: 'health', category: 'health', ruleIds: ['health-to-health'], basis: 'consent' },
  });

async function seeded() {
  const s = createStore(await openLibsqlDatabase(':memory:'));
  store = s;
  const { db } = s.database;
  for (const id of ['plan-1', 'plan-2']) await s.plans.insert(Plan.parse(validPlan({ id })));
  await db.update(plans).set({ writeId: WRITE_ID }).where(eq(plans.id, 'plan-1'));
  let n = 0;
  /** One registration of the plan with one outbox row in this state. */
  const row = async (options: { planId?: string; tenant?: string; elementId?: string; status: OutboxStatus; pruned?: boolean }) => {
    const { planId = 'plan-1', tenant = '101', elementId = FROM, status } = options;
    const id = `row-${++n}`;
    await db.insert(registrations).values({ id: `registration-${n}`, tenant, planId, kind: 'intervention.changed', idempotencyKey: `key-${n}`, bodyHash: 'h', document: '{}', response: '{}', actor: 'caseworker', createdAt: AT });
    await s.outbox.insertStatement({ id, tenant, registrationId: `registration-${n}`, citizenId: 'citizen-1', target: 'health', operation: 'intervention.upsert', payload: payloadOf(planId, elementId), nextAttemptAt: AT, consentRef: 'grant-1', createdAt: AT });
    if (status !== 'pending') await s.outbox.requeueStatement(tenant, id, AT); // pending → retrying first
    if (status === 'delivered' || status === 'cancelled' || status === 'dead') {
      const mark = status === 'delivered' ? s.outbox.markDeliveredStatement(tenant, id, { targetId: `sr-${n}`, version: '1' }, AT) : status === 'dead' ? s.outbox.markDeadStatement(tenant, id, 'refused', AT) : s.outbox.markCancelledStatement(tenant, id, 'no consent', AT);
      await mark;
    }
    if (options.pruned) await s.outbox.prunePayloads(tenant, '2099-01-01T00:00:00.000Z');
    return id;
  };
  return { s, row };
}

/** The element the row is about, and the element id its content would send. */
async function elementsOf(s: Store, id: string, tenant = '101') {
  const stored = (await s.outbox.get(tenant, id))!;
  const payload = JSON.parse(stored.payload!) as { outbound: { elementId: string; element?: { intervention: { id: string } } } };
  return { status: stored.status, about: payload.outbound.elementId, sends: payload.outbound.element?.intervention.id };
}

describe('the deliveries of an element a sync renamed', () => {
  it('follow it: every row of the plan is about the new id; rows still to be sent send it; a delivered row keeps what was sent', async () => {
    const { s, row } = await seeded();
    const delivered = await row({ status: 'delivered' });
    const pending = await row({ status: 'pending' });
    const retrying = await row({ status: 'retrying' });
    const dead = await row({ status: 'dead' });
    const cancelled = await row({ status: 'cancelled' });
    await s.outbox.renameElementStatement('101', 'citizen-1', 'plan-1', FROM, TO, { writeId: WRITE_ID });

    expect(await elementsOf(s, delivered)).toEqual({ status: 'delivered', about: TO, sends: FROM });
    expect(await elementsOf(s, pending)).toEqual({ status: 'pending', about: TO, sends: TO });
    expect(await elementsOf(s, retrying)).toEqual({ status: 'retrying', about: TO, sends: TO });
    // Dead: IT staff may send it again.
    expect(await elementsOf(s, dead)).toEqual({ status: 'dead', about: TO, sends: TO });
    expect(await elementsOf(s, cancelled)).toEqual({ status: 'cancelled', about: TO, sends: FROM });
    // The receipt stays with the row, now found under the new id.
    expect(JSON.parse((await s.outbox.get('101', delivered))!.receipt!)).toEqual({ targetId: 'sr-1', version: '1' });
  });

  it('follow it when retention pruned the payload, which no longer names the plan', async () => {
    const { s, row } = await seeded();
    const pruned = await row({ status: 'delivered', pruned: true });
    expect(await elementsOf(s, pruned)).toEqual({ status: 'delivered', about: FROM, sends: undefined });
    await s.outbox.renameElementStatement('101', 'citizen-1', 'plan-1', FROM, TO, { writeId: WRITE_ID });
    expect(await elementsOf(s, pruned)).toEqual({ status: 'delivered', about: TO, sends: undefined });
  });

  it('leave alone another element, the same element in another plan of the citizen, and another municipality', async () => {
    const { s, row } = await seeded();
    const other = await row({ status: 'pending', elementId: OTHER });
    const otherPlan = await row({ status: 'delivered', planId: 'plan-2' });
    const otherTenant = await row({ status: 'delivered', tenant: '147' });
    await s.outbox.renameElementStatement('101', 'citizen-1', 'plan-1', FROM, TO, { writeId: WRITE_ID });
    expect(await elementsOf(s, other)).toMatchObject({ about: OTHER, sends: OTHER });
    expect(await elementsOf(s, otherPlan)).toMatchObject({ about: FROM, sends: FROM });
    expect(await elementsOf(s, otherTenant, '147')).toMatchObject({ about: FROM, sends: FROM });
  });

  it('stay as they were when the plan write that renamed it lost its race', async () => {
    const { s, row } = await seeded();
    const delivered = await row({ status: 'delivered' });
    const pending = await row({ status: 'pending' });
    await s.outbox.renameElementStatement('101', 'citizen-1', 'plan-1', FROM, TO, { writeId: 'a-write-that-lost' });
    expect(await elementsOf(s, delivered)).toMatchObject({ about: FROM, sends: FROM });
    expect(await elementsOf(s, pending)).toMatchObject({ about: FROM, sends: FROM });
  });
});
