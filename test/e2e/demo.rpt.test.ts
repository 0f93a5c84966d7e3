import { Queue } from 'bullmq';
import { verifyWebhookSignature } from '../../src/adapters/erp-webhooks';
import { parseRpt } from '../../src/adapters/pagopa/rpt-rt';
import { QUEUES } from '../../src/adapters/queues';
import { parseNoticeNumber } from '../../src/domain/codes/notice-number';
import { addDays, romeDate } from '../../src/domain/positions/dates';
import { DEMO_RPT_CARD, ensureDemoCards } from '../../src/simulator/demo-data';
import { loadDomains } from '../../src/shared/domains-config';
import { createLogger } from '../../src/shared/logger';
import { OPERATOR, erpClient, jsonCall, type Json } from '../helpers/api';
import { createTestDatabase } from '../helpers/db';
import { startWebhookReceiver, type Hook } from '../helpers/webhook-receiver';
import { eventually, startTestService, testConfig } from '../helpers/service';

/**
 * The `rpt` dialect end to end, through the real doors only: the ERP API on one side, the
 * embedded simulator as the RT-model node (WISP) on the other, the adapter's PaPerNodo door,
 * queue, worker, missing-receipt recovery and webhook dispatcher in between. Demo domain
 * 80000000003 (Comune di Colle Alto); balances and position states are read through the ERP API,
 * webhooks by a local ERP that checks their signature.
 */

const QUEUE_PREFIX = `t-demo-rpt-${process.pid}`;
const RUN = (process.pid % 9_000) + 1_000;
const DOMAIN = '80000000003';
const SECRET = 'whsec_demo_rpt_0123456789abcdef0123456789';
const today = romeDate(new Date());

type Step = { operation: string; outcome: string; faultCode?: string };

