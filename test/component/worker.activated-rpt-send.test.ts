import { randomUUID } from 'node:crypto';
import nock from 'nock';
import request from 'supertest';
import {
  parseNodoInviaRPTRequest,
  type NodoInviaRPTRequest,
} from '../../src/adapters/pagopa/old-model-soap';
import { parseRpt } from '../../src/adapters/pagopa/rpt-rt';
import { addDays, romeDate } from '../../src/domain/positions/dates';
import {
  sendActivatedOnce,
  startActivatedRptSender,
} from '../../src/entry-points/worker/activated-rpt-sender';
import { OPERATOR } from '../helpers/api';
import { eventually } from '../helpers/service';
import {
  DOMAIN,
  PSP,
  nodeAnswer,
  startActivationWorld,
  type ActivationWorld,
} from './activated-rpt.fixtures';

/**
 * Old model 3 after paaAttivaRPT: the activation (real XML on the adapter's
 * PaPerNodoPagamentoPsp door) queues the RPT owed to the node; the activated-RPT sender's run sends
 * it with nodoInviaRPT (tipoVersamento PO, the PSP's CCP, the PSP's route) to the node, mocked by
 * nock, and operators then read it at GET /ops/v1/payments/{paymentId}/sent-requests.
 *
 * The service runs as two roles (api, soap) on one schema and no worker, so the only sender is the
 * run the test calls.
 */

const today = romeDate(new Date());

type SendRow = { state: string; attempts: number; last_error: string | null; psp_id: string };

