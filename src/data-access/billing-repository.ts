import type { Knex } from 'knex';
import {
  billableService,
  billingExternalId,
  billingLedgerKey,
  decideBill,
  runOutcome,
  type BillDecision,
  type BillingCard,
  type BillingItemStatus,
  type BillingRunStatus,
  type BillingSource,
  type ExistingBill,
} from '../domain/billing/bill';
import type { BillingLine } from '../domain/billing/lines';
import type { BillingRunStore, BillingRunView, PreparedRun } from '../domain/billing/run';
import { AppError } from '../domain/errors';
import { noticeFor, type NoticeScheme } from '../domain/positions/notice';
import { transfersWithRemittance } from '../domain/positions/position-request';
import type { PositionDraft } from '../domain/positions/types';
import { contentHash } from '../shared/hash';
import { isDuplicateKey, isTransientDbError } from './errors';
import { allocateIuvBases } from './iuv-sequence-repository';
import { postEntriesBulk, type NewEntry } from './ledger-repository';
import { appendOutboxEvent } from './outbox-repository';

/**
 * Billing runs and their lines (migration 0008), and the chunk transaction that turns PENDING
 * lines into debt positions and debits.
 *
 * Why positions are written here with multi-row statements and not with `savePosition`: a run
 * has thousands of lines, and one position costs `savePosition` about ten statements and a
 * transaction of its own; a chunk of 500 lines costs a dozen statements in all. The rows written
 * are the same (`noticeFor`, `transfersWithRemittance`), and the ledger goes through
 * `postEntriesBulk`, the ledger module's own bulk door.
 *
 * Lock order inside a chunk: the run's PENDING lines (SKIP LOCKED, so two processors of one run
 * share its lines), then the card accounts in id order (as `postEntriesBulk` does), then the run
 * row for its counters. IUV bases come from their sequence on another connection and are never
 * given back (a rollback leaves a gap, never a duplicate).
 */

type Queryable = Knex | Knex.Transaction;

type RunRow = {
  id: number | string;
  run_id: string;
  domain_id: string;
  service: string;
  period: string;
  source: BillingSource;
  status: BillingRunStatus;
  total: number | string;
  done: number | string;
  skipped: number | string;
  failed: number | string;
  billed_cents: number | string;
  created_by: string;
  error: string | null;
  created_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
};

type ItemRow = {
  id: number | string;
  line_no: number | string;
  card_code: string;
  amount_cents: number | string | null;
  description: string | null;
  status: BillingItemStatus;
  error: string | null;
};

const RUNS = 'billing_runs';
const ITEMS = 'billing_run_items';
const INSERT_ROWS_MAX = 1_000;
const ATTEMPTS_MAX = 3;

const toRun = (row: RunRow): BillingRunView => ({
  id: Number(row.id),
  runId: row.run_id,
  domainId: row.domain_id,
  service: row.service,
  period: row.period,
  source: row.source,
  status: row.status,
  total: Number(row.total),
  done: Number(row.done),
  skipped: Number(row.skipped),
  failed: Number(row.failed),
  billedCents: Number(row.billed_cents),
  createdBy: row.created_by,
  error: row.error,
  createdAt: row.created_at,
  startedAt: row.started_at,
  finishedAt: row.finished_at,
});

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/**
 * Stores a run and all its lines in the caller's transaction: lines with a problem are stored
 * FAILED with it (and counted), the others PENDING.
 */
export async function insertRun(
  trx: Knex.Transaction,
  input: { runId: string; prepared: PreparedRun; source: BillingSource; createdBy: string },
): Promise<BillingRunView> {
  const { context, lines, rejected } = input.prepared;
  const [id] = (await trx(RUNS).insert({
    run_id: input.runId,
    domain_id: context.domainId,
    service: context.service.code,
    period: context.period,
    source: input.source,
    status: 'PENDING',
    total: lines.length,
    failed: rejected,
    created_by: input.createdBy.slice(0, 100),
  })) as number[];
  for (const chunk of chunks(lines, INSERT_ROWS_MAX)) {
    await trx(ITEMS).insert(
      chunk.map((l: BillingLine) => ({
        run_id: id,
        line_no: l.lineNo,
        card_code: l.cardCode,
        amount_cents: l.amountCents,
        description: l.description,
        status: l.problem === null ? 'PENDING' : 'FAILED',
        error: l.problem,
      })),
    );
  }
  const run = await findRun(trx, input.runId);
  if (run === undefined) throw new AppError('internal', 'stored billing run not found');
  return run;
}

