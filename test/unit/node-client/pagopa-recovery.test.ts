/**
 * Reading a biz-events receipt (CtReceiptModelResponse) into the canonical receipt of paSendRT.
 */
import { bizEventsReceipt } from '../../../src/adapters/node-client/pagopa-recovery';
import { fixture } from '../pagopa/old-model-samples';

describe('bizEventsReceipt', () => {
  test('the current model: amounts in cents, nulls left out, the date-time from paymentDateTimeFormatted', () => {
    expect(bizEventsReceipt(fixture('node/bizevents-receipt.model.json'))).toEqual({
      receiptId: '9b2e4c1d7a6f4e0b8c3d2a1f0e9d8c7b',
      noticeNumber: '302000000000012345',
      domainFiscalCode: '80000000001',
      outcome: 'OK',
      iuv: '02000000000012345',
      amountCents: 1800,
      description: 'Ricarica',
      companyName: 'Comune di Borgo Verde',
      officeName: 'Servizi scolastici',
      debtor: { idType: 'F', idValue: 'RSSMRA80A01E715X', fullName: 'Rossi Mario' },
      transfers: [
        {
          transferId: 1,
          amountCents: 1800,
          domainFiscalCode: '80000000001',
          iban: 'IT60X0542811101000000123456',
          remittanceInformation: '/RFB/02000000000012345',
          transferCategory: '0107101TS',
        },
      ],
      psp: {
        id: 'BCITITMM',
        fiscalCode: '00799960158',
        vatNumber: '11991500015',
        companyName: 'Intesa Sanpaolo S.p.A.',
        channelId: '00799960158_01',
        channelDescription: 'app',
      },
      paymentMethod: 'CP',
      feeCents: 100,
      paymentDateTime: '2026-11-20T10:21:03',
      applicationDate: '2026-11-20',
      transferDate: '2026-11-21',
    });
  });

  test('earlier answers: IBAN spelt upper-case, idTransfer as text, paymentDateTime with its time', () => {
    const r = bizEventsReceipt(fixture('node/bizevents-receipt.ok.json'));
    expect(r.transfers).toEqual([
      expect.objectContaining({ transferId: 1, iban: 'IT60X0542811101000000123456' }),
    ]);
    expect(r).toMatchObject({ amountCents: 2500, paymentDateTime: '2024-03-15T10:21:00' });
  });

  test('a stamp transfer keeps its document; amounts with more than two decimals or a transfer without account are refused', () => {
    const model = JSON.parse(fixture('node/bizevents-receipt.model.json')) as {
      paymentAmount: number;
      transferList: Record<string, unknown>[];
    };
    const stamp = structuredClone(model);
    stamp.transferList[0] = { ...stamp.transferList[0], iban: null, mbdAttachment: 'PG1hcmNhLz4=' };
    expect(bizEventsReceipt(JSON.stringify(stamp)).transfers[0]).toMatchObject({
      stamp: { documentBase64: 'PG1hcmNhLz4=' },
    });
    expect(bizEventsReceipt(JSON.stringify(stamp)).transfers[0]).not.toHaveProperty('iban');

    const fraction = { ...model, paymentAmount: 18.005 };
    expect(() => bizEventsReceipt(JSON.stringify(fraction))).toThrow(
      expect.objectContaining({ code: 'upstream-error' }),
    );
    const noAccount = structuredClone(model);
    noAccount.transferList[0] = { ...noAccount.transferList[0], iban: null };
    expect(() => bizEventsReceipt(JSON.stringify(noAccount))).toThrow(
      /neither iban nor mbdAttachment/,
    );
    expect(() => bizEventsReceipt('<xml/>')).toThrow(
      expect.objectContaining({ code: 'upstream-error' }),
    );
  });
});
