/**
 * Receipt intake benchmark: paSendRT over HTTP → parse → caller check → MariaDB commit → BullMQ
 * enqueue → OK, at 50 concurrent keep-alive connections, against the real stack (MariaDB and
 * Redis on localhost). In the same run, the same requests go to a bare `soap` package server
 * answering paSendRT from our wsdl/paForNode.wsdl with a constant OK, the reference point.
 *
 * Run: npx tsx bench/receipt-intake.ts [--receipts 20000] [--rounds 3] [--connections 50]
 *        [--seconds 60] [--in-process] [--pool 10] [--log-level warn] [--from-source]
 *
 * Default: each server runs in a child process of its own (the service through the real CLI,
 * role soap), the load generator here. --in-process starts the service in this process instead
 * (load generator and server share one event loop and one core: a pessimistic reading).
 * Prints receipts/s, p50/p99 ack latency and the server's RSS for both, and the ratio; then the
 * same for a durable echo (the soap server plus one INSERT and one Redis push per request) and the
 * CPU each process spent per request.
 * Targets (PRODUCT.md): ≥ 1,000 receipts/s, p99 < 100 ms, ≥ 0.6 × the echo server.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { createDb, ensureDatabase, migrateLatest } from '../src/data-access/db';
import { QUEUES } from '../src/adapters/queues';
import { makeNoticeNumber } from '../src/domain/codes/notice-number';
import { loadConfig } from '../src/shared/config';
import { Lifecycle } from '../src/shared/lifecycle';
import { createLogger } from '../src/shared/logger';
import { startService } from '../src/service';
import { cpuPerUnit, pidOf, serviceScript } from './proc';

const ROOT = path.resolve(__dirname, '..');
const arg = (name: string, fallback: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? (process.argv[i + 1] ?? fallback) : fallback;
};
const flag = (name: string): boolean => process.argv.includes(`--${name}`);

const RECEIPTS = Number(arg('receipts', '20000'));
const ROUNDS = Math.max(1, Number(arg('rounds', '3')));
/** Receipts sent first to each server to warm it (JIT, pools, connections), not counted. */
const WARM = Math.min(1_000, Math.floor(RECEIPTS / 10));
const CONNECTIONS = Number(arg('connections', '50'));
const MAX_SECONDS = Number(arg('seconds', '60'));
const POOL = arg('pool', '10');
const LOG_LEVEL = arg('log-level', 'warn');
const DOMAIN = '80000000001';

// ------------------------------------------------------------------------------------------------
// Echo server mode (child): a bare soap-package server on our WSDL.

