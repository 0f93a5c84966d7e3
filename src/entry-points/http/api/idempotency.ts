import type { Knex } from 'knex';
import { isDuplicateKey } from '../../../data-access/errors';
import {
  findIdempotencyRecord,
  insertIdempotencyRecord,
} from '../../../data-access/idempotency-repository';
import { AppError } from '../../../domain/errors';
import { contentHash } from '../../../shared/hash';
import type { Principal } from './auth';
import type { HandlerResult, RouteSpec } from './route';

/**
 * `Idempotency-Key` for any route that creates something: a retried request (a timeout, a
 * double click in the ERP's portal) gets the first answer again instead of a second top-up.
 *
 * Contract (as in the IETF httpapi idempotency-key draft):
 * - the key is 1 to 200 visible ASCII characters, chosen by the caller (a UUID is fine);
 * - it is scoped to the calling API key and the operation;
 * - same key, same request: the stored answer, with `Idempotent-Replayed: true`;
 * - same key, another request: 409 `idempotency-conflict`;
 * - only successful answers are stored, in the same transaction as the work: an error leaves
 *   nothing behind and the caller may retry with the same key once the cause is fixed.
 * Keys are kept; a later purge job may drop old ones (the table has `created_at`).
 */

export const IDEMPOTENCY_KEY_HEADER = 'Idempotency-Key';
const KEY = /^[\x21-\x7e]{1,200}$/;

/** The header's declaration for a route's OpenAPI document. */
export const idempotencyKeyHeader = (
  required: boolean,
): NonNullable<RouteSpec['headers']>[number] => ({
  name: IDEMPOTENCY_KEY_HEADER,
  required,
  description:
    'Caller-chosen key (1-200 visible ASCII characters, e.g. a UUID). A retry with the same key and body gets the first answer again; the same key with another body is refused (409).',
});

export type IdempotentWork = (trx: Knex.Transaction) => Promise<{ status: number; body: unknown }>;

/**
 * Runs `work` in a transaction, at most once per idempotency key.
 * @param request what identifies the request's content (path parameters and parsed body).
 * @throws AppError('invalid-input') when the key is malformed, or missing and `required`.
 * @throws AppError('idempotency-conflict') when the key was used for a different request.
 */
export async function runIdempotent(
  db: Knex,
  call: { principal: Principal; header: (name: string) => string | undefined },
  options: { operationId: string; required: boolean; request: unknown },
  work: IdempotentWork,
): Promise<HandlerResult> {
  const key = call.header(IDEMPOTENCY_KEY_HEADER);
  if (key === undefined) {
    if (options.required) {
      throw new AppError(
        'invalid-input',
        `send an ${IDEMPOTENCY_KEY_HEADER} header (e.g. a UUID) so that a retry cannot do this twice`,
      );
    }
    return db.transaction(work);
  }
  if (!KEY.test(key)) {
    throw new AppError(
      'invalid-input',
      `${IDEMPOTENCY_KEY_HEADER} must be 1 to 200 visible ASCII characters`,
    );
  }
  const scope = `${call.principal.name}:${options.operationId}`;
  const requestHash = contentHash(options.request);

  const stored = await findIdempotencyRecord(db, scope, key);
  if (stored !== undefined) return replay(stored, requestHash, key);
  try {
    return await db.transaction(async (trx) => {
      const result = await work(trx);
      await insertIdempotencyRecord(trx, {
        scope,
        key,
        requestHash,
        responseStatus: result.status,
        responseBody: result.body,
      });
      return result;
    });
  } catch (err) {
    // A concurrent request with the same key committed first: its work stands, ours is undone.
    if (!isDuplicateKey(err)) throw err;
    const winner = await findIdempotencyRecord(db, scope, key);
    if (winner === undefined) throw err;
    return replay(winner, requestHash, key);
  }
}

function replay(
  stored: { requestHash: string; responseStatus: number; responseBody: unknown },
  requestHash: string,
  key: string,
): HandlerResult {
  if (stored.requestHash !== requestHash) {
    throw new AppError(
      'idempotency-conflict',
      `${IDEMPOTENCY_KEY_HEADER} "${key.slice(0, 40)}" was already used for a different request`,
    );
  }
  return {
    status: stored.responseStatus,
    body: stored.responseBody,
    headers: { 'Idempotent-Replayed': 'true' },
  };
}
