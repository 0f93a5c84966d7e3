import type { Knex } from 'knex';
import { AppError } from '../domain/errors';
import { planReplay } from '../domain/operations/replay';
import type {
  Actor,
  AuditLine,
  LedgerLine,
  PositionView,
  ReceiptDetail,
  ReceiptFilter,
  ReceiptRef,
  ReceiptSummary,
  ReconcileJobs,
  ReplayItem,
  StateChange,
} from '../domain/operations/types';
import type { ReceiptState } from '../domain/receipts/types';
import { contentHash, sha256Hex } from '../shared/hash';
import { listAudit, recordAudit } from './audit-repository';
import { postEntry } from './ledger-repository';
import {
  cancelPosition,
  findPosition,
  recordOfflinePayment,
  type OfflineChannel,
} from './positions-repository';

/**
 * The operators' reads and writes on MariaDB: the receipts inventory, one receipt with everything
 * it touched, and the corrective actions (replay, quarantine, position fixes).
 *
 * Every action runs in one transaction that also writes its audit line (who, what, why, before,
 * after), so an action and its audit commit or roll back together. A dry run is the same
 * transaction rolled back at the end: what it reports is exactly what `--execute` would do.
 * Receipt actions lock the receipt row first (the reconcile worker's lock order), so they
 * serialise with the worker and with each other.
 */

type Queryable = Knex | Knex.Transaction;

type ReceiptRow = {
  id: number | string;
  domain_id: string;
  iuv: string;
  receipt_key: string;
  notice_number: string | null;
  source: ReceiptSummary['source'];
  outcome: ReceiptSummary['outcome'];
  amount_cents: number | string;
  state: ReceiptState;
  state_reason: string | null;
  station_id: string | null;
  debt_position_id: number | string | null;
  payment_option_id: number | string | null;
  received_at: Date;
  updated_at: Date;
  conflicts?: number | string;
};

const SUMMARY_COLUMNS = [
  'r.id',
  'r.domain_id',
  'r.iuv',
  'r.receipt_key',
  'r.notice_number',
  'r.source',
  'r.outcome',
  'r.amount_cents',
  'r.state',
  'r.state_reason',
  'r.station_id',
  'r.debt_position_id',
  'r.payment_option_id',
  'r.received_at',
  'r.updated_at',
] as const;

const jsonColumn = (value: unknown): unknown =>
  typeof value === 'string' ? (JSON.parse(value) as unknown) : value;
const numOrNull = (v: number | string | null | undefined): number | null =>
  v === null || v === undefined ? null : Number(v);

const toSummary = (r: ReceiptRow): ReceiptSummary => ({
  id: Number(r.id),
  domainId: r.domain_id,
  iuv: r.iuv,
  receiptKey: r.receipt_key,
  noticeNumber: r.notice_number,
  source: r.source,
  outcome: r.outcome,
  amountCents: Number(r.amount_cents),
  state: r.state,
  reason: r.state_reason,
  stationId: r.station_id,
  debtPositionId: numOrNull(r.debt_position_id),
  conflicts: Number(r.conflicts ?? 0),
  receivedAt: r.received_at,
  updatedAt: r.updated_at,
});

/** Escapes LIKE wildcards so a reason filter matches literally. */
const likeLiteral = (s: string): string => s.replace(/[\\%_]/g, (c) => `\\${c}`);

function filtered(db: Queryable, filter: ReceiptFilter): Knex.QueryBuilder {
  const q = db('receipts as r').select(
    ...SUMMARY_COLUMNS,
    db.raw('(SELECT COUNT(*) FROM receipt_conflicts c WHERE c.receipt_id = r.id) AS conflicts'),
  );
  if (filter.state === 'CONFLICT') {
    void q.whereExists(function () {
      void this.select(db.raw('1')).from('receipt_conflicts as c').whereRaw('c.receipt_id = r.id');
    });
  } else if (filter.state !== undefined) {
    void q.where('r.state', filter.state);
  }
  if (filter.domainId !== undefined) void q.where('r.domain_id', filter.domainId);
  if (filter.iuv !== undefined) void q.where('r.iuv', filter.iuv);
  if (filter.reasonContains !== undefined && filter.reasonContains !== '') {
    void q.whereRaw('LOWER(r.state_reason) LIKE ?', [
      `%${likeLiteral(filter.reasonContains.toLowerCase())}%`,
    ]);
  }
  if (filter.olderThanMs !== undefined) {
    void q.whereRaw('r.received_at < NOW(3) - INTERVAL ? MICROSECOND', [filter.olderThanMs * 1000]);
  }
  return q;
}

