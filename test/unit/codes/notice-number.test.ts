import fc from 'fast-check';
import { AppError } from '../../../src/domain/errors';
import {
  makeNoticeNumber,
  noticeCheckDigits,
  noticeNumberFromIuv,
  parseNoticeNumber,
  parseValidNoticeNumber,
} from '../../../src/domain/codes';

const codeOf = (fn: () => unknown): string | undefined => {
  try {
    fn();
    return undefined;
  } catch (err) {
    return err instanceof AppError ? err.code : 'not an AppError';
  }
};

const digits = (length: number): fc.Arbitrary<string> =>
  fc.stringMatching(new RegExp(`^\\d{${length}}$`));

/** An independent oracle: the 16 digits read as a BigInt, mod 93. */
const oracleCheckDigits = (prefix16: string): string =>
  String(BigInt(prefix16) % 93n).padStart(2, '0');

/** A notice number with correct check digits for aux digit 0, 2 or 3 (the ones that have them). */
const checkedNotice = fc
  .tuple(fc.constantFrom('0', '2', '3'), digits(15))
  .map(([aux, rest]) => `${aux}${rest}${oracleCheckDigits(`${aux}${rest}`)}`);

describe('notice numbers: the published examples of PAGOPA.md §7', () => {
  test.each([
    [
      '302032002700000251',
      {
        auxDigit: 3,
        segregationCode: '02',
        base: '0320027000002',
        checkDigits: '51',
        iuv: '02032002700000251',
      },
    ],
    [
      '001721265093769322',
      {
        auxDigit: 0,
        applicationCode: '01',
        base: '7212650937693',
        checkDigits: '22',
        iuv: '721265093769322',
      },
    ],
    [
      '300715700000000032',
      {
        auxDigit: 3,
        segregationCode: '00',
        base: '7157000000000',
        checkDigits: '32',
        iuv: '00715700000000032',
      },
    ],
    [
      '348172725623804858',
      {
        auxDigit: 3,
        segregationCode: '48',
        base: '1727256238048',
        checkDigits: '58',
        iuv: '48172725623804858',
      },
    ],
    [
      '001000000000000141',
      {
        auxDigit: 0,
        applicationCode: '01',
        base: '0000000000001',
        checkDigits: '41',
        iuv: '000000000000141',
      },
    ],
    [
      '212345678901234544',
      { auxDigit: 2, base: '123456789012345', checkDigits: '44', iuv: '12345678901234544' },
    ],
  ])('%s parses with valid check digits', (nav, expected) => {
    expect(parseNoticeNumber(nav)).toEqual({
      noticeNumber: nav,
      checkDigitsValid: true,
      ...expected,
    });
    expect(parseValidNoticeNumber(nav).noticeNumber).toBe(nav);
  });

  test.each([
    [{ auxDigit: 3, segregationCode: '02', base: '0320027000002' } as const, '302032002700000251'],
    [{ auxDigit: 0, applicationCode: '01', base: '7212650937693' } as const, '001721265093769322'],
    [{ auxDigit: 3, segregationCode: '48', base: '1727256238048' } as const, '348172725623804858'],
    [{ auxDigit: 0, applicationCode: '01', base: '0000000000001' } as const, '001000000000000141'],
  ])('%j makes %s', (parts, nav) => {
    expect(makeNoticeNumber(parts)).toBe(nav);
  });

  test("pagoPA's own doc example 311111111112222222 is read, with checkDigitsValid false", () => {
    expect(parseNoticeNumber('311111111112222222')).toEqual({
      noticeNumber: '311111111112222222',
      auxDigit: 3,
      segregationCode: '11',
      base: '1111111122222',
      checkDigits: '22',
      iuv: '11111111112222222',
      checkDigitsValid: false,
    });
    expect(noticeCheckDigits('3111111111122222')).toBe('47');
    expect(codeOf(() => parseValidNoticeNumber('311111111112222222'))).toBe(
      'notice-number-invalid',
    );
  });

  test('aux digit 1 has no check digits: the IUV is the 17 digits after it', () => {
    expect(parseNoticeNumber('116002039939851111')).toEqual({
      noticeNumber: '116002039939851111',
      auxDigit: 1,
      base: '16002039939851111',
      iuv: '16002039939851111',
      checkDigitsValid: true,
    });
  });

  test.each([
    '',
    '30203200270000025',
    '3020320027000002510',
    '30203200270000025a',
    ' 302032002700000251',
    '3020 3200 2700 0002 51',
    '402032002700000251',
    '902032002700000251',
  ])('%j is refused with notice-number-invalid', (text) => {
    expect(codeOf(() => parseNoticeNumber(text))).toBe('notice-number-invalid');
  });

  test.each([
    { auxDigit: 3, segregationCode: '2', base: '0320027000002' },
    { auxDigit: 3, segregationCode: '002', base: '0320027000002' },
    { auxDigit: 3, segregationCode: '02', base: '320027000002' },
    { auxDigit: 3, segregationCode: '02', base: '03200270000020' },
    { auxDigit: 0, applicationCode: 'ab', base: '0320027000002' },
    { auxDigit: 0, applicationCode: '01', base: '032002700000x' },
  ] as const)('makeNoticeNumber(%j) is refused with invalid-input', (parts) => {
    expect(codeOf(() => makeNoticeNumber(parts))).toBe('invalid-input');
  });
});

