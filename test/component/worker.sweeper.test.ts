import { Queue } from 'bullmq';
import { QUEUES, reconcileJobId } from '../../src/adapters/queues';
import { createLogger } from '../../src/shared/logger';
import { sweepOnce } from '../../src/entry-points/worker/sweeper';
import { RECONCILE_JOB_NAME } from '../../src/entry-points/soap/handlers/pa-send-rt';
import { createTestDatabase } from '../helpers/db';
import { DOMAIN, givenPositions, iuvFor } from '../chaos/world';

/**
 * The sweeper against the real MariaDB and Redis: receipts left RECEIVED without a job (Redis was
 * down at intake) get one; two sweepers at once enqueue each receipt once; a job that stalled too
 * often is retried, one that failed for a reason is left to operators.
 */

const QUEUE_PREFIX = `t-sweeper-${process.pid}`;
const logger = createLogger('silent');

describe('sweeper', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let queue: Queue;
  let seq = 0;

  /** A RECEIVED receipt whose received_at and updated_at lie `ageMs` in the past. */
  async function givenStoredReceipt(
    ageMs: number,
  ): Promise<{ id: number; iuv: string; jobId: string }> {
    const iuv = iuvFor(process.pid, ++seq);
    const [link] = await givenPositions(database.db, [
      { kind: 'DEBT', iuv, transfersCents: [1000] },
    ]);
    const at = new Date(Date.now() - ageMs);
    const [id] = (await database.db('receipts').insert({
      domain_id: DOMAIN,
      iuv,
      receipt_key: `r-${iuv}`,
      source: 'PA_SEND_RT',
      outcome: 'PAID',
      amount_cents: 1000,
      payload_hash: 'h'.repeat(64),
      raw_xml: '<x/>',
      parsed: '{}',
      state: 'RECEIVED',
      debt_position_id: link?.positionId,
      payment_option_id: link?.optionId,
      received_at: at,
      updated_at: at,
    })) as number[];
    return {
      id: Number(id),
      iuv,
      jobId: reconcileJobId({ domainId: DOMAIN, iuv, receiptKey: `r-${iuv}` }),
    };
  }

  beforeAll(async () => {
    database = await createTestDatabase('worker_sweeper');
    queue = new Queue(QUEUES.reconcile, {
      connection: { host: '127.0.0.1', port: 6379, maxRetriesPerRequest: 1 },
      prefix: QUEUE_PREFIX,
    });
  });

  afterEach(async () => {
    await queue.obliterate({ force: true });
  });

  afterAll(async () => {
    await queue.close();
    await database.drop();
  });

  const deps = () => ({ db: database.db, queue, logger, intervalMs: 1_000, ageMs: 30_000 });

  test('a stale RECEIVED receipt without a job gets one under its business-key job id; a fresh one is left alone', async () => {
    const stale = await givenStoredReceipt(60_000);
    const fresh = await givenStoredReceipt(1_000);

    const result = await sweepOnce(deps());

    expect(result).toMatchObject({ claimed: 1, enqueued: 1 });
    const job = await queue.getJob(stale.jobId);
    expect(job?.data).toEqual({ receiptId: stale.id });
    expect(await queue.getJobState(fresh.jobId)).toBe('unknown');
    // Claimed receipts are stamped: the next sweep does not take them again at once.
    expect((await sweepOnce(deps())).claimed).toBe(0);
  });

  test('two sweepers running at once enqueue each receipt exactly once', async () => {
    const receipts = await Promise.all(
      Array.from({ length: 20 }, () => givenStoredReceipt(60_000)),
    );

    const [a, b] = await Promise.all([sweepOnce(deps()), sweepOnce(deps())]);

    expect((a?.claimed ?? 0) + (b?.claimed ?? 0)).toBe(20);
    const counts = await queue.getJobCounts('waiting');
    expect(counts['waiting']).toBe(20);
    for (const r of receipts) expect(await queue.getJobState(r.jobId)).toBe('waiting');
  });

  test('a job failed by stalling is retried; a job failed for a reason is left to operators', async () => {
    const stalled = await givenStoredReceipt(60_000);
    const broken = await givenStoredReceipt(60_000);
    for (const r of [stalled, broken]) {
      await queue.add(RECONCILE_JOB_NAME, { receiptId: r.id }, { jobId: r.jobId });
    }
    // Fail both jobs the way BullMQ would, with their failure reasons.
    const { Worker } = await import('bullmq');
    const worker = new Worker(
      QUEUES.reconcile,
      (job) => {
        throw new Error(
          job.id === stalled.jobId ? 'job stalled more than allowable limit' : 'amount-mismatch: x',
        );
      },
      {
        connection: { host: '127.0.0.1', port: 6379, maxRetriesPerRequest: null },
        prefix: QUEUE_PREFIX,
      },
    );
    await new Promise<void>((resolve) => {
      let failed = 0;
      worker.on('failed', () => {
        failed += 1;
        if (failed === 2) resolve();
      });
    });
    await worker.close();

    const result = await sweepOnce(deps());

    expect(result).toMatchObject({ claimed: 2, retried: 1, failed: 1 });
    expect(await queue.getJobState(stalled.jobId)).toBe('waiting');
    expect(await queue.getJobState(broken.jobId)).toBe('failed');
  });
});
