/**
 * Inbound webhooks end to end: a DFDG simulator over HTTP, the real app on SQLite. A signed change
 * notice is stored before the 2xx and makes one sync read the source's changes; forged, expired,
 * replayed and CPR-carrying notices are refused and store nothing; a notice sent five times has
 * one effect (F4); a failed run leaves its notices waiting for the next pass.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDfdgAdapter, startDfdgSimulator, type DfdgSimulator } from '../../adapters/dfdg';
import { generatePopulation } from '../../adapters/shared/population';
import { membersOf } from '../../src/model';
import { allMappings } from '../../src/sync/all-mappings';
import { runSync } from '../../src/sync/engine';
import { signWebhook } from '../../src/webhooks/standard-webhooks';
import { inboundBackoff, inboundWebhookProcessor, processInboundWebhooks } from '../../src/webhooks/inbound';
import { TestClock } from '../registrations/fixture';
import { startTestApp } from '../support/node-app';
import { enrol, grantConsent } from '../support/seed';

const population = generatePopulation(6, 777).map((c) => ({ ...c, sectors: { employment: true, education: false, social: false, health: false } }));
const secret = `whsec_${randomBytes(32).toString('base64')}`;
let dfdg: DfdgSimulator;
beforeAll(async () => {
  dfdg = await startDfdgSimulator({ population, port: 0 });
});
afterAll(async () => {
  await dfdg?.close();
});

async function freshApp(baseUrl = dfdg.url, clock?: TestClock) {
  return startTestApp({
    ...(clock ? { clock } : {}),
    adapters: { dfdg: createDfdgAdapter({ baseUrl, organisation: { typeIdentifier: 'kommune', code: '101' }, timeoutMs: 2000 }) },
    mappings: allMappings,
    env: { WEBHOOK_SECRETS_DFDG: secret },
  });
}
type App = Awaited<ReturnType<typeof freshApp>>;

const notice = (extra: Record<string, unknown> = {}) => JSON.stringify({ type: 'records.changed', timestamp: new Date().toISOString(), data: { municipality: '101', changed: 1 }, ...extra });
let sequence = 0;
async function send(app: App, options: { body?: string; id?: string; secret?: string; ageSeconds?: number; source?: string; signature?: string } = {}) {
  const body = options.body ?? notice();
  const id = options.id ?? `msg_${++sequence}_${randomBytes(4).toString('hex')}`;
  const timestamp = Math.floor(Date.now() / 1000) - (options.ageSeconds ?? 0);
  const signature = options.signature ?? (await signWebhook(options.secret ?? secret, id, timestamp, body));
  const response = await app.harness.request(`/v1/webhooks/inbound/${options.source ?? 'dfdg'}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'webhook-id': id, 'webhook-timestamp': String(timestamp), 'webhook-signature': signature },
    body,
  });
  return { id, status: response.status, type: response.headers.get('content-type') ?? '', body: (await response.json()) as Record<string, unknown> };
}
const stored = async (app: App) => app.deps.store.inboundWebhooks.list('101', 200);
const webhookRuns = async (app: App) => (await app.deps.store.sync.runs('101', { limit: 100 })).filter((r) => r.trigger === 'webhook:dfdg');

async function enrolled(app: App, index: number) {
  const plan = await enrol(app.deps, population[index]!.cpr);
  await grantConsent(app.deps, { citizenId: membersOf(plan)[0]!.citizenId, source: 'dfdg', categories: ['plan-core', 'employment', 'goals', 'interventions'] });
  return plan;
}

describe('inbound webhooks', () => {
  it('stores a signed notice before answering 202, and one sync then reads the change', async () => {
    const app = await freshApp();
    const plan = await enrolled(app, 0);
    await runSync(app.deps, { tenant: '101', adapter: 'dfdg', trigger: 'test', mappings: allMappings });
    const before = (await app.deps.store.plans.get('101', plan.id))!.version;
    dfdg.mutate(1);

    const sent = await send(app);
    expect(sent.status).toBe(202);
    expect(sent.body).toEqual({ id: sent.id, status: 'accepted' });
    expect((await stored(app)).map((r) => [r.webhookId, r.status])).toEqual([[sent.id, 'pending']]);
    const itStaff = await app.harness.token({ tenant: '101', roles: ['it-staff'] });
    const waitingMetric = async () => /^enplan_inbound_webhooks_waiting\{tenant="101"\} (\d+)$/m.exec(await (await app.harness.request('/metrics', { headers: { authorization: `Bearer ${itStaff}` } })).text())?.[1];
    expect(await waitingMetric()).toBe('1');

    const processed = await processInboundWebhooks(app.deps);
    expect(processed.runs).toEqual([{ tenant: '101', source: 'dfdg', notices: 1, runId: expect.any(String), status: 'succeeded' }]);
    expect((await app.deps.store.plans.get('101', plan.id))!.version).toBeGreaterThan(before);
    const [row] = await stored(app);
    expect(row).toMatchObject({ status: 'processed', runId: processed.runs[0]!.runId, attempts: 1 });
    expect(await webhookRuns(app)).toHaveLength(1);
    expect(await waitingMetric()).toBe('0');

    // IT staff see what came and what became of it; other roles do not.
    const listed = await app.harness.request('/v1/webhooks/inbound', { headers: { authorization: `Bearer ${itStaff}` } });
    expect(listed.status).toBe(200);
    expect(((await listed.json()) as { notices: unknown[] }).notices).toEqual([expect.objectContaining({ source: 'dfdg', id: sent.id, status: 'processed', runId: row!.runId })]);
    const caseworker = await app.harness.token({ tenant: '101', roles: ['caseworker'] });
    expect((await app.harness.request('/v1/webhooks/inbound', { headers: { authorization: `Bearer ${caseworker}` } })).status).toBe(403);
    const page = async (query: string) => ((await (await app.harness.request(`/v1/webhooks/inbound?${query}`, { headers: { authorization: `Bearer ${itStaff}` } })).json()) as { nextOffset: number | null }).nextOffset;
    expect(await page('limit=1')).toBe(1); // a full page: there may be more
    expect(await page('limit=1&offset=1')).toBeNull();
    const otherTenant = await app.harness.token({ tenant: '751', roles: ['it-staff'] });
    const theirs = await app.harness.request('/v1/webhooks/inbound', { headers: { authorization: `Bearer ${otherTenant}` } });
    expect(((await theirs.json()) as { notices: unknown[] }).notices).toEqual([]);
    await app.close();
  });

  it('the same notice sent five times is stored once and has one effect (F4)', async () => {
    const app = await freshApp();
    await enrolled(app, 1);
    const body = notice();
    const first = await send(app, { body, id: 'msg_repeated' });
    expect(first.status).toBe(202);
    for (let i = 0; i < 4; i++) {
      const again = await send(app, { body, id: 'msg_repeated' });
      expect(again.status).toBe(200);
      expect(again.body).toEqual({ id: 'msg_repeated', status: 'duplicate' });
    }
    expect(await stored(app)).toHaveLength(1);
    await processInboundWebhooks(app.deps);
    // After processing, a repeat is still a duplicate: it does not start another run.
    expect((await send(app, { body, id: 'msg_repeated' })).status).toBe(200);
    await processInboundWebhooks(app.deps);
    expect(await webhookRuns(app)).toHaveLength(1);
    await app.close();
  });

  it('a notice id another municipality used is no duplicate: vendors of one source choose their ids apart', async () => {
    const app = await freshApp();
    const forMunicipality = (municipality: string) => notice({ data: { municipality, changed: 1 } });
    expect((await send(app, { body: forMunicipality('101'), id: 'evt-1' })).status).toBe(202);
    const elsewhere = await send(app, { body: forMunicipality('751'), id: 'evt-1' });
    expect(elsewhere.status).toBe(202);
    expect(elsewhere.body).toMatchObject({ status: 'accepted' });
    expect((await app.deps.store.inboundWebhooks.list('751', 10)).map((row) => row.webhookId)).toEqual(['evt-1']);
    expect((await stored(app)).map((row) => row.webhookId)).toEqual(['evt-1']);
    // Within one municipality the same id is still the same notice.
    expect((await send(app, { body: forMunicipality('751'), id: 'evt-1' })).body).toMatchObject({ status: 'duplicate' });
    await app.close();
  });

  it('refuses forged, re-signed, expired and replayed notices with 401, storing nothing', async () => {
    const app = await freshApp();
    const refused = [
      await send(app, { signature: `v1,${randomBytes(32).toString('base64')}` }),
      await send(app, { secret: `whsec_${randomBytes(32).toString('base64')}` }),
      await send(app, { ageSeconds: 6 * 60 }),
      await send(app, { signature: '' }),
    ];
    // A captured notice sent again later with its original headers: the timestamp gives it away.
    const body = notice();
    const oldTimestamp = Math.floor(Date.now() / 1000) - 10 * 60;
    const captured = await signWebhook(secret, 'msg_captured', oldTimestamp, body);
    const replay = await app.harness.request('/v1/webhooks/inbound/dfdg', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'webhook-id': 'msg_captured', 'webhook-timestamp': String(oldTimestamp), 'webhook-signature': captured },
      body,
    });
    expect(replay.status).toBe(401);
    for (const answer of refused) {
      expect(answer.status).toBe(401);
      expect(answer.type).toContain('application/problem+json');
      expect(answer.body.type).toBe('/problems/webhook-signature-invalid');
    }
    expect(await stored(app)).toEqual([]);
    await app.close();
  });

  it('refuses a notice carrying a CPR number (never stored, never echoed), bad bodies, and sources without a secret', async () => {
    const app = await freshApp();
    const cpr = population[2]!.cpr;
    const withCpr = await send(app, { body: notice({ data: { municipality: '101', citizen: cpr } }) });
    expect(withCpr.status).toBe(422);
    expect(withCpr.body.type).toBe('/problems/personal-data-in-webhook');
    expect(JSON.stringify(withCpr.body)).not.toContain(cpr.slice(0, 6));
    // Hidden behind JSON escapes, written with a space, or in the notice's id: refused all the same.
    const escaped = `{"type":"records.changed","data":{"municipality":"101","note":"\\u00${(0x30 + Number(cpr[0])).toString(16)}${cpr.slice(1)}"}}`;
    expect(JSON.parse(escaped).data.note).toBe(cpr);
    for (const refused of [await send(app, { body: escaped }), await send(app, { body: notice({ data: { municipality: '101', note: `${cpr.slice(0, 6)} ${cpr.slice(6)}` } }) }), await send(app, { id: `msg_${cpr}` })]) {
      expect(refused.status).toBe(422);
      expect(refused.body.type).toBe('/problems/personal-data-in-webhook');
    }
    // Ten digits that are not a CPR number (no such date) are not mistaken for one.
    expect((await send(app, { body: notice({ data: { municipality: '101', changed: 1763900000 } }) })).status).toBe(202);

    expect((await send(app, { body: '{"type":"records.changed"' })).body.type).toBe('/problems/malformed-json');
    const wrongType = await send(app, { body: notice({ type: 'plan.deleted' }) });
    expect(wrongType.status).toBe(400);
    expect((await send(app, { body: notice({ data: { municipality: 'Aarhus' } }) })).status).toBe(400);
    expect((await send(app, { body: JSON.stringify({ type: 'records.changed', data: { municipality: '101', pad: 'x'.repeat(20_000) } }) })).status).toBe(413);
    expect((await send(app, { source: 'social' })).status).toBe(404);
    expect((await send(app, { source: 'unknown' })).status).toBe(404);
    expect((await stored(app)).map((r) => r.eventType)).toEqual(['records.changed']);
    await app.close();
  });

  it('checks the signature over the bytes sent: a notice with a byte-order mark is accepted, one not in UTF-8 is malformed, not forged', async () => {
    const app = await freshApp();
    // A sender signs the bytes it sends (Standard Webhooks), not our decoding of them.
    const sendBytes = async (bytes: Buffer) => {
      const id = `msg_bytes_${randomBytes(4).toString('hex')}`;
      const timestamp = Math.floor(Date.now() / 1000);
      const signature = createHmac('sha256', Buffer.from(secret.slice('whsec_'.length), 'base64')).update(Buffer.concat([Buffer.from(`${id}.${timestamp}.`), bytes])).digest('base64');
      const response = await app.harness.request('/v1/webhooks/inbound/dfdg', {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'webhook-id': id, 'webhook-timestamp': String(timestamp), 'webhook-signature': `v1,${signature}` },
        body: bytes,
      });
      return { id, status: response.status, body: (await response.json()) as Record<string, unknown> };
    };
    const withBom = await sendBytes(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(notice())]));
    expect(withBom.status).toBe(202);
    const latin1 = await sendBytes(Buffer.from(notice({ note: 'Århus' }), 'latin1'));
    expect(latin1.status).toBe(400);
    expect(latin1.body.type).toBe('/problems/malformed-json');
    expect((await stored(app)).map((r) => r.webhookId)).toEqual([withBom.id]);
    // The byte limit counts bytes: 6,000 three-byte characters are 18,000 bytes, over a notice's 16 KB.
    expect((await send(app, { body: notice({ note: '€'.repeat(6000) }) })).status).toBe(413);
    await app.close();
  });

  it('a run that fails leaves its notices waiting, with the reason; the first pass after its backoff takes them', async () => {
    const broken = await freshApp('http://127.0.0.1:9');
    await enrolled(broken, 3);
    const sent = await send(broken);
    const failed = await processInboundWebhooks(broken.deps);
    expect(failed.runs[0]).toMatchObject({ source: 'dfdg', notices: 1, status: 'failed' });
    const [waiting] = await stored(broken);
    expect(waiting).toMatchObject({ webhookId: sent.id, status: 'pending', attempts: 1, lastError: expect.stringMatching(/failed/) });

    // The same database, the source reachable again: the waiting notice is processed.
    const url = `file:${(await import('node:os')).tmpdir()}/enplan-inbound-${randomBytes(4).toString('hex')}.db`;
    const first = await startTestApp({ url, adapters: { dfdg: createDfdgAdapter({ baseUrl: 'http://127.0.0.1:9', organisation: { typeIdentifier: 'kommune', code: '101' }, timeoutMs: 1000 }) }, mappings: allMappings, env: { WEBHOOK_SECRETS_DFDG: secret } });
    await enrolled(first, 4);
    await send(first);
    expect((await processInboundWebhooks(first.deps)).runs[0]!.status).toBe('failed');
    await first.close();
    // A pass once the failed run's backoff is over (a minute at most after a first failure).
    const later = new TestClock(Date.now() + 2 * 60_000);
    const second = await startTestApp({ url, clock: later, adapters: { dfdg: createDfdgAdapter({ baseUrl: dfdg.url, organisation: { typeIdentifier: 'kommune', code: '101' } }) }, mappings: allMappings, env: { WEBHOOK_SECRETS_DFDG: secret } });
    expect((await processInboundWebhooks(second.deps)).runs).toEqual([expect.objectContaining({ notices: 1, status: 'succeeded' })]);
    expect((await stored(second))[0]).toMatchObject({ status: 'processed', attempts: 2 });
    await second.close();
    await broken.close();
  });

  it('a notice whose runs keep failing is tried again later and later, a bounded number of times, then dead: IT staff see it and have it processed again', async () => {
    const clock = new TestClock(Date.now());
    const app = await freshApp('http://127.0.0.1:9', clock);
    await enrolled(app, 3);
    const sent = await send(app);
    const itStaff = await app.harness.token({ tenant: '101', roles: ['it-staff'] });
    const asItStaff = (path: string, method = 'GET') => app.harness.request(path, { method, headers: { authorization: `Bearer ${itStaff}` } });
    const metric = async (name: string) => new RegExp(`^${name}\\{tenant="101"\\} (\\d+)$`, 'm').exec(await (await asItStaff('/metrics')).text())?.[1];
    // A fixed point in each backoff's jitter, so the waits are the policy's ceilings halved.
    const pass = () => processInboundWebhooks(app.deps, undefined, { random: () => 0.5 });

    expect((await pass()).runs).toEqual([expect.objectContaining({ notices: 1, status: 'failed' })]);
    // Not tried again at once: the next pass waits out a backoff, which grows with each failed try.
    expect((await pass()).runs).toEqual([]);
    const waits: number[] = [];
    let passes = 0;
    for (; passes < 40 && (await stored(app))[0]!.status === 'pending'; passes++) {
      const { claimedUntil } = (await stored(app))[0]!;
      waits.push(Date.parse(claimedUntil!) - clock.now().getTime());
      clock.advance(Date.parse(claimedUntil!) - clock.now().getTime());
      expect((await pass()).runs).toEqual([expect.objectContaining({ notices: 1, status: 'failed' })]);
    }
    expect(passes).toBeLessThan(40);
    expect(waits[waits.length - 1]!).toBeGreaterThan(waits[0]!);
    const [dead] = await stored(app);
    expect(dead).toMatchObject({ webhookId: sent.id, status: 'dead', attempts: passes + 1, body: expect.stringContaining('records.changed'), lastError: expect.stringMatching(/gave up after \d+ attempts/) });
    expect(await webhookRuns(app)).toHaveLength(passes + 1);
    // Dead is the end of it: no pass takes it, however late.
    clock.advance(30 * 86_400_000);
    expect((await pass()).runs).toEqual([]);

    // IT staff see it, in the list and on the monitoring page.
    const listed = (await (await asItStaff('/v1/webhooks/inbound')).json()) as { notices: { id: string; status: string }[] };
    expect(listed.notices).toEqual([expect.objectContaining({ id: sent.id, status: 'dead' })]);
    expect(await metric('enplan_inbound_webhooks_dead')).toBe('1');
    expect(await metric('enplan_inbound_webhooks_waiting')).toBe('0');
    const dashboard = await (await app.harness.request('/dashboard', { headers: { cookie: `enplan_session=${itStaff}` } })).text();
    expect(dashboard).toMatch(/id="inbound-dead"[^>]*>\s*Change notices given up on: (<!-- -->)?1/);

    // Processed again on request, once the source is back: only IT staff, only a dead one, audited.
    const retryPath = `/v1/webhooks/inbound/dfdg/${encodeURIComponent(sent.id)}/retry`;
    const caseworker = await app.harness.token({ tenant: '101', roles: ['caseworker'] });
    expect((await app.harness.request(retryPath, { method: 'POST', headers: { authorization: `Bearer ${caseworker}` } })).status).toBe(403);
    expect((await asItStaff('/v1/webhooks/inbound/dfdg/no-such-notice/retry', 'POST')).status).toBe(404);
    const retried = await asItStaff(retryPath, 'POST');
    expect(retried.status).toBe(200);
    expect(await retried.json()).toMatchObject({ id: sent.id, status: 'pending', attempts: 0 });
    const again = await asItStaff(retryPath, 'POST');
    expect(again.status).toBe(409);
    expect(await again.json()).toMatchObject({ type: '/problems/inbound-notice-not-retryable' });
    expect((await app.deps.store.audit.list('101', {})).filter((row) => row.action === 'inbound-webhook.retried')).toEqual([expect.objectContaining({ targetType: 'inbound-webhook', targetId: `dfdg:${sent.id}` })]);
    app.deps.adapters.dfdg = createDfdgAdapter({ baseUrl: dfdg.url, organisation: { typeIdentifier: 'kommune', code: '101' }, timeoutMs: 2000 });
    expect((await pass()).runs).toEqual([expect.objectContaining({ notices: 1, status: 'succeeded' })]);
    expect((await stored(app))[0]).toMatchObject({ status: 'processed', attempts: 1 });
    expect(await metric('enplan_inbound_webhooks_dead')).toBe('0');
    await app.close();
  });

  it('a notice taken for its last try by a processor that stopped mid-run is dead once the lease runs out, without another run', async () => {
    const app = await freshApp();
    const sent = await send(app);
    // Its last try's lease, taken by a processor that never reported, ran out a minute ago.
    const expired = new Date(Date.now() - 60_000).toISOString();
    await app.database.db.run(sql`update inbound_webhooks set attempts = ${inboundBackoff.maxAttempts}, claimed_until = ${expired} where webhook_id = ${sent.id}`);
    expect((await processInboundWebhooks(app.deps)).runs).toEqual([]);
    expect((await stored(app))[0]).toMatchObject({ webhookId: sent.id, status: 'dead', lastError: expect.stringMatching(/never reported/) });
    expect(await webhookRuns(app)).toEqual([]);
    await app.close();
  });

  it('a burst of notices costs one or two runs, not one each (the Node processor coalesces)', async () => {
    const app = await freshApp();
    await enrolled(app, 5);
    const processor = inboundWebhookProcessor(app.deps, { minIntervalMs: 100 });
    app.deps.onInboundWebhook = () => processor.nudge();
    const answers = await Promise.all(Array.from({ length: 8 }, () => send(app)));
    expect(answers.map((a) => a.status)).toEqual(Array(8).fill(202));
    await processor.idle();
    const rows = await stored(app);
    expect(rows.every((r) => r.status === 'processed')).toBe(true);
    const runs = await webhookRuns(app);
    expect(runs.length).toBeGreaterThanOrEqual(1);
    expect(runs.length).toBeLessThanOrEqual(2);
    await app.close();
  });
  it('a run cut short at SYNC_MAX_CITIZENS_PER_RUN leaves its notices waiting, and the processor goes on until a run reads everyone', async () => {
    // A simulator of its own: the others' changes (mutate) would be in its feed, and a feed page is read whole.
    const quiet = await startDfdgSimulator({ population, port: 0 });
    const app = await startTestApp({
      adapters: { dfdg: createDfdgAdapter({ baseUrl: quiet.url, organisation: { typeIdentifier: 'kommune', code: '101' }, timeoutMs: 2000 }) },
      mappings: allMappings,
      env: { WEBHOOK_SECRETS_DFDG: secret, SYNC_MAX_CITIZENS_PER_RUN: '1' },
    });
    for (const index of [0, 1, 2]) await enrolled(app, index);
    const sent = await send(app);
    const first = await processInboundWebhooks(app.deps);
    expect(first.runs).toEqual([{ tenant: '101', source: 'dfdg', notices: 1, runId: expect.any(String), status: 'continued' }]);
    const [waiting] = await stored(app);
    expect(waiting).toMatchObject({ webhookId: sent.id, status: 'pending', claimedUntil: null, runId: null, lastError: expect.stringMatching(/SYNC_MAX_CITIZENS_PER_RUN/) });

    // The Node processor takes the next pass by itself (at most one a minIntervalMs), until done.
    const processor = inboundWebhookProcessor(app.deps, { minIntervalMs: 10 });
    processor.nudge();
    await processor.idle();
    const [answered] = await stored(app);
    expect(answered).toMatchObject({ webhookId: sent.id, status: 'processed', runId: expect.any(String) });
    const pulled = (await webhookRuns(app)).map((run) => Number(run.stats.citizensPulled));
    expect(pulled.length).toBeGreaterThan(1);
    for (const n of pulled) expect(n).toBeLessThanOrEqual(1);
    expect(pulled.reduce((sum, n) => sum + n, 0)).toBe(3);
    await processor.stop();
    await app.close();
    await quiet.close();
  });
});
