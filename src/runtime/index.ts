/**
 * The runtimes' door: how the app's ports are composed from configuration (shared by Node, Workers
 * and tests). The entry points themselves are `node.ts` (npm start) and `worker.ts` (wrangler).
 */
export { composeDeps, systemClock } from './compose';
