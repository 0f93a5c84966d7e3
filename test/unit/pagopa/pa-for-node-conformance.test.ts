/**
 * Every new-model (paForNode) and nodeForPa document we build, minimal and full, validates against
 * our own WSDL/XSD in wsdl/ and against the official pagoPA files (../shared/pagopa-spec or
 * $PAGOPA_SPEC_DIR). The official half is skipped, with a message, when that folder is absent.
 * The spec-shaped fixtures are validated too, so the parser tests run on documents the Node could
 * really send.
 */
import fs from 'node:fs';
import path from 'node:path';
import * as soap from 'soap';
import {
  type SchemaSet,
  describeWithOfficialSpec,
  extractSoapBody,
  officialSchema,
  officialWsdlSchema,
  ownSchema,
  ownWsdlDir,
  ownWsdlSchema,
  validateAgainstXsd,
} from '../../helpers/xsd';
import {
  PA_FOR_NODE_NS,
  PA_FOR_NODE_OPERATIONS,
  buildCardTopUpDocument,
  buildPaDemandPaymentNoticeRequest,
  buildPaDemandPaymentNoticeResponse,
  buildPaGetPaymentRequest,
  buildPaGetPaymentResponse,
  buildPaSendRtRequest,
  buildPaSendRtResponse,
  buildPaVerifyPaymentNoticeRequest,
  buildPaVerifyPaymentNoticeResponse,
} from '../../../src/adapters/pagopa/pa-for-node';
import {
  NODE_FOR_PA_NS,
  buildFlowListRequest,
  buildFlowListResponse,
  buildFlowRequest,
  buildFlowResponse,
} from '../../../src/adapters/pagopa/node-for-pa';
import * as s from '../../helpers/pa-for-node-samples';

type Case = readonly [name: string, envelope: string, wsdl: 'paForNode' | 'nodeForPa'];

const entries = <T>(r: Record<string, T>): [string, T][] => Object.entries(r);

const built: Case[] = [
  ['paVerifyPaymentNoticeReq', buildPaVerifyPaymentNoticeRequest(s.verifyRequest), 'paForNode'],
  ...entries(s.verifyResponses).map(([n, r]): Case => [
    `paVerifyPaymentNoticeRes ${n}`,
    buildPaVerifyPaymentNoticeResponse(r),
    'paForNode',
  ]),
  ...entries(s.getPaymentRequests).map(([n, r]): Case => [
    `paGetPayment request ${n}`,
    buildPaGetPaymentRequest(r),
    'paForNode',
  ]),
  ...entries(s.getPaymentResponses).map(([n, r]): Case => [
    `paGetPayment response ${n}`,
    buildPaGetPaymentResponse(r.version, r.response),
    'paForNode',
  ]),
  ...entries(s.sendRtRequests).map(([n, r]): Case => [
    `paSendRT request ${n}`,
    buildPaSendRtRequest(r),
    'paForNode',
  ]),
  ...entries(s.sendRtResponses).map(([n, r]): Case => [
    `paSendRT response ${n}`,
    buildPaSendRtResponse(r.version, r.response),
    'paForNode',
  ]),
  ['paDemandPaymentNoticeRequest', buildPaDemandPaymentNoticeRequest(s.demandRequest), 'paForNode'],
  ...entries(s.demandResponses).map(([n, r]): Case => [
    `paDemandPaymentNoticeResponse ${n}`,
    buildPaDemandPaymentNoticeResponse(r),
    'paForNode',
  ]),
  ...entries(s.flowListRequests).map(([n, r]): Case => [
    `nodoChiediElencoFlussiRendicontazione ${n}`,
    buildFlowListRequest(r),
    'nodeForPa',
  ]),
  ...entries(s.flowListResponses).map(([n, r]): Case => [
    `nodoChiediElencoFlussiRendicontazioneRisposta ${n}`,
    buildFlowListResponse(r),
    'nodeForPa',
  ]),
  ...entries(s.flowRequests).map(([n, r]): Case => [
    `nodoChiediFlussoRendicontazione ${n}`,
    buildFlowRequest(r),
    'nodeForPa',
  ]),
  ...entries(s.flowResponses).map(([n, r]): Case => [
    `nodoChiediFlussoRendicontazioneRisposta ${n}`,
    buildFlowResponse(r),
    'nodeForPa',
  ]),
];

/** Fixtures the Node could send as they are (lenient and attack fixtures are not XSD-valid on purpose). */
const validFixtures: Case[] = fs
  .readdirSync(s.fixturesDir)
  .filter((f) => f.endsWith('.xml') && !f.includes('.document.') && !/\.(lenient|attack)-/.test(f))
  .map((f): Case => [f, s.fixture(f), f.startsWith('nodo-') ? 'nodeForPa' : 'paForNode']);

async function expectValid(xml: string, schema: SchemaSet): Promise<void> {
  const result = await validateAgainstXsd(xml, schema);
  expect(result.errors).toEqual([]);
  expect(result.valid).toBe(true);
}

