/**
 * The regional health system simulator: a FHIR R4 server (adapters/fhir/simulator.ts) seeded with
 * DK-core Patients, CarePlans, Goals, CareTeams and Consents for every citizen of the shared
 * synthetic population who has `sectors.health`.
 */
import { generatePopulation, type SyntheticCitizen } from '../shared/population';
import { startFhirSimulator, type FhirSimulatorOptions } from '../fhir/simulator';
import type { SeedSource } from '../fhir/store';
import type { SectorSimulator } from '../social/simulator';
import { HEALTH_SECTOR, healthCitizens, healthRecordsFor } from './records';

export interface HealthSimulatorOptions extends Omit<FhirSimulatorOptions, 'name' | 'seedSource' | 'resourceTypes'> {
  population?: readonly SyntheticCitizen[];
  size?: number;
  seed?: number;
}

export const healthResourceTypes = ['Patient', 'CarePlan', 'Goal', 'CareTeam', 'Consent', 'ServiceRequest'] as const;

export function healthSeedSource(population: readonly SyntheticCitizen[], seed: number): SeedSource & { citizens: SyntheticCitizen[] } {
  const citizens = healthCitizens(population);
  const byCpr = new Map(citizens.map((citizen, ordinal) => [citizen.cpr, ordinal]));
  return {
    sector: HEALTH_SECTOR,
    seed,
    size: citizens.length,
    citizens,
    recordsOf: (ordinal) => healthRecordsFor(citizens[ordinal]!, ordinal, seed),
    ordinalOfCpr: (cpr) => byCpr.get(cpr),
  };
}

export async function startHealthSimulator(options: HealthSimulatorOptions = {}): Promise<SectorSimulator> {
  const seed = options.seed ?? 2026;
  const population = options.population ?? generatePopulation(options.size ?? 200, seed);
  const seedSource = healthSeedSource(population, seed);
  const simulator = await startFhirSimulator({
    ...options,
    seeding: options.seeding ?? (seedSource.size > 5_000 ? 'lazy' : 'eager'),
    name: 'Én plan simulator: regional health system (DK-core, FHIR R4)',
    seedSource,
    resourceTypes: healthResourceTypes,
  });
  return Object.assign(simulator, { citizens: seedSource.citizens });
}
