import type { Knex } from 'knex';

/**
 * Stored answers of requests sent with an `Idempotency-Key` header (table `idempotency_keys`).
 *
 * A key is unique within a scope (the caller and the operation), so two ERPs, or two operations
 * of one ERP, can never replay each other's answers. The UNIQUE(scope, idempotency_key) index is
 * the final arbiter between concurrent first requests: the loser's insert fails with a duplicate
 * key and it reads the winner's answer.
 */

export type IdempotencyRecord = {
  scope: string;
  key: string;
  requestHash: string;
  responseStatus: number;
  responseBody: unknown;
  createdAt: Date;
};

type Row = {
  scope: string;
  idempotency_key: string;
  request_hash: string;
  response_status: number;
  response_body: string | object;
  created_at: Date;
};

/** The stored answer for (scope, key), read from the latest committed state. */
export async function findIdempotencyRecord(
  db: Knex | Knex.Transaction,
  scope: string,
  key: string,
): Promise<IdempotencyRecord | undefined> {
  const row = (await db('idempotency_keys').where({ scope, idempotency_key: key }).first()) as
    Row | undefined;
  if (row === undefined) return undefined;
  return {
    scope: row.scope,
    key: row.idempotency_key,
    requestHash: row.request_hash,
    responseStatus: Number(row.response_status),
    // MariaDB's JSON is LONGTEXT: the driver hands back the text.
    responseBody:
      typeof row.response_body === 'string'
        ? (JSON.parse(row.response_body) as unknown)
        : row.response_body,
    createdAt: row.created_at,
  };
}

/**
 * Stores the answer given to the first request with this key, in the transaction that did the
 * work: either both are committed or neither.
 * @throws the driver's duplicate-key error when a concurrent request stored the key first.
 */
export async function insertIdempotencyRecord(
  trx: Knex.Transaction,
  record: Omit<IdempotencyRecord, 'createdAt'>,
): Promise<void> {
  await trx('idempotency_keys').insert({
    scope: record.scope,
    idempotency_key: record.key,
    request_hash: record.requestHash,
    response_status: record.responseStatus,
    response_body: JSON.stringify(record.responseBody),
    created_at: new Date(),
  });
}
