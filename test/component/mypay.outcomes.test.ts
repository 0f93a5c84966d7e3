import { Queue } from 'bullmq';
import request from 'supertest';
import { buildPagati, type MyPayPaid } from '../../src/adapters/mypay/documents';
import { pushToken, signPushJwt } from '../../src/adapters/mypay/push-jwt';
import { QUEUES } from '../../src/adapters/queues';
import { recordMyPaySession } from '../../src/data-access/mypay-attempts-repository';
import { addDays, romeDate } from '../../src/domain/positions/dates';
import { MYPAY_OUTCOMES_PATH } from '../../src/entry-points/soap/mypay-outcomes';
import { ERP } from '../helpers/api';
import { createTestDatabase } from '../helpers/db';
import { MYPAY_DOMAIN, myPayDomainsFile, paidPagati } from '../helpers/mypay';
import { eventually, startTestService, testConfig } from '../helpers/service';

/**
 * MyPay's outcome push (`POST /mypay/v1/outcomes` on the SOAP port), through the real door: JWT
 * checks, body limit and shape, the Pagati's rules, and the inbox behind it (one receipt per
 * outcome, conflicts recorded, unknown IUVs quarantined), then the worker settling the position.
 */

const SECRET = 'mypay-push-secret-for-the-component-test-0123';
const ISSUER = 'mypay.regione.example';
const QUEUE_PREFIX = `t-mypay-push-${process.pid}`;
const today = romeDate(new Date());

type Json = Record<string, unknown>;

