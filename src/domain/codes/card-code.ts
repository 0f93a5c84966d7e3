import { AppError } from '../errors';
import { shown } from './shown';
import { DIGITS, iso7064Mod97CheckDigits, mod93CheckDigits } from './check-digits';

/**
 * Card codes ("Codice Iris"): the card number followed by 2 check digits, typed by parents to top
 * up a card. The check-digit algorithm is a per-domain setting:
 * - `mod93` (default): card number mod 93, zero-padded, as pagoPA does for notice numbers;
 * - `mod97`: ISO 7064 MOD 97-10 (98 − n·100 mod 97), as IBANs do, for domains whose cards use it.
 * Both catch every single-digit typo and every swap of two adjacent digits of the card number:
 * a typo changes the number by k·10^j and a swap by 9·k·10^j with 0 < |k| ≤ 9, and neither 93
 * (= 3·31) nor 97 divides those. A typo in the check digits themselves is caught because the
 * expected value is unique.
 */

export const CARD_CODE_ALGORITHMS = ['mod93', 'mod97'] as const;
export type CardCodeAlgorithm = (typeof CARD_CODE_ALGORITHMS)[number];
export const DEFAULT_CARD_CODE_ALGORITHM: CardCodeAlgorithm = 'mod93';

/** The cards table holds card numbers of up to 33 characters and codes of up to 35. */
export const CARD_NUMBER_LENGTH_MAX = 33;

export type ParsedCardCode = { cardCode: string; cardNumber: string; checkDigits: string };

function checkDigitsFor(cardNumber: string, algorithm: CardCodeAlgorithm): string {
  switch (algorithm) {
    case 'mod93':
      return mod93CheckDigits(cardNumber);
    case 'mod97':
      return iso7064Mod97CheckDigits(cardNumber);
  }
}

/**
 * Narrows an algorithm name from configuration or the command line.
 * @throws AppError('invalid-input') for an unknown name.
 */
export function toCardCodeAlgorithm(name: string): CardCodeAlgorithm {
  const found = CARD_CODE_ALGORITHMS.find((a) => a === name);
  if (found === undefined) {
    throw new AppError(
      'invalid-input',
      `card code algorithm "${shown(name)}" is not one of ${CARD_CODE_ALGORITHMS.join(', ')}`,
    );
  }
  return found;
}

/**
 * The card code of a card number.
 * @throws AppError('invalid-input') when the card number is not 1 to 33 digits.
 */
export function makeCardCode(
  cardNumber: string,
  algorithm: CardCodeAlgorithm = DEFAULT_CARD_CODE_ALGORITHM,
): string {
  if (cardNumber.length > CARD_NUMBER_LENGTH_MAX || !DIGITS.test(cardNumber)) {
    throw new AppError(
      'invalid-input',
      `card number "${shown(cardNumber)}" must be 1 to ${CARD_NUMBER_LENGTH_MAX} digits`,
    );
  }
  return `${cardNumber}${checkDigitsFor(cardNumber, algorithm)}`;
}

type Checked = { ok: true; value: ParsedCardCode } | { ok: false; reason: string };

/** The checks of {@link parseCardCode} without the cost of building an error. */
function check(cardCode: string, algorithm: CardCodeAlgorithm): Checked {
  if (
    cardCode.length < 3 ||
    cardCode.length > CARD_NUMBER_LENGTH_MAX + 2 ||
    !DIGITS.test(cardCode)
  ) {
    return {
      ok: false,
      reason: `card code "${shown(cardCode)}" must be 3 to ${CARD_NUMBER_LENGTH_MAX + 2} digits: the card number and 2 check digits`,
    };
  }
  const cardNumber = cardCode.slice(0, -2);
  const checkDigits = cardCode.slice(-2);
  if (checkDigitsFor(cardNumber, algorithm) !== checkDigits) {
    return {
      ok: false,
      reason: `card code ${cardCode} is mistyped: its last 2 digits do not match the card number`,
    };
  }
  return { ok: true, value: { cardCode, cardNumber, checkDigits } };
}

/**
 * Splits a card code into card number and check digits and verifies them.
 * Why an error and not a lookup miss: a wrong check digit is a typo the parent can fix, and must
 * not read as "no such card".
 * @throws AppError('card-code-invalid') when the shape is wrong or the check digits do not match.
 */
export function parseCardCode(
  cardCode: string,
  algorithm: CardCodeAlgorithm = DEFAULT_CARD_CODE_ALGORITHM,
): ParsedCardCode {
  const checked = check(cardCode, algorithm);
  if (!checked.ok) throw new AppError('card-code-invalid', checked.reason);
  return checked.value;
}

/** Whether {@link parseCardCode} accepts the code. */
export function isValidCardCode(
  cardCode: string,
  algorithm: CardCodeAlgorithm = DEFAULT_CARD_CODE_ALGORITHM,
): boolean {
  return check(cardCode, algorithm).ok;
}
