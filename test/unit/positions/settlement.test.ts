import {
  settle,
  type SettlementOption,
  type SettlementPayment,
  type SettlementPosition,
} from '../../../src/domain/positions/settlement';
import type { Plan } from '../../../src/domain/positions/types';

const position = (plan: Plan, extra: Partial<SettlementPosition> = {}): SettlementPosition => ({
  id: 7,
  kind: 'DEBT',
  status: 'OPEN',
  plan,
  cardAccount: null,
  ...extra,
});

const option = (id: number, amountCents: number, extra: Partial<SettlementOption> = {}) => ({
  id,
  iuv: `0200000000000${id}`.padEnd(17, '0'),
  installment: null,
  amountCents,
  amountSchedule: null,
  dueDate: '2026-12-31',
  status: 'UNPAID' as const,
  ...extra,
});

const offline = (
  amountCents: number,
  extra: Partial<SettlementPayment> = {},
): SettlementPayment => ({
  source: 'OFFLINE',
  reference: 'URP-2026-0001',
  amountCents,
  // 10:00 in Rome on 5 March 2026.
  paidAt: new Date('2026-03-05T09:00:00Z'),
  ...extra,
});

const roadFine = option(1, 4200, {
  amountSchedule: [{ until: '2026-03-07', amountCents: 2940 }],
});

describe('settle: which options a payment pays', () => {
  const inst = [
    option(1, 10000, { installment: 1 }),
    option(2, 10000, { installment: 2 }),
    option(3, 5000, { installment: 3 }),
  ];
  test.each<[string, SettlementPosition, SettlementOption[], SettlementPayment, number[], string]>([
    ['single, exact amount', position('SINGLE'), [option(1, 1500)], offline(1500), [1], 'PAID'],
    [
      'road fine, reduced within 5 days',
      position('SINGLE'),
      [roadFine],
      offline(2940),
      [1],
      'PAID',
    ],
    [
      'road fine, full amount after 5 days',
      position('SINGLE'),
      [roadFine],
      offline(4200, { paidAt: new Date('2026-03-08T08:00:00Z') }),
      [1],
      'PAID',
    ],
    [
      'road fine, reduced at 00:30 Rome time on day 8 is late',
      position('SINGLE'),
      [roadFine],
      offline(4200, { paidAt: new Date('2026-03-07T23:30:00Z') }),
      [1],
      'PAID',
    ],
    [
      'alternatives by amount',
      position('ALTERNATIVE'),
      [option(1, 2940, { dueDate: '2026-03-07' }), option(2, 4200)],
      offline(4200),
      [2],
      'PAID',
    ],
    [
      'instalment by amount: the lowest-numbered match',
      position('INSTALLMENT'),
      inst,
      offline(10000),
      [1],
      'PARTIALLY_PAID',
    ],
    ['instalments all at once', position('INSTALLMENT'), inst, offline(25000), [1, 2, 3], 'PAID'],
    [
      'instalment named by IUV',
      position('INSTALLMENT'),
      inst,
      offline(5000, { iuv: inst[2]?.iuv }),
      [3],
      'PARTIALLY_PAID',
    ],
    [
      'last unpaid instalment',
      position('INSTALLMENT', { status: 'PARTIALLY_PAID' }),
      [
        option(1, 10000, { installment: 1, status: 'PAID' }),
        option(2, 10000, { installment: 2, status: 'PAID' }),
        option(3, 5000, { installment: 3 }),
      ],
      offline(5000),
      [3],
      'PAID',
    ],
    [
      'alternative named by IUV',
      position('ALTERNATIVE'),
      [option(1, 2940), option(2, 4200)],
      offline(2940, { iuv: option(1, 0).iuv }),
      [1],
      'PAID',
    ],
  ])('%s', (_name, pos, options, payment, paidIds, status) => {
    const decision = settle(pos, options, payment);
    expect(decision).toMatchObject({ outcome: 'settled', positionStatus: status });
    if (decision.outcome !== 'settled') return;
    expect(decision.paidOptions.map((p) => p.optionId)).toEqual(paidIds);
  });

  test('each option is paid for its own amount in force', () => {
    const decision = settle(
      position('INSTALLMENT'),
      [option(1, 10000, { installment: 1 }), option(2, 5000, { installment: 2 })],
      offline(15000),
    );
    expect(decision).toMatchObject({
      outcome: 'settled',
      paidOptions: [
        { optionId: 1, paidAmountCents: 10000 },
        { optionId: 2, paidAmountCents: 5000 },
      ],
    });
  });
});

