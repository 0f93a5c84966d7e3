import { Queue } from 'bullmq';
import { verifyWebhookSignature } from '../../src/adapters/erp-webhooks';
import type { MyPayNodeClient } from '../../src/adapters/node-client';
import { QUEUES } from '../../src/adapters/queues';
import { recordMyPaySession } from '../../src/data-access/mypay-attempts-repository';
import { addDays, romeDate } from '../../src/domain/positions/dates';
import { erpClient, jsonCall, type Json } from '../helpers/api';
import { createTestDatabase } from '../helpers/db';
import { startWebhookReceiver } from '../helpers/webhook-receiver';
import { MYPAY_DOMAIN, duesFor, myPayClient, myPayDomainsFile } from '../helpers/mypay';
import { eventually, startTestService, testConfig } from '../helpers/service';

/**
 * The `mypay` dialect end to end, through the real doors: the ERP API on one side, the embedded
 * simulator playing MyPay on the other (paaSILInviaDovuti, its checkout page, paaSILChiediPagati,
 * and its outcome push to the adapter's `POST /mypay/v1/outcomes` signed with the shared JWT
 * secret), the adapter's inbox, queue, worker, MyPay poller and webhooks in between. Balances,
 * payment and position states are read through the ERP API; the ERP's webhook receiver checks
 * every signature.
 *
 * Until the ERP routes start MyPay payments themselves, a payment is started as they will: the
 * top-up (or position) comes from the ERP API, paaSILInviaDovuti goes through the adapter's MyPay
 * client with the option's IUV, and the session is recorded on the attempt (recordMyPaySession).
 */

const QUEUE_PREFIX = `t-demo-mypay-${process.pid}`;
const PUSH_SECRET = 'demo-mypay-push-secret-0123456789abcdef';
const WEBHOOK_SECRET = 'whsec_demo_mypay_0123456789abcdef0123456789';
const POLL_DELAY_MS = 400;
const RUN = (process.pid % 9_000) + 1_000;
const today = romeDate(new Date());

type Step = { operation: string; outcome: string; faultCode?: string };

