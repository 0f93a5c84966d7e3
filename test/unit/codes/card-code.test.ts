import fc from 'fast-check';
import { AppError } from '../../../src/domain/errors';
import {
  CARD_CODE_ALGORITHMS,
  isValidCardCode,
  makeCardCode,
  parseCardCode,
  toCardCodeAlgorithm,
  type CardCodeAlgorithm,
} from '../../../src/domain/codes';

const codeOf = (fn: () => unknown): string | undefined => {
  try {
    fn();
    return undefined;
  } catch (err) {
    return err instanceof AppError ? err.code : 'not an AppError';
  }
};

/** Independent oracles over BigInt. */
const oracle: Record<CardCodeAlgorithm, (cardNumber: string) => string> = {
  mod93: (n) => String(BigInt(n) % 93n).padStart(2, '0'),
  mod97: (n) => String(98n - ((BigInt(n) * 100n) % 97n)).padStart(2, '0'),
};

const cardNumber = fc.stringMatching(/^\d{1,33}$/);
const algorithm = fc.constantFrom(...CARD_CODE_ALGORITHMS);

describe('card codes (Codice Iris)', () => {
  test.each([
    ['12345', 'mod93', '1234569'],
    ['1', 'mod93', '101'],
    ['93', 'mod93', '9300'],
    ['0', 'mod93', '000'],
    ['7212650937693', 'mod93', '721265093769375'],
    ['12345', 'mod97', '1234520'],
    // Expected values computed with Python: 7212650937693 % 93 = 75, 98 - 1234500 % 97 = 20.
  ] as const)('card %s with %s has code %s', (number, algo, code) => {
    expect(makeCardCode(number, algo)).toBe(code);
    expect(parseCardCode(code, algo)).toEqual({
      cardCode: code,
      cardNumber: number,
      checkDigits: code.slice(-2),
    });
  });

  test('mod 93 is the default', () => {
    expect(makeCardCode('12345')).toBe('1234569');
    expect(isValidCardCode('1234569')).toBe(true);
    expect(isValidCardCode('1234520')).toBe(false);
  });

  test('a wrong check digit is a clear card-code-invalid error, not a miss', () => {
    expect(() => parseCardCode('1234568')).toThrow(
      expect.objectContaining({
        code: 'card-code-invalid',
        message: 'card code 1234568 is mistyped: its last 2 digits do not match the card number',
      }),
    );
  });

  test.each(['', '12', '12a45', ' 1234569', '-1234569', '1'.repeat(36)])(
    'card code %j is refused with card-code-invalid',
    (code) => {
      expect(codeOf(() => parseCardCode(code))).toBe('card-code-invalid');
    },
  );

  test.each(['', 'A1', '12 3', '1'.repeat(34)])('card number %j is refused', (number) => {
    expect(codeOf(() => makeCardCode(number))).toBe('invalid-input');
  });

  test('algorithm names are checked', () => {
    expect(toCardCodeAlgorithm('mod97')).toBe('mod97');
    expect(codeOf(() => toCardCodeAlgorithm('luhn'))).toBe('invalid-input');
  });

  test('make -> parse round-trips and matches the oracle, for every algorithm', () => {
    fc.assert(
      fc.property(cardNumber, algorithm, (number, algo) => {
        const code = makeCardCode(number, algo);
        expect(code).toBe(`${number}${oracle[algo](number)}`);
        expect(parseCardCode(code, algo).cardNumber).toBe(number);
      }),
      { numRuns: 3_000 },
    );
  });

  // Why this holds for the whole code: see the comment at the top of src/domain/codes/card-code.ts.
  test('every single-digit change of a card code is caught, for every algorithm', () => {
    fc.assert(
      fc.property(cardNumber, algorithm, (number, algo) => {
        const code = makeCardCode(number, algo);
        const missed: string[] = [];
        for (let i = 0; i < code.length; i++) {
          for (let digit = 0; digit <= 9; digit++) {
            if (code[i] === String(digit)) continue;
            const changed = `${code.slice(0, i)}${digit}${code.slice(i + 1)}`;
            if (isValidCardCode(changed, algo)) missed.push(changed);
          }
        }
        expect(missed).toEqual([]);
      }),
      { numRuns: 1_000 },
    );
  });

  test('every swap of two different adjacent digits of the card number is caught', () => {
    fc.assert(
      fc.property(cardNumber, algorithm, (number, algo) => {
        const missed: string[] = [];
        for (let i = 0; i + 1 < number.length; i++) {
          if (number[i] === number[i + 1]) continue;
          const swapped = `${number.slice(0, i)}${number[i + 1]}${number[i]}${number.slice(i + 2)}`;
          const code = `${swapped}${makeCardCode(number, algo).slice(-2)}`;
          if (isValidCardCode(code, algo)) missed.push(code);
        }
        expect(missed).toEqual([]);
      }),
      { numRuns: 1_000 },
    );
  });
});
