import { AppError } from '../../../src/domain/errors';
import {
  defaultRemittanceInformation,
  draftPosition,
  transfersInForce,
  transfersWithRemittance,
  type PositionRequest,
} from '../../../src/domain/positions/position-request';
import { noticeFor } from '../../../src/domain/positions/notice';
import { draftTopUp } from '../../../src/domain/positions/top-up';
import type { CatalogueService } from '../../../src/domain/positions/types';

const DOMAIN = '80000000001';
const transport: CatalogueService = {
  code: 'SCHOOL_TRANSPORT',
  description: 'Trasporto scolastico',
  taxonomyCode: '0107102SP',
  iban: 'IT60X0542811101000000123456',
  postalIban: 'IT57N0760111100000012345678',
  account: 'SCHOOL_TRANSPORT',
};
const context = { domainId: DOMAIN, kind: 'DEBT' as const, service: transport };

const request = (extra: Partial<PositionRequest> = {}): PositionRequest => ({
  service: 'SCHOOL_TRANSPORT',
  debtor: { type: 'F', fiscalCode: 'rssmra80a01h501u', fullName: '  Rossi   Mario ' },
  description: 'Trasporto scolastico ottobre 2026',
  paymentOptions: [{ amountCents: 3500, dueDate: '2026-10-31' }],
  ...extra,
});

/** The `errors` of the invalid-input error the request gets, or [] when it is accepted. */
function violations(req: PositionRequest): { path: string; message: string }[] {
  try {
    draftPosition(req, context);
    return [];
  } catch (err) {
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe('invalid-input');
    return (err as AppError).details['errors'] as { path: string; message: string }[];
  }
}

describe('draftPosition: defaults from the catalogue', () => {
  test('without transfers, each option gets one transfer of its amount to the service IBANs', () => {
    const draft = draftPosition(
      request({
        paymentOptions: [
          { amountCents: 3500, dueDate: '2026-10-31', installment: 1 },
          { amountCents: 1200, dueDate: '2026-11-30', installment: 2 },
        ],
      }),
      context,
    );
    expect(draft.plan).toBe('INSTALLMENT');
    expect(draft.account).toBe('SCHOOL_TRANSPORT');
    expect(draft.debtor).toEqual({
      type: 'F',
      fiscalCode: 'RSSMRA80A01H501U',
      fullName: 'Rossi Mario',
      email: null,
    });
    expect(draft.options.map((o) => o.transfers)).toEqual([
      [
        {
          index: 1,
          beneficiaryFiscalCode: DOMAIN,
          amountCents: 3500,
          iban: transport.iban,
          postalIban: transport.postalIban,
          stamp: null,
          taxonomyCode: '0107102SP',
          remittanceInformation: null,
        },
      ],
      [expect.objectContaining({ amountCents: 1200, iban: transport.iban })],
    ]);
  });

  test('explicit transfers: own IBAN defaults, another creditor keeps its own, a stamp has none', () => {
    const draft = draftPosition(
      request({
        paymentOptions: [{ amountCents: 10000, dueDate: '2026-10-31' }],
        transfers: [
          { amountCents: 8000 },
          {
            amountCents: 1600,
            beneficiaryFiscalCode: '80000000002',
            iban: 'IT02L1234512345123456789012',
            taxonomyCode: '0102100SA',
          },
          { amountCents: 400, stamp: { documentHash: 'aGFzaA==', type: '01', province: 'LU' } },
        ],
      }),
      context,
    );
    const [own, other, stamp] = draft.options[0]?.transfers ?? [];
    expect(own).toMatchObject({ index: 1, iban: transport.iban, postalIban: transport.postalIban });
    expect(other).toMatchObject({
      index: 2,
      beneficiaryFiscalCode: '80000000002',
      iban: 'IT02L1234512345123456789012',
      postalIban: null,
      taxonomyCode: '0102100SA',
    });
    expect(stamp).toMatchObject({
      index: 3,
      iban: null,
      postalIban: null,
      stamp: { province: 'LU' },
      taxonomyCode: '0107102SP',
    });
  });
});

