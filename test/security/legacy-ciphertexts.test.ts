/**
 * CPR_LEGACY_CIPHERTEXTS=refuse (decision 0022, "Later", session 20): once a database holds no `v1:`/
 * `v2:` ciphertexts (not bound to their row), they are refused everywhere — one moved into another
 * citizen's row, or restored from an old backup, is not read there as that citizen's, and the re-key
 * job does not re-seal it as v3 bound to the wrong row. `open` (the default) keeps today's behaviour.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eq } from 'drizzle-orm';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { createDfdgAdapter } from '../../adapters/dfdg';
import { generatePopulation } from '../../adapters/shared/population';
import { loadConfig } from '../../src/config';
import { membersOf, type Plan } from '../../src/model';
import { stringVars } from '../../src/runtime/worker';
import { createCprVault, LegacyCiphertextRefusedError, MisplacedCiphertextError } from '../../src/security';
import { rekeyUntilDone } from '../../src/runtime/node';
import { rekeyToCurrentKey } from '../../src/security/rekey';
import { citizens } from '../../src/store/schema';
import { allMappings } from '../../src/sync/all-mappings';
import { runSync } from '../../src/sync/engine';
import { testCpr } from '../support/cpr';
import { TEST_CPR_KEY } from '../support/harness';
import { startTestApp } from '../support/node-app';
import { dfdgSimulator } from '../support/sector-simulators';
import { enrol, grantConsent } from '../support/seed';
import { employmentIntervention, startPushFixture, TARGETS, type PushFixture } from '../registrations/fixture';
import { legacyCipher } from '../support/legacy-cipher';

const KEY = 'the-municipality-cpr-key-of-2026';
const RETIRED = 'the-municipality-cpr-key-of-2025';
const citizenA = { tenant: '101', citizenId: 'citizen-a' };
const quarantined = { column: 'quarantine.raw', tenant: '101', id: 'q-1' } as const;

describe('CPR_LEGACY_CIPHERTEXTS', () => {
  it('is `open` unless set, reads `refuse`, and refuses any other value at start with its name — on Workers the same way', () => {
    expect(loadConfig({}).cprLegacyCiphertexts).toBe('open');
    expect(loadConfig({ CPR_LEGACY_CIPHERTEXTS: 'refuse' }).cprLegacyCiphertexts).toBe('refuse');
    expect(() => loadConfig({ CPR_LEGACY_CIPHERTEXTS: 'yes' })).toThrow(/CPR_LEGACY_CIPHERTEXTS[\s\S]*must be [\s\S]*open[\s\S]*or [\s\S]*refuse/);
    expect(() => loadConfig({ CPR_LEGACY_CIPHERTEXTS: '' })).toThrow(/CPR_LEGACY_CIPHERTEXTS/);
    // Workers read their [vars] and secrets through the same parsing.
    expect(loadConfig(stringVars({ CPR_LEGACY_CIPHERTEXTS: 'refuse' } as never)).cprLegacyCiphertexts).toBe('refuse');
    expect(() => loadConfig(stringVars({ CPR_LEGACY_CIPHERTEXTS: 'Refused' } as never))).toThrow(/CPR_LEGACY_CIPHERTEXTS/);
  });
});

describe('the CPR vault with `refuse`', () => {
  it('refuses v1 and v2 ciphertexts of CPR numbers and sealed values, as misplaced ones, naming no number; v3 opens as before', async () => {
    const cpr = testCpr();
    const refusing = await createCprVault(KEY, [RETIRED], { legacyCiphertexts: 'refuse' });
    const opening = await createCprVault(KEY, [RETIRED]);
    expect(refusing.legacyCiphertexts).toBe('refuse');
    expect(opening.legacyCiphertexts).toBe('open');
    for (const legacy of [await legacyCipher(KEY, cpr, 'v1'), await legacyCipher(KEY, cpr, 'v2'), await legacyCipher(RETIRED, cpr, 'v2')]) {
      expect(await opening.decrypt(legacy, citizenA)).toBe(cpr);
      const refused = await refusing.decrypt(legacy, citizenA).then(
        () => undefined,
        (error: unknown) => error,
      );
      // A subclass: every caller that keeps a misplaced ciphertext out (the relay, the quarantine view) does so with this one.
      expect(refused).toBeInstanceOf(LegacyCiphertextRefusedError);
      expect(refused).toBeInstanceOf(MisplacedCiphertextError);
      expect((refused as Error).message).toMatch(/earlier format \(v1\/v2/);
      expect((refused as Error).message).not.toContain(cpr);
      expect((refused as Error).message).not.toContain(citizenA.citizenId);
    }
    // Refused even under a key that is not configured (the check comes first).
    await expect(refusing.decrypt(await legacyCipher('a-key-nobody-configured', cpr, 'v2'), citizenA)).rejects.toBeInstanceOf(LegacyCiphertextRefusedError);
    for (const version of ['v1', 'v2'] as const) {
      const sealed = await legacyCipher(KEY, '{"raw":1}', version, 'payload-encryption');
      expect(await opening.openPayload(sealed, quarantined)).toBe('{"raw":1}');
      await expect(refusing.openPayload(sealed, quarantined)).rejects.toBeInstanceOf(LegacyCiphertextRefusedError);
    }
    expect(await refusing.decrypt(await refusing.encrypt(cpr, citizenA), citizenA)).toBe(cpr);
    expect(await refusing.openPayload(await refusing.sealPayload('{"raw":2}', quarantined), quarantined)).toBe('{"raw":2}');
    await expect(refusing.decrypt(await refusing.encrypt(cpr, citizenA), { ...citizenA, citizenId: 'citizen-b' })).rejects.not.toBeInstanceOf(LegacyCiphertextRefusedError);
  });
});

describe('the re-key job and v1/v2 ciphertexts', () => {
  const dir = mkdtempSync(join(tmpdir(), 'enplan-legacy-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  let databases = 0;
  /** A database of one municipality written before v3: two citizens' CPR numbers (v2, v1), a quarantined payload and a subscriber's secret (v2). */
  async function legacyDatabase() {
    const url = `file:${join(dir, `enplan-${++databases}.db`)}`;
    const app = await startTestApp({ url });
    const [first, second] = [testCpr('1970-01-02'), testCpr('1971-02-03')];
    const [firstPlan, secondPlan] = [await enrol(app.deps, first), await enrol(app.deps, second)];
    const ids = [membersOf(firstPlan)[0]!.citizenId, membersOf(secondPlan)[0]!.citizenId] as const;
    await app.database.db.update(citizens).set({ cprCipher: await legacyCipher(TEST_CPR_KEY, first, 'v2') }).where(eq(citizens.id, ids[0]));
    await app.database.db.update(citizens).set({ cprCipher: await legacyCipher(TEST_CPR_KEY, second, 'v1') }).where(eq(citizens.id, ids[1]));
    const at = new Date().toISOString();
    await app.deps.store.batch([
      app.deps.store.sync.quarantineStatement({ id: 'q-legacy', tenant: '101', adapter: 'dfdg', recordType: 'Plan', recordId: 'r-1', mappingId: null, reason: 'test', raw: await legacyCipher(TEST_CPR_KEY, `<Plan cpr="${first}"/>`, 'v2', 'payload-encryption'), runId: null, createdAt: at }),
      app.deps.store.subscriptions.createStatement({ id: 's-legacy', tenant: '101', url: 'https://vendor.example.dk/hook', secretSealed: await legacyCipher(TEST_CPR_KEY, 'whsec_c2lnbmluZy1zZWNyZXQtb2YtdGhlLXZlbmRvcg==', 'v2', 'payload-encryption'), events: '["plan.changed"]', description: null, createdBy: 'vendor-1', createdAt: at }),
    ]);
    await app.close();
    const stored = async (opened: typeof app) => [
      (await opened.deps.store.citizens.get('101', ids[0]))!.cprCipher,
      (await opened.deps.store.citizens.get('101', ids[1]))!.cprCipher,
      (await opened.deps.store.sync.quarantined('101'))[0]!.raw!,
      (await opened.deps.store.subscriptions.get('101', 's-legacy'))!.secretSealed,
    ];
    return { url, cprs: [first, second] as const, ids, stored };
  }

  it('with `refuse`, re-seals none of them: left as they are, logged without the number, counted as refused and as left', async () => {
    const db = await legacyDatabase();
    const app = await startTestApp({ url: db.url, env: { CPR_LEGACY_CIPHERTEXTS: 'refuse' } });
    const before = await db.stored(app);
    const linesBefore = app.logger.lines.length;
    expect(await rekeyToCurrentKey(app.deps)).toEqual({ citizens: 0, sealedValues: 0, failures: 0, refused: 4, legacyCiphertextsLeft: 4, more: false });
    expect(await db.stored(app)).toEqual(before);
    expect(before.map((value) => value.slice(0, 3))).toEqual(['v2:', 'v1:', 'v2:', 'v2:']);
    await expect(app.deps.vault.decrypt(before[0]!, { tenant: '101', citizenId: db.ids[0] })).rejects.toBeInstanceOf(LegacyCiphertextRefusedError);
    const logged = app.logger.lines.slice(linesBefore).filter((line) => line.includes('refused with CPR_LEGACY_CIPHERTEXTS=refuse'));
    expect(logged).toHaveLength(4);
    expect(logged.filter((line) => db.ids.some((id) => line.includes(id)))).toHaveLength(2);
    for (const cpr of db.cprs) expect(app.logger.lines.some((line) => line.includes(cpr))).toBe(false);
    // A second run finds the same: the count stays until someone deals with them.
    expect((await rekeyToCurrentKey(app.deps)).legacyCiphertextsLeft).toBe(4);
    const token = await app.harness.token({ tenant: '101', roles: ['it-staff'], sub: 'it-anna' });
    // The dashboard says what refusing them costs.
    const dashboard = await (await app.harness.request('/dashboard', { headers: { cookie: `enplan_session=${token}` } })).text();
    expect(dashboard).toMatch(/id="legacy-ciphertexts" class="bad"[^>]*>\s*4 ciphertexts of an earlier format are refused \(CPR_LEGACY_CIPHERTEXTS=refuse\): their citizens are not synced/);
    // IT staff asking for the quarantined payload are told why it is not shown (a problem, not a 500).
    const refusedRead = await app.harness.request('/v1/sync/quarantine/q-legacy/payload', { headers: { authorization: `Bearer ${token}` } });
    expect(refusedRead.status).toBe(409);
    expect(((await refusedRead.json()) as { detail: string }).detail).toContain('earlier format (v1/v2, not bound to its row) and CPR_LEGACY_CIPHERTEXTS is refuse');
    await app.close();
  });

  it('at the service’s start with `refuse`, re-keying ends though bounded runs keep finding values it leaves, and says how many are left', { timeout: 10_000 }, async () => {
    const db = await legacyDatabase();
    const app = await startTestApp({ url: db.url, env: { CPR_LEGACY_CIPHERTEXTS: 'refuse' } });
    const linesBefore = app.logger.lines.length;
    // Runs of two one-row pages each stop with more to read, moving nothing: a loop on `more` alone would not end.
    await rekeyUntilDone(app.deps, false, { pageSize: 1, maxPages: 2 });
    const summary = app.logger.lines.slice(linesBefore).find((line) => line.includes('CPR key rotation: data under retired keys'));
    expect(summary).toBeDefined();
    expect(summary).toContain('"refused":2');
    expect(summary).toContain('"legacyCiphertextsLeft":2');
    await app.close();
  });

  it('with `open` (the default), moves them to v3 as before and counts none left — after which `refuse` changes nothing', async () => {
    const db = await legacyDatabase();
    const app = await startTestApp({ url: db.url });
    // IT staff see how many are left without reading the log: the overview, /metrics and the dashboard.
    const token = await app.harness.token({ tenant: '101', roles: ['it-staff'], sub: 'it-anna' });
    const shown = async () => {
      const overview = (await (await app.harness.request('/v1/monitoring/overview', { headers: { authorization: `Bearer ${token}` } })).json()) as { legacyCiphertexts: unknown };
      const metrics = (await (await app.harness.request('/metrics', { headers: { authorization: `Bearer ${token}` } })).text()).split('\n').find((line) => line.startsWith('enplan_cpr_legacy_ciphertexts{'));
      const dashboard = await (await app.harness.request('/dashboard', { headers: { cookie: `enplan_session=${token}` } })).text();
      return { overview: overview.legacyCiphertexts, metrics, dashboard: /id="legacy-ciphertexts"[^>]*>\s*([^<]*)/.exec(dashboard)?.[1]?.trim() ?? null };
    };
    expect(await shown()).toEqual({
      overview: { count: 4, policy: 'open' },
      metrics: 'enplan_cpr_legacy_ciphertexts{tenant="101"} 4',
      dashboard: '4 ciphertexts of an earlier format: the nightly re-key moves them; at 0, set CPR_LEGACY_CIPHERTEXTS=refuse',
    });
    expect(await rekeyToCurrentKey(app.deps)).toEqual({ citizens: 2, sealedValues: 2, failures: 0, refused: 0, legacyCiphertextsLeft: 0, more: false });
    expect(await shown()).toEqual({ overview: { count: 0, policy: 'open' }, metrics: 'enplan_cpr_legacy_ciphertexts{tenant="101"} 0', dashboard: null });
    for (const value of await db.stored(app)) expect(value.startsWith(app.deps.vault.currentPrefix)).toBe(true);
    await app.close();

    const refusing = await startTestApp({ url: db.url, env: { CPR_LEGACY_CIPHERTEXTS: 'refuse' } });
    expect(await rekeyToCurrentKey(refusing.deps)).toEqual({ citizens: 0, sealedValues: 0, failures: 0, refused: 0, legacyCiphertextsLeft: 0, more: false });
    expect(await refusing.deps.vault.decrypt((await db.stored(refusing))[0]!, { tenant: '101', citizenId: db.ids[0] })).toBe(db.cprs[0]);
    await refusing.close();
  });

  it('with `open`, counts a v2 value it cannot move (its key is not configured) as left, so `refuse` is not set too early', async () => {
    const app = await startTestApp();
    const plan = await enrol(app.deps, testCpr());
    await app.database.db.update(citizens).set({ cprCipher: await legacyCipher(RETIRED, testCpr(), 'v2') }).where(eq(citizens.id, membersOf(plan)[0]!.citizenId));
    expect(await rekeyToCurrentKey(app.deps)).toEqual({ citizens: 0, sealedValues: 0, failures: 1, refused: 0, legacyCiphertextsLeft: 1, more: false });
    await app.close();
  });
});

