/**
 * The one HTTP path of every outbound call to the node, Checkout, the receipt REST service and
 * MyPay: a timeout per attempt, bounded retries with backoff for reads only, a circuit breaker per
 * upstream, optional client TLS certificates, and a metric per attempt and outcome.
 *
 * Why retries only for reads: nodoInviaRPT, Checkout carts and paaSILImportaDovuto create
 * something upstream. When one of them times out we cannot know whether the upstream accepted it,
 * and a blind resend can be refused as a duplicate (PPT_RPT_DUPLICATA) or, worse, create a second
 * cart. Those calls surface an `upstream-error` that says so, and the caller checks the state
 * (nodoChiediStatoRPT, paaSILChiediPagati) before trying again.
 *
 * Why two senders: Node 20's global fetch cannot take client certificates without the `undici`
 * package (not a dependency here), so when TLS files are configured the request goes through
 * `node:https` with an Agent holding them; otherwise through fetch. Both share this policy code.
 */
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { Counter, Histogram, type Registry } from 'prom-client';
import { AppError } from '../../domain/errors';
import type { Logger } from '../../shared/logger';
import { CircuitBreaker } from './circuit-breaker';

export type Dialect = 'pagopa' | 'rpt' | 'mypay';

export interface HttpRequest {
  readonly method: 'GET' | 'POST';
  readonly url: string;
  /** Secrets (subscription key) travel here; headers are never logged. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string;
}

export interface HttpResponse {
  readonly status: number;
  /** Lower-case names. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/** Sends one request; rejects on network errors and when `signal` aborts. */
export type HttpSender = (req: HttpRequest, signal: AbortSignal) => Promise<HttpResponse>;

export interface CallSpec<T> {
  readonly dialect: Dialect;
  /** The primitive (`nodoInviaRPT`, `checkoutCart`...): a metric label and a log field. */
  readonly operation: string;
  /** The configured base URL: one circuit breaker per value. */
  readonly upstream: string;
  readonly request: HttpRequest;
  /** Safe to repeat (reads). Only these are retried. */
  readonly idempotent: boolean;
  /**
   * What to tell the caller when a non-idempotent call times out, e.g. which read finds out
   * whether the upstream accepted it.
   */
  readonly ambiguityHint?: string;
  /**
   * Turns any answer into a result, or throws: {@link upstreamError} with `transient` for upstream
   * trouble (retried for reads, counted by the breaker), without it for business refusals.
   */
  readonly interpret: (res: HttpResponse) => T;
}

export interface TransportOptions {
  readonly timeoutMs: number;
  /** Attempts of an idempotent call, the first included (≥ 1). */
  readonly retryAttemptsMax: number;
  readonly retryBackoffBaseMs: number;
  readonly circuitFailuresMax: number;
  readonly circuitOpenMs: number;
  readonly registry: Registry;
  readonly logger?: Logger;
  /** Default: fetch, or node:https with {@link tlsAgentOptions} when TLS files are given. */
  readonly sender?: HttpSender;
  readonly tls?: TlsFiles;
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly random?: () => number;
  readonly maxResponseBytes?: number;
}

export type Outcome = 'ok' | 'fault' | 'error' | 'timeout' | 'network' | 'circuit-open';

/** A caught transient marker: set by interpreters through {@link upstreamError}. */
const TRANSIENT = 'transient';

/**
 * An AppError('upstream-error'). `transient: true` marks upstream trouble (5xx, PPT_SYSTEM_ERROR,
 * an unreadable answer): the breaker counts it and reads are retried.
 */
export function upstreamError(
  message: string,
  details: Readonly<Record<string, unknown>>,
  opts: { transient?: boolean; cause?: unknown } = {},
): AppError {
  return new AppError(
    'upstream-error',
    message,
    { ...details, [TRANSIENT]: opts.transient === true },
    opts.cause === undefined ? {} : { cause: opts.cause },
  );
}

const isTransient = (err: AppError): boolean => err.details[TRANSIENT] === true;

// ------------------------------------------------------------------------------------------------
// TLS.

export interface TlsFiles {
  readonly certFile?: string;
  readonly keyFile?: string;
  readonly caFile?: string;
}

export const hasTls = (t: TlsFiles | undefined): t is TlsFiles =>
  t !== undefined &&
  (t.certFile !== undefined || t.keyFile !== undefined || t.caFile !== undefined);

/**
 * The https.Agent options for client certificates (read once, at start).
 * @throws Error naming the file when one cannot be read, so a bad path stops the process.
 */
export function tlsAgentOptions(files: TlsFiles): https.AgentOptions {
  const read = (what: string, file: string | undefined): Buffer | undefined => {
    if (file === undefined) return undefined;
    try {
      return fs.readFileSync(file);
    } catch (err) {
      throw new Error(`cannot read ${what} ${file}: ${(err as Error).message}`);
    }
  };
  const cert = read('NODE_TLS_CERT_FILE', files.certFile);
  const key = read('NODE_TLS_KEY_FILE', files.keyFile);
  const ca = read('NODE_TLS_CA_FILE', files.caFile);
  return {
    keepAlive: true,
    minVersion: 'TLSv1.2',
    ...(cert === undefined ? {} : { cert }),
    ...(key === undefined ? {} : { key }),
    ...(ca === undefined ? {} : { ca }),
  };
}

// ------------------------------------------------------------------------------------------------
// Senders.

const DEFAULT_MAX_RESPONSE_BYTES = 50 * 1024 * 1024;

function tooLarge(limit: number): AppError {
  return upstreamError(`answer larger than ${limit} bytes`, { limit }, { transient: false });
}

/** The global fetch; redirects are not followed (Checkout answers 302 and we want the Location). */
export function fetchSender(maxResponseBytes = DEFAULT_MAX_RESPONSE_BYTES): HttpSender {
  return async (req, signal) => {
    const res = await fetch(req.url, {
      method: req.method,
      headers: req.headers,
      ...(req.body === undefined ? {} : { body: req.body }),
      redirect: 'manual',
      signal,
    });
    const buf = await res.arrayBuffer();
    if (buf.byteLength > maxResponseBytes) throw tooLarge(maxResponseBytes);
    const headers: Record<string, string> = {};
    res.headers.forEach((v, k) => {
      headers[k.toLowerCase()] = v;
    });
    return { status: res.status, headers, body: Buffer.from(buf).toString('utf8') };
  };
}

/** node:http(s) with an Agent (client certificates); used when TLS files are configured. */
export function nodeHttpSender(
  agentOptions: https.AgentOptions,
  maxResponseBytes = DEFAULT_MAX_RESPONSE_BYTES,
): HttpSender & {
  readonly agent: { readonly options: https.AgentOptions; destroy(): void };
} {
  const agent = new https.Agent(agentOptions);
  const plainAgent = new http.Agent({ keepAlive: true });
  const send = (req: HttpRequest, signal: AbortSignal): Promise<HttpResponse> =>
    new Promise((resolve, reject) => {
      const url = new URL(req.url);
      const lib = url.protocol === 'https:' ? https : http;
      const headers: Record<string, string> = { ...req.headers };
      if (req.body !== undefined) {
        headers['content-length'] = String(Buffer.byteLength(req.body));
      }
      const r = lib.request(
        url,
        {
          method: req.method,
          headers,
          agent: url.protocol === 'https:' ? agent : plainAgent,
          signal,
        },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (c: Buffer) => {
            size += c.length;
            if (size > maxResponseBytes) {
              res.destroy(tooLarge(maxResponseBytes));
              return;
            }
            chunks.push(c);
          });
          res.on('error', reject);
          res.on('end', () => {
            const out: Record<string, string> = {};
            for (const [k, v] of Object.entries(res.headers)) {
              if (v !== undefined) out[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
            }
            resolve({
              status: res.statusCode ?? 0,
              headers: out,
              body: Buffer.concat(chunks).toString('utf8'),
            });
          });
        },
      );
      r.on('error', reject);
      if (req.body !== undefined) r.write(req.body);
      r.end();
    });
  return Object.assign(send, {
    agent: {
      options: agent.options,
      destroy: () => {
        agent.destroy();
        plainAgent.destroy();
      },
    },
  });
}

