#!/usr/bin/env node
/**
 * `npm run build` (`npm start` runs it first): bundles the Node service with esbuild into dist/, so
 * the service and its jobs run as plain JavaScript, without tsx (docs/decisions/0009). Our own code
 * is inlined; npm packages stay imports from node_modules (`packages: 'external'`); a source map
 * sits beside each file for `--enable-source-maps`.
 *
 * One flat folder, because bundled code finds its companions next to itself: the pull worker
 * (src/sync/pull-worker.ts starts `pull-worker.mjs` beside the module) and the migrations
 * (src/store/libsql.ts reads `migrations/` beside the module).
 *
 *   dist/node.mjs          the service (src/runtime/node.ts)
 *   dist/run-job.mjs       bree's bootstrap for a job thread (src/runtime/jobs/run-job.js)
 *   dist/*-job.mjs         the jobs (src/runtime/jobs/*-job.ts)
 *   dist/pull-worker.mjs   the pull worker's thread (src/sync/pull-worker-main.ts)
 *   dist/migrations/       src/store/migrations
 *
 *   node scripts/build.mjs [outdir]      (default dist; the folder is replaced)
 *
 * B2 builds its benchmark with `buildBundle` (bench/run.ts), so it measures the same code.
 */
import { cpSync, existsSync, rmSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

export const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** The settings of every bundle. */
export const esbuildOptions = {
  absWorkingDir: root,
  bundle: true,
  platform: 'node',
  format: 'esm',
  packages: 'external',
  target: 'node20',
  outExtension: { '.js': '.mjs' },
  // The maps serve stack traces (file and line); the sources are in the repository, not in the map.
  sourcemap: true,
  sourcesContent: false,
  logLevel: 'warning',
};

/** The service's entry points: output name → source. */
export const serviceEntries = {
  node: 'src/runtime/node.ts',
  'run-job': 'src/runtime/jobs/run-job.js',
  'sync-job': 'src/runtime/jobs/sync-job.ts',
  'sync-thread-job': 'src/runtime/jobs/sync-thread-job.ts',
  'relay-job': 'src/runtime/jobs/relay-job.ts',
  'retention-job': 'src/runtime/jobs/retention-job.ts',
};

const pullWorkerEntry = 'src/sync/pull-worker-main.ts';
const storeThreadEntry = 'src/store/sqlite-thread-worker.js';
const migrations = 'src/store/migrations';

/**
 * Bundles `entryPoints` (output name → source, relative to the repository root) into `outdir`
 * (replaced), with what bundled code looks for beside itself: the pull worker, when the sources
 * have one, and the migrations (their SQL and journal; the snapshots are drizzle-kit's).
 */
export async function buildBundle(outdir, entryPoints) {
  const out = resolve(root, outdir);
  // Never the repository itself or a folder holding it.
  if (!relative(out, root).startsWith('..')) throw new Error(`build: refusing to replace ${out}`);
  rmSync(out, { recursive: true, force: true });
  const entries = {
    ...entryPoints,
    ...(existsSync(join(root, pullWorkerEntry)) ? { 'pull-worker': pullWorkerEntry } : {}),
    ...(existsSync(join(root, storeThreadEntry)) ? { 'sqlite-thread': storeThreadEntry } : {}),
  };
  await esbuild.build({ ...esbuildOptions, entryPoints: entries, outdir: out });
  cpSync(join(root, migrations), join(out, 'migrations'), { recursive: true, filter: (file) => !basename(file).endsWith('_snapshot.json') });
  return out;
}

/** Builds the service into `outdir` (default dist/); returns its absolute path. */
export function buildService(outdir = 'dist') {
  return buildBundle(outdir, serviceEntries);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const started = performance.now();
  const out = await buildService(process.argv[2]);
  console.log(`build: ${relative(process.cwd(), out) || '.'}/ in ${Math.round(performance.now() - started)} ms`);
}
