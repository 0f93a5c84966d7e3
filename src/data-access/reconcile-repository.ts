import type { Knex } from 'knex';
import { AppError } from '../domain/errors';
import {
  decideReconciliation,
  paidLinesOf,
  type ReconcileDecision,
  type ReceiptToReconcile,
  type ReconcileFailureCode,
} from '../domain/receipts/reconcile';
import type { ReceiptOutcome, ReceiptState } from '../domain/receipts/types';
import { isMariaDb, type Db } from './db';
import { isDuplicateKey } from './errors';
import { INSERT_ENTRY, insertEntryBindings, type LockedAccount } from './ledger-repository';
import type { NewOutboxEvent, PaymentReconciledPayload } from '../domain/notifications/events';
import { appendOutboxEvent, outboxInsert } from './outbox-repository';
import {
  applySettlement,
  settlementEntry,
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
/*
 * One locking read for everything a reconciliation may change, in the order every writer takes
 * them: the receipt by primary key, its debt position by primary key, the position's options by
 * (debt_position_id, id) as `lockOptionRows` does, and the card account the position credits (the
 * only account a settlement posts to; offline payments lock position → options → account too).
 * LEFT JOINs keep the receipt row when the position, its options or its account are missing.
 * `parsed` is read only for partial payments, the only ones that need the paid lines.
 * No ORDER BY: rows are locked in access order whatever the result order, the options' index
 * already yields them by id, and sorting a result with JSON (LONGTEXT) columns made MariaDB
 * create an on-disk temporary table, a file, for every receipt. They are sorted here instead.
 */
const SELECT_FOR_RECONCILE =
  'SELECT r.id, r.domain_id, r.iuv, r.receipt_key, r.outcome, r.amount_cents, r.paid_at, ' +
  'r.received_at, r.state, r.notice_number, r.debt_position_id, r.payment_option_id, ' +
  "r.payment_attempt_id, IF(r.outcome IN ('PARTIAL', 'PARTIAL_TIMED_OUT'), r.parsed, NULL) AS parsed, " +
  'p.id AS p_id, p.kind AS p_kind, p.status AS p_status, p.card_id AS p_card_id, ' +
  'p.account AS p_account, p.description AS p_description, p.external_id AS p_external_id, ' +
  'o.id AS o_id, o.debt_position_id AS o_debt_position_id, o.iuv AS o_iuv, ' +
  'o.notice_number AS o_notice_number, o.plan AS o_plan, o.installment AS o_installment, ' +
  'o.amount_cents AS o_amount_cents, o.amount_schedule AS o_amount_schedule, ' +
  'o.due_date AS o_due_date, o.valid_from AS o_valid_from, o.status AS o_status, ' +
  'o.paid_amount_cents AS o_paid_amount_cents, o.paid_at AS o_paid_at, ' +
  'a.id AS a_id, a.balance_cents AS a_balance_cents, a.overdraft_limit_cents AS a_overdraft_limit_cents ' +
  'FROM receipts r ' +
  'LEFT JOIN debt_positions p ON p.id = r.debt_position_id ' +
  'LEFT JOIN payment_options o ON o.debt_position_id = p.id ' +
  'LEFT JOIN card_accounts a ON a.card_id = p.card_id AND a.account = p.account ' +
  'WHERE r.id = ? FOR UPDATE';

type PositionFields = Pick<
  PositionRow,
  'id' | 'kind' | 'status' | 'card_id' | 'account' | 'description' | 'external_id'
>;
type Prefixed<T, P extends string> = { [K in keyof T as `${P}${K & string}`]: T[K] | null };
type ReconcileRow = ReceiptRow &
  Prefixed<PositionFields, 'p_'> &
  Prefixed<OptionRow, 'o_'> &
  Prefixed<LockedAccount, 'a_'>;

type Locked = {
  receipt: ReceiptRow;
  position: PositionFields | undefined;
  optionRows: OptionRow[];
  account: LockedAccount | undefined;
};

async function lockForReconcile(
  trx: Knex.Transaction,
  receiptId: number,
): Promise<Locked | undefined> {
  const [rows] = (await trx.raw(SELECT_FOR_RECONCILE, [receiptId])) as [ReconcileRow[]];
  return lockedOf(rows);
}

function lockedOf(rows: ReconcileRow[]): Locked | undefined {
  const first = rows[0];
  if (first === undefined) return undefined;
  const receipt: ReceiptRow = {
    id: first.id,
    domain_id: first.domain_id,
    iuv: first.iuv,
    receipt_key: first.receipt_key,
    outcome: first.outcome,
    amount_cents: first.amount_cents,
    paid_at: first.paid_at,
    received_at: first.received_at,
    parsed: first.parsed,
    state: first.state,
    notice_number: first.notice_number,
    debt_position_id: first.debt_position_id,
    payment_option_id: first.payment_option_id,
    payment_attempt_id: first.payment_attempt_id,
  };
  const position: PositionFields | undefined =
    first.p_id === null
      ? undefined
      : ({
          id: first.p_id,
          kind: first.p_kind,
          status: first.p_status,
          card_id: first.p_card_id,
          account: first.p_account,
          description: first.p_description,
          external_id: first.p_external_id,
        } as PositionFields);
  const optionRows = rows
    .filter((r) => r.o_id !== null)
    .sort((x, y) => Number(x.o_id) - Number(y.o_id))
    .map(
      (r) =>
        ({
          id: r.o_id,
          debt_position_id: r.o_debt_position_id,
          iuv: r.o_iuv,
          notice_number: r.o_notice_number,
          plan: r.o_plan,
          installment: r.o_installment,
          amount_cents: r.o_amount_cents,
          amount_schedule: r.o_amount_schedule,
          due_date: r.o_due_date,
          valid_from: r.o_valid_from,
          status: r.o_status,
          paid_amount_cents: r.o_paid_amount_cents,
          paid_at: r.o_paid_at,
        }) as OptionRow,
    );
  const account: LockedAccount | undefined =
    first.a_id === null
      ? undefined
      : ({
          id: first.a_id,
          balance_cents: first.a_balance_cents,
          overdraft_limit_cents: first.a_overdraft_limit_cents,
        } as LockedAccount);
  return { receipt, position, optionRows, account };
}

/**
 * Applies one stored receipt, in one transaction: lock, decide (pure), write the option and
 * position states, the ledger entry, the receipt's new state with its history row, and the
 * outbox event (`payment.reconciled` or `receipt.failed`). Applying it again changes nothing.
 *
 * Two paths, one outcome. On two cores the reconciler was bound by round trips (each statement
 * a loopback write and a wake-up of the server), not by the work of each statement, so the
 * common case (a RECEIVED receipt paying its position in full) runs in two: one compound
 * statement opens the transaction and takes every lock, one writes everything and commits
 * ({@link reconcileInTwoRoundTrips}). Anything else (a failure, no money, a partial payment,
 * a receipt already applied) rolls that back and runs statement by statement in a knex
 * transaction ({@link reconcileStepwise}), which re-reads everything under the same locks.
 * A ledger key that already exists (it cannot, short of a hand-edited database) aborts the
 * compound write; the stepwise path then answers the existing entry or refuses a conflicting one.
 * @throws the database's errors (deadlock, lost connection: the job retries) and AppError
 * ('internal' | 'idempotency-conflict') for states that should not exist.
 */
export async function reconcileReceipt(
  db: Db,
  receiptId: number,
  actor: string,
): Promise<ReconcileOutcome> {
  if (await isMariaDb(db)) {
    try {
      const done = await reconcileInTwoRoundTrips(db, receiptId, actor);
      if (done !== undefined) return done;
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
    }
  }
  return reconcileStepwise(db, receiptId, actor);
}

/** mysql2's connection, as far as this module uses it. */
type PooledConnection = { readonly _fatalError?: unknown; destroy(): void };
/** knex's client: its pool lends a connection that queries then name with `.connection()`. */
type PoolClient = {
  acquireConnection(): Promise<PooledConnection>;
  releaseConnection(connection: PooledConnection): Promise<unknown>;
};

/**
 * The common case in two round trips on a pooled connection, or undefined (rolled back, nothing
 * written) when the receipt needs the stepwise path.
 */
async function reconcileInTwoRoundTrips(
  db: Db,
  receiptId: number,
  actor: string,
): Promise<ReconcileOutcome | undefined> {
  const pool = db.client as PoolClient;
  const conn = await pool.acquireConnection();
  let open = false;
  try {
    open = true;
    const [sets] = (await db
      .raw(`BEGIN NOT ATOMIC START TRANSACTION; ${SELECT_FOR_RECONCILE}; END`, [receiptId])
      .connection(conn)) as [[ReconcileRow[]]];
    const locked = lockedOf(sets[0]);
    if (locked === undefined) return undefined;
    const { receipt, position, optionRows, account } = locked;
    if (
      receipt.state !== 'RECEIVED' ||
      receipt.debt_position_id === null ||
      position === undefined ||
      receipt.outcome !== 'PAID'
    ) {
      return undefined;
    }
    const decision = decideReconciliation(
      factsOf(receipt),
      toSettlementPosition(position, optionRows),
      optionRows.map((row) => ({ ...toOption(row, []), transferAmountsCents: [] })),
    );
    // Full payments only: a partial one keeps its attempt and option open (stepwise path).
    if (decision.kind !== 'apply' || decision.partial !== null) return undefined;
    if (decision.settlement.paidOptions.length === 0) return undefined;
    const now = new Date();
    const ledgerEntryId = await applyInOneBlock(
      (sql, bindings) => db.raw(sql, bindings).connection(conn),
      {
        receipt,
        position: { id: Number(position.id), description: position.description },
        account,
        decision,
        event: reconciledEvent(receipt, position, optionRows, decision, receiptId),
        actor,
        now,
        commit: true,
      },
    );
    open = false;
    return {
      kind: 'reconciled',
      receiptId,
      amountCents: decision.payment.amountCents,
      ledgerEntryId,
    };
  } finally {
    // A failed statement leaves the transaction open (a deadlock has already rolled it back):
    // roll back before the connection goes back to the pool. A connection that cannot is
    // marked broken by mysql2 and the pool discards it instead of lending it again.
    if (open && (conn._fatalError === undefined || conn._fatalError === null)) {
      await db
        .raw('ROLLBACK')
        .connection(conn)
        // A connection whose transaction state is unknown must never be lent again.
        .catch(() => conn.destroy());
    }
    await pool.releaseConnection(conn);
  }
}

function factsOf(receipt: ReceiptRow): ReceiptToReconcile {
  const partial = receipt.outcome === 'PARTIAL' || receipt.outcome === 'PARTIAL_TIMED_OUT';
  return {
    domainId: receipt.domain_id,
    iuv: receipt.iuv,
    receiptKey: receipt.receipt_key,
    outcome: receipt.outcome,
    amountCents: Number(receipt.amount_cents),
    paidAt: receipt.paid_at ?? receipt.received_at,
    paidLinesCents: partial ? paidLinesOf(jsonColumn(receipt.parsed)) : undefined,
  };
}

/** The `payment.reconciled` event of an applied receipt; ledgerEntryId is filled in on write. */
function reconciledEvent(
  receipt: ReceiptRow,
  position: PositionFields,
  optionRows: OptionRow[],
  decision: Extract<ReconcileDecision, { kind: 'apply' }>,
  receiptId: number,
): { type: 'payment.reconciled'; domainId: string; payload: PaymentReconciledPayload } {
  const option =
    optionRows.find((o) => o.iuv === receipt.iuv) ??
    optionRows.find((o) => Number(o.id) === Number(receipt.payment_option_id));
  return {
    type: 'payment.reconciled' as const,
    domainId: receipt.domain_id,
    payload: {
      domainId: receipt.domain_id,
      channel: 'PAGOPA' as const,
      amountCents: decision.payment.amountCents,
      paidAt: decision.payment.paidAt.toISOString(),
      receiptId,
      offlinePaymentId: null,
      iuv: receipt.iuv,
      noticeNumber: option?.notice_number ?? receipt.notice_number,
      receiptKey: receipt.receipt_key,
      debtPositionId: Number(position.id),
      positionExternalId: position.external_id,
      paymentOptionId: option === undefined ? null : Number(option.id),
      cardId: position.card_id === null ? null : Number(position.card_id),
      account: position.account,
      ledgerEntryId: null,
    },
  };
}

/** Every case, statement by statement, in a knex transaction. */
async function reconcileStepwise(
  db: Db,
  receiptId: number,
  actor: string,
): Promise<ReconcileOutcome> {
  return db.transaction(async (trx) => {
    const locked = await lockForReconcile(trx, receiptId);
    if (locked === undefined) return { kind: 'skipped', receiptId, state: 'missing' };
    const { receipt, position, optionRows } = locked;
    if (receipt.state !== 'RECEIVED') return { kind: 'skipped', receiptId, state: receipt.state };
    if (receipt.debt_position_id === null) {
      return markFailed(trx, receipt, actor, 'not-found', 'the receipt is linked to no position');
    }
    const positionId = Number(receipt.debt_position_id);
    if (position === undefined) {
      return markFailed(trx, receipt, actor, 'not-found', `debt position ${positionId} is gone`);
    }
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

    const decision = decideReconciliation(
      factsOf(receipt),
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
        const event = reconciledEvent(receipt, position, optionRows, decision, receiptId);
        const positionRef = { id: positionId, description: position.description };
        const closeAttempt = attemptId !== null && decision.settlement.paidOptions.length === 0;
        const { ledgerEntryId } = await applySettlement(
          trx,
          positionRef,
          decision.settlement,
          decision.payment,
        );
        if (decision.partial !== null) {
          await trx('payment_options')
            .where({ id: decision.partial.optionId })
            .update({ paid_amount_cents: decision.partial.paidAmountCents });
        }
        // A partial payment closes its attempt too (applySettlement closes those of paid options).
        if (closeAttempt) {
          await trx('payment_attempts')
            .where({ id: attemptId, status: 'PENDING' })
            .update({ status: 'PAID', updated_at: now });
        }
        await moveReceipt(trx, receipt, 'RECONCILED', null, actor, now);
        await appendOutboxEvent(trx, {
          ...event,
          payload: { ...event.payload, ledgerEntryId },
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

type Statement = { sql: string; bindings: readonly unknown[] };

/**
 * The writes of a receipt paying options in full as one compound statement, the same writes applySettlement,
 * postEntry, moveReceipt and appendOutboxEvent make one by one (kept in step by sharing their
 * SQL and builders). Returns the ledger entry id (null when the settlement moves no money).
 */
async function applyInOneBlock(
  run: (sql: string, bindings: Knex.RawBinding[]) => Promise<unknown>,
  input: {
    receipt: ReceiptRow;
    position: { id: number; description: string };
    account: LockedAccount | undefined;
    decision: Extract<ReconcileDecision, { kind: 'apply' }>;
    event: NewOutboxEvent;
    actor: string;
    now: Date;
    /** End the block with COMMIT (the caller opened the transaction itself). */
    commit: boolean;
  },
): Promise<number | null> {
  const { receipt, position, decision, now } = input;
  const settlement = decision.settlement;
  const payment = decision.payment;
  const statements: Statement[] = [];
  for (const paid of settlement.paidOptions) {
    statements.push({
      sql:
        "UPDATE payment_options SET status = 'PAID', paid_amount_cents = ?, paid_at = ? " +
        "WHERE id = ? AND status = 'UNPAID'",
      bindings: [paid.paidAmountCents, payment.paidAt, paid.optionId],
    });
  }
  statements.push({
    sql: 'UPDATE debt_positions SET status = ?, updated_at = ? WHERE id = ?',
    bindings: [settlement.positionStatus, now, position.id],
  });
  if (settlement.paidOptions.length > 0) {
    const ids = settlement.paidOptions.map((p) => p.optionId);
    statements.push({
      sql:
        `UPDATE payment_attempts SET status = 'PAID', updated_at = ? ` +
        `WHERE payment_option_id IN (${ids.map(() => '?').join(', ')}) AND status = 'PENDING'`,
      bindings: [now, ...ids],
    });
  }
  let moved = false;
  if (settlement.ledger !== null) {
    const account = input.account;
    if (account === undefined) {
      throw new AppError(
        'internal',
        `card ${settlement.ledger.cardId} has no ${settlement.ledger.account} account`,
      );
    }
    const entry = settlementEntry(position, settlement, payment, Number(account.id));
    if (!Number.isSafeInteger(entry.amountCents)) {
      throw new AppError('amount-invalid', `amount ${entry.amountCents} is not integer cents`);
    }
    const next = Number(account.balance_cents) + entry.amountCents;
    statements.push(
      { sql: INSERT_ENTRY, bindings: insertEntryBindings(entry, next, new Date()) },
      { sql: 'SET @entry_id = LAST_INSERT_ID()', bindings: [] },
      {
        sql: 'UPDATE card_accounts SET balance_cents = ?, updated_at = NOW(3) WHERE id = ?',
        bindings: [next, entry.cardAccountId],
      },
    );
    moved = true;
  }
  statements.push(...moveReceiptStatements(receipt, 'RECONCILED', null, input.actor, now));
  const outbox = outboxInsert(
    input.event,
    moved ? "JSON_SET(?, '$.ledgerEntryId', @entry_id)" : '?',
  );
  statements.push({ sql: outbox.sql, bindings: outbox.bindings });
  if (input.commit) statements.push({ sql: 'COMMIT', bindings: [] });
  statements.push({
    sql: `SELECT ${moved ? '@entry_id' : 'NULL'} AS ledger_entry_id`,
    bindings: [],
  });

  const [results] = (await run(
    `BEGIN NOT ATOMIC ${statements.map((s) => s.sql).join('; ')}; END`,
    statements.flatMap((s) => s.bindings) as Knex.RawBinding[],
  )) as [unknown[]];
  const rows = results[0] as { ledger_entry_id: number | string | null }[] | undefined;
  const id = rows?.[0]?.ledger_entry_id ?? null;
  return id === null ? null : Number(id);
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

function moveReceiptStatements(
  receipt: ReceiptRow,
  to: 'RECONCILED' | 'FAILED',
  reason: string | null,
  actor: string,
  now: Date,
): Statement[] {
  return [
    to === 'RECONCILED'
      ? {
          sql: 'UPDATE receipts SET state = ?, state_reason = ?, updated_at = ?, reconciled_at = ? WHERE id = ?',
          bindings: [to, reason, now, now, receipt.id],
        }
      : {
          sql: 'UPDATE receipts SET state = ?, state_reason = ?, updated_at = ? WHERE id = ?',
          bindings: [to, reason, now, receipt.id],
        },
    {
      sql:
        'INSERT INTO receipt_state_changes (receipt_id, from_state, to_state, reason, actor) ' +
        'VALUES (?, ?, ?, ?, ?)',
      bindings: [receipt.id, receipt.state, to, reason, actor],
    },
  ];
}

async function moveReceipt(
  trx: Knex.Transaction,
  receipt: ReceiptRow,
  to: 'RECONCILED' | 'FAILED',
  reason: string | null,
  actor: string,
  now: Date,
): Promise<void> {
  for (const s of moveReceiptStatements(receipt, to, reason, actor, now)) {
    await trx.raw(s.sql, s.bindings as Knex.RawBinding[]);
  }
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
