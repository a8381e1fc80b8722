/**
 * CPR protection: AES-256-GCM encryption at rest and an HMAC-SHA-256 keyed hash to find a citizen
 * without decrypting. Both keys come from configuration. Each ciphertext is bound to where it is
 * kept (AES-GCM additional data: what it is, the municipality, the row), so one copied into another
 * citizen's row does not open there as theirs (docs/decisions/0022, "Later"). AES-GCM runs on
 * WebCrypto, the HMAC on node:crypto; both exist on Node and on Workers (nodejs_compat).
 */

import { Buffer } from 'node:buffer';
import { createCipheriv, createDecipheriv, createHmac } from 'node:crypto';
import type { SealedColumn } from '../store/sealed';

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

/** Whose CPR number a ciphertext holds: sealed into it, so it opens for no other citizen row or municipality. */
export interface CitizenSeal {
  tenant: string;
  citizenId: string;
}
/** Where a sealed payload is kept — the column, its row's id, the municipality — sealed into it likewise. */
export interface PayloadSeal {
  column: SealedColumn;
  tenant: string;
  id: string;
}

/**
 * A v3 ciphertext opened somewhere other than where it was sealed (copied into another row, column
 * or municipality), or altered. Names neither the value nor the rows: callers log those they have.
 */
export class MisplacedCiphertextError extends Error {
  constructor(what: 'cpr' | 'payload', message?: string) {
    super(
      message ??
        (what === 'cpr'
          ? 'refused a CPR ciphertext sealed for another citizen or municipality (copied into this row, or altered); it is not used'
          : 'refused a sealed value sealed for another row, column or municipality (copied here, or altered); it is not used'),
    );
    this.name = 'MisplacedCiphertextError';
  }
}

/** Whether `v1:`/`v2:` ciphertexts (not bound to their row) still open (`open`) or are refused everywhere (`refuse`): CPR_LEGACY_CIPHERTEXTS. */
export type LegacyCiphertexts = 'open' | 'refuse';

/**
 * A `v1:`/`v2:` ciphertext with CPR_LEGACY_CIPHERTEXTS=refuse. It cannot tell where it belongs, so it
 * may have been moved or restored into this row: a misplaced ciphertext for every caller (the sync
 * skips the citizen, the relay dead-letters, a subscriber's event fails), hence the subclass.
 */
export class LegacyCiphertextRefusedError extends MisplacedCiphertextError {
  constructor(what: 'cpr' | 'payload') {
    super(
      what,
      `refused a ${what === 'cpr' ? 'CPR ciphertext' : 'sealed value'} of an earlier format (v1/v2, not bound to its row, so possibly moved or restored here): CPR_LEGACY_CIPHERTEXTS is refuse; it is not used`,
    );
    this.name = 'LegacyCiphertextRefusedError';
  }
}

export interface CprVault {
  /** Keyed hash under the current key, scoped to the tenant so the same person is not linkable across municipalities. */
  hash(tenant: string, cpr: string): Promise<string>;
  /**
   * The hashes to find a citizen by: the current key's first, then each retired key's. While a key
   * rotation is under way, rows not yet re-keyed carry a retired key's hash.
   */
  lookupHashes(tenant: string, cpr: string): Promise<string[]>;
  /** Sealed for this citizen's row: it opens only with the same `citizen` (v1 and v2 ciphertexts, from before, open anywhere unless `legacyCiphertexts` is `refuse`). */
  encrypt(cpr: string, citizen: CitizenSeal): Promise<string>;
  decrypt(cipher: string, citizen: CitizenSeal): Promise<string>;
  /**
   * A source payload kept for IT staff (a quarantined record) or a subscriber's signing secret:
   * personal data or a credential, so encrypted at rest too, under a key of its own, and bound to
   * where it is kept as a CPR ciphertext is.
   */
  sealPayload(text: string, place: PayloadSeal): Promise<string>;
  openPayload(sealed: string, place: PayloadSeal): Promise<string>;
  /** What every ciphertext under the current key and format starts with (`v3:<key id>:`); anything else is re-keyed. */
  currentPrefix: string;
  /** `refuse`: `decrypt`/`openPayload` throw LegacyCiphertextRefusedError for any v1/v2 ciphertext, so the re-key job leaves them too. */
  legacyCiphertexts: LegacyCiphertexts;
}