describe('draftPosition: transfer sums and rules', () => {
  test.each<[string, Partial<PositionRequest>, { path: string; message: RegExp }[]]>([
    [
      'sum matches',
      {
        transfers: [
          { amountCents: 3000 },
          { amountCents: 500, iban: 'IT02L1234512345123456789012' },
        ],
      },
      [],
    ],
    [
      'sum too low',
      { transfers: [{ amountCents: 3000 }] },
      [
        {
          path: 'body.paymentOptions.0.amountCents',
          message: /is 3500 but the transfers add up to 3000/,
        },
      ],
    ],
    [
      'one split for options of different amounts',
      {
        paymentOptions: [
          { amountCents: 3500, dueDate: '2026-10-31', installment: 1 },
          { amountCents: 3000, dueDate: '2026-11-30', installment: 2 },
        ],
        transfers: [{ amountCents: 3500 }],
      },
      [
        {
          path: 'body.paymentOptions.1.amountCents',
          message: /is 3000 but the transfers add up to 3500/,
        },
      ],
    ],
    [
      'six transfers',
      {
        paymentOptions: [{ amountCents: 600, dueDate: '2026-10-31' }],
        transfers: Array.from({ length: 6 }, () => ({ amountCents: 100 })),
      },
      [{ path: 'body.transfers', message: /1 to 5 transfers/ }],
    ],
    [
      'first transfer to another creditor',
      {
        transfers: [
          {
            amountCents: 3500,
            beneficiaryFiscalCode: '80000000002',
            iban: 'IT02L1234512345123456789012',
          },
        ],
      },
      [
        {
          path: 'body.transfers.0.beneficiaryFiscalCode',
          message: /first transfer goes to the position's own domain/,
        },
      ],
    ],
    [
      'another creditor without IBAN',
      {
        transfers: [
          { amountCents: 3000 },
          { amountCents: 500, beneficiaryFiscalCode: '80000000002' },
        ],
      },
      [{ path: 'body.transfers.1.iban', message: /required for a transfer to another creditor/ }],
    ],
    [
      'stamp with an IBAN',
      {
        transfers: [
          { amountCents: 3300 },
          {
            amountCents: 200,
            iban: 'IT02L1234512345123456789012',
            stamp: { documentHash: 'aGFzaA==', type: '01', province: 'LU' },
          },
        ],
      },
      [{ path: 'body.transfers.1', message: /has no IBAN/ }],
    ],
    [
      'transfers with an amount schedule',
      {
        paymentOptions: [
          {
            amountCents: 3500,
            dueDate: '2026-10-31',
            amountSchedule: [{ until: '2026-10-05', amountCents: 2450 }],
          },
        ],
        transfers: [{ amountCents: 3500 }],
      },
      [{ path: 'body.transfers', message: /cannot go with an amountSchedule/ }],
    ],
  ])('%s', (_name, extra, expected) => {
    const found = violations(request(extra));
    expect(found).toEqual(
      expected.map((e) => ({ path: e.path, message: expect.stringMatching(e.message) })),
    );
  });
});

describe('draftPosition: options, dates, debtor', () => {
  test.each<[string, Partial<PositionRequest>, { path: string; message: RegExp }[]]>([
    [
      'not a day',
      { paymentOptions: [{ amountCents: 100, dueDate: '2026-02-30' }] },
      [{ path: 'body.paymentOptions.0.dueDate', message: /not a day/ }],
    ],
    [
      'validFrom after due date',
      { paymentOptions: [{ amountCents: 100, dueDate: '2026-02-10', validFrom: '2026-02-11' }] },
      [{ path: 'body.paymentOptions.0.validFrom', message: /after the due date/ }],
    ],
    [
      'schedule not increasing',
      {
        paymentOptions: [
          {
            amountCents: 100,
            dueDate: '2026-05-01',
            amountSchedule: [
              { until: '2026-03-10', amountCents: 50 },
              { until: '2026-03-10', amountCents: 70 },
            ],
          },
        ],
      },
      [
        {
          path: 'body.paymentOptions.0.amountSchedule.1.until',
          message: /must come after 2026-03-10/,
        },
      ],
    ],
    [
      'schedule reaching the due date',
      {
        paymentOptions: [
          {
            amountCents: 100,
            dueDate: '2026-05-01',
            amountSchedule: [{ until: '2026-05-01', amountCents: 50 }],
          },
        ],
      },
      [{ path: 'body.paymentOptions.0.amountSchedule.0.until', message: /before the due date/ }],
    ],
    [
      'instalments falling due out of order',
      {
        paymentOptions: [
          { amountCents: 100, dueDate: '2026-06-01', installment: 1 },
          { amountCents: 100, dueDate: '2026-05-01', installment: 2 },
        ],
      },
      [
        {
          path: 'body.paymentOptions',
          message: /instalment 2 falls due \(2026-05-01\) before instalment 1/,
        },
      ],
    ],
    [
      'ambiguous options',
      {
        paymentOptions: [
          { amountCents: 100, dueDate: '2026-06-01' },
          { amountCents: 200, dueDate: '2026-06-01' },
        ],
      },
      [{ path: 'body.paymentOptions', message: /plan ALTERNATIVES/ }],
    ],
    [
      'legal person with a personal code',
      { debtor: { type: 'G', fiscalCode: 'RSSMRA80A01H501U', fullName: 'Ditta' } },
      [{ path: 'body.debtor.fiscalCode', message: /11-digit/ }],
    ],
    [
      'person with a malformed code',
      { debtor: { type: 'F', fiscalCode: 'RSSMRA80', fullName: 'Rossi Mario' } },
      [{ path: 'body.debtor.fiscalCode', message: /16-character/ }],
    ],
    [
      'anonymous payer accepted',
      { debtor: { type: 'F', fiscalCode: 'anonimo', fullName: 'Anonimo' } },
      [],
    ],
  ])('%s', (_name, extra, expected) => {
    const found = violations(request(extra));
    expect(found).toEqual(
      expected.map((e) => ({ path: e.path, message: expect.stringMatching(e.message) })),
    );
  });

  test('every broken rule is reported at once', () => {
    const found = violations(
      request({
        debtor: { type: 'G', fiscalCode: 'X', fullName: 'A' },
        paymentOptions: [{ amountCents: 100, dueDate: '2026-02-30' }],
        transfers: [{ amountCents: 50 }],
      }),
    );
    expect(found.map((v) => v.path)).toEqual([
      'body.debtor.fiscalCode',
      'body.paymentOptions.0.dueDate',
      'body.paymentOptions.0.amountCents',
    ]);
  });
});

