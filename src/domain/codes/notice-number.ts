import { AppError } from '../errors';
import { shown } from './shown';
import { mod93CheckDigits } from './check-digits';

/**
 * Notice numbers (numero avviso, NAV: 18 digits) and IUVs, PAGOPA.md §7.
 *
 * Layout by aux digit:
 *   0: `0` + application code (2) + base (13) + check digits (2); IUV = NAV[3:] (15)
 *   1: `1` + base (17), no check digits;                           IUV = NAV[1:] (17)
 *   2: `2` + base (15) + check digits (2);                         IUV = NAV[1:] (17)
 *   3: `3` + segregation code (2) + base (13) + check digits (2);  IUV = NAV[1:] (17)
 * For 0, 2 and 3 the check digits are (the 16 digits before them, aux digit included) mod 93.
 */

export type AuxDigit = 0 | 1 | 2 | 3;

export type ParsedNoticeNumber = {
  noticeNumber: string;
  auxDigit: AuxDigit;
  /** Aux digit 3 only: routes the node's calls to the right station. */
  segregationCode?: string;
  /** Aux digit 0 only: routes the node's calls to the right station. */
  applicationCode?: string;
  iuv: string;
  /** The sequence part of the IUV: 13 digits (aux 0, 3), 15 (aux 2) or 17 (aux 1). */
  base: string;
  /** Absent for aux digit 1, which has none. */
  checkDigits?: string;
  /**
   * Whether the check digits match. True for aux digit 1, which defines none.
   * Why not a rejection: the node may send notices whose check digits do not verify (pagoPA's own
   * example `311111111112222222` does not), and checking them is optional for PSPs.
   */
  checkDigitsValid: boolean;
};

/** What a new notice number is made of: aux 3 with a segregation code, or aux 0 with an application code. */
export type NoticeNumberParts =
  | { auxDigit: 3; segregationCode: string; base: string }
  | { auxDigit: 0; applicationCode: string; base: string };

export const NOTICE_NUMBER_LENGTH = 18;
export const IUV_BASE_LENGTH = 13;
/** The largest 13-digit base: a sequence that reaches it is exhausted. */
export const IUV_BASE_MAX = 9_999_999_999_999;

const TWO_DIGITS = /^\d{2}$/;
const BASE_13 = /^\d{13}$/;
const NOTICE = /^\d{18}$/;

/**
 * The two check digits of a notice number: `prefix16` (aux digit, code and base) mod 93.
 * @throws AppError('invalid-input') when `prefix16` is not 16 digits.
 */
export function noticeCheckDigits(prefix16: string): string {
  if (!/^\d{16}$/.test(prefix16)) {
    throw new AppError(
      'invalid-input',
      `"${shown(prefix16)}" is not the 16 digits before check digits`,
    );
  }
  return mod93CheckDigits(prefix16);
}

/**
 * Builds a new notice number for aux digit 3 (segregation code) or 0 (application code).
 * Why only these two: aux 1 has no check digits and aux 2 is not in SANP 3 any more; we only
 * read those.
 * @throws AppError('invalid-input') when a code is not 2 digits or the base not 13 digits.
 */
export function makeNoticeNumber(parts: NoticeNumberParts): string {
  const code = parts.auxDigit === 3 ? parts.segregationCode : parts.applicationCode;
  const codeName = parts.auxDigit === 3 ? 'segregation code' : 'application code';
  if (!TWO_DIGITS.test(code)) {
    throw new AppError('invalid-input', `${codeName} "${shown(code)}" must be 2 digits`);
  }
  if (!BASE_13.test(parts.base)) {
    throw new AppError('invalid-input', `IUV base "${shown(parts.base)}" must be 13 digits`);
  }
  const prefix = `${parts.auxDigit}${code}${parts.base}`;
  return `${prefix}${mod93CheckDigits(prefix)}`;
}

/**
 * Splits a notice number into its parts and derives the IUV. A notice whose check digits do not
 * match is still returned, with `checkDigitsValid: false` (see {@link ParsedNoticeNumber}).
 * @throws AppError('notice-number-invalid') when the text is not 18 digits or the aux digit is not 0-3.
 */
export function parseNoticeNumber(text: string): ParsedNoticeNumber {
  if (!NOTICE.test(text)) {
    throw new AppError('notice-number-invalid', `notice number "${shown(text)}" must be 18 digits`);
  }
  const checked = (): { checkDigits: string; checkDigitsValid: boolean } => {
    const checkDigits = text.slice(16);
    return { checkDigits, checkDigitsValid: mod93CheckDigits(text.slice(0, 16)) === checkDigits };
  };
  switch (text[0]) {
    case '0':
      return {
        noticeNumber: text,
        auxDigit: 0,
        applicationCode: text.slice(1, 3),
        iuv: text.slice(3),
        base: text.slice(3, 16),
        ...checked(),
      };
    case '1':
      return {
        noticeNumber: text,
        auxDigit: 1,
        iuv: text.slice(1),
        base: text.slice(1),
        checkDigitsValid: true,
      };
    case '2':
      return {
        noticeNumber: text,
        auxDigit: 2,
        iuv: text.slice(1),
        base: text.slice(1, 16),
        ...checked(),
      };
    case '3':
      return {
        noticeNumber: text,
        auxDigit: 3,
        segregationCode: text.slice(1, 3),
        iuv: text.slice(1),
        base: text.slice(3, 16),
        ...checked(),
      };
    default:
      throw new AppError(
        'notice-number-invalid',
        `notice number ${text} has aux digit ${text[0] ?? ''}; only 0, 1, 2 and 3 exist`,
      );
  }
}

/**
 * Parses a notice number and insists that its check digits match: for notices we issue or that
 * a citizen typed, where a mismatch is a typo rather than the node's business.
 * @throws AppError('notice-number-invalid') when it does not parse or the check digits do not match.
 */
export function parseValidNoticeNumber(text: string): ParsedNoticeNumber {
  const parsed = parseNoticeNumber(text);
  if (!parsed.checkDigitsValid) {
    throw new AppError(
      'notice-number-invalid',
      `notice number ${text} has check digits ${parsed.checkDigits ?? ''} that do not match`,
    );
  }
  return parsed;
}

/**
 * The notice number of an IUV. The IUV alone does not say its aux digit (a 17-digit IUV fits aux
 * 1, 2 and 3), so the caller names it, with the application code for aux 0.
 * @throws AppError('iuv-invalid') when the IUV does not have the length and digits of that aux digit.
 * @throws AppError('invalid-input') when aux 0 comes without a 2-digit application code.
 */
export function noticeNumberFromIuv(
  iuv: string,
  scheme: { auxDigit: 1 | 2 | 3 } | { auxDigit: 0; applicationCode: string },
): string {
  if (scheme.auxDigit === 0) {
    if (!TWO_DIGITS.test(scheme.applicationCode)) {
      throw new AppError(
        'invalid-input',
        `application code "${shown(scheme.applicationCode)}" must be 2 digits`,
      );
    }
    if (!/^\d{15}$/.test(iuv)) {
      throw new AppError('iuv-invalid', `IUV "${shown(iuv)}" must be 15 digits for aux digit 0`);
    }
    return `0${scheme.applicationCode}${iuv}`;
  }
  if (!/^\d{17}$/.test(iuv)) {
    throw new AppError(
      'iuv-invalid',
      `IUV "${shown(iuv)}" must be 17 digits for aux digit ${scheme.auxDigit}`,
    );
  }
  return `${scheme.auxDigit}${iuv}`;
}
