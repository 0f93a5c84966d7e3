import type { Registry } from 'prom-client';
import {
  createNodeClient,
  createNodeTransport,
  NodeClientConfigError,
  PagopaNodeClient,
  RptNodeClient,
  WsdlCatalog,
  type NodeClientSettings,
} from '../../adapters/node-client';
import type { ReportingFlowSource } from '../../adapters/node-client/ports';
import type { Db } from '../../data-access/db';
import {
  expediteRecoveryForFlow,
  flowDateKey,
  knownRevisions,
  storeFlowRevision,
} from '../../data-access/reporting-repository';
import { readFlow } from '../../domain/reconciliation/read-flow';
import type { Domains } from '../../shared/domains-config';
import type { Logger } from '../../shared/logger';
import { WSDL_DIR } from '../soap/soap-server';

/**
 * Downloads the reporting flows (FdR) not seen yet, per domain, on a schedule and from
 * `pagopa-adapter reports fetch`.
 *
 * Why keyed by (flow id, dataOraFlusso): a PSP may overwrite a flow until D+4 with a later
 * dataOraFlusso; every revision is stored and the latest wins (reporting-repository.ts).
 * Why GET_LOCK: with several workers only one downloads at a time; the others skip the run
 * (the unique key would make a double download harmless, only wasteful).
 */

export interface FetchRun {
  listed: number;
  downloaded: number;
  anomalous: number;
  superseded: number;
  /** Payment attempts made due for missing-receipt recovery (NO_RECEIPT lines). */
  recoveryDue: number;
  errors: number;
}

export interface FetchDeps {
  readonly db: Db;
  readonly logger: Pick<Logger, 'info' | 'warn'>;
  /** The flow source of every domain that has one, by fiscal code. */
  readonly sources: ReadonlyMap<string, ReportingFlowSource>;
  /** How far back to list (the node keeps 30 days). */
  readonly lookbackDays?: number;
  readonly now?: () => Date;
}

const LOCK_NAME = 'pagopa-adapter:reporting-fetch';
const LOOKBACK_DAYS = 30;

/**
 * One run over every domain; a failing domain or flow is logged and counted, the others go on.
 * Resolves undefined when another worker holds the lock.
 */
export async function fetchReportingFlows(deps: FetchDeps): Promise<FetchRun | undefined> {
  // A transaction pins one pooled connection, which GET_LOCK and RELEASE_LOCK must share; the
  // work itself runs on other connections.
  return deps.db.transaction(async (lockConn) => {
    const [rows] = (await lockConn.raw('SELECT GET_LOCK(?, 0) AS got', [LOCK_NAME])) as [
      { got: number | null }[],
    ];
    if (Number(rows[0]?.got) !== 1) return undefined;
    try {
      return await fetchAll(deps);
    } finally {
      await lockConn.raw('SELECT RELEASE_LOCK(?)', [LOCK_NAME]);
    }
  });
}

async function fetchAll(deps: FetchDeps): Promise<FetchRun> {
  const run: FetchRun = {
    listed: 0,
    downloaded: 0,
    anomalous: 0,
    superseded: 0,
    recoveryDue: 0,
    errors: 0,
  };
  const now = deps.now?.() ?? new Date();
  const since = new Date(now.getTime() - (deps.lookbackDays ?? LOOKBACK_DAYS) * 86_400_000);
  for (const [domainId, source] of deps.sources) {
    let refs;
    try {
      refs = await source.listFlows(since);
    } catch (err) {
      run.errors += 1;
      deps.logger.warn({ domainId, err: String(err) }, 'reporting flow list failed');
      continue;
    }
    run.listed += refs.length;
    const known = await knownRevisions(deps.db, domainId);
    for (const ref of refs) {
      if (known.has(`${ref.flowId}|${flowDateKey(ref.flowDate)}`)) continue;
      try {
        const xml = await source.downloadFlow(ref);
        const read = readFlow(xml);
        if (read.flow.flowId !== ref.flowId) {
          throw new Error(`document is flow ${read.flow.flowId}, listed as ${ref.flowId}`);
        }
        const stored = await storeFlowRevision(deps.db, domainId, read, xml);
        if (stored.kind === 'known') continue;
        run.downloaded += 1;
        run.superseded += stored.supersededCount;
        run.recoveryDue += await expediteRecoveryForFlow(deps.db, domainId, stored.id);
        if (read.status === 'ANOMALOUS') {
          run.anomalous += 1;
          deps.logger.warn(
            { domainId, flowId: ref.flowId, anomalies: read.anomalies },
            'reporting flow is ANOMALOUS',
          );
        }
      } catch (err) {
        // Not memoised: the flow is still "not seen" and the next run tries it again.
        run.errors += 1;
        deps.logger.warn(
          { domainId, flowId: ref.flowId, err: err instanceof Error ? err.message : String(err) },
          'reporting flow download failed',
        );
      }
    }
  }
  return run;
}

/** Starts the schedule (first run after `intervalMs`); the returned stop waits for a run. */
export function startReportingFetcher(
  deps: FetchDeps & { intervalMs: number },
): () => Promise<void> {
  if (deps.sources.size === 0) {
    deps.logger.info({}, 'no domain with a reporting flow source: flow download is off');
    return () => Promise.resolve();
  }
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  const tick = (): void => {
    running = fetchReportingFlows(deps)
      .then((run) => {
        if (run !== undefined && run.listed > 0)
          deps.logger.info({ ...run }, 'reporting flows fetched');
      })
      .catch((err: unknown) => {
        deps.logger.warn({ err: String(err) }, 'reporting flow fetch failed');
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

/**
 * The flow source of every domain whose dialect lists flows (pagopa: nodeForPa; rpt: NodoPerPa)
 * and whose client can be built; a domain without its secrets is logged and left out.
 */
export function reportingFlowSources(
  domains: Domains,
  settings: NodeClientSettings,
  deps: { registry: Registry; logger: Logger },
): Map<string, ReportingFlowSource> {
  const sources = new Map<string, ReportingFlowSource>();
  if (settings.nodeBaseUrl === undefined) return sources;
  const transport = createNodeTransport(settings, deps);
  const wsdl = WsdlCatalog.load(WSDL_DIR);
  for (const domain of domains.all) {
    try {
      const client = createNodeClient(domain, { settings, transport, wsdl });
      if (client instanceof PagopaNodeClient || client instanceof RptNodeClient) {
        sources.set(domain.fiscalCode, client);
      }
    } catch (err) {
      if (!(err instanceof NodeClientConfigError)) throw err;
      deps.logger.warn(
        { domain: domain.fiscalCode, err: err.message },
        'no reporting flow download',
      );
    }
  }
  return sources;
}
