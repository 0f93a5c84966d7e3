import http from 'node:http';
import type { AddressInfo } from 'node:net';
import nock from 'nock';
import { createDb, type Db } from '../../src/data-access/db';
import { appendOutboxEvent } from '../../src/data-access/outbox-repository';
import { verifyWebhookSignature, WEBHOOK_HEADERS } from '../../src/adapters/erp-webhooks';
import type { NewOutboxEvent } from '../../src/domain/notifications/events';
import {
  startWebhookDispatcher,
  type WebhookDispatcherDeps,
} from '../../src/entry-points/worker/webhook-dispatcher';
import { createLogger } from '../../src/shared/logger';
import { createTestDatabase } from '../helpers/db';
import {
  eventually,
  spawnCli,
  startTestService,
  testConfig,
  waitForExit,
} from '../helpers/service';

/**
 * The outbox and its dispatcher against a real MariaDB schema and a real HTTP receiver on
 * 127.0.0.1 (so `fetch` runs for real), plus nock for a receiver that never answers.
 */

const SECRET = 'whsec_component_0123456789abcdef01234567';
const TOLERANCE_S = 300;
const DOMAIN = '80000000001';

type Received = { headers: http.IncomingHttpHeaders; body: string; at: number };

/** A local ERP: records every request and answers with the scripted statuses (then 200). */
async function startReceiver(options: { statuses?: number[]; delayMs?: number } = {}) {
  const received: Received[] = [];
  const statuses = [...(options.statuses ?? [])];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        at: Date.now(),
      });
      const status = statuses.shift() ?? 200;
      setTimeout(() => {
        res.writeHead(status, { 'content-type': 'text/plain' });
        res.end(status === 200 ? 'ok' : 'ERP temporarily broken');
      }, options.delayMs ?? 0);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks/pagopa`,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A port nothing listens on: bound, then closed. */
async function closedPortUrl(): Promise<string> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}/hooks`;
}

const aReceiptFailed = (receiptId: number): NewOutboxEvent => ({
  type: 'receipt.failed',
  domainId: DOMAIN,
  payload: {
    domainId: DOMAIN,
    receiptId,
    iuv: `0100000000000${String(receiptId).padStart(4, '0')}`,
    receiptKey: `rcpt-${receiptId}`,
    noticeNumber: null,
    amountCents: 1_230,
    state: 'FAILED',
    reason: 'amount-mismatch',
    debtPositionId: null,
  },
});

/** JSON columns come back parsed or as text depending on the server; tests accept both. */
const json = (value: unknown): unknown =>
  typeof value === 'string' ? (JSON.parse(value) as unknown) : value;

type OutboxRow = {
  event_id: string;
  state: string;
  attempts: number;
  last_status: number | null;
  last_error: string | null;
  delivered_at: Date | null;
};

