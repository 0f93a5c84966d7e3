import fs from 'node:fs';
import path from 'node:path';
import request from 'supertest';
import { ERP, OPERATOR, startApi } from '../helpers/api';
import { REPO_ROOT } from '../helpers/service';
import { makeCardCode } from '../../src/domain/codes/card-code';
import { encodeCursor } from '../../src/domain/cards/movements';
import { postEntry, type Account } from '../../src/data-access/ledger-repository';

/**
 * Cards through the real door: registration (idempotent on domain and number), reading a card
 * with its balances and open debts, and its movements page by page. Every 2xx answer here has
 * been checked against its declared schema by the API itself (NODE_ENV=test).
 */

const fixture = (name: string): Record<string, unknown> =>
  JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'fixtures', 'erp', name), 'utf8')) as Record<
    string,
    unknown
  >;

const ROSSI = { fiscalCode: 'RSSMRA85T10A562S', fullName: 'Rossi Mario' };

describe('cards API', () => {
  let app: Awaited<ReturnType<typeof startApi>>;
  let nextNumber = 4_202_600_100;

  beforeAll(async () => {
    app = await startApi('cards');
  });
  afterAll(async () => {
    await app.stop();
  });

  /** Registers a fresh card in the default domain and answers its code. */
  const aCard = async (holder = ROSSI): Promise<string> => {
    nextNumber += 1;
    const res = await request(app.url)
      .post('/api/v1/cards')
      .set(ERP)
      .send({ cardNumber: String(nextNumber), holder })
      .expect(201);
    return (res.body as { cardCode: string }).cardCode;
  };

  /** Posts an entry straight on the ledger (top-ups have their own feature). */
  const post = async (cardCode: string, account: Account, amountCents: number, key: string) => {
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
          kind: amountCents > 0 ? 'TOP_UP' : 'CHARGE',
          idempotencyKey: key,
          requestHash: 'x'.repeat(64),
          reference: key,
          description: `entry ${key}`,
        },
        { enforceOverdraft: false },
      );
    });
  };

  const expectProblem = (res: request.Response, status: number, code: string): void => {
    expect({ status: res.status, code: (res.body as { code?: string }).code }).toEqual({
      status,
      code,
    });
    expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(res.body).toMatchObject({ requestId: res.headers['x-request-id'] });
    expect((res.body as { detail: string }).detail.length).toBeGreaterThan(10);
  };

  describe('POST /api/v1/cards', () => {
    test('registers a card with its three accounts and the domain limits (201)', async () => {
      const res = await request(app.url)
        .post('/api/v1/cards')
        .set(ERP)
        .send(fixture('register-card.ok.json'))
        .expect(201);
      expect(res.body).toEqual({
        cardCode: makeCardCode('4202600001', 'mod93'),
        cardNumber: '4202600001',
        domain: '80000000001',
        holder: ROSSI,
        accounts: [
          { account: 'CANTEEN', balanceCents: 0, overdraftLimitCents: 0 },
          { account: 'NURSERY_MEALS', balanceCents: 0, overdraftLimitCents: 0 },
          { account: 'SCHOOL_TRANSPORT', balanceCents: 0, overdraftLimitCents: 100_000 },
        ],
        openDebtPositions: [],
        createdAt: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T.*Z$/),
      });
    });

    test('the same number and holder again answers the same card (200), nothing added', async () => {
      const body = { cardNumber: '4202600002', holder: ROSSI };
      const first = await request(app.url).post('/api/v1/cards').set(ERP).send(body).expect(201);
      // Lower case and extra spaces are the same holder once normalised.
      const again = await request(app.url)
        .post('/api/v1/cards')
        .set(ERP)
        .send({
          cardNumber: '4202600002',
          holder: { fiscalCode: 'rssmra85t10a562s', fullName: ' Rossi  Mario' },
        })
        .expect(200);
      expect(again.body).toEqual(first.body);
      const [{ n }] = (await app.db('cards').where({ card_number: '4202600002' }).count({
        n: '*',
      })) as [{ n: number }];
      expect(Number(n)).toBe(1);
      const accounts = await app.db('card_accounts').where({
        card_id: app.db('cards').select('id').where({ card_number: '4202600002' }),
      });
      expect(accounts).toHaveLength(3);
    });

    test('concurrent identical registrations make one card', async () => {
      const body = { cardNumber: '4202600003', holder: ROSSI };
      const answers = await Promise.all(
        Array.from({ length: 6 }, () => request(app.url).post('/api/v1/cards').set(ERP).send(body)),
      );
      expect(answers.map((r) => r.status).sort()).toEqual([200, 200, 200, 200, 200, 201]);
      expect(new Set(answers.map((r) => (r.body as { cardCode: string }).cardCode)).size).toBe(1);
      const rows = await app.db('cards').where({ card_number: '4202600003' });
      expect(rows).toHaveLength(1);
    });

    test('the same number with another holder is 409 conflict', async () => {
      await request(app.url)
        .post('/api/v1/cards')
        .set(ERP)
        .send({ cardNumber: '4202600004', holder: ROSSI })
        .expect(201);
      const res = await request(app.url)
        .post('/api/v1/cards')
        .set(ERP)
        .send({
          cardNumber: '4202600004',
          holder: { fiscalCode: 'VRDNNA90A41D612X', fullName: 'Verdi Anna' },
        });
      expectProblem(res, 409, 'conflict');
      const stored = await app.db('cards').where({ card_number: '4202600004' }).first();
      expect(stored).toMatchObject({ holder_fiscal_code: 'RSSMRA85T10A562S' });
    });

    test('a named domain uses its own limits; a numeric fiscal code is accepted', async () => {
      const res = await request(app.url)
        .post('/api/v1/cards')
        .set(ERP)
        .send({
          domain: '80000000002',
          cardNumber: '9900000001',
          holder: { fiscalCode: '12345678901', fullName: 'Associazione Genitori' },
        })
        .expect(201);
      expect(res.body).toMatchObject({
        domain: '80000000002',
        holder: { fiscalCode: '12345678901' },
        accounts: expect.arrayContaining([
          { account: 'SCHOOL_TRANSPORT', balanceCents: 0, overdraftLimitCents: 50_000 },
        ]),
      });
    });

    test('a number whose card code is taken in another domain is 409 (codes are unique)', async () => {
      await request(app.url)
        .post('/api/v1/cards')
        .set(ERP)
        .send({ cardNumber: '4202600005', holder: ROSSI })
        .expect(201);
      const res = await request(app.url)
        .post('/api/v1/cards')
        .set(ERP)
        .send({ domain: '80000000002', cardNumber: '4202600005', holder: ROSSI });
      expectProblem(res, 409, 'conflict');
      expect(res.body.detail).toMatch(/another domain/);
    });

    test('an unknown domain is 422 domain-unknown', async () => {
      const res = await request(app.url)
        .post('/api/v1/cards')
        .set(ERP)
        .send({ domain: '19999999999', cardNumber: '1', holder: ROSSI });
      expectProblem(res, 422, 'domain-unknown');
    });

    test.each([
      ['an unknown field', { cardNumber: '1', holder: ROSSI, colour: 'red' }, 'body'],
      [
        'an unknown holder field',
        { cardNumber: '1', holder: { ...ROSSI, email: 'a@b.it' } },
        'body.holder',
      ],
      ['a card number with letters', { cardNumber: '12A', holder: ROSSI }, 'body.cardNumber'],
      ['a card number too long', { cardNumber: '1'.repeat(34), holder: ROSSI }, 'body.cardNumber'],
      ['a numeric card number', { cardNumber: 12, holder: ROSSI }, 'body.cardNumber'],
      ['no holder', { cardNumber: '1' }, 'body.holder'],
      [
        'a blank name',
        { cardNumber: '1', holder: { ...ROSSI, fullName: '  ' } },
        'body.holder.fullName',
      ],
      ['a bad domain', { domain: '123', cardNumber: '1', holder: ROSSI }, 'body.domain'],
    ])('%s is 400 invalid-input naming the field', async (_what, body, field) => {
      const res = await request(app.url).post('/api/v1/cards').set(ERP).send(body);
      expectProblem(res, 400, 'invalid-input');
      expect((res.body as { errors: { path: string }[] }).errors.map((e) => e.path)).toContain(
        field,
      );
    });

    test('a malformed fiscal code is 400 and the answer does not repeat it', async () => {
      const res = await request(app.url)
        .post('/api/v1/cards')
        .set(ERP)
        .send({ cardNumber: '1', holder: { fiscalCode: 'RSSMRA85Z10A562Q', fullName: 'Rossi' } });
      expectProblem(res, 400, 'invalid-input');
      expect(res.body.detail).toMatch(/body\.holder\.fiscalCode/);
      expect(JSON.stringify(res.body)).not.toContain('RSSMRA85Z10A562Q');
      expect(await app.db('cards').where({ card_number: '1' })).toHaveLength(0);
    });

    test('an operator key may not register cards (403)', async () => {
      const res = await request(app.url)
        .post('/api/v1/cards')
        .set(OPERATOR)
        .send(fixture('register-card.ok.json'));
      expectProblem(res, 403, 'forbidden');
    });
  });

  describe('GET /api/v1/cards/{cardCode}', () => {
    test('shows balances per account and only the open debt positions with what is due', async () => {
      const cardCode = await aCard();
      const other = await aCard();
      await post(cardCode, 'CANTEEN', 2_000, `topup-${cardCode}`);
      await post(cardCode, 'SCHOOL_TRANSPORT', -3_500, `billing-${cardCode}`);
      const cardId = (
        (await app.db('cards').where({ card_code: cardCode }).first('id')) as {
          id: number;
        }
      ).id;
      const otherId = (
        (await app.db('cards').where({ card_code: other }).first('id')) as {
          id: number;
        }
      ).id;
      let iuv = Number(cardId) * 1000;
      const position = async (
        cardIdOf: number,
        externalId: string,
        status: string,
        options: { plan: string; amountCents: number; status: string }[],
      ): Promise<void> => {
        const [id] = await app.db('debt_positions').insert({
          domain_id: '80000000001',
          external_id: externalId,
          kind: 'DEBT',
          service: 'SCHOOL_TRANSPORT',
          card_id: cardIdOf,
          account: 'SCHOOL_TRANSPORT',
          debtor_type: 'F',
          debtor_fiscal_code: ROSSI.fiscalCode,
          debtor_full_name: ROSSI.fullName,
          description: `Trasporto ${externalId}`,
          status,
          request_hash: 'h'.repeat(64),
        });
        for (const [i, o] of options.entries()) {
          iuv += 1;
          await app.db('payment_options').insert({
            debt_position_id: id,
            domain_id: '80000000001',
            iuv: `02${String(iuv).padStart(15, '0')}`,
            notice_number: `302${String(iuv).padStart(15, '0')}`,
            plan: o.plan,
            installment: o.plan === 'INSTALLMENT' ? i + 1 : null,
            amount_cents: o.amountCents,
            due_date: '2026-12-31',
            status: o.status,
          });
        }
      };
      await position(cardId, `${cardCode}-nov`, 'OPEN', [
        { plan: 'SINGLE', amountCents: 3_500, status: 'UNPAID' },
      ]);
      await position(cardId, `${cardCode}-term`, 'PARTIALLY_PAID', [
        { plan: 'INSTALLMENT', amountCents: 1_000, status: 'PAID' },
        { plan: 'INSTALLMENT', amountCents: 1_200, status: 'UNPAID' },
        { plan: 'INSTALLMENT', amountCents: 1_300, status: 'UNPAID' },
      ]);
      await position(cardId, `${cardCode}-fine`, 'OPEN', [
        { plan: 'ALTERNATIVE', amountCents: 4_200, status: 'UNPAID' },
        { plan: 'ALTERNATIVE', amountCents: 2_940, status: 'UNPAID' },
      ]);
      await position(cardId, `${cardCode}-oct`, 'PAID', [
        { plan: 'SINGLE', amountCents: 3_500, status: 'PAID' },
      ]);
      await position(cardId, `${cardCode}-sep`, 'CANCELLED', [
        { plan: 'SINGLE', amountCents: 3_500, status: 'CANCELLED' },
      ]);
      await position(otherId, `${other}-nov`, 'OPEN', [
        { plan: 'SINGLE', amountCents: 9_999, status: 'UNPAID' },
      ]);

      const res = await request(app.url).get(`/api/v1/cards/${cardCode}`).set(ERP).expect(200);
      expect(res.body).toMatchObject({
        cardCode,
        holder: ROSSI,
        accounts: [
          { account: 'CANTEEN', balanceCents: 2_000, overdraftLimitCents: 0 },
          { account: 'NURSERY_MEALS', balanceCents: 0, overdraftLimitCents: 0 },
          { account: 'SCHOOL_TRANSPORT', balanceCents: -3_500, overdraftLimitCents: 100_000 },
        ],
        openDebtPositions: [
          {
            externalId: `${cardCode}-nov`,
            service: 'SCHOOL_TRANSPORT',
            description: `Trasporto ${cardCode}-nov`,
            status: 'OPEN',
            amountDueCents: 3_500,
          },
          { externalId: `${cardCode}-term`, status: 'PARTIALLY_PAID', amountDueCents: 2_500 },
          { externalId: `${cardCode}-fine`, status: 'OPEN', amountDueCents: 2_940 },
        ],
      });
      expect(res.body.openDebtPositions).toHaveLength(3);
    });

    test('an operator may read a card', async () => {
      const cardCode = await aCard();
      await request(app.url).get(`/api/v1/cards/${cardCode}`).set(OPERATOR).expect(200);
    });

    test('a wrong check digit is 422 card-code-invalid, never 404', async () => {
      const cardCode = await aCard();
      const last = Number(cardCode.slice(-1));
      const typo = `${cardCode.slice(0, -1)}${(last + 1) % 10}`;
      expectProblem(
        await request(app.url).get(`/api/v1/cards/${typo}`).set(ERP),
        422,
        'card-code-invalid',
      );
      // Two adjacent digits of the card number swapped.
      const swapped = `${cardCode.slice(0, 2)}${cardCode[3]}${cardCode[2]}${cardCode.slice(4)}`;
      expect(swapped).not.toBe(cardCode);
      expectProblem(
        await request(app.url).get(`/api/v1/cards/${swapped}`).set(ERP),
        422,
        'card-code-invalid',
      );
      expectProblem(
        await request(app.url).get('/api/v1/cards/12AB').set(ERP),
        422,
        'card-code-invalid',
      );
    });

    test('a well-formed code of no card is 404 not-found', async () => {
      const res = await request(app.url)
        .get(`/api/v1/cards/${makeCardCode('777000111', 'mod93')}`)
        .set(ERP);
      expectProblem(res, 404, 'not-found');
    });
  });

  describe('GET /api/v1/cards/{cardCode}/movements', () => {
    type Page = {
      items: { id: number; account: string; amountCents: number; reference: string }[];
      nextCursor: string | null;
    };
    const movements = (cardCode: string, query: Record<string, string | number> = {}) =>
      request(app.url).get(`/api/v1/cards/${cardCode}/movements`).query(query).set(ERP);

    test('pages through the ledger newest first, without gaps or repeats', async () => {
      const cardCode = await aCard();
      await post(cardCode, 'CANTEEN', 1_000, `${cardCode}-1`);
      await post(cardCode, 'NURSERY_MEALS', 800, `${cardCode}-2`);
      await post(cardCode, 'CANTEEN', -450, `${cardCode}-3`);
      await post(cardCode, 'SCHOOL_TRANSPORT', -3_500, `${cardCode}-4`);
      await post(cardCode, 'CANTEEN', -450, `${cardCode}-5`);
      // Another card's entries never show.
      await post(await aCard(), 'CANTEEN', 5_000, `${cardCode}-elsewhere`);

      const seen: Page['items'] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const res = await movements(cardCode, {
          limit: 2,
          ...(cursor === null ? {} : { cursor }),
        }).expect(200);
        const page = res.body as Page;
        expect(page.items.length).toBeLessThanOrEqual(2);
        seen.push(...page.items);
        cursor = page.nextCursor;
        pages += 1;
      } while (cursor !== null && pages < 10);

      expect(pages).toBe(3);
      expect(seen.map((m) => m.reference)).toEqual([5, 4, 3, 2, 1].map((n) => `${cardCode}-${n}`));
      expect(seen.map((m) => m.id)).toEqual([...seen.map((m) => m.id)].sort((a, b) => b - a));
      expect(seen[0]).toEqual({
        id: expect.any(Number),
        account: 'CANTEEN',
        amountCents: -450,
        kind: 'CHARGE',
        reference: `${cardCode}-5`,
        description: `entry ${cardCode}-5`,
        balanceAfterCents: 100,
        createdAt: expect.stringMatching(/Z$/),
      });
      expect(seen[1]).toMatchObject({ account: 'SCHOOL_TRANSPORT', balanceAfterCents: -3_500 });
    });

    test('an entry posted while paging does not shift the next page', async () => {
      const cardCode = await aCard();
      for (const n of [1, 2, 3, 4]) await post(cardCode, 'CANTEEN', 100, `${cardCode}-${n}`);
      const first = (await movements(cardCode, { limit: 2 }).expect(200)).body as Page;
      await post(cardCode, 'CANTEEN', 100, `${cardCode}-5`);
      const second = (
        await movements(cardCode, { limit: 2, cursor: first.nextCursor ?? '' }).expect(200)
      ).body as Page;
      expect([...first.items, ...second.items].map((m) => m.reference)).toEqual(
        [4, 3, 2, 1].map((n) => `${cardCode}-${n}`),
      );
      expect(second.nextCursor).toBeNull();
    });

    test('the account filter shows one account', async () => {
      const cardCode = await aCard();
      await post(cardCode, 'CANTEEN', 1_000, `${cardCode}-c`);
      await post(cardCode, 'NURSERY_MEALS', 800, `${cardCode}-n`);
      const page = (await movements(cardCode, { account: 'NURSERY_MEALS' }).expect(200))
        .body as Page;
      expect(page.items.map((m) => m.reference)).toEqual([`${cardCode}-n`]);
      expect(page.nextCursor).toBeNull();
    });

    test('without a limit a page holds 50 entries', async () => {
      const cardCode = await aCard();
      for (let n = 1; n <= 51; n += 1) await post(cardCode, 'CANTEEN', 10, `${cardCode}-${n}`);
      const page = (await movements(cardCode).expect(200)).body as Page;
      expect(page.items).toHaveLength(50);
      expect(page.items[0]?.reference).toBe(`${cardCode}-51`);
      const rest = (await movements(cardCode, { cursor: page.nextCursor ?? '' }).expect(200))
        .body as Page;
      expect(rest.items.map((m) => m.reference)).toEqual([`${cardCode}-1`]);
    });

    test('a card without entries has an empty page', async () => {
      const cardCode = await aCard();
      expect((await movements(cardCode).expect(200)).body).toEqual({ items: [], nextCursor: null });
    });

    test.each([
      ['limit 0', { limit: 0 }],
      ['limit above the maximum (200)', { limit: 201 }],
      ['a non-numeric limit', { limit: 'ten' }],
      ['a negative limit', { limit: -1 }],
      ['a forged cursor', { cursor: 'bm90LWFuLWlk' }],
      ['a cursor of id 0', { cursor: encodeCursor(0) }],
      ['an unknown parameter', { offset: 10 }],
      ['an unknown account', { account: 'GYM' }],
    ])('%s is 400 invalid-input', async (_what, query) => {
      const cardCode = await aCard();
      expectProblem(await movements(cardCode, query), 400, 'invalid-input');
    });

    test('a repeated limit parameter is 400, not the first or last value', async () => {
      const cardCode = await aCard();
      const res = await request(app.url)
        .get(`/api/v1/cards/${cardCode}/movements?limit=1&limit=2`)
        .set(ERP);
      expectProblem(res, 400, 'invalid-input');
    });

    test('a mistyped card code is 422 and an unknown one 404', async () => {
      const cardCode = await aCard();
      const typo = `${cardCode.slice(0, -2)}${String((Number(cardCode.slice(-2)) + 1) % 93).padStart(2, '0')}`;
      expectProblem(await movements(typo), 422, 'card-code-invalid');
      expectProblem(await movements(makeCardCode('888000111', 'mod93')), 404, 'not-found');
    });
  });
});
