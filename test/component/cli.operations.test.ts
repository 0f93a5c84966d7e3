import { readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { Queue } from 'bullmq';
import { QUEUES } from '../../src/adapters/queues';
import { createTestDatabase } from '../helpers/db';
import {
  eventually,
  spawnCli,
  startTestService,
  testConfig,
  waitForExit,
} from '../helpers/service';
import { OPERATOR } from '../helpers/api';
import { givenCards, iuvFor, type GivenCard } from '../chaos/world';
import {
  auditOf,
  balanceOf,
  givenFailedTopUpReceipt,
  givenQuarantinedReceipt,
  stateOf,
} from './ops.fixtures';

/**
 * The operators' command line, spawned as a script would run it (`bin/pagopa-adapter.js`), next
 * to a service running every role (its worker reconciles what the CLI replays): tables and JSON,
 * dry runs, reasons, progress on stderr, and exit codes 0 / 1 / 2 / 3.
 */

const QUEUE_PREFIX = `t-ops-cli-${process.pid}`;
const RUN = (process.pid % 90_000) + 10_000;

describe('pagopa-adapter receipts | quarantine | positions | audit', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let service: Awaited<ReturnType<typeof startTestService>>;
  let env: Record<string, string>;
  let card: GivenCard;
  let seq = 0;
  const nextIuv = (): string => iuvFor(RUN + 1, ++seq);
  const cli = (...args: string[]) => waitForExit(spawnCli(args, env));
  const failed = (reason: string, amountCents = 500) =>
    givenFailedTopUpReceipt(database.db, {
      iuv: nextIuv(),
      cardId: card.cardId,
      account: 'CANTEEN',
      amountCents,
      reason,
    });

  beforeAll(async () => {
    database = await createTestDatabase('cli_ops');
    env = {
      DATABASE_URL: database.url,
      DATABASE_MIGRATE_ON_START: 'false',
      LOG_LEVEL: 'silent',
      QUEUE_PREFIX,
    };
    service = await startTestService(
      testConfig({ ...env, RECONCILE_BACKOFF_BASE_MS: '50' }),
      'all',
    );
    [card] = (await givenCards(database.db, 1, `oc${RUN}`)) as [GivenCard];
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

  test('receipts list prints a table by default and JSON with --json; a bad state exits 1', async () => {
    const id = await failed('dependency-down: list-test');
    const table = await cli(
      'receipts',
      'list',
      '--state',
      'FAILED',
      '--reason-contains',
      'list-test',
    );
    expect(table.code).toBe(0);
    expect(table.stdout.split('\n')[0]).toMatch(/^ID\s+STATE\s+DOMAIN\s+IUV\s+AMOUNT\s+AGE/);
    expect(table.stdout).toMatch(new RegExp(`^${id}\\s+FAILED\\s+\\d{11}\\s+\\d+\\s+5\\.00`, 'm'));
    const json = await cli(
      'receipts',
      'list',
      '--state',
      'FAILED',
      '--reason-contains',
      'list-test',
      '--json',
    );
    expect(JSON.parse(json.stdout)).toMatchObject({
      items: [{ id, state: 'FAILED', amountCents: 500 }],
    });
    const bad = await cli('receipts', 'list', '--state', 'LOST');
    expect(bad.code).toBe(1);
  });

  test('receipts show prints history, position and the pretty XML; an unknown id exits 1', async () => {
    const id = await failed('dependency-down: show-test');
    const shown = await cli('receipts', 'show', String(id));
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain(`receipt ${id}  FAILED`);
    expect(shown.stdout).toMatch(/history:\n.*AT\s+FROM\s+TO/);
    expect(shown.stdout).toMatch(/position W-\d+ \(TOP_UP, OPEN/);
    expect(shown.stdout).toMatch(/raw XML:\n<\?xml|raw XML:\n<soap/);
    expect(shown.stdout.split('raw XML:\n')[1]?.split('\n').length).toBeGreaterThan(10);
    const missing = await cli('receipts', 'show', '999999999');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/not-found/);
  });

  test('receipts replay: dry run by default, --execute needs --reason, then RECONCILED with --wait and audited', async () => {
    const id = await failed('dependency-down: replay-one', 800);
    const before = await balanceOf(database.db, card.accounts.CANTEEN);
    const dry = await cli('receipts', 'replay', String(id));
    expect(dry.code).toBe(0);
    expect(dry.stdout).toMatch(/dry run/);
    expect(await stateOf(database.db, id)).toBe('FAILED');
    const noReason = await cli('receipts', 'replay', String(id), '--execute');
    expect(noReason.code).toBe(1);
    expect(noReason.stderr).toMatch(/--reason/);
    const done = await cli(
      'receipts',
      'replay',
      String(id),
      '--execute',
      '--reason',
      'db back',
      '--wait',
      '15',
      '--json',
    );
    expect(done.code).toBe(0);
    expect(JSON.parse(done.stdout)).toMatchObject({
      executed: true,
      items: [{ receiptId: id, action: 'replayed' }],
      finalStates: { [id]: 'RECONCILED' },
    });
    expect(await balanceOf(database.db, card.accounts.CANTEEN)).toBe(before + 800);
    expect(await auditOf(database.db, 'receipt', String(id))).toEqual([
      { actor: `cli:${os.userInfo().username}`, action: 'receipt.replay', reason: 'db back' },
    ]);
  });

  test('a set replay needs --limit, shows progress on stderr, and exits 2 when a receipt FAILS again', async () => {
    const tag = `set-cli-${RUN}`;
    const good = [await failed(`dependency-down: ${tag}`), await failed(`dependency-down: ${tag}`)];
    // A receipt whose position was cancelled meanwhile: the reconciliation fails it again.
    const bad = await failed(`dependency-down: ${tag}`);
    await database
      .db('debt_positions')
      .whereIn('id', database.db('receipts').where({ id: bad }).select('debt_position_id'))
      .update({ status: 'CANCELLED' });
    await database
      .db('payment_options')
      .whereIn(
        'debt_position_id',
        database.db('receipts').where({ id: bad }).select('debt_position_id'),
      )
      .update({ status: 'CANCELLED' });

    const noLimit = await cli('receipts', 'replay', '--reason-contains', tag);
    expect(noLimit.code).toBe(1);
    const run = await cli(
      'receipts',
      'replay',
      '--reason-contains',
      tag,
      '--limit',
      '10',
      '--execute',
      '--reason',
      'outage over',
      '--wait',
      '15',
    );
    expect(run.stderr).toMatch(/replaying: 3\/3/);
    expect(run.stdout).toMatch(/replayed 3, requeued 0/);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(new RegExp(`1 receipt\\(s\\) FAILED again \\(${bad}\\)`));
    for (const id of good) expect(await stateOf(database.db, id)).toBe('RECONCILED');
    expect(await stateOf(database.db, bad)).toBe('FAILED');
  });

  test('with Redis down a replay exits 3 and leaves the receipt FAILED', async () => {
    const id = await failed('dependency-down: redis-down');
    const res = await waitForExit(
      spawnCli(['receipts', 'replay', String(id), '--execute', '--reason', 'try'], {
        ...env,
        REDIS_URL: 'redis://127.0.0.1:1',
      }),
    );
    expect(res.code).toBe(3);
    expect(res.stderr).toMatch(/dependency-down/);
    expect(await stateOf(database.db, id)).toBe('FAILED');
  });

  test('quarantine list, attach to a card, release, refund', async () => {
    const id = await givenQuarantinedReceipt(database.db, { iuv: nextIuv(), amountCents: 650 });
    const before = await balanceOf(database.db, card.accounts.NURSERY_MEALS);
    const listed = await cli('quarantine', 'list', '--json');
    expect(JSON.parse(listed.stdout).items.map((r: { id: number }) => r.id)).toContain(id);
    const missingTarget = await cli(
      'quarantine',
      'attach',
      String(id),
      '--execute',
      '--reason',
      'x',
    );
    expect(missingTarget.code).toBe(1);
    const attached = await cli(
      'quarantine',
      'attach',
      String(id),
      '--card',
      `oc${RUN}C0`,
      '--account',
      'NURSERY_MEALS',
      '--execute',
      '--reason',
      'nursery top-up on a foreign notice',
    );
    expect(attached.code).toBe(0);
    expect(attached.stdout).toMatch(/attached receipt \d+ to position QUARANTINE-/);
    const released = await cli(
      'quarantine',
      'release',
      String(id),
      '--execute',
      '--reason',
      'attached',
    );
    expect(released.code).toBe(0);
    expect(
      await eventually(async () => (await stateOf(database.db, id)) === 'RECONCILED', 15_000),
    ).toBe(true);
    expect(await balanceOf(database.db, card.accounts.NURSERY_MEALS)).toBe(before + 650);
    const again = await cli('quarantine', 'release', String(id), '--execute', '--reason', 'again');
    expect(again.code).toBe(1);

    const other = await givenQuarantinedReceipt(database.db, { iuv: nextIuv(), amountCents: 100 });
    const refunded = await cli(
      'quarantine',
      'refund',
      String(other),
      '--execute',
      '--reason',
      'bank refund 77',
    );
    expect(refunded.code).toBe(0);
    expect(await stateOf(database.db, other)).toBe('RECONCILED');
  });

  test('positions reverse-entry and audit export', async () => {
    const credit = (await database
      .db('ledger_entries')
      .where({ card_account_id: card.accounts.CANTEEN })
      .where('amount_cents', '>', 0)
      .orderBy('id')
      .first()) as { id: number; amount_cents: number };
    const before = await balanceOf(database.db, card.accounts.CANTEEN);
    const dry = await cli('positions', 'reverse-entry', String(credit.id));
    expect(dry.stdout).toMatch(/^dry run: entry/);
    expect(await balanceOf(database.db, card.accounts.CANTEEN)).toBe(before);
    const done = await cli(
      'positions',
      'reverse-entry',
      String(credit.id),
      '--execute',
      '--reason',
      'wrong card',
    );
    expect(done.code).toBe(0);
    expect(await balanceOf(database.db, card.accounts.CANTEEN)).toBe(
      before - Number(credit.amount_cents),
    );

    const file = path.join(os.tmpdir(), `audit-${RUN}.csv`);
    const exported = await cli('audit', 'export', '--output', file);
    expect(exported.code).toBe(0);
    const csv = await readFile(file, 'utf8');
    await rm(file);
    expect(csv.split('\r\n')[0]).toBe(
      'id,occurred_at,actor,action,subject_type,subject_id,reason,before,after',
    );
    expect(csv).toContain('ledger.reverse');
    expect(csv).toContain('receipt.release');
    const bad = await cli('audit', 'export', '--from', 'yesterday-ish');
    expect(bad.code).toBe(1);
  });

  test('a receipt replayed 10 times at once from the CLI and the ops API credits once', async () => {
    const id = await failed('dependency-down: concurrent', 1234);
    const before = await balanceOf(database.db, card.accounts.CANTEEN);
    const api = `http://127.0.0.1:${service.ports.api}`;
    const fromApi = Array.from({ length: 5 }, () =>
      request(api)
        .post(`/ops/v1/receipts/${id}/replay`)
        .set(OPERATOR)
        .send({ reason: 'race', execute: true }),
    );
    const fromCli = Array.from({ length: 5 }, () =>
      cli('receipts', 'replay', String(id), '--execute', '--reason', 'race', '--json'),
    );
    const [apiResults, cliResults] = await Promise.all([
      Promise.all(fromApi),
      Promise.all(fromCli),
    ]);
    expect(apiResults.every((r) => r.status === 200)).toBe(true);
    expect(cliResults.every((r) => r.code === 0)).toBe(true);
    const actions = [
      ...apiResults.map((r) => (r.body as { items: { action: string }[] }).items[0]?.action),
      ...cliResults.map(
        (r) => (JSON.parse(r.stdout) as { items: { action: string }[] }).items[0]?.action,
      ),
    ];
    expect(actions.filter((a) => a === 'replayed')).toHaveLength(1);
    expect(
      await eventually(async () => (await stateOf(database.db, id)) === 'RECONCILED', 15_000),
    ).toBe(true);
    await new Promise((r) => setTimeout(r, 500));
    expect(await balanceOf(database.db, card.accounts.CANTEEN)).toBe(before + 1234);
    const iuv = ((await database.db('receipts').where({ id }).first('iuv')) as { iuv: string }).iuv;
    expect(
      await database.db('ledger_entries').where('idempotency_key', 'like', `%/${iuv}/%`),
    ).toHaveLength(1);
    expect(
      (await auditOf(database.db, 'receipt', String(id))).filter(
        (a) => a.action === 'receipt.replay',
      ),
    ).toHaveLength(1);
  });
});
