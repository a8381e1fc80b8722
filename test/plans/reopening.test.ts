/**
 * A citizen has at most one open Én plan (R5): a declined plan offered or requested again (R6) is
 * refused while one of its members already has another open plan, as creating a second one is.
 */
import { describe, expect, it } from 'vitest';
import { ProblemError } from '../../src/api/context';
import { planService } from '../../src/plans/service';
import { testCpr } from '../support/cpr';
import { startTestApp } from '../support/node-app';
import { caseworkerOf, enrol } from '../support/seed';

/** A citizen's declined plan, and the open plan made for them since. */
async function declinedAndAnotherOpen() {
  const app = await startTestApp();
  const cpr = testCpr();
  const cw = caseworkerOf();
  const service = planService(app.deps);
  const first = await enrol(app.deps, cpr);
  await service.changeStatus(cw, first.id, { status: 'declined', reason: 'Borgeren ønsker det ikke' });
  const second = await service.create(cw, { cpr, origin: 'offered', role: 'adult', replaces: [], municipalities: [] });
  return { app, cw, service, first, second };
}

describe('offering a declined plan again (R5, R6)', () => {
  it('is refused with duplicate-plan while the citizen has another open plan, and allowed once that one is finished', async () => {
    const { app, cw, service, first, second } = await declinedAndAnotherOpen();
    const outcomeOf = async (status: 'offered' | 'requested') => {
      try {
        await service.changeStatus(cw, first.id, { status });
        return 'reopened';
      } catch (error) {
        return error instanceof ProblemError ? error.problemType : String(error);
      }
    };
    expect(await outcomeOf('offered')).toBe('duplicate-plan');
    expect(await outcomeOf('requested')).toBe('duplicate-plan');
    const statuses = async () => [(await app.deps.store.plans.get('101', first.id))!.status, (await app.deps.store.plans.get('101', second.id))!.status];
    expect(await statuses()).toEqual(['declined', 'offered']);
    // Nothing was registered for the refused change.
    expect((await app.deps.store.audit.list('101')).filter((a) => a.action === 'plan.status-changed' && a.targetId === first.id).map((a) => (a.detail as { to: string }).to)).toEqual(['accepted', 'active', 'declined']);
    // The other plan declined too: the first may be offered again.
    await service.changeStatus(cw, second.id, { status: 'declined', reason: 'Borgeren ønsker det stadig ikke' });
    expect(await outcomeOf('offered')).toBe('reopened');
    expect(await statuses()).toEqual(['offered', 'declined']);
    await app.close();
  });

  it('is refused the same when it comes as a plan.status-changed registration', async () => {
    const { app, cw, service, first, second } = await declinedAndAnotherOpen();
    const token = await app.harness.token({ tenant: '101', roles: ['caseworker'], sub: 'cw' });
    const register = (key: string) =>
      app.harness.request('/v1/registrations', {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'idempotency-key': key },
        body: JSON.stringify({ planId: first.id, kind: 'plan.status-changed', status: 'offered' }),
      });
    const refused = await register('reopen-0001');
    expect(refused.status).toBe(409);
    expect(((await refused.json()) as { type: string }).type).toBe('/problems/duplicate-plan');
    const statuses = async () => [(await app.deps.store.plans.get('101', first.id))!.status, (await app.deps.store.plans.get('101', second.id))!.status];
    expect(await statuses()).toEqual(['declined', 'offered']);
    // Once the other plan is finished, the registration reopens it.
    await service.changeStatus(cw, second.id, { status: 'declined', reason: 'Erstattes af den første' });
    expect((await register('reopen-0002')).status).toBe(202);
    expect(await statuses()).toEqual(['offered', 'declined']);
    await app.close();
  });
});

