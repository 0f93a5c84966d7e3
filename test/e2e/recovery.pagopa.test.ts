import type { AddressInfo } from 'node:net';
import net from 'node:net';
import { Queue } from 'bullmq';
import { verifyWebhookSignature } from '../../src/adapters/erp-webhooks';
import { QUEUES } from '../../src/adapters/queues';
import { ensureDemoCards } from '../../src/simulator/demo-data';
import { loadDomains } from '../../src/shared/domains-config';
import { createLogger } from '../../src/shared/logger';
import { erpClient, jsonCall, type Json } from '../helpers/api';
import { createTestDatabase } from '../helpers/db';
import { startWebhookReceiver } from '../helpers/webhook-receiver';
import { eventually, startTestService, testConfig } from '../helpers/service';

/**
 * New-model missing-receipt recovery end to end, through the real doors only: the ERP starts a
 * card top-up, the simulated Checkout collects it but the node never delivers the receipt
 * (`never`), the worker's recovery finds it in the simulator's biz-events (Helpdesk lookup by
 * IUV, then the receipt by IUR) and the card is credited once; the node's late delivery of the
 * same receipt is absorbed, and the ERP hears `payment.reconciled` once, signed.
 * (Printed notices at a PSP and spontaneous portal payments are in demo.pagopa.test.ts.)
 */

const QUEUE_PREFIX = `t-recovery-pagopa-${process.pid}`;
const SUBSCRIPTION_KEY_ENV = 'BORGO_VERDE_SUBSCRIPTION_KEY';
const WEBHOOK_SECRET = 'e2e-recovery-webhook-secret-0123456789abcdef';
const DOMAIN = '80000000001';

type Step = { operation: string; outcome: string };

const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });

