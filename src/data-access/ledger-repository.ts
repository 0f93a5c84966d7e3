import type { Knex } from 'knex';
import { AppError } from '../domain/errors';
import { isDuplicateKey } from './errors';

/**
 * The only code that writes ledger entries and account balances.
 *
 * There is no UPDATE or DELETE of `ledger_entries` anywhere: corrections are reversal entries.
 * The balance column is changed only here, in the transaction that appends the entry, under a
 * row lock on the account, so concurrent postings cannot lose an update or race an overdraft check.
 */

export const ACCOUNTS = ['CANTEEN', 'NURSERY_MEALS', 'SCHOOL_TRANSPORT'] as const;
export type Account = (typeof ACCOUNTS)[number];

export const ENTRY_KINDS = [
  'TOP_UP',
  'CHARGE',
  'ADJUSTMENT',
  'BILLING',
  'PAYMENT',
  'OFFLINE_PAYMENT',
  'REVERSAL',
] as const;
export type EntryKind = (typeof ENTRY_KINDS)[number];

export type NewEntry = {
  cardAccountId: number;
  /** Positive credits the account, negative debits it. */
  amountCents: number;
  kind: EntryKind;
  /** The business key that makes the posting idempotent; the same key is never applied twice. */
  idempotencyKey: string;
  /** SHA-256 of what was asked: the same key with another hash is a conflict, not a resend. */
  requestHash: string;
  reference?: string | null;
  description?: string | null;
  debtPositionId?: number | null;
  paymentOptionId?: number | null;
  reversesEntryId?: number | null;
};

export type LedgerEntry = {
  id: number;
  cardAccountId: number;
  amountCents: number;
  kind: EntryKind;
  idempotencyKey: string;
  requestHash: string;
  reference: string | null;
  description: string | null;
  debtPositionId: number | null;
  paymentOptionId: number | null;
  reversesEntryId: number | null;
  balanceAfterCents: number;
  createdAt: Date;
};

type EntryRow = {
  id: number;
  card_account_id: number;
  amount_cents: number | string;
  kind: EntryKind;
  idempotency_key: string;
  request_hash: string;
  reference: string | null;
  description: string | null;
  debt_position_id: number | null;
  payment_option_id: number | null;
  reverses_entry_id: number | null;
  balance_after_cents: number | string;
  created_at: Date;
};

export const toLedgerEntry = (row: EntryRow): LedgerEntry => ({
  id: Number(row.id),
  cardAccountId: Number(row.card_account_id),
  amountCents: Number(row.amount_cents),
  kind: row.kind,
  idempotencyKey: row.idempotency_key,
  requestHash: row.request_hash,
  reference: row.reference,
  description: row.description,
  debtPositionId: row.debt_position_id === null ? null : Number(row.debt_position_id),
  paymentOptionId: row.payment_option_id === null ? null : Number(row.payment_option_id),
  reversesEntryId: row.reverses_entry_id === null ? null : Number(row.reverses_entry_id),
  balanceAfterCents: Number(row.balance_after_cents),
  createdAt: row.created_at,
});

/** A card account row locked (`FOR UPDATE`) in the current transaction. */
export type LockedAccount = {
  id: number | string;
  balance_cents: number | string;
  overdraft_limit_cents: number | string;
};

export type PostOptions = {
  /** Refuse a debit that would take the balance below minus the account's overdraft limit. */
  enforceOverdraft: boolean;
  /**
   * The entry's account, when the caller has locked it in this transaction already (it must be
   * the row of `entry.cardAccountId`, read `FOR UPDATE`): saves postEntry its own locking read.
   */
  lockedAccount?: LockedAccount;
};

export type PostResult = { entry: LedgerEntry; created: boolean };

export const INSERT_ENTRY =
  'INSERT INTO ledger_entries (card_account_id, amount_cents, kind, idempotency_key, request_hash, ' +
  'reference, description, debt_position_id, payment_option_id, reverses_entry_id, ' +
  'balance_after_cents, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)';

/** The bindings of {@link INSERT_ENTRY}, in its column order. */
export function insertEntryBindings(
  entry: NewEntry,
  balanceAfterCents: number,
  createdAt: Date,
): (string | number | Date | null)[] {
  return [
    entry.cardAccountId,
    entry.amountCents,
    entry.kind,
    entry.idempotencyKey,
    entry.requestHash,
    entry.reference ?? null,
    entry.description ?? null,
    entry.debtPositionId ?? null,
    entry.paymentOptionId ?? null,
    entry.reversesEntryId ?? null,
    balanceAfterCents,
    createdAt,
  ];
}

