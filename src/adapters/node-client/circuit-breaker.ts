/**
 * A circuit breaker per upstream: closed → open after N consecutive failures → half-open after M ms,
 * where one trial call decides between closed (success) and open again (failure).
 *
 * Why: when the node or MyPay is down, each call would otherwise wait for its whole timeout and
 * retries, piling up ERP requests and workers behind a dead upstream. An open circuit answers at
 * once with `dependency-down`, and one trial per period finds out when the upstream is back.
 * Only upstream trouble counts as failure (network errors, timeouts, 5xx, system faults); a
 * business fault such as PPT_RPT_DUPLICATA means the upstream is healthy.
 */

export type CircuitState = 'closed' | 'open' | 'half-open';

export interface CircuitBreakerOptions {
  /** Consecutive failures that open the circuit (≥ 1). */
  readonly failuresMax: number;
  /** How long the circuit stays open before one trial call is let through. */
  readonly openMs: number;
  /** The clock, injectable for tests. */
  readonly now?: () => number;
}

export class CircuitBreaker {
  private failures = 0;
  private openedAt: number | undefined;
  private trialInFlight = false;
  private readonly now: () => number;

  constructor(private readonly options: CircuitBreakerOptions) {
    if (!Number.isInteger(options.failuresMax) || options.failuresMax < 1) {
      throw new RangeError('failuresMax must be a positive integer');
    }
    this.now = options.now ?? Date.now;
  }

  get state(): CircuitState {
    if (this.openedAt === undefined) return 'closed';
    return this.now() - this.openedAt >= this.options.openMs ? 'half-open' : 'open';
  }

  /** Milliseconds until a trial is allowed (0 when the circuit is not open). */
  get retryInMs(): number {
    if (this.openedAt === undefined) return 0;
    return Math.max(0, this.openedAt + this.options.openMs - this.now());
  }

  /**
   * Asks to make a call. In half-open state only one caller gets `true` until that trial reports.
   * Every `true` must be followed by exactly one {@link onSuccess} or {@link onFailure}.
   */
  tryAcquire(): boolean {
    const state = this.state;
    if (state === 'closed') return true;
    if (state === 'open' || this.trialInFlight) return false;
    this.trialInFlight = true;
    return true;
  }

  onSuccess(): void {
    this.failures = 0;
    this.openedAt = undefined;
    this.trialInFlight = false;
  }

  onFailure(): void {
    if (this.trialInFlight || this.openedAt !== undefined) {
      // The trial failed (or a call started before opening ended badly): a new open period.
      this.openedAt = this.now();
      this.trialInFlight = false;
      return;
    }
    this.failures += 1;
    if (this.failures >= this.options.failuresMax) this.openedAt = this.now();
  }

  /** A call that ended without telling anything about the upstream's health (e.g. a bad input). */
  onNeutral(): void {
    this.trialInFlight = false;
  }
}
