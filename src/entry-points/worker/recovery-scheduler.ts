import type { Registry } from 'prom-client';
import {
  createNodeClient,
  createNodeTransport,
  NodeClientConfigError,
  PagopaNodeClient,
  type NodeClientSettings,
} from '../../adapters/node-client';
import { pagopaReceiptSource } from '../../adapters/node-client/pagopa-recovery';
import { rtReceiptSource } from '../../adapters/node-client/rt-recovery';
import { WsdlCatalog } from '../../adapters/node-client/wsdl-catalog';
import type { Db } from '../../data-access/db';
import { claimPendingAttempts } from '../../data-access/reconcile-repository';
import type { AcceptReceiptDeps } from '../../domain/receipts/accept-receipt';
import type { ReceiptSource } from '../../domain/recovery/receipt-source';
import {
  recoverMissingReceipts,
  type RecoverDeps,
  type RecoveryRun,
} from '../../domain/recovery/recover-receipts';
import type { DomainConfig, Domains } from '../../shared/domains-config';
import type { Logger } from '../../shared/logger';
import { WSDL_DIR } from '../soap/soap-server';

/**
 * Runs missing-receipt recovery every `intervalMs` (see domain/recovery/recover-receipts.ts).
 *
 * Sources by dialect: RT-model domains (`rpt`) ask the node with nodoChiediCopiaRT /
 * nodoChiediStatoRPT (NODE_BASE_URL). New-model domains (`pagopa`) ask pagoPA's biz-events
 * through the node client (NODE_REST_HELPDESK_BASE_URL finds the receipt id of the IUV,
 * NODE_REST_BASE_URL gives the receipt; adapters/node-client/pagopa-recovery.ts), with the
 * client's retries and circuit breaker. A domain whose upstream offers no receipt lookup (MyPay:
 * its own poller asks paaSILChiediPagati) or that lacks the configuration has no source: its
 * attempts are counted `unsupported`. Without any source recovery does not start.
 */

export type RecoverySchedulerDeps = {
  db: Db;
  logger: Logger;
  domains: Domains;
  intake: AcceptReceiptDeps;
  nodeBaseUrl: string | undefined;
  nodeTimeoutMs: number;
  /** The outbound client's settings and metrics registry, for the `pagopa` sources. */
  client?: { settings: NodeClientSettings; registry: Registry };
  delayMs: number;
  intervalMs: number;
  batchSize?: number;
  /** Overrides the sources built from the domains (tests). */
  sources?: ReadonlyMap<string, ReceiptSource>;
  /** Where a domain's secrets are read (default process.env); the demo fills in placeholders. */
  envFor?: (domain: DomainConfig) => NodeJS.ProcessEnv;
};

const BATCH_SIZE = 100;

/** The receipt source of every domain that has one, by fiscal code. */
export function receiptSources(
  deps: Pick<
    RecoverySchedulerDeps,
    'domains' | 'logger' | 'nodeBaseUrl' | 'nodeTimeoutMs' | 'client' | 'envFor'
  >,
): Map<string, ReceiptSource> {
  const sources = new Map<string, ReceiptSource>();
  const { nodeBaseUrl, client, envFor } = deps;
  const bizEvents =
    client !== undefined &&
    client.settings.nodeRestBaseUrl !== undefined &&
    client.settings.nodeRestHelpdeskBaseUrl !== undefined;
  // One transport for every pagopa domain: one circuit breaker per biz-events base URL.
  const transport = bizEvents
    ? createNodeTransport(client.settings, { registry: client.registry, logger: deps.logger })
    : undefined;
  let wsdl: WsdlCatalog | undefined;
  for (const domain of deps.domains.all) {
    if (domain.dialect === 'rpt' && nodeBaseUrl !== undefined) {
      sources.set(
        domain.fiscalCode,
        rtReceiptSource({
          url: nodeBaseUrl,
          timeoutMs: deps.nodeTimeoutMs,
          domain,
          ...(envFor === undefined ? {} : { env: envFor(domain) }),
        }),
      );
    }
    if (domain.dialect === 'pagopa' && client !== undefined && transport !== undefined) {
      wsdl ??= WsdlCatalog.load(WSDL_DIR);
      try {
        const nodeClient = createNodeClient(domain, {
          settings: client.settings,
          transport,
          wsdl,
          ...(envFor === undefined ? {} : { env: envFor(domain) }),
        });
        if (nodeClient instanceof PagopaNodeClient) {
          sources.set(domain.fiscalCode, pagopaReceiptSource({ client: nodeClient, domain }));
        }
      } catch (err) {
        if (!(err instanceof NodeClientConfigError)) throw err;
        deps.logger.warn(
          { domain: domain.fiscalCode, err: err.message },
          'no missing-receipt recovery for this domain',
        );
      }
    }
  }
  return sources;
}

/** One recovery run (exported for tests and a future CLI). */
export function recoverOnce(deps: RecoverySchedulerDeps): Promise<RecoveryRun> {
  const sources = deps.sources ?? receiptSources(deps);
  const recoverDeps: RecoverDeps = {
    claim: (limit) => claimPendingAttempts(deps.db, { delayMs: deps.delayMs, limit }),
    sourceFor: (domainId) => sources.get(domainId),
    intake: deps.intake,
    log: deps.logger,
  };
  return recoverMissingReceipts(recoverDeps, deps.batchSize ?? BATCH_SIZE);
}

/** Starts the loop; the returned stop waits for a run in progress. */
export function startRecoveryScheduler(deps: RecoverySchedulerDeps): () => Promise<void> {
  const sources = deps.sources ?? receiptSources(deps);
  if (sources.size === 0) {
    deps.logger.info(
      {},
      'no receipt source (NODE_BASE_URL for rpt domains; NODE_REST_BASE_URL and NODE_REST_HELPDESK_BASE_URL for pagopa domains): missing-receipt recovery is off',
    );
    return () => Promise.resolve();
  }
  const fixed: RecoverySchedulerDeps = { ...deps, sources };
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  const tick = (): void => {
    running = recoverOnce(fixed)
      .then((run) => {
        if (run.asked + run.unsupported > 0) deps.logger.info({ ...run }, 'receipt recovery run');
      })
      .catch((err: unknown) => {
        deps.logger.warn(
          { err: err instanceof Error ? err.message : String(err) },
          'receipt recovery run failed',
        );
      })
      .finally(() => {
        running = undefined;
        if (!stopped) timer = setTimeout(tick, deps.intervalMs);
      });
  };
  timer = setTimeout(tick, deps.intervalMs);
  return async () => {
    stopped = true;
    clearTimeout(timer);
    await running;
  };
}
