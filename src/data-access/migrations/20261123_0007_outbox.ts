import type { Knex } from 'knex';

/**
 * The transactional outbox: events for the ERP, written in the same transaction as the change
 * they announce, and delivered later as signed webhooks by the worker's dispatcher.
 *
 * Why an outbox table and not a queue message: the event exists if and only if the change was
 * committed, whatever happens to Redis or to the process between the commit and the delivery.
 * `event_id` is the id the ERP sees (and dedupes on); `id` only orders delivery.
 * The dispatcher claims due rows through `(state, next_attempt_at)`.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('outbox_events', (t) => {
    t.bigIncrements('id');
    t.specificType('event_id', 'CHAR(36)').notNullable();
    t.string('type', 50).notNullable();
    t.string('domain_id', 11).nullable();
    t.json('payload').notNullable();
    t.enum('state', ['PENDING', 'DELIVERED', 'DEAD']).notNullable().defaultTo('PENDING');
    t.integer('attempts').unsigned().notNullable().defaultTo(0);
    t.timestamp('next_attempt_at', { precision: 3 }).notNullable().defaultTo(knex.fn.now(3));
    t.string('last_error', 1000).nullable();
    t.smallint('last_status').nullable();
    t.timestamp('created_at', { precision: 3 }).notNullable().defaultTo(knex.fn.now(3));
    t.timestamp('delivered_at', { precision: 3 }).nullable();
    t.unique(['event_id'], { indexName: 'outbox_events_event_id_uq' });
    t.index(['state', 'next_attempt_at'], 'outbox_events_due_idx');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('outbox_events');
}
