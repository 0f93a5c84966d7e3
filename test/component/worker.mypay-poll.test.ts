import fs from 'node:fs';
import path from 'node:path';
import nock from 'nock';
import { Registry } from 'prom-client';
import { buildPagati } from '../../src/adapters/mypay/documents';
import { pagatiToReceipt } from '../../src/adapters/mypay/pagati-receipt';
import {
  buildChiediPagatiResponse,
  parseChiediPagatiRequest,
} from '../../src/adapters/mypay/sil-soap';
import {
  claimMyPayAttempts,
  recordMyPaySession,
} from '../../src/data-access/mypay-attempts-repository';
import { claimPendingAttempts } from '../../src/data-access/reconcile-repository';
import { receiptsRepository } from '../../src/data-access/receipts-repository';
import { acceptReceipt, type AcceptReceiptDeps } from '../../src/domain/receipts/accept-receipt';
import type { ReceiptBusinessKey } from '../../src/domain/receipts/types';
import { myPaySources, pollMyPayOnce } from '../../src/entry-points/worker/mypay-poller';
import { parseDomainsConfig } from '../../src/shared/domains-config';
import { contentHash } from '../../src/shared/hash';
import { createLogger } from '../../src/shared/logger';
import { DOMAIN, givenPositions, iuvFor } from '../chaos/world';
import { createTestDatabase } from '../helpers/db';
import { paidPagati } from '../helpers/mypay';
import { REPO_ROOT } from '../helpers/service';

/**
 * The MyPay poller (paaSILChiediPagati for PENDING MyPay attempts), with MyPay mocked by nock
 * behind the adapter's real MyPay client, and the real MariaDB inbox and attempts.
 */

const MYPAY_URL = 'http://mypay.test';
const DELAY_MS = 300;
const EXPIRY_MS = 60_000;

const demo = JSON.parse(
  fs.readFileSync(path.join(REPO_ROOT, 'fixtures', 'domains.demo.json'), 'utf8'),
) as { domains: { fiscalCode: string; dialect: string }[] };
// The demo's first domain speaks MyPay here (the helpers insert positions in it).
const domains = parseDomainsConfig(
  {
    ...demo,
    domains: demo.domains.map((d) =>
      d.fiscalCode === DOMAIN ? { ...d, dialect: 'mypay', mypayIpaCode: 'C_BVERDE' } : d,
    ),
  },
  'test',
);
const settings = {
  nodeBaseUrl: undefined,
  checkoutBaseUrl: undefined,
  nodeRestBaseUrl: undefined,
  mypayBaseUrl: MYPAY_URL,
  nodeTimeoutMs: 2_000,
  nodeRetryAttemptsMax: 1,
  nodeRetryBackoffBaseMs: 1,
  nodeCircuitFailuresMax: 1_000,
  nodeCircuitOpenMs: 1_000,
  nodeTls: {},
};

type Answer = { pagati: string } | { fault: string } | 'down';

