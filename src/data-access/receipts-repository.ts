import type { Knex } from 'knex';
import type { ReceiptInbox } from '../domain/receipts/accept-receipt';
import type {
  NewReceipt,
  ReceiptBusinessKey,
  ReceiptLinks,
  StoreResult,
} from '../domain/receipts/types';
import { isMariaDb, type Db } from './db';
import { microBatch, type ItemOutcome } from '../shared/micro-batch';
import { isDuplicateKey, isTransientDbError } from './errors';
import { appendOutboxEvent } from './outbox-repository';

/** Who stored a receipt that came in through the SOAP doors (its history's first line). */
export const INTAKE_ACTOR = 'soap-intake';

/** Deadlocks between concurrent resends of one receipt are retried this many times in all. */
const ATTEMPTS_MAX = 3;

type OptionRow = { id: number; debt_position_id: number };
type AttemptRow = { id: number };
type PriorRow = { id: number; payload_hash: string };

/** The most receipts one batched statement carries. */
export const INTAKE_BATCH_MAX = 16;
/**
 * A receipt larger than this (raw XML) is inserted on its own: a batch stays a few MiB at most,
 * well under MariaDB's max_allowed_packet (16 MiB by default), whatever the body limit.
 */
const BATCH_ROW_MAX_CHARS = 64 * 1024;

export type ReceiptsRepositoryOptions = {
  /** Told the size of each batched statement the intake runs ('links' lookups, 'insert's). */
  onBatch?: (step: 'links' | 'insert', size: number) => void;
};

/**
 * The receipts inbox on MariaDB.
 *
 * Why insert first and read on ER_DUP_ENTRY: the unique business key is the only arbiter that
 * holds under concurrency (two resends racing); a new receipt, the common case, costs one insert.
 * A duplicate is re-read with a locking read inside the same transaction, so the row compared
 * against is the committed winner. No `INSERT IGNORE`: it would downgrade other errors to warnings.
 *
 * Why batched: the receipts that arrive in one turn of the event loop share one option lookup and
 * one multi-row INSERT (see microBatch); each is still answered only after the statement holding
 * it has committed. A batch that fails for any reason (a duplicate among them, a row MariaDB
 * refuses, a lost connection) is run again receipt by receipt, so each gets its own outcome and a
 * neighbour's problem is never another receipt's answer.
 */
export function receiptsRepository(db: Db, options: ReceiptsRepositoryOptions = {}): ReceiptInbox {
  const optionOf = microBatch<ReceiptBusinessKey, OptionRow | undefined>({
    maxItems: INTAKE_BATCH_MAX,
    run: (keys) => findOptions(db, keys),
    onBatch: (size) => options.onBatch?.('links', size),
  });
  const insertBatched = microBatch<NewReceipt, StoreResult>({
    maxItems: INTAKE_BATCH_MAX,
    run: (receipts) => insertMany(db, receipts),
    onBatch: (size) => options.onBatch?.('insert', size),
  });
  const storeOne = async (receipt: NewReceipt): Promise<StoreResult> => {
    const stored = await insertNew(db, receipt);
    if (stored !== undefined) return stored;
    return withRetry(() => db.transaction((trx) => resolveDuplicate(trx, receipt)));
  };
  return {
    findLinks: async (key, attemptCcp, attemptSessionId) => {
      const option = await optionOf(key);
      return linksOf(db, option, attemptCcp, attemptSessionId);
    },
    store: async (receipt) => {
      if (receipt.state === 'QUARANTINED') return storeHeld(db, receipt);
      if (receipt.rawXml.length > BATCH_ROW_MAX_CHARS || !(await isMariaDb(db))) {
        return storeOne(receipt);
      }
      try {
        return await insertBatched(receipt);
      } catch {
        // The batch failed as a whole: this receipt alone decides its answer now.
        return storeOne(receipt);
      }
    },
  };
}

/*
 * The intake's two statements are prebuilt SQL rather than query-builder chains: they run once
 * per receipt on the path the node waits on, and knex compiled them at a quarter of the
 * service's CPU per receipt.
 */
