import type { Knex } from 'knex';

/**
 * The receipts inbox: every receipt the node pushes (paSendRT/V2, paaInviaRT, MyPay outcomes) or
 * that recovery fetches, stored raw and parsed before it is acknowledged.
 *
 * Why (domain, IUV, receipt key) is the business key: it is what the node resends with; the
 * receipt key is the receiptId in the new model and the CCP in the RT model. A resend with the
 * same key and the same content hash is the same receipt; with another hash it is a conflict,
 * kept in `receipt_conflicts` for operators and never applied.
 *
 * A receipt's arrival is its own row (state, reason, received_at): the node's answer waits for
 * that single insert. `receipt_state_changes` records every transition after it.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('receipts', (t) => {
    t.bigIncrements('id');
    t.string('domain_id', 11).notNullable();
    t.string('iuv', 35).notNullable();
    t.string('receipt_key', 35).notNullable();
    t.enum('source', [
      'PA_SEND_RT',
      'PA_SEND_RT_V2',
      'PAA_INVIA_RT',
      'MYPAY',
      'RECOVERY',
    ]).notNullable();
    t.string('notice_number', 18).nullable();
    t.string('broker_id', 35).nullable();
    t.string('station_id', 35).nullable();
    // PAID (outcome OK / RT 0), NOT_PAID (RT 1), PARTIAL (RT 2), TIMED_OUT (RT 3), PARTIAL_TIMED_OUT (RT 4).
    t.enum('outcome', [
      'PAID',
      'NOT_PAID',
      'PARTIAL',
      'TIMED_OUT',
      'PARTIAL_TIMED_OUT',
    ]).notNullable();
    t.bigInteger('amount_cents').notNullable();
    t.timestamp('paid_at', { precision: 3 }).nullable();
    t.string('payload_hash', 64).notNullable();
    t.specificType('raw_xml', 'MEDIUMTEXT').notNullable();
    t.json('parsed').notNullable();
    t.enum('state', ['RECEIVED', 'RECONCILED', 'FAILED', 'QUARANTINED'])
      .notNullable()
      .defaultTo('RECEIVED');
    t.string('state_reason', 1000).nullable();
    t.bigInteger('debt_position_id').unsigned().nullable().references('debt_positions.id');
    t.bigInteger('payment_option_id').unsigned().nullable().references('payment_options.id');
    t.bigInteger('payment_attempt_id').unsigned().nullable().references('payment_attempts.id');
    t.timestamp('received_at', { precision: 3 }).notNullable().defaultTo(knex.fn.now(3));
    t.timestamp('updated_at', { precision: 3 }).notNullable().defaultTo(knex.fn.now(3));
    t.timestamp('reconciled_at', { precision: 3 }).nullable();
    t.unique(['domain_id', 'iuv', 'receipt_key'], { indexName: 'receipts_business_key_uq' });
    // The sweeper looks for RECEIVED receipts older than N seconds.
    t.index(['state', 'received_at'], 'receipts_state_received_idx');
    // The ERP feed pages by (received_at, id).
    t.index(['received_at', 'id'], 'receipts_feed_idx');
    t.index(['debt_position_id'], 'receipts_position_idx');
  });

  await knex.schema.createTable('receipt_conflicts', (t) => {
    t.bigIncrements('id');
    t.bigInteger('receipt_id').unsigned().notNullable().references('receipts.id');
    t.string('payload_hash', 64).notNullable();
    t.specificType('raw_xml', 'MEDIUMTEXT').notNullable();
    t.json('parsed').notNullable();
    t.timestamp('received_at', { precision: 3 }).notNullable().defaultTo(knex.fn.now(3));
    // One row per distinct conflicting content: the node's resends of it do not pile up.
    t.unique(['receipt_id', 'payload_hash'], { indexName: 'receipt_conflicts_content_uq' });
  });

  await knex.schema.createTable('receipt_state_changes', (t) => {
    t.bigIncrements('id');
    t.bigInteger('receipt_id').unsigned().notNullable().references('receipts.id');
    t.string('from_state', 20).nullable();
    t.string('to_state', 20).notNullable();
    t.string('reason', 1000).nullable();
    t.string('actor', 100).notNullable();
    t.timestamp('changed_at', { precision: 3 }).notNullable().defaultTo(knex.fn.now(3));
    t.index(['receipt_id', 'id'], 'receipt_state_changes_receipt_idx');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('receipt_state_changes');
  await knex.schema.dropTable('receipt_conflicts');
  await knex.schema.dropTable('receipts');
}