/** A page of the inventory, newest first, after an optional id cursor. */
export async function listReceipts(
  db: Knex,
  filter: ReceiptFilter,
  page: { beforeId?: number | undefined; limit: number },
): Promise<ReceiptSummary[]> {
  const q = filtered(db, filter).orderBy('r.id', 'desc').limit(page.limit);
  if (page.beforeId !== undefined) void q.where('r.id', '<', page.beforeId);
  return ((await q) as ReceiptRow[]).map(toSummary);
}

/** The ids a set replay works through: oldest first, at most `limit`. */
export async function selectReceiptIds(
  db: Knex,
  filter: ReceiptFilter,
  limit: number,
): Promise<number[]> {
  const rows = (await filtered(db, filter).orderBy('r.id', 'asc').limit(limit)) as ReceiptRow[];
  return rows.map((r) => Number(r.id));
}

/** Receipts per inventory state (CONFLICT: receipts with at least one conflicting resend). */
export async function countReceiptsByState(db: Knex): Promise<Record<string, number>> {
  const rows = (await db('receipts').select('state').count({ n: '*' }).groupBy('state')) as {
    state: string;
    n: number | string;
  }[];
  const counts: Record<string, number> = {
    RECEIVED: 0,
    RECONCILED: 0,
    FAILED: 0,
    QUARANTINED: 0,
    CONFLICT: 0,
  };
  for (const r of rows) counts[r.state] = Number(r.n);
  const conflict = (await db('receipt_conflicts').countDistinct({ n: 'receipt_id' }).first()) as
    { n: number | string } | undefined;
  counts['CONFLICT'] = Number(conflict?.n ?? 0);
  return counts;
}

/** One receipt with its raw and parsed forms, history, conflicts, position, ledger and audit. */
export async function findReceiptDetail(
  db: Knex,
  receiptId: number,
): Promise<ReceiptDetail | undefined> {
  const row = (await filtered(db, {})
    .select('r.raw_xml', 'r.parsed', 'r.paid_at')
    .where('r.id', receiptId)
    .first()) as
    (ReceiptRow & { raw_xml: string; parsed: unknown; paid_at: Date | null }) | undefined;
  if (row === undefined) return undefined;
  const history = (await db('receipt_state_changes')
    .where({ receipt_id: receiptId })
    .orderBy('id')
    .select('from_state', 'to_state', 'reason', 'actor', 'changed_at')) as {
    from_state: string | null;
    to_state: string;
    reason: string | null;
    actor: string;
    changed_at: Date;
  }[];
  const conflicts = (await db('receipt_conflicts')
    .where({ receipt_id: receiptId })
    .orderBy('id')
    .select('id', 'payload_hash', 'raw_xml', 'received_at')) as {
    id: number | string;
    payload_hash: string;
    raw_xml: string;
    received_at: Date;
  }[];
  const positionId = numOrNull(row.debt_position_id);
  const position = positionId === null ? null : await positionView(db, positionId);
  const reference = `${row.domain_id}/${row.iuv}/${row.receipt_key}`;
  const ledger = (await db('ledger_entries')
    .where((w) => {
      void w.where('idempotency_key', 'like', `%${likeLiteral(reference)}`);
      if (positionId !== null) void w.orWhere('debt_position_id', positionId);
    })
    .orderBy('id')
    .limit(200)) as LedgerRow[];
  const audit = await listAudit(db, {
    subjectType: 'receipt',
    subjectId: String(receiptId),
    limit: 200,
  });
  return {
    ...toSummary(row),
    rawXml: row.raw_xml,
    parsed: jsonColumn(row.parsed),
    paidAt: row.paid_at,
    history: withArrival(
      history.map((h) => ({
        from: h.from_state,
        to: h.to_state,
        reason: h.reason,
        actor: h.actor,
        at: h.changed_at,
      })),
      row,
    ),
    conflictingContents: conflicts.map((c) => ({
      id: Number(c.id),
      payloadHash: c.payload_hash,
      rawXml: c.raw_xml,
      receivedAt: c.received_at,
    })),
    position,
    ledgerEntries: ledger.map(toLedgerLine),
    audit: audit.map(toAuditLine),
  };
}

