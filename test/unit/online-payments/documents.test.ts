import { buildRpt, parseRpt } from '../../../src/adapters/pagopa/rpt-rt';
import { buildDovuti, parseDovuti } from '../../../src/adapters/mypay/documents';
import { dueIdOf, duesOf } from '../../../src/adapters/online-payments/mypay-starter';
import type { OnlinePaymentInput, OnlinePaymentLine } from '../../../src/adapters/online-payments';
import { rptOf } from '../../../src/adapters/online-payments/rpt-starter';
import type { NoticeTransfer } from '../../../src/domain/positions/payable-notice';
import { aDomain } from '../node-client/helpers';

/**
 * The documents an EC-initiated payment sends: the universal RPT of a line (rpt dialect) and the
 * Dovuti of the lines (mypay dialect), from a position as stored.
 */

const DOMAIN = '77777777777';
const AT = new Date('2026-05-13T08:30:00Z');
const TODAY = '2026-05-13';

const transfer = (over: Partial<NoticeTransfer> = {}): NoticeTransfer => ({
  index: 1,
  beneficiaryFiscalCode: DOMAIN,
  amountCents: 6000,
  iban: 'IT60X0542811101000000123456',
  postalIban: null,
  stamp: null,
  taxonomyCode: '0107102SP',
  remittanceInformation: '/RFB/302000000000000017/60.00/TXT/Trasporto',
  ...over,
});

const line = (
  over: {
    transfers?: NoticeTransfer[];
    amountCents?: number;
    paymentId?: string;
    iuv?: string;
  } = {},
): OnlinePaymentLine => {
  const transfers = over.transfers ?? [transfer()];
  const total = transfers.reduce((s, t) => s + t.amountCents, 0);
  const option = {
    iuv: over.iuv ?? '02000000000000017',
    noticeNumber: `3${over.iuv ?? '02000000000000017'}`,
    status: 'UNPAID' as const,
    amountCents: total,
    amountSchedule: null,
    dueDate: '2026-06-30',
    validFrom: null,
    transfers,
  };
  return {
    paymentId: over.paymentId ?? '0d6f0d1e-3c1b-4a57-9b43-7f7c1f3a2b10',
    position: {
      kind: 'DEBT',
      status: 'OPEN',
      plan: 'SINGLE',
      options: [option],
      externalId: 'BUS-1',
      service: 'SCHOOL_TRANSPORT',
      description: 'Trasporto scolastico 2026',
      debtor: { type: 'F', fiscalCode: 'FRRLCU82D12D612K', fullName: 'Ferri Luca', email: null },
    },
    option,
    amountCents: over.amountCents ?? total,
  };
};

const input = (lines: OnlinePaymentLine[]): OnlinePaymentInput => ({
  domain: aDomain({ dialect: 'rpt', fiscalCode: DOMAIN, name: 'Comune di Prova' }),
  cartId: '5b0c6a0e-8a39-4b0e-b0a2-3e1c5f0e9d21',
  lines,
  returnUrls: { ok: 'https://erp/ok', cancel: 'https://erp/cancel', error: 'https://erp/error' },
  returnUrl: 'https://erp/back',
});

describe('rptOf: the universal RPT of a line', () => {
  test('BBT, the IUV, a fresh 32-hex CCP, the debtor, one line per transfer (a stamp has no IBAN); it survives its own XML', () => {
    const stamp = transfer({
      index: 2,
      amountCents: 1600,
      iban: null,
      stamp: { type: '01', documentHash: 'a'.repeat(44), province: 'FI' },
      taxonomyCode: '0115103TS',
      remittanceInformation: 'Imposta di bollo',
    });
    const l = line({ transfers: [transfer(), stamp] });
    const rpt = rptOf(input([l]), l, AT);
    expect(rpt).toMatchObject({
      domain: { domainId: DOMAIN },
      requestDateTime: '2026-05-13T08:30:00',
      executionDate: TODAY,
      paymentType: 'BBT',
      iuv: '02000000000000017',
      totalCents: 7600,
      debtor: { kind: 'F', taxCode: 'FRRLCU82D12D612K', name: 'Ferri Luca' },
      creditor: { taxCode: DOMAIN, name: 'Comune di Prova' },
      lines: [
        {
          amountCents: 6000,
          creditIban: 'IT60X0542811101000000123456',
          collectionData: '9/0107102SP/',
        },
        {
          amountCents: 1600,
          stamp: { stampType: '01', documentHash: 'a'.repeat(44), province: 'FI' },
          collectionData: '9/0115103TS/',
        },
      ],
    });
    expect(rpt.lines[1]).not.toHaveProperty('creditIban');
    expect(rpt.ccp).toMatch(/^[0-9a-f]{32}$/);
    expect(rptOf(input([l]), l, AT).ccp).not.toBe(rpt.ccp);
    expect(parseRpt(buildRpt(rpt))).toMatchObject({ iuv: rpt.iuv, ccp: rpt.ccp, totalCents: 7600 });
  });

  test('refused: a transfer to another entity, or an amount that is no longer the one in force', () => {
    const other = line({
      transfers: [
        transfer({ amountCents: 3000 }),
        transfer({ index: 2, amountCents: 3000, beneficiaryFiscalCode: '80000000002' }),
      ],
    });
    expect(() => rptOf(input([other]), other, AT)).toThrow(
      expect.objectContaining({
        code: 'invalid-input',
        message: expect.stringMatching(/80000000002/),
      }),
    );
    const stale = line({ amountCents: 5000 });
    expect(() => rptOf(input([stale]), stale, AT)).toThrow(
      expect.objectContaining({
        code: 'invalid-input',
        message: expect.stringMatching(/in force/),
      }),
    );
  });
});

describe('duesOf: the Dovuti of the lines', () => {
  test('one line: our IUV, the debtor as payer, the IUD is the payment id without dashes', () => {
    const l = line();
    const dues = duesOf(input([l]), TODAY);
    expect(dues).toEqual({
      payer: { kind: 'F', taxCode: 'FRRLCU82D12D612K', name: 'Ferri Luca' },
      iuv: '02000000000000017',
      items: [
        {
          dueId: '0d6f0d1e3c1b4a579b437f7c1f3a2b10',
          amountCents: 6000,
          dueTypeCode: 'SCHOOL_TRANSPORT',
          remittanceInformation: 'Trasporto scolastico 2026',
          collectionData: '9/0107102SP/',
        },
      ],
    });
    expect(parseDovuti(buildDovuti(dues))).toMatchObject({ iuv: dues.iuv, items: dues.items });
  });

  test('several lines: one item each and no IUV (the Dovuti has one for all; the IUDs link the lines)', () => {
    const a = line();
    const b = line({ paymentId: 'a1b2c3d4-0000-4000-8000-000000000001', iuv: '02000000000000025' });
    const dues = duesOf(input([a, b]), TODAY);
    expect(dues).not.toHaveProperty('iuv');
    expect(dues.items.map((i) => i.dueId)).toEqual([dueIdOf(a.paymentId), dueIdOf(b.paymentId)]);
  });

  test('a marca da bollo is refused', () => {
    const l = line({
      transfers: [
        transfer({
          iban: null,
          stamp: { type: '01', documentHash: 'b'.repeat(44), province: 'FI' },
        }),
      ],
    });
    expect(() => duesOf(input([l]), TODAY)).toThrow(
      expect.objectContaining({ code: 'invalid-input', message: expect.stringMatching(/bollo/) }),
    );
  });
});
