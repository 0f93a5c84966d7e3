import type { Knex } from 'knex';
import { AppError } from '../domain/errors';
import { noticeFor, type NoticeScheme } from '../domain/positions/notice';
import { transfersWithRemittance } from '../domain/positions/position-request';
import {
  settle,
  type SettlementDecision,
  type SettlementPayment,
  type SettlementPosition,
} from '../domain/positions/settlement';
import type {
  CardAccountName,
  Debtor,
  OptionStatus,
  Plan,
  PositionDraft,
  PositionKind,
  PositionStatus,
  ScheduleStep,
  Stamp,
  TransferDraft,
} from '../domain/positions/types';
import { contentHash } from '../shared/hash';
import { isDuplicateKey, isTransientDbError } from './errors';
import { allocateIuvBases } from './iuv-sequence-repository';
import { postEntry, type LockedAccount, type NewEntry } from './ledger-repository';
import { appendOutboxEvent } from './outbox-repository';

/**
 * Debt positions, their options and transfers, offline payments, and the transactions that change
 * them. The decisions (what a request means, what a payment settles) are the pure functions of
 * src/domain/positions; this module loads, locks and writes.
 *
 * Lock order, for every writer: the debt position row first, then its options, then the card
 * account (inside `postEntry`). Writers that follow it cannot deadlock each other.
 */

export type StoredTransfer = TransferDraft & { remittanceInformation: string };

export type StoredOption = {
  id: number;
  iuv: string;
  noticeNumber: string;
  plan: Plan;
  installment: number | null;
  amountCents: number;
  dueDate: string;
  validFrom: string | null;
  amountSchedule: ScheduleStep[] | null;
  status: OptionStatus;
  paidAmountCents: number;
  paidAt: Date | null;
  transfers: StoredTransfer[];
};

export type StoredPosition = {
  id: number;
  domainId: string;
  externalId: string;
  kind: PositionKind;
  service: string;
  cardId: number | null;
  cardCode: string | null;
  account: CardAccountName | null;
  debtor: Debtor;
  description: string;
  status: PositionStatus;
  plan: Plan;
  requestHash: string;
  createdAt: Date;
  updatedAt: Date;
  options: StoredOption[];
};

/** A debt_positions row as mysql2 returns it (exported for the reconciliation repository). */
export type PositionRow = {
  id: number | string;
  domain_id: string;
  external_id: string;
  kind: PositionKind;
  service: string;
  card_id: number | string | null;
  account: CardAccountName | null;
  debtor_type: 'F' | 'G';
  debtor_fiscal_code: string;
  debtor_full_name: string;
  debtor_email: string | null;
  description: string;
  status: PositionStatus;
  request_hash: string;
  created_at: Date;
  updated_at: Date;
};

export type OptionRow = {
  id: number | string;
  debt_position_id: number | string;
  iuv: string;
  notice_number: string;
  plan: Plan;
  installment: number | null;
  amount_cents: number | string;
  amount_schedule: string | ScheduleStep[] | null;
  due_date: Date | string;
  valid_from: Date | string | null;
  status: OptionStatus;
  paid_amount_cents: number | string;
  paid_at: Date | null;
};

type TransferRow = {
  payment_option_id: number | string;
  transfer_index: number;
  beneficiary_fiscal_code: string;
  amount_cents: number | string;
  iban: string | null;
  postal_iban: string | null;
  stamp_hash: string | null;
  stamp_type: string | null;
  stamp_province: string | null;
  taxonomy_code: string;
  remittance_information: string;
};

type Queryable = Knex | Knex.Transaction;

const ATTEMPTS_MAX = 3;

/** DATE columns come back as UTC midnights (the pool runs with timezone Z). */
const toDay = (value: Date | string): string =>
  typeof value === 'string' ? value.slice(0, 10) : value.toISOString().slice(0, 10);

