import type { Knex } from 'knex';
import type { PositionKind } from '../domain/positions/types';

/**
 * Payment attempts as the ERP reads them: EC-initiated payments (top-ups today; Checkout carts
 * and RPTs later), each tied to one option of a debt position and awaiting or holding a receipt.
 */

export const ATTEMPT_STATUSES = ['PENDING', 'PAID', 'NOT_PAID', 'CANCELLED'] as const;
export type AttemptStatus = (typeof ATTEMPT_STATUSES)[number];
export const ATTEMPT_CHANNELS = ['TOP_UP', 'CHECKOUT', 'RPT', 'MYPAY', 'NOTICE'] as const;
export type AttemptChannel = (typeof ATTEMPT_CHANNELS)[number];

export type StoredPayment = {
  id: number;
  paymentId: string;
  domainId: string;
  channel: AttemptChannel;
  status: AttemptStatus;
  amountCents: number;
  iuv: string;
  noticeNumber: string;
  externalId: string;
  kind: PositionKind;
  checkoutUrl: string | null;
  createdAt: Date;
};

type Row = {
  id: number | string;
  payment_id: string;
  domain_id: string;
  channel: AttemptChannel;
  status: AttemptStatus;
  amount_cents: number | string;
  iuv: string;
  notice_number: string;
  external_id: string;
  kind: PositionKind;
  checkout_url: string | null;
  created_at: Date;
};

const toPayment = (r: Row): StoredPayment => ({
  id: Number(r.id),
  paymentId: r.payment_id,
  domainId: r.domain_id,
  channel: r.channel,
  status: r.status,
  amountCents: Number(r.amount_cents),
  iuv: r.iuv,
  noticeNumber: r.notice_number,
  externalId: r.external_id,
  kind: r.kind,
  checkoutUrl: r.checkout_url,
  createdAt: r.created_at,
});

const base = (db: Knex) =>
  db('payment_attempts as a')
    .join('payment_options as o', 'o.id', 'a.payment_option_id')
    .join('debt_positions as p', 'p.id', 'a.debt_position_id')
    .select(
      'a.id',
      'a.payment_id',
      'o.domain_id',
      'a.channel',
      'a.status',
      'a.amount_cents',
      'o.iuv',
      'o.notice_number',
      'p.external_id',
      'p.kind',
      'a.checkout_url',
      'a.created_at',
    );

export async function findPayment(db: Knex, paymentId: string): Promise<StoredPayment | undefined> {
  const row = (await base(db).where('a.payment_id', paymentId).first()) as Row | undefined;
  return row === undefined ? undefined : toPayment(row);
}

/** The attempts on the option with this IUV in the domain, oldest first, after `afterId`. */
export async function listPaymentsByIuv(
  db: Knex,
  filter: { domainId: string; iuv: string; afterId?: number | undefined; limit: number },
): Promise<StoredPayment[]> {
  const query = base(db).where({ 'o.domain_id': filter.domainId, 'o.iuv': filter.iuv });
  if (filter.afterId !== undefined) query.where('a.id', '>', filter.afterId);
  const rows = (await query.orderBy('a.id').limit(filter.limit)) as Row[];
  return rows.map(toPayment);
}
