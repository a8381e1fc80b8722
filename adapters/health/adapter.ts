/**
 * The health adapter: a regional health system (regional EHR, the national eHealth infrastructure)
 * speaking FHIR R4 with DK-core — Patient with the CPR identifier, CarePlan (psychiatric treatment,
 * discharge, coordination and rehabilitation plans), Goal, CareTeam and Consent — through
 * fhir-kit-client. Everything it yields is health data: the mappings (mappings/health) put it all in
 * data category `health`, which flows only on explicit consent (Sundhedsloven §43).
 */
import type { SourceAdapter } from '../adapter';
import { CarePlan, CareTeam, Consent, Goal, ServiceRequest } from '../fhir/contract';
import { createFhirSourceAdapter, type FhirAdapterDefinition, type FhirAdapterOptions } from '../fhir/fhir-adapter';

export type HealthAdapterOptions = FhirAdapterOptions;

export const healthAdapterDefinition: FhirAdapterDefinition = {
  description: {
    id: 'health',
    name: 'regional health system (DK-core)',
    sector: 'health',
    format: 'FHIR R4 JSON (DK-core)',
    recordTypes: ['CarePlan', 'Goal', 'CareTeam', 'Consent'],
    // The municipality does not write the region's treatment plan; it proposes goals and asks for
    // services (coordination meetings, discharge conferences).
    pushOperations: ['goal.upsert', 'service-request.create'],
  },
  recordTypes: [
    { type: 'CarePlan', patientParam: 'subject', contract: CarePlan },
    { type: 'Goal', patientParam: 'subject', contract: Goal },
    { type: 'CareTeam', patientParam: 'subject', contract: CareTeam },
    // Every pull reads the citizen's Consents whole: the sync gate needs the region's current say on sharing (src/consent/regional.ts).
    { type: 'Consent', patientParam: 'patient', contract: Consent, alwaysInFull: true },
  ],
  pushTargets: {
    'goal.upsert': { resourceType: 'Goal', contract: Goal },
    'service-request.create': { resourceType: 'ServiceRequest', contract: ServiceRequest },
  },
};

/** e.g. `createHealthAdapter({ baseUrl: 'https://fhir.region.example/fhir', timeoutMs: 10_000 })`. */
export function createHealthAdapter(options: HealthAdapterOptions): SourceAdapter {
  return createFhirSourceAdapter(healthAdapterDefinition, options);
}
