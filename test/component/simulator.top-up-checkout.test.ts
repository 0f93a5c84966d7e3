import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ERP, startApi } from '../helpers/api';

/**
 * EC-initiated carts against a fake Checkout (role api): the top-up's cart when the upstream
 * misbehaves, and what POST /debt-positions/{id}/checkout refuses before any cart is made.
 *
 * The top-up's Checkout cart when the upstream misbehaves (role api, CHECKOUT_BASE_URL pointing
 * at a fake Checkout): the top-up still exists with its PENDING attempt and answers without a
 * checkoutUrl; the same Idempotency-Key later gets the cart once Checkout is back.
 */

describe('EC-initiated carts against a fake Checkout', () => {
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

  test('POST …/checkout refuses, without starting a cart: unknown, paid or repeated positions, other debtors, more than 5, a domain without an upstream, no Idempotency-Key; a retried key gets the first cart', async () => {
    const put = async (externalId: string, fiscalCode: string): Promise<void> => {
      const res = await fetch(`${app.url}/api/v1/debt-positions/${externalId}`, {
        method: 'PUT',
        headers: { ...ERP, 'content-type': 'application/json' },
        body: JSON.stringify({
          service: 'NURSERY_FEE',
          debtor: { type: 'F', fiscalCode, fullName: 'Bianchi Laura' },
          description: `Retta ${externalId}`,
          paymentOptions: [{ amountCents: 5000, dueDate: '2099-12-31' }],
        }),
      });
      expect(res.status).toBe(201);
    };
    let keys = 0;
    const checkoutOf = async (
      externalId: string,
      body: Record<string, unknown>,
      key: string | null = `co-${++keys}`,
    ) => {
      const res = await fetch(`${app.url}/api/v1/debt-positions/${externalId}/checkout`, {
        method: 'POST',
        headers: {
          ...ERP,
          'content-type': 'application/json',
          ...(key === null ? {} : { 'Idempotency-Key': key }),
        },
        body: JSON.stringify({ returnUrl: 'https://erp.example.org/back', ...body }),
      });
      return res.status;
    };
    await put('CO-1', 'BNCLRA90A41H501X');
    await put('CO-2', 'RSSMRA85T10A562S');
    await put('CO-3', 'BNCLRA90A41H501X');
    const offline = await fetch(`${app.url}/api/v1/debt-positions/CO-3/offline-payments`, {
      method: 'POST',
      headers: { ...ERP, 'content-type': 'application/json' },
      body: JSON.stringify({
        amountCents: 5000,
        channel: 'COUNTER',
        reference: 'counter-1',
        paidAt: new Date().toISOString(),
      }),
    });
    expect(offline.status).toBe(201);
    const cartsBefore = carts.length;

    expect(await checkoutOf('NOPE', {})).toBe(404);
    expect(await checkoutOf('CO-1', { alsoPay: ['CO-2'] })).toBe(409);
    expect(await checkoutOf('CO-3', {})).toBe(409);
    expect(await checkoutOf('CO-1', { alsoPay: ['CO-1'] })).toBe(400);
    expect(await checkoutOf('CO-1', { alsoPay: ['A', 'B', 'C', 'D', 'E'] })).toBe(400);
    expect(await checkoutOf('CO-1', { domain: '80000000002' })).toBe(400);
    expect(await checkoutOf('CO-1', {}, null)).toBe(400);
    expect(carts).toHaveLength(cartsBefore);

    checkoutUp = true;
    expect(await checkoutOf('CO-1', {}, 'co-once')).toBe(201);
    expect(carts).toHaveLength(cartsBefore + 1);
    // The same request again (a timeout in the ERP, say): the first cart, not a second one.
    expect(await checkoutOf('CO-1', {}, 'co-once')).toBe(201);
    expect(carts).toHaveLength(cartsBefore + 1);
    expect(await checkoutOf('CO-1', { email: 'laura@example.org' }, 'co-once')).toBe(409);
  });
});