export async function findRun(db: Queryable, runId: string): Promise<BillingRunView | undefined> {
  const row = (await db(RUNS).where({ run_id: runId }).first()) as RunRow | undefined;
  return row === undefined ? undefined : toRun(row);
}

/** Runs of a domain, newest first, optionally of one service and period; keyset paged by id. */
export async function listRuns(
  db: Knex,
  filter: {
    domainId: string;
    service?: string | undefined;
    period?: string | undefined;
    beforeId?: number | undefined;
    limit: number;
  },
): Promise<BillingRunView[]> {
  const query = db(RUNS).where({ domain_id: filter.domainId });
  if (filter.service !== undefined) void query.where({ service: filter.service });
  if (filter.period !== undefined) void query.where({ period: filter.period });
  if (filter.beforeId !== undefined) void query.where('id', '<', filter.beforeId);
  const rows = (await query.orderBy('id', 'desc').limit(filter.limit)) as RunRow[];
  return rows.map(toRun);
}

export type BillingRunError = { id: number; line: number; cardCode: string; reason: string };

/** The FAILED lines of a run in line order, after the line `afterLine` when given. */
export async function listRunErrors(
  db: Knex,
  runInternalId: number,
  options: { afterLine?: number | undefined; limit: number },
): Promise<BillingRunError[]> {
  const query = db(ITEMS).where({ run_id: runInternalId, status: 'FAILED' });
  if (options.afterLine !== undefined) void query.where('line_no', '>', options.afterLine);
  const rows = (await query
    .orderBy('line_no')
    .limit(options.limit)
    .select('line_no', 'card_code', 'error')) as Pick<ItemRow, 'line_no' | 'card_code' | 'error'>[];
  return rows.map((r) => ({
    id: Number(r.line_no),
    line: Number(r.line_no),
    cardCode: r.card_code,
    reason: r.error ?? 'failed',
  }));
}

/** Line counts by status, for checks and the bench. */
export async function countItemsByStatus(
  db: Knex,
  runInternalId: number,
): Promise<Record<BillingItemStatus, number>> {
  const rows = (await db(ITEMS)
    .where({ run_id: runInternalId })
    .groupBy('status')
    .select('status')
    .count({ n: '*' })) as { status: BillingItemStatus; n: number | string }[];
  const counts: Record<BillingItemStatus, number> = {
    PENDING: 0,
    DONE: 0,
    FAILED: 0,
    SKIPPED_DUPLICATE: 0,
  };
  for (const r of rows) counts[r.status] = Number(r.n);
  return counts;
}

/** What processing needs to know about the domains it bills for. */
export type BillingDomains = {
  find: (fiscalCode: string) =>
    | {
        fiscalCode: string;
        auxDigit: 0 | 3;
        segregationCode?: string | undefined;
        applicationCode?: string | undefined;
        services: Parameters<typeof billableService>[0];
      }
    | undefined;
};

function schemeOf(domain: NonNullable<ReturnType<BillingDomains['find']>>): NoticeScheme {
  if (domain.auxDigit === 3 && domain.segregationCode !== undefined) {
    return { auxDigit: 3, segregationCode: domain.segregationCode };
  }
  if (domain.auxDigit === 0 && domain.applicationCode !== undefined) {
    return { auxDigit: 0, applicationCode: domain.applicationCode };
  }
  throw new AppError('internal', `domain ${domain.fiscalCode} has no code for its aux digit`);
}

/**
 * A run that cannot go on (its domain or service left the configuration, or a job gave up):
 * FAILED with the reason, and the ERP told, in one transaction. Lines still PENDING stay so;
 * no-op for a run already FINISHED or FAILED.
 */
