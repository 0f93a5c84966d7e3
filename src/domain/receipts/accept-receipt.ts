import { AppError } from '../errors';
import type {
  IncomingReceipt,
  NewReceipt,
  ReceiptBusinessKey,
  ReceiptLinks,
  StoreResult,
} from './types';

/** The inbox as the use case sees it (MariaDB in production, see receipts-repository.ts). */
export interface ReceiptInbox {
  /**
   * Finds the option (domain + IUV) and the attempt of a receipt: by CCP for the RT model, by
   * MyPay's idSession for MyPay outcomes.
   */
  findLinks(
    key: ReceiptBusinessKey,
    attemptCcp: string | undefined,
    attemptSessionId?: string,
  ): Promise<ReceiptLinks>;
  /**
   * Stores a receipt durably in one transaction, or finds it already there (identical content)
   * or there with other content (then records the conflict). Resolves only after the commit.
   */
  store(receipt: NewReceipt): Promise<StoreResult>;
}

export type AcceptReceiptDeps = {
  inbox: ReceiptInbox;
  /** Enqueues the reconciliation of a stored receipt (jobId derived from the business key). */
  scheduleReconcile: (receiptId: number, key: ReceiptBusinessKey) => Promise<void>;
  /** How long the answer may wait for the enqueue; the receipt is already safe by then. */
  scheduleTimeoutMs: number;
  /** SHA-256 of the canonical form of a parsed receipt (or of its `hashed` part). */
  hash: (parsed: unknown) => string;
  log: ReceiptLog;
};

type ReceiptLog = {
  warn: (obj: object, msg: string) => void;
  info: (obj: object, msg: string) => void;
};

export type AcceptResult =
  | {
      readonly kind: 'accepted';
      readonly receiptId: number;
      readonly state: 'RECEIVED' | 'QUARANTINED';
      /** False when Redis was down or slow: the sweeper enqueues it later. */
      readonly scheduled: boolean;
    }
  | { readonly kind: 'already-accepted'; readonly receiptId: number };

/**
 * Accepts a receipt pushed by the node (paSendRT, paSendRTV2, paaInviaRT): store first, then
 * enqueue, then let the caller answer OK.
 *
 * Why idempotent: the node retries a receipt until it gets a final answer (up to 48 times an hour
 * apart for the RT model), so the same receipt arrives several times. The same business key with
 * the same content hash answers OK again and changes nothing; with another hash it is a modified
 * resend: recorded in the conflicts table for operators, never applied, and refused.
 *
 * Why a receipt for an unknown position is stored QUARANTINED and answered OK: a receipt means
 * money has moved and "cannot be refused" (SANP 3.03); refusing it with PAA_PAGAMENTO_SCONOSCIUTO
 * or PAA_RPT_SCONOSCIUTA would only make the node retry it for days and then dead-letter it, out
 * of reach. Held in the inbox it is visible and replayable by an operator (PAGOPA.md §6).
 * A misdirected receipt (wrong broker, station or domain: `incoming.misdirected`) is held the same
 * way, and the caller still answers the node with the caller fault, so the configuration is fixed.
 *
 * Why the enqueue cannot fail the answer: the receipt is committed before it; if Redis is down or
 * slower than `scheduleTimeoutMs`, the worker's sweeper enqueues RECEIVED receipts later, and the
 * job id derived from the business key makes a late duplicate enqueue harmless.
 * @throws AppError('receipt-modified') when the key exists with different content (after the
 * conflict is committed).
 * @throws whatever the inbox throws (database down: the caller answers PAA_SYSTEM_ERROR, so the
 * node retries).
 * @param log where this receipt's warnings go (a request's logger); `deps.log` by default.
 */
export async function acceptReceipt(
  deps: AcceptReceiptDeps,
  incoming: IncomingReceipt,
  log: ReceiptLog = deps.log,
): Promise<AcceptResult> {
  const payloadHash = deps.hash(incoming.hashed ?? incoming.parsed);
  const links = await deps.inbox.findLinks(
    incoming.key,
    incoming.attemptCcp,
    incoming.attemptSessionId,
  );
  const known = links.paymentOptionId !== undefined || links.paymentAttemptId !== undefined;
  // A misdirected receipt is held even when its position is known: who delivered it is in doubt.
  const held = !known || incoming.misdirected !== undefined;
  const result = await deps.inbox.store({
    ...incoming,
    payloadHash,
    links,
    state: held ? 'QUARANTINED' : 'RECEIVED',
    ...(held ? { stateReason: quarantineReason(incoming) } : {}),
  });

  switch (result.kind) {
    case 'identical':
      return { kind: 'already-accepted', receiptId: result.receiptId };
    case 'conflict':
      log.warn(
        { receiptId: result.receiptId, source: incoming.source, newConflict: result.recorded },
        'receipt resent with different content',
      );
      throw new AppError(
        'receipt-modified',
        `receipt ${incoming.key.receiptKey} for IUV ${incoming.key.iuv} was already received with different content`,
        { receiptId: result.receiptId },
      );
    case 'stored':
      break;
  }

  if (held) {
    log.warn({ receiptId: result.receiptId, source: incoming.source }, 'receipt quarantined');
    return {
      kind: 'accepted',
      receiptId: result.receiptId,
      state: 'QUARANTINED',
      scheduled: false,
    };
  }
  const scheduled = await scheduleWithin(deps, log, result.receiptId, incoming.key);
  return { kind: 'accepted', receiptId: result.receiptId, state: 'RECEIVED', scheduled };
}

function quarantineReason(r: IncomingReceipt): string {
  if (r.misdirected !== undefined) return `unexpected caller: ${r.misdirected}`;
  const attempt =
    r.attemptCcp === undefined ? '' : ` nor a payment attempt with CCP ${r.attemptCcp}`;
  return `no payment option for domain ${r.key.domainId} IUV ${r.key.iuv}${attempt}`;
}

async function scheduleWithin(
  deps: AcceptReceiptDeps,
  log: ReceiptLog,
  receiptId: number,
  key: ReceiptBusinessKey,
): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), deps.scheduleTimeoutMs);
  });
  // The enqueue may settle after the timeout: its late failure must not be unhandled.
  const enqueue = deps.scheduleReconcile(receiptId, key).then(
    () => 'ok' as const,
    (err: unknown) => err,
  );
  try {
    const outcome = await Promise.race([enqueue, timeout]);
    if (outcome === 'ok') return true;
    log.warn(
      {
        receiptId,
        err: outcome === 'timeout' ? 'timeout' : errorMessage(outcome),
        timeoutMs: deps.scheduleTimeoutMs,
      },
      'reconcile enqueue failed; the sweeper will enqueue it',
    );
    return false;
  } finally {
    clearTimeout(timer);
  }
}

const errorMessage = (err: unknown): string => (err instanceof Error ? err.message : String(err));
