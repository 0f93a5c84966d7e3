import { amountInForce } from '../positions/amount-in-force';
import { romeDate } from '../positions/dates';
import {
  settle,
  settlementIdempotencyKey,
  type SettlementDecision,
  type SettlementOption,
  type SettlementPayment,
  type SettlementPosition,
} from '../positions/settlement';
import { positionStatus } from '../positions/status';
import type { ReceiptOutcome } from './types';

/**
 * Reconciliation of a stored receipt: what the money it states does to its debt position.
 *
 * Pure on purpose, like `settle`: the worker loads the receipt and locks the position, calls
 * {@link decideReconciliation}, and applies the decision in the same transaction. Full payments
 * go through `settle` (the same rules as counter payments); partial RTs (outcomes 2 and 4) are
 * decided here, transfer by transfer, because `settle` only knows whole options.
 *
 * Why a refusal is a failure and not an exception: the money of a receipt is real and cannot be
 * refused to the node (PAGOPA.md §5), so an overpayment, a payment of a cancelled position or an
 * amount that matches nothing becomes a FAILED receipt with a reason an operator can act on
 * (refund, manual credit), never a dropped one.
 */

/** A stored receipt, as the decision needs it. */
export type ReceiptToReconcile = {
  readonly domainId: string;
  readonly iuv: string;
  readonly receiptKey: string;
  readonly outcome: ReceiptOutcome;
  /** What the creditor received (0 for NOT_PAID and TIMED_OUT). */
  readonly amountCents: number;
  readonly paidAt: Date;
  /**
   * Cents paid per line, in transfer order: the RT's datiSingoloPagamento (0 for an unpaid line),
   * or the new-model receipt's transfers. Undefined when the stored receipt carries neither.
   */
  readonly paidLinesCents: readonly number[] | undefined;
};

/** An option of the locked position, with what partial payments already brought to it. */
export type ReconcileOption = SettlementOption & {
  readonly paidAmountCents: number;
  /** The amounts of the option's transfers, by transfer index. */
  readonly transferAmountsCents: readonly number[];
};

export const FAILURE_CODES = [
  'overpayment',
  'amount-mismatch',
  'position-cancelled',
  'position-paid',
  'not-found',
  'unreadable',
] as const;
/** Why a receipt could not be applied: catalogued, so the ERP event carries a code, never free text. */
export type ReconcileFailureCode = (typeof FAILURE_CODES)[number];

type Settled = Extract<SettlementDecision, { outcome: 'settled' }>;

export type ReconcileDecision =
  /** Outcome NOT_PAID or TIMED_OUT: nothing to credit; the attempt closes without money. */
  | { readonly kind: 'no-money'; readonly detail: string }
  | {
      readonly kind: 'apply';
      readonly payment: SettlementPayment;
      readonly settlement: Settled;
      /** A partial payment that leaves its option unpaid: the option's new paid amount. */
      readonly partial: { readonly optionId: number; readonly paidAmountCents: number } | null;
    }
  | { readonly kind: 'fail'; readonly code: ReconcileFailureCode; readonly detail: string };

/** What identifies a receipt's payment: its business key. Ledger keys are derived from it. */
export const receiptReference = (r: {
  domainId: string;
  iuv: string;
  receiptKey: string;
}): string => `${r.domainId}/${r.iuv}/${r.receiptKey}`;

/**
 * The cents paid per line of a stored `parsed` receipt: the RT's lines (`lines[].paidCents`,
 * see adapters/pagopa/rpt-rt.ts) or the new-model receipt's transfers (`transfers[].amountCents`,
 * see adapters/pagopa/pa-for-node/pa-send-rt.ts). Undefined for anything else.
 */
export function paidLinesOf(parsed: unknown): number[] | undefined {
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const o = parsed as { lines?: unknown; transfers?: unknown };
  const pick = (list: unknown, field: string): number[] | undefined => {
    if (!Array.isArray(list)) return undefined;
    const out: number[] = [];
    for (const item of list as unknown[]) {
      const value = (item as Record<string, unknown> | null)?.[field];
      if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) return undefined;
      out.push(value);
    }
    return out;
  };
  return pick(o.lines, 'paidCents') ?? pick(o.transfers, 'amountCents');
}

const fail = (code: ReconcileFailureCode, detail: string): ReconcileDecision => ({
  kind: 'fail',
  code,
  detail,
});

/**
 * Decides what a receipt does to its (locked) position.
 *
 * - NOT_PAID, TIMED_OUT: nothing (`no-money`).
 * - PAID: `settle` with the receipt's IUV and amount. An amount above the option's amount in
 *   force is an `overpayment`; other refusals keep `settle`'s code and detail.
 * - PARTIAL, PARTIAL_TIMED_OUT: only the paid lines count. Lines follow the transfers (PAGOPA.md
 *   §5), so each paid line must equal its transfer; the option's paid amount grows by their sum
 *   and the option is PAID when it reaches the amount in force, otherwise the position is
 *   PARTIALLY_PAID. The card account (if any) is credited by the paid lines only.
 */
