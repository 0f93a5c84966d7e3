/**
 * Reconciliation's pure parts: the Italian calendar, causale parsing, the treasury CSV, reading
 * a flow (ANOMALOUS totals), and the matcher (line outcomes, LATE, treasury, re-run).
 */
import path from 'node:path';
import fc from 'fast-check';
import {
  buildReportingFlow,
  type ReportingFlow,
} from '../../../src/adapters/pagopa/reporting-flow';
import {
  addWorkingDays,
  easterSunday,
  isItalianNonWorkingDay,
} from '../../../src/domain/reconciliation/calendar';
import { parseCausale } from '../../../src/domain/reconciliation/causale';
import {
  lateReceipts,
  matchLines,
  matchMovements,
  receiptTransfers,
  type FlowFact,
  type FlowLineFact,
  type ReceiptFact,
} from '../../../src/domain/reconciliation/match';
import { readFlow } from '../../../src/domain/reconciliation/read-flow';
import { reconcile, reportToCsv } from '../../../src/domain/reconciliation/report';
import { parseTreasuryCsv } from '../../../src/domain/reconciliation/treasury-csv';
import { ownWsdlDir, validateAgainstXsd } from '../../helpers/xsd';

const xsd = (v: '4' | '5') => ({
  main: path.join(ownWsdlDir, 'xsd', `FlussoRiversamento_1_0_${v}.xsd`),
});

