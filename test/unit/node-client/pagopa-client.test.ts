/**
 * The pagopa dialect: Checkout carts, biz-events receipt recovery and the nodeForPa reporting
 * flows, against nock with real answers (fixtures and our codecs).
 */
import nock from 'nock';
import {
  buildFlowListResponse,
  buildFlowResponse,
  parseFlowListRequest,
} from '../../../src/adapters/pagopa/node-for-pa';
import { buildReportingFlow } from '../../../src/adapters/pagopa/reporting-flow';
import { createNodeClient, PagopaNodeClient } from '../../../src/adapters/node-client';
import { fixture, minimalFlow } from '../pagopa/old-model-samples';
import { aDomain, harness, useNock, wsdl, type Harness } from './helpers';

const CHECKOUT = 'https://api.uat.platform.pagopa.it';
const REST = 'https://api.uat.platform.pagopa.it/bizevents/service/v1';
const NODE = 'https://api.uat.platform.pagopa.it';
const KEY = 'sub-key-pagopa-0001';
const PASSWORD = 'St4tionPwd!';

const settings = {
  nodeBaseUrl: NODE,
  checkoutBaseUrl: CHECKOUT,
  nodeRestBaseUrl: REST,
  mypayBaseUrl: undefined,
  nodeTimeoutMs: 2_000,
  nodeRetryAttemptsMax: 3,
  nodeRetryBackoffBaseMs: 1,
  nodeCircuitFailuresMax: 50,
  nodeCircuitOpenMs: 30_000,
  nodeTls: {},
};

function client(h: Harness): PagopaNodeClient {
  const c = createNodeClient(
    aDomain({ dialect: 'pagopa', subscriptionKeyEnv: 'PG_KEY', stationPasswordEnv: 'PG_PWD' }),
    { settings, transport: h.transport, wsdl, env: { PG_KEY: KEY, PG_PWD: PASSWORD } },
  );
  if (!(c instanceof PagopaNodeClient)) throw new Error('expected the pagopa client');
  return c;
}

const notice = {
  noticeNumber: '302000000000012345',
  domainFiscalCode: '77777777777',
  amountCents: 2500,
  companyName: 'Comune di Prova',
  description: 'Ricarica mensa',
};
const cart = {
  notices: [notice],
  returnUrls: {
    ok: 'https://comune.example/ok',
    cancel: 'https://comune.example/cancel',
    error: 'https://comune.example/error',
  },
  cartId: 'cart-0001',
};

