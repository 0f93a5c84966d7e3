import { AsyncLocalStorage } from 'node:async_hooks';
import pino from 'pino';

/**
 * Structured JSON logs with a per-request (or per-job) context and redaction.
 *
 * Why redaction paths and not discipline: fiscal codes and credentials reach log objects through
 * headers, bodies and errors; pino removes them at serialisation, whoever logged them.
 */
export type Logger = pino.Logger;

export type LogContext = { requestId?: string; jobId?: string; receiptKey?: string };

const logContext = new AsyncLocalStorage<LogContext>();

export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers["ocp-apim-subscription-key"]',
  'req.headers.cookie',
  'headers.authorization',
  'authorization',
  'password',
  '*.password',
  'passwordStation',
  '*.passwordStation',
  'secret',
  '*.secret',
  'apiKey',
  '*.apiKey',
  'fiscalCode',
  '*.fiscalCode',
  '*.*.fiscalCode',
  'debtor',
  '*.debtor',
  'payer',
  '*.payer',
  'databaseUrl',
  'redisUrl',
];

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  const options: pino.LoggerOptions = {
    level,
    base: { service: 'pagopa-adapter' },
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    mixin: () => logContext.getStore() ?? {},
  };
  return destination ? pino(options, destination) : pino(options);
}

/** Runs `fn` with a log context that every log line written inside it carries. */
export function withLogContext<T>(context: LogContext, fn: () => T): T {
  return logContext.run({ ...logContext.getStore(), ...context }, fn);
}

export function currentLogContext(): LogContext {
  return logContext.getStore() ?? {};
}