describe('paForNode / nodeForPa documents against our own wsdl/', () => {
  const own = {
    paForNode: ownWsdlSchema('paForNode.wsdl', PA_FOR_NODE_NS),
    nodeForPa: ownWsdlSchema('nodeForPa.wsdl', NODE_FOR_PA_NS),
  };

  it.each(built)('built %s validates', async (_name, envelope, wsdl) => {
    await expectValid(extractSoapBody(envelope), own[wsdl]);
  });

  it.each(validFixtures)('fixture %s validates', async (_name, envelope, wsdl) => {
    await expectValid(extractSoapBody(envelope), own[wsdl]);
  });

  it('the card top-up service document validates against demand-card-top-up.xsd', async () => {
    const schema = ownSchema('xsd/demand-card-top-up.xsd');
    await expectValid(buildCardTopUpDocument(s.cardTopUp), schema);
    await expectValid(
      buildCardTopUpDocument({
        cardCode: '1'.repeat(35),
        account: 'SCHOOL_TRANSPORT',
        amountCents: 1,
      }),
      schema,
    );
    await expectValid(s.fixture('card-top-up.document.xml'), schema);
  });

  it.each([
    ['paForNode.wsdl', [...PA_FOR_NODE_OPERATIONS]],
    [
      'nodeForPa.wsdl',
      ['nodoChiediElencoFlussiRendicontazione', 'nodoChiediFlussoRendicontazione'],
    ],
  ])(
    '%s loads with the soap package, with soapAction = operation name',
    async (file, operations) => {
      const wsdlPath = path.join(ownWsdlDir, file);
      const client = await soap.createClientAsync(wsdlPath);
      const services = Object.values(client.describe()) as Record<
        string,
        Record<string, unknown>
      >[];
      expect(services).toHaveLength(1);
      const ports = Object.values(services[0]!);
      expect(ports).toHaveLength(1);
      expect(Object.keys(ports[0]!).sort()).toEqual([...operations].sort());
      const actions = [...fs.readFileSync(wsdlPath, 'utf8').matchAll(/soapAction="([^"]*)"/g)].map(
        (m) => m[1],
      );
      expect(actions.sort()).toEqual([...operations].sort());
    },
  );

  it('paForNode.wsdl is served at /pagopa/paForNode', () => {
    const wsdl = fs.readFileSync(path.join(ownWsdlDir, 'paForNode.wsdl'), 'utf8');
    expect(/<soap:address location="https?:\/\/[^/"]+(\/[^"]*)"/.exec(wsdl)?.[1]).toBe(
      '/pagopa/paForNode',
    );
  });

  it('rejects a document that breaks the schema (the check can fail)', async () => {
    const envelope = buildPaSendRtRequest(s.sendRtRequests['V1 minimal']!);
    const broken = extractSoapBody(envelope).replace(
      '<paymentAmount>45.60<',
      '<paymentAmount>45.6<',
    );
    const result = await validateAgainstXsd(broken, own.paForNode);
    expect(result.valid).toBe(false);
    const wrongAccount = buildCardTopUpDocument(s.cardTopUp).replace('CANTEEN', 'GYM');
    expect(
      (await validateAgainstXsd(wrongAccount, ownSchema('xsd/demand-card-top-up.xsd'))).valid,
    ).toBe(false);
  });
});

describeWithOfficialSpec(
  'paForNode / nodeForPa documents against the official pagoPA spec',
  (specDir) => {
    const official = {
      paForNode: officialWsdlSchema(specDir, 'wsdl/paForNode.wsdl', PA_FOR_NODE_NS),
      nodeForPa: officialWsdlSchema(specDir, 'wsdl/nodeForPa.wsdl', NODE_FOR_PA_NS),
    };

    it.each(built)('built %s validates', async (_name, envelope, wsdl) => {
      await expectValid(extractSoapBody(envelope), official[wsdl]);
    });

    it.each(validFixtures)('fixture %s validates', async (_name, envelope, wsdl) => {
      await expectValid(extractSoapBody(envelope), official[wsdl]);
    });

    it('the embedded documents of the fixtures validate (MarcaDaBollo, FlussoRiversamento 1.0.4)', async () => {
      await expectValid(
        s.fixture('marca-da-bollo.document.xml'),
        officialSchema(specDir, 'xsd-common/MarcaDaBollo.xsd'),
      );
      await expectValid(
        s.fixture('flusso-riversamento.document.xml'),
        officialSchema(specDir, 'xsd-common/FlussoRiversamento_1_0_4.xsd'),
      );
    });

    it('rejects a document that breaks the schema (the check can fail)', async () => {
      const body = extractSoapBody(buildPaVerifyPaymentNoticeRequest(s.verifyRequest));
      const result = await validateAgainstXsd(
        body.replace('302032002700000251', '30203200270000025'),
        official.paForNode,
      );
      expect(result.valid).toBe(false);
    });
  },
);
