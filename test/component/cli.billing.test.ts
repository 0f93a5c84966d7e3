import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cardRegistry } from '../../src/data-access/cards-repository';
import { registerCard } from '../../src/domain/cards/register-card';
import { loadDomains } from '../../src/shared/domains-config';
import { createTestDatabase } from '../helpers/db';
import { REPO_ROOT, spawnCli, waitForExit } from '../helpers/service';

/**
 * `pagopa-adapter billing import` in a child process, as an operator runs it: exit 0 when every
 * line is billed or already billed, 1 when some lines failed (reasons printed), 3 when the
 * database is down; a second import creates nothing.
 */
describe('billing import CLI', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let env: Record<string, string>;
  const fixture = path.join(REPO_ROOT, 'fixtures/erp/billing-2026-10.csv');

  beforeAll(async () => {
    db = await createTestDatabase('clibilling');
    env = { DATABASE_URL: db.url, DATABASE_MIGRATE_ON_START: 'false', LOG_LEVEL: 'silent' };
    const domain = loadDomains(path.join(REPO_ROOT, 'fixtures/domains.demo.json')).find(
      '80000000001',
    );
    if (domain === undefined) throw new Error('demo domain missing');
    for (const cardNumber of ['5000000001', '5000000002', '5000000003']) {
      await registerCard(cardRegistry(db.db), domain, {
        cardNumber,
        holder: { fiscalCode: 'RSSMRA85T10A562S', fullName: 'Rossi Mario' },
      });
    }
  });
  afterAll(async () => {
    await db.drop();
  });

  const count = async (table: string): Promise<number> =>
    Number(((await db.db(table).count({ n: '*' }))[0] as { n: number }).n);

  const billing = (args: string[], extraEnv: Record<string, string> = {}) =>
    waitForExit(
      spawnCli(
        ['billing', 'import', ...args, '--service', 'SCHOOL_TRANSPORT', '--period', '2026-10'],
        {
          ...env,
          ...extraEnv,
        },
      ),
    );

  test('the fixture: 3 lines billed, 2 failed with their reasons, exit 1; again: nothing new', async () => {
    const first = await billing([fixture, '--json']);
    expect(first.code).toBe(1);
    const report = JSON.parse(first.stdout) as Record<string, unknown>;
    expect(report).toMatchObject({
      status: 'FINISHED',
      total: 5,
      done: 3,
      skipped: 0,
      failed: 2,
      billedCents: 8750,
      errors: [
        { line: 5, cardCode: '500000000480', reason: expect.stringMatching(/mistyped/) },
        { line: 6, cardCode: '500000000484', reason: expect.stringMatching(/looks like euros/) },
      ],
    });
    // Not a terminal: plain progress lines on stderr.
    expect(first.stderr).toMatch(/billing: 100% 5\/5 lines \(2 failed\)/);
    const positions = await count('debt_positions');
    const entries = await count('ledger_entries');
    expect(positions).toBe(3);

    const second = await billing([fixture]);
    expect(second.code).toBe(1);
    expect(second.stdout).toMatch(/5 lines, 0 billed, 3 already billed, 2 failed/);
    expect(second.stdout).toMatch(/line 5\t500000000480\t.*mistyped/);
    expect(await count('debt_positions')).toBe(positions);
    expect(await count('ledger_entries')).toBe(entries);
    const runs = (await db.db('billing_runs').select('source')) as { source: string }[];
    expect(runs.map((r) => r.source)).toEqual(['CLI', 'CLI']);
  });

  test('a clean file exits 0', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'billing-'));
    const file = path.join(dir, 'ok.csv');
    fs.writeFileSync(file, 'cardCode,amountCents,description\n500000000181,3500,x\n');
    const run = await billing([file]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(
      /FINISHED: SCHOOL_TRANSPORT 2026-10, 1 lines, 0 billed, 1 already billed, 0 failed/,
    );
  });

  test('a file that cannot be read as a whole, or a bad period, exits 1 and stores nothing', async () => {
    const runs = await count('billing_runs');
    const missing = await billing(['/nonexistent/billing.csv']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/cannot read \/nonexistent\/billing.csv/);
    const badPeriod = await waitForExit(
      spawnCli(
        ['billing', 'import', fixture, '--service', 'SCHOOL_TRANSPORT', '--period', '2026-13'],
        env,
      ),
    );
    expect(badPeriod.code).toBe(1);
    expect(badPeriod.stderr).toMatch(/--period: must be a month/);
    expect(await count('billing_runs')).toBe(runs);
  });

  test('the database down exits 3', async () => {
    const run = await billing([fixture], { DATABASE_URL: 'mysql://root@127.0.0.1:1/nowhere' });
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(/dependency-down/);
  });
});
