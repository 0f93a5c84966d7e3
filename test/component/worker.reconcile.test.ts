import { RECONCILE_JOB_NAME } from '../../src/entry-points/soap/handlers/pa-send-rt';
import { receiptHistory } from '../../src/data-access/receipts-repository';
import { Queue } from 'bullmq';
import { QUEUES, reconcileJobId } from '../../src/adapters/queues';
import type { Db } from '../../src/data-access/db';
import { verifyBalances } from '../../src/data-access/ledger-repository';
import { createTestDatabase } from '../helpers/db';
import { eventually, startTestService, testConfig } from '../helpers/service';
import {
  DOMAIN,
  givenCards,
  givenPositions,
  iuvFor,
  paaInviaRtXml,
  paSendRtXml,
  postSoap,
  rtDocument,
  type GivenCard,
} from '../chaos/world';

/**
 * The reconciliation worker with a real queue and MariaDB: receipts go in through the SOAP doors
 * of a service running every role, and the worker's effects are read back from the database.
 */

const QUEUE_PREFIX = `t-reconcile-${process.pid}`;
const RUN = process.pid;

type Service = Awaited<ReturnType<typeof startTestService>>;

let seq = 0;
const nextIuv = (): string => iuvFor(RUN, ++seq);

const balance = async (db: Db, accountId: number): Promise<number> => {
  const row = (await db('card_accounts').where({ id: accountId }).first('balance_cents')) as {
    balance_cents: number | string;
  };
  return Number(row.balance_cents);
};

const receiptOf = async (db: Db, iuv: string) =>
  (await db('receipts').where({ iuv }).first()) as
    { id: number; state: string; state_reason: string | null } | undefined;

const settled = (db: Db, iuv: string): Promise<boolean> =>
  eventually(async () => {
    const r = await receiptOf(db, iuv);
    return r !== undefined && r.state !== 'RECEIVED';
  }, 15_000);

const eventsFor = async (db: Db, receiptId: number, type: string) => {
  const rows = (await db('outbox_events').where({ type }).select('payload')) as {
    payload: string | Record<string, unknown>;
  }[];
  return rows
    .map((r) =>
      typeof r.payload === 'string'
        ? (JSON.parse(r.payload) as Record<string, unknown>)
        : r.payload,
    )
    .filter((p) => p['receiptId'] === receiptId);
};

