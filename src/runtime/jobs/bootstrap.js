// Bree runs every job in a worker thread from a plain .js file; this one registers tsx so the
// job itself can be TypeScript, then runs the job module named in workerData.
import { parentPort, workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
const { run } = await import(workerData.jobModule);
await run(workerData.options ?? {});
parentPort?.postMessage('done');
