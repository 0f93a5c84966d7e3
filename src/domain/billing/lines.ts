import { isValidCardCode, parseCardCode, type CardCodeAlgorithm } from '../codes/card-code';
import { shown } from '../codes/shown';
import { AppError } from '../errors';
import { TEXT_MAX } from '../positions/position-request';
import { parseCsv } from './csv';

/**
 * The lines of a billing run as submitted (a CSV file or a JSON list), checked one by one.
 *
 * Why lines are checked and kept rather than refused as a whole: a municipality's monthly file
 * has thousands of lines, and one typo must not hold back the others. A bad line is stored
 * FAILED with a reason a person can act on; only a request that cannot be read at all (no
 * header, a broken quote, too many lines) is refused outright.
 */

/** Lines in one run; a bigger month is split in several runs (each is idempotent per card). */
export const BILLING_LINES_MAX = 20_000;
/** 999,999.99 €: far above any monthly fee; a larger figure is a column mix-up. */
export const BILLING_AMOUNT_CENTS_MAX = 99_999_999;
/** The columns of a billing CSV, in any order, named in its first line. */
export const CSV_COLUMNS = ['cardCode', 'amountCents', 'description'] as const;
/** Longest field read from a CSV: a description is 140, anything longer is a broken file. */
const CSV_FIELD_LENGTH_MAX = 1_000;
/** How much of a bad card code is stored and repeated in the reason. */
export const CARD_CODE_STORED_MAX = 64;

const PERIOD = /^(\d{4})-(0[1-9]|1[0-2])$/;

/** A line ready to store: `problem` is null for a line to process, the reason otherwise. */
export type BillingLine = {
  lineNo: number;
  /** As sent, trimmed and cut to 64 characters. */
  cardCode: string;
  /** Null when the amount was not a whole number of cents. */
  amountCents: number | null;
  /** Null when none was given (the service's default applies). */
  description: string | null;
  problem: string | null;
};

/** One item of a JSON submission, as the route's schema lets it through. */
export type BillingItemInput = {
  cardCode: string;
  amountCents: number;
  description?: string | undefined;
};

type RawLine = { lineNo: number; cardCode: string; amount: string | number; description: string };

/**
 * Checks a billing period, `YYYY-MM` (a real month).
 * @throws AppError('invalid-input') otherwise.
 */
export function checkPeriod(period: string, path: string): void {
  const m = PERIOD.exec(period);
  if (m === null || Number(m[1]) < 2000) {
    throw new AppError('invalid-input', `${path}: must be a month written YYYY-MM, e.g. 2026-10`, {
      errors: [{ path, message: 'must be a month written YYYY-MM, e.g. 2026-10' }],
    });
  }
}

const wholeRequest = (message: string): AppError =>
  new AppError('invalid-input', `body: ${message}`, { errors: [{ path: 'body', message }] });

/**
 * The lines of a billing CSV (`cardCode,amountCents,description`), each checked.
 * @throws AppError('invalid-input') when the text is not CSV (see parseCsv), has no header with
 *   exactly these three columns, no line after it, or more than BILLING_LINES_MAX lines.
 */
export function linesFromCsv(text: string, algorithm: CardCodeAlgorithm): BillingLine[] {
  const records = parseCsv(text, {
    recordsMax: BILLING_LINES_MAX,
    fieldLengthMax: CSV_FIELD_LENGTH_MAX,
  });
  const [header, ...rows] = records;
  const expected = CSV_COLUMNS.join(',');
  if (header === undefined) throw wholeRequest(`is empty: send a header ${expected} and lines`);
  const names = header.fields.map((f) => f.trim().toLowerCase());
  const index = CSV_COLUMNS.map((c) => names.indexOf(c.toLowerCase()));
  if (names.length !== CSV_COLUMNS.length || index.some((i) => i < 0)) {
    throw wholeRequest(
      `the first line must name the columns ${expected} (found "${shown(header.fields.join(','))}")`,
    );
  }
  if (rows.length === 0) throw wholeRequest('has a header and no lines to bill');
  const [cardAt = 0, amountAt = 1, descriptionAt = 2] = index;
  const raw: (RawLine | BillingLine)[] = rows.map((r) => {
    if (r.fields.length !== CSV_COLUMNS.length) {
      return {
        lineNo: r.line,
        cardCode: (r.fields[cardAt] ?? '').trim().slice(0, CARD_CODE_STORED_MAX),
        amountCents: null,
        description: null,
        problem: `has ${r.fields.length} fields instead of ${CSV_COLUMNS.length}: put a description that contains commas in double quotes`,
      };
    }
    return {
      lineNo: r.line,
      cardCode: r.fields[cardAt] ?? '',
      amount: r.fields[amountAt] ?? '',
      description: r.fields[descriptionAt] ?? '',
    };
  });
  return checkLines(raw, algorithm);
}

