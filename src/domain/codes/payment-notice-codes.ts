import { AppError } from '../errors';
import { shown as shownUpTo } from './shown';
import { toCents, type Cents } from './money';
import {
  parseNoticeNumber,
  parseValidNoticeNumber,
  type ParsedNoticeNumber,
} from './notice-number';

/**
 * The machine-readable codes printed on a payment notice (avviso), PAGOPA.md §8:
 * - the QR code `PAGOPA|002|<notice number>|<creditor fiscal code>|<amount in cents>`;
 * - Poste's Data Matrix (Bollettino PA, document type 896), read only by Poste.
 */

const FISCAL_CODE_11 = /^\d{11}$/;
const QR_HEADER = 'PAGOPA';
const QR_VERSION = '002';
/** The spec allows 2..10 digits: up to 99,999,999.99 euros. */
export const QR_AMOUNT_CENTS_MAX = 9_999_999_999;

const shown = (text: string): string => shownUpTo(text, 60);

export type PaymentNoticeQrCode = {
  noticeNumber: string;
  creditorFiscalCode: string;
  amountCents: Cents;
};

function assertCreditorFiscalCode(fiscalCode: string): void {
  if (!FISCAL_CODE_11.test(fiscalCode)) {
    throw new AppError(
      'invalid-input',
      `creditor fiscal code "${shown(fiscalCode)}" must be 11 digits`,
    );
  }
}

/**
 * The QR string of a payment notice. The amount is at least 2 digits (`5` cents -> `05`), as the
 * spec asks; 0 stands for "amount not known yet" (the PSP asks the citizen, paVerify gives it).
 * @throws AppError('notice-number-invalid') when the notice number is malformed or its check digits do not match.
 * @throws AppError('invalid-input') when the fiscal code is not 11 digits.
 * @throws AppError('amount-invalid') when the amount is not whole cents in 0..9,999,999,999.
 */
export function makePaymentNoticeQrCode(input: {
  noticeNumber: string;
  creditorFiscalCode: string;
  amountCents: number;
}): string {
  // Why strict here: this is a notice we print, so a bad check digit is our bug, not the node's.
  parseValidNoticeNumber(input.noticeNumber);
  assertCreditorFiscalCode(input.creditorFiscalCode);
  const cents = toCents(input.amountCents);
  if (cents > QR_AMOUNT_CENTS_MAX) {
    throw new AppError(
      'amount-invalid',
      `amount ${cents} cents does not fit the QR code's 10 digits`,
    );
  }
  const amount = String(cents).padStart(2, '0');
  return [QR_HEADER, QR_VERSION, input.noticeNumber, input.creditorFiscalCode, amount].join('|');
}

/**
 * Reads a scanned QR string. Accepts 1 to 11 amount digits with leading zeros, as pagoPA's own
 * decoder does, and a notice whose check digits do not match (see `notice.checkDigitsValid`).
 * Surrounding white space from a scanner is ignored.
 * @throws AppError('payment-code-invalid') when the string is not a version-002 pagoPA QR code.
 */
export function parsePaymentNoticeQrCode(
  text: string,
): PaymentNoticeQrCode & { notice: ParsedNoticeNumber } {
  const fields = text.trim().split('|');
  const [header, version, noticeNumber = '', creditorFiscalCode = '', amount = ''] = fields;
  const invalid = (why: string): AppError =>
    new AppError('payment-code-invalid', `QR code "${shown(text)}": ${why}`);
  if (fields.length !== 5 || header !== QR_HEADER) {
    throw invalid('expected PAGOPA|002|<notice number>|<fiscal code>|<amount>');
  }
  if (version !== QR_VERSION) throw invalid(`version ${version ?? ''} is not 002`);
  if (!/^\d{18}$/.test(noticeNumber)) throw invalid('the notice number must be 18 digits');
  if (!FISCAL_CODE_11.test(creditorFiscalCode)) throw invalid('the fiscal code must be 11 digits');
  if (!/^\d{1,11}$/.test(amount)) throw invalid('the amount must be 1 to 11 digits of cents');
  let notice: ParsedNoticeNumber;
  try {
    notice = parseNoticeNumber(noticeNumber);
  } catch (err) {
    throw new AppError(
      'payment-code-invalid',
      `QR code "${shown(text)}": ${(err as Error).message}`,
      {},
      { cause: err },
    );
  }
  return { noticeNumber, creditorFiscalCode, amountCents: toCents(Number(amount)), notice };
}