describe('MyPay outcome push endpoint', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let service: Awaited<ReturnType<typeof startTestService>>;
  let soap: string;
  let api: string;
  let seq = 0;

  const token = (opts: { issuer?: string; nowSeconds?: number; ttlSeconds?: number } = {}) =>
    pushToken(SECRET, { issuer: ISSUER, ...opts });
  const bodyOf = (paid: MyPayPaid, idSession = `session-${paid.iuv}`): Json => ({
    pagati: Buffer.from(buildPagati(paid)).toString('base64'),
    idSession,
  });
  const push = (body: unknown, auth: string | null = token()) => {
    const req = request(soap).post(MYPAY_OUTCOMES_PATH).set('content-type', 'application/json');
    if (auth !== null) req.set('authorization', `Bearer ${auth}`);
    return req.send(typeof body === 'string' ? body : JSON.stringify(body));
  };
  const receiptsFor = async (iuv: string) =>
    (await database
      .db('receipts')
      .where({ domain_id: MYPAY_DOMAIN, iuv })
      .select('id', 'state', 'source', 'receipt_key', 'amount_cents', 'state_reason')) as {
      id: number;
      state: string;
      source: string;
      receipt_key: string;
      amount_cents: number;
      state_reason: string | null;
    }[];
  const receiptCount = async () =>
    Number(((await database.db('receipts').count({ n: '*' }).first()) as { n: number | string }).n);

  /** A SCHOOL_TRANSPORT debt of the MyPay municipality, created through the ERP API. */
  const newDebt = async (amountCents: number): Promise<{ externalId: string; iuv: string }> => {
    const externalId = `MYPAY-PUSH-${process.pid}-${++seq}`;
    const res = await request(api)
      .put(`/api/v1/debt-positions/${externalId}`)
      .set(ERP)
      .send({
        domain: MYPAY_DOMAIN,
        service: 'SCHOOL_TRANSPORT',
        debtor: { type: 'F', fiscalCode: 'RSSMRA85T10A562S', fullName: 'Rossi Mario' },
        description: `Trasporto scolastico ${externalId}`,
        paymentOptions: [{ amountCents, dueDate: addDays(today, 30) }],
      });
    expect(res.status).toBe(201);
    const options = (res.body as { paymentOptions: { iuv: string }[] }).paymentOptions;
    return { externalId, iuv: options[0]!.iuv };
  };
  const positionStatus = async (externalId: string): Promise<unknown> =>
    (
      (
        await request(api)
          .get(`/api/v1/debt-positions/${externalId}?domain=${MYPAY_DOMAIN}`)
          .set(ERP)
      ).body as Json
    )['status'];

  beforeAll(async () => {
    database = await createTestDatabase('mypay_push');
    service = await startTestService(
      testConfig({
        DATABASE_URL: database.url,
        DATABASE_MIGRATE_ON_START: 'false',
        DOMAINS_FILE: myPayDomainsFile(),
        QUEUE_PREFIX,
        RECONCILE_BACKOFF_BASE_MS: '50',
        MYPAY_PUSH_JWT_SECRET: SECRET,
        MYPAY_PUSH_JWT_ISSUER: ISSUER,
      }),
      'all',
    );
    soap = `http://127.0.0.1:${service.ports.soap}`;
    api = `http://127.0.0.1:${service.ports.api}`;
  }, 60_000);

  afterAll(async () => {
    await service?.stop();
    const queue = new Queue(QUEUES.reconcile, {
      connection: { host: '127.0.0.1', port: 6379 },
      prefix: QUEUE_PREFIX,
    });
    await queue.obliterate({ force: true });
    await queue.close();
    await database?.drop();
  });

  test('a signed push is stored after commit and settles the debt; the identical push again is one receipt', async () => {
    const debt = await newDebt(3000);
    const paid = paidPagati(debt.iuv, 3000);

    const first = await push(bodyOf(paid, 'session-1'));
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ outcome: 'OK', state: 'RECEIVED', duplicate: false });
    // Answered after the commit: the receipt is there as soon as the answer is.
    const stored = await receiptsFor(debt.iuv);
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatchObject({
      source: 'MYPAY',
      receipt_key: paid.lines[0]!.iur,
      amount_cents: 3000,
    });

    const again = await push(bodyOf(paid, 'session-1'));
    expect(again.status).toBe(200);
    expect(again.body).toEqual({
      outcome: 'OK',
      receiptId: (first.body as Json)['receiptId'],
      duplicate: true,
    });
    expect(await receiptsFor(debt.iuv)).toHaveLength(1);
    expect(
      await eventually(async () => (await positionStatus(debt.externalId)) === 'PAID', 10_000),
    ).toBe(true);
    expect((await receiptsFor(debt.iuv))[0]?.state).toBe('RECONCILED');
  });

  test('no token, a bad signature, an expired token, another issuer or alg none: 401 problem+json, nothing stored', async () => {
    const debt = await newDebt(1000);
    const body = bodyOf(paidPagati(debt.iuv, 1000));
    const now = Math.floor(Date.now() / 1000);
    const [h, p] = token().split('.');
    const cases: [string | null, string][] = [
      [null, 'missing'],
      [pushToken('another-secret-another-secret-012345', { issuer: ISSUER }), 'bad-signature'],
      [`${h}.${p}.${'A'.repeat(43)}`, 'bad-signature'],
      [token({ nowSeconds: now - 3_600, ttlSeconds: 300 }), 'expired'],
      [token({ issuer: 'someone-else' }), 'wrong-issuer'],
      [signPushJwt(SECRET, { iss: ISSUER } as never), 'missing-exp'],
      [`${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${p}.`, 'malformed'],
      ['not-a-jwt', 'malformed'],
    ];
    for (const [auth, reason] of cases) {
      const res = await push(body, auth);
      expect({ reason, status: res.status }).toEqual({ reason, status: 401 });
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.headers['www-authenticate']).toMatch(/^Bearer/);
      expect(res.body).toMatchObject({ code: 'unauthenticated', reason });
    }
    expect(await receiptsFor(debt.iuv)).toHaveLength(0);
  });

  test('a token issued a little in the future (clock skew) is accepted; far in the future is not', async () => {
    const debt = await newDebt(1200);
    const now = Math.floor(Date.now() / 1000);
    const far = await push(bodyOf(paidPagati(debt.iuv, 1200)), token({ nowSeconds: now + 600 }));
    expect(far.status).toBe(401);
    expect(far.body).toMatchObject({ reason: 'not-yet-valid' });
    const near = await push(bodyOf(paidPagati(debt.iuv, 1200)), token({ nowSeconds: now + 20 }));
    expect(near.status).toBe(200);
  });

  test('an oversize body (over 64 KiB) is refused 413; nothing stored', async () => {
    const before = await receiptCount();
    const res = await push({ pagati: 'A'.repeat(70 * 1024) });
    expect(res.status).toBe(413);
    expect(res.body).toMatchObject({ code: 'payload-too-large' });
    expect(await receiptCount()).toBe(before);
  });

  test('malformed pushes get a clear 400/422 and store nothing', async () => {
    const debt = await newDebt(1500);
    const good = paidPagati(debt.iuv, 1500);
    const before = await receiptCount();
    const notPagati = Buffer.from('<Dovuti xmlns="x"><a/></Dovuti>').toString('base64');
    const broken: [unknown, number, string, RegExp][] = [
      ['{not json', 400, 'invalid-input', /not valid JSON/],
      [{ idSession: 's' }, 400, 'invalid-input', /body\.pagati/],
      [{ pagati: bodyOf(good)['pagati'] }, 400, 'invalid-input', /body\.idSession/],
      [{ ...bodyOf(good), extra: 1 }, 400, 'invalid-input', /extra/],
      [
        { pagati: '%%% not base64 %%%', idSession: 's' },
        400,
        'xml-embedded-invalid',
        /pagati: invalid base64/,
      ],
      [{ pagati: notPagati, idSession: 's' }, 400, 'xml-embedded-invalid', /pagati:/],
      [
        bodyOf({ ...good, totalPaidCents: 9999 }),
        422,
        'xml-semantic-invalid',
        /importoTotalePagato 99\.99 != sum of lines 15\.00/,
      ],
    ];
    for (const [body, status, code, detail] of broken) {
      const res = await push(body);
      expect({ body, status: res.status }).toEqual({ body, status });
      expect(res.body).toMatchObject({ code });
      expect((res.body as Json)['detail']).toMatch(detail);
    }
    const xml = await request(soap)
      .post(MYPAY_OUTCOMES_PATH)
      .set('authorization', `Bearer ${token()}`)
      .set('content-type', 'text/xml')
      .send(buildPagati(good));
    expect(xml.status).toBe(400);
    expect(xml.body).toMatchObject({ detail: 'Content-Type must be application/json' });
    expect(await receiptCount()).toBe(before);
  });

  test('an unknown IUV is stored QUARANTINED and answered OK (the money is real)', async () => {
    const res = await push(bodyOf(paidPagati('05999999999999999', 700)));
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ outcome: 'OK', state: 'QUARANTINED' });
    const [held] = await receiptsFor('05999999999999999');
    expect(held?.state).toBe('QUARANTINED');
    expect(held?.state_reason).toMatch(/no payment option for domain 80000000002 IUV/);
  });

  test('a "not paid" outcome (codiceEsitoPagamento 1) closes the attempt of its session NOT_PAID and credits nothing', async () => {
    const card = await request(api)
      .post('/api/v1/cards')
      .set(ERP)
      .send({
        domain: MYPAY_DOMAIN,
        cardNumber: String(process.pid),
        holder: { fiscalCode: 'RSSMRA85T10A562S', fullName: 'Rossi Mario' },
      });
    expect(card.status).toBe(201);
    const cardCode = (card.body as Json)['cardCode'] as string;
    const topUp = await request(api)
      .post(`/api/v1/cards/${cardCode}/top-ups`)
      .set(ERP)
      .set('Idempotency-Key', `mypay-push-${process.pid}`)
      .send({
        account: 'CANTEEN',
        amountCents: 1100,
        payer: { type: 'F', fiscalCode: 'RSSMRA85T10A562S', fullName: 'Rossi Mario' },
      });
    expect(topUp.status).toBe(201);
    const { paymentId, iuv } = topUp.body as { paymentId: string; iuv: string };
    expect(
      await recordMyPaySession(database.db, {
        paymentId,
        sessionId: 'session-not-paid',
        checkoutUrl: 'http://mypay.test/checkout/session-not-paid',
      }),
    ).toBe(true);

    const notPaid = paidPagati(iuv, 0, {
      outcome: 1,
      totalPaidCents: 0,
      lines: [
        {
          dueId: `DUE-${iuv}`,
          paidCents: 0,
          outcomeText: 'NON ESEGUITO',
          outcomeDate: today,
          iur: 'n/a',
          remittanceInformation: 'Ricarica',
          collectionData: '9/0107101TS/',
        },
      ],
    });
    const res = await push(bodyOf(notPaid, 'session-not-paid'));
    expect(res.status).toBe(200);
    const [receipt] = await receiptsFor(iuv);
    // No usable IUR: keyed by MyPay's receipt message id.
    expect(receipt).toMatchObject({ receipt_key: notPaid.receiptMessageId, amount_cents: 0 });
    const payment = async () =>
      ((await request(api).get(`/api/v1/payments/${paymentId}`).set(ERP)).body as Json)['status'];
    expect(await eventually(async () => (await payment()) === 'NOT_PAID', 10_000)).toBe(true);
    const balances = (await request(api).get(`/api/v1/cards/${cardCode}`).set(ERP)).body as {
      accounts: { account: string; balanceCents: number }[];
    };
    expect(balances.accounts.find((a) => a.account === 'CANTEEN')?.balanceCents).toBe(0);
  });

  test('an outcome for a domain that is not a MyPay one is held QUARANTINED as misdirected', async () => {
    const res = await push(
      bodyOf(paidPagati('05777777777777777', 400, { domainId: '80000000001' })),
    );
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ state: 'QUARANTINED' });
    const held = (await database
      .db('receipts')
      .where({ domain_id: '80000000001', iuv: '05777777777777777' })
      .first('state', 'state_reason')) as { state: string; state_reason: string };
    expect(held).toEqual({
      state: 'QUARANTINED',
      state_reason:
        'unexpected caller: MyPay pushed an outcome for domain 80000000001, which is a pagopa domain',
    });
  });

  test('the same outcome pushed again with other content is a 409 conflict, recorded, never applied', async () => {
    const debt = await newDebt(2000);
    const paid = paidPagati(debt.iuv, 2000);
    expect((await push(bodyOf(paid))).status).toBe(200);
    const changed = await push(bodyOf({ ...paid, receiptDateTime: '2024-01-01T10:00:00' }));
    expect(changed.status).toBe(409);
    expect(changed.body).toMatchObject({ code: 'receipt-modified' });
    const [receipt] = await receiptsFor(debt.iuv);
    const conflicts = await database.db('receipt_conflicts').where({ receipt_id: receipt!.id });
    expect(conflicts).toHaveLength(1);
  });
});

