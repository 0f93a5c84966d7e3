import { Registry } from 'prom-client';
import {
  createNodeClient,
  createNodeTransport,
  MyPayNodeClient,
} from '../../src/adapters/node-client';
import { parseDovuti } from '../../src/adapters/mypay/documents';
import { loadDomains } from '../../src/shared/domains-config';
import { ERP, startApi } from '../helpers/api';
import { startTestService, testConfig } from '../helpers/service';
import { wsdl } from '../unit/node-client/helpers';

/**
 * A card top-up in a `mypay` domain (demo domain 80000000002, Porto Chiaro): the API (role api,
 * MYPAY_BASE_URL = the simulator, role simulator) starts it with paaSILInviaDovuti and answers
 * MyPay's checkout page; the attempt records channel MYPAY and the idSession, which is what
 * paaSILChiediPagati is asked about once the citizen paid.
 */

const DOMAIN = '80000000002';

describe('top-up in a mypay domain: checkoutUrl from the simulated MyPay', () => {
  let sim: Awaited<ReturnType<typeof startTestService>>;
  let simUrl: string;
  let app: Awaited<ReturnType<typeof startApi>>;

  beforeAll(async () => {
    sim = await startTestService(testConfig({}), 'simulator');
    simUrl = `http://127.0.0.1:${sim.ports.simulator}`;
    app = await startApi('sim_mypay_top_up', {
      MYPAY_BASE_URL: simUrl,
      NODE_RETRY_ATTEMPTS_MAX: '1',
    });
  });
  afterAll(async () => {
    await app?.stop();
    await sim?.stop();
  });

  test('paaSILInviaDovuti with the top-up as Dovuti; the attempt keeps MYPAY and the idSession that paaSILChiediPagati answers about', async () => {
    const registered = await fetch(`${app.url}/api/v1/cards`, {
      method: 'POST',
      headers: { ...ERP, 'content-type': 'application/json' },
      body: JSON.stringify({
        domain: DOMAIN,
        cardNumber: '4202900201',
        holder: { fiscalCode: 'RSSMRA85T10A562S', fullName: 'Rossi Mario' },
      }),
    });
    expect(registered.status).toBe(201);
    const { cardCode } = (await registered.json()) as { cardCode: string };
    const topUp = () =>
      fetch(`${app.url}/api/v1/cards/${cardCode}/top-ups`, {
        method: 'POST',
        headers: { ...ERP, 'content-type': 'application/json', 'Idempotency-Key': 'mypay-1' },
        body: JSON.stringify({
          account: 'CANTEEN',
          amountCents: 1800,
          payer: { type: 'F', fiscalCode: 'RSSMRA85T10A562S', fullName: 'Rossi Mario' },
          returnUrl: 'https://erp.example.org/back',
        }),
      });

    const res = await topUp();
    expect(res.status).toBe(201);
    const body = (await res.json()) as Record<string, string>;
    const checkoutUrl = body['checkoutUrl'] ?? '';
    expect(checkoutUrl).toMatch(new RegExp(`^${simUrl}/checkout/[0-9a-f-]{36}$`));
    const sessionId = checkoutUrl.split('/').pop() ?? '';

    const attempt = (await app
      .db('payment_attempts')
      .where({ payment_id: body['paymentId'] })
      .first('channel', 'status', 'ccp', 'session_id', 'checkout_url')) as Record<string, unknown>;
    expect(attempt).toEqual({
      channel: 'MYPAY',
      status: 'PENDING',
      ccp: null,
      session_id: sessionId,
      checkout_url: checkoutUrl,
    });
    // The Dovuti sent: our IUV, the payer, one item whose IUD is the payment id.
    const sent = (await app
      .db('sent_payment_requests as s')
      .join('payment_attempts as a', 'a.id', 's.payment_attempt_id')
      .where('a.payment_id', body['paymentId'])
      .select('s.kind', 's.iuv', 's.session_id', 's.document')) as Record<string, string>[];
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ kind: 'DOVUTI', iuv: body['iuv'], session_id: sessionId });
    const dueId = (body['paymentId'] ?? '').replace(/-/g, '');
    expect(parseDovuti(sent[0]!['document']!)).toMatchObject({
      payer: { kind: 'F', taxCode: 'RSSMRA85T10A562S', name: 'Rossi Mario' },
      iuv: body['iuv'],
      items: [
        {
          dueId,
          amountCents: 1800,
          dueTypeCode: 'CANTEEN',
          collectionData: '9/0107101TS/',
        },
      ],
    });

    // MyPay's session: the dues, and the ERP's return URL naming the payment (MyPay adds esito).
    const session = (await (await fetch(`${simUrl}/sim/sessions/${sessionId}`)).json()) as {
      cart: { paymentNotices: unknown[]; returnUrls: { returnOkUrl: string } };
    };
    expect(session.cart.paymentNotices).toEqual([
      expect.objectContaining({
        noticeNumber: `IUD ${dueId}`,
        fiscalCode: 'C_PCHIARO',
        amount: 1800,
      }),
    ]);
    expect(session.cart.returnUrls.returnOkUrl).toBe(
      `https://erp.example.org/back?paymentId=${body['paymentId']}&idSession=${sessionId}&esito=OK`,
    );

    // A retry with the same key: the same page, no second Dovuti.
    expect(await (await topUp()).json()).toEqual(body);
    expect(await app.db('sent_payment_requests').count({ n: '*' })).toEqual([{ n: 1 }]);

    // The citizen pays; paaSILChiediPagati about the recorded session reports our IUV paid.
    const paid = await fetch(`${simUrl}/sim/sessions/${sessionId}/pay`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect(paid.status).toBe(200);
    const domain = loadDomains('fixtures/domains.demo.json').find(DOMAIN)!;
    const settings = {
      nodeBaseUrl: undefined,
      checkoutBaseUrl: undefined,
      nodeRestBaseUrl: undefined,
      mypayBaseUrl: simUrl,
      nodeTimeoutMs: 2_000,
      nodeRetryAttemptsMax: 1,
      nodeRetryBackoffBaseMs: 1,
      nodeCircuitFailuresMax: 50,
      nodeCircuitOpenMs: 30_000,
      nodeTls: {},
    };
    const client = createNodeClient(domain, {
      settings,
      transport: createNodeTransport(settings, { registry: new Registry() }),
      wsdl,
      env: {},
    });
    if (!(client instanceof MyPayNodeClient)) throw new Error('expected the MyPay client');
    const report = await client.paid(String(attempt['session_id']));
    if (report.state !== 'paid') throw new Error(`expected paid, got ${report.state}`);
    expect(report.paid).toMatchObject({
      iuv: body['iuv'],
      totalPaidCents: 1800,
      lines: [expect.objectContaining({ dueId, paidCents: 1800 })],
    });
  });
});
