import { detectPlan } from '../../../src/domain/positions/plan';
import { positionStatus } from '../../../src/domain/positions/status';
import type { RequestedPlan } from '../../../src/domain/positions/types';

const opts = (...installments: (number | undefined)[]) =>
  installments.map((installment) => (installment === undefined ? {} : { installment }));

describe('detectPlan', () => {
  test.each<[string, RequestedPlan | undefined, { installment?: number }[], string]>([
    ['one option', undefined, opts(undefined), 'SINGLE'],
    ['one option, SINGLE said', 'SINGLE', opts(undefined), 'SINGLE'],
    ['numbered options', undefined, opts(1, 2, 3), 'INSTALLMENT'],
    ['numbered in any order', undefined, opts(3, 1, 2), 'INSTALLMENT'],
    ['numbered, INSTALLMENTS said', 'INSTALLMENTS', opts(1, 2), 'INSTALLMENT'],
    ['unnumbered, ALTERNATIVES said', 'ALTERNATIVES', opts(undefined, undefined), 'ALTERNATIVE'],
  ])('%s → %s', (_name, requested, options, plan) => {
    expect(detectPlan(requested, options)).toEqual({ plan });
  });

  test.each<[string, RequestedPlan | undefined, { installment?: number }[], RegExp]>([
    ['no options', undefined, [], /at least one/],
    [
      '25 options',
      undefined,
      Array.from({ length: 25 }, (_, i) => ({ installment: i + 1 })),
      /at most 24/,
    ],
    [
      'two unnumbered, no plan',
      undefined,
      opts(undefined, undefined),
      /installment numbers .* or plan ALTERNATIVES/,
    ],
    ['two unnumbered, SINGLE', 'SINGLE', opts(undefined, undefined), /ALTERNATIVES/],
    ['some numbered', undefined, opts(1, undefined), /every option needs an installment number/],
    ['gap in numbers', undefined, opts(1, 3), /1 to 2, each once/],
    ['repeated number', undefined, opts(1, 1), /1 to 2, each once/],
    ['not starting at 1', undefined, opts(2, 3), /1 to 2/],
    ['one numbered option', undefined, opts(1), /single option is not an instalment plan/],
    ['numbers with ALTERNATIVES', 'ALTERNATIVES', opts(1, 2), /only for plan INSTALLMENTS/],
    [
      'INSTALLMENTS without numbers',
      'INSTALLMENTS',
      opts(undefined, undefined),
      /needs installment numbers/,
    ],
    ['ALTERNATIVES with one option', 'ALTERNATIVES', opts(undefined), /at least two/],
  ])('refuses %s', (_name, requested, options, message) => {
    const result = detectPlan(requested, options);
    expect(result).toEqual({ error: expect.stringMatching(message) });
  });
});

describe('positionStatus', () => {
  const o = (...statuses: ('UNPAID' | 'PAID' | 'CANCELLED')[]) =>
    statuses.map((status) => ({ status }));
  test.each([
    ['SINGLE', 'OPEN', o('UNPAID'), 'OPEN'],
    ['SINGLE', 'OPEN', o('PAID'), 'PAID'],
    ['INSTALLMENT', 'OPEN', o('PAID', 'UNPAID', 'UNPAID'), 'PARTIALLY_PAID'],
    ['INSTALLMENT', 'PARTIALLY_PAID', o('PAID', 'PAID', 'PAID'), 'PAID'],
    ['INSTALLMENT', 'OPEN', o('UNPAID', 'UNPAID'), 'OPEN'],
    ['ALTERNATIVE', 'OPEN', o('UNPAID', 'PAID'), 'PAID'],
    ['ALTERNATIVE', 'OPEN', o('UNPAID', 'UNPAID'), 'OPEN'],
    ['SINGLE', 'CANCELLED', o('CANCELLED'), 'CANCELLED'],
    ['INSTALLMENT', 'CANCELLED', o('UNPAID', 'UNPAID'), 'CANCELLED'],
  ] as const)('%s %s with options %j → %s', (plan, status, options, expected) => {
    expect(positionStatus({ plan, status, options })).toBe(expected);
  });
});
