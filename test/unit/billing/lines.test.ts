import {
  billingDueDate,
  decideBill,
  defaultBillingDescription,
  type BillingCard,
} from '../../../src/domain/billing/bill';
import { BILLING_LINES_MAX, linesFromCsv, linesFromItems } from '../../../src/domain/billing/lines';
import { prepareRun } from '../../../src/domain/billing/run';
import { makeCardCode } from '../../../src/domain/codes/card-code';

const card1 = makeCardCode('5000000001');
const card2 = makeCardCode('5000000002');
const mistyped = `${card1.slice(0, -1)}${(Number(card1.slice(-1)) + 1) % 10}`;

const transport = {
  code: 'SCHOOL_TRANSPORT',
  description: 'Trasporto scolastico',
  taxonomyCode: '0107102SP',
  iban: 'IT60X0542811101000000123456',
  account: 'SCHOOL_TRANSPORT' as const,
};
const domain = {
  fiscalCode: '80000000001',
  cardCodeAlgorithm: 'mod93' as const,
  services: [
    transport,
    {
      code: 'ROAD_FINE',
      description: 'Sanzioni',
      taxonomyCode: '0102100SA',
      iban: 'IT60X0542811101000000123456',
    },
  ],
};

describe('linesFromCsv', () => {
  test('reads every line; a good line has no problem, a bad one says what to fix', () => {
    const csv = [
      'cardCode,amountCents,description',
      `${card1},3500,Trasporto ottobre`,
      `${mistyped},3500,x`,
      `${card2},12.50,x`,
      `${card2},0,x`,
      `,100,x`,
      `${card2},100,"${'d'.repeat(141)}"`,
      `${card2},100`,
      `${card1},100,twice`,
    ].join('\r\n');
    const lines = linesFromCsv(csv, 'mod93');
    expect(lines.map((l) => [l.lineNo, l.problem])).toEqual([
      [2, null],
      [3, expect.stringMatching(/mistyped: its last 2 digits do not match/)],
      [4, expect.stringMatching(/looks like euros: write whole cents \(1250 for 12.50 €\)/)],
      [5, 'amountCents 0 is outside 1 to 99999999'],
      [6, 'cardCode is empty'],
      [7, 'description has 141 characters; pagoPA allows 140'],
      [8, expect.stringMatching(/has 2 fields instead of 3/)],
      [9, expect.stringMatching(/already billed on line 2 of this run/)],
    ]);
    expect(lines[0]).toEqual({
      lineNo: 2,
      cardCode: card1,
      amountCents: 3500,
      description: 'Trasporto ottobre',
      problem: null,
    });
  });

  test('columns may come in any order and any case; values are trimmed; no description is null', () => {
    const lines = linesFromCsv(
      `\uFEFFDescription, AMOUNTCENTS ,cardcode\n,  3500 , ${card1} \n`,
      'mod93',
    );
    expect(lines).toEqual([
      { lineNo: 2, cardCode: card1, amountCents: 3500, description: null, problem: null },
    ]);
  });

  test.each([
    ['an empty body', '', /is empty/],
    ['a header only', 'cardCode,amountCents,description\r\n', /no lines to bill/],
    ['a wrong header', 'card,amount,description\n1,2,3\n', /must name the columns/],
    [
      'an extra column',
      'cardCode,amountCents,description,iban\n1,2,3,4\n',
      /must name the columns/,
    ],
  ])('refuses %s as a whole', (_name, csv, message) => {
    expect(() => linesFromCsv(csv, 'mod93')).toThrow(message);
  });

  test(`refuses more than ${BILLING_LINES_MAX} lines`, () => {
    const body = `cardCode,amountCents,description\n${`${card1},1,x\n`.repeat(BILLING_LINES_MAX + 1)}`;
    expect(() => linesFromCsv(body, 'mod93')).toThrow(/more than 20000 lines/);
  });
});

describe('linesFromItems', () => {
  test('numbers lines from 1 and checks the same rules as the CSV', () => {
    const lines = linesFromItems(
      [
        { cardCode: card1, amountCents: 3500 },
        { cardCode: card2, amountCents: 35.5 },
        { cardCode: makeCardCode('5000000003'), amountCents: 100_000_000, description: ' ok ' },
      ],
      'mod93',
    );
    expect(lines.map((l) => [l.lineNo, l.problem])).toEqual([
      [1, null],
      [2, 'amountCents 35.5 is not a whole number of cents'],
      [3, 'amountCents 100000000 is outside 1 to 99999999'],
    ]);
  });

  test('refuses an empty list', () => {
    expect(() => linesFromItems([], 'mod93')).toThrow(/no items/);
  });
});

