import { AppError } from '../errors';
import { shown } from '../codes/shown';

/**
 * A card's holder: the parent or citizen the card belongs to.
 *
 * Why shape-only checks for the fiscal code: the ERP is the registry of its citizens; we refuse
 * what cannot be a fiscal code at all (a typo in length or letters), and leave the check
 * character and the birth-place table to the Agenzia delle Entrate's own services.
 */

/** An Italian personal fiscal code, with the omocodia letters allowed in place of digits. */
export const PERSON_FISCAL_CODE =
  /^[A-Z]{6}[0-9LMNPQRSTUV]{2}[ABCDEHLMPRST][0-9LMNPQRSTUV]{2}[A-Z][0-9LMNPQRSTUV]{3}[A-Z]$/;
/** A numeric fiscal code (legal persons, and temporary codes given to people). */
export const NUMERIC_FISCAL_CODE = /^\d{11}$/;

export const FULL_NAME_LENGTH_MAX = 70;

export type Holder = { fiscalCode: string; fullName: string };

/** Upper-cases and trims a fiscal code; `null` when it has neither accepted shape. */
export function normaliseFiscalCode(text: string): string | null {
  const upper = text.trim().toUpperCase();
  return PERSON_FISCAL_CODE.test(upper) || NUMERIC_FISCAL_CODE.test(upper) ? upper : null;
}

/** Trims a full name and folds runs of white space, so "Rossi  Mario " and "Rossi Mario" match. */
export function normaliseFullName(text: string): string {
  return text.trim().replace(/\s+/g, ' ');
}

/**
 * The holder as stored: fiscal code upper-cased, name with single spaces.
 * @throws AppError('invalid-input') when the fiscal code has neither shape or the name is empty.
 */
export function toHolder(input: { fiscalCode: string; fullName: string }): Holder {
  const fiscalCode = normaliseFiscalCode(input.fiscalCode);
  if (fiscalCode === null) {
    // The value itself is not repeated: fiscal codes stay out of logs and error texts.
    throw new AppError(
      'invalid-input',
      'holder.fiscalCode must be a 16-character personal fiscal code or 11 digits',
    );
  }
  const fullName = normaliseFullName(input.fullName);
  if (fullName.length === 0 || fullName.length > FULL_NAME_LENGTH_MAX) {
    throw new AppError(
      'invalid-input',
      `holder.fullName must be 1 to ${FULL_NAME_LENGTH_MAX} characters, not "${shown(fullName)}"`,
    );
  }
  return { fiscalCode, fullName };
}

/** Whether two holders are the same person as far as registering a card again is concerned. */
export const sameHolder = (a: Holder, b: Holder): boolean =>
  a.fiscalCode === b.fiscalCode && a.fullName === b.fullName;
