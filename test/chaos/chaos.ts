/**
 * The chaos run: receipts through the SOAP door of two `soap` processes, reconciled by two
 * `worker` processes, while workers are SIGKILLed and restarted, and Redis and MariaDB are cut
 * and restored (through TCP proxies in front of the machine's real servers, which other tests use
 * at the same time). Then it waits and proves that nothing was lost or doubled.
 *
 * Run: npm run test:chaos  (npx tsx test/chaos/chaos.ts [receipts, default 5000])
 * The last line is `receipts=N lost=0 doubled=0`; the exit code is 0 only when both are 0 and
 * every other check passed. A smaller run is test/component/worker.chaos-small.test.ts.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import path from 'node:path';
import { Queue } from 'bullmq';
import { QUEUES } from '../../src/adapters/queues';
import { createDb, ensureDatabase, migrateLatest, type Db } from '../../src/data-access/db';
import { TcpProxy } from '../helpers/tcp-proxy';
import { givenCards, givenPositions, iuvFor, paSendRtXml, postSoap, type GivenCard } from './world';

const ROOT = path.resolve(__dirname, '..', '..');
const SERVER = { host: '127.0.0.1', mariadb: 3306, redis: 6379 };

export type ChaosOptions = {
  receipts: number;
  /** Share of receipts sent a second time, identical (0.3 = 30 %). */
  resendShare: number;
  workerKills: number;
  redisCuts: number;
  mariadbCuts: number;
  outageMs: number;
  /** How long to wait for the last receipts after sending. */
  settleTimeoutMs: number;
  log: (line: string) => void;
};

export type ChaosResult = {
  receipts: number;
  answeredOk: number;
  lost: number;
  doubled: number;
  failedWithoutReason: number;
  balanceMismatches: number;
  ledgerVerifyExit: number | null;
  states: Record<string, number>;
};

const say = (line: string): void => {
  process.stdout.write(`${line}\n`);
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise((r) => server.close(r));
  return port;
}

function shuffle<T>(items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i -= 1) {
    const j = Math.floor(Math.random() * (i + 1));
    [items[i], items[j]] = [items[j] as T, items[i] as T];
  }
  return items;
}

function spawnRole(role: 'soap' | 'worker', env: Record<string, string>): ChildProcess {
  const child = spawn(
    process.execPath,
    [path.join(ROOT, 'bin', 'pagopa-adapter.js'), 'serve', '--role', role],
    {
      cwd: ROOT,
      env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '/tmp', ...env },
      stdio: ['ignore', 'ignore', 'ignore'],
    },
  );
  return child;
}

async function waitExit(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

async function waitReady(port: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const ok = await fetch(`http://127.0.0.1:${port}/health/live`)
      .then((r) => r.status === 200)
      .catch(() => false);
    if (ok) return true;
    await sleep(200);
  }
  return false;
}