export const toOption = (row: OptionRow, transfers: StoredTransfer[]): StoredOption => ({
  id: Number(row.id),
  iuv: row.iuv,
  noticeNumber: row.notice_number,
  plan: row.plan,
  installment: row.installment === null ? null : Number(row.installment),
  amountCents: Number(row.amount_cents),
  dueDate: toDay(row.due_date),
  validFrom: row.valid_from === null ? null : toDay(row.valid_from),
  amountSchedule:
    row.amount_schedule === null
      ? null
      : typeof row.amount_schedule === 'string'
        ? (JSON.parse(row.amount_schedule) as ScheduleStep[])
        : row.amount_schedule,
  status: row.status,
  paidAmountCents: Number(row.paid_amount_cents),
  paidAt: row.paid_at,
  transfers,
});

const toTransfer = (row: TransferRow): StoredTransfer => ({
  index: Number(row.transfer_index),
  beneficiaryFiscalCode: row.beneficiary_fiscal_code,
  amountCents: Number(row.amount_cents),
  iban: row.iban,
  postalIban: row.postal_iban,
  stamp:
    row.stamp_hash === null
      ? null
      : ({
          documentHash: row.stamp_hash,
          type: '01',
          province: row.stamp_province ?? '',
        } satisfies Stamp),
  taxonomyCode: row.taxonomy_code,
  remittanceInformation: row.remittance_information,
});

/** Reads positions with their options, transfers and card codes, in a handful of queries. */
async function hydrate(db: Queryable, rows: readonly PositionRow[]): Promise<StoredPosition[]> {
  if (rows.length === 0) return [];
  const ids = rows.map((r) => Number(r.id));
  const optionRows = (await db('payment_options')
    .whereIn('debt_position_id', ids)
    .orderBy('id')) as OptionRow[];
  const optionIds = optionRows.map((o) => Number(o.id));
  const transferRows = (
    optionIds.length === 0
      ? []
      : await db('transfers')
          .whereIn('payment_option_id', optionIds)
          .orderBy(['payment_option_id', 'transfer_index'])
  ) as TransferRow[];
  const cardIds = [
    ...new Set(rows.flatMap((r) => (r.card_id === null ? [] : [Number(r.card_id)]))),
  ];
  const cards = (
    cardIds.length === 0 ? [] : await db('cards').whereIn('id', cardIds).select('id', 'card_code')
  ) as { id: number | string; card_code: string }[];
  const codeOf = new Map(cards.map((c) => [Number(c.id), c.card_code]));

  const transfersOf = new Map<number, StoredTransfer[]>();
  for (const t of transferRows) {
    const list = transfersOf.get(Number(t.payment_option_id)) ?? [];
    list.push(toTransfer(t));
    transfersOf.set(Number(t.payment_option_id), list);
  }
  const optionsOf = new Map<number, StoredOption[]>();
  for (const o of optionRows) {
    const list = optionsOf.get(Number(o.debt_position_id)) ?? [];
    list.push(toOption(o, transfersOf.get(Number(o.id)) ?? []));
    optionsOf.set(Number(o.debt_position_id), list);
  }
  return rows.map((r) => {
    const options = optionsOf.get(Number(r.id)) ?? [];
    const cardId = r.card_id === null ? null : Number(r.card_id);
    return {
      id: Number(r.id),
      domainId: r.domain_id,
      externalId: r.external_id,
      kind: r.kind,
      service: r.service,
      cardId,
      cardCode: cardId === null ? null : (codeOf.get(cardId) ?? null),
      account: r.account,
      debtor: {
        type: r.debtor_type,
        fiscalCode: r.debtor_fiscal_code,
        fullName: r.debtor_full_name,
        email: r.debtor_email,
      },
      description: r.description,
      status: r.status,
      plan: options[0]?.plan ?? 'SINGLE',
      requestHash: r.request_hash,
      createdAt: r.created_at,
      updatedAt: r.updated_at,
      options,
    };
  });
}

/** One position by its ERP id in a domain, with everything it holds. */
export async function findPosition(
  db: Queryable,
  domainId: string,
  externalId: string,
): Promise<StoredPosition | undefined> {
  const row = (await db('debt_positions')
    .where({ domain_id: domainId, external_id: externalId })
    .first()) as PositionRow | undefined;
  if (row === undefined) return undefined;
  const [position] = await hydrate(db, [row]);
  return position;
}

