/**
 * Every old-model document and SOAP body we build, in a minimal and a full variant, validates
 * against our own schemas under wsdl/ and against the official pagoPA schemas
 * (../shared/pagopa-spec, or PAGOPA_SPEC_DIR; that half is skipped, saying so, when absent).
 * Fixtures meant to be schema-valid are checked against the official schemas too.
 */
import {
  describeWithOfficialSpec,
  extractSoapHeaders,
  officialSchema,
  officialWsdlSchema,
  ownSchema,
  ownWsdlSchema,
  validateAgainstXsd,
  validateSoapBody,
  type SchemaSet,
} from '../../helpers/xsd';
import { base64XmlEncode } from '../../../src/adapters/pagopa/xml';
import { buildMarcaDaBollo, buildRpt, buildRt } from '../../../src/adapters/pagopa/rpt-rt';
import { buildReportingFlow } from '../../../src/adapters/pagopa/reporting-flow';
import * as soap from '../../../src/adapters/pagopa/old-model-soap';
import {
  credentials,
  fixture,
  fullFault,
  fullFlow,
  fullRpt,
  fullRt,
  header,
  minimalFault,
  minimalFlow,
  minimalRpt,
  minimalRt,
  stamp,
} from './old-model-samples';

type DocKind = 'rpt-rt' | 'bollo' | 'flow-1.0.4' | 'flow-1.0.5';
type WsdlName = 'PaPerNodo' | 'PaPerNodoPagamentoPsp' | 'NodoPerPa';

interface Case {
  readonly name: string;
  readonly xml: string;
  readonly doc?: DocKind;
  readonly wsdl?: WsdlName;
}

const ownDoc: Record<DocKind, string> = {
  'rpt-rt': 'xsd/PagInf_RPT_RT_6_2_0.xsd',
  bollo: 'xsd/MarcaDaBollo.xsd',
  'flow-1.0.4': 'xsd/FlussoRiversamento_1_0_4.xsd',
  'flow-1.0.5': 'xsd/FlussoRiversamento_1_0_5.xsd',
};
const officialDoc: Record<DocKind, string> = {
  'rpt-rt': 'gad/xsd/PagInf_RPT_RT_6_2_0.xsd',
  bollo: 'xsd-common/MarcaDaBollo.xsd',
  'flow-1.0.4': 'xsd-common/FlussoRiversamento_1_0_4.xsd',
  'flow-1.0.5': 'xsd-common/FlussoRiversamento_1_0_5.xsd',
};
const officialWsdl: Record<WsdlName, string> = {
  PaPerNodo: 'gad/wsdl/PaPerNodo.wsdl',
  PaPerNodoPagamentoPsp: 'gad/wsdl/PaPerNodoPagamentoPsp.wsdl',
  NodoPerPa: 'gad/wsdl/NodoPerPa.wsdl',
};

const stampXml = buildMarcaDaBollo(stamp);
const rptB = buildRpt(minimalRpt);
const rtB = buildRt(fullRt(base64XmlEncode(stampXml)));
const flowB = buildReportingFlow(minimalFlow, '1.0.5');
const rptKey = { ...credentials, domainId: '77777777777', iuv: '02000000000012345', ccp: 'n/a' };
const route = { pspId: 'AGID_01', pspBrokerId: '97735020584', channelId: '97735020584_02' };

