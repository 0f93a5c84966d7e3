import { AppError } from '../errors';

/**
 * A small RFC 4180 reader for the billing files municipalities export from their spreadsheets.
 *
 * Why hand-written: the format is three columns, and the rules that matter are few and must be
 * exact (quoted fields with commas, doubled quotes and line breaks; CRLF or LF; an Excel BOM).
 * It reads the whole text in one pass and never builds more than `recordsMax` records, so a huge
 * or hostile body costs at most the body limit the HTTP layer already enforces.
 */

export type CsvRecord = {
  /** The physical line the record starts on, 1-based (the header is line 1). */
  line: number;
  fields: string[];
};

export type CsvLimits = {
  /** Records after the header; one more is refused. */
  recordsMax: number;
  /** Characters in one field; a longer one is refused (a missing closing quote, usually). */
  fieldLengthMax: number;
};

const refuse = (line: number, message: string): AppError =>
  new AppError('invalid-input', `CSV line ${line}: ${message}`, {
    errors: [{ path: `body.line${line}`, message }],
  });

/**
 * Splits CSV text into records. A UTF-8 BOM is dropped; records end with CRLF, LF or a lone CR;
 * blank lines are skipped; a field in double quotes may hold commas, line breaks and doubled
 * quotes (`""`). Fields are returned as written (no trimming).
 * @throws AppError('invalid-input') for a quote inside an unquoted field, text after a closing
 *   quote, a quote never closed, a field longer than `fieldLengthMax`, or more than
 *   `recordsMax` records after the first.
 */
export function parseCsv(text: string, limits: CsvLimits): CsvRecord[] {
  const records: CsvRecord[] = [];
  const input = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const n = input.length;
  let i = 0;
  let line = 1;

  while (i < n) {
    const start = line;
    const fields: string[] = [];
    // One record: fields separated by commas, up to a line break or the end.
    for (;;) {
      let field: string;
      if (input[i] === '"') {
        const quoteLine = line;
        i += 1;
        let value = '';
        for (;;) {
          const close = input.indexOf('"', i);
          if (close < 0) throw refuse(quoteLine, 'a quoted field is never closed');
          const chunk = input.slice(i, close);
          for (let k = 0; k < chunk.length; k++) {
            const c = chunk.charCodeAt(k);
            if (c === 10 || (c === 13 && chunk.charCodeAt(k + 1) !== 10)) line += 1;
          }
          value += chunk;
          if (value.length > limits.fieldLengthMax) {
            throw refuse(quoteLine, `a field is longer than ${limits.fieldLengthMax} characters`);
          }
          if (input[close + 1] === '"') {
            value += '"';
            i = close + 2;
          } else {
            i = close + 1;
            break;
          }
        }
        field = value;
        const next = input[i];
        if (next !== undefined && next !== ',' && next !== '\n' && next !== '\r') {
          throw refuse(line, 'text after a closing quote: quote the whole field');
        }
      } else {
        let j = i;
        while (j < n) {
          const c = input.charCodeAt(j);
          if (c === 44 || c === 10 || c === 13) break;
          if (c === 34) {
            throw refuse(line, 'a quote inside an unquoted field: quote the whole field');
          }
          j += 1;
        }
        field = input.slice(i, j);
        i = j;
      }
      if (field.length > limits.fieldLengthMax) {
        throw refuse(start, `a field is longer than ${limits.fieldLengthMax} characters`);
      }
      fields.push(field);
      if (input[i] === ',') {
        i += 1;
        continue;
      }
      break;
    }
    // The record ends at a line break (CRLF, LF or CR) or at the end of the text.
    if (input[i] === '\r') i += input[i + 1] === '\n' ? 2 : 1;
    else if (input[i] === '\n') i += 1;
    line += 1;
    const blank = fields.length === 1 && fields[0] === '';
    if (blank) continue;
    if (records.length > limits.recordsMax) {
      throw refuse(start, `more than ${limits.recordsMax} lines after the header`);
    }
    records.push({ line: start, fields });
  }
  return records;
}