async function runEchoServer(port: number, durableDbUrl: string | undefined): Promise<void> {
  const soap = await import('soap');
  const wsdlPath = path.join(ROOT, 'wsdl', 'paForNode.wsdl');
  const server = http.createServer((_req, res) => {
    res.statusCode = 404;
    res.end();
  });
  server.keepAliveTimeout = 60_000;
  let ok: (args: unknown) => { outcome: string } | Promise<{ outcome: string }> = () => ({
    outcome: 'OK',
  });
  if (durableDbUrl !== undefined) {
    // The durable echo: the same soap server, plus what the node's answer must wait for at the
    // least — one autocommit INSERT of the request and one push onto a Redis list — with none of
    // the adapter's checks. A fairer reference for a door that stores before it answers.
    const db = createDb({ url: durableDbUrl, poolMax: Number(POOL) });
    await db.raw(
      'CREATE TABLE IF NOT EXISTS bench_durable_echo (id BIGINT AUTO_INCREMENT PRIMARY KEY, body MEDIUMTEXT NOT NULL) ENGINE=InnoDB',
    );
    const { Redis } = await import('ioredis');
    const redis = new Redis('redis://127.0.0.1:6379');
    ok = async (args) => {
      const [header] = (await db.raw('INSERT INTO bench_durable_echo (body) VALUES (?)', [
        JSON.stringify(args),
      ])) as [{ insertId: number }];
      await redis.lpush(`bench-durable-echo-${process.pid}`, String(header.insertId));
      return { outcome: 'OK' };
    };
  }
  soap.listen(server, {
    path: '/pagopa/paForNode',
    services: { paForNodeService: { paForNodePort: { paSendRT: ok, paSendRTV2: ok } } },
    xml: fs.readFileSync(wsdlPath, 'utf8'),
    uri: wsdlPath,
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  process.stdout.write('ready\n');
}

// ------------------------------------------------------------------------------------------------
// Load.

type Run = { name: string; ok: number; failed: number; seconds: number; latenciesMs: number[] };

async function drive(name: string, url: string, bodies: readonly string[]): Promise<Run> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONNECTIONS });
  const target = new URL(url);
  const latencies: number[] = [];
  let ok = 0;
  let failed = 0;
  let next = 0;
  const deadline = Date.now() + MAX_SECONDS * 1000;
  const post = (body: string): Promise<{ status: number; text: string }> =>
    new Promise((resolve, reject) => {
      const req = http.request(
        {
          host: target.hostname,
          port: target.port,
          path: target.pathname,
          method: 'POST',
          agent,
          headers: {
            'content-type': 'text/xml; charset=utf-8',
            soapaction: '"paSendRT"',
            'content-length': Buffer.byteLength(body),
          },
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (text += c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  const started = process.hrtime.bigint();
  const worker = async (): Promise<void> => {
    for (let i = next++; i < bodies.length && Date.now() < deadline; i = next++) {
      const t0 = process.hrtime.bigint();
      try {
        const res = await post(bodies[i]!);
        latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
        if (res.status === 200 && res.text.includes('>OK</')) ok += 1;
        else failed += 1;
      } catch {
        failed += 1;
      }
    }
  };
  await Promise.all(Array.from({ length: CONNECTIONS }, worker));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  agent.destroy();
  return { name, ok, failed, seconds, latenciesMs: latencies.sort((a, b) => a - b) };
}

const percentile = (sorted: readonly number[], p: number): number =>
  sorted.length === 0
    ? NaN
    : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;

function rssMbOf(pid: number | undefined): number {
  if (pid === undefined || pid === process.pid) return process.memoryUsage().rss / 1024 / 1024;
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = /VmRSS:\s+(\d+)/.exec(status)?.[1];
  return kb === undefined ? NaN : Number(kb) / 1024;
}

/** Samples a process's RSS every 200 ms while `work` runs; resolves with the peak (MB). */
async function withPeakRss<T>(pid: number | undefined, work: Promise<T>): Promise<[T, number]> {
  let peak = rssMbOf(pid);
  const timer = setInterval(() => (peak = Math.max(peak, rssMbOf(pid))), 200);
  try {
    return [await work, Math.max(peak, rssMbOf(pid))];
  } finally {
    clearInterval(timer);
  }
}

// ------------------------------------------------------------------------------------------------
// Setup.

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = http.createServer();
    s.listen(0, '127.0.0.1', () => {
      const address = s.address();
      s.close(() =>
        typeof address === 'object' && address
          ? resolve(address.port)
          : reject(new Error('no port')),
      );
    });
  });
}

function waitForLine(child: ChildProcess, re: RegExp, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(
      () => reject(new Error(`child not ready: ${seen.slice(-500)}`)),
      timeoutMs,
    );
    const onData = (chunk: Buffer): void => {
      seen += chunk.toString();
      if (re.test(seen)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => reject(new Error(`child exited ${code}: ${seen.slice(-500)}`)));
  });
}