/** Runs one chaos scenario on a fresh schema and queue prefix; cleans up after itself. */
export async function runChaos(options: ChaosOptions): Promise<ChaosResult> {
  const { log } = options;
  const run = Number.parseInt(randomBytes(2).toString('hex'), 16);
  const schema = `pagopa_chaos_${randomBytes(4).toString('hex')}`;
  const mariadbProxy = new TcpProxy(SERVER.host, SERVER.mariadb);
  const redisProxy = new TcpProxy(SERVER.host, SERVER.redis);
  await mariadbProxy.start();
  await redisProxy.start();
  const directUrl = `mysql://root@127.0.0.1:${SERVER.mariadb}/${schema}`;
  await ensureDatabase(directUrl);
  const db: Db = createDb({ url: directUrl, poolMax: 10 });
  const prefix = `chaos-${run}`;
  const children = new Set<ChildProcess>();
  const env = {
    NODE_ENV: 'development',
    LOG_LEVEL: 'silent',
    DATABASE_URL: `mysql://root@127.0.0.1:${mariadbProxy.port}/${schema}`,
    DATABASE_MIGRATE_ON_START: 'false',
    REDIS_URL: `redis://127.0.0.1:${redisProxy.port}`,
    QUEUE_PREFIX: prefix,
    RECONCILE_BACKOFF_BASE_MS: '200',
    RECONCILE_ATTEMPTS_MAX: '10',
    SWEEPER_INTERVAL_MS: '2000',
    SWEEPER_AGE_MS: '4000',
    HTTP_PORT: '0',
    SHUTDOWN_TIMEOUT_MS: '5000',
  };
  try {
    await migrateLatest(db);
    const cards = await givenCards(db, Math.max(1, Math.ceil(options.receipts / 5)), `x${run}`);
    const receipts = Array.from({ length: options.receipts }, (_, i) => {
      const card = cards[i % cards.length] as GivenCard;
      return {
        iuv: iuvFor(run, i),
        cents: 500 + Math.floor(Math.random() * 4500),
        card,
      };
    });
    await givenPositions(
      db,
      receipts.map((r) => ({
        kind: 'TOP_UP' as const,
        iuv: r.iuv,
        transfersCents: [r.cents],
        cardId: r.card.cardId,
        account: 'CANTEEN' as const,
      })),
    );

    const soapPorts = [await freePort(), await freePort()];
    for (const port of soapPorts) {
      const child = spawnRole('soap', { ...env, SOAP_PORT: String(port) });
      children.add(child);
    }
    const workerProcs: ChildProcess[] = [];
    const startWorker = (): ChildProcess => {
      const child = spawnRole('worker', env);
      children.add(child);
      workerProcs.push(child);
      return child;
    };
    startWorker();
    startWorker();
    for (const port of soapPorts) {
      if (!(await waitReady(port, 60_000))) throw new Error(`soap on ${port} did not start`);
    }
    log(`started 2 soap (${soapPorts.join(', ')}) and 2 worker processes; schema ${schema}`);

    // Every receipt once, 30 % of them twice, all shuffled: resends and out of order.
    const sends = shuffle([
      ...receipts.map((_, i) => i),
      ...receipts.slice(0, Math.floor(receipts.length * options.resendShare)).map((_, i) => i),
    ]);
    const okByIuv = new Set<string>();
    const events: { at: number; run: () => Promise<void> }[] = [];
    const at = (share: number) => Math.floor(sends.length * share);
    for (let k = 0; k < options.workerKills; k += 1) {
      events.push({
        at: at((k + 1) / (options.workerKills + 1) - 0.05),
        run: async () => {
          const victim = workerProcs.find((c) => c.exitCode === null && c.signalCode === null);
          if (victim === undefined) return;
          victim.kill('SIGKILL');
          await waitExit(victim);
          startWorker();
          log(`SIGKILLed worker ${victim.pid ?? '?'} and started another`);
        },
      });
    }
    const outage = (proxy: TcpProxy, name: string) => async () => {
      await proxy.cut();
      log(`${name} cut`);
      await sleep(options.outageMs);
      await proxy.restore();
      log(`${name} restored after ${options.outageMs} ms`);
    };
    for (let k = 0; k < options.redisCuts; k += 1) {
      events.push({ at: at(0.35 + k * 0.1), run: outage(redisProxy, 'redis') });
    }
    for (let k = 0; k < options.mariadbCuts; k += 1) {
      events.push({ at: at(0.6 + k * 0.1), run: outage(mariadbProxy, 'mariadb') });
    }
    events.sort((a, b) => a.at - b.at);

    let next = 0;
    let sent = 0;
    const background: Promise<void>[] = [];
    const sendOne = async (index: number): Promise<void> => {
      const r = receipts[index];
      if (r === undefined) return;
      const xml = paSendRtXml({ iuv: r.iuv, receiptId: `r-${r.iuv}`, transfersCents: [r.cents] });
      // Like the node: a KO or no answer is retried a few times, a little later.
      for (let attempt = 0; attempt < 6; attempt += 1) {
        const port = soapPorts[(index + attempt) % soapPorts.length] as number;
        const res = await postSoap(`http://127.0.0.1:${port}/pagopa/paForNode`, xml).catch(() => ({
          ok: false,
          text: '',
        }));
        if (res.ok) {
          okByIuv.add(r.iuv);
          return;
        }
        await sleep(500 + attempt * 500);
      }
    };
    const started = Date.now();
    await Promise.all(
      Array.from({ length: 24 }, async () => {
        while (next < sends.length) {
          const i = next++;
          while (events.length > 0 && (events[0]?.at ?? Infinity) <= sent) {
            const event = events.shift();
            if (event !== undefined) background.push(event.run());
          }
          await sendOne(sends[i] as number);
          sent += 1;
        }
      }),
    );
    await Promise.all(background);
    log(
      `sent ${sends.length} requests in ${Date.now() - started} ms; ${okByIuv.size}/${receipts.length} receipts answered OK`,
    );

    // Wait for the answered receipts to leave RECEIVED (stalled jobs come back after the lock).
    const deadline = Date.now() + options.settleTimeoutMs;
    let pending = Infinity;
    while (Date.now() < deadline) {
      const row = (await db('receipts').where('state', 'RECEIVED').count({ n: '*' }).first()) as {
        n: number | string;
      };
      pending = Number(row.n);
      if (pending === 0) break;
      await sleep(1000);
    }
    log(`receipts still RECEIVED after waiting: ${pending}`);

    const rows = (await db('receipts').select(
      'iuv',
      'state',
      'state_reason',
      'amount_cents',
      'debt_position_id',
    )) as {
      iuv: string;
      state: string;
      state_reason: string | null;
      amount_cents: number | string;
      debt_position_id: number | string | null;
    }[];
    const byIuv = new Map(rows.map((r) => [r.iuv, r]));
    let lost = 0;
    let failedWithoutReason = 0;
    for (const iuv of okByIuv) {
      const row = byIuv.get(iuv);
      if (row === undefined || (row.state !== 'RECONCILED' && row.state !== 'FAILED')) lost += 1;
      if (row?.state === 'FAILED' && (row.state_reason ?? '') === '') failedWithoutReason += 1;
    }
    const states: Record<string, number> = {};
    for (const r of rows) states[r.state] = (states[r.state] ?? 0) + 1;

    // Doubled: a key posted twice (impossible by the unique index), or a receipt with 2+ entries.
    const doubledKeys = (await db('ledger_entries')
      .groupBy('idempotency_key')
      .having(db.raw('COUNT(*) > 1'))
      .select('idempotency_key')) as unknown[];
    const perPosition = (await db('ledger_entries')
      .whereNotNull('debt_position_id')
      .groupBy('debt_position_id')
      .having(db.raw('COUNT(*) > 1'))
      .select('debt_position_id')) as unknown[];
    const doubled = doubledKeys.length + perPosition.length;

    // Each card's balance equals the receipts reconciled for it minus its charges (none here).
    const expected = (await db('receipts as r')
      .join('debt_positions as p', 'p.id', 'r.debt_position_id')
      .join('card_accounts as a', function () {
        this.on('a.card_id', '=', 'p.card_id').andOn('a.account', '=', 'p.account');
      })
      .where('r.state', 'RECONCILED')
      .groupBy('a.id')
      .select('a.id')
      .sum({ credited: 'r.amount_cents' })) as { id: number; credited: number | string }[];
    const charges = (await db('ledger_entries')
      .where('amount_cents', '<', 0)
      .groupBy('card_account_id')
      .select('card_account_id')
      .sum({ charged: 'amount_cents' })) as { card_account_id: number; charged: number | string }[];
    const chargedOf = new Map(charges.map((c) => [Number(c.card_account_id), Number(c.charged)]));
    const balances = (await db('card_accounts').select('id', 'balance_cents')) as {
      id: number;
      balance_cents: number | string;
    }[];
    const expectedOf = new Map(expected.map((e) => [Number(e.id), Number(e.credited)]));
    const balanceMismatches = balances.filter(
      (b) =>
        Number(b.balance_cents) !==
        (expectedOf.get(Number(b.id)) ?? 0) + (chargedOf.get(Number(b.id)) ?? 0),
    ).length;

    const verify = spawn(
      process.execPath,
      [path.join(ROOT, 'bin', 'pagopa-adapter.js'), 'ledger', 'verify'],
      {
        cwd: ROOT,
        env: {
          PATH: process.env['PATH'] ?? '',
          HOME: process.env['HOME'] ?? '/tmp',
          LOG_LEVEL: 'silent',
          DATABASE_URL: directUrl,
        },
        stdio: ['ignore', 'ignore', 'ignore'],
      },
    );
    const ledgerVerifyExit = await waitExit(verify);
    log(
      `states ${JSON.stringify(states)}; failed without reason ${failedWithoutReason}; balance mismatches ${balanceMismatches}; ledger verify exit ${String(ledgerVerifyExit)}`,
    );
    return {
      receipts: options.receipts,
      answeredOk: okByIuv.size,
      lost,
      doubled,
      failedWithoutReason,
      balanceMismatches,
      ledgerVerifyExit,
      states,
    };
  } finally {
    await mariadbProxy.restore().catch(() => undefined);
    await redisProxy.restore().catch(() => undefined);
    for (const child of children) {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    }
    await Promise.all([...children].map(waitExit));
    const queue = new Queue(QUEUES.reconcile, {
      connection: { host: SERVER.host, port: SERVER.redis },
      prefix,
    });
    await queue.obliterate({ force: true }).catch(() => undefined);
    await queue.close();
    await db.raw(`DROP DATABASE IF EXISTS \`${schema}\``).catch(() => undefined);
    await db.destroy();
    await mariadbProxy.cut();
    await redisProxy.cut();
  }
}

async function main(): Promise<void> {
  const receipts = Number(process.argv[2] ?? '5000');
  const result = await runChaos({
    receipts,
    resendShare: 0.3,
    workerKills: 3,
    redisCuts: 1,
    mariadbCuts: 1,
    outageMs: 3_000,
    settleTimeoutMs: 240_000,
    log: (line) => say(`[chaos] ${line}`),
  });
  const clean =
    result.lost === 0 &&
    result.doubled === 0 &&
    result.failedWithoutReason === 0 &&
    result.balanceMismatches === 0 &&
    result.ledgerVerifyExit === 0;
  say(`receipts=${result.receipts} lost=${result.lost} doubled=${result.doubled}`);
  process.exitCode = clean ? 0 : 1;
}

if (require.main === module) {
  main().catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  });
}
