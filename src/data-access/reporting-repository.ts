import { italianDate, addDays } from '../domain/reconciliation/calendar';
import {
  receiptTransfers,
  type FlowFact,
  type FlowLineFact,
  type MovementFact,
  type ReceiptFact,
} from '../domain/reconciliation/match';
import type { ReadFlow } from '../domain/reconciliation/read-flow';
import type { ReconciliationInput } from '../domain/reconciliation/report';
import type { TreasuryMovement } from '../domain/reconciliation/treasury-csv';
import { sha256Hex } from '../shared/hash';
import { recordAudit } from './audit-repository';
import type { Db } from './db';
import { isDuplicateKey } from './errors';

/** Rows per multi-row INSERT and ids per IN (...): well under max_allowed_packet. */
const CHUNK = 2_000;

/**
 * dataOraFlusso as stored: its wall-clock time to the millisecond, without the offset the node
 * may or may not add. The same text in the list and in the document gives the same key.
 */
export function flowDateKey(dataOraFlusso: string): string {
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})(\.\d{1,3})?/.exec(dataOraFlusso);
  if (m === null) throw new RangeError(`not a date-time: ${dataOraFlusso}`);
  return `${m[1]} ${m[2]}${(m[3] ?? '.000').padEnd(4, '0')}`;
}

export type StoredRevision =
  | { readonly kind: 'stored'; readonly id: number; readonly supersededCount: number }
  | { readonly kind: 'known'; readonly id: number };

/**
 * Stores one revision of a flow with its lines, then points every earlier revision of the same
 * flow id at the latest one. A revision already stored (same domain, flow id, dataOraFlusso) is
 * `known`: the unique key decides, so two workers downloading it at once store it once.
 */
export async function storeFlowRevision(
  db: Db,
  domainId: string,
  read: ReadFlow,
  rawXml: string,
): Promise<StoredRevision> {
  const f = read.flow;
  const flowDate = flowDateKey(f.flowDateTime);
  try {
    return await db.transaction(async (trx) => {
      const [id] = await trx('reporting_flows').insert({
        domain_id: domainId,
        flow_id: f.flowId,
        flow_date: flowDate,
        psp_id: f.sender.id,
        bic: f.senderBankBic ?? null,
        settlement_reference: f.settlementId,
        settlement_date: f.settlementDate,
        total_count: f.totalCount,
        total_cents: f.totalCents,
        computed_count: read.computedCount,
        computed_cents: read.computedCents,
        status: read.status,
        status_reason:
          read.anomalies.length === 0 ? null : read.anomalies.join('; ').slice(0, 1000),
        raw_xml: rawXml,
      });
      const rowId = Number(id);
      for (let i = 0; i < f.payments.length; i += CHUNK) {
        await trx('reporting_flow_lines').insert(
          f.payments.slice(i, i + CHUNK).map((p, j) => ({
            flow_row_id: rowId,
            line_no: i + j + 1,
            iuv: p.iuv,
            iur: p.iur,
            transfer_index: p.transferIndex ?? null,
            amount_cents: p.amountCents,
            outcome_code: p.outcome,
            paid_date: p.outcomeDate,
          })),
        );
      }
      const revisions = (await trx('reporting_flows')
        .where({ domain_id: domainId, flow_id: f.flowId })
        .orderBy([
          { column: 'flow_date', order: 'desc' },
          { column: 'id', order: 'desc' },
        ])
        .forUpdate()
        .select('id')) as { id: number }[];
      const latest = Number(revisions[0]?.id ?? rowId);
      const earlier = revisions.map((r) => Number(r.id)).filter((x) => x !== latest);
      if (earlier.length > 0) {
        await trx('reporting_flows').whereIn('id', earlier).update({ superseded_by_id: latest });
      }
      await trx('reporting_flows').where({ id: latest }).update({ superseded_by_id: null });
      return { kind: 'stored', id: rowId, supersededCount: earlier.length } as const;
    });
  } catch (err) {
    if (!isDuplicateKey(err)) throw err;
    const row = (await db('reporting_flows')
      .where({ domain_id: domainId, flow_id: f.flowId, flow_date: flowDate })
      .first('id')) as { id: number } | undefined;
    if (row === undefined) throw err;
    return { kind: 'known', id: Number(row.id) };
  }
}

