/**
 * MyPay documents and SIL bodies: round trips, refusals, and validity against our schemas in
 * wsdl/mypay/ and against MyPay's official ones (../shared/pagopa-spec/regional/mypay; that half is
 * skipped, saying so, when the folder is absent).
 */
import path from 'node:path';
import {
  buildDovuti,
  buildPagati,
  buildVersamento,
  parseDovuti,
  parsePagati,
  parseVersamento,
} from '../../../src/adapters/mypay/documents';
import * as sil from '../../../src/adapters/mypay/sil-soap';
import {
  describeWithOfficialSpec,
  extractSoapHeaders,
  officialWsdlSchema,
  ownSchema,
  ownWsdlSchema,
  validateAgainstXsd,
  validateSoapBody,
  type SchemaSet,
} from '../../helpers/xsd';
import { fixture } from '../pagopa/old-model-samples';
import { dueImport, dues, paid, payer } from './samples';

const SIL_NS = 'http://www.regione.veneto.it/pagamenti/ente/';
const HEAD_NS = 'http://www.regione.veneto.it/pagamenti/ente/ppthead';
const caller = { ipaCode: 'C_A669', password: 'SilPwd!2024' };
const minimalDues = {
  payer: { kind: 'F', taxCode: 'RSSMRA80A01F205X', name: 'Mario Rossi' },
  items: [dues.items[0]!],
} as const;
const minimalPaid = { ...paid, outcome: 1 as const, totalPaidCents: 0, lines: [] };

const documents: [string, string][] = [
  ['Dovuti (full)', buildDovuti(dues)],
  ['Dovuti (minimal)', buildDovuti(minimalDues)],
  ['Versamento (full)', buildVersamento(dueImport)],
  [
    'Versamento (cancel, minimal)',
    buildVersamento({
      ...dueImport,
      action: 'A',
      payer: undefined as never,
      dueDate: undefined as never,
    }),
  ],
  ['Pagati (paid)', buildPagati(paid)],
  ['Pagati (not paid, no lines)', buildPagati(minimalPaid)],
  ['Pagati fixture', fixture('mypay/pagati.paid.xml')],
];

const bodies: [string, string][] = [
  [
    'paaSILInviaDovuti',
    sil.buildInviaDovutiRequest({
      caller,
      dovutiXml: buildDovuti(dues),
      returnUrl: 'https://comune.example/back',
    }),
  ],
  [
    'paaSILInviaDovuti (no password)',
    sil.buildInviaDovutiRequest({
      caller: { ipaCode: 'C_A669' },
      dovutiXml: buildDovuti(minimalDues),
    }),
  ],
  [
    'paaSILImportaDovuto',
    sil.buildImportaDovutoRequest({
      caller,
      versamentoXml: buildVersamento(dueImport),
      generateIuv: true,
    }),
  ],
  ['paaSILChiediPagati', sil.buildChiediPagatiRequest({ caller, sessionId: 'abc' })],
  ...[
    'paaSILChiediPagati.res.paid',
    'paaSILChiediPagati.res.non-iniziato',
    'paaSILChiediPagati.res.system-error',
    'paaSILInviaDovuti.res.ok',
    'paaSILInviaDovuti.res.ko',
    'paaSILImportaDovuto.res.ok',
    'paaSILImportaDovuto.res.ko',
  ].map((f): [string, string] => [`fixture ${f}`, fixture(`mypay/${f}.xml`)]),
];

async function expectValid(xml: string, schema: SchemaSet): Promise<void> {
  const r = await validateAgainstXsd(xml, schema);
  expect(r.errors).toEqual([]);
  expect(r.valid).toBe(true);
}