/**
 * Appends one entry and moves the account balance, idempotently.
 * Must run inside the caller's transaction (the caller owns the boundary).
 *
 * Why insert first: a new key is the common case, so the unique index on the key decides instead
 * of a read before every insert; a duplicate is re-read with a locking read and compared. The
 * statements are prebuilt SQL: this runs once per receipt reconciled.
 * @throws AppError('not-found') when the account does not exist.
 * @throws AppError('idempotency-conflict') when the key exists with a different request hash.
 * @throws AppError('insufficient-credit') when `enforceOverdraft` and the debit exceeds the limit.
 */
export async function postEntry(
  trx: Knex.Transaction,
  entry: NewEntry,
  options: PostOptions,
): Promise<PostResult> {
  if (!Number.isSafeInteger(entry.amountCents)) {
    throw new AppError(
      'amount-invalid',
      `amount ${entry.amountCents} is not an integer number of cents`,
    );
  }
  // Lock the account first: every posting with the same key targets the same account, so this
  // lock also serialises resends of the same request.
  const account = options.lockedAccount ?? (await lockAccount(trx, entry.cardAccountId));
  if (account === undefined)
    throw new AppError('not-found', `card account ${entry.cardAccountId} not found`);

  const balance = Number(account.balance_cents);
  const next = balance + entry.amountCents;
  if (
    options.enforceOverdraft &&
    entry.amountCents < 0 &&
    next < -Number(account.overdraft_limit_cents)
  ) {
    // A resend of a debit posted earlier answers that entry, whatever the balance is now.
    const existing = await lockEntryByKey(trx, entry.idempotencyKey);
    if (existing !== undefined) return sameOrConflict(existing, entry);
    throw new AppError(
      'insufficient-credit',
      `balance ${balance} cents does not cover ${-entry.amountCents} cents`,
      {
        balanceCents: balance,
        overdraftLimitCents: Number(account.overdraft_limit_cents),
      },
    );
  }

  // The row's timestamp is set here so the entry returned is exactly the entry stored.
  const createdAt = new Date();
  let id: number;
  try {
    const [header] = (await trx.raw(INSERT_ENTRY, insertEntryBindings(entry, next, createdAt))) as [
      { insertId: number },
    ];
    id = Number(header.insertId);
  } catch (err) {
    // A resend (committed before or after our snapshot), or a key posted against another
    // account: the unique index decides, and the statement alone was rolled back.
    if (!isDuplicateKey(err)) throw err;
    const winner = await lockEntryByKey(trx, entry.idempotencyKey);
    if (winner === undefined) throw err;
    return sameOrConflict(winner, entry);
  }
  await trx.raw('UPDATE card_accounts SET balance_cents = ?, updated_at = NOW(3) WHERE id = ?', [
    next,
    entry.cardAccountId,
  ]);
  return {
    entry: {
      id,
      cardAccountId: entry.cardAccountId,
      amountCents: entry.amountCents,
      kind: entry.kind,
      idempotencyKey: entry.idempotencyKey,
      requestHash: entry.requestHash,
      reference: entry.reference ?? null,
      description: entry.description ?? null,
      debtPositionId: entry.debtPositionId ?? null,
      paymentOptionId: entry.paymentOptionId ?? null,
      reversesEntryId: entry.reversesEntryId ?? null,
      balanceAfterCents: next,
      createdAt,
    },
    created: true,
  };
}

async function lockAccount(
  trx: Knex.Transaction,
  cardAccountId: number,
): Promise<LockedAccount | undefined> {
  const [rows] = (await trx.raw(
    'SELECT id, balance_cents, overdraft_limit_cents FROM card_accounts WHERE id = ? FOR UPDATE',
    [cardAccountId],
  )) as [LockedAccount[]];
  return rows[0];
}

/**
 * The entry with this key, by a locking read: it sees the latest committed row, even when this
 * transaction's snapshot was taken (by an earlier plain read of the caller) before it committed.
 */
async function lockEntryByKey(
  trx: Knex.Transaction,
  key: string,
): Promise<LedgerEntry | undefined> {
  const [rows] = (await trx.raw(
    'SELECT * FROM ledger_entries WHERE idempotency_key = ? LIMIT 1 LOCK IN SHARE MODE',
    [key],
  )) as [EntryRow[]];
  const row = rows[0];
  return row === undefined ? undefined : toLedgerEntry(row);
}

