import { AppError, toAppError, type ErrorCode } from '../../domain/errors';

/** Exit codes scripts can trust. */
export const EXIT = { ok: 0, invalid: 1, failure: 2, unavailable: 3 } as const;

/** Maps an error code to the CLI's exit code: bad input 1, unavailable dependency 3, anything else 2. */
export function exitCodeFor(code: ErrorCode): number {
  switch (code) {
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
    case 'domain-unknown':
    case 'broker-unknown':
    case 'station-unknown':
      return EXIT.invalid;
    case 'unauthenticated':
    case 'forbidden':
    case 'upstream-error':
    case 'internal':
      return EXIT.failure;
    case 'dependency-down':
      return EXIT.unavailable;
  }
}

/** Writes one line to stdout. The CLI's only output channel besides stderr (no console in src). */
export function printLine(line: string): void {
  process.stdout.write(`${line}\n`);
}

/**
 * Runs a CLI action: on failure prints a one-line reason on stderr and sets the exit code.
 * The process is not killed here so that open handles can be closed by the caller.
 */
export async function runCommand(action: () => Promise<void> | void): Promise<void> {
  try {
    await action();
  } catch (err) {
    const appErr: AppError = toAppError(err);
    process.stderr.write(`error: ${appErr.code}: ${appErr.message}\n`);
    process.exitCode = exitCodeFor(appErr.code);
  }
}
