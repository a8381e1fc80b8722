/**
 * The DFDG activity mapping as it was before a fix: it refuses every activity, so a sync quarantines
 * them — the state the quarantine tests start from (IT staff fix the mapping, then retry or read).
 */
import type { Mapping } from '../../mappings/mapping';
import { allMappings } from '../../src/sync/all-mappings';
import { createMappingRegistry } from '../../src/sync/registry';

export const activityMapping = allMappings.find('dfdg', 'activity')!;
const refusingActivities: Mapping = { ...activityMapping, map: () => ({ ok: false, ruleId: 'activity.type', reason: 'the activation type list lacks this code', unknownCodes: [], ignoredFields: [] }) };
/** Every mapping as deployed, but the activity mapping refusing. */
export const beforeTheFix = createMappingRegistry(allMappings.all().map((m) => (m === activityMapping ? refusingActivities : m)));
