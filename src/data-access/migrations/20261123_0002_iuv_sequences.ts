import type { Knex } from 'knex';

/**
 * IUV base sequences: the next 13-digit base to hand out, per domain and segregation code.
 *
 * Why one row per (domain, aux digit, segregation code): with aux digit 3 the segregation code is
 * part of the IUV, so each code can count on its own; with aux digit 0 the IUV is base + check
 * digits without the application code, so one sequence serves the whole domain (segregation_code
 * is '' there), otherwise two application codes would hand out the same IUV.
 * Bases are allocated under the row lock (src/data-access/iuv-sequence-repository.ts) and never
 * handed out twice; gaps are allowed.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('iuv_sequences', (t) => {
    t.string('domain_id', 11).notNullable();
    t.tinyint('aux_digit').unsigned().notNullable();
    t.string('segregation_code', 2).notNullable();
    // The next base to allocate; a base is at most 9999999999999, so this reaches 10^13 when full.
    t.bigInteger('next_base').unsigned().notNullable();
    t.timestamp('updated_at', { precision: 3 }).notNullable().defaultTo(knex.fn.now(3));
    t.primary(['domain_id', 'aux_digit', 'segregation_code']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('iuv_sequences');
}