describe('prepareRun', () => {
  const csv = `cardCode,amountCents,description\n${card1},3500,x\n${mistyped},3500,x\n`;

  test('counts accepted and rejected lines', () => {
    const prepared = prepareRun(
      domain,
      { service: 'SCHOOL_TRANSPORT', period: '2026-10', input: { csv } },
      { service: 'service', period: 'period' },
    );
    expect(prepared).toMatchObject({ accepted: 1, rejected: 1 });
    expect(prepared.context).toMatchObject({ domainId: '80000000001', period: '2026-10' });
  });

  test.each([
    ['a month 13', 'SCHOOL_TRANSPORT', '2026-13', /period: must be a month written YYYY-MM/],
    ['a day', 'SCHOOL_TRANSPORT', '2026-10-01', /period: must be a month/],
    ['a service not in the catalogue', 'BUS', '2026-10', /service: BUS is not a card service/],
    ['a service without a card account', 'ROAD_FINE', '2026-10', /billable: SCHOOL_TRANSPORT/],
  ])('refuses %s', (_name, service, period, message) => {
    expect(() =>
      prepareRun(
        domain,
        { service, period, input: { csv } },
        { service: 'service', period: 'period' },
      ),
    ).toThrow(message);
  });
});

describe('decideBill', () => {
  const context = { domainId: '80000000001', service: transport, period: '2026-10' };
  const aCard = (over: Partial<BillingCard> = {}): BillingCard => ({
    cardId: 7,
    domainId: '80000000001',
    holderFiscalCode: 'RSSMRA85T10A562S',
    holderFullName: 'Rossi Mario',
    account: { id: 70, balanceCents: 0, overdraftLimitCents: 100_000 },
    ...over,
  });
  const line = { cardCode: card1, amountCents: 3500, description: null };

  test('a new bill: a DEBT position for the holder, due at the end of the next month', () => {
    const decision = decideBill(line, aCard(), undefined, context);
    expect(decision).toMatchObject({
      kind: 'create',
      externalId: `BILL-SCHOOL_TRANSPORT-2026-10-${card1}`,
      debitCents: 3500,
      draft: {
        kind: 'DEBT',
        account: 'SCHOOL_TRANSPORT',
        debtor: { type: 'F', fiscalCode: 'RSSMRA85T10A562S', fullName: 'Rossi Mario' },
        description: 'Trasporto scolastico ottobre 2026',
        options: [{ amountCents: 3500, dueDate: '2026-11-30', plan: 'SINGLE' }],
      },
    });
  });

  test('already billed with the same amount: skipped; with another amount: failed', () => {
    expect(decideBill(line, aCard(), { positionId: 9, amountCents: 3500 }, context)).toEqual({
      kind: 'skip',
      positionId: 9,
    });
    expect(decideBill(line, aCard(), { positionId: 9, amountCents: 3000 }, context)).toMatchObject({
      kind: 'fail',
      reason: expect.stringMatching(
        /already billed for 2026-10 with 30.00 €.*cancel that position/,
      ),
    });
  });

  test('unknown card, card of another domain, past the overdraft limit: failed with a reason', () => {
    expect(decideBill(line, undefined, undefined, context)).toMatchObject({
      kind: 'fail',
      reason: expect.stringMatching(/no card .* in domain 80000000001/),
    });
    expect(decideBill(line, aCard({ domainId: '80000000002' }), undefined, context)).toMatchObject({
      kind: 'fail',
    });
    const owing = aCard({
      account: { id: 70, balanceCents: -98_000, overdraftLimitCents: 100_000 },
    });
    expect(decideBill(line, owing, undefined, context)).toMatchObject({
      kind: 'fail',
      reason: expect.stringMatching(/to -1015.00 €, past its overdraft limit of 1000.00 €/),
    });
  });

  test.each([
    ['2026-10', '2026-11-30'],
    ['2026-12', '2027-01-31'],
    ['2028-01', '2028-02-29'],
  ])('the bill of %s is due on %s', (period, due) => {
    expect(billingDueDate(period)).toBe(due);
  });

  test('the default description names the service and the month in Italian', () => {
    expect(defaultBillingDescription(transport, '2027-01')).toBe(
      'Trasporto scolastico gennaio 2027',
    );
  });
});
