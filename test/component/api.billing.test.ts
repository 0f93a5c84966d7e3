import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import request from 'supertest';
import { ERP, OPERATOR } from '../helpers/api';
import { createTestDatabase } from '../helpers/db';
import { eventually, REPO_ROOT, startTestService, testConfig } from '../helpers/service';
import { makeCardCode } from '../../src/domain/codes/card-code';

/**
 * Billing runs through the real doors: POST (JSON and text/csv) stores and queues, the worker of
 * the same process (role all, a queue prefix of its own) bills, GET follows. Idempotent per
 * (service, period, card): a second import creates nothing.
 */

type Run = {
  runId: string;
  status: string;
  total: number;
  done: number;
  skipped: number;
  failed: number;
  billedCents: number;
  errors: { line: number; cardCode: string; reason: string }[];
  errorsNextCursor: string | null;
};

const fixtureCsv = fs.readFileSync(
  path.join(REPO_ROOT, 'fixtures/erp/billing-2026-10.csv'),
  'utf8',
);

describe('billing runs API', () => {
  let url: string;
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let stop: () => Promise<boolean>;
  let nextCard = 5_100_000_000;

  beforeAll(async () => {
    db = await createTestDatabase('billing');
    const service = await startTestService(
      testConfig({
        DATABASE_URL: db.url,
        DATABASE_MIGRATE_ON_START: 'false',
        QUEUE_PREFIX: `test-billing-${randomBytes(4).toString('hex')}`,
      }),
      'all',
    );
    url = `http://127.0.0.1:${service.ports.api}`;
    stop = service.stop;
  });
  afterAll(async () => {
    await stop();
    await db.drop();
  });

  const register = async (cardNumber: string): Promise<string> => {
    const res = await request(url)
      .post('/api/v1/cards')
      .set(ERP)
      .send({ cardNumber, holder: { fiscalCode: 'RSSMRA85T10A562S', fullName: 'Rossi Mario' } });
    expect([200, 201]).toContain(res.status);
    return (res.body as { cardCode: string }).cardCode;
  };
  const aCard = () => register(String((nextCard += 1)));

  const finished = async (runId: string): Promise<Run> => {
    let run: Run | undefined;
    const ok = await eventually(async () => {
      const res = await request(url).get(`/api/v1/billing-runs/${runId}`).set(OPERATOR);
      run = res.body as Run;
      return run.status === 'FINISHED' || run.status === 'FAILED';
    }, 15_000);
    expect(ok).toBe(true);
    return run as Run;
  };

  const count = async (table: string): Promise<number> =>
    Number(((await db.db(table).count({ n: '*' }))[0] as { n: number }).n);

  const transportBalance = async (cardCode: string): Promise<number> => {
    const row = (await db
      .db('card_accounts as a')
      .join('cards as c', 'c.id', 'a.card_id')
      .where({ 'c.card_code': cardCode, 'a.account': 'SCHOOL_TRANSPORT' })
      .first('a.balance_cents')) as { balance_cents: number | string };
    return Number(row.balance_cents);
  };

  test('a CSV month: 202, the worker bills the good lines, GET tells the bad ones and why', async () => {
    for (const n of ['5000000001', '5000000002', '5000000003']) await register(n);
    const res = await request(url)
      .post('/api/v1/billing-runs?service=SCHOOL_TRANSPORT&period=2026-10')
      .set(ERP)
      .set('Content-Type', 'text/csv')
      .send(fixtureCsv)
      .expect(202);
    expect(res.body).toEqual({
      runId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      status: 'PENDING',
      total: 5,
      accepted: 3,
      rejected: 2,
    });
    expect(res.headers['location']).toBe(`/api/v1/billing-runs/${res.body.runId}`);

    const run = await finished(res.body.runId as string);
    expect(run).toMatchObject({
      status: 'FINISHED',
      total: 5,
      done: 3,
      skipped: 0,
      failed: 2,
      billedCents: 3500 + 3500 + 1750,
      errorsNextCursor: null,
    });
    expect(run.errors).toEqual([
      { line: 5, cardCode: '500000000480', reason: expect.stringMatching(/mistyped/) },
      { line: 6, cardCode: '500000000484', reason: expect.stringMatching(/looks like euros/) },
    ]);

    const position = await request(url)
      .get('/api/v1/debt-positions/BILL-SCHOOL_TRANSPORT-2026-10-500000000282')
      .set(ERP)
      .expect(200);
    expect(position.body).toMatchObject({
      kind: 'DEBT',
      service: 'SCHOOL_TRANSPORT',
      status: 'OPEN',
      cardCode: '500000000282',
      account: 'SCHOOL_TRANSPORT',
      description: 'Trasporto scolastico ottobre 2026, andata e ritorno',
      paymentOptions: [
        {
          amountCents: 3500,
          dueDate: '2026-11-30',
          noticeNumber: expect.stringMatching(/^302\d{15}$/),
          transfers: [expect.objectContaining({ amountCents: 3500, taxonomyCode: '0107102SP' })],
        },
      ],
    });
    expect(await transportBalance('500000000383')).toBe(-1750);

    const events = (await db.db('outbox_events').where({ type: 'billing-run.finished' })) as {
      payload: string | object;
    }[];
    const payloads = events.map((e) =>
      typeof e.payload === 'string' ? (JSON.parse(e.payload) as unknown) : e.payload,
    );
    expect(payloads).toContainEqual(
      expect.objectContaining({
        service: 'SCHOOL_TRANSPORT',
        period: '2026-10',
        outcome: 'COMPLETED_WITH_ERRORS',
        positionsCreated: 3,
        positionsFailed: 2,
        totalAmountCents: 8750,
      }),
    );
  });

  test('the same month again creates nothing: lines end SKIPPED, balances and counts unchanged', async () => {
    const cards = [await aCard(), await aCard()];
    const body = {
      service: 'SCHOOL_TRANSPORT',
      period: '2026-11',
      items: cards.map((cardCode) => ({ cardCode, amountCents: 4000 })),
    };
    const first = await request(url).post('/api/v1/billing-runs').set(ERP).send(body).expect(202);
    expect(await finished(first.body.runId as string)).toMatchObject({ done: 2, skipped: 0 });
    const before = {
      positions: await count('debt_positions'),
      entries: await count('ledger_entries'),
      balance: await transportBalance(cards[0] as string),
    };
    expect(before.balance).toBe(-4000);

    const second = await request(url).post('/api/v1/billing-runs').set(ERP).send(body).expect(202);
    expect(second.body.runId).not.toBe(first.body.runId);
    expect(await finished(second.body.runId as string)).toMatchObject({
      status: 'FINISHED',
      done: 2,
      skipped: 2,
      failed: 0,
      billedCents: 0,
    });
    expect({
      positions: await count('debt_positions'),
      entries: await count('ledger_entries'),
      balance: await transportBalance(cards[0] as string),
    }).toEqual(before);

    // Another amount for a month already billed is refused, not billed twice.
    const changed = await request(url)
      .post('/api/v1/billing-runs')
      .set(ERP)
      .send({ ...body, items: [{ cardCode: cards[0], amountCents: 4500 }] })
      .expect(202);
    const run = await finished(changed.body.runId as string);
    expect(run.errors[0]?.reason).toMatch(/already billed for 2026-11 with 40.00 €/);
  });

  test('an Idempotency-Key replay answers the first run again and stores no second one', async () => {
    const body = {
      service: 'SCHOOL_TRANSPORT',
      period: '2026-12',
      items: [{ cardCode: await aCard(), amountCents: 100, description: 'Dicembre' }],
    };
    const key = `billing-${randomBytes(6).toString('hex')}`;
    const first = await request(url)
      .post('/api/v1/billing-runs')
      .set(ERP)
      .set('Idempotency-Key', key)
      .send(body)
      .expect(202);
    const runs = await count('billing_runs');
    const replay = await request(url)
      .post('/api/v1/billing-runs')
      .set(ERP)
      .set('Idempotency-Key', key)
      .send(body)
      .expect(202);
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(replay.body).toEqual(first.body);
    expect(await count('billing_runs')).toBe(runs);
    await request(url)
      .post('/api/v1/billing-runs')
      .set(ERP)
      .set('Idempotency-Key', key)
      .send({ ...body, period: '2027-01' })
      .expect(409);
    await finished(first.body.runId as string);
  });

  test('unknown cards fail with a reason; errors page through GET .../errors', async () => {
    const unknown = Array.from({ length: 5 }, (_, i) => makeCardCode(String(5_900_000_000 + i)));
    const res = await request(url)
      .post('/api/v1/billing-runs')
      .set(ERP)
      .send({
        service: 'SCHOOL_TRANSPORT',
        period: '2027-02',
        items: unknown.map((cardCode) => ({ cardCode, amountCents: 100 })),
      })
      .expect(202);
    const run = await finished(res.body.runId as string);
    expect(run).toMatchObject({ status: 'FINISHED', done: 0, failed: 5 });
    expect(run.errors[0]?.reason).toMatch(/no card .* in domain 80000000001: check the code/);

    const seen: number[] = [];
    let cursor: string | null = null;
    do {
      const query: Record<string, string> = { limit: '2', ...(cursor ? { cursor } : {}) };
      const page = await request(url)
        .get(`/api/v1/billing-runs/${run.runId}/errors`)
        .query(query)
        .set(ERP)
        .expect(200);
      seen.push(...(page.body.items as { line: number }[]).map((e) => e.line));
      cursor = page.body.nextCursor as string | null;
    } while (cursor !== null);
    expect(seen).toEqual([1, 2, 3, 4, 5]);
  });

  test('the list filters by service and period and pages newest first', async () => {
    const all = await request(url)
      .get('/api/v1/billing-runs')
      .query({ service: 'SCHOOL_TRANSPORT', period: '2026-11' })
      .set(OPERATOR)
      .expect(200);
    expect(all.body.items).toHaveLength(3);
    expect(all.body.items.every((r: Run & { period: string }) => r.period === '2026-11')).toBe(
      true,
    );

    const page1 = await request(url)
      .get('/api/v1/billing-runs')
      .query({ period: '2026-11', limit: '2' })
      .set(ERP)
      .expect(200);
    const page2 = await request(url)
      .get('/api/v1/billing-runs')
      .query({ period: '2026-11', limit: '2', cursor: page1.body.nextCursor as string })
      .set(ERP)
      .expect(200);
    expect(page2.body.nextCursor).toBeNull();
    expect([...page1.body.items, ...page2.body.items].map((r: Run) => r.runId)).toEqual(
      all.body.items.map((r: Run) => r.runId),
    );
  });

  test.each([
    [
      'a CSV without service',
      '/api/v1/billing-runs?period=2026-10',
      'text/csv',
      fixtureCsv,
      /query.service/,
    ],
    [
      'a CSV without the header',
      '/api/v1/billing-runs?service=SCHOOL_TRANSPORT&period=2026-10',
      'text/csv',
      '500000000181,3500,x\n',
      /must name the columns/,
    ],
    [
      'a broken quote',
      '/api/v1/billing-runs?service=SCHOOL_TRANSPORT&period=2026-10',
      'text/csv',
      'cardCode,amountCents,description\n500000000181,3500,"open\n',
      /never closed/,
    ],
    [
      'a bad period',
      '/api/v1/billing-runs?service=SCHOOL_TRANSPORT&period=2026-13',
      'text/csv',
      fixtureCsv,
      /period/,
    ],
    [
      'a service that is no card service',
      '/api/v1/billing-runs?service=ROAD_FINE&period=2026-10',
      'text/csv',
      fixtureCsv,
      /not a card service/,
    ],
    [
      'a text/plain body',
      '/api/v1/billing-runs?service=SCHOOL_TRANSPORT&period=2026-10',
      'text/plain',
      fixtureCsv,
      /text\/csv/,
    ],
  ])('refuses %s with 400 and stores nothing', async (_name, path, type, body, detail) => {
    const runs = await count('billing_runs');
    const res = await request(url).post(path).set(ERP).set('Content-Type', type).send(body);
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(res.body.detail).toMatch(detail);
    expect(await count('billing_runs')).toBe(runs);
  });

  test('refuses malformed JSON (400), an unknown domain (422), and an operator key (403)', async () => {
    await request(url)
      .post('/api/v1/billing-runs')
      .set(ERP)
      .send({ service: 'SCHOOL_TRANSPORT', period: '2026-10', items: [] })
      .expect(400);
    await request(url)
      .post('/api/v1/billing-runs?period=2026-10')
      .set(ERP)
      .send({
        service: 'SCHOOL_TRANSPORT',
        period: '2026-10',
        items: [{ cardCode: 'x', amountCents: 1 }],
      })
      .expect(400);
    await request(url)
      .post('/api/v1/billing-runs')
      .set(ERP)
      .send({
        domain: '80000000009',
        service: 'SCHOOL_TRANSPORT',
        period: '2026-10',
        items: [{ cardCode: 'x', amountCents: 1 }],
      })
      .expect(422);
    await request(url)
      .post('/api/v1/billing-runs')
      .set(OPERATOR)
      .send({ service: 'SCHOOL_TRANSPORT', period: '2026-10', items: [] })
      .expect(403);
    await request(url).get('/api/v1/billing-runs').expect(401);
    await request(url)
      .get('/api/v1/billing-runs/00000000-0000-4000-8000-000000000000')
      .set(ERP)
      .expect(404);
  });
});
