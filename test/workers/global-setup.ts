/** Runs in Node before the workerd tests: a DFDG simulator on loopback for the Cron Trigger test. */
import type { TestProject } from 'vitest/node';
import { startDfdgSimulator } from '../../adapters/dfdg';
import { generatePopulation } from '../../adapters/shared/population';

export const CRON_POPULATION_SEED = 515;

export default async function setup(project: TestProject) {
  const population = generatePopulation(5, CRON_POPULATION_SEED).map((c) => ({ ...c, sectors: { ...c.sectors, employment: true } }));
  const simulator = await startDfdgSimulator({ population, port: 0 });
  project.provide('dfdgUrl', simulator.url);
  return async () => simulator.close();
}

declare module 'vitest' {
  export interface ProvidedContext {
    dfdgUrl: string;
  }
}