/** The revisions already stored for a domain, as `flowId|flowDateKey`. */
export async function knownRevisions(db: Db, domainId: string): Promise<Set<string>> {
  const rows = (await db('reporting_flows')
    .where({ domain_id: domainId })
    .select('flow_id', db.raw("DATE_FORMAT(flow_date, '%Y-%m-%d %H:%i:%s.%f') AS d"))) as {
    flow_id: string;
    d: string;
  }[];
  return new Set(rows.map((r) => `${r.flow_id}|${r.d.slice(0, 23)}`));
}

export type TreasuryImportResult =
  | { readonly kind: 'imported'; readonly importId: number; readonly movements: number }
  | { readonly kind: 'already-imported'; readonly importId: number };

/**
 * Stores a treasury statement and audits it (an operator action). The same content imported
 * again for the domain is `already-imported` (unique content hash), never doubled.
 */
export async function importTreasury(
  db: Db,
  input: {
    domainId: string;
    fileName: string;
    csvText: string;
    movements: readonly TreasuryMovement[];
    actor: string;
    requestId?: string;
  },
): Promise<TreasuryImportResult> {
  const hash = sha256Hex(input.csvText);
  try {
    return await db.transaction(async (trx) => {
      const [id] = await trx('treasury_imports').insert({
        domain_id: input.domainId,
        file_name: input.fileName.slice(0, 255),
        content_hash: hash,
        movement_count: input.movements.length,
        actor: input.actor,
      });
      const importId = Number(id);
      for (let i = 0; i < input.movements.length; i += CHUNK) {
        await trx('treasury_movements').insert(
          input.movements.slice(i, i + CHUNK).map((m) => ({
            import_id: importId,
            line_no: m.lineNo,
            domain_id: input.domainId,
            booked_on: m.bookedOn,
            amount_cents: m.amountCents,
            causale: m.causale,
            value_date: m.valueDate ?? null,
            bank_reference: m.bankReference ?? null,
          })),
        );
      }
      await recordAudit(trx, {
        actor: input.actor,
        action: 'treasury.import',
        subjectType: 'treasury_import',
        subjectId: String(importId),
        after: {
          domainId: input.domainId,
          fileName: input.fileName,
          sha256: hash,
          movements: input.movements.length,
        },
        requestId: input.requestId ?? null,
      });
      return { kind: 'imported', importId, movements: input.movements.length } as const;
    });
  } catch (err) {
    if (!isDuplicateKey(err)) throw err;
    const row = (await db('treasury_imports')
      .where({ domain_id: input.domainId, content_hash: hash })
      .first('id')) as { id: number } | undefined;
    if (row === undefined) throw err;
    return { kind: 'already-imported', importId: Number(row.id) };
  }
}

type FlowRow = {
  id: number;
  domain_id: string;
  flow_id: string;
  psp_id: string;
  settlement_date: string;
  total_count: number;
  total_cents: number | string;
  computed_count: number;
  computed_cents: number | string;
  status: 'OK' | 'ANOMALOUS';
  status_reason: string | null;
};
type LineRow = {
  id: number;
  flow_row_id: number;
  line_no: number;
  iuv: string;
  iur: string;
  transfer_index: number | null;
  amount_cents: number | string;
  outcome_code: number;
  paid_date: string;
};
type ReceiptRow = {
  id: number;
  domain_id: string;
  iuv: string;
  receipt_key: string;
  outcome: string;
  amount_cents: number | string;
  paid_at: Date | null;
  parsed: unknown;
};

const FLOW_COLUMNS = [
  'id',
  'domain_id',
  'flow_id',
  'psp_id',
  "DATE_FORMAT(settlement_date, '%Y-%m-%d') AS settlement_date",
  'total_count',
  'total_cents',
  'computed_count',
  'computed_cents',
  'status',
  'status_reason',
];
const LINE_COLUMNS =
  "l.id, l.flow_row_id, l.line_no, l.iuv, l.iur, l.transfer_index, l.amount_cents, l.outcome_code, DATE_FORMAT(l.paid_date, '%Y-%m-%d') AS paid_date";