export async function markRunFailed(
  db: Knex,
  runId: string,
  reason: string,
): Promise<BillingRunView | undefined> {
  return db.transaction(async (trx) => {
    const row = (await trx(RUNS).where({ run_id: runId }).forUpdate().first()) as
      RunRow | undefined;
    if (row === undefined) return undefined;
    if (row.status === 'FINISHED' || row.status === 'FAILED') return toRun(row);
    const now = new Date();
    await trx(RUNS)
      .where({ id: row.id })
      .update({ status: 'FAILED', error: reason.slice(0, 500), finished_at: now });
    const run = toRun({ ...row, status: 'FAILED', error: reason.slice(0, 500), finished_at: now });
    await announceFinished(trx, run, 'FAILED');
    return run;
  });
}

/** The billing-run.finished event, in the transaction that ends the run. */
async function announceFinished(
  trx: Knex.Transaction,
  run: BillingRunView,
  outcome: 'COMPLETED' | 'COMPLETED_WITH_ERRORS' | 'FAILED',
): Promise<void> {
  await appendOutboxEvent(trx, {
    type: 'billing-run.finished',
    domainId: run.domainId,
    payload: {
      domainId: run.domainId,
      billingRunId: run.id,
      service: run.service,
      period: run.period,
      outcome,
      positionsCreated: run.done - run.skipped,
      positionsFailed: run.failed,
      totalAmountCents: run.billedCents,
      startedAt: (run.startedAt ?? run.createdAt).toISOString(),
      finishedAt: (run.finishedAt ?? new Date()).toISOString(),
    },
  });
}

/** The store `processRun` works with, on this database and these domains. */
export function billingRunStore(db: Knex, domains: BillingDomains): BillingRunStore {
  return {
    startRun: async (runId) => {
      await db(RUNS)
        .where({ run_id: runId, status: 'PENDING' })
        .update({ status: 'RUNNING', started_at: new Date() });
      return findRun(db, runId);
    },
    processChunk: (runId, size) => withRetry(() => processChunk(db, domains, runId, size)),
    finishIfComplete: (runId) =>
      db.transaction(async (trx) => {
        const row = (await trx(RUNS).where({ run_id: runId }).forUpdate().first()) as
          RunRow | undefined;
        if (row === undefined) throw new AppError('not-found', `no billing run ${runId}`);
        if (row.status !== 'RUNNING') return toRun(row);
        // A line still PENDING is in another processor's chunk: that processor finishes the run.
        const pending = (await trx(ITEMS)
          .where({ run_id: row.id, status: 'PENDING' })
          .first('id')) as { id: number } | undefined;
        if (pending !== undefined) return toRun(row);
        const finishedAt = new Date();
        await trx(RUNS)
          .where({ id: row.id })
          .update({ status: 'FINISHED', finished_at: finishedAt });
        const run = toRun({ ...row, status: 'FINISHED', finished_at: finishedAt });
        await announceFinished(trx, run, runOutcome(run.failed));
        return run;
      }),
  };
}

async function withRetry<T>(work: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (err) {
      // A concurrent run created one of these positions first (unique externalId), or a
      // deadlock: the next attempt reads again and skips what now exists.
      const retry = isDuplicateKey(err) || isTransientDbError(err);
      if (!retry || attempt >= ATTEMPTS_MAX) throw err;
    }
  }
}

type Outcome = {
  itemId: number;
  status: Exclude<BillingItemStatus, 'PENDING'>;
  error: string | null;
  positionId: number | null;
};

