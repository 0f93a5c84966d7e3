import type { IncomingReceipt } from '../receipts/types';

/**
 * The port through which missing-receipt recovery asks the node about a payment attempt.
 *
 * Why a port: the node client is its own piece of work (SOAP for the RT model, REST for the new
 * model's receipt lookups, PAGOPA.md §6); recovery only needs one question answered, and its tests
 * answer it with nock behind a real adapter or with a fake.
 */

/** What recovery knows of an attempt still waiting for its receipt. */
export type AttemptToRecover = {
  readonly attemptId: number;
  readonly domainId: string;
  readonly iuv: string;
  readonly noticeNumber: string;
  /** RT model: the CCP of the RPT; null for new-model attempts. */
  readonly ccp: string | null;
};

export type ReceiptLookup =
  | {
      readonly found: false;
      /** What the node said instead, for the logs (e.g. `PPT_RT_NONDISPONIBILE`, `RPT_ACCETTATA_PSP`). */
      readonly upstreamState: string;
    }
  | {
      readonly found: true;
      /** The receipt document exactly as the node returned it. */
      readonly rawXml: string;
      /** The receipt parsed as the SOAP door parses a pushed one, ready for the same intake. */
      readonly receipt: IncomingReceipt;
    };

export interface ReceiptSource {
  /**
   * Asks the node for the receipt of an attempt.
   * @throws AppError('dependency-down') when the node cannot be reached or times out.
   * @throws AppError('upstream-error') when it answers something unusable.
   */
  findReceipt(attempt: AttemptToRecover): Promise<ReceiptLookup>;
}
