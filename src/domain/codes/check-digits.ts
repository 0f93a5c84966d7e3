/**
 * The modular arithmetic behind every check digit of the module.
 *
 * Why digit by digit (Horner's rule): the numbers are up to 35 digits long, far beyond 2^53, and
 * reducing after every digit keeps each step a small exact integer without BigInt.
 */

/** `digits` (a string of 0-9) read as a decimal number, modulo `modulus`. */
export function decimalStringMod(digits: string, modulus: number): number {
  let remainder = 0;
  for (let i = 0; i < digits.length; i++) {
    remainder = (remainder * 10 + (digits.charCodeAt(i) - 48)) % modulus;
  }
  return remainder;
}

/** Two check digits: the number mod 93, left-padded (pagoPA notice numbers, default card codes). */
export function mod93CheckDigits(digits: string): string {
  return String(decimalStringMod(digits, 93)).padStart(2, '0');
}

/**
 * Two check digits by ISO 7064 MOD 97-10 (as in IBAN and ISO 11649): 98 − (n·100 mod 97), in 02..98.
 * `digits` must already be converted to decimal digits.
 */
export function iso7064Mod97CheckDigits(digits: string): string {
  return String(98 - decimalStringMod(`${digits}00`, 97)).padStart(2, '0');
}

export const DIGITS = /^\d+$/;