// ---------------------------------------------------------------------------------------------
// Poste Data Matrix

export const POSTE_DOCUMENT_TYPE = '896';
const DATA_MATRIX_PREFIX = 'codfase=NBPA;';
/** Fixed field widths of the Data Matrix after the codeline. */
const WIDTH = { creditor: 11, debtorFiscalCode: 16, debtorName: 40, subject: 110, filler: 12 };
/** 13 (prefix) + 50 (codeline) + 3 (`1P1`) + 11 + 16 + 40 + 110 + 12 + 1 (`A`). */
export const POSTE_DATA_MATRIX_LENGTH = 256;
/** Where the creditor fiscal code, the last field that identifies the payment, ends. */
const DATA_MATRIX_IDENTIFICATION_END = 77;
export const POSTE_AMOUNT_CENTS_MAX = 9_999_999_999;

export type PosteDataMatrix = {
  noticeNumber: string;
  /** Poste current account (conto corrente postale): up to 12 digits when made, 12 zero-padded when read. */
  postalAccount: string;
  amountCents: Cents;
  creditorFiscalCode: string;
  debtorFiscalCode: string;
  debtorName: string;
  subject: string;
};

/** What is read back: the descriptive fields only when the string has the full 256-character layout. */
export type ParsedPosteDataMatrix = Pick<
  PosteDataMatrix,
  'noticeNumber' | 'postalAccount' | 'amountCents' | 'creditorFiscalCode'
> &
  Partial<Pick<PosteDataMatrix, 'debtorFiscalCode' | 'debtorName' | 'subject'>> & {
    notice: ParsedNoticeNumber;
  };

/**
 * Poste's reader takes plain ASCII: accents are dropped (`Nicolò` -> `Nicolo`) and anything else
 * outside printable ASCII becomes a space, then the text is cut to its field's width. Why cut
 * rather than refuse: name and subject are printed in full on the notice; the Data Matrix only
 * carries them for Poste's records.
 */
function asciiField(text: string, width: number): string {
  const ascii = text
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^\x20-\x7e]/g, ' ');
  return ascii.slice(0, width).padEnd(width, ' ');
}

/**
 * The Data Matrix string of a Bollettino PA (document type 896). Layout: `codfase=NBPA;`, the
 * codeline `18<notice>12<account, 12>10<cents, 10>3896`, `1P1`, creditor fiscal code (11),
 * debtor fiscal code (16), debtor name (40), subject (110), 12 spaces, `A`.
 * @throws AppError('notice-number-invalid') when the notice number is malformed or its check digits do not match.
 * @throws AppError('invalid-input') when the postal account, fiscal codes are malformed.
 * @throws AppError('amount-invalid') when the amount is not whole cents in 0..9,999,999,999.
 */
