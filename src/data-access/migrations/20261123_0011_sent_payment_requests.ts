import type { Knex } from 'knex';

/**
 * The documents sent upstream to start an EC-initiated payment: each RPT (with the CCP it was
 * sent with) and each MyPay Dovuti, as sent, tied to its payment attempt.
 *
 * Why keep them: when a citizen says "I paid and nothing happened", the operator needs what the
 * node was told (amounts, IBANs, debtor, CCP) next to what came back; and the CCP here is the key
 * nodoChiediCopiaRT needs, should the attempt's own copy ever be in doubt. One attempt may have
 * several rows when a failed start is tried again (each RPT has a fresh CCP).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('sent_payment_requests', (t) => {
    t.bigIncrements('id');
    t.bigInteger('payment_attempt_id').unsigned().notNullable().references('payment_attempts.id');
    t.enum('kind', ['RPT', 'DOVUTI']).notNullable();
    t.string('domain_id', 11).notNullable();
    t.string('iuv', 35).nullable();
    t.string('ccp', 35).nullable();
    /** Our cart id (POST …/checkout); nodoInviaCarrelloRPT sent it without dashes. */
    t.string('cart_id', 36).nullable();
    t.string('session_id', 100).nullable();
    t.specificType('document', 'MEDIUMTEXT').notNullable();
    t.timestamp('sent_at', { precision: 3 }).notNullable().defaultTo(knex.fn.now(3));
    t.index(['payment_attempt_id'], 'sent_payment_requests_attempt_idx');
    t.index(['domain_id', 'iuv'], 'sent_payment_requests_iuv_idx');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('sent_payment_requests');
}
