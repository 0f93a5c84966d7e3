/**
 * Billing run benchmark: a 10,000-line school-transport CSV imported as `billing import` does it
 * (check every line, store the run and its lines, then bill the lines in chunks: positions,
 * options, transfers, debits, line statuses), against MariaDB on localhost, then the same file
 * imported again, which must create nothing.
 *
 * Run: npx tsx bench/billing-import.ts [--lines 10000] [--chunk 500]
 *
 * In the same run, the reference point: 10,000 plain rows inserted into a scratch table in
 * chunks of 500 (the floor any import that stores its lines pays). Prints lines/s, the time of
 * each import, the peak RSS, and the counts that prove the second import created nothing.
 * Target (PRODUCT.md): 10,000 positions in < 10 s, with progress.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import path from 'node:path';
import {
  billingRunStore,
  countItemsByStatus,
  insertRun,
} from '../src/data-access/billing-repository';
import { createDb, ensureDatabase, migrateLatest, type Db } from '../src/data-access/db';
import { makeCardCode } from '../src/domain/codes/card-code';
import { prepareRun, processRun, type BillingRunView } from '../src/domain/billing/run';
import { loadDomains } from '../src/shared/domains-config';

const arg = (name: string, fallback: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? (process.argv[i + 1] ?? fallback) : fallback;
};

const LINES = Number(arg('lines', '10000'));
const CHUNK = Number(arg('chunk', '500'));
const DOMAIN = '80000000001';
const BASE_URL = process.env['BENCH_DATABASE_URL'] ?? 'mysql://root@127.0.0.1:3306';
const ROOT = path.resolve(__dirname, '..');

let rssPeak = 0;
const sampleRss = (): void => {
  rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
};

const out = (line: string): void => {
  process.stdout.write(`${line}\n`);
};

async function count(db: Db, table: string): Promise<number> {
  const [row] = (await db(table).count({ n: '*' })) as { n: number | string }[];
  return Number(row?.n ?? 0);
}

/** 10,000 cards with their three accounts, in multi-row inserts (the fixture, not the bench). */
async function createCards(db: Db, n: number): Promise<string[]> {
  const codes: string[] = [];
  for (let start = 0; start < n; start += 1_000) {
    const batch = Array.from({ length: Math.min(1_000, n - start) }, (_, k) => {
      const cardNumber = String(7_000_000_000 + start + k);
      const cardCode = makeCardCode(cardNumber);
      codes.push(cardCode);
      return {
        domain_id: DOMAIN,
        card_number: cardNumber,
        card_code: cardCode,
        holder_fiscal_code: 'RSSMRA85T10A562S',
        holder_full_name: 'Rossi Mario',
      };
    });
    await db('cards').insert(batch);
    const ids = (await db('cards')
      .whereIn(
        'card_code',
        batch.map((b) => b.card_code),
      )
      .select('id')) as { id: number }[];
    await db('card_accounts').insert(
      ids.flatMap(({ id }) => [
        { card_id: id, account: 'CANTEEN', overdraft_limit_cents: 0 },
        { card_id: id, account: 'NURSERY_MEALS', overdraft_limit_cents: 0 },
        { card_id: id, account: 'SCHOOL_TRANSPORT', overdraft_limit_cents: 100_000 },
      ]),
    );
  }
  return codes;
}

function csvOf(codes: readonly string[]): string {
  const lines = codes.map((code, i) =>
    i % 10 === 0
      ? `${code},${3_000 + (i % 7) * 250},"Trasporto scolastico ottobre 2026, linea ${i % 12}"`
      : `${code},${3_000 + (i % 7) * 250},Trasporto scolastico ottobre 2026`,
  );
  return `cardCode,amountCents,description\r\n${lines.join('\r\n')}\r\n`;
}

async function importOnce(
  db: Db,
  csv: string,
): Promise<{ run: BillingRunView; ms: number; submitMs: number }> {
  const domains = loadDomains(path.join(ROOT, 'fixtures', 'domains.demo.json'));
  const domain = domains.find(DOMAIN);
  if (domain === undefined) throw new Error('demo domain missing');
  const started = performance.now();
  const prepared = prepareRun(
    domain,
    { service: 'SCHOOL_TRANSPORT', period: '2026-10', input: { csv } },
    { service: 'service', period: 'period' },
  );
  const runId = randomUUID();
  await db.transaction((trx) =>
    insertRun(trx, { runId, prepared, source: 'CLI', createdBy: 'bench' }),
  );
  const submitMs = performance.now() - started;
  sampleRss();
  const run = await processRun(billingRunStore(db, domains), runId, {
    chunkSize: CHUNK,
    onProgress: (p) => {
      sampleRss();
      process.stderr.write(`\r  ${p.done + p.failed}/${p.total} lines`);
    },
  });
  process.stderr.write('\n');
  if (run === undefined) throw new Error('run vanished');
  return { run, ms: performance.now() - started, submitMs };
}

