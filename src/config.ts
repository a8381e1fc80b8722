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
    /** Sector system endpoints; an adapter without a URL is not configured. */
    DFDG_URL: z.url().optional(),
    EDUCATION_URL: z.url().optional(),
    SOCIAL_FHIR_URL: z.url().optional(),
    HEALTH_FHIR_URL: z.url().optional(),
    /** The municipality's organisation as sent to STAR (ActiveOrganisation). */
    STAR_ORGANISATION_TYPE: z.string().default('kommune'),
    STAR_ORGANISATION_CODE: z.string().optional(),
    ADAPTER_TIMEOUT_MS: z.coerce.number().int().positive().default(10_000),
    /** Node: PEM files of the function certificate (FOCES) the SOAP adapters present (mutual TLS). */
    ADAPTER_TLS_CERT_FILE: z.string().min(1).optional(),
    ADAPTER_TLS_KEY_FILE: z.string().min(1).optional(),
    ADAPTER_TLS_CA_FILE: z.string().min(1).optional(),
    SYNC_CRON: z.string().default('*/5 * * * *'),
    RELAY_INTERVAL: z.string().default('10s'),
    RETENTION_CRON: z.string().default('30 2 * * *'),
    RETENTION_CLOSED_PLAN_DAYS: z.coerce.number().int().positive().default(5 * 365),
    RETENTION_PAYLOAD_DAYS: z.coerce.number().int().positive().default(30),
  })
  .transform((env) => {
    const production = env.NODE_ENV === 'production';
    if (production && !env.JWKS_URL && !env.JWT_SECRET) throw new Error('production needs JWKS_URL (or JWT_SECRET)');
    if (production && !env.CPR_KEY) throw new Error('production needs CPR_KEY');
    if (!env.ADAPTER_TLS_CERT_FILE !== !env.ADAPTER_TLS_KEY_FILE) throw new Error('ADAPTER_TLS_CERT_FILE and ADAPTER_TLS_KEY_FILE go together');
    return {
      environment: env.NODE_ENV,
      port: env.PORT,
      dataDir: env.DATA_DIR,
      auth: { secret: env.JWKS_URL ? undefined : (env.JWT_SECRET ?? DEV_SECRET), jwksUrl: env.JWKS_URL, issuer: env.JWT_ISSUER, audience: env.JWT_AUDIENCE },
      cprKey: env.CPR_KEY ?? DEV_CPR_KEY,
      usesDevSecrets: !env.JWKS_URL && !env.JWT_SECRET,
      logLevel: env.LOG_LEVEL,
      bodyLimitBytes: env.BODY_LIMIT_BYTES,
      adapters: {
        dfdg: env.DFDG_URL,
        education: env.EDUCATION_URL,
        social: env.SOCIAL_FHIR_URL,
        health: env.HEALTH_FHIR_URL,
        timeoutMs: env.ADAPTER_TIMEOUT_MS,
        starOrganisation: { typeIdentifier: env.STAR_ORGANISATION_TYPE, code: env.STAR_ORGANISATION_CODE },
        clientCertificate: env.ADAPTER_TLS_CERT_FILE && env.ADAPTER_TLS_KEY_FILE ? { certFile: env.ADAPTER_TLS_CERT_FILE, keyFile: env.ADAPTER_TLS_KEY_FILE, caFile: env.ADAPTER_TLS_CA_FILE } : undefined,
      },
      schedule: { syncCron: env.SYNC_CRON, relayInterval: env.RELAY_INTERVAL, retentionCron: env.RETENTION_CRON },
      retention: { closedPlanDays: env.RETENTION_CLOSED_PLAN_DAYS, payloadDays: env.RETENTION_PAYLOAD_DAYS },
    };
  });
export type Config = z.output<typeof Config>;

export function loadConfig(env: Record<string, string | undefined>): Config {
  return Config.parse(env);
}

export { DEV_SECRET };
