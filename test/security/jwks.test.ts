/**
 * Production authentication: tokens signed by the identity provider (RS256/ES256), checked against
 * its JWKS served over real HTTP. The key set is read once and kept, read again when a token names
 * a key we do not hold (rotation, at most once per cool-down), kept working while the IdP is down,
 * and a token is refused whenever its algorithm or key does not fit.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sign } from 'hono/jwt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config';
import { AuthenticationError, createTokenVerifier, IdentityProviderUnavailableError } from '../../src/security';
import { maxAgeMsOf } from '../../src/security/jwks';
import { TEST_JWT_SECRET } from '../support/harness';
import { startTestApp } from '../support/node-app';

type Jwk = Record<string, unknown>;

async function keyPair(alg: 'RS256' | 'ES256', kid: string): Promise<{ publicJwk: Jwk; privateJwk: Jwk }> {
  const algorithm = alg === 'RS256' ? { name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' } : { name: 'ECDSA', namedCurve: 'P-256' };
  const pair = (await crypto.subtle.generateKey(algorithm, true, ['sign', 'verify'])) as { publicKey: CryptoKeyLike; privateKey: CryptoKeyLike };
  const publicJwk = (await crypto.subtle.exportKey('jwk', pair.publicKey as never)) as Jwk;
  const privateJwk = (await crypto.subtle.exportKey('jwk', pair.privateKey as never)) as Jwk;
  return { publicJwk: { ...publicJwk, kid, alg, use: 'sig' }, privateJwk: { ...privateJwk, kid, alg } };
}
type CryptoKeyLike = unknown;

const claims = (overrides: Record<string, unknown> = {}) => {
  const now = Math.floor(Date.now() / 1000);
  return { sub: 'kommune-ad:jens', tenant: '101', roles: ['caseworker'], iat: now, exp: now + 600, iss: 'https://idp.example.dk', aud: 'enplan', ...overrides };
};
const signWith = (privateJwk: Jwk, overrides: Record<string, unknown> = {}) => sign(claims(overrides), privateJwk as never);

/** A token with any header we like, signed with HMAC-SHA-256 under `secret` (for algorithm-confusion attempts). */
async function forged(header: Record<string, unknown>, secret: string): Promise<string> {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const unsigned = `${part(header)}.${part(claims())}`;
  const key = await crypto.subtle.importKey('raw', new TextEncoder().encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  return `${unsigned}.${Buffer.from(await crypto.subtle.sign('HMAC', key, new TextEncoder().encode(unsigned))).toString('base64url')}`;
}

/** The identity provider's JWKS endpoint: what it serves, how it answers, how often it was asked. */
const idp = {
  keys: [] as Jwk[],
  status: 200,
  cacheControl: 'max-age=300' as string | null,
  requests: 0,
};
let server: Server;
let jwksUrl: string;
let rsa: Awaited<ReturnType<typeof keyPair>>;
let ec: Awaited<ReturnType<typeof keyPair>>;
let rotated: Awaited<ReturnType<typeof keyPair>>;

beforeAll(async () => {
  [rsa, ec, rotated] = await Promise.all([keyPair('RS256', 'rsa-2026-1'), keyPair('ES256', 'ec-2026-1'), keyPair('RS256', 'rsa-2026-2')]);
  server = createServer((request, response) => {
    idp.requests++;
    if (request.url !== '/.well-known/jwks.json') return void response.writeHead(404).end();
    if (idp.status !== 200) return void response.writeHead(idp.status).end('unavailable');
    response.writeHead(200, { 'content-type': 'application/jwk-set+json', ...(idp.cacheControl ? { 'cache-control': idp.cacheControl } : {}) });
    response.end(JSON.stringify({ keys: idp.keys }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  jwksUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
afterEach(() => {
  idp.keys = [rsa.publicJwk, ec.publicJwk];
  idp.status = 200;
  idp.cacheControl = 'max-age=300';
  idp.requests = 0;
});

/** A verifier on a clock the test moves. */
function verifierAt(start = Date.now()) {
  const clock = { ms: start };
  const verify = createTokenVerifier({ jwksUrl, issuer: 'https://idp.example.dk', audience: 'enplan' }, { now: () => clock.ms });
  return { verify, clock };
}

describe('tokens from the identity provider (JWKS)', () => {
  it('accepts RS256 and ES256 tokens and reads the key set once for many requests', async () => {
    idp.keys = [rsa.publicJwk, ec.publicJwk];
    const { verify } = verifierAt();
    const rsaToken = await signWith(rsa.privateJwk);
    const ecToken = await signWith(ec.privateJwk);
    for (let i = 0; i < 10; i++) {
      expect(await verify(rsaToken)).toMatchObject({ sub: 'kommune-ad:jens', tenant: '101', roles: ['caseworker'] });
      expect((await verify(ecToken)).tenant).toBe('101');
    }
    expect(idp.requests).toBe(1);
  });

  it('reads the set again when a token names a key it does not hold (rotation), but at most once per cool-down', async () => {
    idp.keys = [rsa.publicJwk];
    const { verify, clock } = verifierAt();
    await verify(await signWith(rsa.privateJwk));
    expect(idp.requests).toBe(1);

    // The IdP rotates after the cool-down: the new key's token is accepted after one more read.
    clock.ms += 31_000;
    idp.keys = [rsa.publicJwk, rotated.publicJwk];
    expect((await verify(await signWith(rotated.privateJwk))).sub).toBe('kommune-ad:jens');
    expect(idp.requests).toBe(2);

    // Made-up key ids right after: refused without asking the IdP again.
    for (let i = 0; i < 5; i++) await expect(verify(await signWith({ ...rotated.privateJwk, kid: `made-up-${i}` }))).rejects.toThrow(AuthenticationError);
    expect(idp.requests).toBe(2);
    clock.ms += 31_000;
    await expect(verify(await signWith({ ...rotated.privateJwk, kid: 'made-up-later' }))).rejects.toThrow(/not signed by a key the identity provider publishes/);
    expect(idp.requests).toBe(3);
  });

  it('forgets a key the IdP no longer publishes', async () => {
    idp.keys = [rsa.publicJwk, rotated.publicJwk];
    const { verify, clock } = verifierAt();
    const old = await signWith(rsa.privateJwk);
    await verify(old);
    idp.keys = [rotated.publicJwk];
    clock.ms += 301_000; // the set's max-age has passed: read again (in the background)
    await verify(await signWith(rotated.privateJwk));
    // Once the set read in the background is in, the old key's tokens are refused (without asking again).
    await expect.poll(() => verify(old).then(() => 'accepted', (error) => (error instanceof AuthenticationError ? 'refused' : String(error))), { timeout: 5000 }).toBe('refused');
    expect(idp.requests).toBe(2);
  });

  it('keeps the keys it holds while the IdP is down, for a day; then answers unavailable, not unauthenticated', async () => {
    idp.keys = [rsa.publicJwk];
    const { verify, clock } = verifierAt();
    // Tokens issued by the IdP as of the (moved) clock.
    const token = () => signWith(rsa.privateJwk, { iat: Math.floor(clock.ms / 1000), exp: Math.floor(clock.ms / 1000) + 600 });
    await verify(await token());
    idp.status = 503;
    clock.ms += 3600_000;
    expect((await verify(await token())).tenant).toBe('101');
    await expect.poll(() => idp.requests, { timeout: 5000 }).toBe(2); // it tried
    // Readiness says the keys are held past their age while the IdP is down.
    expect(await verify.identityProvider!.status()).toBe('stale');
    clock.ms += 25 * 3600_000;
    await expect(verify(await token())).rejects.toThrow(IdentityProviderUnavailableError);
    expect(await verify.identityProvider!.status()).toBe('unavailable');
  });

  it('without any keys, a token cannot be checked: unavailable — and the IdP is asked at most once per cool-down', async () => {
    idp.status = 500;
    const { verify, clock } = verifierAt();
    const token = await signWith(rsa.privateJwk);
    for (let i = 0; i < 3; i++) await expect(verify(token)).rejects.toThrow(IdentityProviderUnavailableError);
    expect(idp.requests).toBe(1);
    idp.status = 200;
    clock.ms += 31_000;
    expect((await verify(token)).tenant).toBe('101');
  });

  it('keeps the set as long as Cache-Control says, within 1 minute and 24 hours', async () => {
    expect(maxAgeMsOf('public, max-age=3600')).toBe(3600_000);
    expect(maxAgeMsOf('no-store')).toBe(0);
    expect(maxAgeMsOf(null)).toBeUndefined();
    expect(maxAgeMsOf('max-age=abc')).toBeUndefined();

    idp.keys = [rsa.publicJwk];
    idp.cacheControl = 'max-age=5'; // too short: kept a minute
    const { verify, clock } = verifierAt();
    const token = await signWith(rsa.privateJwk);
    await verify(token);
    clock.ms += 30_000;
    await verify(token);
    expect(idp.requests).toBe(1);
    clock.ms += 31_000;
    await verify(token);
    await expect.poll(() => idp.requests, { timeout: 5000 }).toBe(2);
  });

  it('refuses tokens whose algorithm or key does not fit: HS256 or none under a JWKS, a key used for another algorithm, keys not meant for signing', async () => {
    idp.keys = [rsa.publicJwk, { ...ec.publicJwk, alg: undefined }, { kty: 'oct', kid: 'shared', k: Buffer.from('a'.repeat(32)).toString('base64url') }, { ...rotated.publicJwk, use: 'enc' }, { kty: 'RSA' }];
    const { verify } = verifierAt();
    // The usable keys still work beside the junk.
    expect((await verify(await signWith(rsa.privateJwk))).tenant).toBe('101');
    expect((await verify(await signWith({ ...ec.privateJwk, alg: 'ES256' }))).tenant).toBe('101');

    await expect(verify(await forged({ alg: 'HS256', typ: 'JWT', kid: 'rsa-2026-1' }, JSON.stringify(rsa.publicJwk)))).rejects.toThrow(/RS256 or ES256 only/);
    await expect(verify(await forged({ alg: 'HS256', typ: 'JWT', kid: 'shared' }, 'a'.repeat(32)))).rejects.toThrow(/RS256 or ES256 only/);
    const none = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT', kid: 'rsa-2026-1' })).toString('base64url')}.${Buffer.from(JSON.stringify(claims())).toString('base64url')}.`;
    await expect(verify(none)).rejects.toThrow(AuthenticationError);
    // An ES256 header naming the RSA key: the key is not used for it.
    await expect(verify(await forged({ alg: 'ES256', typ: 'JWT', kid: 'rsa-2026-1' }, 'x'))).rejects.toThrow(/not signed by a key/);
    // A key published for encryption only.
    await expect(verify(await signWith(rotated.privateJwk))).rejects.toThrow(/not signed by a key/);
    // No kid.
    await expect(verify(await forged({ alg: 'RS256', typ: 'JWT' }, 'x'))).rejects.toThrow(/names no key/);
    // Signed by the right kid's name with another key.
    await expect(verify(await signWith({ ...rotated.privateJwk, kid: 'rsa-2026-1' }))).rejects.toThrow(AuthenticationError);
  });

  it('checks issuer, audience and expiry of an IdP token as of a dev token', async () => {
    idp.keys = [rsa.publicJwk];
    const { verify } = verifierAt();
    await expect(verify(await signWith(rsa.privateJwk, { iss: 'https://other-idp.example' }))).rejects.toThrow(AuthenticationError);
    await expect(verify(await signWith(rsa.privateJwk, { aud: 'another-service' }))).rejects.toThrow(AuthenticationError);
    await expect(verify(await signWith(rsa.privateJwk, { exp: Math.floor(Date.now() / 1000) - 60 }))).rejects.toThrow(/expired/);
    await expect(verify(await signWith(rsa.privateJwk, { exp: undefined }))).rejects.toThrow(/no expiry/);
    await expect(verify(await signWith(rsa.privateJwk, { exp: 'tomorrow' }))).rejects.toThrow(AuthenticationError);
  });

  it('allows the IdP’s clock to be up to 30 s off ours, and no more', async () => {
    idp.keys = [rsa.publicJwk];
    const { verify } = verifierAt();
    const now = Math.floor(Date.now() / 1000);
    const at = (times: Record<string, number>) => signWith(rsa.privateJwk, times);
    // An IdP a few seconds ahead: issued "in the future", valid from "the future".
    expect((await verify(await at({ iat: now + 10, nbf: now + 10, exp: now + 610 }))).tenant).toBe('101');
    // Expired a few seconds ago by our clock, not by the IdP's.
    expect((await verify(await at({ iat: now - 600, exp: now - 10 }))).tenant).toBe('101');
    await expect(verify(await at({ iat: now + 120, exp: now + 720 }))).rejects.toThrow(/issued in the future/);
    await expect(verify(await at({ iat: now, nbf: now + 120, exp: now + 720 }))).rejects.toThrow(/not valid yet/);
    await expect(verify(await at({ iat: now - 600, exp: now - 31 }))).rejects.toThrow(/expired/);
  });

  it('through the API: an IdP token is accepted, a forged one is a 401, and an unreachable IdP is a 503 problem', async () => {
    idp.keys = [rsa.publicJwk];
    const { app, close } = await startTestApp({ env: { JWKS_URL: jwksUrl, JWT_ISSUER: 'https://idp.example.dk', JWT_AUDIENCE: 'enplan' } });
    try {
      const get = (token: string) => app.request('/v1/follow-ups/overdue', { headers: { authorization: `Bearer ${token}` } });
      expect((await get(await signWith(rsa.privateJwk))).status).toBe(200);
      const ready = await app.request('/ready');
      expect(ready.status).toBe(200);
      expect(await ready.json()).toEqual({ status: 'ok', checks: { database: 'ok', identityProvider: 'ok' } });
      // With JWKS configured, the development secret signs nothing.
      expect((await get(await forged({ alg: 'HS256', typ: 'JWT', kid: 'rsa-2026-1' }, 'enplan-dev-secret-change-me-in-production'))).status).toBe(401);
      expect(idp.requests).toBe(1);
    } finally {
      await close();
    }
    idp.status = 503;
    const down = await startTestApp({ env: { JWKS_URL: jwksUrl } });
    try {
      const response = await down.app.request('/v1/follow-ups/overdue', { headers: { authorization: `Bearer ${await signWith(rsa.privateJwk)}` } });
      expect(response.status).toBe(503);
      expect(response.headers.get('content-type')).toContain('application/problem+json');
      expect(await response.json()).toMatchObject({ type: '/problems/identity-provider-unavailable', status: 503 });
      // Not ready: no token can be checked.
      const ready = await down.app.request('/ready');
      expect(ready.status).toBe(503);
      expect(await ready.json()).toEqual({ status: 'unavailable', checks: { database: 'ok', identityProvider: 'no signing keys: the IdP cannot be read' } });
      expect(down.logger.lines.some((line) => /JWKS/.test(line))).toBe(true);
    } finally {
      await down.close();
    }
  });

  it('production reads the keys over https only', () => {
    const production = { NODE_ENV: 'production', CPR_KEY: 'x'.repeat(44), JWT_ISSUER: 'https://idp.example.dk', JWT_AUDIENCE: 'enplan' };
    expect(() => loadConfig({ ...production, JWKS_URL: 'http://idp.example.dk/jwks' })).toThrow(/JWKS_URL over https/);
    expect(loadConfig({ ...production, JWKS_URL: 'https://idp.example.dk/jwks' }).auth.jwksUrl).toBe('https://idp.example.dk/jwks');
  });

  it('production accepts only tokens issued for this service: an identity provider’s keys come with its issuer and our audience', async () => {
    const production = { NODE_ENV: 'production', CPR_KEY: 'x'.repeat(44), JWKS_URL: 'https://idp.example.dk/jwks' };
    expect(() => loadConfig(production)).toThrow(/JWT_ISSUER and JWT_AUDIENCE/);
    expect(() => loadConfig({ ...production, JWT_AUDIENCE: 'enplan' })).toThrow(/JWT_ISSUER and JWT_AUDIENCE/);
    expect(() => loadConfig({ ...production, JWT_ISSUER: 'https://idp.example.dk' })).toThrow(/JWT_ISSUER and JWT_AUDIENCE/);
    const config = loadConfig({ ...production, JWT_ISSUER: 'https://idp.example.dk', JWT_AUDIENCE: 'enplan' });
    expect(config.auth).toMatchObject({ issuer: 'https://idp.example.dk', audience: 'enplan' });
    // And the verifier holds a token to them: one issued for another service, or by another issuer, is refused.
    const verify = createTokenVerifier({ secret: TEST_JWT_SECRET, issuer: config.auth.issuer, audience: config.auth.audience });
    const now = Math.floor(Date.now() / 1000);
    const claims = { sub: 'x', tenant: '101', roles: ['it-staff'], iat: now, exp: now + 600 };
    await expect(verify(await sign({ ...claims, iss: 'https://idp.example.dk', aud: 'some-other-service' }, TEST_JWT_SECRET, 'HS256'))).rejects.toThrow();
    await expect(verify(await sign({ ...claims, iss: 'https://elsewhere.example', aud: 'enplan' }, TEST_JWT_SECRET, 'HS256'))).rejects.toThrow();
    await expect(verify(await sign({ ...claims, iss: 'https://idp.example.dk', aud: 'enplan' }, TEST_JWT_SECRET, 'HS256'))).resolves.toMatchObject({ tenant: '101' });
  });
});