export type PositionFilter = {
  domainId: string;
  cardCode?: string | undefined;
  status?: PositionStatus | undefined;
  service?: string | undefined;
  /** Positions with at least one option falling due strictly before this day. */
  dueBefore?: string | undefined;
  /** Keyset paging: positions with a larger id than this one. */
  afterId?: number | undefined;
  limit: number;
};

/** Positions matching every given filter, oldest first (by id), at most `limit`. */
export async function listPositions(db: Knex, filter: PositionFilter): Promise<StoredPosition[]> {
  const query = db('debt_positions as p').where('p.domain_id', filter.domainId).select('p.*');
  if (filter.cardCode !== undefined) {
    query.whereIn('p.card_id', db('cards').where('card_code', filter.cardCode).select('id'));
  }
  if (filter.status !== undefined) query.where('p.status', filter.status);
  if (filter.service !== undefined) query.where('p.service', filter.service);
  if (filter.dueBefore !== undefined) {
    const dueBefore = filter.dueBefore;
    query.whereExists(function () {
      void this.select(db.raw('1'))
        .from('payment_options as o')
        .whereRaw('o.debt_position_id = p.id')
        .where('o.due_date', '<', dueBefore);
    });
  }
  if (filter.afterId !== undefined) query.where('p.id', '>', filter.afterId);
  const rows = (await query.orderBy('p.id').limit(filter.limit)) as PositionRow[];
  return hydrate(db, rows);
}

/** A card's id and domain by its code; `undefined` when no card has it. */
export async function findCardIdByCode(
  db: Queryable,
  cardCode: string,
): Promise<{ id: number; domainId: string } | undefined> {
  const row = (await db('cards').where({ card_code: cardCode }).first('id', 'domain_id')) as
    { id: number | string; domain_id: string } | undefined;
  return row === undefined ? undefined : { id: Number(row.id), domainId: row.domain_id };
}

async function lockPositionRow(
  trx: Knex.Transaction,
  domainId: string,
  externalId: string,
): Promise<PositionRow | undefined> {
  return (await trx('debt_positions')
    .where({ domain_id: domainId, external_id: externalId })
    .forUpdate()
    .first()) as PositionRow | undefined;
}

export async function lockOptionRows(
  trx: Knex.Transaction,
  positionId: number,
): Promise<OptionRow[]> {
  return (await trx('payment_options')
    .where({ debt_position_id: positionId })
    .orderBy('id')
    .forUpdate()) as OptionRow[];
}

const positionColumns = (draft: PositionDraft, cardId: number | null, requestHash: string) => ({
  service: draft.service,
  card_id: cardId,
  account: draft.account,
  debtor_type: draft.debtor.type,
  debtor_fiscal_code: draft.debtor.fiscalCode,
  debtor_full_name: draft.debtor.fullName,
  debtor_email: draft.debtor.email,
  description: draft.description,
  request_hash: requestHash,
});

const optionColumns = (option: PositionDraft['options'][number]) => ({
  plan: option.plan,
  installment: option.installment,
  amount_cents: option.amountCents,
  amount_schedule: option.amountSchedule === null ? null : JSON.stringify(option.amountSchedule),
  due_date: option.dueDate,
  valid_from: option.validFrom,
});

async function insertTransfers(
  trx: Knex.Transaction,
  optionId: number,
  transfers: readonly StoredTransfer[],
): Promise<void> {
  await trx('transfers').insert(
    transfers.map((t) => ({
      payment_option_id: optionId,
      transfer_index: t.index,
      beneficiary_fiscal_code: t.beneficiaryFiscalCode,
      amount_cents: t.amountCents,
      iban: t.iban,
      postal_iban: t.postalIban,
      stamp_hash: t.stamp?.documentHash ?? null,
      stamp_type: t.stamp?.type ?? null,
      stamp_province: t.stamp?.province ?? null,
      taxonomy_code: t.taxonomyCode,
      remittance_information: t.remittanceInformation,
    })),
  );
}

