import { buildPagati, parsePagati, type MyPayPaid } from '../../../src/adapters/mypay/documents';
import {
  decodePagati,
  pagatiProblems,
  pagatiReceiptKey,
  pagatiToReceipt,
} from '../../../src/adapters/mypay/pagati-receipt';
import { paidLinesOf } from '../../../src/domain/receipts/reconcile';
import { contentHash } from '../../../src/shared/hash';
import { paid } from './samples';

const delivery = { brokerId: '80000000098', stationId: '80000000098_01', sessionId: 'S-1' };
const NOW = new Date('2024-03-16T00:00:00Z');
const line = paid.lines[0]!;

describe('MyPay Pagati as an inbox receipt', () => {
  test('paid (0): keyed by the IUR, the whole amount, linked to the session', () => {
    const r = pagatiToReceipt(paid, buildPagati(paid), delivery, NOW);
    expect(r).toMatchObject({
      key: { domainId: '80000000002', iuv: paid.iuv, receiptKey: 'IUR-0000012345' },
      source: 'MYPAY',
      brokerId: '80000000098',
      stationId: '80000000098_01',
      outcome: 'PAID',
      amountCents: 2500,
      attemptSessionId: 'S-1',
      parsed: paid,
    });
    // 10:21 in Rome in March is 09:21 UTC.
    expect(r.paidAt?.toISOString()).toBe('2024-03-15T09:21:00.000Z');
    expect(r.attemptCcp).toBeUndefined();
  });

  test('not paid (1) without a usable IUR: keyed by the receipt message id, no money', () => {
    const notPaid: MyPayPaid = {
      ...paid,
      outcome: 1,
      totalPaidCents: 0,
      lines: [{ ...line, paidCents: 0, outcomeText: 'NON ESEGUITO', iur: 'n/a' }],
    };
    expect(pagatiReceiptKey(notPaid)).toBe('RT-MYPAY-0001');
    expect(pagatiToReceipt(notPaid, '<x/>', delivery, NOW)).toMatchObject({
      outcome: 'NOT_PAID',
      amountCents: 0,
    });
  });

  test('partly paid (2): only the lines paid count, and reconciliation reads each line', () => {
    const partial: MyPayPaid = {
      ...paid,
      outcome: 2,
      totalPaidCents: 2500,
      lines: [line, { ...line, dueId: 'D2', paidCents: 0, outcomeText: 'NON ESEGUITO', iur: 'I2' }],
    };
    const r = pagatiToReceipt(partial, '<x/>', delivery, NOW);
    expect(r).toMatchObject({ outcome: 'PARTIAL', amountCents: 2500 });
    expect(paidLinesOf(r.parsed)).toEqual([2500, 0]);
  });

  test('the same document read twice (push, then poll) hashes the same; another content does not', () => {
    const xml = buildPagati(paid);
    const once = pagatiToReceipt(parsePagati(xml), xml, delivery, NOW);
    const twice = pagatiToReceipt(decodePagati(Buffer.from(xml).toString('base64')).paid, xml, {
      ...delivery,
      sessionId: 'S-1',
    });
    expect(contentHash(twice.parsed)).toBe(contentHash(once.parsed));
    const other = pagatiToReceipt(
      { ...paid, receiptDateTime: '2024-03-15T10:22:00' },
      xml,
      delivery,
      NOW,
    );
    expect(other.key).toEqual(once.key);
    expect(contentHash(other.parsed)).not.toBe(contentHash(once.parsed));
  });

  test('rules the XSD cannot express are refused with their reasons', () => {
    expect(pagatiProblems({ ...paid, totalPaidCents: 2600 }, NOW)).toEqual([
      'importoTotalePagato 26.00 != sum of lines 25.00',
    ]);
    expect(pagatiProblems({ ...paid, lines: [] }, NOW)).toEqual([
      'codiceEsitoPagamento 0 requires datiSingoloPagamento',
    ]);
    expect(pagatiProblems({ ...paid, outcome: 1 }, NOW)).toEqual([
      'codiceEsitoPagamento 1 requires importoTotalePagato 0.00',
    ]);
    expect(pagatiProblems({ ...paid, domainId: 'C_PCHIARO' }, NOW)).toEqual([
      'identificativoDominio C_PCHIARO is not a fiscal code of 11 digits',
    ]);
    expect(pagatiProblems({ ...paid, receiptDateTime: '2024-03-18T10:00:00' }, NOW)).toEqual([
      'dataOraMessaggioRicevuta 2024-03-18T09:00:00.000Z is in the future',
    ]);
    expect(() => pagatiToReceipt({ ...paid, lines: [] }, '', delivery, NOW)).toThrow(
      expect.objectContaining({ code: 'xml-semantic-invalid' }),
    );
  });

  test('anything but base64 of a Pagati is xml-embedded-invalid', () => {
    for (const b64 of ['', '!!!', Buffer.from('<Dovuti/>').toString('base64')]) {
      expect(() => decodePagati(b64)).toThrow(
        expect.objectContaining({ code: 'xml-embedded-invalid' }),
      );
    }
  });
});
