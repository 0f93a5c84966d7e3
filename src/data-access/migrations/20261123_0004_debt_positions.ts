import type { Knex } from 'knex';

/**
 * Debt positions, their payment options (each with its own IUV and notice number) and transfers,
 * and payment attempts (EC-initiated payments awaiting a receipt).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('debt_positions', (t) => {
    t.bigIncrements('id');
    t.string('domain_id', 11).notNullable();
    // The ERP's own id (PUT /debt-positions/{externalId}); generated for top-ups and billing items.
    t.string('external_id', 100).notNullable();
    t.enum('kind', ['DEBT', 'TOP_UP']).notNullable();
    t.string('service', 50).notNullable();
    t.bigInteger('card_id').unsigned().nullable().references('cards.id');
    t.enum('account', ['CANTEEN', 'NURSERY_MEALS', 'SCHOOL_TRANSPORT']).nullable();
    t.enum('debtor_type', ['F', 'G']).notNullable();
    t.string('debtor_fiscal_code', 16).notNullable();
    t.string('debtor_full_name', 70).notNullable();
    t.string('debtor_email', 256).nullable();
    t.string('description', 140).notNullable();
    t.enum('status', ['OPEN', 'PARTIALLY_PAID', 'PAID', 'CANCELLED'])
      .notNullable()
      .defaultTo('OPEN');
    // SHA-256 of the last accepted request: an identical PUT is a no-op, not an update.
    t.string('request_hash', 64).notNullable();
    t.timestamp('created_at', { precision: 3 }).notNullable().defaultTo(knex.fn.now(3));
    t.timestamp('updated_at', { precision: 3 }).notNullable().defaultTo(knex.fn.now(3));
    t.unique(['domain_id', 'external_id'], { indexName: 'debt_positions_external_uq' });
    t.index(['card_id', 'status'], 'debt_positions_card_idx');
    t.index(['status', 'service'], 'debt_positions_status_idx');
  });

  await knex.schema.createTable('payment_options', (t) => {
    t.bigIncrements('id');
    t.bigInteger('debt_position_id').unsigned().notNullable().references('debt_positions.id');
    t.string('domain_id', 11).notNullable();
    t.string('iuv', 35).notNullable();
    t.string('notice_number', 18).notNullable();
    // SINGLE: the whole debt; INSTALLMENT: one of several parts, all due; ALTERNATIVE: one of
    // several ways to pay the whole (paying one closes the others).
    t.enum('plan', ['SINGLE', 'INSTALLMENT', 'ALTERNATIVE']).notNullable();
    t.integer('installment').unsigned().nullable();
    t.bigInteger('amount_cents').notNullable();
    // [{ until: 'YYYY-MM-DD', amountCents }]: the amount in force on a day (road fines).
    t.json('amount_schedule').nullable();
    t.date('due_date').notNullable();
    t.date('valid_from').nullable();
    t.enum('status', ['UNPAID', 'PAID', 'CANCELLED']).notNullable().defaultTo('UNPAID');
    t.bigInteger('paid_amount_cents').notNullable().defaultTo(0);
    t.timestamp('paid_at', { precision: 3 }).nullable();
    t.unique(['domain_id', 'iuv'], { indexName: 'payment_options_iuv_uq' });
    t.unique(['domain_id', 'notice_number'], { indexName: 'payment_options_notice_uq' });
    t.index(['debt_position_id'], 'payment_options_position_idx');
    t.index(['due_date'], 'payment_options_due_idx');
  });

  await knex.schema.createTable('transfers', (t) => {
    t.bigIncrements('id');
    t.bigInteger('payment_option_id').unsigned().notNullable().references('payment_options.id');
    t.tinyint('transfer_index').unsigned().notNullable();
    t.string('beneficiary_fiscal_code', 11).notNullable();
    t.bigInteger('amount_cents').notNullable();
    t.string('iban', 35).nullable();
    t.string('postal_iban', 35).nullable();
    // Marca da bollo (@e.bollo): present instead of an IBAN.
    t.string('stamp_hash', 72).nullable();
    t.string('stamp_type', 2).nullable();
    t.string('stamp_province', 2).nullable();
    t.string('taxonomy_code', 140).notNullable();
    t.string('remittance_information', 140).notNullable();
    t.unique(['payment_option_id', 'transfer_index'], { indexName: 'transfers_option_index_uq' });
  });

  await knex.schema.createTable('payment_attempts', (t) => {
    t.bigIncrements('id');
    t.string('payment_id', 36).notNullable();
    t.bigInteger('debt_position_id').unsigned().notNullable().references('debt_positions.id');
    t.bigInteger('payment_option_id').unsigned().notNullable().references('payment_options.id');
    t.enum('channel', ['TOP_UP', 'CHECKOUT', 'RPT', 'MYPAY', 'NOTICE']).notNullable();
    t.enum('status', ['PENDING', 'PAID', 'NOT_PAID', 'CANCELLED'])
      .notNullable()
      .defaultTo('PENDING');
    t.bigInteger('amount_cents').notNullable();
    t.string('ccp', 35).nullable();
    t.string('session_id', 100).nullable();
    t.string('checkout_url', 1000).nullable();
    t.string('return_url', 1000).nullable();
    t.timestamp('created_at', { precision: 3 }).notNullable().defaultTo(knex.fn.now(3));
    t.timestamp('updated_at', { precision: 3 }).notNullable().defaultTo(knex.fn.now(3));
    t.unique(['payment_id'], { indexName: 'payment_attempts_payment_id_uq' });
    t.index(['status', 'created_at'], 'payment_attempts_status_idx');
  });

  await knex.schema.createTable('offline_payments', (t) => {
    t.bigIncrements('id');
    t.bigInteger('debt_position_id').unsigned().notNullable().references('debt_positions.id');
    t.bigInteger('payment_option_id').unsigned().nullable().references('payment_options.id');
    t.enum('channel', ['COUNTER', 'POSTAL_SLIP', 'BANK_TRANSFER']).notNullable();
    t.string('reference', 140).notNullable();
    t.bigInteger('amount_cents').notNullable();
    t.timestamp('paid_at', { precision: 3 }).notNullable();
    t.string('request_hash', 64).notNullable();
    t.timestamp('created_at', { precision: 3 }).notNullable().defaultTo(knex.fn.now(3));
    t.unique(['debt_position_id', 'reference'], { indexName: 'offline_payments_reference_uq' });
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('offline_payments');
  await knex.schema.dropTable('payment_attempts');
  await knex.schema.dropTable('transfers');
  await knex.schema.dropTable('payment_options');
  await knex.schema.dropTable('debt_positions');
}
