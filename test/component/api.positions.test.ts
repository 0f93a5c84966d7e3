import fs from 'node:fs';
import path from 'node:path';
import request from 'supertest';
import { ERP, OPERATOR, startApi } from '../helpers/api';
import { REPO_ROOT } from '../helpers/service';
import { parseValidNoticeNumber } from '../../src/domain/codes/notice-number';
import { addDays, romeDate } from '../../src/domain/positions/dates';

/**
 * Debt positions through the real door: the idempotent PUT (create, update in place keeping the
 * notice numbers, unchanged on an identical request, refusals), GET one, the filtered and paged
 * list, and DELETE. Every 2xx answer has been checked by the API against its declared schema.
 */

type Json = Record<string, unknown>;
type Option = {
  iuv: string;
  noticeNumber: string;
  installment: number | null;
  amountCents: number;
  amountInForceCents: number;
  dueDate: string;
  status: string;
  transfers: Json[];
};
type Position = Json & {
  status: string;
  plan: string;
  paymentOptions: Option[];
  updatedAt: string;
};

const fixture = (name: string): Json =>
  JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'fixtures', 'erp', name), 'utf8')) as Json;

const DOMAIN = '80000000001';
const today = romeDate(new Date());

/** A road fine notified today: reduced for 5 days, full amount in 60 days. */
const roadFineToday = (): Json => ({
  ...fixture('road-fine-with-reduction.json'),
  paymentOptions: [
    {
      amountCents: 4200,
      dueDate: addDays(today, 60),
      validFrom: today,
      amountSchedule: [{ until: addDays(today, 5), amountCents: 2940 }],
    },
  ],
});

