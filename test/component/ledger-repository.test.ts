import type { Db } from '../../src/data-access/db';
import {
  postEntriesBulk,
  postEntry,
  verifyBalances,
  type NewEntry,
} from '../../src/data-access/ledger-repository';
import { createTestDatabase } from '../helpers/db';

/**
 * The ledger's guarantees, against the real MariaDB: idempotent by key + hash, balances moved in
 * the same transaction, overdraft enforced under a row lock, the bulk path equal to the single one.
 */
describe('ledger repository', () => {
  let db: Db;
  let drop: () => Promise<void>;
  let nextCard = 1;

  beforeAll(async () => {
    ({ db, drop } = await createTestDatabase('ledger'));
  });
  afterAll(async () => {
    await drop();
  });

  async function anAccount(overdraftLimitCents = 0): Promise<number> {
    const n = nextCard++;
    const [cardId] = await db('cards').insert({
      domain_id: '80000000001',
      card_number: String(1000 + n),
      card_code: `${1000 + n}00`,
      holder_fiscal_code: 'RSSMRA80A01H501U',
      holder_full_name: 'Mario Rossi',
    });
    const [accountId] = await db('card_accounts').insert({
      card_id: cardId,
      account: 'CANTEEN',
      overdraft_limit_cents: overdraftLimitCents,
    });
    return Number(accountId);
  }

  const entry = (cardAccountId: number, over: Partial<NewEntry> = {}): NewEntry => ({
    cardAccountId,
    amountCents: 1_000,
    kind: 'TOP_UP',
    idempotencyKey: `k-${cardAccountId}-${Math.random()}`,
    requestHash: 'a'.repeat(64),
    ...over,
  });

  const balanceOf = async (id: number): Promise<number> =>
    Number(
      (
        (await db('card_accounts').where({ id }).first('balance_cents')) as {
          balance_cents: number;
        }
      ).balance_cents,
    );

  test('a posting moves the balance and records the balance after', async () => {
    const account = await anAccount();
    const { entry: posted, created } = await db.transaction((trx) =>
      postEntry(trx, entry(account, { amountCents: 1_230 }), { enforceOverdraft: true }),
    );
    expect(created).toBe(true);
    expect(posted.balanceAfterCents).toBe(1_230);
    expect(await balanceOf(account)).toBe(1_230);
  });

  test('the same key and hash twice posts once; the same key with another hash is a conflict', async () => {
    const account = await anAccount();
    const first = entry(account, { idempotencyKey: 'charge:once' });
    await db.transaction((trx) => postEntry(trx, first, { enforceOverdraft: true }));
    const again = await db.transaction((trx) => postEntry(trx, first, { enforceOverdraft: true }));
    expect(again.created).toBe(false);
    expect(await balanceOf(account)).toBe(1_000);
    await expect(
      db.transaction((trx) =>
        postEntry(trx, { ...first, requestHash: 'b'.repeat(64) }, { enforceOverdraft: true }),
      ),
    ).rejects.toMatchObject({ code: 'idempotency-conflict' });
    expect(await balanceOf(account)).toBe(1_000);
  });

  test('a debit past the overdraft limit is refused and leaves nothing', async () => {
    const account = await anAccount(500);
    await expect(
      db.transaction((trx) =>
        postEntry(trx, entry(account, { amountCents: -501, kind: 'CHARGE' }), {
          enforceOverdraft: true,
        }),
      ),
    ).rejects.toMatchObject({ code: 'insufficient-credit' });
    expect(await db('ledger_entries').where({ card_account_id: account })).toHaveLength(0);
    const ok = await db.transaction((trx) =>
      postEntry(trx, entry(account, { amountCents: -500, kind: 'CHARGE' }), {
        enforceOverdraft: true,
      }),
    );
    expect(ok.entry.balanceAfterCents).toBe(-500);
  });

  test('concurrent identical postings apply once', async () => {
    const account = await anAccount();
    const same = entry(account, { idempotencyKey: 'receipt:concurrent' });
    const results = await Promise.all(
      Array.from({ length: 10 }, () =>
        db.transaction((trx) => postEntry(trx, same, { enforceOverdraft: true })),
      ),
    );
    expect(results.filter((r) => r.created)).toHaveLength(1);
    expect(await balanceOf(account)).toBe(1_000);
  });

  test('bulk posting: new entries applied once, resends skipped, one balance update per account', async () => {
    const a = await anAccount();
    const b = await anAccount(10_000);
    const batch = [
      entry(a, { idempotencyKey: 'bulk:1', amountCents: 300 }),
      entry(a, { idempotencyKey: 'bulk:2', amountCents: 200 }),
      entry(b, { idempotencyKey: 'bulk:3', amountCents: -4_000, kind: 'BILLING' }),
    ];
    expect(
      await db.transaction((trx) => postEntriesBulk(trx, batch, { enforceOverdraft: true })),
    ).toEqual({ created: 3, alreadyPosted: 0 });
    expect(
      await db.transaction((trx) => postEntriesBulk(trx, batch, { enforceOverdraft: true })),
    ).toEqual({ created: 0, alreadyPosted: 3 });
    expect(await balanceOf(a)).toBe(500);
    expect(await balanceOf(b)).toBe(-4_000);
    const after = (await db('ledger_entries')
      .whereIn('idempotency_key', ['bulk:1', 'bulk:2'])
      .orderBy('id')
      .select('balance_after_cents')) as { balance_after_cents: number }[];
    expect(after.map((r) => Number(r.balance_after_cents))).toEqual([300, 500]);
  });

  test('bulk posting refuses the whole batch on a conflict or an overdraft', async () => {
    const a = await anAccount();
    await db.transaction((trx) =>
      postEntry(trx, entry(a, { idempotencyKey: 'bulk:taken' }), { enforceOverdraft: true }),
    );
    await expect(
      db.transaction((trx) =>
        postEntriesBulk(
          trx,
          [
            entry(a, { idempotencyKey: 'bulk:new' }),
            entry(a, { idempotencyKey: 'bulk:taken', requestHash: 'c'.repeat(64) }),
          ],
          { enforceOverdraft: true },
        ),
      ),
    ).rejects.toMatchObject({ code: 'idempotency-conflict' });
    await expect(
      db.transaction((trx) =>
        postEntriesBulk(
          trx,
          [entry(a, { idempotencyKey: 'bulk:big', amountCents: -5_000, kind: 'CHARGE' })],
          { enforceOverdraft: true },
        ),
      ),
    ).rejects.toMatchObject({ code: 'insufficient-credit' });
    expect(
      await db('ledger_entries').whereIn('idempotency_key', ['bulk:new', 'bulk:big']),
    ).toHaveLength(0);
    expect(await balanceOf(a)).toBe(1_000);
  });

  test('verifyBalances finds a balance that no longer equals its entries', async () => {
    expect((await verifyBalances(db)).mismatches).toEqual([]);
    const a = await anAccount();
    await db.transaction((trx) => postEntry(trx, entry(a), { enforceOverdraft: true }));
    await db('card_accounts').where({ id: a }).update({ balance_cents: 999_999 });
    const report = await verifyBalances(db);
    expect(report.mismatches).toEqual([
      { cardAccountId: a, balanceCents: 999_999, sumOfEntriesCents: 1_000 },
    ]);
    await db('card_accounts').where({ id: a }).update({ balance_cents: 1_000 });
  });
});
