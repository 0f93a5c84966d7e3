import fs from 'node:fs';
import path from 'node:path';
import request from 'supertest';
import { ERP, OPERATOR, startApi } from '../helpers/api';
import { REPO_ROOT } from '../helpers/service';
import { makeCardCode } from '../../src/domain/codes/card-code';
import { parseValidNoticeNumber } from '../../src/domain/codes/notice-number';
import { addDays, romeDate } from '../../src/domain/positions/dates';

/**
 * Card top-ups: a TOP_UP debt position with one notice and a PENDING payment, made at most once
 * per Idempotency-Key, refused cleanly (422/404/400) with nothing stored.
 */

type Json = Record<string, unknown>;
type TopUp = {
  paymentId: string;
  iuv: string;
  noticeNumber: string;
  amountCents: number;
  status: string;
};

const fixture = (name: string): Json =>
  JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'fixtures', 'erp', name), 'utf8')) as Json;

describe('top-ups API', () => {
  let app: Awaited<ReturnType<typeof startApi>>;
  let nextCard = 4_202_900_000;
  let nextKey = 0;
  const newKey = () => `topup-key-${(nextKey += 1)}`;

  beforeAll(async () => {
    app = await startApi('topups');
  });
  afterAll(async () => {
    await app.stop();
  });

  const aCard = async (domain?: string): Promise<string> => {
    nextCard += 1;
    const res = await request(app.url)
      .post('/api/v1/cards')
      .set(ERP)
      .send({
        ...(domain === undefined ? {} : { domain }),
        cardNumber: String(nextCard),
        holder: { fiscalCode: 'RSSMRA85T10A562S', fullName: 'Rossi Mario' },
      })
      .expect(201);
    return (res.body as { cardCode: string }).cardCode;
  };

  const topUp = (
    cardCode: string,
    body: unknown,
    key?: string,
    headers: Record<string, string> = ERP,
  ) => {
    const req = request(app.url).post(`/api/v1/cards/${cardCode}/top-ups`).set(headers);
    if (key !== undefined) req.set('Idempotency-Key', key);
    return req.send(body as object);
  };

  const counts = async () => ({
    positions: Number(((await app.db('debt_positions').count({ n: '*' }))[0] as { n: number }).n),
    attempts: Number(((await app.db('payment_attempts').count({ n: '*' }))[0] as { n: number }).n),
    keys: Number(((await app.db('idempotency_keys').count({ n: '*' }))[0] as { n: number }).n),
  });

  test('starts a top-up: 201 PENDING with a fresh notice, a TOP_UP position and a payment attempt', async () => {
    const cardCode = await aCard();
    const res = await topUp(cardCode, fixture('top-up.ok.json'), newKey()).expect(201);
    const body = res.body as TopUp;
    expect(body).toEqual({
      paymentId: expect.stringMatching(
        /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
      ),
      iuv: expect.stringMatching(/^02\d{15}$/),
      noticeNumber: `3${body.iuv}`,
      amountCents: 2500,
      status: 'PENDING',
    });
    expect(parseValidNoticeNumber(body.noticeNumber)).toMatchObject({
      auxDigit: 3,
      segregationCode: '02',
    });

    const position = await request(app.url)
      .get(`/api/v1/debt-positions/TOPUP-${body.paymentId}`)
      .set(ERP)
      .expect(200);
    expect(position.body).toMatchObject({
      kind: 'TOP_UP',
      service: 'CANTEEN',
      status: 'OPEN',
      plan: 'SINGLE',
      cardCode,
      account: 'CANTEEN',
      debtor: {
        type: 'F',
        fiscalCode: 'RSSMRA80A01H501U',
        fullName: 'Rossi Mario',
        email: 'mario.rossi@example.org',
      },
      description: 'Ricarica Refezione scolastica',
      paymentOptions: [
        {
          iuv: body.iuv,
          noticeNumber: body.noticeNumber,
          amountCents: 2500,
          dueDate: addDays(romeDate(new Date()), 30),
          transfers: [
            expect.objectContaining({
              amountCents: 2500,
              taxonomyCode: '0107101TS',
              iban: 'IT60X0542811101000000123456',
            }),
          ],
        },
      ],
    });
    const attempt = (await app
      .db('payment_attempts')
      .where({ payment_id: body.paymentId })
      .first()) as Json;
    expect(attempt).toMatchObject({
      channel: 'TOP_UP',
      status: 'PENDING',
      amount_cents: 2500,
      return_url: 'https://erp.example.org/ricariche/esito',
      checkout_url: null,
    });
  });

  test('the same key and body answer the first top-up again; another body with it is a conflict', async () => {
    const cardCode = await aCard();
    const key = newKey();
    const first = await topUp(cardCode, fixture('top-up.ok.json'), key).expect(201);
    const before = await counts();
    const again = await topUp(cardCode, { ...fixture('top-up.ok.json') }, key).expect(201);
    expect(again.body).toEqual(first.body);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(await counts()).toEqual(before);

    const conflict = await topUp(
      cardCode,
      { ...fixture('top-up.ok.json'), amountCents: 3000 },
      key,
    ).expect(409);
    expect(conflict.body).toMatchObject({ code: 'idempotency-conflict' });
    const otherCard = await topUp(await aCard(), fixture('top-up.ok.json'), key).expect(409);
    expect(otherCard.body).toMatchObject({ code: 'idempotency-conflict' });
    expect(await counts()).toEqual(before);

    // Another key is another top-up.
    const second = await topUp(cardCode, fixture('top-up.ok.json'), newKey()).expect(201);
    expect((second.body as TopUp).noticeNumber).not.toBe((first.body as TopUp).noticeNumber);
  });

  test('concurrent requests with one key make one top-up and all get its answer', async () => {
    const cardCode = await aCard();
    const key = newKey();
    const before = await counts();
    const answers = await Promise.all(
      Array.from({ length: 6 }, () => topUp(cardCode, fixture('top-up.ok.json'), key)),
    );
    expect(answers.map((a) => a.status)).toEqual([201, 201, 201, 201, 201, 201]);
    expect(new Set(answers.map((a) => (a.body as TopUp).paymentId)).size).toBe(1);
    const after = await counts();
    expect(after.positions - before.positions).toBe(1);
    expect(after.attempts - before.attempts).toBe(1);
    expect(after.keys - before.keys).toBe(1);
  });

  test('paid at a counter with its notice, the card is credited (TOP_UP) and the payment is PAID', async () => {
    const cardCode = await aCard();
    const res = await topUp(cardCode, fixture('top-up.ok.json'), newKey()).expect(201);
    const { paymentId, noticeNumber } = res.body as TopUp;
    await request(app.url)
      .post(`/api/v1/debt-positions/TOPUP-${paymentId}/offline-payments`)
      .set(ERP)
      .send({
        amountCents: 2500,
        channel: 'COUNTER',
        reference: 'URP-77',
        paidAt: new Date().toISOString(),
        noticeNumber,
      })
      .expect(201);
    const card = await request(app.url).get(`/api/v1/cards/${cardCode}`).set(ERP).expect(200);
    expect(
      (card.body as { accounts: { account: string; balanceCents: number }[] }).accounts,
    ).toEqual(
      expect.arrayContaining([expect.objectContaining({ account: 'CANTEEN', balanceCents: 2500 })]),
    );
    const movements = await request(app.url)
      .get(`/api/v1/cards/${cardCode}/movements`)
      .set(ERP)
      .expect(200);
    expect(JSON.stringify(movements.body)).toMatch(/"kind":"TOP_UP"/);
    const payment = await request(app.url)
      .get(`/api/v1/payments/${paymentId}`)
      .set(ERP)
      .expect(200);
    expect(payment.body).toMatchObject({ status: 'PAID' });
    // A PUT cannot turn a top-up into something else.
    const put = await request(app.url)
      .put(`/api/v1/debt-positions/TOPUP-${paymentId}`)
      .set(ERP)
      .send(fixture('nursery-instalments.json'))
      .expect(409);
    expect(put.body).toMatchObject({ code: 'conflict', detail: expect.stringMatching(/top-up/) });
  });

  test.each<[string, () => Promise<string>, Json, number, string, RegExp]>([
    [
      'a mistyped card code',
      () => Promise.resolve('420290000100'),
      {},
      422,
      'card-code-invalid',
      /mistyped|check/,
    ],
    [
      'letters in the card code',
      () => Promise.resolve('ABC'),
      {},
      422,
      'card-code-invalid',
      /digits/,
    ],
    [
      'an unknown card',
      () => Promise.resolve(makeCardCode('123123123')),
      {},
      404,
      'not-found',
      /no card/,
    ],
    [
      'below the domain minimum',
      aCard,
      { amountCents: 499 },
      422,
      'amount-invalid',
      /500 to 50000 cents, not 499/,
    ],
    [
      'above the domain maximum',
      aCard,
      { amountCents: 50001 },
      422,
      'amount-invalid',
      /500 to 50000/,
    ],
    [
      'an account the domain does not sell',
      () => aCard('80000000002'),
      { account: 'NURSERY_MEALS' },
      400,
      'invalid-input',
      /no service for NURSERY_MEALS/,
    ],
    ['an unknown account', aCard, { account: 'GYM' }, 400, 'invalid-input', /account/],
    ['an unknown field', aCard, { coupon: 'X' }, 400, 'invalid-input', /Unrecognized key.*coupon/],
    [
      'a non-http returnUrl',
      aCard,
      { returnUrl: 'javascript:alert(1)' },
      400,
      'invalid-input',
      /returnUrl/,
    ],
    [
      'a payer without fiscal code',
      aCard,
      { payer: { type: 'F', fullName: 'Rossi Mario' } },
      400,
      'invalid-input',
      /payer\.fiscalCode/,
    ],
    [
      'a malformed payer fiscal code',
      aCard,
      { payer: { type: 'F', fiscalCode: 'ROSSI', fullName: 'Rossi Mario' } },
      400,
      'invalid-input',
      /payer\.fiscalCode/,
    ],
  ])('%s: refused, nothing stored', async (_name, card, change, status, code, detail) => {
    const cardCode = await card();
    const before = await counts();
    const res = await topUp(cardCode, { ...fixture('top-up.ok.json'), ...change }, newKey()).expect(
      status,
    );
    expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(res.body).toMatchObject({ code, detail: expect.stringMatching(detail) });
    expect(await counts()).toEqual(before);
  });

  test.each([
    ['missing', undefined, /send an Idempotency-Key header/],
    ['too long', 'k'.repeat(201), /1 to 200 visible ASCII/],
    ['with a space', 'my key', /1 to 200 visible ASCII/],
  ])('an Idempotency-Key %s is refused with 400', async (_name, key, detail) => {
    const cardCode = await aCard();
    const before = await counts();
    const res = await topUp(cardCode, fixture('top-up.ok.json'), key).expect(400);
    expect(res.body).toMatchObject({
      code: 'invalid-input',
      detail: expect.stringMatching(detail),
    });
    expect(await counts()).toEqual(before);
  });

  test('auth: no key 401, operator 403', async () => {
    const cardCode = await aCard();
    await request(app.url)
      .post(`/api/v1/cards/${cardCode}/top-ups`)
      .send(fixture('top-up.ok.json'))
      .expect(401);
    await topUp(cardCode, fixture('top-up.ok.json'), newKey(), OPERATOR).expect(403);
  });
});
