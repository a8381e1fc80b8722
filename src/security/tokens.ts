/**
 * Bearer JWT verification. Locally an HS256 dev secret; in production a JWKS URL (RS256/ES256),
 * whose keys are read once and kept (./jwks.ts). Tokens must expire; claims are validated with zod
 * after the signature. Keys are imported once, not per request.
 */
import { decode, sign, verify } from 'hono/jwt';
import { createJwksKeyStore, IdentityProviderUnavailableError, type JwksAlgorithm, type JwksOptions, type VerificationKey } from './jwks';
import { Principal, type Role } from './principal';

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

/** `jwks` tunes the key set's caching (tests; the defaults are what production runs). */
export function createTokenVerifier(config: TokenConfig, jwks: Omit<JwksOptions, 'url'> = {}) {
  if (!config.secret && !config.jwksUrl) throw new Error('configure JWT_SECRET or JWKS_URL');
  const verification = { ...(config.issuer ? { iss: config.issuer } : {}), ...(config.audience ? { aud: config.audience } : {}) };
  const keys = config.jwksUrl ? createJwksKeyStore({ ...jwks, url: config.jwksUrl }) : undefined;
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

  return async function verifyToken(token: string): Promise<Principal> {
    let payload: unknown;
    try {
      payload = keys ? await verifyWithIdentityProvider(token) : await verify(token, await secretKey(), { alg: 'HS256', ...verification });
    } catch (error) {
      if (error instanceof AuthenticationError || error instanceof IdentityProviderUnavailableError) throw error;
      throw new AuthenticationError(error instanceof Error ? error.name : 'invalid token');
    }
    if (typeof (payload as { exp?: unknown }).exp !== 'number') throw new AuthenticationError('the token has no expiry');
    const parsed = Principal.safeParse(payload);
    if (!parsed.success) throw new AuthenticationError(`the token's claims are not valid: ${parsed.error.issues[0]?.message}`);
    return parsed.data;
  };
}

/** Signs a development token (HS256). Never used with a production key. */
export async function signDevToken(
  secret: string,
  claims: { sub?: string; tenant: string; roles: Role[]; providerId?: string; citizenId?: string },
  ttlSeconds = 8 * 3600,
): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  // `sub` after the spread: a caller passing `sub: undefined` (the token script without --sub) must still get one.
  return sign({ ...claims, sub: claims.sub ?? `dev-${claims.roles.join('-')}`, iat: now, exp: now + ttlSeconds }, secret, 'HS256');
}