describe('settle: refusals', () => {
  test.each<[string, SettlementPosition, SettlementOption[], SettlementPayment, string, RegExp]>([
    [
      'cancelled position',
      position('SINGLE', { status: 'CANCELLED' }),
      [option(1, 1500, { status: 'CANCELLED' })],
      offline(1500),
      'position-cancelled',
      /cancelled/,
    ],
    [
      'single already paid',
      position('SINGLE', { status: 'PAID' }),
      [option(1, 1500, { status: 'PAID' })],
      offline(1500),
      'position-paid',
      /already paid/,
    ],
    [
      'named option already paid',
      position('INSTALLMENT', { status: 'PARTIALLY_PAID' }),
      [option(1, 100, { installment: 1, status: 'PAID' }), option(2, 100, { installment: 2 })],
      offline(100, { iuv: option(1, 0).iuv }),
      'position-paid',
      /already paid/,
    ],
    [
      'other alternative paid',
      position('ALTERNATIVE', { status: 'PAID' }),
      [option(1, 2940, { status: 'PAID' }), option(2, 4200)],
      offline(4200),
      'position-paid',
      /already paid/,
    ],
    [
      'other alternative paid, named',
      position('ALTERNATIVE', { status: 'PAID' }),
      [option(1, 2940, { status: 'PAID' }), option(2, 4200)],
      offline(4200, { iuv: option(2, 0).iuv }),
      'position-paid',
      /already paid/,
    ],
    [
      'wrong amount, single',
      position('SINGLE'),
      [option(1, 1500)],
      offline(1499),
      'amount-mismatch',
      /expected 1500 cents/,
    ],
    [
      'reduced amount too late',
      position('SINGLE'),
      [roadFine],
      offline(2940, { paidAt: new Date('2026-03-08T08:00:00Z') }),
      'amount-mismatch',
      /expected 4200 cents/,
    ],
    [
      'instalments: neither one nor all',
      position('INSTALLMENT'),
      [option(1, 100, { installment: 1 }), option(2, 200, { installment: 2 })],
      offline(250),
      'amount-mismatch',
      /one of 100, 200 cents or the total 300/,
    ],
    [
      'named option, wrong amount',
      position('SINGLE'),
      [option(1, 1500)],
      offline(1000, { iuv: option(1, 0).iuv }),
      'amount-mismatch',
      /amounts to 1500/,
    ],
    [
      'IUV of another position',
      position('SINGLE'),
      [option(1, 1500)],
      offline(1500, { iuv: '99999999999999999' }),
      'not-found',
      /not an option/,
    ],
  ])('%s', (_name, pos, options, payment, code, detail) => {
    const decision = settle(pos, options, payment);
    expect(decision).toEqual({ outcome: 'refused', code, detail: expect.stringMatching(detail) });
  });
});

describe('settle: ledger effects', () => {
  const card = { cardId: 3, account: 'SCHOOL_TRANSPORT' as const };
  test.each<[string, SettlementPosition, SettlementPayment, object | null]>([
    [
      'top-up credits the card (TOP_UP)',
      position('SINGLE', { kind: 'TOP_UP', cardAccount: { cardId: 3, account: 'CANTEEN' } }),
      offline(1500, { source: 'RECEIPT', reference: 'rt-1' }),
      {
        cardId: 3,
        account: 'CANTEEN',
        amountCents: 1500,
        kind: 'TOP_UP',
        idempotencyKey: 'receipt:7:rt-1',
      },
    ],
    [
      'transport bill paid at the counter credits the postpaid account (OFFLINE_PAYMENT)',
      position('SINGLE', { cardAccount: card }),
      offline(1500),
      {
        cardId: 3,
        account: 'SCHOOL_TRANSPORT',
        amountCents: 1500,
        kind: 'OFFLINE_PAYMENT',
        idempotencyKey: 'offline:7:URP-2026-0001',
      },
    ],
    [
      'transport bill paid through pagoPA (PAYMENT)',
      position('SINGLE', { cardAccount: card }),
      offline(1500, { source: 'RECEIPT', reference: 'k' }),
      {
        cardId: 3,
        account: 'SCHOOL_TRANSPORT',
        amountCents: 1500,
        kind: 'PAYMENT',
        idempotencyKey: 'receipt:7:k',
      },
    ],
    ['road fine: no ledger entry', position('SINGLE'), offline(1500), null],
  ])('%s', (_name, pos, payment, ledger) => {
    const decision = settle(pos, [option(1, 1500)], payment);
    expect(decision).toMatchObject({ outcome: 'settled', ledger });
  });
});
