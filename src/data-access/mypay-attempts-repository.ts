import type { Db } from './db';

/**
 * MyPay payment attempts (channel MYPAY, session_id = MyPay's idSession): recording the session a
 * paaSILInviaDovuti opened, and the claims and closings of the MyPay poller.
 */

/**
 * Records on a PENDING attempt the MyPay session that pays it, so the poller can ask
 * paaSILChiediPagati about it and the outcome finds its attempt. Resolves false when there is no
 * PENDING attempt with that payment id.
 */
export async function recordMyPaySession(
  db: Db,
  input: { paymentId: string; sessionId: string; checkoutUrl: string },
): Promise<boolean> {
  const changed = await db('payment_attempts')
    .where({ payment_id: input.paymentId, status: 'PENDING' })
    .update({
      channel: 'MYPAY',
      session_id: input.sessionId,
      checkout_url: input.checkoutUrl.slice(0, 1000),
      updated_at: db.fn.now(3),
    });
  return changed > 0;
}

/** A MyPay attempt due for a paaSILChiediPagati. */
export type MyPayAttempt = {
  readonly attemptId: number;
  readonly paymentId: string;
  readonly domainId: string;
  readonly iuv: string;
  readonly sessionId: string;
  readonly createdAt: Date;
};

/**
 * Claims PENDING MyPay attempts created more than `delayMs` ago, not asked about in the last
 * `delayMs` and without a receipt of their own in the inbox yet, oldest first, and stamps them (updated_at).
 * FOR UPDATE SKIP LOCKED lets several workers poll at once without asking twice; the database
 * clock decides age, not the process's.
 */
export async function claimMyPayAttempts(
  db: Db,
  options: { delayMs: number; limit: number },
): Promise<MyPayAttempt[]> {
  return db.transaction(async (trx) => {
    const cutoff = trx.raw('NOW(3) - INTERVAL ? MICROSECOND', [options.delayMs * 1000]);
    const rows = (await trx('payment_attempts as a')
      .join('payment_options as o', 'o.id', 'a.payment_option_id')
      .where('a.status', 'PENDING')
      .where('a.channel', 'MYPAY')
      .whereNotNull('a.session_id')
      .where('a.created_at', '<', cutoff)
      .where('a.updated_at', '<', cutoff)
      .whereNotExists(function () {
        void this.select(trx.raw('1'))
          .from('receipts as r')
          .whereRaw('r.payment_option_id = a.payment_option_id')
          // MyPay outcomes name their session (pushed or polled), so the receipt names its
          // attempt. One of another session does not answer for this one; if it paid the option,
          // its reconciliation closes this attempt too (applySettlement).
          .whereRaw('r.payment_attempt_id = a.id');
      })
      .orderBy('a.created_at')
      .limit(options.limit)
      .forUpdate()
      .skipLocked()
      .select('a.id', 'a.payment_id', 'a.session_id', 'a.created_at', 'o.domain_id', 'o.iuv')) as {
      id: number | string;
      payment_id: string;
      session_id: string;
      created_at: Date;
      domain_id: string;
      iuv: string;
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
      domainId: r.domain_id,
      iuv: r.iuv,
      sessionId: r.session_id,
      createdAt: r.created_at,
    }));
  });
}

/**
 * Closes a MyPay attempt without money (the session was cancelled or expired). Only a PENDING
 * attempt changes: one that a receipt closed meanwhile keeps its state. Resolves whether it did.
 */
export async function closeMyPayAttempt(
  db: Db,
  attemptId: number,
  status: 'CANCELLED' | 'NOT_PAID',
): Promise<boolean> {
  const changed = await db('payment_attempts')
    .where({ id: attemptId, status: 'PENDING', channel: 'MYPAY' })
    .update({ status, updated_at: db.fn.now(3) });
  return changed > 0;
}
