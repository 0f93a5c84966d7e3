/**
 * The rpt dialect against a nock'd NodoPerPa answering real XML (fixtures and our codecs).
 * Each interceptor checks the endpoint path and SOAPAction our WSDL declares, and the body.
 */
import nock from 'nock';
import {
  buildNodoChiediCopiaRTResponse,
  buildNodoChiediElencoFlussiResponse,
  buildNodoChiediFlussoResponse,
  buildNodoChiediListaPendentiRPTResponse,
  buildNodoChiediStatoRPTResponse,
  buildNodoInviaCarrelloRPTResponse,
  parseNodoChiediCopiaRTRequest,
  parseNodoChiediListaPendentiRPTRequest,
  parseNodoInviaCarrelloRPTRequest,
  parseNodoInviaRPTRequest,
} from '../../../src/adapters/pagopa/old-model-soap';
import { buildRt, parseRpt } from '../../../src/adapters/pagopa/rpt-rt';
import { buildReportingFlow } from '../../../src/adapters/pagopa/reporting-flow';
import { createNodeClient, RptNodeClient, WISP_ROUTE } from '../../../src/adapters/node-client';
import { fixture, fullRpt, minimalFlow, minimalRpt, minimalRt } from '../pagopa/old-model-samples';
import { aDomain, harness, useNock, wsdl, type Harness } from './helpers';

const NODE = 'https://api.uat.platform.pagopa.it';
const PATH = '/nodo-auth/nodo-per-pa/v1';
const PASSWORD = 'St4tionPwd!';
const KEY = 'sub-key-rpt-0001';
const env = { RPT_STATION_PASSWORD: PASSWORD, RPT_SUBSCRIPTION_KEY: KEY };

const settings = {
  nodeBaseUrl: NODE,
  checkoutBaseUrl: undefined,
  nodeRestBaseUrl: undefined,
  mypayBaseUrl: undefined,
  nodeTimeoutMs: 2_000,
  nodeRetryAttemptsMax: 3,
  nodeRetryBackoffBaseMs: 1,
  nodeCircuitFailuresMax: 50,
  nodeCircuitOpenMs: 30_000,
  nodeTls: {},
};

function client(h: Harness, nodeBaseUrl = NODE): RptNodeClient {
  const c = createNodeClient(
    aDomain({
      dialect: 'rpt',
      stationPasswordEnv: 'RPT_STATION_PASSWORD',
      subscriptionKeyEnv: 'RPT_SUBSCRIPTION_KEY',
    }),
    { settings: { ...settings, nodeBaseUrl }, transport: h.transport, wsdl, env },
  );
  if (!(c instanceof RptNodeClient)) throw new Error('expected the rpt client');
  return c;
}

/** An interceptor for one NodoPerPa operation with the WSDL's path and SOAPAction and our key. */
function node(op: string) {
  return nock(NODE, {
    reqheaders: { soapaction: `"${op}"`, 'ocp-apim-subscription-key': KEY },
  }).post(PATH, (body: string) => body.includes(`<ppt:${op}`));
}

