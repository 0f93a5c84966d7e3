import type { Knex } from 'knex';

/** The ERP's read side of the receipts inbox: a forward-only feed in arrival order. */

export type FeedReceipt = {
  id: number;
  domainId: string;
  iuv: string;
  receiptKey: string;
  source: string;
  noticeNumber: string | null;
  outcome: string;
  amountCents: number;
  paidAt: Date | null;
  state: string;
  stateReason: string | null;
  receivedAt: Date;
  reconciledAt: Date | null;
  debtPositionExternalId: string | null;
};

type Row = {
  id: number | string;
  domain_id: string;
  iuv: string;
  receipt_key: string;
  source: string;
  notice_number: string | null;
  outcome: string;
  amount_cents: number | string;
  paid_at: Date | null;
  state: string;
  state_reason: string | null;
  received_at: Date;
  reconciled_at: Date | null;
  external_id: string | null;
};

/**
 * Receipts after `afterId` (or received at or after `since`), oldest first.
 *
 * Why a lag: ids are given at insert, but transactions commit in their own order; a receipt
 * whose transaction commits a moment after a higher id would be skipped by a reader that had
 * already moved past it. Serving only rows older than `lagMs` leaves time for every transaction
 * in flight to commit (they last milliseconds; the lag is seconds).
 */
export async function receiptsFeed(
  db: Knex,
  query: { domainId: string; afterId?: number; since?: Date; limit: number; lagMs: number },
): Promise<FeedReceipt[]> {
  const q = db('receipts as r')
    .leftJoin('debt_positions as p', 'p.id', 'r.debt_position_id')
    .where('r.domain_id', query.domainId)
    .andWhere(
      'r.received_at',
      '<=',
      db.raw('NOW(3) - INTERVAL ? MICROSECOND', [query.lagMs * 1000]),
    )
    .orderBy('r.id', 'asc')
    .limit(query.limit)
    .select(
      'r.id',
      'r.domain_id',
      'r.iuv',
      'r.receipt_key',
      'r.source',
      'r.notice_number',
      'r.outcome',
      'r.amount_cents',
      'r.paid_at',
      'r.state',
      'r.state_reason',
      'r.received_at',
      'r.reconciled_at',
      'p.external_id',
    );
  if (query.afterId !== undefined) q.andWhere('r.id', '>', query.afterId);
  else if (query.since !== undefined) q.andWhere('r.received_at', '>=', query.since);
  const rows = (await q) as Row[];
  return rows.map((r) => ({
    id: Number(r.id),
    domainId: r.domain_id,
    iuv: r.iuv,
    receiptKey: r.receipt_key,
    source: r.source,
    noticeNumber: r.notice_number,
    outcome: r.outcome,
    amountCents: Number(r.amount_cents),
    paidAt: r.paid_at,
    state: r.state,
    stateReason: r.state_reason,
    receivedAt: r.received_at,
    reconciledAt: r.reconciled_at,
    debtPositionExternalId: r.external_id,
  }));
}