// ------------------------------------------------------------------------------------------------
// Metrics.

interface TransportMetrics {
  readonly requests: Counter<'dialect' | 'operation' | 'outcome'>;
  readonly duration: Histogram<'dialect' | 'operation' | 'outcome'>;
}

function metricsOn(registry: Registry): TransportMetrics {
  const requests =
    (registry.getSingleMetric('node_client_requests_total') as
      Counter<'dialect' | 'operation' | 'outcome'> | undefined) ??
    new Counter({
      name: 'node_client_requests_total',
      help: 'Outbound calls to the node, Checkout, receipt service and MyPay, per attempt and outcome',
      labelNames: ['dialect', 'operation', 'outcome'],
      registers: [registry],
    });
  const duration =
    (registry.getSingleMetric('node_client_request_duration_seconds') as
      Histogram<'dialect' | 'operation' | 'outcome'> | undefined) ??
    new Histogram({
      name: 'node_client_request_duration_seconds',
      help: 'Duration of one outbound attempt, by dialect, operation and outcome',
      labelNames: ['dialect', 'operation', 'outcome'],
      // The node's own timeouts are 7 s and 15 s.
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 4, 7, 10, 15],
      registers: [registry],
    });
  return { requests, duration };
}

// ------------------------------------------------------------------------------------------------
// The transport.

