import { amountInForce } from './amount-in-force';
import { romeDate } from './dates';
import { positionStatus } from './status';
import type {
  CardAccountName,
  OptionStatus,
  Plan,
  PositionKind,
  PositionStatus,
  ScheduleStep,
} from './types';

/**
 * Settlement: what a payment does to a debt position, whatever brought the money (a counter or
 * postal payment recorded by the ERP today, a pagoPA receipt reconciled by the worker later).
 *
 * Pure on purpose: the caller loads the position under a row lock, calls {@link settle}, and
 * applies the decision in the same transaction (option and position states, one ledger entry).
 * A refusal is a value, not an exception, so each door decides how to answer it: the ERP API
 * answers problem+json, the reconciliation worker will quarantine the receipt.
 */

export type SettlementPosition = {
  id: number;
  kind: PositionKind;
  status: PositionStatus;
  plan: Plan;
  /** The card account the position belongs to, when it has a card and its service an account. */
  cardAccount: { cardId: number; account: CardAccountName } | null;
};

export type SettlementOption = {
  id: number;
  iuv: string;
  installment: number | null;
  amountCents: number;
  amountSchedule: readonly ScheduleStep[] | null;
  dueDate: string;
  status: OptionStatus;
};

export type PaymentSource = 'OFFLINE' | 'RECEIPT';

export type SettlementPayment = {
  source: PaymentSource;
  /**
   * What identifies the payment at its source: the counter's or bank's reference for offline
   * payments, the receipt's key for pagoPA receipts. The ledger key is derived from it.
   */
  reference: string;
  amountCents: number;
  paidAt: Date;
  /** The option the payer used, when known: receipts always; offline payments with a notice. */
  iuv?: string | undefined;
};

export type LedgerEffect = {
  cardId: number;
  account: CardAccountName;
  /** Positive: a payment always credits the account. */
  amountCents: number;
  kind: 'TOP_UP' | 'PAYMENT' | 'OFFLINE_PAYMENT';
  /** `offline:<positionId>:<reference>` or `receipt:<positionId>:<reference>`. */
  idempotencyKey: string;
};

export type SettlementRefusal = {
  outcome: 'refused';
  code: 'not-found' | 'position-paid' | 'position-cancelled' | 'amount-mismatch';
  detail: string;
};

export type SettlementDecision =
  | {
      outcome: 'settled';
      /** The options this payment pays, each for its amount in force on the payment day. */
      paidOptions: { optionId: number; paidAmountCents: number }[];
      positionStatus: PositionStatus;
      ledger: LedgerEffect | null;
    }
  | SettlementRefusal;

const refused = (code: SettlementRefusal['code'], detail: string): SettlementRefusal => ({
  outcome: 'refused',
  code,
  detail,
});

/** The ledger key of a payment: the same payment can never be posted twice. */
export function settlementIdempotencyKey(positionId: number, payment: SettlementPayment): string {
  return `${payment.source === 'OFFLINE' ? 'offline' : 'receipt'}:${positionId}:${payment.reference}`;
}

/**
 * Decides which option(s) a payment settles and what follows.
 *
 * Which options:
 * - when the payment names an option (its IUV), that option, for exactly its amount in force on
 *   the payment day (Rome);
 * - otherwise (a counter payment without the notice at hand): SINGLE pays its option; ALTERNATIVE
 *   pays the first unpaid alternative whose amount in force matches; INSTALLMENT pays every unpaid
 *   instalment when the amount is their total, else the lowest-numbered unpaid instalment whose
 *   amount matches.
 * Refusals: a cancelled position; an option already paid, or an alternative when another one is
 *   paid (`position-paid`: the money is a duplicate and goes back to the payer); an amount that
 *   matches nothing (`amount-mismatch`, the detail says what would have matched); an IUV that
 *   is not one of the position's (`not-found`).
 * Ledger: a paid position linked to a card account credits it by the amount paid: kind TOP_UP
 *   for top-ups, PAYMENT for receipts and OFFLINE_PAYMENT for offline payments of other debts (a
 *   school transport bill paid brings the postpaid account back up). Positions without a card
 *   account (road fines, nursery fees) change only their own state.
 * `validFrom` is not checked: money that arrived is settled, not refused.
 */
