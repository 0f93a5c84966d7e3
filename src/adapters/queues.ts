import { Queue, type JobsOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import { sha256Hex } from '../shared/hash';

/**
 * Queue names and job shapes: one place, so producers (SOAP intake, sweeper, API) and workers
 * agree. Jobs carry ids only, never personal data: the worker re-reads state from MariaDB.
 */
export const QUEUES = {
  reconcile: 'reconcile-receipts',
  webhooks: 'erp-webhooks',
  billing: 'billing-runs',
} as const;
export type QueueName = (typeof QUEUES)[keyof typeof QUEUES];

export type ReconcileReceiptJob = { receiptId: number };

/**
 * The job id of a receipt's reconciliation, derived from its business key so the same receipt
 * enqueued twice (a resend, the sweeper) is one job. BullMQ ids must not contain ':'.
 */
export function reconcileJobId(businessKey: {
  domainId: string;
  iuv: string;
  receiptKey: string;
}): string {
  return `receipt-${sha256Hex(`${businessKey.domainId}|${businessKey.iuv}|${businessKey.receiptKey}`).slice(0, 40)}`;
}

export type QueueOptions = { prefix: string; attempts: number; backoffDelayMs: number };

export function jobDefaults(options: QueueOptions): JobsOptions {
  return {
    attempts: options.attempts,
    backoff: { type: 'exponential', delay: options.backoffDelayMs, jitter: 0.5 },
    removeOnComplete: 1_000,
    // Failed jobs are the operators' replay inventory: never removed automatically.
    removeOnFail: false,
  };
}

/** A producer queue on a fail-fast connection; errors are reported, not thrown at random. */
export function createQueue(
  name: QueueName,
  connection: Redis,
  options: QueueOptions,
  onError: (err: Error) => void,
): Queue {
  const queue = new Queue(name, {
    connection,
    prefix: options.prefix,
    defaultJobOptions: jobDefaults(options),
  });
  queue.on('error', onError);
  return queue;
}
