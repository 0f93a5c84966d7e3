/**
 * Renders the pagoPA payment notice ("avviso di pagamento") as a PDF, in the layout municipalities
 * print and send: one A4 page per payable option, each with its own QR code and, when the creditor
 * has a postal account, the "Bollettino postale PA" section with the Poste Data Matrix.
 *
 * Why a pure function of a model: the route that serves `notice.pdf` loads the debt position and
 * maps it here; keeping storage and HTTP out makes the layout testable by rendering and reading
 * the PDF back (text and codes), and lets a CLI or a batch print job reuse it.
 *
 * The layout follows the official template (docs.pagopa.it/avviso-pagamento): header with the
 * subject and the creditor, the two parties, "Quanto e quando pagare?", "Dove pagare?", then the
 * "Banche e altri canali" part with the QR code and the "Bollettino postale PA" part.
 * Fonts are PDFKit's built-in Helvetica (WinAnsi), so nothing is read from disk but PDFKit's AFM
 * metrics. Codes are drawn as vector squares, so they stay sharp at any print resolution.
 */
import bwipjs from 'bwip-js';
import PDFDocument from 'pdfkit';
import { toCents } from '../../domain/codes/money';
import {
  makePaymentNoticeQrCode,
  makePosteDataMatrix,
} from '../../domain/codes/payment-notice-codes';
import { AppError } from '../../domain/errors';

export type NoticePlan = 'SINGLE' | 'INSTALLMENTS' | 'ALTERNATIVES';

export interface NoticePostalAccount {
  /** Poste c/c number, up to 12 digits (zero-padded to 12 in the Data Matrix). */
  readonly accountNumber: string;
  /** "Intestato a": the holder printed on the bollettino. */
  readonly holderName: string;
  /** Poste's authorisation to print bollettini in-house ("Aut. n. ..."), printed as given. */
  readonly authorisationCode?: string;
}

export interface NoticeCreditor {
  /** Codice fiscale of the ente creditore, 11 digits. */
  readonly fiscalCode: string;
  readonly name: string;
  /** Sector or office, e.g. "Settore Tributi". */
  readonly sector?: string;
  /** CBILL interbank code of the creditor, 5 letters or digits. */
  readonly cbillCode?: string;
  /** When present, every option page gets the "Bollettino postale PA" part. */
  readonly postalAccount?: NoticePostalAccount;
}

export interface NoticeDebtor {
  /** Codice fiscale (16) or partita IVA (11) of the debtor, or "ANONIMO". */
  readonly fiscalCode: string;
  readonly fullName: string;
  /** Postal address, one or more lines separated by "\n". */
  readonly address?: string;
}

export interface NoticeInstallment {
  /** 1-based number of this instalment. */
  readonly number: number;
  /** Total number of instalments. */
  readonly of: number;
}

export interface NoticeOption {
  /** Numero avviso (NAV), 18 digits. */
  readonly noticeNumber: string;
  /** Integer euro cents, never a float (STYLE habit 6). */
  readonly amountCents: number;
  /** YYYY-MM-DD. */
  readonly dueDate: string;
  /** Required when the plan is INSTALLMENTS. */
  readonly installment?: NoticeInstallment;
}

export interface PaymentNoticeModel {
  readonly creditor: NoticeCreditor;
  readonly debtor: NoticeDebtor;
  /** Oggetto del pagamento, printed on every page and in the Data Matrix (110 chars there). */
  readonly subject: string;
  /**
   * SINGLE: one option, one page. INSTALLMENTS: a first page listing every instalment, then one
   * page per instalment. ALTERNATIVES (e.g. a road fine, reduced amount within 5 days, else full):
   * one page per alternative, each telling when its amount applies.
   */
  readonly plan: NoticePlan;
  readonly options: readonly NoticeOption[];
}

/** Limits that keep one request's work bounded (STYLE habit 15). */
const MAX_OPTIONS = 60;
const MAX_TEXT_CHARS = 500;
/** 10 digits is the most the QR code and the Data Matrix amount fields carry. */
const MAX_AMOUNT_CENTS = 9_999_999_999;

/**
 * Renders the notice to a PDF buffer: for SINGLE one page, for INSTALLMENTS 1 + n pages, for
 * ALTERNATIVES n pages.
 *
 * @throws AppError('invalid-input') when a fiscal code (the Data Matrix needs 11 to 16 characters
 *   for the debtor's), the postal account, a date, a text or the plan/options shape is wrong.
 * @throws AppError('notice-number-invalid') when a notice number is not 18 digits or its check
 *   digits do not match (the code builders are strict for notices we print).
 * @throws AppError('amount-invalid') when an amount is not an integer number of cents in 1..9999999999.
 */
