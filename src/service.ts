import { Histogram } from 'prom-client';
import fs from 'node:fs';
import type { Queue } from 'bullmq';
import type { Express } from 'express';
import type { Config } from './shared/config';
import type { Logger } from './shared/logger';
import type { Lifecycle } from './shared/lifecycle';
import { createMetrics, type Metrics } from './shared/metrics';
import { loadDomains, type DomainConfig } from './shared/domains-config';
import { WsdlCatalog } from './adapters/node-client';
import { withPlaceholderSecrets } from './adapters/online-payments';
import { createDb, ensureDatabase, migrateLatest, type Db } from './data-access/db';
import { closeRedis, createRedis, waitUntilReady } from './adapters/redis';
import { createQueue, QUEUES } from './adapters/queues';
import { createHttpApp } from './entry-points/http/app';
import { listen, type FrontHandler, type MutualTls } from './entry-points/http/server';
import { requireClientSubject } from './entry-points/soap/client-certificate';
import { mariadbCheck, redisCheck, type DependencyCheck } from './entry-points/http/health';
import { mountApi } from './entry-points/http/api';
import type { RouteSpec } from './entry-points/http/api/route';
import { soapOperations } from './entry-points/soap';
import { mountSoap, WSDL_DIR } from './entry-points/soap/soap-server';
import { startWorkers, type WorkerDefinition } from './entry-points/worker/start-workers';
import { receiptIntakeDeps } from './entry-points/soap/handlers/pa-send-rt';
import { reconcileProcessor } from './entry-points/worker/reconcile-processor';
import { startRecoveryScheduler } from './entry-points/worker/recovery-scheduler';
import {
  activatedRptSenders,
  startActivatedRptSender,
} from './entry-points/worker/activated-rpt-sender';
import { myPaySources, startMyPayPoller } from './entry-points/worker/mypay-poller';
import { MYPAY_OUTCOMES_PATH, mountMyPayOutcomes } from './entry-points/soap/mypay-outcomes';
import type { Domains } from './shared/domains-config';
import {
  reportingFlowSources,
  startReportingFetcher,
} from './entry-points/worker/reporting-fetcher';
import { startSweeper } from './entry-points/worker/sweeper';
import { billingWorkerDefinition } from './entry-points/worker/billing-processor';
import {
  startWebhookDispatcher,
  webhookDispatcherDeps,
} from './entry-points/worker/webhook-dispatcher';
import { mountSimulator } from './simulator';
import { ensureDemoCards } from './simulator/demo-data';
import { BIZEVENTS_HELPDESK_PATH, BIZEVENTS_SERVICE_PATH } from './simulator/bizevents';

export const ROLES = ['all', 'api', 'soap', 'worker', 'simulator'] as const;
export type Role = (typeof ROLES)[number];

export type RunningService = {
  /** Bound ports by server (`internal`: health and metrics of a process without the API); 0 in the config picks a free port (tests). */
  ports: { api?: number; soap?: number; simulator?: number; internal?: number };
  db?: Db;
  metrics: Metrics;
  /** The API routes mounted (for the OpenAPI and auth sweep tests). */
  routes: readonly RouteSpec[];
  /** The demo cards registered at start (role all, NODE_ENV=development). */
  demoCardCodes?: string[];
};

const REDIS_READY_WAIT_MS = 3_000;

const has = (role: Role, part: Exclude<Role, 'all'>): boolean => role === 'all' || role === part;

/**
 * Wires the service for a role. Everything opened is registered with `lifecycle` as soon as it
 * exists, in the order that makes reverse-order shutdown right: database, Redis, queues, workers,
 * then the HTTP servers (which therefore stop first).
 */
