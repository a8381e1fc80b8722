/** Configuration from the environment, validated once at start. */
import { z } from 'zod';
import { secretBytes } from './webhooks/standard-webhooks';

const DEV_SECRET = 'enplan-dev-secret-change-me-in-production';
const DEV_CPR_KEY = 'enplan-dev-cpr-key-change-me-in-production';
/** Keys the audit chain of a development service (the demo), so what verify says of a keyed chain shows at once. */
const DEV_AUDIT_CHAIN_KEY = 'enplan-dev-audit-chain-key-change-me-in-production';

/** A cron with its fields separated by one space: how crons are compared (a setting, a Cron Trigger's `cron`). */
export function normaliseCron(cron: string): string {
  return cron.trim().split(/\s+/).join(' ');
}

/** How many fields a cron has: 5, or 6 with seconds (bree reads both; Cron Triggers only 5). */
export function cronFields(cron: string): number {
  return normaliseCron(cron).split(' ').length;
}

/**
 * Five fields (six with seconds), as bree and Cron Triggers read them; checked here so a typo fails
 * at start with its name. Trimmed and with one space between fields, so it compares equal to the
 * same cron written with other whitespace.
 */
const cronExpression = z
  .string()
  .trim()
  .refine((value) => {
    const fields = value.split(/\s+/);
    return (fields.length === 5 || fields.length === 6) && fields.every((field) => /^[\d*,/?LW#A-Za-z-]+$/.test(field));
  }, 'must be a cron expression of 5 fields (6 with seconds), e.g. "*/5 * * * *"')
  // Readers differ on a cron that restricts both day fields: classic cron (Vixie) runs on either day,
  // bree (@breejs/later) only on a day that is both. Refused rather than run on days no one meant.
  .refine((value) => {
    const fields = value.split(/\s+/);
    const [dayOfMonth, , dayOfWeek] = fields.slice(fields.length - 3);
    const restricts = (field: string | undefined) => field !== undefined && field !== '*' && field !== '?';
    return !(restricts(dayOfMonth) && restricts(dayOfWeek));
  }, 'restricts both the day of month and the day of week, which cron readers take differently (classic cron runs on either day, bree only on a day that is both): restrict one and leave the other "*"')
  .transform(normaliseCron);

/** Space-separated Standard Webhooks secrets; each is checked here so a bad one fails at start with its name. */
const webhookSecrets = z
  .string()
  .trim()
  .transform((value, context) => {
    const secrets = value.split(/\s+/).filter(Boolean);
    for (const secret of secrets) {
      try {
        secretBytes(secret);
      } catch (error) {
        context.addIssue({ code: 'custom', message: (error as Error).message });
        return z.NEVER;
      }
    }
    return secrets.length > 0 ? secrets : undefined;
  })
  .optional();

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
    /**
     * Keys the audit log's hash chain (HMAC-SHA-256): someone holding the database file but not this key
     * cannot change, insert or rewrite rows without verify naming them. Kept apart from the database,
     * like CPR_KEY, and never changed while rows keyed with it are kept (verify needs it). Unset: the
     * chain is plain SHA-256, tamper-evident only against edits that do not recompute every hash after.
     */
    AUDIT_CHAIN_KEY: z.string().min(32, 'AUDIT_CHAIN_KEY needs at least 32 characters').optional(),
    /**
     * Earlier AUDIT_CHAIN_KEYs, separated by spaces, after a change of key: rows keyed with them still
     * verify (new rows are keyed with AUDIT_CHAIN_KEY). Keep each as long as rows keyed with it are kept.
     */
    AUDIT_CHAIN_KEYS_RETIRED: z
      .string()
      .default('')
      .transform((value) => value.split(/\s+/).filter(Boolean))
      .pipe(z.array(z.string().min(32, 'each retired AUDIT_CHAIN_KEY is at least 32 characters'))),
    /** Earlier CPR keys, separated by spaces: still read while the re-key job moves their data to CPR_KEY (key rotation). */
    CPR_KEYS_RETIRED: z
      .string()
      .default('')
      .transform((value) => value.split(/\s+/).filter(Boolean))
      .pipe(z.array(z.string().min(16, 'each retired CPR key is at least 16 characters'))),
    /**
     * `open` (default): `v1:`/`v2:` ciphertexts (not bound to their row) still open, and the re-key job
     * moves them to `v3:`. `refuse`: refused everywhere and left as they are, so one moved or restored
     * into a row is not read as that row's. Set once the re-key job counts none left (decision 0022).
     */
    CPR_LEGACY_CIPHERTEXTS: z.enum(['open', 'refuse'], { message: 'must be "open" (v1/v2 ciphertexts still open) or "refuse" (refused everywhere)' }).default('open'),
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
    /**
     * The certificate (PEM `CERTIFICATE`) and RSA key (PEM PKCS#8 `PRIVATE KEY`) the education adapter
     * signs its requests with (WS-Security, as STIL's integration platform asks); on Workers, secrets.
     */
    EDUCATION_WSSE_CERT: z.string().includes('BEGIN CERTIFICATE', { message: 'a PEM certificate' }).optional(),
    EDUCATION_WSSE_KEY: z.string().includes('BEGIN PRIVATE KEY', { message: 'a PEM PKCS#8 private key' }).optional(),
    SYNC_CRON: cronExpression.default('*/5 * * * *'),
    /** Per-adapter schedules; an adapter without one syncs on SYNC_CRON. Adapters on one schedule sync as one round. */
    SYNC_CRON_DFDG: cronExpression.optional(),
    SYNC_CRON_EDUCATION: cronExpression.optional(),
    SYNC_CRON_SOCIAL: cronExpression.optional(),
    SYNC_CRON_HEALTH: cronExpression.optional(),
    /**
     * `on`: scheduled syncs read and map the sources in a worker thread of their own (decision 0010).
     * Off by default: on two cores shared with the simulators it was slower and cost ~70 MB of RSS.
     */
    SYNC_PULL_WORKER: z.enum(['on', 'off']).default('off'),
    /**
     * `on` (default): scheduled syncs run SQLite on a thread of its own, so the job's thread parses and
     * merges while the database writes (decision 0016). `off`: one thread, as the API runs.
     */
    SYNC_STORE_THREAD: z.enum(['on', 'off']).default('on'),
    /**
     * `on` (default): the API server runs SQLite on a thread of its own, so requests are parsed and
     * answered while a commit reaches the disk (B5: ~3× the plan reads per second). `off`: one thread.
     */
    SERVICE_STORE_THREAD: z.enum(['on', 'off']).default('on'),
    // Citizens a scheduled run takes at most (the rest wait for the next run); unset: no bound.
    SYNC_MAX_CITIZENS_PER_RUN: z.coerce.number().int().positive().optional(),
    RELAY_INTERVAL: z.string().default('10s'),
    /** Retention's schedule (R16): bree's on Node; on Workers a Cron Trigger, so wrangler.toml must list it (5 fields). */
    RETENTION_CRON: cronExpression.default('30 2 * * *'),
    RETENTION_CLOSED_PLAN_DAYS: z.coerce.number().int().positive().default(5 * 365),
    RETENTION_PAYLOAD_DAYS: z.coerce.number().int().positive().default(30),
    RETENTION_SYNC_RUN_DAYS: z.coerce.number().int().positive().default(90),
    /**
     * The audit log's own retention: rows older than this many days are pruned nightly, oldest
     * first, the chain kept verifiable (decision 0030). Unset: kept. At least 180, so the citizen's
     * log of where their data went (R13) and the DPO's access log keep half a year.
     */
    RETENTION_AUDIT_DAYS: z.coerce.number().int().min(180, 'RETENTION_AUDIT_DAYS is at least 180 days (the citizen’s own log and the DPO’s access log are built on the audit log)').optional(),
    /**
     * Inbound webhooks (Standard Webhooks): the secret(s) a source signs its change notices with,
     * `whsec_<base64>`, space-separated while one is being rotated. A source without one has no
     * webhook endpoint (404): the scheduled sync still reads its changes.
     */
    WEBHOOK_SECRETS_DFDG: webhookSecrets,
    WEBHOOK_SECRETS_EDUCATION: webhookSecrets,
    WEBHOOK_SECRETS_SOCIAL: webhookSecrets,
    WEBHOOK_SECRETS_HEALTH: webhookSecrets,
    /**
     * Outbound subscriptions (S6): hosts (or host:port) events may be delivered to although they are
     * internal — loopback, private networks — comma- or space-separated. Empty: public https only.
     */
    SUBSCRIPTION_ALLOWED_HOSTS: z
      .string()
      .default('')
      .transform((value) => value.split(/[\s,]+/).filter(Boolean)),
  })
  .transform((env) => {
    const production = env.NODE_ENV === 'production';
    if (production && !env.JWKS_URL && !env.JWT_SECRET) throw new Error('production needs JWKS_URL (or JWT_SECRET)');
    // Keys read over plain HTTP could be swapped on the way, and with them anyone could sign tokens.
    if (production && env.JWKS_URL && !env.JWKS_URL.startsWith('https://')) throw new Error('production needs JWKS_URL over https');
    // An identity provider signs tokens for many services: without both checks a token it issued for another one would do here.
    if (production && env.JWKS_URL && (!env.JWT_ISSUER || !env.JWT_AUDIENCE)) throw new Error('production with JWKS_URL needs JWT_ISSUER and JWT_AUDIENCE, so only tokens the identity provider issued for this service are accepted');
    if (production && !env.CPR_KEY) throw new Error('production needs CPR_KEY');
    if (production && env.AUDIT_CHAIN_KEY === DEV_AUDIT_CHAIN_KEY) throw new Error('AUDIT_CHAIN_KEY is the development key, which is public: set a key of your own');
    if (env.AUDIT_CHAIN_KEYS_RETIRED.length > 0 && !env.AUDIT_CHAIN_KEY) throw new Error('AUDIT_CHAIN_KEYS_RETIRED needs AUDIT_CHAIN_KEY: the key new rows are keyed with');
    if (!env.ADAPTER_TLS_CERT_FILE !== !env.ADAPTER_TLS_KEY_FILE) throw new Error('ADAPTER_TLS_CERT_FILE and ADAPTER_TLS_KEY_FILE go together');
    if (!env.EDUCATION_WSSE_CERT !== !env.EDUCATION_WSSE_KEY) throw new Error('EDUCATION_WSSE_CERT and EDUCATION_WSSE_KEY go together');
    return {
      environment: env.NODE_ENV,
      port: env.PORT,
      dataDir: env.DATA_DIR,
      auth: { secret: env.JWKS_URL ? undefined : (env.JWT_SECRET ?? DEV_SECRET), jwksUrl: env.JWKS_URL, issuer: env.JWT_ISSUER, audience: env.JWT_AUDIENCE },
      cprKey: env.CPR_KEY ?? DEV_CPR_KEY,
      auditChainKey: env.AUDIT_CHAIN_KEY ?? (env.NODE_ENV === 'development' ? DEV_AUDIT_CHAIN_KEY : undefined),
      auditChainKeysRetired: env.AUDIT_CHAIN_KEYS_RETIRED,
      cprKeysRetired: env.CPR_KEYS_RETIRED,
      cprLegacyCiphertexts: env.CPR_LEGACY_CIPHERTEXTS,
      usesDevSecrets: !env.JWKS_URL && !env.JWT_SECRET,
      logLevel: env.LOG_LEVEL,
      bodyLimitBytes: env.BODY_LIMIT_BYTES,
      serviceStoreThread: env.SERVICE_STORE_THREAD === 'on',
      adapters: {
        dfdg: env.DFDG_URL,
        education: env.EDUCATION_URL,
        social: env.SOCIAL_FHIR_URL,
        health: env.HEALTH_FHIR_URL,
        timeoutMs: env.ADAPTER_TIMEOUT_MS,
        starOrganisation: { typeIdentifier: env.STAR_ORGANISATION_TYPE, code: env.STAR_ORGANISATION_CODE },
        clientCertificate: env.ADAPTER_TLS_CERT_FILE && env.ADAPTER_TLS_KEY_FILE ? { certFile: env.ADAPTER_TLS_CERT_FILE, keyFile: env.ADAPTER_TLS_KEY_FILE, caFile: env.ADAPTER_TLS_CA_FILE } : undefined,
        educationWsSecurity: env.EDUCATION_WSSE_CERT && env.EDUCATION_WSSE_KEY ? { certificatePem: env.EDUCATION_WSSE_CERT, privateKeyPem: env.EDUCATION_WSSE_KEY } : undefined,
      },
      schedule: {
        syncCron: env.SYNC_CRON,
        syncCronOf: {
          dfdg: env.SYNC_CRON_DFDG ?? env.SYNC_CRON,
          education: env.SYNC_CRON_EDUCATION ?? env.SYNC_CRON,
          social: env.SYNC_CRON_SOCIAL ?? env.SYNC_CRON,
          health: env.SYNC_CRON_HEALTH ?? env.SYNC_CRON,
        },
        pullWorker: env.SYNC_PULL_WORKER === 'on',
        storeThread: env.SYNC_STORE_THREAD === 'on',
        maxCitizensPerRun: env.SYNC_MAX_CITIZENS_PER_RUN,
        relayInterval: env.RELAY_INTERVAL,
        retentionCron: env.RETENTION_CRON,
      },
      inboundWebhookSecrets: {
        dfdg: env.WEBHOOK_SECRETS_DFDG,
        education: env.WEBHOOK_SECRETS_EDUCATION,
        social: env.WEBHOOK_SECRETS_SOCIAL,
        health: env.WEBHOOK_SECRETS_HEALTH,
      } as Partial<Record<'dfdg' | 'education' | 'social' | 'health', string[]>>,
      subscriptions: { allowedHosts: env.SUBSCRIPTION_ALLOWED_HOSTS },
      retention: { closedPlanDays: env.RETENTION_CLOSED_PLAN_DAYS, payloadDays: env.RETENTION_PAYLOAD_DAYS, syncRunDays: env.RETENTION_SYNC_RUN_DAYS, auditDays: env.RETENTION_AUDIT_DAYS ?? null },
    };
  });
export type Config = z.output<typeof Config>;

export function loadConfig(env: Record<string, string | undefined>): Config {
  return Config.parse(env);
}

export { DEV_SECRET };

const syncedAdapters = ['dfdg', 'education', 'social', 'health'] as const;

/**
 * The configured adapters grouped by their sync schedule: each group is one sync round on its
 * cron (a citizen's records from a group's adapters are merged in one plan write), in the order
 * the adapters are listed above. Used by bree on Node and by the Cron Trigger handler on Workers.
 */
export function syncSchedules(config: Config): { cron: string; adapters: (typeof syncedAdapters)[number][] }[] {
  const groups = new Map<string, (typeof syncedAdapters)[number][]>();
  for (const adapter of syncedAdapters) {
    if (!config.adapters[adapter]) continue;
    const cron = config.schedule.syncCronOf[adapter];
    groups.set(cron, [...(groups.get(cron) ?? []), adapter]);
  }
  return [...groups].map(([cron, adapters]) => ({ cron, adapters }));
}