describe('pagopa dialect client', () => {
  useNock();
  let h: Harness;
  beforeEach(() => {
    h = harness();
  });

  test('a Checkout cart is POSTed with the subscription key; the 302 Location is the redirect', async () => {
    let body: unknown;
    nock(CHECKOUT, { reqheaders: { 'ocp-apim-subscription-key': KEY } })
      .post('/checkout/ec/v1/carts', (b: unknown) => {
        body = b;
        return true;
      })
      .reply(302, '', { Location: 'https://uat.checkout.pagopa.it/c/cart-0001' });
    await expect(client(h).start(cart)).resolves.toEqual({
      redirectUrl: 'https://uat.checkout.pagopa.it/c/cart-0001',
    });
    expect(body).toEqual({
      paymentNotices: [
        {
          noticeNumber: '302000000000012345',
          fiscalCode: '77777777777',
          amount: 2500,
          companyName: 'Comune di Prova',
          description: 'Ricarica mensa',
        },
      ],
      returnUrls: {
        returnOkUrl: 'https://comune.example/ok',
        returnCancelUrl: 'https://comune.example/cancel',
        returnErrorUrl: 'https://comune.example/error',
      },
      idCart: 'cart-0001',
    });
  });

  test("Checkout's 400 is upstream-error with status and problem title; a 503 is not retried", async () => {
    nock(CHECKOUT)
      .post('/checkout/ec/v1/carts')
      .reply(400, fixture('node/checkout-cart.bad-request.json'), {
        'content-type': 'application/problem+json',
      });
    await expect(client(h).start(cart)).rejects.toMatchObject({
      code: 'upstream-error',
      details: { status: 400, title: 'Bad Request' },
    });
    nock(CHECKOUT).post('/checkout/ec/v1/carts').reply(503);
    await expect(client(h).start(cart)).rejects.toMatchObject({ details: { status: 503 } });
    expect(h.sleeps).toEqual([]);
  });

  test('a cart outside 1..5 notices or with a bad notice is refused before sending', async () => {
    await expect(client(h).start({ ...cart, notices: [] })).rejects.toMatchObject({
      code: 'invalid-input',
    });
    await expect(
      client(h).start({ ...cart, notices: Array(6).fill(notice) }),
    ).rejects.toMatchObject({
      code: 'invalid-input',
    });
    await expect(
      client(h).start({ ...cart, notices: [{ ...notice, amountCents: 12.5 }] }),
    ).rejects.toMatchObject({ code: 'invalid-input' });
  });

  test('a receipt is recovered from biz-events by receipt id and IUV; 404 is not-found', async () => {
    const json = fixture('node/bizevents-receipt.ok.json');
    nock(REST, { reqheaders: { 'ocp-apim-subscription-key': KEY } })
      .get(
        '/organizations/77777777777/receipts/c110729d258c4ab1b765fe902aae41d6/paymentoptions/02000000000012345',
      )
      .reply(200, json, { 'content-type': 'application/json' });
    await expect(
      client(h).copy({
        domainId: '77777777777',
        receiptId: 'c110729d258c4ab1b765fe902aae41d6',
        iuv: '02000000000012345',
      }),
    ).resolves.toEqual({ kind: 'found', format: 'json', raw: json, source: 'bizevents' });
    nock(REST)
      .get('/organizations/77777777777/receipts/unknown')
      .reply(404, { title: 'Not Found' });
    await expect(
      client(h).copy({ domainId: '77777777777', receiptId: 'unknown' }),
    ).resolves.toEqual({
      kind: 'not-found',
      reason: 'HTTP 404',
    });
  });

  test('receipt recovery is retried on 5xx but not on 429 (throttling) or 401', async () => {
    nock(REST)
      .get('/organizations/77777777777/receipts/R1')
      .reply(502)
      .get('/organizations/77777777777/receipts/R1')
      .reply(200, '{}');
    await expect(
      client(h).copy({ domainId: '77777777777', receiptId: 'R1' }),
    ).resolves.toMatchObject({ kind: 'found' });
    nock(REST).get('/organizations/77777777777/receipts/R2').reply(429);
    await expect(
      client(h).copy({ domainId: '77777777777', receiptId: 'R2' }),
    ).rejects.toMatchObject({
      details: { status: 429 },
    });
    nock(REST).get('/organizations/77777777777/receipts/R3').reply(401);
    await expect(
      client(h).copy({ domainId: '77777777777', receiptId: 'R3' }),
    ).rejects.toMatchObject({
      details: { status: 401 },
    });
    expect(h.sleeps).toHaveLength(1);
  });

  test('nodeForPa: flow list with key and password, then one flow; KO faults carry the PPT code', async () => {
    let sent = '';
    const nfpa = (op: string) =>
      nock(NODE, { reqheaders: { soapaction: `"${op}"`, 'ocp-apim-subscription-key': KEY } }).post(
        '/nodo-auth/node-for-pa/v1',
      );
    nfpa('nodoChiediElencoFlussiRendicontazione').reply(200, (_u, b) => {
      sent = b as string;
      return fixture('soap/new-model/nodo-chiedi-elenco-flussi-rendicontazione.res.ok.xml');
    });
    const flows = await client(h).listFlows(new Date('2026-11-03T00:00:00Z'));
    expect(flows).toEqual([
      {
        flowId: '2026-11-03POSTE3-0000000042',
        flowDate: '2026-11-03T23:59:59.999+01:00',
        pspId: 'POSTE3',
      },
    ]);
    expect(parseFlowListRequest(sent)).toMatchObject({
      caller: { password: PASSWORD, stationId: '77777777777_01' },
      domainId: '77777777777',
    });
    const flowXml = buildReportingFlow(minimalFlow);
    nfpa('nodoChiediFlussoRendicontazione').reply(
      200,
      buildFlowResponse({ outcome: 'OK', flowXml }),
    );
    await expect(client(h).downloadFlow(flows[0]!)).resolves.toBe(flowXml);
    nfpa('nodoChiediFlussoRendicontazione').reply(
      200,
      fixture('soap/new-model/nodo-chiedi-flusso-rendicontazione.res.ko.xml'),
    );
    await expect(client(h).downloadFlow({ flowId: 'x' })).rejects.toMatchObject({
      code: 'upstream-error',
    });
    nfpa('nodoChiediElencoFlussiRendicontazione').reply(
      200,
      buildFlowListResponse({
        outcome: 'KO',
        fault: {
          faultCode: 'PPT_AUTORIZZAZIONE',
          faultString: 'non autorizzato',
          id: 'NodoDeiPagamentiSPC',
        },
      }),
    );
    await expect(client(h).listFlows(new Date(0))).rejects.toMatchObject({
      details: { faultCode: 'PPT_AUTORIZZAZIONE' },
    });
  });

  test('a pagopa domain without its subscription key does not get a client', () => {
    expect(() =>
      createNodeClient(aDomain({ dialect: 'pagopa', subscriptionKeyEnv: 'NO_KEY' }), {
        settings,
        transport: h.transport,
        wsdl,
        env: {},
      }),
    ).toThrow(/NO_KEY/);
  });
});