export async function startService(
  config: Config,
  role: Role,
  logger: Logger,
  lifecycle: Lifecycle,
): Promise<RunningService> {
  const metrics = createMetrics();
  const running: RunningService = { ports: {}, metrics, routes: [] };
  // Read before anything connects: a broken domains file must stop the start at once.
  const domains = loadDomains(config.domainsFile);
  const soapTls = has(role, 'soap') ? readSoapTls(config) : undefined;
  const mypayPushAuth = has(role, 'soap') ? myPayPushAuth(config, domains, logger) : undefined;

  const startServer = async (
    name: 'api' | 'soap' | 'simulator' | 'internal',
    port: number,
    checks: readonly DependencyCheck[],
    mount?: (app: Express) => void,
    tls?: MutualTls,
    mountFirst?: (app: Express) => void,
    front?: { handler?: FrontHandler },
  ): Promise<void> => {
    const app = createHttpApp({
      server: name,
      logger,
      metrics,
      readinessChecks: checks,
      healthCheckTimeoutMs: config.healthCheckTimeoutMs,
      bodyLimitBytes: config.httpBodyLimitBytes,
      ...(mount === undefined ? {} : { mount }),
      ...(mountFirst === undefined ? {} : { mountFirst }),
    });
    const server = await listen(
      app,
      port,
      config.httpBindAddress,
      config.httpRequestTimeoutMs,
      tls,
      front?.handler,
    );
    lifecycle.add(`http:${name}`, server.stop);
    running.ports[name] = server.port;
    logger.info({ server: name, port: server.port }, 'listening');
  };

  // The simulator calls the adapter's paForNode door; in `all` it is this process's SOAP port.
  const startSimulator = async (): Promise<void> => {
    const soapUrl =
      config.soapPublicUrl ?? `http://127.0.0.1:${running.ports.soap ?? config.soapPort}`;
    await startServer('simulator', config.simulatorPort, [], (app) => {
      mountSimulator(app, {
        domains,
        logger,
        adapterSoapBaseUrl: soapUrl,
        timeoutMs: config.nodeTimeoutMs,
        mypayPush: {
          url: soapUrl + MYPAY_OUTCOMES_PATH,
          ...(config.mypayPushJwtSecret === undefined ? {} : { secret: config.mypayPushJwtSecret }),
          ...(config.mypayPushJwtIssuer === undefined ? {} : { issuer: config.mypayPushJwtIssuer }),
        },
      });
    });
  };

  if (role !== 'simulator') {
    if (config.databaseMigrateOnStart) await ensureDatabase(config.databaseUrl);
    const db = createDb({ url: config.databaseUrl, poolMax: config.databasePoolMax, logger });
    running.db = db;
    lifecycle.add('mariadb', () => db.destroy());
    if (config.databaseMigrateOnStart) {
      const applied = await migrateLatest(db);
      if (applied.length > 0) logger.info({ applied }, 'migrations applied');
    }

    const redis = createRedis(config.redisUrl, 'producer', role);
    redis.on('error', (err) =>
      logger.warn({ err: err.message }, 'redis producer connection error'),
    );
    lifecycle.add('redis', () => closeRedis(redis));
    // Give Redis a moment so a healthy start reports ready at once; an outage does not block start.
    if (!(await waitUntilReady(redis, REDIS_READY_WAIT_MS))) {
      logger.warn({ waitedMs: REDIS_READY_WAIT_MS }, 'redis not reachable yet; starting anyway');
    }
    const checks = [mariadbCheck(db), redisCheck(redis)];
    // Started once MyPay's address is known (in `all`, the embedded simulator's, started later).

    const queueOptions = {
      prefix: config.queuePrefix,
      attempts: config.reconcileAttemptsMax,
      backoffDelayMs: config.reconcileBackoffBaseMs,
    };
    const reconcileQueue: Queue = createQueue(QUEUES.reconcile, redis, queueOptions, (err) =>
      logger.warn({ err: err.message, queue: QUEUES.reconcile }, 'queue error'),
    );
    lifecycle.add('queue:reconcile', () => reconcileQueue.close());
    const billingQueue: Queue = createQueue(QUEUES.billing, redis, queueOptions, (err) =>
      logger.warn({ err: err.message, queue: QUEUES.billing }, 'queue error'),
    );
    lifecycle.add('queue:billing', () => billingQueue.close());

    if (has(role, 'worker')) {
      const workerRedis = createRedis(config.redisUrl, 'worker', 'worker');
      workerRedis.on('error', (err) =>
        logger.warn({ err: err.message }, 'redis worker connection error'),
      );
      lifecycle.add('redis-worker', () => closeRedis(workerRedis));
      // Processors are registered by the features that own a queue (receipts, webhooks, recovery).
      const definitions: WorkerDefinition[] = [billingWorkerDefinition({ db, domains, logger })];
      definitions.push({
        queueName: QUEUES.reconcile,
        processor: reconcileProcessor({ db, logger }),
        concurrency: config.reconcileConcurrency,
      });
      startWorkers({
        definitions,
        connection: workerRedis,
        prefix: config.queuePrefix,
        logger,
        lifecycle,
      });
      // Registered after the workers, so it stops first; its stop waits for deliveries in flight.
      lifecycle.add('webhooks', startWebhookDispatcher(webhookDispatcherDeps(config, db, logger)));
      // Receipts stuck in RECEIVED (Redis was down at intake) are enqueued again.
      lifecycle.add(
        'sweeper',
        startSweeper({
          db,
          queue: reconcileQueue,
          logger,
          intervalMs: config.sweeperIntervalMs,
          ageMs: config.sweeperAgeMs,
        }),
      );
      lifecycle.add(
        'reporting-fetch',
        startReportingFetcher({
          db,
          logger,
          sources: reportingFlowSources(domains, config, { registry: metrics.registry, logger }),
          intervalMs: config.reportingFetchIntervalMs,
        }),
      );
    }

    if (has(role, 'soap')) {
      const intakeBatches = new Histogram({
        name: 'receipt_intake_batch_size',
        help: 'Receipts per batched intake step (links: option lookups, insert, enqueue)',
        labelNames: ['step'],
        buckets: [1, 2, 4, 8, 16, 32, 64],
        registers: [metrics.registry],
      });
      const intake = receiptIntakeDeps(
        { db, domains, config, logger, reconcileQueue },
        (step, size) => intakeBatches.observe({ step }, size),
      );
      const operations = soapOperations({ db, domains, config, logger, reconcileQueue, intake });
      const scheme = soapTls === undefined ? 'http' : 'https';
      const publicUrl = config.soapPublicUrl ?? `${scheme}://127.0.0.1:${config.soapPort}`;
      const clientSubject = config.soapTls?.clientSubject;
      const mypayDomains = domains.all.some((d) => d.dialect === 'mypay');
      // The doors' fast path, filled in when the doors are mounted; with a client-certificate
      // subject to check, every request goes through express and its middleware instead.
      const front: { handler?: FrontHandler } = {};
      await startServer(
        'soap',
        config.soapPort,
        checks,
        (app) => {
          if (clientSubject !== undefined) app.use(requireClientSubject(clientSubject));
          const fastPath = mountSoap(app, {
            operations,
            logger,
            metrics,
            bodyLimitBytes: config.soapBodyLimitBytes,
            wsdlDir: WSDL_DIR,
            publicUrl,
            defaultFaultId: domains.resolve(undefined)?.fiscalCode ?? 'unknown',
          });
          if (clientSubject === undefined) front.handler = fastPath;
        },
        soapTls,
        // MyPay's outcome push reads its own body (own limit) and is authenticated by its JWT,
        // not by the node's certificate subject: it is mounted before both. With in-process
        // mTLS the handshake still wants a client certificate signed by SOAP_TLS_CA_FILE.
        mypayDomains
          ? (app) => mountMyPayOutcomes(app, { domains, intake, auth: mypayPushAuth })
          : undefined,
        front,
      );
    }
    let apiConfig = config;
    let embeddedNode = false;
    if (role === 'all') {
      await startSimulator();
      // The demo: carts, RPTs and MyPay dues go to the embedded simulator unless the base URLs
      // say otherwise.
      if (config.env !== 'production') {
        const upstreams = simulatorUpstreams(`http://127.0.0.1:${running.ports.simulator}`);
        embeddedNode = config.nodeBaseUrl === undefined;
        apiConfig = {
          ...config,
          checkoutBaseUrl: config.checkoutBaseUrl ?? upstreams.checkoutBaseUrl,
          nodeBaseUrl: config.nodeBaseUrl ?? upstreams.nodeBaseUrl,
          mypayBaseUrl: config.mypayBaseUrl ?? upstreams.mypayBaseUrl,
          nodeRestBaseUrl: config.nodeRestBaseUrl ?? upstreams.nodeRestBaseUrl,
          nodeRestHelpdeskBaseUrl:
            config.nodeRestHelpdeskBaseUrl ?? upstreams.nodeRestHelpdeskBaseUrl,
        };
      }
      // Tests run `all` too (NODE_ENV=test) and bring their own cards.
      if (config.env === 'development') {
        running.demoCardCodes = await ensureDemoCards(db, domains, logger);
      }
    }
    if (has(role, 'worker')) {
      // After the simulator: in the demo the node it asks is the embedded one. Registered after
      // the SOAP and simulator servers, so it stops before them; its stop waits for a run in
      // progress.
      lifecycle.add(
        'receipt-recovery',
        startRecoveryScheduler({
          db,
          logger,
          domains,
          intake: receiptIntakeDeps({ db, domains, config, logger, reconcileQueue }),
          nodeBaseUrl: apiConfig.nodeBaseUrl,
          nodeTimeoutMs: config.nodeTimeoutMs,
          client: { settings: apiConfig, registry: metrics.registry },
          delayMs: config.recoveryDelayMs,
          intervalMs: config.recoveryIntervalMs,
          // The embedded simulator checks no password: placeholders for those not set.
          ...(embeddedNode
            ? { envFor: (d: DomainConfig) => withPlaceholderSecrets(d, process.env, false) }
            : {}),
        }),
      );
      // Old model 3: the RPTs owed after paaAttivaRPT, to the node (the embedded one in the demo).
      lifecycle.add(
        'activated-rpt-send',
        startActivatedRptSender({
          db,
          logger,
          domains,
          senders: activatedRptSenders(domains, apiConfig, {
            registry: metrics.registry,
            logger,
            ...(embeddedNode
              ? { envFor: (d: DomainConfig) => withPlaceholderSecrets(d, process.env, false) }
              : {}),
          }),
        }),
      );
      lifecycle.add(
        'mypay-poll',
        startMyPayPoller({
          db,
          logger,
          intake: receiptIntakeDeps({ db, domains, config, logger, reconcileQueue }),
          sources: myPaySources(domains, apiConfig, { registry: metrics.registry, logger }),
          delayMs: config.mypayPollDelayMs,
          intervalMs: config.mypayPollIntervalMs,
          batchSize: config.mypayPollBatchSize,
          expiryMs: config.mypayPollExpiryMs,
        }),
      );
    }
    if (has(role, 'api')) {
      await startServer('api', config.httpPort, checks, (app) => {
        running.routes = mountApi(app, {
          db,
          domains,
          config: apiConfig,
          logger,
          billingQueue,
          reconcileQueue,
          registry: metrics.registry,
        });
      });
    } else if (has(role, 'soap') || has(role, 'worker')) {
      // A process without the API still answers /health/live, /health/ready and /metrics on
      // HTTP_PORT: the image's HEALTHCHECK probes that port for every role, and Prometheus
      // scrapes the worker's queues and outbound calls there.
      await startServer('internal', config.httpPort, checks);
    }
  }

  if (role === 'simulator') await startSimulator();
  return running;
}

