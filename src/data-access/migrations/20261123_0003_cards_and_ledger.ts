import type { Knex } from 'knex';

/**
 * Cards, their accounts and the ledger.
 *
 * Why a stored balance next to the entries: reading a balance must be one row, and the row lock on
 * the account serialises concurrent charges so an overdraft check cannot race. The balance is
 * only ever changed in the transaction that appends the entry, and `pagopa-adapter ledger verify`
 * proves balance = sum(entries). Entries are append-only: corrections are reversal entries.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('cards', (t) => {
    t.bigIncrements('id');
    t.string('domain_id', 11).notNullable();
    t.string('card_number', 33).notNullable();
    t.string('card_code', 35).notNullable();
    t.string('holder_fiscal_code', 16).notNullable();
    t.string('holder_full_name', 70).notNullable();
    t.timestamp('created_at', { precision: 3 }).notNullable().defaultTo(knex.fn.now(3));
    t.unique(['domain_id', 'card_number'], { indexName: 'cards_domain_number_uq' });
    t.unique(['card_code'], { indexName: 'cards_code_uq' });
    t.index(['holder_fiscal_code'], 'cards_holder_idx');
  });

  await knex.schema.createTable('card_accounts', (t) => {
    t.bigIncrements('id');
    t.bigInteger('card_id').unsigned().notNullable().references('cards.id');
    t.enum('account', ['CANTEEN', 'NURSERY_MEALS', 'SCHOOL_TRANSPORT']).notNullable();
    t.bigInteger('balance_cents').notNullable().defaultTo(0);
    // How far below zero a charge may take the balance (0 for prepaid accounts).
    t.bigInteger('overdraft_limit_cents').notNullable().defaultTo(0);
    t.timestamp('updated_at', { precision: 3 }).notNullable().defaultTo(knex.fn.now(3));
    t.unique(['card_id', 'account'], { indexName: 'card_accounts_card_account_uq' });
  });

  await knex.schema.createTable('ledger_entries', (t) => {
    t.bigIncrements('id');
    t.bigInteger('card_account_id').unsigned().notNullable().references('card_accounts.id');
    // Signed: positive credits the citizen's account, negative debits it.
    t.bigInteger('amount_cents').notNullable();
    t.enum('kind', [
      'TOP_UP',
      'CHARGE',
      'ADJUSTMENT',
      'BILLING',
      'PAYMENT',
      'OFFLINE_PAYMENT',
      'REVERSAL',
    ]).notNullable();
    // The business key that makes a posting idempotent (e.g. charge:<reference>, receipt:<key>:<n>).
    t.string('idempotency_key', 200).notNullable();
    // SHA-256 of what was asked, so a replay with different content is told apart from a resend.
    t.string('request_hash', 64).notNullable();
    t.string('reference', 140).nullable();
    t.string('description', 140).nullable();
    t.bigInteger('debt_position_id').unsigned().nullable();
    t.bigInteger('payment_option_id').unsigned().nullable();
    t.bigInteger('reverses_entry_id').unsigned().nullable().references('ledger_entries.id');
    t.bigInteger('balance_after_cents').notNullable();
    t.timestamp('created_at', { precision: 3 }).notNullable().defaultTo(knex.fn.now(3));
    t.unique(['idempotency_key'], { indexName: 'ledger_entries_idempotency_uq' });
    t.index(['card_account_id', 'id'], 'ledger_entries_account_idx');
    t.index(['debt_position_id'], 'ledger_entries_position_idx');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('ledger_entries');
  await knex.schema.dropTable('card_accounts');
  await knex.schema.dropTable('cards');
}
