/**
 * The social adapter: a municipal social fagsystem (Nexus, Cura, Sensum, DUBU …) speaking KL's FHIR
 * R4 profiles — care-social / FFB CarePlans with the municipality case number, Goals, Conditions with
 * FFB or FSIII codes, and the CareTeam of the coordinating caseworker — through fhir-kit-client.
 * What the records mean is in mappings/social.
 */
import type { SourceAdapter } from '../adapter';
import { CarePlan, CareTeam, Condition, Goal, ServiceRequest } from '../fhir/contract';
import { createFhirSourceAdapter, type FhirAdapterDefinition, type FhirAdapterOptions } from '../fhir/fhir-adapter';

export type SocialAdapterOptions = FhirAdapterOptions;

export const socialAdapterDefinition: FhirAdapterDefinition = {
  description: {
    id: 'social',
    name: 'municipal social system (KL care-social / FFB)',
    sector: 'social',
    format: 'FHIR R4 JSON (KL care-social, FFB and FSIII code systems)',
    recordTypes: ['CarePlan', 'Goal', 'Condition', 'CareTeam'],
    pushOperations: ['goal.upsert', 'intervention.upsert', 'service-request.create'],
  },
  recordTypes: [
    { type: 'CarePlan', patientParam: 'subject', contract: CarePlan },
    { type: 'Goal', patientParam: 'subject', contract: Goal },
    { type: 'Condition', patientParam: 'subject', contract: Condition },
    { type: 'CareTeam', patientParam: 'subject', contract: CareTeam },
  ],
  pushTargets: {
    'goal.upsert': { resourceType: 'Goal', contract: Goal },
    'intervention.upsert': { resourceType: 'CarePlan', contract: CarePlan },
    'service-request.create': { resourceType: 'ServiceRequest', contract: ServiceRequest },
  },
};

/** e.g. `createSocialAdapter({ baseUrl: 'https://fhir.kommune.example/fhir', timeoutMs: 10_000 })`. */
export function createSocialAdapter(options: SocialAdapterOptions): SourceAdapter {
  return createFhirSourceAdapter(socialAdapterDefinition, options);
}
