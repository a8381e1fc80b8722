/**
 * The mappings as they were before CarePlan activities were named by what they are (decision 0003,
 * session 19): social.careplan 1.2.0 and health.careplan 1.0.0 named each activity by its position,
 * which is the id the current version gives as `formerElementId`, and ordered it so. For tests of
 * plans merged under the older version and read again under the newer one.
 */
import type { CarePlan as CarePlanRecord } from '../../adapters/fhir/contract';
import { healthCarePlanMapping } from '../../mappings/health';
import type { Mapping } from '../../mappings/mapping';
import { socialCarePlanMapping } from '../../mappings/social';
import { allMappings } from '../../src/sync/all-mappings';
import { createMappingRegistry, type MappingRegistry } from '../../src/sync/registry';

const olderVersion = { social: { current: socialCarePlanMapping, version: '1.2.0' }, health: { current: healthCarePlanMapping, version: '1.0.0' } };

/** The CarePlan mapping of `system` as it was, naming each activity by its position. */
export function positionNamedCarePlans(system: 'social' | 'health'): Mapping<CarePlanRecord> {
  const { current, version } = olderVersion[system];
  return {
    ...current,
    version,
    map(plan, context) {
      const result = current.map(plan, context);
      if (!result.ok) return result;
      const fragments = result.fragments.map(({ formerElementId, ...fragment }) =>
        formerElementId ? ({ ...fragment, elementId: formerElementId, content: { ...fragment.content, order: Number(formerElementId.split(':').pop()) } } as typeof fragment) : fragment,
      );
      return { ...result, fragments };
    },
  };
}

/** Every mapping as today, but `system`'s CarePlans as they were read before. */
export function mappingsBeforeActivityIdentity(system: 'social' | 'health'): MappingRegistry {
  const older = positionNamedCarePlans(system);
  return createMappingRegistry(allMappings.all().map((m) => (m.id === older.id ? (older as Mapping<unknown>) : m)));
}
