/**
 * B3 — inbound signed webhook ingest (`npm run bench -- b3`; not a test).
 *
 * The service runs as `npm start` runs it (scripts/build.mjs → dist/node.mjs, the same heap flags,
 * an SQLite file, no demo), in a child process, with a Standard Webhooks secret for DFDG. autocannon
 * (in this process) sends signed change notices — 50 connections × 10 s, a fresh webhook-id and
 * signature per request — and every notice must be durably stored before its 2xx. The reference,
 * in the same run and the same way: a bare Hono hello-world (`GET /` → text) in a child process.
 * Goals (targets.md): ≥ 0.3 × the hello-world's requests/s, p99 ≤ 25 ms. Afterwards the database
 * is opened and the stored notices counted: every 2xx must be there (nothing accepted is lost).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
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
const CONNECTIONS = 50;
const DURATION_S = Number(process.env.B3_DURATION_S ?? 10);
const secret = `whsec_${randomBytes(32).toString('base64')}`;
const key = Buffer.from(secret.slice('whsec_'.length), 'base64');

/** Starts a child and resolves with the first http:// URL it prints. */
async function startChild(args: string[], env: Record<string, string | undefined>): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, args, { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout! });
  const url = await new Promise<string>((resolve, reject) => {
    lines.on('line', (line) => {
      const match = /(http:\/\/127\.0\.0\.1:\d+)/.exec(line);
      if (match) resolve(match[1]!);
    });
    child.on('exit', (code) => reject(new Error(`child exited (${code}) before listening`)));
  });
  return { url, child };
}