describe('a v2 CPR ciphertext with `refuse`, in the sync', () => {
  const population = generatePopulation(4, 2026).map((c) => ({ ...c, sectors: { employment: true, education: false, social: false, health: false } }));
  const simulators = dfdgSimulator(population);
  const employment = ['plan-core', 'employment', 'goals', 'interventions'] as const;
  const elementsOf = async (app: Awaited<ReturnType<typeof startTestApp>>, plan: Plan) => {
    const stored = (await app.deps.store.plans.get('101', plan.id))!;
    return [...stored.goals, ...stored.interventions, ...stored.agreements];
  };
  /** A citizen with consent whose row holds a v2 ciphertext — their own number, or (moved) another citizen's. */
  async function syncWithLegacyRow(setting: 'open' | 'refuse', whose: 'own' | 'another citizen’s') {
    const app = await startTestApp({ adapters: { dfdg: createDfdgAdapter({ baseUrl: simulators.dfdg.url, organisation: { typeIdentifier: 'kommune', code: '101' } }) }, mappings: allMappings, env: { CPR_LEGACY_CIPHERTEXTS: setting } });
    const plan = await enrol(app.deps, population[0]!.cpr);
    const citizenId = membersOf(plan)[0]!.citizenId;
    await grantConsent(app.deps, { citizenId, source: 'dfdg', categories: [...employment] });
    const cpr = whose === 'own' ? population[0]!.cpr : population[1]!.cpr;
    await app.database.db.update(citizens).set({ cprCipher: await legacyCipher(TEST_CPR_KEY, cpr, 'v2') }).where(eq(citizens.id, citizenId));
    const linesBefore = app.logger.lines.length;
    const run = await runSync(app.deps, { tenant: '101', adapter: 'dfdg', trigger: 'test', mappings: allMappings, feedStartMarginMs: 0 });
    return { app, plan, citizenId, run, lines: app.logger.lines.slice(linesBefore) };
  }

  it('skips the citizen as a misplaced ciphertext: a pull error, a warning with the citizen id and no number, nothing pulled into their plan', async () => {
    for (const whose of ['own', 'another citizen’s'] as const) {
      const { app, plan, citizenId, run, lines } = await syncWithLegacyRow('refuse', whose);
      expect(run.status).toBe('succeeded');
      expect(run.stats).toMatchObject({ citizensPulled: 0, pullErrors: 1 });
      expect(await elementsOf(app, plan)).toEqual([]);
      const refusals = lines.filter((line) => line.includes('earlier format (v1/v2')).map((line) => JSON.parse(line) as { tenant: string; citizenId: string });
      expect(refusals).toEqual([expect.objectContaining({ tenant: '101', citizenId })]);
      for (const citizen of population) expect(app.logger.lines.some((line) => line.includes(citizen.cpr))).toBe(false);
      await app.close();
    }
  });

  it('with `open`, pulls the citizen as before', async () => {
    const { app, plan, run } = await syncWithLegacyRow('open', 'own');
    expect(run.stats).toMatchObject({ citizensPulled: 1, pullErrors: 0 });
    expect((await elementsOf(app, plan)).length).toBeGreaterThan(0);
    await app.close();
  });
});

