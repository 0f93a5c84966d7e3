import fs from 'node:fs';
import path from 'node:path';
import request from 'supertest';
import { ERP, OPERATOR, startApi } from '../helpers/api';
import { REPO_ROOT } from '../helpers/service';
import { addDays, romeDate } from '../../src/domain/positions/dates';

/**
 * Counter, postal-slip and bank-transfer payments: they settle a position exactly as a receipt
 * would (the same pure `settle` and the same ledger rules), idempotently by reference, and a
 * refused payment leaves nothing behind.
 */

type Json = Record<string, unknown>;
type Position = {
  id?: number;
  status: string;
  paymentOptions: {
    noticeNumber: string;
    status: string;
    paidAmountCents: number;
    paidAt: string | null;
  }[];
};
type OfflineAnswer = { settledNoticeNumbers: string[]; debtPosition: Position } & Json;

const fixture = (name: string): Json =>
  JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'fixtures', 'erp', name), 'utf8')) as Json;

const today = romeDate(new Date());
const anHourAgo = () => new Date(Date.now() - 3_600_000).toISOString();

describe('offline payments API', () => {
  let app: Awaited<ReturnType<typeof startApi>>;
  let nextCard = 4_202_800_000;
  let nextId = 0;
  const newId = (prefix: string) => `${prefix}-${(nextId += 1)}`;

  beforeAll(async () => {
    app = await startApi('offline');
  });
  afterAll(async () => {
    await app.stop();
  });

  const put = (externalId: string, body: unknown) =>
    request(app.url)
      .put(`/api/v1/debt-positions/${externalId}`)
      .set(ERP)
      .send(body as object);
  const pay = (externalId: string, body: unknown, headers: Record<string, string> = ERP) =>
    request(app.url)
      .post(`/api/v1/debt-positions/${externalId}/offline-payments`)
      .set(headers)
      .send(body as object);

  const aCard = async (): Promise<string> => {
    nextCard += 1;
    const res = await request(app.url)
      .post('/api/v1/cards')
      .set(ERP)
      .send({
        cardNumber: String(nextCard),
        holder: { fiscalCode: 'RSSMRA85T10A562S', fullName: 'Rossi Mario' },
      })
      .expect(201);
    return (res.body as { cardCode: string }).cardCode;
  };

  const balance = async (cardCode: string, account: string): Promise<number> => {
    const res = await request(app.url).get(`/api/v1/cards/${cardCode}`).set(ERP).expect(200);
    const accounts = (res.body as { accounts: { account: string; balanceCents: number }[] })
      .accounts;
    return accounts.find((a) => a.account === account)?.balanceCents ?? NaN;
  };

  const ledgerEntries = async (positionExternalId: string) =>
    (await app
      .db('ledger_entries as e')
      .join('debt_positions as p', 'p.id', 'e.debt_position_id')
      .where('p.external_id', positionExternalId)
      .select('e.kind', 'e.amount_cents', 'e.idempotency_key', 'p.id as position_id')) as {
      kind: string;
      amount_cents: number;
      idempotency_key: string;
      position_id: number;
    }[];

  const offlineRows = async () =>
    Number(((await app.db('offline_payments').count({ n: '*' }))[0] as { n: number }).n);

  test('a school transport bill paid at the counter: PAID, postpaid account credited once (OFFLINE_PAYMENT)', async () => {
    const cardCode = await aCard();
    const id = newId('TRASPORTO');
    await put(id, { ...fixture('transport-month.json'), cardCode }).expect(201);
    const before = await balance(cardCode, 'SCHOOL_TRANSPORT');

    const body = fixture('offline-payment.counter.json');
    const res = await pay(id, body).expect(201);
    const answer = res.body as OfflineAnswer;
    expect(answer).toMatchObject({
      reference: 'URP-CAPANNORI-2026-000731',
      channel: 'COUNTER',
      amountCents: 3500,
      paidAt: '2026-11-20T09:15:00.000Z',
    });
    expect(answer.debtPosition.status).toBe('PAID');
    expect(answer.debtPosition.paymentOptions[0]).toMatchObject({
      status: 'PAID',
      paidAmountCents: 3500,
      paidAt: '2026-11-20T09:15:00.000Z',
    });
    expect(answer.settledNoticeNumbers).toEqual([
      answer.debtPosition.paymentOptions[0]?.noticeNumber,
    ]);
    expect(await balance(cardCode, 'SCHOOL_TRANSPORT')).toBe(before + 3500);
    const entries = await ledgerEntries(id);
    expect(entries).toEqual([
      expect.objectContaining({
        kind: 'OFFLINE_PAYMENT',
        amount_cents: 3500,
        idempotency_key: `offline:${entries[0]?.position_id}:URP-CAPANNORI-2026-000731`,
      }),
    ]);

    // The same payment sent again (same instant spelled in UTC): the stored answer, nothing more.
    const again = await pay(id, { ...body, paidAt: '2026-11-20T09:15:00Z' }).expect(200);
    expect(again.body).toMatchObject({
      reference: answer['reference'],
      settledNoticeNumbers: answer.settledNoticeNumbers,
    });
    expect(await balance(cardCode, 'SCHOOL_TRANSPORT')).toBe(before + 3500);
    expect(await ledgerEntries(id)).toHaveLength(1);

    // The same reference with other content is a conflict, not a second payment.
    const conflict = await pay(id, { ...body, amountCents: 3400 }).expect(409);
    expect(conflict.body).toMatchObject({ code: 'idempotency-conflict' });

    // Another reference on a paid position: the money is a duplicate.
    const duplicate = await pay(id, { ...body, reference: 'URP-2' }).expect(409);
    expect(duplicate.body).toMatchObject({ code: 'position-paid' });
  });

  test('a road fine (no card) paid within 5 days at the reduced amount: PAID, no ledger entry', async () => {
    const id = newId('VERBALE');
    await put(id, {
      ...fixture('road-fine-with-reduction.json'),
      paymentOptions: [
        {
          amountCents: 4200,
          dueDate: addDays(today, 60),
          amountSchedule: [{ until: addDays(today, 5), amountCents: 2940 }],
        },
      ],
    }).expect(201);
    const before = await offlineRows();

    // The full amount while the reduction is in force matches nothing: refused, nothing stored.
    const wrong = await pay(id, {
      amountCents: 4200,
      channel: 'POSTAL_SLIP',
      reference: 'BP-1',
      paidAt: anHourAgo(),
    }).expect(422);
    expect(wrong.body).toMatchObject({
      code: 'amount-mismatch',
      detail: expect.stringMatching(/expected 2940 cents/),
    });
    expect(await offlineRows()).toBe(before);
    const still = await request(app.url).get(`/api/v1/debt-positions/${id}`).set(ERP).expect(200);
    expect((still.body as Position).status).toBe('OPEN');

    const res = await pay(id, {
      amountCents: 2940,
      channel: 'POSTAL_SLIP',
      reference: 'BP-1',
      paidAt: anHourAgo(),
    }).expect(201);
    expect((res.body as OfflineAnswer).debtPosition).toMatchObject({ status: 'PAID' });
    expect(await ledgerEntries(id)).toEqual([]);
    expect(await offlineRows()).toBe(before + 1);
  });

  test('instalments: one by amount, one by notice number, then cancel and change are refused, then the rest', async () => {
    const id = newId('NIDO');
    const created = (await put(id, fixture('nursery-instalments.json')).expect(201))
      .body as Position;
    const [first, second, third] = created.paymentOptions;

    const one = await pay(id, {
      amountCents: 18000,
      channel: 'BANK_TRANSFER',
      reference: 'CRO-1',
      paidAt: anHourAgo(),
    }).expect(201);
    expect((one.body as OfflineAnswer).settledNoticeNumbers).toEqual([first?.noticeNumber]);
    expect((one.body as OfflineAnswer).debtPosition.status).toBe('PARTIALLY_PAID');

    const three = await pay(id, {
      amountCents: 12000,
      channel: 'POSTAL_SLIP',
      reference: 'BP-3',
      paidAt: anHourAgo(),
      noticeNumber: third?.noticeNumber,
    }).expect(201);
    expect((three.body as OfflineAnswer).settledNoticeNumbers).toEqual([third?.noticeNumber]);
    expect((three.body as OfflineAnswer).debtPosition.paymentOptions.map((o) => o.status)).toEqual([
      'PAID',
      'UNPAID',
      'PAID',
    ]);

    const cancel = await request(app.url)
      .delete(`/api/v1/debt-positions/${id}`)
      .set(ERP)
      .expect(409);
    expect(cancel.body).toMatchObject({ code: 'position-paid' });
    const changed = fixture('nursery-instalments.json');
    (changed['paymentOptions'] as Json[])[1] = {
      amountCents: 100,
      dueDate: '2027-01-31',
      installment: 2,
    };
    const change = await put(id, changed).expect(409);
    expect(change.body).toMatchObject({ code: 'position-paid' });
    // The unchanged request is still an idempotent no-op.
    await put(id, fixture('nursery-instalments.json')).expect(200);

    const wrongNotice = await pay(id, {
      amountCents: 18000,
      channel: 'COUNTER',
      reference: 'URP-9',
      paidAt: anHourAgo(),
      noticeNumber: first?.noticeNumber,
    }).expect(409);
    expect(wrongNotice.body).toMatchObject({ code: 'position-paid' });

    const last = await pay(id, {
      amountCents: 18000,
      channel: 'COUNTER',
      reference: 'URP-2',
      paidAt: anHourAgo(),
    }).expect(201);
    expect((last.body as OfflineAnswer).settledNoticeNumbers).toEqual([second?.noticeNumber]);
    expect((last.body as OfflineAnswer).debtPosition.status).toBe('PAID');
  });

  test('instalments paid all at once settle every one of them', async () => {
    const id = newId('NIDO');
    const created = (await put(id, fixture('nursery-instalments.json')).expect(201))
      .body as Position;
    const res = await pay(id, {
      amountCents: 48000,
      channel: 'BANK_TRANSFER',
      reference: 'CRO-ALL',
      paidAt: anHourAgo(),
    }).expect(201);
    expect((res.body as OfflineAnswer).settledNoticeNumbers).toEqual(
      created.paymentOptions.map((o) => o.noticeNumber),
    );
    expect((res.body as OfflineAnswer).debtPosition.status).toBe('PAID');
    // The replay names the same notices.
    const again = await pay(id, {
      amountCents: 48000,
      channel: 'BANK_TRANSFER',
      reference: 'CRO-ALL',
      paidAt: (res.body as OfflineAnswer)['paidAt'],
    }).expect(200);
    expect((again.body as OfflineAnswer).settledNoticeNumbers).toEqual(
      (res.body as OfflineAnswer).settledNoticeNumbers,
    );
  });

  test('concurrent identical payments are recorded and credited once', async () => {
    const cardCode = await aCard();
    const id = newId('TRASPORTO');
    await put(id, { ...fixture('transport-month.json'), cardCode }).expect(201);
    const body = {
      amountCents: 3500,
      channel: 'COUNTER',
      reference: 'URP-RACE',
      paidAt: anHourAgo(),
    };
    const answers = await Promise.all(Array.from({ length: 6 }, () => pay(id, body)));
    expect(answers.map((a) => a.status).sort()).toEqual([200, 200, 200, 200, 200, 201]);
    expect(await ledgerEntries(id)).toHaveLength(1);
    expect(await balance(cardCode, 'SCHOOL_TRANSPORT')).toBe(3500);
  });

  test('a cancelled position refuses payments; unknown positions and notices are 404', async () => {
    const id = newId('VERBALE');
    await put(id, fixture('road-fine-alternatives.json')).expect(201);
    await request(app.url).delete(`/api/v1/debt-positions/${id}`).set(ERP).expect(200);
    const res = await pay(id, {
      amountCents: 2940,
      channel: 'COUNTER',
      reference: 'URP-X',
      paidAt: anHourAgo(),
    }).expect(409);
    expect(res.body).toMatchObject({ code: 'position-cancelled' });

    await pay('NOPE-1', {
      amountCents: 2940,
      channel: 'COUNTER',
      reference: 'URP-X',
      paidAt: anHourAgo(),
    }).expect(404);
    const open = newId('VERBALE');
    await put(open, fixture('road-fine-alternatives.json')).expect(201);
    const notice = await pay(open, {
      amountCents: 2940,
      channel: 'COUNTER',
      reference: 'URP-Y',
      paidAt: anHourAgo(),
      noticeNumber: '302000000999999940',
    }).expect(404);
    expect(notice.body).toMatchObject({
      code: 'not-found',
      detail: expect.stringMatching(/not an option/),
    });
  });

  test.each<[string, Json, RegExp]>([
    ['an unknown channel', { channel: 'CASH' }, /channel/],
    ['an unknown field', { cashier: 'Anna' }, /Unrecognized key.*cashier/],
    ['no reference', { reference: undefined }, /reference/],
    ['a paidAt without offset', { paidAt: '2026-11-20T10:15:00' }, /paidAt/],
    [
      'a paidAt in the future',
      { paidAt: new Date(Date.now() + 3_600_000).toISOString() },
      /paidAt: is in the future/,
    ],
    [
      'a paidAt before pagoPA existed',
      { paidAt: '1969-12-31T23:00:00Z' },
      /paidAt: is before 2012-01-01/,
    ],
    ['a negative amount', { amountCents: -3500 }, /amountCents/],
    ['a malformed notice number', { noticeNumber: '12345' }, /noticeNumber/],
  ])('%s: 400, nothing stored', async (_name, change, detail) => {
    const cardCode = await aCard();
    const id = newId('TRASPORTO');
    await put(id, { ...fixture('transport-month.json'), cardCode }).expect(201);
    const before = await offlineRows();
    const res = await pay(id, { ...fixture('offline-payment.counter.json'), ...change }).expect(
      400,
    );
    expect(res.body).toMatchObject({
      code: 'invalid-input',
      detail: expect.stringMatching(detail),
    });
    expect(await offlineRows()).toBe(before);
    expect(await balance(cardCode, 'SCHOOL_TRANSPORT')).toBe(0);
  });

  test('auth: no key 401, operator 403', async () => {
    await request(app.url)
      .post('/api/v1/debt-positions/A-1/offline-payments')
      .send(fixture('offline-payment.counter.json'))
      .expect(401);
    await pay('A-1', fixture('offline-payment.counter.json'), OPERATOR).expect(403);
  });
});
