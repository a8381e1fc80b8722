/**
 * The Ungedatabasen / KUI code lists the mappings (and the education simulator) use. All four are
 * MODELLED: the real lists and the plan structure are not public; each JSON file says so.
 */
import { z } from 'zod';
import { defineCodeList } from '../../adapters/soap/code-list';
import { InterventionStatus, LegalBasis, Sector, Topic } from '../../src/model';
import programmesFile from './codes/education-programmes.json' with { type: 'json' };
import activityTypesFile from './codes/plan-activity-types.json' with { type: 'json' };
import activityStatusesFile from './codes/plan-activity-statuses.json' with { type: 'json' };
import eventTypesFile from './codes/event-types.json' with { type: 'json' };

export const educationProgrammes = defineCodeList(programmesFile, z.object({ code: z.string(), display: z.string(), legalBasis: LegalBasis }));

export const planActivityTypes = defineCodeList(activityTypesFile, z.object({ code: z.string(), display: z.string(), sector: Sector }));

export const planActivityStatuses = defineCodeList(activityStatusesFile, z.object({ code: z.string(), display: z.string(), status: InterventionStatus }));

export const educationEventTypes = defineCodeList(
  eventTypesFile,
  z.object({ code: z.string(), display: z.string(), status: InterventionStatus, topic: Topic.optional() }),
);