describe('ERP webhooks from the outbox', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let db: Db;
  const logger = createLogger('silent');
  const stops: (() => Promise<void>)[] = [];
  const closers: (() => Promise<void>)[] = [];

  const dispatcher = (overrides: Partial<WebhookDispatcherDeps> & { url: string }) => {
    const { url, ...rest } = overrides;
    const stop = startWebhookDispatcher({
      db,
      logger,
      target: { url, secret: SECRET },
      policy: { attemptsMax: 5, backoffBaseMs: 5, backoffMaxMs: 20 },
      timeoutMs: 2_000,
      pollIntervalMs: 20,
      batchSize: 10,
      ...rest,
    });
    stops.push(stop);
    return stop;
  };

  const append = async (event: NewOutboxEvent) =>
    db.transaction((trx) => appendOutboxEvent(trx, event));

  const row = async (eventId: string): Promise<OutboxRow> => {
    const found = (await db('outbox_events').where('event_id', eventId).first()) as
      OutboxRow | undefined;
    if (found === undefined) throw new Error(`no outbox row ${eventId}`);
    return found;
  };

  const inState = (eventId: string, state: string) => async () =>
    (await row(eventId)).state === state;

  beforeAll(async () => {
    database = await createTestDatabase('webhooks');
    db = database.db;
  });

  afterEach(async () => {
    for (const stop of stops.splice(0)) await stop();
    for (const close of closers.splice(0)) await close();
    await db('outbox_events').delete();
    await db('audit_events').delete();
  });

  afterAll(async () => {
    await database.drop();
  });

  test('When an event is appended, then it is delivered once, signed so the ERP can verify it', async () => {
    // Arrange
    const erp = await startReceiver();
    closers.push(erp.close);
    const { eventId } = await append(aReceiptFailed(1));
    // Act
    dispatcher({ url: erp.url });
    // Assert
    expect(await eventually(inState(eventId, 'DELIVERED'), 5_000, 20)).toBe(true);
    await new Promise((r) => setTimeout(r, 200)); // several more polls: nothing is sent again
    expect(erp.received).toHaveLength(1);
    const [request] = erp.received;
    if (request === undefined) throw new Error('nothing received');
    expect(verifyWebhookSignature(SECRET, request.headers, request.body, TOLERANCE_S)).toEqual({
      ok: true,
      eventId,
      timestampSeconds: expect.any(Number) as number,
    });
    expect(request.headers['content-type']).toBe('application/json');
    expect(request.headers[WEBHOOK_HEADERS.eventId]).toBe(eventId);
    expect(JSON.parse(request.body)).toEqual({
      id: eventId,
      type: 'receipt.failed',
      createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/) as string,
      data: aReceiptFailed(1).payload,
    });
    expect(await row(eventId)).toMatchObject({ attempts: 1, last_status: 200, last_error: null });
    expect((await row(eventId)).delivered_at).toBeInstanceOf(Date);
  });

  test('When the ERP checks with a wrong secret, a changed body or an old timestamp, then it refuses', async () => {
    const erp = await startReceiver();
    closers.push(erp.close);
    const { eventId } = await append(aReceiptFailed(2));
    dispatcher({ url: erp.url });
    expect(await eventually(inState(eventId, 'DELIVERED'), 5_000, 20)).toBe(true);
    const [request] = erp.received;
    if (request === undefined) throw new Error('nothing received');
    const sentAt = Number(request.headers[WEBHOOK_HEADERS.timestamp]);

    expect(
      verifyWebhookSignature('not-the-secret', request.headers, request.body, TOLERANCE_S),
    ).toEqual({ ok: false, reason: 'bad-signature' });
    expect(
      verifyWebhookSignature(
        SECRET,
        request.headers,
        request.body.replace('1230', '99999'),
        TOLERANCE_S,
      ),
    ).toEqual({ ok: false, reason: 'bad-signature' });
    // The same captured request replayed 10 minutes later: valid signature, refused timestamp.
    expect(
      verifyWebhookSignature(SECRET, request.headers, request.body, TOLERANCE_S, sentAt + 600),
    ).toEqual({ ok: false, reason: 'timestamp-out-of-tolerance' });
  });

  test('When the ERP answers 500 and then 200, then the event is retried and DELIVERED', async () => {
    const erp = await startReceiver({ statuses: [500] });
    closers.push(erp.close);
    const { eventId } = await append(aReceiptFailed(3));

    dispatcher({ url: erp.url });

    expect(await eventually(inState(eventId, 'DELIVERED'), 5_000, 20)).toBe(true);
    expect(erp.received).toHaveLength(2);
    expect(erp.received.map((r) => r.headers[WEBHOOK_HEADERS.eventId])).toEqual([eventId, eventId]);
    // Each attempt is signed afresh, and both verify.
    for (const r of erp.received) {
      expect(verifyWebhookSignature(SECRET, r.headers, r.body, TOLERANCE_S).ok).toBe(true);
    }
    expect(await row(eventId)).toMatchObject({ state: 'DELIVERED', attempts: 2, last_status: 200 });
  });

  test('When the ERP is down, then the event is retried with backoff up to the maximum and ends DEAD', async () => {
    const url = await closedPortUrl();
    const { eventId } = await append(aReceiptFailed(4));

    dispatcher({ url, policy: { attemptsMax: 3, backoffBaseMs: 10, backoffMaxMs: 40 } });

    expect(await eventually(inState(eventId, 'DEAD'), 5_000, 20)).toBe(true);
    const dead = await row(eventId);
    expect(dead.attempts).toBe(3);
    expect(dead.last_status).toBeNull();
    expect(dead.last_error).toMatch(/ECONNREFUSED/);
    expect(dead.delivered_at).toBeNull();
    // DEAD is final: no further attempts.
    await new Promise((r) => setTimeout(r, 200));
    expect((await row(eventId)).attempts).toBe(3);
  });

  test('When a failed attempt is recorded, then the next one waits for the backoff', async () => {
    const erp = await startReceiver({ statuses: [503, 503] });
    closers.push(erp.close);
    const { eventId } = await append(aReceiptFailed(5));

    // random() = 1 - ε makes each wait almost its cap: 300 ms, then 600 ms.
    dispatcher({
      url: erp.url,
      policy: { attemptsMax: 5, backoffBaseMs: 300, backoffMaxMs: 10_000 },
      random: () => 0.999,
    });

    expect(await eventually(inState(eventId, 'DELIVERED'), 5_000, 20)).toBe(true);
    const [first, second, third] = erp.received.map((r) => r.at);
    if (first === undefined || second === undefined || third === undefined) {
      throw new Error(`expected 3 attempts, got ${erp.received.length}`);
    }
    expect(second - first).toBeGreaterThanOrEqual(250);
    expect(third - second).toBeGreaterThanOrEqual(550);
  });

  test('When two dispatchers share the database, then no event is delivered twice', async () => {
    const erp = await startReceiver({ delayMs: 15 });
    closers.push(erp.close);
    const ids: string[] = [];
    for (let i = 0; i < 60; i += 1) ids.push((await append(aReceiptFailed(100 + i))).eventId);
    // A second pool, as a second worker process would have.
    const otherDb = createDb({ url: database.url, poolMax: 5 });
    closers.push(() => otherDb.destroy());

    dispatcher({ url: erp.url, batchSize: 7 });
    dispatcher({ url: erp.url, batchSize: 7, db: otherDb });

    const allDelivered = async () =>
      Number(
        (
          (await db('outbox_events').where('state', 'DELIVERED').count({ n: '*' }).first()) as {
            n: number | string;
          }
        ).n,
      ) === ids.length;
    expect(await eventually(allDelivered, 15_000, 50)).toBe(true);
    const delivered = erp.received.map((r) => String(r.headers[WEBHOOK_HEADERS.eventId]));
    expect(delivered).toHaveLength(ids.length);
    expect(new Set(delivered)).toEqual(new Set(ids));
  });

  test('When the dispatcher stops during a delivery, then it waits for it and records the outcome', async () => {
    const erp = await startReceiver({ delayMs: 300 });
    closers.push(erp.close);
    const { eventId } = await append(aReceiptFailed(6));
    const stop = dispatcher({ url: erp.url });
    expect(await eventually(() => Promise.resolve(erp.received.length === 1), 5_000, 10)).toBe(
      true,
    );

    await stop();

    expect((await row(eventId)).state).toBe('DELIVERED');
  });

  test('When no webhook URL is configured, then events stay PENDING for the feed', async () => {
    const { eventId } = await append(aReceiptFailed(7));
    const stop = startWebhookDispatcher({
      db,
      logger,
      target: undefined,
      policy: { attemptsMax: 3, backoffBaseMs: 5, backoffMaxMs: 20 },
      timeoutMs: 1_000,
      pollIntervalMs: 20,
      batchSize: 10,
    });
    stops.push(stop);
    await new Promise((r) => setTimeout(r, 150));
    expect(await row(eventId)).toMatchObject({ state: 'PENDING', attempts: 0 });
  });

  test('When a payload carries a fiscal code, then the append fails and the transaction rolls back', async () => {
    const bad = {
      ...aReceiptFailed(8),
      payload: { ...aReceiptFailed(8).payload, debtorFiscalCode: 'RSSMRA85T10A562S' },
    } as unknown as NewOutboxEvent;
    await expect(
      db.transaction(async (trx) => {
        await trx('audit_events').insert({
          actor: 'test',
          action: 'probe',
          subject_type: 'test',
          subject_id: '1',
        });
        await appendOutboxEvent(trx, bad);
      }),
    ).rejects.toThrow(/personal data/);
    expect(await db('outbox_events').count({ n: '*' }).first()).toEqual({ n: 0 });
    expect(await db('audit_events').count({ n: '*' }).first()).toEqual({ n: 0 });
  });

  test('When an operator redelivers a DEAD event through the CLI, then it is delivered and audited', async () => {
    // Arrange: an event that died against a down ERP.
    const down = await closedPortUrl();
    const { eventId } = await append(aReceiptFailed(9));
    const stopDown = dispatcher({
      url: down,
      policy: { attemptsMax: 2, backoffBaseMs: 5, backoffMaxMs: 10 },
    });
    expect(await eventually(inState(eventId, 'DEAD'), 5_000, 20)).toBe(true);
    await stopDown();
    const env = {
      DATABASE_URL: database.url,
      DATABASE_MIGRATE_ON_START: 'false',
      LOG_LEVEL: 'silent',
    };

    const listed = await waitForExit(
      spawnCli(['webhooks', 'list', '--state', 'DEAD', '--json'], env),
    );
    expect(listed.code).toBe(0);
    expect(JSON.parse(listed.stdout)).toEqual([
      expect.objectContaining({ eventId, state: 'DEAD', attempts: 2 }),
    ]);

    // A dry run changes nothing; --execute without a reason is refused.
    const dry = await waitForExit(spawnCli(['webhooks', 'redeliver', '--event', eventId], env));
    expect(dry.code).toBe(0);
    expect(dry.stdout).toMatch(/would redeliver/);
    const noReason = await waitForExit(
      spawnCli(['webhooks', 'redeliver', '--event', eventId, '--execute'], env),
    );
    expect(noReason.code).toBe(1);
    expect(noReason.stderr).toMatch(/--reason/);
    expect((await row(eventId)).state).toBe('DEAD');

    // Act
    const done = await waitForExit(
      spawnCli(
        [
          'webhooks',
          'redeliver',
          '--state',
          'DEAD',
          '--limit',
          '10',
          '--execute',
          '--reason',
          'ERP back after maintenance',
        ],
        env,
      ),
    );
    expect(done.code).toBe(0);
    expect(await row(eventId)).toMatchObject({ state: 'PENDING', attempts: 0 });
    const erp = await startReceiver();
    closers.push(erp.close);
    dispatcher({ url: erp.url });

    // Assert
    expect(await eventually(inState(eventId, 'DELIVERED'), 5_000, 20)).toBe(true);
    expect(erp.received.map((r) => r.headers[WEBHOOK_HEADERS.eventId])).toEqual([eventId]);
    const audits = (await db('audit_events').where({
      subject_type: 'outbox_event',
      subject_id: eventId,
    })) as {
      actor: string;
      action: string;
      reason: string;
      before_state: unknown;
      after_state: unknown;
    }[];
    expect(audits).toHaveLength(1);
    expect(audits[0]).toMatchObject({
      action: 'webhook.redeliver',
      reason: 'ERP back after maintenance',
    });
    expect(audits[0]?.actor).toMatch(/^cli/);
    expect(json(audits[0]?.before_state)).toMatchObject({
      state: 'DEAD',
      attempts: 2,
    });
    expect(json(audits[0]?.after_state)).toEqual({ state: 'PENDING', attempts: 0 });
  });
});

