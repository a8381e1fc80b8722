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
import { createCprVault } from '../../src/security';
import { rekeyToCurrentKey } from '../../src/security/rekey';
import { runRetention } from '../../src/sync/retention';
import { testCpr } from '../support/cpr';
import { startTestApp } from '../support/node-app';

const OLD_KEY = 'the-municipality-cpr-key-of-2025';
const NEW_KEY = 'the-municipality-cpr-key-of-2026';

/** A ciphertext as the vault wrote it before key ids (`v1:`): AES-GCM under the derived key, IV first. */
async function legacyCipher(secret: string, text: string): Promise<string> {
  const raw = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(`cpr-encryption:${secret}`));
  const key = await crypto.subtle.importKey('raw', raw, 'AES-GCM', false, ['encrypt']);
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const cipher = new Uint8Array(await crypto.subtle.encrypt({ name: 'AES-GCM', iv }, key, new TextEncoder().encode(text)));
  return `v1:${Buffer.concat([iv, cipher]).toString('base64')}`;
}

describe('the CPR vault across keys', () => {
  it('names the key in every ciphertext, opens a retired key’s and a pre-rotation (v1) one, and refuses one whose key is gone', async () => {
    const cpr = testCpr();
    const old = await createCprVault(OLD_KEY);
    const rotated = await createCprVault(NEW_KEY, [OLD_KEY]);
    const onlyNew = await createCprVault(NEW_KEY);
    const sealedOld = await old.encrypt(cpr);
    expect(sealedOld.startsWith(old.currentPrefix)).toBe(true);
    expect(old.currentPrefix).toMatch(/^v2:[0-9a-f]{12}:$/);
    expect(rotated.currentPrefix).not.toBe(old.currentPrefix);
    expect(await rotated.decrypt(sealedOld)).toBe(cpr);
    await expect(onlyNew.decrypt(sealedOld)).rejects.toThrow(/CPR_KEYS_RETIRED/);
    expect(await rotated.openPayload(await old.sealPayload('{"raw":1}'))).toBe('{"raw":1}');
    // Before key ids: any configured key that opens it.
    const legacy = await legacyCipher(OLD_KEY, cpr);
    expect(await old.decrypt(legacy)).toBe(cpr);
    expect(await rotated.decrypt(legacy)).toBe(cpr);
    await expect(onlyNew.decrypt(legacy)).rejects.toThrow(/not configured/);
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
      before.deps.store.sync.quarantineStatement({ id: 'q-rekey', tenant: '101', adapter: 'dfdg', recordType: 'Plan', recordId: 'r-1', mappingId: null, reason: 'test', raw: await before.deps.vault.sealPayload(`<Plan cpr="${cpr}"/>`), runId: null, createdAt: at }),
    ]);
    await before.deps.store.batch([before.deps.store.subscriptions.createStatement({ id: 's-rekey', tenant: '101', url: 'https://vendor.example.dk/hook', secretSealed: await before.deps.vault.sealPayload('whsec_c2lnbmluZy1zZWNyZXQtb2YtdGhlLXZlbmRvcg=='), events: '["plan.changed"]', description: null, createdBy: 'vendor-1', createdAt: at })]);
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
    expect(retention.rekey).toEqual({ citizens: 1, sealedValues: 2, failures: 0, more: false });
    expect(await rekeyToCurrentKey(during.deps)).toEqual({ citizens: 0, sealedValues: 0, failures: 0, more: false });
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
    expect(await after.deps.vault.openPayload((await after.deps.store.sync.quarantined('101'))[0]!.raw!)).toBe(`<Plan cpr="${cpr}"/>`);
    expect(await after.deps.vault.openPayload((await after.deps.store.subscriptions.get('101', 's-rekey'))!.secretSealed)).toMatch(/^whsec_/);
    await after.close();
  });

  it('a re-key in pages stops at its limit and says there is more', async () => {
    const app = await startTestApp({ env: { CPR_KEY: OLD_KEY } });
    for (let i = 0; i < 5; i++) await app.deps.store.citizens.upsert({ id: `c-${i}`, tenant: '101', cprHash: `h-${i}`, cprCipher: await app.deps.vault.encrypt(testCpr()), birthDate: '1980-01-01', createdAt: new Date().toISOString() });
    const rotated = { ...app.deps, vault: await createCprVault(NEW_KEY, [OLD_KEY]) };
    expect(await rekeyToCurrentKey(rotated, { pageSize: 2, maxPages: 2 })).toEqual({ citizens: 4, sealedValues: 0, failures: 0, more: true });
    expect(await rekeyToCurrentKey(rotated, { pageSize: 2 })).toEqual({ citizens: 1, sealedValues: 0, failures: 0, more: false });
    await app.close();
  });
});