export async function renderPaymentNotice(model: PaymentNoticeModel): Promise<Buffer> {
  validateModel(model);
  const pages = planPages(model);
  const first = pages.find((p) => p.kind === 'option');
  const doc = new PDFDocument({
    autoFirstPage: false,
    size: 'A4',
    margin: 0,
    lang: 'it-IT',
    info: {
      Title: `Avviso di pagamento${first ? ` ${first.option.noticeNumber}` : ''}`,
      Author: model.creditor.name,
      Subject: model.subject,
      Creator: 'pagopa-adapter',
    },
  });
  const done = collect(doc);
  for (const page of pages) {
    doc.addPage({ size: 'A4', margin: 0 });
    drawPage(doc, model, page);
  }
  doc.end();
  return done;
}

// ---------------------------------------------------------------------------------------------
// Formatting (exported for table-driven tests)

/**
 * 1230 -> "12,30"; 123456789 -> "1.234.567,89". Integer arithmetic only.
 * @throws AppError('amount-invalid') when the value is not whole, non-negative, safe cents.
 */
export function formatEuroCents(amountCents: number): string {
  toCents(amountCents);
  const euros = Math.trunc(amountCents / 100).toString();
  const cents = (amountCents % 100).toString().padStart(2, '0');
  return `${euros.replace(/\B(?=(\d{3})+(?!\d))/g, '.')},${cents}`;
}

/**
 * "2025-12-31" -> "31/12/2025".
 * @throws AppError('invalid-input') when the text is not a real YYYY-MM-DD date.
 */
export function formatItalianDate(isoDate: string): string {
  const [y, m, d] = parseIsoDate(isoDate);
  return `${pad2(d)}/${pad2(m)}/${y}`;
}

/** "302032002700000251" -> "3020 3200 2700 0002 51", as on the official notice. */
export function groupNoticeNumber(noticeNumber: string): string {
  return noticeNumber.replace(/(\d{4})(?=\d)/g, '$1 ');
}

// ---------------------------------------------------------------------------------------------
// Validation

function validateModel(model: PaymentNoticeModel): void {
  const { creditor, debtor, options } = model;
  if (!/^\d{11}$/.test(creditor.fiscalCode)) {
    invalid(`creditor fiscal code must be 11 digits: ${creditor.fiscalCode}`);
  }
  if (!/^[A-Za-z0-9]{1,16}$/.test(debtor.fiscalCode)) {
    invalid(`debtor fiscal code must be 1 to 16 letters or digits: ${debtor.fiscalCode}`);
  }
  if (creditor.cbillCode !== undefined && !/^[A-Za-z0-9]{5}$/.test(creditor.cbillCode)) {
    invalid(`CBILL code must be 5 letters or digits: ${creditor.cbillCode}`);
  }
  const account = creditor.postalAccount;
  if (account !== undefined && !/^\d{1,12}$/.test(account.accountNumber)) {
    invalid(`postal account number must be 1 to 12 digits: ${account.accountNumber}`);
  }
  const texts: Array<[string, string | undefined, boolean]> = [
    ['creditor name', creditor.name, true],
    ['creditor sector', creditor.sector, false],
    ['debtor name', debtor.fullName, true],
    ['debtor address', debtor.address, false],
    ['subject', model.subject, true],
    ['postal account holder', account?.holderName, account !== undefined],
    ['postal authorisation code', account?.authorisationCode, false],
  ];
  for (const [what, value, required] of texts) {
    if (value === undefined) continue;
    if (required && value.trim() === '') invalid(`${what} is empty`);
    if (value.length > MAX_TEXT_CHARS) invalid(`${what} is longer than ${MAX_TEXT_CHARS} chars`);
  }

  if (options.length === 0 || options.length > MAX_OPTIONS) {
    invalid(`a notice has 1 to ${MAX_OPTIONS} options, got ${options.length}`);
  }
  for (const option of options) {
    if (!/^\d{18}$/.test(option.noticeNumber)) {
      throw new AppError(
        'notice-number-invalid',
        `notice number must be 18 digits: ${option.noticeNumber}`,
      );
    }
    const cents = option.amountCents;
    if (!Number.isSafeInteger(cents) || cents < 1 || cents > MAX_AMOUNT_CENTS) {
      throw new AppError(
        'amount-invalid',
        `amount must be integer cents in 1..${MAX_AMOUNT_CENTS}`,
        {
          amountCents: cents,
        },
      );
    }
    parseIsoDate(option.dueDate);
  }

  switch (model.plan) {
    case 'SINGLE':
      if (options.length !== 1) invalid(`plan SINGLE needs 1 option, got ${options.length}`);
      break;
    case 'INSTALLMENTS': {
      if (options.length < 2) invalid('plan INSTALLMENTS needs at least 2 options');
      // A notice may reprint only the instalments still to pay (2 and 3 of 3): numbers keep
      // their place in the whole plan, so `of` may exceed the options printed.
      const of = options[0]?.installment?.of ?? 0;
      const numbers = options.map((o) => {
        if (o.installment === undefined)
          invalid('every instalment needs installment { number, of }');
        if (o.installment.of !== of || of < options.length) {
          invalid(`instalments must all say "of ${of}", at least the ${options.length} printed`);
        }
        return o.installment.number;
      });
      if (new Set(numbers).size !== numbers.length || numbers.some((n) => n < 1 || n > of)) {
        invalid(`instalment numbers must be distinct, within 1..${of}`);
      }
      if (new Set(options.map((o) => o.noticeNumber)).size !== options.length) {
        invalid('each instalment needs its own notice number');
      }
      break;
    }
    case 'ALTERNATIVES':
      if (options.length < 2) invalid('plan ALTERNATIVES needs at least 2 options');
      if (new Set(options.map((o) => o.dueDate)).size !== options.length) {
        invalid('alternatives need distinct due dates, which tell which amount applies when');
      }
      break;
  }
}

