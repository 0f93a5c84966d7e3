import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { AppError } from '../domain/errors';
import type { NoticeKey } from '../domain/positions/payable-notice';
import { rearmedSend } from './activated-rpt-sends-repository';
import { isDuplicateKey, isTransientDbError } from './errors';
import { findPosition, type StoredPosition } from './positions-repository';

/**
 * The node's way into debt positions: by notice number (new model) or IUV (RPT model) in a
 * domain, and the payment attempts its questions leave behind (paGetPayment, paaAttivaRPT), so
 * that recovery can later find payments whose receipt never came.
 */

type Queryable = Knex | Knex.Transaction;

const ATTEMPTS_MAX = 3;

/** The position holding the option that `key` names in the domain, with every option. */
export async function findPositionByNotice(
  db: Queryable,
  domainId: string,
  key: NoticeKey,
): Promise<StoredPosition | undefined> {
  const query = db('payment_options as o')
    .join('debt_positions as p', 'p.id', 'o.debt_position_id')
    .where('o.domain_id', domainId);
  if ('noticeNumber' in key) query.where('o.notice_number', key.noticeNumber);
  else query.where('o.iuv', key.iuv);
  const row = (await query.first('p.external_id')) as { external_id: string } | undefined;
  return row === undefined ? undefined : findPosition(db, domainId, row.external_id);
}

export type PendingAttempt = {
  domainId: string;
  iuv: string;
  /** NOTICE: the node activated the notice (paGetPayment); RPT: a PSP activated it (paaAttivaRPT). */
  channel: 'NOTICE' | 'RPT';
  amountCents: number;
  /** RPT only: the PSP's codiceContestoPagamento, which the RT will carry back. */
  ccp?: string;
  /**
   * RPT only: the PSP's route from paaAttivaRPT. When given, the RPT owed to the node is queued
   * (activated_rpt_sends) in the same transaction as the attempt; see queueActivatedRpt.
   */
  sendTo?: { pspId: string; pspBrokerId: string; channelId: string };
};

/**
 * Records that an option is being paid: one PENDING attempt per (option, channel) for NOTICE, per
 * (option, CCP) for RPT. Asking again updates that attempt's amount and time instead of adding
 * one, so the node's retries do not pile attempts up. The option is re-read under its lock
 * (position first, then option: the repository's lock order), so a payment or cancellation that
 * committed since the caller's check is not overwritten by a PENDING attempt.
 * @throws AppError('not-found' | 'position-paid' | 'position-cancelled') for what changed meanwhile.
 */
export async function recordPendingAttempt(
  db: Knex,
  input: PendingAttempt,
): Promise<{ paymentId: string; created: boolean }> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await db.transaction((trx) => recordIn(trx, input));
    } catch (err) {
      const retry = isDuplicateKey(err) || isTransientDbError(err);
      if (!retry || attempt >= ATTEMPTS_MAX) throw err;
    }
  }
}

type OptionRow = { id: number | string; debt_position_id: number | string; status: string };
type AttemptRow = { id: number | string; payment_id: string };

async function recordIn(
  trx: Knex.Transaction,
  input: PendingAttempt,
): Promise<{ paymentId: string; created: boolean }> {
  const where = { domain_id: input.domainId, iuv: input.iuv };
  const located = (await trx('payment_options').where(where).first('debt_position_id')) as
    Pick<OptionRow, 'debt_position_id'> | undefined;
  if (located === undefined) throw new AppError('not-found', `IUV ${input.iuv} is unknown`);
  const position = (await trx('debt_positions')
    .where({ id: located.debt_position_id })
    .forUpdate()
    .first('status')) as { status: string } | undefined;
  const option = (await trx('payment_options').where(where).forUpdate().first()) as
    OptionRow | undefined;
  if (position === undefined || option === undefined) {
    throw new AppError('not-found', `IUV ${input.iuv} is unknown`);
  }
  if (position.status === 'CANCELLED' || option.status === 'CANCELLED') {
    throw new AppError('position-cancelled', `IUV ${input.iuv} was cancelled meanwhile`);
  }
  if (option.status === 'PAID') {
    throw new AppError('position-paid', `IUV ${input.iuv} was paid meanwhile`);
  }
  const now = new Date();
  const same = trx('payment_attempts').where({
    payment_option_id: option.id,
    channel: input.channel,
    status: 'PENDING',
  });
  if (input.channel === 'RPT') same.where({ ccp: input.ccp ?? null });
  const prior = (await same.orderBy('id').first('id', 'payment_id')) as AttemptRow | undefined;
  if (prior !== undefined) {
    await trx('payment_attempts')
      .where({ id: prior.id })
      .update({ amount_cents: input.amountCents, updated_at: now });
    await queueActivatedRpt(trx, Number(prior.id), input, now);
    return { paymentId: prior.payment_id, created: false };
  }
  const paymentId = randomUUID();
  const [attemptId] = await trx('payment_attempts').insert({
    payment_id: paymentId,
    debt_position_id: option.debt_position_id,
    payment_option_id: option.id,
    channel: input.channel,
    status: 'PENDING',
    amount_cents: input.amountCents,
    ccp: input.ccp ?? null,
    created_at: now,
    updated_at: now,
  });
  await queueActivatedRpt(trx, Number(attemptId), input, now);
  return { paymentId, created: true };
}

/**
 * Queues the RPT owed after paaAttivaRPT: one row per attempt. A repeated activation with the same
 * CCP means the PSP (through the node) wants the RPT again, whatever became of the first send: the
 * row is re-armed (PENDING, due now, attempts reset, lease dropped so a send in flight does not
 * close it) with the route of the latest activation. The node answers PPT_RPT_DUPLICATA if it
 * already has it, which the sender counts as sent.
 */
async function queueActivatedRpt(
  trx: Knex.Transaction,
  attemptId: number,
  input: PendingAttempt,
  now: Date,
): Promise<void> {
  const route = input.sendTo;
  if (input.channel !== 'RPT' || route === undefined || input.ccp === undefined) return;
  const armed = {
    psp_id: route.pspId,
    psp_broker_id: route.pspBrokerId,
    psp_channel_id: route.channelId,
    ...rearmedSend(now),
    activated_at: now,
  };
  await trx('activated_rpt_sends')
    .insert({
      payment_attempt_id: attemptId,
      domain_id: input.domainId,
      iuv: input.iuv,
      ccp: input.ccp,
      created_at: now,
      ...armed,
    })
    .onConflict('payment_attempt_id')
    .merge(armed);
}
