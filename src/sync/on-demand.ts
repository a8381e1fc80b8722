/** Syncs someone asked for now: on a thread of their own where the runtime has one (Node). */
import type { AppDeps, OnDemandSync } from '../api/context';
import { runSync, type SyncRunResult } from './engine';

export function runSyncNow(deps: AppDeps, options: OnDemandSync): Promise<SyncRunResult> {
  return deps.runSyncOnThread ? deps.runSyncOnThread(options) : runSync(deps, { ...options, mappings: deps.mappings });
}