const SELECT_OPTION =
  'SELECT id, debt_position_id FROM payment_options WHERE domain_id = ? AND iuv = ? LIMIT 1';
const SELECT_ATTEMPT =
  'SELECT id FROM payment_attempts WHERE payment_option_id = ? AND ccp = ? ORDER BY id DESC LIMIT 1';
const SELECT_MYPAY_ATTEMPT =
  "SELECT id FROM payment_attempts WHERE payment_option_id = ? AND channel = 'MYPAY' " +
  'AND session_id = ? ORDER BY id DESC LIMIT 1';
const SELECT_OPTION_TAGGED =
  '(SELECT # AS i, id, debt_position_id FROM payment_options WHERE domain_id = ? AND iuv = ? LIMIT 1)';
const INSERT_RECEIPTS =
  'INSERT INTO receipts (domain_id, iuv, receipt_key, source, notice_number, broker_id, ' +
  'station_id, outcome, amount_cents, paid_at, payload_hash, raw_xml, parsed, state, ' +
  'state_reason, debt_position_id, payment_option_id, payment_attempt_id) VALUES';
const INSERT_ROW = '(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)';
const INSERT_RECEIPT = `${INSERT_RECEIPTS} ${INSERT_ROW}`;

/** The options of many receipts in one statement, one outcome per key (undefined: none). */
async function findOptions(
  db: Db,
  keys: readonly ReceiptBusinessKey[],
): Promise<ItemOutcome<OptionRow | undefined>[]> {
  if (keys.length === 1) {
    const [rows] = (await db.raw(SELECT_OPTION, [keys[0]!.domainId, keys[0]!.iuv])) as [
      OptionRow[],
    ];
    return [{ ok: true, value: rows[0] }];
  }
  // One point read per key on the unique (domain_id, iuv) index, tagged with the key's position:
  // matched by MariaDB with the column's collation, exactly as the single-key query matches.
  const [rows] = (await db.raw(
    keys.map((_, i) => SELECT_OPTION_TAGGED.replace('#', String(i))).join(' UNION ALL '),
    keys.flatMap((k) => [k.domainId, k.iuv]),
  )) as [(OptionRow & { i: number })[]];
  const byPosition = new Map(rows.map((r) => [Number(r.i), r]));
  return keys.map((_, i) => ({ ok: true, value: byPosition.get(i) }));
}

async function linksOf(
  db: Db,
  option: OptionRow | undefined,
  attemptCcp: string | undefined,
  attemptSessionId: string | undefined,
): Promise<ReceiptLinks> {
  if (option === undefined) return {};
  const links = {
    debtPositionId: Number(option.debt_position_id),
    paymentOptionId: Number(option.id),
  };
  if (attemptCcp === undefined && attemptSessionId === undefined) return links;
  const [attempts] = (await (attemptCcp !== undefined
    ? db.raw(SELECT_ATTEMPT, [option.id, attemptCcp])
    : db.raw(SELECT_MYPAY_ATTEMPT, [option.id, attemptSessionId ?? '']))) as [AttemptRow[]];
  const attempt = attempts[0];
  return attempt === undefined ? links : { ...links, paymentAttemptId: Number(attempt.id) };
}

/**
 * New receipts in one multi-row INSERT (autocommit: all or none), their ids read back with
 * MariaDB's RETURNING by business key (unique in a batch that succeeded).
 * @throws when the statement fails (a duplicate key among them included): the caller retries
 * each receipt on its own.
 */
