/**
 * B2: full sync of N enrolled citizens (default 50,000) × 4 simulated sources over loopback HTTP
 * (three times, each from the database as seeded; the median counts), then an incremental sync
 * after 1 % of the records changed (three times, each after a fresh change; the median counts). Measures wall time and peak RSS of
 * the syncing process (the simulators run in a child process of their own, as the real sector
 * systems would). Goals (targets.md): full ≤ 60 s, peak RSS ≤ 300 MB, incremental ≤ 3 % of full.
 *
 *   npm run bench -- b2 [citizens]
 */
import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { SourceSystem } from '../src/model';
import { openNodeDeps } from '../src/runtime/node-deps';
import { allMappings } from '../src/sync/all-mappings';
import { runSyncRound, type SyncStats } from '../src/sync/engine';

// `npm run bench` runs this file compiled, as bench/dist/b2-sync.mjs (bench/run.ts); `tsx bench/b2-sync.ts`
// runs the source. Either way `here` is bench/, where the simulators and seeding scripts (run through
// tsx: they are not measured) and the results are.
const compiled = !import.meta.url.endsWith('.ts');
const here = fileURLToPath(new URL(compiled ? '..' : '.', import.meta.url));
const size = Number(process.argv[2] ?? 50_000);
const adapters: SourceSystem[] = ['dfdg', 'education', 'social', 'health'];

// Peak RSS of this process: sampled, and the kernel's own high-water mark at the end.
let peakRss = 0;
let peakParts = { heapTotal: 0, external: 0, arrayBuffers: 0 };
const sampler = setInterval(() => { const m = process.memoryUsage(); if (m.rss > peakRss) { peakRss = m.rss; peakParts = { heapTotal: m.heapTotal, external: m.external, arrayBuffers: m.arrayBuffers }; } }, 250);

