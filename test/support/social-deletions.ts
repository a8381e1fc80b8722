/**
 * Set-up shared by the tests of records deleted at the social FHIR source after their marks changed
 * (merged in part, forgotten for a re-read): the real social simulator over HTTP with its own
 * population, a fresh libSQL app per test, and the reads those tests make. Citizens are named by their
 * place in the population, never by CPR.
 */
import type { CarePlan } from '@medplum/fhirtypes';
import { afterAll, beforeAll, expect } from 'vitest';
import { generatePopulation } from '../../adapters/shared/population';
import { createSocialAdapter } from '../../adapters/social/adapter';
import { socialRecordsFor } from '../../adapters/social/records';
import { startSocialSimulator, type SectorSimulator } from '../../adapters/social/simulator';
import { sectorOfCodings } from '../../mappings/social/codes';
import { membersOf, type DataCategory, type Plan } from '../../src/model';
import { allMappings } from '../../src/sync/all-mappings';
import { runSync } from '../../src/sync/engine';
import { startTestApp } from './node-app';

export type App = Awaited<ReturnType<typeof startTestApp>>;
export const SOCIAL_RECORDS_SEED = 2026;
/** Every category a social record carries but health. */
export const allButHealth: DataCategory[] = ['plan-core', 'social', 'goals', 'interventions'];
export const citizenIdOf = (plan: Plan) => membersOf(plan)[0]!.citizenId;

/** Starts a social simulator for this test file (its own population, by `populationSeed`) and answers what the tests use. */
export function socialDeletionSetUp(populationSeed: number) {
  const population = generatePopulation(40, populationSeed).map((c) => ({ ...c, sectors: { employment: false, education: false, social: true, health: false } }));
  let simulator: SectorSimulator | undefined;
  beforeAll(async () => {
    simulator = await startSocialSimulator({ population, seed: SOCIAL_RECORDS_SEED, port: 0 });
  });
  afterAll(async () => {
    await simulator?.close();
  });
  const social = () => simulator!;
  const used = new Set<number>();
  return {
    population,
    social,
    freshApp: () => startTestApp({ adapters: { social: createSocialAdapter({ baseUrl: social().baseUrl, timeoutMs: 5000 }) }, mappings: allMappings }),
    sync: (app: App) => runSync(app.deps, { tenant: '101', adapter: 'social', trigger: 'test', mappings: allMappings }),
    stored: async (app: App, plan: Plan) => (await app.deps.store.plans.get('101', plan.id)) as Plan,
    auditOf: async (app: App, plan: Plan, action: string) => (await app.deps.store.audit.list('101', { citizenId: citizenIdOf(plan) })).filter((a) => a.action === action),
    /** The interventions the plan holds from that CarePlan. */
    fromCarePlan: (plan: Plan, carePlanId: string) => plan.interventions.filter((i) => i.provenance.some((p) => p.kind === 'source' && p.system === 'social' && p.recordId === carePlanId)),
    /** A citizen no other test of the file has used whose seeded CarePlan's activities are all social, and (when asked) serve goals. */
    citizenWithSocialCarePlan(servingGoals = false) {
      for (const [ordinal, citizen] of population.entries()) {
        const carePlan = socialRecordsFor(citizen, ordinal, SOCIAL_RECORDS_SEED).find((r) => r.resourceType === 'CarePlan') as CarePlan;
        const activities = carePlan.activity ?? [];
        if (used.has(ordinal) || activities.length === 0 || activities.some((a) => sectorOfCodings(a.detail?.code?.coding) !== 'social')) continue;
        if (servingGoals && !activities.some((a) => (a.detail?.goal?.length ?? 0) > 0)) continue;
        used.add(ordinal);
        return { ordinal, carePlan };
      }
      throw new Error('no citizen with a social CarePlan left');
    },
    /** The social system deletes a resource outright (FHIR DELETE). */
    async deleteAt(type: string, id: string) {
      const response = await fetch(`${social().baseUrl}/${type}/${id}`, { method: 'DELETE' });
      expect(response.ok).toBe(true);
    },
  };
}
