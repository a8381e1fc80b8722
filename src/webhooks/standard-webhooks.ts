/**
 * Standard Webhooks signatures (standardwebhooks.com), symmetric `v1` scheme: the sender signs
 * `${webhook-id}.${webhook-timestamp}.${body}` with HMAC-SHA-256 under a shared secret given as
 * `whsec_<base64>`, and sends `webhook-signature: v1,<base64> [v1,<base64> …]`. HMAC through
 * node:crypto (Node, and Workers with nodejs_compat): synchronous, where WebCrypto's promise per
 * call cost more than the rest of a notice's handling under load (B3). Compared in constant time.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

/** How far a timestamp may be from our clock, either way (S2: older than 5 minutes is refused). */
export const TOLERANCE_SECONDS = 5 * 60;

export interface WebhookHeaders {
  id: string | undefined;
  timestamp: string | undefined;
  signature: string | undefined;
}

export type Verification = { ok: true; id: string; timestamp: number } | { ok: false; reason: string };

/**
 * Key bytes of the secrets notices are verified with — the sources' configured ones, a handful — so
 * a burst of notices decodes each once. Bounded, the least recently used out first. Signing does not
 * use it: a subscriber's secret is opened for one send and kept by nothing after it, so one rotated
 * or ended is gone from memory with the send.
 */
export const MAX_CACHED_WEBHOOK_KEYS = 16;
const verifyingKeys = new Map<string, Buffer>();

/** How many verifying keys are held now (at most MAX_CACHED_WEBHOOK_KEYS). */
export const cachedWebhookKeyCount = () => verifyingKeys.size;

/** The secret's key bytes: the base64 after `whsec_` (a bare base64 secret is accepted too). */
export function secretBytes(secret: string): Uint8Array {
  const text = secret.startsWith('whsec_') ? secret.slice('whsec_'.length) : secret;
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(text)) throw new Error('a webhook secret is whsec_ followed by base64');
  const bytes = Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
  if (bytes.length < 24) throw new Error('a webhook secret must hold at least 24 bytes (192 bits)');
  return bytes;
}

function verifyingKeyFor(secret: string): Buffer {
  let key = verifyingKeys.get(secret);
  if (key) verifyingKeys.delete(secret); // set again below: the most recently used is last
  else key = Buffer.from(secretBytes(secret));
  verifyingKeys.set(secret, key);
  if (verifyingKeys.size > MAX_CACHED_WEBHOOK_KEYS) verifyingKeys.delete(verifyingKeys.keys().next().value!);
  return key;
}

/** The signed content `${id}.${timestamp}.` followed by the body exactly as sent (bytes, when the caller has them). */
const hmacOfMessage = (secret: string, id: string, timestamp: string, body: string | Uint8Array) =>
  createHmac('sha256', verifyingKeyFor(secret)).update(`${id}.${timestamp}.`).update(body).digest();

function fromBase64(text: string): Buffer | null {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(text)) return null;
  return Buffer.from(text, 'base64');
}

/** The `webhook-signature` value for a message (what a sender — our simulators, tests, the benchmark — sends). */
export async function signWebhook(secret: string, id: string, timestamp: number, body: string): Promise<string> {
  return `v1,${createHmac('sha256', secretBytes(secret)).update(`${id}.${timestamp}.${body}`).digest('base64')}`;
}

/**
 * Checks a message against the source's secrets (more than one while a secret is being rotated).
 * Refuses missing or malformed headers, a timestamp outside the tolerance (a replay of an old
 * message, or a clock far off), and any body or id other than the one signed. Give the body as the
 * bytes received: a decoded string drops a byte-order mark and replaces bytes that are not UTF-8.
 */
export async function verifyWebhook(headers: WebhookHeaders, body: string | Uint8Array, secrets: readonly string[], now: Date): Promise<Verification> {
  const { id, timestamp, signature } = headers;
  if (!id || !timestamp || !signature) return { ok: false, reason: 'send webhook-id, webhook-timestamp and webhook-signature (Standard Webhooks)' };
  if (id.length > 200 || !/^[\x21-\x7e]+$/.test(id)) return { ok: false, reason: 'webhook-id must be 1–200 printable ASCII characters' };
  if (!/^\d{1,12}$/.test(timestamp)) return { ok: false, reason: 'webhook-timestamp must be whole seconds since 1970' };
  const seconds = Number(timestamp);
  const skew = seconds - Math.floor(now.getTime() / 1000);
  if (skew < -TOLERANCE_SECONDS) return { ok: false, reason: `the message is more than ${TOLERANCE_SECONDS / 60} minutes old (a replay, or the sender's clock is off)` };
  if (skew > TOLERANCE_SECONDS) return { ok: false, reason: `the message is dated more than ${TOLERANCE_SECONDS / 60} minutes ahead (the sender's clock is off)` };
  const offered = signature
    .split(' ')
    .filter((part) => part.startsWith('v1,'))
    .slice(0, 10)
    .map((part) => fromBase64(part.slice(3)))
    .filter((bytes): bytes is Buffer => bytes !== null && bytes.length === 32);
  if (offered.length === 0) return { ok: false, reason: 'webhook-signature holds no v1 signature' };
  for (const secret of secrets) {
    const expected = hmacOfMessage(secret, id, timestamp, body);
    for (const candidate of offered) if (timingSafeEqual(expected, candidate)) return { ok: true, id, timestamp: seconds };
  }
  return { ok: false, reason: 'no signature matches: the body, id or timestamp was changed, or it was signed with another secret' };
}
