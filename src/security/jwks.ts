/**
 * The identity provider's signing keys (a JWKS document, RFC 7517), read once and kept, not read
 * per request: every API call verifies a token, and asking the IdP each time would add its latency
 * to every call, load it with our traffic and take the whole API down with its key endpoint.
 *
 * - Kept as long as the answer's `Cache-Control: max-age` says (10 minutes if it says nothing),
 *   within 1 minute and 24 hours.
 * - A token naming a key we do not hold (the IdP rotated its keys) makes us read the set again at
 *   once — but at most every 30 s, so tokens with made-up key ids cannot make us hammer the IdP.
 * - If the IdP cannot be read when the set is due, the keys we hold keep working for up to 24 h
 *   more (a token signed by one of them is as good as it was); without any keys the caller gets
 *   `IdentityProviderUnavailableError` (503), not a 401: the token may be perfectly valid.
 * - Each key is imported once per algorithm. A key is used only for the algorithm it names (if it
 *   names one), only if meant for signatures, and only if its type fits the algorithm: an RSA key
 *   cannot be used as an EC key, and no symmetric key is ever taken from a JWKS.
 */
import { z } from 'zod';

/** WebCrypto's key type as the global `crypto` declares it (Node and Workers). */
export type VerificationKey = Awaited<ReturnType<typeof crypto.subtle.importKey>>;
type ImportAlgorithm = Parameters<typeof crypto.subtle.importKey>[2];
type ImportedJwk = Extract<Parameters<typeof crypto.subtle.importKey>[1], { kty?: string }>;

export type JwksAlgorithm = 'RS256' | 'ES256';

/** How each algorithm's public key is imported with WebCrypto (Node and Workers alike). */
const importAlgorithm: Record<JwksAlgorithm, ImportAlgorithm> = {
  RS256: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
  ES256: { name: 'ECDSA', namedCurve: 'P-256' },
};
const keyTypeOf: Record<JwksAlgorithm, string> = { RS256: 'RSA', ES256: 'EC' };

/** One key of the set as far as we read it; the rest of its members go to `importKey` as they are. */
const SigningJwk = z.looseObject({
  kid: z.string().min(1).max(200),
  kty: z.enum(['RSA', 'EC']),
  use: z.string().optional(),
  alg: z.string().optional(),
});
type SigningJwk = z.infer<typeof SigningJwk>;

export class IdentityProviderUnavailableError extends Error {
  override name = 'IdentityProviderUnavailableError';
}

export interface JwksOptions {
  url: string;
  fetch?: typeof fetch;
  /** Milliseconds since 1970; tests move it. */
  now?: () => number;
  /** How long a set is kept when its answer does not say (Cache-Control max-age). Default 10 min. */
  defaultTtlMs?: number;
  minTtlMs?: number;
  maxTtlMs?: number;
  /** An unknown key id reads the set again at most this often. Default 30 s. */
  refetchCooldownMs?: number;
  /** How long the keys held keep working while the IdP cannot be read. Default 24 h. */
  staleIfErrorMs?: number;
  timeoutMs?: number;
  /** A JWKS is a few KB; a larger answer is refused. */
  maxBytes?: number;
  onRefreshFailed?: (reason: string) => void;
}

interface KeySet {
  keys: Map<string, SigningJwk>;
  fetchedAt: number;
  freshUntil: number;
}

/** What a JWKS answer may say about how long to keep it: `max-age`, unless `no-store`/`no-cache`. */
export function maxAgeMsOf(cacheControl: string | null): number | undefined {
  if (!cacheControl) return undefined;
  const directives = cacheControl.toLowerCase().split(',').map((d) => d.trim());
  if (directives.includes('no-store') || directives.includes('no-cache')) return 0;
  const maxAge = directives.map((d) => /^max-age=(\d{1,9})$/.exec(d)).find(Boolean);
  return maxAge ? Number(maxAge[1]) * 1000 : undefined;
}

