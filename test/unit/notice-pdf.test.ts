/**
 * The payment notice PDF is read back as a citizen's app or a PSP would: its text is extracted and
 * its codes are decoded from a raster of the page (jsQR for the QR code, ZXing for Poste's Data
 * Matrix). Expected code strings are written out here from PAGOPA.md §8, not built with the code
 * under test, so a wrong builder or a wrong drawing fails.
 */
import {
  BinaryBitmap,
  DataMatrixReader,
  DecodeHintType,
  HybridBinarizer,
  RGBLuminanceSource,
} from '@zxing/library';
import jsQR from 'jsqr';
import {
  formatEuroCents,
  formatItalianDate,
  groupNoticeNumber,
  renderPaymentNotice,
  type NoticeCreditor,
  type PaymentNoticeModel,
} from '../../src/adapters/notice-pdf/render-notice';
import { AppError } from '../../src/domain/errors';
import { crop, greyToRgba, readPdfPages, type PdfPage } from '../helpers/pdf-pages';

const creditorWithoutPostalAccount: NoticeCreditor = {
  fiscalCode: '00123450789',
  name: 'Comune di Roccaverde',
  sector: 'Settore Tributi',
  cbillCode: 'A1B2C',
};
const creditor: NoticeCreditor = {
  ...creditorWithoutPostalAccount,
  postalAccount: {
    accountNumber: '1012345678',
    holderName: 'Comune di Roccaverde - Tesoreria',
    authorisationCode: 'PPT/0042/2026',
  },
};
const debtor = {
  fiscalCode: 'RSSMRA80A01H501U',
  fullName: 'Mario Rossi',
  address: 'Via Garibaldi 12\n00100 Roma (RM)',
};

/** Where the codes are drawn, as fractions of the page: loose boxes, to keep decoding fast. */
const QR_AREA = { x: 0, y: 0.35, width: 0.45, height: 0.4 };
const DATA_MATRIX_AREA = { x: 0, y: 0.6, width: 0.4, height: 0.4 };

function area(page: PdfPage, box: typeof QR_AREA): PdfPage {
  return crop(page, {
    x: box.x * page.width,
    y: box.y * page.height,
    width: box.width * page.width,
    height: box.height * page.height,
  });
}

function decodeQr(page: PdfPage): { data: string; version: number } | undefined {
  const part = area(page, QR_AREA);
  const found = jsQR(greyToRgba(part), part.width, part.height);
  return found === null ? undefined : { data: found.data, version: found.version };
}

function decodeDataMatrix(page: PdfPage): string | undefined {
  const part = area(page, DATA_MATRIX_AREA);
  const bitmap = new BinaryBitmap(
    new HybridBinarizer(new RGBLuminanceSource(part.grey, part.width, part.height)),
  );
  try {
    return new DataMatrixReader()
      .decode(bitmap, new Map([[DecodeHintType.TRY_HARDER, true]]))
      .getText();
  } catch {
    return undefined;
  }
}

/** Spaces and line breaks as extracted vary with the layout; compare words in order instead. */
const words = (text: string): string => text.replace(/\s+/g, ' ');

function expectedPosteDataMatrix(nav: string, cents: number, subject: string): string {
  return (
    'codfase=NBPA;' +
    `18${nav}` +
    '12001012345678' +
    `10${String(cents).padStart(10, '0')}` +
    '3896' +
    '1P1' +
    '00123450789' +
    'RSSMRA80A01H501U' +
    'Mario Rossi'.padEnd(40, ' ') +
    subject.padEnd(110, ' ') +
    ' '.repeat(12) +
    'A'
  );
}

describe('formatting', () => {
  test.each([
    [0, '0,00'],
    [1, '0,01'],
    [1230, '12,30'],
    [99_999, '999,99'],
    [100_000, '1.000,00'],
    [123_456_789, '1.234.567,89'],
    [9_999_999_999, '99.999.999,99'],
  ])('%i cents -> %s', (cents, text) => {
    expect(formatEuroCents(cents)).toBe(text);
  });

  test.each([12.3, -1, Number.NaN, 2 ** 53])('%p is refused as an amount', (value) => {
    expect(() => formatEuroCents(value)).toThrow(
      expect.objectContaining({ code: 'amount-invalid' }),
    );
  });

  test('dates and notice numbers are printed the Italian way', () => {
    expect(formatItalianDate('2026-03-01')).toBe('01/03/2026');
    expect(() => formatItalianDate('2026-02-30')).toThrow(AppError);
    expect(groupNoticeNumber('302032002700000251')).toBe('3020 3200 2700 0002 51');
  });
});

