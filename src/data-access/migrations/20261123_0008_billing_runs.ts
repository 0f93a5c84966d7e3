import type { Knex } from 'knex';

/**
 * Billing runs ("bollettazione virtuale"): one row per submitted file or item list, one row per
 * line. Every line is stored at submission, the bad ones already FAILED with their reason, so the
 * progress and the errors of a run are read from here alone.
 *
 * Why the lines are kept after processing: they are the answer to "what happened to line 812",
 * and a crashed run resumes from the lines still PENDING. `debt_position_id` links a DONE (or
 * SKIPPED_DUPLICATE) line to the position that bills it.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('billing_runs', (t) => {
    t.bigIncrements('id');
    t.specificType('run_id', 'CHAR(36)').notNullable();
    t.string('domain_id', 11).notNullable();
    t.string('service', 50).notNullable();
    // The month billed, YYYY-MM.
    t.specificType('period', 'CHAR(7)').notNullable();
    t.enum('source', ['API', 'CLI']).notNullable();
    t.enum('status', ['PENDING', 'RUNNING', 'FINISHED', 'FAILED'])
      .notNullable()
      .defaultTo('PENDING');
    t.integer('total').unsigned().notNullable();
    // done counts DONE and SKIPPED_DUPLICATE lines; skipped the latter alone.
    t.integer('done').unsigned().notNullable().defaultTo(0);
    t.integer('skipped').unsigned().notNullable().defaultTo(0);
    t.integer('failed').unsigned().notNullable().defaultTo(0);
    // The sum debited by this run (lines DONE), for the finished event.
    t.bigInteger('billed_cents').notNullable().defaultTo(0);
    t.string('created_by', 100).notNullable();
    t.string('error', 500).nullable();
    t.timestamp('created_at', { precision: 3 }).notNullable().defaultTo(knex.fn.now(3));
    t.timestamp('started_at', { precision: 3 }).nullable();
    t.timestamp('finished_at', { precision: 3 }).nullable();
    t.unique(['run_id'], { indexName: 'billing_runs_run_id_uq' });
    t.index(['domain_id', 'service', 'period'], 'billing_runs_period_idx');
  });

  await knex.schema.createTable('billing_run_items', (t) => {
    t.bigIncrements('id');
    t.bigInteger('run_id').unsigned().notNullable().references('billing_runs.id');
    t.integer('line_no').unsigned().notNullable();
    // As received (cut to 64), so a FAILED line shows what was sent.
    t.string('card_code', 64).notNullable();
    // Null when the line's amount was not a whole number of cents.
    t.bigInteger('amount_cents').nullable();
    t.string('description', 140).nullable();
    t.enum('status', ['PENDING', 'DONE', 'FAILED', 'SKIPPED_DUPLICATE'])
      .notNullable()
      .defaultTo('PENDING');
    t.string('error', 500).nullable();
    t.bigInteger('debt_position_id').unsigned().nullable().references('debt_positions.id');
    t.unique(['run_id', 'line_no'], { indexName: 'billing_run_items_line_uq' });
    t.index(['run_id', 'status', 'line_no'], 'billing_run_items_status_idx');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('billing_run_items');
  await knex.schema.dropTable('billing_runs');
}
