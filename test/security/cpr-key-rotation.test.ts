/**
 * CPR key rotation: a new CPR_KEY with the old one in CPR_KEYS_RETIRED keeps everything working at
 * once (ciphertexts name their key; citizens are found by any configured key's hash), and the
 * re-key job moves every CPR ciphertext, lookup hash, quarantined payload and subscriber secret to
 * the new key — after which the old key can go.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { eq } from 'drizzle-orm';
import { createCprVault, MisplacedCiphertextError } from '../../src/security';
import { citizens } from '../../src/store/schema';
import { rekeyToCurrentKey } from '../../src/security/rekey';
import { runRetention } from '../../src/sync/retention';
import { testCpr } from '../support/cpr';
import { startTestApp } from '../support/node-app';
import { legacyCipher } from '../support/legacy-cipher';

const OLD_KEY = 'the-municipality-cpr-key-of-2025';
const NEW_KEY = 'the-municipality-cpr-key-of-2026';

const citizenA = { tenant: '101', citizenId: 'citizen-a' };

describe('the CPR vault across keys', () => {
  it('names the key in every ciphertext, opens a retired key’s and a pre-rotation (v1) one, and refuses one whose key is gone', async () => {
    const cpr = testCpr();
    const old = await createCprVault(OLD_KEY);
    const rotated = await createCprVault(NEW_KEY, [OLD_KEY]);
    const onlyNew = await createCprVault(NEW_KEY);
    const sealedOld = await old.encrypt(cpr, citizenA);
    expect(sealedOld.startsWith(old.currentPrefix)).toBe(true);
    expect(old.currentPrefix).toMatch(/^v3:[0-9a-f]{12}:$/);
    expect(rotated.currentPrefix).not.toBe(old.currentPrefix);
    expect(await rotated.decrypt(sealedOld, citizenA)).toBe(cpr);
    await expect(onlyNew.decrypt(sealedOld, citizenA)).rejects.toThrow(/CPR_KEYS_RETIRED/);
    const quarantined = { column: 'quarantine.raw', tenant: '101', id: 'q-1' } as const;
    expect(await rotated.openPayload(await old.sealPayload('{"raw":1}', quarantined), quarantined)).toBe('{"raw":1}');
    // Before key ids: any configured key that opens it.
    const legacy = await legacyCipher(OLD_KEY, cpr, 'v1');
    expect(await old.decrypt(legacy, citizenA)).toBe(cpr);
    expect(await rotated.decrypt(legacy, citizenA)).toBe(cpr);
    await expect(onlyNew.decrypt(legacy, citizenA)).rejects.toThrow(/not configured/);
    // With key ids, before ciphertexts were bound to their row (v2): opened wherever they are.
    const unbound = await legacyCipher(OLD_KEY, cpr, 'v2');
    expect(await rotated.decrypt(unbound, citizenA)).toBe(cpr);
    await expect(onlyNew.decrypt(unbound, citizenA)).rejects.toThrow(/CPR_KEYS_RETIRED/);
    // Lookups: the current key's hash first, then the retired key's — the same as the old vault's.
    expect(await rotated.lookupHashes('101', cpr)).toEqual([await onlyNew.hash('101', cpr), await old.hash('101', cpr)]);
  });
});

describe('rotating the CPR key of a running deployment', () => {
  const dir = mkdtempSync(join(tmpdir(), 'enplan-rekey-'));
  const url = `file:${join(dir, 'enplan.db')}`;
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const cpr = testCpr('1979-03-02');
  const appWith = (env: Record<string, string>) => startTestApp({ url, env });
  const quarantineRaw = { column: 'quarantine.raw', tenant: '101', id: 'q-rekey' } as const;
  const subscriptionSecret = { column: 'subscriptions.secret_sealed', tenant: '101', id: 's-rekey' } as const;
  const accessReport = async (app: Awaited<ReturnType<typeof appWith>>) => {
    const token = await app.harness.token({ tenant: '101', roles: ['caseworker'] });
    return app.harness.request('/v1/data-subject/access-report', { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ cpr }) });
  };

  it('keeps finding and reading everything during the rotation, re-keys it all, and then needs only the new key', async () => {
    // Under the old key: a citizen with a plan, a quarantined payload and a subscriber's secret.
    const before = await appWith({ CPR_KEY: OLD_KEY });
    const token = await before.harness.token({ tenant: '101', roles: ['caseworker'] });
    const created = await before.harness.request('/v1/plans', { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ cpr, origin: 'offered' }) });
    expect(created.status).toBe(201);
    const planId = ((await created.json()) as { id: string }).id;
    const at = new Date().toISOString();
    await before.deps.store.batch([
      before.deps.store.sync.quarantineStatement({ id: 'q-rekey', tenant: '101', adapter: 'dfdg', recordType: 'Plan', recordId: 'r-1', mappingId: null, reason: 'test', raw: await before.deps.vault.sealPayload(`<Plan cpr="${cpr}"/>`, quarantineRaw), runId: null, createdAt: at }),
    ]);
    await before.deps.store.batch([before.deps.store.subscriptions.createStatement({ id: 's-rekey', tenant: '101', url: 'https://vendor.example.dk/hook', secretSealed: await before.deps.vault.sealPayload('whsec_c2lnbmluZy1zZWNyZXQtb2YtdGhlLXZlbmRvcg==', subscriptionSecret), events: '["plan.changed"]', description: null, createdBy: 'vendor-1', createdAt: at })]);
    await before.close();

    // The new key alone, too early: the citizen cannot be found (this is why the old key is listed).
    const tooEarly = await appWith({ CPR_KEY: NEW_KEY });
    expect((await accessReport(tooEarly)).status).toBe(404);
    await tooEarly.close();

    const during = await appWith({ CPR_KEY: NEW_KEY, CPR_KEYS_RETIRED: OLD_KEY });
    const report = await accessReport(during);
    expect(report.status).toBe(200);
    expect(JSON.stringify(await report.json())).toContain(planId);
    // The same person is not stored twice: found under the old key's hash, the plan is a duplicate.
    const again = await during.harness.request('/v1/plans', { method: 'POST', headers: { authorization: `Bearer ${await during.harness.token({ tenant: '101', roles: ['caseworker'] })}`, 'content-type': 'application/json' }, body: JSON.stringify({ cpr, origin: 'offered' }) });
    expect(again.status).toBe(409);

    // IT staff see what is left to re-key (overview, dashboard, /metrics).
    const itStaff = { authorization: `Bearer ${await during.harness.token({ tenant: '101', roles: ['it-staff'] })}` };
    const rotationState = async () => ((await (await during.harness.request('/v1/monitoring/overview', { headers: itStaff })).json()) as { cprKeyRotation: unknown }).cprKeyRotation;
    expect(await rotationState()).toEqual({ retiredKeys: 1, valuesUnderRetiredKeys: 3 });
    expect(await (await during.harness.request('/metrics', { headers: itStaff })).text()).toContain('enplan_values_under_retired_cpr_keys{tenant="101"} 3');
    const dashboard = await (await during.harness.request('/dashboard', { headers: { cookie: `enplan_session=${itStaff.authorization.slice('Bearer '.length)}` } })).text();
    expect(dashboard).toMatch(/id="cpr-key-rotation"[^>]*>\s*CPR key rotation: 3 values still under a retired key/);
    const record = (await (await during.harness.request('/v1/processing-record', { headers: itStaff })).json()) as { security: { cprAtRest: string } };
    expect(record.security.cprAtRest).toContain('a key rotation is under way (1 retired key still read');

    // Retention goes on with the rotation (as it does nightly, and on Workers).
    const retention = await runRetention(during.deps);
    expect(retention.rekey).toEqual({ citizens: 1, sealedValues: 2, failures: 0, refused: 0, legacyCiphertextsLeft: 0, more: false });
    expect(await rekeyToCurrentKey(during.deps)).toEqual({ citizens: 0, sealedValues: 0, failures: 0, refused: 0, legacyCiphertextsLeft: 0, more: false });
    expect(await rotationState()).toEqual({ retiredKeys: 1, valuesUnderRetiredKeys: 0 });
    const prefix = during.deps.vault.currentPrefix;
    const citizen = (await during.deps.store.citizens.findByAnyCprHash('101', [await during.deps.vault.hash('101', cpr)]))!;
    expect(citizen.cprCipher.startsWith(prefix)).toBe(true);
    expect((await during.deps.store.sync.quarantined('101'))[0]!.raw!.startsWith(prefix)).toBe(true);
    expect((await during.deps.store.subscriptions.get('101', 's-rekey'))!.secretSealed.startsWith(prefix)).toBe(true);
    await during.close();

    // Done: the old key can go.
    const after = await appWith({ CPR_KEY: NEW_KEY });
    expect((await accessReport(after)).status).toBe(200);
    const overview = await after.harness.request('/v1/monitoring/overview', { headers: { authorization: `Bearer ${await after.harness.token({ tenant: '101', roles: ['it-staff'] })}` } });
    expect(((await overview.json()) as { cprKeyRotation: unknown }).cprKeyRotation).toBeNull();
    expect(await after.deps.vault.openPayload((await after.deps.store.sync.quarantined('101'))[0]!.raw!, quarantineRaw)).toBe(`<Plan cpr="${cpr}"/>`);
    expect(await after.deps.vault.openPayload((await after.deps.store.subscriptions.get('101', 's-rekey'))!.secretSealed, subscriptionSecret)).toMatch(/^whsec_/);
    await after.close();
  });

  it('a re-key in pages stops at its limit and says there is more', async () => {
    const app = await startTestApp({ env: { CPR_KEY: OLD_KEY } });
    for (let i = 0; i < 5; i++) await app.deps.store.citizens.upsert({ id: `c-${i}`, tenant: '101', cprHash: `h-${i}`, cprCipher: await app.deps.vault.encrypt(testCpr(), { tenant: '101', citizenId: `c-${i}` }), birthDate: '1980-01-01', createdAt: new Date().toISOString() });
    const rotated = { ...app.deps, vault: await createCprVault(NEW_KEY, [OLD_KEY]) };
    expect(await rekeyToCurrentKey(rotated, { pageSize: 2, maxPages: 2 })).toEqual({ citizens: 4, sealedValues: 0, failures: 0, refused: 0, legacyCiphertextsLeft: 0, more: true });
    expect(await rekeyToCurrentKey(rotated, { pageSize: 2 })).toEqual({ citizens: 1, sealedValues: 0, failures: 0, refused: 0, legacyCiphertextsLeft: 0, more: false });
    await app.close();
  });

  it('moves v2 ciphertexts (before they were bound to their row) to v3, bound to it, with no key rotation under way', async () => {
    const app = await startTestApp({ env: { CPR_KEY: OLD_KEY } });
    const token = await app.harness.token({ tenant: '101', roles: ['caseworker'] });
    const created = await app.harness.request('/v1/plans', { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ cpr, origin: 'offered' }) });
    const citizenId = ((await created.json()) as { subject: { member: { citizenId: string } } }).subject.member.citizenId;
    const owner = { tenant: '101', citizenId };
    // What a database written before v3 holds: the citizen's CPR, a quarantined payload, a subscriber's secret.
    await app.database.db.update(citizens).set({ cprCipher: await legacyCipher(OLD_KEY, cpr, 'v2') }).where(eq(citizens.id, citizenId));
    const at = new Date().toISOString();
    await app.deps.store.batch([
      app.deps.store.sync.quarantineStatement({ id: 'q-rekey', tenant: '101', adapter: 'dfdg', recordType: 'Plan', recordId: 'r-1', mappingId: null, reason: 'test', raw: await legacyCipher(OLD_KEY, `<Plan cpr="${cpr}"/>`, 'v2', 'payload-encryption'), runId: null, createdAt: at }),
      app.deps.store.subscriptions.createStatement({ id: 's-rekey', tenant: '101', url: 'https://vendor.example.dk/hook', secretSealed: await legacyCipher(OLD_KEY, 'whsec_c2lnbmluZy1zZWNyZXQtb2YtdGhlLXZlbmRvcg==', 'v2', 'payload-encryption'), events: '["plan.changed"]', description: null, createdBy: 'vendor-1', createdAt: at }),
    ]);
    const stored = async () => ({
      cpr: (await app.deps.store.citizens.get('101', citizenId))!.cprCipher,
      raw: (await app.deps.store.sync.quarantined('101'))[0]!.raw!,
      secret: (await app.deps.store.subscriptions.get('101', 's-rekey'))!.secretSealed,
    });
    // Read as they are until then.
    expect(await app.deps.vault.decrypt((await stored()).cpr, owner)).toBe(cpr);

    // Retention (nightly; on Workers its trigger) runs the re-key job, a key rotation or not.
    expect((await runRetention(app.deps)).rekey).toEqual({ citizens: 1, sealedValues: 2, failures: 0, refused: 0, legacyCiphertextsLeft: 0, more: false });
    expect(await rekeyToCurrentKey(app.deps)).toEqual({ citizens: 0, sealedValues: 0, failures: 0, refused: 0, legacyCiphertextsLeft: 0, more: false });
    const rekeyed = await stored();
    for (const value of Object.values(rekeyed)) expect(value.startsWith(app.deps.vault.currentPrefix) && value.startsWith('v3:')).toBe(true);
    expect(await app.deps.vault.decrypt(rekeyed.cpr, owner)).toBe(cpr);
    expect(await app.deps.vault.openPayload(rekeyed.raw, quarantineRaw)).toBe(`<Plan cpr="${cpr}"/>`);
    expect(await app.deps.vault.openPayload(rekeyed.secret, subscriptionSecret)).toMatch(/^whsec_/);
    // Bound now: in another citizen's row, or another column, they no longer open.
    await expect(app.deps.vault.decrypt(rekeyed.cpr, { tenant: '101', citizenId: 'someone-else' })).rejects.toThrow(MisplacedCiphertextError);
    await expect(app.deps.vault.openPayload(rekeyed.secret, { ...subscriptionSecret, column: 'subscriptions.previous_secret_sealed' })).rejects.toThrow(MisplacedCiphertextError);
    // The person is found as before.
    expect((await app.deps.store.citizens.findByAnyCprHash('101', await app.deps.vault.lookupHashes('101', cpr)))?.id).toBe(citizenId);
    await app.close();
  });
});
