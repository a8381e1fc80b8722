/**
 * A later change of an element to a target addressed by receipt (the FHIR targets: social, health)
 * updates the resource the element's first delivery created, however many deliveries of the citizen's
 * other elements went to that target in between. The relay once looked for that receipt among the
 * citizen's newest 200 delivered rows only, and after 200 others the change went out as a create: a
 * second resource at the target for one element. The target here is an adapter that records what it
 * is sent and answers with the id it was given, or a new one (as a FHIR server's create does).
 */
import { afterAll, expect, it } from 'vitest';
import type { PushOperation } from '../../adapters/adapter';
import { createRelay, reverseMappingRegistry } from '../../src/delivery';
import type { Outbound } from '../../src/registrations';
import { TestClock } from '../registrations/fixture';
import { testCpr } from '../support/cpr';
import { startTestApp } from '../support/node-app';
import { enrol, grantPushConsents } from '../support/seed';

const pushes: { key: string; payload: Record<string, unknown> }[] = [];
const recordingSocialTarget = {
  system: 'social',
  async push(op: PushOperation, key: string) {
    pushes.push({ key, payload: op.payload as Record<string, unknown> });
    const id = (op.payload as { id?: string }).id ?? `res-${key}`;
    return { targetId: id, duplicate: false, version: '1' };
  },
} as never;

const registry = reverseMappingRegistry([
  {
    target: 'social',
    operations: ['goal.upsert'],
    addressBy: 'receipt',
    mapping: { id: 'test.social-by-receipt', version: '1.0.0', adapter: 'social', operation: 'enplan.element', map: (o: Outbound) => ({ ok: true as const, payload: { elementId: o.elementId, element: o.element } }) },
  },
]);

let app: Awaited<ReturnType<typeof startTestApp>>;
afterAll(() => app?.close());

it('a change of an element delivered 200 deliveries ago updates the resource its first delivery made', { timeout: 120_000 }, async () => {
  const clock = new TestClock();
  app = await startTestApp({ clock, adapters: { social: recordingSocialTarget } as never });
  (app.deps as { delivery?: unknown }).delivery = { reverseMappings: registry, random: () => 0.5 };
  const plan = await enrol(app.deps, testCpr());
  const citizenId = (plan.subject as { member: { citizenId: string } }).member.citizenId;
  await grantPushConsents(app.deps, citizenId, ['plan-core', 'goals', 'interventions']);
  const token = await app.harness.token({ tenant: '101', roles: ['caseworker'] });
  const register = async (body: unknown) => {
    const r = await app.harness.request('/v1/registrations', { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'idempotency-key': crypto.randomUUID() }, body: JSON.stringify(body) });
    expect(r.status).toBe(202);
    return (await r.json()) as { elementId: string; deliveries: { outboxId: string }[] };
  };
  const relay = () => createRelay(app.deps, { reverseMappings: registry, random: () => 0.5 }).runOnce();

  const first = await register({ planId: plan.id, kind: 'goal.added', goal: { level: 'overall', title: 'Egen bolig', sector: 'social' } });
  await relay();
  const firstResource = `res-${first.deliveries[0]!.outboxId}`;
  // 200 other goals of the same citizen go to the social system.
  for (let i = 0; i < 200; i++) {
    await register({ planId: plan.id, kind: 'goal.added', goal: { level: 'overall', title: `Mål ${i}`, sector: 'social' } });
    if (i % 50 === 49) while ((await relay()).delivered > 0);
  }
  while ((await relay()).delivered > 0);
  pushes.length = 0;

  await register({ planId: plan.id, kind: 'goal.changed', goalId: first.elementId, changes: { title: 'Egen bolig med støtte' } });
  await relay();
  expect(pushes).toHaveLength(1);
  // An update of the first resource, not a create of a second.
  expect(pushes[0]!.payload.id).toBe(firstResource);
});
