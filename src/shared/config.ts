import path from 'node:path';
import { z } from 'zod';
import { PACKAGE_ROOT } from './paths';

/**
 * The whole configuration of the service, read from the environment once at start.
 *
 * Why one schema: every key is validated together, so an operator who made three mistakes sees
 * three keys in one message instead of fixing them one restart at a time. Units are last in names
 * (`SHUTDOWN_TIMEOUT_MS`), and the README's env table is checked against `ENV_KEYS` by a test.
 */

const port = z.coerce.number().int().min(0).max(65535);
const positiveInt = z.coerce.number().int().positive();

/** Parses the usual spellings of a boolean env var; anything else is an error, not `false`. */
const booleanFlag = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

const urlWithProtocol = (protocols: readonly string[]) =>
  z.string().refine(
    (value) => {
      try {
        return protocols.includes(new URL(value).protocol);
      } catch {
        return false;
      }
    },
    { message: `must be a URL starting with ${protocols.map((p) => `${p}//`).join(' or ')}` },
  );

const EnvSchema = z
  .object({
    NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
    LOG_LEVEL: z
      .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
      .default('info'),
    DATABASE_URL: urlWithProtocol(['mysql:', 'mariadb:']).optional(),
    DATABASE_POOL_MAX: positiveInt.max(100).default(10),
    DATABASE_MIGRATE_ON_START: booleanFlag.default(true),
    REDIS_URL: urlWithProtocol(['redis:', 'rediss:']).optional(),
    QUEUE_PREFIX: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,32}$/, 'letters, digits, _ and - only, at most 32')
      .default('pagopa'),
    HTTP_PORT: port.default(8080),
    SOAP_PORT: port.default(8081),
    SIMULATOR_PORT: port.default(8090),
    HTTP_BIND_ADDRESS: z.string().min(1).default('0.0.0.0'),
    HTTP_BODY_LIMIT_BYTES: positiveInt.max(50 * 1024 * 1024).default(1024 * 1024),
    HTTP_REQUEST_TIMEOUT_MS: positiveInt.default(30_000),
    HEALTH_CHECK_TIMEOUT_MS: positiveInt.max(60_000).default(1_000),
    SHUTDOWN_TIMEOUT_MS: positiveInt.max(600_000).default(10_000),
    DOMAINS_FILE: z.string().min(1).optional(),
    API_KEYS: z
      .string()
      .regex(
        /^[A-Za-z0-9_.-]{1,100}:(erp|operator)(\+(erp|operator))?:[0-9a-f]{64}(,[A-Za-z0-9_.-]{1,100}:(erp|operator)(\+(erp|operator))?:[0-9a-f]{64})*$/,
        'must be name:role[+role]:sha256hex, comma-separated',
      )
      .optional(),
    API_PAGE_SIZE_MAX: positiveInt.max(1_000).default(200),
    SOAP_BODY_LIMIT_BYTES: positiveInt.max(20 * 1024 * 1024).default(1024 * 1024),
    SOAP_PUBLIC_URL: urlWithProtocol(['http:', 'https:']).optional(),
    SOAP_TLS_CERT_FILE: z.string().min(1).optional(),
    SOAP_TLS_KEY_FILE: z.string().min(1).optional(),
    SOAP_TLS_CA_FILE: z.string().min(1).optional(),
    SOAP_TLS_CLIENT_SUBJECT: z.string().min(1).max(1000).optional(),
    RECEIPTS_FEED_LAG_MS: z.coerce.number().int().min(0).max(60_000).default(5_000),
    RECONCILE_ATTEMPTS_MAX: positiveInt.max(100).default(8),
    RECONCILE_BACKOFF_BASE_MS: positiveInt.max(3_600_000).default(1_000),
    RECONCILE_CONCURRENCY: positiveInt.max(200).default(16),
    SWEEPER_INTERVAL_MS: positiveInt.max(3_600_000).default(10_000),
    SWEEPER_AGE_MS: positiveInt.max(86_400_000).default(30_000),
    RECOVERY_DELAY_MS: positiveInt.max(7 * 86_400_000).default(600_000),
    RECOVERY_INTERVAL_MS: positiveInt.max(3_600_000).default(60_000),
    REPORTING_FETCH_INTERVAL_MS: positiveInt.max(86_400_000).default(3_600_000),
    NODE_BASE_URL: urlWithProtocol(['http:', 'https:']).optional(),
    NODE_TIMEOUT_MS: positiveInt.max(120_000).default(10_000),
    CHECKOUT_BASE_URL: urlWithProtocol(['http:', 'https:']).optional(),
    NODE_REST_BASE_URL: urlWithProtocol(['http:', 'https:']).optional(),
    NODE_REST_HELPDESK_BASE_URL: urlWithProtocol(['http:', 'https:']).optional(),
    MYPAY_BASE_URL: urlWithProtocol(['http:', 'https:']).optional(),
    MYPAY_PUSH_JWT_SECRET: z.string().min(1).max(256).optional(),
    MYPAY_PUSH_JWT_ISSUER: z.string().min(1).max(256).optional(),
    MYPAY_PUSH_AUTH_DISABLED: booleanFlag.default(false),
    MYPAY_POLL_DELAY_MS: positiveInt.max(7 * 86_400_000).default(120_000),
    MYPAY_POLL_INTERVAL_MS: positiveInt.max(3_600_000).default(60_000),
    MYPAY_POLL_BATCH_SIZE: positiveInt.max(1_000).default(50),
    MYPAY_POLL_EXPIRY_MS: positiveInt.max(30 * 86_400_000).default(86_400_000),
    NODE_RETRY_ATTEMPTS_MAX: positiveInt.max(10).default(3),
    NODE_RETRY_BACKOFF_BASE_MS: positiveInt.max(60_000).default(200),
    NODE_CIRCUIT_FAILURES_MAX: positiveInt.max(1_000).default(5),
    NODE_CIRCUIT_OPEN_MS: positiveInt.max(3_600_000).default(30_000),
    NODE_TLS_CERT_FILE: z.string().min(1).optional(),
    NODE_TLS_KEY_FILE: z.string().min(1).optional(),
    NODE_TLS_CA_FILE: z.string().min(1).optional(),
    ERP_WEBHOOK_URL: urlWithProtocol(['http:', 'https:']).optional(),
    ERP_WEBHOOK_SECRET: z.string().min(1).max(256).optional(),
    WEBHOOK_ATTEMPTS_MAX: positiveInt.max(100).default(20),
    WEBHOOK_BACKOFF_BASE_MS: positiveInt.max(3_600_000).default(60_000),
    WEBHOOK_BACKOFF_MAX_MS: positiveInt.max(7 * 24 * 3_600_000).default(12 * 3_600_000),
    WEBHOOK_TIMEOUT_MS: positiveInt.max(60_000).default(5_000),
    WEBHOOK_POLL_INTERVAL_MS: positiveInt.max(60_000).default(1_000),
    WEBHOOK_BATCH_SIZE: positiveInt.max(500).default(50),
  })
  .superRefine((env, ctx) => {
    // Outbound client certificate: a certificate without its key (or the reverse) cannot work.
    if ((env.NODE_TLS_CERT_FILE === undefined) !== (env.NODE_TLS_KEY_FILE === undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: [env.NODE_TLS_CERT_FILE === undefined ? 'NODE_TLS_CERT_FILE' : 'NODE_TLS_KEY_FILE'],
        message: 'NODE_TLS_CERT_FILE and NODE_TLS_KEY_FILE go together',
      });
    }
    // In-process mTLS for the node's door: the three files go together, or none is given.
    const tlsFiles = ['SOAP_TLS_CERT_FILE', 'SOAP_TLS_KEY_FILE', 'SOAP_TLS_CA_FILE'] as const;
    const tlsGiven = tlsFiles.filter((key) => env[key] !== undefined);
    if (tlsGiven.length > 0 && tlsGiven.length < tlsFiles.length) {
      for (const key of tlsFiles.filter((k) => env[k] === undefined)) {
        ctx.addIssue({
          code: 'custom',
          path: [key],
          message: `is required with ${tlsGiven.join(' and ')} (in-process mTLS needs all three)`,
        });
      }
    }
    if (env.SOAP_TLS_CLIENT_SUBJECT !== undefined && tlsGiven.length === 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['SOAP_TLS_CLIENT_SUBJECT'],
        message: 'needs SOAP_TLS_CERT_FILE, SOAP_TLS_KEY_FILE and SOAP_TLS_CA_FILE',
      });
    }
    // Webhooks: an unsigned delivery is never made, and a production secret is not guessable.
    if (env.ERP_WEBHOOK_URL !== undefined && env.ERP_WEBHOOK_SECRET === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['ERP_WEBHOOK_SECRET'],
        message: 'is required when ERP_WEBHOOK_URL is set',
      });
    }
    if (
      env.NODE_ENV === 'production' &&
      env.ERP_WEBHOOK_SECRET !== undefined &&
      env.ERP_WEBHOOK_SECRET.length < 32
    ) {
      ctx.addIssue({
        code: 'custom',
        path: ['ERP_WEBHOOK_SECRET'],
        message: 'must be at least 32 characters when NODE_ENV=production',
      });
    }
    // MyPay's outcome push: signed, or explicitly unsigned, never both (which one would win?).
    if (env.MYPAY_PUSH_AUTH_DISABLED && env.MYPAY_PUSH_JWT_SECRET !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['MYPAY_PUSH_AUTH_DISABLED'],
        message: 'cannot be true while MYPAY_PUSH_JWT_SECRET is set',
      });
    }
    if (
      env.NODE_ENV === 'production' &&
      env.MYPAY_PUSH_JWT_SECRET !== undefined &&
      env.MYPAY_PUSH_JWT_SECRET.length < 32
    ) {
      ctx.addIssue({
        code: 'custom',
        path: ['MYPAY_PUSH_JWT_SECRET'],
        message: 'must be at least 32 characters when NODE_ENV=production',
      });
    }
    if (env.MYPAY_POLL_EXPIRY_MS < env.MYPAY_POLL_DELAY_MS) {
      ctx.addIssue({
        code: 'custom',
        path: ['MYPAY_POLL_EXPIRY_MS'],
        message: 'must be at least MYPAY_POLL_DELAY_MS',
      });
    }
    if (env.WEBHOOK_BACKOFF_MAX_MS < env.WEBHOOK_BACKOFF_BASE_MS) {
      ctx.addIssue({
        code: 'custom',
        path: ['WEBHOOK_BACKOFF_MAX_MS'],
        message: 'must be at least WEBHOOK_BACKOFF_BASE_MS',
      });
    }
    // In production nothing connects to a guessed address: credentials live in these URLs.
    if (env.NODE_ENV !== 'production') return;
    for (const key of ['DATABASE_URL', 'REDIS_URL', 'DOMAINS_FILE'] as const) {
      if (env[key] === undefined) {
        ctx.addIssue({
          code: 'custom',
          path: [key],
          message: 'is required when NODE_ENV=production',
        });
      }
    }
  });

