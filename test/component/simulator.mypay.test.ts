import { Registry } from 'prom-client';
import {
  createNodeClient,
  createNodeTransport,
  MyPayNodeClient,
} from '../../src/adapters/node-client';
import { aDomain, wsdl } from '../unit/node-client/helpers';
import { dues } from '../unit/mypay/samples';
import { startTestService, testConfig } from '../helpers/service';

/**
 * The simulator as MyPay, driven by the adapter's own MyPay client (MYPAY_BASE_URL = the
 * simulator): paaSILInviaDovuti opens a session (url + idSession), paaSILChiediPagati reports it
 * not started, then, once the citizen paid on the page, the Pagati document; a cancelled session
 * is reported cancelled.
 */

describe('simulator: MyPay (paaSILInviaDovuti, paaSILChiediPagati)', () => {
  let service: Awaited<ReturnType<typeof startTestService>>;
  let sim: string;
  let client: MyPayNodeClient;

  beforeAll(async () => {
    service = await startTestService(testConfig({}), 'simulator');
    sim = `http://127.0.0.1:${service.ports.simulator}`;
    const settings = {
      nodeBaseUrl: undefined,
      checkoutBaseUrl: undefined,
      nodeRestBaseUrl: undefined,
      mypayBaseUrl: sim,
      nodeTimeoutMs: 2_000,
      nodeRetryAttemptsMax: 1,
      nodeRetryBackoffBaseMs: 1,
      nodeCircuitFailuresMax: 50,
      nodeCircuitOpenMs: 30_000,
      nodeTls: {},
    };
    const c = createNodeClient(aDomain({ dialect: 'mypay', mypayIpaCode: 'C_TEST' }), {
      settings,
      transport: createNodeTransport(settings, { registry: new Registry() }),
      wsdl,
      env: {},
    });
    if (!(c instanceof MyPayNodeClient)) throw new Error('expected the MyPay client');
    client = c;
  });
  afterAll(async () => {
    await service?.stop();
  });

  test('a session is not started until the citizen pays; then paaSILChiediPagati gives the Pagati of the dues', async () => {
    const started = await client.start({ dues, returnUrl: 'https://erp.example.org/back' });
    const sessionId = started.sessionId ?? '';
    expect(started.redirectUrl).toBe(`${sim}/checkout/${sessionId}`);
    expect(await client.paid(sessionId)).toEqual({
      state: 'not-started',
      faultCode: 'PAA_PAGAMENTO_NON_INIZIATO',
    });

    const page = await (await fetch(started.redirectUrl)).text();
    expect(page).toContain(`IUD ${dues.items[0]!.dueId}`);
    const back = await fetch(`${started.redirectUrl}/pay`, { method: 'POST', redirect: 'manual' });
    expect(back.status).toBe(303);
    expect(back.headers.get('location')).toBe(
      `https://erp.example.org/back?idSession=${sessionId}&esito=OK`,
    );

    const report = await client.paid(sessionId);
    if (report.state !== 'paid') throw new Error(`expected paid, got ${report.state}`);
    expect(report.paid.outcome).toBe(0);
    expect(report.paid.totalPaidCents).toBe(dues.items.reduce((s, i) => s + i.amountCents, 0));
    expect(report.paid.lines.map((l) => l.dueId)).toEqual(dues.items.map((i) => i.dueId));
  });

  test('a cancelled session is reported cancelled; an unknown one is refused', async () => {
    const started = await client.start({ dues });
    const sessionId = started.sessionId ?? '';
    const back = await fetch(`${started.redirectUrl}/cancel`, {
      method: 'POST',
      redirect: 'manual',
    });
    expect(back.headers.get('location')).toBe(
      `${sim}/sim/returned?idSession=${sessionId}&esito=ANNULLO&outcome=ANNULLO`,
    );
    expect(await client.paid(sessionId)).toEqual({
      state: 'cancelled',
      faultCode: 'PAA_PAGAMENTO_ANNULLATO',
    });
    await expect(client.paid('no-such-session')).rejects.toMatchObject({
      code: 'upstream-error',
      details: expect.objectContaining({ faultCode: 'PAA_SEMANTICA' }),
    });
  });
});
