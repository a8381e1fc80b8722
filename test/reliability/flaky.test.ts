/**
 * F2 flaky targets: every target fails 30 % of pushes with a 5xx, times out on 10 % and answers
 * 5 % with a malformed body (the last two AFTER applying the effect). Everything deliverable must
 * be delivered, each outbox row applied exactly once at its target, in per-citizen order.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { employmentIntervention, startPushFixture, TARGETS, type PushFixture } from '../registrations/fixture';

let f: PushFixture;
beforeAll(async () => {
  f = await startPushFixture({ timeoutMs: 250, seed: 42 });
});
afterAll(() => f.close());

describe('F2 flaky targets', () => {
  it('delivers everything exactly once in effect, in order per citizen, through 30 % 5xx, 10 % timeouts and 5 % malformed replies', async () => {
    for (const t of TARGETS) f.targets[t].setFaults({ errorRate: 0.3, timeoutRate: 0.1, malformedRate: 0.05 });
    const accepted: string[] = [];
    for (let citizen = 0; citizen < 12; citizen++) {
      const plan = await f.createPlan({ replaces: ['employment-plan', 'sel-141-plan'] });
      await f.grantAll(plan.citizenId, { health: true });
      const bodies = [
        { kind: 'intervention.added', intervention: employmentIntervention(plan.memberId, { id: `i-${citizen}` }) },
        { kind: 'goal.added', goal: { level: 'overall', title: 'Uddannelse', sector: 'education' } },
        { kind: 'intervention.added', intervention: { ...employmentIntervention(plan.memberId), sector: 'social', legalBasis: 'SEL § 85', title: 'Bostøtte' } },
        { kind: 'goal.added', goal: { level: 'sub', title: 'Stabil behandling', sector: 'health' } },
        { kind: 'intervention.changed', interventionId: `i-${citizen}`, changes: { hoursPerWeek: 15 } },
        { kind: 'coordinator.changed', coordinator: { kind: 'caseworker', name: 'Ny Koordinator', sector: 'employment', unit: 'Jobcenter' } },
        { kind: 'intervention.ended', interventionId: `i-${citizen}`, endDate: '2027-01-31' },
      ];
      for (const body of bodies) {
        const answer = await f.register({ planId: plan.id, ...body });
        expect(answer.status).toBe(202);
        accepted.push(answer.body.id);
      }
    }
    const totals = await f.drain(300, { concurrency: 32 });
    expect(totals.dead).toBe(0);
    expect(totals.retried).toBeGreaterThan(0);

    const counts = await f.deps.store.outbox.countByStatus('101');
    expect(counts).toEqual({ delivered: expect.any(Number) });
    let rowsChecked = 0;
    for (const id of accepted) {
      const rows = await f.deps.store.outbox.forRegistration('101', id);
      for (const row of rows) {
        rowsChecked++;
        expect(row.status).toBe('delivered');
        expect(f.targets[row.target as 'dfdg'].effectCounts()[row.id]).toBe(1);
      }
    }
    for (const t of TARGETS) {
      const effects = f.targets[t].effectCounts();
      expect(Object.values(effects).every((n) => n === 1)).toBe(true);
      // Per citizen, the target applied the rows in the order they were registered.
      const order = new Map(f.targets[t].effects().map((e) => [e.key, e.order]));
      const rows = (await f.deps.store.outbox.list('101', { target: t, limit: 500 })).sort((a, b) => a.sequence - b.sequence);
      const byCitizen = new Map<string, number[]>();
      for (const row of rows) byCitizen.set(row.citizenId, [...(byCitizen.get(row.citizenId) ?? []), order.get(row.id)!]);
      for (const seen of byCitizen.values()) expect(seen).toEqual([...seen].sort((a, b) => a - b));
    }
    const allEffects = TARGETS.reduce((n, t) => n + Object.keys(f.targets[t].effectCounts()).length, 0);
    expect(allEffects).toBe(rowsChecked);
    expect(rowsChecked).toBe(counts.delivered);
    expect(rowsChecked).toBeGreaterThanOrEqual(12 * 8);
  });
});