describe('pagopa missing-receipt recovery end to end: held receipt, biz-events, late push', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let service: Awaited<ReturnType<typeof startTestService>>;
  let erpHooks: Awaited<ReturnType<typeof startWebhookReceiver>>;
  let api: string;
  let sim: string;
  let cardCode: string;

  const call = jsonCall;
  const client = erpClient(() => api);
  const { erp } = client;
  const balance = (account: string) => client.balance(cardCode, account);
  const receiptsOf = async (iuv: string) => {
    const feed = await erp('GET', `/api/v1/receipts?domain=${DOMAIN}&limit=100`);
    return (feed.body['items'] as Json[]).filter((r) => r['iuv'] === iuv);
  };
  const reconciledHooks = (iuv: string) =>
    erpHooks.received.filter((h) => {
      const body = JSON.parse(h.body) as { type: string; data: { iuv: string | null } };
      return body.type === 'payment.reconciled' && body.data.iuv === iuv;
    });

  beforeAll(async () => {
    database = await createTestDatabase('e2e_recovery_pagopa');
    erpHooks = await startWebhookReceiver();
    // The simulator's port is fixed up front: the adapter's biz-events URLs point at it.
    const simPort = await freePort();
    process.env[SUBSCRIPTION_KEY_ENV] = 'e2e-subscription-key';
    service = await startTestService(
      testConfig({
        DATABASE_URL: database.url,
        DATABASE_MIGRATE_ON_START: 'false',
        QUEUE_PREFIX,
        SIMULATOR_PORT: String(simPort),
        NODE_REST_BASE_URL: `http://127.0.0.1:${simPort}/bizevents/service/v1`,
        NODE_REST_HELPDESK_BASE_URL: `http://127.0.0.1:${simPort}/bizevents/helpdesk/v1`,
        // Minutes in production; short here so the worker asks while the test waits.
        RECOVERY_DELAY_MS: '400',
        RECOVERY_INTERVAL_MS: '200',
        RECONCILE_BACKOFF_BASE_MS: '50',
        RECEIPTS_FEED_LAG_MS: '0',
        ERP_WEBHOOK_URL: erpHooks.url,
        ERP_WEBHOOK_SECRET: WEBHOOK_SECRET,
        WEBHOOK_POLL_INTERVAL_MS: '100',
      }),
      'all',
    );
    api = `http://127.0.0.1:${service.ports.api}`;
    sim = `http://127.0.0.1:${service.ports.simulator}`;
    const codes = await ensureDemoCards(
      database.db,
      loadDomains('fixtures/domains.demo.json'),
      createLogger('silent'),
    );
    cardCode = codes[0]!;
  }, 60_000);

  afterAll(async () => {
    await service?.stop();
    await erpHooks?.close();
    delete process.env[SUBSCRIPTION_KEY_ENV];
    const queue = new Queue(QUEUES.reconcile, {
      connection: { host: '127.0.0.1', port: 6379 },
      prefix: QUEUE_PREFIX,
    });
    await queue.obliterate({ force: true });
    await queue.close();
    await database?.drop();
  });

  test('a top-up whose receipt the node never sends is recovered from biz-events and credited once; the late push is absorbed; the ERP is told once, signed', async () => {
    const before = await balance('CANTEEN');
    const started = await erp(
      'POST',
      `/api/v1/cards/${cardCode}/top-ups`,
      {
        account: 'CANTEEN',
        amountCents: 2500,
        payer: { type: 'F', fiscalCode: 'RSSMRA85T10A562S', fullName: 'Rossi Mario' },
        returnUrl: 'https://erp.example.org/back',
      },
      { 'Idempotency-Key': `recovery-${process.pid}` },
    );
    expect(started.status).toBe(201);
    const session = String(started.body['checkoutUrl']).split('/').pop()!;
    const noticeNumber = String(started.body['noticeNumber']);
    const iuv = noticeNumber.slice(1);

    // The citizen pays at Checkout; the node keeps the receipt (its paSendRTV2 is never sent).
    const paid = await call(sim, 'POST', `/sim/sessions/${session}/pay`, {
      delivery: { mode: 'never' },
    });
    expect(paid.status).toBe(200);
    expect((paid.body['steps'] as Step[]).map((s) => `${s.operation}:${s.outcome}`)).toEqual([
      'paGetPaymentV2:OK',
      'paSendRTV2:NOT_SENT',
    ]);
    const receiptId = (paid.body['receipts'] as { receiptId: string }[])[0]!.receiptId;

    // The worker's recovery asks biz-events and credits the card.
    expect(
      await eventually(async () => (await balance('CANTEEN')) === before + 2500, 15_000, 100),
    ).toBe(true);
    const recovered = await receiptsOf(iuv);
    expect(recovered).toEqual([
      expect.objectContaining({
        receiptKey: receiptId,
        source: 'RECOVERY',
        noticeNumber,
        outcome: 'PAID',
        amountCents: 2500,
        state: 'RECONCILED',
      }),
    ]);

    // The node's retry queue delivers the same receipt at last (V2, with the cart's paymentNote
    // the biz-events copy lacks): the same receipt, answered OK, nothing applied twice.
    const late = await call(sim, 'POST', `/sim/receipts/${receiptId}/deliver`);
    expect(late.body['steps']).toEqual([{ operation: 'paSendRTV2', outcome: 'OK' }]);
    expect((await call(sim, 'GET', '/sim/receipts/held')).body['items']).toEqual([]);
    await new Promise((r) => setTimeout(r, 500));
    expect(await balance('CANTEEN')).toBe(before + 2500);
    expect(await receiptsOf(iuv)).toEqual([
      expect.objectContaining({ id: recovered[0]!['id'], source: 'RECOVERY' }),
    ]);
    expect(
      await database.db('receipt_conflicts').where({ receipt_id: recovered[0]!['id'] }),
    ).toHaveLength(0);
    const payment = await erp('GET', `/api/v1/payments/${String(started.body['paymentId'])}`);
    expect(payment.body).toMatchObject({ status: 'PAID' });

    // The ERP hears of it once, with a signature it can check.
    expect(
      await eventually(() => Promise.resolve(reconciledHooks(iuv).length > 0), 10_000, 50),
    ).toBe(true);
    await new Promise((r) => setTimeout(r, 300));
    const hooks = reconciledHooks(iuv);
    expect(hooks).toHaveLength(1);
    const hook = hooks[0]!;
    expect(verifyWebhookSignature(WEBHOOK_SECRET, hook.headers, hook.body, 300)).toMatchObject({
      ok: true,
    });
    expect(verifyWebhookSignature('another-secret', hook.headers, hook.body, 300)).toEqual({
      ok: false,
      reason: 'bad-signature',
    });
    expect(JSON.parse(hook.body)).toMatchObject({
      type: 'payment.reconciled',
      data: {
        domainId: DOMAIN,
        channel: 'PAGOPA',
        amountCents: 2500,
        iuv,
        noticeNumber,
        receiptKey: receiptId,
        receiptId: recovered[0]!['id'],
        account: 'CANTEEN',
      },
    });
  });

  test('biz-events answer only with a subscription key, and 404 for an IUV they do not know', async () => {
    const path = `/bizevents/helpdesk/v1/events/organizations/${DOMAIN}/iuvs/02999999999999999`;
    const keyless = await call(sim, 'GET', path);
    expect(keyless.status).toBe(401);
    const unknown = await call(sim, 'GET', path, undefined, {
      'ocp-apim-subscription-key': 'any',
    });
    expect(unknown).toMatchObject({
      status: 404,
      body: expect.objectContaining({ status: 404, code: 'BZ_404_004' }),
    });
    const noReceipt = await call(
      sim,
      'GET',
      `/bizevents/service/v1/organizations/${DOMAIN}/receipts/unknown-iur`,
      undefined,
      { 'ocp-apim-subscription-key': 'any' },
    );
    expect(noReceipt.status).toBe(404);
  });
});
