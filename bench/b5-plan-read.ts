/**
 * B5 — plan read `GET /v1/plans/{id}` (`npm run bench -- b5`; not a test).
 *
 * The service runs as `npm start` runs it (scripts/build.mjs → dist/node.mjs, the same heap flags, an
 * SQLite file) with its demo: the four simulators, 299 seeded plans and their first sync, so the
 * plans read are real ones (goals, interventions, provenance from four sources). This process reads
 * random plans as a caseworker of the municipality — each read is the whole plan view, checked
 * against the caller's roles and audited (one audit-chain row per read) — first at a steady 1,000
 * requests/s (its own paced client; a read's latency counts from when it was due) for
 * `B5_DURATION_S` (default 10 s), then as fast as autocannon can (the capacity, for context). Goal (targets.md): p99 ≤ 10 ms at ≥ 1,000 requests/s. Afterwards the
 * audit chain is counted: every read answered 200 must have left its audit row.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { Pool } from 'undici';
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
/**
 * Reads at a steady `rate` for `seconds`: a batch every 5 ms, whether or not earlier answers have
 * come (an open workload, as users arrive), on a pool of keep-alive connections. A read's latency
 * is counted from when it was due, so a stalled service cannot hide its queue (no coordinated
 * omission). autocannon's own rate limit is not used for this: it lets each connection send its
 * whole second's quota back to back and then pause, so "1,000/s" would be bursts at full speed.
 */
async function readAtRate(rate: number, seconds: number) {
  const pool = new Pool(url, { connections: 64, pipelining: 1 });
  const latencies: number[] = [];
  let non200 = 0;
  let errors = 0;
  const started = performance.now();
  const total = rate * seconds;
  const tickMs = 5;
  const reads: Promise<void>[] = [];
  for (let sent = 0; sent < total; ) {
    const dueTick = started + (sent / rate) * 1000;
    const wait = dueTick - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    const perTick = Math.min(total - sent, Math.max(1, Math.round((rate * tickMs) / 1000)));
    for (let k = 0; k < perTick; k++, sent++) {
      // Counted from when the read was due, or from when it went if it went early (the batch's later reads).
      const from = Math.min(started + (sent / rate) * 1000, performance.now());
      const path = `/v1/plans/${planIds[Math.floor(Math.random() * planIds.length)]}`;
      reads.push(
        pool
          .request({ method: 'GET', path, headers: { authorization: `Bearer ${token}` } })
          .then(async (response) => {
            await response.body.dump();
            if (response.statusCode === 200) latencies.push(performance.now() - from);
            else non200++;
          })
          .catch(() => {
            errors++;
          }),
      );
    }
  }
  await Promise.all(reads);
  const elapsedS = (performance.now() - started) / 1000;
  await pool.close();
  latencies.sort((a, b) => a - b);
  const at = (q: number) => Number((latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? NaN).toFixed(1));
  return { answered200: latencies.length, requestsPerSecond: latencies.length / elapsedS, p50Ms: at(0.5), p99Ms: at(0.99), maxMs: Number((latencies.at(-1) ?? NaN).toFixed(1)), non2xx: non200, errors };
}

const readsBefore = await auditedReads();
const warmUp = await run(readOptions({ connections: 10, duration: 2 }));
const atRate = await readAtRate(RATE, DURATION_S);
const capacity = await run(readOptions({ connections: 50, duration: DURATION_S }));
const readsAudited = (await auditedReads()) - readsBefore;
db.close();
const exited = new Promise((resolve) => service.on('exit', resolve));
service.kill('SIGTERM');
await exited;
rmSync(dataDir, { recursive: true, force: true });