describe('debt positions API', () => {
  let app: Awaited<ReturnType<typeof startApi>>;
  let nextCard = 4_202_700_000;
  let nextId = 0;
  const newId = (prefix: string) => `${prefix}-${(nextId += 1)}`;

  beforeAll(async () => {
    app = await startApi('positions');
  });
  afterAll(async () => {
    await app.stop();
  });

  const put = (externalId: string, body: unknown, headers: Record<string, string> = ERP) =>
    request(app.url)
      .put(`/api/v1/debt-positions/${externalId}`)
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

  const counts = async () => ({
    positions: Number(((await app.db('debt_positions').count({ n: '*' }))[0] as { n: number }).n),
    options: Number(((await app.db('payment_options').count({ n: '*' }))[0] as { n: number }).n),
    transfers: Number(((await app.db('transfers').count({ n: '*' }))[0] as { n: number }).n),
  });

  describe('PUT creates', () => {
    test('a road fine with a reduced amount: one aux-3 notice, amount in force today, causale, catalogue IBAN and taxonomy', async () => {
      const id = newId('VERBALE');
      const res = await put(id, roadFineToday()).expect(201);
      const body = res.body as Position;
      expect(body).toMatchObject({
        externalId: id,
        domain: DOMAIN,
        kind: 'DEBT',
        service: 'ROAD_FINE',
        status: 'OPEN',
        plan: 'SINGLE',
        cardCode: null,
        account: null,
        debtor: { type: 'F', fiscalCode: 'VRDGNN75C12E715K', fullName: 'Verdi Giovanni' },
      });
      const [option] = body.paymentOptions;
      expect(option).toMatchObject({
        installment: null,
        amountCents: 4200,
        amountInForceCents: 2940,
        status: 'UNPAID',
        paidAmountCents: 0,
        paidAt: null,
      });
      // Aux digit 3, the demo domain's segregation code 02, valid mod-93 check digits.
      const parsed = parseValidNoticeNumber(option?.noticeNumber ?? '');
      expect(parsed).toMatchObject({ auxDigit: 3, segregationCode: '02', iuv: option?.iuv });
      expect(option?.transfers).toEqual([
        {
          index: 1,
          beneficiaryFiscalCode: DOMAIN,
          amountCents: 4200,
          iban: 'IT60X0542811101000000123456',
          postalIban: null,
          stamp: null,
          taxonomyCode: '0102100SA',
          remittanceInformation: `/RFB/${option?.iuv}/TXT/Verbale n. 2026/004512 del 02/12/2026 - art. 7 CdS`,
        },
      ]);
    });

    test('after the reduction window the full amount is in force', async () => {
      const body = roadFineToday();
      body['paymentOptions'] = [
        {
          amountCents: 4200,
          dueDate: addDays(today, 54),
          validFrom: addDays(today, -6),
          amountSchedule: [{ until: addDays(today, -1), amountCents: 2940 }],
        },
      ];
      const res = await put(newId('VERBALE'), body).expect(201);
      expect((res.body as Position).paymentOptions[0]?.amountInForceCents).toBe(4200);
    });

    test('instalments: one notice each, plan INSTALLMENTS, causale with the amount, service postal IBAN when it has one', async () => {
      const res = await put(newId('NIDO'), fixture('nursery-instalments.json')).expect(201);
      const body = res.body as Position;
      expect(body.plan).toBe('INSTALLMENTS');
      expect(body.paymentOptions.map((o) => [o.installment, o.amountCents])).toEqual([
        [1, 18000],
        [2, 18000],
        [3, 12000],
      ]);
      const notices = new Set(body.paymentOptions.map((o) => o.noticeNumber));
      expect(notices.size).toBe(3);
      expect(body.paymentOptions[2]?.transfers[0]).toMatchObject({
        taxonomyCode: '0107106SP',
        remittanceInformation: `/RFB/${body.paymentOptions[2]?.iuv}/120.00/TXT/Retta asilo nido a.s. 2026/27 - primo trimestre`,
      });

      const transport = await put(newId('TRASPORTO'), {
        ...fixture('transport-month.json'),
        cardCode: await aCard(),
      }).expect(201);
      expect((transport.body as Position).paymentOptions[0]?.transfers[0]).toMatchObject({
        iban: 'IT60X0542811101000000123456',
        postalIban: 'IT57N0760111100000012345678',
        taxonomyCode: '0107102SP',
      });
    });

    test('alternatives and a card: plan ALTERNATIVES, the card and its account', async () => {
      const alt = await put(newId('VERBALE'), fixture('road-fine-alternatives.json')).expect(201);
      expect((alt.body as Position).plan).toBe('ALTERNATIVES');
      expect((alt.body as Position).paymentOptions.map((o) => o.amountCents)).toEqual([2940, 4200]);

      const cardCode = await aCard();
      const res = await put(newId('TRASPORTO'), {
        ...fixture('transport-month.json'),
        cardCode,
      }).expect(201);
      expect(res.body).toMatchObject({ cardCode, account: 'SCHOOL_TRANSPORT' });
    });

    test('explicit transfers with a marca da bollo', async () => {
      const res = await put(newId('ISCRIZIONE'), fixture('nursery-fee-with-stamp.json')).expect(
        201,
      );
      expect((res.body as Position).paymentOptions[0]?.transfers).toEqual([
        expect.objectContaining({
          index: 1,
          amountCents: 5000,
          iban: 'IT60X0542811101000000123456',
        }),
        expect.objectContaining({
          index: 2,
          amountCents: 1600,
          iban: null,
          stamp: {
            documentHash: 'ZmFrZS1kb2N1bWVudC1oYXNoLXNoYTI1Ng==',
            type: '01',
            province: 'LU',
          },
        }),
      ]);
    });

    test('concurrent identical PUTs of a new position store it once', async () => {
      const id = newId('RACE');
      const before = await counts();
      const answers = await Promise.all(
        Array.from({ length: 6 }, () => put(id, fixture('nursery-instalments.json'))),
      );
      expect(answers.map((a) => a.status).sort()).toEqual([200, 200, 200, 200, 200, 201]);
      const after = await counts();
      expect(after.positions - before.positions).toBe(1);
      expect(after.options - before.options).toBe(3);
      const notices = new Set(
        answers.map((a) => (a.body as Position).paymentOptions[0]?.noticeNumber),
      );
      expect(notices.size).toBe(1);
    });
  });

  describe('PUT updates', () => {
    test('an identical PUT answers 200 and changes nothing', async () => {
      const id = newId('NIDO');
      const first = await put(id, fixture('nursery-instalments.json')).expect(201);
      const before = await counts();
      await new Promise((r) => setTimeout(r, 20));
      // Same content, other key order and the default domain named: the same request.
      const again = await put(id, {
        ...fixture('nursery-instalments.json'),
        domain: DOMAIN,
      }).expect(200);
      expect(again.body).toEqual(first.body);
      expect(await counts()).toEqual(before);
    });

    test('a changed amount and due date update in place: same IUVs and notice numbers, matched by instalment number', async () => {
      const id = newId('NIDO');
      const first = (await put(id, fixture('nursery-instalments.json')).expect(201))
        .body as Position;
      const changed = fixture('nursery-instalments.json');
      // Sent in another order, with instalment 2 changed.
      changed['paymentOptions'] = [
        { amountCents: 12000, dueDate: '2027-02-28', installment: 3 },
        { amountCents: 18000, dueDate: '2026-12-31', installment: 1 },
        { amountCents: 17500, dueDate: '2027-02-15', installment: 2 },
      ];
      const res = await put(id, changed).expect(200);
      const updated = res.body as Position;
      expect(
        updated.paymentOptions.map((o) => [
          o.installment,
          o.noticeNumber,
          o.amountCents,
          o.dueDate,
        ]),
      ).toEqual([
        [1, first.paymentOptions[0]?.noticeNumber, 18000, '2026-12-31'],
        [2, first.paymentOptions[1]?.noticeNumber, 17500, '2027-02-15'],
        [3, first.paymentOptions[2]?.noticeNumber, 12000, '2027-02-28'],
      ]);
      expect(updated.paymentOptions[1]?.transfers).toEqual([
        expect.objectContaining({
          amountCents: 17500,
          remittanceInformation: expect.stringContaining('/175.00/'),
        }),
      ]);
      const transfers = await app.db('transfers').whereIn(
        'payment_option_id',
        app
          .db('payment_options')
          .where('iuv', first.paymentOptions[1]?.iuv ?? '')
          .select('id'),
      );
      expect(transfers).toHaveLength(1);
    });

    test('changing the number of options or the plan is refused with 409 and changes nothing', async () => {
      const id = newId('NIDO');
      const first = (await put(id, fixture('nursery-instalments.json')).expect(201))
        .body as Position;
      const fewer = fixture('nursery-instalments.json');
      fewer['paymentOptions'] = (fewer['paymentOptions'] as Json[]).slice(0, 2);
      const res = await put(id, fewer).expect(409);
      expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
      expect(res.body).toMatchObject({
        code: 'conflict',
        detail: expect.stringMatching(/has 3 payment option\(s\) and the request 2.*cancel/),
      });

      const asAlternatives = fixture('road-fine-alternatives.json');
      const alt = fixture('road-fine-alternatives.json');
      const altId = newId('VERBALE');
      await put(altId, alt).expect(201);
      asAlternatives['plan'] = undefined;
      asAlternatives['paymentOptions'] = [
        { amountCents: 2940, dueDate: '2026-12-07', installment: 1 },
        { amountCents: 4200, dueDate: '2027-01-31', installment: 2 },
      ];
      const plan = await put(altId, asAlternatives).expect(409);
      expect(plan.body).toMatchObject({
        code: 'conflict',
        detail: expect.stringMatching(/ALTERNATIVE.*INSTALLMENT/),
      });

      const now = (await request(app.url).get(`/api/v1/debt-positions/${id}`).set(ERP).expect(200))
        .body;
      expect(now).toEqual(first);
    });
  });

  describe('validation: clear problem+json, nothing stored', () => {
    test.each<[string, (b: Json) => unknown, number, string, RegExp]>([
      [
        'an unknown field',
        (b) => ({ ...b, colour: 'red' }),
        400,
        'invalid-input',
        /body: Unrecognized key.*colour/,
      ],
      [
        'an unknown field in an option',
        (b) => ({ ...b, paymentOptions: [{ amountCents: 100, dueDate: '2026-12-31', note: 'x' }] }),
        400,
        'invalid-input',
        /body\.paymentOptions\.0: Unrecognized key/,
      ],
      ['no service', (b) => ({ ...b, service: undefined }), 400, 'invalid-input', /body\.service/],
      [
        'a service outside the catalogue',
        (b) => ({ ...b, service: 'PARKING' }),
        400,
        'invalid-input',
        /PARKING is not in the catalogue of domain 80000000001/,
      ],
      [
        'amount in euros',
        (b) => ({ ...b, paymentOptions: [{ amountCents: 12.5, dueDate: '2026-12-31' }] }),
        400,
        'invalid-input',
        /amountCents/,
      ],
      [
        'a zero amount',
        (b) => ({ ...b, paymentOptions: [{ amountCents: 0, dueDate: '2026-12-31' }] }),
        400,
        'invalid-input',
        /amountCents/,
      ],
      [
        'not a day',
        (b) => ({ ...b, paymentOptions: [{ amountCents: 100, dueDate: '31/12/2026' }] }),
        400,
        'invalid-input',
        /dueDate/,
      ],
      [
        'transfers not adding up',
        (b) => ({ ...b, transfers: [{ amountCents: 17000 }] }),
        400,
        'invalid-input',
        /transfers add up to 17000/,
      ],
      [
        'six transfers',
        (b) => ({ ...b, transfers: Array.from({ length: 6 }, () => ({ amountCents: 3000 })) }),
        400,
        'invalid-input',
        /body\.transfers/,
      ],
      [
        'ambiguous options',
        (b) => ({
          ...b,
          paymentOptions: [
            { amountCents: 100, dueDate: '2026-12-31' },
            { amountCents: 100, dueDate: '2026-12-31' },
          ],
        }),
        400,
        'invalid-input',
        /plan ALTERNATIVES/,
      ],
      [
        'a control character in the description',
        (b) => ({ ...b, description: 'Retta\u0007' }),
        400,
        'invalid-input',
        /control characters/,
      ],
      [
        'a malformed fiscal code',
        (b) => ({ ...b, debtor: { type: 'F', fiscalCode: 'RSSMRA', fullName: 'Rossi' } }),
        400,
        'invalid-input',
        /body\.debtor\.fiscalCode/,
      ],
      [
        'a domain not served',
        (b) => ({ ...b, domain: '99999999999' }),
        422,
        'domain-unknown',
        /99999999999 is not served/,
      ],
      [
        'a mistyped card code',
        (b) => ({ ...b, cardCode: '420260000100' }),
        422,
        'card-code-invalid',
        /mistyped|check/,
      ],
    ])('%s', async (_name, mutate, status, code, detail) => {
      const before = await counts();
      const res = await put(newId('BAD'), mutate(fixture('nursery-instalments.json'))).expect(
        status,
      );
      expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
      expect(res.body).toMatchObject({ status, code, detail: expect.stringMatching(detail) });
      expect(await counts()).toEqual(before);
    });

    test('an unknown card is 404, a card of another domain too', async () => {
      const { makeCardCode } = await import('../../src/domain/codes/card-code');
      const res = await put(newId('BAD'), {
        ...fixture('transport-month.json'),
        cardCode: makeCardCode('999999999'),
      }).expect(404);
      expect(res.body).toMatchObject({
        code: 'not-found',
        detail: expect.stringMatching(/no card/),
      });
      const cardCode = await aCard();
      await put(newId('BAD'), {
        ...fixture('transport-month.json'),
        domain: '80000000002',
        cardCode,
      }).expect(404);
    });

    test('a body that is not JSON, and a bad externalId', async () => {
      const res = await request(app.url)
        .put('/api/v1/debt-positions/X-1')
        .set(ERP)
        .set('Content-Type', 'application/json')
        .send('{"service":')
        .expect(400);
      expect(res.body).toMatchObject({
        code: 'invalid-input',
        detail: expect.stringMatching(/not valid JSON/),
      });
      await put('has%20space', fixture('nursery-instalments.json')).expect(400);
    });
  });

  describe('auth', () => {
    test('no key 401, an operator key cannot write but can read', async () => {
      await request(app.url)
        .put('/api/v1/debt-positions/A-1')
        .send(fixture('nursery-instalments.json'))
        .expect(401);
      await put('A-1', fixture('nursery-instalments.json'), OPERATOR).expect(403);
      const id = newId('NIDO');
      await put(id, fixture('nursery-instalments.json')).expect(201);
      await request(app.url).get(`/api/v1/debt-positions/${id}`).set(OPERATOR).expect(200);
      await request(app.url).get('/api/v1/debt-positions').set(OPERATOR).expect(200);
      await request(app.url).delete(`/api/v1/debt-positions/${id}`).set(OPERATOR).expect(403);
    });
  });

  describe('GET one', () => {
    test('unknown, or in another domain: 404', async () => {
      const id = newId('NIDO');
      await put(id, fixture('nursery-instalments.json')).expect(201);
      await request(app.url).get(`/api/v1/debt-positions/${id}`).set(ERP).expect(200);
      await request(app.url)
        .get(`/api/v1/debt-positions/${id}?domain=${DOMAIN}`)
        .set(ERP)
        .expect(200);
      const other = await request(app.url)
        .get(`/api/v1/debt-positions/${id}?domain=80000000002`)
        .set(ERP)
        .expect(404);
      expect(other.body).toMatchObject({ code: 'not-found' });
      await request(app.url).get('/api/v1/debt-positions/NOPE-1').set(ERP).expect(404);
      await request(app.url).get(`/api/v1/debt-positions/${id}?colour=red`).set(ERP).expect(400);
    });
  });

  describe('list', () => {
    let cardCode: string;
    const mine: string[] = [];

    beforeAll(async () => {
      // A domain of its own keeps this list free of the other tests' positions.
      cardCode = await (async () => {
        nextCard += 1;
        const res = await request(app.url)
          .post('/api/v1/cards')
          .set(ERP)
          .send({
            domain: '80000000002',
            cardNumber: String(nextCard),
            holder: { fiscalCode: 'RSSMRA85T10A562S', fullName: 'Rossi Mario' },
          })
          .expect(201);
        return (res.body as { cardCode: string }).cardCode;
      })();
      const transport = (dueDate: string, card?: string) => ({
        domain: '80000000002',
        service: 'SCHOOL_TRANSPORT',
        debtor: { type: 'F', fiscalCode: 'RSSMRA85T10A562S', fullName: 'Rossi Mario' },
        ...(card === undefined ? {} : { cardCode: card }),
        description: `Trasporto ${dueDate}`,
        paymentOptions: [{ amountCents: 3000, dueDate }],
      });
      for (const [dueDate, card] of [
        ['2026-10-31', cardCode],
        ['2026-11-30', cardCode],
        ['2026-12-31', cardCode],
        ['2027-01-31', undefined],
        ['2027-02-28', undefined],
      ] as const) {
        const id = newId('PC-TRASPORTO');
        mine.push(id);
        await put(id, transport(dueDate, card)).expect(201);
      }
      const canteen = newId('PC-MENSA');
      mine.push(canteen);
      await put(canteen, { ...transport('2026-12-15', cardCode), service: 'CANTEEN' }).expect(201);
      await request(app.url)
        .delete(`/api/v1/debt-positions/${mine[0]}?domain=80000000002`)
        .set(ERP)
        .expect(200);
    });

    const list = async (query: string): Promise<{ ids: string[]; nextCursor: string | null }> => {
      const res = await request(app.url)
        .get(`/api/v1/debt-positions?domain=80000000002&${query}`)
        .set(ERP)
        .expect(200);
      const body = res.body as { items: Position[]; nextCursor: string | null };
      return { ids: body.items.map((p) => String(p['externalId'])), nextCursor: body.nextCursor };
    };

    test.each<[string, string, number[]]>([
      ['everything', '', [0, 1, 2, 3, 4, 5]],
      ['by card', 'cardCode=CARD', [0, 1, 2, 5]],
      ['by status', 'status=OPEN', [1, 2, 3, 4, 5]],
      ['cancelled', 'status=CANCELLED', [0]],
      ['by service', 'service=CANTEEN', [5]],
      ['due strictly before a day', 'dueBefore=2026-12-31', [0, 1, 5]],
      [
        'filters combined',
        'cardCode=CARD&status=OPEN&service=SCHOOL_TRANSPORT&dueBefore=2027-01-01',
        [1, 2],
      ],
    ])('%s', async (_name, query, indexes) => {
      const { ids, nextCursor } = await list(query.replace('CARD', cardCode));
      expect(ids).toEqual(indexes.map((i) => mine[i]));
      expect(nextCursor).toBeNull();
    });

    test('pages of 2 with an opaque cursor, then the end', async () => {
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const page = await list(`limit=2${cursor === null ? '' : `&cursor=${cursor}`}`);
        expect(page.ids.length).toBeLessThanOrEqual(2);
        seen.push(...page.ids);
        cursor = page.nextCursor;
        pages += 1;
      } while (cursor !== null);
      expect(pages).toBe(3);
      expect(seen).toEqual(mine);
    });

    test.each([
      ['limit=0', /limit/],
      ['limit=201', /limit/],
      ['limit=ten', /limit/],
      ['cursor=not-a-cursor', /cursor/],
      ['status=LATE', /status/],
      ['dueBefore=2026-13-01', /dueBefore/],
      ['colour=red', /colour/],
    ])('%s is refused with 400', async (query, detail) => {
      const res = await request(app.url)
        .get(`/api/v1/debt-positions?${query}`)
        .set(ERP)
        .expect(400);
      expect(res.body).toMatchObject({
        code: 'invalid-input',
        detail: expect.stringMatching(detail),
      });
    });

    test('a mistyped card code is 422, an unknown one an empty list', async () => {
      await request(app.url)
        .get('/api/v1/debt-positions?cardCode=420260000100')
        .set(ERP)
        .expect(422);
      const { makeCardCode } = await import('../../src/domain/codes/card-code');
      expect((await list(`cardCode=${makeCardCode('77777')}`)).ids).toEqual([]);
    });
  });

  describe('DELETE', () => {
    test('cancels the position and its notices; twice is fine; a PUT afterwards is refused', async () => {
      const id = newId('NIDO');
      await put(id, fixture('nursery-instalments.json')).expect(201);
      const res = await request(app.url)
        .delete(`/api/v1/debt-positions/${id}`)
        .set(ERP)
        .expect(200);
      const body = res.body as Position;
      expect(body.status).toBe('CANCELLED');
      expect(body.paymentOptions.map((o) => o.status)).toEqual([
        'CANCELLED',
        'CANCELLED',
        'CANCELLED',
      ]);
      await request(app.url).delete(`/api/v1/debt-positions/${id}`).set(ERP).expect(200);
      const again = await put(id, fixture('nursery-instalments.json')).expect(409);
      expect(again.body).toMatchObject({ code: 'position-cancelled' });
      await request(app.url).delete('/api/v1/debt-positions/NOPE-2').set(ERP).expect(404);
    });
  });
});
