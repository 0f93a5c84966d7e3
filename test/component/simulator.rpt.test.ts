import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Registry } from 'prom-client';
import {
  createNodeClient,
  createNodeTransport,
  RptNodeClient,
} from '../../src/adapters/node-client';
import {
  buildPaaInviaRTResponse,
  parsePaaInviaRTRequest,
  type PaaInviaRTRequest,
} from '../../src/adapters/pagopa/old-model-soap';
import { creditedCents, parseRt } from '../../src/adapters/pagopa/rpt-rt';
import { aDomain, wsdl } from '../unit/node-client/helpers';
import { minimalRpt } from '../unit/pagopa/old-model-samples';
import { startTestService, testConfig } from '../helpers/service';

/**
 * The simulator as the RT-model node (WISP), driven by the adapter's own outbound client
 * (RptNodeClient, NODE_BASE_URL = the simulator): nodoInviaRPT and nodoInviaCarrelloRPT get the
 * node's redirect url (or its faults for a resent RPT or cart); paying the session sends a
 * positive RT per RPT with paaInviaRT to the adapter's PaPerNodo door, played here by a local
 * server that keeps what it receives.
 */

describe('simulator: RT-model node (nodoInviaRPT, carts, paaInviaRT)', () => {
  let service: Awaited<ReturnType<typeof startTestService>>;
  let sim: string;
  let door: http.Server;
  const received: { path: string; request: PaaInviaRTRequest }[] = [];
  let client: RptNodeClient;

  beforeAll(async () => {
    door = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        received.push({ path: req.url ?? '', request: parsePaaInviaRTRequest(body) });
        res.writeHead(200, { 'content-type': 'text/xml' });
        res.end(buildPaaInviaRTResponse({ outcome: 'OK' }));
      });
    });
    await new Promise<void>((r) => door.listen(0, '127.0.0.1', r));
    const port = (door.address() as AddressInfo).port;
    service = await startTestService(
      testConfig({ SOAP_PUBLIC_URL: `http://127.0.0.1:${port}` }),
      'simulator',
    );
    sim = `http://127.0.0.1:${service.ports.simulator}`;
    const settings = {
      nodeBaseUrl: sim,
      checkoutBaseUrl: undefined,
      nodeRestBaseUrl: undefined,
      mypayBaseUrl: undefined,
      nodeTimeoutMs: 2_000,
      nodeRetryAttemptsMax: 1,
      nodeRetryBackoffBaseMs: 1,
      nodeCircuitFailuresMax: 50,
      nodeCircuitOpenMs: 30_000,
      nodeTls: {},
    };
    const c = createNodeClient(
      aDomain({ dialect: 'rpt', stationPasswordEnv: 'SIM_RPT_PASSWORD' }),
      {
        settings,
        transport: createNodeTransport(settings, { registry: new Registry() }),
        wsdl,
        env: { SIM_RPT_PASSWORD: 'password01' },
      },
    );
    if (!(c instanceof RptNodeClient)) throw new Error('expected the rpt client');
    client = c;
  });
  afterAll(async () => {
    await service?.stop();
    door.closeAllConnections();
    await new Promise((r) => door.close(r));
  });

  const sessionOf = (url: string): string => new URL(url).searchParams.get('idSession') ?? '';

  test('nodoInviaRPT: the redirect url with idSession; paying sends a positive RT for the RPT with paaInviaRT', async () => {
    const started = await client.start({ rpts: [minimalRpt] });
    expect(started.redirectUrl).toMatch(new RegExp(`^${sim}/checkout/[0-9a-f-]{36}\\?idSession=`));
    expect(started.sessionId).toBe(sessionOf(started.redirectUrl));
    const page = await (await fetch(started.redirectUrl)).text();
    expect(page).toContain(`IUV ${minimalRpt.iuv}`);

    const paid = await fetch(`${sim}/sim/sessions/${started.sessionId ?? ''}/pay`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect(paid.status).toBe(200);
    expect(((await paid.json()) as { steps: unknown[] }).steps).toEqual([
      { operation: 'paaInviaRT', outcome: 'OK' },
    ]);
    const last = received.at(-1)!;
    expect(last.path).toBe('/pagopa/PaPerNodo');
    expect(last.request.header).toMatchObject({
      domainId: minimalRpt.domain.domainId,
      iuv: minimalRpt.iuv,
      ccp: minimalRpt.ccp,
    });
    const rt = parseRt(last.request.rtXml);
    expect(rt).toMatchObject({
      outcome: 0,
      iuv: minimalRpt.iuv,
      requestMessageRef: minimalRpt.requestMessageId,
    });
    expect(creditedCents(rt)).toBe(minimalRpt.totalCents);
  });

  test('the same RPT again: PPT_RPT_DUPLICATA, as the node answers', async () => {
    await expect(client.start({ rpts: [minimalRpt] })).rejects.toMatchObject({
      code: 'upstream-error',
      details: expect.objectContaining({ faultCode: 'PPT_RPT_DUPLICATA' }),
    });
  });

  test('nodoInviaRPT with tipoVersamento PO for a CCP no PSP activated: PPT_SEMANTICA, and the node keeps nothing', async () => {
    const po = {
      ...minimalRpt,
      iuv: '02000000000099903',
      paymentType: 'PO' as const,
      ccp: 'psp-ccp-1',
    };
    const psp = { pspId: 'SIMPSP01', pspBrokerId: '00000000001', channelId: '00000000001_01' };
    await expect(client.sendActivated({ rpt: po, psp })).rejects.toMatchObject({
      details: expect.objectContaining({
        faultCode: 'PPT_SEMANTICA',
        description: expect.stringMatching(/without a paaAttivaRPT/),
      }),
    });
    await expect(
      client.copy({ domainId: po.domain.domainId, iuv: po.iuv, ccp: po.ccp }),
    ).resolves.toMatchObject({ kind: 'not-found', reason: 'PPT_RPT_SCONOSCIUTA' });
  });

  test('nodoInviaCarrelloRPT: one session for the cart, one paaInviaRT per RPT; the same cart id again is refused', async () => {
    const a = { ...minimalRpt, iuv: '02000000000099901' };
    const b = { ...minimalRpt, iuv: '02000000000099902' };
    const started = await client.start({ rpts: [a, b], cartId: 'SIM-CART-0001' });
    const before = received.length;
    const paid = await fetch(`${sim}/sim/sessions/${sessionOf(started.redirectUrl)}/pay`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect(paid.status).toBe(200);
    expect(received.slice(before).map((r) => r.request.header.iuv)).toEqual([a.iuv, b.iuv]);

    const c = { ...minimalRpt, iuv: '02000000000099903' };
    await expect(
      client.start({ rpts: [c, { ...c, iuv: '02000000000099904' }], cartId: 'SIM-CART-0001' }),
    ).rejects.toMatchObject({
      details: expect.objectContaining({ faultCode: 'PPT_ID_CARRELLO_DUPLICATO' }),
    });
  });
});
