import type { Knex } from 'knex';
import {
  decideReconciliation,
  paidLinesOf,
  type ReceiptToReconcile,
  type ReconcileFailureCode,
} from '../domain/receipts/reconcile';
import type { ReceiptOutcome, ReceiptState } from '../domain/receipts/types';
import type { Db } from './db';
import { appendOutboxEvent } from './outbox-repository';
import {
  applySettlement,
  toOption,
  toSettlementPosition,
  type OptionRow,
  type PositionRow,
} from './positions-repository';

/**
 * Reconciliation of stored receipts on MariaDB, one transaction per receipt, plus the claims of
 * the two schedulers that feed it (the sweeper and missing-receipt recovery).
 *
 * Lock order: the receipt row, then the debt position, its options and the card account (the
 * order of positions-repository.ts). Offline payments and position updates take the same
 * position → options → account order and never lock receipts, so nothing can deadlock in a cycle.
 *
 * Why the receipt row's state is the guard: a job that runs twice (a resend enqueued again, a
 * stalled job picked up by another worker after its first run committed, an operator replay)
 * finds the receipt RECONCILED or FAILED under the row lock and changes nothing. The ledger's
 * idempotency key (derived from the receipt's business key) is the second guard.
 */

type ReceiptRow = {
  id: number | string;
  domain_id: string;
  iuv: string;
  receipt_key: string;
  outcome: ReceiptOutcome;
  amount_cents: number | string;
  paid_at: Date | null;
  received_at: Date;
  parsed: unknown;
  state: ReceiptState;
  notice_number: string | null;
  debt_position_id: number | string | null;
  payment_option_id: number | string | null;
  payment_attempt_id: number | string | null;
};

type TransferAmountRow = {
  payment_option_id: number | string;
  amount_cents: number | string;
};

export type ReconcileOutcome =
  | {
      readonly kind: 'reconciled';
      readonly receiptId: number;
      readonly amountCents: number;
      readonly ledgerEntryId: number | null;
    }
  /** NOT_PAID / TIMED_OUT (or a partial with no line paid): RECONCILED without money. */
  | { readonly kind: 'no-money'; readonly receiptId: number }
  | {
      readonly kind: 'failed';
      readonly receiptId: number;
      readonly code: ReconcileFailureCode;
      readonly reason: string;
    }
  /** Already RECONCILED, FAILED or QUARANTINED, or gone: nothing to do. */
  | {
      readonly kind: 'skipped';
      readonly receiptId: number;
      readonly state: ReceiptState | 'missing';
    };

const REASON_MAX = 1000;

/** mysql2 returns MariaDB JSON columns (LONGTEXT) as text. */
const jsonColumn = (value: unknown): unknown =>
  typeof value === 'string' ? (JSON.parse(value) as unknown) : value;

/*
 * The hot statements of a reconciliation are prebuilt SQL rather than query-builder chains: knex
 * compiling ~12 statements per receipt was a sixth of a worker's CPU.
 */
const SELECT_RECEIPT_FOR_UPDATE =
  'SELECT id, domain_id, iuv, receipt_key, outcome, amount_cents, paid_at, received_at, parsed, ' +
  'state, notice_number, debt_position_id, payment_option_id, payment_attempt_id ' +
  'FROM receipts WHERE id = ? LIMIT 1 FOR UPDATE';

/** What a reconciliation reads of the position; `o_present` tells a LEFT JOIN miss apart. */
type PositionFields = Pick<
  PositionRow,
  'id' | 'kind' | 'status' | 'card_id' | 'account' | 'description' | 'external_id'
>;
type PositionOptionRow = OptionRow & { [K in keyof PositionFields as `p_${K}`]: PositionFields[K] };

/*
 * One locking read for the position and its options, in the order every writer takes them:
 * the position by primary key first, then its options by (debt_position_id, id), as
 * `lockOptionRows` does. A position without options comes back as one row of NULL options.
 */
const SELECT_POSITION_AND_OPTIONS_FOR_UPDATE =
  'SELECT p.id AS p_id, p.kind AS p_kind, p.status AS p_status, p.card_id AS p_card_id, ' +
  'p.account AS p_account, p.description AS p_description, p.external_id AS p_external_id, ' +
  'o.id, o.debt_position_id, o.iuv, o.notice_number, o.plan, o.installment, o.amount_cents, ' +
  'o.amount_schedule, o.due_date, o.valid_from, o.status, o.paid_amount_cents, o.paid_at ' +
  'FROM debt_positions p LEFT JOIN payment_options o ON o.debt_position_id = p.id ' +
  'WHERE p.id = ? ORDER BY o.id FOR UPDATE';