async function stop(child: ChildProcess) {
  const exited = new Promise((resolve) => child.on('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

type Result = autocannon.Result;
const run = (options: autocannon.Options) => new Promise<Result>((resolve, reject) => autocannon(options, (error, result) => (error ? reject(error) : resolve(result))));

// The reference: the smallest Hono app there is, served the same way.
const helloSource = `
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
const app = new Hono().get('/', (c) => c.text('Hello Hono!'));
const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info) => console.log('http://127.0.0.1:' + info.port));
`;

console.log('B3: building the service as npm start does…');
const build = spawn(process.execPath, ['scripts/build.mjs'], { cwd: root, stdio: 'inherit' });
if ((await new Promise((resolve) => build.on('exit', resolve))) !== 0) throw new Error('B3: the build failed');

console.log(`B3: reference — bare Hono hello-world, ${CONNECTIONS} connections × ${DURATION_S} s…`);
const hello = await startChild(['--input-type=module', '-e', helloSource], {});
await run({ url: hello.url, connections: CONNECTIONS, duration: 1 }); // warm-up
const reference = await run({ url: hello.url, connections: CONNECTIONS, duration: DURATION_S });
await stop(hello.child);

const dataDir = mkdtempSync(join(tmpdir(), 'enplan-b3-'));
console.log('B3: the service on an SQLite file, signed change notices…');
// B3_PROFILE=<dir> writes a CPU profile of the service there (where a request's time goes).
const profile = process.env.B3_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.B3_PROFILE}`] : [];
const service = await startChild([...syncHeapFlags, ...profile, '--enable-source-maps', 'dist/node.mjs'], {
  PORT: '0',
  DATA_DIR: dataDir,
  DEMO: 'off',
  LOG_LEVEL: 'error',
  NODE_ENV: 'development',
  WEBHOOK_SECRETS_DFDG: secret,
});

let sent = 0;
const body = JSON.stringify({ type: 'records.changed', timestamp: new Date().toISOString(), data: { municipality: '101', changed: 1 } });
const signedRequest = () => {
  const id = `b3-${process.pid}-${++sent}`;
  const timestamp = Math.floor(Date.now() / 1000);
  const signature = createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64');
  return { 'content-type': 'application/json', 'webhook-id': id, 'webhook-timestamp': String(timestamp), 'webhook-signature': `v1,${signature}` };
};
const ingestOptions = (duration: number): autocannon.Options => ({
  url: `${service.url}/v1/webhooks/inbound/dfdg`,
  connections: CONNECTIONS,
  duration,
  requests: [{ method: 'POST', body, setupRequest: (request) => ({ ...request, headers: signedRequest() }) }],
});
const warmUp = await run(ingestOptions(1));
const ingest = await run(ingestOptions(DURATION_S));
await stop(service.child);

// Every notice answered 2xx must be in the database.
const db = createClient({ url: `file:${join(dataDir, 'enplan.db')}` });
const stored = Number((await db.execute("select count(*) as n from inbound_webhooks where source = 'dfdg'")).rows[0]!.n);
const byStatus = Object.fromEntries((await db.execute('select status, count(*) as n from inbound_webhooks group by status')).rows.map((r) => [String(r.status), Number(r.n)]));
db.close();
rmSync(dataDir, { recursive: true, force: true });
const answered2xx = warmUp['2xx'] + ingest['2xx'];
// autocannon stops with a request in flight on each connection: those are stored, but their answers
// are not counted, so up to one per connection and run is stored beyond the 2xx counted.
const inFlightAtStop = Math.max(0, stored - answered2xx);
const lost = Math.max(0, answered2xx - stored);

const ratio = ingest.requests.average / reference.requests.average;
const p99 = ingest.latency.p99;
const results = {
  benchmark: 'B3',
  measuredAt: new Date().toISOString(),
  machine: { cores: cpus().length, cpu: cpus()[0]?.model ?? '?', node: process.version },
  connections: CONNECTIONS,
  durationSeconds: DURATION_S,
  reference: { requestsPerSecond: reference.requests.average, p99Ms: reference.latency.p99, non2xx: reference.non2xx, errors: reference.errors },
  ingest: { requestsPerSecond: ingest.requests.average, p50Ms: ingest.latency.p50, p99Ms: p99, maxMs: ingest.latency.max, non2xx: ingest.non2xx, errors: ingest.errors, timeouts: ingest.timeouts },
  durability: { answered2xx, stored, inFlightAtStop, byStatus, lost },
  ratio,
  goals: { ratio: 0.3, p99Ms: 25 },
  met: { ratio: ratio >= 0.3, p99: p99 <= 25, nothingLost: stored >= answered2xx && ingest.non2xx === 0 },
};
mkdirSync(join(here, 'results'), { recursive: true });
writeFileSync(join(here, 'results', 'b3-webhooks.json'), `${JSON.stringify(results, null, 2)}\n`);
const yes = (ok: boolean) => (ok ? 'yes' : '**no**');
const md = `# B3 — inbound signed webhook ingest

Measured ${results.measuredAt} on ${results.machine.cores} cores (${results.machine.cpu}), Node ${results.machine.node}. autocannon in the
benchmark process, ${CONNECTIONS} connections × ${DURATION_S} s, against each server in a child process of its own on loopback: the
reference is a bare Hono hello-world (\`GET /\` → text); the service runs as \`npm start\` runs it (compiled, the same heap
flags, an SQLite file, no demo) and each request is a Standard Webhooks change notice with its own id and signature,
verified and stored (SQLite commit) before the 202. Notices are processed as they come (no adapter is configured here, so
each is marked \`ignored\` by the processor — that work runs in the same process during the measurement).

| measure | value | goal | met |
| --- | --- | --- | --- |
| hello-world requests/s (reference) | ${Math.round(reference.requests.average)} | — | — |
| signed notices stored per second | ${Math.round(ingest.requests.average)} | — | — |
| ratio to the reference | ${ratio.toFixed(2)} | ≥ 0.3 | ${yes(results.met.ratio)} |
| p99 latency of a notice | ${p99} ms | ≤ 25 ms | ${yes(results.met.p99)} |
| answered 2xx / stored / lost | ${answered2xx} / ${stored} / ${lost} | 0 lost | ${yes(results.met.nothingLost)} |

Stored beyond the 2xx counted: ${inFlightAtStop} (requests in flight when autocannon stopped; at most ${CONNECTIONS} per run, warm-up and measurement). Notices by status after the run: ${JSON.stringify(byStatus)}. p50 ${ingest.latency.p50} ms, max ${ingest.latency.max} ms; non-2xx ${ingest.non2xx}, errors ${ingest.errors}.
`;
writeFileSync(join(here, 'results', 'b3-webhooks.md'), md);
console.log(md);
process.exit(0);