describe('Italian working days', () => {
  test.each([
    [2024, '2024-03-31'],
    [2025, '2025-04-20'],
    [2026, '2026-04-05'],
    [2019, '2019-04-21'],
    [2038, '2038-04-25'],
  ])('Easter %i is %s', (year, date) => {
    expect(easterSunday(year)).toBe(date);
  });

  test.each([
    ['2026-11-20', 4, '2026-11-26'], // Friday -> Thursday
    ['2024-03-28', 4, '2024-04-04'], // Easter Monday 2024-04-01 skipped
    ['2026-12-23', 4, '2026-12-30'], // 25, 26 Dec and the weekend skipped
    ['2026-04-24', 1, '2026-04-27'], // Liberazione falls on Saturday
    ['2026-11-23', 0, '2026-11-23'],
  ])('%s + %i working days = %s', (from, n, to) => {
    expect(addWorkingDays(from, n)).toBe(to);
  });

  test('the result is a working day with exactly n working days after the start', () => {
    const day = fc
      .integer({ min: Date.UTC(2000, 0, 1), max: Date.UTC(2099, 11, 31) })
      .map((ms) => new Date(ms).toISOString().slice(0, 10));
    fc.assert(
      fc.property(day, fc.integer({ min: 1, max: 15 }), (from, n) => {
        const to = addWorkingDays(from, n);
        expect(isItalianNonWorkingDay(to)).toBe(false);
        let count = 0;
        for (let d = from; d < to;) {
          d = new Date(Date.parse(`${d}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
          if (!isItalianNonWorkingDay(d)) count += 1;
        }
        expect(count).toBe(n);
      }),
    );
  });
});

describe('causale', () => {
  test.each([
    [
      '/PUR/LGPE-RIVERSAMENTO/URI/2024-03-16ABI03069-S1040001',
      { kind: 'flow', flowId: '2024-03-16ABI03069-S1040001' },
    ],
    [
      'BONIFICO /PUR/LGPE-RIVERSAMENTO/TXT/1/URI/2024-03-16ABI03069-S1040001 SALDO',
      { kind: 'flow', flowId: '2024-03-16ABI03069-S1040001' },
    ],
    ['PUR LGPE-RIVERSAMENTO URI 2024-03-16x-1', { kind: 'flow', flowId: '2024-03-16x-1' }],
    ['/RFB/02000000000012345/25.00', { kind: 'single', form: 'RFB', iuv: '02000000000012345' }],
    ['/RFS/RF23567/12.00', { kind: 'single', form: 'RFS', iuv: 'RF23567' }],
    ['STIPENDI NOVEMBRE', { kind: 'none' }],
  ])('%s', (causale, expected) => {
    expect(parseCausale(causale)).toEqual(expected);
  });
});

describe('treasury CSV', () => {
  test('reads quoted causali and optional columns, amounts in cents', () => {
    const csv =
      'date,amount,causale,valueDate,bankReference\r\n' +
      '2026-11-20,1234.56,"/PUR/LGPE-RIVERSAMENTO/URI/F1, saldo",2026-11-21,TRN1\r\n' +
      '2026-11-20,0.10,/RFB/123,,\n';
    expect(parseTreasuryCsv(csv)).toEqual([
      {
        lineNo: 1,
        bookedOn: '2026-11-20',
        amountCents: 123456,
        causale: '/PUR/LGPE-RIVERSAMENTO/URI/F1, saldo',
        valueDate: '2026-11-21',
        bankReference: 'TRN1',
      },
      { lineNo: 2, bookedOn: '2026-11-20', amountCents: 10, causale: '/RFB/123' },
    ]);
  });

  test.each([
    ['amount,date,causale\n', /header/],
    ['date,amount,causale\n2026-11-20,12.3,x\n', /line 1: amount/],
    ['date,amount,causale\n2026-13-20,12.30,x\n', /line 1: date/],
    ['date,amount,causale\n2026-11-20,12.30\n', /line 1: 3 fields/],
    ['date,amount,causale\n2026-11-20,12.30,"x\n', /unterminated/],
  ])('refuses %j', (csv, message) => {
    expect(() => parseTreasuryCsv(csv)).toThrow(message);
  });
});

const flow = (over: Partial<ReportingFlow> = {}): ReportingFlow => ({
  version: '1.0',
  flowId: '2026-11-20BCITITMM-0001',
  flowDateTime: '2026-11-21T08:00:00',
  settlementId: 'TRN-0001',
  settlementDate: '2026-11-20',
  sender: { idKind: 'B', id: 'BCITITMM' },
  receiver: { taxCode: '77777777777' },
  totalCount: 2,
  totalCents: 3500,
  payments: [
    {
      iuv: '01000000000000001',
      iur: 'R1',
      transferIndex: 1,
      amountCents: 2500,
      outcome: 0,
      outcomeDate: '2026-11-19',
    },
    {
      iuv: '01000000000000002',
      iur: 'R2',
      amountCents: 1000,
      outcome: 9,
      outcomeDate: '2026-11-19',
    },
  ],
  ...over,
});

describe('reading a flow', () => {
  test('a consistent 1.0.4 flow, valid against the XSD, is OK', async () => {
    const xml = buildReportingFlow(flow());
    expect((await validateAgainstXsd(xml, xsd('4'))).errors).toEqual([]);
    const read = readFlow(xml);
    expect(read).toMatchObject({
      status: 'OK',
      anomalies: [],
      computedCount: 2,
      computedCents: 3500,
    });
    expect(read.flow.payments).toHaveLength(2);
  });

  test('a 1.0.5 flow whose totals do not add up is ANOMALOUS with the declared totals', async () => {
    const xml = buildReportingFlow(
      flow({
        payments: [
          {
            iuv: '01000000000000001',
            iur: 'R1',
            amountCents: 2500,
            outcome: 4,
            outcomeDate: '2026-11-19',
          },
          {
            iuv: '01000000000000002',
            iur: 'R2',
            amountCents: 1000,
            outcome: 8,
            outcomeDate: '2026-11-19',
          },
        ],
      }),
      '1.0.5',
    )
      .replace('<numeroTotalePagamenti>2<', '<numeroTotalePagamenti>3<')
      .replace('<importoTotalePagamenti>35.00<', '<importoTotalePagamenti>45.00<');
    expect((await validateAgainstXsd(xml, xsd('5'))).errors).toEqual([]);
    const read = readFlow(xml);
    expect(read.status).toBe('ANOMALOUS');
    expect(read.flow).toMatchObject({ totalCount: 3, totalCents: 4500 });
    expect(read).toMatchObject({ computedCount: 2, computedCents: 3500 });
    expect(read.anomalies.join(';')).toMatch(/numeroTotalePagamenti 3 != 2/);
  });

  test('a malformed flow is refused, not stored as ANOMALOUS', () => {
    expect(() => readFlow('<FlussoRiversamento>')).toThrow();
  });
});

const receipt = (over: Partial<ReceiptFact> & { id: number; iuv: string }): ReceiptFact => ({
  domainId: '77777777777',
  receiptKey: `K${over.id}`,
  outcome: 'PAID',
  amountCents: 2500,
  paidDate: '2026-11-19',
  transfers: [{ index: 1, iur: `K${over.id}`, amountCents: 2500 }],
  ...over,
});
const line = (
  over: Partial<FlowLineFact> & { id: number; iuv: string; iur: string },
): FlowLineFact => ({
  flowRowId: 1,
  lineNo: over.id,
  amountCents: 2500,
  outcomeCode: 0,
  paidDate: '2026-11-19',
  ...over,
});

describe('matching', () => {
  test('receipt transfers: new model by idTransfer and receiptId, RT by its lines', () => {
    expect(receiptTransfers({ transfers: [{ transferId: 2, amountCents: 5 }] }, 'RID', 5)).toEqual([
      { index: 2, iur: 'RID', amountCents: 5 },
    ]);
    expect(
      receiptTransfers(
        {
          lines: [
            { iur: 'A', paidCents: 1 },
            { iur: 'B', paidCents: 2 },
          ],
        },
        'CCP',
        3,
      ),
    ).toEqual([
      { index: 1, iur: 'A', amountCents: 1 },
      { index: 2, iur: 'B', amountCents: 2 },
    ]);
    expect(receiptTransfers({}, 'K', 7)).toEqual([{ index: 1, iur: 'K', amountCents: 7 }]);
  });

  test.each([
    ['MATCHED', line({ id: 1, iuv: 'A', iur: 'K1' }), { receiptId: 1 }],
    [
      'AMOUNT_MISMATCH',
      line({ id: 1, iuv: 'A', iur: 'K1', amountCents: 2400 }),
      { receiptId: 1, expectedCents: 2500 },
    ],
    ['NO_RECEIPT (other IUR)', line({ id: 1, iuv: 'A', iur: 'OTHER' }), {}],
    ['NO_RECEIPT (other index)', line({ id: 1, iuv: 'A', iur: 'K1', transferIndex: 2 }), {}],
    ['NO_RECEIPT (code 9, no RPT)', line({ id: 1, iuv: 'Z', iur: 'Z1', outcomeCode: 9 }), {}],
    ['NO_RECEIPT (code 8, stand-in)', line({ id: 1, iuv: 'Z', iur: 'Z1', outcomeCode: 8 }), {}],
    [
      'MATCHED (code 4, stand-in with receipt)',
      line({ id: 1, iuv: 'A', iur: 'K1', outcomeCode: 4 }),
      { receiptId: 1 },
    ],
    ['REVOKED', line({ id: 1, iuv: 'A', iur: 'K1', outcomeCode: 3 }), { receiptId: 1 }],
  ])('%s', (name, l, extra) => {
    const [m] = matchLines([l], [receipt({ id: 1, iuv: 'A' })]);
    expect(m).toEqual({ lineId: 1, flowRowId: 1, outcome: name.split(' ')[0], ...extra });
  });

  test('LATE only after D+4 working days, and only for paid receipts no line reports', () => {
    const paidFriday = receipt({ id: 1, iuv: 'A', paidDate: '2026-11-20' });
    const reported = receipt({ id: 2, iuv: 'B', paidDate: '2026-11-20' });
    const unpaid = receipt({
      id: 3,
      iuv: 'C',
      paidDate: '2026-11-20',
      outcome: 'NOT_PAID',
      amountCents: 0,
    });
    const all = [paidFriday, reported, unpaid];
    const matches = matchLines([line({ id: 1, iuv: 'B', iur: 'K2' })], all);
    expect(lateReceipts(all, matches, '2026-11-26')).toEqual([]);
    expect(lateReceipts(all, matches, '2026-11-27').map((r) => r.id)).toEqual([1]);
  });

  const flowFact = (over: Partial<FlowFact> = {}): FlowFact => ({
    id: 1,
    domainId: '77777777777',
    flowId: 'F1',
    pspId: 'BCITITMM',
    settlementDate: '2026-11-20',
    totalCount: 1,
    totalCents: 2500,
    computedCount: 1,
    computedCents: 2500,
    status: 'OK',
    ...over,
  });
  const movement = (id: number, causale: string, amountCents: number) => ({
    id,
    domainId: '77777777777',
    lineNo: id,
    bookedOn: '2026-11-21',
    amountCents,
    causale,
  });

  test('treasury: both flow causale forms, single payments, amounts must agree', () => {
    const flows = [flowFact(), flowFact({ id: 2, flowId: 'F2', status: 'ANOMALOUS' })];
    const receipts = [receipt({ id: 1, iuv: '0100' }), receipt({ id: 2, iuv: 'RF23567' })];
    const out = matchMovements(
      [
        movement(1, '/PUR/LGPE-RIVERSAMENTO/URI/F1', 2500),
        movement(2, '/PUR/LGPE-RIVERSAMENTO/TXT/1/URI/F1', 2400),
        movement(3, '/PUR/LGPE-RIVERSAMENTO/URI/F2', 2500),
        movement(4, '/PUR/LGPE-RIVERSAMENTO/URI/F9', 2500),
        movement(5, '/RFB/0100/25.00', 2500),
        movement(6, '/RFS/RF23567', 2500),
        movement(7, '/RFB/0999', 2500),
        movement(8, 'GIROCONTO', 2500),
      ],
      flows,
      receipts,
    );
    expect(out.map((m) => m.outcome)).toEqual([
      'MATCHED',
      'AMOUNT_MISMATCH',
      'FLOW_ANOMALOUS',
      'NO_FLOW',
      'MATCHED',
      'MATCHED',
      'NO_RECEIPT',
      'UNRECOGNISED',
    ]);
    expect(out[4]).toMatchObject({ receiptId: 1 });
    expect(out[5]).toMatchObject({ receiptId: 2 });
  });

  test('re-run after a late receipt: NO_RECEIPT becomes MATCHED and the mismatch goes away', () => {
    const input = {
      from: '2026-11-20',
      to: '2026-11-20',
      asOf: '2026-11-23',
      flows: [flowFact()],
      lines: [line({ id: 1, iuv: 'A', iur: 'K1' })],
      receipts: [] as ReceiptFact[],
      movements: [],
    };
    const before = reconcile(input);
    expect(before.lineMatches[0]?.outcome).toBe('NO_RECEIPT');
    expect(before.days[0]?.mismatches.map((m) => m.kind)).toEqual(['LINE_NO_RECEIPT']);
    const after = reconcile({
      ...input,
      receipts: [receipt({ id: 1, iuv: 'A', paidDate: '2026-11-20' })],
    });
    expect(after.lineMatches[0]?.outcome).toBe('MATCHED');
    expect(after.days[0]).toMatchObject({
      receipts: { count: 1, cents: 2500 },
      flows: { count: 1, cents: 2500 },
      mismatches: [],
    });
    expect(reportToCsv(after).split('\n')[1]).toBe('2026-11-20,RECEIPTS,,1,25.00,,,');
  });

  test('matching is independent of the order of its inputs', () => {
    const receipts = [1, 2, 3, 4].map((id) => receipt({ id, iuv: `I${id}` }));
    const lines = [1, 2, 3, 5].map((id) =>
      line({ id, iuv: `I${id}`, iur: `K${id}`, amountCents: id === 2 ? 1 : 2500 }),
    );
    fc.assert(
      fc.property(
        fc.shuffledSubarray(receipts, { minLength: 4 }),
        fc.shuffledSubarray(lines, { minLength: 4 }),
        (rs, ls) => {
          const byLine = (ms: ReturnType<typeof matchLines>) =>
            [...ms].sort((a, b) => a.lineId - b.lineId);
          expect(byLine(matchLines(ls, rs))).toEqual(byLine(matchLines(lines, receipts)));
        },
      ),
    );
  });
});