async function insertMany(
  db: Db,
  receipts: readonly NewReceipt[],
): Promise<ItemOutcome<StoreResult>[]> {
  const rows = await executePrepared<{
    id: number;
    domain_id: string;
    iuv: string;
    receipt_key: string;
  }>(
    db,
    `${INSERT_RECEIPTS} ${receipts.map(() => INSERT_ROW).join(', ')} ` +
      'RETURNING id, domain_id, iuv, receipt_key',
    receipts.flatMap(insertBindings),
  );
  const ids = new Map(rows.map((r) => [`${r.domain_id}/${r.iuv}/${r.receipt_key}`, r.id]));
  return receipts.map((r) => {
    const id = ids.get(`${r.key.domainId}/${r.key.iuv}/${r.key.receiptKey}`);
    return id === undefined
      ? { ok: false, error: new Error('a batched receipt was not returned by its insert') }
      : { ok: true, value: { kind: 'stored', receiptId: Number(id) } };
  });
}

/** mysql2's (callback) connection, as far as the prepared path uses it. */
type PreparedConnection = {
  readonly _fatalError?: unknown;
  execute(
    sql: string,
    values: readonly unknown[],
    callback: (err: Error | null, rows: unknown) => void,
  ): void;
};
type PoolClient = {
  acquireConnection(): Promise<PreparedConnection>;
  releaseConnection(connection: PreparedConnection): Promise<unknown>;
};

/**
 * Runs one statement as a server-side prepared statement on a pooled connection (mysql2 keeps it
 * prepared per connection, by its text: one per batch size).
 *
 * Why: a batch carries tens of kilobytes of XML and JSON. As a text query every byte is escaped
 * by the driver and scanned again by MariaDB's parser; prepared, the values travel as
 * length-prefixed binary and neither side looks at them.
 */
async function executePrepared<T>(db: Db, sql: string, values: readonly unknown[]): Promise<T[]> {
  const pool = db.client as PoolClient;
  const conn = await pool.acquireConnection();
  try {
    return await new Promise<T[]>((resolve, reject) => {
      conn.execute(sql, values, (err, rows) => (err ? reject(err) : resolve(rows as T[])));
    });
  } finally {
    // Autocommit: nothing is left open; a broken connection is discarded by the pool.
    await pool.releaseConnection(conn);
  }
}

/**
 * The common case, a new receipt: one INSERT, committed on its own (autocommit), so the node's
 * answer waits for a single durable write. The row is the receipt's first history line (state,
 * reason, received_at); `receipt_state_changes` records the transitions after it.
 * Resolves undefined when the business key exists already.
 */
async function insertNew(
  db: Db | Knex.Transaction,
  r: NewReceipt,
): Promise<StoreResult | undefined> {
  try {
    const [header] = (await db.raw(INSERT_RECEIPT, insertBindings(r))) as [{ insertId: number }];
    return { kind: 'stored', receiptId: Number(header.insertId) };
  } catch (err) {
    if (!isDuplicateKey(err)) throw err;
    return undefined;
  }
}

/**
 * A receipt held for an operator (no position of ours, or an unexpected caller): stored with a
 * `receipt.failed` event (state QUARANTINED) in one transaction, so the ERP learns that money
 * arrived that nothing was credited with, exactly once (a resend finds the row and adds nothing).
 * Rare, so the extra statements do not weigh on the intake's common case.
 */
async function storeHeld(db: Db, r: NewReceipt): Promise<StoreResult> {
  return withRetry(() =>
    db.transaction(async (trx) => {
      const stored = await insertNew(trx, r);
      if (stored === undefined) return resolveDuplicate(trx, r);
      await appendOutboxEvent(trx, {
        type: 'receipt.failed',
        domainId: r.key.domainId,
        payload: {
          domainId: r.key.domainId,
          receiptId: stored.receiptId,
          iuv: r.key.iuv,
          receiptKey: r.key.receiptKey,
          noticeNumber: r.noticeNumber ?? null,
          amountCents: r.amountCents,
          state: 'QUARANTINED',
          // The catalogued reason only: the free-text detail stays in the inbox for operators.
          reason: r.misdirected !== undefined ? 'unexpected-caller' : 'unknown-position',
          debtPositionId: r.links.debtPositionId ?? null,
        },
      });
      return stored;
    }),
  );
}

/**
 * A resend, or a race between resends: the winner is re-read with a locking read (the committed
 * row, whatever this transaction's snapshot) and compared by content hash.
 */
