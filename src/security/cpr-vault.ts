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
  /** Keyed hash, scoped to the tenant so the same person is not linkable across municipalities. */
  hash(tenant: string, cpr: string): Promise<string>;
  encrypt(cpr: string): Promise<string>;
  decrypt(cipher: string): Promise<string>;
  /**
   * A source payload kept for IT staff (a quarantined record): personal data — a CPR number, health
   * details — so it is encrypted at rest too, under a key of its own.
   */
  sealPayload(text: string): Promise<string>;
  openPayload(sealed: string): Promise<string>;
}

type AesKey = Awaited<ReturnType<typeof crypto.subtle.importKey>>;

async function sealWith(key: AesKey, text: string): Promise<string> {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const cipher = new Uint8Array(await crypto.subtle.encrypt({ name: 'AES-GCM', iv }, key, encoder.encode(text)));
  const out = new Uint8Array(iv.length + cipher.length);
  out.set(iv);
  out.set(cipher, iv.length);
  return `v1:${base64(out)}`;
}

async function openWith(key: AesKey, stored: string): Promise<string> {
  if (!stored.startsWith('v1:')) throw new Error('unknown cipher version');
  const bytes = fromBase64(stored.slice(3));
  const plain = await crypto.subtle.decrypt({ name: 'AES-GCM', iv: bytes.slice(0, 12) }, key, bytes.slice(12));
  return new TextDecoder().decode(plain);
}

/** `secret` is the configured CPR key material; distinct sub-keys are derived for each purpose. */
export async function createCprVault(secret: string): Promise<CprVault> {
  if (secret.length < 16) throw new Error('the CPR key must be at least 16 characters');
  const aesKey = await crypto.subtle.importKey('raw', await deriveKeyBytes(secret, 'cpr-encryption'), 'AES-GCM', false, ['encrypt', 'decrypt']);
  const payloadKey = await crypto.subtle.importKey('raw', await deriveKeyBytes(secret, 'payload-encryption'), 'AES-GCM', false, ['encrypt', 'decrypt']);
  // HMAC-SHA-256 through node:crypto (Node, and Workers with nodejs_compat): synchronous, so a
  // change-feed page of hundreds of CPR numbers costs no promise per number. Same bytes as
  // WebCrypto's HMAC with this key (tested).
  const hmacKey = Buffer.from(await deriveKeyBytes(secret, 'cpr-lookup'));
  return {
    async hash(tenant, cpr) {
      return createHmac('sha256', hmacKey).update(`${tenant}:${cpr}`).digest('hex');
    },
    encrypt: (cpr) => sealWith(aesKey, cpr),
    decrypt: (stored) => openWith(aesKey, stored),
    sealPayload: (text) => sealWith(payloadKey, text),
    openPayload: (sealed) => openWith(payloadKey, sealed),
  };
}