/** Inserts a new position with one option per allocated base; returns its id and option ids. */
async function insertPositionRows(
  trx: Knex.Transaction,
  input: {
    externalId: string;
    draft: PositionDraft;
    cardId: number | null;
    requestHash: string;
    scheme: NoticeScheme;
    bases: readonly string[];
  },
): Promise<{ positionId: number; optionIds: number[] }> {
  const { draft } = input;
  const now = new Date();
  const [positionId] = (await trx('debt_positions').insert({
    domain_id: draft.domainId,
    external_id: input.externalId,
    kind: draft.kind,
    status: 'OPEN',
    ...positionColumns(draft, input.cardId, input.requestHash),
    created_at: now,
    updated_at: now,
  })) as number[];
  const optionIds: number[] = [];
  for (const [i, option] of draft.options.entries()) {
    const base = input.bases[i];
    if (base === undefined) throw new AppError('internal', `no IUV base for option ${i + 1}`);
    const { iuv, noticeNumber } = noticeFor(input.scheme, base);
    const [optionId] = (await trx('payment_options').insert({
      debt_position_id: positionId,
      domain_id: draft.domainId,
      iuv,
      notice_number: noticeNumber,
      status: 'UNPAID',
      ...optionColumns(option),
    })) as number[];
    await insertTransfers(
      trx,
      Number(optionId),
      transfersWithRemittance(option, iuv, draft.description),
    );
    optionIds.push(Number(optionId));
  }
  return { positionId: Number(positionId), optionIds };
}

const sequenceKey = (domainId: string, scheme: NoticeScheme) =>
  scheme.auxDigit === 3
    ? { domain: domainId, auxDigit: 3 as const, segregationCode: scheme.segregationCode }
    : { domain: domainId, auxDigit: 0 as const };

export type SaveOutcome = 'created' | 'updated' | 'unchanged';

/**
 * Creates or updates the position `externalId` of the draft's domain (the ERP's PUT).
 *
 * - New: one IUV base per option is allocated (outside the transaction, so a rollback leaves a
 *   gap, never a duplicate), and position, options and transfers are inserted together.
 * - Same request hash as stored: nothing changes (`unchanged`), whatever the status but CANCELLED.
 * - Otherwise, OPEN and unpaid, same number of options and same plan: updated in place. Options
 *   keep their IUV and notice number (a notice already printed or delivered stays valid);
 *   instalments are matched by number, other options by their order; transfers are rewritten.
 * @throws AppError('position-cancelled') when the position was cancelled.
 * @throws AppError('position-paid') when an option is paid and the request differs.
 * @throws AppError('conflict') when the number of options or the plan changes, or for a top-up.
 */
export async function savePosition(
  db: Knex,
  input: {
    externalId: string;
    draft: PositionDraft;
    cardId: number | null;
    requestHash: string;
    scheme: NoticeScheme;
  },
): Promise<{ outcome: SaveOutcome; position: StoredPosition }> {
  const { draft, externalId } = input;
  for (let attempt = 1; ; attempt++) {
    const known = (await db('debt_positions')
      .where({ domain_id: draft.domainId, external_id: externalId })
      .first('id')) as { id: number } | undefined;
    const bases =
      known === undefined
        ? await allocateIuvBases(db, {
            ...sequenceKey(draft.domainId, input.scheme),
            count: draft.options.length,
          })
        : undefined;
    try {
      const outcome = await db.transaction(async (trx): Promise<SaveOutcome> => {
        const row = await lockPositionRow(trx, draft.domainId, externalId);
        if (row !== undefined) return updateInPlace(trx, row, input);
        if (bases === undefined) throw new AppError('internal', 'position vanished under its lock');
        await insertPositionRows(trx, { ...input, bases });
        return 'created';
      });
      const position = await findPosition(db, draft.domainId, externalId);
      if (position === undefined) throw new AppError('internal', 'saved position not found');
      return { outcome, position };
    } catch (err) {
      // A concurrent PUT created the same externalId first: the next attempt updates it.
      const retry = isDuplicateKey(err) || isTransientDbError(err);
      if (!retry || attempt >= ATTEMPTS_MAX) throw err;
    }
  }
}

