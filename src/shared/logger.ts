import pino from 'pino';

/**
 * Structured JSON logs with redaction. Request and job context (requestId, jobId) travels in
 * child loggers: the HTTP app gives each request one (`requestLogger`), processors bind theirs.
 *
 * Why no AsyncLocalStorage: entering one per request installs promise hooks that tax every
 * promise of the process (about a tenth of the receipt intake's CPU); a child logger costs one
 * object per request.
 *
 * Why redaction paths and not discipline: fiscal codes and credentials reach log objects through
 * headers, bodies and errors; pino removes them at serialisation, whoever logged them.
 */
export type Logger = pino.Logger;

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
  };
  return destination ? pino(options, destination) : pino(options);
}