/**
 * The receipt's arrival is its own row (the intake writes no history line for it): the first line
 * of the history shown is made from it, in the state it arrived in.
 */
function withArrival(history: StateChange[], row: ReceiptRow): StateChange[] {
  const first = history[0];
  if (first !== undefined && first.from === null) return history;
  const arrivedAs = first?.from ?? row.state;
  return [
    {
      from: null,
      to: arrivedAs,
      reason: first === undefined ? row.state_reason : null,
      actor: `intake (${row.source})`,
      at: row.received_at,
    },
    ...history,
  ];
}

type LedgerRow = {
  id: number | string;
  card_account_id: number | string;
  amount_cents: number | string;
  kind: string;
  idempotency_key: string;
  reverses_entry_id: number | string | null;
  balance_after_cents: number | string;
  created_at: Date;
  debt_position_id: number | string | null;
};

const toLedgerLine = (r: LedgerRow): LedgerLine => ({
  id: Number(r.id),
  cardAccountId: Number(r.card_account_id),
  amountCents: Number(r.amount_cents),
  kind: r.kind,
  idempotencyKey: r.idempotency_key,
  reversesEntryId: numOrNull(r.reverses_entry_id),
  balanceAfterCents: Number(r.balance_after_cents),
  createdAt: r.created_at,
});

export const toAuditLine = (a: Awaited<ReturnType<typeof listAudit>>[number]): AuditLine => ({
  id: a.id,
  occurredAt: a.occurredAt,
  actor: a.actor,
  action: a.action,
  subjectType: a.subjectType,
  subjectId: a.subjectId,
  reason: a.reason ?? null,
  before: a.before ?? null,
  after: a.after ?? null,
});

async function positionView(db: Queryable, positionId: number): Promise<PositionView | null> {
  const p = (await db('debt_positions').where({ id: positionId }).first()) as
    | {
        id: number | string;
        domain_id: string;
        external_id: string;
        kind: string;
        status: string;
        card_id: number | string | null;
        account: string | null;
      }
    | undefined;
  if (p === undefined) return null;
  const options = (await db('payment_options')
    .where({ debt_position_id: positionId })
    .orderBy('id')
    .select('id', 'iuv', 'notice_number', 'amount_cents', 'paid_amount_cents', 'status')) as {
    id: number | string;
    iuv: string;
    notice_number: string;
    amount_cents: number | string;
    paid_amount_cents: number | string;
    status: string;
  }[];
  return {
    id: Number(p.id),
    domainId: p.domain_id,
    externalId: p.external_id,
    kind: p.kind,
    status: p.status,
    cardId: numOrNull(p.card_id),
    account: p.account,
    options: options.map((o) => ({
      id: Number(o.id),
      iuv: o.iuv,
      noticeNumber: o.notice_number,
      amountCents: Number(o.amount_cents),
      paidAmountCents: Number(o.paid_amount_cents),
      status: o.status,
    })),
  };
}

/** Thrown to roll a dry run back while keeping its result. */
class DryRun<T> extends Error {
  constructor(readonly result: T) {
    super('dry run: rolled back');
  }
}

/**
 * Runs an operator action in one transaction; a dry run (`execute` false) rolls it back at the
 * end and answers what it would have done.
 */
async function act<T>(
  db: Knex,
  execute: boolean,
  action: (trx: Knex.Transaction) => Promise<T>,
): Promise<T> {
  try {
    return await db.transaction(async (trx) => {
      const result = await action(trx);
      if (!execute) throw new DryRun(result);
      return result;
    });
  } catch (err) {
    if (err instanceof DryRun) return err.result as T;
    throw err;
  }
}

