/**
 * Bearer JWT verification. Locally an HS256 dev secret; in production a JWKS URL (RS256/ES256),
 * whose keys are read once and kept (./jwks.ts). Tokens must expire; claims are validated with zod
 * after the signature. Keys are imported once, not per request.
 */
import { decode, sign, verify } from 'hono/jwt';
import { createJwksKeyStore, IdentityProviderUnavailableError, type JwksAlgorithm, type JwksOptions, type VerificationKey } from './jwks';
import { insufficientAssurance, Principal, withCprClaim, type Role } from './principal';
import type { Department, SourceSystem } from '../model';

export { IdentityProviderUnavailableError } from './jwks';

export interface TokenConfig {
  /** HS256 secret; used when no JWKS URL is configured. */
  secret?: string;
  jwksUrl?: string;
  issuer?: string;
  audience?: string;
}

export class AuthenticationError extends Error {}

const jwksAlgorithms: readonly string[] = ['RS256', 'ES256'] satisfies JwksAlgorithm[];

/**
 * How far the IdP's clock may be from ours, in seconds, when a token's times are checked: a token
 * issued "in the future" by an IdP a second ahead would otherwise be refused now and then.
 */
export const CLOCK_SKEW_SECONDS = 30;

/** exp (required), nbf and iat against our clock, allowing `CLOCK_SKEW_SECONDS` either way. */
function checkTimes(payload: { exp?: unknown; nbf?: unknown; iat?: unknown }, nowSeconds: number): void {
  const { exp, nbf, iat } = payload;
  if (exp === undefined) throw new AuthenticationError('the token has no expiry');
  if (typeof exp !== 'number' || !Number.isFinite(exp)) throw new AuthenticationError('the token’s expiry is not a number');
  if (exp <= nowSeconds - CLOCK_SKEW_SECONDS) throw new AuthenticationError('the token has expired');
  if (nbf !== undefined && (typeof nbf !== 'number' || !Number.isFinite(nbf) || nbf > nowSeconds + CLOCK_SKEW_SECONDS)) throw new AuthenticationError('the token is not valid yet (nbf)');
  if (iat !== undefined && (typeof iat !== 'number' || !Number.isFinite(iat) || iat > nowSeconds + CLOCK_SKEW_SECONDS)) throw new AuthenticationError('the token is issued in the future (iat)');
}

/** `options` tunes the key set's caching and the clock (tests; the defaults are what production runs). */
export function createTokenVerifier(config: TokenConfig, options: Omit<JwksOptions, 'url'> = {}) {
  if (!config.secret && !config.jwksUrl) throw new Error('configure JWT_SECRET or JWKS_URL');
  const now = options.now ?? Date.now;
  // Times are checked by checkTimes, with a tolerance for clock skew that hono's checks do not have.
  const verification = { ...(config.issuer ? { iss: config.issuer } : {}), ...(config.audience ? { aud: config.audience } : {}), exp: false, nbf: false, iat: false };
  const keys = config.jwksUrl ? createJwksKeyStore({ ...options, url: config.jwksUrl }) : undefined;
  // The HMAC key, imported once (importing it per request was ~6 % of a plan read, B5).
  let hmacKey: Promise<VerificationKey> | undefined;
  const secretKey = () => (hmacKey ??= crypto.subtle.importKey('raw', new TextEncoder().encode(config.secret!), { name: 'HMAC', hash: 'SHA-256' }, false, ['verify']));

  /** The token's signature and time claims against the IdP's key it names (never a symmetric algorithm). */
  async function verifyWithIdentityProvider(token: string): Promise<unknown> {
    const { header } = decode(token) as unknown as { header: { alg?: unknown; kid?: unknown } };
    if (typeof header.alg !== 'string' || !jwksAlgorithms.includes(header.alg)) throw new AuthenticationError(`tokens are accepted signed with ${jwksAlgorithms.join(' or ')} only`);
    if (typeof header.kid !== 'string' || header.kid.length === 0) throw new AuthenticationError('the token names no key (kid)');
    const key = await keys!.keyFor(header.kid, header.alg as JwksAlgorithm);
    if (!key) throw new AuthenticationError('the token is not signed by a key the identity provider publishes');
    return verify(token, key, { alg: header.alg as JwksAlgorithm, ...verification });
  }

  return Object.assign(async function verifyToken(token: string): Promise<Principal> {
    let payload: unknown;
    try {
      payload = keys ? await verifyWithIdentityProvider(token) : await verify(token, await secretKey(), { alg: 'HS256', ...verification });
    } catch (error) {
      if (error instanceof AuthenticationError || error instanceof IdentityProviderUnavailableError) throw error;
      throw new AuthenticationError(error instanceof Error ? error.name : 'invalid token');
    }
    checkTimes(payload as { exp?: unknown; nbf?: unknown; iat?: unknown }, Math.floor(now() / 1000));
    const claims = payload && typeof payload === 'object' ? (payload as Record<string, unknown>) : {};
    const tooLow = insufficientAssurance(claims);
    if (tooLow) throw new AuthenticationError(tooLow);
    const parsed = Principal.safeParse(payload && typeof payload === 'object' ? withCprClaim(claims) : payload);
    // The message, never its input: a claim may hold a CPR number.
    if (!parsed.success) throw new AuthenticationError(`the token's claims are not valid: ${parsed.error.issues[0]?.message}`);
    return parsed.data;
  }, { identityProvider: keys ? { status: () => keys.status() } : undefined });
}

/** Signs a development token (HS256). Never used with a production key. */
export async function signDevToken(
  secret: string,
  claims: { sub?: string; tenant: string; roles: Role[]; providerId?: string; citizenId?: string; department?: Department; system?: SourceSystem },
  ttlSeconds = 8 * 3600,
): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  // `sub` after the spread: a caller passing `sub: undefined` (the token script without --sub) must still get one.
  return sign({ ...claims, sub: claims.sub ?? `dev-${claims.roles.join('-')}`, iat: now, exp: now + ttlSeconds }, secret, 'HS256');
}