export function settle(
  position: SettlementPosition,
  options: readonly SettlementOption[],
  payment: SettlementPayment,
): SettlementDecision {
  if (position.status === 'CANCELLED') {
    return refused('position-cancelled', `debt position ${position.id} is cancelled`);
  }
  const day = romeDate(payment.paidAt);
  const unpaid = options.filter((o) => o.status === 'UNPAID');
  const inForce = (o: SettlementOption): number => amountInForce(o, day);
  const alternativePaid = position.plan === 'ALTERNATIVE' && unpaid.length < options.length;

  let chosen: SettlementOption[];
  if (payment.iuv !== undefined) {
    const named = options.find((o) => o.iuv === payment.iuv);
    if (named === undefined) {
      return refused('not-found', `IUV ${payment.iuv} is not an option of this debt position`);
    }
    if (named.status === 'PAID' || alternativePaid) {
      return refused('position-paid', `the option with IUV ${named.iuv} is already paid`);
    }
    if (named.status === 'CANCELLED') {
      return refused('position-cancelled', `the option with IUV ${named.iuv} is cancelled`);
    }
    if (inForce(named) !== payment.amountCents) {
      return refused(
        'amount-mismatch',
        `paid ${payment.amountCents} cents but the option with IUV ${named.iuv} amounts to ${inForce(named)} on ${day}`,
      );
    }
    chosen = [named];
  } else {
    if (unpaid.length === 0 || alternativePaid) {
      return refused('position-paid', `debt position ${position.id} is already paid`);
    }
    const found = chooseUnnamed(position.plan, unpaid, inForce, payment.amountCents);
    if (found.length === 0) {
      const expected = describeExpected(position.plan, unpaid, inForce);
      return refused(
        'amount-mismatch',
        `paid ${payment.amountCents} cents, which matches no unpaid option on ${day}; expected ${expected}`,
      );
    }
    chosen = found;
  }

  const paidIds = new Set(chosen.map((o) => o.id));
  const after = options.map((o) => ({ status: paidIds.has(o.id) ? ('PAID' as const) : o.status }));
  return {
    outcome: 'settled',
    paidOptions: chosen.map((o) => ({ optionId: o.id, paidAmountCents: inForce(o) })),
    positionStatus: positionStatus({
      status: position.status,
      plan: position.plan,
      options: after,
    }),
    ledger:
      position.cardAccount === null
        ? null
        : {
            cardId: position.cardAccount.cardId,
            account: position.cardAccount.account,
            amountCents: payment.amountCents,
            kind:
              position.kind === 'TOP_UP'
                ? 'TOP_UP'
                : payment.source === 'OFFLINE'
                  ? 'OFFLINE_PAYMENT'
                  : 'PAYMENT',
            idempotencyKey: settlementIdempotencyKey(position.id, payment),
          },
  };
}

function chooseUnnamed(
  plan: Plan,
  unpaid: readonly SettlementOption[],
  inForce: (o: SettlementOption) => number,
  amountCents: number,
): SettlementOption[] {
  switch (plan) {
    case 'SINGLE':
    case 'ALTERNATIVE': {
      const match = unpaid.find((o) => inForce(o) === amountCents);
      return match === undefined ? [] : [match];
    }
    case 'INSTALLMENT': {
      const byNumber = [...unpaid].sort((a, b) => (a.installment ?? 0) - (b.installment ?? 0));
      const total = byNumber.reduce((s, o) => s + inForce(o), 0);
      if (total === amountCents) return byNumber;
      const match = byNumber.find((o) => inForce(o) === amountCents);
      return match === undefined ? [] : [match];
    }
  }
}

function describeExpected(
  plan: Plan,
  unpaid: readonly SettlementOption[],
  inForce: (o: SettlementOption) => number,
): string {
  const amounts = unpaid.map(inForce);
  if (plan === 'INSTALLMENT' && amounts.length > 1) {
    const total = amounts.reduce((s, a) => s + a, 0);
    return `one of ${amounts.join(', ')} cents or the total ${total} cents`;
  }
  return amounts.length === 1 ? `${amounts.join('')} cents` : `one of ${amounts.join(', ')} cents`;
}
