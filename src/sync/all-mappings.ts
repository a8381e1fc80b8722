/** Every versioned mapping the service knows, by adapter and record type. */
import { dfdgMappings } from '../../mappings/dfdg';
import { educationMappings } from '../../mappings/education';
import type { Mapping } from '../../mappings/mapping';
import { createMappingRegistry } from './registry';

export const allMappings = createMappingRegistry([...Object.values(dfdgMappings), ...Object.values(educationMappings)] as Mapping[]);