describe('notice numbers: properties', () => {
  test('make -> parse round-trips for aux 3 and aux 0, and the check digits match a BigInt oracle', () => {
    fc.assert(
      fc.property(fc.boolean(), digits(2), digits(13), (aux3, code, base) => {
        const nav = makeNoticeNumber(
          aux3
            ? { auxDigit: 3, segregationCode: code, base }
            : { auxDigit: 0, applicationCode: code, base },
        );
        expect(nav).toHaveLength(18);
        const aux = aux3 ? '3' : '0';
        expect(nav).toBe(`${aux}${code}${base}${oracleCheckDigits(`${aux}${code}${base}`)}`);
        const parsed = parseNoticeNumber(nav);
        expect(parsed).toMatchObject({ noticeNumber: nav, base, checkDigitsValid: true });
        if (aux3) {
          expect(parsed).toMatchObject({ auxDigit: 3, segregationCode: code, iuv: nav.slice(1) });
          expect(parsed.applicationCode).toBeUndefined();
          expect(noticeNumberFromIuv(parsed.iuv, { auxDigit: 3 })).toBe(nav);
        } else {
          expect(parsed).toMatchObject({ auxDigit: 0, applicationCode: code, iuv: nav.slice(3) });
          expect(parsed.segregationCode).toBeUndefined();
          expect(noticeNumberFromIuv(parsed.iuv, { auxDigit: 0, applicationCode: code })).toBe(nav);
        }
      }),
      { numRuns: 2_000 },
    );
  });

  /*
   * Does mod 93 catch every single-digit change of the full 18-digit string? Yes, with one
   * exception that comes from the layout, not from the arithmetic:
   * - a change of one of the 16 digits before the check digits changes that number by k·10^j with
   *   1 ≤ |k| ≤ 9; 93 = 3·31 shares no factor with 10, so k·10^j ≡ 0 (mod 93) would need 93 | k,
   *   which is impossible: the check digits no longer match;
   * - a change of one of the 2 check digits gives another value, and only one value matches;
   * - the exception: changing the aux digit to 1 turns the string into an aux-1 notice, which by
   *   definition has no check digits, so nothing can catch it (and aux 4-9 are refused outright).
   * The test below enumerates every position and every replacement digit and asserts exactly this.
   */
  test('every single-digit change of a checked notice number is caught, except a new aux digit 1', () => {
    fc.assert(
      fc.property(checkedNotice, (nav) => {
        expect(parseNoticeNumber(nav).checkDigitsValid).toBe(true);
        // Collected, then asserted once: 162 variants per run through expect() would be slow.
        const surprises: string[] = [];
        for (let position = 0; position < 18; position++) {
          for (let digit = 0; digit <= 9; digit++) {
            if (nav[position] === String(digit)) continue;
            const changed = `${nav.slice(0, position)}${digit}${nav.slice(position + 1)}`;
            const outcome = ((): string => {
              try {
                return parseNoticeNumber(changed).checkDigitsValid ? 'accepted' : 'caught';
              } catch (err) {
                return err instanceof AppError ? err.code : 'crashed';
              }
            })();
            const expected =
              position === 0 && digit === 1
                ? 'accepted'
                : position === 0 && digit > 3
                  ? 'notice-number-invalid'
                  : 'caught';
            if (outcome !== expected) surprises.push(`${changed}: ${outcome}`);
          }
        }
        expect(surprises).toEqual([]);
      }),
      { numRuns: 1_000 },
    );
  });

  // A swap of adjacent digits a, b changes the number by 9·(b − a)·10^j: 31 never divides it.
  test('every swap of two different adjacent digits after the aux digit and before the check digits is caught', () => {
    fc.assert(
      fc.property(checkedNotice, (nav) => {
        for (let i = 1; i + 1 < 16; i++) {
          if (nav[i] === nav[i + 1]) continue;
          const swapped = `${nav.slice(0, i)}${nav[i + 1]}${nav[i]}${nav.slice(i + 2)}`;
          expect(parseNoticeNumber(swapped).checkDigitsValid).toBe(false);
        }
      }),
      { numRuns: 1_000 },
    );
  });

  test('noticeNumberFromIuv refuses IUVs of the wrong length for their aux digit', () => {
    expect(codeOf(() => noticeNumberFromIuv('721265093769322', { auxDigit: 3 }))).toBe(
      'iuv-invalid',
    );
    expect(
      codeOf(() =>
        noticeNumberFromIuv('02032002700000251', { auxDigit: 0, applicationCode: '01' }),
      ),
    ).toBe('iuv-invalid');
    expect(
      codeOf(() => noticeNumberFromIuv('721265093769322', { auxDigit: 0, applicationCode: '1' })),
    ).toBe('invalid-input');
    expect(noticeNumberFromIuv('16002039939851111', { auxDigit: 1 })).toBe('116002039939851111');
  });
});