console.log(`B2: starting the simulators for ${size} citizens in a child process…`);
// B2_PROFILE: the simulators write CPU profiles of their whole life there too (on `quit`; one per thread, CPU.*.cpuprofile).
const simulatorProfile = process.env.B2_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.B2_PROFILE}`] : [];
const simulators = spawn(process.execPath, [...simulatorProfile, '--import', 'tsx', join(here, 'b2-simulators.ts'), String(size)], { stdio: ['pipe', 'pipe', 'inherit'] });
const lines = createInterface({ input: simulators.stdout! })[Symbol.asyncIterator]();
const urls = JSON.parse((await lines.next()).value as string) as Record<string, string>;

const dir = mkdtempSync(join(tmpdir(), 'enplan-b2-'));
// Enrolment is set-up, not measured: a child process writes the citizens, plans and consents into
// the SQLite file, so neither its time nor its memory counts against this (the syncing) process.
console.log('B2: enrolling the citizens with consent to all four sources (child process)…');
const seedStarted = performance.now();
const seeding = spawn(process.execPath, ['--import', 'tsx', join(here, 'b2-seed.ts'), dir, String(size)], { stdio: 'inherit' });
const seedExit = await new Promise<number | null>((resolve) => seeding.on('exit', resolve));
if (seedExit !== 0) throw new Error(`B2: enrolment failed (exit ${seedExit})`);
// Opened as the scheduled sync job opens it (src/runtime/jobs/sync-job.ts); B2_PULL_WORKER=1 pulls and maps in a
// worker thread, as SYNC_PULL_WORKER=on does (decision 0010).
const pullWorker = process.env.B2_PULL_WORKER === '1';
const openDeps = () => openNodeDeps({ ...urls, DATA_DIR: dir, LOG_LEVEL: 'error', ADAPTER_TIMEOUT_MS: '30000', SYNC_PULL_WORKER: pullWorker ? 'on' : 'off', SYNC_STORE_THREAD: process.env.B2_STORE_THREAD ?? 'on' }, { pullWorker: true, storeThread: 'sync' });
console.log(`B2: enrolled ${size} in ${Math.round(performance.now() - seedStarted)} ms (not measured)`);
// The enrolled database as seeded, so every full sync starts from the same state.
const database = join(dir, 'enplan.db');
const seeded = join(dir, 'seeded.db');
copyFileSync(database, seeded);
const restoreSeeded = () => {
  for (const suffix of ['-wal', '-shm']) rmSync(database + suffix, { force: true });
  copyFileSync(seeded, database);
};
let { deps, close: closeDeps } = await openDeps();

/** CPU seconds (user + system) a process has used so far, from /proc (Linux); undefined elsewhere. */
function processCpuSeconds(pid: number): number | undefined {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime and stime, in clock ticks of 1/100 s
  } catch {
    return undefined;
  }
}

/** CPU seconds per thread of this process (Linux /proc), by thread id and name: where a run's CPU went. */
function threadCpuSeconds(): Map<string, { name: string; seconds: number }> {
  const threads = new Map<string, { name: string; seconds: number }>();
  try {
    for (const tid of readdirSync('/proc/self/task')) {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      const fields = stat.split(') ')[1]!.split(' ');
      threads.set(tid, { name: stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')), seconds: (Number(fields[11]) + Number(fields[12])) / 100 });
    }
  } catch {
    // not Linux: no breakdown
  }
  return threads;
}

async function syncAll(trigger: string) {
  const threadsBefore = threadCpuSeconds();
  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  const simulatorCpuBefore = processCpuSeconds(simulators.pid!);
  const only = process.env.B2_ONLY ? [process.env.B2_ONLY as SourceSystem] : adapters;
  const results = await runSyncRound(deps, { tenant: '101', adapters: only, trigger, mappings: allMappings });
  const ms = performance.now() - started;
  const cpu = process.cpuUsage(cpuBefore);
  const simulatorCpuAfter = processCpuSeconds(simulators.pid!);
  // Where the wall time went: the syncing process's CPU, and the simulators' (the sector systems' side).
  const cpuSeconds = { sync: Number(((cpu.user + cpu.system) / 1e6).toFixed(1)), simulators: simulatorCpuBefore === undefined || simulatorCpuAfter === undefined ? null : Number((simulatorCpuAfter - simulatorCpuBefore).toFixed(1)) };
  console.log(`B2: ${trigger}: ${Math.round(ms)} ms wall; CPU: syncing process ${cpuSeconds.sync} s, simulators ${cpuSeconds.simulators ?? '?'} s`);
  // The main thread runs the sync; the others are the store thread, V8's garbage-collection and
  // compiler helpers and libuv's pool (Linux names them all "node"), largest first.
  const byThread = [...threadCpuSeconds()].map(([tid, t]) => ({ main: tid === String(process.pid), seconds: Number((t.seconds - (threadsBefore.get(tid)?.seconds ?? 0)).toFixed(2)) })).filter((t) => t.seconds >= 0.05).sort((a, b) => b.seconds - a.seconds);
  const cpuByThread = { main: byThread.find((t) => t.main)?.seconds ?? null, others: byThread.filter((t) => !t.main).map((t) => t.seconds) };
  console.log(`B2: ${trigger}: CPU by thread: main ${cpuByThread.main ?? '?'} s, others ${cpuByThread.others.join(', ')} s`);
  return { ms, cpuSeconds, cpuByThread, results: Object.fromEntries(only.map((a, i) => [a, { status: results[i]!.status, ...pick(results[i]!.stats) }])) };
}
const pick = (s: SyncStats) => ({ catchUpMs: s.catchUpMs, feedMs: s.feedMs, batchFallbacks: s.batchFallbacks, citizensPulled: s.citizensPulled, citizensUnknownAtSource: s.citizensUnknownAtSource, recordsRead: s.recordsRead, recordsMerged: s.recordsMerged, quarantined: s.quarantined, refusedByConsent: s.refusedByConsent, pullErrors: s.pullErrors, changeNotices: s.changeNotices });

peakRss = process.memoryUsage().rss;
console.log(`B2: RSS before the full sync ${Math.round(peakRss / 1e6)} MB (high-water so far ${Math.round(process.resourceUsage().maxRSS / 1e3)} MB), heap ${Math.round(process.memoryUsage().heapUsed / 1e6)} MB`);
// B2_PROFILE=<dir>: CPU profiles of the (first) full and the incremental sync alone (not of seeding), for finding hot spots.
const profiler = process.env.B2_PROFILE ? new (await import('node:inspector/promises')).Session() : undefined;
if (profiler) {
  profiler.connect();
  await profiler.post('Profiler.enable');
}
// This machine's speed varies from run to run (the simulators' CPU for the very same work by up to
// ~15 %), so the full sync is measured B2_FULL_RUNS times (default 3), each from the seeded
// database, and the median counts, as for the incremental. The incrementals follow the last one.
const fullRuns = Math.max(1, Number(process.env.B2_FULL_RUNS ?? 3));
const fulls: Awaited<ReturnType<typeof syncAll>>[] = [];
for (let i = 0; i < fullRuns; i++) {
  if (i > 0) {
    await closeDeps();
    restoreSeeded();
    ({ deps, close: closeDeps } = await openDeps());
  }
  console.log(`B2: full sync ${i + 1} of ${fullRuns}…`);
  if (profiler && i === 0) await profiler.post('Profiler.start');
  fulls.push(await syncAll(`b2-full-${i + 1}`));
  if (profiler && i === 0) {
    const { profile } = await profiler.post('Profiler.stop');
    writeFileSync(join(process.env.B2_PROFILE!, `b2-full-sync-${size}.cpuprofile`), JSON.stringify(profile));
  }
}
const full = [...fulls].sort((a, b) => a.ms - b.ms)[Math.floor((fulls.length - 1) / 2)]!;
console.log(`B2: full syncs ${fulls.map((f) => Math.round(f.ms)).join(', ')} ms; median ${Math.round(full.ms)} ms`);
// The kernel's high-water mark covers this process's whole life, which is the sync (enrolment ran elsewhere).
const fullPeakRss = Math.max(peakRss, process.resourceUsage().maxRSS * 1024);
console.log(`B2: full sync ${Math.round(full.ms)} ms; at peak RSS: heap ${Math.round(peakParts.heapTotal / 1e6)} MB, external ${Math.round(peakParts.external / 1e6)} MB, array buffers ${Math.round(peakParts.arrayBuffers / 1e6)} MB`);

// The incremental is short enough for this machine's run-to-run spread to matter, so it is measured
// B2_INCREMENTAL_RUNS times (default 3), each after a fresh 1 % change, and the median counts.
const incrementalRuns = Math.max(1, Number(process.env.B2_INCREMENTAL_RUNS ?? 3));
const incrementals: { mutated: number; run: Awaited<ReturnType<typeof syncAll>> }[] = [];
for (let i = 0; i < incrementalRuns; i++) {
  simulators.stdin!.write('mutate 0.01\n');
  const mutated = Number(((await lines.next()).value as string).split(' ')[1]);
  console.log(`B2: ${mutated} records changed; incremental sync ${i + 1} of ${incrementalRuns}…`);
  const heapSampling = profiler && process.env.B2_HEAP_SAMPLING === '1' && i === 1;
  if (profiler && i === 0) await profiler.post('Profiler.start');
  // B2_HEAP_SAMPLING=1 (with B2_PROFILE): what the second incremental allocates, collected or not.
  if (heapSampling) await profiler.post('HeapProfiler.startSampling', { samplingInterval: 8192, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
  const run = await syncAll(`b2-incremental-${i + 1}`);
  if (profiler && i === 0) {
    const { profile } = await profiler.post('Profiler.stop');
    writeFileSync(join(process.env.B2_PROFILE!, `b2-incremental-sync-${size}.cpuprofile`), JSON.stringify(profile));
  }
  if (heapSampling) {
    const { profile } = await profiler.post('HeapProfiler.stopSampling');
    writeFileSync(join(process.env.B2_PROFILE!, `b2-incremental-sync-${size}.heapprofile`), JSON.stringify(profile));
  }
  incrementals.push({ mutated, run });
}
const median = [...incrementals].sort((a, b) => a.run.ms - b.run.ms)[Math.floor((incrementals.length - 1) / 2)]!;
const { mutated, run: incremental } = median;
console.log(`B2: incremental syncs ${incrementals.map((i) => Math.round(i.run.ms)).join(', ')} ms; median ${Math.round(incremental.ms)} ms`);

clearInterval(sampler);
simulators.stdin!.write('quit\n');
await closeDeps();
// B2_KEEP_DB=1 keeps the SQLite file for inspection (its path is printed).
if (process.env.B2_KEEP_DB) console.log(`B2: database kept in ${dir}`);
else rmSync(dir, { recursive: true, force: true });

const result = {
  benchmark: 'B2',
  date: new Date().toISOString(),
  machine: { cpus: cpus().length, model: cpus()[0]?.model, node: process.version },
  v8Flags: process.execArgv.filter((flag) => flag.startsWith('--max-')),
  code: compiled ? 'compiled (esbuild bundle, scripts/build.mjs)' : 'TypeScript through tsx',
  pullWorker,
  citizens: size,
  sources: adapters.length,
  full: { wallMs: Math.round(full.ms), cpuSeconds: full.cpuSeconds, cpuByThread: full.cpuByThread, peakRssMb: Math.round(fullPeakRss / 1e6), perSource: full.results },
  fullRuns: fulls.map((f) => ({ wallMs: Math.round(f.ms), cpuSeconds: f.cpuSeconds })),
  incremental: { changedRecords: mutated, wallMs: Math.round(incremental.ms), cpuSeconds: incremental.cpuSeconds, cpuByThread: incremental.cpuByThread, perSource: incremental.results },
  incrementalRuns: incrementals.map((i) => ({ changedRecords: i.mutated, wallMs: Math.round(i.run.ms), cpuSeconds: i.run.cpuSeconds })),
  ratios: { incrementalOverFull: Number((incremental.ms / full.ms).toFixed(4)) },
  goals: { fullWallMs: 60_000, peakRssMb: 300, incrementalOverFull: 0.03 },
};
const met = {
  full: result.full.wallMs <= 60_000,
  rss: result.full.peakRssMb <= 300,
  incremental: result.ratios.incrementalOverFull <= 0.03,
};
mkdirSync(join(here, 'results'), { recursive: true });
writeFileSync(join(here, 'results', `b2-sync${size === 50_000 ? '' : `-${size}`}.json`), `${JSON.stringify({ ...result, met }, null, 2)}\n`);
const md = `# B2 — full and incremental sync (${size} citizens × 4 sources)

