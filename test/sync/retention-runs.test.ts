/**
 * Retention that can be seen to work (R16, issue 4 item 7). It runs at night in a job of its own,
 * so until now only its log line said whether anything was deleted. Each municipality's run is now
 * recorded — what it deleted, which steps stopped at their nightly cap, why it failed — and shown to
 * IT staff on the overview, the dashboard and /metrics; one municipality's failure does not stop the
 * others'. It also deletes what a sync or delivery under way wrote for a citizen just deleted.
 */
import { eq, sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { membersOf } from '../../src/model';
import { monitoringOverview, toPrometheus } from '../../src/monitoring/overview';
import { eraseCitizen } from '../../src/plans/erasure';
import { planService } from '../../src/plans/service';
import { appliedRecords, consents, heldElements, pulledCitizens, quarantine, regionalConsentEnds, regionalRefusals, retentionRuns } from '../../src/store/schema';
import { runRetention } from '../../src/sync/retention';
import { cprPattern, testCpr } from '../support/cpr';
import { startTestApp } from '../support/node-app';
import { caseworkerOf, enrol, grantConsent } from '../support/seed';

const day = 86_400_000;

async function setUp(start = '2026-11-25T02:00:00Z') {
  const clock = { at: new Date(start) };
  const app = await startTestApp({ clock: { now: () => clock.at } });
  const metrics = async (tenant = '101') => toPrometheus(await monitoringOverview(app.deps, tenant)).split('\n').filter((line) => line.startsWith('enplan_retention_'));
  /** A plan for a new citizen of `tenant`, closed now: past the period (five years) it is purged. */
  const closedPlan = async (tenant = '101') => {
    const plan = await enrol(app.deps, testCpr(), tenant);
    await planService(app.deps).changeStatus(caseworkerOf(tenant), plan.id, { status: 'closed' });
    return plan;
  };
  return { ...app, clock, metrics, closedPlan };
}

describe('retention runs, recorded per municipality', () => {
  it('records what each run deleted and shows it on the overview and /metrics; no success for 48 hours is overdue', async () => {
    const app = await setUp();
    const closed = await app.closedPlan('101');
    await enrol(app.deps, testCpr(), '751');
    const overviewBefore = await monitoringOverview(app.deps, '101');
    expect(overviewBefore.retention).toEqual({ lastRun: null, lastSucceededAt: null, cron: '30 2 * * *', overdue: false, overdueFrom: null, nextStartAt: expect.any(String) });
    expect(await app.metrics()).toEqual(['enplan_retention_overdue{tenant="101"} 0']);

    app.clock.at = new Date(Date.UTC(2032, 0, 10, 2));
    await runRetention(app.deps);
    const [run] = await app.deps.store.retention.runs('101');
    expect(run).toMatchObject({ status: 'succeeded', startedAt: '2032-01-10T02:00:00.000Z', endedAt: '2032-01-10T02:00:00.000Z', backlog: [], error: null });
    expect(run!.summary).toMatchObject({ plansPurged: 1, citizensPurged: 1, syncRunsPruned: 0 });
    expect(await app.deps.store.plans.get('101', closed.id)).toBeNull();
    // The other municipality has a run of its own, with nothing due.
    expect((await app.deps.store.retention.runs('751')).map((r) => [r.status, r.summary.plansPurged])).toEqual([['succeeded', 0]]);

    const overview = await monitoringOverview(app.deps, '101');
    expect(overview.retention).toMatchObject({ lastRun: { status: 'succeeded', backlog: [] }, lastSucceededAt: '2032-01-10T02:00:00.000Z', overdue: false });
    const lines = await app.metrics();
    expect(lines).toContain(`enplan_retention_last_success_timestamp_seconds{tenant="101"} ${Date.UTC(2032, 0, 10, 2) / 1000}`);
    expect(lines).toContain('enplan_retention_last_run_failed{tenant="101"} 0');
    expect(lines).toContain('enplan_retention_backlog{tenant="101",step="superseded-marks"} 0');
    expect(lines).toContain('enplan_retention_last_run_items{tenant="101",step="plansPurged"} 1');

    // Two nights with no run: the job has stopped, and the overview says so (nightly RETENTION_CRON, 02:30 local time).
    app.clock.at = new Date(2032, 0, 12, 3);
    expect((await monitoringOverview(app.deps, '101')).retention.overdue).toBe(true);
    const token = await app.harness.token({ tenant: '101', roles: ['it-staff'], sub: 'it-1' });
    const page = await (await app.harness.request('/dashboard', { headers: { cookie: `enplan_session=${token}` } })).text();
    expect(page).toMatch(/id="retention-overdue"[^>]*>No retention run has succeeded since 2032-01-10 03:00, though RETENTION_CRON \(30 2 \* \* \*\) has started it twice since: nothing is being deleted on time\./);
    await app.close();
  });

  it('a municipality whose retention fails is recorded as failed with a reason (no CPR number in it), and the others still run', async () => {
    const app = await setUp();
    const kept = await app.closedPlan('101');
    const purged = await app.closedPlan('751');
    const cpr = testCpr();
    await app.database.db.run(sql.raw(`create trigger plan_kept before delete on plans when old.tenant = '101' begin select raise(abort, 'plan cannot be deleted (held for ${cpr})'); end`));

    app.clock.at = new Date(Date.UTC(2032, 0, 10, 2));
    await expect(runRetention(app.deps)).rejects.toThrow(/retention failed for 1 of 2 municipalities/);
    const [failed] = await app.deps.store.retention.runs('101');
    expect(failed).toMatchObject({ status: 'failed', endedAt: '2032-01-10T02:00:00.000Z' });
    expect(failed!.error).toContain('plan cannot be deleted');
    expect(failed!.error).not.toMatch(cprPattern(cpr));
    expect(await app.deps.store.plans.get('101', kept.id)).not.toBeNull();
    expect((await app.deps.store.retention.runs('751'))[0]).toMatchObject({ status: 'succeeded', summary: { plansPurged: 1 } });
    expect(await app.deps.store.plans.get('751', purged.id)).toBeNull();

    expect((await monitoringOverview(app.deps, '101')).retention).toMatchObject({ lastRun: { status: 'failed' }, lastSucceededAt: null, overdue: true });
    expect(await app.metrics()).toContain('enplan_retention_last_run_failed{tenant="101"} 1');
    expect((await app.metrics()).join('\n')).not.toMatch(cprPattern(cpr));

    await app.database.db.run(sql`drop trigger plan_kept`);
    await runRetention(app.deps);
    expect((await app.deps.store.retention.runs('101')).map((r) => r.status)).toEqual(['succeeded', 'failed']);
    expect(await app.deps.store.plans.get('101', kept.id)).toBeNull();
    await app.close();
  });

  it('a run cut off (still running when the next starts) is recorded as interrupted; old run records go after RETENTION_SYNC_RUN_DAYS, the newest stays', async () => {
    const app = await setUp();
    await enrol(app.deps, testCpr());
    const at = (days: number) => new Date(app.clock.at.getTime() - days * day).toISOString();
    await app.database.db.insert(retentionRuns).values([
      { id: 'old-1', tenant: '101', status: 'succeeded', startedAt: at(200), endedAt: at(200), summary: '{}', backlog: '[]' },
      { id: 'old-2', tenant: '101', status: 'failed', startedAt: at(150), endedAt: at(150), summary: '{}', backlog: '[]', error: 'disk full' },
      { id: 'cut-off', tenant: '101', status: 'running', startedAt: at(1), summary: '{}', backlog: '[]' },
      { id: 'other', tenant: '751', status: 'succeeded', startedAt: at(200), endedAt: at(200), summary: '{}', backlog: '[]' },
    ]);
    const summary = await runRetention(app.deps);
    const ids = async (tenant: string) => (await app.deps.store.retention.runs(tenant)).map((r) => [r.id.length === 36 ? 'new' : r.id, r.status]);
    expect(await ids('101')).toEqual([['new', 'succeeded'], ['cut-off', 'interrupted']]);
    expect((await app.deps.store.retention.runs('101'))[1]!.error).toContain('had not ended');
    // 751 has no plans, so retention does not visit it: its last record stays whatever its age.
    expect(await ids('751')).toEqual([['other', 'succeeded']]);
    expect(summary.retentionRunsPruned).toBe(2);
    await app.close();
  });
});

describe('rows left behind by a citizen just deleted', () => {
  it('what a sync under way wrote after the erasure is deleted the next night, with an audit row; the living keep theirs', async () => {
    const app = await setUp();
    const living = await enrol(app.deps, testCpr());
    const livingId = membersOf(living)[0]!.citizenId;
    await grantConsent(app.deps, { citizenId: livingId, source: 'dfdg', categories: ['plan-core'] });
    const cpr = testCpr();
    const erased = await enrol(app.deps, cpr);
    const erasedId = membersOf(erased)[0]!.citizenId;
    expect(await eraseCitizen(app.deps, { sub: 'dpo-karen', tenant: '101', roles: ['dpo'] }, cpr, 'registreret under forkert CPR-nummer')).not.toBeNull();
    expect(await app.deps.store.citizens.get('101', erasedId)).toBeNull();

    // A sync chunk and a delivery that read the citizen before the erasure commit after it.
    const now = app.clock.at.toISOString();
    const lateRows = (citizenId: string, planId: string) => [
      app.database.db.insert(appliedRecords).values({ tenant: '101', citizenId, source: 'dfdg', recordId: `r-${citizenId}`, recordVersion: '2', planId, appliedAt: now, complete: 0 }),
      app.database.db.insert(pulledCitizens).values({ tenant: '101', adapter: 'dfdg', citizenId, pulledAt: now }),
      app.database.db.insert(heldElements).values({ tenant: '101', citizenId, target: 'dfdg', targetElementId: `t-${citizenId}`, elementId: 'e-1', outboxId: 'o-1', recordedAt: now }),
      app.database.db.insert(regionalConsentEnds).values({ tenant: '101', citizenId, source: 'health', recordId: 'consent-1', recordVersion: '1', lastDay: '2027-01-01', recordedAt: now }),
      app.database.db.insert(regionalRefusals).values({ tenant: '101', citizenId, source: 'health', recordId: 'consent-1', recordVersion: '2', reason: 'withdrawn', recordedAt: now }),
      app.database.db.insert(quarantine).values({ id: `q-${citizenId}`, tenant: '101', adapter: 'dfdg', recordType: 'activity', recordId: `r-${citizenId}`, reason: 'contract', raw: '<record/>', citizenId, createdAt: now }),
    ];
    for (const statement of [...lateRows(erasedId, erased.id), ...lateRows(livingId, living.id)]) await statement;
    const rowsOf = async (citizenId: string) => {
      const counts = await Promise.all(
        [appliedRecords, pulledCitizens, heldElements, regionalConsentEnds, regionalRefusals, quarantine, consents].map(async (table) => (await app.database.db.select({ n: sql<number>`count(*)` }).from(table).where(eq(table.citizenId, citizenId)))[0]!.n),
      );
      return counts;
    };
    expect(await rowsOf(erasedId)).toEqual([1, 1, 1, 1, 1, 1, 0]);
    const livingBefore = await rowsOf(livingId);

    const summary = await runRetention(app.deps);
    expect(summary.remnantsOfDeletedCitizensDeleted).toBe(1);
    expect(await rowsOf(erasedId)).toEqual([0, 0, 0, 0, 0, 0, 0]);
    expect(await rowsOf(livingId)).toEqual(livingBefore);
    const audit = (await app.deps.store.audit.list('101')).filter((a) => a.action === 'citizen.remnants-deleted');
    expect(audit).toEqual([expect.objectContaining({ actor: 'system:retention', targetId: erasedId, citizenId: erasedId })]);
    expect(await app.deps.store.audit.verify('101')).toMatchObject({ ok: true });
    expect((await runRetention(app.deps)).remnantsOfDeletedCitizensDeleted).toBe(0);
    await app.close();
  });

  it('more than a night’s cap: the rest waits for the next run, and the run says so (overview, dashboard, /metrics)', async () => {
    const app = await setUp();
    const plan = await enrol(app.deps, testCpr());
    const gone = Array.from({ length: 5_001 }, (_, i) => `gone-${String(i).padStart(5, '0')}`);
    await app.database.db.run(
      sql`insert into applied_records (tenant, citizen_id, source, record_id, record_version, plan_id, applied_at, complete) select '101', value, 'dfdg', 'r-1', '1', ${plan.id}, '2026-11-24T00:00:00.000Z', 1 from json_each(${JSON.stringify(gone)})`,
    );
    expect((await runRetention(app.deps)).remnantsOfDeletedCitizensDeleted).toBe(5_000);
    expect((await app.deps.store.retention.runs('101'))[0]!.backlog).toEqual(['remnants-of-deleted-citizens']);
    expect(await app.metrics()).toContain('enplan_retention_backlog{tenant="101",step="remnants-of-deleted-citizens"} 1');
    const token = await app.harness.token({ tenant: '101', roles: ['it-staff'], sub: 'it-1' });
    const page = await (await app.harness.request('/dashboard', { headers: { cookie: `enplan_session=${token}` } })).text();
    expect(page).toContain('Stopped at the nightly cap, the rest goes next night: leftover rows of deleted citizens.');

    expect((await runRetention(app.deps)).remnantsOfDeletedCitizensDeleted).toBe(1);
    expect((await app.deps.store.retention.runs('101'))[0]!.backlog).toEqual([]);
    expect(await app.database.db.select({ n: sql<number>`count(*)` }).from(appliedRecords).where(sql`${appliedRecords.citizenId} like 'gone-%'`)).toEqual([{ n: 0 }]);
    expect(await app.deps.store.plans.get('101', plan.id)).not.toBeNull();
    await app.close();
  });
});
