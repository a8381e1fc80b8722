/**
 * Bearer JWT verification. Locally an HS256 dev secret; in production a JWKS URL (RS256/ES256).
 * Tokens must expire; claims are validated with zod after the signature.
 */
import { sign, verify, verifyWithJwks } from 'hono/jwt';
import { Principal, type Role } from './principal';

export interface TokenConfig {
  /** HS256 secret; used when no JWKS URL is configured. */
  secret?: string;
  jwksUrl?: string;
  issuer?: string;
  audience?: string;
}

export class AuthenticationError extends Error {}

export function createTokenVerifier(config: TokenConfig) {
  if (!config.secret && !config.jwksUrl) throw new Error('configure JWT_SECRET or JWKS_URL');
  const verification = { ...(config.issuer ? { iss: config.issuer } : {}), ...(config.audience ? { aud: config.audience } : {}) };
  return async function verifyToken(token: string): Promise<Principal> {
    let payload: unknown;
    try {
      payload = config.jwksUrl
        ? await verifyWithJwks(token, { jwks_uri: config.jwksUrl, allowedAlgorithms: ['RS256', 'ES256'], verification })
        : await verify(token, config.secret!, { alg: 'HS256', ...verification });
    } catch (error) {
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
