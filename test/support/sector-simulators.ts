/**
 * Sector simulators over a test file's population, started before its tests
 * and stopped after them (vitest's beforeAll/afterAll). Read the handles inside tests, not at load.
 */
import { afterAll, beforeAll } from 'vitest';
import { startDfdgSimulator, type DfdgSimulator } from '../../adapters/dfdg';
import { startHealthSimulator } from '../../adapters/health/simulator';
import type { SyntheticCitizen } from '../../adapters/shared/population';
import type { SectorSimulator } from '../../adapters/social/simulator';

/** A DFDG simulator over the test file's population, for the file's tests. */
export function dfdgSimulator(population: readonly SyntheticCitizen[]): { dfdg: DfdgSimulator } {
  const running = {} as { dfdg: DfdgSimulator };
  beforeAll(async () => {
    running.dfdg = await startDfdgSimulator({ population: [...population], port: 0 });
  });
  afterAll(async () => {
    await running.dfdg?.close();
  });
  return running;
}

/** A DFDG and a regional health simulator over the test file's population. */
export function dfdgAndHealthSimulators(population: readonly SyntheticCitizen[]): { dfdg: DfdgSimulator; health: SectorSimulator } {
  const running = {} as { dfdg: DfdgSimulator; health: SectorSimulator };
  beforeAll(async () => {
    running.dfdg = await startDfdgSimulator({ population: [...population], port: 0 });
    running.health = await startHealthSimulator({ population: [...population], port: 0 });
  });
  afterAll(async () => {
    await running.dfdg?.close();
    await running.health?.close();
  });
  return running;
}
