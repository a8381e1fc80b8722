/**
 * The job queue in workerd (wrangler.toml's `JOBS` producer and consumer, decision 0020): a
 * registration accepted through the worker is delivered to DFDG (the simulator on loopback) by the
 * queue consumer, with no Cron Trigger; a scheduled sync cut short by its per-invocation limit goes
 * on through the queue; a message that is not a job is acknowledged and logged, not retried.
 */
import { createExecutionContext, createMessageBatch, env, getQueueResult, SELF } from 'cloudflare:test';
import { sign } from 'hono/jwt';
import { describe, expect, it } from 'vitest';
import { generatePopulation } from '../../adapters/shared/population';
import { activationTypes } from '../../mappings/dfdg';
import type { JobMessage } from '../../src/runtime/job-queue';
import worker, { adaptersToGoOn, buildFor, runJobBatch, scheduledRound, type JobQueueMessage, type WorkerEnv } from '../../src/runtime/worker';
import type { SyncStats } from '../../src/sync/engine';
import { TEST_JWT_SECRET } from '../support/harness';
import { CRON_POPULATION_SEED, CRON_POPULATION_SIZE } from './global-setup';

async function call(method: string, path: string, body?: unknown, roles = ['caseworker'], headers: Record<string, string> = {}) {
  const now = Math.floor(Date.now() / 1000);
  const token = await sign({ sub: 'queue-test', tenant: '101', roles, iat: now, exp: now + 600 }, TEST_JWT_SECRET, 'HS256');
  const response = await SELF.fetch(`https://enplan.test${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}), ...headers },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: response.status, body: (await response.json()) as any };
}

/** A plan for one of the DFDG simulator's citizens, with a consent from `source` to `recipient`. */
async function planWithConsent(cpr: string, source: string, recipient: string, categories: string[], active = false) {
  const created = await call('POST', '/v1/plans', { cpr, origin: 'offered' });
  expect(created.status).toBe(201);
  const planId = created.body.id as string;
  const memberId = created.body.subject.member.memberId as string;
  if (active) {
    await call('POST', `/v1/plans/${planId}/status`, { status: 'accepted' });
    await call('POST', `/v1/plans/${planId}/status`, { status: 'active' });
  }
  const consent = await call('POST', '/v1/consents', {
    planId,
    memberId,
    source,
    recipient,
    categories,
    purpose: 'Koordinering af indsatser i Én plan',
    validFrom: '2026-01-01',
    signed: { method: 'mitid', documentRef: `queue-${source}-${recipient}`, textVersion: 'samtykke-v1', language: 'da' },
    grantedBy: { memberId, capacity: 'self' },
  });
  expect(consent.status, JSON.stringify(consent.body)).toBe(201);
  return { planId, memberId };
}

const citizens = generatePopulation(CRON_POPULATION_SIZE, CRON_POPULATION_SEED);

describe('job queue in workerd', () => {
  it('delivers an accepted registration through the queue consumer, without waiting for a Cron Trigger', { timeout: 30_000 }, async () => {
    const { planId, memberId } = await planWithConsent(citizens[4]!.cpr, 'enplan', 'employment', ['plan-core', 'goals', 'interventions']);
    const accepted = await call(
      'POST',
      '/v1/registrations',
      {
        planId,
        kind: 'intervention.added',
        intervention: {
          sector: 'employment',
          legalBasis: 'LAB § 32',
          type: { system: activationTypes.system, code: activationTypes.codes[0]!.code },
          title: 'Virksomhedspraktik',
          responsibleUnit: 'Jobcenter',
          contact: { name: 'Karin Kontakt' },
          period: { start: '2026-12-01', end: '2027-03-01' },
          memberId,
        },
      },
      ['caseworker'],
      { 'idempotency-key': `queue-${crypto.randomUUID()}` },
    );
    expect(accepted.status, JSON.stringify(accepted.body)).toBe(202);
    expect(accepted.body.deliveries.map((d: { target: string }) => d.target)).toEqual(['dfdg']);
    // Nothing here runs the relay: only the queue message the registration sent can deliver it.
    let deliveries: { target: string; status: string }[] = [];
    for (let i = 0; i < 200; i++) {
      deliveries = (await call('GET', `/v1/registrations/${accepted.body.id}`)).body.targets;
      if (deliveries.every((d) => d.status === 'delivered')) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(deliveries).toMatchObject([{ target: 'dfdg', status: 'delivered' }]);
  });

  it('a scheduled sync cut short by its limit asks for the rest on the queue, and the consumer goes on until done', async () => {
    const planIds: string[] = [];
    for (const citizen of [citizens[5]!, citizens[6]!])
      planIds.push((await planWithConsent(citizen.cpr, 'dfdg', 'enplan', ['plan-core', 'employment', 'goals', 'interventions'], true)).planId);
    // One citizen per invocation, and a queue that keeps what is sent (to hand it to the consumer here).
    const sent: JobMessage[] = [];
    const limited = { ...(env as unknown as WorkerEnv), SYNC_MAX_CITIZENS_PER_RUN: '1', JOBS: { send: async (body: unknown) => void sent.push(body as JobMessage) } };
    const built = await buildFor(limited);
    await scheduledRound(built, 'cron:*/5 * * * *', '*/5 * * * *');
    expect(sent).toEqual([{ kind: 'sync', tenant: '101', adapters: ['dfdg'], trigger: 'cron:*/5 * * * *' }]);

    // The consumer, as the queue would call it: each message one invocation, until nobody is left.
    const message = (body: unknown): JobQueueMessage & { acked: boolean } => ({ id: crypto.randomUUID(), body, attempts: 1, acked: false, ack() { this.acked = true; }, retry() { throw new Error('not retried here'); } });
    for (let round = 0; sent.length > 0; round++) {
      expect(round).toBeLessThan(10);
      const next = message(sent.shift());
      expect(await runJobBatch(built, [next])).toMatchObject({ syncs: 1, refused: 0, retried: 0 });
      expect(next.acked).toBe(true);
    }
    for (const planId of planIds) {
      const plan = await call('GET', `/v1/plans/${planId}`);
      expect([...plan.body.goals, ...plan.body.interventions].some((e: { provenance: { system?: string }[] }) => e.provenance.some((p) => p.system === 'dfdg')), planId).toBe(true);
    }
    const runs = (await call('GET', '/v1/sync/runs', undefined, ['it-staff'])).body.runs as { trigger: string }[];
    expect(runs.some((run) => run.trigger === 'queue:cron:*/5 * * * *')).toBe(true);
  });

  it('goes on at once only with runs that stopped at the limit having read everyone they tried', () => {
    const run = (adapter: 'dfdg' | 'education' | 'social' | 'health', status: 'succeeded' | 'failed', stoppedAtLimit: boolean, pullErrors: number) => ({ adapter, status, stats: { stoppedAtLimit, pullErrors } as SyncStats });
    expect(adaptersToGoOn([run('dfdg', 'succeeded', true, 0), run('education', 'succeeded', false, 0), run('social', 'failed', true, 0), run('health', 'succeeded', true, 3)])).toEqual(['dfdg']);
  });

  it('acknowledges a message that is not a job (logged, never retried) and retries one whose job failed', async () => {
    const ctx = createExecutionContext();
    const batch = createMessageBatch('enplan-jobs', [
      { id: 'not-a-job', timestamp: new Date(), attempts: 1, body: { kind: 'delete-everything' } },
      { id: 'bad-tenant', timestamp: new Date(), attempts: 1, body: { kind: 'relay', tenant: '../101' } },
      { id: 'relay', timestamp: new Date(), attempts: 1, body: { kind: 'relay', tenant: '101' } },
    ]);
    await worker.queue(batch as never, env as never);
    const result = await getQueueResult(batch, ctx);
    expect(result.retryMessages).toEqual([]);
    expect([...result.explicitAcks].sort()).toEqual(['bad-tenant', 'not-a-job', 'relay']);

    // Two requests for the same relay are answered by one run, and both acknowledged.
    const built = await buildFor(env as unknown as WorkerEnv);
    const acked: string[] = [];
    const relay = (id: string): JobQueueMessage => ({ id, body: { kind: 'relay', tenant: '101' }, attempts: 1, ack: () => void acked.push(id), retry: () => expect.fail('not retried') });
    expect(await runJobBatch(built, [relay('a'), relay('b')])).toMatchObject({ relays: 1, refused: 0, retried: 0 });
    expect(acked).toEqual(['a', 'b']);

    // A relay that cannot reach its database is retried later, not acknowledged.
    const broken = await buildFor({ ...(env as unknown as WorkerEnv) });
    broken.deps.store.outbox.tenantsWithDue = () => Promise.reject(new Error('D1 is unavailable'));
    broken.deps.store.outbox.due = () => Promise.reject(new Error('D1 is unavailable'));
    const retried: { delaySeconds?: number }[] = [];
    const failing: JobQueueMessage = { id: 'x', body: { kind: 'relay', tenant: '101' }, attempts: 1, ack: () => expect.fail('a failed job must not be acknowledged'), retry: (options) => void retried.push(options ?? {}) };
    expect(await runJobBatch(broken, [failing])).toMatchObject({ retried: 1 });
    expect(retried).toEqual([{ delaySeconds: 30 }]);
  });
});
