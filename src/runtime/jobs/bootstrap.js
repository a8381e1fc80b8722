// Bree runs every job in a worker thread from a plain .js file; run from the TypeScript sources
// (tests, `npm run dev`), this one registers tsx so the job itself can be TypeScript, then runs it
// (run-job.js). The built service starts its jobs from dist/run-job.mjs, without tsx.
import { register } from 'tsx/esm/api';

register();
await import('./run-job.js');
