import type { Knex } from 'knex';
import { DOMAIN, givenPositions, paSendRtXml, STATION, BROKER } from '../chaos/world';

/**
 * Builders for the operators' tests: receipts in the states an operator meets, written straight
 * into the inbox where the worker's behaviour is not the subject (a receipt that FAILED because
 * the database was down for all its attempts, then is replayed once it is back).
 */

export const balanceOf = async (db: Knex, accountId: number): Promise<number> => {
  const row = (await db('card_accounts').where({ id: accountId }).first('balance_cents')) as {
    balance_cents: number | string;
  };
  return Number(row.balance_cents);
};

export const stateOf = async (db: Knex, receiptId: number): Promise<string> => {
  const row = (await db('receipts').where({ id: receiptId }).first('state')) as { state: string };
  return row.state;
};

/**
 * A top-up position for the card's account and its receipt, FAILED with `reason` (as the worker
 * leaves a receipt whose every attempt hit a database outage): replaying it credits the card.
 */
export async function givenFailedTopUpReceipt(
  db: Knex,
  input: {
    iuv: string;
    cardId: number;
    account: 'CANTEEN' | 'NURSERY_MEALS';
    amountCents: number;
    reason: string;
  },
): Promise<number> {
  const [given] = await givenPositions(db, [
    {
      kind: 'TOP_UP',
      iuv: input.iuv,
      transfersCents: [input.amountCents],
      cardId: input.cardId,
      account: input.account,
    },
  ]);
  if (given === undefined) throw new Error('no position');
  const receiptKey = `r-${input.iuv}`;
  const [id] = (await db('receipts').insert({
    domain_id: DOMAIN,
    iuv: input.iuv,
    receipt_key: receiptKey,
    source: 'PA_SEND_RT',
    notice_number: `3${input.iuv}`,
    broker_id: BROKER,
    station_id: STATION,
    outcome: 'PAID',
    amount_cents: input.amountCents,
    paid_at: new Date(),
    payload_hash: input.iuv.padEnd(64, '0'),
    raw_xml: paSendRtXml({
      iuv: input.iuv,
      receiptId: receiptKey,
      transfersCents: [input.amountCents],
    }),
    parsed: JSON.stringify({ transfers: [{ amountCents: input.amountCents }] }),
    state: 'FAILED',
    state_reason: input.reason,
    debt_position_id: given.positionId,
    payment_option_id: given.optionId,
  })) as number[];
  await db('receipt_state_changes').insert({
    receipt_id: id,
    from_state: 'RECEIVED',
    to_state: 'FAILED',
    reason: input.reason,
    actor: 'reconcile-worker',
  });
  return Number(id);
}

/** A QUARANTINED receipt for an IUV no position owns (another intermediary's notice). */
export async function givenQuarantinedReceipt(
  db: Knex,
  input: { iuv: string; amountCents: number },
): Promise<number> {
  const receiptKey = `q-${input.iuv}`;
  const [id] = (await db('receipts').insert({
    domain_id: DOMAIN,
    iuv: input.iuv,
    receipt_key: receiptKey,
    source: 'PA_SEND_RT',
    notice_number: `3${input.iuv}`,
    broker_id: BROKER,
    station_id: STATION,
    outcome: 'PAID',
    amount_cents: input.amountCents,
    paid_at: new Date(),
    payload_hash: input.iuv.padEnd(64, '1'),
    raw_xml: paSendRtXml({
      iuv: input.iuv,
      receiptId: receiptKey,
      transfersCents: [input.amountCents],
    }),
    parsed: JSON.stringify({ transfers: [{ amountCents: input.amountCents }] }),
    state: 'QUARANTINED',
    state_reason: `no payment option for domain ${DOMAIN} IUV ${input.iuv}`,
  })) as number[];
  return Number(id);
}

export const auditOf = async (db: Knex, subjectType: string, subjectId: string) =>
  (await db('audit_events')
    .where({ subject_type: subjectType, subject_id: subjectId })
    .orderBy('id')
    .select('actor', 'action', 'reason')) as { actor: string; action: string; reason: string }[];