async function updateInPlace(
  trx: Knex.Transaction,
  row: PositionRow,
  input: { externalId: string; draft: PositionDraft; cardId: number | null; requestHash: string },
): Promise<SaveOutcome> {
  const { draft, externalId } = input;
  if (row.kind === 'TOP_UP') {
    throw new AppError(
      'conflict',
      `${externalId} is a card top-up; top-ups are made with POST /api/v1/cards/{cardCode}/top-ups`,
    );
  }
  if (row.status === 'CANCELLED') {
    throw new AppError(
      'position-cancelled',
      `debt position ${externalId} is cancelled; create a new one with another externalId`,
    );
  }
  if (row.request_hash === input.requestHash) return 'unchanged';
  if (row.status !== 'OPEN') {
    throw new AppError(
      'position-paid',
      `debt position ${externalId} is ${row.status}: a position with a paid option cannot change`,
    );
  }
  const stored = await lockOptionRows(trx, Number(row.id));
  if (stored.length !== draft.options.length) {
    throw new AppError(
      'conflict',
      `debt position ${externalId} has ${stored.length} payment option(s) and the request ${draft.options.length}: options keep their notice numbers, so their number cannot change; cancel the position (DELETE) and create a new one`,
    );
  }
  if (stored[0]?.plan !== draft.plan) {
    throw new AppError(
      'conflict',
      `debt position ${externalId} is ${stored[0]?.plan ?? 'SINGLE'} and the request ${draft.plan}: cancel it (DELETE) and create a new one`,
    );
  }
  await trx('debt_positions')
    .where({ id: row.id })
    .update({ ...positionColumns(draft, input.cardId, input.requestHash), updated_at: new Date() });

  // Instalments pair by number, other options by order (installment is null for all of them).
  const storedSorted = [...stored].sort(
    (a, b) => (a.installment ?? 0) - (b.installment ?? 0) || Number(a.id) - Number(b.id),
  );
  const draftSorted = draft.options
    .map((option, order) => ({ option, order }))
    .sort((a, b) => (a.option.installment ?? 0) - (b.option.installment ?? 0) || a.order - b.order);
  for (const [i, target] of storedSorted.entries()) {
    const next = draftSorted[i]?.option;
    if (next === undefined) continue;
    await trx('payment_options').where({ id: target.id }).update(optionColumns(next));
    await trx('transfers').where({ payment_option_id: target.id }).delete();
    await insertTransfers(
      trx,
      Number(target.id),
      transfersWithRemittance(next, target.iuv, draft.description),
    );
  }
  return 'updated';
}

/**
 * Cancels a position (the ERP's DELETE): the position and its options become CANCELLED and any
 * pending payment attempt is cancelled. Cancelling twice answers the cancelled position again.
 * @throws AppError('not-found') when there is no such position.
 * @throws AppError('position-paid') when any option is paid: the money must be refunded first.
 */
export async function cancelPosition(
  db: Knex,
  domainId: string,
  externalId: string,
): Promise<StoredPosition> {
  await db.transaction(async (trx) => {
    const row = await lockPositionRow(trx, domainId, externalId);
    if (row === undefined) throw notFound(externalId);
    if (row.status === 'CANCELLED') return;
    if (row.status !== 'OPEN') {
      throw new AppError(
        'position-paid',
        `debt position ${externalId} is ${row.status} and cannot be cancelled`,
      );
    }
    const options = await lockOptionRows(trx, Number(row.id));
    const now = new Date();
    await trx('payment_options')
      .whereIn(
        'id',
        options.map((o) => o.id),
      )
      .update({ status: 'CANCELLED' });
    await trx('payment_attempts')
      .where({ debt_position_id: row.id, status: 'PENDING' })
      .update({ status: 'CANCELLED', updated_at: now });
    await trx('debt_positions')
      .where({ id: row.id })
      .update({ status: 'CANCELLED', updated_at: now });
  });
  const position = await findPosition(db, domainId, externalId);
  if (position === undefined) throw notFound(externalId);
  return position;
}