function invalid(message: string): never {
  throw new AppError('invalid-input', message);
}

function parseIsoDate(isoDate: string): [number, number, number] {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(isoDate);
  const [y, mo, d] = m ? [Number(m[1]), Number(m[2]), Number(m[3])] : [NaN, NaN, NaN];
  const probe = new Date(Date.UTC(y, mo - 1, d));
  if (
    Number.isNaN(probe.getTime()) ||
    probe.getUTCFullYear() !== y ||
    probe.getUTCMonth() !== mo - 1 ||
    probe.getUTCDate() !== d
  ) {
    invalid(`due date must be a real YYYY-MM-DD date: ${isoDate}`);
  }
  return [y, mo, d];
}

const pad2 = (n: number): string => n.toString().padStart(2, '0');

// ---------------------------------------------------------------------------------------------
// Pages

type Page =
  | { readonly kind: 'installment-summary'; readonly rows: readonly NoticeOption[] }
  | {
      readonly kind: 'option';
      readonly option: NoticeOption;
      /** Upper-case label of the bank band, e.g. "RATA UNICA", "RATA 2 DI 3", "OPZIONE 1 DI 2". */
      readonly label: string;
      /** The sentence under the amount telling what this option is. */
      readonly when: string;
      /** Other options of the same notice, as short sentences (alternatives only). */
      readonly others: readonly string[];
      readonly codes: OptionCodes;
    };

interface OptionCodes {
  readonly qrCode: string;
  /** Only when the creditor has a postal account. */
  readonly posteDataMatrix: string | undefined;
}

/**
 * Builds both codes before the document is opened, so a model the builders refuse (e.g. a notice
 * number whose check digits do not match) fails the call instead of leaving a half-written PDF.
 */
function codesOf(model: PaymentNoticeModel, option: NoticeOption): OptionCodes {
  const { creditor, debtor } = model;
  const account = creditor.postalAccount;
  return {
    qrCode: makePaymentNoticeQrCode({
      noticeNumber: option.noticeNumber,
      creditorFiscalCode: creditor.fiscalCode,
      amountCents: option.amountCents,
    }),
    posteDataMatrix:
      account === undefined
        ? undefined
        : makePosteDataMatrix({
            noticeNumber: option.noticeNumber,
            postalAccount: account.accountNumber,
            amountCents: option.amountCents,
            creditorFiscalCode: creditor.fiscalCode,
            debtorFiscalCode: debtor.fiscalCode,
            debtorName: debtor.fullName,
            subject: model.subject,
          }),
  };
}

/** Rows of the instalment list that fit on one summary page; more continue on the next. */
const SUMMARY_ROWS_PER_PAGE = 22;

