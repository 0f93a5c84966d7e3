import type { Registry } from 'prom-client';
import {
  createNodeClient,
  createNodeTransport,
  MyPayNodeClient,
  NodeClientConfigError,
  WsdlCatalog,
  type NodeClientSettings,
} from '../../adapters/node-client';
import { myPayOutcomeSource } from '../../adapters/mypay/outcome-source';
import type { Db } from '../../data-access/db';
import { claimMyPayAttempts, closeMyPayAttempt } from '../../data-access/mypay-attempts-repository';
import type { AcceptReceiptDeps } from '../../domain/receipts/accept-receipt';
import {
  pollMyPayOutcomes,
  type MyPayOutcomeSource,
  type MyPayPollRun,
} from '../../domain/recovery/mypay-outcomes';
import type { Domains } from '../../shared/domains-config';
import type { Logger } from '../../shared/logger';
import { WSDL_DIR } from '../soap/soap-server';

/**
 * Runs the MyPay poll every `intervalMs` (see domain/recovery/mypay-outcomes.ts): PENDING MyPay
 * attempts older than `delayMs` are asked about with paaSILChiediPagati, `batchSize` per run and
 * worker. Several workers share the work through the claim (SKIP LOCKED). Without a `mypay`
 * domain that has a client (MYPAY_BASE_URL, mypayIpaCode) the poll does not start.
 */

export type MyPayPollerDeps = {
  db: Db;
  logger: Logger;
  intake: AcceptReceiptDeps;
  /** The MyPay source of every domain that has one, by fiscal code. */
  sources: ReadonlyMap<string, MyPayOutcomeSource>;
  delayMs: number;
  intervalMs: number;
  batchSize: number;
  expiryMs: number;
};

/** The MyPay source of every `mypay` domain whose client can be built. */
export function myPaySources(
  domains: Domains,
  settings: NodeClientSettings,
  deps: { registry: Registry; logger: Logger },
): Map<string, MyPayOutcomeSource> {
  const sources = new Map<string, MyPayOutcomeSource>();
  const mypay = domains.all.filter((d) => d.dialect === 'mypay');
  if (mypay.length === 0) return sources;
  const transport = createNodeTransport(settings, deps);
  const wsdl = WsdlCatalog.load(WSDL_DIR);
  for (const domain of mypay) {
    try {
      const client = createNodeClient(domain, { settings, transport, wsdl });
      if (client instanceof MyPayNodeClient) {
        sources.set(domain.fiscalCode, myPayOutcomeSource(client, domain));
      }
    } catch (err) {
      if (!(err instanceof NodeClientConfigError)) throw err;
      deps.logger.warn({ domain: domain.fiscalCode, err: err.message }, 'no mypay outcome poll');
    }
  }
  return sources;
}

/** One poll run (exported for tests and a future CLI). */
export function pollMyPayOnce(deps: MyPayPollerDeps): Promise<MyPayPollRun> {
  return pollMyPayOutcomes(
    {
      claim: (limit) => claimMyPayAttempts(deps.db, { delayMs: deps.delayMs, limit }),
      sourceFor: (domainId) => deps.sources.get(domainId),
      intake: deps.intake,
      close: (attemptId, status) => closeMyPayAttempt(deps.db, attemptId, status),
      expiryMs: deps.expiryMs,
      now: () => new Date(),
      log: deps.logger,
    },
    deps.batchSize,
  );
}

/** Starts the loop; the returned stop waits for a run in progress. */
export function startMyPayPoller(deps: MyPayPollerDeps): () => Promise<void> {
  if (deps.sources.size === 0) {
    deps.logger.info({}, 'no mypay domain with a client: the MyPay outcome poll is off');
    return () => Promise.resolve();
  }
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  const tick = (): void => {
    running = pollMyPayOnce(deps)
      .then((run) => {
        if (run.asked + run.unsupported > 0) deps.logger.info({ ...run }, 'mypay poll run');
      })
      .catch((err: unknown) => {
        deps.logger.warn(
          { err: err instanceof Error ? err.message : String(err) },
          'mypay poll run failed',
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
