import { AppError } from '../../../src/domain/errors';
import {
  buildReportingFlow,
  parseReportingFlow,
} from '../../../src/adapters/pagopa/reporting-flow';
import { fixture, fullFlow, minimalFlow } from './old-model-samples';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return err instanceof AppError ? err.code : 'not-app-error';
  }
  return undefined;
}

describe('FlussoRiversamento', () => {
  it('parses a 1.0.4 flow (prefixed) with codes 0, 3, 9', () => {
    const f = parseReportingFlow(fixture('reporting/flusso-1.0.4.xml'));
    expect(f).toMatchObject({
      version: '1.0',
      flowId: '2024-03-16ABI03069-S1040001',
      settlementId: 'Bonifico SEPA-03069-AABB0',
      sender: { idKind: 'B', id: 'BCITITMM', name: 'Banca di Prova S.p.A.' },
      senderBankBic: 'BCITITMM',
      receiver: { taxCode: '77777777777', name: 'Comune di Prova' },
      totalCount: 3,
      totalCents: 8550,
    });
    expect(f.payments.map((p) => [p.outcome, p.amountCents, p.transferIndex])).toEqual([
      [0, 2500, 1],
      [3, 1050, undefined],
      [9, 5000, 2],
    ]);
  });

  it('parses a 1.0.5 stand-in flow (default namespace) with codes 4 and 8', () => {
    const f = parseReportingFlow(fixture('reporting/flusso-1.0.5-standin.xml'));
    expect(f.payments.map((p) => p.outcome)).toEqual([0, 4, 8, 9]);
    expect(f.totalCents).toBe(4900);
  });

  it('round-trips minimal and full flows', () => {
    expect(parseReportingFlow(buildReportingFlow(minimalFlow))).toEqual(minimalFlow);
    const full = fullFlow([0, 4, 8, 9]);
    expect(parseReportingFlow(buildReportingFlow(full, '1.0.5'))).toEqual(full);
  });

  it('will not build a code the target schema lacks', () => {
    expect(codeOf(() => buildReportingFlow(fullFlow([3]), '1.0.5'))).toBe('invalid-input');
    expect(codeOf(() => buildReportingFlow(fullFlow([4]), '1.0.4'))).toBe('invalid-input');
    expect(codeOf(() => buildReportingFlow(fullFlow([8]), '1.0.4'))).toBe('invalid-input');
  });

  const good = fixture('reporting/flusso-1.0.4.xml');
  it.each([
    ['a total that disagrees', good.replace('>85.50<', '>85.51<'), 'xml-semantic-invalid'],
    [
      'a count that disagrees',
      good.replace('>3</pay_i:numeroTotalePagamenti>', '>4</pay_i:numeroTotalePagamenti>'),
      'xml-semantic-invalid',
    ],
    ['an amount without decimals', good.replace('>25.00<', '>25<'), 'amount-invalid'],
    [
      'a zero line',
      good.replace('>25.00<', '>0.00<').replace('>85.50<', '>60.50<'),
      'amount-invalid',
    ],
    [
      'an unknown outcome',
      good.replace(
        '>9</pay_i:codiceEsitoSingoloPagamento>',
        '>7</pay_i:codiceEsitoSingoloPagamento>',
      ),
      'xml-schema-invalid',
    ],
    [
      'an index out of 1..5',
      good.replace(
        '>2</pay_i:indiceDatiSingoloPagamento>',
        '>6</pay_i:indiceDatiSingoloPagamento>',
      ),
      'xml-schema-invalid',
    ],
    [
      'a flow id with a space',
      good.replace('2024-03-16ABI03069-S1040001', '2024-03-16 ABI'),
      'xml-schema-invalid',
    ],
  ])('refuses %s', (_n, xml, code) => {
    expect(codeOf(() => parseReportingFlow(xml))).toBe(code);
  });
});
