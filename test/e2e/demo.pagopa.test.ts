import { Queue } from 'bullmq';
import { QUEUES } from '../../src/adapters/queues';
import { addDays, romeDate } from '../../src/domain/positions/dates';
import { ensureDemoCards } from '../../src/simulator/demo-data';
import { loadDomains } from '../../src/shared/domains-config';
import { createLogger } from '../../src/shared/logger';
import { erpClient, jsonCall, type Json } from '../helpers/api';
import { createTestDatabase } from '../helpers/db';
import { eventually, startTestService, testConfig } from '../helpers/service';

/**
 * The `pagopa` dialect end to end, through the real doors only: the ERP API on one side, the
 * embedded simulator (Checkout, PSP, regional portal) on the other, the adapter's SOAP door,
 * queue and worker in between. Balances and position states are read through the ERP API.
 */

const QUEUE_PREFIX = `t-demo-pagopa-${process.pid}`;
const RUN = (process.pid % 9_000) + 1_000;
const today = romeDate(new Date());

type Step = { operation: string; outcome: string; faultCode?: string };

describe('pagopa dialect end to end: ERP API, adapter and simulator', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let service: Awaited<ReturnType<typeof startTestService>>;
  let api: string;
  let sim: string;
  let cardCode: string;

  const call = jsonCall;
  const { erp, balance, balanceBecomes, positionStatus } = erpClient(() => api);

  const newPosition = async (externalId: string, amountCents: number, fiscalCode: string) => {
    const res = await erp('PUT', `/api/v1/debt-positions/${externalId}`, {
      service: 'NURSERY_FEE',
      debtor: { type: 'F', fiscalCode, fullName: 'Bianchi Laura' },
      description: `Retta asilo nido ${externalId}`,
      paymentOptions: [{ amountCents, dueDate: addDays(today, 30) }],
    });
    expect(res.status).toBe(201);
    const options = res.body['paymentOptions'] as { noticeNumber: string }[];
    return options[0]!.noticeNumber;
  };

  const topUp = (code: string, body: Json) =>
    erp('POST', `/api/v1/cards/${code}/top-ups`, body, {
      'Idempotency-Key': `demo-${RUN}-${Math.random()}`,
    });

  beforeAll(async () => {
    database = await createTestDatabase('demo_pagopa');
    service = await startTestService(
      testConfig({
        DATABASE_URL: database.url,
        DATABASE_MIGRATE_ON_START: 'false',
        QUEUE_PREFIX,
        RECONCILE_BACKOFF_BASE_MS: '50',
      }),
      'all',
    );
    api = `http://127.0.0.1:${service.ports.api}`;
    sim = `http://127.0.0.1:${service.ports.simulator}`;
    // The demo cards, as `npm start` registers them; twice, to show it is idempotent.
    const domains = loadDomains('fixtures/domains.demo.json');
    const logger = createLogger('silent');
    const codes = await ensureDemoCards(database.db, domains, logger);
    expect(await ensureDemoCards(database.db, domains, logger)).toEqual(codes);
    cardCode = codes[0]!;
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

  test('card top-up started by the ERP: checkoutUrl from the simulated Checkout, paid once although the receipt is sent twice', async () => {
    const started = await topUp(cardCode, {
      account: 'CANTEEN',
      amountCents: 2500,
      payer: { type: 'F', fiscalCode: 'RSSMRA85T10A562S', fullName: 'Rossi Mario' },
      returnUrl: 'https://erp.example.org/back',
    });
    expect(started.status).toBe(201);
    const checkoutUrl = started.body['checkoutUrl'] as string;
    expect(checkoutUrl).toMatch(new RegExp(`^${sim}/checkout/[0-9a-f-]{36}$`));
    const session = checkoutUrl.split('/').pop()!;

    const cart = await call(sim, 'GET', `/sim/sessions/${session}`);
    expect(cart.body['cart']).toMatchObject({
      paymentNotices: [
        { noticeNumber: started.body['noticeNumber'], fiscalCode: '80000000001', amount: 2500 },
      ],
      idCart: started.body['paymentId'],
    });
    const returnUrls = (cart.body['cart'] as { returnUrls: Record<string, string> }).returnUrls;
    expect(returnUrls['returnOkUrl']).toBe(
      `https://erp.example.org/back?outcome=OK&paymentId=${String(started.body['paymentId'])}`,
    );

    const paid = await call(sim, 'POST', `/sim/sessions/${session}/pay`, {
      delivery: { mode: 'duplicate' },
    });
    expect(paid.status).toBe(200);
    expect((paid.body['steps'] as Step[]).map((s) => `${s.operation}:${s.outcome}`)).toEqual([
      'paGetPaymentV2:OK',
      'paSendRTV2:OK',
      'paSendRTV2:OK',
    ]);
    expect(await balanceBecomes(cardCode, 'CANTEEN', 2500)).toBe(true);
    // A later look still shows one credit, not two.
    await new Promise((r) => setTimeout(r, 300));
    expect(await balance(cardCode, 'CANTEEN')).toBe(2500);
    const payment = await erp('GET', `/api/v1/payments/${String(started.body['paymentId'])}`);
    expect(payment.body).toMatchObject({ status: 'PAID', checkoutUrl });

    // The session is over: paying it again is refused, and the page says so.
    expect((await call(sim, 'POST', `/sim/sessions/${session}/pay`, {})).status).toBe(409);
  });

  test('a top-up without a returnUrl has no checkoutUrl; its notice is paid at a PSP instead', async () => {
    const started = await topUp(cardCode, {
      account: 'SCHOOL_TRANSPORT',
      amountCents: 1200,
      payer: { type: 'F', fiscalCode: 'RSSMRA85T10A562S', fullName: 'Rossi Mario' },
    });
    expect(started.status).toBe(201);
    expect(started.body).not.toHaveProperty('checkoutUrl');
    const paid = await call(sim, 'POST', '/sim/psp/pay-notice', {
      noticeNumber: started.body['noticeNumber'],
      fiscalCode: '80000000001',
    });
    expect(paid.status).toBe(200);
    expect(await balanceBecomes(cardCode, 'SCHOOL_TRANSPORT', 1200)).toBe(true);
  });

  test('a printed notice paid at a PSP: verify, getPayment, sendRT; the position becomes PAID and a second payment is refused', async () => {
    const externalId = `NURSERY-${RUN}-1`;
    const noticeNumber = await newPosition(externalId, 18_000, 'BNCLRA90A41H501X');

    const paid = await call(sim, 'POST', '/sim/psp/pay-notice', {
      noticeNumber,
      fiscalCode: '80000000001',
      delivery: { mode: 'timeout', ms: 1 },
    });
    expect(paid.status).toBe(200);
    const steps = paid.body['steps'] as Step[];
    expect(steps.slice(0, 2).map((s) => `${s.operation}:${s.outcome}`)).toEqual([
      'paVerifyPaymentNotice:OK',
      'paGetPaymentV2:OK',
    ]);
    // The node gave up waiting on the first send and resent: the resend is absorbed.
    expect(steps.at(-1)).toEqual({ operation: 'paSendRTV2', outcome: 'OK' });
    expect(
      await eventually(async () => (await positionStatus(externalId)) === 'PAID', 10_000, 50),
    ).toBe(true);

    const again = await call(sim, 'POST', '/sim/psp/pay-notice', {
      noticeNumber,
      fiscalCode: '80000000001',
    });
    expect(again.status).toBe(422);
    expect(again.body['steps']).toEqual([
      expect.objectContaining({
        operation: 'paVerifyPaymentNotice',
        outcome: 'KO',
        faultCode: 'PAA_PAGAMENTO_DUPLICATO',
      }),
    ]);
  });

  test('a spontaneous payment with the card code at a regional portal credits the card', async () => {
    const before = await balance(cardCode, 'NURSERY_MEALS');
    const paid = await call(sim, 'POST', '/sim/portal/spontaneous', {
      cardCode,
      account: 'NURSERY_MEALS',
      amountCents: 1500,
    });
    expect(paid.status).toBe(200);
    expect((paid.body['steps'] as Step[]).map((s) => `${s.operation}:${s.outcome}`)).toEqual([
      'paDemandPaymentNotice:OK',
      'paGetPaymentV2:OK',
      'paSendRTV2:OK',
    ]);
    expect(await balanceBecomes(cardCode, 'NURSERY_MEALS', before + 1500)).toBe(true);

    const unknownCard = await call(sim, 'POST', '/sim/portal/spontaneous', {
      cardCode: '999999999999',
      account: 'NURSERY_MEALS',
      amountCents: 1500,
    });
    expect(unknownCard.status).toBe(422);
    expect((unknownCard.body['steps'] as Step[])[0]).toMatchObject({
      operation: 'paDemandPaymentNotice',
      outcome: 'KO',
    });
  });

  test('a checkout of two positions of one debtor: one cart, receipts delivered out of order, both PAID', async () => {
    const fiscalCode = 'VRDGPP80C15F205Z';
    const first = `NURSERY-${RUN}-2`;
    const second = `NURSERY-${RUN}-3`;
    await newPosition(first, 9_000, fiscalCode);
    await newPosition(second, 4_500, fiscalCode);
    const other = `NURSERY-${RUN}-4`;
    await newPosition(other, 1_000, 'RSSMRA80A01H501U');

    const mixed = await erp(
      'POST',
      `/api/v1/debt-positions/${first}/checkout`,
      { alsoPay: [other], returnUrl: 'https://erp.example.org/back' },
      { 'Idempotency-Key': `demo-${RUN}-mixed` },
    );
    expect(mixed.status).toBe(409);

    const started = await erp(
      'POST',
      `/api/v1/debt-positions/${first}/checkout`,
      { alsoPay: [second], returnUrl: 'https://erp.example.org/back' },
      { 'Idempotency-Key': `demo-${RUN}-cart` },
    );
    expect(started.status).toBe(201);
    expect(started.body['payments']).toEqual([
      expect.objectContaining({ externalId: first, amountCents: 9_000, status: 'PENDING' }),
      expect.objectContaining({ externalId: second, amountCents: 4_500, status: 'PENDING' }),
    ]);
    const session = String(started.body['checkoutUrl']).split('/').pop()!;
    const paid = await call(sim, 'POST', `/sim/sessions/${session}/pay`, { outOfOrder: true });
    expect(paid.status).toBe(200);
    const receipts = paid.body['receipts'] as { noticeNumber: string }[];
    expect(receipts).toHaveLength(2);
    expect(
      await eventually(
        async () =>
          (await positionStatus(first)) === 'PAID' && (await positionStatus(second)) === 'PAID',
        10_000,
        50,
      ),
    ).toBe(true);
    expect(await positionStatus(other)).toBe('OPEN');
  });

  test('scripted faults: a malformed receipt is refused and changes nothing; a receipt never delivered leaves the position OPEN until the node resends it', async () => {
    const externalId = `NURSERY-${RUN}-5`;
    const noticeNumber = await newPosition(externalId, 2_000, 'BNCLRA90A41H501X');
    const malformed = await call(sim, 'POST', '/sim/psp/pay-notice', {
      noticeNumber,
      fiscalCode: '80000000001',
      delivery: { mode: 'malformed' },
    });
    expect(malformed.status).toBe(200);
    expect((malformed.body['steps'] as Step[]).at(-1)).toMatchObject({
      operation: 'paSendRTV2',
      outcome: 'KO',
      // Not even a paSendRTV2 request: a SOAP Client fault (no PAA_ code can be given).
      faultCode: expect.stringMatching(/(^PAA_SINTASSI|:Client$)/),
    });
    const never = await call(sim, 'POST', '/sim/psp/pay-notice', {
      noticeNumber,
      fiscalCode: '80000000001',
      delivery: { mode: 'never' },
    });
    expect((never.body['steps'] as Step[]).at(-1)).toEqual({
      operation: 'paSendRTV2',
      outcome: 'NOT_SENT',
    });
    await new Promise((r) => setTimeout(r, 300));
    expect(await positionStatus(externalId)).toBe('OPEN');

    // The node's retry queue delivers it at last: now the position is paid.
    const held = await call(sim, 'GET', '/sim/receipts/held');
    const receiptId = (never.body['receipts'] as { receiptId: string }[])[0]!.receiptId;
    expect(held.body['items']).toEqual([expect.objectContaining({ receiptId, noticeNumber })]);
    const late = await call(sim, 'POST', `/sim/receipts/${receiptId}/deliver`);
    expect(late.body['steps']).toEqual([{ operation: 'paSendRTV2', outcome: 'OK' }]);
    expect(
      await eventually(async () => (await positionStatus(externalId)) === 'PAID', 10_000, 50),
    ).toBe(true);
    expect((await call(sim, 'GET', '/sim/receipts/held')).body['items']).toEqual([]);
  });

  test('a delayed receipt: the PSP is done at once, the position is paid when the receipt arrives', async () => {
    const externalId = `NURSERY-${RUN}-6`;
    const noticeNumber = await newPosition(externalId, 3_000, 'BNCLRA90A41H501X');
    const paid = await call(sim, 'POST', '/sim/psp/pay-notice', {
      noticeNumber,
      fiscalCode: '80000000001',
      delivery: { mode: 'delay', ms: 700 },
    });
    expect((paid.body['steps'] as Step[]).at(-1)).toEqual({
      operation: 'paSendRTV2',
      outcome: 'SCHEDULED',
    });
    expect(await positionStatus(externalId)).toBe('OPEN');
    expect(
      await eventually(async () => (await positionStatus(externalId)) === 'PAID', 10_000, 50),
    ).toBe(true);
  });
});