Measured ${result.date} on ${result.machine.cpus} cores (${result.machine.model}), Node ${result.machine.node}, V8 heap flags: ${result.v8Flags.join(' ') || 'none'} (the service's, src/runtime/memory.ts), ${result.code}. Simulators in a separate
process on loopback HTTP; the syncing process runs the four adapters as one sync round (batched pulls, one plan write per
citizen and chunk; docs/decisions/0006) on one SQLite file, as the scheduled job does, ${pullWorker ? 'reading and mapping in a pull worker thread (B2_PULL_WORKER=1, SYNC_PULL_WORKER=on; docs/decisions/0010)' : 'reading and mapping on the main thread, the default (B2_PULL_WORKER=1 measures the pull worker; docs/decisions/0010)'}.

| measure | value | goal | met |
| --- | --- | --- | --- |
| full sync wall time (median of ${fulls.length}: ${result.fullRuns.map((r) => (r.wallMs / 1000).toFixed(1)).join(', ')} s) | ${(result.full.wallMs / 1000).toFixed(1)} s | ≤ 60 s | ${met.full ? 'yes' : '**no**'} |
| peak RSS of the syncing process | ${result.full.peakRssMb} MB | ≤ 300 MB | ${met.rss ? 'yes' : '**no**'} |
| incremental after ${mutated} changed records (median of ${incrementals.length}: ${result.incrementalRuns.map((r) => (r.wallMs / 1000).toFixed(2)).join(', ')} s) | ${(result.incremental.wallMs / 1000).toFixed(2)} s | — | — |
| incremental / full | ${(result.ratios.incrementalOverFull * 100).toFixed(2)} % | ≤ 3 % | ${met.incremental ? 'yes' : '**no**'} |

CPU of the median runs, in seconds — full: syncing process ${result.full.cpuSeconds.sync} (main thread ${result.full.cpuByThread.main ?? '?'}; other threads ${result.full.cpuByThread.others.join(', ') || '?'}), simulators ${result.full.cpuSeconds.simulators ?? '?'}; incremental: syncing process ${result.incremental.cpuSeconds.sync} (main thread ${result.incremental.cpuByThread.main ?? '?'}; other threads ${result.incremental.cpuByThread.others.join(', ') || '?'}), simulators ${result.incremental.cpuSeconds.simulators ?? '?'}. The other threads are the store thread, V8's garbage-collection and compiler helpers and libuv's pool (Linux gives them no names of their own).

Per source (full): ${Object.entries(result.full.perSource).map(([a, s]) => `${a}: ${s.citizensPulled} pulled, ${s.recordsMerged} merged, ${s.quarantined} quarantined`).join('; ')}.
`;
writeFileSync(join(here, 'results', `b2-sync${size === 50_000 ? '' : `-${size}`}.md`), md);
console.log(md);
process.exit(0);
