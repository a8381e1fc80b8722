// Run from the TypeScript sources (tests, tsx): registers tsx in the worker thread, then loads the
// pull worker's TypeScript entry. The built service starts dist/pull-worker.mjs directly.
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(workerData.entry);
