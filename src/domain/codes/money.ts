import { AppError } from '../errors';

/**
 * Money is integer euro cents inside the service; decimal strings exist only at the XML and JSON
 * edges. Why: a float cannot hold 0.10 exactly, and pagoPA compares amounts to the cent.
 */
export type Cents = number & { readonly __brand: 'Cents' };

/** The longest decimal string we read: beyond it a value cannot be a safe integer of cents. */
const DECIMAL_TEXT_LENGTH_MAX = 20;
const DECIMAL_AMOUNT = /^(\d+)\.(\d{2})$/;

/**
 * Checks that a number is a whole, non-negative, safe amount of cents.
 * @throws AppError('amount-invalid') for fractions, negatives, NaN and unsafe integers.
 */
export function toCents(value: number): Cents {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new AppError(
      'amount-invalid',
      `amount ${String(value)} is not a whole number of cents ≥ 0`,
    );
  }
  return value as Cents;
}

/**
 * Reads a decimal amount as the XSDs write it (`\d+\.\d{2}`, e.g. `12.30`) into cents, without
 * ever going through a float: the digits are joined as text, then read as one integer.
 * @throws AppError('amount-invalid') when the text is not exactly `\d+\.\d{2}` or is too large.
 */
export function centsFromDecimalString(text: string): Cents {
  const match = text.length <= DECIMAL_TEXT_LENGTH_MAX ? DECIMAL_AMOUNT.exec(text) : null;
  if (match === null) {
    throw new AppError(
      'amount-invalid',
      `amount "${text.slice(0, DECIMAL_TEXT_LENGTH_MAX)}" must have the form 123.45`,
    );
  }
  const [, euros = '', cents = ''] = match;
  // Number() of an integer string is exact up to 2^53; above it the result is ≥ 2^53 and unsafe.
  const value = Number(`${euros}${cents}`);
  if (!Number.isSafeInteger(value)) {
    throw new AppError('amount-invalid', `amount ${text} is too large`);
  }
  return value as Cents;
}

/**
 * Writes cents as a decimal string with exactly two decimals (`1230` -> `12.30`, `5` -> `0.05`).
 * @throws AppError('amount-invalid') when the value is not a whole, non-negative, safe number.
 */
export function centsToDecimalString(cents: number): string {
  const digits = String(toCents(cents)).padStart(3, '0');
  return `${digits.slice(0, -2)}.${digits.slice(-2)}`;
}
