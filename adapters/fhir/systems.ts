/**
 * Identifier and code systems the FHIR adapters use, in one place so they can be aligned with the
 * real sector systems. The public Danish ones come from DK-core and KL's terminology (hl7dk/dk-core,
 * hl7dk/kl-term, hl7dk/kl-ffb-reporting). Everything under `enplanNamespace` is ours and modelled:
 * the `.example` host makes plain that no real authority publishes it.
 */

/** CPR number (DK-core `dk-core-cpr-identifier`). */
export const CPR_SYSTEM = 'urn:oid:1.2.208.176.1.2';
/** DK-core's municipality codes (kommunekode, written with four digits: 0101 København). */
export const MUNICIPALITY_CODE_SYSTEM = 'http://hl7.dk/fhir/core/CodeSystem/dk-core-municipality-codes';
/** SOR, the Danish health organisation register. */
export const SOR_SYSTEM = 'urn:oid:1.2.208.176.1.1';
/** FSIII (Fællessprog III), municipal health and care. */
export const FSIII_SYSTEM = 'urn:oid:1.2.208.176.2.21';
/** FFB (Fælles faglige begreber), the social area (VUM 2.0). */
export const FFB_SYSTEM = 'urn:oid:1.2.208.176.2.22';
/** SKS (Sundhedsvæsenets Klassifikations System): Danish diagnoses (ICD-10 based, e.g. DF200), procedures, … (DK-core). */
export const SKS_SYSTEM = 'urn:oid:1.2.208.176.2.4';
/** WHO ICD-10 as HL7 names it. */
export const ICD10_SYSTEM = 'http://hl7.org/fhir/sid/icd-10';
/** KL's administrative care-social codes (goal categories, contact types …). */
export const CARE_SOCIAL_SYSTEM = 'http://fhir.kl.dk/term/CodeSystem/CareSocialCodes';

/** KL FFB reporting: the municipality case number extension of an FFB CarePlan (anledningDokumenteretISag). */
export const MUNICIPALITY_CASE_NUMBER_EXTENSION = 'http://fhir.kl.dk/ffbreporting/StructureDefinition/KLReportingFFBMunicipalityCaseNumber';

/** HL7 terminology used as is. */
export const GOAL_CATEGORY_SYSTEM = 'http://terminology.hl7.org/CodeSystem/goal-category';
/** Condition.clinicalStatus (a required binding: only this system's six codes). */
export const CONDITION_CLINICAL_SYSTEM = 'http://terminology.hl7.org/CodeSystem/condition-clinical';
export const CONDITION_VERIFICATION_SYSTEM = 'http://terminology.hl7.org/CodeSystem/condition-ver-status';
export const CONSENT_SCOPE_SYSTEM = 'http://terminology.hl7.org/CodeSystem/consentscope';
export const ACT_REASON_SYSTEM = 'http://terminology.hl7.org/CodeSystem/v3-ActReason';
export const PARTICIPATION_TYPE_SYSTEM = 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType';
export const LOINC_SYSTEM = 'http://loinc.org';

/** Our own (modelled) namespace. */
export const enplanNamespace = 'http://enplan.example/fhir';
/** Identifier of an Én plan element (goal, intervention) written to a sector system. */
export const ENPLAN_ELEMENT_SYSTEM = `${enplanNamespace}/sid/element`;
/** Identifier carrying the idempotency key of the push operation that created a resource. */
export const ENPLAN_OPERATION_SYSTEM = `${enplanNamespace}/sid/operation`;
/** Tag carrying the idempotency key of the last push operation that updated a resource. */
export const ENPLAN_OPERATION_TAG_SYSTEM = `${enplanNamespace}/CodeSystem/operation`;
/** Legal basis stated on a CarePlan activity by the sending system (valueString), when it has one. */
export const LEGAL_BASIS_EXTENSION = `${enplanNamespace}/StructureDefinition/legal-basis`;
/** Modelled regional code systems: no public list exists for these. */
export const REGIONAL_PLAN_TYPE_SYSTEM = `${enplanNamespace}/CodeSystem/regional-plan-type`;
export const REGIONAL_ACTIVITY_SYSTEM = `${enplanNamespace}/CodeSystem/regional-activity`;
/** Modelled role codes for CareTeam participants. */
export const CARE_TEAM_ROLE_SYSTEM = `${enplanNamespace}/CodeSystem/care-team-role`;