describe('MyPay outcome push without a JWT secret', () => {
  test('outside production: an unsigned push is accepted', async () => {
    const database = await createTestDatabase('mypay_push_open');
    const service = await startTestService(
      testConfig({
        DATABASE_URL: database.url,
        DATABASE_MIGRATE_ON_START: 'false',
        DOMAINS_FILE: myPayDomainsFile(),
        QUEUE_PREFIX: `${QUEUE_PREFIX}-open`,
      }),
      'soap',
    );
    try {
      const res = await request(`http://127.0.0.1:${service.ports.soap}`)
        .post(MYPAY_OUTCOMES_PATH)
        .set('content-type', 'application/json')
        .send({
          pagati: Buffer.from(buildPagati(paidPagati('05888888888888888', 900))).toString('base64'),
          idSession: 'open-session',
        });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ state: 'QUARANTINED' });
    } finally {
      await service.stop();
      await database.drop();
    }
  }, 30_000);

  test('in production with mypay domains: the service refuses to start unless explicitly disabled', async () => {
    const production = {
      NODE_ENV: 'production',
      DATABASE_URL: 'mysql://root@127.0.0.1:3306/never_connected',
      REDIS_URL: 'redis://127.0.0.1:6379',
      DOMAINS_FILE: myPayDomainsFile(),
    };
    await expect(startTestService(testConfig(production), 'soap')).rejects.toThrow(
      /MYPAY_PUSH_JWT_SECRET is required with mypay domains when NODE_ENV=production/,
    );
    expect(() => testConfig({ ...production, MYPAY_PUSH_JWT_SECRET: 'short' })).toThrow(
      /MYPAY_PUSH_JWT_SECRET must be at least 32 characters/,
    );
    expect(() =>
      testConfig({
        ...production,
        MYPAY_PUSH_JWT_SECRET: SECRET,
        MYPAY_PUSH_AUTH_DISABLED: 'true',
      }),
    ).toThrow(/MYPAY_PUSH_AUTH_DISABLED cannot be true while MYPAY_PUSH_JWT_SECRET is set/);
  });
});
