import { AppError } from '../errors';
import { shown } from './shown';
import { decimalStringMod, iso7064Mod97CheckDigits } from './check-digits';

/**
 * ISO 11649 creditor references (`RF` + 2 check digits + up to 21 letters or digits), used as IUV
 * for EC-initiated payments without a notice (SACI §2.3, PAGOPA.md §7).
 *
 * Check digits are ISO 7064 MOD 97-10 over the reference followed by `RF`, letters counting as
 * 10..35. Detection (tested in test/unit/codes/rf.test.ts): every substitution of a digit by a digit,
 * of a letter by a letter and of a check digit is caught, because the change to the number is
 * k·10^j with 0 < |k| < 97 and 10 is invertible mod 97. Replacing a digit by a letter (or back)
 * changes the length of the number, and is caught only about 96 times in 97: `RF661234567` and
 * `RF661234A67` both verify.
 */

export type CreditorReference = {
  /** Electronic form: no spaces. */
  creditorReference: string;
  checkDigits: string;
  reference: string;
};

const REFERENCE = /^[0-9A-Za-z]{1,21}$/;
const ELECTRONIC = /^RF(\d{2})([0-9A-Za-z]{1,21})$/;

/** Letters become 10..35 (case-insensitive), digits stay. */
function toDigits(alphanumeric: string): string {
  let out = '';
  for (const ch of alphanumeric) out += String(Number.parseInt(ch, 36));
  return out;
}

/**
 * Makes `RF<check digits><reference>`. The reference keeps its case (`w9` -> `RF45w9`), as the
 * check digits do not depend on it.
 * @throws AppError('rf-invalid') when the reference is not 1-21 letters or digits.
 */
export function makeCreditorReference(reference: string): string {
  if (!REFERENCE.test(reference)) {
    throw new AppError(
      'rf-invalid',
      `reference "${shown(reference)}" must be 1 to 21 letters or digits`,
    );
  }
  return `RF${iso7064Mod97CheckDigits(toDigits(`${reference}RF`))}${reference}`;
}

type Checked = { ok: true; value: CreditorReference } | { ok: false; reason: string };

/** The checks of {@link parseCreditorReference} without the cost of building an error. */
function check(text: string): Checked {
  const compact = text.replace(/ /g, '');
  const match = ELECTRONIC.exec(compact);
  if (match === null) {
    return {
      ok: false,
      reason: `creditor reference "${shown(text)}" must be RF, 2 check digits and 1 to 21 letters or digits`,
    };
  }
  const [, checkDigits = '', reference = ''] = match;
  const checkValue = Number(checkDigits);
  const rearranged = toDigits(`${reference}RF`) + checkDigits;
  if (checkValue < 2 || checkValue > 98 || decimalStringMod(rearranged, 97) !== 1) {
    return {
      ok: false,
      reason: `creditor reference ${compact} has check digits ${checkDigits} that do not match`,
    };
  }
  return { ok: true, value: { creditorReference: compact, checkDigits, reference } };
}

/**
 * Reads a creditor reference in electronic (`RF45w9`) or paper form (`RF18 5390 0754 7034`) and
 * verifies it: the rearranged number mod 97 must be 1, and the check digits in 02..98 as ISO 7064
 * issues them (00, 01 and 99 would alias 97, 98 and 02).
 * @throws AppError('rf-invalid') when the shape or the check digits are wrong.
 */
export function parseCreditorReference(text: string): CreditorReference {
  const checked = check(text);
  if (!checked.ok) throw new AppError('rf-invalid', checked.reason);
  return checked.value;
}

/** Whether {@link parseCreditorReference} accepts the text. */
export function isValidCreditorReference(text: string): boolean {
  return check(text).ok;
}
