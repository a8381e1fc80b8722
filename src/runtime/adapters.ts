/** Builds the sector adapters from configuration: an adapter is configured when its URL is set. */
import type { SourceAdapter } from '../../adapters/adapter';
import { createDfdgAdapter } from '../../adapters/dfdg';
import { createEducationAdapter } from '../../adapters/education/adapter';
import { createHealthAdapter } from '../../adapters/health/adapter';
import { createSocialAdapter } from '../../adapters/social/adapter';
import type { Config } from '../config';
import type { SourceSystem } from '../model';

export function adaptersFromConfig(config: Config): Partial<Record<SourceSystem, SourceAdapter>> {
  const { adapters } = config;
  const timeoutMs = adapters.timeoutMs;
  const result: Partial<Record<SourceSystem, SourceAdapter>> = {};
  if (adapters.dfdg) result.dfdg = createDfdgAdapter({ baseUrl: adapters.dfdg, timeoutMs, organisation: adapters.starOrganisation });
  if (adapters.education) result.education = createEducationAdapter({ baseUrl: adapters.education, timeoutMs, municipalityCode: adapters.starOrganisation.code });
  if (adapters.social) result.social = createSocialAdapter({ baseUrl: adapters.social, timeoutMs });
  if (adapters.health) result.health = createHealthAdapter({ baseUrl: adapters.health, timeoutMs });
  return result;
}
