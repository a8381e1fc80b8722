/**
 * FHIR R4 export of a plan (architecture: `fhir/`): the plan as one reader may see it, as a
 * `collection` Bundle of CarePlan, Goal, ServiceRequest, Task, CareTeam, Patient/Group, Practitioner,
 * Organization and Provenance. No CPR number, ever: members are named by the service's pseudonymous
 * citizen id (`urn:enplan:citizen`). See docs/decisions/0015-fhir-export.md.
 */
export { planViewToFhirBundle, type PlanBundleOptions } from './plan-bundle';
export { FHIR_JSON, systems, carePlanStatus, carePlanIntent, careTeamStatus, goalLifecycleStatus, serviceRequestStatus, taskStatus } from './codes';
export { fhirId, FHIR_ID } from './ids';
export { planConsentsToFhirBundle, consentSystems, type PlanConsents, type ConsentBundleOptions } from './consent-bundle';
