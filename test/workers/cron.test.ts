/**
 * The Cron Trigger path in workerd: the worker's `scheduled` handler pulls from the DFDG simulator
 * (a Node server on loopback) for the enrolled citizen and merges into the plan on D1 — on the cron
 * the adapter is scheduled on (SYNC_CRON), and not on another; retention on RETENTION_CRON.
 */
import { createExecutionContext, createScheduledController, env, SELF, waitOnExecutionContext } from 'cloudflare:test';
import { sign } from 'hono/jwt';
import { describe, expect, it } from 'vitest';
import { generatePopulation } from '../../adapters/shared/population';
import worker, { SECTOR_CERTIFICATE_BINDING } from '../../src/runtime/worker';
import { TEST_JWT_SECRET } from '../support/harness';
import { CRON_POPULATION_SEED } from './global-setup';

/** The stand-in for the mTLS certificate binding (test/workers/vitest.config.ts). */
const certificateBinding = () => (env as unknown as Record<string, Fetcher>)[SECTOR_CERTIFICATE_BINDING]!;

async function call(method: string, path: string, body?: unknown, roles = ['caseworker']) {
  const now = Math.floor(Date.now() / 1000);
  const token = await sign({ sub: 'cron-test', tenant: '101', roles, iat: now, exp: now + 600 }, TEST_JWT_SECRET, 'HS256');
  const response = await SELF.fetch(`https://enplan.test${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: response.status, body: (await response.json()) as any };
}

describe('Cron Trigger in workerd', () => {
  it('runs one sync against the simulator and merges into D1', async () => {
    // Two citizens: one chunk merges and writes both plans in one D1 batch.
    const planIds: string[] = [];
    for (const citizen of generatePopulation(5, CRON_POPULATION_SEED).slice(0, 2)) {
      const created = await call('POST', '/v1/plans', { cpr: citizen.cpr, origin: 'offered' });
      expect(created.status).toBe(201);
      const planId = created.body.id as string;
      const memberId = created.body.subject.member.memberId as string;
      await call('POST', `/v1/plans/${planId}/status`, { status: 'accepted' });
      await call('POST', `/v1/plans/${planId}/status`, { status: 'active' });
      const consent = await call('POST', '/v1/consents', {
        planId,
        memberId,
        source: 'dfdg',
        recipient: 'enplan',
        categories: ['plan-core', 'employment', 'goals', 'interventions'],
        purpose: 'Koordinering af indsatser i Én plan',
        validFrom: '2026-01-01',
        signed: { method: 'mitid', documentRef: 'cron-doc', textVersion: 'samtykke-v1', language: 'da' },
        grantedBy: { memberId, capacity: 'self' },
      });
      expect(consent.status).toBe(201);
      planIds.push(planId);
    }

    const carriedToDfdg = async () => ((await (await certificateBinding().fetch('https://binding.test/carried')).json()) as Record<string, number>)[new URL(env.DFDG_URL as string).origin] ?? 0;
    const carriedBefore = await carriedToDfdg();
    const ctx = createExecutionContext();
    await worker.scheduled(createScheduledController({ cron: '*/5 * * * *' }), env as never, ctx);
    await waitOnExecutionContext(ctx);
    // With the mTLS certificate binding bound, the adapter reached DFDG through it (decision 0007).
    expect(await carriedToDfdg()).toBeGreaterThan(carriedBefore);

    for (const planId of planIds) {
      const plan = await call('GET', `/v1/plans/${planId}`);
      const fromDfdg = [...plan.body.goals, ...plan.body.interventions].filter((e: { provenance: { system?: string }[] }) => e.provenance.some((p) => p.system === 'dfdg'));
      expect(fromDfdg.length).toBeGreaterThan(0);
    }
    const runs = await call('GET', '/v1/sync/runs', undefined, ['it-staff']);
    expect(runs.body.runs[0]).toMatchObject({ adapter: 'dfdg', status: 'succeeded', trigger: 'cron:*/5 * * * *' });
    // D1 runs migration 0004's triggers too: the enrolments moved the epoch, and the catch-up recorded
    // the epoch it left nobody behind at, so the next run skips its search.
    const db = (env as unknown as { DB: D1Database }).DB;
    const epoch = await db.prepare(`select epoch from enrolment_epochs where tenant = '101'`).first<{ epoch: number }>();
    expect(epoch!.epoch).toBeGreaterThan(0);
    const caughtUp = await db.prepare(`select epoch from caught_up where tenant = '101' and adapter = 'dfdg'`).first<{ epoch: number }>();
    expect(caughtUp).toEqual({ epoch: epoch!.epoch });
  });

  it('retention runs on its own cron in workerd: a plan closed longer ago than the retention period is purged, not on the sync cron', async () => {
    const [citizen] = generatePopulation(5, CRON_POPULATION_SEED).slice(3, 4);
    const created = await call('POST', '/v1/plans', { cpr: citizen!.cpr, origin: 'offered' });
    expect(created.status).toBe(201);
    const planId = created.body.id as string;
    // Closed six years ago (the default period is five).
    const db = (env as unknown as { DB: D1Database }).DB;
    await db.prepare(`update plans set status = 'closed', updated_at = '2020-11-23T10:00:00.000Z' where id = ?`).bind(planId).run();
    const trigger = async (cron: string) => {
      const ctx = createExecutionContext();
      await worker.scheduled(createScheduledController({ cron }), env as never, ctx);
      await waitOnExecutionContext(ctx);
    };
    await trigger('*/5 * * * *');
    expect((await call('GET', `/v1/plans/${planId}`)).status).toBe(200);
    await trigger('30 2 * * *');
    expect((await call('GET', `/v1/plans/${planId}`)).status).toBe(404);
    const purged = await db.prepare(`select count(*) as n from audit_log where action = 'plan.purged' and target_id = ?`).bind(planId).first<{ n: number }>();
    expect(purged!.n).toBe(1);
  });

  it('D1 runs migration 0018’s trigger too: a plan accepted forgets its member’s first pulls and the marks merged into other plans', async () => {
    const [citizen] = generatePopulation(5, CRON_POPULATION_SEED).slice(4, 5);
    const created = await call('POST', '/v1/plans', { cpr: citizen!.cpr, origin: 'offered' });
    expect(created.status).toBe(201);
    const planId = created.body.id as string;
    const db = (env as unknown as { DB: D1Database }).DB;
    const { citizen_id: citizenId } = (await db.prepare(`select citizen_id from plan_members where plan_id = ?`).bind(planId).first<{ citizen_id: string }>())!;
    // Marks as an earlier plan of the citizen (closed since) left them.
    const at = '2026-01-01T00:00:00.000Z';
    await db.batch([
      db.prepare(`insert into pulled_citizens (tenant, adapter, citizen_id, pulled_at) values ('101', 'dfdg', ?, ?)`).bind(citizenId, at),
      ...[['r-earlier-plan', 'an-earlier-plan'], ['r-this-plan', planId], ['r-quarantined', '-']].map(([recordId, markedPlan]) =>
        db.prepare(`insert into applied_records (tenant, citizen_id, source, record_id, record_version, plan_id, applied_at) values ('101', ?, 'dfdg', ?, '1', ?, ?)`).bind(citizenId, recordId, markedPlan, at)),
    ]);
    expect((await call('POST', `/v1/plans/${planId}/status`, { status: 'accepted' })).status).toBe(200);
    const pulled = await db.prepare(`select count(*) as n from pulled_citizens where citizen_id = ?`).bind(citizenId).first<{ n: number }>();
    expect(pulled!.n).toBe(0);
    const marks = await db.prepare(`select record_id from applied_records where citizen_id = ? order by record_id`).bind(citizenId).all<{ record_id: string }>();
    expect(marks.results.map((r) => r.record_id)).toEqual(['r-quarantined', 'r-this-plan']);
  });

  it('a trigger whose cron no adapter is scheduled on syncs nothing (the relay still runs)', async () => {
    const before = await call('GET', '/v1/sync/runs', undefined, ['it-staff']);
    const ctx = createExecutionContext();
    await worker.scheduled(createScheduledController({ cron: '0 3 * * *' }), env as never, ctx);
    await waitOnExecutionContext(ctx);
    const after = await call('GET', '/v1/sync/runs', undefined, ['it-staff']);
    expect(after.body.runs.length).toBe(before.body.runs.length);
    expect(after.body.runs.some((r: { trigger: string }) => r.trigger === 'cron:0 3 * * *')).toBe(false);
  });
});