describe('renderPaymentNotice', () => {
  test('a single payment is one page with every field, the QR code and the Poste Data Matrix', async () => {
    const subject = 'Servizio mensa scolastica - secondo quadrimestre';
    const pdf = await renderPaymentNotice({
      creditor,
      debtor,
      subject,
      plan: 'SINGLE',
      options: [{ noticeNumber: '302032002700000251', amountCents: 1230, dueDate: '2026-03-31' }],
    });
    expect(pdf.subarray(0, 5).toString('latin1')).toBe('%PDF-');

    const pages = readPdfPages(pdf);
    expect(pages).toHaveLength(1);
    const [page] = pages as [PdfPage];
    const text = words(page.text);
    for (const expected of [
      'AVVISO DI PAGAMENTO',
      subject,
      'Comune di Roccaverde',
      'Settore Tributi',
      'DESTINATARIO AVVISO',
      'Cod. Fiscale RSSMRA80A01H501U',
      'Mario Rossi',
      'Via Garibaldi 12 00100 Roma (RM)',
      '12,30 Euro entro il 31/03/2026',
      'RATA UNICA entro il 31/03/2026',
      'Codice CBILL A1B2C',
      'Codice Avviso 3020 3200 2700 0002 51',
      'Codice fiscale Ente Creditore 00123450789',
      'BOLLETTINO POSTALE PA',
      'sul C/C n. 1012345678',
      'Intestato a Comune di Roccaverde - Tesoreria',
      'Aut. PPT/0042/2026',
    ]) {
      expect(text).toContain(expected);
    }

    expect(decodeQr(page)).toEqual({
      data: 'PAGOPA|002|302032002700000251|00123450789|1230',
      version: 4,
    });
    expect(decodeDataMatrix(page)).toBe(
      expectedPosteDataMatrix('302032002700000251', 1230, subject),
    );
  });

  test('without a postal account or CBILL code those parts are left out', async () => {
    const pdf = await renderPaymentNotice({
      creditor: { fiscalCode: '00123450789', name: 'Comune di Roccaverde' },
      debtor: { fiscalCode: '01234567890', fullName: 'Rossi Costruzioni S.r.l.' },
      subject: 'Canone occupazione suolo pubblico',
      plan: 'SINGLE',
      options: [{ noticeNumber: '001721265093769322', amountCents: 5, dueDate: '2026-12-31' }],
    });
    const [page] = readPdfPages(pdf) as [PdfPage];
    const text = words(page.text);
    expect(text).toContain('0,05 Euro entro il 31/12/2026');
    expect(text).toContain('Codice Avviso 0017 2126 5093 7693 22');
    expect(text).not.toContain('BOLLETTINO POSTALE PA');
    expect(text).not.toContain('CBILL A');
    // 5 cents is written with the 2 digits the spec asks for.
    expect(decodeQr(page)?.data).toBe('PAGOPA|002|001721265093769322|00123450789|05');
    expect(decodeDataMatrix(page)).toBeUndefined();
  });

  test('instalments: a list of all of them, then one page per instalment with its own QR code', async () => {
    const instalments = [
      ['301000000026010123', 10_000, '2026-04-16'],
      ['301000000026010224', 10_000, '2026-07-16'],
      ['301000000026010325', 8_733, '2026-12-16'],
    ] as const;
    const model: PaymentNoticeModel = {
      creditor,
      debtor,
      subject: 'TARI 2026',
      plan: 'INSTALLMENTS',
      // Given out of order: pages follow the instalment numbers.
      options: [2, 0, 1].map((i) => {
        const [noticeNumber, amountCents, dueDate] = instalments[i] as (typeof instalments)[0];
        return { noticeNumber, amountCents, dueDate, installment: { number: i + 1, of: 3 } };
      }),
    };
    const pages = readPdfPages(await renderPaymentNotice(model));
    expect(pages).toHaveLength(4);

    const [summary, ...perInstalment] = pages as [PdfPage, ...PdfPage[]];
    const summaryText = words(summary.text);
    expect(summaryText).toContain('Puoi pagare in 3 rate');
    expect(summaryText).toContain('per un totale di 287,33 Euro');
    expect(summaryText).toContain('1 di 3 16/04/2026 100,00 3010 0000 0026 0101 23');
    expect(summaryText).toContain('2 di 3 16/07/2026 100,00 3010 0000 0026 0102 24');
    expect(summaryText).toContain('3 di 3 16/12/2026 87,33 3010 0000 0026 0103 25');
    expect(decodeQr(summary)).toBeUndefined();

    perInstalment.forEach((page, i) => {
      const [nav, cents, due] = instalments[i] as (typeof instalments)[0];
      const text = words(page.text);
      expect(text).toContain(`RATA ${i + 1} DI 3 entro il ${formatItalianDate(due)}`);
      expect(text).toContain(`${formatEuroCents(cents)} Euro entro il ${formatItalianDate(due)}`);
      expect(text).toContain(`Codice Avviso ${groupNoticeNumber(nav)}`);
      expect(decodeQr(page)?.data).toBe(`PAGOPA|002|${nav}|00123450789|${cents}`);
      expect(decodeDataMatrix(page)).toBe(expectedPosteDataMatrix(nav, cents, 'TARI 2026'));
    });
  });

  test('alternatives (road fine): one page per amount, each saying when it applies', async () => {
    const pdf = await renderPaymentNotice({
      creditor: creditorWithoutPostalAccount,
      debtor,
      subject: 'Verbale n. 123/2026 - art. 7 Codice della Strada',
      plan: 'ALTERNATIVES',
      options: [
        { noticeNumber: '348172725623804858', amountCents: 4_200, dueDate: '2026-03-06' },
        { noticeNumber: '300715700000000032', amountCents: 2_940, dueDate: '2026-01-10' },
      ],
    });
    const pages = readPdfPages(pdf);
    expect(pages).toHaveLength(2);
    const [reduced, full] = pages as [PdfPage, PdfPage];

    const reducedText = words(reduced.text);
    expect(reducedText).toContain('29,40 Euro entro il 10/01/2026');
    expect(reducedText).toContain('Questo importo vale se paghi entro il 10/01/2026.');
    expect(reducedText).toContain('42,00 Euro se paghi dopo il 10/01/2026 ed entro il 06/03/2026');
    expect(reducedText).toContain('Codice Avviso 3007 1570 0000 0000 32');
    expect(decodeQr(reduced)?.data).toBe('PAGOPA|002|300715700000000032|00123450789|2940');

    const fullText = words(full.text);
    expect(fullText).toContain('42,00 Euro entro il 06/03/2026');
    expect(fullText).toContain(
      'Questo importo vale se paghi dopo il 10/01/2026 ed entro il 06/03/2026.',
    );
    expect(fullText).toContain('Codice Avviso 3481 7272 5623 8048 58');
    expect(decodeQr(full)?.data).toBe('PAGOPA|002|348172725623804858|00123450789|4200');
  });

  const one = { noticeNumber: '302032002700000251', amountCents: 1230, dueDate: '2026-03-31' };
  const base: PaymentNoticeModel = {
    creditor,
    debtor,
    subject: 'x',
    plan: 'SINGLE',
    options: [one],
  };
  test.each<[string, PaymentNoticeModel, string]>([
    [
      'a 17-digit notice number',
      { ...base, options: [{ ...one, noticeNumber: '30203200270000025' }] },
      'notice-number-invalid',
    ],
    [
      'wrong check digits',
      { ...base, options: [{ ...one, noticeNumber: '302032002700000252' }] },
      'notice-number-invalid',
    ],
    [
      'a fractional amount',
      { ...base, options: [{ ...one, amountCents: 12.3 }] },
      'amount-invalid',
    ],
    ['a zero amount', { ...base, options: [{ ...one, amountCents: 0 }] }, 'amount-invalid'],
    [
      'an impossible date',
      { ...base, options: [{ ...one, dueDate: '2026-02-30' }] },
      'invalid-input',
    ],
    [
      'a 10-digit creditor fiscal code',
      { ...base, creditor: { ...creditor, fiscalCode: '0012345078' } },
      'invalid-input',
    ],
    ['SINGLE with two options', { ...base, options: [one, one] }, 'invalid-input'],
    [
      'INSTALLMENTS numbered 1 and 1',
      {
        ...base,
        plan: 'INSTALLMENTS',
        options: [
          { ...one, installment: { number: 1, of: 2 } },
          { ...one, noticeNumber: '300715700000000032', installment: { number: 1, of: 2 } },
        ],
      },
      'invalid-input',
    ],
    [
      'ALTERNATIVES with one due date',
      { ...base, plan: 'ALTERNATIVES', options: [one, { ...one, amountCents: 1 }] },
      'invalid-input',
    ],
  ])('refuses %s', async (_, model, code) => {
    await expect(renderPaymentNotice(model)).rejects.toMatchObject({ name: 'AppError', code });
  });
});