function sameOrConflict(existing: LedgerEntry, asked: NewEntry): PostResult {
  if (
    existing.requestHash !== asked.requestHash ||
    existing.cardAccountId !== asked.cardAccountId
  ) {
    throw new AppError(
      'idempotency-conflict',
      `"${asked.idempotencyKey}" was already used for a different request`,
      { idempotencyKey: asked.idempotencyKey },
    );
  }
  return { entry: existing, created: false };
}

export async function findByIdempotencyKey(
  db: Knex | Knex.Transaction,
  key: string,
): Promise<LedgerEntry | undefined> {
  const row = await db<EntryRow>('ledger_entries').where({ idempotency_key: key }).first();
  return row === undefined ? undefined : toLedgerEntry(row);
}

export type BalanceMismatch = {
  cardAccountId: number;
  balanceCents: number;
  sumOfEntriesCents: number;
};

/**
 * Proves every stored balance equals the sum of its entries; returns the accounts where not.
 */
export async function verifyBalances(
  db: Knex,
): Promise<{ accounts: number; mismatches: BalanceMismatch[] }> {
  // One statement: InnoDB reads it from one consistent snapshot, so postings running meanwhile
  // cannot make a balance and its entries disagree in the result.
  const rows = (await db('card_accounts as a')
    .leftJoin('ledger_entries as e', 'e.card_account_id', 'a.id')
    .groupBy('a.id', 'a.balance_cents')
    .select('a.id', 'a.balance_cents')
    .sum({ total: 'e.amount_cents' })) as {
    id: number;
    balance_cents: number | string;
    total: number | string | null;
  }[];
  const mismatches = rows
    .map((r) => ({
      cardAccountId: Number(r.id),
      balanceCents: Number(r.balance_cents),
      sumOfEntriesCents: Number(r.total ?? 0),
    }))
    .filter((m) => m.balanceCents !== m.sumOfEntriesCents);
  return { accounts: rows.length, mismatches };
}

export type BulkResult = { created: number; alreadyPosted: number };

/**
 * Posts many entries in one transaction with a handful of statements instead of four per entry:
 * locks every account touched (in id order, so two bulk posts cannot deadlock each other), skips
 * entries whose key is already posted with the same hash, refuses the whole batch on a conflict
 * or, with `enforceOverdraft`, on any debit past its limit, then inserts the new entries and moves
 * each balance once. Same guarantees as `postEntry`, for billing runs and replays at volume.
 * @throws AppError('idempotency-conflict' | 'insufficient-credit' | 'not-found' | 'invalid-input')
 */
