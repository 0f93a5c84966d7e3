import { centsFromDecimalString, type Cents } from '../codes/money';
import { AppError } from '../errors';

/**
 * The treasury's statement of incoming transfers (giornale di cassa), as CSV:
 * `date,amount,causale[,valueDate,bankReference]` with a header row naming those columns;
 * dates YYYY-MM-DD, amount a decimal string with two decimals (`1234.56`, read into cents
 * without floats), fields quoted with `"` when they hold commas (RFC 4180).
 */
export interface TreasuryMovement {
  /** 1-based line of the data (the header is line 0). */
  readonly lineNo: number;
  readonly bookedOn: string;
  readonly amountCents: Cents;
  readonly causale: string;
  readonly valueDate?: string;
  readonly bankReference?: string;
}

export const TREASURY_COLUMNS = ['date', 'amount', 'causale', 'valueDate', 'bankReference'];
/** A statement is at most this many lines (a year of a large city's incoming transfers). */
export const TREASURY_LINES_MAX = 100_000;

const ISO_DATE = /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/;

/** Splits CSV text into records of fields (RFC 4180 quoting, CRLF or LF). */
function records(text: string): string[][] {
  const out: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i += 1) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i += 1;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"' && field === '') quoted = true;
    else if (ch === ',') {
      row.push(field);
      field = '';
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i += 1;
      row.push(field);
      out.push(row);
      row = [];
      field = '';
    } else field += ch;
  }
  if (quoted) throw new AppError('invalid-input', 'treasury CSV: unterminated quoted field');
  if (field !== '' || row.length > 0) {
    row.push(field);
    out.push(row);
  }
  return out.filter((r) => !(r.length === 1 && r[0]?.trim() === ''));
}

const bad = (lineNo: number, what: string): AppError =>
  new AppError('invalid-input', `treasury CSV line ${lineNo}: ${what}`, { lineNo });

/**
 * Parses a treasury statement; all lines or none.
 * @throws AppError('invalid-input') naming the first bad line (header, date, amount, causale).
 */
export function parseTreasuryCsv(text: string): TreasuryMovement[] {
  const rows = records(text.replace(/^\uFEFF/, ''));
  const header = rows[0]?.map((h) => h.trim());
  const expected = TREASURY_COLUMNS.slice(0, header?.length ?? 0);
  if (
    header === undefined ||
    header.length < 3 ||
    header.length > TREASURY_COLUMNS.length ||
    header.some((h, i) => h !== expected[i])
  ) {
    throw bad(0, `the header must be ${TREASURY_COLUMNS.join(',')} (the last two optional)`);
  }
  if (rows.length - 1 > TREASURY_LINES_MAX) {
    throw new AppError('invalid-input', `treasury CSV: more than ${TREASURY_LINES_MAX} lines`);
  }
  return rows.slice(1).map((r, i) => {
    const lineNo = i + 1;
    if (r.length !== header.length) throw bad(lineNo, `${header.length} fields expected`);
    const [date = '', amount = '', causale = '', valueDate = '', bankReference = ''] = r.map((f) =>
      f.trim(),
    );
    if (!ISO_DATE.test(date)) throw bad(lineNo, `date "${date}" is not YYYY-MM-DD`);
    if (valueDate !== '' && !ISO_DATE.test(valueDate)) {
      throw bad(lineNo, `valueDate "${valueDate}" is not YYYY-MM-DD`);
    }
    if (causale === '' || causale.length > 500) throw bad(lineNo, 'causale must be 1..500 chars');
    if (bankReference.length > 100) throw bad(lineNo, 'bankReference is longer than 100');
    let amountCents: Cents;
    try {
      amountCents = centsFromDecimalString(amount);
    } catch {
      throw bad(lineNo, `amount "${amount.slice(0, 20)}" must have the form 1234.56`);
    }
    return {
      lineNo,
      bookedOn: date,
      amountCents,
      causale,
      ...(valueDate === '' ? {} : { valueDate }),
      ...(bankReference === '' ? {} : { bankReference }),
    };
  });
}
