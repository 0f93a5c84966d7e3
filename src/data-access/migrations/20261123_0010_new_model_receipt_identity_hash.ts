import type { Knex } from 'knex';
import { receiptIdentity, type Receipt } from '../../adapters/pagopa/pa-for-node';
import { contentHash } from '../../shared/hash';

/**
 * New-model receipts (paSendRT, paSendRTV2) are compared by their identity, not their whole
 * content, since a receipt may also arrive recovered from biz-events (see
 * adapters/pagopa/pa-for-node/receipt-identity.ts). The receipts already stored were hashed whole:
 * their hash is recomputed from the stored parsed receipt, so the node's resends of them are still
 * recognised as identical. Conflict rows keep their hash (it only tells their contents apart).
 *
 * Batches by id keep memory flat on a large inbox. Not reversible: the whole-content hash is a
 * function of `parsed` too, but nothing compares by it any more.
 */
const BATCH = 500;

export async function up(knex: Knex): Promise<void> {
  let after = 0;
  for (;;) {
    const rows = (await knex('receipts')
      .select('id', 'parsed')
      .whereIn('source', ['PA_SEND_RT', 'PA_SEND_RT_V2'])
      .andWhere('id', '>', after)
      .orderBy('id')
      .limit(BATCH)) as { id: number | string; parsed: unknown }[];
    if (rows.length === 0) return;
    for (const row of rows) {
      const parsed = (
        typeof row.parsed === 'string' ? JSON.parse(row.parsed) : row.parsed
      ) as Receipt;
      await knex('receipts')
        .where({ id: row.id })
        .update({ payload_hash: contentHash(receiptIdentity(parsed)) });
    }
    after = Number(rows[rows.length - 1]!.id);
  }
}

export function down(): Promise<void> {
  return Promise.resolve();
}
