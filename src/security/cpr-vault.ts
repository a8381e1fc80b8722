/**
 * CPR protection: AES-256-GCM encryption at rest and an HMAC-SHA-256 keyed hash to find a citizen
 * without decrypting. Both keys come from configuration. AES-GCM runs on WebCrypto, the HMAC on
 * node:crypto; both exist on Node and on Workers (nodejs_compat).
 */

import { Buffer } from 'node:buffer';
import { createHmac } from 'node:crypto';

const encoder = new TextEncoder();

function base64(bytes: Uint8Array): string {
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary);
}

function fromBase64(text: string): Uint8Array<ArrayBuffer> {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

async function deriveKeyBytes(secret: string, purpose: string): Promise<ArrayBuffer> {
  return crypto.subtle.digest('SHA-256', encoder.encode(`${purpose}:${secret}`));
}

export interface CprVault {
  /** Keyed hash under the current key, scoped to the tenant so the same person is not linkable across municipalities. */
  hash(tenant: string, cpr: string): Promise<string>;
  /**
   * The hashes to find a citizen by: the current key's first, then each retired key's. While a key
   * rotation is under way, rows not yet re-keyed carry a retired key's hash.
   */
  lookupHashes(tenant: string, cpr: string): Promise<string[]>;
  encrypt(cpr: string): Promise<string>;
  decrypt(cipher: string): Promise<string>;
  /**
   * A source payload kept for IT staff (a quarantined record): personal data — a CPR number, health
   * details — so it is encrypted at rest too, under a key of its own.
   */
  sealPayload(text: string): Promise<string>;
  openPayload(sealed: string): Promise<string>;
  /** What every ciphertext under the current key starts with (`v2:<key id>:`); anything else is re-keyed. */
  currentPrefix: string;
}

type AesKey = Awaited<ReturnType<typeof crypto.subtle.importKey>>;

/** One configured CPR key: its id (public, one-way) and the sub-keys derived from it. */
interface KeyGeneration {
  id: string;
  cprKey: AesKey;
  payloadKey: AesKey;
  hmacKey: Buffer;
}

async function generationOf(secret: string): Promise<KeyGeneration> {
  if (secret.length < 16) throw new Error('a CPR key must be at least 16 characters');
  const id = Buffer.from(await deriveKeyBytes(secret, 'key-id')).toString('hex').slice(0, 12);
  return {
    id,
    cprKey: await crypto.subtle.importKey('raw', await deriveKeyBytes(secret, 'cpr-encryption'), 'AES-GCM', false, ['encrypt', 'decrypt']),
    payloadKey: await crypto.subtle.importKey('raw', await deriveKeyBytes(secret, 'payload-encryption'), 'AES-GCM', false, ['encrypt', 'decrypt']),
    // HMAC-SHA-256 through node:crypto (Node, and Workers with nodejs_compat): synchronous, so a
    // change-feed page of hundreds of CPR numbers costs no promise per number. Same bytes as
    // WebCrypto's HMAC with this key (tested).
    hmacKey: Buffer.from(await deriveKeyBytes(secret, 'cpr-lookup')),
  };
}

/** `v2:<key id>:<base64 of IV and ciphertext>`: the key id says which configured key opens it. */
async function sealWith(generation: KeyGeneration, key: AesKey, text: string): Promise<string> {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const cipher = new Uint8Array(await crypto.subtle.encrypt({ name: 'AES-GCM', iv }, key, encoder.encode(text)));
  const out = new Uint8Array(iv.length + cipher.length);
  out.set(iv);
  out.set(cipher, iv.length);
  return `v2:${generation.id}:${base64(out)}`;
}

async function openBytes(key: AesKey, bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  const plain = await crypto.subtle.decrypt({ name: 'AES-GCM', iv: bytes.slice(0, 12) }, key, bytes.slice(12));
  return new TextDecoder().decode(plain);
}

/**
 * `secret` is the configured CPR key (CPR_KEY); `retired` are earlier keys (CPR_KEYS_RETIRED) still
 * read while the re-key job (src/security/rekey.ts) moves what they hold to the current key.
 * Distinct sub-keys are derived from each for each purpose.
 */
export async function createCprVault(secret: string, retired: readonly string[] = []): Promise<CprVault> {
  const current = await generationOf(secret);
  const generations = [current, ...(await Promise.all(retired.filter((r) => r !== secret).map(generationOf)))];
  const byId = new Map(generations.map((g) => [g.id, g]));
  const hashWith = (generation: KeyGeneration, tenant: string, cpr: string) => createHmac('sha256', generation.hmacKey).update(`${tenant}:${cpr}`).digest('hex');

  async function open(stored: string, keyOf: (g: KeyGeneration) => AesKey): Promise<string> {
    if (stored.startsWith('v2:')) {
      const end = stored.indexOf(':', 3);
      const generation = end > 3 ? byId.get(stored.slice(3, end)) : undefined;
      if (!generation) throw new Error(`encrypted under a CPR key that is not configured (key id ${end > 3 ? stored.slice(3, end) : '?'}): add it to CPR_KEYS_RETIRED`);
      return openBytes(keyOf(generation), fromBase64(stored.slice(end + 1)));
    }
    // v1 (before key ids): whichever configured key opens it — AES-GCM refuses a wrong key.
    if (!stored.startsWith('v1:')) throw new Error('unknown cipher version');
    const bytes = fromBase64(stored.slice(3));
    for (const generation of generations) {
      try {
        return await openBytes(keyOf(generation), bytes);
      } catch {
        // not this key
      }
    }
    throw new Error('encrypted under a CPR key that is not configured (a v1 ciphertext no configured key opens)');
  }

  return {
    async hash(tenant, cpr) {
      return hashWith(current, tenant, cpr);
    },
    async lookupHashes(tenant, cpr) {
      return generations.map((g) => hashWith(g, tenant, cpr));
    },
    encrypt: (cpr) => sealWith(current, current.cprKey, cpr),
    decrypt: (stored) => open(stored, (g) => g.cprKey),
    sealPayload: (text) => sealWith(current, current.payloadKey, text),
    openPayload: (sealed) => open(sealed, (g) => g.payloadKey),
    currentPrefix: `v2:${current.id}:`,
  };
}