function planPages(model: PaymentNoticeModel): Page[] {
  const { options } = model;
  switch (model.plan) {
    case 'SINGLE':
      return options.map((option) => ({
        kind: 'option',
        option,
        label: 'RATA UNICA',
        when: 'Puoi pagare con una unica rata.',
        others: [],
        codes: codesOf(model, option),
      }));
    case 'INSTALLMENTS': {
      const sorted = [...options].sort(
        (a, b) => (a.installment?.number ?? 0) - (b.installment?.number ?? 0),
      );
      const summaries: Page[] = [];
      for (let i = 0; i < sorted.length; i += SUMMARY_ROWS_PER_PAGE) {
        summaries.push({
          kind: 'installment-summary',
          rows: sorted.slice(i, i + SUMMARY_ROWS_PER_PAGE),
        });
      }
      const perInstallment = sorted.map((option): Page => {
        const n = option.installment?.number ?? 0;
        const of = option.installment?.of ?? sorted.length;
        return {
          kind: 'option',
          option,
          label: `RATA ${n} DI ${of}`,
          when: `Rata ${n} di ${of}: paga questa rata entro la sua scadenza.`,
          others: [],
          codes: codesOf(model, option),
        };
      });
      return [...summaries, ...perInstallment];
    }
    case 'ALTERNATIVES': {
      const sorted = [...options].sort((a, b) => a.dueDate.localeCompare(b.dueDate));
      const whenOf = (i: number): string => {
        const due = formatItalianDate(sorted[i]?.dueDate ?? '');
        const previous = sorted[i - 1];
        return previous === undefined
          ? `se paghi entro il ${due}`
          : `se paghi dopo il ${formatItalianDate(previous.dueDate)} ed entro il ${due}`;
      };
      return sorted.map((option, i) => ({
        kind: 'option',
        option,
        label: `OPZIONE ${i + 1} DI ${sorted.length}`,
        when: `Questo importo vale ${whenOf(i)}.`,
        others: sorted.flatMap((other, j) =>
          j === i ? [] : [`${formatEuroCents(other.amountCents)} Euro ${whenOf(j)}`],
        ),
        codes: codesOf(model, option),
      }));
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Drawing. Coordinates are PDF points from the top-left of an A4 page (595.28 x 841.89).

type Doc = PDFKit.PDFDocument;

const PAGE_W = 595.28;
const MARGIN = 34;
const CONTENT_W = PAGE_W - 2 * MARGIN;
const COL_GAP = 20;
const COL_W = (CONTENT_W - COL_GAP) / 2;
const RIGHT_X = MARGIN + COL_W + COL_GAP;

const BLUE = '#0066CC';
const INK = '#17324D';
const GREY = '#5C6F82';
const LIGHT = '#E8F0FA';
const BOLD = 'Helvetica-Bold';
const REGULAR = 'Helvetica';

/** QR module size: 33 modules -> 85.8 pt (about 3 cm), as large as on the official notice. */
const QR_MODULE_PT = 2.6;
const DATA_MATRIX_MODULE_PT = 1.75;

function drawPage(doc: Doc, model: PaymentNoticeModel, page: Page): void {
  let y = drawHeader(doc, model);
  y = drawParties(doc, model, y);
  if (page.kind === 'installment-summary') {
    drawInstallmentSummary(doc, model, page.rows, y);
    return;
  }
  y = drawHowMuchAndWhere(doc, page, y);
  y = drawBankPart(doc, model, page, y);
  const account = model.creditor.postalAccount;
  const dataMatrix = page.codes.posteDataMatrix;
  if (account !== undefined && dataMatrix !== undefined) {
    drawPostalPart(doc, model, page.option, account, dataMatrix, y);
  }
}

function drawHeader(doc: Doc, model: PaymentNoticeModel): number {
  const top = MARGIN;
  const leftW = CONTENT_W * 0.6;
  doc.rect(MARGIN, top, 64, 18).fill(BLUE);
  doc
    .font(BOLD)
    .fontSize(10)
    .fillColor('#FFFFFF')
    .text('pagoPA', MARGIN, top + 4.5, { width: 64, align: 'center', lineBreak: false });
  doc
    .font(BOLD)
    .fontSize(18)
    .fillColor(BLUE)
    .text('AVVISO DI PAGAMENTO', MARGIN + 76, top + 1, { lineBreak: false });
  doc
    .font(BOLD)
    .fontSize(13)
    .fillColor(INK)
    .text(model.subject, MARGIN, top + 32, { width: leftW - 10, height: 50, ellipsis: true });

  const rx = MARGIN + leftW;
  const rw = CONTENT_W - leftW;
  const { creditor } = model;
  let ry = top;
  doc.font(BOLD).fontSize(11).fillColor(INK);
  doc.text(creditor.name, rx, ry, { width: rw, align: 'right', height: 28, ellipsis: true });
  ry += Math.min(doc.heightOfString(creditor.name, { width: rw }), 28) + 2;
  if (creditor.sector !== undefined) {
    doc.font(REGULAR).fontSize(9).fillColor(GREY);
    doc.text(creditor.sector, rx, ry, { width: rw, align: 'right', height: 22, ellipsis: true });
    ry += Math.min(doc.heightOfString(creditor.sector, { width: rw }), 22) + 2;
  }
  doc.font(REGULAR).fontSize(8).fillColor(GREY);
  doc.text(`Codice fiscale Ente Creditore ${creditor.fiscalCode}`, rx, ry, {
    width: rw,
    align: 'right',
    lineBreak: false,
  });

  const bottom = top + 90;
  rule(doc, bottom);
  return bottom + 10;
}

function drawParties(doc: Doc, model: PaymentNoticeModel, top: number): number {
  const { creditor, debtor } = model;
  const column = (
    x: number,
    title: string,
    cf: string,
    name: string,
    extra: string | undefined,
  ) => {
    doc.font(BOLD).fontSize(8).fillColor(BLUE).text(title, x, top, { lineBreak: false });
    doc
      .font(REGULAR)
      .fontSize(8)
      .fillColor(GREY)
      .text(`Cod. Fiscale ${cf}`, x, top, { width: COL_W, align: 'right', lineBreak: false });
    doc.font(BOLD).fontSize(11).fillColor(INK);
    doc.text(name, x, top + 14, { width: COL_W, height: 28, ellipsis: true });
    const nameH = Math.min(doc.heightOfString(name, { width: COL_W }), 28);
    if (extra !== undefined) {
      doc.font(REGULAR).fontSize(9).fillColor(INK);
      doc.text(extra, x, top + 16 + nameH, { width: COL_W, height: 34, ellipsis: true });
    }
  };
  column(MARGIN, 'ENTE CREDITORE', creditor.fiscalCode, creditor.name, creditor.sector);
  column(RIGHT_X, 'DESTINATARIO AVVISO', debtor.fiscalCode, debtor.fullName, debtor.address);
  const bottom = top + 80;
  rule(doc, bottom);
  return bottom + 10;
}

const AMOUNT_DISCLAIMER =
  "L'importo è aggiornato automaticamente dal sistema e potrebbe subire variazioni per eventuali " +
  'sgravi, note di credito, indennità di mora, sanzioni o interessi, ecc. Un operatore, il sito o ' +
  "l'app che userai ti potrebbero quindi chiedere una cifra diversa da quella qui indicata.";

function drawHowMuchAndWhere(doc: Doc, page: Page & { kind: 'option' }, top: number): number {
  const { option } = page;
  sectionTitle(doc, 'QUANTO E QUANDO PAGARE?', MARGIN, top);
  const amount = `${formatEuroCents(option.amountCents)} Euro`;
  doc
    .font(BOLD)
    .fontSize(20)
    .fillColor(INK)
    .text(amount, MARGIN, top + 16, { lineBreak: false });
  const amountW = doc.widthOfString(amount);
  doc
    .font(REGULAR)
    .fontSize(11)
    .fillColor(INK)
    .text('entro il ', MARGIN + amountW + 8, top + 23, { continued: true, lineBreak: false })
    .font(BOLD)
    .text(formatItalianDate(option.dueDate), { lineBreak: false });
  let y = top + 44;
  doc.font(BOLD).fontSize(9).fillColor(INK);
  doc.text(page.when, MARGIN, y, { width: COL_W });
  y += doc.heightOfString(page.when, { width: COL_W }) + 2;
  if (page.others.length > 0) {
    const others = `Altrimenti: ${page.others.join('; ')} (vedi la pagina di quell'importo).`;
    doc.font(REGULAR).fontSize(8.5).fillColor(INK);
    doc.text(others, MARGIN, y, { width: COL_W, height: 34, ellipsis: true });
    y += Math.min(doc.heightOfString(others, { width: COL_W }), 34) + 2;
  }
  doc.font(REGULAR).fontSize(7).fillColor(GREY);
  doc.text(AMOUNT_DISCLAIMER, MARGIN, y + 2, { width: COL_W });
  const leftBottom = y + 2 + doc.heightOfString(AMOUNT_DISCLAIMER, { width: COL_W });

  const rightBottom = drawWhereToPay(doc, top);
  const bottom = Math.max(leftBottom, rightBottom) + 8;
  doc
    .font(REGULAR)
    .fontSize(8)
    .fillColor(GREY)
    .text(
      'Utilizza la porzione di avviso relativa al canale di pagamento che preferisci.',
      MARGIN,
      bottom,
      { width: CONTENT_W, lineBreak: false },
    );
  return bottom + 14;
}

function drawWhereToPay(doc: Doc, top: number): number {
  sectionTitle(doc, 'DOVE PAGARE?', RIGHT_X, top);
  doc
    .font(REGULAR)
    .fontSize(8)
    .fillColor(GREY)
    .text('Lista dei canali di pagamento su www.pagopa.gov.it', RIGHT_X, top + 11, {
      width: COL_W,
      lineBreak: false,
    });
  const blocks: Array<[string, string]> = [
    [
      'PAGA SUL SITO O CON LE APP',
      'del tuo Ente Creditore, della tua Banca o degli altri canali di pagamento. Potrai pagare con carte, conto corrente, CBILL.',
    ],
    [
      'PAGA SUL TERRITORIO',
      'in Banca, in Ricevitoria, dal Tabaccaio, al Bancomat, al Supermercato. Potrai pagare in contanti, con carte o conto corrente.',
    ],
  ];
  let y = top + 26;
  for (const [title, body] of blocks) {
    doc.font(BOLD).fontSize(9).fillColor(INK).text(title, RIGHT_X, y, { width: COL_W });
    y += 12;
    doc.font(REGULAR).fontSize(8.5).fillColor(INK).text(body, RIGHT_X, y, { width: COL_W });
    y += doc.heightOfString(body, { width: COL_W }) + 6;
  }
  return y;
}

function drawBankPart(
  doc: Doc,
  model: PaymentNoticeModel,
  page: Page & { kind: 'option' },
  top: number,
) {
  const { option } = page;
  const { creditor } = model;
  const height = 196;
  band(
    doc,
    top,
    'BANCHE E ALTRI CANALI',
    `${page.label} entro il ${formatItalianDate(option.dueDate)}`,
  );
  doc
    .rect(MARGIN, top + 20, CONTENT_W, height - 20)
    .lineWidth(0.8)
    .strokeColor(BLUE)
    .stroke();

  // Version 4 (33 x 33) and ECC level M, as the notice specification fixes them.
  const qr = barcodeMatrix('qrcode', page.codes.qrCode, 'eclevel=M version=4');
  // The white quiet zone the QR code needs (4 modules) is kept free on every side.
  const qrX = MARGIN + 12 + 4 * QR_MODULE_PT;
  const qrY = top + 32;
  drawMatrix(doc, qr, qrX, qrY, QR_MODULE_PT);
  const qrSide = qr.width * QR_MODULE_PT;

  const tx = qrX + qrSide + 4 * QR_MODULE_PT + 8;
  const tw = MARGIN + CONTENT_W - 12 - tx;
  doc
    .font(REGULAR)
    .fontSize(8)
    .fillColor(GREY)
    .text(
      'Qui accanto trovi il codice QR e il codice interbancario CBILL per pagare attraverso il ' +
        'circuito bancario e gli altri canali di pagamento abilitati.',
      tx,
      top + 30,
      { width: tw },
    );
  let y = top + 58;
  const amountText = `${formatEuroCents(option.amountCents)}`;
  field(doc, 'Destinatario', model.debtor.fullName, tx, y, tw - 120);
  labelValueRight(doc, 'Euro', amountText, MARGIN + CONTENT_W - 12, y);
  y += 26;
  field(doc, 'Ente Creditore', creditor.name, tx, y, tw);
  y += 26;
  field(doc, 'Oggetto del pagamento', model.subject, tx, y, tw);

  const codes: Array<[string, string, number]> = [];
  if (creditor.cbillCode !== undefined) codes.push(['Codice CBILL', creditor.cbillCode, 90]);
  codes.push(['Codice Avviso', groupNoticeNumber(option.noticeNumber), 210]);
  codes.push(['Codice fiscale Ente Creditore', creditor.fiscalCode, 150]);
  drawCodesStrip(doc, codes, top + height - 40);
  return top + height + 12;
}

function drawPostalPart(
  doc: Doc,
  model: PaymentNoticeModel,
  option: NoticeOption,
  account: NoticePostalAccount,
  dataMatrix: string,
  top: number,
): void {
  const { creditor, debtor } = model;
  const height = 214;
  band(doc, top, 'BOLLETTINO POSTALE PA', 'Poste Italiane');
  doc
    .rect(MARGIN, top + 20, CONTENT_W, height - 20)
    .lineWidth(0.8)
    .strokeColor(BLUE)
    .stroke();
  doc
    .font(REGULAR)
    .fontSize(8)
    .fillColor(GREY)
    .text(
      'Bollettino Postale pagabile in tutti gli Uffici Postali e sui canali fisici o digitali ' +
        "abilitati di Poste Italiane e dell'Ente Creditore.",
      MARGIN + 12,
      top + 28,
      { width: CONTENT_W - 24 },
    );

  // Square symbol, size chosen by the encoder (the 256-character payload needs 48 x 48 or so).
  const dm = barcodeMatrix('datamatrix', dataMatrix, '');
  const dmX = MARGIN + 12 + 2 * DATA_MATRIX_MODULE_PT;
  const dmY = top + 54;
  drawMatrix(doc, dm, dmX, dmY, DATA_MATRIX_MODULE_PT);
  const dmSide = dm.width * DATA_MATRIX_MODULE_PT;

  const tx = dmX + dmSide + 2 * DATA_MATRIX_MODULE_PT + 12;
  const tw = MARGIN + CONTENT_W - 12 - tx;
  let y = top + 54;
  field(doc, 'sul C/C n.', account.accountNumber, tx, y, tw - 120);
  labelValueRight(doc, 'Euro', formatEuroCents(option.amountCents), MARGIN + CONTENT_W - 12, y);
  y += 26;
  field(doc, 'Intestato a', account.holderName, tx, y, tw);
  y += 26;
  field(doc, 'Destinatario', debtor.fullName, tx, y, tw);
  y += 26;
  field(doc, 'Oggetto del pagamento', model.subject, tx, y, tw);

  const codesY = top + height - 40;
  const cx = drawCodesStrip(
    doc,
    [
      ['Codice Avviso', groupNoticeNumber(option.noticeNumber), 180],
      ['Tipo', 'P1', 40],
      ['Codice fiscale Ente Creditore', creditor.fiscalCode, 130],
    ],
    codesY,
  );
  if (account.authorisationCode !== undefined) {
    doc
      .font(REGULAR)
      .fontSize(7)
      .fillColor(GREY)
      .text(`Aut. ${account.authorisationCode}`, cx, codesY + 14, {
        width: MARGIN + CONTENT_W - 12 - cx,
        align: 'right',
        lineBreak: false,
      });
  }
}

function drawInstallmentSummary(
  doc: Doc,
  model: PaymentNoticeModel,
  rows: readonly NoticeOption[],
  top: number,
): void {
  const all = model.options;
  const planned = all[0]?.installment?.of ?? all.length;
  const heading =
    planned === all.length
      ? `Puoi pagare in ${all.length} rate`
      : `Restano da pagare ${all.length} rate di ${planned}`;
  sectionTitle(doc, 'QUANTO E QUANDO PAGARE?', MARGIN, top);
  doc
    .font(BOLD)
    .fontSize(14)
    .fillColor(INK)
    .text(heading, MARGIN, top + 16, { width: COL_W });
  const total = all.reduce((sum, o) => sum + o.amountCents, 0);
  doc
    .font(REGULAR)
    .fontSize(9)
    .fillColor(INK)
    .text(`per un totale di ${formatEuroCents(total)} Euro. `, MARGIN, top + 36, { width: COL_W })
    .text(
      'Ogni rata ha il suo codice avviso e la sua pagina in questo avviso: paga ciascuna rata ' +
        'entro la sua scadenza.',
      { width: COL_W },
    );
  doc.font(REGULAR).fontSize(7).fillColor(GREY);
  doc.text(AMOUNT_DISCLAIMER, MARGIN, top + 76, { width: COL_W });
  const whereBottom = drawWhereToPay(doc, top);

  let y =
    Math.max(top + 76 + doc.heightOfString(AMOUNT_DISCLAIMER, { width: COL_W }), whereBottom) + 12;
  band(doc, y, 'ELENCO DELLE RATE', `${all.length} rate`);
  y += 28;
  const cols: Array<[string, number, 'left' | 'right']> = [
    ['Rata', 60, 'left'],
    ['Scadenza', 100, 'left'],
    ['Importo (Euro)', 110, 'right'],
    ['Codice Avviso', CONTENT_W - 24 - 270 - 20, 'left'],
  ];
  const drawRow = (cells: readonly string[], font: string, color: string) => {
    let x = MARGIN + 12;
    cols.forEach(([, w, align], i) => {
      const cellX = i === 3 ? x + 20 : x;
      doc
        .font(font)
        .fontSize(10)
        .fillColor(color)
        .text(cells[i] ?? '', cellX, y, {
          width: w,
          align,
          lineBreak: false,
        });
      x = cellX + w;
    });
    y += 18;
  };
  drawRow(
    cols.map(([title]) => title),
    BOLD,
    GREY,
  );
  rows.forEach((row, i) => {
    if (i % 2 === 0) doc.rect(MARGIN, y - 4, CONTENT_W, 18).fill(LIGHT);
    drawRow(
      [
        `${row.installment?.number ?? ''} di ${planned}`,
        formatItalianDate(row.dueDate),
        formatEuroCents(row.amountCents),
        groupNoticeNumber(row.noticeNumber),
      ],
      REGULAR,
      INK,
    );
  });
}

// ---------------------------------------------------------------------------------------------
// Small drawing helpers

/** The light strip of codes at the foot of a part; returns the x where the strip's columns end. */
function drawCodesStrip(
  doc: Doc,
  codes: ReadonlyArray<readonly [label: string, value: string, widthPt: number]>,
  y: number,
): number {
  doc.rect(MARGIN + 1, y - 6, CONTENT_W - 2, 45).fill(LIGHT);
  let x = MARGIN + 12;
  for (const [label, value, widthPt] of codes) {
    doc.font(REGULAR).fontSize(8).fillColor(GREY).text(label, x, y, { lineBreak: false });
    doc
      .font(BOLD)
      .fontSize(12)
      .fillColor(INK)
      .text(value, x, y + 11, { lineBreak: false });
    x += widthPt;
  }
  return x;
}

function rule(doc: Doc, y: number): void {
  doc
    .moveTo(MARGIN, y)
    .lineTo(MARGIN + CONTENT_W, y)
    .lineWidth(0.6)
    .strokeColor('#C5D0DC')
    .stroke();
}

function sectionTitle(doc: Doc, title: string, x: number, y: number): void {
  doc.font(BOLD).fontSize(9).fillColor(BLUE).text(title, x, y, { lineBreak: false });
}

function band(doc: Doc, y: number, title: string, right: string): void {
  doc.rect(MARGIN, y, CONTENT_W, 20).fill(BLUE);
  doc
    .font(BOLD)
    .fontSize(10)
    .fillColor('#FFFFFF')
    .text(title, MARGIN + 12, y + 6, { lineBreak: false });
  doc.text(right, MARGIN, y + 6, { width: CONTENT_W - 12, align: 'right', lineBreak: false });
}

function field(doc: Doc, label: string, value: string, x: number, y: number, width: number): void {
  doc.font(REGULAR).fontSize(8).fillColor(GREY).text(label, x, y, { width, lineBreak: false });
  doc
    .font(BOLD)
    .fontSize(10)
    .fillColor(INK)
    .text(value, x, y + 10, { width, height: 13, ellipsis: true });
}

function labelValueRight(doc: Doc, label: string, value: string, right: number, y: number): void {
  doc
    .font(REGULAR)
    .fontSize(8)
    .fillColor(GREY)
    .text(label, right - 110, y, { width: 110, align: 'right', lineBreak: false });
  doc
    .font(BOLD)
    .fontSize(16)
    .fillColor(INK)
    .text(value, right - 110, y + 9, { width: 110, align: 'right', lineBreak: false });
}

interface Matrix {
  readonly width: number;
  readonly height: number;
  /** Row-major, 1 = dark module. */
  readonly modules: readonly number[];
}

/** `opts` is BWIPP's option string, e.g. "eclevel=M version=4" (symbol options are untyped). */
function barcodeMatrix(bcid: 'qrcode' | 'datamatrix', text: string, opts: string): Matrix {
  const [symbol] = bwipjs.raw(bcid, text, opts);
  if (symbol === undefined || !('pixs' in symbol)) {
    throw new AppError('internal', `bwip-js returned no 2-D matrix for ${bcid}`);
  }
  return { width: symbol.pixx, height: symbol.pixy, modules: symbol.pixs };
}

/** Draws dark modules as one filled path, merging horizontal runs to keep the PDF small. */
function drawMatrix(doc: Doc, m: Matrix, x: number, y: number, modulePt: number): void {
  for (let row = 0; row < m.height; row++) {
    let col = 0;
    while (col < m.width) {
      if (m.modules[row * m.width + col] !== 1) {
        col++;
        continue;
      }
      const start = col;
      while (col < m.width && m.modules[row * m.width + col] === 1) col++;
      // A hair of overlap between rows avoids white seams when a viewer anti-aliases.
      doc.rect(x + start * modulePt, y + row * modulePt, (col - start) * modulePt, modulePt + 0.02);
    }
  }
  doc.fill('#000000');
}

function collect(doc: Doc): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    doc.on('data', (chunk: Buffer) => chunks.push(chunk));
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
  });
}
