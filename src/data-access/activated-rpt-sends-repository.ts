import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';

/**
 * The activated-RPT outbox (migration 20261123_0012): rows are queued by paaAttivaRPT
 * (notice-lookup-repository.ts, queueActivatedRpt) and claimed, closed or rescheduled here by the
 * sender (entry-points/worker/activated-rpt-sender.ts).
 *
 * Claims: due PENDING rows of the domains the caller can send for, locked with SKIP LOCKED so
 * several workers split them, leased by pushing `next_attempt_at` ahead and stamping a token.
 * Every later write checks the token: a worker whose lease ran out, or whose row was re-armed by
 * a repeated activation meanwhile, changes nothing.
 */

export type ClaimedSend = {
  id: number;
  token: string;
  paymentAttemptId: number;
  paymentId: string;
  domainId: string;
  iuv: string;
  ccp: string;
  psp: { pspId: string; pspBrokerId: string; channelId: string };
  /** Sends tried before this one. */
  attempts: number;
  /** When the PSP activated it (the latest activation): the RPT is priced as of then. */
  activatedAt: Date;
  /** The activated amount (the attempt's). */
  amountCents: number;
  /** The position's external id, to load it. */
  externalId: string;
};

type SendRow = {
  id: number | string;
  payment_attempt_id: number | string;
  domain_id: string;
  iuv: string;
  ccp: string;
  psp_id: string;
  psp_broker_id: string;
  psp_channel_id: string;
  attempts: number;
  activated_at: Date;
};

type AttemptRow = {
  id: number | string;
  payment_id: string;
  amount_cents: number | string;
  external_id: string;
};

const ERROR_MAX = 1000;

/** Claims up to `limit` due PENDING sends of `domainIds`, leased for `leaseMs`. */
export async function claimDueSends(
  db: Knex,
  input: { domainIds: readonly string[]; limit: number; leaseMs: number; now?: Date },
): Promise<ClaimedSend[]> {
  if (input.domainIds.length === 0) return [];
  const now = input.now ?? new Date();
  const token = randomUUID();
  // Only the outbox rows are locked (no join): the activation locks position then option then
  // writes here; locking attempts or positions from this side could deadlock with it.
  const rows = await db.transaction(async (trx) => {
    const due = (await trx('activated_rpt_sends')
      .where('state', 'PENDING')
      .where('next_attempt_at', '<=', now)
      .whereIn('domain_id', input.domainIds)
      .orderBy('next_attempt_at')
      .limit(input.limit)
      .forUpdate()
      .skipLocked()
      .select(
        'id',
        'payment_attempt_id',
        'domain_id',
        'iuv',
        'ccp',
        'psp_id',
        'psp_broker_id',
        'psp_channel_id',
        'attempts',
        'activated_at',
      )) as SendRow[];
    if (due.length === 0) return due;
    await trx('activated_rpt_sends')
      .whereIn(
        'id',
        due.map((r) => r.id),
      )
      .update({
        lease_token: token,
        next_attempt_at: new Date(now.getTime() + input.leaseMs),
        updated_at: now,
      });
    return due;
  });
  if (rows.length === 0) return [];
  const attempts = (await db('payment_attempts as a')
    .join('debt_positions as p', 'p.id', 'a.debt_position_id')
    .whereIn(
      'a.id',
      rows.map((r) => r.payment_attempt_id),
    )
    .select('a.id', 'a.payment_id', 'a.amount_cents', 'p.external_id')) as AttemptRow[];
  const byId = new Map(attempts.map((a) => [Number(a.id), a]));
  return rows.flatMap((r) => {
    const attempt = byId.get(Number(r.payment_attempt_id));
    // The attempt references the row (foreign key): it cannot be missing.
    if (attempt === undefined) return [];
    return [
      {
        id: Number(r.id),
        token,
        paymentAttemptId: Number(r.payment_attempt_id),
        paymentId: attempt.payment_id,
        domainId: r.domain_id,
        iuv: r.iuv,
        ccp: r.ccp,
        psp: { pspId: r.psp_id, pspBrokerId: r.psp_broker_id, channelId: r.psp_channel_id },
        attempts: Number(r.attempts),
        activatedAt: r.activated_at,
        amountCents: Number(attempt.amount_cents),
        externalId: attempt.external_id,
      },
    ];
  });
}

/**
 * Marks a send SENT; with `document` (the RPT as sent) also records it in sent_payment_requests,
 * in the same transaction. Without one (PPT_RPT_DUPLICATA: the node had it) only the state moves.
 * Answers false when the lease was lost (nothing written).
 */
export async function markSendSent(
  db: Knex,
  claimed: Pick<ClaimedSend, 'id' | 'token' | 'paymentAttemptId' | 'domainId' | 'iuv' | 'ccp'>,
  document: string | undefined,
): Promise<boolean> {
  return db.transaction(async (trx) => {
    const now = new Date();
    const updated = await trx('activated_rpt_sends')
      .where({ id: claimed.id, lease_token: claimed.token })
      .update({
        attempts: trx.raw('attempts + 1'),
        state: 'SENT',
        lease_token: null,
        last_error: null,
        updated_at: now,
      });
    if (updated === 0) return false;
    if (document !== undefined) {
      await trx('sent_payment_requests').insert({
        payment_attempt_id: claimed.paymentAttemptId,
        kind: 'RPT',
        domain_id: claimed.domainId,
        iuv: claimed.iuv,
        ccp: claimed.ccp,
        cart_id: null,
        session_id: null,
        document,
        sent_at: now,
      });
    }
    return true;
  });
}

/** A send that failed: PENDING again at `retryAt`, or FAILED when `retryAt` is undefined. */
export async function markSendFailed(
  db: Knex,
  claimed: Pick<ClaimedSend, 'id' | 'token'>,
  error: string,
  retryAt: Date | undefined,
): Promise<boolean> {
  const now = new Date();
  const updated = await db('activated_rpt_sends')
    .where({ id: claimed.id, lease_token: claimed.token })
    .update({
      attempts: db.raw('attempts + 1'),
      state: retryAt === undefined ? 'FAILED' : 'PENDING',
      next_attempt_at: retryAt ?? now,
      lease_token: null,
      last_error: error.slice(0, ERROR_MAX),
      updated_at: now,
    });
  return updated > 0;
}

export type ActivatedSendView = {
  state: 'PENDING' | 'SENT' | 'FAILED';
  attempts: number;
  lastError: string | null;
  pspId: string;
  pspBrokerId: string;
  channelId: string;
};

/** The send queued for a payment attempt, if any (operators, tests). */
export async function findActivatedSend(
  db: Knex,
  paymentId: string,
): Promise<ActivatedSendView | undefined> {
  const row = (await db('activated_rpt_sends as s')
    .join('payment_attempts as a', 'a.id', 's.payment_attempt_id')
    .where('a.payment_id', paymentId)
    .first(
      's.state',
      's.attempts',
      's.last_error',
      's.psp_id',
      's.psp_broker_id',
      's.psp_channel_id',
    )) as
    | {
        state: ActivatedSendView['state'];
        attempts: number;
        last_error: string | null;
        psp_id: string;
        psp_broker_id: string;
        psp_channel_id: string;
      }
    | undefined;
  return row === undefined
    ? undefined
    : {
        state: row.state,
        attempts: Number(row.attempts),
        lastError: row.last_error,
        pspId: row.psp_id,
        pspBrokerId: row.psp_broker_id,
        channelId: row.psp_channel_id,
      };
}
