import fs from 'node:fs';
import path from 'node:path';
import request from 'supertest';
import { ERP, OPERATOR, startApi } from '../helpers/api';
import { REPO_ROOT } from '../helpers/service';

/** The read side of payments: one by id, and the attempts on an IUV page by page. */

type Json = Record<string, unknown>;
type TopUp = { paymentId: string; iuv: string; noticeNumber: string };

const fixture = (name: string): Json =>
  JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'fixtures', 'erp', name), 'utf8')) as Json;

describe('payments API', () => {
  let app: Awaited<ReturnType<typeof startApi>>;
  let nextCard = 4_203_000_000;
  let nextKey = 0;

  beforeAll(async () => {
    app = await startApi('payments');
  });
  afterAll(async () => {
    await app.stop();
  });

  const aTopUp = async (amountCents = 2500): Promise<TopUp> => {
    nextCard += 1;
    const card = await request(app.url)
      .post('/api/v1/cards')
      .set(ERP)
      .send({
        cardNumber: String(nextCard),
        holder: { fiscalCode: 'RSSMRA85T10A562S', fullName: 'Rossi Mario' },
      })
      .expect(201);
    const res = await request(app.url)
      .post(`/api/v1/cards/${(card.body as { cardCode: string }).cardCode}/top-ups`)
      .set(ERP)
      .set('Idempotency-Key', `pay-${(nextKey += 1)}`)
      .send({ ...fixture('top-up.ok.json'), amountCents })
      .expect(201);
    return res.body as TopUp;
  };

  test('one payment by id, for the ERP and for operators', async () => {
    const topUp = await aTopUp(3000);
    for (const headers of [ERP, OPERATOR]) {
      const res = await request(app.url)
        .get(`/api/v1/payments/${topUp.paymentId}`)
        .set(headers)
        .expect(200);
      expect(res.body).toEqual({
        paymentId: topUp.paymentId,
        status: 'PENDING',
        amountCents: 3000,
        domain: '80000000001',
        iuv: topUp.iuv,
        noticeNumber: topUp.noticeNumber,
        channel: 'TOP_UP',
        debtPosition: { externalId: `TOPUP-${topUp.paymentId}`, kind: 'TOP_UP' },
        createdAt: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/),
      });
    }
  });

  test('unknown or malformed payment ids', async () => {
    const unknown = await request(app.url)
      .get('/api/v1/payments/00000000-0000-4000-8000-000000000000')
      .set(ERP)
      .expect(404);
    expect(unknown.body).toMatchObject({ code: 'not-found' });
    await request(app.url).get('/api/v1/payments/not_a_payment_id!').set(ERP).expect(400);
  });

  test('cancelling the top-up position cancels its pending payment', async () => {
    const topUp = await aTopUp();
    await request(app.url)
      .delete(`/api/v1/debt-positions/TOPUP-${topUp.paymentId}`)
      .set(ERP)
      .expect(200);
    const res = await request(app.url)
      .get(`/api/v1/payments/${topUp.paymentId}`)
      .set(ERP)
      .expect(200);
    expect(res.body).toMatchObject({ status: 'CANCELLED' });
  });

  test('by IUV: the attempts on that option, oldest first, page by page', async () => {
    const topUp = await aTopUp();
    const other = await aTopUp();
    // Later Checkout retries will add attempts to the same option: stand them in with rows.
    const attempt = (await app
      .db('payment_attempts')
      .where({ payment_id: topUp.paymentId })
      .first()) as Json;
    const retries = [
      '11111111-1111-4111-8111-111111111111',
      '22222222-2222-4222-8222-222222222222',
    ];
    for (const paymentId of retries) {
      await app.db('payment_attempts').insert({
        payment_id: paymentId,
        debt_position_id: attempt['debt_position_id'],
        payment_option_id: attempt['payment_option_id'],
        channel: 'CHECKOUT',
        status: 'NOT_PAID',
        amount_cents: 2500,
        checkout_url: 'https://checkout.example.org/c/1',
      });
    }

    const all = await request(app.url)
      .get(`/api/v1/payments?iuv=${topUp.iuv}`)
      .set(ERP)
      .expect(200);
    const body = all.body as { items: Json[]; nextCursor: string | null };
    expect(body.items.map((p) => p['paymentId'])).toEqual([topUp.paymentId, ...retries]);
    expect(body.items[1]).toMatchObject({
      channel: 'CHECKOUT',
      status: 'NOT_PAID',
      checkoutUrl: 'https://checkout.example.org/c/1',
    });
    expect(body.nextCursor).toBeNull();

    const seen: unknown[] = [];
    let cursor: string | null = null;
    do {
      const res = await request(app.url)
        .get(
          `/api/v1/payments?iuv=${topUp.iuv}&limit=2${cursor === null ? '' : `&cursor=${cursor}`}`,
        )
        .set(ERP)
        .expect(200);
      const pageBody = res.body as { items: Json[]; nextCursor: string | null };
      seen.push(...pageBody.items.map((p) => p['paymentId']));
      cursor = pageBody.nextCursor;
    } while (cursor !== null);
    expect(seen).toEqual([topUp.paymentId, ...retries]);

    const single = await request(app.url)
      .get(`/api/v1/payments?iuv=${other.iuv}`)
      .set(ERP)
      .expect(200);
    expect((single.body as { items: Json[] }).items.map((p) => p['paymentId'])).toEqual([
      other.paymentId,
    ]);
    const none = await request(app.url)
      .get('/api/v1/payments?iuv=02999999999999999')
      .set(ERP)
      .expect(200);
    expect(none.body).toEqual({ items: [], nextCursor: null });
    // The IUV is unique per domain only: another domain has none of these.
    const elsewhere = await request(app.url)
      .get(`/api/v1/payments?iuv=${topUp.iuv}&domain=80000000002`)
      .set(ERP)
      .expect(200);
    expect(elsewhere.body).toEqual({ items: [], nextCursor: null });
  });

  test.each([
    ['', 400, 'invalid-input', /iuv/],
    ['iuv=02-1', 400, 'invalid-input', /iuv/],
    ['iuv=020000000000001&limit=0', 400, 'invalid-input', /limit/],
    ['iuv=020000000000001&colour=red', 400, 'invalid-input', /colour/],
    ['iuv=020000000000001&domain=99999999999', 422, 'domain-unknown', /not served/],
  ])('GET /payments?%s → %d', async (query, status, code, detail) => {
    const res = await request(app.url).get(`/api/v1/payments?${query}`).set(ERP).expect(status);
    expect(res.body).toMatchObject({ code, detail: expect.stringMatching(detail) });
  });

  test('a cursor from another list is refused', async () => {
    await request(app.url)
      .put('/api/v1/debt-positions/P-1')
      .set(ERP)
      .send(fixture('nursery-instalments.json'))
      .expect(201);
    await request(app.url)
      .put('/api/v1/debt-positions/P-2')
      .set(ERP)
      .send(fixture('nursery-instalments.json'))
      .expect(201);
    const positions = await request(app.url)
      .get('/api/v1/debt-positions?limit=1')
      .set(ERP)
      .expect(200);
    const cursor = (positions.body as { nextCursor: string }).nextCursor;
    expect(cursor).toEqual(expect.any(String));
    const res = await request(app.url)
      .get(`/api/v1/payments?iuv=020000000000001&cursor=${cursor}`)
      .set(ERP)
      .expect(400);
    expect(res.body).toMatchObject({
      code: 'invalid-input',
      detail: expect.stringMatching(/cursor/),
    });
  });

  test('auth: no key 401', async () => {
    await request(app.url).get('/api/v1/payments/00000000-0000-4000-8000-000000000000').expect(401);
    await request(app.url).get('/api/v1/payments?iuv=1').expect(401);
  });
});
