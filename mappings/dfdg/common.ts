/**
 * Pieces the DFDG mappings share: the responsible jobcentre as a unit name, and activation types
 * and statuses looked up in their code lists.
 *
 * Unknown codes — the choice, per kind of code:
 * - a code that only names a kind (activation type, process type) is MAPPED: the code is kept,
 *   its display becomes "ukendt kode", the legal basis falls back to the act (LAB), and the code
 *   is reported in `unknownCodes`. The activity exists in DFDG; leaving it out of the plan would
 *   hide a real offer from the caseworker.
 * - a status code FAILS the record (rule `…status`): the status says whether the offer is running,
 *   and a guess would show the citizen's plan wrong. The record is quarantined until the code list
 *   is updated.
 */
import type { Coding, Sector } from '../../src/model';
import { MappingRun, UNKNOWN_CODE_DISPLAY } from '../../adapters/soap/mapping-support';
import { activationTypes, activityStatuses } from './code-lists';

export const MAPPING_VERSION = '1.0.0';

/** Where DFDG's activities get their legal basis when the activation type is unknown. */
export const FALLBACK_EMPLOYMENT_BASIS = 'LAB';

export function authorityUnit(authority: { AuthorityCode: string; AuthorityName?: string | undefined }): string {
  return authority.AuthorityName ?? `Jobcenter ${authority.AuthorityCode}`;
}

export function activationType(run: MappingRun, code: string): { type: Coding; sector: Sector; legalBasis: string; known: boolean } {
  const entry = activationTypes.lookup(code);
  if (!entry) run.unknownCode(activationTypes.system, code);
  return {
    type: { system: activationTypes.system, code, display: entry?.display ?? UNKNOWN_CODE_DISPLAY },
    sector: entry?.sector ?? 'employment',
    legalBasis: entry?.legalBasis ?? FALLBACK_EMPLOYMENT_BASIS,
    known: entry !== undefined,
  };
}

/** The model status of an activity status code, or undefined (and noted) when unknown. */
export function activityStatus(run: MappingRun, code: string) {
  const entry = activityStatuses.lookup(code);
  if (!entry) run.unknownCode(activityStatuses.system, code);
  return entry?.status;
}
