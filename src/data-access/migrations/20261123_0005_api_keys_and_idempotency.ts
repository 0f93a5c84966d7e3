import type { Knex } from 'knex';

/**
 * API keys (only their SHA-256 is stored) and stored answers for `Idempotency-Key` requests.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('api_keys', (t) => {
    t.bigIncrements('id');
    t.string('name', 100).notNullable();
    t.string('key_sha256', 64).notNullable();
    // Comma-separated roles: erp, operator.
    t.string('roles', 100).notNullable();
    t.timestamp('created_at', { precision: 3 }).notNullable().defaultTo(knex.fn.now(3));
    t.timestamp('revoked_at', { precision: 3 }).nullable();
    t.unique(['key_sha256'], { indexName: 'api_keys_hash_uq' });
    t.unique(['name'], { indexName: 'api_keys_name_uq' });
  });

  await knex.schema.createTable('idempotency_keys', (t) => {
    t.bigIncrements('id');
    // Who asked and where: the key is only unique within one caller and one operation.
    t.string('scope', 200).notNullable();
    t.string('idempotency_key', 200).notNullable();
    t.string('request_hash', 64).notNullable();
    t.smallint('response_status').unsigned().notNullable();
    t.json('response_body').notNullable();
    t.timestamp('created_at', { precision: 3 }).notNullable().defaultTo(knex.fn.now(3));
    t.unique(['scope', 'idempotency_key'], { indexName: 'idempotency_keys_scope_key_uq' });
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('idempotency_keys');
  await knex.schema.dropTable('api_keys');
}