const cases: Case[] = [
  { name: 'RPT minimal', xml: rptB, doc: 'rpt-rt' },
  { name: 'RPT full (marca da bollo line)', xml: buildRpt(fullRpt), doc: 'rpt-rt' },
  { name: 'RT minimal (outcome 3)', xml: buildRt(minimalRt), doc: 'rpt-rt' },
  { name: 'RT full (outcome 2, ES and BD attachments)', xml: rtB, doc: 'rpt-rt' },
  { name: 'MarcaDaBollo', xml: stampXml, doc: 'bollo' },
  { name: 'flow 1.0.4 minimal', xml: buildReportingFlow(minimalFlow, '1.0.4'), doc: 'flow-1.0.4' },
  {
    name: 'flow 1.0.4 full (0, 3, 9)',
    xml: buildReportingFlow(fullFlow([0, 3, 9]), '1.0.4'),
    doc: 'flow-1.0.4',
  },
  { name: 'flow 1.0.5 minimal', xml: flowB, doc: 'flow-1.0.5' },
  {
    name: 'flow 1.0.5 full (0, 4, 8, 9)',
    xml: buildReportingFlow(fullFlow([0, 4, 8, 9]), '1.0.5'),
    doc: 'flow-1.0.5',
  },

  {
    name: 'paaInviaRT request',
    xml: soap.buildPaaInviaRTRequest({ header, signatureType: '0', rtXml: rtB }),
    wsdl: 'PaPerNodo',
  },
  {
    name: 'paaInviaRT response minimal',
    xml: soap.buildPaaInviaRTResponse({ outcome: 'OK' }),
    wsdl: 'PaPerNodo',
  },
  {
    name: 'paaInviaRT response fault',
    xml: soap.buildPaaInviaRTResponse({ fault: fullFault, outcome: 'KO' }),
    wsdl: 'PaPerNodo',
  },

  {
    name: 'paaVerificaRPT request',
    xml: soap.buildPaaVerificaRPTRequest({ header, pspId: 'BCITITMM' }),
    wsdl: 'PaPerNodoPagamentoPsp',
  },
  {
    name: 'paaVerificaRPT response fault',
    xml: soap.buildPaaVerificaRPTResponse({ fault: minimalFault, outcome: 'KO' }),
    wsdl: 'PaPerNodoPagamentoPsp',
  },
  {
    name: 'paaVerificaRPT response minimal OK',
    xml: soap.buildPaaVerificaRPTResponse({
      outcome: 'OK',
      paymentData: {
        amountCents: 4280,
        creditIban: 'IT60X0542811101000000123456',
        remittance: { kind: 'text', text: 'Verbale 12345' },
      },
    }),
    wsdl: 'PaPerNodoPagamentoPsp',
  },
  {
    name: 'paaVerificaRPT response full (creditor, spezzoni)',
    xml: soap.buildPaaVerificaRPTResponse({
      outcome: 'OK',
      paymentData: {
        amountCents: 4280,
        creditIban: 'IT60X0542811101000000123456',
        creditBic: 'BPPIITRRXXX',
        creditor: { taxCode: '77777777777', name: 'Comune di Prova', city: 'Bari', country: 'IT' },
        payerCredentials: 'CRED-1',
        remittance: {
          kind: 'parts',
          parts: [
            { text: 'Verbale 12345/2024' },
            { text: 'Sanzione', amountCents: 2940 },
            { text: 'Notifica', amountCents: 1340 },
          ],
        },
      },
    }),
    wsdl: 'PaPerNodoPagamentoPsp',
  },
  {
    name: 'paaAttivaRPT request minimal',
    xml: soap.buildPaaAttivaRPTRequest({
      header,
      pspId: 'BCITITMM',
      pspPaymentData: { amountCents: 4280 },
      pspBrokerId: '00799960158',
      pspChannelId: '00799960158_01',
    }),
    wsdl: 'PaPerNodoPagamentoPsp',
  },
  {
    name: 'paaAttivaRPT request full',
    xml: soap.buildPaaAttivaRPTRequest({
      header,
      pspId: 'BCITITMM',
      pspPaymentData: {
        amountCents: 4280,
        supportIban: 'IT02L1234512345123456789012',
        supportBic: 'BCITITMM',
        payer: {
          kind: 'F',
          taxCode: 'RSSMRA80A01F205X',
          name: 'Mario Rossi',
          email: 'mario@example.it',
        },
        debitIban: 'IT02L1234512345123456789012',
        debitBic: 'BCITITMM',
        debtor: { kind: 'G', taxCode: '01234567890', name: 'Acme S.r.l.', country: 'IT' },
      },
      pspBrokerId: '00799960158',
      pspChannelId: '00799960158_01',
    }),
    wsdl: 'PaPerNodoPagamentoPsp',
  },
  {
    name: 'paaAttivaRPT response OK',
    xml: soap.buildPaaAttivaRPTResponse({
      outcome: 'OK',
      paymentData: {
        amountCents: 0,
        creditIban: 'IT60X0542811101000000123456',
        remittance: { kind: 'text', text: '' },
      },
    }),
    wsdl: 'PaPerNodoPagamentoPsp',
  },

  {
    name: 'nodoInviaRPT request minimal',
    xml: soap.buildNodoInviaRPTRequest({
      header,
      password: credentials.password,
      ...route,
      rptXml: rptB,
    }),
    wsdl: 'NodoPerPa',
  },
  {
    name: 'nodoInviaRPT request full',
    xml: soap.buildNodoInviaRPTRequest({
      header,
      password: credentials.password,
      ...route,
      signatureType: '0',
      rptXml: rptB,
    }),
    wsdl: 'NodoPerPa',
  },
  {
    name: 'nodoInviaRPT response minimal',
    xml: soap.buildNodoInviaRPTResponse({ outcome: 'OK' }),
    wsdl: 'NodoPerPa',
  },
  {
    name: 'nodoInviaRPT response full',
    xml: soap.buildNodoInviaRPTResponse({
      fault: fullFault,
      outcome: 'KO',
      redirect: 0,
      url: 'https://example.org/?idSession=1',
    }),
    wsdl: 'NodoPerPa',
  },
  {
    name: 'nodoInviaCarrelloRPT request minimal',
    xml: soap.buildNodoInviaCarrelloRPTRequest({
      header: {
        brokerId: '77777777777',
        stationId: '77777777777_01',
        cartId: '7777777777730200000000001234-00001',
      },
      password: credentials.password,
      ...route,
      items: [{ domainId: '77777777777', iuv: '02000000000012345', ccp: 'n/a', rptXml: rptB }],
    }),
    wsdl: 'NodoPerPa',
  },
  {
    name: 'nodoInviaCarrelloRPT request full',
    xml: soap.buildNodoInviaCarrelloRPTRequest({
      header: { brokerId: '77777777777', stationId: '77777777777_01', cartId: 'CART-1' },
      password: credentials.password,
      ...route,
      items: [1, 2, 3, 4, 5].map((i) => ({
        domainId: '77777777777',
        iuv: `0200000000001234${i}`,
        ccp: 'n/a',
        signatureType: '0',
        rptXml: rptB,
      })),
      requireLightPayment: true,
      conventionCode: 'CONV1',
      multiBeneficiary: false,
    }),
    wsdl: 'NodoPerPa',
  },
  {
    name: 'nodoInviaCarrelloRPT response minimal',
    xml: soap.buildNodoInviaCarrelloRPTResponse({ outcome: 'OK', rptErrors: [] }),
    wsdl: 'NodoPerPa',
  },
  {
    name: 'nodoInviaCarrelloRPT response full',
    xml: soap.buildNodoInviaCarrelloRPTResponse({
      fault: minimalFault,
      outcome: 'KO',
      url: 'https://example.org',
      rptErrors: [fullFault, { ...minimalFault, serial: 2 }],
    }),
    wsdl: 'NodoPerPa',
  },
  {
    name: 'nodoChiediStatoRPT request',
    xml: soap.buildNodoChiediStatoRPTRequest(rptKey),
    wsdl: 'NodoPerPa',
  },
  {
    name: 'nodoChiediStatoRPT response minimal',
    xml: soap.buildNodoChiediStatoRPTResponse({
      status: { state: 'RPT_ACCETTATA_NODO', rptHistory: [], paymentHistory: [] },
    }),
    wsdl: 'NodoPerPa',
  },
  {
    name: 'nodoChiediStatoRPT response full',
    xml: soap.buildNodoChiediStatoRPTResponse({
      fault: minimalFault,
      status: {
        state: 'RT_ACCETTATA_PA',
        redirect: 1,
        url: 'https://example.org',
        rptHistory: [
          { at: '2024-03-15T10:20:01', state: 'RPT_RICEVUTA_NODO', description: 'ricevuta' },
        ],
        paymentHistory: [
          { progressive: 1, at: '2024-03-15T10:22:31+01:00', state: 'PAGATO', description: 'ok' },
        ],
      },
    }),
    wsdl: 'NodoPerPa',
  },
  {
    name: 'nodoChiediCopiaRT request',
    xml: soap.buildNodoChiediCopiaRTRequest(rptKey),
    wsdl: 'NodoPerPa',
  },
  {
    name: 'nodoChiediCopiaRT response minimal',
    xml: soap.buildNodoChiediCopiaRTResponse({}),
    wsdl: 'NodoPerPa',
  },
  {
    name: 'nodoChiediCopiaRT response full',
    xml: soap.buildNodoChiediCopiaRTResponse({ fault: fullFault, signatureType: '0', rtXml: rtB }),
    wsdl: 'NodoPerPa',
  },
  {
    name: 'nodoChiediListaPendentiRPT request minimal',
    xml: soap.buildNodoChiediListaPendentiRPTRequest({ ...credentials, maxResults: 100 }),
    wsdl: 'NodoPerPa',
  },
  {
    name: 'nodoChiediListaPendentiRPT request full',
    xml: soap.buildNodoChiediListaPendentiRPTRequest({
      ...credentials,
      domainId: '77777777777',
      from: '2024-03-01T00:00:00',
      to: '2024-03-31T23:59:59',
      maxResults: 100,
    }),
    wsdl: 'NodoPerPa',
  },
  {
    name: 'nodoChiediListaPendentiRPT response minimal',
    xml: soap.buildNodoChiediListaPendentiRPTResponse({}),
    wsdl: 'NodoPerPa',
  },
  {
    name: 'nodoChiediListaPendentiRPT response full',
    xml: soap.buildNodoChiediListaPendentiRPTResponse({
      fault: minimalFault,
      pending: {
        totalReturned: 1,
        items: [
          {
            domainId: '77777777777',
            iuv: '02000000000012345',
            ccp: 'n/a',
            state: 'RPT_ACCETTATA_PSP',
          },
        ],
      },
    }),
    wsdl: 'NodoPerPa',
  },
  {
    name: 'nodoChiediElencoFlussi request minimal',
    xml: soap.buildNodoChiediElencoFlussiRequest(credentials),
    wsdl: 'NodoPerPa',
  },
  {
    name: 'nodoChiediElencoFlussi request full',
    xml: soap.buildNodoChiediElencoFlussiRequest({
      ...credentials,
      domainId: '77777777777',
      pspId: 'BCITITMM',
    }),
    wsdl: 'NodoPerPa',
  },
  {
    name: 'nodoChiediElencoFlussi response minimal',
    xml: soap.buildNodoChiediElencoFlussiResponse({}),
    wsdl: 'NodoPerPa',
  },
  {
    name: 'nodoChiediElencoFlussi response full',
    xml: soap.buildNodoChiediElencoFlussiResponse({
      fault: minimalFault,
      flows: {
        totalReturned: 1,
        items: [{ flowId: '2024-03-16BCITITMM-0001', flowDateTime: '2024-03-17T08:15:00' }],
      },
    }),
    wsdl: 'NodoPerPa',
  },
  {
    name: 'nodoChiediFlusso request minimal',
    xml: soap.buildNodoChiediFlussoRequest({ ...credentials, flowId: '2024-03-16BCITITMM-0001' }),
    wsdl: 'NodoPerPa',
  },
  {
    name: 'nodoChiediFlusso request full',
    xml: soap.buildNodoChiediFlussoRequest({
      ...credentials,
      domainId: '77777777777',
      pspId: 'BCITITMM',
      flowId: '2024-03-16BCITITMM-0001',
    }),
    wsdl: 'NodoPerPa',
  },
  {
    name: 'nodoChiediFlusso response minimal',
    xml: soap.buildNodoChiediFlussoResponse({}),
    wsdl: 'NodoPerPa',
  },
  {
    name: 'nodoChiediFlusso response full',
    xml: soap.buildNodoChiediFlussoResponse({ fault: minimalFault, flowXml: flowB }),
    wsdl: 'NodoPerPa',
  },
];

