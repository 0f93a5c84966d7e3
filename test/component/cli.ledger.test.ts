import { createTestDatabase } from '../helpers/db';
import { spawnCli, waitForExit } from '../helpers/service';
import { cardRegistry } from '../../src/data-access/cards-repository';
import { postEntry } from '../../src/data-access/ledger-repository';
import { makeCardCode } from '../../src/domain/codes/card-code';

/**
 * `pagopa-adapter ledger verify` through the real command line, against its own schema:
 * clean when balances equal the sum of entries, exit 2 naming the account once one is broken.
 */
describe('pagopa-adapter ledger verify', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let env: Record<string, string>;
  const cardCode = makeCardCode('6100000001', 'mod93');

  beforeAll(async () => {
    database = await createTestDatabase('cli_ledger');
    env = { DATABASE_URL: database.url, DATABASE_MIGRATE_ON_START: 'false', LOG_LEVEL: 'silent' };
    const registered = await cardRegistry(database.db).insertCardWithAccounts({
      domainId: '80000000001',
      cardNumber: '6100000001',
      cardCode,
      holder: { fiscalCode: 'RSSMRA85T10A562S', fullName: 'Rossi Mario' },
      accounts: [
        { account: 'CANTEEN', overdraftLimitCents: 0 },
        { account: 'NURSERY_MEALS', overdraftLimitCents: 0 },
        { account: 'SCHOOL_TRANSPORT', overdraftLimitCents: 100_000 },
      ],
    });
    if (!registered.created) throw new Error('the test card was not created');
    const accounts = (await database
      .db('card_accounts')
      .where({ card_id: registered.card.id })
      .select('id', 'account')) as { id: number; account: string }[];
    const idOf = (account: string): number => {
      const found = accounts.find((a) => a.account === account);
      if (found === undefined) throw new Error(`no ${account} account`);
      return found.id;
    };
    const entries = [
      { account: 'CANTEEN', amountCents: 2_000, key: 'topup-1' },
      { account: 'CANTEEN', amountCents: -450, key: 'meal-1' },
      { account: 'SCHOOL_TRANSPORT', amountCents: -3_500, key: 'billing-1' },
    ];
    for (const e of entries) {
      await database.db.transaction((trx) =>
        postEntry(
          trx,
          {
            cardAccountId: idOf(e.account),
            amountCents: e.amountCents,
            kind: e.amountCents > 0 ? 'TOP_UP' : 'CHARGE',
            idempotencyKey: e.key,
            requestHash: 'h'.repeat(64),
          },
          { enforceOverdraft: false },
        ),
      );
    }
  });

  afterAll(async () => {
    await database.drop();
  });

  test('balanced accounts: exit 0 and the count of accounts checked', async () => {
    const text = await waitForExit(spawnCli(['ledger', 'verify'], env));
    expect({ code: text.code, stderr: text.stderr }).toEqual({ code: 0, stderr: '' });
    expect(text.stdout).toBe('3 accounts checked, 0 mismatched\n');

    const json = await waitForExit(spawnCli(['ledger', 'verify', '--json'], env));
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual({ accountsChecked: 3, mismatches: [] });
  });

  test('a balance broken on purpose: exit 2 with one line naming the card and account', async () => {
    await database
      .db('card_accounts')
      .where({
        card_id: database.db('cards').select('id').where({ card_code: cardCode }),
        account: 'CANTEEN',
      })
      .update({ balance_cents: database.db.raw('balance_cents + 1') });
    try {
      const text = await waitForExit(spawnCli(['ledger', 'verify'], env));
      expect(text.code).toBe(2);
      const lines = text.stdout.trim().split('\n');
      expect(lines).toHaveLength(2);
      expect(lines[0]).toMatch(
        new RegExp(
          `^MISMATCH card ${cardCode} account CANTEEN .*balance 1551 cents, sum of entries 1550 cents, difference 1 cents$`,
        ),
      );
      expect(lines[1]).toBe('3 accounts checked, 1 mismatched');

      const json = await waitForExit(spawnCli(['ledger', 'verify', '--json'], env));
      expect(json.code).toBe(2);
      expect(JSON.parse(json.stdout)).toEqual({
        accountsChecked: 3,
        mismatches: [
          {
            cardAccountId: expect.any(Number),
            cardCode,
            domain: '80000000001',
            account: 'CANTEEN',
            balanceCents: 1_551,
            sumOfEntriesCents: 1_550,
            differenceCents: 1,
          },
        ],
      });
    } finally {
      await database
        .db('card_accounts')
        .where({
          card_id: database.db('cards').select('id').where({ card_code: cardCode }),
          account: 'CANTEEN',
        })
        .update({ balance_cents: database.db.raw('balance_cents - 1') });
    }
  });

  test('an unreachable database is exit 3 (unavailable), never 2 (mismatch) or 0', async () => {
    const res = await waitForExit(
      spawnCli(['ledger', 'verify'], {
        ...env,
        DATABASE_URL: 'mysql://root@127.0.0.1:1/nowhere',
      }),
    );
    expect(res.code).toBe(3);
    expect(res.stderr).toMatch(/^error: dependency-down: cannot read the database/);
    expect(res.stdout).toBe('');
  });
});
