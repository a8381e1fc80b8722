/**
 * Standard Webhooks signatures (S2), checked against an independent HMAC computed with node:crypto:
 * a valid message passes; forged, re-signed, tampered, expired (> 5 min), future-dated and
 * malformed ones are refused with a reason; a secret being rotated works alongside the old one.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { cachedWebhookKeyCount, MAX_CACHED_WEBHOOK_KEYS, secretBytes, signWebhook, verifyWebhook } from '../../src/webhooks/standard-webhooks';

const newSecret = () => `whsec_${randomBytes(32).toString('base64')}`;
const secret = newSecret();
const now = new Date('2026-11-23T12:00:00Z');
const nowSeconds = Math.floor(now.getTime() / 1000);
const body = JSON.stringify({ type: 'records.changed', data: { municipality: '101' } });

/** What a sender following the spec computes, written without our module. */
function independentSignature(key: string, id: string, timestamp: number, payload: string) {
  const bytes = Buffer.from(key.slice('whsec_'.length), 'base64');
  return `v1,${createHmac('sha256', bytes).update(`${id}.${timestamp}.${payload}`).digest('base64')}`;
}
const headers = (id: string, timestamp: number, signature: string) => ({ id, timestamp: String(timestamp), signature });

describe('Standard Webhooks verification', () => {
  it('accepts a message signed as the spec says, and signs it the same way', async () => {
    const signature = independentSignature(secret, 'msg_1', nowSeconds, body);
    expect(await signWebhook(secret, 'msg_1', nowSeconds, body)).toBe(signature);
    expect(await verifyWebhook(headers('msg_1', nowSeconds, signature), body, [secret], now)).toEqual({ ok: true, id: 'msg_1', timestamp: nowSeconds });
  });

  it('refuses a forged signature, another secret, and a changed body, id or timestamp', async () => {
    const signature = independentSignature(secret, 'msg_2', nowSeconds, body);
    const refused = async (h: ReturnType<typeof headers>, payload = body, secrets = [secret]) => {
      const result = await verifyWebhook(h, payload, secrets, now);
      expect(result.ok).toBe(false);
      return result.ok ? '' : result.reason;
    };
    expect(await refused(headers('msg_2', nowSeconds, `v1,${randomBytes(32).toString('base64')}`))).toMatch(/no signature matches/);
    expect(await refused(headers('msg_2', nowSeconds, independentSignature(newSecret(), 'msg_2', nowSeconds, body)))).toMatch(/no signature matches/);
    expect(await refused(headers('msg_2', nowSeconds, signature), body.replace('101', '102'))).toMatch(/no signature matches/);
    expect(await refused(headers('msg_3', nowSeconds, signature))).toMatch(/no signature matches/);
    expect(await refused(headers('msg_2', nowSeconds + 1, signature))).toMatch(/no signature matches/);
    expect(await refused(headers('msg_2', nowSeconds, signature), body, [newSecret()])).toMatch(/no signature matches/);
  });

  it('refuses a message older or newer than five minutes, even correctly signed (a replay)', async () => {
    for (const offset of [-301, 301, -86_400]) {
      const t = nowSeconds + offset;
      const result = await verifyWebhook(headers('msg_4', t, independentSignature(secret, 'msg_4', t, body)), body, [secret], now);
      expect(result.ok).toBe(false);
      if (!result.ok) expect(result.reason).toMatch(offset < 0 ? /more than 5 minutes old/ : /ahead/);
    }
    for (const offset of [-299, 299]) {
      const t = nowSeconds + offset;
      expect((await verifyWebhook(headers('msg_5', t, independentSignature(secret, 'msg_5', t, body)), body, [secret], now)).ok).toBe(true);
    }
  });

  it('refuses missing and malformed headers with a reason', async () => {
    const good = independentSignature(secret, 'msg_6', nowSeconds, body);
    const cases: [Partial<ReturnType<typeof headers>>, RegExp][] = [
      [{ timestamp: String(nowSeconds), signature: good }, /send webhook-id/],
      [{ id: 'msg_6', signature: good }, /send webhook-id/],
      [{ id: 'msg_6', timestamp: String(nowSeconds) }, /send webhook-id/],
      [{ id: 'msg_6', timestamp: '2026-11-23T12:00:00Z', signature: good }, /whole seconds/],
      [{ id: 'msg 6', timestamp: String(nowSeconds), signature: good }, /printable ASCII/],
      [{ id: 'msg_6', timestamp: String(nowSeconds), signature: good.replace('v1,', 'v1a,') }, /no v1 signature/],
      [{ id: 'msg_6', timestamp: String(nowSeconds), signature: 'v1,not base64!' }, /no v1 signature/],
    ];
    for (const [h, reason] of cases) {
      const result = await verifyWebhook({ id: h.id, timestamp: h.timestamp, signature: h.signature }, body, [secret], now);
      expect(result).toEqual({ ok: false, reason: expect.stringMatching(reason) });
    }
  });

  it('during a rotation, either secret verifies, and one of several signatures suffices', async () => {
    const next = newSecret();
    const withOld = independentSignature(secret, 'msg_7', nowSeconds, body);
    const withNew = independentSignature(next, 'msg_7', nowSeconds, body);
    expect((await verifyWebhook(headers('msg_7', nowSeconds, withNew), body, [secret, next], now)).ok).toBe(true);
    expect((await verifyWebhook(headers('msg_7', nowSeconds, `v1,${randomBytes(32).toString('base64')} ${withOld}`), body, [secret], now)).ok).toBe(true);
  });

  it('refuses secrets that are not base64 or too short to be safe', () => {
    expect(() => secretBytes('whsec_not base64')).toThrow(/base64/);
    expect(() => secretBytes(`whsec_${randomBytes(16).toString('base64')}`)).toThrow(/24 bytes/);
    expect(secretBytes(secret)).toHaveLength(32);
  });

  it('keeps no signing secret in memory after signing, and only a bounded number of verifying keys', async () => {
    // Subscribers' secrets are opened for one send each; rotated ones must not stay behind.
    const before = cachedWebhookKeyCount();
    for (let i = 0; i < 50; i++) await signWebhook(newSecret(), `msg_${i}`, nowSeconds, body);
    expect(cachedWebhookKeyCount()).toBe(before);
    // Verifying keys (the sources' configured secrets) are kept, a bounded number of them.
    for (let i = 0; i < MAX_CACHED_WEBHOOK_KEYS * 3; i++) {
      const other = newSecret();
      expect((await verifyWebhook(headers(`msg_${i}`, nowSeconds, independentSignature(other, `msg_${i}`, nowSeconds, body)), body, [other], now)).ok).toBe(true);
    }
    expect(cachedWebhookKeyCount()).toBe(MAX_CACHED_WEBHOOK_KEYS);
  });
});