/**
 * The lines of a JSON submission (line numbers are positions in the list, from 1), each checked.
 * @throws AppError('invalid-input') for an empty list or more than BILLING_LINES_MAX items.
 */
export function linesFromItems(
  items: readonly BillingItemInput[],
  algorithm: CardCodeAlgorithm,
): BillingLine[] {
  if (items.length === 0) throw wholeRequest('has no items to bill');
  if (items.length > BILLING_LINES_MAX) {
    throw wholeRequest(`has ${items.length} items; a run takes at most ${BILLING_LINES_MAX}`);
  }
  return checkLines(
    items.map((item, i) => ({
      lineNo: i + 1,
      cardCode: item.cardCode,
      amount: item.amountCents,
      description: item.description ?? '',
    })),
    algorithm,
  );
}

function amountProblem(amount: string | number): { cents: number | null; problem: string | null } {
  const range = `1 to ${BILLING_AMOUNT_CENTS_MAX}`;
  if (typeof amount === 'number') {
    if (!Number.isSafeInteger(amount)) {
      return { cents: null, problem: `amountCents ${amount} is not a whole number of cents` };
    }
    return amount < 1 || amount > BILLING_AMOUNT_CENTS_MAX
      ? { cents: amount, problem: `amountCents ${amount} is outside ${range}` }
      : { cents: amount, problem: null };
  }
  const text = amount.trim();
  if (/^\d+[.,]\d{1,2}$/.test(text)) {
    const [units = '0', decimals = ''] = text.split(/[.,]/);
    const cents = Number(units) * 100 + Number(decimals.padEnd(2, '0'));
    return {
      cents: null,
      problem: `amountCents "${text}" looks like euros: write whole cents (${cents} for ${text} €)`,
    };
  }
  if (!/^\d{1,12}$/.test(text)) {
    return {
      cents: null,
      problem: `amountCents "${shown(text)}" is not a whole number of cents (${range})`,
    };
  }
  const cents = Number(text);
  return cents < 1 || cents > BILLING_AMOUNT_CENTS_MAX
    ? { cents, problem: `amountCents ${cents} is outside ${range}` }
    : { cents, problem: null };
}

function descriptionProblem(description: string): {
  text: string | null;
  problem: string | null;
} {
  const text = description.trim();
  if (text.length === 0) return { text: null, problem: null };
  if (/\p{Cc}/u.test(text)) {
    return { text: null, problem: 'description contains control characters (a line break?)' };
  }
  if (text.length > TEXT_MAX) {
    return {
      text: text.slice(0, TEXT_MAX),
      problem: `description has ${text.length} characters; pagoPA allows ${TEXT_MAX}`,
    };
  }
  return { text, problem: null };
}

function cardCodeProblem(cardCode: string, algorithm: CardCodeAlgorithm): string | null {
  if (cardCode.length === 0) return 'cardCode is empty';
  if (isValidCardCode(cardCode, algorithm)) return null;
  try {
    parseCardCode(cardCode, algorithm);
  } catch (err) {
    if (err instanceof AppError) return err.message;
    throw err;
  }
  return `card code ${cardCode} is not valid`;
}

/**
 * Checks every line: card code shape and check digits (the domain's algorithm), amount, and
 * description; then the same card twice in one run (a later good line of a card already billed
 * by an earlier good line is FAILED: a run bills a card once per period). Every problem of a line
 * is reported, joined by "; ".
 */
function checkLines(
  raw: readonly (RawLine | BillingLine)[],
  algorithm: CardCodeAlgorithm,
): BillingLine[] {
  const firstLineOf = new Map<string, number>();
  return raw.map((r): BillingLine => {
    if ('problem' in r) return r;
    const cardCode = r.cardCode.trim().slice(0, CARD_CODE_STORED_MAX);
    const problems: string[] = [];
    const cardProblem = cardCodeProblem(cardCode, algorithm);
    if (cardProblem !== null) problems.push(cardProblem);
    const amount = amountProblem(r.amount);
    if (amount.problem !== null) problems.push(amount.problem);
    const description = descriptionProblem(r.description);
    if (description.problem !== null) problems.push(description.problem);
    // The first good line of a card bills it; a later line of the same card is refused, and a
    // bad line claims nothing (its corrected twin further down may still be billed).
    const first = firstLineOf.get(cardCode);
    if (cardProblem === null && first !== undefined) {
      problems.push(
        `card ${cardCode} is already billed on line ${first} of this run: one amount per card and period`,
      );
    } else if (problems.length === 0) {
      firstLineOf.set(cardCode, r.lineNo);
    }
    return {
      lineNo: r.lineNo,
      cardCode,
      amountCents: amount.cents !== null && amount.cents <= 2 ** 53 ? amount.cents : null,
      description: description.text,
      problem: problems.length === 0 ? null : problems.join('; ').slice(0, 500),
    };
  });
}
