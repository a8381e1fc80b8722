/**
 * The sync engine's door: consent-gated, resumable sync rounds (`runSyncRound`, `runSync`), the
 * merge with provenance, the mapping registry, quarantine resolution and retention.
 */
export { runSync, runSyncRound, rawOf, type SyncOptions, type SyncRoundOptions, type SyncRunResult, type SyncStats } from './engine';
export { compareVersions, mergeFragments, stableStringify, type FragmentOrigin, type MergeInput, type MergeOutcome, type UnresolvedReference } from './merge';
export { createMappingRegistry, type MappingRegistry } from './registry';
export { allMappings } from './all-mappings';
export { runSyncNow } from './on-demand';
export { resolveQuarantined, type QuarantineAction } from './quarantine';
export { runRetention } from './retention';