const validFixtures: { file: string; doc?: DocKind; wsdl?: WsdlName }[] = [
  ...[
    'rt-outcome0-single.xml',
    'rt-outcome0-multi-transfer.xml',
    'rt-outcome1-not-paid.xml',
    'rt-outcome2-partial.xml',
    'rt-outcome3-time-limit.xml',
    'rt-outcome4-partial-time-limit.xml',
    'rt-marca-da-bollo.xml',
    'rpt-minimal.xml',
    'rpt-full-marca-da-bollo.xml',
  ].map((f) => ({ file: `rpt-rt/${f}`, doc: 'rpt-rt' as const })),
  { file: 'rpt-rt/marca-da-bollo.xml', doc: 'bollo' },
  { file: 'reporting/flusso-1.0.4.xml', doc: 'flow-1.0.4' },
  { file: 'reporting/flusso-1.0.5-standin.xml', doc: 'flow-1.0.5' },
  ...[
    'paaInviaRT.req.xml',
    'paaInviaRT.req.marca-da-bollo.other-prefixes.xml',
    'paaInviaRT.res.ok.xml',
    'paaInviaRT.res.fault.xml',
  ].map((f) => ({
    file: `soap/old-model/${f}`,
    wsdl: 'PaPerNodo' as const,
  })),
  ...[
    'paaVerificaRPT.req.xml',
    'paaVerificaRPT.res.ok.spezzoni.xml',
    'paaVerificaRPT.res.fault.xml',
    'paaAttivaRPT.req.xml',
  ].map((f) => ({
    file: `soap/old-model/${f}`,
    wsdl: 'PaPerNodoPagamentoPsp' as const,
  })),
  ...[
    'nodoInviaRPT.res.ok.xml',
    'nodoInviaRPT.res.fault-extended.xml',
    'nodoInviaCarrelloRPT.res.ko.xml',
    'nodoChiediStatoRPT.res.xml',
    'nodoChiediCopiaRT.res.xml',
    'nodoChiediCopiaRT.res.fault.xml',
    'nodoChiediListaPendentiRPT.res.xml',
    'nodoChiediElencoFlussiRendicontazione.res.xml',
    'nodoChiediFlussoRendicontazione.res.xml',
    'nodoChiediFlussoRendicontazione.res.fault.xml',
  ].map((f) => ({ file: `soap/old-model/${f}`, wsdl: 'NodoPerPa' as const })),
];

