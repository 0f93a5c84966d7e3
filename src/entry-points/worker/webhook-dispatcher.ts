import type { Db } from '../../data-access/db';
import {
  claimDueEvents,
  markDelivered,
  markFailed,
  releaseClaims,
  type OutboxEvent,
} from '../../data-access/outbox-repository';
import { deliverWebhook, type DeliveryOutcome } from '../../adapters/erp-webhooks';
import type { Config } from '../../shared/config';
import type { Logger } from '../../shared/logger';

/**
 * Delivers outbox events to the ERP as signed webhooks (see adapters/erp-webhooks.ts).
 *
 * Why a polling loop over the table and not a BullMQ queue: the outbox row is written in the
 * business transaction, so the table is the source of truth; a queue would need its own outbox
 * relay to stay consistent. Several workers may run it: claims use SKIP LOCKED and a lease.
 * Delivery is at least once (a crash between the POST and the outcome update resends after the
 * lease), so the ERP deduplicates by event id.
 */

export type WebhookRetryPolicy = {
  attemptsMax: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
};

/** Events of one batch delivered at once: a small municipal ERP is not flooded. */
const DELIVERY_CONCURRENCY = 5;
/** Added to the worst batch duration for the lease, covering the outcome updates. */
const LEASE_MARGIN_MS = 30_000;
/** Longest pause between polls while the database is failing. */
const ERROR_PAUSE_MAX_MS = 30_000;

/**
 * The cap of the wait after the `failedAttempts`-th failure: base · 2^(n−1), at most max.
 * Exported for the README's schedule and its test.
 */
export function retryDelayCapMs(failedAttempts: number, policy: WebhookRetryPolicy): number {
  const exponent = Math.min(Math.max(failedAttempts - 1, 0), 40);
  return Math.min(policy.backoffMaxMs, policy.backoffBaseMs * 2 ** exponent);
}

/**
 * The wait before the next attempt after `failedAttempts` failures, or null when the event is
 * now DEAD. Full jitter (uniform in [0, cap]): when the ERP comes back after an outage, the
 * backlog returns spread out instead of in one burst.
 */
export function retryDelayMs(
  failedAttempts: number,
  policy: WebhookRetryPolicy,
  random: () => number = Math.random,
): number | null {
  if (failedAttempts >= policy.attemptsMax) return null;
  return Math.floor(random() * retryDelayCapMs(failedAttempts, policy));
}

export type WebhookDispatcherDeps = {
  db: Db;
  logger: Logger;
  /** Undefined: nothing is delivered and events stay PENDING (the ERP pages the feed). */
  target: { url: string; secret: string } | undefined;
  policy: WebhookRetryPolicy;
  timeoutMs: number;
  pollIntervalMs: number;
  batchSize: number;
  random?: () => number;
};

/**
 * Starts the polling loop. The returned stop ends the loop and waits for the deliveries in
 * flight (at most one timeout each); claimed events not yet attempted are released, so a deploy
 * does not leave them waiting for their lease to expire.
 */
