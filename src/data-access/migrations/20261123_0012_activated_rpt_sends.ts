import type { Knex } from 'knex';

/**
 * The outbox of old model 3 (PAGOPA.md §4): after paaAttivaRPT the EC owes the node the RPT
 * (tipoVersamento PO, the PSP's CCP) on the PSP's route. The row is written in the transaction
 * that records the activation's attempt, so the promise survives a crash, a Redis outage or a
 * node that is down; a worker sends it later (the SOAP answer must not wait for it: the node
 * expects the activation's answer first).
 *
 * One row per attempt (= per domain, IUV and CCP): a repeated activation re-arms it. State:
 * PENDING (to send; `next_attempt_at` is both the retry time and, while a worker holds the row,
 * its lease expiry), SENT (the node has it), FAILED (refused, or out of attempts: operators').
 * `lease_token` fences a worker whose lease expired or whose row was re-armed meanwhile.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('activated_rpt_sends', (t) => {
    t.bigIncrements('id');
    t.bigInteger('payment_attempt_id').unsigned().notNullable().references('payment_attempts.id');
    t.string('domain_id', 11).notNullable();
    t.string('iuv', 35).notNullable();
    t.string('ccp', 35).notNullable();
    t.string('psp_id', 35).notNullable();
    t.string('psp_broker_id', 35).notNullable();
    t.string('psp_channel_id', 35).notNullable();
    t.enum('state', ['PENDING', 'SENT', 'FAILED']).notNullable();
    t.integer('attempts').unsigned().notNullable().defaultTo(0);
    t.timestamp('next_attempt_at', { precision: 3 }).notNullable();
    t.string('lease_token', 36).nullable();
    t.string('last_error', 1000).nullable();
    /** The (latest) activation: the RPT is priced as of then, for the amount the PSP collects. */
    t.timestamp('activated_at', { precision: 3 }).notNullable();
    t.timestamp('created_at', { precision: 3 }).notNullable();
    t.timestamp('updated_at', { precision: 3 }).notNullable();
    t.unique(['payment_attempt_id'], { indexName: 'activated_rpt_sends_attempt_uq' });
    t.index(['state', 'next_attempt_at'], 'activated_rpt_sends_due_idx');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('activated_rpt_sends');
}
