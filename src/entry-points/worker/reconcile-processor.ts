import { UnrecoverableError, type Job, type Processor } from 'bullmq';
import type { ReconcileReceiptJob } from '../../adapters/queues';
import type { Db } from '../../data-access/db';
import {
  failReceipt,
  reconcileReceipt,
  type ReconcileOutcome,
} from '../../data-access/reconcile-repository';
import type { Logger } from '../../shared/logger';
import { errorToJobOutcome, jobError } from './error-to-job-outcome';

/** Who moved a receipt, in its state history. */
export const RECONCILE_ACTOR = 'reconcile-worker';

export type ReconcileProcessorDeps = { db: Db; logger: Logger };

/**
 * The reconcile job: re-reads the receipt from MariaDB and applies it in one transaction
 * (data-access/reconcile-repository.ts). The job carries the receipt id only.
 *
 * Retries: transient errors are rethrown (BullMQ backs off exponentially with jitter, bounded
 * by RECONCILE_ATTEMPTS_MAX); permanent ones throw UnrecoverableError at once. Either way, when
 * the job gives up, the receipt is marked FAILED with the error as its reason (best effort: the
 * database may be the thing that is down) so it is visible to operators and the ERP, never left
 * looking like work in progress. The failed job stays in the queue for replay.
 */
export function reconcileProcessor(
  deps: ReconcileProcessorDeps,
): Processor<ReconcileReceiptJob, ReconcileOutcome> {
  return async (job: Job<ReconcileReceiptJob>) => {
    const receiptId = Number((job.data as { receiptId?: unknown } | undefined)?.receiptId);
    if (!Number.isSafeInteger(receiptId) || receiptId <= 0) {
      throw new UnrecoverableError(`job ${job.id ?? '?'} has no valid receiptId`);
    }
    const log = deps.logger.child({ jobId: job.id, receiptId });
    try {
      const outcome = await reconcileReceipt(deps.db, receiptId, RECONCILE_ACTOR);
      if (outcome.kind === 'failed') {
        log.warn({ code: outcome.code, reason: outcome.reason }, 'receipt FAILED');
      } else {
        log.debug({ outcome: outcome.kind }, 'receipt reconciled');
      }
      return outcome;
    } catch (err) {
      const decided = errorToJobOutcome(err);
      const attemptsMax = job.opts.attempts ?? 1;
      const lastAttempt = decided.action === 'stop' || job.attemptsMade + 1 >= attemptsMax;
      log.warn(
        {
          code: decided.code,
          err: decided.error.message,
          attempt: job.attemptsMade + 1,
          attemptsMax,
          action: lastAttempt ? 'give-up' : 'retry',
        },
        'reconciliation error',
      );
      if (lastAttempt) {
        const message = jobError(err).message;
        const reason =
          decided.action === 'stop'
            ? message
            : `gave up after ${job.attemptsMade + 1} attempt(s): ${message}`;
        await failReceipt(deps.db, receiptId, decided.code, reason, RECONCILE_ACTOR).catch(
          (markErr: unknown) =>
            log.error(
              { err: markErr instanceof Error ? markErr.message : String(markErr) },
              'could not mark the receipt FAILED; it stays RECEIVED and the job stays failed',
            ),
        );
      }
      throw decided.error;
    }
  };
}
