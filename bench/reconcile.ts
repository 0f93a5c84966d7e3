/**
 * Benchmark: receipts reconciled per second with the real stack (MariaDB, Redis, BullMQ, worker
 * processes started by the CLI as in production), next to the raw rate of single-row durable
 * inserts into MariaDB measured in the same run on the same server.
 *
 * Run: npx tsx bench/reconcile.ts [count, default 50000] [workers, default 2] [concurrency, default 16]
 *        [--from-source] (default: the compiled dist/, built first, as the image runs it)
 *
 * What it does: creates a scratch schema; measures autocommit single-row INSERTs into a scratch
 * table at the same total concurrency as the workers (each one a durable commit); stores `count`
 * top-up positions and their RECEIVED receipts (as the SOAP door would have); enqueues one job per
 * receipt; starts the worker processes and times the reconciliation from the first receipt
 * reconciled to the last. Prints the rates, processing-time percentiles of the last 1,000 jobs,
 * the peak RSS of each worker process, and checks that every receipt was credited exactly once.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Queue } from 'bullmq';
import { QUEUES, reconcileJobId } from '../src/adapters/queues';
import { createDb, ensureDatabase, migrateLatest, type Db } from '../src/data-access/db';
import { verifyBalances } from '../src/data-access/ledger-repository';
import { RECONCILE_JOB_NAME } from '../src/entry-points/soap/handlers/pa-send-rt';
import { cpuMs, pidOf, serviceScript } from './proc';
import { DOMAIN, givenCards, givenPositions, iuvFor, type GivenCard } from '../test/chaos/world';

const positional = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const count = Number(positional[0] ?? '50000');
const workers = Number(positional[1] ?? '2');
const concurrency = Number(positional[2] ?? '16');
const ROOT = path.resolve(__dirname, '..');
const SERVER_URL = process.env['BENCH_DATABASE_URL'] ?? 'mysql://root@127.0.0.1:3306';
const REDIS_URL = process.env['BENCH_REDIS_URL'] ?? 'redis://127.0.0.1:6379';
const AMOUNT_CENTS = 2500;

const say = (line: string): void => {
  process.stdout.write(`${line}\n`);
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function rssMb(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? '0');
    return Math.round(kb / 1024);
  } catch {
    return 0;
  }
}

const percentile = (sorted: number[], p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;

async function baselineInserts(db: Db, total: number, parallel: number): Promise<number> {
  await db.raw(
    'CREATE TABLE bench_scratch (id BIGINT AUTO_INCREMENT PRIMARY KEY, k VARCHAR(64) NOT NULL, v BIGINT NOT NULL) ENGINE=InnoDB',
  );
  let next = 0;
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (next < total) {
        const i = next++;
        await db('bench_scratch').insert({ k: `k${i}`, v: i });
      }
    }),
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return total / seconds;
}

async function seed(db: Db, run: number): Promise<{ receiptIds: number[]; iuvs: string[] }> {
  const cards: GivenCard[] = await givenCards(db, Math.max(1, Math.ceil(count / 10)), `b${run}`);
  const iuvs = Array.from({ length: count }, (_, i) => iuvFor(run, i));
  const ids = await givenPositions(
    db,
    iuvs.map((iuv, i) => {
      const card = cards[i % cards.length] as GivenCard;
      return {
        kind: 'TOP_UP' as const,
        iuv,
        transfersCents: [AMOUNT_CENTS],
        cardId: card.cardId,
        account: 'CANTEEN' as const,
      };
    }),
  );
  for (let start = 0; start < count; start += 1000) {
    await db('receipts').insert(
      iuvs.slice(start, start + 1000).map((iuv, j) => {
        const link = ids[start + j];
        return {
          domain_id: DOMAIN,
          iuv,
          receipt_key: `r-${iuv}`,
          source: 'PA_SEND_RT',
          notice_number: `3${iuv}`,
          broker_id: '80000000099',
          station_id: '80000000099_01',
          outcome: 'PAID',
          amount_cents: AMOUNT_CENTS,
          paid_at: new Date(),
          payload_hash: 'b'.repeat(64),
          raw_xml: '<bench/>',
          parsed: JSON.stringify({ iuv, transfers: [{ amountCents: AMOUNT_CENTS }] }),
          state: 'RECEIVED',
          debt_position_id: link?.positionId,
          payment_option_id: link?.optionId,
        };
      }),
    );
  }
  const rows = (await db('receipts').where('state', 'RECEIVED').select('id', 'iuv')) as {
    id: number;
    iuv: string;
  }[];
  return { receiptIds: rows.map((r) => Number(r.id)), iuvs: rows.map((r) => r.iuv) };
}

async function main(): Promise<void> {
  const run = Number.parseInt(randomBytes(2).toString('hex'), 16);
  const schema = `pagopa_bench_${randomBytes(4).toString('hex')}`;
  const url = `${SERVER_URL}/${schema}`;
  const prefix = `bench-${run}`;
  await ensureDatabase(url);
  const db = createDb({ url, poolMax: workers * concurrency });
  const queue = new Queue(QUEUES.reconcile, { connection: { url: REDIS_URL }, prefix });
  const children: ChildProcess[] = [];
  const script = serviceScript(ROOT);
  try {
    await migrateLatest(db);
    const total = workers * concurrency;
    const insertsPerSecond = await baselineInserts(db, Math.min(count, 10_000), total);
    say(
      `baseline: ${insertsPerSecond.toFixed(0)} single-row durable inserts/s (autocommit, ${total} connections)`,
    );

    const seedStart = Date.now();
    const { receiptIds, iuvs } = await seed(db, run);
    for (let start = 0; start < receiptIds.length; start += 1000) {
      await queue.addBulk(
        receiptIds.slice(start, start + 1000).map((receiptId, j) => ({
          name: RECONCILE_JOB_NAME,
          data: { receiptId },
          opts: {
            jobId: reconcileJobId({
              domainId: DOMAIN,
              iuv: iuvs[start + j] ?? '',
              receiptKey: `r-${iuvs[start + j] ?? ''}`,
            }),
            attempts: 8,
            backoff: { type: 'exponential', delay: 1000, jitter: 0.5 },
            removeOnComplete: 1000,
            removeOnFail: false,
          },
        })),
      );
    }
    say(`seeded ${receiptIds.length} receipts and jobs in ${Date.now() - seedStart} ms`);

    for (let i = 0; i < workers; i += 1) {
      const child = spawn(
        process.execPath,
        [
          // BENCH_WORKER_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" profiles the workers.
          ...(process.env['BENCH_WORKER_NODE_ARGS'] ?? '').split(' ').filter((a) => a !== ''),
          script,
          'serve',
          '--role',
          'worker',
        ],
        {
          cwd: ROOT,
          env: {
            PATH: process.env['PATH'] ?? '',
            HOME: process.env['HOME'] ?? '/tmp',
            NODE_ENV: 'development',
            LOG_LEVEL: 'warn',
            DATABASE_URL: url,
            DATABASE_MIGRATE_ON_START: 'false',
            DATABASE_POOL_MAX: String(concurrency + 4),
            REDIS_URL,
            QUEUE_PREFIX: prefix,
            RECONCILE_CONCURRENCY: String(concurrency),
            // The sweeper would only find receipts still waiting in the queue: kept out of the figure.
            SWEEPER_AGE_MS: '3600000',
            HTTP_PORT: '0',
            SOAP_PORT: '0',
          },
          stdio: ['ignore', 'ignore', 'inherit'],
        },
      );
      children.push(child);
    }

    // CPU charged to the receipts, per process, from the first receipt reconciled to the last.
    const servers = { mariadb: pidOf('mariadbd'), redis: pidOf('redis-server') };
    const cpuNow = (): number[] => [
      ...children.map((c) => cpuMs(c.pid)),
      cpuMs(servers.mariadb),
      cpuMs(servers.redis),
    ];
    let cpuAtFirst: number[] = [];
    let doneAtFirst = 0;
    let firstAt: number | undefined;
    let done = 0;
    const peakRss = children.map(() => 0);
    const deadline = Date.now() + Math.max(120_000, count * 20);
    while (Date.now() < deadline) {
      // Progress from the queue's counters (a few Redis reads): counting receipts in MariaDB five
      // times a second would charge the scan of up to 50,000 index entries to the figure.
      // The end state is checked in MariaDB below.
      const left = await queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized');
      done = count - Object.values(left).reduce((sum, n) => sum + n, 0);
      if (done > 0 && firstAt === undefined) {
        firstAt = Date.now();
        cpuAtFirst = cpuNow();
        doneAtFirst = done;
      }
      children.forEach((c, i) => (peakRss[i] = Math.max(peakRss[i] ?? 0, rssMb(c.pid))));
      if (done >= count) break;
      await sleep(200);
    }
    const seconds = (Date.now() - (firstAt ?? Date.now())) / 1000;
    const cpuUsed = cpuNow().map((ms, i) => ms - (cpuAtFirst[i] ?? 0));
    const charged = Math.max(1, done - doneAtFirst);

    const completed = await queue.getCompleted(0, 999);
    const processing = completed
      .map((j) => (j.finishedOn ?? 0) - (j.processedOn ?? 0))
      .filter((ms) => ms >= 0)
      .sort((a, b) => a - b);
    const states = (await db('receipts').groupBy('state').select('state').count({ n: '*' })) as {
      state: string;
      n: number | string;
    }[];
    const entries = (await db('ledger_entries').count({ n: '*' }).first()) as {
      n: number | string;
    };
    const doubled = (await db('ledger_entries')
      .groupBy('idempotency_key')
      .having(db.raw('COUNT(*) > 1'))
      .select('idempotency_key')) as unknown[];
    const verify = await verifyBalances(db);

    say(`states: ${states.map((s) => `${s.state}=${s.n}`).join(' ')}`);
    say(
      `ledger entries=${entries.n} doubled=${doubled.length} balance mismatches=${verify.mismatches.length}`,
    );
    say(
      `job processing time (last ${processing.length} jobs): p50=${percentile(processing, 50)} ms p99=${percentile(processing, 99)} ms`,
    );
    say(`worker peak RSS: ${peakRss.map((mb) => `${mb} MB`).join(', ')}`);
    const perReceipt = (ms: number | undefined): string => `${((ms ?? 0) / charged).toFixed(2)} ms`;
    say(
      `CPU per receipt: workers ${children.map((_, i) => perReceipt(cpuUsed[i])).join(' + ')}, ` +
        `MariaDB ${perReceipt(cpuUsed[children.length])}, Redis ${perReceipt(cpuUsed[children.length + 1])}` +
        ` (${os.cpus().length} cores)`,
    );
    const rate = seconds > 0 ? done / seconds : NaN;
    say(
      `reconciled ${done}/${count} receipts in ${seconds.toFixed(1)} s = ${rate.toFixed(0)} receipts/s (${workers} workers x ${concurrency}); baseline ${insertsPerSecond.toFixed(0)} inserts/s; ratio ${(rate / insertsPerSecond).toFixed(2)}`,
    );
    if (done < count || doubled.length > 0 || verify.mismatches.length > 0) process.exitCode = 1;
  } finally {
    for (const child of children) child.kill('SIGTERM');
    await Promise.all(
      children.map((c) => new Promise((r) => (c.exitCode !== null ? r(null) : c.once('exit', r)))),
    );
    await queue.obliterate({ force: true }).catch(() => undefined);
    await queue.close();
    await db.raw(`DROP DATABASE IF EXISTS \`${schema}\``);
    await db.destroy();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
