import type { D1Migration } from '@cloudflare/vitest-pool-workers';

declare global {
  namespace Cloudflare {
    interface Env {
      DB: D1Database;
      TEST_MIGRATIONS: D1Migration[];
      JWT_SECRET: string;
      RECEIVER_URL: string;
      DFDG_URL: string;
      SOCIAL_SIMULATOR_URL: string;
      SOCIAL_SIMULATOR_CPR: string;
      HEALTH_SIMULATOR_URL: string;
      HEALTH_SIMULATOR_CITIZENS: string;
      EDUCATION_SIMULATOR_URL: string;
      EDUCATION_SIMULATOR_CPR: string;
      WSSE_CERTIFICATE: string;
      WSSE_KEY: string;
      SECTOR_MTLS: Fetcher;
      IDP_URL: string;
      IDP_PRIVATE_KEYS: string;
    }
  }
}
export {};
