/**
 * The social fagsystem simulator: a FHIR R4 server (adapters/fhir/simulator.ts) seeded with the
 * social records (care-social / FFB CarePlan, Goal, Condition, CareTeam) of every citizen of the
 * shared synthetic population who has `sectors.social`.
 */
import { generatePopulation, type SyntheticCitizen } from '../shared/population';
import { startFhirSimulator, type FhirSimulator, type FhirSimulatorOptions } from '../fhir/simulator';
import type { SeedSource } from '../fhir/store';
import { SOCIAL_SECTOR, socialCitizens, socialRecordsFor } from './records';

export interface SocialSimulatorOptions extends Omit<FhirSimulatorOptions, 'name' | 'seedSource' | 'resourceTypes'> {
  /** The shared population; defaults to `generatePopulation(size, seed)`. */
  population?: readonly SyntheticCitizen[];
  size?: number;
  /** Seed of the population (when generated here) and of the records. */
  seed?: number;
}

export interface SectorSimulator extends FhirSimulator {
  /** The citizens holding records here, in seed order (test use; they carry CPR numbers). */
  readonly citizens: readonly SyntheticCitizen[];
}

export const socialResourceTypes = ['Patient', 'CarePlan', 'Goal', 'Condition', 'CareTeam', 'ServiceRequest'] as const;

export function socialSeedSource(population: readonly SyntheticCitizen[], seed: number): SeedSource & { citizens: SyntheticCitizen[] } {
  const citizens = socialCitizens(population);
  const byCpr = new Map(citizens.map((citizen, ordinal) => [citizen.cpr, ordinal]));
  return {
    sector: SOCIAL_SECTOR,
    seed,
    size: citizens.length,
    citizens,
    recordsOf: (ordinal) => socialRecordsFor(citizens[ordinal]!, ordinal, seed),
    ordinalOfCpr: (cpr) => byCpr.get(cpr),
  };
}

export async function startSocialSimulator(options: SocialSimulatorOptions = {}): Promise<SectorSimulator> {
  const seed = options.seed ?? 2026;
  const population = options.population ?? generatePopulation(options.size ?? 200, seed);
  const seedSource = socialSeedSource(population, seed);
  const simulator = await startFhirSimulator({
    ...options,
    seeding: options.seeding ?? (seedSource.size > 5_000 ? 'lazy' : 'eager'),
    name: 'Én plan simulator: municipal social system (KL care-social / FFB, FHIR R4)',
    seedSource,
    resourceTypes: socialResourceTypes,
  });
  return Object.assign(simulator, { citizens: seedSource.citizens });
}
