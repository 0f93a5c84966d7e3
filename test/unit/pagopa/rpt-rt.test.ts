import { AppError } from '../../../src/domain/errors';
import { base64XmlEncode } from '../../../src/adapters/pagopa/xml';
import {
  buildMarcaDaBollo,
  buildRpt,
  buildRt,
  centsToDecimal,
  creditedCents,
  decimalToCents,
  parseMarcaDaBollo,
  parseRpt,
  parseRt,
} from '../../../src/adapters/pagopa/rpt-rt';
import { base64XmlDecode } from '../../../src/adapters/pagopa/xml';
import { fixture, fullRpt, fullRt, minimalRpt, minimalRt, stamp } from './old-model-samples';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return err instanceof AppError ? err.code : 'not-app-error';
  }
  return undefined;
}

describe('amounts', () => {
  it.each([
    ['0.00', 0],
    ['0.01', 1],
    ['12.30', 1230],
    ['999999999.99', 99999999999],
  ])('%s is %i cents and back', (s, c) => {
    expect(decimalToCents(s)).toBe(c);
    expect(centsToDecimal(c)).toBe(s);
  });

  it.each([
    ['10'],
    ['10.5'],
    ['10.555'],
    ['-1.00'],
    ['1,00'],
    ['1e3'],
    [' 1.00'],
    ['1000000000.00'],
    [''],
  ])('refuses %j', (s) => {
    expect(codeOf(() => decimalToCents(s))).toBe('amount-invalid');
  });

  it('refuses negative, fractional and oversized cents', () => {
    for (const c of [-1, 1.5, 100_000_000_000, Number.NaN])
      expect(codeOf(() => centsToDecimal(c))).toBe('amount-invalid');
  });
});

describe('RT fixtures', () => {
  it('outcome 0, prefixed, date-time with time zone and PSP fee', () => {
    const rt = parseRt(fixture('rpt-rt/rt-outcome0-single.xml'));
    expect(rt).toMatchObject({
      outcome: 0,
      totalPaidCents: 2500,
      iuv: '02000000000012345',
      ccp: 'n/a',
      receiptDateTime: '2024-03-15T10:22:31.123+01:00',
      domain: { domainId: '77777777777', requestingStationId: '77777777777_01' },
      attestingPsp: { idKind: 'B', taxCode: 'BCITITMM' },
      payer: { kind: 'F', taxCode: 'RSSMRA80A01F205X', email: 'mario.rossi@example.it' },
    });
    expect(rt.lines).toEqual([
      {
        paidCents: 2500,
        outcomeDate: '2024-03-15',
        iur: 'CRO0000012345678',
        remittanceInformation: '/RFB/02000000000012345/25.00/TXT/Mensa scolastica marzo',
        collectionData: '9/0107101TS/',
        pspFeeCents: 150,
      },
    ]);
    expect(creditedCents(rt)).toBe(2500);
  });

  it('multi-transfer in the default namespace keeps the line order', () => {
    const rt = parseRt(fixture('rpt-rt/rt-outcome0-multi-transfer.xml'));
    expect(rt.lines.map((l) => [l.paidCents, l.iur, l.collectionData])).toEqual([
      [5000, 'IUR-A-0001', '9/0107106SP/'],
      [2500, 'IUR-A-0002', '9/0107101TS/'],
      [1050, 'IUR-A-0003', '9/0107102SP/'],
    ]);
    expect(rt.payer).toBeDefined();
  });

  it('outcome 1 (WISP-style KO with IUR "0") credits nothing', () => {
    const rt = parseRt(fixture('rpt-rt/rt-outcome1-not-paid.xml'));
    expect(rt.outcome).toBe(1);
    expect(rt.lines[0]).toMatchObject({
      paidCents: 0,
      iur: '0',
      outcomeText: 'Pagamento non eseguito',
    });
    expect(rt.payer).toBeUndefined();
    expect(creditedCents(rt)).toBe(0);
  });

  it('outcome 2 credits only the paid line', () => {
    const rt = parseRt(fixture('rpt-rt/rt-outcome2-partial.xml'));
    expect(rt.outcome).toBe(2);
    expect(rt.lines.map((l) => l.paidCents)).toEqual([5000, 0]);
    expect(creditedCents(rt)).toBe(5000);
  });

  it('outcome 3 has no lines and a Z time zone', () => {
    const rt = parseRt(fixture('rpt-rt/rt-outcome3-time-limit.xml'));
    expect(rt).toMatchObject({
      outcome: 3,
      totalPaidCents: 0,
      lines: [],
      receiptDateTime: '2024-04-14T23:59:59Z',
    });
  });

  it('outcome 4 with the token-expired text on the unpaid line', () => {
    const rt = parseRt(fixture('rpt-rt/rt-outcome4-partial-time-limit.xml'));
    expect(rt.outcome).toBe(4);
    expect(rt.lines[1]?.outcomeText).toBe('BATCH_ANNULLAMENTO:TOKEN_SCADUTO');
    expect(creditedCents(rt)).toBe(2500);
  });

  it('accepts codiceContestoPagamento spelled like the RPT', () => {
    expect(parseRt(fixture('rpt-rt/rt-ccp-lowercase-variant.xml')).ccp).toBe(
      'a1b2c3d4e5f60718293a4b5c6d7e8f90',
    );
  });

  it('exposes the marca da bollo attachment, which parses as a stamp', () => {
    const rt = parseRt(fixture('rpt-rt/rt-marca-da-bollo.xml'));
    const att = rt.lines[1]?.attachment;
    expect(att?.kind).toBe('BD');
    const s = parseMarcaDaBollo(base64XmlDecode(att!.contentBase64));
    expect(s).toEqual({
      pspTaxCode: '01234567890',
      pspName: 'PSP Bolli S.p.A.',
      stampId: '01234567890123',
      purchasedAt: '2024-03-15T10:22:30.000+01:00',
      amountCents: 1600,
      stampType: '01',
      documentDigest: '47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=',
    });
  });
});