async function lockPositionAndOptions(
  trx: Knex.Transaction,
  positionId: number,
): Promise<{ position: PositionFields; optionRows: OptionRow[] } | undefined> {
  const [rows] = (await trx.raw(SELECT_POSITION_AND_OPTIONS_FOR_UPDATE, [positionId])) as [
    PositionOptionRow[],
  ];
  const first = rows[0];
  if (first === undefined) return undefined;
  return {
    position: {
      id: first.p_id,
      kind: first.p_kind,
      status: first.p_status,
      card_id: first.p_card_id,
      account: first.p_account,
      description: first.p_description,
      external_id: first.p_external_id,
    },
    optionRows: rows.filter((r) => r.id !== null),
  };
}

/**
 * Applies one stored receipt, in one transaction: lock, decide (pure), write the option and
 * position states, the ledger entry, the receipt's new state with its history row, and the
 * outbox event (`payment.reconciled` or `receipt.failed`). Applying it again changes nothing.
 * @throws the database's errors (deadlock, lost connection: the job retries) and AppError
 * ('internal' | 'idempotency-conflict') for states that should not exist.
 */
export async function reconcileReceipt(
  db: Db,
  receiptId: number,
  actor: string,
): Promise<ReconcileOutcome> {
  return db.transaction(async (trx) => {
    const [receipts] = (await trx.raw(SELECT_RECEIPT_FOR_UPDATE, [receiptId])) as [ReceiptRow[]];
    const receipt = receipts[0];
    if (receipt === undefined) return { kind: 'skipped', receiptId, state: 'missing' };
    if (receipt.state !== 'RECEIVED') return { kind: 'skipped', receiptId, state: receipt.state };
    if (receipt.debt_position_id === null) {
      return markFailed(trx, receipt, actor, 'not-found', 'the receipt is linked to no position');
    }

    const positionId = Number(receipt.debt_position_id);
    const locked = await lockPositionAndOptions(trx, positionId);
    if (locked === undefined) {
      return markFailed(trx, receipt, actor, 'not-found', `debt position ${positionId} is gone`);
    }
    const { position, optionRows } = locked;
    const outcome = receipt.outcome;
    const partial = outcome === 'PARTIAL' || outcome === 'PARTIAL_TIMED_OUT';
    // Transfers matter only to partial payments: full ones skip the read.
    const transfers = (
      partial && optionRows.length > 0
        ? await trx('transfers')
            .whereIn(
              'payment_option_id',
              optionRows.map((o) => o.id),
            )
            .orderBy(['payment_option_id', 'transfer_index'])
            .select('payment_option_id', 'amount_cents')
        : []
    ) as TransferAmountRow[];

    const facts: ReceiptToReconcile = {
      domainId: receipt.domain_id,
      iuv: receipt.iuv,
      receiptKey: receipt.receipt_key,
      outcome,
      amountCents: Number(receipt.amount_cents),
      paidAt: receipt.paid_at ?? receipt.received_at,
      paidLinesCents: partial ? paidLinesOf(jsonColumn(receipt.parsed)) : undefined,
    };
    const decision = decideReconciliation(
      facts,
      toSettlementPosition(position, optionRows),
      optionRows.map((row) => {
        const option = toOption(row, []);
        return {
          ...option,
          transferAmountsCents: transfers
            .filter((t) => Number(t.payment_option_id) === option.id)
            .map((t) => Number(t.amount_cents)),
        };
      }),
    );

    const now = new Date();
    const attemptId =
      receipt.payment_attempt_id === null ? null : Number(receipt.payment_attempt_id);
    switch (decision.kind) {
      case 'fail':
        return markFailed(trx, receipt, actor, decision.code, decision.detail);
      case 'no-money':
        if (attemptId !== null) {
          await trx('payment_attempts')
            .where({ id: attemptId, status: 'PENDING' })
            .update({ status: 'NOT_PAID', updated_at: now });
        }
        await moveReceipt(trx, receipt, 'RECONCILED', decision.detail, actor, now);
        return { kind: 'no-money', receiptId };
      case 'apply': {
        const { ledgerEntryId } = await applySettlement(
          trx,
          { id: positionId, description: position.description },
          decision.settlement,
          decision.payment,
        );
        if (decision.partial !== null) {
          await trx('payment_options')
            .where({ id: decision.partial.optionId })
            .update({ paid_amount_cents: decision.partial.paidAmountCents });
        }
        // A partial payment closes its attempt too (applySettlement closes those of paid options).
        if (attemptId !== null && decision.settlement.paidOptions.length === 0) {
          await trx('payment_attempts')
            .where({ id: attemptId, status: 'PENDING' })
            .update({ status: 'PAID', updated_at: now });
        }
        await moveReceipt(trx, receipt, 'RECONCILED', null, actor, now);
        const option =
          optionRows.find((o) => o.iuv === receipt.iuv) ??
          optionRows.find((o) => Number(o.id) === Number(receipt.payment_option_id));
        await appendOutboxEvent(trx, {
          type: 'payment.reconciled',
          domainId: receipt.domain_id,
          payload: {
            domainId: receipt.domain_id,
            channel: 'PAGOPA',
            amountCents: decision.payment.amountCents,
            paidAt: decision.payment.paidAt.toISOString(),
            receiptId,
            offlinePaymentId: null,
            iuv: receipt.iuv,
            noticeNumber: option?.notice_number ?? receipt.notice_number,
            receiptKey: receipt.receipt_key,
            debtPositionId: positionId,
            positionExternalId: position.external_id,
            paymentOptionId: option === undefined ? null : Number(option.id),
            cardId: position.card_id === null ? null : Number(position.card_id),
            account: position.account,
            ledgerEntryId,
          },
        });
        return {
          kind: 'reconciled',
          receiptId,
          amountCents: decision.payment.amountCents,
          ledgerEntryId,
        };
      }
    }
  });
}