export function createJwksKeyStore(options: JwksOptions) {
  const fetchJwks = options.fetch ?? fetch;
  const now = options.now ?? Date.now;
  const defaultTtl = options.defaultTtlMs ?? 10 * 60_000;
  const minTtl = options.minTtlMs ?? 60_000;
  const maxTtl = options.maxTtlMs ?? 24 * 3600_000;
  const cooldown = options.refetchCooldownMs ?? 30_000;
  const staleIfError = options.staleIfErrorMs ?? 24 * 3600_000;
  const timeoutMs = options.timeoutMs ?? 5_000;
  const maxBytes = options.maxBytes ?? 256 * 1024;

  let current: KeySet | undefined;
  let lastAttempt = Number.NEGATIVE_INFINITY;
  let refreshing: Promise<void> | undefined;
  const imported = new Map<string, Promise<VerificationKey>>();

  async function read(): Promise<KeySet> {
    const response = await fetchJwks(options.url, { headers: { accept: 'application/jwk-set+json, application/json' }, signal: AbortSignal.timeout(timeoutMs), redirect: 'manual' });
    // A redirect is not followed (manual): the configured address is where the keys must be.
    if (!response.ok) throw new Error(`the JWKS answered ${response.status}`);
    const declared = Number(response.headers.get('content-length') ?? 0);
    if (declared > maxBytes) throw new Error(`the JWKS is larger than ${maxBytes} bytes`);
    const text = await response.text();
    if (text.length > maxBytes) throw new Error(`the JWKS is larger than ${maxBytes} bytes`);
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw new Error('the JWKS is not JSON');
    }
    const listed = (body as { keys?: unknown } | null)?.keys;
    if (!Array.isArray(listed)) throw new Error('the JWKS has no "keys" array');
    const keys = new Map<string, SigningJwk>();
    // Keys we cannot use (encryption keys, symmetric keys, no kid) are passed over, not fatal: an
    // IdP may publish them beside its signing keys.
    for (const candidate of listed) {
      const parsed = SigningJwk.safeParse(candidate);
      if (parsed.success && (parsed.data.use === undefined || parsed.data.use === 'sig')) keys.set(parsed.data.kid, parsed.data);
    }
    const at = now();
    const maxAge = maxAgeMsOf(response.headers.get('cache-control'));
    const ttl = Math.min(maxTtl, Math.max(minTtl, maxAge ?? defaultTtl));
    return { keys, fetchedAt: at, freshUntil: at + ttl };
  }

  /** Reads the set again (one read at a time); on failure the set held stays. */
  function refresh(): Promise<void> {
    refreshing ??= (async () => {
      lastAttempt = now();
      try {
        const next = await read();
        // Keys that left the set are forgotten with their imports.
        if (current) for (const kid of current.keys.keys()) if (!next.keys.has(kid)) for (const alg of Object.keys(importAlgorithm)) imported.delete(`${kid}\u0000${alg}`);
        current = next;
      } catch (error) {
        options.onRefreshFailed?.(error instanceof Error ? error.message : String(error));
      } finally {
        refreshing = undefined;
      }
    })();
    return refreshing;
  }

  const usable = (set: KeySet | undefined) => set !== undefined && now() < set.freshUntil + staleIfError;

  return {
    /**
     * The public key `kid` for verifying a token signed with `alg`; `undefined` if the IdP has no
     * such key for that algorithm (an invalid token). Throws `IdentityProviderUnavailableError`
     * when no usable key set can be had.
     */
    async keyFor(kid: string, alg: JwksAlgorithm): Promise<VerificationKey | undefined> {
      const mayAsk = () => now() - lastAttempt >= cooldown;
      if (!usable(current)) {
        // Nothing to verify with: wait for the IdP (at most one read per cool-down while it fails).
        if (mayAsk()) await refresh();
        if (!usable(current)) throw new IdentityProviderUnavailableError('the identity provider’s signing keys cannot be read');
      } else if (now() >= current!.freshUntil && mayAsk()) {
        // Due: read again in the background; tokens go on being checked with the keys held.
        void refresh();
      }
      // A key id we do not hold: the IdP may have rotated its keys since we read them.
      if (!current!.keys.has(kid) && mayAsk()) await refresh();
      const jwk = current!.keys.get(kid);
      if (!jwk || (jwk.alg !== undefined && jwk.alg !== alg) || jwk.kty !== keyTypeOf[alg]) return undefined;
      const cacheKey = `${kid}\u0000${alg}`;
      let key = imported.get(cacheKey);
      if (!key) {
        const { alg: _named, use: _use, key_ops: _ops, ...material } = jwk as SigningJwk & { key_ops?: unknown };
        key = crypto.subtle.importKey('jwk', material as ImportedJwk, importAlgorithm[alg], false, ['verify']);
        imported.set(cacheKey, key);
        // A key that does not import (malformed) is not kept: the next token tries again after a refresh.
        key.catch(() => imported.delete(cacheKey));
      }
      try {
        return await key;
      } catch {
        return undefined;
      }
    },
    /**
     * For readiness: `ok` with a key set within its max-age, `stale` while keys held past it are
     * used because the IdP cannot be read, `unavailable` with none (after asking, once per cool-down).
     */
    async status(): Promise<'ok' | 'stale' | 'unavailable'> {
      if (!usable(current) && now() - lastAttempt >= cooldown) await refresh();
      if (!usable(current)) return 'unavailable';
      return now() < current!.freshUntil ? 'ok' : 'stale';
    },
  };
}
export type JwksKeyStore = ReturnType<typeof createJwksKeyStore>;