describe('causale and transfers in force', () => {
  test.each([
    ['02000000000000142', 3500, 'Trasporto', '/RFB/02000000000000142/35.00/TXT/Trasporto'],
    ['02000000000000142', null, 'Multa', '/RFB/02000000000000142/TXT/Multa'],
    ['02000000000000142', 5, 'x'.repeat(200), `/RFB/02000000000000142/0.05/TXT/${'x'.repeat(108)}`],
  ])('defaultRemittanceInformation(%s, %s, …)', (iuv, cents, text, expected) => {
    const causale = defaultRemittanceInformation(iuv, cents, text);
    expect(causale).toBe(expected);
    expect(causale.length).toBeLessThanOrEqual(140);
  });

  test('the ERP causale wins; options with a schedule leave the amount out', () => {
    const draft = draftPosition(
      request({
        paymentOptions: [
          {
            amountCents: 4200,
            dueDate: '2026-05-01',
            amountSchedule: [{ until: '2026-03-07', amountCents: 2940 }],
          },
        ],
      }),
      context,
    );
    const option = draft.options[0];
    if (option === undefined) throw new Error('no option');
    expect(
      transfersWithRemittance(option, '02000000000000142', 'Verbale 123')[0]?.remittanceInformation,
    ).toBe('/RFB/02000000000000142/TXT/Verbale 123');
    const custom = {
      ...option,
      transfers: option.transfers.map((t) => ({ ...t, remittanceInformation: 'Mia causale' })),
    };
    expect(
      transfersWithRemittance(custom, '02000000000000142', 'x')[0]?.remittanceInformation,
    ).toBe('Mia causale');
  });

  test.each([
    ['one transfer follows the amount in force', [{ amountCents: 4200 }], 2940, [2940]],
    [
      'several transfers keep their split',
      [{ amountCents: 3000 }, { amountCents: 1200 }],
      4200,
      [3000, 1200],
    ],
  ])('%s', (_name, transfers, inForce, expected) => {
    expect(transfersInForce(transfers, inForce).map((t) => t.amountCents)).toEqual(expected);
  });

  test.each([
    [
      { auxDigit: 3 as const, segregationCode: '02' },
      '0000000000001',
      '02000000000000184',
      '302000000000000184',
    ],
    [
      { auxDigit: 0 as const, applicationCode: '01' },
      '0000000000001',
      '000000000000141',
      '001000000000000141',
    ],
  ])('noticeFor(%j, %s)', (scheme, base, iuv, noticeNumber) => {
    expect(noticeFor(scheme, base)).toEqual({ iuv, noticeNumber });
  });
});

describe('draftTopUp', () => {
  const canteen: CatalogueService = {
    ...transport,
    code: 'CANTEEN',
    account: 'CANTEEN',
    description: 'Refezione scolastica',
  };
  const topUpContext = {
    domainId: DOMAIN,
    limits: { topUpMinCents: 500, topUpMaxCents: 50000 },
    service: canteen,
    today: '2026-03-02',
  };
  const payer = { type: 'F' as const, fiscalCode: 'RSSMRA80A01H501U', fullName: 'Rossi Mario' };

  test.each([
    [499, 'amount-invalid'],
    [500, null],
    [50000, null],
    [50001, 'amount-invalid'],
  ])('%d cents → %s', (amountCents, code) => {
    const run = () => draftTopUp({ account: 'CANTEEN', amountCents, payer }, topUpContext);
    if (code === null) expect(run).not.toThrow();
    else expect(run).toThrow(expect.objectContaining({ code }));
  });

  test('a TOP_UP position with one SINGLE option due in 30 days, no personal data in the causale', () => {
    const draft = draftTopUp({ account: 'CANTEEN', amountCents: 2000, payer }, topUpContext);
    expect(draft).toMatchObject({
      kind: 'TOP_UP',
      plan: 'SINGLE',
      account: 'CANTEEN',
      description: 'Ricarica Refezione scolastica',
      options: [
        {
          plan: 'SINGLE',
          amountCents: 2000,
          dueDate: '2026-04-01',
          transfers: [{ amountCents: 2000, taxonomyCode: '0107102SP' }],
        },
      ],
    });
  });
});