export function decideReconciliation(
  receipt: ReceiptToReconcile,
  position: SettlementPosition,
  options: readonly ReconcileOption[],
): ReconcileDecision {
  const payment: SettlementPayment = {
    source: 'RECEIPT',
    reference: receiptReference(receipt),
    amountCents: receipt.amountCents,
    paidAt: receipt.paidAt,
    iuv: receipt.iuv,
  };
  switch (receipt.outcome) {
    case 'NOT_PAID':
    case 'TIMED_OUT':
      if (receipt.amountCents !== 0) {
        return fail(
          'unreadable',
          `outcome ${receipt.outcome} states ${receipt.amountCents} cents instead of 0`,
        );
      }
      return { kind: 'no-money', detail: `outcome ${receipt.outcome}: nothing was paid` };
    case 'PAID':
      return decideFull(position, options, payment);
    case 'PARTIAL':
    case 'PARTIAL_TIMED_OUT':
      return decidePartial(receipt, position, options, payment);
  }
}

function decideFull(
  position: SettlementPosition,
  options: readonly ReconcileOption[],
  payment: SettlementPayment,
): ReconcileDecision {
  const decision = settle(position, options, payment);
  if (decision.outcome === 'settled') {
    return { kind: 'apply', payment, settlement: decision, partial: null };
  }
  const named = options.find((o) => o.iuv === payment.iuv);
  if (decision.code === 'amount-mismatch' && named !== undefined) {
    const due = amountInForce(named, romeDate(payment.paidAt)) - named.paidAmountCents;
    if (payment.amountCents > due) return fail('overpayment', overpaymentDetail(payment, due));
  }
  return fail(decision.code, decision.detail);
}

function decidePartial(
  receipt: ReceiptToReconcile,
  position: SettlementPosition,
  options: readonly ReconcileOption[],
  payment: SettlementPayment,
): ReconcileDecision {
  const lines = receipt.paidLinesCents;
  if (lines === undefined) {
    return fail('unreadable', `a ${receipt.outcome} receipt without readable paid lines`);
  }
  if (position.status === 'CANCELLED') {
    return fail('position-cancelled', `debt position ${position.id} is cancelled`);
  }
  const option = options.find((o) => o.iuv === receipt.iuv);
  if (option === undefined) {
    return fail('not-found', `IUV ${receipt.iuv} is not an option of this debt position`);
  }
  if (option.status === 'CANCELLED') {
    return fail('position-cancelled', `the option with IUV ${option.iuv} is cancelled`);
  }
  const alternativePaid =
    position.plan === 'ALTERNATIVE' && options.some((o) => o.status === 'PAID');
  if (option.status === 'PAID' || alternativePaid) {
    return fail('position-paid', `the option with IUV ${option.iuv} is already paid`);
  }
  if (lines.length !== option.transferAmountsCents.length) {
    return fail(
      'amount-mismatch',
      `the receipt has ${lines.length} line(s) and the option with IUV ${option.iuv} ${option.transferAmountsCents.length} transfer(s)`,
    );
  }
  for (const [i, paid] of lines.entries()) {
    const expected = option.transferAmountsCents[i] ?? 0;
    if (paid !== 0 && paid !== expected) {
      return fail(
        'amount-mismatch',
        `line ${i + 1} paid ${paid} cents but transfer ${i + 1} of IUV ${option.iuv} amounts to ${expected}`,
      );
    }
  }
  const paidCents = lines.reduce((s, c) => s + c, 0);
  if (paidCents !== receipt.amountCents) {
    return fail(
      'unreadable',
      `the paid lines add up to ${paidCents} cents but the receipt states ${receipt.amountCents}`,
    );
  }
  if (paidCents === 0) {
    return { kind: 'no-money', detail: `outcome ${receipt.outcome} with no line paid` };
  }
  const inForce = amountInForce(option, romeDate(payment.paidAt));
  const total = option.paidAmountCents + paidCents;
  if (total > inForce) {
    return fail('overpayment', overpaymentDetail(payment, inForce - option.paidAmountCents));
  }
  const complete = total === inForce;
  const after = options.map((o) => ({
    status: complete && o.id === option.id ? ('PAID' as const) : o.status,
  }));
  const status = complete
    ? positionStatus({ status: position.status, plan: position.plan, options: after })
    : 'PARTIALLY_PAID';
  return {
    kind: 'apply',
    payment,
    settlement: {
      outcome: 'settled',
      paidOptions: complete ? [{ optionId: option.id, paidAmountCents: inForce }] : [],
      positionStatus: status,
      ledger:
        position.cardAccount === null
          ? null
          : {
              cardId: position.cardAccount.cardId,
              account: position.cardAccount.account,
              amountCents: paidCents,
              kind: position.kind === 'TOP_UP' ? 'TOP_UP' : 'PAYMENT',
              idempotencyKey: settlementIdempotencyKey(position.id, payment),
            },
    },
    partial: complete ? null : { optionId: option.id, paidAmountCents: total },
  };
}

function overpaymentDetail(payment: SettlementPayment, dueCents: number): string {
  return `paid ${payment.amountCents} cents for IUV ${payment.iuv ?? '?'} but ${Math.max(dueCents, 0)} cents were due; refund or credit the difference (${payment.amountCents - Math.max(dueCents, 0)} cents)`;
}
