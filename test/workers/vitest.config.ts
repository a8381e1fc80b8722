/** The workerd project: the real worker entry on D1, with the committed migrations applied. */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { cloudflareTest, readD1Migrations } from '@cloudflare/vitest-pool-workers';
import { defineProject } from 'vitest/config';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export default defineProject(async () => {
  const migrations = await readD1Migrations(path.join(root, 'src/store/migrations'));
  return {
    plugins: [
      cloudflareTest(({ inject }) => ({
        wrangler: { configPath: path.join(root, 'wrangler.toml') },
        miniflare: {
          bindings: {
            // The DFDG simulator the global setup started in Node, reached over loopback from workerd.
            DFDG_URL: inject('dfdgUrl'),
            TEST_MIGRATIONS: migrations,
            RECEIVER_URL: inject('receiverUrl'),
            // Not JWKS_URL: the worker under test keeps its HS256 tokens; test/workers/jwks.test.ts checks the IdP path.
            IDP_URL: inject('idpUrl'),
            IDP_PRIVATE_KEYS: inject('idpPrivateKeys'),
            // The receiver is on loopback: allowed explicitly, as S6 demands.
            SUBSCRIPTION_ALLOWED_HOSTS: '127.0.0.1',
            NODE_ENV: 'test',
            JWT_SECRET: 'test-secret-for-the-enplan-suite',
            CPR_KEY: 'test-cpr-key-for-the-enplan-suite',
            LOG_LEVEL: 'warn',
            // Inbound change notices from DFDG are signed with this (test/workers/webhooks.test.ts).
            WEBHOOK_SECRETS_DFDG: 'whsec_dGVzdC13ZWJob29rLXNlY3JldC1mb3ItdGhlLWVucGxhbi1zdWl0ZQ==',
          },
        },
      })),
    ],
    test: {
      name: 'workers',
      root,
      include: ['test/workers/**/*.test.ts'],
      setupFiles: ['test/workers/apply-migrations.ts'],
      globalSetup: ['test/workers/global-setup.ts'],
    },
  };
});
