/**
 * The DFDG code lists the mappings (and the DFDG simulator) use. All four are MODELLED: STAR's
 * real lists are not public; each JSON file says so in its `origin`.
 */
import { z } from 'zod';
import { defineCodeList } from '../../adapters/soap/code-list';
import { InterventionStatus, LegalBasis, Sector } from '../../src/model';
import activationTypesFile from './codes/activation-types.json' with { type: 'json' };
import activityStatusesFile from './codes/activity-statuses.json' with { type: 'json' };
import rehabilitationTypesFile from './codes/rehabilitation-process-types.json' with { type: 'json' };
import rehabilitationStatusesFile from './codes/rehabilitation-process-statuses.json' with { type: 'json' };

export const activationTypes = defineCodeList(
  activationTypesFile,
  z.object({ code: z.string(), display: z.string(), sector: Sector, legalBasis: LegalBasis }),
);

const statusEntry = z.object({ code: z.string(), display: z.string(), status: InterventionStatus });

export const activityStatuses = defineCodeList(activityStatusesFile, statusEntry);

export const rehabilitationProcessTypes = defineCodeList(
  rehabilitationTypesFile,
  z.object({ code: z.string(), display: z.string(), legalBasis: LegalBasis }),
);

export const rehabilitationProcessStatuses = defineCodeList(rehabilitationStatusesFile, statusEntry);
