import type { ErrorCode } from '../../domain/errors';

/** The HTTP status of each error code, for problem+json answers. Exhaustive on purpose. */
export function httpStatusFor(code: ErrorCode): number {
  switch (code) {
    case 'invalid-input':
    case 'xml-malformed':
    case 'xml-forbidden-construct':
    case 'xml-schema-invalid':
    case 'xml-embedded-invalid':
    case 'unknown-operation':
      return 400;
    case 'unauthenticated':
      return 401;
    case 'forbidden':
      return 403;
    case 'not-found':
      return 404;
    case 'conflict':
    case 'idempotency-conflict':
    case 'position-paid':
    case 'position-cancelled':
    case 'payment-in-progress':
    case 'receipt-modified':
      return 409;
    case 'payload-too-large':
      return 413;
    case 'amount-invalid':
    case 'notice-number-invalid':
    case 'iuv-invalid':
    case 'rf-invalid':
    case 'card-code-invalid':
    case 'payment-code-invalid':
    case 'xml-semantic-invalid':
    case 'insufficient-credit':
    case 'position-expired':
    case 'amount-mismatch':
    case 'domain-unknown':
    case 'broker-unknown':
    case 'station-unknown':
      return 422;
    case 'upstream-error':
      return 502;
    case 'dependency-down':
      return 503;
    case 'internal':
      return 500;
  }
}

const TITLES: Record<number, string> = {
  400: 'Bad request',
  401: 'Unauthenticated',
  403: 'Forbidden',
  404: 'Not found',
  409: 'Conflict',
  413: 'Payload too large',
  422: 'Unprocessable content',
  500: 'Internal error',
  502: 'Upstream error',
  503: 'Service unavailable',
};

export type Problem = {
  type: string;
  title: string;
  status: number;
  code: ErrorCode;
  detail: string;
  requestId?: string;
  [extension: string]: unknown;
};

/** Builds an RFC 9457 problem document. Internal errors never expose their message. */
export function toProblem(
  code: ErrorCode,
  detail: string,
  requestId: string | undefined,
  extensions: Readonly<Record<string, unknown>> = {},
): Problem {
  const status = httpStatusFor(code);
  return {
    ...extensions,
    type: `https://pagopa-adapter.dev/problems/${code}`,
    title: TITLES[status] ?? 'Error',
    status,
    code,
    detail:
      code === 'internal'
        ? 'An unexpected error occurred; see the logs with this requestId.'
        : detail,
    ...(requestId === undefined ? {} : { requestId }),
  };
}