describe('ERP webhooks in the worker role', () => {
  test('When the service starts as a worker with a webhook URL, then it delivers and drains on stop', async () => {
    const database = await createTestDatabase('webhooks_service');
    const erp = await startReceiver({ delayMs: 200 });
    try {
      const service = await startTestService(
        testConfig({
          DATABASE_URL: database.url,
          ERP_WEBHOOK_URL: erp.url,
          ERP_WEBHOOK_SECRET: SECRET,
          WEBHOOK_POLL_INTERVAL_MS: '20',
        }),
        'worker',
      );
      let stopped = false;
      try {
        const { eventId } = await database.db.transaction((trx) =>
          appendOutboxEvent(trx, aReceiptFailed(20)),
        );
        expect(await eventually(() => Promise.resolve(erp.received.length === 1), 5_000, 10)).toBe(
          true,
        );
        // Stopped while the ERP is still answering: the lifecycle waits for the outcome.
        expect(await service.stop()).toBe(true);
        stopped = true;
        const [request] = erp.received;
        expect(request?.headers[WEBHOOK_HEADERS.eventId]).toBe(eventId);
        expect(
          verifyWebhookSignature(SECRET, request?.headers ?? {}, request?.body ?? '', TOLERANCE_S)
            .ok,
        ).toBe(true);
        const stored = (await database.db('outbox_events').where('event_id', eventId).first()) as
          OutboxRow | undefined;
        expect(stored?.state).toBe('DELIVERED');
      } finally {
        if (!stopped) await service.stop();
      }
    } finally {
      await erp.close();
      await database.drop();
    }
  });
});

