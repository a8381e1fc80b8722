// A pull worker that dies on its first request (test/sync/pull-worker.test.ts).
import { parentPort } from 'node:worker_threads';

parentPort.on('message', () => process.exit(3));
