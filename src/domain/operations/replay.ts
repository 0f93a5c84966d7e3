import { AppError } from '../errors';
import type { ReceiptState } from '../receipts/types';
import type { Actor, ReceiptFilter, ReplayItem } from './types';

/**
 * Replaying receipts: the operator's answer to "the money arrived but the receipt FAILED"
 * (FIELD.md §3: GovPay operators edit the database for this).
 *
 * Why a replay can never double money: it only moves a FAILED receipt back to RECEIVED and makes
 * sure its reconciliation job runs; the job is the same code as the first time, which locks the
 * receipt row, acts only on RECEIVED receipts, and posts ledger entries under idempotency keys
 * derived from the receipt's business key. Ten replays at once serialise on the receipt's row
 * lock: the first moves it, the others find it RECEIVED with a live job and do nothing.
 */

/** A replay is dry unless asked; a real one needs a reason and a bounded set. */
export const REPLAY_LIMIT_MAX = 1_000;
export const REASON_MAX_CHARS = 1_000;

export type ReplayPlan = {
  readonly action: ReplayItem['action'];
  /** FAILED → RECEIVED, with a history row and an audit line. */
  readonly moveToReceived: boolean;
  /** Retry or add the job (it is failed, completed or missing). */
  readonly ensureJob: boolean;
  readonly detail: string;
};

/**
 * What replaying a receipt in `state` whose job is in `jobState` (BullMQ's state, or `missing`)
 * does. Pure: the repository calls it under the receipt's row lock.
 */
export function planReplay(state: ReceiptState, jobState: string, jobLive: boolean): ReplayPlan {
  switch (state) {
    case 'FAILED':
      return {
        action: 'replayed',
        moveToReceived: true,
        ensureJob: !jobLive,
        detail: jobLive
          ? `FAILED → RECEIVED; its job is ${jobState} and will reconcile it`
          : `FAILED → RECEIVED; job ${jobState === 'missing' ? 'added' : `retried (was ${jobState})`}`,
      };
    case 'RECEIVED':
      return jobLive
        ? {
            action: 'already-queued',
            moveToReceived: false,
            ensureJob: false,
            detail: `RECEIVED with a ${jobState} job: already being reconciled`,
          }
        : {
            action: 'requeued',
            moveToReceived: false,
            ensureJob: true,
            detail: `RECEIVED without a live job; job ${jobState === 'missing' ? 'added' : `retried (was ${jobState})`}`,
          };
    case 'RECONCILED':
      return {
        action: 'skipped',
        moveToReceived: false,
        ensureJob: false,
        detail: 'already RECONCILED: nothing to replay',
      };
    case 'QUARANTINED':
      return {
        action: 'skipped',
        moveToReceived: false,
        ensureJob: false,
        detail: 'QUARANTINED: attach it to a position or card and release it instead',
      };
  }
}

/** Which receipts to replay: one by id, or the oldest matching a filter (FAILED by default). */
export type ReplaySelection =
  { readonly receiptId: number } | { readonly filter: ReceiptFilter; readonly limit: number };

export type ReplayPorts = {
  /** The ids a set replay works through, oldest first, at most `limit`. */
  selectReceiptIds(filter: ReceiptFilter, limit: number): Promise<number[]>;
  /** Replays one receipt under its row lock (or, dry, says what it would do). */
  replayOne(receiptId: number, options: { execute: boolean; actor: Actor }): Promise<ReplayItem>;
};

export type ReplayReport = {
  readonly executed: boolean;
  readonly items: readonly ReplayItem[];
  readonly counts: Readonly<Record<ReplayItem['action'], number>>;
};

/**
 * Checks a replay request the same way for every door.
 * @throws AppError('invalid-input') when executing without a reason, with an oversized reason or
 * limit, or for a set that is not FAILED or RECEIVED receipts.
 */
export function checkReplayRequest(
  selection: ReplaySelection,
  options: { execute: boolean; reason: string },
): void {
  const reason = options.reason.trim();
  if (options.execute && reason === '') {
    throw new AppError('invalid-input', 'a replay needs a reason for the audit trail');
  }
  if (reason.length > REASON_MAX_CHARS) {
    throw new AppError('invalid-input', `the reason is longer than ${REASON_MAX_CHARS} characters`);
  }
  if ('filter' in selection) {
    if (!Number.isInteger(selection.limit) || selection.limit < 1) {
      throw new AppError('invalid-input', 'a set replay needs a limit of at least 1');
    }
    if (selection.limit > REPLAY_LIMIT_MAX) {
      throw new AppError('invalid-input', `the limit is at most ${REPLAY_LIMIT_MAX}`);
    }
    const state = selection.filter.state ?? 'FAILED';
    if (state !== 'FAILED' && state !== 'RECEIVED') {
      throw new AppError('invalid-input', 'a set replay is about FAILED or RECEIVED receipts');
    }
  }
}

/**
 * Replays one receipt or a set, one receipt (one transaction) at a time, reporting progress.
 * Stops at the first infrastructure error (database or Redis down): what was done stays done and
 * audited, and running the same command again continues where it stopped.
 * @throws AppError('invalid-input') as {@link checkReplayRequest}; AppError('not-found') for an
 * unknown receipt id; AppError('dependency-down') when Redis is unavailable.
 */
export async function replayReceipts(
  ports: ReplayPorts,
  selection: ReplaySelection,
  options: {
    execute: boolean;
    actor: Actor;
    onProgress?: (done: number, total: number, item: ReplayItem) => void;
  },
): Promise<ReplayReport> {
  checkReplayRequest(selection, { execute: options.execute, reason: options.actor.reason });
  const ids =
    'receiptId' in selection
      ? [selection.receiptId]
      : await ports.selectReceiptIds(
          { ...selection.filter, state: selection.filter.state ?? 'FAILED' },
          selection.limit,
        );
  const items: ReplayItem[] = [];
  for (const id of ids) {
    const item = await ports.replayOne(id, {
      execute: options.execute,
      actor: { ...options.actor, reason: options.actor.reason.trim() },
    });
    items.push(item);
    options.onProgress?.(items.length, ids.length, item);
  }
  const counts = { replayed: 0, requeued: 0, 'already-queued': 0, skipped: 0 };
  for (const item of items) counts[item.action] += 1;
  return { executed: options.execute, items, counts };
}
