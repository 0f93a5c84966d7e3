import fc from 'fast-check';
import { AppError } from '../../../src/domain/errors';
import { centsFromDecimalString, centsToDecimalString, toCents } from '../../../src/domain/codes';

const codeOf = (fn: () => unknown): string | undefined => {
  try {
    fn();
    return undefined;
  } catch (err) {
    return err instanceof AppError ? err.code : 'not an AppError';
  }
};

describe('money: integer cents <-> decimal strings', () => {
  test.each([
    ['0.00', 0],
    ['0.01', 1],
    ['0.10', 10],
    ['12.30', 1230],
    ['012.30', 1230],
    ['999999999.99', 99_999_999_999],
    ['90071992547409.91', Number.MAX_SAFE_INTEGER],
  ])('%s is %i cents', (text, cents) => {
    expect(centsFromDecimalString(text)).toBe(cents);
  });

  test.each([
    '12.3',
    '12',
    '12.',
    '.30',
    '12.300',
    '-1.00',
    '+1.00',
    ' 1.00',
    '1.00 ',
    '1,00',
    '1e3.00',
    '0x10.00',
    '',
    '90071992547409.92',
    '1'.repeat(30) + '.00',
  ])('%j is refused with amount-invalid', (text) => {
    expect(codeOf(() => centsFromDecimalString(text))).toBe('amount-invalid');
  });

  test.each([
    [0, '0.00'],
    [5, '0.05'],
    [10, '0.10'],
    [100, '1.00'],
    [1230, '12.30'],
    [Number.MAX_SAFE_INTEGER, '90071992547409.91'],
  ])('%i cents is %s', (cents, text) => {
    expect(centsToDecimalString(cents)).toBe(text);
  });

  test.each([-1, 0.5, Number.NaN, Infinity, Number.MAX_SAFE_INTEGER + 1])(
    '%p is not an amount of cents',
    (value) => {
      expect(codeOf(() => toCents(value))).toBe('amount-invalid');
      expect(codeOf(() => centsToDecimalString(value))).toBe('amount-invalid');
    },
  );

  test('every safe amount survives cents -> string -> cents, and matches a BigInt oracle', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), (cents) => {
        const text = centsToDecimalString(cents);
        expect(text).toMatch(/^\d+\.\d{2}$/);
        const big = BigInt(cents);
        expect(text).toBe(`${big / 100n}.${String(big % 100n).padStart(2, '0')}`);
        expect(centsFromDecimalString(text)).toBe(cents);
      }),
      { numRuns: 2_000 },
    );
  });

  test('every well-formed decimal string without leading zeros survives string -> cents -> string', () => {
    const euros = fc.oneof(fc.constant('0'), fc.stringMatching(/^[1-9]\d{0,12}$/));
    fc.assert(
      fc.property(euros, fc.stringMatching(/^\d{2}$/), (e, c) => {
        const text = `${e}.${c}`;
        expect(centsToDecimalString(centsFromDecimalString(text))).toBe(text);
      }),
      { numRuns: 2_000 },
    );
  });
});
