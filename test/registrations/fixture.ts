/**
 * What the push-side tests share: an in-process app on libSQL whose four targets are push-target
 * simulators over real HTTP, a clock the test moves, and helpers to make plans, consents and
 * registrations through the API.
 */
import { expect } from 'vitest';
import type { Clock } from '../../src/api/context';
import { createRelay, type DeliveryDeps, type RelayOptions } from '../../src/delivery';
import type { ConsentGrant, DataCategory, Recipient, SourceSystem } from '../../src/model';
import type { Role } from '../../src/security';
import { testCpr } from '../support/cpr';
import { startTestApp } from '../support/node-app';
import { passThroughMappings, pushTargetAdapter, startPushTarget, type PushTarget } from '../support/push-target';

export const TARGETS: SourceSystem[] = ['dfdg', 'education', 'social', 'health'];

export class TestClock implements Clock {
  constructor(private ms = Date.parse('2026-11-23T10:00:00.000Z')) {}
  now() {
    return new Date(this.ms);
  }
  advance(ms: number) {
    this.ms += ms;
  }
}

export const at = (clock: Clock) => clock.now().toISOString();

export async function startPushFixture(options: { url?: string; timeoutMs?: number; seed?: number } = {}) {
  const targets = Object.fromEntries(
    await Promise.all(TARGETS.map(async (t, i) => [t, await startPushTarget({ name: t, seed: (options.seed ?? 1) + i, hangMs: 5_000 })] as const)),
  ) as Record<SourceSystem, PushTarget>;
  const clock = new TestClock();
  const adapters = Object.fromEntries(TARGETS.map((t) => [t, pushTargetAdapter(t, targets[t].url, options.timeoutMs ?? 1_000)]));
  const app = await startTestApp({ clock, adapters, url: options.url });
  const mappings = passThroughMappings(TARGETS);
  const relayOptions = (extra: RelayOptions = {}): RelayOptions => ({ reverseMappings: mappings, leaseMs: 10_000, pushTimeoutMs: 3_000, random: () => 0.5, ...extra });
  // What the API's retry uses: the same mappings and timings as the test's relay runs.
  (app.deps as DeliveryDeps).delivery = relayOptions();
  const relay = (extra: RelayOptions = {}) => createRelay(app.deps, relayOptions(extra)).runOnce();
  const h = app.harness;

  async function call(method: string, path: string, options: { role?: Role; tenant?: string; body?: unknown; key?: string | null } = {}) {
    const token = await h.token({ tenant: options.tenant ?? '101', roles: [options.role ?? 'caseworker'] });
    const headers: Record<string, string> = { authorization: `Bearer ${token}` };
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    if (options.key) headers['idempotency-key'] = options.key;
    const response = await h.request(path, { method, headers, body: options.body === undefined ? undefined : JSON.stringify(options.body) });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : null };
  }

  async function createPlan(options: { tenant?: string; replaces?: string[]; birthDate?: string; family?: { birthDate: string; role: string }[] } = {}) {
    const created = await call('POST', '/v1/plans', {
      tenant: options.tenant,
      body: {
        cpr: testCpr(options.birthDate),
        origin: 'offered',
        role: options.family ? 'parent' : 'adult',
        replaces: (options.replaces ?? []).map((planType) => ({ planType, relation: 'replaces' })),
        family: options.family ? { members: options.family.map((m) => ({ cpr: testCpr(m.birthDate), role: m.role })) } : undefined,
      },
    });
    expect(created.status).toBe(201);
    const plan = created.body as { id: string; version: number; subject: { kind: string; member?: { memberId: string; citizenId: string }; members?: { memberId: string; citizenId: string; role: string }[] } };
    const members = plan.subject.kind === 'citizen' ? [plan.subject.member!] : plan.subject.members!;
    return { id: plan.id, version: plan.version, members, citizenId: members[0]!.citizenId, memberId: members[0]!.memberId };
  }

  /** Grants the Én plan consent to send `categories` to `recipient` for a citizen. */
  async function grant(citizenId: string, recipient: Recipient, categories: DataCategory[], extra: Partial<ConsentGrant> & { tenant?: string } = {}) {
    const id = crypto.randomUUID();
    const { tenant, ...rest } = extra;
    const document = {
      kind: 'grant' as const,
      id,
      tenant: tenant ?? '101',
      citizenId,
      grantedBy: { citizenId, capacity: 'self' as const },
      source: 'enplan' as const,
      recipient,
      categories,
      explicitHealth: categories.includes('health'),
      purpose: 'Én plan: registrering én gang',
      validFrom: '2026-01-01',
      signed: { method: 'digital' as const, documentRef: 'doc-1', textVersion: 'v1', language: 'da' },
      createdAt: at(clock),
      ...rest,
    };
    await app.deps.store.consents.insert(document as never);
    return id;
  }

  async function grantAll(citizenId: string, options: { health?: boolean; tenant?: string } = {}) {
    const categories: DataCategory[] = ['plan-core', 'goals', 'interventions'];
    const ids: string[] = [];
    for (const recipient of ['employment', 'education', 'social', 'children', 'integration'] as const) ids.push(await grant(citizenId, recipient, categories, { tenant: options.tenant }));
    if (options.health) ids.push(await grant(citizenId, 'health', ['health'], { tenant: options.tenant }));
    return ids;
  }

  async function revoke(grantId: string, tenant = '101') {
    const current = await app.deps.store.consents.get(tenant, grantId);
    await app.deps.store.consents.replace({ ...current!, revokedAt: at(clock), revokedBy: 'citizen' } as never);
  }

  let keyCounter = 0;
  const newKey = () => `test-key-${crypto.randomUUID()}-${++keyCounter}`;

  async function register(body: Record<string, unknown>, options: { key?: string; role?: Role; tenant?: string } = {}) {
    return call('POST', '/v1/registrations', { body, key: options.key ?? newKey(), role: options.role, tenant: options.tenant });
  }

  /** Runs the relay, moving the clock past every backoff, until nothing is due or `rounds` ran out. */
  async function drain(rounds = 200, extra: RelayOptions = {}) {
    const totals = { delivered: 0, retried: 0, dead: 0, cancelled: 0 };
    for (let i = 0; i < rounds; i++) {
      const result = await relay(extra);
      for (const k of Object.keys(totals) as (keyof typeof totals)[]) totals[k] += result[k];
      const live = ((await app.deps.store.outbox.countByStatus('101')).pending ?? 0) + ((await app.deps.store.outbox.countByStatus('101')).retrying ?? 0);
      const liveOther = ((await app.deps.store.outbox.countByStatus('202')).pending ?? 0) + ((await app.deps.store.outbox.countByStatus('202')).retrying ?? 0);
      if (live + liveOther === 0) break;
      clock.advance(60 * 60_000);
    }
    return totals;
  }

  return {
    app,
    deps: app.deps,
    targets,
    clock,
    mappings,
    relay,
    relayOptions,
    drain,
    call,
    createPlan,
    grant,
    grantAll,
    revoke,
    register,
    newKey,
    async close() {
      await app.close();
      await Promise.all(Object.values(targets).map((t) => t.close()));
    },
  };
}
export type PushFixture = Awaited<ReturnType<typeof startPushFixture>>;

export const employmentIntervention = (memberId: string, extra: Record<string, unknown> = {}) => ({
  sector: 'employment',
  legalBasis: 'LAB § 32',
  type: { system: 'urn:enplan:modelled:dfdg:activation-type', code: 'VJT', display: 'Virksomhedspraktik' },
  title: 'Virksomhedspraktik i detailhandlen',
  responsibleUnit: 'Jobcenter København',
  contact: { name: 'Karin Kontakt' },
  period: { start: '2026-12-01', end: '2027-03-01' },
  memberId,
  ...extra,
});
