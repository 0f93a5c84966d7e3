import type { Queue } from 'bullmq';
import { reconcileJobId } from '../../adapters/queues';
import type { Db } from '../../data-access/db';
import { claimStaleReceipts, type StaleReceipt } from '../../data-access/reconcile-repository';
import type { Logger } from '../../shared/logger';
import { RECONCILE_JOB_NAME } from '../soap/handlers/pa-send-rt';

/**
 * The sweeper: the relay of the receipts inbox, which doubles as a transactional outbox.
 *
 * Why: the SOAP door commits a receipt, then enqueues its job; if Redis was down or slow then
 * (or the process died in between), the receipt sits in RECEIVED with no job. Every
 * `intervalMs`, receipts RECEIVED for more than `ageMs` are enqueued again under the same job id.
 *
 * Safe on several workers at once: claims use SKIP LOCKED and stamp the rows, and the job id
 * derived from the business key makes a second enqueue of a waiting job a no-op.
 *
 * A job id that already exists hides a new enqueue (BullMQ ignores the add), so the job's state
 * decides what happens: a completed job left a receipt RECEIVED only if it was moved back by an
 * operator, so the old job is removed and a new one added; a job failed because it stalled too
 * often (its workers were killed mid-job) never decided anything, so it is retried; any other
 * failed job is the operators' to replay, and is only reported.
 */

export type SweeperDeps = {
  db: Db;
  queue: Queue;
  logger: Logger;
  intervalMs: number;
  ageMs: number;
  batchSize?: number;
};

export type SweepResult = { claimed: number; enqueued: number; retried: number; failed: number };

const BATCH_SIZE = 500;
const STALLED_REASON = 'stalled more than allowable limit';

/** One sweep: claims stale receipts and makes sure each has a live job. */
export async function sweepOnce(deps: SweeperDeps): Promise<SweepResult> {
  const stale = await claimStaleReceipts(deps.db, {
    olderThanMs: deps.ageMs,
    limit: deps.batchSize ?? BATCH_SIZE,
  });
  const result: SweepResult = { claimed: stale.length, enqueued: 0, retried: 0, failed: 0 };
  for (const receipt of stale) {
    const outcome = await ensureJob(deps.queue, receipt);
    if (outcome === 'enqueued') result.enqueued += 1;
    else if (outcome === 'retried') result.retried += 1;
    else if (outcome === 'failed') {
      result.failed += 1;
      deps.logger.warn(
        { receiptId: receipt.receiptId, jobId: reconcileJobId(receipt) },
        'receipt RECEIVED but its job failed: replay it (see README, "receipts stuck in RECEIVED")',
      );
    }
  }
  if (stale.length > 0) deps.logger.info({ ...result }, 'sweeper re-enqueued stale receipts');
  return result;
}

async function ensureJob(
  queue: Queue,
  receipt: StaleReceipt,
): Promise<'enqueued' | 'retried' | 'failed' | 'live'> {
  const jobId = reconcileJobId(receipt);
  const data = { receiptId: receipt.receiptId };
  const state = await queue.getJobState(jobId);
  switch (state) {
    case 'unknown':
      await queue.add(RECONCILE_JOB_NAME, data, { jobId });
      return 'enqueued';
    case 'completed': {
      await queue.remove(jobId);
      await queue.add(RECONCILE_JOB_NAME, data, { jobId });
      return 'enqueued';
    }
    case 'failed': {
      const job = await queue.getJob(jobId);
      if (job?.failedReason.includes(STALLED_REASON) === true) {
        await job.retry('failed');
        return 'retried';
      }
      return 'failed';
    }
    default:
      // waiting, delayed, active, prioritized, waiting-children: the job will run.
      return 'live';
  }
}

/**
 * Starts the sweeper loop. The returned stop waits for a sweep in progress to end.
 * Errors (database or Redis down) are logged and the next tick tries again.
 */
export function startSweeper(deps: SweeperDeps): () => Promise<void> {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  const tick = (): void => {
    running = sweepOnce(deps)
      .then(() => undefined)
      .catch((err: unknown) => {
        deps.logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'sweep failed');
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
