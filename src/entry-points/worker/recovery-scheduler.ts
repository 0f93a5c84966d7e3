import { rtReceiptSource } from '../../adapters/node-client/rt-recovery';
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

/**
 * Runs missing-receipt recovery every `intervalMs` (see domain/recovery/recover-receipts.ts).
 *
 * Sources by dialect: RT-model domains (`rpt`) ask the node with nodoChiediCopiaRT /
 * nodoChiediStatoRPT. New-model domains (`pagopa`) need the receipt lookups of the node client
 * (a later piece of work): until it is wired, their attempts are counted as `unsupported` and
 * nothing is asked. Without NODE_BASE_URL recovery does not start at all.
 */

export type RecoverySchedulerDeps = {
  db: Db;
  logger: Logger;
  domains: Domains;
  intake: AcceptReceiptDeps;
  nodeBaseUrl: string | undefined;
  nodeTimeoutMs: number;
  delayMs: number;
  intervalMs: number;
  batchSize?: number;
  /** Overrides the sources built from the domains (tests). */
  sources?: ReadonlyMap<string, ReceiptSource>;
  /** Where a domain's station password is read (default process.env; the demo fills placeholders). */
  envFor?: (domain: DomainConfig) => NodeJS.ProcessEnv;
};

const BATCH_SIZE = 100;

/** The receipt source of every domain that has one, by fiscal code. */
export function receiptSources(
  domains: Domains,
  nodeBaseUrl: string,
  timeoutMs: number,
  envFor?: (domain: DomainConfig) => NodeJS.ProcessEnv,
): Map<string, ReceiptSource> {
  const sources = new Map<string, ReceiptSource>();
  for (const domain of domains.all) {
    if (domain.dialect === 'rpt') {
      sources.set(
        domain.fiscalCode,
        rtReceiptSource({
          url: nodeBaseUrl,
          timeoutMs,
          domain,
          ...(envFor === undefined ? {} : { env: envFor(domain) }),
        }),
      );
    }
  }
  return sources;
}

/** One recovery run (exported for tests and a future CLI). */
export function recoverOnce(deps: RecoverySchedulerDeps): Promise<RecoveryRun> {
  const sources =
    deps.sources ??
    (deps.nodeBaseUrl === undefined
      ? new Map<string, ReceiptSource>()
      : receiptSources(deps.domains, deps.nodeBaseUrl, deps.nodeTimeoutMs, deps.envFor));
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
  if (deps.nodeBaseUrl === undefined && deps.sources === undefined) {
    deps.logger.info({}, 'NODE_BASE_URL not set: missing-receipt recovery is off');
    return () => Promise.resolve();
  }
  const fixed: RecoverySchedulerDeps = {
    ...deps,
    sources:
      deps.sources ??
      receiptSources(deps.domains, deps.nodeBaseUrl ?? '', deps.nodeTimeoutMs, deps.envFor),
  };
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
