/**
 * The events the adapter tells the municipal ERP about, with their payloads.
 *
 * Why a closed union: the webhook body is a public contract with the ERP. A new event type is a
 * deliberate change (a new member here, documented in the README), never a string invented at
 * the call site. Payloads carry ids, codes and integer cents only: never fiscal codes, names or
 * e-mails, because webhook bodies end up in the ERP's logs and in our `outbox_events` table.
 * The ERP reads the personal data through the authenticated API when it needs it.
 */

export const EVENT_TYPES = [
  'payment.reconciled',
  'receipt.failed',
  'billing-run.finished',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export const isEventType = (value: string): value is EventType =>
  (EVENT_TYPES as readonly string[]).includes(value);

/**
 * How the money arrived: `PAGOPA` for a receipt from the node (paSendRT, RT, MyPay outcome),
 * the other values for payments recorded by an operator outside pagoPA (offline payments).
 */
export const PAYMENT_CHANNELS = ['PAGOPA', 'COUNTER', 'POSTAL_SLIP', 'BANK_TRANSFER'] as const;
export type PaymentChannel = (typeof PAYMENT_CHANNELS)[number];

/** A payment was applied: a position (or one of its options) was paid, or a card was credited. */
export type PaymentReconciledPayload = {
  domainId: string;
  channel: PaymentChannel;
  amountCents: number;
  /** ISO 8601 instant the citizen paid (from the receipt, or as recorded by the operator). */
  paidAt: string;
  /** Our receipt row id when `channel` is PAGOPA, otherwise null. */
  receiptId: number | null;
  /** Our offline payment row id when `channel` is not PAGOPA, otherwise null. */
  offlinePaymentId: number | null;
  iuv: string | null;
  noticeNumber: string | null;
  /** The receiptId (new model) or CCP (RT model) the node sent; null for offline payments. */
  receiptKey: string | null;
  debtPositionId: number | null;
  /** The ERP's own id for the position, as it created it. */
  positionExternalId: string | null;
  paymentOptionId: number | null;
  cardId: number | null;
  account: 'CANTEEN' | 'NURSERY_MEALS' | 'SCHOOL_TRANSPORT' | null;
  ledgerEntryId: number | null;
};

/** A receipt could not be applied and now waits for an operator (FAILED or QUARANTINED). */
export type ReceiptFailedPayload = {
  domainId: string;
  receiptId: number;
  iuv: string;
  receiptKey: string;
  noticeNumber: string | null;
  amountCents: number;
  state: 'FAILED' | 'QUARANTINED';
  /** A short, catalogued reason (an error code such as `amount-mismatch`), never free text with PII. */
  reason: string;
  debtPositionId: number | null;
};

/** A billing run (e.g. the monthly school-transport billing) has finished. */
export type BillingRunFinishedPayload = {
  domainId: string;
  billingRunId: number;
  service: string;
  /** The period billed, e.g. `2026-11`. */
  period: string;
  outcome: 'COMPLETED' | 'COMPLETED_WITH_ERRORS' | 'FAILED';
  positionsCreated: number;
  positionsFailed: number;
  totalAmountCents: number;
  startedAt: string;
  finishedAt: string;
};

export type EventPayloads = {
  'payment.reconciled': PaymentReconciledPayload;
  'receipt.failed': ReceiptFailedPayload;
  'billing-run.finished': BillingRunFinishedPayload;
};

/** What a feature appends to the outbox: the type decides the payload's shape. */
export type NewOutboxEvent = {
  [T in EventType]: { type: T; domainId?: string | null; payload: EventPayloads[T] };
}[EventType];

/** The JSON body POSTed to the ERP (and the shape a future feed of events would return). */
export type WebhookBody = {
  id: string;
  type: EventType;
  createdAt: string;
  data: EventPayloads[EventType];
};