const notFound = (externalId: string): AppError =>
  new AppError('not-found', `no debt position ${externalId}`);

export const toSettlementPosition = (
  row: Pick<PositionRow, 'id' | 'kind' | 'status' | 'card_id' | 'account'>,
  options: readonly OptionRow[],
): SettlementPosition => ({
  id: Number(row.id),
  kind: row.kind,
  status: row.status,
  plan: options[0]?.plan ?? 'SINGLE',
  cardAccount:
    row.card_id === null || row.account === null
      ? null
      : { cardId: Number(row.card_id), account: row.account },
});

/**
 * Applies a settlement decision inside the caller's transaction, which holds the position's lock:
 * options paid, position status, pending payment attempts of those options PAID, and the ledger
 * entry (idempotent by its key, so a replay cannot credit twice). Shared by offline payments and
 * the reconciliation of pagoPA receipts.
 * @returns the id of the ledger entry posted (or found already posted), null without a card account.
 */
export async function applySettlement(
  trx: Knex.Transaction,
  position: { id: number; description: string },
  decision: Extract<SettlementDecision, { outcome: 'settled' }>,
  payment: SettlementPayment,
): Promise<{ ledgerEntryId: number | null }> {
  // Prebuilt SQL rather than the query builder: this runs once per receipt reconciled.
  const now = new Date();
  for (const paid of decision.paidOptions) {
    await trx.raw(
      "UPDATE payment_options SET status = 'PAID', paid_amount_cents = ?, paid_at = ? " +
        "WHERE id = ? AND status = 'UNPAID'",
      [paid.paidAmountCents, payment.paidAt, paid.optionId],
    );
  }
  await trx.raw('UPDATE debt_positions SET status = ?, updated_at = ? WHERE id = ?', [
    decision.positionStatus,
    now,
    position.id,
  ]);
  // No option paid (a partial payment), no attempt to close: the statement would match nothing.
  if (decision.paidOptions.length > 0) {
    const ids = decision.paidOptions.map((p) => p.optionId);
    await trx.raw(
      `UPDATE payment_attempts SET status = 'PAID', updated_at = ? ` +
        `WHERE payment_option_id IN (${ids.map(() => '?').join(', ')}) AND status = 'PENDING'`,
      [now, ...ids],
    );
  }
  const effect = decision.ledger;
  if (effect === null) return { ledgerEntryId: null };
  // One locking read finds the account and locks it for postEntry (which would lock it again).
  const [accounts] = (await trx.raw(
    'SELECT id, balance_cents, overdraft_limit_cents FROM card_accounts ' +
      'WHERE card_id = ? AND account = ? FOR UPDATE',
    [effect.cardId, effect.account],
  )) as [LockedAccount[]];
  const account = accounts[0];
  if (account === undefined) {
    throw new AppError('internal', `card ${effect.cardId} has no ${effect.account} account`);
  }
  const posted = await postEntry(
    trx,
    settlementEntry(position, decision, payment, Number(account.id)),
    { enforceOverdraft: false, lockedAccount: account },
  );
  return { ledgerEntryId: posted.entry.id };
}

/** The ledger entry of a settlement that moves money (`decision.ledger` not null). */
export function settlementEntry(
  position: { id: number; description: string },
  decision: Extract<SettlementDecision, { outcome: 'settled' }>,
  payment: SettlementPayment,
  cardAccountId: number,
): NewEntry {
  const effect = decision.ledger;
  if (effect === null) throw new AppError('internal', 'this settlement moves no money');
  return {
    cardAccountId,
    amountCents: effect.amountCents,
    kind: effect.kind,
    idempotencyKey: effect.idempotencyKey,
    requestHash: contentHash({
      ...effect,
      positionId: position.id,
      paidOptions: decision.paidOptions,
    }),
    reference: payment.reference.slice(0, 140),
    description: position.description,
    debtPositionId: position.id,
    paymentOptionId:
      decision.paidOptions.length === 1 ? (decision.paidOptions[0]?.optionId ?? null) : null,
  };
}