describe('MyPay outcome poll (paaSILChiediPagati)', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let scheduled: ReceiptBusinessKey[];
  let intake: AcceptReceiptDeps;
  /** What MyPay answers per idSession, and how often it was asked. */
  const answers = new Map<string, Answer>();
  const asked = new Map<string, number>();
  let seq = 0;
  const logger = createLogger('silent');
  const sources = myPaySources(domains, settings, { registry: new Registry(), logger });

  const run = (batchSize = 50) =>
    pollMyPayOnce({
      db: database.db,
      logger,
      intake,
      sources,
      delayMs: DELAY_MS,
      intervalMs: 60_000,
      batchSize,
      expiryMs: EXPIRY_MS,
    });
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  /** A PENDING attempt of a top-up, paid through MyPay session `session-<iuv>`. */
  const givenMyPayAttempt = async (cents: number, ageMs = 0) => {
    const iuv = iuvFor(process.pid, ++seq);
    const [given] = await givenPositions(database.db, [
      { kind: 'DEBT', iuv, transfersCents: [cents], attemptAgeMs: ageMs },
    ]);
    const sessionId = `session-${iuv}`;
    expect(
      await recordMyPaySession(database.db, {
        paymentId: `att-${iuv}`,
        sessionId,
        checkoutUrl: `${MYPAY_URL}/checkout/${sessionId}`,
      }),
    ).toBe(true);
    return { iuv, sessionId, attemptId: given!.attemptId };
  };
  const attemptStatus = async (attemptId: number) =>
    (
      (await database.db('payment_attempts').where({ id: attemptId }).first('status')) as {
        status: string;
      }
    ).status;

  beforeAll(async () => {
    database = await createTestDatabase('worker_mypay_poll');
    nock.disableNetConnect();
    nock.enableNetConnect('127.0.0.1');
  });

  beforeEach(async () => {
    // Each test starts without pending attempts: those of earlier tests would be asked too.
    await database
      .db('payment_attempts')
      .where({ status: 'PENDING' })
      .update({ status: 'CANCELLED' });
    nock.cleanAll();
    answers.clear();
    asked.clear();
    scheduled = [];
    intake = {
      inbox: receiptsRepository(database.db),
      scheduleReconcile: (_id, key) => {
        scheduled.push(key);
        return Promise.resolve();
      },
      scheduleTimeoutMs: 500,
      hash: contentHash,
      log: { warn: () => undefined, info: () => undefined },
    };
    nock(MYPAY_URL)
      .persist()
      .post('/ws/pa/')
      .reply((_uri, body) => {
        const sessionId = parseChiediPagatiRequest(body as string).sessionId;
        asked.set(sessionId, (asked.get(sessionId) ?? 0) + 1);
        const answer = answers.get(sessionId) ?? { fault: 'PAA_SEMANTICA' };
        if (answer === 'down') return [503, 'MyPay is down'];
        return [
          200,
          'pagati' in answer
            ? buildChiediPagatiResponse({ pagatiXml: answer.pagati })
            : buildChiediPagatiResponse({
                fault: {
                  faultCode: answer.fault,
                  faultString: answer.fault,
                  id: 'MyPay',
                  description: answer.fault,
                },
              }),
          { 'content-type': 'text/xml' },
        ];
      });
  });

  afterAll(async () => {
    nock.cleanAll();
    nock.enableNetConnect();
    await database.drop();
  });

  test('a paid session after the delay: its Pagati enters the inbox linked to the attempt; a later push of it is an identical resend', async () => {
    const a = await givenMyPayAttempt(1800);
    const paid = paidPagati(a.iuv, 1800, { domainId: DOMAIN });
    answers.set(a.sessionId, { pagati: buildPagati(paid) });

    // Younger than the delay: not asked.
    expect(await run()).toMatchObject({ asked: 0 });
    await sleep(DELAY_MS + 50);
    expect(await run()).toMatchObject({ asked: 1, received: 1, errors: 0 });
    expect(asked.get(a.sessionId)).toBe(1);

    const stored = (await database.db('receipts').where({ iuv: a.iuv }).first()) as {
      id: number;
      source: string;
      state: string;
      outcome: string;
      amount_cents: number;
      receipt_key: string;
      payment_attempt_id: number;
    };
    expect(stored).toMatchObject({
      source: 'MYPAY',
      state: 'RECEIVED',
      outcome: 'PAID',
      amount_cents: 1800,
      receipt_key: paid.lines[0]!.iur,
    });
    expect(Number(stored.payment_attempt_id)).toBe(a.attemptId);
    expect(scheduled).toEqual([{ domainId: DOMAIN, iuv: a.iuv, receiptKey: paid.lines[0]!.iur }]);

    // The attempt has its receipt: the next runs leave it alone.
    await sleep(DELAY_MS + 50);
    expect(await run()).toMatchObject({ asked: 0 });

    // MyPay's push of the same outcome, late: the same key and content, one receipt.
    const pushed = await acceptReceipt(
      intake,
      pagatiToReceipt(paid, buildPagati(paid), {
        brokerId: 'x',
        stationId: 'y',
        sessionId: a.sessionId,
      }),
    );
    expect(pushed).toEqual({ kind: 'already-accepted', receiptId: Number(stored.id) });
    expect(await database.db('receipts').where({ iuv: a.iuv })).toHaveLength(1);
  });

  test('not started: still PENDING and asked again only after the delay; past the expiry: NOT_PAID', async () => {
    const young = await givenMyPayAttempt(500);
    const old = await givenMyPayAttempt(600, EXPIRY_MS + 60_000);
    answers.set(young.sessionId, { fault: 'PAA_PAGAMENTO_NON_INIZIATO' });
    answers.set(old.sessionId, { fault: 'PAA_PAGAMENTO_NON_INIZIATO' });
    await sleep(DELAY_MS + 50);

    expect(await run()).toMatchObject({ asked: 2, pending: 1, expired: 1 });
    expect(await attemptStatus(young.attemptId)).toBe('PENDING');
    expect(await attemptStatus(old.attemptId)).toBe('NOT_PAID');
    // Just asked: not again before the delay has passed once more.
    expect(await run()).toMatchObject({ asked: 0 });
    await sleep(DELAY_MS + 50);
    expect(await run()).toMatchObject({ asked: 1, pending: 1 });
    expect(asked.get(young.sessionId)).toBe(2);
    expect(asked.get(old.sessionId)).toBe(1);
  });

  test('cancelled on MyPay: CANCELLED; expired by MyPay: NOT_PAID; in progress, however old: PENDING', async () => {
    const cancelled = await givenMyPayAttempt(700);
    const expired = await givenMyPayAttempt(800);
    const inProgress = await givenMyPayAttempt(900, EXPIRY_MS * 10);
    answers.set(cancelled.sessionId, { fault: 'PAA_PAGAMENTO_ANNULLATO' });
    answers.set(expired.sessionId, { fault: 'PAA_PAGAMENTO_SCADUTO' });
    answers.set(inProgress.sessionId, { fault: 'PAA_PAGAMENTO_IN_CORSO' });
    await sleep(DELAY_MS + 50);

    expect(await run()).toMatchObject({ asked: 3, cancelled: 1, expired: 1, pending: 1 });
    expect(await attemptStatus(cancelled.attemptId)).toBe('CANCELLED');
    expect(await attemptStatus(expired.attemptId)).toBe('NOT_PAID');
    expect(await attemptStatus(inProgress.attemptId)).toBe('PENDING');
    expect(await database.db('receipts').whereIn('iuv', [cancelled.iuv, expired.iuv])).toEqual([]);
  });

  test('MyPay down: counted as an error, the attempt stays PENDING and is asked again after the delay', async () => {
    const a = await givenMyPayAttempt(1000);
    answers.set(a.sessionId, 'down');
    await sleep(DELAY_MS + 50);
    expect(await run()).toMatchObject({ asked: 1, errors: 1 });
    expect(await attemptStatus(a.attemptId)).toBe('PENDING');

    answers.set(a.sessionId, {
      pagati: buildPagati(paidPagati(a.iuv, 1000, { domainId: DOMAIN })),
    });
    await sleep(DELAY_MS + 50);
    expect(await run()).toMatchObject({ asked: 1, received: 1 });
  });

  test('two workers at once share a batch without asking any session twice; the batch size bounds a run', async () => {
    const attempts = [];
    for (let i = 0; i < 6; i += 1) attempts.push(await givenMyPayAttempt(100 + i));
    for (const a of attempts) answers.set(a.sessionId, { fault: 'PAA_PAGAMENTO_NON_INIZIATO' });
    await sleep(DELAY_MS + 50);

    const [one, two] = await Promise.all([run(4), run(4)]);
    expect(one!.asked + two!.asked).toBe(6);
    expect(Math.max(one!.asked, two!.asked)).toBeLessThanOrEqual(4);
    for (const a of attempts) expect(asked.get(a.sessionId)).toBe(1);
  });

  test('only MyPay attempts are polled, and missing-receipt recovery leaves MyPay attempts to the poller', async () => {
    const iuv = iuvFor(process.pid, ++seq);
    await givenPositions(database.db, [
      { kind: 'TOP_UP', iuv, transfersCents: [1200], attemptAgeMs: 3_600_000 },
    ]);
    const mypay = await givenMyPayAttempt(1300, 3_600_000);
    answers.set(mypay.sessionId, { fault: 'PAA_PAGAMENTO_IN_CORSO' });
    await sleep(DELAY_MS + 50);

    const recovery = await claimPendingAttempts(database.db, { delayMs: DELAY_MS, limit: 100 });
    expect(recovery.map((a) => a.iuv)).toContain(iuv);
    expect(recovery.map((a) => a.iuv)).not.toContain(mypay.iuv);
    const claimed = await claimMyPayAttempts(database.db, { delayMs: DELAY_MS, limit: 100 });
    expect(claimed.map((a) => a.iuv)).toEqual([mypay.iuv]);
  });
});