describe('rpt dialect client', () => {
  useNock();
  let h: Harness;
  beforeEach(() => {
    h = harness();
  });

  test('one RPT goes with nodoInviaRPT on the WISP route; the redirect and idSession come back', async () => {
    let sent = '';
    node('nodoInviaRPT').reply(200, (_uri, body) => {
      sent = body as string;
      return fixture('soap/old-model/nodoInviaRPT.res.ok.xml');
    });
    const started = await client(h).start({ rpts: [minimalRpt] });
    expect(started).toEqual({
      redirectUrl:
        'https://wisp2.pagopa.gov.it/wallet/welcome?idSession=6c2b7c56-3c1e-4b1e-9f47-a2e1d3c4b5a6',
      sessionId: '6c2b7c56-3c1e-4b1e-9f47-a2e1d3c4b5a6',
      ccp: 'n/a',
    });
    const req = parseNodoInviaRPTRequest(sent);
    expect(req).toMatchObject({ ...WISP_ROUTE, password: PASSWORD });
    expect(req.header).toEqual({
      brokerId: '77777777777',
      stationId: '77777777777_01',
      domainId: '77777777777',
      iuv: minimalRpt.iuv,
      ccp: 'n/a',
    });
    expect(parseRpt(req.rptXml).iuv).toBe(minimalRpt.iuv);
  });

  test("nodoInviaRPT's fault answer is upstream-error with the PPT code, and is not retried", async () => {
    node('nodoInviaRPT').reply(200, fixture('soap/old-model/nodoInviaRPT.res.fault-extended.xml'));
    await expect(client(h).start({ rpts: [minimalRpt] })).rejects.toMatchObject({
      code: 'upstream-error',
      details: { faultCode: 'PPT_CANALE_ERRORE', originalFaultCode: 'CANALE_RPT_RIFIUTATA' },
    });
    expect(h.sleeps).toEqual([]);
  });

  test('a SOAP Fault with HTTP 500 on nodoInviaRPT is upstream-error, sent once', async () => {
    node('nodoInviaRPT').reply(500, fixture('soap/old-model/soap-fault.xml'));
    await expect(client(h).start({ rpts: [minimalRpt] })).rejects.toMatchObject({
      code: 'upstream-error',
      details: { status: 500, faultstring: 'Internal Error' },
    });
  });

  test('several RPTs go as a cart with nodoInviaCarrelloRPT and the cart id', async () => {
    let sent = '';
    const second = { ...minimalRpt, iuv: '02000000000012346' };
    node('nodoInviaCarrelloRPT').reply(200, (_uri, body) => {
      sent = body as string;
      return buildNodoInviaCarrelloRPTResponse({
        outcome: 'OK',
        url: 'https://wisp2.pagopa.gov.it/wallet/welcome?idSession=cart-1',
        rptErrors: [],
      });
    });
    const started = await client(h).start({ rpts: [minimalRpt, second], cartId: 'CART-2024-0001' });
    expect(started.sessionId).toBe('cart-1');
    const req = parseNodoInviaCarrelloRPTRequest(sent);
    expect(req.header.cartId).toBe('CART-2024-0001');
    expect(req.items.map((i) => i.iuv)).toEqual([minimalRpt.iuv, second.iuv]);
    expect(req.password).toBe(PASSWORD);
  });

  test("a refused cart reports each RPT's fault", async () => {
    node('nodoInviaCarrelloRPT').reply(
      200,
      fixture('soap/old-model/nodoInviaCarrelloRPT.res.ko.xml'),
    );
    const err = await client(h)
      .start({ rpts: [minimalRpt, { ...minimalRpt, iuv: '02000000000012346' }], cartId: 'C-1' })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'upstream-error' });
    expect((err as { details: { rptErrors: unknown[] } }).details.rptErrors.length).toBeGreaterThan(
      0,
    );
  });

  test('refuses before sending: PO RPTs on the WISP route, carts without id, 6 RPTs', async () => {
    const c = client(h);
    await expect(c.start({ rpts: [fullRpt] })).rejects.toMatchObject({ code: 'invalid-input' });
    await expect(c.start({ rpts: [minimalRpt, minimalRpt] })).rejects.toMatchObject({
      code: 'invalid-input',
    });
    await expect(c.start({ rpts: Array(6).fill(minimalRpt) })).rejects.toMatchObject({
      code: 'invalid-input',
    });
  });

  test("after paaAttivaRPT the PO RPT goes with the PSP's route and CCP", async () => {
    let sent = '';
    node('nodoInviaRPT').reply(200, (_uri, body) => {
      sent = body as string;
      return fixture('soap/old-model/nodoInviaRPT.res.ok.xml');
    });
    const rpt = { ...fullRpt, ccp: 'PSP-CCP-0001' };
    const psp = { pspId: 'BCITITMM', pspBrokerId: '00799960158', channelId: '00799960158_01' };
    await client(h).sendActivated({ rpt, psp });
    const req = parseNodoInviaRPTRequest(sent);
    expect(req).toMatchObject({
      pspId: 'BCITITMM',
      pspBrokerId: '00799960158',
      channelId: '00799960158_01',
    });
    expect(req.header.ccp).toBe('PSP-CCP-0001');
    expect(parseRpt(req.rptXml).paymentType).toBe('PO');
    await expect(client(h).sendActivated({ rpt: minimalRpt, psp })).rejects.toMatchObject({
      code: 'invalid-input',
    });
  });

  test('nodoChiediCopiaRT returns the RT as sent, with the key in the request', async () => {
    const rtXml = buildRt(minimalRt);
    let sent = '';
    node('nodoChiediCopiaRT').reply(200, (_uri, body) => {
      sent = body as string;
      return buildNodoChiediCopiaRTResponse({ signatureType: '0', rtXml });
    });
    const copy = await client(h).copy({ domainId: '77777777777', iuv: minimalRt.iuv, ccp: 'n/a' });
    expect(copy).toEqual({ kind: 'found', format: 'xml', raw: rtXml, source: 'nodoChiediCopiaRT' });
    expect(parseNodoChiediCopiaRTRequest(sent)).toMatchObject({
      password: PASSWORD,
      iuv: minimalRt.iuv,
      ccp: 'n/a',
    });
  });

  test('nodoChiediCopiaRT: PPT_RT_SCONOSCIUTA is not-found; PPT_AUTENTICAZIONE is an error', async () => {
    node('nodoChiediCopiaRT').reply(200, fixture('soap/old-model/nodoChiediCopiaRT.res.fault.xml'));
    await expect(
      client(h).copy({ domainId: '77777777777', iuv: 'X1', ccp: 'n/a' }),
    ).resolves.toEqual({
      kind: 'not-found',
      reason: 'PPT_RT_SCONOSCIUTA',
    });
    node('nodoChiediCopiaRT').reply(
      200,
      buildNodoChiediCopiaRTResponse({
        fault: {
          faultCode: 'PPT_AUTENTICAZIONE',
          faultString: 'password errata',
          id: 'NodoDeiPagamentiSPC',
        },
      }),
    );
    await expect(
      client(h).copy({ domainId: '77777777777', iuv: 'X1', ccp: 'n/a' }),
    ).rejects.toMatchObject({
      code: 'upstream-error',
      details: { faultCode: 'PPT_AUTENTICAZIONE' },
    });
  });

  test('nodoChiediCopiaRT is retried on PPT_SYSTEM_ERROR (a read), then answers', async () => {
    const sys = buildNodoChiediCopiaRTResponse({
      fault: { faultCode: 'PPT_SYSTEM_ERROR', faultString: 'errore', id: 'NodoDeiPagamentiSPC' },
    });
    node('nodoChiediCopiaRT').reply(200, sys);
    node('nodoChiediCopiaRT').reply(
      200,
      buildNodoChiediCopiaRTResponse({ rtXml: buildRt(minimalRt) }),
    );
    await expect(
      client(h).copy({ domainId: '77777777777', iuv: minimalRt.iuv, ccp: 'n/a' }),
    ).resolves.toMatchObject({ kind: 'found' });
    expect(h.sleeps).toHaveLength(1);
  });

  test('nodoChiediStatoRPT returns the state and history', async () => {
    node('nodoChiediStatoRPT').reply(200, fixture('soap/old-model/nodoChiediStatoRPT.res.xml'));
    const status = await client(h).status({ domainId: '77777777777', iuv: 'X1', ccp: 'n/a' });
    expect(status.state).toBe('RT_ACCETTATA_PA');
    node('nodoChiediStatoRPT').reply(
      200,
      buildNodoChiediStatoRPTResponse({
        fault: {
          faultCode: 'PPT_RPT_SCONOSCIUTA',
          faultString: 'RPT sconosciuta',
          id: 'NodoDeiPagamentiSPC',
        },
      }),
    );
    await expect(
      client(h).status({ domainId: '77777777777', iuv: 'X1', ccp: 'n/a' }),
    ).rejects.toMatchObject({
      details: { faultCode: 'PPT_RPT_SCONOSCIUTA' },
    });
  });

  test('nodoChiediListaPendentiRPT lists pending RPTs for the domain', async () => {
    let sent = '';
    node('nodoChiediListaPendentiRPT').reply(200, (_uri, body) => {
      sent = body as string;
      return buildNodoChiediListaPendentiRPTResponse({
        pending: {
          totalReturned: 1,
          items: [{ domainId: '77777777777', iuv: 'IUV1', ccp: 'n/a', state: 'RPT_ACCETTATA_PSP' }],
        },
      });
    });
    const pending = await client(h).listPending({ maxResults: 50, from: '2024-03-01T00:00:00' });
    expect(pending).toEqual([
      { domainId: '77777777777', iuv: 'IUV1', ccp: 'n/a', state: 'RPT_ACCETTATA_PSP' },
    ]);
    expect(parseNodoChiediListaPendentiRPTRequest(sent)).toMatchObject({
      domainId: '77777777777',
      maxResults: 50,
      from: '2024-03-01T00:00:00',
    });
  });

  test('the reporting-flow pair: list since a date (with the PSP from the flow id), then download', async () => {
    node('nodoChiediElencoFlussiRendicontazione').reply(
      200,
      buildNodoChiediElencoFlussiResponse({
        flows: {
          totalReturned: 2,
          items: [
            { flowId: '2024-03-01BCITITMM-0001', flowDateTime: '2024-03-02T08:00:00' },
            { flowId: '2024-03-16BCITITMM-0001', flowDateTime: '2024-03-17T08:15:00' },
          ],
        },
      }),
    );
    const flows = await client(h).listFlows(new Date('2024-03-10T00:00:00Z'));
    expect(flows).toEqual([
      { flowId: '2024-03-16BCITITMM-0001', flowDate: '2024-03-17T08:15:00', pspId: 'BCITITMM' },
    ]);
    const flowXml = buildReportingFlow(minimalFlow);
    node('nodoChiediFlussoRendicontazione').reply(200, buildNodoChiediFlussoResponse({ flowXml }));
    await expect(client(h).downloadFlow(flows[0]!)).resolves.toBe(flowXml);
    node('nodoChiediFlussoRendicontazione').reply(
      200,
      fixture('soap/old-model/nodoChiediFlussoRendicontazione.res.fault.xml'),
    );
    await expect(client(h).downloadFlow({ flowId: 'nope' })).rejects.toMatchObject({
      details: { faultCode: 'PPT_ID_FLUSSO_SCONOSCIUTO' },
    });
  });

  test('NODE_BASE_URL given as the NodoPerPa endpoint itself works too', async () => {
    node('nodoChiediStatoRPT').reply(200, fixture('soap/old-model/nodoChiediStatoRPT.res.xml'));
    await expect(
      client(h, `${NODE}${PATH}`).status({ domainId: '77777777777', iuv: 'X1', ccp: 'n/a' }),
    ).resolves.toHaveProperty('state');
  });

  test('the station password and the subscription key are sent but never logged', async () => {
    node('nodoChiediStatoRPT')
      .reply(503)
      .post(PATH)
      .reply(200, fixture('soap/old-model/nodoChiediStatoRPT.res.xml'));
    await client(h).status({ domainId: '77777777777', iuv: 'X1', ccp: 'n/a' });
    expect(h.logs.length).toBeGreaterThan(0);
    expect(h.logs.join('\n')).not.toContain(PASSWORD);
    expect(h.logs.join('\n')).not.toContain(KEY);
  });

  test('a domain without its station password does not get a client', () => {
    expect(() =>
      createNodeClient(aDomain({ dialect: 'rpt', stationPasswordEnv: 'MISSING_PWD' }), {
        settings,
        transport: h.transport,
        wsdl,
        env: {},
      }),
    ).toThrow(/MISSING_PWD/);
  });
});