const toFlow = (r: FlowRow): FlowFact => ({
  id: Number(r.id),
  domainId: r.domain_id,
  flowId: r.flow_id,
  pspId: r.psp_id,
  settlementDate: r.settlement_date,
  totalCount: Number(r.total_count),
  totalCents: Number(r.total_cents),
  computedCount: Number(r.computed_count),
  computedCents: Number(r.computed_cents),
  status: r.status,
  ...(r.status_reason === null ? {} : { statusReason: r.status_reason }),
});
const toLine = (r: LineRow): FlowLineFact => ({
  id: Number(r.id),
  flowRowId: Number(r.flow_row_id),
  lineNo: Number(r.line_no),
  iuv: r.iuv,
  iur: r.iur,
  ...(r.transfer_index === null ? {} : { transferIndex: Number(r.transfer_index) }),
  amountCents: Number(r.amount_cents),
  outcomeCode: Number(r.outcome_code),
  paidDate: r.paid_date,
});
const toReceipt = (r: ReceiptRow): ReceiptFact => {
  const parsed: unknown = typeof r.parsed === 'string' ? JSON.parse(r.parsed) : r.parsed;
  const amountCents = Number(r.amount_cents);
  return {
    id: Number(r.id),
    domainId: r.domain_id,
    iuv: r.iuv,
    receiptKey: r.receipt_key,
    outcome: r.outcome,
    amountCents,
    ...(r.paid_at === null ? {} : { paidDate: italianDate(r.paid_at) }),
    transfers: receiptTransfers(parsed, r.receipt_key, amountCents),
  };
};

const RECEIPT_COLUMNS = [
  'id',
  'domain_id',
  'iuv',
  'receipt_key',
  'outcome',
  'amount_cents',
  'paid_at',
  'parsed',
];

async function inChunks<T>(
  values: readonly string[],
  query: (chunk: string[]) => Promise<T[]>,
): Promise<T[]> {
  const out: T[] = [];
  const unique = [...new Set(values)];
  for (let i = 0; i < unique.length; i += CHUNK)
    out.push(...(await query(unique.slice(i, i + CHUNK))));
  return out;
}

/**
 * Everything the matcher needs for [from, to] (YYYY-MM-DD, Italian days): the latest revision
 * of the flows settled in the range and their lines, the receipts paid in the range, the lines
 * of any latest revision that report those receipts, the receipts those lines name, and the
 * treasury movements booked in the range. Read fresh on every call: nothing is cached.
 */
