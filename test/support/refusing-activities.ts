/**
 * The DFDG activity mapping as it was before a fix: it refuses every activity, so a sync quarantines
 * them — the state the quarantine tests start from (IT staff fix the mapping, then retry or read).
 * Any other mapping can be made to refuse the same way.
 */
import type { Mapping } from '../../mappings/mapping';
import { allMappings } from '../../src/sync/all-mappings';
import { createMappingRegistry } from '../../src/sync/registry';

export const activityMapping = allMappings.find('dfdg', 'activity')!;
/** Every mapping as deployed, but the one for `adapter`'s `recordType` refusing every record of it. */
export function refusingRecordsOf(adapter: string, recordType: string, ruleId: string, reason: string) {
  const refused = allMappings.find(adapter, recordType)!;
  const refusing: Mapping = { ...refused, map: () => ({ ok: false, ruleId, reason, unknownCodes: [], ignoredFields: [] }) };
  return createMappingRegistry(allMappings.all().map((m) => (m === refused ? refusing : m)));
}
/** Every mapping as deployed, but the activity mapping refusing. */
export const beforeTheFix = refusingRecordsOf('dfdg', 'activity', 'activity.type', 'the activation type list lacks this code');