async function waitForHttp(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const ok = await new Promise<boolean>((resolve) => {
      const req = http.get(url, { agent: false }, (res) => {
        res.resume();
        resolve(res.statusCode === 200);
      });
      req.on('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${url} not ready`);
}

/** N distinct paSendRT bodies for N notices of the demo domain, and their options in MariaDB. */
async function prepare(dbUrl: string): Promise<string[]> {
  await ensureDatabase(dbUrl);
  const db = createDb({ url: dbUrl, poolMax: 2 });
  try {
    await migrateLatest(db);
    const template = fs.readFileSync(
      path.join(ROOT, 'fixtures', 'soap', 'intake', 'pa-send-rt.ok.xml'),
      'utf8',
    );
    const bodies: string[] = [];
    const stamp = Date.now() % 1_000_000;
    const total = WARM + RECEIPTS * ROUNDS;
    for (let start = 0; start < total; start += 1_000) {
      const positions = [];
      for (let i = start; i < Math.min(total, start + 1_000); i += 1) {
        const nav = makeNoticeNumber({
          auxDigit: 3,
          segregationCode: '02',
          base: `9${String(stamp).padStart(6, '0')}${String(i).padStart(6, '0')}`,
        });
        positions.push({
          domain_id: DOMAIN,
          external_id: `bench-${nav}`,
          kind: 'DEBT',
          service: 'CANTEEN',
          debtor_type: 'F',
          debtor_fiscal_code: 'RSSMRA80A01E715X',
          debtor_full_name: 'Mario Rossi',
          description: 'bench',
          request_hash: '0'.repeat(64),
        });
        bodies.push(
          template
            .replace(/<receiptId>[^<]+</, `<receiptId>bench${nav}<`)
            .replace(/<noticeNumber>\d+</, `<noticeNumber>${nav}<`)
            .replace(/<creditorReferenceId>\d+</, `<creditorReferenceId>${nav.slice(1)}<`),
        );
      }
      await db('debt_positions').insert(positions);
      const ids = (await db('debt_positions')
        .select('id', 'external_id')
        .whereIn(
          'external_id',
          positions.map((p) => p.external_id),
        )) as { id: number; external_id: string }[];
      await db('payment_options').insert(
        ids.map((row) => {
          const nav = row.external_id.slice('bench-'.length);
          return {
            debt_position_id: row.id,
            domain_id: DOMAIN,
            iuv: nav.slice(1),
            notice_number: nav,
            plan: 'SINGLE',
            amount_cents: 4560,
            due_date: '2030-12-31',
          };
        }),
      );
    }
    return bodies;
  } finally {
    await db.destroy();
  }
}

function report(run: Run, rssMb: number): { rate: number } {
  const rate = run.ok / run.seconds;
  process.stdout.write(
    `${run.name.padEnd(28)} ${String(run.ok).padStart(6)} ok ${String(run.failed).padStart(5)} failed  ` +
      `${rate.toFixed(0).padStart(6)} req/s  p50 ${percentile(run.latenciesMs, 50).toFixed(1)} ms  ` +
      `p99 ${percentile(run.latenciesMs, 99).toFixed(1)} ms  RSS ${rssMb.toFixed(0)} MB\n`,
  );
  return { rate };
}

async function main(): Promise<void> {
  const echoPortArg = arg('echo-server', '');
  if (echoPortArg !== '') {
    const durable = arg('durable', '');
    await runEchoServer(Number(echoPortArg), durable === '' ? undefined : durable);
    return;
  }
  const inProcess = flag('in-process');
  const dbUrl = `mysql://root@127.0.0.1:3306/pagopa_bench_intake_${process.pid}`;
  const prefix = `bench-intake-${process.pid}`;
  process.stdout.write(
    `receipt intake bench: ${ROUNDS} rounds of ${RECEIPTS} receipts, ${CONNECTIONS} connections, ${os.cpus().length} CPUs, ` +
      `node ${process.version}, service ${inProcess ? 'in this process' : 'in a child process'}, ` +
      `DATABASE_POOL_MAX ${POOL}, LOG_LEVEL ${LOG_LEVEL}\n`,
  );
  const bodies = await prepare(dbUrl);
  const children: ChildProcess[] = [];
  const script = inProcess ? '' : serviceScript(ROOT);
  const env = {
    NODE_ENV: 'production',
    LOG_LEVEL,
    DATABASE_URL: dbUrl,
    REDIS_URL: 'redis://127.0.0.1:6379',
    DOMAINS_FILE: path.join(ROOT, 'fixtures', 'domains.demo.json'),
    QUEUE_PREFIX: prefix,
    DATABASE_POOL_MAX: POOL,
    HTTP_BIND_ADDRESS: '127.0.0.1',
    // Production refuses unsigned MyPay pushes; the demo domains include a MyPay one.
    MYPAY_PUSH_JWT_SECRET: 'bench-only-secret-bench-only-secret',
  };
  let stopInProcess: (() => Promise<unknown>) | undefined;
  try {
    // Ours.
    const soapPort = await freePort();
    let serverPid: number | undefined;
    if (inProcess) {
      const config = loadConfig({
        ...env,
        HTTP_PORT: '0',
        SOAP_PORT: String(soapPort),
        SIMULATOR_PORT: '0',
      });
      const logger = createLogger(config.logLevel);
      const lifecycle = new Lifecycle(logger);
      await startService(config, 'soap', logger, lifecycle);
      stopInProcess = () => lifecycle.stop(5_000);
      serverPid = process.pid;
    } else {
      const child = spawn(
        process.execPath,
        [
          // BENCH_SERVER_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" profiles the service.
          ...(process.env['BENCH_SERVER_NODE_ARGS'] ?? '').split(' ').filter((a) => a !== ''),
          script,
          'serve',
          '--role',
          'soap',
        ],
        {
          cwd: ROOT,
          env: {
            PATH: process.env['PATH'] ?? '',
            ...env,
            HTTP_PORT: '0',
            SOAP_PORT: String(soapPort),
            SIMULATOR_PORT: '0',
          },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      child.stdout?.resume();
      child.stderr?.resume();
      children.push(child);
      serverPid = child.pid;
      await waitForHttp(`http://127.0.0.1:${soapPort}/health/ready`, 60_000);
    }
    const ours = `http://127.0.0.1:${soapPort}/pagopa/paForNode`;
    const warm = WARM;
    await drive('warm-up', ours, bodies.slice(0, warm));
    const servers = { mariadb: pidOf('mariadbd'), redis: pidOf('redis-server') };

    // The soap-package echoes, in child processes in either mode: the bare one is the reference
    // of the target; the durable one (INSERT + Redis push, nothing else) says what storing costs.
    const startEcho = async (durable: boolean): Promise<{ url: string; pid?: number }> => {
      const echoPort = await freePort();
      const echo = spawn(
        process.execPath,
        [
          '--import',
          'tsx',
          __filename,
          '--echo-server',
          String(echoPort),
          ...(durable ? ['--durable', dbUrl, '--pool', POOL] : []),
        ],
        {
          cwd: ROOT,
          env: { PATH: process.env['PATH'] ?? '' },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      children.push(echo);
      await waitForLine(echo, /ready/, 30_000);
      const url = `http://127.0.0.1:${echoPort}/pagopa/paForNode`;
      await drive('warm-up', url, bodies.slice(0, warm));
      return { url, ...(echo.pid === undefined ? {} : { pid: echo.pid }) };
    };
    const echo = await startEcho(false);
    const durableEcho = await startEcho(true);

    // Rounds of adapter, echo, durable echo, each on its own receipts: the machine's speed drifts
    // (other tenants), and a ratio is only fair between runs measured close together.
    type RoundResult = {
      ratio: number;
      adapterRate: number;
      p99: number;
    };
    const rounds: RoundResult[] = [];
    for (let r = 0; r < ROUNDS; r += 1) {
      const slice = bodies.slice(warm + r * RECEIPTS, warm + (r + 1) * RECEIPTS);
      process.stdout.write(`round ${r + 1} of ${ROUNDS}\n`);
      const [[oursRun, oursRss], oursCpu] = await cpuPerUnit(
        { adapter: serverPid, ...servers, 'load generator': inProcess ? undefined : process.pid },
        withPeakRss(serverPid, drive('adapter paSendRT', ours, slice)),
        ([run]) => run.ok,
      );
      const [[echoRun, echoRss], echoCpu] = await cpuPerUnit(
        { echo: echo.pid, 'load generator': process.pid },
        withPeakRss(echo.pid, drive('soap echo paSendRT', echo.url, slice)),
        ([run]) => run.ok,
      );
      const [[durableRun, durableRss], durableCpu] = await cpuPerUnit(
        { echo: durableEcho.pid, ...servers, 'load generator': process.pid },
        withPeakRss(durableEcho.pid, drive('durable soap echo', durableEcho.url, slice)),
        ([run]) => run.ok,
      );
      const a = report(oursRun, oursRss);
      const b = report(echoRun, echoRss);
      const c = report(durableRun, durableRss);
      const ratio = a.rate / b.rate;
      process.stdout.write(
        `CPU per receipt: ${oursCpu}\nCPU per echo: ${echoCpu}\nCPU per durable echo: ${durableCpu}\n` +
          `ratio adapter / echo: ${ratio.toFixed(2)}, adapter / durable echo: ${(a.rate / c.rate).toFixed(2)}\n`,
      );
      rounds.push({
        ratio,
        adapterRate: a.rate,
        p99: percentile(oursRun.latenciesMs, 99),
      });
    }

    // How the intake grouped the receipts (receipt_intake_batch_size on the SOAP port).
    const metricsText = await (await fetch(`http://127.0.0.1:${soapPort}/metrics`)).text();
    const batchMean = (step: string): string => {
      const read = (what: string): number =>
        Number(
          new RegExp(`receipt_intake_batch_size_${what}\\{step="${step}"\\} (\\d+)`).exec(
            metricsText,
          )?.[1] ?? 0,
        );
      return (read('sum') / Math.max(1, read('count'))).toFixed(1);
    };
    const batches = ['links', 'insert', 'enqueue'].map((s) => `${s} ${batchMean(s)}`).join(', ');

    const db = createDb({ url: dbUrl, poolMax: 1 });
    const stored = (await db('receipts').count({ n: '*' }).first()) as { n: number };
    await db.destroy();
    const { Queue } = await import('bullmq');
    const queue = new Queue(QUEUES.reconcile, {
      connection: { host: '127.0.0.1', port: 6379 },
      prefix,
    });
    const jobs = Object.values(await queue.getJobCounts()).reduce((x, y) => x + y, 0);
    await queue.close();
    // The targets are judged on the median round by ratio (its rate and p99 with it).
    const byRatio = [...rounds].sort((x, y) => x.ratio - y.ratio);
    const median = byRatio[Math.floor((byRatio.length - 1) / 2)]!;
    process.stdout.write(
      `stored receipts: ${Number(stored.n)}, reconcile jobs: ${jobs} (expected ${warm + RECEIPTS * ROUNDS})\n` +
        `receipts per batch (mean): ${batches}\n` +
        `ratio adapter / echo by round: ${rounds.map((x) => x.ratio.toFixed(2)).join(', ')}\n` +
        `median round: ${median.adapterRate.toFixed(0)} receipts/s, p99 ${median.p99.toFixed(1)} ms, ` +
        `ratio ${median.ratio.toFixed(2)}  targets: ≥ 1000 req/s ${median.adapterRate >= 1000 ? 'met' : 'MISSED'}, ` +
        `p99 < 100 ms ${median.p99 < 100 ? 'met' : 'MISSED'}, ` +
        `≥ 0.6 × echo ${median.ratio >= 0.6 ? 'met' : 'MISSED'}\n`,
    );
  } finally {
    for (const child of children) child.kill('SIGTERM');
    await stopInProcess?.();
    const db = createDb({ url: dbUrl, poolMax: 1 });
    await db.raw(`DROP DATABASE IF EXISTS \`pagopa_bench_intake_${process.pid}\``);
    await db.destroy();
    const { Redis } = await import('ioredis');
    const redis = new Redis('redis://127.0.0.1:6379');
    const keys = [
      ...(await redis.keys(`${prefix}:*`)),
      ...(await redis.keys('bench-durable-echo-*')),
    ];
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