describe('mypay dialect end to end: ERP API, adapter, worker and simulated MyPay', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let service: Awaited<ReturnType<typeof startTestService>>;
  let receiver: Awaited<ReturnType<typeof startWebhookReceiver>>;
  let api: string;
  let sim: string;
  let mypay: MyPayNodeClient;
  let cardCode: string;

  const call = jsonCall;
  const client = erpClient(() => api);
  const { erp } = client;
  const balance = (account: string) => client.balance(cardCode, account);
  const balanceBecomes = (account: string, cents: number) =>
    client.balanceBecomes(cardCode, account, cents);
  const paymentStatus = async (paymentId: string): Promise<unknown> =>
    (await erp('GET', `/api/v1/payments/${paymentId}`)).body['status'];
  const receiptsOf = async (iuv: string) => {
    const feed = await erp('GET', `/api/v1/receipts?domain=${MYPAY_DOMAIN}&limit=200`);
    return (feed.body['items'] as { iuv: string; source: string; state: string }[]).filter(
      (r) => r.iuv === iuv,
    );
  };
  const reconciledHooksFor = (iuv: string) =>
    receiver.received
      .map((h) => ({ hook: h, event: JSON.parse(h.body) as { type: string; data: Json } }))
      .filter((e) => e.event.type === 'payment.reconciled' && e.event.data['iuv'] === iuv);

  const topUp = async (account: string, amountCents: number) => {
    const res = await erp(
      'POST',
      `/api/v1/cards/${cardCode}/top-ups`,
      {
        account,
        amountCents,
        payer: { type: 'F', fiscalCode: 'RSSMRA85T10A562S', fullName: 'Rossi Mario' },
        returnUrl: 'https://erp.example.org/back',
      },
      { 'Idempotency-Key': `demo-mypay-${RUN}-${Math.random()}` },
    );
    expect(res.status).toBe(201);
    return {
      paymentId: res.body['paymentId'] as string,
      iuv: res.body['iuv'] as string,
      noticeNumber: res.body['noticeNumber'] as string,
    };
  };
  /** paaSILInviaDovuti at the simulated MyPay for the option's IUV; the session on the attempt. */
  const startAtMyPay = async (iuv: string, amountCents: number, paymentId?: string) => {
    const started = await mypay.start({
      dues: duesFor(iuv, amountCents, `DUE-${iuv}`),
      returnUrl: 'https://erp.example.org/back',
    });
    const sessionId = started.sessionId ?? '';
    expect(started.redirectUrl).toBe(`${sim}/checkout/${sessionId}`);
    if (paymentId !== undefined) {
      expect(
        await recordMyPaySession(database.db, {
          paymentId,
          sessionId,
          checkoutUrl: started.redirectUrl,
        }),
      ).toBe(true);
    }
    return { sessionId, url: started.redirectUrl };
  };

  beforeAll(async () => {
    receiver = await startWebhookReceiver();

    database = await createTestDatabase('demo_mypay');
    const domainsFile = myPayDomainsFile();
    service = await startTestService(
      testConfig({
        DATABASE_URL: database.url,
        DATABASE_MIGRATE_ON_START: 'false',
        DOMAINS_FILE: domainsFile,
        QUEUE_PREFIX,
        RECONCILE_BACKOFF_BASE_MS: '50',
        RECEIPTS_FEED_LAG_MS: '0',
        MYPAY_PUSH_JWT_SECRET: PUSH_SECRET,
        MYPAY_POLL_DELAY_MS: String(POLL_DELAY_MS),
        MYPAY_POLL_INTERVAL_MS: '200',
        ERP_WEBHOOK_URL: receiver.url,
        ERP_WEBHOOK_SECRET: WEBHOOK_SECRET,
        WEBHOOK_POLL_INTERVAL_MS: '100',
      }),
      'all',
    );
    api = `http://127.0.0.1:${service.ports.api}`;
    sim = `http://127.0.0.1:${service.ports.simulator}`;
    mypay = myPayClient(sim, domainsFile);
    const card = await erp('POST', '/api/v1/cards', {
      domain: MYPAY_DOMAIN,
      cardNumber: String(RUN),
      holder: { fiscalCode: 'RSSMRA85T10A562S', fullName: 'Rossi Mario' },
    });
    expect(card.status).toBe(201);
    cardCode = card.body['cardCode'] as string;
  }, 60_000);

  afterAll(async () => {
    await service?.stop();
    await receiver?.close();
    const queue = new Queue(QUEUES.reconcile, {
      connection: { host: '127.0.0.1', port: 6379 },
      prefix: QUEUE_PREFIX,
    });
    await queue.obliterate({ force: true });
    await queue.close();
    await database?.drop();
  });

  test('a card top-up paid at MyPay is credited once through the push, although MyPay pushes it three times', async () => {
    const { paymentId, iuv } = await topUp('CANTEEN', 2500);
    const { sessionId } = await startAtMyPay(iuv, 2500, paymentId);

    const paid = await call(sim, 'POST', `/sim/sessions/${sessionId}/pay`, {
      delivery: { mode: 'duplicate' },
    });
    expect(paid.status).toBe(200);
    expect((paid.body['steps'] as Step[]).map((s) => [s.operation, s.outcome])).toEqual([
      ['mypayOutcomePush', 'OK'],
      ['mypayOutcomePush', 'OK'],
    ]);
    expect(await balanceBecomes('CANTEEN', 2500)).toBe(true);
    expect(await eventually(async () => (await paymentStatus(paymentId)) === 'PAID', 5_000)).toBe(
      true,
    );

    // MyPay retries its push later: absorbed.
    const again = await call(sim, 'POST', `/sim/sessions/${sessionId}/push`);
    expect((again.body['steps'] as Step[])[0]?.outcome).toBe('OK');
    // Past the poll delay too: the attempt has its receipt, the poller adds nothing.
    await new Promise((r) => setTimeout(r, POLL_DELAY_MS + 400));
    expect(await balance('CANTEEN')).toBe(2500);
    expect(await receiptsOf(iuv)).toEqual([
      expect.objectContaining({ source: 'MYPAY', state: 'RECONCILED' }),
    ]);

    // The ERP heard of it once, signed.
    expect(await eventually(() => Promise.resolve(reconciledHooksFor(iuv).length > 0), 5_000)).toBe(
      true,
    );
    const events = reconciledHooksFor(iuv);
    expect(events).toHaveLength(1);
    const { hook, event } = events[0]!;
    expect(verifyWebhookSignature(WEBHOOK_SECRET, hook.headers, hook.body, 300).ok).toBe(true);
    expect(verifyWebhookSignature('not-the-secret', hook.headers, hook.body, 300).ok).toBe(false);
    expect(event.data).toMatchObject({
      domainId: MYPAY_DOMAIN,
      amountCents: 2500,
      account: 'CANTEEN',
    });
  });

  test('the push is lost: the poller reads the outcome with paaSILChiediPagati and credits it once; the late push is absorbed', async () => {
    const { paymentId, iuv } = await topUp('SCHOOL_TRANSPORT', 1500);
    const { sessionId } = await startAtMyPay(iuv, 1500, paymentId);

    const paid = await call(sim, 'POST', `/sim/sessions/${sessionId}/pay`, {
      delivery: { mode: 'never' },
    });
    expect((paid.body['steps'] as Step[]).map((s) => s.outcome)).toEqual(['NOT_SENT']);
    expect(await receiptsOf(iuv)).toEqual([]);

    expect(await balanceBecomes('SCHOOL_TRANSPORT', 1500)).toBe(true);
    expect(await paymentStatus(paymentId)).toBe('PAID');

    const late = await call(sim, 'POST', `/sim/sessions/${sessionId}/push`);
    expect((late.body['steps'] as Step[])[0]?.outcome).toBe('OK');
    await new Promise((r) => setTimeout(r, 300));
    expect(await balance('SCHOOL_TRANSPORT')).toBe(1500);
    expect(await receiptsOf(iuv)).toHaveLength(1);
    expect(
      await eventually(() => Promise.resolve(reconciledHooksFor(iuv).length === 1), 5_000),
    ).toBe(true);
  });

  test('a school transport debt paid on the MyPay checkout page: the position is PAID', async () => {
    const externalId = `TRASP-MYPAY-${RUN}`;
    const created = await erp('PUT', `/api/v1/debt-positions/${externalId}`, {
      domain: MYPAY_DOMAIN,
      service: 'SCHOOL_TRANSPORT',
      debtor: { type: 'F', fiscalCode: 'RSSMRA85T10A562S', fullName: 'Rossi Mario' },
      description: 'Trasporto scolastico novembre',
      paymentOptions: [{ amountCents: 3200, dueDate: addDays(today, 30) }],
    });
    expect(created.status).toBe(201);
    const iuv = (created.body['paymentOptions'] as { iuv: string }[])[0]!.iuv;
    const { url, sessionId } = await startAtMyPay(iuv, 3200);

    // The citizen on MyPay's page: pay, then back to the EC with idSession and esito.
    const back = await call(sim, 'POST', `${url.slice(sim.length)}/pay`);
    expect(back.status).toBe(303);
    expect(back.location).toBe(`https://erp.example.org/back?idSession=${sessionId}&esito=OK`);

    const status = async () =>
      (await erp('GET', `/api/v1/debt-positions/${externalId}?domain=${MYPAY_DOMAIN}`)).body[
        'status'
      ];
    expect(await eventually(async () => (await status()) === 'PAID', 10_000)).toBe(true);
    expect(
      await eventually(() => Promise.resolve(reconciledHooksFor(iuv).length === 1), 5_000),
    ).toBe(true);
  });

  test('a session cancelled on MyPay: the poller closes the attempt CANCELLED and nothing is credited', async () => {
    const before = await balance('CANTEEN');
    const { paymentId, iuv } = await topUp('CANTEEN', 900);
    const { url } = await startAtMyPay(iuv, 900, paymentId);
    const back = await call(sim, 'POST', `${url.slice(sim.length)}/cancel`);
    expect(back.location).toMatch(/esito=ANNULLO/);

    expect(
      await eventually(async () => (await paymentStatus(paymentId)) === 'CANCELLED', 5_000),
    ).toBe(true);
    expect(await balance('CANTEEN')).toBe(before);
    expect(await receiptsOf(iuv)).toEqual([]);
  });

  test('a printed transport notice paid at a PSP: MyPay pushes its Pagati under an idSession of its own, the position is PAID once; pushed twice and again later, absorbed', async () => {
    const externalId = `TRASP-PSP-${RUN}`;
    const created = await erp('PUT', `/api/v1/debt-positions/${externalId}`, {
      domain: MYPAY_DOMAIN,
      service: 'SCHOOL_TRANSPORT',
      debtor: { type: 'F', fiscalCode: 'RSSMRA85T10A562S', fullName: 'Rossi Mario' },
      description: 'Trasporto scolastico dicembre',
      paymentOptions: [{ amountCents: 4100, dueDate: addDays(today, 30) }],
    });
    expect(created.status).toBe(201);
    const [option] = created.body['paymentOptions'] as { iuv: string; noticeNumber: string }[];

    const paid = await call(sim, 'POST', '/sim/mypay/pay-notice', {
      noticeNumber: option!.noticeNumber,
      fiscalCode: MYPAY_DOMAIN,
      amountCents: 4100,
      delivery: { mode: 'duplicate' },
    });
    expect(paid.status).toBe(200);
    expect((paid.body['steps'] as Step[]).map((s) => [s.operation, s.outcome])).toEqual([
      ['mypayOutcomePush', 'OK'],
      ['mypayOutcomePush', 'OK'],
    ]);
    expect(paid.body['iuv']).toBe(option!.iuv);
    const status = async () =>
      (await erp('GET', `/api/v1/debt-positions/${externalId}?domain=${MYPAY_DOMAIN}`)).body[
        'status'
      ];
    expect(await eventually(async () => (await status()) === 'PAID', 10_000)).toBe(true);

    const again = await call(sim, 'POST', `/sim/sessions/${String(paid.body['idSession'])}/push`);
    expect((again.body['steps'] as Step[])[0]?.outcome).toBe('OK');
    await new Promise((r) => setTimeout(r, 300));
    expect(await receiptsOf(option!.iuv)).toEqual([
      expect.objectContaining({ source: 'MYPAY', state: 'RECONCILED' }),
    ]);
    expect(
      await eventually(() => Promise.resolve(reconciledHooksFor(option!.iuv).length === 1), 5_000),
    ).toBe(true);
  });

  test('a card top-up notice printed by the ERP and paid at a PSP: MyPay pushes the Pagati, the card is credited once', async () => {
    const before = await balance('CANTEEN');
    const { paymentId, iuv, noticeNumber } = await topUp('CANTEEN', 1800);
    expect(noticeNumber).toMatch(/^3\d{17}$/);
    const paid = await call(sim, 'POST', '/sim/mypay/pay-notice', {
      noticeNumber,
      fiscalCode: MYPAY_DOMAIN,
      amountCents: 1800,
    });
    expect(paid.status).toBe(200);
    expect(paid.body['iuv']).toBe(iuv);
    expect(await balanceBecomes('CANTEEN', before + 1800)).toBe(true);
    expect(await eventually(async () => (await paymentStatus(paymentId)) === 'PAID', 5_000)).toBe(
      true,
    );
    const late = await call(sim, 'POST', `/sim/sessions/${String(paid.body['idSession'])}/push`);
    expect((late.body['steps'] as Step[])[0]?.outcome).toBe('OK');
    await new Promise((r) => setTimeout(r, 300));
    expect(await balance('CANTEEN')).toBe(before + 1800);
    expect(await receiptsOf(iuv)).toHaveLength(1);
  });

  test("a spontaneous top-up on MyPay's own portal: its Pagati names an IUV the adapter never issued, so it is held QUARANTINED and nothing is credited", async () => {
    const before = await balance('CANTEEN');
    const paid = await call(sim, 'POST', '/sim/mypay/spontaneous', {
      cardCode,
      account: 'CANTEEN',
      amountCents: 1000,
      domain: MYPAY_DOMAIN,
    });
    expect(paid.status).toBe(200);
    expect((paid.body['steps'] as Step[]).map((s) => s.outcome)).toEqual(['OK']);
    const iuv = String(paid.body['iuv']);
    expect(await receiptsOf(iuv)).toEqual([
      expect.objectContaining({ source: 'MYPAY', state: 'QUARANTINED' }),
    ]);
    await new Promise((r) => setTimeout(r, 300));
    expect(await balance('CANTEEN')).toBe(before);
    // No payment for the ERP. (A receipt held at intake is not announced with receipt.failed
    // either: operators find it in the receipts inbox.)
    expect(reconciledHooksFor(iuv)).toEqual([]);
  });
});
