import { UnrecoverableError } from 'bullmq';
import { isTransientDbError } from '../../data-access/errors';
import { AppError, toAppError, type ErrorCode } from '../../domain/errors';

/**
 * The worker's error mapper: what a job does with an error its processor threw.
 *
 * - `retry`: the error is rethrown as is; BullMQ retries the job with exponential backoff and
 *   jitter, up to RECONCILE_ATTEMPTS_MAX attempts (adapters/queues.ts `jobDefaults`).
 * - `stop`: the job fails at once with an `UnrecoverableError` (no attempt left is spent on an
 *   error that cannot go away) and stays in the failed set, the operators' replay inventory.
 *
 * Why deadlocks and lost connections are normalised first: they reach the worker as raw mysql2
 * errors (errno 1213/1205, PROTOCOL_CONNECTION_LOST), which `toAppError` alone would call
 * `internal`. Why `internal` retries: an unknown throwable may be an outage in disguise, and a
 * bounded number of attempts costs little; the last attempt marks the receipt FAILED anyway.
 */
export type JobOutcome =
  | { readonly action: 'retry'; readonly code: ErrorCode; readonly error: Error }
  | { readonly action: 'stop'; readonly code: ErrorCode; readonly error: UnrecoverableError };

/** Normalises anything thrown, transient database errors included, into an AppError. */
export function jobError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  if (isTransientDbError(err)) {
    const message = err instanceof Error ? err.message : String(err);
    return new AppError(
      'dependency-down',
      `transient database error: ${message}`,
      {},
      { cause: err },
    );
  }
  return toAppError(err);
}

/** Decides retry or stop for an error thrown by a processor. */
export function errorToJobOutcome(err: unknown): JobOutcome {
  const appError = jobError(err);
  const retry = (): JobOutcome => ({
    action: 'retry',
    code: appError.code,
    error: err instanceof Error ? err : appError,
  });
  const stop = (): JobOutcome => ({
    action: 'stop',
    code: appError.code,
    error: new UnrecoverableError(`${appError.code}: ${appError.message}`),
  });
  switch (appError.code) {
    case 'dependency-down':
    case 'upstream-error':
    case 'internal':
      return retry();
    case 'invalid-input':
    case 'amount-invalid':
    case 'notice-number-invalid':
    case 'iuv-invalid':
    case 'rf-invalid':
    case 'card-code-invalid':
    case 'payment-code-invalid':
    case 'xml-malformed':
    case 'xml-forbidden-construct':
    case 'xml-schema-invalid':
    case 'xml-embedded-invalid':
    case 'xml-semantic-invalid':
    case 'unknown-operation':
    case 'payload-too-large':
    case 'unauthenticated':
    case 'forbidden':
    case 'domain-unknown':
    case 'broker-unknown':
    case 'station-unknown':
    case 'not-found':
    case 'conflict':
    case 'idempotency-conflict':
    case 'insufficient-credit':
    case 'position-paid':
    case 'position-cancelled':
    case 'position-expired':
    case 'payment-in-progress':
    case 'receipt-modified':
    case 'amount-mismatch':
      return stop();
  }
}