export const OFFLINE_CHANNELS = ['COUNTER', 'POSTAL_SLIP', 'BANK_TRANSFER'] as const;
export type OfflineChannel = (typeof OFFLINE_CHANNELS)[number];

export type StoredOfflinePayment = {
  channel: OfflineChannel;
  reference: string;
  amountCents: number;
  paidAt: Date;
  createdAt: Date;
  /** The notice numbers this payment settled. */
  settledNoticeNumbers: string[];
};

type OfflineRow = {
  id: number | string;
  debt_position_id: number | string;
  payment_option_id: number | string | null;
  channel: OfflineChannel;
  reference: string;
  amount_cents: number | string;
  paid_at: Date;
  request_hash: string;
  created_at: Date;
};

/**
 * Records a counter, postal-slip or bank-transfer payment and settles the position with it,
 * exactly as a receipt would (same `settle`, same `applySettlement`), in one transaction.
 * Idempotent by (position, reference): the same reference with the same content answers the
 * stored payment (`created: false`); with other content it is refused.
 * @throws AppError('not-found') when there is no such position, or the IUV is not one of its options.
 * @throws AppError('idempotency-conflict') when the reference was recorded with other content.
 * @throws AppError('position-paid' | 'position-cancelled' | 'amount-mismatch') as `settle` decides.
 */
export async function recordOfflinePayment(
  db: Knex,
  input: {
    domainId: string;
    externalId: string;
    channel: OfflineChannel;
    reference: string;
    amountCents: number;
    paidAt: Date;
    iuv?: string | undefined;
    requestHash: string;
  },
): Promise<{ created: boolean; payment: StoredOfflinePayment; position: StoredPosition }> {
  for (let attempt = 1; ; attempt++) {
    try {
      const created = await db.transaction(async (trx) => {
        const row = await lockPositionRow(trx, input.domainId, input.externalId);
        if (row === undefined) throw notFound(input.externalId);
        const prior = (await trx('offline_payments')
          .where({ debt_position_id: row.id, reference: input.reference })
          .forUpdate()
          .first()) as OfflineRow | undefined;
        if (prior !== undefined) {
          if (prior.request_hash !== input.requestHash) {
            throw new AppError(
              'idempotency-conflict',
              `offline payment "${input.reference.slice(0, 40)}" was already recorded for this position with other content`,
            );
          }
          return false;
        }
        const optionRows = await lockOptionRows(trx, Number(row.id));
        const payment: SettlementPayment = {
          source: 'OFFLINE',
          reference: input.reference,
          amountCents: input.amountCents,
          paidAt: input.paidAt,
          iuv: input.iuv,
        };
        const decision = settle(
          toSettlementPosition(row, optionRows),
          optionRows.map((o) => toOption(o, [])),
          payment,
        );
        if (decision.outcome === 'refused') throw new AppError(decision.code, decision.detail);
        const { ledgerEntryId } = await applySettlement(
          trx,
          { id: Number(row.id), description: row.description },
          decision,
          payment,
        );
        const [offlinePaymentId] = (await trx('offline_payments').insert({
          debt_position_id: row.id,
          payment_option_id:
            decision.paidOptions.length === 1 ? (decision.paidOptions[0]?.optionId ?? null) : null,
          channel: input.channel,
          reference: input.reference,
          amount_cents: input.amountCents,
          paid_at: input.paidAt,
          request_hash: input.requestHash,
          created_at: new Date(),
        })) as number[];
        // Counter payments notify the ERP like receipts do, committed with the payment itself.
        const single = decision.paidOptions.length === 1 ? decision.paidOptions[0] : undefined;
        const option = optionRows.find((o) => Number(o.id) === single?.optionId);
        await appendOutboxEvent(trx, {
          type: 'payment.reconciled',
          domainId: input.domainId,
          payload: {
            domainId: input.domainId,
            channel: input.channel,
            amountCents: input.amountCents,
            paidAt: input.paidAt.toISOString(),
            receiptId: null,
            offlinePaymentId: Number(offlinePaymentId),
            iuv: option?.iuv ?? null,
            noticeNumber: option?.notice_number ?? null,
            receiptKey: null,
            debtPositionId: Number(row.id),
            positionExternalId: row.external_id,
            paymentOptionId: option === undefined ? null : Number(option.id),
            cardId: row.card_id === null ? null : Number(row.card_id),
            account: row.account,
            ledgerEntryId,
          },
        });
        return true;
      });
      const position = await findPosition(db, input.domainId, input.externalId);
      if (position === undefined) throw notFound(input.externalId);
      const payment = await findOfflinePayment(db, position, input.reference);
      if (payment === undefined) throw new AppError('internal', 'offline payment not found');
      return { created, payment, position };
    } catch (err) {
      // The unique (position, reference) index refused a concurrent twin: re-read and compare.
      const retry = isDuplicateKey(err) || isTransientDbError(err);
      if (!retry || attempt >= ATTEMPTS_MAX) throw err;
    }
  }
}

