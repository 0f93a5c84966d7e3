import {
  decideReconciliation,
  paidLinesOf,
  receiptReference,
  type ReceiptToReconcile,
  type ReconcileOption,
} from '../../../src/domain/receipts/reconcile';
import type { SettlementPosition } from '../../../src/domain/positions/settlement';

const aPosition = (over: Partial<SettlementPosition> = {}): SettlementPosition => ({
  id: 7,
  kind: 'DEBT',
  status: 'OPEN',
  plan: 'SINGLE',
  cardAccount: { cardId: 3, account: 'SCHOOL_TRANSPORT' },
  ...over,
});

const anOption = (over: Partial<ReconcileOption> = {}): ReconcileOption => ({
  id: 11,
  iuv: '02000000000010191',
  installment: null,
  amountCents: 3000,
  amountSchedule: null,
  dueDate: '2030-12-31',
  status: 'UNPAID',
  paidAmountCents: 0,
  transferAmountsCents: [2000, 1000],
  ...over,
});

const aReceipt = (over: Partial<ReceiptToReconcile> = {}): ReceiptToReconcile => ({
  domainId: '80000000001',
  iuv: '02000000000010191',
  receiptKey: 'ccp-1',
  outcome: 'PAID',
  amountCents: 3000,
  paidAt: new Date('2026-11-20T10:00:00Z'),
  paidLinesCents: [2000, 1000],
  ...over,
});