/** One chunk: claim, decide, write positions and debits, record outcomes; one transaction. */
async function processChunk(
  db: Knex,
  domains: BillingDomains,
  runId: string,
  size: number,
): Promise<{ claimed: number; done: number; failed: number }> {
  return db.transaction(async (trx) => {
    const run = (await trx(RUNS).where({ run_id: runId }).first()) as RunRow | undefined;
    if (run?.status !== 'RUNNING') return { claimed: 0, done: 0, failed: 0 };
    const items = (await trx(ITEMS)
      .where({ run_id: run.id, status: 'PENDING' })
      .orderBy('line_no')
      .limit(size)
      .forUpdate()
      .skipLocked()
      .select('id', 'line_no', 'card_code', 'amount_cents', 'description')) as ItemRow[];
    if (items.length === 0) return { claimed: 0, done: 0, failed: 0 };

    const domain = domains.find(run.domain_id);
    if (domain === undefined) {
      throw new AppError('internal', `domain ${run.domain_id} is no longer configured`);
    }
    const service = billableService(domain.services, run.service, domain.fiscalCode, 'service');
    const context = { domainId: domain.fiscalCode, service, period: run.period };
    const codes = items.map((i) => i.card_code);
    const cards = await lockCards(trx, codes, service.account);
    const existing = await findExistingBills(
      trx,
      domain.fiscalCode,
      service.code,
      run.period,
      codes,
    );

    const outcomes: Outcome[] = [];
    const creates: { item: ItemRow; decision: Extract<BillDecision, { kind: 'create' }> }[] = [];
    for (const item of items) {
      const card = cards.get(item.card_code);
      const decision = decideBill(
        {
          cardCode: item.card_code,
          amountCents: Number(item.amount_cents),
          description: item.description,
        },
        card,
        existing.get(item.card_code),
        context,
      );
      switch (decision.kind) {
        case 'fail':
          outcomes.push({
            itemId: Number(item.id),
            status: 'FAILED',
            error: decision.reason.slice(0, 500),
            positionId: null,
          });
          break;
        case 'skip':
          outcomes.push({
            itemId: Number(item.id),
            status: 'SKIPPED_DUPLICATE',
            error: null,
            positionId: decision.positionId,
          });
          break;
        case 'create':
          // The next line of the same card (another run's, in a later chunk) sees this debit.
          if (card?.account) card.account.balanceCents -= decision.debitCents;
          creates.push({ item, decision });
          break;
      }
    }

    let billedCents = 0;
    if (creates.length > 0) {
      const positionIds = await insertPositions(
        db,
        trx,
        schemeOf(domain),
        creates.map((c) => ({
          externalId: c.decision.externalId,
          draft: c.decision.draft,
          cardId: cards.get(c.item.card_code)?.cardId ?? null,
        })),
      );
      const entries: NewEntry[] = creates.map(({ item, decision }) => {
        const card = cards.get(item.card_code);
        const ids = positionIds.get(decision.externalId);
        if (!card?.account || ids === undefined) {
          throw new AppError(
            'internal',
            `billing line ${String(item.line_no)} lost its card or position`,
          );
        }
        billedCents += decision.debitCents;
        return {
          cardAccountId: card.account.id,
          amountCents: -decision.debitCents,
          kind: 'BILLING',
          idempotencyKey: billingLedgerKey(
            domain.fiscalCode,
            service.code,
            run.period,
            item.card_code,
          ),
          requestHash: contentHash({
            domainId: domain.fiscalCode,
            service: service.code,
            period: run.period,
            cardCode: item.card_code,
            amountCents: decision.debitCents,
          }),
          reference: decision.externalId,
          description: decision.draft.description,
          debtPositionId: ids.positionId,
          paymentOptionId: ids.optionId,
        };
      });
      await postEntriesBulk(trx, entries, { enforceOverdraft: true });
      for (const { item, decision } of creates) {
        outcomes.push({
          itemId: Number(item.id),
          status: 'DONE',
          error: null,
          positionId: positionIds.get(decision.externalId)?.positionId ?? null,
        });
      }
    }

    await updateItems(trx, outcomes);
    const failed = outcomes.filter((o) => o.status === 'FAILED').length;
    const skipped = outcomes.filter((o) => o.status === 'SKIPPED_DUPLICATE').length;
    const done = outcomes.length - failed;
    await trx(RUNS)
      .where({ id: run.id })
      .update({
        done: trx.raw('done + ?', [done]),
        skipped: trx.raw('skipped + ?', [skipped]),
        failed: trx.raw('failed + ?', [failed]),
        billed_cents: trx.raw('billed_cents + ?', [billedCents]),
      });
    return { claimed: items.length, done, failed };
  });
}