/** An AES-256-GCM key as WebCrypto holds it and, where node:crypto's AES-GCM is used, its bytes. */
interface AesKey {
  web: Awaited<ReturnType<typeof crypto.subtle.importKey>>;
  bytes: Buffer;
}

/**
 * Whether this runtime's node:crypto does AES-256-GCM (Node; Workers where nodejs_compat has it):
 * synchronous, so opening a CPR number — one per citizen in a sync's catch-up — costs no promise and
 * no thread-pool round trip. The same bytes as WebCrypto's (ciphertext, then the 16-byte tag; tested
 * both ways); WebCrypto where node:crypto lacks it.
 */
const nodeGcmWorks = (() => {
  try {
    const key = Buffer.alloc(32, 1);
    const iv = Buffer.alloc(12, 2);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    const sealed = Buffer.concat([cipher.update('ok', 'utf8'), cipher.final()]);
    const decipher = createDecipheriv('aes-256-gcm', key, iv);
    decipher.setAuthTag(cipher.getAuthTag());
    return Buffer.concat([decipher.update(sealed), decipher.final()]).toString('utf8') === 'ok';
  } catch {
    return false;
  }
})();

async function aesKeyOf(bytes: ArrayBuffer): Promise<AesKey> {
  return { web: await crypto.subtle.importKey('raw', bytes, 'AES-GCM', false, ['encrypt', 'decrypt']), bytes: Buffer.from(bytes) };
}

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
    cprKey: await aesKeyOf(await deriveKeyBytes(secret, 'cpr-encryption')),
    payloadKey: await aesKeyOf(await deriveKeyBytes(secret, 'payload-encryption')),
    // HMAC-SHA-256 through node:crypto (Node, and Workers with nodejs_compat): synchronous, so a
    // change-feed page of hundreds of CPR numbers costs no promise per number. Same bytes as
    // WebCrypto's HMAC with this key (tested).
    hmacKey: Buffer.from(await deriveKeyBytes(secret, 'cpr-lookup')),
  };
}

/**
 * AES-GCM's additional data for a v3 ciphertext: what it is and where it is kept. Authenticated, not
 * stored — a ciphertext opened with other data fails GCM's tag check. JSON keeps the parts apart.
 */
const placeOf = (purpose: 'citizens.cpr_cipher' | SealedColumn, tenant: string, id: string): Uint8Array<ArrayBuffer> => new Uint8Array(encoder.encode(JSON.stringify(['enplan-v3', purpose, tenant, id])));

/** `v3:<key id>:<base64 of IV and ciphertext>`: the key id says which configured key opens it; `place` where it may. */
async function sealWith(generation: KeyGeneration, key: AesKey, text: string, place: Uint8Array<ArrayBuffer>, useNode: boolean): Promise<string> {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  let cipher: Uint8Array;
  if (useNode) {
    const gcm = createCipheriv('aes-256-gcm', key.bytes, iv).setAAD(place);
    cipher = Buffer.concat([gcm.update(text, 'utf8'), gcm.final(), gcm.getAuthTag()]);
  } else cipher = new Uint8Array(await crypto.subtle.encrypt({ name: 'AES-GCM', iv, additionalData: place }, key.web, encoder.encode(text)));
  const out = new Uint8Array(iv.length + cipher.length);
  out.set(iv);
  out.set(cipher, iv.length);
  return `v3:${generation.id}:${base64(out)}`;
}