export async function loadReconciliationInput(
  db: Db,
  q: { domainId: string; from: string; to: string; asOf: string },
): Promise<ReconciliationInput> {
  const flowRows = (await db('reporting_flows')
    .where({ domain_id: q.domainId })
    .whereNull('superseded_by_id')
    .whereBetween('settlement_date', [q.from, q.to])
    .select(FLOW_COLUMNS.map((c) => (c.includes(' AS ') ? db.raw(c) : c)))) as FlowRow[];
  const flows = new Map(flowRows.map((r) => [Number(r.id), toFlow(r)]));

  const lines = new Map<number, FlowLineFact>();
  const flowIds = [...flows.keys()].map(String);
  for (const r of await inChunks(flowIds, async (ids) => {
    const [rows] = (await db.raw(
      `SELECT ${LINE_COLUMNS} FROM reporting_flow_lines l WHERE l.flow_row_id IN (${ids.map(() => '?').join(',')})`,
      ids,
    )) as [LineRow[]];
    return rows;
  })) {
    lines.set(Number(r.id), toLine(r));
  }

  // Receipts paid in the range: the UTC window is widened by a day each side, the Italian day
  // of each receipt decides (the report drops days outside the range).
  const receiptRows = (await db('receipts')
    .where({ domain_id: q.domainId })
    .where('paid_at', '>=', `${addDays(q.from, -1)} 00:00:00`)
    .where('paid_at', '<', `${addDays(q.to, 2)} 00:00:00`)
    .select(RECEIPT_COLUMNS)) as ReceiptRow[];
  const receipts = new Map(receiptRows.map((r) => [Number(r.id), toReceipt(r)]));

  const lineIuvs = [...lines.values()].map((l) => l.iuv);
  const knownIuvs = new Set([...receipts.values()].map((r) => r.iuv));
  const missingIuvs = lineIuvs.filter((iuv) => !knownIuvs.has(iuv));
  for (const r of await inChunks(
    missingIuvs,
    (iuvs) =>
      db('receipts')
        .where({ domain_id: q.domainId })
        .whereIn('iuv', iuvs)
        .select(RECEIPT_COLUMNS) as Promise<ReceiptRow[]>,
  )) {
    receipts.set(Number(r.id), toReceipt(r));
  }

  // Lines (of current revisions settled outside the range) that report receipts in the range.
  const receiptIuvs = [...receipts.values()].map((r) => r.iuv);
  for (const r of await inChunks(receiptIuvs, async (iuvs) => {
    const [rows] = (await db.raw(
      `SELECT ${LINE_COLUMNS}, f.domain_id AS f_domain_id FROM reporting_flow_lines l ` +
        'JOIN reporting_flows f ON f.id = l.flow_row_id ' +
        `WHERE f.domain_id = ? AND f.superseded_by_id IS NULL AND l.iuv IN (${iuvs.map(() => '?').join(',')})`,
      [q.domainId, ...iuvs],
    )) as [LineRow[]];
    return rows;
  })) {
    if (!lines.has(Number(r.id))) lines.set(Number(r.id), toLine(r));
  }
  const outsideFlowIds = [...lines.values()]
    .map((l) => l.flowRowId)
    .filter((id) => !flows.has(id))
    .map(String);
  for (const r of await inChunks(
    outsideFlowIds,
    (ids) =>
      db('reporting_flows')
        .whereIn('id', ids)
        .select(FLOW_COLUMNS.map((c) => (c.includes(' AS ') ? db.raw(c) : c))) as Promise<
        FlowRow[]
      >,
  )) {
    flows.set(Number(r.id), toFlow(r));
  }

  const movementRows = (await db('treasury_movements')
    .where({ domain_id: q.domainId })
    .whereBetween('booked_on', [q.from, q.to])
    .select(
      'id',
      'domain_id',
      'line_no',
      db.raw("DATE_FORMAT(booked_on, '%Y-%m-%d') AS booked_on"),
      'amount_cents',
      'causale',
    )) as {
    id: number;
    domain_id: string;
    line_no: number;
    booked_on: string;
    amount_cents: number | string;
    causale: string;
  }[];
  // Flows named by the movements but settled outside the range (a transfer booked next day).
  const movements: MovementFact[] = movementRows.map((r) => ({
    id: Number(r.id),
    domainId: r.domain_id,
    lineNo: Number(r.line_no),
    bookedOn: r.booked_on,
    amountCents: Number(r.amount_cents),
    causale: r.causale,
  }));
  const namedFlows = (await db('reporting_flows')
    .where({ domain_id: q.domainId })
    .whereNull('superseded_by_id')
    .whereBetween('settlement_date', [addDays(q.from, -10), addDays(q.to, 10)])
    .select(FLOW_COLUMNS.map((c) => (c.includes(' AS ') ? db.raw(c) : c)))) as FlowRow[];
  for (const r of namedFlows) if (!flows.has(Number(r.id))) flows.set(Number(r.id), toFlow(r));

  return {
    from: q.from,
    to: q.to,
    asOf: q.asOf,
    flows: [...flows.values()],
    lines: [...lines.values()],
    receipts: [...receipts.values()],
    movements,
  };
}

/**
 * Makes the missing-receipt recovery ask about the payments a flow reports but we hold no
 * receipt for (NO_RECEIPT lines), at its next run instead of after RECOVERY_DELAY_MS: their
 * PENDING attempts get `updated_at = created_at`, which is what the recovery's claim looks at
 * (reconcile-repository.ts `claimPendingAttempts`). A line without any attempt here (codes 8
 * and 9: paid without RPT, or in stand-in) has nothing to recover from: the report tells the
 * operator to record it by hand. Resolves the number of attempts made due.
 */
export async function expediteRecoveryForFlow(
  db: Db,
  domainId: string,
  flowRowId: number,
): Promise<number> {
  const [result] = (await db.raw(
    'UPDATE payment_attempts a ' +
      'JOIN payment_options o ON o.id = a.payment_option_id ' +
      'JOIN reporting_flow_lines l ON l.iuv = o.iuv AND l.flow_row_id = ? ' +
      'SET a.updated_at = a.created_at ' +
      "WHERE o.domain_id = ? AND a.status = 'PENDING' AND a.updated_at > a.created_at " +
      'AND NOT EXISTS (SELECT 1 FROM receipts r WHERE r.domain_id = o.domain_id AND r.iuv = o.iuv)',
    [flowRowId, domainId],
  )) as [{ affectedRows: number }];
  return Number(result.affectedRows);
}
