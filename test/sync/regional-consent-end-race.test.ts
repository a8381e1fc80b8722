/**
 * The nightly job that ends the region's permit after its last day, racing a sync that reads the
 * region's renewal of it. A renewal of a permit whose data is already in the plan changes no plan,
 * so it cannot be caught by the plan's version: the job must not take the data out once the renewal
 * is stored, even when it stored itself between the job's check and its write. Real health
 * simulator over HTTP, libSQL, the real nightly job.
 */
import type { Consent } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { createHealthAdapter } from '../../adapters/health/adapter';
import { healthRecordsFor } from '../../adapters/health/records';
import { generatePopulation } from '../../adapters/shared/population';
import { membersOf, type Plan } from '../../src/model';
import { allMappings } from '../../src/sync/all-mappings';
import { runSync } from '../../src/sync/engine';
import { runRetention } from '../../src/sync/retention';
import { danishToday } from '../../src/views/danish';
import { TestClock } from '../registrations/fixture';
import { startTestApp } from '../support/node-app';
import { enrol, grantConsent } from '../support/seed';
import { dfdgAndHealthSimulators } from '../support/sector-simulators';

const population = generatePopulation(2, 7474).map((c) => ({ ...c, sectors: { employment: false, education: false, social: false, health: true } }));
const simulators = dfdgAndHealthSimulators(population);
/** The health simulator's seed (its default), which names each citizen's seeded Consent. */
const HEALTH_SEED = 2026;

describe('the nightly end of the region’s permit, racing its renewal', () => {
  async function withFlowedHealthData(ordinal: number) {
    const clock = new TestClock(Date.now());
    const app = await startTestApp({ clock, adapters: { health: createHealthAdapter({ baseUrl: simulators.health.baseUrl, timeoutMs: 5000 }) }, mappings: allMappings });
    const sync = () => runSync(app.deps, { tenant: '101', adapter: 'health', trigger: 'test', mappings: allMappings });
    const plan = await enrol(app.deps, population[ordinal]!.cpr);
    const citizenId = membersOf(plan)[0]!.citizenId;
    await grantConsent(app.deps, { citizenId, source: 'health', categories: ['health'], explicitHealth: true });
    const consentId = healthRecordsFor(simulators.health.citizens[ordinal]!, ordinal, HEALTH_SEED).find((r) => r.resourceType === 'Consent')!.id!;
    const regionPermitsUntil = async (end: string) => {
      const current = await simulators.health.repository.readResource<Consent>('Consent', consentId);
      await simulators.health.repository.updateResource<Consent>({ ...current, status: 'active', provision: { ...current.provision, type: 'permit', period: { start: '2025-01-01', end } } });
    };
    const healthIds = async () => {
      const stored = (await app.deps.store.plans.get('101', plan.id)) as Plan;
      return [...stored.goals, ...stored.interventions, ...stored.careTeams, ...stored.situationNotes]
        .filter((e) => e.provenance.some((p) => p.kind === 'source' && p.system === 'health'))
        .map((e) => e.id)
        .sort();
    };
    /** The region renews the permit and a sync stores the renewal. */
    const renew = async () => {
      await regionPermitsUntil('2099-12-31');
      expect((await sync()).status).toBe('succeeded');
      expect(await app.deps.store.regionalConsents.get('101', citizenId, 'health')).toMatchObject({ lastDay: '2099-12-31' });
    };

    await regionPermitsUntil(danishToday(clock.now()));
    expect((await sync()).status).toBe('succeeded');
    const flowed = await healthIds();
    expect(flowed.length).toBeGreaterThan(0);
    // Two days on: the permit's last day has passed.
    clock.advance(2 * 86_400_000);
    return { app, sync, citizenId, healthIds, flowed, renew };
  }

  it('leaves the data when the region’s renewal is stored after the job checked the permit and before it wrote the plan', async () => {
    const { app, citizenId, healthIds, flowed, renew } = await withFlowedHealthData(0);
    // The renewal is stored by a sync just after the job found the old permit still remembered, just
    // before the job writes the plan (the renewal changes no plan: its data is there already).
    const { plans } = app.deps.store;
    const update = plans.update;
    let renewed = false;
    plans.update = async (...args: Parameters<typeof update>) => {
      if (!renewed) {
        renewed = true;
        await renew();
      }
      return update.apply(plans, args);
    };
    await runRetention(app.deps);
    plans.update = update;
    expect(renewed).toBe(true);

    // The region permits: the data stays, and nothing says it left.
    expect(await healthIds()).toEqual(flowed);
    const log = await app.deps.store.audit.list('101', { citizenId });
    expect(log.filter((a) => a.action === 'plan.consent-data-removed' || a.action === 'consent.lapsed')).toEqual([]);
    await app.close();
  });

  it('brings the data back when the region’s renewal is stored after the job took it out and before it closed the end', async () => {
    const { app, sync, healthIds, flowed, renew } = await withFlowedHealthData(1);
    // The job takes the data out while the ended permit is the region's say; the renewal is stored
    // just before the job forgets the citizen's merged records and closes the end.
    const { audit } = app.deps.store;
    const appendMany = audit.appendMany;
    let renewed = false;
    audit.appendMany = async (...args: Parameters<typeof appendMany>) => {
      if (!renewed && args[1].some((entry) => entry.action === 'consent.lapsed')) {
        renewed = true;
        await renew();
      }
      return appendMany.apply(audit, args);
    };
    await runRetention(app.deps);
    audit.appendMany = appendMany;
    expect(renewed).toBe(true);
    expect(await healthIds()).toEqual([]);

    // The region permits, with no further change there: the next runs bring back what the job took out.
    expect((await sync()).status).toBe('succeeded');
    expect((await sync()).status).toBe('succeeded');
    expect(await healthIds()).toEqual(flowed);
    await app.close();
  });
});
