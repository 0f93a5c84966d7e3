import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { startTestService, testConfig } from '../helpers/service';

/**
 * The simulator's Checkout side on its own (role `simulator`): the cart API as Checkout answers
 * it (302 to the page, refusals for bad carts), the page, cancel, and what happens when the
 * adapter behind it does not answer (the session fails, the browser goes to the error URL).
 * The "adapter" is a local server that never answers a SOAP call in time.
 */

const cart = (overrides: Record<string, unknown> = {}) => ({
  paymentNotices: [
    {
      noticeNumber: '302000000000000999',
      fiscalCode: '80000000001',
      amount: 1234,
      companyName: 'Comune di Borgo Verde (demo)',
      description: 'Retta <asilo> & "nido"',
    },
  ],
  returnUrls: {
    returnOkUrl: 'https://erp.example.org/back?outcome=OK',
    returnCancelUrl: 'https://erp.example.org/back?outcome=CANCEL',
    returnErrorUrl: 'https://erp.example.org/back?outcome=ERROR',
  },
  idCart: 'cart-1',
  ...overrides,
});

describe('simulator: Checkout carts and the checkout page', () => {
  let service: Awaited<ReturnType<typeof startTestService>>;
  let sim: string;
  let silentAdapter: http.Server;
  let soapCalls = 0;

  const post = (path: string, body: unknown) =>
    fetch(sim + path, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      redirect: 'manual',
    });

  const openCart = async (): Promise<string> => {
    const res = await post('/checkout/ec/v1/carts', cart());
    expect(res.status).toBe(302);
    const location = res.headers.get('location') ?? '';
    expect(location).toMatch(new RegExp(`^${sim}/checkout/[0-9a-f-]{36}$`));
    return location.split('/').pop() ?? '';
  };

  beforeAll(async () => {
    // Reads the request, then answers a SOAP fault after the simulator gave up waiting.
    silentAdapter = http.createServer((req, res) => {
      soapCalls += 1;
      req.resume();
      setTimeout(() => res.end(), 1_500).unref();
    });
    await new Promise<void>((r) => silentAdapter.listen(0, '127.0.0.1', r));
    const port = (silentAdapter.address() as AddressInfo).port;
    service = await startTestService(
      testConfig({ SOAP_PUBLIC_URL: `http://127.0.0.1:${port}`, NODE_TIMEOUT_MS: '200' }),
      'simulator',
    );
    sim = `http://127.0.0.1:${service.ports.simulator}`;
  });
  afterAll(async () => {
    await service?.stop();
    silentAdapter.closeAllConnections();
    await new Promise((r) => silentAdapter.close(r));
  });

  test('a cart answers 302 to a page that lists its notices, escaped, with Pay and Cancel', async () => {
    const session = await openCart();
    const page = await fetch(`${sim}/checkout/${session}`);
    expect(page.headers.get('content-type')).toContain('text/html');
    const html = await page.text();
    expect(html).toContain('302000000000000999');
    expect(html).toContain('Retta &lt;asilo&gt; &amp; &quot;nido&quot;');
    expect(html).not.toContain('<asilo>');
    expect(html).toContain('Pay € 12,34');
    expect(html).toContain(`action="/checkout/${session}/cancel"`);
  });

  test('carts Checkout would refuse: no notices, six notices, an amount in euros', async () => {
    const notice = cart().paymentNotices[0];
    for (const bad of [
      cart({ paymentNotices: [] }),
      cart({ paymentNotices: Array.from({ length: 6 }, () => notice) }),
      cart({ paymentNotices: [{ ...notice, amount: 12.34 }] }),
    ]) {
      const res = await post('/checkout/ec/v1/carts', bad);
      expect(res.status).toBe(400);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
    }
  });

  test('cancel sends the browser to the cancel URL; the session cannot be paid afterwards', async () => {
    const session = await openCart();
    const res = await post(`/checkout/${session}/cancel`, {});
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('https://erp.example.org/back?outcome=CANCEL');
    expect((await post(`/sim/sessions/${session}/pay`, {})).status).toBe(409);
    const state = (await (await fetch(`${sim}/sim/sessions/${session}`)).json()) as {
      state: string;
    };
    expect(state.state).toBe('CANCELLED');
  });

  test('when the adapter does not answer paGetPayment, nothing is sent and the browser goes to the error URL', async () => {
    const session = await openCart();
    const before = soapCalls;
    const res = await post(`/checkout/${session}/pay`, {});
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('https://erp.example.org/back?outcome=ERROR');
    expect(soapCalls).toBe(before + 1); // paGetPaymentV2 only: no receipt without a payment
    const state = (await (await fetch(`${sim}/sim/sessions/${session}`)).json()) as {
      state: string;
      steps: unknown[];
    };
    expect(state).toMatchObject({
      state: 'FAILED',
      steps: [{ operation: 'paGetPaymentV2', outcome: 'NO_ANSWER' }],
    });
  });

  test('the index names every simulated door, with the paths of the WSDLs the adapter reads', async () => {
    const index = (await (await fetch(`${sim}/`)).json()) as { endpoints: string[] };
    expect(index.endpoints.join('\n')).toMatch(/\/checkout\/ec\/v1\/carts/);
    expect(index.endpoints.some((e) => e.includes('nodoInviaRPT'))).toBe(true);
    expect(index.endpoints.some((e) => e.includes('paaSILInviaDovuti'))).toBe(true);
  });

  test('unknown sessions and bad scripts are refused', async () => {
    expect((await fetch(`${sim}/checkout/nope`)).status).toBe(404);
    const session = await openCart();
    const res = await post(`/sim/sessions/${session}/pay`, { delivery: { mode: 'sometimes' } });
    expect(res.status).toBe(400);
  });
});
