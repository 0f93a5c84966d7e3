/**
 * What one item of a batch came to: its own value, or its own error.
 */
export type ItemOutcome<O> =
  { readonly ok: true; readonly value: O } | { readonly ok: false; readonly error: unknown };

export type MicroBatchOptions<I, O> = {
  /** The most items one run receives; more wait for the next run (same turn, another batch). */
  readonly maxItems: number;
  /**
   * Runs a batch: resolves one outcome per item, in the items' order. A rejection fails every
   * item of the batch with that error.
   */
  readonly run: (items: readonly I[]) => Promise<readonly ItemOutcome<O>[]>;
  /** Told the size of every batch run (a metric). */
  readonly onBatch?: (size: number) => void;
};

/**
 * Groups the calls made in one turn of the event loop into batches: the first call of a turn
 * schedules a run with `setImmediate`, which fires after every I/O callback of that turn, so a
 * burst of requests parsed in one turn shares one statement (or one Redis round trip) instead of
 * one each. A lone call waits for nothing but the end of its turn: no timer, no added latency.
 *
 * Why: at the intake's load, the round trips (syscalls, the driver's per-statement work, the
 * server's per-statement work and commit) cost more CPU than the receipts themselves.
 * Batches run concurrently with each other; the connection pool bounds them.
 */
export function microBatch<I, O>(options: MicroBatchOptions<I, O>): (item: I) => Promise<O> {
  if (!Number.isInteger(options.maxItems) || options.maxItems < 1) {
    throw new RangeError(`maxItems must be a positive integer, got ${options.maxItems}`);
  }
  type Waiting = { item: I; resolve: (value: O) => void; reject: (error: unknown) => void };
  let pending: Waiting[] = [];
  let scheduled = false;

  const runBatch = (batch: Waiting[]): void => {
    options.onBatch?.(batch.length);
    // Async, so a run that throws before its first await fails the batch like one that rejects.
    const started = (async () => options.run(batch.map((w) => w.item)))();
    started.then(
      (outcomes) => {
        batch.forEach((w, i) => {
          const outcome = outcomes[i];
          if (outcome === undefined) {
            w.reject(new Error(`batch run gave ${outcomes.length} outcomes for ${batch.length}`));
          } else if (outcome.ok) {
            w.resolve(outcome.value);
          } else {
            w.reject(outcome.error);
          }
        });
      },
      (err: unknown) => {
        for (const w of batch) w.reject(err);
      },
    );
  };

  const flush = (): void => {
    scheduled = false;
    const all = pending;
    pending = [];
    for (let i = 0; i < all.length; i += options.maxItems) {
      runBatch(all.slice(i, i + options.maxItems));
    }
  };

  return (item) =>
    new Promise<O>((resolve, reject) => {
      pending.push({ item, resolve, reject });
      if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
    });
}