async function lockReceipt(trx: Knex.Transaction, receiptId: number): Promise<ReceiptRow> {
  const row = (await trx('receipts as r')
    .select(...SUMMARY_COLUMNS)
    .where('r.id', receiptId)
    .forUpdate()
    .first()) as ReceiptRow | undefined;
  if (row === undefined) throw new AppError('not-found', `no receipt ${receiptId}`);
  return row;
}

const refOf = (r: ReceiptRow): ReceiptRef => ({
  receiptId: Number(r.id),
  domainId: r.domain_id,
  iuv: r.iuv,
  receiptKey: r.receipt_key,
});

async function moveReceipt(
  trx: Knex.Transaction,
  receipt: ReceiptRow,
  to: ReceiptState,
  reason: string | null,
  actor: string,
): Promise<void> {
  const now = new Date();
  await trx('receipts')
    .where({ id: receipt.id })
    .update({
      state: to,
      state_reason: reason === null ? null : reason.slice(0, 1000),
      updated_at: now,
      ...(to === 'RECONCILED' ? { reconciled_at: now } : {}),
    });
  await trx('receipt_state_changes').insert({
    receipt_id: receipt.id,
    from_state: receipt.state,
    to_state: to,
    reason: reason === null ? null : reason.slice(0, 1000),
    actor: actor.slice(0, 100),
  });
}

const receiptAudit = (
  actor: Actor,
  action: string,
  receipt: ReceiptRow,
  before: unknown,
  after: unknown,
) => ({
  actor: actor.name,
  action,
  subjectType: 'receipt',
  subjectId: String(receipt.id),
  reason: actor.reason,
  before,
  after,
  requestId: actor.requestId ?? null,
});

/**
 * Replays one receipt under its row lock: FAILED → RECEIVED, and its job retried or added; a
 * RECEIVED one whose job is not live gets its job back; anything else is left alone. The job is
 * touched inside the transaction, so if Redis refuses, the receipt stays as it was; a job that
 * starts before the commit waits on the row lock and then sees RECEIVED.
 * @throws AppError('not-found') for an unknown receipt; AppError('dependency-down') from Redis.
 */
export async function replayOne(
  db: Knex,
  jobs: ReconcileJobs,
  isLive: (jobState: string) => boolean,
  receiptId: number,
  options: { execute: boolean; actor: Actor },
): Promise<ReplayItem> {
  return act(db, options.execute, async (trx) => {
    const receipt = await lockReceipt(trx, receiptId);
    const ref = refOf(receipt);
    const jobState = await jobs.state(ref);
    const plan = planReplay(receipt.state, jobState, isLive(jobState));
    const item = {
      receiptId: ref.receiptId,
      iuv: receipt.iuv,
      domainId: receipt.domain_id,
      stateBefore: receipt.state,
      action: plan.action,
      detail: plan.detail,
    };
    if (!options.execute) return { ...item, jobAction: null };
    if (plan.moveToReceived) {
      await moveReceipt(
        trx,
        receipt,
        'RECEIVED',
        `replay: ${options.actor.reason}`,
        options.actor.name,
      );
    }
    const jobAction = plan.ensureJob ? await jobs.ensure(ref) : plan.moveToReceived ? 'live' : null;
    if (plan.moveToReceived || plan.ensureJob) {
      await recordAudit(
        trx,
        receiptAudit(
          options.actor,
          'receipt.replay',
          receipt,
          { state: receipt.state, reason: receipt.state_reason, job: jobState },
          { state: 'RECEIVED', job: jobAction },
        ),
      );
    }
    return { ...item, jobAction };
  });
}

/** Where a quarantined receipt goes: the position owning its IUV, or a card as a top-up. */
export type AttachTarget =
  | { readonly kind: 'position'; readonly externalId: string }
  | {
      readonly kind: 'card';
      readonly cardCode: string;
      readonly account: 'CANTEEN' | 'NURSERY_MEALS' | 'SCHOOL_TRANSPORT';
      /** The taxonomy code of the domain's service for that account (the top-up's transfer). */
      readonly taxonomyCode: string;
    };

