import { AppError } from '../errors';
import {
  isValidCardCode,
  parseCardCode,
  type CardCodeAlgorithm,
  type ParsedCardCode,
} from '../codes/card-code';

/**
 * Checks a card code typed by a parent or sent by the ERP before any lookup.
 *
 * Why every configured algorithm: the routes name a card by its code alone, and card codes are
 * unique across domains, so the code is accepted when one of the algorithms in use accepts it;
 * the lookup then finds the card (or answers 404). A wrong check digit under all of them is a
 * typo the caller can fix: 422 `card-code-invalid`, never a 404.
 * @throws AppError('card-code-invalid') when no algorithm in use accepts the code.
 */
export function checkCardCode(
  cardCode: string,
  algorithms: readonly CardCodeAlgorithm[],
): ParsedCardCode {
  const inUse = [...new Set(algorithms)];
  const first = inUse[0];
  if (first === undefined) throw new AppError('internal', 'no card code algorithm is configured');
  const accepting = inUse.find((a) => isValidCardCode(cardCode, a));
  // The first algorithm's error is the one reported: it says what is wrong with the code.
  return parseCardCode(cardCode, accepting ?? first);
}