/**
 * The embedded simulator's upstream URLs: Checkout, the NodoPerPa endpoint (given whole, as
 * NODE_BASE_URL historically is: recovery posts to it as is, the RPT client cuts it back) and
 * MyPay's SIL base.
 */
function simulatorUpstreams(base: string): {
  checkoutBaseUrl: string;
  nodeBaseUrl: string;
  mypayBaseUrl: string;
  nodeRestBaseUrl: string;
  nodeRestHelpdeskBaseUrl: string;
} {
  const wsdl = WsdlCatalog.load(WSDL_DIR);
  return {
    checkoutBaseUrl: base,
    nodeBaseUrl: base + wsdl.operation('nodoPerPa', 'nodoInviaRPT').endpointPath,
    mypayBaseUrl: base,
    nodeRestBaseUrl: base + BIZEVENTS_SERVICE_PATH,
    nodeRestHelpdeskBaseUrl: base + BIZEVENTS_HELPDESK_PATH,
  };
}

/**
 * The SOAP port's certificate, key and client CA, read at start so that a missing or unreadable
 * file stops the process before anything listens. Undefined without SOAP_TLS_* (plain HTTP
 * behind a reverse proxy that terminates mTLS).
 */
function readSoapTls(config: Config): MutualTls | undefined {
  const files = config.soapTls;
  if (files === undefined) return undefined;
  const read = (key: string, file: string): Buffer => {
    try {
      return fs.readFileSync(file);
    } catch (err) {
      throw new Error(`${key}: cannot read ${file}: ${(err as Error).message}`, { cause: err });
    }
  };
  return {
    cert: read('SOAP_TLS_CERT_FILE', files.certFile),
    key: read('SOAP_TLS_KEY_FILE', files.keyFile),
    ca: read('SOAP_TLS_CA_FILE', files.caFile),
  };
}

