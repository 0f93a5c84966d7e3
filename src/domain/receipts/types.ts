/**
 * The receipts inbox vocabulary, in English: what the node pushed (an RT or a paSendRT receipt),
 * reduced to what the adapter decides on. The wire names stay in src/adapters/pagopa.
 */

/**
 * Which primitive delivered the receipt (RECOVERY: fetched by missing-receipt recovery; MYPAY: a
 * MyPay Pagati document, pushed to our outcome endpoint or read with paaSILChiediPagati).
 */
export type ReceiptSource = 'PA_SEND_RT' | 'PA_SEND_RT_V2' | 'PAA_INVIA_RT' | 'MYPAY' | 'RECOVERY';

/**
 * The payment outcome a receipt states: PAID (new-model outcome OK, RT 0), NOT_PAID (RT 1, or a
 * new-model KO), PARTIAL (RT 2), TIMED_OUT (RT 3: time limit elapsed, no money),
 * PARTIAL_TIMED_OUT (RT 4).
 */
export type ReceiptOutcome = 'PAID' | 'NOT_PAID' | 'PARTIAL' | 'TIMED_OUT' | 'PARTIAL_TIMED_OUT';

export type ReceiptState = 'RECEIVED' | 'RECONCILED' | 'FAILED' | 'QUARANTINED';

/**
 * What the node resends a receipt with: the domain, the IUV and the receipt key (the receiptId in
 * the new model, the CCP in the RT model). Unique in the inbox.
 */
export type ReceiptBusinessKey = {
  readonly domainId: string;
  readonly iuv: string;
  readonly receiptKey: string;
};

/** A receipt as parsed from the wire, before the inbox has seen it. */
export type IncomingReceipt = {
  readonly key: ReceiptBusinessKey;
  readonly source: ReceiptSource;
  readonly noticeNumber?: string;
  readonly brokerId: string;
  readonly stationId: string;
  readonly outcome: ReceiptOutcome;
  /** What the creditor actually received, in cents (0 for NOT_PAID and TIMED_OUT). */
  readonly amountCents: number;
  readonly paidAt?: Date;
  /** The request exactly as received, kept for audits and replays. */
  readonly rawXml: string;
  /**
   * The parsed receipt in canonical form (the wire module's deterministic object): its content
   * hash decides whether a resend is identical.
   */
  readonly parsed: unknown;
  /**
   * The part of `parsed` whose hash decides identity, when not all of it: a new-model receipt
   * reaches us pushed (paSendRT) or recovered (biz-events JSON), and only what both carry
   * faithfully is compared (see adapters/pagopa/pa-for-node/receipt-identity.ts).
   */
  readonly hashed?: unknown;
  /** RT model: the CCP identifies the payment attempt the receipt closes. */
  readonly attemptCcp?: string;
  /** MyPay: the idSession (paaSILInviaDovuti) identifies the payment attempt the outcome closes. */
  readonly attemptSessionId?: string;
  /**
   * Set when the node delivered it through a broker, station or domain we do not expect for it:
   * the receipt is held QUARANTINED with this reason (the money is real) while the node is told
   * the caller is wrong.
   */
  readonly misdirected?: string;
};

/** The position, option and attempt a receipt belongs to, as far as they are known. */
export type ReceiptLinks = {
  readonly debtPositionId?: number;
  readonly paymentOptionId?: number;
  readonly paymentAttemptId?: number;
};

/** A receipt ready for the inbox: incoming content plus the decisions of the use case. */
export type NewReceipt = IncomingReceipt & {
  readonly payloadHash: string;
  readonly state: 'RECEIVED' | 'QUARANTINED';
  readonly stateReason?: string;
  readonly links: ReceiptLinks;
};

/** What storing a receipt found. */
export type StoreResult =
  | { readonly kind: 'stored'; readonly receiptId: number }
  | { readonly kind: 'identical'; readonly receiptId: number }
  | {
      readonly kind: 'conflict';
      readonly receiptId: number;
      /** False when this very conflicting content had already been recorded. */
      readonly recorded: boolean;
    };