async function baseline(db: Db, n: number): Promise<number> {
  await db.schema.createTable('bench_scratch', (t) => {
    t.bigIncrements('id');
    t.string('card_code', 64).notNullable();
    t.bigInteger('amount_cents').notNullable();
    t.string('description', 140).nullable();
  });
  const rows = Array.from({ length: n }, (_, i) => ({
    card_code: String(7_000_000_000 + i),
    amount_cents: 3_000,
    description: 'Trasporto scolastico ottobre 2026',
  }));
  const started = performance.now();
  for (let i = 0; i < rows.length; i += 500)
    await db('bench_scratch').insert(rows.slice(i, i + 500));
  return performance.now() - started;
}

async function main(): Promise<void> {
  const schema = `pagopa_bench_billing_${randomBytes(4).toString('hex')}`;
  const url = `${BASE_URL}/${schema}`;
  await ensureDatabase(url);
  const db = createDb({ url, poolMax: 4 });
  try {
    await migrateLatest(db);
    const codes = await createCards(db, LINES);
    const csv = csvOf(codes);
    out(`billing import bench: ${LINES} lines (${csv.length} bytes), chunks of ${CHUNK}`);

    const first = await importOnce(db, csv);
    const firstCounts = await countItemsByStatus(db, first.run.id);
    const after1 = {
      positions: await count(db, 'debt_positions'),
      options: await count(db, 'payment_options'),
      transfers: await count(db, 'transfers'),
      entries: await count(db, 'ledger_entries'),
    };
    const second = await importOnce(db, csv);
    const secondCounts = await countItemsByStatus(db, second.run.id);
    const after2 = {
      positions: await count(db, 'debt_positions'),
      options: await count(db, 'payment_options'),
      transfers: await count(db, 'transfers'),
      entries: await count(db, 'ledger_entries'),
    };
    const baselineMs = await baseline(db, LINES);

    const rate = (ms: number): string => `${Math.round(LINES / (ms / 1000))} lines/s`;
    out(
      `first import:  ${(first.ms / 1000).toFixed(2)} s (${rate(first.ms)}; check + store ${(first.submitMs / 1000).toFixed(2)} s) ${first.run.status} ${JSON.stringify(firstCounts)}`,
    );
    out(
      `second import: ${(second.ms / 1000).toFixed(2)} s (${rate(second.ms)}) ${second.run.status} ${JSON.stringify(secondCounts)}`,
    );
    out(`rows after first:  ${JSON.stringify(after1)}`);
    out(`rows after second: ${JSON.stringify(after2)}`);
    out(
      `baseline: ${LINES} plain rows in chunks of 500: ${(baselineMs / 1000).toFixed(2)} s (${rate(baselineMs)}); first import = ${(first.ms / baselineMs).toFixed(1)} × baseline`,
    );
    out(`peak RSS: ${Math.round(rssPeak / 1024 / 1024)} MB`);

    const problems: string[] = [];
    if (firstCounts.DONE !== LINES) problems.push(`first import billed ${firstCounts.DONE}`);
    if (secondCounts.SKIPPED_DUPLICATE !== LINES) {
      problems.push(`second import skipped ${secondCounts.SKIPPED_DUPLICATE}`);
    }
    if (JSON.stringify(after1) !== JSON.stringify(after2))
      problems.push('second import created rows');
    if (after1.positions !== LINES || after1.entries !== LINES) problems.push('counts off');
    if (first.ms > 10_000) problems.push('first import over the 10 s target');
    out(
      problems.length === 0
        ? 'OK: target met, nothing created twice'
        : `FAIL: ${problems.join('; ')}`,
    );
    if (problems.length > 0) process.exitCode = 1;
  } finally {
    await db.raw(`DROP DATABASE IF EXISTS \`${schema}\``);
    await db.destroy();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${String((err as Error).stack ?? err)}\n`);
  process.exitCode = 1;
});