async function validateCase(
  c: { xml: string; doc?: DocKind; wsdl?: WsdlName },
  schemas: (c: Case) => { body: SchemaSet; head?: SchemaSet },
): Promise<string[]> {
  const { body, head } = schemas(c as Case);
  if (c.doc !== undefined) return (await validateAgainstXsd(c.xml, body)).errors;
  const errors = [...(await validateSoapBody(c.xml, body)).errors];
  if (head !== undefined) {
    for (const h of extractSoapHeaders(c.xml))
      errors.push(...(await validateAgainstXsd(h, head)).errors);
  }
  return errors;
}

const ownSchemas = (c: Case): { body: SchemaSet; head?: SchemaSet } =>
  c.doc !== undefined
    ? { body: ownSchema(ownDoc[c.doc]) }
    : {
        body: ownWsdlSchema(`${c.wsdl!}.wsdl`, soap.PPT_NS),
        head: ownWsdlSchema(`${c.wsdl!}.wsdl`, soap.PPT_HEAD_NS),
      };

describe('old-model documents and SOAP bodies validate against our own wsdl/ schemas', () => {
  it.each(cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    expect(await validateCase(c, ownSchemas)).toEqual([]);
  });

  it.each(validFixtures.map((f) => [f.file, f] as const))('fixture %s', async (_name, f) => {
    expect(await validateCase({ ...f, xml: fixture(f.file) }, ownSchemas)).toEqual([]);
  });

  it('rejects a document that breaks the schema (so the checks can fail)', async () => {
    const broken = buildRt(minimalRt).replace(
      '<importoTotalePagato>0.00</importoTotalePagato>',
      '<importoTotalePagato>0</importoTotalePagato>',
    );
    const res = await validateAgainstXsd(broken, ownSchema(ownDoc['rpt-rt']));
    expect(res.valid).toBe(false);
    expect(res.errors.join('\n')).toMatch(/importoTotalePagato/);
    const wrongOrder = soap
      .buildNodoInviaRPTResponse({ outcome: 'OK', url: 'u', redirect: 1 })
      .replace(/<redirect>1<\/redirect>(<url>u<\/url>)/, '$1<redirect>1</redirect>');
    expect(
      (await validateSoapBody(wrongOrder, ownWsdlSchema('NodoPerPa.wsdl', soap.PPT_NS))).valid,
    ).toBe(false);
    expect(
      (
        await validateAgainstXsd(
          fixture('rpt-rt/rt-ccp-lowercase-variant.xml'),
          ownSchema(ownDoc['rpt-rt']),
        )
      ).valid,
    ).toBe(false);
  });
});

