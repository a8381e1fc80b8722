/**
 * Whose consent counts changes with age (Barnets lov § 110): under 16 the custody holder's, from 16 the
 * young person's own as well. What a custody holder's consent alone let flow for a child of 15 rests on
 * too little the day they turn 16: the nightly job decides it again and it leaves the plan, as on a
 * lapse. A young person who consented too keeps everything; before the birthday nothing moves.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDfdgAdapter, startDfdgSimulator, type DfdgSimulator } from '../../adapters/dfdg';
import { fictitiousCpr, generatePopulation } from '../../adapters/shared/population';
import { membersOf, type Plan } from '../../src/model';
import { allMappings } from '../../src/sync/all-mappings';
import { runSync } from '../../src/sync/engine';
import { runRetention } from '../../src/sync/retention';
import { TestClock } from '../registrations/fixture';
import { startTestApp } from '../support/node-app';
import { enrol, grantConsent } from '../support/seed';

// Two young people who turn 16 on 27 November 2026.
const [first, second] = generatePopulation(2, 6161).map((c, i) => ({
  ...c,
  cpr: fictitiousCpr(new Date(Date.UTC(2010, 10, 27)), 401 + i),
  birthDate: '2010-11-27',
  sectors: { employment: true, education: false, social: false, health: false },
}));
const employment = ['plan-core', 'employment', 'goals', 'interventions'] as const;
let dfdg: DfdgSimulator;
beforeAll(async () => {
  dfdg = await startDfdgSimulator({ population: [first!, second!], port: 0 });
});
afterAll(() => dfdg?.close());

const elementsOf = (plan: Plan) => [...plan.goals, ...plan.interventions, ...plan.agreements, ...plan.followUps];

describe('a young person turning 16', () => {
  it('loses from the plan what rested on the custody holder’s consent alone; with their own consent too, nothing', async () => {
    const clock = new TestClock(Date.parse('2026-11-25T10:00:00.000Z'));
    const app = await startTestApp({ clock, adapters: { dfdg: createDfdgAdapter({ baseUrl: dfdg.url, organisation: { typeIdentifier: 'kommune', code: '101' } }) }, mappings: allMappings });
    const [custodyOnly, both] = [await enrol(app.deps, first!.cpr), await enrol(app.deps, second!.cpr)];
    const custody = (plan: Plan) => grantConsent(app.deps, { citizenId: membersOf(plan)[0]!.citizenId, source: 'dfdg', categories: [...employment], grantedBy: { citizenId: `parent-of-${plan.id}`, capacity: 'custody-holder' } });
    await custody(custodyOnly);
    await custody(both);
    await grantConsent(app.deps, { citizenId: membersOf(both)[0]!.citizenId, source: 'dfdg', categories: [...employment] });
    expect((await runSync(app.deps, { tenant: '101', adapter: 'dfdg', trigger: 'test', mappings: allMappings })).status).toBe('succeeded');
    const stored = async (plan: Plan) => (await app.deps.store.plans.get('101', plan.id))!;
    const merged = elementsOf(await stored(custodyOnly)).length;
    expect(merged).toBeGreaterThan(0);
    const mergedBoth = elementsOf(await stored(both)).length;
    expect(mergedBoth).toBeGreaterThan(0);

    // The day before the birthday: nothing moves.
    expect((await runRetention(app.deps)).plansChangedByAge).toBe(0);
    expect(elementsOf(await stored(custodyOnly))).toHaveLength(merged);

    // The night after they turned 16 (a night missed is made up for).
    clock.advance(3 * 86_400_000);
    expect((await runRetention(app.deps)).plansChangedByAge).toBe(1);
    expect(elementsOf(await stored(custodyOnly))).toEqual([]);
    expect(elementsOf(await stored(both))).toHaveLength(mergedBoth);
    const removed = (await app.deps.store.audit.list('101', { citizenId: membersOf(custodyOnly)[0]!.citizenId })).filter((row) => row.action === 'plan.consent-data-removed');
    expect(removed).toEqual([expect.objectContaining({ actor: 'system:consent-age', detail: expect.objectContaining({ age: 16 }) })]);
    // Once: the next night finds nothing more to take.
    expect((await runRetention(app.deps)).plansChangedByAge).toBe(0);
    expect(await app.deps.store.audit.verify('101')).toMatchObject({ ok: true });
    await app.close();
  });
});