export type AttachResult = {
  readonly receiptId: number;
  readonly positionId: number;
  readonly externalId: string;
  readonly optionId: number;
  readonly created: boolean;
};

/**
 * Attaches a QUARANTINED receipt to what it pays, so that releasing it reconciles it through the
 * normal code. To a position: the position must own an option with the receipt's IUV (it was
 * created after the receipt came, or the receipt came through an unexpected station). To a card:
 * a TOP_UP position for the card's account is made with one option carrying the receipt's IUV and
 * amount, which the reconciliation then credits (once, by the ledger's idempotency key).
 * The receipt stays QUARANTINED until released.
 * @throws AppError('not-found' | 'conflict') when the receipt, position or card does not fit.
 */
export async function attachQuarantined(
  db: Knex,
  receiptId: number,
  target: AttachTarget,
  options: { execute: boolean; actor: Actor },
): Promise<AttachResult> {
  return act(db, options.execute, async (trx) => {
    const receipt = await lockReceipt(trx, receiptId);
    if (receipt.state !== 'QUARANTINED') {
      throw new AppError('conflict', `receipt ${receiptId} is ${receipt.state}, not QUARANTINED`);
    }
    const before = {
      debtPositionId: numOrNull(receipt.debt_position_id),
      paymentOptionId: numOrNull(receipt.payment_option_id),
    };
    const attached =
      target.kind === 'position'
        ? await optionOfPosition(trx, receipt, target.externalId)
        : await topUpFor(trx, receipt, target);
    await trx('receipts').where({ id: receipt.id }).update({
      debt_position_id: attached.positionId,
      payment_option_id: attached.optionId,
      updated_at: new Date(),
    });
    await recordAudit(
      trx,
      receiptAudit(options.actor, 'receipt.attach', receipt, before, {
        debtPositionId: attached.positionId,
        paymentOptionId: attached.optionId,
        externalId: attached.externalId,
        target: target.kind,
      }),
    );
    return { receiptId, ...attached };
  });
}

async function optionOfPosition(
  trx: Knex.Transaction,
  receipt: ReceiptRow,
  externalId: string,
): Promise<Omit<AttachResult, 'receiptId'>> {
  const position = (await trx('debt_positions')
    .where({ domain_id: receipt.domain_id, external_id: externalId })
    .first('id')) as { id: number | string } | undefined;
  if (position === undefined) {
    throw new AppError(
      'not-found',
      `no debt position ${externalId} in domain ${receipt.domain_id}`,
    );
  }
  const option = (await trx('payment_options')
    .where({ debt_position_id: position.id, iuv: receipt.iuv })
    .first('id')) as { id: number | string } | undefined;
  if (option === undefined) {
    throw new AppError(
      'conflict',
      `debt position ${externalId} has no option with IUV ${receipt.iuv}: attach the receipt to a card as a top-up, or mark it refunded outside pagoPA`,
    );
  }
  return {
    positionId: Number(position.id),
    externalId,
    optionId: Number(option.id),
    created: false,
  };
}

