import type { Knex } from 'knex';

/**
 * The audit trail: who did what, when and why, with the state before and after.
 * Append-only by convention of every repository: there is no UPDATE or DELETE of these rows.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('audit_events', (t) => {
    t.bigIncrements('id');
    t.timestamp('occurred_at', { precision: 3 }).notNullable().defaultTo(knex.fn.now(3));
    t.string('actor', 100).notNullable();
    t.string('action', 100).notNullable();
    t.string('subject_type', 50).notNullable();
    t.string('subject_id', 100).notNullable();
    t.string('reason', 1000).nullable();
    t.json('before_state').nullable();
    t.json('after_state').nullable();
    t.string('request_id', 128).nullable();
    t.index(['subject_type', 'subject_id'], 'audit_events_subject_idx');
    t.index(['occurred_at'], 'audit_events_occurred_idx');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('audit_events');
}
