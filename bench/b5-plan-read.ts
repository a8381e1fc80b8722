/**
 * B5 — plan read `GET /v1/plans/{id}` (`npm run bench -- b5`; not a test).
 *
 * The service runs as `npm start` runs it (scripts/build.mjs → dist/node.mjs, the same heap flags, an
 * SQLite file) with its demo: the four simulators, 299 seeded plans and their first sync, so the
 * plans read are real ones (goals, interventions, provenance from four sources). autocannon (in this
 * process) reads random plans as a caseworker of the municipality — each read is the whole
 * plan view, checked against the caller's roles and audited (one audit-chain row per read) — first
 * at the goal's rate, 1,000 requests/s, for `B5_DURATION_S` (default 10 s), then as fast as it can
 * (the capacity, for context). Goal (targets.md): p99 ≤ 10 ms at ≥ 1,000 requests/s. Afterwards the
 * audit chain is counted: every read answered 200 must have left its audit row.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { createClient } from '@libsql/client';
import { syncHeapFlags } from '../src/runtime/memory';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const DURATION_S = Number(process.env.B5_DURATION_S ?? 10);
const RATE = 1000;
const GOAL_P99_MS = 10;

type Result = autocannon.Result;
const run = (options: autocannon.Options) => new Promise<Result>((resolve, reject) => autocannon(options, (error, result) => (error ? reject(error) : resolve(result))));

console.log('B5: building the service as npm start does…');
const build = spawn(process.execPath, ['scripts/build.mjs'], { cwd: root, stdio: 'inherit' });
if ((await new Promise((resolve) => build.on('exit', resolve))) !== 0) throw new Error('B5: the build failed');

const dataDir = mkdtempSync(join(tmpdir(), 'enplan-b5-'));
console.log('B5: starting the service with its demo (simulators, 299 plans, first sync)…');
// B5_PROFILE=<dir> writes a CPU profile of the service there (where a read's time goes).
const profile = process.env.B5_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.B5_PROFILE}`] : [];
const service: ChildProcess = spawn(process.execPath, [...syncHeapFlags, ...profile, '--enable-source-maps', 'dist/node.mjs'], {
  cwd: root,
  env: { ...process.env, PORT: '0', DATA_DIR: dataDir, LOG_LEVEL: 'error', NODE_ENV: 'development' },
  stdio: ['ignore', 'pipe', 'inherit'],
});
// The service prints its URL first and, once the demo is seeded and synced, a caseworker's dev token.
const { url, token } = await new Promise<{ url: string; token: string }>((resolve, reject) => {
  let url: string | undefined;
  createInterface({ input: service.stdout! }).on('line', (line) => {
    url ??= /(http:\/\/127\.0\.0\.1:\d+)/.exec(line)?.[1];
    const token = /^\s*caseworker:\s+(\S+)/.exec(line)?.[1];
    if (url && token) resolve({ url, token });
  });
  service.on('exit', (code) => reject(new Error(`the service exited (${code}) before it was ready`)));
});

const db = createClient({ url: `file:${join(dataDir, 'enplan.db')}` });
const planIds = (await db.execute("select id from plans where tenant = '101'")).rows.map((r) => String(r.id));
const averageDocumentLength = Number((await db.execute("select avg(length(document)) as n from plans where tenant = '101'")).rows[0]!.n);
const auditedReads = async () => Number((await db.execute("select count(*) as n from audit_log where action = 'plan.read'")).rows[0]!.n);
if (planIds.length === 0) throw new Error('B5: the demo seeded no plans');
console.log(`B5: ${planIds.length} plans (documents of ${Math.round(averageDocumentLength)} characters on average); reading at ${RATE}/s for ${DURATION_S} s…`);

const readOptions = (extra: Partial<autocannon.Options>): autocannon.Options => ({
  url,
  requests: [{ method: 'GET', setupRequest: (request) => ({ ...request, path: `/v1/plans/${planIds[Math.floor(Math.random() * planIds.length)]}`, headers: { authorization: `Bearer ${token}` } }) }],
  ...extra,
});
const readsBefore = await auditedReads();
const warmUp = await run(readOptions({ connections: 10, duration: 2 }));
const atRate = await run(readOptions({ connections: 20, duration: DURATION_S, overallRate: RATE }));
const capacity = await run(readOptions({ connections: 50, duration: DURATION_S }));
const readsAudited = (await auditedReads()) - readsBefore;
db.close();
const exited = new Promise((resolve) => service.on('exit', resolve));
service.kill('SIGTERM');
await exited;
rmSync(dataDir, { recursive: true, force: true });

const answered200 = warmUp['2xx'] + atRate['2xx'] + capacity['2xx'];
const results = {
  benchmark: 'B5',
  measuredAt: new Date().toISOString(),
  machine: { cores: cpus().length, cpu: cpus()[0]?.model ?? '?', node: process.version },
  plans: planIds.length,
  averageDocumentCharacters: Math.round(averageDocumentLength),
  atRate: { targetPerSecond: RATE, requestsPerSecond: atRate.requests.average, p50Ms: atRate.latency.p50, p99Ms: atRate.latency.p99, maxMs: atRate.latency.max, non2xx: atRate.non2xx, errors: atRate.errors, timeouts: atRate.timeouts },
  capacity: { requestsPerSecond: capacity.requests.average, p50Ms: capacity.latency.p50, p99Ms: capacity.latency.p99, non2xx: capacity.non2xx, errors: capacity.errors },
  audit: { readsAnswered200: answered200, readsAudited },
  goals: { p99Ms: GOAL_P99_MS, requestsPerSecond: RATE },
  met: {
    // autocannon's average over the run, against the rate it was asked for (a second of ramp-up costs a little).
    rate: atRate.requests.average >= RATE * 0.98 && atRate.non2xx === 0 && atRate.errors === 0,
    p99: atRate.latency.p99 <= GOAL_P99_MS,
    // Every read answered 200 (warm-up included) left its audit row.
    audited: readsAudited >= answered200,
  },
};
mkdirSync(join(here, 'results'), { recursive: true });
writeFileSync(join(here, 'results', 'b5-plan-read.json'), `${JSON.stringify(results, null, 2)}\n`);
const yes = (ok: boolean) => (ok ? 'yes' : '**no**');
const md = `# B5 — plan read \`GET /v1/plans/{id}\`

Measured ${results.measuredAt} on ${results.machine.cores} cores (${results.machine.cpu}), Node ${results.machine.node}. The service runs as
\`npm start\` runs it (compiled, the same heap flags, an SQLite file) with its demo: ${results.plans} plans synced from the four
simulators (documents of ${results.averageDocumentCharacters} characters on average). autocannon in the benchmark process reads
random plans as a caseworker: the whole plan view, checked against the token's roles and tenant, each read audited in the
hash-chained audit log. First at ${RATE} requests/s (20 connections, ${DURATION_S} s), then as fast as it can (50 connections, ${DURATION_S} s).

| measure | value | goal | met |
| --- | --- | --- | --- |
| requests/s at the goal's rate | ${Math.round(results.atRate.requestsPerSecond)} | ≥ ${RATE} | ${yes(results.met.rate)} |
| p99 latency at that rate | ${results.atRate.p99Ms} ms | ≤ ${GOAL_P99_MS} ms | ${yes(results.met.p99)} |
| reads answered 200 / audited | ${answered200} / ${readsAudited} | all audited | ${yes(results.met.audited)} |

At ${RATE}/s: p50 ${results.atRate.p50Ms} ms, max ${results.atRate.maxMs} ms; non-2xx ${results.atRate.non2xx}, errors ${results.atRate.errors}.
Capacity (for context): ${Math.round(results.capacity.requestsPerSecond)} reads/s, p50 ${results.capacity.p50Ms} ms, p99 ${results.capacity.p99Ms} ms.

Findings when this benchmark was written (2026-11-24; \`B5_PROFILE=<dir>\` writes the service's CPU profile): at 1,000 reads/s
the service runs at ~70 % of its capacity on these two cores (autocannon takes part of them), so the tail is queueing.
A read costs ~0.7 ms of the service thread, about 45 % of it SQLite on that thread — the read's audit row is a commit
synced to disk (~0.2 ms), and @libsql/client prepares every statement anew — then the token check, drizzle building
queries, and the JSON of an ~8 KB plan. Tried: the SQLite work on a thread of its own (as the scheduled sync does) raised
the capacity by ~15–20 % and left the p99 at 1,000/s where it was; with the background jobs held off (relay, scheduled
sync) the p99 was the same. Kept: audit rows that arrive while one is written are committed together and the chain's head
is no longer read before each append (capacity ~1,270–1,400 → ~1,350–1,490 reads/s across runs). Meeting the goal needs
a read about twice as cheap again: prepared statements on the service thread, fewer commits synced per read.
`;
writeFileSync(join(here, 'results', 'b5-plan-read.md'), md);
console.log(md);
process.exit(0);