async function topUpFor(
  trx: Knex.Transaction,
  receipt: ReceiptRow,
  target: Extract<AttachTarget, { kind: 'card' }>,
): Promise<Omit<AttachResult, 'receiptId'>> {
  const card = (await trx('cards').where({ card_code: target.cardCode }).first()) as
    | {
        id: number | string;
        domain_id: string;
        holder_fiscal_code: string;
        holder_full_name: string;
      }
    | undefined;
  if (card === undefined) throw new AppError('not-found', `no card ${target.cardCode}`);
  if (card.domain_id !== receipt.domain_id) {
    throw new AppError(
      'conflict',
      `card ${target.cardCode} belongs to domain ${card.domain_id}, the receipt to ${receipt.domain_id}`,
    );
  }
  const account = (await trx('card_accounts')
    .where({ card_id: card.id, account: target.account })
    .first('id')) as { id: number | string } | undefined;
  if (account === undefined) {
    throw new AppError('not-found', `card ${target.cardCode} has no ${target.account} account`);
  }
  const taken = (await trx('payment_options')
    .where({ domain_id: receipt.domain_id, iuv: receipt.iuv })
    .first('debt_position_id')) as { debt_position_id: number | string } | undefined;
  if (taken !== undefined) {
    throw new AppError(
      'conflict',
      `IUV ${receipt.iuv} already belongs to debt position ${String(taken.debt_position_id)}: attach the receipt to that position`,
    );
  }
  const externalId = `QUARANTINE-${String(receipt.id)}`;
  const amountCents = Number(receipt.amount_cents);
  const description = `Top-up from quarantined receipt ${String(receipt.id)}`;
  const [positionId] = (await trx('debt_positions').insert({
    domain_id: receipt.domain_id,
    external_id: externalId,
    kind: 'TOP_UP',
    service: target.account,
    card_id: card.id,
    account: target.account,
    debtor_type: 'F',
    debtor_fiscal_code: card.holder_fiscal_code,
    debtor_full_name: card.holder_full_name,
    description,
    status: 'OPEN',
    request_hash: sha256Hex(`quarantine:${String(receipt.id)}`),
  })) as number[];
  const noticeNumber = receipt.notice_number ?? `3${receipt.iuv}`.slice(0, 18);
  const [optionId] = (await trx('payment_options').insert({
    debt_position_id: positionId,
    domain_id: receipt.domain_id,
    iuv: receipt.iuv,
    notice_number: noticeNumber,
    plan: 'SINGLE',
    amount_cents: amountCents,
    due_date: new Date().toISOString().slice(0, 10),
    status: 'UNPAID',
  })) as number[];
  await trx('transfers').insert({
    payment_option_id: optionId,
    transfer_index: 1,
    beneficiary_fiscal_code: receipt.domain_id,
    amount_cents: amountCents,
    taxonomy_code: target.taxonomyCode,
    remittance_information: description,
  });
  return {
    positionId: Number(positionId),
    externalId,
    optionId: Number(optionId),
    created: true,
  };
}

/**
 * Releases an attached QUARANTINED receipt: RECEIVED, and its reconciliation job added (or
 * retried), in one transaction with its audit line.
 * @throws AppError('conflict') when it is not QUARANTINED or not attached yet.
 */
export async function releaseQuarantined(
  db: Knex,
  jobs: ReconcileJobs,
  receiptId: number,
  options: { execute: boolean; actor: Actor },
): Promise<{ receiptId: number; jobAction: string | null }> {
  return act(db, options.execute, async (trx) => {
    const receipt = await lockReceipt(trx, receiptId);
    if (receipt.state !== 'QUARANTINED') {
      throw new AppError('conflict', `receipt ${receiptId} is ${receipt.state}, not QUARANTINED`);
    }
    if (receipt.debt_position_id === null) {
      throw new AppError(
        'conflict',
        `receipt ${receiptId} is attached to no position: attach it first (to a position or a card)`,
      );
    }
    await moveReceipt(
      trx,
      receipt,
      'RECEIVED',
      `released: ${options.actor.reason}`,
      options.actor.name,
    );
    const jobAction = options.execute ? await jobs.ensure(refOf(receipt)) : null;
    await recordAudit(
      trx,
      receiptAudit(
        options.actor,
        'receipt.release',
        receipt,
        { state: receipt.state, reason: receipt.state_reason },
        { state: 'RECEIVED', job: jobAction },
      ),
    );
    return { receiptId, jobAction };
  });
}

/**
 * Closes a QUARANTINED or FAILED receipt whose money was given back outside pagoPA (a bank
 * refund): RECONCILED without money, its reason starting with `refunded outside pagoPA:`.
 * @throws AppError('conflict') for a receipt in another state.
 */
export async function markRefundedOutside(
  db: Knex,
  receiptId: number,
  options: { execute: boolean; actor: Actor },
): Promise<{ receiptId: number; stateBefore: ReceiptState }> {
  return act(db, options.execute, async (trx) => {
    const receipt = await lockReceipt(trx, receiptId);
    if (receipt.state !== 'QUARANTINED' && receipt.state !== 'FAILED') {
      throw new AppError(
        'conflict',
        `receipt ${receiptId} is ${receipt.state}; only QUARANTINED or FAILED receipts can be marked refunded`,
      );
    }
    const reason = `refunded outside pagoPA: ${options.actor.reason}`;
    await moveReceipt(trx, receipt, 'RECONCILED', reason, options.actor.name);
    await recordAudit(
      trx,
      receiptAudit(
        options.actor,
        'receipt.refunded-outside',
        receipt,
        { state: receipt.state, reason: receipt.state_reason },
        { state: 'RECONCILED', reason },
      ),
    );
    return { receiptId, stateBefore: receipt.state };
  });
}

