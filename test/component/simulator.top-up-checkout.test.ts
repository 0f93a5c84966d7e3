import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ERP, startApi } from '../helpers/api';

/**
 * The top-up's Checkout cart when the upstream misbehaves (role api, CHECKOUT_BASE_URL pointing
 * at a fake Checkout): the top-up still exists with its PENDING attempt and answers without a
 * checkoutUrl; the same Idempotency-Key later gets the cart once Checkout is back.
 */

describe('top-up checkoutUrl when Checkout fails', () => {
  let app: Awaited<ReturnType<typeof startApi>>;
  let checkout: http.Server;
  let checkoutUp = false;
  const carts: unknown[] = [];

  beforeAll(async () => {
    checkout = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        if (!checkoutUp) {
          res.writeHead(503, { 'content-type': 'application/problem+json' });
          res.end(JSON.stringify({ title: 'down', status: 503 }));
          return;
        }
        carts.push(JSON.parse(body));
        res.writeHead(302, { location: 'https://checkout.example.org/c/123' });
        res.end();
      });
    });
    await new Promise<void>((r) => checkout.listen(0, '127.0.0.1', r));
    const port = (checkout.address() as AddressInfo).port;
    app = await startApi('sim_topup_checkout', {
      CHECKOUT_BASE_URL: `http://127.0.0.1:${port}`,
      NODE_RETRY_ATTEMPTS_MAX: '1',
    });
  });
  afterAll(async () => {
    await app?.stop();
    await new Promise((r) => checkout.close(r));
  });

  test('Checkout down: 201 without checkoutUrl and a PENDING attempt; the retry with the same key gets the cart', async () => {
    const registered = await fetch(`${app.url}/api/v1/cards`, {
      method: 'POST',
      headers: { ...ERP, 'content-type': 'application/json' },
      body: JSON.stringify({
        cardNumber: '4202900001',
        holder: { fiscalCode: 'RSSMRA85T10A562S', fullName: 'Rossi Mario' },
      }),
    });
    const { cardCode } = (await registered.json()) as { cardCode: string };
    const topUp = () =>
      fetch(`${app.url}/api/v1/cards/${cardCode}/top-ups`, {
        method: 'POST',
        headers: { ...ERP, 'content-type': 'application/json', 'Idempotency-Key': 'k-1' },
        body: JSON.stringify({
          account: 'CANTEEN',
          amountCents: 1500,
          payer: { type: 'F', fiscalCode: 'RSSMRA85T10A562S', fullName: 'Rossi Mario' },
          returnUrl: 'https://erp.example.org/back',
        }),
      });

    const first = await topUp();
    expect(first.status).toBe(201);
    const body = (await first.json()) as Record<string, unknown>;
    expect(body).not.toHaveProperty('checkoutUrl');
    const attempt = (await app
      .db('payment_attempts')
      .where({ payment_id: body['paymentId'] })
      .first('status', 'checkout_url')) as { status: string; checkout_url: string | null };
    expect(attempt).toEqual({ status: 'PENDING', checkout_url: null });

    checkoutUp = true;
    const second = await topUp();
    expect(second.status).toBe(201);
    expect(await second.json()).toEqual({
      ...body,
      checkoutUrl: 'https://checkout.example.org/c/123',
    });
    expect(carts).toEqual([
      expect.objectContaining({
        paymentNotices: [
          expect.objectContaining({ noticeNumber: body['noticeNumber'], amount: 1500 }),
        ],
        idCart: body['paymentId'],
      }),
    ]);
    // Once recorded, a replay answers the same URL without a new cart.
    expect(((await (await topUp()).json()) as Record<string, unknown>)['checkoutUrl']).toBe(
      'https://checkout.example.org/c/123',
    );
    expect(carts).toHaveLength(1);
  });
});
