/**
 * `npm run bench` — runs the benchmarks in bench/, each in its own Node process (so one cannot warm
 * up, slow down or leak memory into the next), one after the other, and each writes its results to
 * bench/results/. Benchmarks are not tests: they are never part of `npm test`.
 *
 *   npm run bench                 every benchmark below, in order
 *   npm run bench -- b1           one benchmark by name (b1, B1 or b1-mapping)
 *   npm run bench -- b1 b4        several
 *   npm run bench -- b1 social    arguments after the names go to the benchmark (here: B1 on one format)
 *   npm run bench -- --list       what there is
 *
 * A benchmark is a script that runs when executed and exits 0 when it ran (a missed goal is a
 * result, not a failure). To add one, add its line to `benchmarks`. One that measures the service's
 * own code (B2) runs compiled, as `npm start` runs the service (docs/decisions/0009).
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildBundle } from '../scripts/build.mjs';
import { syncHeapFlags } from '../src/runtime/memory';

interface Benchmark {
  name: string;
  file: string;
  what: string;
  /** V8 flags the benchmark runs with, when it measures something the service runs with flags. */
  nodeFlags?: readonly string[];
  /**
   * Run as the service runs (`npm start`): bundled by scripts/build.mjs into bench/dist/ and run as
   * JavaScript with source maps, instead of through tsx.
   */
  compiled?: boolean;
}

const benchmarks: readonly Benchmark[] = [
  { name: 'b1', file: 'b1-mapping.ts', what: 'mapping throughput per core per source format, against raw parse and JSONata' },
  // The sync runs as `npm start` runs it: compiled, with the service's heap settings (src/runtime/memory.ts).
  { name: 'b2', file: 'b2-sync.ts', what: 'full and incremental sync of 50,000 citizens × 4 sources', nodeFlags: syncHeapFlags, compiled: true },
  { name: 'b3', file: 'b3-webhooks.ts', what: 'signed webhook ingest under load, against a bare Hono hello-world' },
  { name: 'b4', file: 'b4-fanout.ts', what: 'single-registration fan-out to 4 simulated targets' },
  { name: 'b5', file: 'b5-plan-read.ts', what: 'plan reads at 1,000 requests/s and at capacity, on the demo’s synced plans' },
];

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');

const find = (arg: string) => {
  const key = arg.toLowerCase();
  return benchmarks.find((b) => b.name === key || b.file === key || b.file === `${key}.ts`);
};

function list(): string {
  return benchmarks.map((b) => `  ${b.name.padEnd(4)} bench/${b.file.padEnd(16)} ${b.what}`).join('\n');
}

/** Bundles the benchmark with the service's build settings; returns the .mjs to run. */
async function compile(benchmark: Benchmark): Promise<string> {
  const name = basename(benchmark.file, '.ts');
  const started = performance.now();
  const out = await buildBundle(join(here, 'dist'), { [name]: `bench/${benchmark.file}` });
  console.log(`bench: built bench/dist/${name}.mjs in ${Math.round(performance.now() - started)} ms`);
  return join(out, `${name}.mjs`);
}

async function run(benchmark: Benchmark, args: readonly string[]): Promise<number> {
  const file = join(here, benchmark.file);
  if (!existsSync(file)) {
    console.error(`bench: ${benchmark.name}: bench/${benchmark.file} does not exist`);
    return 1;
  }
  console.log(`\n=== ${benchmark.name.toUpperCase()} (bench/${benchmark.file}${benchmark.compiled ? ', compiled' : ''}) ${args.length ? args.join(' ') : ''}`);
  // Compiled: bench/dist/<name>.mjs beside the pull worker and migrations it uses (scripts/build.mjs);
  // otherwise `--import tsx` runs the TypeScript directly, as `tsx` does for this script.
  let entry: string | undefined;
  try {
    if (benchmark.compiled) entry = await compile(benchmark);
  } catch (error) {
    console.error(`bench: ${benchmark.name}: the build failed: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  }
  const started = performance.now();
  const child = spawn(process.execPath, [...(benchmark.nodeFlags ?? []), ...(entry ? ['--enable-source-maps', entry] : ['--import', 'tsx', file]), ...args], { cwd: root, stdio: 'inherit', env: process.env });
  return new Promise((resolve) => {
    child.on('error', (error) => {
      console.error(`bench: ${benchmark.name}: ${error.message}`);
      resolve(1);
    });
    child.on('exit', (code, signal) => {
      const seconds = Math.round((performance.now() - started) / 100) / 10;
      const status = code ?? (signal ? 128 : 1);
      console.log(`=== ${benchmark.name.toUpperCase()} ${status === 0 ? 'done' : `failed (${signal ?? `exit ${code}`})`} in ${seconds} s`);
      resolve(status);
    });
  });
}

const argv = process.argv.slice(2);
if (argv.includes('--list') || argv.includes('--help') || argv.includes('-h')) {
  console.log(`npm run bench [-- <name>… [benchmark arguments]]\n\n${list()}`);
  process.exit(0);
}

// Leading arguments that name benchmarks select them; the rest go to each selected benchmark.
const selected: Benchmark[] = [];
let rest = 0;
while (rest < argv.length && find(argv[rest]!)) selected.push(find(argv[rest++]!)!);
const passThrough = argv.slice(rest);
if (!selected.length && passThrough.length) {
  console.error(`bench: no benchmark named "${passThrough[0]}"\n\n${list()}`);
  process.exit(2);
}

let failed = 0;
for (const benchmark of selected.length ? selected : benchmarks) {
  if ((await run(benchmark, passThrough)) !== 0) failed++;
}
process.exit(failed ? 1 : 0);
