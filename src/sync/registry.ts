/** Which mapping handles which adapter's record type. */
import type { Mapping } from '../../mappings/mapping';

export interface MappingRegistry {
  find(adapter: string, recordType: string): Mapping | undefined;
  all(): readonly Mapping[];
}

export function createMappingRegistry(mappings: readonly Mapping[]): MappingRegistry {
  const byKey = new Map(mappings.map((m) => [`${m.adapter}|${m.recordType}`, m]));
  return { find: (adapter, recordType) => byKey.get(`${adapter}|${recordType}`), all: () => mappings };
}