export async function postEntriesBulk(
  trx: Knex.Transaction,
  entries: readonly NewEntry[],
  options: PostOptions,
): Promise<BulkResult> {
  if (entries.length === 0) return { created: 0, alreadyPosted: 0 };
  const keys = new Set<string>();
  for (const e of entries) {
    if (!Number.isSafeInteger(e.amountCents)) {
      throw new AppError(
        'amount-invalid',
        `amount ${e.amountCents} is not an integer number of cents`,
      );
    }
    if (keys.has(e.idempotencyKey)) {
      throw new AppError(
        'invalid-input',
        `idempotency key "${e.idempotencyKey}" appears twice in one batch`,
      );
    }
    keys.add(e.idempotencyKey);
  }
  const accountIds = [...new Set(entries.map((e) => e.cardAccountId))].sort((a, b) => a - b);
  const accounts = new Map<number, { balance: number; overdraft: number }>();
  for (const chunk of chunks(accountIds, 1_000)) {
    const rows = (await trx('card_accounts')
      .whereIn('id', chunk)
      .orderBy('id')
      .forUpdate()
      .select('id', 'balance_cents', 'overdraft_limit_cents')) as {
      id: number;
      balance_cents: number | string;
      overdraft_limit_cents: number | string;
    }[];
    for (const r of rows) {
      accounts.set(Number(r.id), {
        balance: Number(r.balance_cents),
        overdraft: Number(r.overdraft_limit_cents),
      });
    }
  }
  const missing = accountIds.find((id) => !accounts.has(id));
  if (missing !== undefined) throw new AppError('not-found', `card account ${missing} not found`);

  const existing = new Map<string, { hash: string; account: number }>();
  for (const chunk of chunks([...keys], 1_000)) {
    const rows = (await trx('ledger_entries')
      .whereIn('idempotency_key', chunk)
      .select('idempotency_key', 'request_hash', 'card_account_id')) as {
      idempotency_key: string;
      request_hash: string;
      card_account_id: number;
    }[];
    for (const r of rows)
      existing.set(r.idempotency_key, { hash: r.request_hash, account: Number(r.card_account_id) });
  }

  const createdAt = new Date();
  const rows: Record<string, unknown>[] = [];
  let alreadyPosted = 0;
  for (const e of entries) {
    const prior = existing.get(e.idempotencyKey);
    if (prior !== undefined) {
      if (prior.hash !== e.requestHash || prior.account !== e.cardAccountId) {
        throw new AppError(
          'idempotency-conflict',
          `"${e.idempotencyKey}" was already used for a different request`,
          {
            idempotencyKey: e.idempotencyKey,
          },
        );
      }
      alreadyPosted += 1;
      continue;
    }
    const account = accounts.get(e.cardAccountId) as { balance: number; overdraft: number };
    const next = account.balance + e.amountCents;
    if (options.enforceOverdraft && e.amountCents < 0 && next < -account.overdraft) {
      throw new AppError(
        'insufficient-credit',
        `account ${e.cardAccountId}: balance ${account.balance} cents does not cover ${-e.amountCents} cents`,
        {
          cardAccountId: e.cardAccountId,
          balanceCents: account.balance,
        },
      );
    }
    account.balance = next;
    rows.push({
      card_account_id: e.cardAccountId,
      amount_cents: e.amountCents,
      kind: e.kind,
      idempotency_key: e.idempotencyKey,
      request_hash: e.requestHash,
      reference: e.reference ?? null,
      description: e.description ?? null,
      debt_position_id: e.debtPositionId ?? null,
      payment_option_id: e.paymentOptionId ?? null,
      reverses_entry_id: e.reversesEntryId ?? null,
      balance_after_cents: next,
      created_at: createdAt,
    });
  }
  for (const chunk of chunks(rows, 1_000)) await trx('ledger_entries').insert(chunk);
  // One UPDATE per chunk of accounts, not one per account: a billing run touches thousands.
  const touched = [...new Set(rows.map((r) => r['card_account_id'] as number))];
  for (const chunk of chunks(touched, 500)) {
    const cases = chunk.map(() => 'WHEN ? THEN ?').join(' ');
    const bindings = chunk.flatMap((id) => [id, (accounts.get(id) as { balance: number }).balance]);
    await trx.raw(
      `UPDATE card_accounts SET balance_cents = CASE id ${cases} END, updated_at = NOW(3) WHERE id IN (${chunk.map(() => '?').join(',')})`,
      [...bindings, ...chunk],
    );
  }
  return { created: rows.length, alreadyPosted };
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** An entry with the name of the account it was posted on: one line of a card's history. */
export type CardEntry = LedgerEntry & { account: Account };

/**
 * A card's entries, newest first, older than `beforeId` when given, at most `limit`.
 * Why one ordered, limited read per account merged by id: each uses the (card_account_id, id)
 * index as it stands and stops after `limit` rows, however long the card's history is.
 */
export async function listCardEntries(
  db: Knex,
  cardId: number,
  options: { beforeId?: number; limit: number; account?: Account },
): Promise<CardEntry[]> {
  const accounts = (await db('card_accounts')
    .where({ card_id: cardId })
    .modify((q) => {
      if (options.account !== undefined) void q.where({ account: options.account });
    })
    .select('id', 'account')) as { id: number | string; account: Account }[];
  const perAccount = await Promise.all(
    accounts.map(async (a) => {
      const rows = (await db<EntryRow>('ledger_entries')
        .where({ card_account_id: Number(a.id) })
        .modify((q) => {
          if (options.beforeId !== undefined) void q.where('id', '<', options.beforeId);
        })
        .orderBy('id', 'desc')
        .limit(options.limit)) as EntryRow[];
      return rows.map((r) => ({ ...toLedgerEntry(r), account: a.account }));
    }),
  );
  return perAccount
    .flat()
    .sort((x, y) => y.id - x.id)
    .slice(0, options.limit);
}

export type AccountDescription = {
  cardAccountId: number;
  domainId: string;
  cardCode: string;
  account: Account;
};

/** Names accounts by card code and account, for operators reading a verification report. */
export async function describeAccounts(
  db: Knex,
  cardAccountIds: readonly number[],
): Promise<AccountDescription[]> {
  if (cardAccountIds.length === 0) return [];
  const rows = (await db('card_accounts as a')
    .join('cards as c', 'c.id', 'a.card_id')
    .whereIn('a.id', cardAccountIds)
    .select('a.id', 'a.account', 'c.domain_id', 'c.card_code')) as {
    id: number | string;
    account: Account;
    domain_id: string;
    card_code: string;
  }[];
  return rows.map((r) => ({
    cardAccountId: Number(r.id),
    domainId: r.domain_id,
    cardCode: r.card_code,
    account: r.account,
  }));
}
