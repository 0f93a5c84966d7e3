import fs from 'node:fs';
import path from 'node:path';
import request from 'supertest';
import { ERP, OPERATOR, startApi } from '../helpers/api';
import { REPO_ROOT } from '../helpers/service';
import { makeCardCode } from '../../src/domain/codes/card-code';
import { postEntry, verifyBalances, type Account } from '../../src/data-access/ledger-repository';

/**
 * Charges through the real door: a meal debits the card once per reference, a resend answers
 * the same entry, a reused reference with other content is refused, and the overdraft limit
 * holds under concurrent charges.
 */

const meal = JSON.parse(
  fs.readFileSync(path.join(REPO_ROOT, 'fixtures', 'erp', 'charge-meal.ok.json'), 'utf8'),
) as { account: Account; amountCents: number; reference: string; description: string };

type ChargeAnswer = {
  cardCode: string;
  entry: {
    id: number;
    account: Account;
    amountCents: number;
    kind: string;
    reference: string;
    description: string;
    balanceAfterCents: number;
    createdAt: string;
  };
  balanceCents: number;
};

describe('charges API', () => {
  let app: Awaited<ReturnType<typeof startApi>>;
  let nextNumber = 5_100_000_000;

  beforeAll(async () => {
    app = await startApi('charges');
  });
  afterAll(async () => {
    await app.stop();
  });

  const aCard = async (): Promise<string> => {
    nextNumber += 1;
    const res = await request(app.url)
      .post('/api/v1/cards')
      .set(ERP)
      .send({
        cardNumber: String(nextNumber),
        holder: { fiscalCode: 'VRDNNA90A41D612X', fullName: 'Verdi Anna' },
      })
      .expect(201);
    return (res.body as { cardCode: string }).cardCode;
  };

  /** Credits the account straight on the ledger (top-ups are another feature's route). */
  const topUp = async (cardCode: string, account: Account, amountCents: number) => {
    await app.db.transaction(async (trx) => {
      const row = (await trx('card_accounts as a')
        .join('cards as c', 'c.id', 'a.card_id')
        .where({ 'c.card_code': cardCode, 'a.account': account })
        .first('a.id')) as { id: number };
      await postEntry(
        trx,
        {
          cardAccountId: row.id,
          amountCents,
          kind: 'TOP_UP',
          idempotencyKey: `test-topup:${cardCode}:${account}:${amountCents}`,
          requestHash: 't'.repeat(64),
        },
        { enforceOverdraft: false },
      );
    });
  };

  const charge = (cardCode: string, body: object, headers: object = ERP) =>
    request(app.url)
      .post(`/api/v1/cards/${cardCode}/charges`)
      .set(headers as Record<string, string>)
      .send(body);

  const balance = async (cardCode: string, account: Account): Promise<number> => {
    const res = await request(app.url).get(`/api/v1/cards/${cardCode}`).set(ERP).expect(200);
    const found = (res.body as { accounts: { account: Account; balanceCents: number }[] }).accounts
      .filter((a) => a.account === account)
      .map((a) => a.balanceCents);
    expect(found).toHaveLength(1);
    return found[0] ?? NaN;
  };

  const entriesOf = async (cardCode: string): Promise<unknown[]> =>
    app
      .db('ledger_entries as e')
      .join('card_accounts as a', 'a.id', 'e.card_account_id')
      .join('cards as c', 'c.id', 'a.card_id')
      .where('c.card_code', cardCode)
      .where('e.kind', 'CHARGE')
      .select('e.id');

  const expectProblem = (res: request.Response, status: number, code: string): void => {
    expect({ status: res.status, code: (res.body as { code?: string }).code }).toEqual({
      status,
      code,
    });
    expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(res.body).toMatchObject({ requestId: res.headers['x-request-id'] });
  };

  test('a meal debits the account and answers the entry and the balance (201)', async () => {
    const cardCode = await aCard();
    await topUp(cardCode, 'CANTEEN', 1_000);
    const res = await charge(cardCode, meal).expect(201);
    expect(res.body).toEqual({
      cardCode,
      entry: {
        id: expect.any(Number),
        account: 'CANTEEN',
        amountCents: -450,
        kind: 'CHARGE',
        reference: meal.reference,
        description: meal.description,
        balanceAfterCents: 550,
        createdAt: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T.*Z$/),
      },
      balanceCents: 550,
    });
    expect(await balance(cardCode, 'CANTEEN')).toBe(550);
    const history = await request(app.url)
      .get(`/api/v1/cards/${cardCode}/movements`)
      .set(ERP)
      .expect(200);
    expect((history.body as { items: unknown[] }).items[0]).toEqual(
      (res.body as ChargeAnswer).entry,
    );
  });

  test('the same reference and body again answers the same entry (200), charged once', async () => {
    const cardCode = await aCard();
    await topUp(cardCode, 'CANTEEN', 1_000);
    const first = (await charge(cardCode, meal).expect(201)).body as ChargeAnswer;
    await charge(cardCode, { ...meal, reference: 'another-meal' }).expect(201);
    // Same content in another key order and with spaces around the text: the same request.
    const again = await charge(cardCode, {
      description: ` ${meal.description} `,
      reference: meal.reference,
      amountCents: meal.amountCents,
      account: meal.account,
    }).expect(200);
    expect((again.body as ChargeAnswer).entry).toEqual(first.entry);
    // The balance shown is the balance now, after the other meal too.
    expect((again.body as ChargeAnswer).balanceCents).toBe(100);
    expect(await entriesOf(cardCode)).toHaveLength(2);
    expect(await balance(cardCode, 'CANTEEN')).toBe(100);
  });

  test('a resend answers the same entry even when the balance no longer covers it', async () => {
    const cardCode = await aCard();
    await topUp(cardCode, 'CANTEEN', 450);
    await charge(cardCode, meal).expect(201);
    await charge(cardCode, meal).expect(200);
    expectProblem(await charge(cardCode, { ...meal, reference: 'x2' }), 422, 'insufficient-credit');
  });

  test.each([
    ['another amount', { amountCents: 451 }],
    ['another account', { account: 'NURSERY_MEALS' }],
    ['another description', { description: 'Cena' }],
  ])('the same reference with %s is 409 idempotency-conflict', async (_what, change) => {
    const cardCode = await aCard();
    await topUp(cardCode, 'CANTEEN', 1_000);
    await topUp(cardCode, 'NURSERY_MEALS', 1_000);
    await charge(cardCode, meal).expect(201);
    const res = await charge(cardCode, { ...meal, ...change });
    expectProblem(res, 409, 'idempotency-conflict');
    expect(res.body.detail).toContain(meal.reference);
    expect(res.body.detail).not.toContain('charge:');
    expect(await entriesOf(cardCode)).toHaveLength(1);
    expect(await balance(cardCode, 'CANTEEN')).toBe(550);
    expect(await balance(cardCode, 'NURSERY_MEALS')).toBe(1_000);
  });

  test('the same reference on another card is another charge', async () => {
    const [a, b] = [await aCard(), await aCard()];
    await topUp(a, 'CANTEEN', 1_000);
    await topUp(b, 'CANTEEN', 1_000);
    await charge(a, meal).expect(201);
    await charge(b, meal).expect(201);
    expect(await balance(a, 'CANTEEN')).toBe(550);
    expect(await balance(b, 'CANTEEN')).toBe(550);
  });

  test('a prepaid account cannot go below zero: 422 insufficient-credit, nothing posted', async () => {
    const cardCode = await aCard();
    await topUp(cardCode, 'CANTEEN', 449);
    const res = await charge(cardCode, meal);
    expectProblem(res, 422, 'insufficient-credit');
    expect(res.body).toMatchObject({
      account: 'CANTEEN',
      balanceCents: 449,
      overdraftLimitCents: 0,
    });
    expect(res.body.detail).toMatch(/CANTEEN balance .* 4\.49 EUR.* 4\.50 EUR/);
    expect(await entriesOf(cardCode)).toHaveLength(0);
    expect(await balance(cardCode, 'CANTEEN')).toBe(449);
    // The refused reference stays free: once topped up, the same charge goes through.
    await topUp(cardCode, 'CANTEEN', 1);
    await charge(cardCode, meal).expect(201);
    expect(await balance(cardCode, 'CANTEEN')).toBe(0);
  });

  test('a postpaid account may go down to its configured overdraft limit and no further', async () => {
    const cardCode = await aCard();
    const transport = { ...meal, account: 'SCHOOL_TRANSPORT', description: 'Trasporto novembre' };
    // The demo domain allows SCHOOL_TRANSPORT down to -1000.00 EUR.
    await charge(cardCode, { ...transport, amountCents: 100_000, reference: 't-1' }).expect(201);
    expectProblem(
      await charge(cardCode, { ...transport, amountCents: 1, reference: 't-2' }),
      422,
      'insufficient-credit',
    );
    expect(await balance(cardCode, 'SCHOOL_TRANSPORT')).toBe(-100_000);
  });

  test('20 concurrent meals on credit for 10: exactly 10 charged, balance 0, ledger balanced', async () => {
    const cardCode = await aCard();
    await topUp(cardCode, 'CANTEEN', 10 * 450);
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) => charge(cardCode, { ...meal, reference: `meal-${i}` })),
    );
    const statuses = answers.map((r) => r.status);
    expect(statuses.filter((s) => s === 201)).toHaveLength(10);
    expect(statuses.filter((s) => s === 422)).toHaveLength(10);
    for (const r of answers.filter((a) => a.status === 422)) {
      expect(r.body).toMatchObject({ code: 'insufficient-credit' });
    }
    expect(await balance(cardCode, 'CANTEEN')).toBe(0);
    expect(await entriesOf(cardCode)).toHaveLength(10);
    const afterBalances = answers
      .filter((a) => a.status === 201)
      .map((a) => (a.body as ChargeAnswer).entry.balanceAfterCents)
      .sort((x, y) => x - y);
    expect(afterBalances).toEqual([0, 450, 900, 1350, 1800, 2250, 2700, 3150, 3600, 4050]);
    expect(await verifyBalances(app.db)).toEqual({ accounts: expect.any(Number), mismatches: [] });
  });

  test('10 concurrent resends of one meal post it once', async () => {
    const cardCode = await aCard();
    await topUp(cardCode, 'CANTEEN', 10_000);
    const answers = await Promise.all(Array.from({ length: 10 }, () => charge(cardCode, meal)));
    expect(answers.map((r) => r.status).sort()).toEqual([
      200, 200, 200, 200, 200, 200, 200, 200, 200, 201,
    ]);
    expect(new Set(answers.map((r) => (r.body as ChargeAnswer).entry.id)).size).toBe(1);
    expect(await balance(cardCode, 'CANTEEN')).toBe(10_000 - 450);
  });

  test.each([
    ['amount 0', { amountCents: 0 }, 'body.amountCents'],
    ['a negative amount', { amountCents: -450 }, 'body.amountCents'],
    ['a fractional amount', { amountCents: 4.5 }, 'body.amountCents'],
    ['an amount as text', { amountCents: '450' }, 'body.amountCents'],
    ['an amount too large', { amountCents: 100_000_000 }, 'body.amountCents'],
    ['an unknown account', { account: 'GYM' }, 'body.account'],
    ['a blank reference', { reference: '   ' }, 'body.reference'],
    ['a reference too long', { reference: 'r'.repeat(141) }, 'body.reference'],
    ['a reference with a newline', { reference: 'a\nb' }, 'body.reference'],
    ['no description', { description: undefined }, 'body.description'],
    ['an unknown field', { kind: 'ADJUSTMENT' }, 'body'],
  ])('%s is 400 invalid-input naming the field', async (_what, change, field) => {
    const cardCode = await aCard();
    await topUp(cardCode, 'CANTEEN', 1_000);
    const res = await charge(cardCode, { ...meal, ...change });
    expectProblem(res, 400, 'invalid-input');
    expect((res.body as { errors: { path: string }[] }).errors.map((e) => e.path)).toContain(field);
    expect(await entriesOf(cardCode)).toHaveLength(0);
  });

  test('a body that is not JSON is 400', async () => {
    const cardCode = await aCard();
    const res = await request(app.url)
      .post(`/api/v1/cards/${cardCode}/charges`)
      .set(ERP)
      .set('content-type', 'application/json')
      .send('{"account": ');
    expectProblem(res, 400, 'invalid-input');
  });

  test('a mistyped card code is 422 card-code-invalid; an unknown one 404', async () => {
    const cardCode = await aCard();
    const typo = `${cardCode.slice(0, -1)}${(Number(cardCode.slice(-1)) + 5) % 10}`;
    expectProblem(await charge(typo, meal), 422, 'card-code-invalid');
    expectProblem(await charge(makeCardCode('999000111', 'mod93'), meal), 404, 'not-found');
  });

  test('an operator key may not charge (403), and nothing is posted', async () => {
    const cardCode = await aCard();
    await topUp(cardCode, 'CANTEEN', 1_000);
    expectProblem(await charge(cardCode, meal, OPERATOR), 403, 'forbidden');
    expectProblem(await charge(cardCode, meal, {}), 401, 'unauthenticated');
    expect(await entriesOf(cardCode)).toHaveLength(0);
  });

  describe('adjustments (operators)', () => {
    const adjust = (cardCode: string, body: object, headers: object = OPERATOR) =>
      request(app.url)
        .post(`/api/v1/cards/${cardCode}/adjustments`)
        .set(headers as Record<string, string>)
        .send(body);
    const credit = {
      account: 'CANTEEN',
      amountCents: 450,
      reference: 'ticket-4711',
      reason: 'Meal of 23/11 charged twice by the canteen terminal (ticket 4711)',
    };
    const auditOf = (cardCode: string) =>
      app
        .db('audit_events')
        .where({ subject_id: `${cardCode}:CANTEEN` })
        .orderBy('id');

    test('a credit with a reason is posted and audited with who, why and the request id', async () => {
      const cardCode = await aCard();
      const res = await adjust(cardCode, credit).expect(201);
      expect(res.body).toMatchObject({
        cardCode,
        entry: { account: 'CANTEEN', amountCents: 450, kind: 'ADJUSTMENT', balanceAfterCents: 450 },
        balanceCents: 450,
      });
      const audit = await auditOf(cardCode);
      expect(audit).toHaveLength(1);
      expect(audit[0]).toMatchObject({
        actor: 'demo-operator',
        action: 'card.adjust',
        subject_type: 'card_account',
        reason: credit.reason,
        request_id: res.headers['x-request-id'],
      });
      const after = audit[0].after_state;
      expect(typeof after === 'string' ? JSON.parse(after) : after).toEqual({
        balanceCents: 450,
        amountCents: 450,
        entryId: (res.body as ChargeAnswer).entry.id,
      });
      expect(await balance(cardCode, 'CANTEEN')).toBe(450);
    });

    test('a resend answers the same entry and is audited once; another amount is 409', async () => {
      const cardCode = await aCard();
      await adjust(cardCode, credit).expect(201);
      await adjust(cardCode, credit).expect(200);
      expectProblem(
        await adjust(cardCode, { ...credit, amountCents: 500 }),
        409,
        'idempotency-conflict',
      );
      expect(await auditOf(cardCode)).toHaveLength(1);
      expect(await balance(cardCode, 'CANTEEN')).toBe(450);
    });

    test('a debit beyond the credit is 422 and leaves no entry and no audit row', async () => {
      const cardCode = await aCard();
      const res = await adjust(cardCode, { ...credit, amountCents: -1 });
      expectProblem(res, 422, 'insufficient-credit');
      expect(await auditOf(cardCode)).toHaveLength(0);
      expect(await balance(cardCode, 'CANTEEN')).toBe(0);
    });

    test.each([
      ['amount 0', { amountCents: 0 }, 'body.amountCents'],
      ['no reason', { reason: undefined }, 'body.reason'],
      ['a blank reason', { reason: '  ' }, 'body.reason'],
      ['an unknown field', { kind: 'TOP_UP' }, 'body'],
    ])('%s is 400 invalid-input', async (_what, change, field) => {
      const cardCode = await aCard();
      const res = await adjust(cardCode, { ...credit, ...change });
      expectProblem(res, 400, 'invalid-input');
      expect((res.body as { errors: { path: string }[] }).errors.map((e) => e.path)).toContain(
        field,
      );
    });

    test('an ERP key may not adjust (403)', async () => {
      const cardCode = await aCard();
      expectProblem(await adjust(cardCode, credit, ERP), 403, 'forbidden');
      expect(await auditOf(cardCode)).toHaveLength(0);
    });
  });
});