/**
 * Marks a receipt FAILED with a reason an operator can read, and tells the ERP, in one
 * transaction; for errors the worker gives up on (a permanent error, or the last attempt).
 * Does nothing (returns false) unless the receipt is still RECEIVED.
 */
export async function failReceipt(
  db: Db,
  receiptId: number,
  code: string,
  reason: string,
  actor: string,
): Promise<boolean> {
  return db.transaction(async (trx) => {
    const receipt = (await trx('receipts')
      .where({ id: receiptId })
      .forUpdate()
      .first(
        'id',
        'domain_id',
        'iuv',
        'receipt_key',
        'amount_cents',
        'state',
        'notice_number',
        'debt_position_id',
      )) as ReceiptRow | undefined;
    if (receipt === undefined || receipt.state !== 'RECEIVED') return false;
    await markFailed(trx, receipt, actor, code, reason);
    return true;
  });
}

async function markFailed(
  trx: Knex.Transaction,
  receipt: ReceiptRow,
  actor: string,
  code: string,
  detail: string,
): Promise<ReconcileOutcome> {
  const reason = `${code}: ${detail}`.slice(0, REASON_MAX);
  await moveReceipt(trx, receipt, 'FAILED', reason, actor, new Date());
  await appendOutboxEvent(trx, {
    type: 'receipt.failed',
    domainId: receipt.domain_id,
    payload: {
      domainId: receipt.domain_id,
      receiptId: Number(receipt.id),
      iuv: receipt.iuv,
      receiptKey: receipt.receipt_key,
      noticeNumber: receipt.notice_number,
      amountCents: Number(receipt.amount_cents),
      state: 'FAILED',
      // The catalogued code only: the free-text detail stays in the inbox for operators.
      reason: code,
      debtPositionId: receipt.debt_position_id === null ? null : Number(receipt.debt_position_id),
    },
  });
  return {
    kind: 'failed',
    receiptId: Number(receipt.id),
    code: code as ReconcileFailureCode,
    reason,
  };
}

async function moveReceipt(
  trx: Knex.Transaction,
  receipt: ReceiptRow,
  to: 'RECONCILED' | 'FAILED',
  reason: string | null,
  actor: string,
  now: Date,
): Promise<void> {
  await trx.raw(
    to === 'RECONCILED'
      ? 'UPDATE receipts SET state = ?, state_reason = ?, updated_at = ?, reconciled_at = ? WHERE id = ?'
      : 'UPDATE receipts SET state = ?, state_reason = ?, updated_at = ? WHERE id = ?',
    to === 'RECONCILED' ? [to, reason, now, now, receipt.id] : [to, reason, now, receipt.id],
  );
  await trx.raw(
    'INSERT INTO receipt_state_changes (receipt_id, from_state, to_state, reason, actor) ' +
      'VALUES (?, ?, ?, ?, ?)',
    [receipt.id, receipt.state, to, reason, actor],
  );
}

/** A receipt the sweeper enqueues again: its id and business key (for the job id). */
export type StaleReceipt = {
  readonly receiptId: number;
  readonly domainId: string;
  readonly iuv: string;
  readonly receiptKey: string;
};