/** Opens IV ‖ ciphertext ‖ tag; throws when the tag does not match (another key, another place, an altered value). */
async function openBytes(key: AesKey, bytes: Uint8Array<ArrayBuffer>, place: Uint8Array<ArrayBuffer> | undefined, useNode: boolean): Promise<string> {
  if (useNode) {
    if (bytes.length < 28) throw new Error('a ciphertext too short to hold its IV and tag');
    const gcm = createDecipheriv('aes-256-gcm', key.bytes, bytes.subarray(0, 12));
    if (place) gcm.setAAD(place);
    gcm.setAuthTag(bytes.subarray(bytes.length - 16));
    return Buffer.concat([gcm.update(bytes.subarray(12, bytes.length - 16)), gcm.final()]).toString('utf8');
  }
  const plain = await crypto.subtle.decrypt({ name: 'AES-GCM', iv: bytes.slice(0, 12), ...(place ? { additionalData: place } : {}) }, key.web, bytes.slice(12));
  return new TextDecoder().decode(plain);
}

/**
 * `secret` is the configured CPR key (CPR_KEY); `retired` are earlier keys (CPR_KEYS_RETIRED) still
 * read while the re-key job (src/security/rekey.ts) moves what they hold to the current key.
 * Distinct sub-keys are derived from each for each purpose.
 */
export async function createCprVault(secret: string, retired: readonly string[] = [], options: { nodeCrypto?: boolean; legacyCiphertexts?: LegacyCiphertexts } = {}): Promise<CprVault> {
  // `nodeCrypto: false` seals and opens with WebCrypto alone (tests prove both ways give the same bytes).
  const useNode = (options.nodeCrypto ?? true) && nodeGcmWorks;
  const legacyCiphertexts = options.legacyCiphertexts ?? 'open';
  const current = await generationOf(secret);
  const generations = [current, ...(await Promise.all(retired.filter((r) => r !== secret).map(generationOf)))];
  const byId = new Map(generations.map((g) => [g.id, g]));
  const hashWith = (generation: KeyGeneration, tenant: string, cpr: string) => createHmac('sha256', generation.hmacKey).update(`${tenant}:${cpr}`).digest('hex');

  async function open(stored: string, keyOf: (g: KeyGeneration) => AesKey, place: Uint8Array<ArrayBuffer>, what: 'cpr' | 'payload'): Promise<string> {
    const version = stored.slice(0, 3);
    // Checked before any key: refused whichever key it is under, configured or not.
    if (legacyCiphertexts === 'refuse' && (version === 'v1:' || version === 'v2:')) throw new LegacyCiphertextRefusedError(what);
    if (version === 'v3:' || version === 'v2:') {
      const end = stored.indexOf(':', 3);
      const generation = end > 3 ? byId.get(stored.slice(3, end)) : undefined;
      if (!generation) throw new Error(`encrypted under a CPR key that is not configured (key id ${end > 3 ? stored.slice(3, end) : '?'}): add it to CPR_KEYS_RETIRED`);
      const bytes = fromBase64(stored.slice(end + 1));
      // v2 (before ciphertexts were bound to their place) opens anywhere until the re-key job moves it to v3.
      if (version === 'v2:') return openBytes(keyOf(generation), bytes, undefined, useNode);
      try {
        return await openBytes(keyOf(generation), bytes, place, useNode);
      } catch {
        // The key is the one it names, so a failed tag means another place (or an altered value).
        throw new MisplacedCiphertextError(what);
      }
    }
    // v1 (before key ids): whichever configured key opens it — AES-GCM refuses a wrong key.
    if (!stored.startsWith('v1:')) throw new Error('unknown cipher version');
    const bytes = fromBase64(stored.slice(3));
    for (const generation of generations) {
      try {
        return await openBytes(keyOf(generation), bytes, undefined, useNode);
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
    encrypt: (cpr, citizen) => sealWith(current, current.cprKey, cpr, placeOf('citizens.cpr_cipher', citizen.tenant, citizen.citizenId), useNode),
    decrypt: (stored, citizen) => open(stored, (g) => g.cprKey, placeOf('citizens.cpr_cipher', citizen.tenant, citizen.citizenId), 'cpr'),
    sealPayload: (text, place) => sealWith(current, current.payloadKey, text, placeOf(place.column, place.tenant, place.id), useNode),
    openPayload: (sealed, place) => open(sealed, (g) => g.payloadKey, placeOf(place.column, place.tenant, place.id), 'payload'),
    currentPrefix: `v3:${current.id}:`,
    legacyCiphertexts,
  };
}
