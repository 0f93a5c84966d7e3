import type { Logger } from './logger';

/**
 * Owns the order in which things stop.
 *
 * Components register their stop function as soon as they exist (before they are ready), so a
 * SIGTERM that arrives during start-up still closes what was opened. Stops run in reverse order of
 * registration: HTTP servers (started last) stop first, then workers, queues, Redis and the
 * database pool (opened first).
 */
export class Lifecycle {
  private readonly stops: { name: string; stop: () => Promise<void> }[] = [];
  private stopping: Promise<boolean> | undefined;

  constructor(private readonly logger: Logger) {}

  get isStopping(): boolean {
    return this.stopping !== undefined;
  }

  /** Registers a stop function. @throws ShutdownInProgressError when shutdown has begun. */
  add(name: string, stop: () => Promise<void>): void {
    if (this.isStopping) {
      // Whatever was just created must not outlive the shutdown that is already running.
      void stop().catch(() => undefined);
      throw new ShutdownInProgressError(name);
    }
    this.stops.push({ name, stop });
  }

  /**
   * Stops everything registered, in reverse order, each within the remaining time budget.
   * Resolves true when every stop finished in time and without error.
   */
  stop(timeoutMs: number): Promise<boolean> {
    this.stopping ??= this.runStops(timeoutMs);
    return this.stopping;
  }

  private async runStops(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    let clean = true;
    for (const { name, stop } of [...this.stops].reverse()) {
      const remainingMs = deadline - Date.now();
      if (remainingMs <= 0) {
        this.logger.error({ component: name }, 'shutdown time exhausted');
        return false;
      }
      try {
        const finished = await withTimeout(stop(), remainingMs);
        if (!finished) {
          this.logger.error({ component: name, timeoutMs }, 'component did not stop in time');
          return false;
        }
        this.logger.info({ component: name }, 'stopped');
      } catch (err) {
        clean = false;
        this.logger.error({ component: name, err }, 'component failed to stop cleanly');
      }
    }
    return clean;
  }
}

export class ShutdownInProgressError extends Error {
  override readonly name = 'ShutdownInProgressError';
  constructor(component: string) {
    super(`shutdown in progress: ${component} not started`);
  }
}

async function withTimeout(promise: Promise<void>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([promise.then(() => true as const), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