/**
 * Claims RECEIVED receipts older than `olderThanMs` that were not claimed in the last
 * `olderThanMs` either, oldest first, and stamps them (updated_at) so that the next sweep, here or
 * on another worker, leaves them alone for a while. SKIP LOCKED lets several sweepers run at once
 * without waiting on each other; the database clock decides age, not the process's.
 */
export async function claimStaleReceipts(
  db: Db,
  options: { olderThanMs: number; limit: number },
): Promise<StaleReceipt[]> {
  return db.transaction(async (trx) => {
    const cutoff = trx.raw('NOW(3) - INTERVAL ? MICROSECOND', [options.olderThanMs * 1000]);
    const rows = (await trx('receipts')
      .where('state', 'RECEIVED')
      .where('received_at', '<', cutoff)
      .where('updated_at', '<', cutoff)
      .orderBy('received_at')
      .limit(options.limit)
      .forUpdate()
      .skipLocked()
      .select('id', 'domain_id', 'iuv', 'receipt_key')) as Pick<
      ReceiptRow,
      'id' | 'domain_id' | 'iuv' | 'receipt_key'
    >[];
    if (rows.length === 0) return [];
    await trx('receipts')
      .whereIn(
        'id',
        rows.map((r) => r.id),
      )
      .update({ updated_at: trx.fn.now(3) });
    return rows.map((r) => ({
      receiptId: Number(r.id),
      domainId: r.domain_id,
      iuv: r.iuv,
      receiptKey: r.receipt_key,
    }));
  });
}

/** A payment attempt still waiting for its receipt, as recovery asks the node about it. */
export type PendingAttempt = {
  readonly attemptId: number;
  readonly paymentId: string;
  readonly channel: string;
  readonly domainId: string;
  readonly iuv: string;
  readonly noticeNumber: string;
  /** RT model: the CCP of the RPT sent; null for new-model attempts. */
  readonly ccp: string | null;
  readonly amountCents: number;
  readonly createdAt: Date;
};

/**
 * Claims PENDING payment attempts created more than `delayMs` ago that have no receipt in the
 * inbox and were not asked about in the last `delayMs`, and stamps them (updated_at), with SKIP
 * LOCKED so several workers share the work. The attempt itself changes state only when its
 * receipt is reconciled.
 */
export async function claimPendingAttempts(
  db: Db,
  options: { delayMs: number; limit: number },
): Promise<PendingAttempt[]> {
  return db.transaction(async (trx) => {
    const cutoff = trx.raw('NOW(3) - INTERVAL ? MICROSECOND', [options.delayMs * 1000]);
    const rows = (await trx('payment_attempts as a')
      .join('payment_options as o', 'o.id', 'a.payment_option_id')
      .where('a.status', 'PENDING')
      // MyPay attempts have their own poller (mypay-attempts-repository.ts): stamping them here
      // would only push its next question back.
      .whereNot('a.channel', 'MYPAY')
      .where('a.created_at', '<', cutoff)
      .where('a.updated_at', '<', cutoff)
      .whereNotExists(function () {
        void this.select(trx.raw('1'))
          .from('receipts as r')
          .whereRaw('r.payment_option_id = a.payment_option_id')
          // RT receipts name their attempt (CCP); new-model receipts only their option.
          .whereRaw('(r.payment_attempt_id = a.id OR r.payment_attempt_id IS NULL)');
      })
      .orderBy('a.created_at')
      .limit(options.limit)
      .forUpdate()
      .skipLocked()
      .select(
        'a.id',
        'a.payment_id',
        'a.channel',
        'a.ccp',
        'a.amount_cents',
        'a.created_at',
        'o.domain_id',
        'o.iuv',
        'o.notice_number',
      )) as {
      id: number | string;
      payment_id: string;
      channel: string;
      ccp: string | null;
      amount_cents: number | string;
      created_at: Date;
      domain_id: string;
      iuv: string;
      notice_number: string;
    }[];
    if (rows.length === 0) return [];
    await trx('payment_attempts')
      .whereIn(
        'id',
        rows.map((r) => r.id),
      )
      .update({ updated_at: trx.fn.now(3) });
    return rows.map((r) => ({
      attemptId: Number(r.id),
      paymentId: r.payment_id,
      channel: r.channel,
      domainId: r.domain_id,
      iuv: r.iuv,
      noticeNumber: r.notice_number,
      ccp: r.ccp,
      amountCents: Number(r.amount_cents),
      createdAt: r.created_at,
    }));
  });
}
