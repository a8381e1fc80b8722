/**
 * The nightly retention reads which ended plans are past their period, then deletes them one by one.
 * A declined plan offered again in between is open: it is kept, its citizen too, and the run says so.
 */
import { describe, expect, it } from 'vitest';
import { planService } from '../../src/plans/service';
import { runRetention } from '../../src/sync/retention';
import { TestClock } from '../registrations/fixture';
import { testCpr } from '../support/cpr';
import { startTestApp } from '../support/node-app';
import { caseworkerOf } from '../support/seed';

describe('retention and a declined plan offered again', () => {
  it('keeps a plan offered again after the plans due were read; the others due are deleted', async () => {
    const clock = new TestClock(Date.parse('2026-11-25T02:00:00Z'));
    const app = await startTestApp({ clock });
    const service = planService(app.deps);
    const caseworker = caseworkerOf();
    const declined = async () => {
      const plan = await service.create(caseworker, { cpr: testCpr(), origin: 'offered', role: 'adult', replaces: [], municipalities: [] });
      await service.changeStatus(caseworker, plan.id, { status: 'declined', reason: 'Borgeren ønsker ikke planen nu' });
      return plan;
    };
    const [reoffered, due] = [await declined(), await declined()];
    clock.advance(6 * 366 * 86_400_000);
    // A caseworker offers one plan again while the job is at work, after it listed the plans due.
    const look = app.deps.store.plans.hasOpenDeliveries.bind(app.deps.store.plans);
    app.deps.store.plans.hasOpenDeliveries = async (tenant, id) => {
      if (id === reoffered.id) await service.changeStatus(caseworker, reoffered.id, { status: 'offered' });
      return look(tenant, id);
    };
    const summary = await runRetention(app.deps);
    expect(summary).toMatchObject({ plansPurged: 1, plansReopened: 1, citizensPurged: 1 });
    expect((await app.deps.store.plans.get('101', reoffered.id))?.status).toBe('offered');
    expect(await app.deps.store.plans.get('101', due.id)).toBeNull();
    const purged = (await app.deps.store.audit.list('101')).filter((row) => row.action === 'plan.purged').map((row) => row.targetId);
    expect(purged).toEqual([due.id]);
    expect(await app.deps.store.audit.verify('101')).toMatchObject({ ok: true });
    await app.close();
  });
});
