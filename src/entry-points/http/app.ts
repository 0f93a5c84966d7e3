import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import express, {
  type ErrorRequestHandler,
  type Express,
  type RequestHandler,
  type Response,
} from 'express';
import { AppError, toAppError } from '../../domain/errors';
import type { Logger } from '../../shared/logger';
import type { Metrics } from '../../shared/metrics';
import { checkReadiness, type DependencyCheck } from './health';
import { toProblem } from './error-to-problem';

/**
 * Builds an express app with what every one of our HTTP servers shares: request ids, access logs,
 * request metrics, health and metrics endpoints, and the problem+json error mapper.
 * `mount` adds the server's own routes (ERP API, SOAP endpoints, simulator).
 */
export type HttpAppOptions = {
  server: string;
  logger: Logger;
  metrics: Metrics;
  readinessChecks: readonly DependencyCheck[];
  healthCheckTimeoutMs: number;
  bodyLimitBytes: number;
  mount?: (app: Express) => void;
  /**
   * Routes that read their own body with their own limit (MyPay's outcome push), mounted after
   * the request context and before the shared body parsers, which would otherwise read it first.
   */
  mountFirst?: (app: Express) => void;
};

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * The request's logger: every line it writes carries the request id. Handlers log through it
 * (or pass it down), never through the process logger, so a request's lines can be found.
 */
export function requestLogger(res: Response): Logger {
  return res.locals['log'] as Logger;
}

export function createHttpApp(options: HttpAppOptions): Express {
  const { logger, metrics } = options;
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', false);

  app.use(requestContext(options.server, logger, metrics));
  options.mountFirst?.(app);
  app.use(express.json({ limit: options.bodyLimitBytes }));
  // CSV imports (billing runs) arrive as text; the same limit applies.
  app.use(express.text({ type: ['text/csv', 'text/plain'], limit: options.bodyLimitBytes }));

  app.get('/health/live', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/health/ready', async (_req, res) => {
    const report = await checkReadiness(options.readinessChecks, options.healthCheckTimeoutMs);
    if (report.status !== 'ok') {
      const down = Object.entries(report.checks)
        .filter(([, c]) => c.status === 'down')
        .map(([name]) => name);
      logger.warn({ down, report }, 'not ready');
    }
    res.status(report.status === 'ok' ? 200 : 503).json(report);
  });
  app.get('/metrics', async (_req, res) => {
    res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });

  options.mount?.(app);

  app.use((req, _res, next) => {
    next(new AppError('not-found', `no route for ${req.method} ${req.path}`));
  });
  app.use(errorHandler(logger));
  return app;
}

function requestContext(server: string, logger: Logger, metrics: Metrics): RequestHandler {
  return (req, res, next) => {
    const { requestId, log } = trackRequest(server, logger, metrics, req, res, () =>
      // The route template, not the path, keeps label cardinality bounded.
      req.route ? `${req.baseUrl}${String((req.route as { path: unknown }).path)}` : 'unmatched',
    );
    res.locals['requestId'] = requestId;
    res.locals['log'] = log;
    next();
  };
}

/**
 * What every request gets, through express or not (the SOAP doors' fast path): its id (the
 * caller's `x-request-id` when well-formed, echoed back), a logger carrying it, and, when the
 * response is finished, the request-duration metric and the access log line.
 * @param routeOf the route template for the metric's label, asked when the response finishes.
 */
export function trackRequest(
  server: string,
  logger: Logger,
  metrics: Metrics,
  req: IncomingMessage,
  res: ServerResponse,
  routeOf: () => string,
): { requestId: string; log: Logger } {
  const incoming = req.headers['x-request-id'];
  const requestId =
    typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
  const log = logger.child({ requestId });
  res.setHeader('x-request-id', requestId);
  const started = process.hrtime.bigint();
  res.on('finish', () => {
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const route = routeOf();
    const method = req.method ?? 'GET';
    metrics.httpRequestDuration.observe(
      { method, route, status_code: String(res.statusCode), server },
      seconds,
    );
    const path = req.url ?? '';
    if (path.startsWith('/health/') || path === '/metrics' || path.startsWith('/metrics?')) return;
    log.info(
      { method, route, status: res.statusCode, durationMs: Math.round(seconds * 1000) },
      'request',
    );
  });
  return { requestId, log };
}

function errorHandler(logger: Logger): ErrorRequestHandler {
  return (err: unknown, _req, res, next) => {
    if (res.headersSent) {
      next(err);
      return;
    }
    const appErr = fromExpressError(err);
    const requestId = res.locals['requestId'] as string | undefined;
    if (appErr.code === 'internal') logger.error({ err, requestId }, 'unhandled error');
    const problem = toProblem(appErr.code, appErr.message, requestId, appErr.details);
    res.status(problem.status).type('application/problem+json').json(problem);
  };
}

/** body-parser signals its own failures with `type`; map them to our catalogue. */
function fromExpressError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  const type = (err as { type?: unknown } | null)?.type;
  if (type === 'entity.too.large') {
    return new AppError(
      'payload-too-large',
      'the request body is larger than the configured limit',
    );
  }
  if (type === 'entity.parse.failed') {
    return new AppError('invalid-input', 'the request body is not valid JSON');
  }
  if (type === 'encoding.unsupported' || type === 'charset.unsupported') {
    return new AppError('invalid-input', 'unsupported body encoding or charset');
  }
  return toAppError(err);
}