describe('a v2 CPR ciphertext with `refuse`, at delivery', () => {
  let f: PushFixture;
  beforeEach(async () => {
    f ??= await startPushFixture();
    await f.drain();
    for (const t of TARGETS) f.targets[t].reset();
  });
  afterAll(() => f?.close());

  it('dead-letters the delivery with the reason, as a misplaced ciphertext: nothing pushed', async () => {
    const plan = await f.createPlan();
    await f.grantAll(plan.citizenId);
    await f.app.database.db.update(citizens).set({ cprCipher: await legacyCipher(TEST_CPR_KEY, testCpr(), 'v2') }).where(eq(citizens.id, plan.citizenId));
    const answer = await f.register({ planId: plan.id, kind: 'intervention.added', intervention: employmentIntervention(plan.memberId) });
    expect(answer.status).toBe(202);
    const opening = f.deps.vault;
    f.deps.vault = await createCprVault(TEST_CPR_KEY, [], { legacyCiphertexts: 'refuse' });
    try {
      expect(await f.relay()).toEqual({ delivered: 0, retried: 0, dead: 1, cancelled: 0 });
    } finally {
      f.deps.vault = opening;
    }
    expect(f.targets.dfdg.requests()).toBe(0);
    const status = await f.call('GET', `/v1/registrations/${answer.body.id}`);
    expect(status.body.targets[0]).toMatchObject({ status: 'dead', reason: expect.stringContaining('earlier format (v1/v2') });
  });
});
