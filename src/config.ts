/** Configuration from the environment, validated once at start. */
import { z } from 'zod';

const DEV_SECRET = 'enplan-dev-secret-change-me-in-production';
const DEV_CPR_KEY = 'enplan-dev-cpr-key-change-me-in-production';

export const Config = z
  .object({
    NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
    PORT: z.coerce.number().int().min(0).max(65535).default(8787),
    DATA_DIR: z.string().default('./data'),
    JWT_SECRET: z.string().min(16).optional(),
    JWKS_URL: z.url().optional(),
    JWT_ISSUER: z.string().optional(),
    JWT_AUDIENCE: z.string().optional(),
    CPR_KEY: z.string().min(16).optional(),
    LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
    BODY_LIMIT_BYTES: z.coerce.number().int().positive().default(1_000_000),
  })
  .transform((env) => {
    const production = env.NODE_ENV === 'production';
    if (production && !env.JWKS_URL && !env.JWT_SECRET) throw new Error('production needs JWKS_URL (or JWT_SECRET)');
    if (production && !env.CPR_KEY) throw new Error('production needs CPR_KEY');
    return {
      environment: env.NODE_ENV,
      port: env.PORT,
      dataDir: env.DATA_DIR,
      auth: { secret: env.JWKS_URL ? undefined : (env.JWT_SECRET ?? DEV_SECRET), jwksUrl: env.JWKS_URL, issuer: env.JWT_ISSUER, audience: env.JWT_AUDIENCE },
      cprKey: env.CPR_KEY ?? DEV_CPR_KEY,
      usesDevSecrets: !env.JWKS_URL && !env.JWT_SECRET,
      logLevel: env.LOG_LEVEL,
      bodyLimitBytes: env.BODY_LIMIT_BYTES,
    };
  });
export type Config = z.output<typeof Config>;

export function loadConfig(env: Record<string, string | undefined>): Config {
  return Config.parse(env);
}

export { DEV_SECRET };
