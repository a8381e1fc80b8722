/** The workerd project: the real worker entry on D1, with the committed migrations applied. */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { cloudflareTest, readD1Migrations } from '@cloudflare/vitest-pool-workers';
import { defineProject } from 'vitest/config';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * Stands in for the mTLS certificate binding (SECTOR_MTLS): workerd cannot present a certificate
 * locally, so this Node function forwards what the Worker sends through the binding to where it was
 * addressed, and counts it per origin; `https://binding.test/carried` answers the counts.
 */
const carried: Record<string, number> = {};
async function certificateBinding(request: Request): Promise<Response> {
  const url = new URL(request.url);
  if (url.hostname === 'binding.test') return Response.json(carried);
  carried[url.origin] = (carried[url.origin] ?? 0) + 1;
  const body = request.method === 'GET' || request.method === 'HEAD' ? undefined : await request.arrayBuffer();
  const answer = await fetch(url, { method: request.method, headers: request.headers, body });
  return new Response(await answer.arrayBuffer(), { status: answer.status, headers: answer.headers });
}

export default defineProject(async () => {
  const migrations = await readD1Migrations(path.join(root, 'src/store/migrations'));
  return {
    plugins: [
      cloudflareTest(({ inject }) => ({
        wrangler: { configPath: path.join(root, 'wrangler.toml') },
        miniflare: {
          serviceBindings: { SECTOR_MTLS: certificateBinding as never },
          bindings: {
            // The DFDG simulator the global setup started in Node, reached over loopback from workerd.
            DFDG_URL: inject('dfdgUrl'),
            // Not SOCIAL_FHIR_URL: the scheduled syncs of the other tests pull from DFDG alone.
            SOCIAL_SIMULATOR_URL: inject('socialUrl'),
            SOCIAL_SIMULATOR_CPR: inject('socialCpr'),
            // Not EDUCATION_URL: as above; test/workers/ws-security.test.ts configures its own adapter.
            // Not HEALTH_FHIR_URL: as above; test/workers/regional-consent.test.ts configures its own adapter.
            HEALTH_SIMULATOR_URL: inject('healthUrl'),
            HEALTH_SIMULATOR_CITIZENS: inject('healthCitizens'),
            EDUCATION_SIMULATOR_URL: inject('educationUrl'),
            EDUCATION_SIMULATOR_CPR: inject('educationCpr'),
            WSSE_CERTIFICATE: inject('wsseCertificate'),
            WSSE_KEY: inject('wsseKey'),
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
      // As the Node project's: workerd shares the machine's cores with it, and a busy machine is no failure.
      testTimeout: 30_000,
      hookTimeout: 60_000,
    },
  };
});