/** The keys the service reads; the README's env table must list exactly these. */
export const ENV_KEYS: readonly string[] = Object.keys(EnvSchema.shape);

const DEMO_DATABASE_URL = 'mysql://root@127.0.0.1:3306/pagopa_adapter';
const DEMO_REDIS_URL = 'redis://127.0.0.1:6379';

export type Config = Readonly<{
  env: 'development' | 'test' | 'production';
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  databaseUrl: string;
  databasePoolMax: number;
  databaseMigrateOnStart: boolean;
  redisUrl: string;
  queuePrefix: string;
  httpPort: number;
  soapPort: number;
  simulatorPort: number;
  httpBindAddress: string;
  httpBodyLimitBytes: number;
  httpRequestTimeoutMs: number;
  healthCheckTimeoutMs: number;
  shutdownTimeoutMs: number;
  domainsFile: string;
  apiKeys: readonly ConfiguredApiKey[];
  apiPageSizeMax: number;
  soapBodyLimitBytes: number;
  /** How the node reaches the SOAP endpoints; written into the served WSDLs. */
  soapPublicUrl: string | undefined;
  /**
   * In-process mTLS on the SOAP port: server certificate and key, the CA that signs the node's
   * client certificates, and an optional text the client certificate's subject must contain.
   * Undefined: plain HTTP, with mTLS terminated by a reverse proxy.
   */
  soapTls:
    | Readonly<{
        certFile: string;
        keyFile: string;
        caFile: string;
        clientSubject: string | undefined;
      }>
    | undefined;
  receiptsFeedLagMs: number;
  reconcileAttemptsMax: number;
  reconcileBackoffBaseMs: number;
  /** Reconciliation jobs run at once per worker process. */
  reconcileConcurrency: number;
  sweeperIntervalMs: number;
  /** A RECEIVED receipt older than this is enqueued again by the sweeper. */
  sweeperAgeMs: number;
  /** A payment attempt without a receipt after this long is asked about upstream. */
  recoveryDelayMs: number;
  recoveryIntervalMs: number;
  /** How often the worker downloads new reporting flows (FdR) from the node. */
  reportingFetchIntervalMs: number;
  /** The node's NodoPerPa SOAP endpoint; undefined disables missing-receipt recovery. */
  nodeBaseUrl: string | undefined;
  nodeTimeoutMs: number;
  /** Checkout (`.../checkout/ec/v1/carts` is appended); pagopa dialect payments. */
  checkoutBaseUrl: string | undefined;
  /** pagoPA's biz-events receipt service (`.../organizations/{cf}/receipts/...` is appended). */
  nodeRestBaseUrl: string | undefined;
  /** pagoPA's biz-events Helpdesk API (`.../events/organizations/{cf}/iuvs/{iuv}` is appended). */
  nodeRestHelpdeskBaseUrl: string | undefined;
  /** MyPay's host (and prefix); the SIL path `/ws/pa/` comes from wsdl/mypay/pa-per-ente.wsdl. */
  mypayBaseUrl: string | undefined;
  /** HS256 key of the JWT on MyPay's outcome push; never logged. */
  mypayPushJwtSecret: string | undefined;
  /** When set, the push JWT's `iss` must equal it. */
  mypayPushJwtIssuer: string | undefined;
  /** Accept unsigned pushes even in production (a proxy authenticates MyPay instead). */
  mypayPushAuthDisabled: boolean;
  /** A PENDING MyPay attempt older than this is asked about with paaSILChiediPagati. */
  mypayPollDelayMs: number;
  mypayPollIntervalMs: number;
  mypayPollBatchSize: number;
  /** A MyPay session still not started this long after the attempt is closed NOT_PAID. */
  mypayPollExpiryMs: number;
  /** Attempts of an idempotent outbound read, the first included; writes are never retried. */
  nodeRetryAttemptsMax: number;
  nodeRetryBackoffBaseMs: number;
  /** Consecutive upstream failures that open an upstream's circuit, and for how long. */
  nodeCircuitFailuresMax: number;
  nodeCircuitOpenMs: number;
  /** Client certificate, key and CA for outbound calls; all undefined: the system's defaults. */
  nodeTls: Readonly<{ certFile?: string; keyFile?: string; caFile?: string }>;
  /** Where outbox events are POSTed; undefined leaves them PENDING (the ERP pages the feed). */
  erpWebhookUrl: string | undefined;
  /** HMAC key of the webhook signature; never logged. Set whenever `erpWebhookUrl` is. */
  erpWebhookSecret: string | undefined;
  webhookAttemptsMax: number;
  webhookBackoffBaseMs: number;
  webhookBackoffMaxMs: number;
  webhookTimeoutMs: number;
  webhookPollIntervalMs: number;
  webhookBatchSize: number;
}>;