describe('decideReconciliation', () => {
  test('a full payment of a transport month pays the option and credits SCHOOL_TRANSPORT with a key from the receipt', () => {
    const decision = decideReconciliation(aReceipt(), aPosition(), [anOption()]);

    expect(decision).toMatchObject({
      kind: 'apply',
      partial: null,
      settlement: {
        paidOptions: [{ optionId: 11, paidAmountCents: 3000 }],
        positionStatus: 'PAID',
        ledger: {
          cardId: 3,
          account: 'SCHOOL_TRANSPORT',
          amountCents: 3000,
          kind: 'PAYMENT',
          idempotencyKey: 'receipt:7:80000000001/02000000000010191/ccp-1',
        },
      },
    });
  });

  test('a top-up receipt credits the card as a TOP_UP', () => {
    const decision = decideReconciliation(
      aReceipt({ amountCents: 2500, paidLinesCents: [2500] }),
      aPosition({ kind: 'TOP_UP', cardAccount: { cardId: 3, account: 'CANTEEN' } }),
      [anOption({ amountCents: 2500, transferAmountsCents: [2500] })],
    );
    expect(decision.kind === 'apply' && decision.settlement.ledger).toMatchObject({
      kind: 'TOP_UP',
      amountCents: 2500,
      account: 'CANTEEN',
    });
  });

  test.each(['NOT_PAID', 'TIMED_OUT'] as const)('outcome %s credits nothing', (outcome) => {
    const decision = decideReconciliation(
      aReceipt({ outcome, amountCents: 0, paidLinesCents: [0, 0] }),
      aPosition(),
      [anOption()],
    );
    expect(decision.kind).toBe('no-money');
  });

  test('a partial RT credits only the paid transfer and leaves the option unpaid', () => {
    const decision = decideReconciliation(
      aReceipt({ outcome: 'PARTIAL', amountCents: 1000, paidLinesCents: [0, 1000] }),
      aPosition(),
      [anOption()],
    );
    expect(decision).toMatchObject({
      kind: 'apply',
      partial: { optionId: 11, paidAmountCents: 1000 },
      settlement: {
        paidOptions: [],
        positionStatus: 'PARTIALLY_PAID',
        ledger: { amountCents: 1000 },
      },
    });
  });

  test('a partial RT that completes what an earlier one paid settles the option', () => {
    const decision = decideReconciliation(
      aReceipt({ outcome: 'PARTIAL_TIMED_OUT', amountCents: 2000, paidLinesCents: [2000, 0] }),
      aPosition(),
      [anOption({ paidAmountCents: 1000 })],
    );
    expect(decision).toMatchObject({
      kind: 'apply',
      partial: null,
      settlement: {
        paidOptions: [{ optionId: 11, paidAmountCents: 3000 }],
        positionStatus: 'PAID',
      },
    });
  });

  test('a paid line that differs from its transfer is an amount mismatch', () => {
    const decision = decideReconciliation(
      aReceipt({ outcome: 'PARTIAL', amountCents: 1500, paidLinesCents: [1500, 0] }),
      aPosition(),
      [anOption()],
    );
    expect(decision).toMatchObject({ kind: 'fail', code: 'amount-mismatch' });
    expect(decision.kind === 'fail' && decision.detail).toMatch(/line 1 paid 1500 cents/);
  });

  test('paying more than the option is an overpayment with the difference in the reason', () => {
    const decision = decideReconciliation(
      aReceipt({ amountCents: 3500, paidLinesCents: [2500, 1000] }),
      aPosition(),
      [anOption()],
    );
    expect(decision).toMatchObject({ kind: 'fail', code: 'overpayment' });
    expect(decision.kind === 'fail' && decision.detail).toMatch(
      /paid 3500 cents.*3000 cents were due.*500 cents/,
    );
  });

  test('paying less than the option in a PAID receipt is an amount mismatch, not an overpayment', () => {
    const decision = decideReconciliation(aReceipt({ amountCents: 2000 }), aPosition(), [
      anOption(),
    ]);
    expect(decision).toMatchObject({ kind: 'fail', code: 'amount-mismatch' });
  });

  test('a payment of a cancelled position fails, whatever the outcome', () => {
    const cancelled = aPosition({ status: 'CANCELLED' });
    expect(decideReconciliation(aReceipt(), cancelled, [anOption()])).toMatchObject({
      kind: 'fail',
      code: 'position-cancelled',
    });
    expect(
      decideReconciliation(
        aReceipt({ outcome: 'PARTIAL', amountCents: 1000, paidLinesCents: [0, 1000] }),
        cancelled,
        [anOption()],
      ),
    ).toMatchObject({ kind: 'fail', code: 'position-cancelled' });
  });

  test('a second receipt for an option already paid fails as position-paid', () => {
    const decision = decideReconciliation(aReceipt({ receiptKey: 'ccp-2' }), aPosition(), [
      anOption({ status: 'PAID', paidAmountCents: 3000 }),
    ]);
    expect(decision).toMatchObject({ kind: 'fail', code: 'position-paid' });
  });

  test('a partial receipt without readable lines fails as unreadable', () => {
    const decision = decideReconciliation(
      aReceipt({ outcome: 'PARTIAL', amountCents: 1000, paidLinesCents: undefined }),
      aPosition(),
      [anOption()],
    );
    expect(decision).toMatchObject({ kind: 'fail', code: 'unreadable' });
  });

  test('the ledger key is the same for the same receipt and differs between receipts', () => {
    const key = (r: ReceiptToReconcile): string | undefined => {
      const d = decideReconciliation(r, aPosition(), [anOption()]);
      return d.kind === 'apply' ? d.settlement.ledger?.idempotencyKey : undefined;
    };
    expect(key(aReceipt())).toBe(key(aReceipt()));
    expect(key(aReceipt())).not.toBe(key(aReceipt({ receiptKey: 'ccp-2' })));
  });
});

describe('paidLinesOf', () => {
  test('reads RT lines and new-model transfers, and nothing else', () => {
    expect(paidLinesOf({ lines: [{ paidCents: 100 }, { paidCents: 0 }] })).toEqual([100, 0]);
    expect(paidLinesOf({ transfers: [{ amountCents: 4560 }] })).toEqual([4560]);
    expect(paidLinesOf({ lines: [{ paidCents: '1.00' }] })).toBeUndefined();
    expect(paidLinesOf('x')).toBeUndefined();
    expect(paidLinesOf(null)).toBeUndefined();
  });

  test('receiptReference is the business key', () => {
    expect(receiptReference({ domainId: 'D', iuv: 'I', receiptKey: 'K' })).toBe('D/I/K');
  });
});