const positionSnapshot = async (trx: Knex.Transaction, domainId: string, externalId: string) => {
  const p = await findPosition(trx, domainId, externalId);
  if (p === undefined) throw new AppError('not-found', `no debt position ${externalId}`);
  return {
    id: p.id,
    status: p.status,
    options: p.options.map((o) => ({
      iuv: o.iuv,
      status: o.status,
      paidAmountCents: o.paidAmountCents,
    })),
  };
};

/**
 * Marks a position paid outside pagoPA: an offline payment (same settlement as counter payments,
 * new ledger entries, never edits), with the operator's reason in the audit.
 * @throws what `recordOfflinePayment` throws (not-found, position-paid, amount-mismatch, ...).
 */
export async function markPositionPaidOutside(
  db: Knex,
  input: {
    domainId: string;
    externalId: string;
    channel: OfflineChannel;
    reference: string;
    amountCents: number;
    paidAt: Date;
    iuv?: string | undefined;
  },
  options: { execute: boolean; actor: Actor },
): Promise<{ before: unknown; after: unknown; created: boolean }> {
  return act(db, options.execute, async (trx) => {
    const before = await positionSnapshot(trx, input.domainId, input.externalId);
    // A transaction is a Knex too: recordOfflinePayment's own transaction becomes a savepoint.
    const { created } = await recordOfflinePayment(trx, {
      ...input,
      requestHash: contentHash({ ...input, paidAt: input.paidAt.toISOString() }),
    });
    const after = await positionSnapshot(trx, input.domainId, input.externalId);
    if (created) {
      await recordAudit(trx, {
        actor: options.actor.name,
        action: 'position.paid-outside',
        subjectType: 'debt_position',
        subjectId: `${input.domainId}/${input.externalId}`,
        reason: options.actor.reason,
        before,
        after: { ...after, channel: input.channel, reference: input.reference },
        requestId: options.actor.requestId ?? null,
      });
    }
    return { before, after, created };
  });
}

/**
 * Cancels a position on an operator's word (the ERP's DELETE, audited).
 * @throws AppError('not-found' | 'position-paid') as `cancelPosition`.
 */
export async function cancelPositionByOperator(
  db: Knex,
  domainId: string,
  externalId: string,
  options: { execute: boolean; actor: Actor },
): Promise<{ before: unknown; after: unknown }> {
  return act(db, options.execute, async (trx) => {
    const before = await positionSnapshot(trx, domainId, externalId);
    await cancelPosition(trx, domainId, externalId);
    const after = await positionSnapshot(trx, domainId, externalId);
    if (before.status !== after.status) {
      await recordAudit(trx, {
        actor: options.actor.name,
        action: 'position.cancel',
        subjectType: 'debt_position',
        subjectId: `${domainId}/${externalId}`,
        reason: options.actor.reason,
        before,
        after,
        requestId: options.actor.requestId ?? null,
      });
    }
    return { before, after };
  });
}

/**
 * Reverses a wrong credit (or debit) with a REVERSAL entry of the opposite amount that names it.
 * Idempotent by the key `reversal:<entry id>`: reversing twice answers the first reversal.
 * @throws AppError('not-found') for an unknown entry; AppError('conflict') for a reversal entry.
 */