async function resolveDuplicate(trx: Knex.Transaction, r: NewReceipt): Promise<StoreResult> {
  const parsedJson = JSON.stringify(r.parsed);
  const prior = (await trx('receipts')
    .select('id', 'payload_hash')
    .where({ domain_id: r.key.domainId, iuv: r.key.iuv, receipt_key: r.key.receiptKey })
    .forShare()
    .first()) as PriorRow | undefined;
  if (prior === undefined) {
    // The winner rolled back between our insert and our read: a transient race, retried.
    throw Object.assign(new Error('receipt vanished after a duplicate key'), { errno: 1213 });
  }
  const receiptId = Number(prior.id);
  if (prior.payload_hash === r.payloadHash) return { kind: 'identical', receiptId };
  try {
    await trx('receipt_conflicts').insert({
      receipt_id: receiptId,
      payload_hash: r.payloadHash,
      raw_xml: r.rawXml,
      parsed: parsedJson,
    });
    return { kind: 'conflict', receiptId, recorded: true };
  } catch (err) {
    if (!isDuplicateKey(err)) throw err;
    return { kind: 'conflict', receiptId, recorded: false };
  }
}

function insertBindings(r: NewReceipt): Knex.RawBinding[] {
  return [
    r.key.domainId,
    r.key.iuv,
    r.key.receiptKey,
    r.source,
    r.noticeNumber ?? null,
    r.brokerId,
    r.stationId,
    r.outcome,
    r.amountCents,
    r.paidAt !== undefined && !Number.isNaN(r.paidAt.getTime()) ? r.paidAt : null,
    r.payloadHash,
    r.rawXml,
    JSON.stringify(r.parsed),
    r.state,
    r.stateReason ?? null,
    r.links.debtPositionId ?? null,
    r.links.paymentOptionId ?? null,
    r.links.paymentAttemptId ?? null,
  ];
}

async function withRetry<T>(run: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await run();
    } catch (err) {
      const deadlockLike =
        isTransientDbError(err) &&
        typeof err === 'object' &&
        err !== null &&
        'errno' in err &&
        (err.errno === 1213 || err.errno === 1205);
      // Connection failures are not retried here: the node retries on PAA_SYSTEM_ERROR.
      if (!deadlockLike || attempt >= ATTEMPTS_MAX) throw err;
    }
  }
}

export type ReceiptHistoryLine = {
  fromState: string | null;
  toState: string;
  reason: string | null;
  actor: string;
  at: Date;
};

/**
 * The whole life of a receipt: its arrival (the receipt row's own state, reason and time), then
 * every transition recorded in `receipt_state_changes`, oldest first.
 */
export async function receiptHistory(db: Db, receiptId: number): Promise<ReceiptHistoryLine[]> {
  const receipt = (await db('receipts')
    .where({ id: receiptId })
    .first('received_at', 'source', 'state', 'state_reason')) as
    { received_at: Date; source: string; state: string; state_reason: string | null } | undefined;
  if (receipt === undefined) return [];
  const changes = (await db('receipt_state_changes')
    .where({ receipt_id: receiptId })
    .orderBy('id', 'asc')
    .select('from_state', 'to_state', 'reason', 'actor', 'changed_at')) as {
    from_state: string | null;
    to_state: string;
    reason: string | null;
    actor: string;
    changed_at: Date;
  }[];
  // The arrival state is the state before the first transition, or the current one.
  const arrivalState = changes[0]?.from_state ?? receipt.state;
  const arrival: ReceiptHistoryLine = {
    fromState: null,
    toState: arrivalState,
    reason: changes.length === 0 ? receipt.state_reason : null,
    actor: receipt.source === 'RECOVERY' ? 'recovery' : INTAKE_ACTOR,
    at: receipt.received_at,
  };
  return [
    arrival,
    ...changes.map((c) => ({
      fromState: c.from_state,
      toState: c.to_state,
      reason: c.reason,
      actor: c.actor,
      at: c.changed_at,
    })),
  ];
}