/**
 * How MyPay's outcome push is authenticated: the JWT secret when set. Without one, pushes are
 * accepted unsigned, with a warning, outside production; in production only when the operator
 * said so (MYPAY_PUSH_AUTH_DISABLED: a proxy in front authenticates MyPay). Domains without a
 * `mypay` dialect mount no push endpoint, so they need neither.
 * @throws Error in production with `mypay` domains, no secret, and no explicit opt-out.
 */
function myPayPushAuth(
  config: Config,
  domains: Domains,
  logger: Logger,
): { secret: string; issuer?: string } | undefined {
  if (config.mypayPushJwtSecret !== undefined) {
    return {
      secret: config.mypayPushJwtSecret,
      ...(config.mypayPushJwtIssuer === undefined ? {} : { issuer: config.mypayPushJwtIssuer }),
    };
  }
  if (!domains.all.some((d) => d.dialect === 'mypay')) return undefined;
  if (config.mypayPushAuthDisabled) {
    logger.warn({}, 'MYPAY_PUSH_AUTH_DISABLED: MyPay outcome pushes are accepted unsigned');
    return undefined;
  }
  if (config.env === 'production') {
    throw new Error(
      'MYPAY_PUSH_JWT_SECRET is required with mypay domains when NODE_ENV=production ' +
        '(or MYPAY_PUSH_AUTH_DISABLED=true when a proxy authenticates MyPay)',
    );
  }
  logger.warn(
    {},
    'MYPAY_PUSH_JWT_SECRET not set: MyPay outcome pushes are accepted unsigned (not in production)',
  );
  return undefined;
}