describe('RT strictness', () => {
  const good = fixture('rpt-rt/rt-outcome0-single.xml');

  it.each([
    [
      'amount without decimals',
      good.replace('>25.00</pay_i:importoTotalePagato>', '>25</pay_i:importoTotalePagato>'),
      'amount-invalid',
    ],
    [
      'amount with a comma',
      good.replace('>25.00</pay_i:singoloImportoPagato>', '>25,00</pay_i:singoloImportoPagato>'),
      'amount-invalid',
    ],
    [
      'IUV longer than 35',
      good.replace('02000000000012345<', `${'9'.repeat(36)}<`),
      'xml-schema-invalid',
    ],
    [
      'missing IUR',
      good.replace(
        /<pay_i:identificativoUnivocoRiscossione>.*?<\/pay_i:identificativoUnivocoRiscossione>/,
        '',
      ),
      'xml-schema-invalid',
    ],
    [
      'unknown outcome',
      good.replace('>0</pay_i:codiceEsitoPagamento>', '>5</pay_i:codiceEsitoPagamento>'),
      'xml-schema-invalid',
    ],
    [
      'total different from the lines',
      good.replace('>25.00</pay_i:importoTotalePagato>', '>26.00</pay_i:importoTotalePagato>'),
      'xml-semantic-invalid',
    ],
    [
      'bad date',
      good.replace(
        '>2024-03-15</pay_i:dataEsitoSingoloPagamento>',
        '>15/03/2024</pay_i:dataEsitoSingoloPagamento>',
      ),
      'xml-schema-invalid',
    ],
    ['an RPT where an RT is expected', fixture('rpt-rt/rpt-minimal.xml'), 'xml-schema-invalid'],
  ])('refuses %s', (_name, xml, code) => {
    expect(codeOf(() => parseRt(xml))).toBe(code);
  });

  it('can skip the consistency rules when asked', () => {
    const off = good.replace(
      '>25.00</pay_i:importoTotalePagato>',
      '>26.00</pay_i:importoTotalePagato>',
    );
    expect(parseRt(off, { checkConsistency: false }).totalPaidCents).toBe(2600);
  });

  it('requires lines for outcome 0 and a zero total for outcome 3', () => {
    expect(codeOf(() => buildRt({ ...minimalRt, outcome: 0, totalPaidCents: 0 }))).toBe(
      'xml-semantic-invalid',
    );
    expect(codeOf(() => buildRt({ ...minimalRt, totalPaidCents: 100 }))).toBe(
      'xml-semantic-invalid',
    );
  });
});

describe('round trips', () => {
  it('RPT minimal and full (with a marca da bollo line and escaped text)', () => {
    expect(parseRpt(buildRpt(minimalRpt))).toEqual(minimalRpt);
    expect(parseRpt(buildRpt(fullRpt))).toEqual(fullRpt);
  });

  it('RT minimal and full', () => {
    const full = fullRt(base64XmlEncode(buildMarcaDaBollo(stamp)));
    expect(parseRt(buildRt(minimalRt))).toEqual(minimalRt);
    expect(parseRt(buildRt(full))).toEqual(full);
  });

  it('RPT fixtures parse', () => {
    expect(parseRpt(fixture('rpt-rt/rpt-minimal.xml')).lines).toHaveLength(1);
    const full = parseRpt(fixture('rpt-rt/rpt-full-marca-da-bollo.xml'));
    expect(full.lines[1]?.stamp).toEqual({
      stampType: '01',
      documentHash: '47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=',
      province: 'BA',
    });
    expect(full.totalCents).toBe(4100);
  });

  it('an RPT whose lines do not add up, or a bollo line with an IBAN, is not built', () => {
    expect(codeOf(() => buildRpt({ ...minimalRpt, totalCents: 2600 }))).toBe(
      'xml-semantic-invalid',
    );
    const bad = {
      ...fullRpt,
      lines: [
        fullRpt.lines[0]!,
        { ...fullRpt.lines[1]!, creditIban: 'IT60X0542811101000000123456' },
      ],
    };
    expect(codeOf(() => buildRpt(bad))).toBe('xml-semantic-invalid');
  });
});
