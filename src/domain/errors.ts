/**
 * The one error type of the service, with a closed catalogue of codes.
 *
 * Why a catalogue: each transport has its own mapper (problem+json for the ERP API, a PAA fault for
 * the node, retry-or-stop for the worker, an exit code for the CLI), and every mapper is an
 * exhaustive switch over these codes, so a new code cannot be added without deciding how each door
 * answers it.
 */
export const ERROR_CODES = [
  // Input from outside that we refuse.
  'invalid-input',
  'amount-invalid',
  'notice-number-invalid',
  'iuv-invalid',
  'rf-invalid',
  'card-code-invalid',
  'payment-code-invalid',
  'xml-malformed',
  'xml-forbidden-construct',
  'xml-schema-invalid',
  // An RPT/RT/flow carried inside a message (base64) that is not valid XML or breaks its XSD.
  'xml-embedded-invalid',
  'xml-semantic-invalid',
  'unknown-operation',
  'payload-too-large',
  // Who is calling.
  'unauthenticated',
  'forbidden',
  'domain-unknown',
  'broker-unknown',
  'station-unknown',
  // State.
  'not-found',
  'conflict',
  'idempotency-conflict',
  'insufficient-credit',
  'position-paid',
  'position-cancelled',
  'position-expired',
  'payment-in-progress',
  'receipt-modified',
  'amount-mismatch',
  // Infrastructure.
  'dependency-down',
  'upstream-error',
  'internal',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export class AppError extends Error {
  override readonly name = 'AppError';

  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: Readonly<Record<string, unknown>> = {},
    options: { cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
  }
}

export const isAppError = (err: unknown): err is AppError => err instanceof AppError;

/** Socket-level failures: the database, Redis or an upstream is down, not our bug. */
const NETWORK_ERRORS = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENOTFOUND',
  'EPIPE',
  'PROTOCOL_CONNECTION_LOST',
]);

/**
 * Turns anything thrown into an AppError, so mappers only ever see catalogued codes.
 * Unknown throwables become `internal` and keep the original as `cause` for the logs.
 */
export function toAppError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  const networkCode = (err as { code?: unknown } | null)?.code;
  // A connection pool that cannot hand out a connection in time is a database outage too.
  const poolTimeout = (err as { name?: unknown } | null)?.name === 'KnexTimeoutError';
  if (poolTimeout || (typeof networkCode === 'string' && NETWORK_ERRORS.has(networkCode))) {
    return new AppError(
      'dependency-down',
      `a dependency is unreachable (${poolTimeout ? 'database pool timeout' : String(networkCode)})`,
      {},
      { cause: err },
    );
  }
  const message = err instanceof Error ? err.message : String(err);
  return new AppError('internal', message, {}, { cause: err });
}
