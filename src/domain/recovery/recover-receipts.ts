import { acceptReceipt, type AcceptReceiptDeps } from '../receipts/accept-receipt';
import type { AttemptToRecover, ReceiptSource } from './receipt-source';

/**
 * Missing-receipt recovery: payment attempts still without a receipt some minutes after they
 * started are asked about upstream, and a receipt found enters the inbox through the very intake
 * of a pushed one (`acceptReceipt`): same validation of links, same content hash (a later push of
 * the same receipt is an identical resend), same enqueue for reconciliation.
 *
 * Why minutes and not days: the node retries a lost paaInviaRT once an hour for up to two days
 * (PAGOPA.md §6), and a parent who topped up a card expects the credit before lunch.
 */

export type RecoverDeps = {
  /** Claims attempts due for a question (several workers may run this at once). */
  claim: (limit: number) => Promise<AttemptToRecover[]>;
  /** The source that can answer for a domain (by its dialect); undefined when none is wired yet. */
  sourceFor: (domainId: string) => ReceiptSource | undefined;
  intake: AcceptReceiptDeps;
  log: {
    info: (obj: object, msg: string) => void;
    warn: (obj: object, msg: string) => void;
    debug: (obj: object, msg: string) => void;
  };
};

export type RecoveryRun = {
  asked: number;
  recovered: number;
  notYet: number;
  unsupported: number;
  errors: number;
};

/** Asks about one batch of attempts; never throws for one attempt's failure. */
export async function recoverMissingReceipts(
  deps: RecoverDeps,
  limit: number,
): Promise<RecoveryRun> {
  const run: RecoveryRun = { asked: 0, recovered: 0, notYet: 0, unsupported: 0, errors: 0 };
  const attempts = await deps.claim(limit);
  for (const attempt of attempts) {
    const source = deps.sourceFor(attempt.domainId);
    if (source === undefined) {
      run.unsupported += 1;
      continue;
    }
    run.asked += 1;
    try {
      const lookup = await source.findReceipt(attempt);
      if (!lookup.found) {
        run.notYet += 1;
        deps.log.debug(
          { attemptId: attempt.attemptId, upstreamState: lookup.upstreamState },
          'no receipt upstream yet',
        );
        continue;
      }
      const result = await acceptReceipt(deps.intake, lookup.receipt);
      run.recovered += 1;
      deps.log.info(
        { attemptId: attempt.attemptId, receiptId: result.receiptId, result: result.kind },
        'missing receipt recovered',
      );
    } catch (err) {
      run.errors += 1;
      deps.log.warn(
        { attemptId: attempt.attemptId, err: err instanceof Error ? err.message : String(err) },
        'receipt recovery failed; asked again after the delay',
      );
    }
  }
  return run;
}
