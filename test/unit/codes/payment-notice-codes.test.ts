import fc from 'fast-check';
import { AppError } from '../../../src/domain/errors';
import {
  makeNoticeNumber,
  makePaymentNoticeQrCode,
  makePosteDataMatrix,
  parsePaymentNoticeQrCode,
  parsePosteDataMatrix,
  POSTE_DATA_MATRIX_LENGTH,
} from '../../../src/domain/codes';

const codeOf = (fn: () => unknown): string | undefined => {
  try {
    fn();
    return undefined;
  } catch (err) {
    return err instanceof AppError ? err.code : 'not an AppError';
  }
};

const digits = (length: number): fc.Arbitrary<string> =>
  fc.stringMatching(new RegExp(`^\\d{${length}}$`));

const aNotice = fc
  .tuple(fc.boolean(), digits(2), digits(13))
  .map(([aux3, code, base]) =>
    makeNoticeNumber(
      aux3
        ? { auxDigit: 3, segregationCode: code, base }
        : { auxDigit: 0, applicationCode: code, base },
    ),
  );

describe('payment notice QR code', () => {
  test.each([
    ['302032002700000251', '81005750021', 1230, 'PAGOPA|002|302032002700000251|81005750021|1230'],
    ['001721265093769322', '00085240950', 5, 'PAGOPA|002|001721265093769322|00085240950|05'],
    ['348172725623804858', '15376371009', 0, 'PAGOPA|002|348172725623804858|15376371009|00'],
    [
      '123456789012345678',
      '12345678901',
      1234567801,
      'PAGOPA|002|123456789012345678|12345678901|1234567801',
    ],
  ])('%s, %s, %i cents makes %s', (noticeNumber, creditorFiscalCode, amountCents, qr) => {
    expect(makePaymentNoticeQrCode({ noticeNumber, creditorFiscalCode, amountCents })).toBe(qr);
  });

  // Decoder vectors of pagopa/io-app ts/utils/__tests__/payment.test.ts.
  test.each([
    ['PAGOPA|002|322201151398574181|81005750021|01', 1],
    ['PAGOPA|002|322201151398574181|81005750021|1', 1],
    ['PAGOPA|002|322201151398574181|81005750021|00000000001', 1],
    ['PAGOPA|002|322201151398574181|81005750021|0', 0],
    ['PAGOPA|002|322201151398574181|81005750021|99999999999\n', 99_999_999_999],
  ])('%j is read as %i cents', (qr, cents) => {
    const parsed = parsePaymentNoticeQrCode(qr);
    expect(parsed).toMatchObject({
      noticeNumber: '322201151398574181',
      creditorFiscalCode: '81005750021',
      amountCents: cents,
      notice: { auxDigit: 3, segregationCode: '22', base: '2011513985741', checkDigitsValid: true },
    });
  });

  test('a QR code whose notice has wrong check digits is read, and says so', () => {
    const parsed = parsePaymentNoticeQrCode('PAGOPA|002|311111111112222222|81005750021|100');
    expect(parsed.notice.checkDigitsValid).toBe(false);
  });

  test.each([
    'PAGOPA|003|322201151398574181|81005750021|01',
    'PAGOPA|002|322201151398574181|810057500211|01',
    'PAGOPA|002|322201151398574181|81005750021|01A',
    'PAPAGO|002|322201151398574181|81005750021|01',
    'PAGOPA|002|32220115139857418|81005750021|01',
    'PAGOPA|002|922201151398574181|81005750021|01',
    'PAGOPA|002|322201151398574181|81005750021|',
    'PAGOPA|002|322201151398574181|81005750021|123456789012',
    'PAGOPA|002|322201151398574181|81005750021|01|',
    'PAGOPA|002|322201151398574181|81005750021',
    '',
  ])('%j is refused with payment-code-invalid', (qr) => {
    expect(codeOf(() => parsePaymentNoticeQrCode(qr))).toBe('payment-code-invalid');
  });

  test.each([
    [
      { noticeNumber: '311111111112222222', creditorFiscalCode: '81005750021', amountCents: 1 },
      'notice-number-invalid',
    ],
    [
      { noticeNumber: '302032002700000251', creditorFiscalCode: '8100575002', amountCents: 1 },
      'invalid-input',
    ],
    [
      { noticeNumber: '302032002700000251', creditorFiscalCode: '81005750021', amountCents: -1 },
      'amount-invalid',
    ],
    [
      { noticeNumber: '302032002700000251', creditorFiscalCode: '81005750021', amountCents: 1.5 },
      'amount-invalid',
    ],
    [
      {
        noticeNumber: '302032002700000251',
        creditorFiscalCode: '81005750021',
        amountCents: 10_000_000_000,
      },
      'amount-invalid',
    ],
  ])('making a QR code of %j fails with %s', (input, code) => {
    expect(codeOf(() => makePaymentNoticeQrCode(input))).toBe(code);
  });

  test('make -> parse round-trips', () => {
    fc.assert(
      fc.property(aNotice, digits(11), fc.integer({ min: 0, max: 9_999_999_999 }), (n, cf, c) => {
        const qr = makePaymentNoticeQrCode({
          noticeNumber: n,
          creditorFiscalCode: cf,
          amountCents: c,
        });
        expect(qr).toMatch(/^PAGOPA\|002\|\d{18}\|\d{11}\|\d{2,10}$/);
        expect(parsePaymentNoticeQrCode(qr)).toMatchObject({
          noticeNumber: n,
          creditorFiscalCode: cf,
          amountCents: c,
          notice: { noticeNumber: n, checkDigitsValid: true },
        });
      }),
      { numRuns: 1_000 },
    );
  });
});

