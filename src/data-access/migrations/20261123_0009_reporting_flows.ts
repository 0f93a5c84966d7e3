import type { Knex } from 'knex';

/**
 * Reporting flows (FdR, FlussoRiversamento) and treasury statements: the raw material of
 * reconciliation. Only facts are stored here; the matching of lines to receipts and of bank
 * movements to flows is computed on read by a pure function (src/domain/reconciliation), so a
 * late receipt or a late flow changes the result on the next read and nothing is ever memoised
 * as failed (GovPay #521).
 *
 * Why (domain_id, flow_id, flow_date) is unique: a PSP may overwrite a flow with the same
 * identificativoFlusso and a later dataOraFlusso until D+4 (PAGOPA.md §11). Every revision is
 * kept; `superseded_by_id` points an earlier one at the latest, and only the latest is matched.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('reporting_flows', (t) => {
    t.bigIncrements('id');
    t.string('domain_id', 11).notNullable();
    t.string('flow_id', 35).notNullable();
    t.specificType('flow_date', 'DATETIME(3)').notNullable();
    t.string('psp_id', 35).notNullable();
    t.string('bic', 35).nullable();
    t.string('settlement_reference', 35).notNullable();
    t.date('settlement_date').notNullable();
    t.integer('total_count').unsigned().notNullable();
    t.bigInteger('total_cents').notNullable();
    t.integer('computed_count').unsigned().notNullable();
    t.bigInteger('computed_cents').notNullable();
    // ANOMALOUS: the declared count or total disagree with the lines; the flow is not trusted.
    t.enum('status', ['OK', 'ANOMALOUS']).notNullable();
    t.string('status_reason', 1000).nullable();
    t.bigInteger('superseded_by_id').unsigned().nullable().references('reporting_flows.id');
    t.specificType('raw_xml', 'MEDIUMTEXT').notNullable();
    t.timestamp('fetched_at', { precision: 3 }).notNullable().defaultTo(knex.fn.now(3));
    t.unique(['domain_id', 'flow_id', 'flow_date'], { indexName: 'reporting_flows_revision_uq' });
    t.index(['domain_id', 'settlement_date'], 'reporting_flows_settlement_idx');
  });

  await knex.schema.createTable('reporting_flow_lines', (t) => {
    t.bigIncrements('id');
    t.bigInteger('flow_row_id')
      .unsigned()
      .notNullable()
      .references('reporting_flows.id')
      .onDelete('CASCADE');
    t.integer('line_no').unsigned().notNullable();
    t.string('iuv', 35).notNullable();
    t.string('iur', 35).notNullable();
    t.tinyint('transfer_index').unsigned().nullable();
    t.bigInteger('amount_cents').notNullable();
    // codiceEsitoSingoloPagamento: 0, 3, 4, 8, 9.
    t.tinyint('outcome_code').unsigned().notNullable();
    t.date('paid_date').notNullable();
    t.unique(['flow_row_id', 'line_no'], { indexName: 'reporting_flow_lines_line_uq' });
    t.index(['iuv'], 'reporting_flow_lines_iuv_idx');
  });

  await knex.schema.createTable('treasury_imports', (t) => {
    t.bigIncrements('id');
    t.string('domain_id', 11).notNullable();
    t.string('file_name', 255).notNullable();
    t.string('content_hash', 64).notNullable();
    t.integer('movement_count').unsigned().notNullable();
    t.string('actor', 100).notNullable();
    t.timestamp('imported_at', { precision: 3 }).notNullable().defaultTo(knex.fn.now(3));
    // The same statement imported twice is one import.
    t.unique(['domain_id', 'content_hash'], { indexName: 'treasury_imports_content_uq' });
  });

  await knex.schema.createTable('treasury_movements', (t) => {
    t.bigIncrements('id');
    t.bigInteger('import_id')
      .unsigned()
      .notNullable()
      .references('treasury_imports.id')
      .onDelete('CASCADE');
    t.integer('line_no').unsigned().notNullable();
    t.string('domain_id', 11).notNullable();
    t.date('booked_on').notNullable();
    t.bigInteger('amount_cents').notNullable();
    t.string('causale', 500).notNullable();
    t.date('value_date').nullable();
    t.string('bank_reference', 100).nullable();
    t.unique(['import_id', 'line_no'], { indexName: 'treasury_movements_line_uq' });
    t.index(['domain_id', 'booked_on'], 'treasury_movements_booked_idx');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('treasury_movements');
  await knex.schema.dropTableIfExists('treasury_imports');
  await knex.schema.dropTableIfExists('reporting_flow_lines');
  await knex.schema.dropTableIfExists('reporting_flows');
}
