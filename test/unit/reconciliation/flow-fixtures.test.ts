/**
 * The reporting flow fixtures (written from the XSD, prefixed and default namespace): valid
 * against our FlussoRiversamento schemas, and read for storage as OK or ANOMALOUS.
 */
import fs from 'node:fs';
import path from 'node:path';
import { readFlow } from '../../../src/domain/reconciliation/read-flow';
import { matchLines } from '../../../src/domain/reconciliation/match';
import { ownWsdlDir, repoRoot, validateAgainstXsd } from '../../helpers/xsd';

const fixture = (name: string): string =>
  fs.readFileSync(path.join(repoRoot, 'fixtures', 'reporting', name), 'utf8');
const schema = (v: '4' | '5') => ({
  main: path.join(ownWsdlDir, 'xsd', `FlussoRiversamento_1_0_${v}.xsd`),
});

describe('reporting flow fixtures', () => {
  test.each([
    ['flusso-1.0.4.xml', '4', 'OK', [0, 3, 9]],
    ['flusso-1.0.4-anomalous-totals.xml', '4', 'ANOMALOUS', [0, 3, 9]],
  ] as const)('%s is valid against 1.0.%s and reads as %s', async (name, v, status, codes) => {
    const xml = fixture(name);
    expect((await validateAgainstXsd(xml, schema(v))).errors).toEqual([]);
    const read = readFlow(xml);
    expect(read.status).toBe(status);
    expect(read.flow.payments.map((p) => p.outcome)).toEqual(codes);
    expect(read).toMatchObject({ computedCount: 3, computedCents: 8550 });
  });

  test('the anomalous fixture keeps its declared totals and says what does not add up', () => {
    const read = readFlow(fixture('flusso-1.0.4-anomalous-totals.xml'));
    expect(read.flow).toMatchObject({ totalCount: 4, totalCents: 9550 });
    expect(read.anomalies).toEqual([
      'numeroTotalePagamenti 4 != 3 lines',
      'importoTotalePagamenti 95.50 != sum of lines 85.50',
    ]);
  });

  test('the 1.0.5 stand-in fixture (codes 4 and 8) is valid and its lines match by IUV, IUR and index', async () => {
    const xml = fixture('flusso-1.0.5-standin.xml');
    expect((await validateAgainstXsd(xml, schema('5'))).errors).toEqual([]);
    const read = readFlow(xml);
    expect(read.status).toBe('OK');
    expect(new Set(read.flow.payments.map((p) => p.outcome))).toEqual(new Set([0, 4, 8, 9]));
    const lines = read.flow.payments.map((p, i) => ({
      id: i + 1,
      flowRowId: 1,
      lineNo: i + 1,
      iuv: p.iuv,
      iur: p.iur,
      ...(p.transferIndex === undefined ? {} : { transferIndex: p.transferIndex }),
      amountCents: p.amountCents,
      outcomeCode: p.outcome,
      paidDate: p.outcomeDate,
    }));
    const first = read.flow.payments[0]!;
    const receipt = {
      id: 7,
      domainId: read.flow.receiver.taxCode,
      iuv: first.iuv,
      receiptKey: first.iur,
      outcome: 'PAID',
      amountCents: first.amountCents,
      transfers: [
        { index: first.transferIndex ?? 1, iur: first.iur, amountCents: first.amountCents },
      ],
    };
    const outcomes = matchLines(lines, [receipt]).map((m) => m.outcome);
    expect(outcomes[0]).toBe('MATCHED');
    expect(outcomes.slice(1).every((o) => o === 'NO_RECEIPT')).toBe(true);
  });
});