describe('Poste Data Matrix', () => {
  // pagopa/io-app ts/utils/__tests__/payment.test.ts: a 255-character string (the name is padded to
  // 39, not 40), which pagoPA's decoder reads up to the creditor fiscal code only.
  const ioAppExample =
    'codfase=NBPA;183007157000000000321200001630209310000000000138961P100085240950BSCMTT83A12L719RName Surname                           test                                                                                                                      A';

  const exampleFields = {
    noticeNumber: '300715700000000032',
    postalAccount: '000016302093',
    amountCents: 1,
    creditorFiscalCode: '00085240950',
    debtorFiscalCode: 'BSCMTT83A12L719R',
    debtorName: 'Name Surname',
    subject: 'test',
  };

  test("io-app's example is read: the fields that identify the payment", () => {
    expect(ioAppExample).toHaveLength(255);
    const parsed = parsePosteDataMatrix(ioAppExample);
    expect(parsed).toEqual({
      noticeNumber: '300715700000000032',
      postalAccount: '000016302093',
      amountCents: 1,
      creditorFiscalCode: '00085240950',
      notice: expect.objectContaining({ auxDigit: 3, checkDigitsValid: true }),
    });
  });

  test("the same fields make the generator's 256-character layout, which reads back in full", () => {
    const made = makePosteDataMatrix({ ...exampleFields, postalAccount: '16302093' });
    expect(made).toHaveLength(POSTE_DATA_MATRIX_LENGTH);
    // The generator's layout differs from io-app's string only by the name's 40th space.
    expect(made).toBe(ioAppExample.replace('Name Surname', 'Name Surname '));
    expect(parsePosteDataMatrix(made)).toEqual({
      ...exampleFields,
      notice: expect.objectContaining({ noticeNumber: '300715700000000032' }),
    });
  });

  test('name and subject become plain ASCII and are cut to their width', () => {
    const made = makePosteDataMatrix({
      ...exampleFields,
      debtorName: 'Niccolò Dell’Àcqua '.repeat(4),
      subject: 'Mensa scolastica – ricarica '.repeat(6),
    });
    expect(made).toHaveLength(POSTE_DATA_MATRIX_LENGTH);
    expect(made).toMatch(/^[\x20-\x7e]+$/);
    const parsed = parsePosteDataMatrix(made);
    expect(parsed.debtorName).toBe('Niccolo Dell Acqua Niccolo Dell Acqua Ni');
    expect(parsed.subject).toHaveLength(110);
  });

  const valid = makePosteDataMatrix({ ...exampleFields, postalAccount: '16302093' });
  const replaceAt = (text: string, at: number, by: string): string =>
    text.slice(0, at) + by + text.slice(at + by.length);

  test.each([
    ['another prefix', valid.replace('codfase=NBPA;', 'codfase=NBPX;')],
    ['a broken notice marker', replaceAt(valid, 13, '17')],
    ['a broken account marker', replaceAt(valid, 33, '13')],
    ['a broken amount marker', replaceAt(valid, 47, '11')],
    ['a letter in the amount', replaceAt(valid, 55, 'O')],
    ['another document type', replaceAt(valid, 60, '123')],
    ['no 1P1', replaceAt(valid, 63, '1P2')],
    ['a short creditor fiscal code', replaceAt(valid, 66, 'X')],
    ['aux digit 7', replaceAt(valid, 15, '7')],
    ['a missing final A', valid.slice(0, -1)],
    ['one character too many', `${valid.slice(0, -1)} A`],
    ['only the codeline', valid.slice(0, 77)],
    ['a QR code', 'PAGOPA|002|322201151398574181|81005750021|01'],
    ['nothing', ''],
  ])('%s is refused with payment-code-invalid', (_why, text) => {
    expect(codeOf(() => parsePosteDataMatrix(text))).toBe('payment-code-invalid');
  });

  test.each([
    [{ noticeNumber: '311111111112222222' }, 'notice-number-invalid'],
    [{ postalAccount: '1234567890123' }, 'invalid-input'],
    [{ postalAccount: '' }, 'invalid-input'],
    [{ creditorFiscalCode: 'ABC' }, 'invalid-input'],
    [{ debtorFiscalCode: 'BSC MTT' }, 'invalid-input'],
    [{ amountCents: 10_000_000_000 }, 'amount-invalid'],
  ])('making a Data Matrix with %j fails with %s', (change, code) => {
    expect(codeOf(() => makePosteDataMatrix({ ...exampleFields, ...change }))).toBe(code);
  });

  test('make -> parse round-trips', () => {
    const text = (width: number): fc.Arbitrary<string> =>
      fc.stringMatching(
        new RegExp(`^[A-Za-z0-9.,'/-]([A-Za-z0-9 .,'/-]{0,${width - 2}}[A-Za-z0-9.,'/-])?$`),
      );
    fc.assert(
      fc.property(
        aNotice,
        fc.stringMatching(/^\d{1,12}$/),
        fc.integer({ min: 0, max: 9_999_999_999 }),
        digits(11),
        fc.stringMatching(/^[A-Z0-9]{11,16}$/),
        text(40),
        text(110),
        (
          noticeNumber,
          postalAccount,
          amountCents,
          creditorFiscalCode,
          debtorFiscalCode,
          debtorName,
          subject,
        ) => {
          const input = {
            noticeNumber,
            postalAccount,
            amountCents,
            creditorFiscalCode,
            debtorFiscalCode,
            debtorName,
            subject,
          };
          const made = makePosteDataMatrix(input);
          expect(made).toHaveLength(POSTE_DATA_MATRIX_LENGTH);
          expect(parsePosteDataMatrix(made)).toEqual({
            ...input,
            postalAccount: postalAccount.padStart(12, '0'),
            notice: expect.objectContaining({ noticeNumber, checkDigitsValid: true }),
          });
        },
      ),
      { numRuns: 1_000 },
    );
  });
});
