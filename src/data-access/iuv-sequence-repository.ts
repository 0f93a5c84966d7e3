import type { Knex } from 'knex';
import { IUV_BASE_LENGTH, IUV_BASE_MAX } from '../domain/codes';
import { AppError } from '../domain/errors';
import { isTransientDbError } from './errors';

/**
 * Hands out IUV bases (the 13-digit sequence part of an aux-3 or aux-0 IUV) from the
 * `iuv_sequences` table. The check-digit arithmetic stays in src/domain/codes.
 *
 * Why a row lock and not an in-memory counter: several processes (api, worker, billing CLI) make
 * notices at once, and a base handed out twice is two debts with one IUV. Each allocation is one
 * transaction that locks the sequence row (`SELECT ... FOR UPDATE`), checks the space left, and
 * moves the row forward by the block size; a concurrent caller waits for the lock and starts where
 * the first one stopped. Gaps are allowed (a caller that allocates and then fails does not give
 * its bases back), duplicates never.
 */

export type IuvSequenceKey =
  { domain: string; auxDigit: 3; segregationCode: string } | { domain: string; auxDigit: 0 };

/** One call allocates at most this many bases (a billing run asks for a block per batch). */
export const IUV_BLOCK_SIZE_MAX = 100_000;
/** The first base of a new sequence. */
export const IUV_FIRST_BASE = 1;

const TABLE = 'iuv_sequences';
const ATTEMPTS_MAX = 3;

type KeyColumns = { domain_id: string; aux_digit: number; segregation_code: string };

function keyColumns(key: IuvSequenceKey): KeyColumns {
  if (!/^\d{11}$/.test(key.domain)) {
    throw new AppError('invalid-input', `domain fiscal code "${key.domain}" must be 11 digits`);
  }
  if (key.auxDigit === 3) {
    if (!/^\d{2}$/.test(key.segregationCode)) {
      throw new AppError(
        'invalid-input',
        `segregation code "${key.segregationCode}" must be 2 digits`,
      );
    }
    return { domain_id: key.domain, aux_digit: 3, segregation_code: key.segregationCode };
  }
  // Aux 0: one sequence per domain, whatever the application code (see the migration).
  return { domain_id: key.domain, aux_digit: 0, segregation_code: '' };
}

const sequenceName = (key: IuvSequenceKey): string =>
  key.auxDigit === 3
    ? `domain ${key.domain}, segregation code ${key.segregationCode}`
    : `domain ${key.domain}, aux digit 0`;

async function allocateIn(
  trx: Knex.Transaction,
  key: IuvSequenceKey,
  columns: KeyColumns,
  count: number,
): Promise<number> {
  // Creates the row on first use. On an existing row it changes nothing but takes the row lock,
  // so two first callers cannot both insert.
  await trx.raw(
    `INSERT INTO ${TABLE} (domain_id, aux_digit, segregation_code, next_base) VALUES (?, ?, ?, ?)
     ON DUPLICATE KEY UPDATE next_base = next_base`,
    [columns.domain_id, columns.aux_digit, columns.segregation_code, IUV_FIRST_BASE],
  );
  const row = await trx(TABLE)
    .where(columns)
    .forUpdate()
    .first<{ next_base: number | string } | undefined>('next_base');
  if (row === undefined) {
    throw new AppError('internal', `IUV sequence of ${sequenceName(key)} vanished under its lock`);
  }
  const first = Number(row.next_base);
  const left = IUV_BASE_MAX - first + 1;
  if (count > left) {
    throw new AppError(
      'conflict',
      `IUV bases of ${sequenceName(key)} are exhausted: ${Math.max(left, 0)} left, ${count} asked; use another segregation code`,
      { domain: key.domain, auxDigit: key.auxDigit, left: Math.max(left, 0), asked: count },
    );
  }
  await trx(TABLE)
    .where(columns)
    .update({ next_base: first + count, updated_at: trx.fn.now(3) });
  return first;
}

/**
 * Allocates `count` consecutive IUV bases of one sequence, as 13-digit zero-padded strings in
 * increasing order. No base is ever returned twice, across calls, connections and processes.
 *
 * Pass the Knex instance, not the caller's transaction, unless the bases must disappear with a
 * rollback: inside a transaction the sequence row stays locked until that transaction ends, which
 * serialises every other allocation of the sequence behind it.
 * On its own transaction, a deadlock or lock-wait timeout is retried up to 3 times.
 * @throws AppError('invalid-input') when the domain, the segregation code or the count is malformed.
 * @throws AppError('conflict') when fewer than `count` bases are left in the 13-digit space; nothing is allocated.
 */
export async function allocateIuvBases(
  db: Knex | Knex.Transaction,
  request: IuvSequenceKey & { count: number },
): Promise<string[]> {
  const { count } = request;
  if (!Number.isSafeInteger(count) || count < 1 || count > IUV_BLOCK_SIZE_MAX) {
    throw new AppError(
      'invalid-input',
      `IUV block size ${String(count)} must be a whole number from 1 to ${IUV_BLOCK_SIZE_MAX}`,
    );
  }
  const columns = keyColumns(request);
  let first: number;
  if (db.isTransaction === true) {
    first = await allocateIn(db as Knex.Transaction, request, columns, count);
  } else {
    first = await withRetry(() =>
      db.transaction((trx) => allocateIn(trx, request, columns, count)),
    );
  }
  return Array.from({ length: count }, (_, i) => String(first + i).padStart(IUV_BASE_LENGTH, '0'));
}

async function withRetry<T>(work: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (err) {
      if (attempt >= ATTEMPTS_MAX || !isTransientDbError(err)) throw err;
    }
  }
}