const answered200 = warmUp['2xx'] + atRate.answered200 + capacity['2xx'];
const results = {
  benchmark: 'B5',
  measuredAt: new Date().toISOString(),
  machine: { cores: cpus().length, cpu: cpus()[0]?.model ?? '?', node: process.version },
  plans: planIds.length,
  averageDocumentCharacters: Math.round(averageDocumentLength),
  atRate: { targetPerSecond: RATE, ...atRate },
  capacity: { requestsPerSecond: capacity.requests.average, p50Ms: capacity.latency.p50, p99Ms: capacity.latency.p99, non2xx: capacity.non2xx, errors: capacity.errors },
  audit: { readsAnswered200: answered200, readsAudited },
  goals: { p99Ms: GOAL_P99_MS, requestsPerSecond: RATE },
  met: {
    // Reads answered over the run's wall time (the last answers' wait included), against the rate asked for.
    rate: atRate.requestsPerSecond >= RATE * 0.98 && atRate.non2xx === 0 && atRate.errors === 0,
    p99: atRate.p99Ms <= GOAL_P99_MS,
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
hash-chained audit log. First at a steady ${RATE} requests/s for ${DURATION_S} s (a batch every 5 ms whatever the answers, up to 64
keep-alive connections; latency counted from when a read was due), then as fast as autocannon can (50 connections, ${DURATION_S} s).

| measure | value | goal | met |
| --- | --- | --- | --- |
| requests/s at the goal's rate | ${Math.round(results.atRate.requestsPerSecond)} | ≥ ${RATE} | ${yes(results.met.rate)} |
| p99 latency at that rate | ${results.atRate.p99Ms} ms | ≤ ${GOAL_P99_MS} ms | ${yes(results.met.p99)} |
| reads answered 200 / audited | ${answered200} / ${readsAudited} | all audited | ${yes(results.met.audited)} |

At ${RATE}/s: p50 ${results.atRate.p50Ms} ms, max ${results.atRate.maxMs} ms; non-2xx ${results.atRate.non2xx}, errors ${results.atRate.errors}.
Capacity (for context): ${Math.round(results.capacity.requestsPerSecond)} reads/s, p50 ${results.capacity.p50Ms} ms, p99 ${results.capacity.p99Ms} ms.

Findings when this benchmark was written (2026-11-24; \`B5_PROFILE=<dir>\` writes the service's CPU profile): a read
costs ~0.7 ms of the service thread, about 45 % of it SQLite on that thread (the audit row's commit synced to disk;
@libsql/client prepares every statement anew), then the token check, drizzle building queries and the JSON of an ~8 KB
plan. At a steady 1,000/s most reads take about a millisecond; the p99 comes from stalls of 100–500 ms in which the reads
due pile up. They are not garbage collection (\`--trace-gc\`: pauses ≤ 13 ms), not the sync to disk per commit (with
\`synchronous = NORMAL\`, as a test only, the tail was the same), and not the background jobs alone (relay and scheduled
sync held off: the same), and not the paced client (against a bare Hono server on this machine: p99 under 1 ms). Most
likely the disk: every read commits its audit row, and the tail follows how SQLite's writes reach the disk — checkpoints
every 100 WAL pages instead of 1,000 made the median 215 ms; no checkpoints at all (the WAL growing) made reads slow; a
checkpoint every 200 ms from another connection, off the service thread, left the stalls as they were. Reads that do
not wait for their audit row's commit would avoid them, at the price of a read unaudited if the process dies in between;
that is a decision about S5, not taken here. Kept from the work on it: audit rows that
arrive while one is written are committed together and the chain's head is not read before each append (capacity
~1,270–1,400 → ~1,350–1,490 reads/s). The service's SQLite on a thread of its own raised the capacity ~15–20 % and did
not move the tail. (autocannon's own rate limit is not used for the steady run: it sends each connection's quota for a
second back to back, then pauses — bursts at full speed, which put the p99 at ~30 ms by queueing alone.)

Later the same day: every /v1 request had made @hono/node-server build a full web Request (hono's bodyLimit reads
\`c.req.raw.body\`) and a full web Response (the request id was set with \`c.header()\` after the handler, which copies
the response). Without both, capacity rose from ~1,300–1,380 to ~1,740–1,850 reads/s and the p99 at 1,000/s from
139–213 ms to 16–35 ms across runs (p50 ~2 ms). With the database on tmpfs (before those changes) the p99 was 38 ms
against 139 ms on disk: most of the tail is the audit commit's sync to this machine's disk, which each read waits for.

Later (2026-11-24, session 13): the server runs SQLite on a thread of its own (SERVICE_STORE_THREAD, default on; the
thread scheduled syncs already used, decision 0016), so the service thread parses and answers requests while a commit
reaches the disk, and statements are prepared once (the thread keeps 256). Measured in pairs on this machine the same
hour: capacity ~1,820–1,880 → ~4,900–5,500 reads/s, p99 at 1,000/s 24–26 → 15–21 ms. B3 pays ~8 % (its notices' bodies
are copied to the thread). The goal's 10 ms is still missed: with the store thread, the service thread and autocannon
on two cores, the tail is now the operating system's scheduling as much as the disk.

Later (session 16): every audit append now also moves the chain's recorded head in the same commit
(decision 0019, "Later"). Measured beside the previous session's code (6cca30e) in the same hour on
this machine: p99 at 1,000/s 32.2 ms for both, capacity 3,340 (before) against 3,131 reads/s (now):
the head costs ~6 % of capacity and nothing of the tail. The machine is slower today than in session
13 (B2's simulators, unchanged code, used ~30 % more CPU), hence both runs' 32 ms against 15–21 ms then.

Later (2026-11-25, session 25): the service runs in development, so its audit chain is keyed (AUDIT_CHAIN_KEY's
development default): an HMAC-SHA-256 per row instead of a SHA-256 (decision 0030, "Later"). Measured the same as
before it: p99 at 1,000/s 32.6 ms (32.2 committed), capacity 3,247 reads/s (3,131).
`;
writeFileSync(join(here, 'results', 'b5-plan-read.md'), md);
console.log(md);
process.exit(0);
