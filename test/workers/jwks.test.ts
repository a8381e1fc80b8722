/** Tokens from an identity provider in workerd: the JWKS read over real HTTP once, RS256 and ES256 checked with workerd's WebCrypto. */
import { env } from 'cloudflare:test';
import { sign } from 'hono/jwt';
import { describe, expect, it } from 'vitest';
import { AuthenticationError, createTokenVerifier } from '../../src/security';

describe('IdP tokens in workerd', () => {
  it('reads the key set once and checks RS256 and ES256 tokens against it', async () => {
    const [rsa, ec] = JSON.parse(env.IDP_PRIVATE_KEYS) as Record<string, unknown>[];
    const verify = createTokenVerifier({ jwksUrl: `${env.IDP_URL}/jwks` });
    const readsBefore = Number(await (await fetch(`${env.IDP_URL}/jwks-reads`)).text());
    const now = Math.floor(Date.now() / 1000);
    const claims = { sub: 'idp-user', tenant: '101', roles: ['it-staff'], iat: now, exp: now + 600 };
    for (const key of [rsa!, ec!, rsa!, ec!]) expect(await verify(await sign(claims, key as never))).toMatchObject({ sub: 'idp-user', tenant: '101' });
    await expect(verify(await sign(claims, { ...rsa!, kid: 'not-published' } as never))).rejects.toThrow(AuthenticationError);
    // One read for all of them: the unknown key id came within the 30 s cool-down after it.
    expect(Number(await (await fetch(`${env.IDP_URL}/jwks-reads`)).text()) - readsBefore).toBe(1);
  });
});