export async function reverseLedgerEntry(
  db: Knex,
  entryId: number,
  options: { execute: boolean; actor: Actor },
): Promise<{ original: LedgerLine; reversal: LedgerLine; created: boolean }> {
  return act(db, options.execute, async (trx) => {
    const original = (await trx('ledger_entries').where({ id: entryId }).first()) as
      LedgerRow | undefined;
    if (original === undefined) throw new AppError('not-found', `no ledger entry ${entryId}`);
    if (original.kind === 'REVERSAL') {
      throw new AppError('conflict', `entry ${entryId} is itself a reversal`);
    }
    const key = `reversal:${entryId}`;
    const posted = await postEntry(
      trx,
      {
        cardAccountId: Number(original.card_account_id),
        amountCents: -Number(original.amount_cents),
        kind: 'REVERSAL',
        idempotencyKey: key,
        requestHash: sha256Hex(key),
        reference: `reversal of ledger entry ${entryId}`,
        description: `Reversal of entry ${entryId}`,
        debtPositionId: numOrNull(original.debt_position_id),
        reversesEntryId: entryId,
      },
      { enforceOverdraft: false },
    );
    const e = posted.entry;
    const reversal: LedgerLine = {
      id: e.id,
      cardAccountId: e.cardAccountId,
      amountCents: e.amountCents,
      kind: e.kind,
      idempotencyKey: e.idempotencyKey,
      reversesEntryId: e.reversesEntryId,
      balanceAfterCents: e.balanceAfterCents,
      createdAt: e.createdAt,
    };
    if (posted.created) {
      await recordAudit(trx, {
        actor: options.actor.name,
        action: 'ledger.reverse',
        subjectType: 'ledger_entry',
        subjectId: String(entryId),
        reason: options.actor.reason,
        before: { amountCents: Number(original.amount_cents), kind: original.kind },
        after: {
          reversalEntryId: e.id,
          amountCents: e.amountCents,
          balanceAfterCents: e.balanceAfterCents,
        },
        requestId: options.actor.requestId ?? null,
      });
    }
    return { original: toLedgerLine(original), reversal, created: posted.created };
  });
}

export type AwaitingPayment = {
  readonly attemptId: number;
  readonly paymentId: string;
  readonly channel: string;
  readonly domainId: string;
  readonly iuv: string;
  readonly noticeNumber: string;
  readonly amountCents: number;
  readonly createdAt: Date;
  /** When recovery last asked the node about it (or when it was made). */
  readonly lastCheckedAt: Date;
};

/**
 * PENDING payment attempts older than `olderThanMs` with no receipt in the inbox: the money may
 * have moved and the receipt not arrived (FIELD.md §3.1). Newest first, after an id cursor.
 */
export async function listAwaitingReceipts(
  db: Knex,
  filter: {
    olderThanMs: number;
    domainId?: string | undefined;
    beforeId?: number | undefined;
    limit: number;
  },
): Promise<AwaitingPayment[]> {
  const q = db('payment_attempts as a')
    .join('payment_options as o', 'o.id', 'a.payment_option_id')
    .where('a.status', 'PENDING')
    .whereRaw('a.created_at < NOW(3) - INTERVAL ? MICROSECOND', [filter.olderThanMs * 1000])
    .whereNotExists(function () {
      void this.select(db.raw('1'))
        .from('receipts as r')
        .whereRaw('r.payment_option_id = a.payment_option_id')
        .whereRaw('(r.payment_attempt_id = a.id OR r.payment_attempt_id IS NULL)');
    })
    .orderBy('a.id', 'desc')
    .limit(filter.limit)
    .select(
      'a.id',
      'a.payment_id',
      'a.channel',
      'a.amount_cents',
      'a.created_at',
      'a.updated_at',
      'o.domain_id',
      'o.iuv',
      'o.notice_number',
    );
  if (filter.domainId !== undefined) void q.where('o.domain_id', filter.domainId);
  if (filter.beforeId !== undefined) void q.where('a.id', '<', filter.beforeId);
  const rows = (await q) as {
    id: number | string;
    payment_id: string;
    channel: string;
    amount_cents: number | string;
    created_at: Date;
    updated_at: Date;
    domain_id: string;
    iuv: string;
    notice_number: string;
  }[];
  return rows.map((r) => ({
    attemptId: Number(r.id),
    paymentId: r.payment_id,
    channel: r.channel,
    domainId: r.domain_id,
    iuv: r.iuv,
    noticeNumber: r.notice_number,
    amountCents: Number(r.amount_cents),
    createdAt: r.created_at,
    lastCheckedAt: r.updated_at,
  }));
}
