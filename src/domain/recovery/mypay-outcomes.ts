import { acceptReceipt, type AcceptReceiptDeps } from '../receipts/accept-receipt';
import type { IncomingReceipt } from '../receipts/types';

/**
 * Polling MyPay for outcomes (paaSILChiediPagati): MyPay may push an outcome to us, but a push can
 * be lost, so PENDING MyPay attempts some minutes old are asked about, and a Pagati found enters
 * the inbox through the very intake of a pushed one (`acceptReceipt`): same business key, same
 * content hash, so whichever of push and poll comes second is an identical resend.
 *
 * What each session state does to the attempt:
 * - paid (any Pagati: 0 paid, 1 not paid, 2 partial, 3/4 time limit): into the inbox; the
 *   reconcile job credits and closes the attempt (PAID, or NOT_PAID for an outcome without money);
 * - PAA_PAGAMENTO_NON_INIZIATO: still PENDING (the citizen may still pay) until `expiryMs` after
 *   the attempt was created, then NOT_PAID: the session is abandoned, the position stays payable
 *   and the ERP can start a new attempt;
 * - PAA_PAGAMENTO_IN_CORSO: still PENDING, never expired by our clock: money may be moving;
 * - PAA_PAGAMENTO_ANNULLATO: CANCELLED (the citizen cancelled on MyPay's page);
 * - PAA_PAGAMENTO_SCADUTO: NOT_PAID (MyPay itself expired the session).
 * A pushed outcome arriving after an attempt was closed is still stored and reconciled: the
 * receipt follows the position's option, not the attempt.
 */

/** What the poller knows of an attempt. */
export type MyPayAttemptToPoll = {
  readonly attemptId: number;
  readonly domainId: string;
  readonly iuv: string;
  readonly sessionId: string;
  readonly createdAt: Date;
};

/** What MyPay says of a session. */
export type MyPaySessionOutcome =
  | { readonly kind: 'receipt'; readonly receipt: IncomingReceipt }
  | {
      readonly kind: 'not-started' | 'in-progress' | 'cancelled' | 'expired';
      /** MyPay's fault code, for the logs (e.g. PAA_PAGAMENTO_NON_INIZIATO). */
      readonly upstreamState: string;
    };

export interface MyPayOutcomeSource {
  /**
   * paaSILChiediPagati for the attempt's session.
   * @throws AppError('dependency-down' | 'upstream-error') when MyPay cannot answer usefully.
   */
  outcomeOf(attempt: MyPayAttemptToPoll): Promise<MyPaySessionOutcome>;
}

export type MyPayPollDeps = {
  /** Claims attempts due for a question (several workers may run this at once). */
  claim: (limit: number) => Promise<MyPayAttemptToPoll[]>;
  /** The MyPay client of a domain; undefined when the domain has none (not MyPay, no config). */
  sourceFor: (domainId: string) => MyPayOutcomeSource | undefined;
  intake: AcceptReceiptDeps;
  /** Closes a still PENDING attempt without money; resolves whether it changed. */
  close: (attemptId: number, status: 'CANCELLED' | 'NOT_PAID') => Promise<boolean>;
  /** How long a session may stay not started before its attempt is NOT_PAID. */
  expiryMs: number;
  now: () => Date;
  log: {
    info: (obj: object, msg: string) => void;
    warn: (obj: object, msg: string) => void;
    debug: (obj: object, msg: string) => void;
  };
};

export type MyPayPollRun = {
  asked: number;
  received: number;
  pending: number;
  cancelled: number;
  expired: number;
  unsupported: number;
  errors: number;
};

/** Asks about one batch of attempts; never throws for one attempt's failure. */
export async function pollMyPayOutcomes(deps: MyPayPollDeps, limit: number): Promise<MyPayPollRun> {
  const run: MyPayPollRun = {
    asked: 0,
    received: 0,
    pending: 0,
    cancelled: 0,
    expired: 0,
    unsupported: 0,
    errors: 0,
  };
  for (const attempt of await deps.claim(limit)) {
    const source = deps.sourceFor(attempt.domainId);
    if (source === undefined) {
      run.unsupported += 1;
      continue;
    }
    run.asked += 1;
    try {
      const outcome = await source.outcomeOf(attempt);
      const ctx = { attemptId: attempt.attemptId, sessionId: attempt.sessionId };
      switch (outcome.kind) {
        case 'receipt': {
          const result = await acceptReceipt(deps.intake, outcome.receipt);
          run.received += 1;
          deps.log.info(
            { ...ctx, receiptId: result.receiptId, result: result.kind },
            'mypay outcome polled into the inbox',
          );
          break;
        }
        case 'cancelled':
          run.cancelled += 1;
          await deps.close(attempt.attemptId, 'CANCELLED');
          deps.log.info(
            { ...ctx, upstreamState: outcome.upstreamState },
            'mypay session cancelled',
          );
          break;
        case 'expired':
          run.expired += 1;
          await deps.close(attempt.attemptId, 'NOT_PAID');
          deps.log.info({ ...ctx, upstreamState: outcome.upstreamState }, 'mypay session expired');
          break;
        case 'not-started':
          if (deps.now().getTime() - attempt.createdAt.getTime() >= deps.expiryMs) {
            run.expired += 1;
            await deps.close(attempt.attemptId, 'NOT_PAID');
            deps.log.info(
              { ...ctx, upstreamState: outcome.upstreamState, expiryMs: deps.expiryMs },
              'mypay session never started; attempt closed NOT_PAID',
            );
            break;
          }
          run.pending += 1;
          deps.log.debug({ ...ctx, upstreamState: outcome.upstreamState }, 'mypay not paid yet');
          break;
        case 'in-progress':
          run.pending += 1;
          deps.log.debug({ ...ctx, upstreamState: outcome.upstreamState }, 'mypay not paid yet');
          break;
      }
    } catch (err) {
      run.errors += 1;
      deps.log.warn(
        { attemptId: attempt.attemptId, err: err instanceof Error ? err.message : String(err) },
        'mypay poll failed; asked again after the delay',
      );
    }
  }
  return run;
}