/** The cards named by a chunk, with their account for the service locked (in id order). */
async function lockCards(
  trx: Knex.Transaction,
  codes: readonly string[],
  account: string,
): Promise<Map<string, BillingCard>> {
  const rows = (await trx('cards as c')
    .leftJoin('card_accounts as a', function joinAccount() {
      this.on('a.card_id', '=', 'c.id').andOn('a.account', '=', trx.raw('?', [account]));
    })
    .whereIn('c.card_code', codes)
    .select(
      'c.id',
      'c.domain_id',
      'c.card_code',
      'c.holder_fiscal_code',
      'c.holder_full_name',
      'a.id as account_id',
    )) as {
    id: number | string;
    domain_id: string;
    card_code: string;
    holder_fiscal_code: string;
    holder_full_name: string;
    account_id: number | string | null;
  }[];
  const accountIds = rows
    .flatMap((r) => (r.account_id === null ? [] : [Number(r.account_id)]))
    .sort((a, b) => a - b);
  const balances = new Map<number, { balance: number; overdraft: number }>();
  if (accountIds.length > 0) {
    const locked = (await trx('card_accounts')
      .whereIn('id', accountIds)
      .orderBy('id')
      .forUpdate()
      .select('id', 'balance_cents', 'overdraft_limit_cents')) as {
      id: number | string;
      balance_cents: number | string;
      overdraft_limit_cents: number | string;
    }[];
    for (const a of locked) {
      balances.set(Number(a.id), {
        balance: Number(a.balance_cents),
        overdraft: Number(a.overdraft_limit_cents),
      });
    }
  }
  const cards = new Map<string, BillingCard>();
  for (const r of rows) {
    const accountId = r.account_id === null ? null : Number(r.account_id);
    const balance = accountId === null ? undefined : balances.get(accountId);
    cards.set(r.card_code, {
      cardId: Number(r.id),
      domainId: r.domain_id,
      holderFiscalCode: r.holder_fiscal_code,
      holderFullName: r.holder_full_name,
      account:
        accountId === null || balance === undefined
          ? null
          : {
              id: accountId,
              balanceCents: balance.balance,
              overdraftLimitCents: balance.overdraft,
            },
    });
  }
  return cards;
}

/** Positions already billing these cards for the period, by card code. */
async function findExistingBills(
  trx: Knex.Transaction,
  domainId: string,
  service: string,
  period: string,
  codes: readonly string[],
): Promise<Map<string, ExistingBill>> {
  const byExternalId = new Map(codes.map((c) => [billingExternalId(service, period, c), c]));
  const rows = (await trx('debt_positions as p')
    .leftJoin('payment_options as o', 'o.debt_position_id', 'p.id')
    .where('p.domain_id', domainId)
    .whereIn('p.external_id', [...byExternalId.keys()])
    .groupBy('p.id', 'p.external_id')
    .select('p.id', 'p.external_id')
    .sum({ amount: 'o.amount_cents' })) as {
    id: number | string;
    external_id: string;
    amount: number | string | null;
  }[];
  const bills = new Map<string, ExistingBill>();
  for (const r of rows) {
    const code = byExternalId.get(r.external_id);
    if (code !== undefined) {
      bills.set(code, { positionId: Number(r.id), amountCents: Number(r.amount ?? 0) });
    }
  }
  return bills;
}

/**
 * Inserts positions of one SINGLE option each, with their options and transfers, in a few
 * multi-row statements; answers the new ids by externalId. The ids are read back by their
 * unique keys rather than computed from the first insert id, which InnoDB does not promise to be
 * consecutive for every auto-increment lock mode.
 */