describe('reconciliation worker', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let service: Service;
  let queue: Queue;
  let paForNode: string;
  let paPerNodo: string;
  let card: GivenCard;

  beforeAll(async () => {
    database = await createTestDatabase('worker_reconcile');
    service = await startTestService(
      testConfig({
        DATABASE_URL: database.url,
        DATABASE_MIGRATE_ON_START: 'false',
        QUEUE_PREFIX,
        RECONCILE_BACKOFF_BASE_MS: '100',
      }),
      'all',
    );
    paForNode = `http://127.0.0.1:${service.ports.soap}/pagopa/paForNode`;
    paPerNodo = `http://127.0.0.1:${service.ports.soap}/pagopa/PaPerNodo`;
    queue = new Queue(QUEUES.reconcile, {
      connection: { host: '127.0.0.1', port: 6379, maxRetriesPerRequest: 1 },
      prefix: QUEUE_PREFIX,
    });
    [card] = (await givenCards(database.db, 1, `wr${RUN}`)) as [GivenCard];
  });

  afterAll(async () => {
    await service.stop();
    await queue.obliterate({ force: true });
    await queue.close();
    await database.drop();
  });

  test('a top-up receipt credits the card once, pays the attempt and tells the ERP', async () => {
    const iuv = nextIuv();
    await givenPositions(database.db, [
      { kind: 'TOP_UP', iuv, transfersCents: [2500], cardId: card.cardId, account: 'CANTEEN' },
    ]);
    const before = await balance(database.db, card.accounts.CANTEEN);

    const res = await postSoap(
      paForNode,
      paSendRtXml({ iuv, receiptId: `r-${iuv}`, transfersCents: [2500] }),
    );

    expect(res.ok).toBe(true);
    expect(await settled(database.db, iuv)).toBe(true);
    const receipt = await receiptOf(database.db, iuv);
    expect(receipt?.state).toBe('RECONCILED');
    expect(await balance(database.db, card.accounts.CANTEEN)).toBe(before + 2500);
    const entries = (await database.db('ledger_entries').where({
      card_account_id: card.accounts.CANTEEN,
      idempotency_key: `receipt:${
        (
          (await database
            .db('debt_positions')
            .where({ external_id: `W-${iuv}` })
            .first('id')) as { id: number }
        ).id
      }:${DOMAIN}/${iuv}/r-${iuv}`,
    })) as { id: number; kind: string }[];
    expect(entries).toHaveLength(1);
    expect(entries[0]?.kind).toBe('TOP_UP');
    const attempt = (await database
      .db('payment_attempts')
      .where({ payment_id: `att-${iuv}` })
      .first()) as {
      status: string;
    };
    expect(attempt.status).toBe('PAID');
    const events = await eventsFor(database.db, receipt!.id, 'payment.reconciled');
    expect(events).toEqual([
      expect.objectContaining({
        channel: 'PAGOPA',
        amountCents: 2500,
        iuv,
        account: 'CANTEEN',
        ledgerEntryId: Number(entries[0]?.id),
      }),
    ]);
  });

  test('the same receipt pushed twice and its job replayed twice posts one set of entries', async () => {
    const iuv = nextIuv();
    await givenPositions(database.db, [
      {
        kind: 'TOP_UP',
        iuv,
        transfersCents: [1200],
        cardId: card.cardId,
        account: 'NURSERY_MEALS',
      },
    ]);
    const xml = paSendRtXml({ iuv, receiptId: `r-${iuv}`, transfersCents: [1200] });
    const before = await balance(database.db, card.accounts.NURSERY_MEALS);

    const [first, second] = await Promise.all([postSoap(paForNode, xml), postSoap(paForNode, xml)]);
    expect(first.ok && second.ok).toBe(true);
    expect(await settled(database.db, iuv)).toBe(true);
    const jobId = reconcileJobId({ domainId: DOMAIN, iuv, receiptKey: `r-${iuv}` });
    for (let replay = 0; replay < 2; replay += 1) {
      const job = await queue.getJob(jobId);
      expect(await job?.getState()).toBe('completed');
      await job?.retry('completed');
      expect(
        await eventually(async () => (await queue.getJobState(jobId)) === 'completed', 10_000),
      ).toBe(true);
    }
    expect((await postSoap(paForNode, xml)).ok).toBe(true);

    const receipt = await receiptOf(database.db, iuv);
    expect(await balance(database.db, card.accounts.NURSERY_MEALS)).toBe(before + 1200);
    const entries = await database
      .db('ledger_entries')
      .where({ card_account_id: card.accounts.NURSERY_MEALS })
      .where('idempotency_key', 'like', `%/${iuv}/%`);
    expect(entries).toHaveLength(1);
    expect(await eventsFor(database.db, receipt!.id, 'payment.reconciled')).toHaveLength(1);
    const history = await receiptHistory(database.db, Number(receipt!.id));
    expect(history.map((line) => line.toState)).toEqual(['RECEIVED', 'RECONCILED']);
  });

  test('a partial RT (outcome 2) credits only the paid transfer of a transport month', async () => {
    const iuv = nextIuv();
    const ccp = `ccp-${iuv}`;
    await givenPositions(database.db, [
      {
        kind: 'DEBT',
        iuv,
        transfersCents: [2000, 1000],
        cardId: card.cardId,
        account: 'SCHOOL_TRANSPORT',
        ccp,
      },
    ]);
    const before = await balance(database.db, card.accounts.SCHOOL_TRANSPORT);

    const res = await postSoap(
      paPerNodo,
      paaInviaRtXml(rtDocument({ iuv, ccp, outcome: 2, linesCents: [0, 1000] })),
    );

    expect(res.ok).toBe(true);
    expect(await settled(database.db, iuv)).toBe(true);
    expect(await receiptOf(database.db, iuv)).toMatchObject({
      state: 'RECONCILED',
      state_reason: null,
    });
    expect(await balance(database.db, card.accounts.SCHOOL_TRANSPORT)).toBe(before + 1000);
    const option = (await database.db('payment_options').where({ iuv }).first()) as {
      status: string;
      paid_amount_cents: number;
    };
    expect(option).toMatchObject({ status: 'UNPAID', paid_amount_cents: 1000 });
    const position = (await database
      .db('debt_positions')
      .where({ external_id: `W-${iuv}` })
      .first()) as {
      status: string;
    };
    expect(position.status).toBe('PARTIALLY_PAID');
  });

  test.each([1, 3] as const)(
    'an RT with outcome %i credits nothing and closes the attempt',
    async (outcome) => {
      const iuv = nextIuv();
      const ccp = `ccp-${iuv}`;
      await givenPositions(database.db, [
        {
          kind: 'TOP_UP',
          iuv,
          transfersCents: [1500],
          cardId: card.cardId,
          account: 'CANTEEN',
          ccp,
        },
      ]);
      const before = await balance(database.db, card.accounts.CANTEEN);

      const res = await postSoap(
        paPerNodo,
        paaInviaRtXml(rtDocument({ iuv, ccp, outcome, linesCents: [] })),
      );

      expect(res.ok).toBe(true);
      expect(await settled(database.db, iuv)).toBe(true);
      const receipt = await receiptOf(database.db, iuv);
      expect(receipt?.state).toBe('RECONCILED');
      expect(await balance(database.db, card.accounts.CANTEEN)).toBe(before);
      const attempt = (await database
        .db('payment_attempts')
        .where({ payment_id: `att-${iuv}` })
        .first()) as {
        status: string;
      };
      expect(attempt.status).toBe('NOT_PAID');
      expect(await eventsFor(database.db, receipt!.id, 'payment.reconciled')).toHaveLength(0);
      expect(
        ((await database.db('payment_options').where({ iuv }).first()) as { status: string })
          .status,
      ).toBe('UNPAID');
    },
  );

  test('an overpayment is FAILED with a reason, credits nothing and tells the ERP', async () => {
    const iuv = nextIuv();
    await givenPositions(database.db, [
      { kind: 'TOP_UP', iuv, transfersCents: [3000], cardId: card.cardId, account: 'CANTEEN' },
    ]);
    const before = await balance(database.db, card.accounts.CANTEEN);

    const res = await postSoap(
      paForNode,
      paSendRtXml({ iuv, receiptId: `r-${iuv}`, transfersCents: [3500] }),
    );

    expect(res.ok).toBe(true);
    expect(await settled(database.db, iuv)).toBe(true);
    const receipt = await receiptOf(database.db, iuv);
    expect(receipt?.state).toBe('FAILED');
    expect(receipt?.state_reason).toMatch(/^overpayment: paid 3500 cents .* 3000 cents were due/);
    expect(await balance(database.db, card.accounts.CANTEEN)).toBe(before);
    expect(await eventsFor(database.db, receipt!.id, 'receipt.failed')).toEqual([
      expect.objectContaining({ reason: 'overpayment', state: 'FAILED', amountCents: 3500 }),
    ]);
    // The job itself succeeded: the decision is recorded on the receipt, not retried.
    const jobId = reconcileJobId({ domainId: DOMAIN, iuv, receiptKey: `r-${iuv}` });
    expect(await queue.getJobState(jobId)).toBe('completed');
  });

  test('a payment of a cancelled position is FAILED with a reason', async () => {
    const iuv = nextIuv();
    await givenPositions(database.db, [
      { kind: 'DEBT', iuv, transfersCents: [4000], status: 'CANCELLED' },
    ]);

    const res = await postSoap(
      paForNode,
      paSendRtXml({ iuv, receiptId: `r-${iuv}`, transfersCents: [4000] }),
    );

    expect(res.ok).toBe(true);
    expect(await settled(database.db, iuv)).toBe(true);
    const receipt = await receiptOf(database.db, iuv);
    expect(receipt).toMatchObject({ state: 'FAILED' });
    expect(receipt?.state_reason).toMatch(/^position-cancelled: /);
  });

  test('a receipt whose ledger entry already exists is applied step by step and credits nothing twice', async () => {
    const iuv = nextIuv();
    await givenPositions(database.db, [
      { kind: 'TOP_UP', iuv, transfersCents: [1300], cardId: card.cardId, account: 'CANTEEN' },
    ]);
    const res = await postSoap(
      paForNode,
      paSendRtXml({ iuv, receiptId: `r-${iuv}`, transfersCents: [1300] }),
    );
    expect(res.ok).toBe(true);
    expect(await settled(database.db, iuv)).toBe(true);
    const after = await balance(database.db, card.accounts.CANTEEN);
    const receipt = (await receiptOf(database.db, iuv))!;
    const first = (await database
      .db('ledger_entries')
      .where({
        debt_position_id: (
          (await database.db('receipts').where({ id: receipt.id }).first('debt_position_id')) as {
            debt_position_id: number;
          }
        ).debt_position_id,
      })
      .select('id')) as { id: number }[];
    expect(first).toHaveLength(1);

    // A hand-edited database: the receipt and its position put back as if never applied, while
    // the ledger keeps its entry. The one-block write hits the ledger's unique key, and the
    // step-by-step path answers the existing entry instead of posting a second one.
    await database.db.transaction(async (trx) => {
      const { debt_position_id: positionId } = (await trx('receipts')
        .where({ id: receipt.id })
        .first('debt_position_id')) as { debt_position_id: number };
      await trx('receipts').where({ id: receipt.id }).update({ state: 'RECEIVED' });
      await trx('debt_positions').where({ id: positionId }).update({ status: 'OPEN' });
      await trx('payment_options')
        .where({ debt_position_id: positionId })
        .update({ status: 'UNPAID', paid_amount_cents: 0, paid_at: null });
    });
    await queue.add(
      RECONCILE_JOB_NAME,
      { receiptId: receipt.id },
      { jobId: `replay-${receipt.id}`, attempts: 1 },
    );

    expect(await settled(database.db, iuv)).toBe(true);
    expect(await receiptOf(database.db, iuv)).toMatchObject({
      state: 'RECONCILED',
      state_reason: null,
    });
    expect(await balance(database.db, card.accounts.CANTEEN)).toBe(after);
    const events = await eventsFor(database.db, receipt.id, 'payment.reconciled');
    expect(events.map((e) => e['ledgerEntryId'])).toEqual([first[0]?.id, first[0]?.id]);
  });

  test('every balance still equals the sum of its entries', async () => {
    expect((await verifyBalances(database.db)).mismatches).toEqual([]);
  });
});