/** A key configured in the environment: only its SHA-256 is known to the service. */
export type ConfiguredApiKey = Readonly<{
  name: string;
  roles: readonly ('erp' | 'operator')[];
  sha256: string;
}>;

const DEMO_DOMAINS_FILE = path.join(PACKAGE_ROOT, 'fixtures', 'domains.demo.json');

function parseApiKeys(value: string | undefined): ConfiguredApiKey[] {
  if (value === undefined) return [];
  return value.split(',').map((item) => {
    const [name = '', roles = '', sha256 = ''] = item.split(':');
    return { name, roles: roles.split('+') as ('erp' | 'operator')[], sha256 };
  });
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly problems: readonly { key: string; message: string }[]) {
    super(`invalid configuration: ${problems.map((p) => `${p.key} ${p.message}`).join('; ')}`);
  }
}

/**
 * Parses the environment into a typed Config.
 * @throws ConfigError listing every invalid key at once.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const raw: Record<string, string> = {};
  for (const key of ENV_KEYS) {
    const value = env[key];
    // An empty variable is treated as unset, as shells and compose files often leave them.
    if (value !== undefined && value !== '') raw[key] = value;
  }
  const parsed = EnvSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => ({
      key: issue.path.map(String).join('.') || '(env)',
      message: issue.message,
    }));
    throw new ConfigError(problems);
  }
  const e = parsed.data;
  return {
    env: e.NODE_ENV,
    logLevel: e.LOG_LEVEL,
    databaseUrl: e.DATABASE_URL ?? DEMO_DATABASE_URL,
    databasePoolMax: e.DATABASE_POOL_MAX,
    databaseMigrateOnStart: e.DATABASE_MIGRATE_ON_START,
    redisUrl: e.REDIS_URL ?? DEMO_REDIS_URL,
    queuePrefix: e.QUEUE_PREFIX,
    httpPort: e.HTTP_PORT,
    soapPort: e.SOAP_PORT,
    simulatorPort: e.SIMULATOR_PORT,
    httpBindAddress: e.HTTP_BIND_ADDRESS,
    httpBodyLimitBytes: e.HTTP_BODY_LIMIT_BYTES,
    httpRequestTimeoutMs: e.HTTP_REQUEST_TIMEOUT_MS,
    healthCheckTimeoutMs: e.HEALTH_CHECK_TIMEOUT_MS,
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
    domainsFile: e.DOMAINS_FILE ?? DEMO_DOMAINS_FILE,
    apiKeys: parseApiKeys(e.API_KEYS),
    apiPageSizeMax: e.API_PAGE_SIZE_MAX,
    soapBodyLimitBytes: e.SOAP_BODY_LIMIT_BYTES,
    soapPublicUrl: e.SOAP_PUBLIC_URL,
    soapTls:
      e.SOAP_TLS_CERT_FILE !== undefined &&
      e.SOAP_TLS_KEY_FILE !== undefined &&
      e.SOAP_TLS_CA_FILE !== undefined
        ? {
            certFile: e.SOAP_TLS_CERT_FILE,
            keyFile: e.SOAP_TLS_KEY_FILE,
            caFile: e.SOAP_TLS_CA_FILE,
            clientSubject: e.SOAP_TLS_CLIENT_SUBJECT,
          }
        : undefined,
    receiptsFeedLagMs: e.RECEIPTS_FEED_LAG_MS,
    reconcileAttemptsMax: e.RECONCILE_ATTEMPTS_MAX,
    reconcileBackoffBaseMs: e.RECONCILE_BACKOFF_BASE_MS,
    reconcileConcurrency: e.RECONCILE_CONCURRENCY,
    sweeperIntervalMs: e.SWEEPER_INTERVAL_MS,
    sweeperAgeMs: e.SWEEPER_AGE_MS,
    recoveryDelayMs: e.RECOVERY_DELAY_MS,
    recoveryIntervalMs: e.RECOVERY_INTERVAL_MS,
    reportingFetchIntervalMs: e.REPORTING_FETCH_INTERVAL_MS,
    nodeBaseUrl: e.NODE_BASE_URL,
    nodeTimeoutMs: e.NODE_TIMEOUT_MS,
    checkoutBaseUrl: e.CHECKOUT_BASE_URL,
    nodeRestBaseUrl: e.NODE_REST_BASE_URL,
    nodeRestHelpdeskBaseUrl: e.NODE_REST_HELPDESK_BASE_URL,
    mypayBaseUrl: e.MYPAY_BASE_URL,
    mypayPushJwtSecret: e.MYPAY_PUSH_JWT_SECRET,
    mypayPushJwtIssuer: e.MYPAY_PUSH_JWT_ISSUER,
    mypayPushAuthDisabled: e.MYPAY_PUSH_AUTH_DISABLED,
    mypayPollDelayMs: e.MYPAY_POLL_DELAY_MS,
    mypayPollIntervalMs: e.MYPAY_POLL_INTERVAL_MS,
    mypayPollBatchSize: e.MYPAY_POLL_BATCH_SIZE,
    mypayPollExpiryMs: e.MYPAY_POLL_EXPIRY_MS,
    nodeRetryAttemptsMax: e.NODE_RETRY_ATTEMPTS_MAX,
    nodeRetryBackoffBaseMs: e.NODE_RETRY_BACKOFF_BASE_MS,
    nodeCircuitFailuresMax: e.NODE_CIRCUIT_FAILURES_MAX,
    nodeCircuitOpenMs: e.NODE_CIRCUIT_OPEN_MS,
    nodeTls: {
      ...(e.NODE_TLS_CERT_FILE === undefined ? {} : { certFile: e.NODE_TLS_CERT_FILE }),
      ...(e.NODE_TLS_KEY_FILE === undefined ? {} : { keyFile: e.NODE_TLS_KEY_FILE }),
      ...(e.NODE_TLS_CA_FILE === undefined ? {} : { caFile: e.NODE_TLS_CA_FILE }),
    },
    erpWebhookUrl: e.ERP_WEBHOOK_URL,
    erpWebhookSecret: e.ERP_WEBHOOK_SECRET,
    webhookAttemptsMax: e.WEBHOOK_ATTEMPTS_MAX,
    webhookBackoffBaseMs: e.WEBHOOK_BACKOFF_BASE_MS,
    webhookBackoffMaxMs: e.WEBHOOK_BACKOFF_MAX_MS,
    webhookTimeoutMs: e.WEBHOOK_TIMEOUT_MS,
    webhookPollIntervalMs: e.WEBHOOK_POLL_INTERVAL_MS,
    webhookBatchSize: e.WEBHOOK_BATCH_SIZE,
  };
}