describeWithOfficialSpec(
  'old-model documents and SOAP bodies validate against the official pagoPA schemas',
  (specDir) => {
    const officialSchemas = (c: Case): { body: SchemaSet; head?: SchemaSet } =>
      c.doc !== undefined
        ? { body: officialSchema(specDir, officialDoc[c.doc]) }
        : {
            body: officialWsdlSchema(specDir, officialWsdl[c.wsdl!], soap.PPT_NS),
            head: officialWsdlSchema(specDir, officialWsdl[c.wsdl!], soap.PPT_HEAD_NS),
          };

    it.each(cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
      expect(await validateCase(c, officialSchemas)).toEqual([]);
    });

    it.each(validFixtures.map((f) => [f.file, f] as const))('fixture %s', async (_name, f) => {
      expect(await validateCase({ ...f, xml: fixture(f.file) }, officialSchemas)).toEqual([]);
    });

    it('1.0.5 has no code 3 and 1.0.4 has no stand-in codes, as in the official files', async () => {
      const with3 = buildReportingFlow(fullFlow([3]), '1.0.4');
      const with4 = buildReportingFlow(fullFlow([4]), '1.0.5');
      expect(
        (await validateAgainstXsd(with3, officialSchema(specDir, officialDoc['flow-1.0.5']))).valid,
      ).toBe(false);
      expect(
        (await validateAgainstXsd(with4, officialSchema(specDir, officialDoc['flow-1.0.4']))).valid,
      ).toBe(false);
    });
  },
);
