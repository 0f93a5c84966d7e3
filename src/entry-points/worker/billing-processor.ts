import { UnrecoverableError, type Job, type Processor, type Queue } from 'bullmq';
import { QUEUES } from '../../adapters/queues';
import {
  billingRunStore,
  markRunFailed,
  type BillingDomains,
} from '../../data-access/billing-repository';
import type { Db } from '../../data-access/db';
import { isTransientDbError } from '../../data-access/errors';
import { processRun } from '../../domain/billing/run';
import { AppError, toAppError } from '../../domain/errors';
import type { Logger } from '../../shared/logger';
import type { WorkerDefinition } from './start-workers';

/**
 * The billing queue, both ends: the API enqueues one job per run (`{ runId }`, ids only) and the
 * worker processes the run's PENDING lines (see processRun).
 *
 * Retry or stop (STYLE habit 9): a database outage or a deadlock is thrown as is, so BullMQ
 * retries the job with backoff and the run resumes from its PENDING lines; anything else (a
 * domain removed from the configuration, a bug) marks the run FAILED, tells the ERP, and stops
 * the job with UnrecoverableError. The failed job stays in Redis for an operator.
 */

export const BILLING_JOB_NAME = 'billing-run';
export type BillingRunJob = { runId: string };

/** One job per run: a resubmitted or re-enqueued run is the same job (no ':' in BullMQ ids). */
export const billingJobId = (runId: string): string => `billing-${runId}`;

/** The answer never waits longer than this for Redis: the run is committed already. */
export const BILLING_ENQUEUE_TIMEOUT_MS = 2_000;

/**
 * Enqueues a run's job, waiting at most `timeoutMs`.
 * @throws AppError('dependency-down') when Redis refuses or does not answer in time.
 */
export async function enqueueBillingRun(
  queue: Queue,
  runId: string,
  timeoutMs = BILLING_ENQUEUE_TIMEOUT_MS,
): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  // The add may settle after the timeout: its late failure must not be unhandled.
  const added = queue
    .add(BILLING_JOB_NAME, { runId } satisfies BillingRunJob, { jobId: billingJobId(runId) })
    .then(
      () => 'ok' as const,
      (err: unknown) => err,
    );
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeoutMs);
  });
  try {
    const outcome = await Promise.race([added, timeout]);
    if (outcome === 'ok') return;
    throw new AppError(
      'dependency-down',
      `billing run ${runId} is stored but could not be queued (${outcome === 'timeout' ? `no answer from Redis in ${timeoutMs} ms` : 'Redis refused'}); send the same request again with the same Idempotency-Key, or run \`pagopa-adapter billing resume ${runId}\``,
      { runId },
      outcome === 'timeout' ? {} : { cause: outcome },
    );
  } finally {
    clearTimeout(timer);
  }
}

export type BillingProcessorDeps = { db: Db; domains: BillingDomains; logger: Logger };

export function billingProcessor(deps: BillingProcessorDeps): Processor<BillingRunJob> {
  const store = billingRunStore(deps.db, deps.domains);
  return async (job: Job<BillingRunJob>) => {
    const runId = job.data.runId;
    if (typeof runId !== 'string' || runId.length === 0) {
      throw new UnrecoverableError('a billing job names no runId');
    }
    const log = deps.logger.child({ jobId: job.id, runId, attemptsMade: job.attemptsMade });
    try {
      const run = await processRun(store, runId, {
        onProgress: (progress) => {
          void job.updateProgress(progress).catch(() => undefined);
        },
      });
      if (run === undefined) throw new UnrecoverableError(`no billing run ${runId}`);
      log.info(
        { status: run.status, total: run.total, done: run.done, failed: run.failed },
        'billing run processed',
      );
      return { status: run.status, done: run.done, failed: run.failed };
    } catch (err) {
      if (err instanceof UnrecoverableError) throw err;
      const appErr = toAppError(err);
      if (appErr.code === 'dependency-down' || isTransientDbError(err)) {
        log.warn({ err: appErr.message }, 'billing run interrupted; the job will retry');
        throw err;
      }
      log.error({ err }, 'billing run failed');
      await markRunFailed(deps.db, runId, `${appErr.code}: ${appErr.message}`);
      throw new UnrecoverableError(`${appErr.code}: ${appErr.message}`);
    }
  };
}

/** The worker role's consumer of the billing queue: one run at a time per process. */
export function billingWorkerDefinition(deps: BillingProcessorDeps): WorkerDefinition {
  return {
    queueName: QUEUES.billing,
    processor: billingProcessor(deps) as Processor,
    concurrency: 1,
  };
}