async function findOfflinePayment(
  db: Knex,
  position: StoredPosition,
  reference: string,
): Promise<StoredOfflinePayment | undefined> {
  const row = (await db('offline_payments')
    .where({ debt_position_id: position.id, reference })
    .first()) as OfflineRow | undefined;
  if (row === undefined) return undefined;
  const paidAt = row.paid_at.getTime();
  // The options paid at this payment's instant: one, or every instalment paid in one go.
  const settled =
    row.payment_option_id !== null
      ? position.options.filter((o) => o.id === Number(row.payment_option_id))
      : position.options.filter((o) => o.paidAt?.getTime() === paidAt);
  return {
    channel: row.channel,
    reference: row.reference,
    amountCents: Number(row.amount_cents),
    paidAt: row.paid_at,
    createdAt: row.created_at,
    settledNoticeNumbers: settled.map((o) => o.noticeNumber),
  };
}

/**
 * Stores a card top-up: its TOP_UP position (one option) and the PENDING payment attempt that
 * the node's receipt, or a payment of the notice at any PSP, will settle. Runs in the caller's
 * transaction (the idempotency helper's); the IUV base comes from the sequence on its own
 * connection, so a rollback leaves a gap and never a duplicate.
 */
export async function insertTopUp(
  db: Knex,
  trx: Knex.Transaction,
  input: {
    paymentId: string;
    draft: PositionDraft;
    cardId: number;
    scheme: NoticeScheme;
    returnUrl: string | null;
  },
): Promise<{ iuv: string; noticeNumber: string; createdAt: Date }> {
  const { draft } = input;
  const bases = await allocateIuvBases(db, {
    ...sequenceKey(draft.domainId, input.scheme),
    count: 1,
  });
  const externalId = `TOPUP-${input.paymentId}`;
  const { positionId, optionIds } = await insertPositionRows(trx, {
    externalId,
    draft,
    cardId: input.cardId,
    requestHash: contentHash(draft),
    scheme: input.scheme,
    bases,
  });
  const optionId = optionIds[0];
  const option = draft.options[0];
  if (optionId === undefined || option === undefined) {
    throw new AppError('internal', 'a top-up has one option');
  }
  const createdAt = new Date();
  await trx('payment_attempts').insert({
    payment_id: input.paymentId,
    debt_position_id: positionId,
    payment_option_id: optionId,
    channel: 'TOP_UP',
    status: 'PENDING',
    amount_cents: option.amountCents,
    return_url: input.returnUrl,
    created_at: createdAt,
    updated_at: createdAt,
  });
  const stored = (await trx('payment_options')
    .where({ id: optionId })
    .first('iuv', 'notice_number')) as {
    iuv: string;
    notice_number: string;
  };
  return { iuv: stored.iuv, noticeNumber: stored.notice_number, createdAt };
}
