import type { CardCodeAlgorithm } from '../codes/card-code';
import type { CatalogueService } from '../positions/types';
import {
  billableService,
  type BillingContext,
  type BillingRunStatus,
  type BillingSource,
} from './bill';
import {
  checkPeriod,
  linesFromCsv,
  linesFromItems,
  type BillingItemInput,
  type BillingLine,
} from './lines';

/**
 * A billing run from submission to its end, as the API, the worker and the CLI share it:
 * `prepareRun` checks the request (pure), the caller stores the run with all its lines, and
 * `processRun` works through the PENDING lines in chunks, each chunk one transaction.
 *
 * Why chunks of one transaction each: a chunk is all-or-nothing (positions, debits, line
 * statuses and counters together), so a crash loses at most the chunk in flight, and running the
 * run again picks up exactly the lines still PENDING. The idempotency keys make even a chunk
 * processed twice (two workers, a stalled job) bill nothing twice.
 */

/** Lines per transaction: big enough for multi-row statements, small enough for short locks. */
export const BILLING_CHUNK_SIZE = 500;
/**
 * Chunks of one run in flight at once. A chunk spends most of its time waiting on round trips
 * (one balance update per account in the ledger's bulk posting), so two overlap well; the lines
 * of a run name distinct cards, so two chunks never touch the same account.
 */
export const BILLING_CHUNKS_IN_FLIGHT = 2;

export type BillingRunView = {
  id: number;
  runId: string;
  domainId: string;
  service: string;
  period: string;
  source: BillingSource;
  status: BillingRunStatus;
  total: number;
  /** Lines DONE or SKIPPED_DUPLICATE. */
  done: number;
  /** Of `done`, the lines already billed before (nothing created). */
  skipped: number;
  failed: number;
  /** The sum debited by the lines DONE. */
  billedCents: number;
  createdBy: string;
  error: string | null;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
};

/** What a domain contributes to a run: its catalogue and how its card codes are checked. */
export type BillingDomain = {
  fiscalCode: string;
  cardCodeAlgorithm: CardCodeAlgorithm;
  services: readonly CatalogueService[];
};

export type PreparedRun = {
  context: BillingContext;
  lines: BillingLine[];
  /** Lines to process (no problem found at submission). */
  accepted: number;
  /** Lines stored FAILED at submission. */
  rejected: number;
};

/**
 * Checks a submission: the period, the service (a card service of the domain), then every line.
 * @throws AppError('invalid-input') when the period or the service is wrong, or the body cannot
 *   be read as a whole (see linesFromCsv, linesFromItems); nothing is to be stored then.
 */
export function prepareRun(
  domain: BillingDomain,
  request: {
    service: string;
    period: string;
    input: { csv: string } | { items: readonly BillingItemInput[] };
  },
  paths: { service: string; period: string },
): PreparedRun {
  checkPeriod(request.period, paths.period);
  const service = billableService(
    domain.services,
    request.service,
    domain.fiscalCode,
    paths.service,
  );
  const lines =
    'csv' in request.input
      ? linesFromCsv(request.input.csv, domain.cardCodeAlgorithm)
      : linesFromItems(request.input.items, domain.cardCodeAlgorithm);
  const rejected = lines.filter((l) => l.problem !== null).length;
  return {
    context: { domainId: domain.fiscalCode, service, period: request.period },
    lines,
    accepted: lines.length - rejected,
    rejected,
  };
}

/** Storage of a run as processing sees it (implemented in data-access/billing-repository). */
export type BillingRunStore = {
  /** Marks a PENDING run RUNNING (started now); answers the run as it stands, if it exists. */
  startRun: (runId: string) => Promise<BillingRunView | undefined>;
  /**
   * Processes up to `size` PENDING lines in one transaction; answers how many it took and how
   * they ended (DONE or SKIPPED_DUPLICATE count as done).
   */
  processChunk: (
    runId: string,
    size: number,
  ) => Promise<{ claimed: number; done: number; failed: number }>;
  /** Finishes the run when no line is PENDING (and tells the ERP); answers the run. */
  finishIfComplete: (runId: string) => Promise<BillingRunView>;
};

/**
 * Processes a run's PENDING lines to the end, reporting progress after each chunk.
 * A FINISHED or FAILED run is answered as it is: nothing is processed again.
 * @returns the run as it stands at the end, or undefined when there is no such run.
 * @throws whatever the store throws (a database outage: the caller retries the whole run).
 */
export async function processRun(
  store: BillingRunStore,
  runId: string,
  options: {
    chunkSize?: number;
    chunksInFlight?: number;
    onProgress?: (progress: BillingProgress) => void;
  } = {},
): Promise<BillingRunView | undefined> {
  const run = await store.startRun(runId);
  if (run === undefined) return undefined;
  if (run.status === 'FINISHED' || run.status === 'FAILED') return run;
  const size = options.chunkSize ?? BILLING_CHUNK_SIZE;
  const progress = { total: run.total, done: run.done, failed: run.failed };
  options.onProgress?.({ ...progress });
  // Each lane claims chunks until none is left (SKIP LOCKED: lanes never claim the same line).
  const lane = async (): Promise<void> => {
    for (;;) {
      const chunk = await store.processChunk(runId, size);
      if (chunk.claimed === 0) return;
      progress.done += chunk.done;
      progress.failed += chunk.failed;
      options.onProgress?.({ ...progress });
    }
  };
  const lanes = Math.max(1, options.chunksInFlight ?? BILLING_CHUNKS_IN_FLIGHT);
  await Promise.all(Array.from({ length: lanes }, lane));
  return store.finishIfComplete(runId);
}

/** Where a run stands: `done + failed` of `total` lines are settled. */
export type BillingProgress = { total: number; done: number; failed: number };
