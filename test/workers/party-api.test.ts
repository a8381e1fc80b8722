/** The consent, sharing and citizen API suite inside workerd, against the real worker entry on D1. */
import { SELF } from 'cloudflare:test';
import { sign } from 'hono/jwt';
import { definePartyApiSuite } from '../views/party-api-suite';
import type { ApiHarness } from '../support/harness';
import { TEST_JWT_SECRET } from '../support/harness';
import { testCpr } from '../support/cpr';

const harness: ApiHarness = {
  request: (path, init) => SELF.fetch(`https://enplan.test${path}`, init as never) as unknown as Promise<Response>,
  token: async (claims, ttl = 3600) => {
    const now = Math.floor(Date.now() / 1000);
    return sign({ sub: claims.sub ?? `test-${claims.roles.join('-')}`, ...claims, iat: now, exp: now + ttl }, TEST_JWT_SECRET, 'HS256');
  },
};

definePartyApiSuite({ harness: () => harness, cpr: testCpr });