describe('activated RPT sender (old model 3: nodoInviaRPT PO after paaAttivaRPT)', () => {
  let world: ActivationWorld;
  let database: ActivationWorld['database'];
  let apiUrl: string;
  const newPosition = (...a: Parameters<ActivationWorld['newPosition']>) => world.newPosition(...a);
  const activate = (...a: Parameters<ActivationWorld['activate']>) => world.activate(...a);

  const run = (o: { attemptsMax?: number; backoffBaseMs?: number } = {}) =>
    sendActivatedOnce({
      db: database.db,
      logger: world.logger,
      domains: world.domains,
      senders: world.senders,
      ...o,
    });

  const paymentIdOf = async (ccp: string): Promise<string> =>
    (
      (await database.db('payment_attempts').where({ ccp }).first('payment_id')) as {
        payment_id: string;
      }
    ).payment_id;
  const sendOf = async (ccp: string) =>
    (await database
      .db('activated_rpt_sends')
      .where({ ccp })
      .first('state', 'attempts', 'last_error', 'psp_id')) as SendRow | undefined;
  const sentRequests = async (ccp: string) => {
    const res = await request(apiUrl)
      .get(`/ops/v1/payments/${await paymentIdOf(ccp)}/sent-requests`)
      .set(OPERATOR);
    expect(res.status).toBe(200);
    return (res.body as { items: { kind: string; iuv: string; ccp: string; document: string }[] })
      .items;
  };
  /** The node: answers each nodoInviaRPT with the next of `answers`, and keeps the requests. */
  const node = (answers: { status: number; body: string }[]) => {
    const received: NodoInviaRPTRequest[] = [];
    let scope = nock('http://node.test');
    for (const answer of answers) {
      scope = scope
        .post(/.*/, (body: string) => {
          received.push(parseNodoInviaRPTRequest(body));
          return true;
        })
        .reply(answer.status, answer.body);
    }
    return { scope, received };
  };
  const ok = nodeAnswer();
  const fault = (faultCode: string) => nodeAnswer(faultCode);

  beforeAll(async () => {
    world = await startActivationWorld('worker_arpt');
    ({ database, apiUrl } = world);
  });

  afterEach(() => {
    nock.cleanAll();
  });

  afterAll(async () => {
    await world.stop();
  });

  test("paaAttivaRPT answers OK before any send; the run sends nodoInviaRPT with PO, the PSP's CCP and route, the debtor and the activated amount; SENT and visible to operators", async () => {
    const iuv = await newPosition(4_500);
    const ccp = randomUUID().replace(/-/g, '');
    const { scope, received } = node([ok]);

    expect(await activate(iuv, ccp, '45.00')).toMatchObject({ outcome: 'OK' });
    expect(received).toHaveLength(0);
    expect(await sendOf(ccp)).toEqual({
      state: 'PENDING',
      attempts: 0,
      last_error: null,
      psp_id: PSP.id,
    });

    expect(await run()).toEqual({ claimed: 1, sent: 1, retried: 0, failed: 0 });
    expect(scope.isDone()).toBe(true);
    const sent = received[0]!;
    expect(sent).toMatchObject({
      header: { domainId: DOMAIN, iuv, ccp, brokerId: '80000000097', stationId: '80000000097_01' },
      password: 's3cret-station',
      pspId: PSP.id,
      pspBrokerId: PSP.broker,
      channelId: PSP.channel,
    });
    const rpt = parseRpt(sent.rptXml);
    expect(rpt).toMatchObject({
      paymentType: 'PO',
      iuv,
      ccp,
      totalCents: 4_500,
      debtor: { taxCode: 'FRRLCU82D12D612K' },
      creditor: { taxCode: DOMAIN },
    });
    expect(await sendOf(ccp)).toMatchObject({ state: 'SENT', attempts: 1, last_error: null });
    const documents = await sentRequests(ccp);
    expect(documents).toEqual([
      expect.objectContaining({ kind: 'RPT', iuv, ccp, document: sent.rptXml }),
    ]);
    // Nothing left to send.
    expect(await run()).toEqual({ claimed: 0, sent: 0, retried: 0, failed: 0 });
  });

  test('PPT_RPT_DUPLICATA: the node already has it, SENT without a second document', async () => {
    const iuv = await newPosition(1_000);
    const ccp = randomUUID().replace(/-/g, '');
    const { scope } = node([fault('PPT_RPT_DUPLICATA')]);
    await activate(iuv, ccp, '10.00');
    expect(await run()).toEqual({ claimed: 1, sent: 1, retried: 0, failed: 0 });
    expect(scope.isDone()).toBe(true);
    expect(await sendOf(ccp)).toMatchObject({ state: 'SENT', attempts: 1 });
    expect(await sentRequests(ccp)).toEqual([]);
  });

  test('a node answering 503 is tried again after a growing backoff, then FAILED after the bounded attempts with the last error', async () => {
    const iuv = await newPosition(2_000);
    const ccp = randomUUID().replace(/-/g, '');
    const down = { status: 503, body: 'Service Unavailable' };
    const { scope, received } = node([down, down, down]);
    await activate(iuv, ccp, '20.00');
    const backoff = { attemptsMax: 3, backoffBaseMs: 300 };

    expect(await run(backoff)).toEqual({ claimed: 1, sent: 0, retried: 1, failed: 0 });
    expect(await sendOf(ccp)).toMatchObject({ state: 'PENDING', attempts: 1 });
    // Not due before its backoff.
    expect(await run(backoff)).toMatchObject({ claimed: 0 });
    await new Promise((r) => setTimeout(r, 350));
    expect(await run(backoff)).toEqual({ claimed: 1, sent: 0, retried: 1, failed: 0 });
    // The second wait is twice the first.
    await new Promise((r) => setTimeout(r, 350));
    expect(await run(backoff)).toMatchObject({ claimed: 0 });
    await new Promise((r) => setTimeout(r, 300));
    expect(await run(backoff)).toEqual({ claimed: 1, sent: 0, retried: 0, failed: 1 });

    expect(scope.isDone()).toBe(true);
    expect(received).toHaveLength(3);
    const row = await sendOf(ccp);
    expect(row).toMatchObject({ state: 'FAILED', attempts: 3 });
    expect(row?.last_error).toMatch(/503/);
    expect(await sentRequests(ccp)).toEqual([]);
    expect(await run(backoff)).toMatchObject({ claimed: 0 });
  });

  test('a permanent refusal (PPT_SEMANTICA) is FAILED at once', async () => {
    const iuv = await newPosition(3_000);
    const ccp = randomUUID().replace(/-/g, '');
    const { scope } = node([fault('PPT_SEMANTICA')]);
    await activate(iuv, ccp, '30.00');
    expect(await run()).toEqual({ claimed: 1, sent: 0, retried: 0, failed: 1 });
    expect(scope.isDone()).toBe(true);
    const row = await sendOf(ccp);
    expect(row).toMatchObject({ state: 'FAILED', attempts: 1 });
    expect(row?.last_error).toMatch(/PPT_SEMANTICA/);
  });

  test('a repeated activation with the same CCP re-arms the same send, with the latest route: the RPT goes again', async () => {
    const iuv = await newPosition(1_500);
    const ccp = randomUUID().replace(/-/g, '');
    const { received } = node([ok, ok]);
    await activate(iuv, ccp, '15.00');
    expect(await run()).toMatchObject({ sent: 1 });
    expect(await sendOf(ccp)).toMatchObject({ state: 'SENT' });

    const otherChannel = { ...PSP, channel: '00799960158_02' };
    expect(await activate(iuv, ccp, '15.00', otherChannel)).toMatchObject({ outcome: 'OK' });
    expect(await sendOf(ccp)).toMatchObject({ state: 'PENDING', attempts: 0 });
    expect(await run()).toMatchObject({ claimed: 1, sent: 1 });
    expect(received.map((r) => [r.header.ccp, r.channelId])).toEqual([
      [ccp, PSP.channel],
      [ccp, otherChannel.channel],
    ]);
    expect(await database.db('activated_rpt_sends').where({ ccp }).count({ n: '*' })).toEqual([
      { n: 1 },
    ]);
    expect(await sentRequests(ccp)).toHaveLength(2);
  });

  test('two workers at once: each due RPT is claimed by one of them and sent once', async () => {
    const ccps = [randomUUID().replace(/-/g, ''), randomUUID().replace(/-/g, '')];
    for (const ccp of ccps) await activate(await newPosition(1_200), ccp, '12.00');
    const { received } = node([ok, ok, ok, ok]);
    const runs = await Promise.all([run(), run()]);
    expect(runs.map((r) => r.claimed).reduce((a, b) => a + b)).toBe(2);
    expect(received.map((r) => r.header.ccp).sort()).toEqual([...ccps].sort());
    for (const ccp of ccps) expect(await sendOf(ccp)).toMatchObject({ state: 'SENT', attempts: 1 });
  });

  test('the RPT is priced as of the activation: a reduction that ended since does not change the amount the PSP collected', async () => {
    // Reduced to 29.40 until today, 42.00 after.
    const iuv = await newPosition(4_200, {
      validFrom: addDays(today, -5),
      amountSchedule: [{ until: today, amountCents: 2_940 }],
    });
    const ccp = randomUUID().replace(/-/g, '');
    expect(await activate(iuv, ccp, '29.40')).toMatchObject({ outcome: 'OK' });
    // A day later: the activation was yesterday, and the reduction ended yesterday.
    const yesterday = addDays(today, -1);
    await database
      .db('payment_options')
      .where({ domain_id: DOMAIN, iuv })
      .update({ amount_schedule: JSON.stringify([{ until: yesterday, amountCents: 2_940 }]) });
    const activatedAt = new Date(Date.now() - 86_400_000);
    await database.db('activated_rpt_sends').where({ ccp }).update({ activated_at: activatedAt });
    const { received } = node([ok]);
    expect(await run()).toMatchObject({ claimed: 1, sent: 1 });
    expect(parseRpt(received[0]!.rptXml)).toMatchObject({
      paymentType: 'PO',
      ccp,
      totalCents: 2_940,
      executionDate: romeDate(activatedAt),
    });
  });

  test('a refused activation (wrong amount) queues nothing and nothing is sent', async () => {
    const iuv = await newPosition(2_500);
    const ccp = randomUUID().replace(/-/g, '');
    const { received } = node([ok]);
    expect(await activate(iuv, ccp, '99.00')).toMatchObject({
      outcome: 'KO',
      fault: { faultCode: 'PAA_ATTIVA_RPT_IMPORTO_NON_VALIDO' },
    });
    expect(await sendOf(ccp)).toBeUndefined();
    expect(await run()).toMatchObject({ claimed: 0 });
    expect(received).toHaveLength(0);
  });

  test('the loop sends on its own every interval, and its stop ends it', async () => {
    const iuv = await newPosition(1_100);
    const ccp = randomUUID().replace(/-/g, '');
    const { received } = node([ok]);
    const stop = startActivatedRptSender({
      db: database.db,
      logger: world.logger,
      domains: world.domains,
      senders: world.senders,
      intervalMs: 20,
    });
    try {
      await activate(iuv, ccp, '11.00');
      expect(await eventually(async () => (await sendOf(ccp))?.state === 'SENT', 5_000, 20)).toBe(
        true,
      );
    } finally {
      await stop();
    }
    expect(received.map((r) => r.header.ccp)).toEqual([ccp]);
    // Stopped: a new activation stays PENDING (last test: nothing claims it after).
    const later = randomUUID().replace(/-/g, '');
    await activate(await newPosition(1_100), later, '11.00');
    await new Promise((r) => setTimeout(r, 100));
    expect(await sendOf(later)).toMatchObject({ state: 'PENDING', attempts: 0 });
  });
});
