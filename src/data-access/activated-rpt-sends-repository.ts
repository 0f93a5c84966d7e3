import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { AppError } from '../domain/errors';
import { assertResendable, type ActivatedRptState } from '../domain/operations/activated-rpts';
import type { Actor } from '../domain/operations/types';
import { recordAudit } from './audit-repository';

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

/**
 * The columns that (re-)arm a send: PENDING, due `now`, attempts reset, lease dropped so a send in
 * flight does not close it. One definition for the two ways a send is armed again: a repeated
 * activation (notice-lookup-repository.ts) and an operator's resend (resendActivatedSends).
 */
export const rearmedSend = (now: Date) => ({
  state: 'PENDING' as const,
  attempts: 0,
  next_attempt_at: now,
  lease_token: null,
  last_error: null,
  updated_at: now,
});

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

/** A send as operators list it (ops API, CLI, console). */
export type ActivatedSendSummary = {
  id: number;
  paymentId: string;
  domainId: string;
  iuv: string;
  ccp: string;
  psp: { pspId: string; pspBrokerId: string; channelId: string };
  state: ActivatedRptState;
  attempts: number;
  lastError: string | null;
  activatedAt: Date;
  updatedAt: Date;
};

type SummaryRow = {
  id: number | string;
  payment_id: string;
  domain_id: string;
  iuv: string;
  ccp: string;
  psp_id: string;
  psp_broker_id: string;
  psp_channel_id: string;
  state: ActivatedRptState;
  attempts: number | string;
  last_error: string | null;
  activated_at: Date;
  updated_at: Date;
};

const summaryColumns = [
  's.id',
  'a.payment_id',
  's.domain_id',
  's.iuv',
  's.ccp',
  's.psp_id',
  's.psp_broker_id',
  's.psp_channel_id',
  's.state',
  's.attempts',
  's.last_error',
  's.activated_at',
  's.updated_at',
];

const summariesOf = (db: Knex | Knex.Transaction) =>
  db('activated_rpt_sends as s').join('payment_attempts as a', 'a.id', 's.payment_attempt_id');

const toSummary = (r: SummaryRow): ActivatedSendSummary => ({
  id: Number(r.id),
  paymentId: r.payment_id,
  domainId: r.domain_id,
  iuv: r.iuv,
  ccp: r.ccp,
  psp: { pspId: r.psp_id, pspBrokerId: r.psp_broker_id, channelId: r.psp_channel_id },
  state: r.state,
  attempts: Number(r.attempts),
  lastError: r.last_error,
  activatedAt: r.activated_at,
  updatedAt: r.updated_at,
});

/** Sends, newest first, optionally in one state, after an optional id cursor. */
export async function listActivatedSends(
  db: Knex,
  filter: { state?: ActivatedRptState | undefined; beforeId?: number | undefined; limit: number },
): Promise<ActivatedSendSummary[]> {
  const q = summariesOf(db).orderBy('s.id', 'desc').limit(filter.limit);
  if (filter.state !== undefined) void q.where('s.state', filter.state);
  if (filter.beforeId !== undefined) void q.where('s.id', '<', filter.beforeId);
  return ((await q.select(summaryColumns)) as SummaryRow[]).map(toSummary);
}

/**
 * Re-arms the sends `ids` (see rearmedSend) for an operator, one audit line each
 * (`activated-rpt.resend`, before and after), all or nothing. Without `execute` it only checks and
 * answers what it would re-arm. The rows are locked, so a worker's send in flight cannot
 * interleave: its later write is fenced by the dropped lease.
 * @returns the sends as they were before, in the order of `ids`.
 * @throws AppError('not-found') for an unknown id, AppError('conflict') for a send in a state that
 * is not re-sent (assertResendable); nothing is changed then.
 */
export async function resendActivatedSends(
  db: Knex,
  ids: readonly number[],
  options: {
    force: boolean;
    execute: boolean;
    actor: Actor;
  },
): Promise<ActivatedSendSummary[]> {
  const unique = [...new Set(ids)];
  return db.transaction(async (trx) => {
    // Locks only the outbox rows, in id order, like the sender's claim (no attempt rows locked).
    await trx('activated_rpt_sends').whereIn('id', unique).orderBy('id').forUpdate().select('id');
    const rows = (await summariesOf(trx)
      .whereIn('s.id', unique)
      .select(summaryColumns)) as SummaryRow[];
    const byId = new Map(rows.map((r) => [Number(r.id), toSummary(r)]));
    const sends = unique.map((id) => {
      const send = byId.get(id);
      if (send === undefined) {
        throw new AppError('not-found', `no activated RPT ${id}`);
      }
      assertResendable(id, send.state, options.force);
      return send;
    });
    if (!options.execute) return sends;
    const now = new Date();
    for (const send of sends) {
      await trx('activated_rpt_sends').where('id', send.id).update(rearmedSend(now));
      await recordAudit(trx, {
        actor: options.actor.name,
        action: 'activated-rpt.resend',
        subjectType: 'activated_rpt_send',
        subjectId: String(send.id),
        reason: options.actor.reason,
        requestId: options.actor.requestId ?? null,
        before: { state: send.state, attempts: send.attempts, lastError: send.lastError },
        after: { state: 'PENDING', attempts: 0, lastError: null },
      });
    }
    return sends;
  });
}
