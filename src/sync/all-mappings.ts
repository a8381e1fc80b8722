/** Every versioned mapping the service knows, by adapter and record type. */
import { dfdgMappings } from '../../mappings/dfdg';
import { educationMappings } from '../../mappings/education';
import { healthMappings } from '../../mappings/health';
import type { Mapping } from '../../mappings/mapping';
import { socialMappings } from '../../mappings/social';
import { createMappingRegistry } from './registry';

export const allMappings = createMappingRegistry([
  ...(Object.values(dfdgMappings) as Mapping[]),
  ...(Object.values(educationMappings) as Mapping[]),
  ...socialMappings,
  ...healthMappings,
]);