export function makePosteDataMatrix(input: {
  noticeNumber: string;
  postalAccount: string;
  amountCents: number;
  creditorFiscalCode: string;
  debtorFiscalCode: string;
  debtorName: string;
  subject: string;
}): string {
  parseValidNoticeNumber(input.noticeNumber);
  assertCreditorFiscalCode(input.creditorFiscalCode);
  if (!/^\d{1,12}$/.test(input.postalAccount)) {
    throw new AppError(
      'invalid-input',
      `postal account "${shown(input.postalAccount)}" must be 1 to 12 digits`,
    );
  }
  // A natural person's codice fiscale (16) or a company's partita IVA / codice fiscale (11).
  if (!/^[0-9A-Za-z]{11,16}$/.test(input.debtorFiscalCode)) {
    throw new AppError('invalid-input', 'debtor fiscal code must be 11 to 16 letters or digits');
  }
  const cents = toCents(input.amountCents);
  if (cents > POSTE_AMOUNT_CENTS_MAX) {
    throw new AppError(
      'amount-invalid',
      `amount ${cents} cents does not fit the codeline's 10 digits`,
    );
  }
  const codeline = [
    '18',
    input.noticeNumber,
    '12',
    input.postalAccount.padStart(12, '0'),
    '10',
    String(cents).padStart(10, '0'),
    '3',
    POSTE_DOCUMENT_TYPE,
  ].join('');
  return [
    DATA_MATRIX_PREFIX,
    codeline,
    '1P1',
    input.creditorFiscalCode,
    input.debtorFiscalCode.toUpperCase().padEnd(WIDTH.debtorFiscalCode, ' '),
    asciiField(input.debtorName, WIDTH.debtorName),
    asciiField(input.subject, WIDTH.subject),
    ' '.repeat(WIDTH.filler),
    'A',
  ].join('');
}

/**
 * Reads a scanned Poste Data Matrix string. What identifies the payment (prefix, codeline, `1P1`,
 * creditor fiscal code) is checked marker by marker, so a misread is refused rather than turned
 * into a wrong amount. The descriptive tail is read only when the string has the full layout of
 * 256 characters. Why tolerate other lengths: pagoPA's own decoder (io-app) reads nothing past the
 * creditor fiscal code, and its test string is 255 characters long (a 39-character name), so
 * printers that pad differently exist. A notice whose check digits do not match is still
 * returned (see `notice.checkDigitsValid`).
 * @throws AppError('payment-code-invalid') when the string does not follow the layout.
 */
export function parsePosteDataMatrix(text: string): ParsedPosteDataMatrix {
  const invalid = (why: string): AppError =>
    new AppError('payment-code-invalid', `Poste Data Matrix: ${why}`);
  if (!text.startsWith(DATA_MATRIX_PREFIX)) {
    throw invalid(`it must start with ${DATA_MATRIX_PREFIX}`);
  }
  if (text.length < DATA_MATRIX_IDENTIFICATION_END + 1 || text.length > POSTE_DATA_MATRIX_LENGTH) {
    throw invalid(`it has ${text.length} characters; at most ${POSTE_DATA_MATRIX_LENGTH} expected`);
  }
  if (!text.endsWith('A')) throw invalid('it must end with A');
  const at = (start: number, end: number): string => text.slice(start, end);
  const codeline = /^18(\d{18})12(\d{12})10(\d{10})3(\d{3})1P1$/.exec(at(13, 66));
  if (codeline === null) {
    throw invalid('the codeline is not 18<notice>12<account>10<amount>3<type>1P1');
  }
  const [, noticeNumber = '', postalAccount = '', amount = '', documentType = ''] = codeline;
  if (documentType !== POSTE_DOCUMENT_TYPE) {
    throw invalid(`document type ${documentType} is not ${POSTE_DOCUMENT_TYPE}`);
  }
  const creditorFiscalCode = at(66, DATA_MATRIX_IDENTIFICATION_END);
  if (!FISCAL_CODE_11.test(creditorFiscalCode)) {
    throw invalid('the creditor fiscal code must be 11 digits');
  }
  let notice: ParsedNoticeNumber;
  try {
    notice = parseNoticeNumber(noticeNumber);
  } catch (err) {
    throw new AppError(
      'payment-code-invalid',
      `Poste Data Matrix: ${(err as Error).message}`,
      {},
      { cause: err },
    );
  }
  const identification = {
    noticeNumber,
    postalAccount,
    amountCents: toCents(Number(amount)),
    creditorFiscalCode,
    notice,
  };
  if (text.length !== POSTE_DATA_MATRIX_LENGTH || !text.endsWith(`${' '.repeat(WIDTH.filler)}A`)) {
    return identification;
  }
  return {
    ...identification,
    debtorFiscalCode: at(77, 93).trimEnd(),
    debtorName: at(93, 133).trimEnd(),
    subject: at(133, 243).trimEnd(),
  };
}
