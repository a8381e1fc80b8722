/**
 * The region's Consent in a test's health simulator: which record is each citizen's, and the region
 * writing a new version of it (as its EHR would), from a permit in force changed as the test says.
 */
import type { Consent } from '@medplum/fhirtypes';
import { healthRecordsFor } from '../../adapters/health/records';
import type { SectorSimulator } from '../../adapters/social/simulator';

/** The health simulator's seed (its default), which names each citizen's seeded Consent. */
export const HEALTH_SEED = 2026;

export function regionConsents(simulators: { health: SectorSimulator }) {
  const consentIdOf = (ordinal: number) => healthRecordsFor(simulators.health.citizens[ordinal]!, ordinal, HEALTH_SEED).find((r) => r.resourceType === 'Consent')!.id!;
  async function regionRecords(ordinal: number, change: (consent: Consent) => Consent = (c) => c) {
    const current = await simulators.health.repository.readResource<Consent>('Consent', consentIdOf(ordinal));
    const permit: Consent = { ...current, status: 'active', provision: { ...current.provision, type: 'permit', period: { start: '2025-01-01', end: '2099-12-31' } } };
    await simulators.health.repository.updateResource(change(permit));
  }
  return { consentIdOf, regionRecords };
}

export const withdrawn = (c: Consent): Consent => ({ ...c, status: 'inactive' });
