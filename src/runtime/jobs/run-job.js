// A bree job thread: runs the job module named in workerData and tells bree it is done. Plain
// JavaScript, so the built service (dist/run-job.mjs) starts its jobs without tsx; bootstrap.js
// registers tsx first, for the TypeScript jobs.
import { parentPort, workerData } from 'node:worker_threads';

const { run } = await import(workerData.jobModule);
await run(workerData.options ?? {});
parentPort?.postMessage('done');