describe('rpt dialect end to end: ERP API, adapter, WISP simulator, recovery and webhooks', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let service: Awaited<ReturnType<typeof startTestService>>;
  let erpHooks: Awaited<ReturnType<typeof startWebhookReceiver>>;
  let api: string;
  let sim: string;
  let cardCode: string;

  const call = jsonCall;
  const client = erpClient(() => api);
  const { erp, balance, balanceBecomes } = client;
  const positionStatus = (externalId: string) => client.positionStatus(externalId, DOMAIN);
  const attempt = async (paymentId: string) =>
    (await database
      .db('payment_attempts')
      .where({ payment_id: paymentId })
      .first('channel', 'status', 'ccp', 'session_id', 'checkout_url')) as {
      channel: string;
      status: string;
      ccp: string | null;
      session_id: string | null;
      checkout_url: string | null;
    };
  /** What operators see was sent for a payment (the ops API). */
  const sentRpts = async (paymentId: string) => {
    const res = await call(
      api,
      'GET',
      `/ops/v1/payments/${paymentId}/sent-requests`,
      undefined,
      OPERATOR,
    );
    expect(res.status).toBe(200);
    return res.body['items'] as {
      kind: string;
      iuv: string;
      ccp: string;
      cartId: string | null;
      sessionId: string | null;
      sentAt: string;
      document: string;
    }[];
  };
  const topUp = (account: string, amountCents: number, key = `rpt-${RUN}-${Math.random()}`) =>
    erp(
      'POST',
      `/api/v1/cards/${cardCode}/top-ups`,
      {
        account,
        amountCents,
        payer: { type: 'F', fiscalCode: DEMO_RPT_CARD.holder.fiscalCode, fullName: 'Ferri Luca' },
        returnUrl: 'https://erp.example.org/back',
      },
      { 'Idempotency-Key': key },
    );
  const newPosition = async (externalId: string, amountCents: number, fiscalCode: string) => {
    const res = await erp('PUT', `/api/v1/debt-positions/${externalId}`, {
      domain: DOMAIN,
      service: 'SCHOOL_TRANSPORT',
      debtor: { type: 'F', fiscalCode, fullName: 'Ferri Luca' },
      description: `Trasporto scolastico ${externalId}`,
      paymentOptions: [{ amountCents, dueDate: addDays(today, 30) }],
    });
    expect(res.status).toBe(201);
    return (res.body['paymentOptions'] as { iuv: string }[])[0]!.iuv;
  };
  const noticeNumberOf = async (externalId: string): Promise<string> =>
    (
      (await erp('GET', `/api/v1/debt-positions/${externalId}?domain=${DOMAIN}`)).body[
        'paymentOptions'
      ] as { noticeNumber: string }[]
    )[0]!.noticeNumber;
  /** The attempts a PSP's activation (paaAttivaRPT) left on the option with `iuv`. */
  const activations = async (iuv: string) =>
    (await database
      .db('payment_attempts as a')
      .join('payment_options as o', 'o.id', 'a.payment_option_id')
      .where({ 'o.domain_id': DOMAIN, 'o.iuv': iuv, 'a.channel': 'RPT' })
      .select('a.ccp', 'a.status')) as { ccp: string; status: string }[];
  const paymentIdOf = async (ccp: string): Promise<string> =>
    (
      (await database.db('payment_attempts').where({ ccp }).first('payment_id')) as {
        payment_id: string;
      }
    ).payment_id;
  /** When the adapter's SOAP door received the first RT of `iuv`. */
  const rtReceivedAt = async (iuv: string): Promise<number> =>
    (
      (await database
        .db('receipts')
        .where({ domain_id: DOMAIN, iuv })
        .orderBy('id')
        .first('received_at')) as { received_at: Date }
    ).received_at.getTime();
  const receiptsFor = async (iuv: string) =>
    (await database
      .db('receipts')
      .where({ domain_id: DOMAIN, iuv })
      .select('source', 'receipt_key', 'state')) as {
      source: string;
      receipt_key: string;
      state: string;
    }[];
  const sessionOf = (checkoutUrl: string): string =>
    new URL(checkoutUrl).searchParams.get('idSession') ?? '';
  const pay = (session: string, script: Json = {}) =>
    call(sim, 'POST', `/sim/sessions/${session}/pay`, script);
  const stepsOf = (res: { body: Json }) =>
    (res.body['steps'] as Step[]).map((s) => `${s.operation}:${s.outcome}`);

  beforeAll(async () => {
    erpHooks = await startWebhookReceiver();

    database = await createTestDatabase('demo_rpt');
    service = await startTestService(
      testConfig({
        DATABASE_URL: database.url,
        DATABASE_MIGRATE_ON_START: 'false',
        QUEUE_PREFIX,
        RECONCILE_BACKOFF_BASE_MS: '50',
        // Recovery asks the node about attempts without a receipt after 1.5 s (10 min in production).
        RECOVERY_DELAY_MS: '1500',
        RECOVERY_INTERVAL_MS: '200',
        ERP_WEBHOOK_URL: erpHooks.url,
        ERP_WEBHOOK_SECRET: SECRET,
        WEBHOOK_POLL_INTERVAL_MS: '50',
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
    // The demo card of the rpt domain: its card code is its number followed by check digits.
    cardCode = codes.find((code) => code.startsWith(DEMO_RPT_CARD.cardNumber))!;
    const card = await erp('GET', `/api/v1/cards/${cardCode}`);
    expect(card.body).toMatchObject({ domain: DOMAIN });
  }, 60_000);

  afterAll(async () => {
    await service?.stop();
    for (const name of [QUEUES.reconcile, QUEUES.billing]) {
      const queue = new Queue(name, {
        connection: { host: '127.0.0.1', port: 6379 },
        prefix: QUEUE_PREFIX,
      });
      await queue.obliterate({ force: true });
      await queue.close();
    }
    await database?.drop();
    await erpHooks?.close();
  });

  test('card top-up started by the ERP: an RPT to WISP, paid on its page, paaInviaRT credits the card, the ERP gets a signed payment.reconciled', async () => {
    const key = `rpt-${RUN}-canteen`;
    const started = await topUp('CANTEEN', 2500, key);
    expect(started.status).toBe(201);
    const paymentId = String(started.body['paymentId']);
    const iuv = String(started.body['iuv']);
    const checkoutUrl = String(started.body['checkoutUrl']);
    expect(checkoutUrl).toMatch(new RegExp(`^${sim}/checkout/[0-9a-f-]{36}\\?idSession=`));
    const session = sessionOf(checkoutUrl);

    // The attempt remembers what recovery and operators need: channel, CCP, session, url.
    const recorded = await attempt(paymentId);
    expect(recorded).toEqual({
      channel: 'RPT',
      status: 'PENDING',
      ccp: expect.stringMatching(/^[0-9a-f]{32}$/),
      session_id: session,
      checkout_url: checkoutUrl,
    });
    // The RPT sent: the notice's IUV, the attempt's CCP, the amount, the domain's IBAN, BBT.
    const [sent, ...more] = await sentRpts(paymentId);
    expect(more).toEqual([]);
    expect(sent).toMatchObject({ kind: 'RPT', iuv, ccp: recorded.ccp });
    const rpt = parseRpt(sent!.document);
    expect(rpt).toMatchObject({
      domain: { domainId: DOMAIN },
      iuv,
      ccp: recorded.ccp,
      paymentType: 'BBT',
      totalCents: 2500,
      debtor: { taxCode: DEMO_RPT_CARD.holder.fiscalCode },
      lines: [
        expect.objectContaining({ amountCents: 2500, creditIban: 'IT05R0123412345000000012345' }),
      ],
    });
    const page = await call(sim, 'GET', `/sim/sessions/${session}`);
    expect(page.body['cart']).toMatchObject({
      paymentNotices: [{ noticeNumber: `IUV ${iuv}`, fiscalCode: DOMAIN, amount: 2500 }],
    });

    // A retry of the ERP's request gets the same RPT's page, not a second RPT.
    const replay = await topUp('CANTEEN', 2500, key);
    expect(replay.body).toEqual(started.body);
    expect(await sentRpts(paymentId)).toHaveLength(1);

    // The outbound call is counted on the API's own /metrics.
    const metrics = await (await fetch(`${api}/metrics`)).text();
    expect(metrics).toMatch(
      /node_client_requests_total\{[^}]*dialect="rpt"[^}]*operation="nodoInviaRPT"[^}]*\} 1/,
    );

    const paid = await pay(session);
    expect(paid.status).toBe(200);
    expect(stepsOf(paid)).toEqual(['paaInviaRT:OK']);
    expect(await balanceBecomes(cardCode, 'CANTEEN', 2500)).toBe(true);
    expect((await erp('GET', `/api/v1/payments/${paymentId}`)).body).toMatchObject({
      status: 'PAID',
      channel: 'RPT',
      checkoutUrl,
    });

    // The ERP's webhook: payment.reconciled for this IUV, signed with the shared secret.
    const hookFor = (): Hook | undefined =>
      erpHooks.received.find((h) => {
        const body = JSON.parse(h.body) as { type: string; data: { iuv?: string } };
        return body.type === 'payment.reconciled' && body.data.iuv === iuv;
      });
    expect(await eventually(() => Promise.resolve(hookFor() !== undefined), 10_000, 50)).toBe(true);
    const hook = hookFor()!;
    expect(verifyWebhookSignature(SECRET, hook.headers, hook.body, 300)).toMatchObject({
      ok: true,
    });
    expect(
      verifyWebhookSignature('whsec_another_secret_0123456789abcdef', hook.headers, hook.body, 300),
    ).toEqual({ ok: false, reason: 'bad-signature' });
    expect(JSON.parse(hook.body)).toMatchObject({
      type: 'payment.reconciled',
      data: { domainId: DOMAIN, iuv, amountCents: 2500, account: 'CANTEEN' },
    });
  });

  test('the node sends the same RT twice: the resend is absorbed, the card is credited once', async () => {
    const before = await balance(cardCode, 'SCHOOL_TRANSPORT');
    const started = await topUp('SCHOOL_TRANSPORT', 1000);
    expect(started.status).toBe(201);
    const paid = await pay(sessionOf(String(started.body['checkoutUrl'])), {
      delivery: { mode: 'duplicate' },
    });
    expect(stepsOf(paid)).toEqual(['paaInviaRT:OK', 'paaInviaRT:OK']);
    expect(await balanceBecomes(cardCode, 'SCHOOL_TRANSPORT', before + 1000)).toBe(true);
    await new Promise((r) => setTimeout(r, 400));
    expect(await balance(cardCode, 'SCHOOL_TRANSPORT')).toBe(before + 1000);
  });

  test('a transport position paid through POST …/checkout: one RPT, PAID via the API; a retried request gets the same cart', async () => {
    const externalId = `BUS-${RUN}-1`;
    const iuv = await newPosition(externalId, 12_000, 'FRRLCU82D12D612K');
    const checkout = () =>
      erp(
        'POST',
        `/api/v1/debt-positions/${externalId}/checkout`,
        { domain: DOMAIN, returnUrl: 'https://erp.example.org/back' },
        { 'Idempotency-Key': `rpt-${RUN}-bus-1` },
      );
    const started = await checkout();
    expect(started.status).toBe(201);
    expect(started.body).toMatchObject({
      channel: 'RPT',
      payments: [{ externalId, amountCents: 12_000, status: 'PENDING' }],
    });
    const again = await checkout();
    expect(again.status).toBe(201);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.body).toEqual(started.body);

    const paymentId = (started.body['payments'] as { paymentId: string }[])[0]!.paymentId;
    const [sent] = await sentRpts(paymentId);
    expect(sent).toMatchObject({ kind: 'RPT', iuv, ccp: (await attempt(paymentId)).ccp });

    const paid = await pay(sessionOf(String(started.body['checkoutUrl'])));
    expect(stepsOf(paid)).toEqual(['paaInviaRT:OK']);
    expect(
      await eventually(async () => (await positionStatus(externalId)) === 'PAID', 10_000, 50),
    ).toBe(true);
  });

  test('two positions of one debtor in one cart: nodoInviaCarrelloRPT, one RPT and CCP each, both PAID', async () => {
    const first = `BUS-${RUN}-2`;
    const second = `BUS-${RUN}-3`;
    await newPosition(first, 3_000, 'FRRLCU82D12D612K');
    await newPosition(second, 4_000, 'FRRLCU82D12D612K');
    const started = await erp(
      'POST',
      `/api/v1/debt-positions/${first}/checkout`,
      { domain: DOMAIN, alsoPay: [second], returnUrl: 'https://erp.example.org/back' },
      { 'Idempotency-Key': `rpt-${RUN}-cart` },
    );
    expect(started.status).toBe(201);
    const payments = started.body['payments'] as { paymentId: string }[];
    const ccps = await Promise.all(payments.map(async (p) => (await attempt(p.paymentId)).ccp));
    expect(new Set(ccps).size).toBe(2);
    const cartIds = await Promise.all(
      payments.map(async (p) => (await sentRpts(p.paymentId))[0]?.cartId),
    );
    expect(cartIds).toEqual([started.body['cartId'], started.body['cartId']]);

    const paid = await pay(sessionOf(String(started.body['checkoutUrl'])));
    expect(stepsOf(paid)).toEqual(['paaInviaRT:OK', 'paaInviaRT:OK']);
    expect(
      await eventually(
        async () =>
          (await positionStatus(first)) === 'PAID' && (await positionStatus(second)) === 'PAID',
        10_000,
        50,
      ),
    ).toBe(true);
  });

  test('an RT the node never delivers: the worker asks nodoChiediCopiaRT with the CCP of the RPT and credits the card', async () => {
    const before = await balance(cardCode, 'NURSERY_MEALS');
    const started = await topUp('NURSERY_MEALS', 700);
    expect(started.status).toBe(201);
    const paymentId = String(started.body['paymentId']);
    const paid = await pay(sessionOf(String(started.body['checkoutUrl'])), {
      delivery: { mode: 'never' },
    });
    expect(paid.status).toBe(200);
    expect(stepsOf(paid)).toEqual(['paaInviaRT:NOT_SENT']);
    expect(await balance(cardCode, 'NURSERY_MEALS')).toBe(before);

    expect(await balanceBecomes(cardCode, 'NURSERY_MEALS', before + 700)).toBe(true);
    const receipt = (await database
      .db('receipts')
      .where({ domain_id: DOMAIN, iuv: started.body['iuv'] })
      .first('source', 'receipt_key')) as { source: string; receipt_key: string };
    expect(receipt).toEqual({ source: 'RECOVERY', receipt_key: (await attempt(paymentId)).ccp });
    expect((await erp('GET', `/api/v1/payments/${paymentId}`)).body).toMatchObject({
      status: 'PAID',
    });
  }, 20_000);

  test("a printed transport notice paid at a PSP with model 3: paaVerificaRPT, paaAttivaRPT with the PSP's CCP, the RT sent twice; PAID once, a second payment refused", async () => {
    const externalId = `BUS-${RUN}-PSP`;
    const iuv = await newPosition(externalId, 5_400, 'FRRLCU82D12D612K');
    const noticeNumber = await noticeNumberOf(externalId);
    const paid = await call(sim, 'POST', '/sim/psp/pay-notice', {
      noticeNumber,
      fiscalCode: DOMAIN,
      delivery: { mode: 'duplicate' },
    });
    expect(paid.status).toBe(200);
    expect(stepsOf(paid)).toEqual([
      'paaVerificaRPT:OK',
      'paaAttivaRPT:OK',
      'nodoInviaRPT:OK',
      'paaInviaRT:OK',
      'paaInviaRT:OK',
    ]);
    const ccp = String(paid.body['ccp']);
    expect(ccp).toMatch(/^[0-9a-f]{32}$/);
    expect(
      await eventually(async () => (await positionStatus(externalId)) === 'PAID', 10_000, 50),
    ).toBe(true);
    // The activation's attempt carries the PSP's CCP, and the RT closed it; one receipt only.
    expect(await activations(iuv)).toEqual([{ ccp, status: 'PAID' }]);
    // Before the RT (the node waits for it: 'nodoInviaRPT:OK' precedes 'paaInviaRT' above) the
    // adapter sent the RPT of the activation: PO, the PSP's CCP, the position's debtor, the
    // activated amount; operators see it, sent before the RT was received.
    const paymentId = await paymentIdOf(ccp);
    const sent = await sentRpts(paymentId);
    expect(sent).toEqual([expect.objectContaining({ kind: 'RPT', iuv, ccp, cartId: null })]);
    expect(parseRpt(sent[0]!.document)).toMatchObject({
      paymentType: 'PO',
      iuv,
      ccp,
      totalCents: 5_400,
      debtor: { taxCode: 'FRRLCU82D12D612K' },
    });
    const sentAt = new Date(sent[0]!.sentAt).getTime();
    const receivedAt = await rtReceivedAt(iuv);
    expect(sentAt).toBeLessThanOrEqual(receivedAt);
    expect(await receiptsFor(iuv)).toEqual([
      { source: 'PAA_INVIA_RT', receipt_key: ccp, state: 'RECONCILED' },
    ]);

    // The notice again at a PSP: the verification says it is paid, nothing is activated.
    const again = await call(sim, 'POST', '/sim/psp/pay-notice', {
      noticeNumber,
      fiscalCode: DOMAIN,
    });
    expect(again.status).toBe(422);
    expect(again.body['steps']).toEqual([
      expect.objectContaining({
        operation: 'paaVerificaRPT',
        outcome: 'KO',
        faultCode: 'PAA_PAGAMENTO_DUPLICATO',
      }),
    ]);
    expect(await receiptsFor(iuv)).toHaveLength(1);
  });

  test('a spontaneous top-up with the card code at a regional portal: paDemandPaymentNotice, then model 3 on the new notice; credited once', async () => {
    const before = await balance(cardCode, 'CANTEEN');
    const paid = await call(sim, 'POST', '/sim/portal/spontaneous', {
      cardCode,
      account: 'CANTEEN',
      amountCents: 1_200,
      domain: DOMAIN,
    });
    expect(paid.status).toBe(200);
    expect(stepsOf(paid)).toEqual([
      'paDemandPaymentNotice:OK',
      'paaVerificaRPT:OK',
      'paaAttivaRPT:OK',
      'nodoInviaRPT:OK',
      'paaInviaRT:OK',
    ]);
    expect(paid.body['notice']).toMatchObject({ domainFiscalCode: DOMAIN });
    expect(await balanceBecomes(cardCode, 'CANTEEN', before + 1_200)).toBe(true);
    await new Promise((r) => setTimeout(r, 400));
    expect(await balance(cardCode, 'CANTEEN')).toBe(before + 1_200);
    const iuv = parseNoticeNumber(
      (paid.body['notice'] as { noticeNumber: string }).noticeNumber,
    ).iuv;
    expect(await activations(iuv)).toEqual([{ ccp: paid.body['ccp'], status: 'PAID' }]);
    expect(await receiptsFor(iuv)).toEqual([
      { source: 'PAA_INVIA_RT', receipt_key: paid.body['ccp'], state: 'RECONCILED' },
    ]);
  });

  test("a model 3 RT the node never delivers: recovery asks nodoChiediCopiaRT with the PSP's CCP and the card is credited", async () => {
    const before = await balance(cardCode, 'NURSERY_MEALS');
    const paid = await call(sim, 'POST', '/sim/portal/spontaneous', {
      cardCode,
      account: 'NURSERY_MEALS',
      amountCents: 800,
      domain: DOMAIN,
      delivery: { mode: 'never' },
    });
    expect(stepsOf(paid)).toEqual([
      'paDemandPaymentNotice:OK',
      'paaVerificaRPT:OK',
      'paaAttivaRPT:OK',
      'nodoInviaRPT:OK',
      'paaInviaRT:NOT_SENT',
    ]);
    expect(await balance(cardCode, 'NURSERY_MEALS')).toBe(before);
    expect(await balanceBecomes(cardCode, 'NURSERY_MEALS', before + 800)).toBe(true);
    const iuv = parseNoticeNumber(
      (paid.body['notice'] as { noticeNumber: string }).noticeNumber,
    ).iuv;
    expect(await receiptsFor(iuv)).toEqual([
      { source: 'RECOVERY', receipt_key: paid.body['ccp'], state: 'RECONCILED' },
    ]);
  }, 20_000);
});
