/** CPR numbers: encrypted at rest, found by keyed hash, never in a URL, a log line or a response. */
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createCprVault } from '../../src/security';
import { citizens } from '../../src/store/schema';
import { testCpr } from '../support/cpr';
import { startTestApp } from '../support/node-app';

describe('CPR protection', () => {
  it('encrypts with a fresh IV each time and decrypts back', async () => {
    const vault = await createCprVault('a-test-key-of-enough-length');
    const cpr = testCpr();
    const first = await vault.encrypt(cpr);
    const second = await vault.encrypt(cpr);
    expect(first).not.toBe(second);
    expect(first).not.toContain(cpr);
    expect(await vault.decrypt(first)).toBe(cpr);
    const other = await createCprVault('another-key-of-enough-length');
    await expect(other.decrypt(first)).rejects.toThrow();
  });

  it('seals source payloads under a key of their own, with a fresh IV each time', async () => {
    const vault = await createCprVault('a-test-key-of-enough-length');
    const payload = `<Activity><PersonCivilRegistrationIdentifier>${testCpr()}</PersonCivilRegistrationIdentifier></Activity>`;
    const sealed = await vault.sealPayload(payload);
    expect(sealed).not.toBe(await vault.sealPayload(payload));
    expect(sealed).not.toContain('PersonCivilRegistrationIdentifier');
    expect(await vault.openPayload(sealed)).toBe(payload);
    // Not the CPR key: a payload does not open as a CPR cipher, nor under another secret.
    await expect(vault.decrypt(sealed)).rejects.toThrow();
    await expect((await createCprVault('another-key-of-enough-length')).openPayload(sealed)).rejects.toThrow();
  });

  it('hashes per tenant and per key', async () => {
    const vault = await createCprVault('a-test-key-of-enough-length');
    const cpr = testCpr();
    expect(await vault.hash('101', cpr)).toBe(await vault.hash('101', cpr));
    expect(await vault.hash('101', cpr)).not.toBe(await vault.hash('751', cpr));
    expect(await vault.hash('101', cpr)).not.toBe(await (await createCprVault('another-key-of-enough-length')).hash('101', cpr));
  });

  it('hashes exactly as WebCrypto HMAC-SHA-256 with the derived look-up key (stored hashes stay valid)', async () => {
    const secret = 'a-test-key-of-enough-length';
    const vault = await createCprVault(secret);
    const keyBytes = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(`cpr-lookup:${secret}`));
    const key = await crypto.subtle.importKey('raw', keyBytes, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
    for (const cpr of [testCpr(), testCpr(), testCpr()]) {
      const mac = await crypto.subtle.sign('HMAC', key, new TextEncoder().encode(`101:${cpr}`));
      const expected = [...new Uint8Array(mac)].map((b) => b.toString(16).padStart(2, '0')).join('');
      expect((await vault.hash('101', cpr)) === expected).toBe(true);
    }
  });

  it('never writes a CPR in plain text to the database file, the log or a response', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'enplan-cpr-'));
    try {
      const app = await startTestApp({ url: `file:${join(dir, 'enplan.db')}` });
      const token = await app.harness.token({ tenant: '101', roles: ['caseworker'] });
      const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
      const cprs = [testCpr(), testCpr('2011-05-06')];
      const responses: string[] = [];
      const create = await app.harness.request('/v1/plans', {
        method: 'POST',
        headers,
        body: JSON.stringify({ cpr: cprs[0], origin: 'offered', role: 'parent', family: { members: [{ cpr: cprs[1], role: 'child' }] } }),
      });
      responses.push(await create.text());
      const lookup = await app.harness.request('/v1/plans/lookup', { method: 'POST', headers, body: JSON.stringify({ cpr: cprs[0] }) });
      responses.push(await lookup.text());
      // A careless client putting a CPR in the query string: the log keeps only the path.
      await app.harness.request(`/v1/plans/nothing?cpr=${cprs[0]}`, { headers });
      const rows = await app.database.db.select().from(citizens);
      expect(rows).toHaveLength(2);
      await app.close();
      const files = readdirSync(dir).map((f) => readFileSync(join(dir, f)).toString('latin1'));
      for (const cpr of cprs) {
        for (const content of files) expect(content.includes(cpr)).toBe(false);
        for (const line of app.logger.lines) expect(line.includes(cpr)).toBe(false);
        for (const body of responses) expect(body.includes(cpr)).toBe(false);
      }
      expect(app.logger.lines.length).toBeGreaterThan(2);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the logger masks a CPR that reaches it anyway', async () => {
    const app = await startTestApp();
    const cpr = testCpr();
    app.deps.logger.warn('something mentioned a number', { note: `borger ${cpr.slice(0, 6)}-${cpr.slice(6)}` });
    expect(app.logger.lines.at(-1)).toContain('[cpr]');
    expect(app.logger.lines.at(-1)).not.toContain(cpr.slice(6));
    // Written with a space or a dash, as people write it (and as the API's own CPR fields accept it).
    for (const separator of [' ', '\u00a0', '\u2013']) {
      app.deps.logger.warn('something mentioned a number', { note: `borger ${cpr.slice(0, 6)}${separator}${cpr.slice(6)}` });
      expect(app.logger.lines.at(-1)).toContain('[cpr]');
    }
    // And with the date's parts apart.
    for (const written of [`${cpr.slice(0, 2)} ${cpr.slice(2, 4)} ${cpr.slice(4, 6)} ${cpr.slice(6)}`, `${cpr.slice(0, 2)}.${cpr.slice(2, 4)}.${cpr.slice(4, 6)}-${cpr.slice(6)}`]) {
      app.deps.logger.warn('something mentioned a number', { note: `borger ${written}` });
      expect(app.logger.lines.at(-1)).toContain('[cpr]');
      expect(app.logger.lines.at(-1)).not.toContain(cpr.slice(6));
    }
    // A request for a path holding one (a careless client): neither the log nor the answer repeats it.
    const spaced = `${cpr.slice(0, 6)} ${cpr.slice(6)}`;
    const token = await app.harness.token({ tenant: '101', roles: ['caseworker'] });
    app.logger.lines.length = 0;
    const read = await app.harness.request(`/v1/plans/${encodeURIComponent(spaced)}`, { headers: { authorization: `Bearer ${token}` } });
    const typed = await app.harness.request('/v1/plans/lookup', { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': `text/plain; note=${spaced}` }, body: 'x' });
    expect([read.status, typed.status]).toEqual([404, 415]);
    expect([...app.logger.lines, await read.text(), await typed.text()].filter((line) => line.includes(spaced) || line.includes(cpr.slice(6)))).toEqual([]);
    await app.close();
  });
});
