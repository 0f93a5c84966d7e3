import type { Job, Queue } from 'bullmq';
import { AppError, isAppError } from '../domain/errors';
import type { ReceiptRef, ReconcileJobs } from '../domain/operations/types';
import { reconcileJobId } from './queues';

/**
 * The reconcile queue as operators drive it: a receipt's job, its state, and the replay of it.
 *
 * Why retry and not re-add: failed jobs are kept (removeOnFail false) and BullMQ silently ignores an
 * add whose job id exists, so a failed or completed job is moved back to waiting with
 * `job.retry`, its attempt counters reset so the replay gets the full retry budget; a job that is
 * gone (removed, or never added: a released quarantined receipt) is added under the same id.
 * Redis errors become AppError('dependency-down'), which every door maps to "try again later".
 */
export type { ReconcileJobs };

/** States in which the job will still run without anyone's help. */
const LIVE = new Set(['waiting', 'active', 'delayed', 'prioritized', 'waiting-children']);
export const isLiveJobState = (state: string): boolean => LIVE.has(state);

const ERROR_LINES_MAX = 20;

export function reconcileJobs(queue: Queue, jobName: string): ReconcileJobs {
  const state = async (ref: ReceiptRef): Promise<string> => {
    const found = await redis(() => queue.getJobState(reconcileJobId(ref)));
    return found === 'unknown' ? 'missing' : found;
  };
  return {
    state,
    ensure: async (ref) => {
      const jobId = reconcileJobId(ref);
      const job = await redis<Job | undefined>(() => queue.getJob(jobId));
      if (job === undefined) {
        await redis(() => queue.add(jobName, { receiptId: ref.receiptId }, { jobId }));
        return 'added';
      }
      const current = await redis(() => job.getState());
      if (current === 'failed' || current === 'completed') {
        try {
          await job.retry(current, { resetAttemptsMade: true, resetAttemptsStarted: true });
          return 'retried';
        } catch (err) {
          // Another replay (the other door) moved it first: it is live now, which is the goal.
          if (isLiveJobState(await state(ref))) return 'live';
          throw asDependencyDown(err);
        }
      }
      if (current === 'unknown') {
        await redis(() => queue.add(jobName, { receiptId: ref.receiptId }, { jobId }));
        return 'added';
      }
      return 'live';
    },
    describe: async (ref) => {
      const job = await redis<Job | undefined>(() => queue.getJob(reconcileJobId(ref)));
      if (job === undefined) return null;
      const current = await redis(() => job.getState());
      return {
        jobId: job.id ?? reconcileJobId(ref),
        state: current === 'unknown' ? 'missing' : current,
        attemptsMade: job.attemptsMade,
        failedReason: job.failedReason === '' ? null : (job.failedReason ?? null),
        errors: (job.stacktrace ?? [])
          .slice(-ERROR_LINES_MAX)
          .map((trace) => trace.split('\n')[0] ?? ''),
        createdAt: job.timestamp > 0 ? new Date(job.timestamp) : null,
        finishedAt: job.finishedOn === undefined ? null : new Date(job.finishedOn),
      };
    },
  };
}

/** One queue's counts and its failed jobs, for the inventory. */
export type QueueInventory = {
  readonly queue: string;
  readonly counts: Readonly<Record<string, number>>;
  readonly failed: readonly {
    readonly jobId: string;
    readonly name: string;
    readonly receiptId: number | null;
    readonly attemptsMade: number;
    readonly failedReason: string;
    /** Failed because its workers died mid-job too often: never decided anything. */
    readonly stalled: boolean;
    readonly finishedAt: Date | null;
  }[];
};

const STALLED_REASON = 'stalled more than allowable limit';

/** Counts per state and the newest failed jobs (at most `limit`) of a queue. */
export async function queueInventory(queue: Queue, limit: number): Promise<QueueInventory> {
  const counts = await redis(() =>
    queue.getJobCounts('waiting', 'active', 'delayed', 'failed', 'completed', 'prioritized'),
  );
  const failed = await redis<Job[]>(() => queue.getFailed(0, limit - 1));
  return {
    queue: queue.name,
    counts,
    failed: failed.map((job) => {
      const receiptId = Number((job.data as { receiptId?: unknown } | undefined)?.receiptId);
      return {
        jobId: job.id ?? '',
        name: job.name,
        receiptId: Number.isSafeInteger(receiptId) ? receiptId : null,
        attemptsMade: job.attemptsMade,
        failedReason: job.failedReason ?? '',
        stalled: (job.failedReason ?? '').includes(STALLED_REASON),
        finishedAt: job.finishedOn === undefined ? null : new Date(job.finishedOn),
      };
    }),
  };
}

async function redis<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    throw asDependencyDown(err);
  }
}

function asDependencyDown(err: unknown): AppError {
  if (isAppError(err)) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new AppError(
    'dependency-down',
    `the job queue (Redis) is unavailable: ${message}`,
    {},
    {
      cause: err,
    },
  );
}