async function insertPositions(
  db: Knex,
  trx: Knex.Transaction,
  scheme: NoticeScheme,
  positions: readonly { externalId: string; draft: PositionDraft; cardId: number | null }[],
): Promise<Map<string, { positionId: number; optionId: number }>> {
  const first = positions[0];
  if (first === undefined) return new Map();
  const domainId = first.draft.domainId;
  const bases = await allocateIuvBases(db, {
    ...(scheme.auxDigit === 3
      ? { domain: domainId, auxDigit: 3 as const, segregationCode: scheme.segregationCode }
      : { domain: domainId, auxDigit: 0 as const }),
    count: positions.length,
  });
  const now = new Date();
  await trx('debt_positions').insert(
    positions.map(({ externalId, draft, cardId }) => ({
      domain_id: draft.domainId,
      external_id: externalId,
      kind: draft.kind,
      status: 'OPEN',
      service: draft.service,
      card_id: cardId,
      account: draft.account,
      debtor_type: draft.debtor.type,
      debtor_fiscal_code: draft.debtor.fiscalCode,
      debtor_full_name: draft.debtor.fullName,
      debtor_email: draft.debtor.email,
      description: draft.description,
      request_hash: contentHash(draft),
      created_at: now,
      updated_at: now,
    })),
  );
  const positionRows = (await trx('debt_positions')
    .where('domain_id', domainId)
    .whereIn(
      'external_id',
      positions.map((p) => p.externalId),
    )
    .select('id', 'external_id')) as { id: number | string; external_id: string }[];
  const positionIdOf = new Map(positionRows.map((r) => [r.external_id, Number(r.id)]));

  const options = positions.map((p, i) => {
    const option = p.draft.options[0];
    const base = bases[i];
    const positionId = positionIdOf.get(p.externalId);
    if (option === undefined || base === undefined || positionId === undefined) {
      throw new AppError('internal', `billing position ${p.externalId} is incomplete`);
    }
    return { ...p, option, positionId, ...noticeFor(scheme, base) };
  });
  await trx('payment_options').insert(
    options.map((o) => ({
      debt_position_id: o.positionId,
      domain_id: domainId,
      iuv: o.iuv,
      notice_number: o.noticeNumber,
      status: 'UNPAID',
      plan: o.option.plan,
      installment: o.option.installment,
      amount_cents: o.option.amountCents,
      amount_schedule: null,
      due_date: o.option.dueDate,
      valid_from: o.option.validFrom,
    })),
  );
  const optionRows = (await trx('payment_options')
    .where('domain_id', domainId)
    .whereIn(
      'iuv',
      options.map((o) => o.iuv),
    )
    .select('id', 'iuv')) as { id: number | string; iuv: string }[];
  const optionIdOf = new Map(optionRows.map((r) => [r.iuv, Number(r.id)]));

  const transferRows: Record<string, unknown>[] = [];
  const ids = new Map<string, { positionId: number; optionId: number }>();
  for (const o of options) {
    const optionId = optionIdOf.get(o.iuv);
    if (optionId === undefined) throw new AppError('internal', `option ${o.iuv} not stored`);
    ids.set(o.externalId, { positionId: o.positionId, optionId });
    for (const t of transfersWithRemittance(o.option, o.iuv, o.draft.description)) {
      transferRows.push({
        payment_option_id: optionId,
        transfer_index: t.index,
        beneficiary_fiscal_code: t.beneficiaryFiscalCode,
        amount_cents: t.amountCents,
        iban: t.iban,
        postal_iban: t.postalIban,
        stamp_hash: t.stamp?.documentHash ?? null,
        stamp_type: t.stamp?.type ?? null,
        stamp_province: t.stamp?.province ?? null,
        taxonomy_code: t.taxonomyCode,
        remittance_information: t.remittanceInformation,
      });
    }
  }
  for (const chunk of chunks(transferRows, INSERT_ROWS_MAX)) await trx('transfers').insert(chunk);
  return ids;
}

/** Records each line's outcome with three CASE expressions: one statement per chunk. */
async function updateItems(trx: Knex.Transaction, outcomes: readonly Outcome[]): Promise<void> {
  for (const chunk of chunks(outcomes, INSERT_ROWS_MAX)) {
    const cases = (column: (o: Outcome) => string | number | null) => {
      const bindings: (string | number | null)[] = [];
      const sql = chunk
        .map((o) => {
          bindings.push(o.itemId, column(o));
          return 'WHEN ? THEN ?';
        })
        .join(' ');
      return { sql: `CASE id ${sql} END`, bindings };
    };
    const status = cases((o) => o.status);
    const error = cases((o) => o.error);
    const position = cases((o) => o.positionId);
    const ids = chunk.map((o) => o.itemId);
    await trx.raw(
      `UPDATE ${ITEMS} SET status = ${status.sql}, error = ${error.sql}, debt_position_id = ${position.sql} WHERE id IN (${ids.map(() => '?').join(', ')})`,
      [...status.bindings, ...error.bindings, ...position.bindings, ...ids],
    );
  }
}