describe('MyPay documents', () => {
  test('Dovuti, Versamento and Pagati survive a round trip', () => {
    expect(parseDovuti(buildDovuti(dues))).toEqual({ ...dues, paymentTypes: 'ALL' });
    const { generateIuv, ...rest } = dueImport;
    expect(generateIuv).toBe(true);
    expect(parseVersamento(buildVersamento(dueImport))).toEqual(rest);
    expect(parsePagati(buildPagati(paid))).toEqual(paid);
    expect(parsePagati(fixture('mypay/pagati.paid.xml'))).toEqual(paid);
  });

  test.each([
    ['no items', { ...dues, items: [] }],
    ['six items', { ...dues, items: Array(6).fill(dues.items[0]) }],
    ['zero amount', { ...dues, items: [{ ...dues.items[0]!, amountCents: 0 }] }],
    ['bad collection data', { ...dues, items: [{ ...dues.items[0]!, collectionData: 'mensa' }] }],
    ['bad province', { ...dues, payer: { ...payer, province: 'Barletta' } }],
  ])('a Dovuti with %s is refused before sending', (_name, bad) => {
    expect(() => buildDovuti(bad as typeof dues)).toThrow(
      expect.objectContaining({ code: 'invalid-input' }),
    );
  });

  test('a Pagati with a broken amount or outcome is refused', () => {
    const good = buildPagati(paid);
    expect(() =>
      parsePagati(good.replace('<importoTotalePagato>25.00', '<importoTotalePagato>25')),
    ).toThrow(expect.objectContaining({ code: 'amount-invalid' }));
    expect(() =>
      parsePagati(good.replace('<codiceEsitoPagamento>0', '<codiceEsitoPagamento>7')),
    ).toThrow(expect.objectContaining({ code: 'xml-schema-invalid' }));
  });

  test('SIL requests and answers survive a round trip', () => {
    const inv = sil.parseInviaDovutiRequest(bodies[0]![1]);
    expect(inv).toEqual({
      caller,
      dovutiXml: buildDovuti(dues),
      returnUrl: 'https://comune.example/back',
    });
    expect(sil.parseImportaDovutoRequest(bodies[2]![1])).toMatchObject({
      caller,
      generateIuv: true,
    });
    expect(sil.parseChiediPagatiRequest(bodies[3]![1])).toEqual({ caller, sessionId: 'abc' });
    expect(sil.parseChiediPagatiResponse(fixture('mypay/paaSILChiediPagati.res.paid.xml'))).toEqual(
      {
        pagatiXml: fixture('mypay/pagati.paid.xml').trimEnd(),
      },
    );
    expect(
      sil.parseInviaDovutiResponse(fixture('mypay/paaSILInviaDovuti.res.ko.xml')),
    ).toMatchObject({
      outcome: 'KO',
      fault: { faultCode: 'PAA_ENTE_NON_VALIDO' },
    });
  });

  test('a password outside 8..15 characters is refused', () => {
    expect(() =>
      sil.buildChiediPagatiRequest({
        caller: { ipaCode: 'C_A669', password: 'short' },
        sessionId: 'x',
      }),
    ).toThrow(expect.objectContaining({ code: 'invalid-input' }));
  });
});

describe('MyPay conformance: our schemas', () => {
  test.each(documents)(
    '%s is valid against wsdl/mypay/PagInf_Dovuti_Pagati_6_2_0.xsd',
    async (_n, xml) => {
      await expectValid(xml, ownSchema('mypay/PagInf_Dovuti_Pagati_6_2_0.xsd'));
    },
  );
  test.each(bodies)('%s body is valid against wsdl/mypay/pa-per-ente.wsdl', async (_n, xml) => {
    const r = await validateSoapBody(xml, ownWsdlSchema('mypay/pa-per-ente.wsdl', SIL_NS));
    expect(r.errors).toEqual([]);
    for (const h of extractSoapHeaders(xml))
      await expectValid(h, ownWsdlSchema('mypay/pa-per-ente.wsdl', HEAD_NS));
  });
  test('our schema refuses what MyPay would refuse (a zero amount)', async () => {
    const bad = buildDovuti(dues).replace(
      '<importoSingoloVersamento>25.00',
      '<importoSingoloVersamento>0.00',
    );
    expect(
      (await validateAgainstXsd(bad, ownSchema('mypay/PagInf_Dovuti_Pagati_6_2_0.xsd'))).valid,
    ).toBe(false);
  });
});

/**
 * MyPay's WSDL refers to `ppthead:stText35` from the `ente` schema without importing that
 * namespace: Java stacks accept it, libxml2 does not. This adds the missing import (pointing at
 * the WSDL's own ppthead schema) and changes nothing else.
 */
function withHeadImport(set: SchemaSet): SchemaSet {
  const main = set.main;
  if (typeof main === 'string') return set;
  const headFile = path.basename(main.fileName).replace(/types-\d+\.xsd$/, 'types-0.xsd');
  const contents = main.contents.replace(
    /(<xsd:schema\b[^>]*>)/,
    `$1<xsd:import namespace="${HEAD_NS}" schemaLocation="${headFile}"/>`,
  );
  return { ...set, main: { fileName: main.fileName, contents } };
}

describeWithOfficialSpec('MyPay conformance: official schemas', (specDir) => {
  const wsdlRel = 'regional/mypay/wsdl/pa/pa-per-ente.wsdl';
  const docSchema = (): SchemaSet => ({
    main: path.join(specDir, 'regional/mypay/wsdl/pa/PagInf_Dovuti_Pagati_6_2_0.xsd'),
  });
  test.each(documents)(
    '%s is valid against the official PagInf_Dovuti_Pagati_6_2_0.xsd',
    async (_n, xml) => {
      await expectValid(xml, docSchema());
    },
  );
  test.each(bodies)('%s body is valid against the official pa-per-ente.wsdl', async (_n, xml) => {
    const r = await validateSoapBody(
      xml,
      withHeadImport(officialWsdlSchema(specDir, wsdlRel, SIL_NS)),
    );
    expect(r.errors).toEqual([]);
    for (const h of extractSoapHeaders(xml))
      await expectValid(h, officialWsdlSchema(specDir, wsdlRel, HEAD_NS));
  });
});