describe('ERP webhooks through nock (no stray network)', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  const logger = createLogger('silent');

  beforeAll(async () => {
    database = await createTestDatabase('webhooks_nock');
    nock.disableNetConnect();
    nock.enableNetConnect('127.0.0.1');
  });

  beforeEach(() => {
    nock.cleanAll();
  });

  afterAll(async () => {
    nock.cleanAll();
    nock.enableNetConnect();
    await database.drop();
  });

  test('When the ERP never answers, then the attempt times out and counts as failed', async () => {
    const erp = nock('https://erp.comune.example')
      .post('/webhooks')
      .delay(800)
      .reply(200, 'too late')
      .post('/webhooks')
      .reply(204);
    const { eventId } = await database.db.transaction((trx) =>
      appendOutboxEvent(trx, aReceiptFailed(10)),
    );
    const stop = startWebhookDispatcher({
      db: database.db,
      logger,
      target: { url: 'https://erp.comune.example/webhooks', secret: SECRET },
      policy: { attemptsMax: 3, backoffBaseMs: 5, backoffMaxMs: 10 },
      timeoutMs: 200,
      pollIntervalMs: 20,
      batchSize: 10,
    });
    try {
      const delivered = async () =>
        ((await database.db('outbox_events').where('event_id', eventId).first()) as OutboxRow)
          .state === 'DELIVERED';
      expect(await eventually(delivered, 5_000, 20)).toBe(true);
    } finally {
      await stop();
    }
    expect(erp.isDone()).toBe(true);
    const final = (await database
      .db('outbox_events')
      .where('event_id', eventId)
      .first()) as OutboxRow;
    expect(final).toMatchObject({ attempts: 2, last_status: 204 });
  });

  test('When the ERP answers with a redirect, then it is not followed and the attempt fails', async () => {
    nock('https://erp.comune.example')
      .post('/webhooks')
      .reply(302, '', { location: 'https://elsewhere.example/' });
    const { eventId } = await database.db.transaction((trx) =>
      appendOutboxEvent(trx, aReceiptFailed(11)),
    );
    const stop = startWebhookDispatcher({
      db: database.db,
      logger,
      target: { url: 'https://erp.comune.example/webhooks', secret: SECRET },
      policy: { attemptsMax: 1, backoffBaseMs: 5, backoffMaxMs: 10 },
      timeoutMs: 1_000,
      pollIntervalMs: 20,
      batchSize: 10,
    });
    try {
      const dead = async () =>
        ((await database.db('outbox_events').where('event_id', eventId).first()) as OutboxRow)
          .state === 'DEAD';
      expect(await eventually(dead, 5_000, 20)).toBe(true);
    } finally {
      await stop();
    }
    const final = (await database
      .db('outbox_events')
      .where('event_id', eventId)
      .first()) as OutboxRow;
    expect(final).toMatchObject({ attempts: 1, last_status: 302, last_error: 'HTTP 302' });
  });
});