export function startWebhookDispatcher(deps: WebhookDispatcherDeps): () => Promise<void> {
  const { logger } = deps;
  if (deps.target === undefined) {
    logger.info(
      {},
      'ERP_WEBHOOK_URL not set: outbox events stay PENDING and are readable through the feed',
    );
    return () => Promise.resolve();
  }
  const target = { ...deps.target, timeoutMs: deps.timeoutMs };
  const leaseMs =
    deps.timeoutMs * Math.ceil(deps.batchSize / DELIVERY_CONCURRENCY) + LEASE_MARGIN_MS;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let inFlight: Promise<void> | undefined;
  let failingSince: number | undefined;
  let consecutiveErrors = 0;

  const deliverOne = async (event: OutboxEvent): Promise<void> => {
    const outcome: DeliveryOutcome = await deliverWebhook(target, {
      eventId: event.eventId,
      type: event.type,
      createdAt: event.createdAt,
      payload: event.payload,
    });
    const attempt = event.attempts + 1;
    const context = { eventId: event.eventId, type: event.type, attempt };
    if (outcome.delivered) {
      const recorded = await markDelivered(deps.db, event, outcome.status);
      logger.debug({ ...context, status: outcome.status, recorded }, 'webhook delivered');
      return;
    }
    const retryInMs = retryDelayMs(attempt, deps.policy, deps.random);
    const recorded = await markFailed(deps.db, event, {
      status: outcome.status,
      error: outcome.error,
      retryInMs,
    });
    if (retryInMs === null) {
      logger.error(
        { ...context, status: outcome.status, error: outcome.error, recorded },
        'webhook dead after its last attempt',
      );
    } else {
      logger.warn(
        { ...context, status: outcome.status, error: outcome.error, retryInMs, recorded },
        'webhook attempt failed',
      );
    }
  };

  /** One poll: claim a batch, deliver it, record outcomes. Returns how many were claimed. */
  const runBatch = async (): Promise<number> => {
    const events = await claimDueEvents(deps.db, { batchSize: deps.batchSize, leaseMs });
    let next = 0;
    const lane = async (): Promise<void> => {
      while (next < events.length && !stopped) {
        const event = events[next++];
        if (event === undefined) return;
        try {
          await deliverOne(event);
        } catch (err) {
          // The outcome could not be recorded (database down): the lease brings the event back.
          logger.warn({ eventId: event.eventId, err }, 'webhook outcome not recorded');
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(DELIVERY_CONCURRENCY, events.length) }, lane));
    // Stopping: what this process will not attempt goes back to the other workers at once.
    if (next < events.length) await releaseClaims(deps.db, events.slice(next));
    return events.length;
  };

  const schedule = (delayMs: number): void => {
    if (stopped) return;
    timer = setTimeout(tick, delayMs);
  };

  const tick = (): void => {
    inFlight = runBatch()
      .then((claimed) => {
        if (failingSince !== undefined) {
          logger.info({ failingForMs: Date.now() - failingSince }, 'webhook dispatcher recovered');
        }
        failingSince = undefined;
        consecutiveErrors = 0;
        // A full batch means a backlog: poll again at once instead of waiting.
        schedule(claimed >= deps.batchSize ? 0 : deps.pollIntervalMs);
      })
      .catch((err: unknown) => {
        consecutiveErrors += 1;
        if (failingSince === undefined) {
          failingSince = Date.now();
          logger.warn({ err }, 'webhook dispatcher cannot claim events; retrying');
        }
        schedule(
          Math.min(ERROR_PAUSE_MAX_MS, deps.pollIntervalMs * 2 ** Math.min(consecutiveErrors, 10)),
        );
      });
  };

  logger.info(
    { batchSize: deps.batchSize, pollIntervalMs: deps.pollIntervalMs, ...deps.policy },
    'webhook dispatcher started',
  );
  schedule(0);

  return async () => {
    stopped = true;
    clearTimeout(timer);
    await inFlight;
  };
}

/** The dispatcher's settings as the service configures them (see the README's env table). */
export function webhookDispatcherDeps(
  config: Pick<
    Config,
    | 'erpWebhookUrl'
    | 'erpWebhookSecret'
    | 'webhookAttemptsMax'
    | 'webhookBackoffBaseMs'
    | 'webhookBackoffMaxMs'
    | 'webhookTimeoutMs'
    | 'webhookPollIntervalMs'
    | 'webhookBatchSize'
  >,
  db: Db,
  logger: Logger,
): WebhookDispatcherDeps {
  const { erpWebhookUrl: url, erpWebhookSecret: secret } = config;
  return {
    db,
    logger,
    // The config schema refuses a URL without a secret; both or neither reach here.
    target: url !== undefined && secret !== undefined ? { url, secret } : undefined,
    policy: {
      attemptsMax: config.webhookAttemptsMax,
      backoffBaseMs: config.webhookBackoffBaseMs,
      backoffMaxMs: config.webhookBackoffMaxMs,
    },
    timeoutMs: config.webhookTimeoutMs,
    pollIntervalMs: config.webhookPollIntervalMs,
    batchSize: config.webhookBatchSize,
  };
}