/** Error codes of a socket that never carried the request: safe to resend even a write. */
const NOT_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

function networkCode(err: unknown): string | undefined {
  let e: unknown = err;
  for (let depth = 0; depth < 4 && typeof e === 'object' && e !== null; depth += 1) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

type AttemptResult<T> =
  | { readonly kind: 'ok'; readonly value: T }
  | { readonly kind: 'error'; readonly error: AppError; readonly retry: boolean };

export class NodeTransport {
  private readonly breakers = new Map<string, CircuitBreaker>();
  private readonly metrics: TransportMetrics;
  private readonly sender: HttpSender;
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;

  constructor(private readonly options: TransportOptions) {
    if (!Number.isInteger(options.retryAttemptsMax) || options.retryAttemptsMax < 1) {
      throw new RangeError('retryAttemptsMax must be a positive integer');
    }
    this.metrics = metricsOn(options.registry);
    this.sender =
      options.sender ??
      (hasTls(options.tls)
        ? nodeHttpSender(tlsAgentOptions(options.tls), options.maxResponseBytes)
        : fetchSender(options.maxResponseBytes));
    this.now = options.now ?? Date.now;
    this.sleep = options.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
    this.random = options.random ?? Math.random;
  }

  /** Releases the keep-alive sockets of the TLS agent (on shutdown). */
  close(): void {
    const agent = (this.sender as { agent?: { destroy(): void } }).agent;
    agent?.destroy();
  }

  /** The breaker of an upstream base URL (created closed on first use). */
  breaker(upstream: string): CircuitBreaker {
    let b = this.breakers.get(upstream);
    if (b === undefined) {
      b = new CircuitBreaker({
        failuresMax: this.options.circuitFailuresMax,
        openMs: this.options.circuitOpenMs,
        now: this.now,
      });
      this.breakers.set(upstream, b);
    }
    return b;
  }

  /**
   * Makes the call under the policy.
   * @throws AppError('dependency-down') when the circuit is open or the upstream cannot be
   * reached (reads: after the last attempt).
   * @throws AppError('upstream-error') for an upstream refusal or error answer, and for a write
   * that timed out or lost its connection (it may have been accepted).
   */
  async call<T>(spec: CallSpec<T>): Promise<T> {
    const attemptsMax = spec.idempotent ? this.options.retryAttemptsMax : 1;
    let last: AppError | undefined;
    for (let attempt = 1; attempt <= attemptsMax; attempt += 1) {
      if (attempt > 1) await this.sleep(this.backoffMs(attempt - 1));
      const result = await this.attempt(spec, attempt);
      if (result.kind === 'ok') return result.value;
      last = result.error;
      if (!result.retry) break;
      if (attempt < attemptsMax) {
        this.options.logger?.warn(
          { dialect: spec.dialect, operation: spec.operation, attempt, code: last.code },
          'node call failed, retrying',
        );
      }
    }
    throw last ?? new AppError('internal', 'no attempt made');
  }

  /** Exponential backoff with equal jitter: base·2^(n−1)·[0.5, 1). */
  backoffMs(retryNumber: number): number {
    const ceiling = this.options.retryBackoffBaseMs * 2 ** (retryNumber - 1);
    return Math.round(ceiling * (0.5 + this.random() / 2));
  }

  private record(spec: CallSpec<unknown>, outcome: Outcome, startedAt: number): void {
    const labels = { dialect: spec.dialect, operation: spec.operation, outcome };
    this.metrics.requests.inc(labels);
    if (outcome !== 'circuit-open') {
      this.metrics.duration.observe(labels, (this.now() - startedAt) / 1000);
    }
  }

  private async attempt<T>(spec: CallSpec<T>, attempt: number): Promise<AttemptResult<T>> {
    const breaker = this.breaker(spec.upstream);
    const startedAt = this.now();
    const log = { dialect: spec.dialect, operation: spec.operation, attempt };
    if (!breaker.tryAcquire()) {
      this.record(spec, 'circuit-open', startedAt);
      return {
        kind: 'error',
        retry: false,
        error: new AppError('dependency-down', `circuit open for ${spec.operation} upstream`, {
          dialect: spec.dialect,
          operation: spec.operation,
          retryInMs: breaker.retryInMs,
        }),
      };
    }
    let res: HttpResponse;
    try {
      res = await this.sender(spec.request, AbortSignal.timeout(this.options.timeoutMs));
    } catch (err) {
      const outcome = this.failureOutcome(err);
      breaker.onFailure();
      this.record(spec, outcome, startedAt);
      this.options.logger?.warn({ ...log, outcome, network: networkCode(err) }, 'node call failed');
      return {
        kind: 'error',
        retry: spec.idempotent,
        error: this.failureError(spec, err, outcome),
      };
    }
    try {
      const value = spec.interpret(res);
      breaker.onSuccess();
      this.record(spec, 'ok', startedAt);
      this.options.logger?.debug({ ...log, status: res.status, outcome: 'ok' }, 'node call');
      return { kind: 'ok', value };
    } catch (err) {
      const error =
        err instanceof AppError
          ? err
          : upstreamError(
              'unreadable answer',
              { status: res.status },
              { transient: true, cause: err },
            );
      const transient = error.code === 'upstream-error' && isTransient(error);
      if (transient) breaker.onFailure();
      else if (error.code === 'upstream-error') breaker.onSuccess();
      else breaker.onNeutral();
      const outcome: Outcome = transient ? 'error' : 'fault';
      this.record(spec, outcome, startedAt);
      this.options.logger?.info(
        { ...log, status: res.status, outcome, faultCode: error.details['faultCode'] },
        'node call refused',
      );
      return { kind: 'error', retry: transient && spec.idempotent, error };
    }
  }

  private failureOutcome(err: unknown): Outcome {
    const name = (err as { name?: unknown } | null)?.name;
    return name === 'TimeoutError' || name === 'AbortError' ? 'timeout' : 'network';
  }

  private failureError(spec: CallSpec<unknown>, err: unknown, outcome: Outcome): AppError {
    if (err instanceof AppError) return err;
    const code = networkCode(err);
    const where = { dialect: spec.dialect, operation: spec.operation };
    const notSent = outcome === 'network' && code !== undefined && NOT_SENT.has(code);
    if (spec.idempotent || notSent) {
      return new AppError(
        'dependency-down',
        outcome === 'timeout'
          ? `${spec.operation}: no answer within ${this.options.timeoutMs} ms`
          : `${spec.operation}: upstream unreachable (${code ?? 'network error'})`,
        { ...where, ...(code === undefined ? {} : { network: code }) },
        { cause: err },
      );
    }
    const hint = spec.ambiguityHint ?? 'check its state before sending it again';
    return upstreamError(
      outcome === 'timeout'
        ? `${spec.operation}: no answer within ${this.options.timeoutMs} ms; it may have been accepted, ${hint}`
        : `${spec.operation}: connection lost (${code ?? 'network error'}); it may have been accepted, ${hint}`,
      { ...where, ambiguous: true, ...(code === undefined ? {} : { network: code }) },
      { transient: true, cause: err },
    );
  }
}
