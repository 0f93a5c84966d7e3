import request from 'supertest';
import { Queue } from 'bullmq';
import { QUEUES } from '../../src/adapters/queues';
import { createTestDatabase } from '../helpers/db';
import { eventually, startTestService, testConfig } from '../helpers/service';
import { ERP, OPERATOR } from '../helpers/api';
import {
  DOMAIN,
  givenCards,
  givenPositions,
  iuvFor,
  paSendRtXml,
  postSoap,
  type GivenCard,
} from '../chaos/world';
import {
  auditOf,
  balanceOf,
  givenFailedTopUpReceipt,
  givenQuarantinedReceipt,
  stateOf,
} from './ops.fixtures';

/**
 * The ops API (`/ops/v1`) over a service running every role: receipts reach the inbox through the
 * SOAP door or the fixtures, the worker reconciles them, and an operator key drives the inventory,
 * inspection, replays, quarantine, position fixes, webhooks and the audit trail.
 */

const QUEUE_PREFIX = `t-ops-api-${process.pid}`;
const RUN = (process.pid % 90_000) + 10_000;

type Service = Awaited<ReturnType<typeof startTestService>>;

describe('ops API', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let service: Service;
  let api: string;
  let card: GivenCard;
  let seq = 0;
  const nextIuv = (): string => iuvFor(RUN, ++seq);

  beforeAll(async () => {
    database = await createTestDatabase('ops_api');
    service = await startTestService(
      testConfig({
        DATABASE_URL: database.url,
        DATABASE_MIGRATE_ON_START: 'false',
        QUEUE_PREFIX,
        RECONCILE_BACKOFF_BASE_MS: '50',
        RECONCILE_ATTEMPTS_MAX: '2',
      }),
      'all',
    );
    api = `http://127.0.0.1:${service.ports.api}`;
    [card] = (await givenCards(database.db, 1, `oa${RUN}`)) as [GivenCard];
  });

  afterAll(async () => {
    await service.stop();
    const queue = new Queue(QUEUES.reconcile, {
      connection: { host: '127.0.0.1', port: 6379 },
      prefix: QUEUE_PREFIX,
    });
    await queue.obliterate({ force: true });
    await queue.close();
    await database.drop();
  });

  const reconciled = (receiptId: number): Promise<boolean> =>
    eventually(async () => (await stateOf(database.db, receiptId)) === 'RECONCILED', 15_000);

  test('only operator keys reach /ops/v1', async () => {
    const res = await request(api).get('/ops/v1/receipts').set(ERP);
    expect(res.status).toBe(403);
    expect((await request(api).get('/ops/v1/receipts')).status).toBe(401);
  });

  test('the inventory filters FAILED receipts by domain and reason, counts states and pages', async () => {
    const ids: number[] = [];
    for (let i = 0; i < 3; i += 1) {
      ids.push(
        await givenFailedTopUpReceipt(database.db, {
          iuv: nextIuv(),
          cardId: card.cardId,
          account: 'CANTEEN',
          amountCents: 100 + i,
          reason: 'internal: gave up after 8 attempt(s): inventory-filter-test',
        }),
      );
    }
    const page1 = await request(api)
      .get('/ops/v1/receipts')
      .query({ state: 'FAILED', domain: DOMAIN, reasonContains: 'INVENTORY-FILTER', limit: 2 })
      .set(OPERATOR);
    expect(page1.status).toBe(200);
    expect(page1.body.items.map((r: { id: number }) => r.id)).toEqual([ids[2], ids[1]]);
    expect(page1.body.items[0]).toMatchObject({
      state: 'FAILED',
      domain: DOMAIN,
      amountCents: 102,
    });
    expect(page1.body.counts.FAILED).toBeGreaterThanOrEqual(3);
    const page2 = await request(api)
      .get('/ops/v1/receipts')
      .query({
        state: 'FAILED',
        reasonContains: 'inventory-filter',
        limit: 2,
        cursor: page1.body.nextCursor,
      })
      .set(OPERATOR);
    expect(page2.body.items.map((r: { id: number }) => r.id)).toEqual([ids[0]]);
    expect(page2.body.nextCursor).toBeNull();
  });

  test('a receipt whose amount matches nothing FAILS; inspecting it shows XML, history, position and job; replaying it fails it again and credits nothing', async () => {
    const iuv = nextIuv();
    await givenPositions(database.db, [
      {
        kind: 'TOP_UP',
        iuv,
        transfersCents: [2500],
        cardId: card.cardId,
        account: 'NURSERY_MEALS',
      },
    ]);
    const before = await balanceOf(database.db, card.accounts.NURSERY_MEALS);
    expect(
      (
        await postSoap(
          `http://127.0.0.1:${service.ports.soap}/pagopa/paForNode`,
          paSendRtXml({ iuv, receiptId: `r-${iuv}`, transfersCents: [999] }),
        )
      ).ok,
    ).toBe(true);
    const receipt = async () =>
      (await database.db('receipts').where({ iuv }).first()) as
        { id: number; state: string } | undefined;
    expect(await eventually(async () => (await receipt())?.state === 'FAILED', 15_000)).toBe(true);
    const id = (await receipt())!.id;

    const shown = await request(api).get(`/ops/v1/receipts/${id}`).set(OPERATOR);
    expect(shown.status).toBe(200);
    expect(shown.body.reason).toMatch(/^amount-mismatch/);
    expect(shown.body.prettyXml).toContain('\n');
    expect(shown.body.prettyXml).toContain(iuv);
    expect(shown.body.history.map((h: { to: string }) => h.to)).toEqual(['RECEIVED', 'FAILED']);
    expect(shown.body.position).toMatchObject({ externalId: `W-${iuv}`, kind: 'TOP_UP' });
    expect(shown.body.job).toMatchObject({ state: 'completed' });

    const replay = await request(api)
      .post(`/ops/v1/receipts/${id}/replay`)
      .set(OPERATOR)
      .send({ reason: 'amount fixed upstream?', execute: true });
    expect(replay.status).toBe(200);
    expect(replay.body.items[0]).toMatchObject({ action: 'replayed', jobAction: 'retried' });
    expect(
      await eventually(async () => {
        const changes = await database.db('receipt_state_changes').where({ receipt_id: id });
        return changes.length === 3;
      }, 15_000),
    ).toBe(true);
    expect(await stateOf(database.db, id)).toBe('FAILED');
    expect(await balanceOf(database.db, card.accounts.NURSERY_MEALS)).toBe(before);
  });

  test('replay: a dry run changes nothing; executing needs a reason; then the receipt is RECONCILED, credited once and audited', async () => {
    const id = await givenFailedTopUpReceipt(database.db, {
      iuv: nextIuv(),
      cardId: card.cardId,
      account: 'CANTEEN',
      amountCents: 1500,
      reason: 'dependency-down: gave up after 8 attempt(s): connect ECONNREFUSED',
    });
    const before = await balanceOf(database.db, card.accounts.CANTEEN);

    const dry = await request(api)
      .post(`/ops/v1/receipts/${id}/replay`)
      .set(OPERATOR)
      .send({ reason: 'db back' });
    expect(dry.status).toBe(200);
    expect(dry.body).toMatchObject({
      executed: false,
      items: [{ action: 'replayed', jobAction: null }],
    });
    expect(await stateOf(database.db, id)).toBe('FAILED');
    expect(await auditOf(database.db, 'receipt', String(id))).toEqual([]);

    const noReason = await request(api)
      .post(`/ops/v1/receipts/${id}/replay`)
      .set(OPERATOR)
      .send({ execute: true });
    expect(noReason.status).toBe(400);

    const done = await request(api)
      .post(`/ops/v1/receipts/${id}/replay`)
      .set(OPERATOR)
      .send({ reason: 'database back after outage', execute: true });
    expect(done.body.items[0]).toMatchObject({ action: 'replayed', jobAction: 'added' });
    expect(await reconciled(id)).toBe(true);
    expect(await balanceOf(database.db, card.accounts.CANTEEN)).toBe(before + 1500);
    expect(await auditOf(database.db, 'receipt', String(id))).toEqual([
      {
        actor: 'api:demo-operator',
        action: 'receipt.replay',
        reason: 'database back after outage',
      },
    ]);

    const again = await request(api)
      .post(`/ops/v1/receipts/${id}/replay`)
      .set(OPERATOR)
      .send({ reason: 'twice', execute: true });
    expect(again.body.items[0]).toMatchObject({ action: 'skipped' });
    expect(await balanceOf(database.db, card.accounts.CANTEEN)).toBe(before + 1500);
  });

  test('a set replay takes the oldest matching FAILED receipts up to the limit', async () => {
    const tag = `set-${RUN}`;
    const ids: number[] = [];
    for (let i = 0; i < 3; i += 1) {
      ids.push(
        await givenFailedTopUpReceipt(database.db, {
          iuv: nextIuv(),
          cardId: card.cardId,
          account: 'CANTEEN',
          amountCents: 200,
          reason: `dependency-down: ${tag}`,
        }),
      );
    }
    const body = {
      filter: { domain: DOMAIN, reasonContains: tag },
      limit: 2,
      reason: 'outage over',
    };
    const dry = await request(api).post('/ops/v1/receipts/replay').set(OPERATOR).send(body);
    expect(dry.body.items.map((i: { receiptId: number }) => i.receiptId)).toEqual([ids[0], ids[1]]);
    const done = await request(api)
      .post('/ops/v1/receipts/replay')
      .set(OPERATOR)
      .send({ ...body, execute: true });
    expect(done.body.counts).toMatchObject({ replayed: 2 });
    expect(await reconciled(ids[0]!)).toBe(true);
    expect(await reconciled(ids[1]!)).toBe(true);
    expect(await stateOf(database.db, ids[2]!)).toBe('FAILED');
    const tooMany = await request(api)
      .post('/ops/v1/receipts/replay')
      .set(OPERATOR)
      .send({ ...body, limit: 5000 });
    expect(tooMany.status).toBe(400);
  });

  test('quarantine: attach to a card as a top-up, release, and it is credited; refunded-outside closes another', async () => {
    const iuv = nextIuv();
    const id = await givenQuarantinedReceipt(database.db, { iuv, amountCents: 700 });
    const before = await balanceOf(database.db, card.accounts.CANTEEN);
    const cardCode = `oa${RUN}C0`;

    const early = await request(api)
      .post(`/ops/v1/receipts/${id}/release`)
      .set(OPERATOR)
      .send({ reason: 'x', execute: true });
    expect(early.status).toBe(409);
    const wrongPosition = await request(api)
      .post(`/ops/v1/receipts/${id}/attach`)
      .set(OPERATOR)
      .send({ position: 'no-such-position', reason: 'x', execute: true });
    expect(wrongPosition.status).toBe(404);

    const attached = await request(api)
      .post(`/ops/v1/receipts/${id}/attach`)
      .set(OPERATOR)
      .send({
        card: { cardCode, account: 'CANTEEN' },
        reason: 'parent paid the canteen by mistake on this notice',
        execute: true,
      });
    expect(attached.status).toBe(200);
    expect(attached.body).toMatchObject({ createdTopUp: true, externalId: `QUARANTINE-${id}` });
    expect(await stateOf(database.db, id)).toBe('QUARANTINED');

    const released = await request(api)
      .post(`/ops/v1/receipts/${id}/release`)
      .set(OPERATOR)
      .send({ reason: 'attached', execute: true });
    expect(released.body).toMatchObject({ executed: true, jobAction: 'added' });
    expect(await reconciled(id)).toBe(true);
    expect(await balanceOf(database.db, card.accounts.CANTEEN)).toBe(before + 700);
    expect((await auditOf(database.db, 'receipt', String(id))).map((a) => a.action)).toEqual([
      'receipt.attach',
      'receipt.release',
    ]);

    const other = await givenQuarantinedReceipt(database.db, { iuv: nextIuv(), amountCents: 300 });
    const refunded = await request(api)
      .post(`/ops/v1/receipts/${other}/refunded-outside`)
      .set(OPERATOR)
      .send({ reason: 'bank refund CRO 123', execute: true });
    expect(refunded.body).toMatchObject({ stateBefore: 'QUARANTINED' });
    const row = (await database.db('receipts').where({ id: other }).first()) as {
      state: string;
      state_reason: string;
    };
    expect(row).toMatchObject({
      state: 'RECONCILED',
      state_reason: 'refunded outside pagoPA: bank refund CRO 123',
    });
  });

  test('fix a position: paid outside pagoPA, cancel, reverse a wrong credit, each audited and as new entries', async () => {
    const paidIuv = nextIuv();
    const cancelIuv = nextIuv();
    await givenPositions(database.db, [
      {
        kind: 'DEBT',
        iuv: paidIuv,
        transfersCents: [4000],
        cardId: card.cardId,
        account: 'SCHOOL_TRANSPORT',
      },
      { kind: 'DEBT', iuv: cancelIuv, transfersCents: [1000] },
    ]);
    const transportBefore = await balanceOf(database.db, card.accounts.SCHOOL_TRANSPORT);
    const paid = await request(api)
      .post(`/ops/v1/positions/W-${paidIuv}/paid-outside`)
      .set(OPERATOR)
      .send({
        domain: DOMAIN,
        reference: 'CRO-42',
        amountCents: 4000,
        paidAt: '2026-11-20T10:00:00Z',
        reason: 'paid at the treasury',
        execute: true,
      });
    expect(paid.status).toBe(200);
    expect(paid.body).toMatchObject({
      created: true,
      before: { status: 'OPEN' },
      after: { status: 'PAID' },
    });
    expect(await balanceOf(database.db, card.accounts.SCHOOL_TRANSPORT)).toBe(
      transportBefore + 4000,
    );

    const cancelDry = await request(api)
      .post(`/ops/v1/positions/W-${cancelIuv}/cancel`)
      .set(OPERATOR)
      .send({ domain: DOMAIN, reason: 'duplicate' });
    expect(cancelDry.body).toMatchObject({ executed: false, after: { status: 'CANCELLED' } });
    expect(
      (
        (await database
          .db('debt_positions')
          .where({ external_id: `W-${cancelIuv}` })
          .first()) as { status: string }
      ).status,
    ).toBe('OPEN');
    const cancelled = await request(api)
      .post(`/ops/v1/positions/W-${cancelIuv}/cancel`)
      .set(OPERATOR)
      .send({ domain: DOMAIN, reason: 'duplicate', execute: true });
    expect(cancelled.body).toMatchObject({ executed: true, after: { status: 'CANCELLED' } });

    const credit = (await database
      .db('ledger_entries')
      .where({ card_account_id: card.accounts.SCHOOL_TRANSPORT, amount_cents: 4000 })
      .orderBy('id', 'desc')
      .first()) as { id: number };
    const reversed = await request(api)
      .post(`/ops/v1/ledger-entries/${credit.id}/reverse`)
      .set(OPERATOR)
      .send({ reason: 'credited the wrong card', execute: true });
    expect(reversed.body).toMatchObject({ created: true, amountCents: -4000 });
    expect(await balanceOf(database.db, card.accounts.SCHOOL_TRANSPORT)).toBe(transportBefore);
    const twice = await request(api)
      .post(`/ops/v1/ledger-entries/${credit.id}/reverse`)
      .set(OPERATOR)
      .send({ reason: 'again', execute: true });
    expect(twice.body).toMatchObject({
      created: false,
      reversalEntryId: reversed.body.reversalEntryId,
    });
    expect(await balanceOf(database.db, card.accounts.SCHOOL_TRANSPORT)).toBe(transportBefore);
    const reversalOfReversal = await request(api)
      .post(`/ops/v1/ledger-entries/${reversed.body.reversalEntryId}/reverse`)
      .set(OPERATOR)
      .send({ reason: 'x', execute: true });
    expect(reversalOfReversal.status).toBe(409);

    expect(
      (await auditOf(database.db, 'debt_position', `${DOMAIN}/W-${paidIuv}`)).map((a) => a.action),
    ).toEqual(['position.paid-outside']);
    expect(
      (await auditOf(database.db, 'debt_position', `${DOMAIN}/W-${cancelIuv}`)).map(
        (a) => a.action,
      ),
    ).toEqual(['position.cancel']);
    expect(await auditOf(database.db, 'ledger_entry', String(credit.id))).toEqual([
      { actor: 'api:demo-operator', action: 'ledger.reverse', reason: 'credited the wrong card' },
    ]);
  });

  test('webhooks: DEAD events are listed and redelivered (dry run first), audited', async () => {
    await database.db('outbox_events').insert({
      event_id: '6f1c2a8e-0000-4000-8000-00000000a001',
      type: 'receipt.failed',
      domain_id: DOMAIN,
      payload: JSON.stringify({ receiptId: 1 }),
      state: 'DEAD',
      attempts: 20,
      next_attempt_at: new Date(),
      last_error: 'HTTP 500',
      last_status: 500,
    });
    const listed = await request(api)
      .get('/ops/v1/webhooks')
      .query({ state: 'DEAD' })
      .set(OPERATOR);
    expect(listed.body.items.map((e: { eventId: string }) => e.eventId)).toContain(
      '6f1c2a8e-0000-4000-8000-00000000a001',
    );
    const dry = await request(api)
      .post('/ops/v1/webhooks/redeliver')
      .set(OPERATOR)
      .send({ state: 'DEAD', limit: 10, reason: 'ERP back' });
    expect(dry.body.executed).toBe(false);
    expect(
      (
        (await database
          .db('outbox_events')
          .where({ event_id: '6f1c2a8e-0000-4000-8000-00000000a001' })
          .first()) as { state: string }
      ).state,
    ).toBe('DEAD');
    const done = await request(api)
      .post('/ops/v1/webhooks/redeliver')
      .set(OPERATOR)
      .send({ eventId: '6f1c2a8e-0000-4000-8000-00000000a001', reason: 'ERP back', execute: true });
    expect(done.body.items).toHaveLength(1);
    expect(
      await auditOf(database.db, 'outbox_event', '6f1c2a8e-0000-4000-8000-00000000a001'),
    ).toEqual([{ actor: 'api:demo-operator', action: 'webhook.redeliver', reason: 'ERP back' }]);
  });

  test('jobs per queue and payments awaiting a receipt past the recovery delay', async () => {
    const iuv = nextIuv();
    await givenPositions(database.db, [
      {
        kind: 'TOP_UP',
        iuv,
        transfersCents: [900],
        cardId: card.cardId,
        account: 'CANTEEN',
        attemptAgeMs: 3 * 3_600_000,
      },
    ]);
    const awaiting = await request(api)
      .get('/ops/v1/payments/awaiting-receipt')
      .query({ olderThanMinutes: 60 })
      .set(OPERATOR);
    expect(awaiting.status).toBe(200);
    expect(awaiting.body.items.map((p: { iuv: string }) => p.iuv)).toContain(iuv);
    const fresh = await request(api)
      .get('/ops/v1/payments/awaiting-receipt')
      .query({ olderThanMinutes: 600 })
      .set(OPERATOR);
    expect(fresh.body.items.map((p: { iuv: string }) => p.iuv)).not.toContain(iuv);

    const jobs = await request(api).get('/ops/v1/jobs').set(OPERATOR);
    expect(jobs.status).toBe(200);
    expect(jobs.body.queues.map((q: { queue: string }) => q.queue)).toEqual([
      QUEUES.reconcile,
      QUEUES.billing,
    ]);
    expect(jobs.body.queues[0].counts).toHaveProperty('failed');
  });

  test('the audit trail lists and exports as CSV', async () => {
    const listed = await request(api)
      .get('/ops/v1/audit')
      .query({ actor: 'api:demo-operator', limit: 2 })
      .set(OPERATOR);
    expect(listed.status).toBe(200);
    expect(listed.body.items).toHaveLength(2);
    expect(listed.body.nextCursor).not.toBeNull();
    const csv = await request(api).get('/ops/v1/audit.csv').set(OPERATOR);
    expect(csv.status).toBe(200);
    expect(csv.headers['content-type']).toMatch(/^text\/csv/);
    const lines = csv.text.trimEnd().split('\r\n');
    expect(lines[0]).toBe(
      'id,occurred_at,actor,action,subject_type,subject_id,reason,before,after',
    );
    const total = (await database.db('audit_events').count({ n: '*' }).first()) as { n: number };
    expect(lines).toHaveLength(Number(total.n) + 1);
    expect(csv.text).toContain('"credited the wrong card"'.replace(/"/g, ''));
  });
});
