import type { ReceiptOutcome, ReceiptSource, ReceiptState } from '../receipts/types';

/**
 * The operators' vocabulary: what the inventory shows, what an action changes, and the ports the
 * use cases drive (the inbox on MariaDB, the reconcile queue on Redis). The three doors (CLI, ops
 * API, console) translate their inputs into these shapes and call the same use cases.
 */

/** The inventory's states: the inbox's four, plus CONFLICT (a resend with other content). */
export const INVENTORY_STATES = [
  'RECEIVED',
  'RECONCILED',
  'FAILED',
  'QUARANTINED',
  'CONFLICT',
] as const;
export type InventoryState = (typeof INVENTORY_STATES)[number];

/** Which receipts an inventory page or a set replay is about. */
export type ReceiptFilter = {
  readonly state?: InventoryState | undefined;
  readonly domainId?: string | undefined;
  readonly iuv?: string | undefined;
  /** A case-insensitive substring of the state reason (e.g. a failure code: `amount-mismatch`). */
  readonly reasonContains?: string | undefined;
  /** Only receipts received at least this long ago. */
  readonly olderThanMs?: number | undefined;
};

export type ReceiptSummary = {
  readonly id: number;
  readonly domainId: string;
  readonly iuv: string;
  readonly receiptKey: string;
  readonly noticeNumber: string | null;
  readonly source: ReceiptSource | 'MYPAY';
  readonly outcome: ReceiptOutcome;
  readonly amountCents: number;
  readonly state: ReceiptState;
  readonly reason: string | null;
  readonly stationId: string | null;
  readonly debtPositionId: number | null;
  readonly conflicts: number;
  readonly receivedAt: Date;
  readonly updatedAt: Date;
};

export type StateChange = {
  readonly from: string | null;
  readonly to: string;
  readonly reason: string | null;
  readonly actor: string;
  readonly at: Date;
};

export type ConflictingContent = {
  readonly id: number;
  readonly payloadHash: string;
  readonly rawXml: string;
  readonly receivedAt: Date;
};

export type PositionView = {
  readonly id: number;
  readonly domainId: string;
  readonly externalId: string;
  readonly kind: string;
  readonly status: string;
  readonly cardId: number | null;
  readonly account: string | null;
  readonly options: readonly {
    readonly id: number;
    readonly iuv: string;
    readonly noticeNumber: string;
    readonly amountCents: number;
    readonly paidAmountCents: number;
    readonly status: string;
  }[];
};

export type LedgerLine = {
  readonly id: number;
  readonly cardAccountId: number;
  readonly amountCents: number;
  readonly kind: string;
  readonly idempotencyKey: string;
  readonly reversesEntryId: number | null;
  readonly balanceAfterCents: number;
  readonly createdAt: Date;
};

export type AuditLine = {
  readonly id: number;
  readonly occurredAt: Date;
  readonly actor: string;
  readonly action: string;
  readonly subjectType: string;
  readonly subjectId: string;
  readonly reason: string | null;
  readonly before: unknown;
  readonly after: unknown;
};

/** Everything an operator needs to understand one receipt. */
export type ReceiptDetail = ReceiptSummary & {
  readonly rawXml: string;
  readonly parsed: unknown;
  readonly paidAt: Date | null;
  readonly history: readonly StateChange[];
  readonly conflictingContents: readonly ConflictingContent[];
  readonly position: PositionView | null;
  readonly ledgerEntries: readonly LedgerLine[];
  readonly audit: readonly AuditLine[];
};

/** The reconciliation job of a receipt, as BullMQ keeps it. */
export type JobView = {
  readonly jobId: string;
  readonly state: string;
  readonly attemptsMade: number;
  readonly failedReason: string | null;
  /** The error of each failed attempt, oldest first (BullMQ's stacktrace list, first lines only). */
  readonly errors: readonly string[];
  readonly createdAt: Date | null;
  readonly finishedAt: Date | null;
};

/** Who acts and why: every operator action carries it, and it lands in the audit trail. */
export type Actor = {
  /** `cli:<os user>`, `api:<key name>` or `console:<key name>`. */
  readonly name: string;
  readonly reason: string;
  readonly requestId?: string | undefined;
};

/** What a replay did (or, in a dry run, would do) to one receipt. */
export type ReplayItem = {
  readonly receiptId: number;
  readonly iuv: string;
  readonly domainId: string;
  readonly stateBefore: ReceiptState;
  /**
   * - `replayed`: FAILED moved back to RECEIVED and its job retried or added;
   * - `requeued`: RECEIVED without a live job (its job failed or is gone): job retried or added;
   * - `already-queued`: RECEIVED with a live job: nothing to do;
   * - `skipped`: RECONCILED or QUARANTINED (release it instead): nothing to do.
   */
  readonly action: 'replayed' | 'requeued' | 'already-queued' | 'skipped';
  readonly jobAction: JobAction | null;
  readonly detail: string;
};

/** What happened to the reconciliation job: retried (was failed/completed), added (none), live. */
export type JobAction = 'retried' | 'added' | 'live';

export type ReceiptRef = {
  readonly receiptId: number;
  readonly domainId: string;
  readonly iuv: string;
  readonly receiptKey: string;
};

/** The reconcile queue as the operations use cases see it (BullMQ in src/adapters/reconcile-jobs.ts). */
export type ReconcileJobs = {
  /** The job's state: BullMQ's (`waiting`, `active`, `failed`, ...) or `missing`. */
  state(ref: ReceiptRef): Promise<string>;
  /** Makes sure the receipt has a job that will run: retries a failed one, adds a missing one. */
  ensure(ref: ReceiptRef): Promise<JobAction>;
  describe(ref: ReceiptRef): Promise<JobView | null>;
};
