import fc from 'fast-check';
import { AppError } from '../../../src/domain/errors';
import {
  isValidCreditorReference,
  makeCreditorReference,
  parseCreditorReference,
} from '../../../src/domain/codes';

const codeOf = (fn: () => unknown): string | undefined => {
  try {
    fn();
    return undefined;
  } catch (err) {
    return err instanceof AppError ? err.code : 'not an AppError';
  }
};

const ALNUM = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const reference = fc.stringMatching(/^[0-9A-Za-z]{1,21}$/);

/** An independent oracle: ISO 7064 MOD 97-10 with BigInt over the whole converted number. */
const oracleValid = (rf: string): boolean => {
  const rearranged = rf.slice(4) + rf.slice(0, 4);
  const converted = [...rearranged].map((ch) => String(Number.parseInt(ch, 36))).join('');
  const checkDigits = Number(rf.slice(2, 4));
  return BigInt(converted) % 97n === 1n && checkDigits >= 2 && checkDigits <= 98;
};

const classOf = (ch: string): 'digit' | 'letter' => (/\d/.test(ch) ? 'digit' : 'letter');

describe('RF creditor references (ISO 11649)', () => {
  test.each([
    ['w9', 'RF45w9'],
    ['539007547034', 'RF18539007547034'],
    ['1234567', 'RF661234567'],
  ])('%s makes %s, which verifies', (ref, rf) => {
    expect(makeCreditorReference(ref)).toBe(rf);
    expect(parseCreditorReference(rf)).toEqual({
      creditorReference: rf,
      checkDigits: rf.slice(2, 4),
      reference: ref,
    });
  });

  test('the paper form, in groups of four, is read as the electronic form', () => {
    expect(parseCreditorReference('RF18 5390 0754 7034').creditorReference).toBe(
      'RF18539007547034',
    );
  });

  test('the SACI example RF23 5674 8393 7849 4505 5087 5 does not verify (PAGOPA.md §7)', () => {
    expect(codeOf(() => parseCreditorReference('RF23 5674 8393 7849 4505 5087 5'))).toBe(
      'rf-invalid',
    );
    expect(makeCreditorReference('567483937849450550875')).toBe('RF78567483937849450550875');
  });

  test.each([
    '',
    'RF',
    'RF45',
    'RF4w9',
    'rf45w9',
    'XX45w9',
    'RF45w-9',
    'RF45w9é',
    `RF18${'1'.repeat(22)}`,
    'RF46w9',
  ])('%j is refused with rf-invalid', (text) => {
    expect(codeOf(() => parseCreditorReference(text))).toBe('rf-invalid');
    expect(isValidCreditorReference(text)).toBe(false);
  });

  test.each(['', 'a-b', '1'.repeat(22), 'è'])('reference %j cannot be made into an RF', (ref) => {
    expect(codeOf(() => makeCreditorReference(ref))).toBe('rf-invalid');
  });

  test('check digits 00, 01 and 99, which alias 97, 98 and 02 mod 97, are refused', () => {
    // Find references whose check digits are 97, 98 and 02, then write the alias.
    const aliases: string[] = [];
    for (let n = 0; aliases.length < 3 && n < 100_000; n++) {
      const rf = makeCreditorReference(String(n));
      const alias = { '97': '00', '98': '01', '02': '99' }[rf.slice(2, 4)];
      if (alias !== undefined && !aliases.some((a) => a.slice(2, 4) === alias)) {
        aliases.push(`RF${alias}${rf.slice(4)}`);
      }
    }
    expect(aliases).toHaveLength(3);
    for (const alias of aliases) {
      expect(codeOf(() => parseCreditorReference(alias))).toBe('rf-invalid');
    }
  });

  test('make -> parse round-trips, and the result agrees with a BigInt oracle', () => {
    fc.assert(
      fc.property(reference, (ref) => {
        const rf = makeCreditorReference(ref);
        expect(oracleValid(rf)).toBe(true);
        expect(parseCreditorReference(rf)).toEqual({
          creditorReference: rf,
          checkDigits: rf.slice(2, 4),
          reference: ref,
        });
        // Case does not change the check digits.
        expect(makeCreditorReference(ref.toUpperCase()).slice(2, 4)).toBe(rf.slice(2, 4));
      }),
      { numRuns: 2_000 },
    );
  });

  test('parse agrees with the oracle on arbitrary RF-shaped strings', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^\d{2}$/), reference, (cd, ref) => {
        expect(isValidCreditorReference(`RF${cd}${ref}`)).toBe(oracleValid(`RF${cd}${ref}`));
      }),
      { numRuns: 5_000 },
    );
  });

  /*
   * What ISO 7064 MOD 97-10 guarantees here (see src/domain/codes/rf.ts): a digit replaced by a
   * digit, a letter by a letter, or a check digit by a digit is always caught. A digit replaced by a
   * letter (or back) is not always caught, because the converted number changes length.
   */
  test('every same-class substitution and every check-digit change is caught', () => {
    fc.assert(
      fc.property(reference, (ref) => {
        const rf = makeCreditorReference(ref);
        const missed: string[] = [];
        for (let i = 2; i < rf.length; i++) {
          const original = rf[i] ?? '';
          const replacements = i < 4 ? '0123456789' : ALNUM;
          for (const ch of replacements) {
            if (ch.toUpperCase() === original.toUpperCase()) continue;
            if (i >= 4 && classOf(ch) !== classOf(original)) continue;
            const changed = `${rf.slice(0, i)}${ch}${rf.slice(i + 1)}`;
            if (isValidCreditorReference(changed)) missed.push(changed);
          }
        }
        expect(missed).toEqual([]);
      }),
      { numRuns: 500 },
    );
  });

  test('a digit replaced by a letter can go unnoticed: RF661234567 and RF661234A67 both verify', () => {
    expect(isValidCreditorReference('RF661234567')).toBe(true);
    expect(isValidCreditorReference('RF661234A67')).toBe(true);
  });
});
